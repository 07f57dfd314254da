r"""Every update rule of the book, written once, in lecture order.

A rule is a small class with

* ``defaults``: the hyperparameters, named and defaulted as in ``torch.optim``;
* ``check(h)``: validation, with torch's error messages;
* ``init(x, h)``: the fresh state for a parameter ``x``, under the names the math uses
  (``m``, ``v``, ...); ``state_names`` maps them to torch's state-dict keys;
* ``step(x, g, state, t, **h)``: one update of ``x`` *in place* from the gradient ``g`` at step
  ``t`` (1 on the first step).

The same ``step`` drives the numpy demos (:mod:`optlib.numpy_optim`, where ``x`` is a numpy
array) and real training (:mod:`optlib.optim`, where ``x`` is a ``torch.nn.Parameter``). Only
operators that mean the same thing for both are used, plus the primitives in
:mod:`optlib._backend`. ``g`` is never modified in place: it may be the caller's ``.grad``.
"""

import math

from . import _backend as B
from . import checks


class Rule:
    defaults = {}
    state_names = {}  # math name -> torch state-dict key
    counts_steps = True  # keeps torch's `step` counter in its state
    scalar_state = ()  # state entries torch keeps as 0-dim tensors
    fixed = ()  # hyperparameters the rule pins: not constructor arguments (AdamW's decoupling)

    @staticmethod
    def check(h):
        checks.lr(h["lr"])

    @staticmethod
    def init(x, h):
        return {}

    @staticmethod
    def step(x, g, state, t, **h):
        raise NotImplementedError


# Two steps every rule shares: flip the gradient to maximize, and weight decay.

def direction(g, maximize):
    return -g if maximize else g


def weight_decay_(x, g, lr, weight_decay, decoupled=False):
    r"""L2 regularization folds $\lambda x$ into the gradient: $g \leftarrow g + \lambda x$.
    Decoupled weight decay (AdamW) shrinks the weights directly: $x \leftarrow x (1 - \gamma\lambda)$."""
    if weight_decay == 0:
        return g
    if decoupled:
        B.mul_(x, 1 - lr * weight_decay)                # x = x (1 - lr lambda)
        return g
    return B.add(g, x, weight_decay)                    # g + lambda x, torch's kernel


# ---------------------------------------------------------------- 1. gradient descent, 6. momentum

class SGD(Rule):
    r"""Gradient descent, with heavy-ball or Nesterov momentum.

    $$x_t = x_{t-1} - \gamma g_t$$

    With momentum $\mu$: $b_1 = g_1$, $b_t = \mu b_{t-1} + (1 - \tau) g_t$ and
    $x_t = x_{t-1} - \gamma b_t$; Nesterov looks ahead along the buffer: $x_t = x_{t-1} - \gamma (g_t + \mu b_t)$.
    (The slides write $v_t = \beta v_{t-1} + \gamma g_t$, $x_t = x_{t-1} - v_t$: the same path, $v = \gamma b$, while $\gamma$ is constant.)
    """

    defaults = dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False)
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
    def step(x, g, state, t, lr, momentum, dampening, weight_decay, nesterov, maximize):
        g = weight_decay_(x, direction(g, maximize), lr, weight_decay)
        if momentum != 0:
            b = state.get("b")
            if b is None:  # first step: the buffer is the gradient itself, undampened
                b = state["b"] = B.clone(g)
            else:
                B.mul_(b, momentum)
                B.add_(b, g, 1 - dampening)              # b = mu b + (1 - tau) g
            g = g + momentum * b if nesterov else b
        B.add_(x, g, -lr)                                # x = x - lr g


# ------------------------------------------------------------------------------------ 4. Adagrad

class Adagrad(Rule):
    r"""Adagrad: per-coordinate rates from the sum of all squared gradients so far.

    $$s_t = s_{t-1} + g_t^2, \qquad x_t = x_{t-1} - \frac{\gamma_t\, g_t}{\sqrt{s_t} + \epsilon},
    \qquad \gamma_t = \frac{\gamma}{1 + (t - 1)\,\eta}$$
    """

    defaults = dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
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
    def step(x, g, state, t, lr, lr_decay, weight_decay, initial_accumulator_value, eps, maximize):
        g = weight_decay_(x, direction(g, maximize), lr, weight_decay)
        clr = lr / (1 + (t - 1) * lr_decay)
        s = state["s"]
        B.addcmul_(s, g, g)                              # s = s + g^2: it only grows
        denom = B.sqrt(s)
        denom += eps
        B.addcdiv_(x, g, denom, -clr)                    # x = x - lr_t g / (sqrt(s) + eps)


