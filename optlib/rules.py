r"""Every update rule of the book, written once, in lecture order, in one notation.

Notation (the book's, ``chapter-standard.md`` section 2): $\eta$ the learning rate (``lr``), $\beta$
with indices every EWA decay (torch's ``betas``, RMSprop's ``alpha``, SGD's ``momentum``), $g_t$ the
gradient at step $t$ (counted from 1), $\lambda$ the weight decay, $\epsilon$ the small constant in
denominators. Each rule's docstring gives its equation, and its ``update`` is that equation: a few
lines, one comment per line saying which term it computes. ``show_source(rules.Adam, core=True)``
shows just those lines.

A rule is a small class with

* ``defaults``: the hyperparameters, named and defaulted as in ``torch.optim``;
* ``check(h)``: validation, with torch's error messages;
* ``init(x, h)``: the fresh state for a parameter ``x``, under the names the math uses
  (``m``, ``v``, ...); ``state_names`` maps them to torch's state-dict keys;
* ``update(...)``: the core update, the lines of the equation, with the hyperparameters it needs;
* ``step(x, g, state, t, **h)``: one full step of ``x`` *in place* from the gradient ``g`` at step
  ``t``: the options (maximize, weight decay, AMSGrad, centering, Nesterov, ...) composed around
  ``update``.

The same ``step`` drives the numpy demos (:mod:`optlib.numpy_optim`, where ``x`` is a numpy
array) and real training (:mod:`optlib.optim`, where ``x`` is a ``torch.nn.Parameter``). Only
operators that mean the same thing for both are used, plus the primitives in
:mod:`optlib._backend`, which run torch's own kernels in torch's order (so the numbers are
torch's to the last bit). ``g`` is never modified in place: it may be the caller's ``.grad``.
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from . import _backend as B
from . import checks

if TYPE_CHECKING:  # the rules run on both; neither is imported for it (numpy-only installs have no torch)
    import numpy as np
    import torch

    Array = np.ndarray | torch.Tensor
    State = MutableMapping[str, Any]  # a rule's state under its math names (m, v, ...)


class Rule:
    """The interface every rule implements (each subclass's `step` and `update` take their own
    hyperparameters by name: the lines under the equation, as the book shows them)."""

    defaults: dict[str, Any] = {}  # torch's defaults, literally (0, not 0.0, where torch writes 0)
    state_names: dict[str, str] = {}  # math name -> torch state-dict key
    counts_steps = True  # keeps torch's `step` counter in its state
    scalar_state: tuple[str, ...] = ()  # state entries torch keeps as 0-dim tensors
    fixed: tuple[str, ...] = ()  # hyperparameters the rule pins: not constructor arguments (AdamW's decoupling)

    @staticmethod
    def check(h: dict[str, Any]) -> None:
        checks.lr(h["lr"])

    @staticmethod
    def init(x: Array, h: dict[str, Any]) -> State:
        return {}

    @staticmethod
    def update(*args: Any) -> None:
        raise NotImplementedError

    @staticmethod
    def step(x: Array, g: Array, state: State, t: int, **h: Any) -> None:
        raise NotImplementedError


# ------------------------------------------------------------- the pieces the rules compose

def direction(g: Array, maximize: bool) -> Array:
    r"""``maximize``: climb instead of descend, $g_t \leftarrow -g_t$."""
    return -g if maximize else g


def weight_decay_(x: Array, g: Array, lr: float, weight_decay: float, decoupled: bool = False) -> Array:
    r"""L2 regularization folds $\lambda x$ into the gradient: $g_t \leftarrow g_t + \lambda x_{t-1}$.
    Decoupled weight decay (AdamW) shrinks the weights directly: $x \leftarrow x (1 - \eta\lambda)$."""
    if weight_decay == 0:
        return g
    if decoupled:
        B.mul_(x, 1 - lr * weight_decay)                # x = x (1 - eta lambda)
        return g
    return B.add(g, x, weight_decay)                    # g + lambda x, torch's kernel


def ewa_(avg: Array, new: Array, beta: float) -> Array:
    r"""The exponentially weighted average, in place: $a_t = \beta a_{t-1} + (1 - \beta)\, n_t$."""
    B.lerp_(avg, new, 1 - beta)                         # a + (1 - beta)(n - a): torch's one kernel
    return avg


def ewa_sq_(avg: Array, g: Array, beta: float) -> Array:
    r"""The EWA of the squared gradient, in place: $v_t = \beta v_{t-1} + (1 - \beta)\, g_t^2$."""
    B.mul_(avg, beta)
    B.addcmul_(avg, g, g, 1 - beta)
    return avg


def amsgrad_(state: State, v: Array) -> Array:
    r"""AMSGrad's one change: divide by $\hat v^{\max}_t = \max(\hat v^{\max}_{t-1}, v_t)$, so
    that the denominator never shrinks. Returns the running maximum."""
    B.maximum_(state["v_max"], v)
    return state["v_max"]


# ---------------------------------------------------------------- 1. gradient descent, 6. momentum

class SGD(Rule):
    r"""Gradient descent, with heavy-ball or Nesterov momentum.

    $$x_t = x_{t-1} - \eta\, g_t$$

    Momentum ($\beta$ = ``momentum``, $\tau$ = ``dampening``) steps along a buffer instead of $g_t$:
    $b_1 = g_1$, $b_t = \beta b_{t-1} + (1 - \tau) g_t$; Nesterov looks ahead along it, $g_t + \beta b_t$.
    (The slides write $v_t = \beta v_{t-1} + \eta g_t$, $x_t = x_{t-1} - v_t$: the same path, $v = \eta b$,
    while $\eta$ is constant.)
    """

    defaults = dict(lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False)
    state_names = {"b": "momentum_buffer"}
    counts_steps = False

    @staticmethod
    def check(h):
        checks.lr(h["lr"])
        checks.nonnegative(h["momentum"], "Invalid momentum value")
        checks.nonnegative(h["weight_decay"], "Invalid weight_decay value")
        if h["nesterov"] and (h["momentum"] <= 0 or h["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    @staticmethod
    def update(x, g, lr):
        B.add_(x, g, -lr)                                # x_t = x_{t-1} - eta g_t

    @staticmethod
    def momentum_(state, g, beta, dampening, nesterov):
        r"""The direction momentum steps along: the buffer $b_t$, or $g_t + \beta b_t$ (Nesterov)."""
        b = state.get("b")
        if b is None:                                    # b_1 = g_1, undampened
            b = state["b"] = B.clone(g)
        else:
            B.mul_(b, beta)
            B.add_(b, g, 1 - dampening)                  # b_t = beta b_{t-1} + (1 - tau) g_t
        return B.add(g, b, beta) if nesterov else b

    @staticmethod
    def step(x, g, state, t, lr, momentum, dampening, weight_decay, nesterov, maximize):
        g = weight_decay_(x, direction(g, maximize), lr, weight_decay)
        if momentum != 0:
            g = SGD.momentum_(state, g, momentum, dampening, nesterov)
        SGD.update(x, g, lr)


# ------------------------------------------------------------------------------------ 4. Adagrad

class Adagrad(Rule):
    r"""Adagrad: per-coordinate learning rates from the sum of all squared gradients so far.

    $$s_t = s_{t-1} + g_t^2, \qquad x_t = x_{t-1} - \frac{\eta_t\, g_t}{\sqrt{s_t} + \epsilon}$$

    with $s_0$ = ``initial_accumulator_value`` and $\eta_t = \eta / (1 + (t - 1)\delta)$, $\delta$ = ``lr_decay``.
    """

    defaults = dict(lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                    maximize=False)
    state_names = {"s": "sum"}

    @staticmethod
    def check(h):
        checks.lr(h["lr"])
        checks.nonnegative(h["lr_decay"], "Invalid lr_decay value")
        checks.nonnegative(h["weight_decay"], "Invalid weight_decay value")
        checks.nonnegative(h["initial_accumulator_value"], "Invalid initial_accumulator_value value")
        checks.nonnegative(h["eps"], "Invalid epsilon value")

    @staticmethod
    def init(x, h):
        return {"s": B.full_like(x, h["initial_accumulator_value"])}

    @staticmethod
    def update(x, g, s, lr, eps):
        B.addcmul_(s, g, g)                              # s_t = s_{t-1} + g_t^2: it only grows
        B.addcdiv_(x, g, B.sqrt(s) + eps, -lr)           # x_t = x_{t-1} - eta_t g_t / (sqrt(s_t) + eps)

    @staticmethod
    def step(x, g, state, t, lr, lr_decay, weight_decay, initial_accumulator_value, eps, maximize):
        g = weight_decay_(x, direction(g, maximize), lr, weight_decay)
        Adagrad.update(x, g, state["s"], lr / (1 + (t - 1) * lr_decay), eps)


# ------------------------------------------------------------------------------------ 5. RMSProp

class RMSprop(Rule):
    r"""RMSProp: Adagrad with the sum replaced by an exponentially weighted average.

    $$v_t = \beta v_{t-1} + (1 - \beta) g_t^2, \qquad x_t = x_{t-1} - \frac{\eta\, g_t}{\sqrt{v_t} + \epsilon}$$

    with $\beta$ = ``alpha``. ``centered`` divides by $\sqrt{v_t - \bar g_t^2}$ (an estimate of the
    variance, $\bar g$ the EWA of $g$); ``momentum`` $\mu$ steps along $b_t = \mu b_{t-1} + g_t / (\sqrt{v_t} + \epsilon)$,
    $b_0 = 0$. (The slides call $\beta$ "$\gamma$" and $v$ "$s$".)
    """

    defaults = dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, maximize=False)
    state_names = {"v": "square_avg", "b": "momentum_buffer", "g_avg": "grad_avg"}

    @staticmethod
    def check(h):
        checks.lr(h["lr"])
        checks.nonnegative(h["eps"], "Invalid epsilon value")
        checks.nonnegative(h["momentum"], "Invalid momentum value")
        checks.nonnegative(h["weight_decay"], "Invalid weight_decay value")
        checks.nonnegative(h["alpha"], "Invalid alpha value")

    @staticmethod
    def init(x, h):
        state = {"v": B.zeros_like(x)}
        if h["momentum"] > 0:
            state["b"] = B.zeros_like(x)
        if h["centered"]:
            state["g_avg"] = B.zeros_like(x)
        return state

    @staticmethod
    def update(x, g, v, lr, beta, eps):
        ewa_sq_(v, g, beta)                              # v_t = beta v_{t-1} + (1 - beta) g_t^2
        B.addcdiv_(x, g, B.sqrt(v) + eps, -lr)           # x_t = x_{t-1} - eta g_t / (sqrt(v_t) + eps)

    @staticmethod
    def step(x, g, state, t, lr, alpha, eps, weight_decay, momentum, centered, maximize):
        g = weight_decay_(x, direction(g, maximize), lr, weight_decay)
        if not centered and momentum == 0:
            return RMSprop.update(x, g, state["v"], lr, alpha, eps)
        # The options change the denominator (centered) or what is stepped along (momentum).
        v = ewa_sq_(state["v"], g, alpha)
        if centered:                                     # sqrt(v_t - gbar_t^2): the variance of g
            g_avg = ewa_(state["g_avg"], g, alpha)
            denom = B.sqrt(v - g_avg * g_avg) + eps
        else:
            denom = B.sqrt(v) + eps
        if momentum > 0:
            b = state["b"]
            B.mul_(b, momentum)
            B.addcdiv_(b, g, denom)                      # b_t = mu b_{t-1} + g_t / (sqrt(v_t) + eps)
            B.add_(x, b, -lr)                            # x_t = x_{t-1} - eta b_t
        else:
            B.addcdiv_(x, g, denom, -lr)


# --------------------------------------------------------------------------------------- 7. Adam

class Adam(Rule):
    r"""Adam = momentum + RMSProp + bias correction.

    $$m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2$$
    $$\hat m_t = \frac{m_t}{1-\beta_1^t}, \qquad \hat v_t = \frac{v_t}{1-\beta_2^t}, \qquad
    x_t = x_{t-1} - \frac{\eta\, \hat m_t}{\sqrt{\hat v_t} + \epsilon}$$

    ``moments_`` is the first line, ``update`` the second. ``amsgrad`` divides by the running maximum
    of $v$ instead (:func:`amsgrad_`); ``decoupled_weight_decay`` turns it into AdamW.
    """

    defaults = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, maximize=False,
                    decoupled_weight_decay=False)
    state_names = {"m": "exp_avg", "v": "exp_avg_sq", "v_max": "max_exp_avg_sq"}

    @staticmethod
    def check(h):
        checks.lr(h["lr"])
        checks.nonnegative(h["eps"], "Invalid epsilon value")
        checks.betas(h["betas"])
        checks.nonnegative(h["weight_decay"], "Invalid weight_decay value")
        checks.betas_are_floats(h["betas"])              # torch checks this after weight_decay

    @staticmethod
    def init(x, h):
        state = {"m": B.zeros_like(x), "v": B.zeros_like(x)}
        if h.get("amsgrad"):
            state["v_max"] = B.zeros_like(x)
        return state

    @staticmethod
    def moments_(state, g, beta1, beta2):
        """The two EWAs every Adam-family rule keeps: of the gradient and of its square."""
        m = ewa_(state["m"], g, beta1)                   # m_t = beta1 m_{t-1} + (1 - beta1) g_t
        v = ewa_sq_(state["v"], g, beta2)                # v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
        return m, v

    @staticmethod
    def update(x, m, v, t, lr, beta1, beta2, eps):
        bias1, bias2 = 1 - beta1 ** t, 1 - beta2 ** t    # m_hat = m / bias1, v_hat = v / bias2
        denom = B.sqrt(v) / bias2 ** 0.5 + eps           # sqrt(v_hat_t) + eps
        B.addcdiv_(x, m, denom, -lr / bias1)             # x_t = x_{t-1} - eta m_hat_t / (sqrt(v_hat_t) + eps)

    @staticmethod
    def step(x, g, state, t, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay):
        beta1, beta2 = betas
        g = weight_decay_(x, direction(g, maximize), lr, weight_decay, decoupled_weight_decay)
        m, v = Adam.moments_(state, g, beta1, beta2)
        if amsgrad:
            v = amsgrad_(state, v)
        Adam.update(x, m, v, t, lr, beta1, beta2, eps)


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay, $x \leftarrow x(1 - \eta\lambda)$ before the
    adaptive step, instead of $\lambda x$ added to the gradient (and then divided by $\sqrt{\hat v}$)."""

    defaults = dict(Adam.defaults, weight_decay=1e-2, decoupled_weight_decay=True)
    fixed = ("decoupled_weight_decay",)


