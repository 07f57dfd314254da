"""The numpy front (optlib.SGD ... optlib.RAdam, x_next = opt.step(x, grad)) against torch.optim.

Each optimizer walks 60 steps on Himmelblau's function (nonconvex, 2-D) from (0.5, -1); the torch
reference gets the same analytic gradient in its .grad at every step. Paths and state agree to
1e-10. Also: scalar in -> float out, reset(), copies, the signature, the caller's array untouched.
"""

import copy
import functools
import inspect
import re

import numpy as np
import pytest
import torch
from helpers import TOL, numpy_path_on_objective, torch_path_on_objective

import optlib
from optlib import schedules
from optlib.objectives import Bumpy, Himmelblau

STEPS = 60
X0 = (0.5, -1.0)
HIMMELBLAU = Himmelblau()
NAMES = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "NAdam", "RAdam"]

SETTINGS = {
    "SGD": [dict(lr=0.005), dict(lr=0.005, momentum=0.9, dampening=0.2), dict(lr=0.005, momentum=0.8, nesterov=True),
            dict(lr=0.002, momentum=0.5, weight_decay=0.1, maximize=True)],
    "Adagrad": [dict(lr=0.3), dict(lr=0.5, lr_decay=0.05, initial_accumulator_value=2.0, eps=1e-6),
                dict(lr=0.1, weight_decay=0.1, maximize=True)],
    "RMSprop": [dict(lr=0.01), dict(lr=0.005, centered=True, momentum=0.9), dict(lr=0.01, alpha=0.9, weight_decay=0.1),
                dict(lr=0.003, momentum=0.5, maximize=True)],
    "Adam": [dict(lr=0.05), dict(lr=0.05, amsgrad=True, betas=(0.8, 0.99)), dict(lr=0.02, weight_decay=0.1, maximize=True),
             dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)],
    "AdamW": [dict(lr=0.05), dict(lr=0.05, weight_decay=0.5, amsgrad=True)],
    "NAdam": [dict(lr=0.05), dict(lr=0.05, momentum_decay=0.02), dict(lr=0.03, weight_decay=0.1),
              dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)],
    "RAdam": [dict(lr=0.005), dict(lr=0.02, betas=(0.9, 0.9)), dict(lr=0.005, weight_decay=0.1),
              dict(lr=0.005, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)],
}
CASES = [pytest.param(name, kw, id=f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}")
         for name, rows in SETTINGS.items() for kw in rows]


@pytest.mark.parametrize("name, kw", CASES)
def test_matches_torch_on_a_2d_objective(name, kw, diff_log, float64_default):
    opt = getattr(optlib, name)(**kw)
    path = numpy_path_on_objective(opt, HIMMELBLAU, X0, STEPS)
    ref = torch_path_on_objective(lambda ps: getattr(torch.optim, name)(ps, **kw, foreach=False),
                                  HIMMELBLAU, X0, STEPS)
    assert np.all(np.isfinite(path)) and np.abs(path[-1] - path[0]).max() > 0.05  # it went somewhere
    diff = np.abs(path - ref).max()
    diff_log.record(f"numpy front vs torch.optim (foreach=False), Himmelblau, {STEPS} steps", name, kw, diff)
    assert diff <= TOL
    # optlib.run (what the chapters call) walks the same path
    np.testing.assert_array_equal(optlib.run(opt, HIMMELBLAU, X0, STEPS), path)


@pytest.mark.parametrize("name, kw", CASES)
def test_state_matches_torch_state(name, kw, float64_default):
    """The numpy state (math names m, v, b, ...) holds torch's state (exp_avg, ...) after 20 steps."""
    opt = getattr(optlib, name)(**kw)
    x = numpy_path_on_objective(opt, HIMMELBLAU, X0, 20)[-1]
    p = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
    ref = getattr(torch.optim, name)([p], **kw, foreach=False)
    for _ in range(20):
        p.grad = torch.tensor(HIMMELBLAU.grad(p.detach().numpy().copy()), dtype=torch.float64)
        ref.step()
    np.testing.assert_allclose(x, p.detach().numpy(), rtol=0, atol=TOL)
    torch_state = ref.state[p]
    names = opt.rule.state_names
    assert opt.state["t"] == 20
    if "step" in torch_state:
        assert torch_state["step"].item() == 20
    for math_name, torch_name in names.items():
        assert (math_name in opt.state) == (torch_name in torch_state), (math_name, torch_name)
        if torch_name in torch_state:
            np.testing.assert_allclose(np.asarray(opt.state[math_name], dtype=float),
                                       torch_state[torch_name].numpy(), rtol=1e-12, atol=TOL)


