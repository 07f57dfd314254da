"""Lookahead, AdaBound and SWATS (both fronts) against independent transcriptions of their papers'
reference rules, written out below; and the AMSGrad counterexample of Reddi et al. (2018).

* Lookahead: Zhang, Lucas, Hinton & Ba (2019), Algorithm 1 (phi_0 = theta_0; the inner optimizer
  keeps its state across outer iterations).
* AdaBound: Luo et al. (2019), the official code (Luolc/AdaBound, adabound.py).
* SWATS: Keskar & Socher (2017), Algorithm 1, applied per parameter tensor (optimizer-spec.md 12).
"""

import math

import numpy as np
import pytest
import torch

import optlib
import optlib.optim as oo
from helpers import (DTYPE, TOL, grads_of, initial_params, leaves, max_abs_diff, numpy_path_on_objective,
                     two_groups)
from optlib.objectives import Bowl, Himmelblau

HIMMELBLAU, X0 = Himmelblau(), (0.5, -1.0)


def model_grads(params):
    """grads_of for the helpers' nonconvex problem, as a callback that fills .grad."""
    for p, g in zip(params, grads_of(params)):
        p.grad = g


def objective_grads(objective):
    def fill(params):
        (p,) = params
        p.grad = torch.tensor(objective.grad(p.detach().numpy().copy()), dtype=DTYPE)
    return fill


def path_of(opt, params, fill_grads, steps):
    """Step a torch(-front) optimizer; the flattened parameters after every step."""
    out = []
    for _ in range(steps):
        opt.zero_grad()
        fill_grads(params)
        opt.step()
        out.append(torch.cat([p.detach().reshape(-1) for p in params]).clone())
    return torch.stack(out)


# ===================================================================================== Lookahead

def paper_lookahead(params, inner, k, alpha, steps, fill_grads):
    """Algorithm 1 of Zhang et al.: for t = 1, 2, ...: theta_{t,0} <- phi_{t-1}; k inner steps
    theta_{t,i} <- theta_{t,i-1} + A(L, theta_{t,i-1}, d); phi_t <- phi_{t-1} + alpha (theta_{t,k} - phi_{t-1}).
    Returns the parameters seen after each inner step, with phi_t in place of theta_{t,k}
    (the fast weights restart from phi_t)."""
    phi = [p.detach().clone() for p in params]              # phi_0 = theta_0
    out = []
    while len(out) < steps:
        with torch.no_grad():
            for p, f in zip(params, phi):
                p.copy_(f)                                   # theta_{t,0} <- phi_{t-1}
        for i in range(1, k + 1):
            inner.zero_grad()
            fill_grads(params)
            inner.step()                                     # A keeps its own state (momentum, moments)
            if i == k:
                phi = [f + alpha * (p.detach() - f) for p, f in zip(params, phi)]
                out.append(torch.cat([f.reshape(-1) for f in phi]))
            else:
                out.append(torch.cat([p.detach().reshape(-1) for p in params]).clone())
            if len(out) == steps:
                break
    return torch.stack(out)


LOOKAHEAD_CASES = {
    # id: (inner for optlib, inner for the transcription, k, alpha)
    "torch SGD momentum, k=5 alpha=0.5": (lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.9),
                                          lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.9), 5, 0.5),
    "torch SGD nesterov, k=3 alpha=0.8": (lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.9, nesterov=True),
                                          lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.9, nesterov=True), 3, 0.8),
    "optlib Adam, k=5 alpha=0.5": (lambda g: oo.Adam(g, lr=0.01), lambda g: torch.optim.Adam(g, lr=0.01), 5, 0.5),
    "optlib Adam amsgrad, k=4 alpha=0.3": (lambda g: oo.Adam(g, lr=0.02, amsgrad=True),
                                           lambda g: torch.optim.Adam(g, lr=0.02, amsgrad=True), 4, 0.3),
}


@pytest.mark.parametrize("case", list(LOOKAHEAD_CASES))
def test_lookahead_torch_front_is_algorithm_1(case, diff_log, float64_default):
    ours_inner, ref_inner, k, alpha = LOOKAHEAD_CASES[case]
    params = leaves(initial_params())
    opt = oo.Lookahead(ours_inner(two_groups(params, dict(lr=0.02))), k=k, alpha=alpha)
    ours = path_of(opt, params, model_grads, 50)
    ref_params = leaves(initial_params())
    ref = paper_lookahead(ref_params, ref_inner(two_groups(ref_params, dict(lr=0.02))), k, alpha, 50, model_grads)
    diff = (ours - ref).abs().max().item()
    diff_log.record("paper rules, torch front, 50 steps", "Lookahead", case, diff)
    assert diff <= TOL
    # and it is not the inner optimizer alone
    plain = leaves(initial_params())
    assert (path_of(ref_inner(two_groups(plain, dict(lr=0.02))), plain, model_grads, 50) - ours).abs().max() > 1e-3