# ------------------------------------------------------------------------------ 8. RAdam, SWATS

def radam_rho(t: int, beta2: float) -> float:
    r"""$\rho_t = \rho_\infty - 2 t \beta_2^t / (1 - \beta_2^t)$, with $\rho_\infty = 2/(1-\beta_2) - 1$:
    the length of the simple moving average that the EWA $v_t$ approximates."""
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)


def radam_rectifier(t: int, beta2: float) -> float | None:
    r"""$r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}}$
    where $\rho_t > 5$ (torch's threshold), else ``None``: the variance is not tractable yet."""
    rho_inf = 2 / (1 - beta2) - 1
    rho = radam_rho(t, beta2)
    if rho <= 5:
        return None
    return ((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)) ** 0.5  # torch's ** 0.5


class RAdam(Adam):
    r"""RAdam: Adam whose adaptive step is scaled by the rectifier $r_t$ (which undoes the large
    variance of $1/\sqrt{\hat v_t}$ in the first steps); while $\rho_t \le 5$ it takes plain
    momentum steps $x_t = x_{t-1} - \eta \hat m_t$.

    $$x_t = x_{t-1} - \eta\, r_t\, \hat m_t \frac{\sqrt{1 - \beta_2^t}}{\sqrt{v_t} + \epsilon}$$
    """

    defaults = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                    maximize=False)

    @staticmethod
    def check(h):
        checks.lr(h["lr"])
        checks.nonnegative(h["eps"], "Invalid epsilon value")
        checks.betas(h["betas"])
        checks.nonnegative(h["weight_decay"], "Invalid weight_decay value")

    @staticmethod
    def update(x, m, v, t, lr, beta1, beta2, eps):
        m_hat = m / (1 - beta1 ** t)                     # m_hat_t = m_t / (1 - beta1^t)
        r = radam_rectifier(t, beta2)
        if r is None:                                    # rho_t <= 5: x_t = x_{t-1} - eta m_hat_t
            B.add_(x, m_hat * lr, -1.0)
        else:                                            # eps is added to the uncorrected sqrt(v_t)
            B.add_(x, m_hat * lr * ((1 - beta2 ** t) ** 0.5 / (B.sqrt(v) + eps)) * r, -1.0)

    @staticmethod
    def step(x, g, state, t, lr, betas, eps, weight_decay, decoupled_weight_decay, maximize):
        beta1, beta2 = betas
        g = weight_decay_(x, direction(g, maximize), lr, weight_decay, decoupled_weight_decay)
        m, v = Adam.moments_(state, g, beta1, beta2)
        RAdam.update(x, m, v, t, lr, beta1, beta2, eps)