@pytest.mark.parametrize("name", NAMES)
def test_scalar_in_float_out_and_matches_a_0d_torch_tensor(name, float64_default):
    kw = SETTINGS[name][1]
    bumpy = Bumpy()
    opt = getattr(optlib, name)(**kw)
    x, xs = 2.5, [2.5]
    for _ in range(STEPS):
        x = opt.step(x, bumpy.grad(x))
        assert type(x) is float
        xs.append(x)
    p = torch.tensor(2.5, dtype=torch.float64, requires_grad=True)  # a 0-dim parameter
    ref = getattr(torch.optim, name)([p], **kw, foreach=False)
    ref_xs = [p.item()]
    for _ in range(STEPS):
        p.grad = torch.tensor(bumpy.grad(p.item()), dtype=torch.float64)
        ref.step()
        ref_xs.append(p.item())
    assert np.abs(np.subtract(xs, ref_xs)).max() <= TOL
    # other scalar spellings give floats too; a 1-element array gives an array
    for x0 in (np.float64(1.0), np.array(1.0), 1):
        assert type(getattr(optlib, name)(**kw).step(x0, 0.5)) is float
    out = getattr(optlib, name)(**kw).step(np.array([1.0]), np.array([0.5]))
    assert isinstance(out, np.ndarray) and out.shape == (1,)
    assert out[0] == getattr(optlib, name)(**kw).step(1.0, 0.5)


@pytest.mark.parametrize("name", NAMES + ["AdaBound", "SWATS"])
def test_step_never_changes_the_callers_array(name):
    x, g = np.array([1.0, -2.0]), np.array([0.3, -0.4])
    opt = getattr(optlib, name)(lr=0.1, **({"weight_decay": 0.1} if name != "SGD" else {"momentum": 0.9}))
    x_next = opt.step(x, g)
    np.testing.assert_array_equal(x, [1.0, -2.0])
    np.testing.assert_array_equal(g, [0.3, -0.4])
    assert not np.shares_memory(x_next, x)
    x_next2 = opt.step(x_next, g)
    assert not np.shares_memory(x_next2, x_next) and np.all(x_next2 != x_next)


@pytest.mark.parametrize("name", NAMES + ["AdaBound", "SWATS"])
def test_reset_starts_over(name):
    kw = dict(lr=0.02)
    opt = getattr(optlib, name)(**kw)
    numpy_path_on_objective(opt, HIMMELBLAU, X0, 7)
    assert opt.state["t"] == 7
    opt.reset()
    assert opt.state == {"t": 0}
    again = numpy_path_on_objective(opt, HIMMELBLAU, X0, 30)
    fresh = numpy_path_on_objective(getattr(optlib, name)(**kw), HIMMELBLAU, X0, 30)
    np.testing.assert_array_equal(again, fresh)


@pytest.mark.parametrize("name", NAMES + ["AdaBound", "SWATS"])
def test_deepcopy_forks_the_state(name):
    opt = getattr(optlib, name)(lr=0.02, **({"momentum": 0.9} if name == "SGD" else {}))
    x = numpy_path_on_objective(opt, HIMMELBLAU, X0, 10)[-1]
    twin = copy.deepcopy(opt)
    assert twin.hyper == opt.hyper and twin.state.keys() == opt.state.keys()
    a = numpy_path_on_objective(opt, HIMMELBLAU, x, 15)
    b = numpy_path_on_objective(twin, HIMMELBLAU, x, 15)
    np.testing.assert_array_equal(a, b)  # same continuation ...
    assert opt.state["t"] == twin.state["t"] == 25
    twin.reset()
    assert opt.state["t"] == 25  # ... and independent state


def test_lookahead_reset_and_copy():
    la = optlib.Lookahead(optlib.SGD(lr=0.01, momentum=0.9), k=3, alpha=0.5)
    first = numpy_path_on_objective(la, HIMMELBLAU, X0, 10)
    twin = copy.deepcopy(la)
    np.testing.assert_array_equal(numpy_path_on_objective(la, HIMMELBLAU, first[-1], 8),
                                  numpy_path_on_objective(twin, HIMMELBLAU, first[-1], 8))
    la.reset()
    assert la.state == {"t": 0, "slow": None} and la.optimizer.state == {"t": 0}
    np.testing.assert_array_equal(numpy_path_on_objective(la, HIMMELBLAU, X0, 10), first)