@pytest.mark.parametrize("inner, ref_inner, k, alpha", [
    (lambda: optlib.SGD(lr=0.005, momentum=0.9), lambda g: torch.optim.SGD(g, lr=0.005, momentum=0.9), 5, 0.5),
    (lambda: optlib.Adam(lr=0.05), lambda g: torch.optim.Adam(g, lr=0.05), 6, 0.7),
    (lambda: optlib.RMSprop(lr=0.01, centered=True), lambda g: torch.optim.RMSprop(g, lr=0.01, centered=True), 2, 0.2),
], ids=["SGD momentum k=5", "Adam k=6", "RMSprop k=2"])
def test_lookahead_numpy_front_is_algorithm_1(inner, ref_inner, k, alpha, diff_log, float64_default):
    ours = numpy_path_on_objective(optlib.Lookahead(inner(), k=k, alpha=alpha), HIMMELBLAU, X0, 60)[1:]
    p = torch.tensor(X0, dtype=DTYPE, requires_grad=True)
    ref = paper_lookahead([p], ref_inner([p]), k, alpha, 60, objective_grads(HIMMELBLAU)).numpy()
    diff = np.abs(ours - ref).max()
    diff_log.record("paper rules, numpy front, Himmelblau, 60 steps", "Lookahead", f"k={k}, alpha={alpha}", diff)
    assert diff <= TOL


def test_lookahead_alpha_one_is_the_inner_optimizer():
    params, plain = leaves(initial_params()), leaves(initial_params())
    a = path_of(oo.Lookahead(torch.optim.SGD(params, lr=0.05, momentum=0.9), k=3, alpha=1.0), params, model_grads, 20)
    b = path_of(torch.optim.SGD(plain, lr=0.05, momentum=0.9), plain, model_grads, 20)
    assert torch.equal(a, b)


def test_lookahead_shares_groups_with_the_inner_optimizer():
    """The docstring: param_groups are the inner optimizer's, so lr changes and schedulers reach it."""
    params = leaves(initial_params())
    inner = torch.optim.SGD(params[:2], lr=0.05)
    la = oo.Lookahead(inner, k=2)
    la.param_groups[0]["lr"] = 0.01
    assert inner.param_groups[0]["lr"] == 0.01
    sched = torch.optim.lr_scheduler.ExponentialLR(la, gamma=0.5)
    for p in params[:2]:
        p.grad = torch.ones_like(p)
    la.step()
    sched.step()
    assert inner.param_groups[0]["lr"] == pytest.approx(0.005)


def test_lookahead_add_param_group_reaches_the_inner_optimizer(float64_default):
    """A group added to the wrapper must be trained by the inner optimizer and get slow weights."""
    params = leaves(initial_params())
    la = oo.Lookahead(torch.optim.SGD(params[:2], lr=0.05, momentum=0.9), k=2, alpha=0.5)
    la.add_param_group({"params": params[2:], "lr": 0.02})
    assert len(la.optimizer.param_groups) == 2
    ours = path_of(la, params, model_grads, 10)
    ref_params = leaves(initial_params())
    inner = torch.optim.SGD(two_groups(ref_params, dict(lr=0.02)), lr=0.05, momentum=0.9)
    ref = paper_lookahead(ref_params, inner, 2, 0.5, 10, model_grads)
    assert (ours - ref).abs().max().item() <= TOL


# ====================================================================================== AdaBound