class SWATS(Adam):
    r"""SWATS (Keskar & Socher, 2017): Adam that switches to SGD with momentum.

    During the Adam phase each step $p_t$ is projected on the gradient to estimate the SGD
    learning rate that would have taken the same step, $\gamma_t = p_t^\top p_t / (-p_t^\top g_t)$,
    averaged as $\lambda_t = \beta_2 \lambda_{t-1} + (1 - \beta_2)\gamma_t$. Once the bias-corrected
    estimate settles, $|\lambda_t/(1-\beta_2^t) - \gamma_t| < \epsilon$, the rule switches for good to
    $b_t = \beta_1 b_{t-1} + g_t$, $x_t = x_{t-1} - (1 - \beta_1)\Lambda b_t$ with $\Lambda = \lambda_t/(1-\beta_2^t)$.
    (Here $\lambda$ is the paper's estimate, not weight decay.) Estimated and switched per parameter
    tensor (per layer), as in the paper's Algorithm 1; ``state["switched"]`` tells which phase a tensor is in.
    """

    defaults = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-9, weight_decay=0.0)
    state_names = dict(Adam.state_names, lam="lr_estimate", Lambda="sgd_lr", b="momentum_buffer")

    @staticmethod
    def check(h):
        RAdam.check(h)

    @staticmethod
    def init(x, h):
        return dict(Adam.init(x, h), lam=0.0, Lambda=0.0, switched=False, switch_step=0)

    @staticmethod
    def update(x, g, state, t, lr, beta1, beta2, eps):
        """The Adam phase: Adam's step p_t, and the SGD learning rate it stands for."""
        m, v = Adam.moments_(state, g, beta1, beta2)
        bias1, bias2 = 1 - beta1 ** t, 1 - beta2 ** t
        p = -lr * math.sqrt(bias2) / bias1 * m / (B.sqrt(v) + eps)
        x += p                                           # x_t = x_{t-1} + p_t (Adam's step)
        pg = B.dot(p, g)
        if pg != 0:
            gamma = B.dot(p, p) / -pg                    # gamma_t: the SGD lr whose step, projected on p, is p
            state["lam"] = beta2 * state["lam"] + (1 - beta2) * gamma
            if t > 1 and abs(state["lam"] / bias2 - gamma) < eps:
                state["switched"], state["Lambda"], state["b"] = True, state["lam"] / bias2, B.zeros_like(x)
                state["switch_step"] = t                 # reported (optlib.optim.SWATS.training_report)

    @staticmethod
    def sgd_update(x, g, state, beta1):
        """The SGD phase, for good once switched."""
        b = state["b"]
        B.mul_(b, beta1)
        b += g                                           # b_t = beta1 b_{t-1} + g_t
        x -= (1 - beta1) * state["Lambda"] * b           # x_t = x_{t-1} - (1 - beta1) Lambda b_t

    @staticmethod
    def step(x, g, state, t, lr, betas, eps, weight_decay):
        beta1, beta2 = betas
        g = weight_decay_(x, g, lr, weight_decay)
        if state["switched"]:
            SWATS.sgd_update(x, g, state, beta1)
        else:
            SWATS.update(x, g, state, t, lr, beta1, beta2, eps)