@pytest.mark.parametrize("name", NAMES)
def test_signature_has_torchs_hyperparameters(name):
    """Keyword-only, with torch's names and defaults (minus params and the implementation switches)."""
    switches = {"params", "foreach", "capturable", "differentiable", "fused"}
    torch_params = {q.name: q.default for q in inspect.signature(getattr(torch.optim, name)).parameters.values()
                    if q.name not in switches}
    ours = inspect.signature(getattr(optlib, name)).parameters
    assert all(q.kind is q.KEYWORD_ONLY for q in ours.values())
    assert {k: q.default for k, q in ours.items()} == torch_params
    opt = getattr(optlib, name)()
    for k, v in torch_params.items():
        assert getattr(opt, k) == v


def test_unknown_hyperparameter_and_bad_shapes():
    with pytest.raises(TypeError, match="momentum"):
        optlib.Adam(momentum=0.9)
    with pytest.raises(ValueError, match="shape"):
        optlib.SGD(lr=0.1).step(np.zeros(2), np.zeros(3))


# ------------------------------------------------------- hyperparameters are attributes; lr may be a schedule

def sgd_path(lrs, x0=70.0):
    """Plain gradient descent on f(x) = x^2 with lr lrs[t] at update t + 1, written out by hand."""
    xs = [x0]
    for lr in lrs:
        xs.append(xs[-1] - lr * 2 * xs[-1])
    return xs


def test_assigning_a_hyperparameter_changes_the_next_step():
    opt = optlib.SGD(lr=0.1)
    x = opt.step(1.0, 1.0)
    opt.lr = 0.5
    assert opt.lr == 0.5 and opt.hyper["lr"] == 0.5
    assert opt.step(x, 1.0) == x - 0.5
    opt.momentum = 0.9  # the buffer starts on the next step, as torch's does when momentum is switched on
    assert opt.step(0.0, 1.0) == -0.5


def test_hyper_is_read_only_and_typos_raise():
    opt = optlib.Adam()
    with pytest.raises(TypeError):
        opt.hyper["lr"] = 0.5  # the way round the checks is closed
    with pytest.raises(AttributeError, match="Adam has no hyperparameter 'learning_rate'; it has lr, betas"):
        opt.learning_rate = 0.5
    with pytest.raises(AttributeError, match="base_lr"):
        optlib.AdaBound().base_lr = 0.1  # internal, not an argument


@pytest.mark.parametrize("make_lr", [lambda: (lambda e: schedules.exponential_decay(e, 0.1, 0.5)),
                                     lambda: functools.partial(schedules.exponential_decay, lr0=0.1, rate=0.5)],
                         ids=["lambda", "partial"])
def test_lr_schedule_is_evaluated_at_every_step(make_lr):
    """A schedule gets e = the number of updates before this one, as torch's schedulers count."""
    opt = optlib.SGD(lr=make_lr())
    path = optlib.run(opt, optlib.objectives.Quadratic(1.0), 70.0, 12)[:, 0]
    expected = sgd_path([0.1 * 0.5 ** e for e in range(12)])
    np.testing.assert_allclose(path, expected, rtol=1e-15, atol=0)
    # the same as the torch front driven by the same function through as_scheduler
    p = torch.tensor([70.0], dtype=torch.float64, requires_grad=True)
    ref = torch.optim.SGD([p], lr=0.1)
    sched = schedules.as_scheduler(ref, schedules.exponential_decay, rate=0.5)
    for _ in range(12):
        p.grad = 2 * p.detach()
        ref.step()
        sched.step()
    assert abs(p.item() - path[-1]) <= 1e-12 * abs(path[-1])


def test_a_schedule_for_momentum_too_and_reset_restarts_it():
    mom = functools.partial(schedules.one_cycle_momentum, total_steps=20)
    lr = functools.partial(schedules.one_cycle, max_lr=0.005, total_steps=20)
    opt = optlib.SGD(lr=lr, momentum=mom)
    first = optlib.run(opt, HIMMELBLAU, X0, 20)
    np.testing.assert_array_equal(optlib.run(opt, HIMMELBLAU, X0, 20), first)  # run() resets: same schedule again
    x, b = np.array(X0), None  # by hand: b_1 = g_1, b_t = mu_t b + g_t, x -= lr_t b
    for e in range(20):
        g = HIMMELBLAU.grad(x)
        b = g if b is None else mom(e) * b + g
        x = x - lr(e) * b
    np.testing.assert_allclose(first[-1], x, rtol=1e-13)