class OfficialAdaBound(torch.optim.Optimizer):
    """Luolc/AdaBound adabound.py (AdaBound.step), transcribed with today's tensor-method signatures.
    Counts how often each bound was active, so the tests know the clipping really happened."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), final_lr=0.1, gamma=1e-3, eps=1e-8, weight_decay=0,
                 amsbound=False):
        defaults = dict(lr=lr, betas=betas, final_lr=final_lr, gamma=gamma, eps=eps, weight_decay=weight_decay,
                        amsbound=amsbound)
        super().__init__(params, defaults)
        self.base_lrs = list(map(lambda group: group["lr"], self.param_groups))
        self.clipped = {"lower": 0, "upper": 0}

    @torch.no_grad()
    def step(self, closure=None):
        for group, base_lr in zip(self.param_groups, self.base_lrs):
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                amsbound = group["amsbound"]
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                    if amsbound:
                        state["max_exp_avg_sq"] = torch.zeros_like(p)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                beta1, beta2 = group["betas"]
                state["step"] += 1
                if group["weight_decay"] != 0:
                    grad = grad.add(p, alpha=group["weight_decay"])
                exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                if amsbound:
                    max_exp_avg_sq = state["max_exp_avg_sq"]
                    torch.max(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                    denom = max_exp_avg_sq.sqrt().add_(group["eps"])
                else:
                    denom = exp_avg_sq.sqrt().add_(group["eps"])
                bias_correction1 = 1 - beta1 ** state["step"]
                bias_correction2 = 1 - beta2 ** state["step"]
                step_size = group["lr"] * math.sqrt(bias_correction2) / bias_correction1
                # Applies bounds on actual learning rate; lr_scheduler cannot affect final_lr, this is a workaround
                final_lr = group["final_lr"] * group["lr"] / base_lr
                lower_bound = final_lr * (1 - 1 / (group["gamma"] * state["step"] + 1))
                upper_bound = final_lr * (1 + 1 / (group["gamma"] * state["step"]))
                step_size = torch.full_like(denom, step_size)
                step_size.div_(denom)
                self.clipped["lower"] += int((step_size < lower_bound).sum())
                self.clipped["upper"] += int((step_size > upper_bound).sum())
                step_size.clamp_(lower_bound, upper_bound).mul_(exp_avg)
                p.add_(-step_size)


ADABOUND_CASES = {
    "gamma=0.1": (dict(lr=0.01, final_lr=0.1, gamma=0.1), dict(lr=0.03), None),
    "amsbound, weight_decay": (dict(lr=0.01, final_lr=0.05, gamma=0.05, amsbound=True, weight_decay=0.1),
                               dict(lr=0.005), None),
    "default gamma, betas": (dict(lr=0.02, betas=(0.8, 0.99)), dict(lr=0.01), None),
    "under ExponentialLR (final_lr follows lr/base_lr)": (dict(lr=0.01, final_lr=0.1, gamma=0.1), dict(lr=0.03), 0.95),
}


def adabound_paths(kw, second, decay, steps=50):
    out = []
    for make in (oo.AdaBound, OfficialAdaBound):
        params = leaves(initial_params())
        opt = make(two_groups(params, second), **kw)
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=decay) if decay else None
        rows = []
        for _ in range(steps):
            opt.zero_grad()
            model_grads(params)
            opt.step()
            if sched:
                sched.step()
            rows.append(torch.cat([p.detach().reshape(-1) for p in params]))
        out.append((torch.stack(rows), opt))
    return out


@pytest.mark.parametrize("case", list(ADABOUND_CASES))
def test_adabound_torch_front_is_the_official_code(case, diff_log, float64_default):
    kw, second, decay = ADABOUND_CASES[case]
    (ours, _), (ref, ref_opt) = adabound_paths(kw, second, decay)
    diff = (ours - ref).abs().max().item()
    diff_log.record("paper rules, torch front, 50 steps", "AdaBound", case, diff)
    assert diff <= TOL
    if kw.get("gamma", 1e-3) >= 0.05:
        assert ref_opt.clipped["lower"] > 0 and ref_opt.clipped["upper"] > 0  # both bounds were active


@pytest.mark.parametrize("kw", [dict(lr=0.05, gamma=0.1), dict(lr=0.05, final_lr=0.05, gamma=0.05, amsbound=True),
                                dict(lr=0.05, weight_decay=0.1)], ids=str)
def test_adabound_numpy_front_is_the_official_code(kw, diff_log, float64_default):
    ours = numpy_path_on_objective(optlib.AdaBound(**kw), HIMMELBLAU, X0, 60)[1:]
    p = torch.tensor(X0, dtype=DTYPE, requires_grad=True)
    ref_opt = OfficialAdaBound([p], **kw)
    ref = path_of(ref_opt, [p], objective_grads(HIMMELBLAU), 60).numpy()
    diff = np.abs(ours - ref).max()
    diff_log.record("paper rules, numpy front, Himmelblau, 60 steps", "AdaBound", kw, diff)
    assert diff <= TOL
    assert ref_opt.clipped["lower"] + ref_opt.clipped["upper"] > 0


# ========================================================================================= SWATS

class PaperSWATS:
    """Keskar & Socher (2017), Algorithm 1, on a list of numpy arrays, each with its own estimate
    and switch (the project's per-tensor reading). alpha = lr, (beta1, beta2), eps = 1e-9."""

    def __init__(self, xs, lr=1e-3, betas=(0.9, 0.999), eps=1e-9):
        self.xs = [np.array(x, dtype=float) for x in xs]
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.st = [dict(k=0, m=np.zeros_like(x), a=np.zeros_like(x), lam=0.0, phase="Adam") for x in self.xs]
        self.switched_at = [None] * len(self.xs)

    def step(self, grads):
        b1, b2, eps = self.beta1, self.beta2, self.eps
        for i, (x, g, s) in enumerate(zip(self.xs, grads, self.st)):
            s["k"] += 1                                                  # k = k + 1
            k = s["k"]
            if s["phase"] == "SGD":
                s["v"] = b1 * s["v"] + g                                 # v_k = beta1 v_{k-1} + g_k
                x -= (1 - b1) * s["Lambda"] * s["v"]                     # x_k = x_{k-1} - (1 - beta1) Lambda v_k
                continue
            s["m"] = b1 * s["m"] + (1 - b1) * g                          # m_k
            s["a"] = b2 * s["a"] + (1 - b2) * g * g                      # a_k
            p = -self.lr * math.sqrt(1 - b2 ** k) / (1 - b1 ** k) * s["m"] / (np.sqrt(s["a"]) + eps)
            x += p                                                       # x_k = x_{k-1} + p_k
            pg = float(np.sum(p * g))
            if pg != 0:
                gamma = float(np.sum(p * p)) / -pg                       # gamma_k = p^T p / (-p^T g)
                s["lam"] = b2 * s["lam"] + (1 - b2) * gamma              # lambda_k
                if k > 1 and abs(s["lam"] / (1 - b2 ** k) - gamma) < eps:
                    s["phase"], s["v"], s["Lambda"] = "SGD", np.zeros_like(x), s["lam"] / (1 - b2 ** k)
                    self.switched_at[i] = k


def test_swats_numpy_front_switches_where_algorithm_1_does(diff_log):
    """Himmelblau from (0.5, -1) with lr 1e-3: Adam until the estimate settles, then SGDM."""
    steps = 2400
    ours = numpy_path_on_objective(opt := optlib.SWATS(lr=1e-3), HIMMELBLAU, X0, steps)
    ref = PaperSWATS([np.array(X0)], lr=1e-3)
    path = [ref.xs[0].copy()]
    for _ in range(steps):
        ref.step([HIMMELBLAU.grad(ref.xs[0])])
        path.append(ref.xs[0].copy())
    assert ref.switched_at[0] is not None and 100 < ref.switched_at[0] < steps - 10  # a switch mid-run
    assert opt.state["switched"] is True
    assert opt.state["Lambda"] == pytest.approx(ref.st[0]["Lambda"], rel=1e-9)
    diff = np.abs(ours - np.array(path)).max()
    diff_log.record("paper rules, numpy front, Himmelblau", "SWATS", f"lr=1e-3, {steps} steps, switch at "
                    f"{ref.switched_at[0]}", diff)
    assert diff <= TOL


@pytest.mark.parametrize("lr, x0", [(1e-3, (-80.0, 40.0)), (1e-2, (-80.0, 40.0))])
def test_swats_numpy_front_on_the_bowl(lr, x0, diff_log):
    bowl = Bowl(1.0, 10.0)
    ours = numpy_path_on_objective(optlib.SWATS(lr=lr), bowl, x0, 60)
    ref = PaperSWATS([np.array(x0)], lr=lr)
    path = [ref.xs[0].copy()]
    for _ in range(60):
        ref.step([bowl.grad(ref.xs[0])])
        path.append(ref.xs[0].copy())
    diff = np.abs(ours - np.array(path)).max()
    diff_log.record("paper rules, numpy front, bowl, 60 steps", "SWATS", f"lr={lr}, switch at {ref.switched_at[0]}",
                    diff)
    assert diff <= TOL


def test_swats_torch_front_is_algorithm_1_per_tensor(diff_log, float64_default):
    steps = 60
    params = leaves(initial_params())
    opt = oo.SWATS(two_groups(params, dict(lr=0.002)), lr=0.01)
    ours = path_of(opt, params, model_grads, steps)
    ref_lrs = [0.01, 0.01, 0.002, 0.002, 0.002]
    refs = [PaperSWATS([x.numpy()], lr=lr) for x, lr in zip(initial_params(), ref_lrs)]
    rows = []
    for _ in range(steps):
        xs = [torch.from_numpy(r.xs[0]) for r in refs]
        for r, g in zip(refs, grads_of(xs)):
            r.step([g.numpy()])
        rows.append(np.concatenate([r.xs[0].reshape(-1) for r in refs]))
    switched = [r.switched_at[0] for r in refs]
    assert switched[4] is not None and any(s is None for s in switched)  # both phases exercised
    assert [opt.state[p]["switched"] for p in params] == [s is not None for s in switched]
    diff = np.abs(ours.numpy() - np.array(rows)).max()
    diff_log.record("paper rules, torch front, 60 steps", "SWATS", f"switches at {switched}", diff)
    assert diff <= TOL


# ====================================================================== the AMSGrad counterexample

C = 3.0


def counterexample_grad(t):
    """f_t(x) = C x if t mod 3 == 1 else -x, on F = [-1, 1] (Reddi et al. 2018, section 3)."""
    return C if t % 3 == 1 else -1.0


def reference_adam_1d(lr, beta1, beta2, amsgrad, steps, eps=1e-8):
    """An independent scalar transcription of Kingma & Ba's Algorithm 1 (eps after the
    bias-corrected sqrt, as torch), with AMSGrad's running maximum, projected onto [-1, 1]."""
    x, m, v, v_max, path = 0.0, 0.0, 0.0, 0.0, []
    for t in range(1, steps + 1):
        g = counterexample_grad(t)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)
        denom = math.sqrt((v_max if amsgrad else v) / (1 - beta2 ** t)) + eps
        x = x - lr * (m / (1 - beta1 ** t)) / denom
        x = min(1.0, max(-1.0, x))
        path.append(x)
    return path