# ---------------------------------------------------------------------------------- 9. Lookahead

def lookahead_sync_(fast: Array, slow: Array, alpha: float) -> None:
    r"""Every $k$ inner steps: $\phi \leftarrow \phi + \alpha(\theta - \phi)$, then $\theta \leftarrow \phi$
    (the slow weights $\phi$ move part of the way to the fast weights $\theta$, which restart from there)."""
    B.lerp_(slow, fast, alpha)
    B.copy_(fast, slow)


# -------------------------------------------------------------------------------------- 10. Nadam

def nadam_mu(t: int, beta1: float, momentum_decay: float) -> float:
    r"""Dozat's momentum schedule $\mu_t = \beta_1 (1 - \tfrac12 \cdot 0.96^{t\psi})$, $\psi$ = ``momentum_decay``."""
    return beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))


class NAdam(Adam):
    r"""Nadam: Adam with Nesterov's look-ahead, the next momentum applied to $m_t$ now.

    $$x_t = x_{t-1} - \eta\Big(\frac{1-\mu_t}{1-\prod_{i\le t}\mu_i}\, g_t
          + \frac{\mu_{t+1}}{1-\prod_{i\le t+1}\mu_i}\, m_t\Big) \Big/ \big(\sqrt{\hat v_t} + \epsilon\big)$$
    """

    defaults = dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                    decoupled_weight_decay=False, maximize=False)
    state_names = dict(Adam.state_names, mu_prod="mu_product")
    scalar_state = ("mu_prod",)

    @staticmethod
    def check(h):
        RAdam.check(h)
        checks.nonnegative(h["momentum_decay"], "Invalid momentum_decay value")

    @staticmethod
    def init(x, h):
        return dict(Adam.init(x, h), mu_prod=1.0)

    @staticmethod
    def update(x, g, m, v, t, lr, mu, mu_next, mu_prod, beta2, eps):
        denom = B.sqrt(v / (1 - beta2 ** t)) + eps                      # sqrt(v_hat_t) + eps
        B.addcdiv_(x, g, denom, -lr * (1 - mu) / (1 - mu_prod))          # the gradient's share, mu_t
        B.addcdiv_(x, m, denom, -lr * mu_next / (1 - mu_prod * mu_next))  # the momentum's, mu_{t+1}

    @staticmethod
    def step(x, g, state, t, lr, betas, eps, weight_decay, momentum_decay, decoupled_weight_decay, maximize):
        beta1, beta2 = betas
        g = weight_decay_(x, direction(g, maximize), lr, weight_decay, decoupled_weight_decay)
        mu, mu_next = nadam_mu(t, beta1, momentum_decay), nadam_mu(t + 1, beta1, momentum_decay)
        state["mu_prod"] *= mu                           # prod_{i <= t} mu_i
        m, v = Adam.moments_(state, g, beta1, beta2)
        NAdam.update(x, g, m, v, t, lr, mu, mu_next, float(state["mu_prod"]), beta2, eps)