# ------------------------------------------------------------------------------------ 5. RMSProp

class RMSprop(Rule):
    r"""RMSProp: Adagrad with the sum replaced by an exponentially weighted average.

    $$v_t = \alpha v_{t-1} + (1 - \alpha) g_t^2, \qquad x_t = x_{t-1} - \frac{\gamma\, g_t}{\sqrt{v_t} + \epsilon}$$

    ``centered`` divides by $\sqrt{v_t - \bar g_t^2}$ (an estimate of the variance, with $\bar g$ the
    EWA of $g$); ``momentum`` accumulates $b_t = \mu b_{t-1} + g_t / (\sqrt{v_t} + \epsilon)$, $b_0 = 0$.
    (The slides call $\alpha$ "$\gamma$" and $v$ "$s$".)
    """

    defaults = dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False)
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
    def step(x, g, state, t, lr, alpha, eps, weight_decay, momentum, centered, maximize):
        g = weight_decay_(x, direction(g, maximize), lr, weight_decay)
        v = state["v"]
        B.mul_(v, alpha)
        B.addcmul_(v, g, g, 1 - alpha)                   # v = alpha v + (1 - alpha) g^2
        if centered:
            g_avg = state["g_avg"]
            B.lerp_(g_avg, g, 1 - alpha)                 # g_avg = alpha g_avg + (1 - alpha) g
            denom = B.sqrt(v - g_avg * g_avg)
        else:
            denom = B.sqrt(v)
        denom += eps
        if momentum > 0:
            b = state["b"]
            B.mul_(b, momentum)
            B.addcdiv_(b, g, denom)                      # b = mu b + g / (sqrt(v) + eps)
            B.add_(x, b, -lr)                            # x = x - lr b
        else:
            B.addcdiv_(x, g, denom, -lr)                 # x = x - lr g / (sqrt(v) + eps)


# --------------------------------------------------------------------------------------- 7. Adam

class Adam(Rule):
    r"""Adam = momentum + RMSProp + bias correction.

    $$m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2$$
    $$\hat m_t = \frac{m_t}{1-\beta_1^t}, \qquad \hat v_t = \frac{v_t}{1-\beta_2^t}, \qquad
    x_t = x_{t-1} - \frac{\gamma\, \hat m_t}{\sqrt{\hat v_t} + \epsilon}$$

    ``amsgrad`` divides by the running maximum of $v$ instead (:class:`AMSGrad`'s one change);
    ``decoupled_weight_decay`` turns it into AdamW.
    """

    defaults = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
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
        m, v = state["m"], state["v"]
        B.lerp_(m, g, 1 - beta1)                         # m = beta1 m + (1 - beta1) g
        B.mul_(v, beta2)
        B.addcmul_(v, g, g, 1 - beta2)                   # v = beta2 v + (1 - beta2) g^2
        return m, v

    @staticmethod
    def step(x, g, state, t, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay):
        beta1, beta2 = betas
        g = weight_decay_(x, direction(g, maximize), lr, weight_decay, decoupled_weight_decay)
        m, v = Adam.moments_(state, g, beta1, beta2)
        if amsgrad:                                      # AMSGrad: never let the denominator shrink
            B.maximum_(state["v_max"], v)
            v = state["v_max"]
        bias1, bias2 = 1 - beta1 ** t, 1 - beta2 ** t
        denom = B.sqrt(v) / math.sqrt(bias2)
        denom += eps                                     # sqrt(v_hat) + eps: eps after the correction
        B.addcdiv_(x, m, denom, -lr / bias1)             # x = x - lr m_hat / (sqrt(v_hat) + eps)


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay, $x \leftarrow x(1 - \gamma\lambda)$ before the
    adaptive step, instead of $\lambda x$ added to the gradient (and then divided by $\sqrt{\hat v}$)."""

    defaults = dict(Adam.defaults, weight_decay=1e-2, decoupled_weight_decay=True)
    fixed = ("decoupled_weight_decay",)


# ------------------------------------------------------------------------------ 8. RAdam, SWATS

def radam_rho(t, beta2):
    r"""$\rho_t = \rho_\infty - 2 t \beta_2^t / (1 - \beta_2^t)$, with $\rho_\infty = 2/(1-\beta_2) - 1$:
    the length of the simple moving average that the EWA $v_t$ approximates."""
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)


def radam_rectifier(t, beta2):
    r"""$r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}}$
    where $\rho_t > 5$ (torch's threshold), else ``None``: the variance is not tractable yet."""
    rho_inf = 2 / (1 - beta2) - 1
    rho = radam_rho(t, beta2)
    if rho <= 5:
        return None
    return math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))