def test_bad_schedules_raise_naming_the_step():
    with pytest.raises(ValueError, match=r"^SGD: lr \(the schedule's value at step 0\) must be finite, got nan$"):
        optlib.SGD(lr=lambda e: float("nan"))
    opt = optlib.SGD(lr=lambda e: 0.1 if e < 3 else -0.1)
    x = optlib.run(opt, HIMMELBLAU, X0, 3)[-1]
    with pytest.raises(ValueError, match="^Invalid learning rate: -0.1$"):
        opt.step(x, HIMMELBLAU.grad(x))
    with pytest.raises(TypeError, match=r"^SGD: lr \(the schedule's value at step 0\) must be a real number, got None"):
        optlib.SGD(lr=lambda e: None)
    with pytest.raises(TypeError, match="^Adam: betas cannot be a schedule"):
        optlib.Adam(betas=lambda e: (0.9, 0.999))
    with pytest.raises(TypeError, match="^SGD: nesterov cannot be a schedule"):
        optlib.SGD(nesterov=lambda e: True)


def test_adabound_final_lr_follows_a_schedule_as_on_the_torch_front():
    """final_lr scales with lr / (lr at step 0), as the torch front's does under a scheduler."""
    fn = functools.partial(schedules.step_decay, lr0=0.01, step_size=3, gamma=0.5)
    x = np.array(X0)
    ours = optlib.AdaBound(lr=fn, final_lr=0.1)
    p = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
    ref = optlib.optim.AdaBound([p], lr=0.01, final_lr=0.1)
    sched = schedules.as_scheduler(ref, schedules.step_decay, step_size=3, gamma=0.5)
    for _ in range(10):
        g = HIMMELBLAU.grad(x)
        x = ours.step(x, g)
        p.grad = torch.tensor(HIMMELBLAU.grad(p.detach().numpy().copy()), dtype=torch.float64)
        ref.step()
        sched.step()
    np.testing.assert_allclose(x, p.detach().numpy(), rtol=0, atol=TOL)


def test_lookahead_takes_optimizer_like_the_torch_front():
    assert list(inspect.signature(optlib.Lookahead).parameters)[:3] == \
        list(inspect.signature(optlib.optim.Lookahead).parameters)[:3] == ["optimizer", "k", "alpha"]
    sgd = optlib.SGD(lr=0.1)
    assert optlib.Lookahead(optimizer=sgd).optimizer is sgd
    with pytest.warns(DeprecationWarning, match="optimizer"):
        la = optlib.Lookahead(inner=sgd, k=3)
    with pytest.warns(DeprecationWarning):
        assert la.inner is sgd
    la.k, la.alpha = np.int64(2), 0.25
    assert (la.k, la.alpha) == (2, 0.25)
    with pytest.raises(ValueError, match="^Lookahead: alpha must be <= 1.0, got 2$"):
        la.alpha = 2
    assert la.alpha == 0.25


@pytest.mark.parametrize("args, error, message", [
    ((optlib.SGD, HIMMELBLAU, X0, 3), TypeError, "run: opt must be a numpy optimizer"),
    ((optlib.SGD(), "Himmelblau", X0, 3), TypeError, "run: objective must have a grad(x) method, got 'Himmelblau'"),
    ((optlib.SGD(), HIMMELBLAU, X0, 3.0), TypeError, "run: steps must be an integer, got 3.0 of type float"),
    ((optlib.SGD(), HIMMELBLAU, X0, -1), ValueError, "run: steps must be an integer >= 0, got -1"),
    ((optlib.SGD(), HIMMELBLAU, ["a", 1.0], 3), TypeError, "run: x0 must be a number or a 1-D array of numbers"),
    ((optlib.SGD(), HIMMELBLAU, [float("nan"), 1.0], 3), ValueError, "run: x0 must be finite, got [nan, 1.0]"),
], ids=["opt-class", "objective", "steps-float", "steps-negative", "x0-str", "x0-nan"])
def test_run_refuses_bad_arguments(args, error, message):
    with pytest.raises(error, match="^" + re.escape(message)):
        optlib.run(*args)


def test_run_names_an_unknown_record_entry():
    with pytest.raises(ValueError, match=r"^run: record='m', but SGD keeps no such state \(it keeps 't'\)"):
        optlib.run(optlib.SGD(lr=0.01), HIMMELBLAU, X0, 3, record=("m",))
    path, trace = optlib.run(optlib.Adam(lr=0.01), HIMMELBLAU, X0, 3, record="m")  # one name alone works too
    assert list(trace) == ["m"] and trace["m"].shape == (3, 2)