# ------------------------------------------------------------------------- 12. Beyond: AdaBound

def adabound_bounds(t: int, final_lr: float, gamma: float) -> tuple[float, float]:
    r"""AdaBound's bounds on the per-coordinate step size: $\eta_l = \eta^* (1 - \frac{1}{\gamma t + 1})$,
    $\eta_u = \eta^* (1 + \frac{1}{\gamma t})$, both tending to the final SGD rate $\eta^*$."""
    lower = final_lr * (1 - 1 / (gamma * t + 1))
    upper = final_lr * (1 + 1 / (gamma * t)) if gamma * t > 0 else math.inf
    return lower, upper


class AdaBound(Adam):
    r"""AdaBound (Luo et al., 2019; the authors' code): Adam's per-coordinate step size clipped into
    bounds that tighten towards a final SGD learning rate $\eta^*$, so training moves from Adam to SGD.

    $$x_t = x_{t-1} - \mathrm{clip}\Big(\frac{\eta\sqrt{1-\beta_2^t}}{(1-\beta_1^t)(\sqrt{v_t}+\epsilon)},
    \eta_l(t), \eta_u(t)\Big)\, m_t$$

    Under a learning-rate schedule the final rate follows it: $\eta^* = $ ``final_lr`` $\cdot\, \eta / \eta_0$.
    ``amsbound`` uses the running maximum of $v$, as AMSGrad does.
    """

    defaults = dict(lr=1e-3, betas=(0.9, 0.999), final_lr=0.1, gamma=1e-3, eps=1e-8, weight_decay=0.0,
                    amsbound=False, base_lr=None)

    @staticmethod
    def check(h):
        RAdam.check(h)
        if not 0.0 <= h["final_lr"]:
            raise ValueError(f"Invalid final learning rate: {h['final_lr']}")
        if not 0.0 <= h["gamma"] < 1.0:
            raise ValueError(f"Invalid gamma parameter: {h['gamma']}")

    @staticmethod
    def init(x, h):
        return Adam.init(x, dict(h, amsgrad=h["amsbound"]))

    @staticmethod
    def update(x, m, v, t, lr, final_lr, gamma, beta1, beta2, eps):
        step_size = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)   # Adam's step size, bias-corrected
        lower, upper = adabound_bounds(t, final_lr, gamma)              # [eta_l(t), eta_u(t)]
        x -= B.clip(step_size / (B.sqrt(v) + eps), lower, upper) * m    # x_t = x_{t-1} - clip(...) m_t

    @staticmethod
    def step(x, g, state, t, lr, betas, final_lr, gamma, eps, weight_decay, amsbound, base_lr):
        beta1, beta2 = betas
        g = weight_decay_(x, g, lr, weight_decay)
        m, v = Adam.moments_(state, g, beta1, beta2)
        if amsbound:
            v = amsgrad_(state, v)
        base_lr = lr if base_lr is None else base_lr     # final_lr follows a schedule of lr
        AdaBound.update(x, m, v, t, lr, final_lr * lr / base_lr, gamma, beta1, beta2, eps)