class RAdam(Adam):
    r"""RAdam: Adam whose adaptive step is scaled by the rectifier $r_t$ (which undoes the large
    variance of $1/\sqrt{\hat v_t}$ in the first steps); while $\rho_t \le 5$ it takes plain
    momentum steps $x_t = x_{t-1} - \gamma \hat m_t$.

    $$x_t = x_{t-1} - \gamma\, r_t\, \hat m_t \frac{\sqrt{1 - \beta_2^t}}{\sqrt{v_t} + \epsilon}$$
    """

    defaults = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False,
                    maximize=False)

    @staticmethod
    def check(h):
        checks.lr(h["lr"])
        checks.nonnegative(h["eps"], "Invalid epsilon value")
        checks.betas(h["betas"])
        checks.nonnegative(h["weight_decay"], "Invalid weight_decay value")

    @staticmethod
    def step(x, g, state, t, lr, betas, eps, weight_decay, decoupled_weight_decay, maximize):
        beta1, beta2 = betas
        g = weight_decay_(x, direction(g, maximize), lr, weight_decay, decoupled_weight_decay)
        m, v = Adam.moments_(state, g, beta1, beta2)
        m_hat = m / (1 - beta1 ** t)
        r = radam_rectifier(t, beta2)
        if r is None:                                    # rho_t <= 5: SGD with momentum
            B.add_(x, m_hat, -lr)
        else:                                            # eps is added to the uncorrected sqrt(v)
            denom = B.sqrt(v)
            denom += eps
            B.add_(x, m_hat * lr * (math.sqrt(1 - beta2 ** t) / denom) * r, -1.0)


class SWATS(Adam):
    r"""SWATS (Keskar & Socher, 2017): Adam that switches to SGD with momentum.

    During the Adam phase each step $p_t$ is projected on the gradient to estimate the SGD
    learning rate that would have taken the same step, $\gamma_t = p_t^\top p_t / (-p_t^\top g_t)$,
    averaged as $\lambda_t = \beta_2 \lambda_{t-1} + (1 - \beta_2)\gamma_t$. Once the bias-corrected
    estimate settles, $|\lambda_t/(1-\beta_2^t) - \gamma_t| < \epsilon$, the rule switches for good to
    $b_t = \beta_1 b_{t-1} + g_t$, $x_t = x_{t-1} - (1 - \beta_1)\Lambda b_t$ with $\Lambda = \lambda_t/(1-\beta_2^t)$.
    Estimated and switched per parameter tensor (per layer), as in the paper's Algorithm 1;
    ``state["switched"]`` tells which phase a tensor is in.
    """

    defaults = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-9, weight_decay=0.0)
    state_names = dict(Adam.state_names, lam="lr_estimate", Lambda="sgd_lr", b="momentum_buffer")

    @staticmethod
    def check(h):
        RAdam.check(h)

    @staticmethod
    def init(x, h):
        return dict(Adam.init(x, h), lam=0.0, Lambda=0.0, switched=False)

    @staticmethod
    def step(x, g, state, t, lr, betas, eps, weight_decay):
        beta1, beta2 = betas
        g = weight_decay_(x, g, lr, weight_decay)
        if state["switched"]:                            # the SGD phase
            b = state["b"]
            B.mul_(b, beta1)
            b += g                                       # b = beta1 b + g
            x -= (1 - beta1) * state["Lambda"] * b
            return
        m, v = Adam.moments_(state, g, beta1, beta2)
        bias1, bias2 = 1 - beta1 ** t, 1 - beta2 ** t
        p = -lr * math.sqrt(bias2) / bias1 * m / (B.sqrt(v) + eps)
        x += p
        pg = B.dot(p, g)
        if pg != 0:
            gamma = B.dot(p, p) / -pg                    # the SGD lr whose step, projected on p, is p
            state["lam"] = beta2 * state["lam"] + (1 - beta2) * gamma
            if t > 1 and abs(state["lam"] / bias2 - gamma) < eps:
                state["switched"], state["Lambda"], state["b"] = True, state["lam"] / bias2, B.zeros_like(x)