AMS_STEPS = 150
PAPER_BETAS = (0.0, 1 / (1 + C ** 2))  # beta1 = 0, beta2 = 1 / (1 + C^2): Theorem 1's choice


@pytest.mark.parametrize("amsgrad", [False, True], ids=["Adam", "AMSGrad"])
def test_amsgrad_counterexample(amsgrad, float64_default):
    lr = 0.1
    ref = reference_adam_1d(lr, *PAPER_BETAS, amsgrad, AMS_STEPS)

    opt, x, numpy_path = optlib.Adam(lr=lr, betas=PAPER_BETAS, amsgrad=amsgrad), 0.0, []
    for t in range(1, AMS_STEPS + 1):
        x = float(np.clip(opt.step(x, counterexample_grad(t)), -1.0, 1.0))
        numpy_path.append(x)

    torch_paths = []
    for make in (oo.Adam, torch.optim.Adam):
        p = torch.zeros((), dtype=DTYPE, requires_grad=True)
        topt, path = make([p], lr=lr, betas=PAPER_BETAS, amsgrad=amsgrad), []
        for t in range(1, AMS_STEPS + 1):
            p.grad = torch.tensor(counterexample_grad(t), dtype=DTYPE)  # d/dx of f_t
            topt.step()
            with torch.no_grad():
                p.clamp_(-1.0, 1.0)                  # projection onto F
            path.append(p.item())
        torch_paths.append(path)

    for path in (numpy_path, *torch_paths):
        assert np.abs(np.subtract(path, ref)).max() <= 1e-12
    last_cycle = np.array(numpy_path[-3:])
    if amsgrad:   # AMSGrad reaches the optimum x* = -1 and stays within 0.7 lr of it
        assert numpy_path[-1] < -0.9 and torch_paths[0][-1] < -0.9
        assert last_cycle.min() == -1.0 and last_cycle.max() < -1 + 0.7 * lr + 1e-9
    else:         # Adam drifts to the worst point +1
        assert numpy_path[-1] > 0.9 and torch_paths[0][-1] > 0.9
        assert last_cycle.max() == 1.0 and last_cycle.min() > 0.85
    # the average loss over the last cycles: positive (regret grows linearly) for Adam only
    tail = range(AMS_STEPS - 30 + 1, AMS_STEPS + 1)
    avg_loss = np.mean([counterexample_grad(t) * numpy_path[t - 2] for t in tail])
    assert (avg_loss < 0) == amsgrad