# ---------------------------------------------------------------------------------- 9. Lookahead

def lookahead_sync_(fast, slow, alpha):
    r"""Every $k$ inner steps: $\phi \leftarrow \phi + \alpha(\theta - \phi)$, then $\theta \leftarrow \phi$
    (the slow weights $\phi$ move part of the way to the fast weights $\theta$, which restart from there)."""
    B.lerp_(slow, fast, alpha)
    B.copy_(fast, slow)


# -------------------------------------------------------------------------------------- 10. Nadam

def nadam_mu(t, beta1, momentum_decay):
    r"""Dozat's momentum schedule $\mu_t = \beta_1 (1 - \tfrac12 \cdot 0.96^{t\psi})$."""
    return beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))


class NAdam(Adam):
    r"""Nadam: Adam with Nesterov's look-ahead, the next momentum applied to $m_t$ now.

    $$x_t = x_{t-1} - \gamma\Big(\frac{1-\mu_t}{1-\prod_{i\le t}\mu_i}\, g_t
          + \frac{\mu_{t+1}}{1-\prod_{i\le t+1}\mu_i}\, m_t\Big) \Big/ \big(\sqrt{\hat v_t} + \epsilon\big)$$
    """

    defaults = dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
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
    def step(x, g, state, t, lr, betas, eps, weight_decay, momentum_decay, decoupled_weight_decay, maximize):
        beta1, beta2 = betas
        g = weight_decay_(x, direction(g, maximize), lr, weight_decay, decoupled_weight_decay)
        mu, mu_next = nadam_mu(t, beta1, momentum_decay), nadam_mu(t + 1, beta1, momentum_decay)
        state["mu_prod"] *= mu
        mu_prod = float(state["mu_prod"])
        m, v = Adam.moments_(state, g, beta1, beta2)
        denom = B.sqrt(v / (1 - beta2 ** t))
        denom += eps
        B.addcdiv_(x, g, denom, -lr * (1 - mu) / (1 - mu_prod))
        B.addcdiv_(x, m, denom, -lr * mu_next / (1 - mu_prod * mu_next))


# ------------------------------------------------------------------------- 12. Beyond: AdaBound

def adabound_bounds(t, final_lr, gamma):
    r"""AdaBound's bounds on the per-coordinate step size: $\eta_l = \gamma^* (1 - \frac{1}{\gamma t + 1})$,
    $\eta_u = \gamma^* (1 + \frac{1}{\gamma t})$, both tending to the final SGD rate $\gamma^*$."""
    lower = final_lr * (1 - 1 / (gamma * t + 1))
    upper = final_lr * (1 + 1 / (gamma * t)) if gamma * t > 0 else math.inf
    return lower, upper


class AdaBound(Adam):
    r"""AdaBound (Luo et al., 2019; the authors' code): Adam's per-coordinate step size clipped into
    bounds that tighten towards a final SGD learning rate, so training moves from Adam to SGD.

    $$x_t = x_{t-1} - \mathrm{clip}\Big(\frac{\gamma\sqrt{1-\beta_2^t}}{(1-\beta_1^t)(\sqrt{v_t}+\epsilon)},
    \eta_l(t), \eta_u(t)\Big)\, m_t$$

    Under a learning-rate schedule the final rate follows it: $\gamma^* = $ ``final_lr`` $\cdot\, \gamma / \gamma_0$.
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
    def step(x, g, state, t, lr, betas, final_lr, gamma, eps, weight_decay, amsbound, base_lr):
        beta1, beta2 = betas
        g = weight_decay_(x, g, lr, weight_decay)
        m, v = Adam.moments_(state, g, beta1, beta2)
        if amsbound:
            B.maximum_(state["v_max"], v)
            v = state["v_max"]
        step_size = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        base_lr = lr if base_lr is None else base_lr
        lower, upper = adabound_bounds(t, final_lr * lr / base_lr, gamma)
        denom = B.sqrt(v)
        denom += eps
        x -= B.clip(step_size / denom, lower, upper) * m
