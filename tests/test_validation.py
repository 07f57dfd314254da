"""Validation on both fronts: every invalid hyperparameter raises ValueError with torch.optim's
message (which names the parameter and the value), and NaN/inf gradients propagate as in torch."""

import inspect
import itertools
import math

import numpy as np
import pytest
import torch
from helpers import DTYPE, initial_params, leaves

import optlib
import optlib.optim as oo
from optlib import validate

NAN = float("nan")

# name -> [(kwargs, the words that name the parameter in torch's message)]
INVALID = {
    "SGD": [(dict(lr=-1), "learning rate"), (dict(lr=-1e-3), "learning rate"),
            (dict(momentum=-0.5), "momentum"), (dict(weight_decay=-1e-4), "weight_decay"),
            (dict(nesterov=True), "Nesterov"), (dict(nesterov=True, momentum=0.9, dampening=0.1), "Nesterov"),
            (dict(nesterov=True, momentum=-0.9), "momentum")],
    "Adagrad": [(dict(lr=-0.1), "learning rate"), (dict(lr_decay=-0.1), "lr_decay"),
                (dict(weight_decay=-1.0), "weight_decay"), (dict(initial_accumulator_value=-0.5),
                                                            "initial_accumulator_value"),
                (dict(eps=-1e-10), "epsilon")],
    "RMSprop": [(dict(lr=-0.01), "learning rate"), (dict(eps=-1e-8), "epsilon"), (dict(momentum=-0.9), "momentum"),
                (dict(weight_decay=-0.1), "weight_decay"), (dict(alpha=-0.5), "alpha"), (dict(alpha=NAN), "alpha")],
    "Adam": [(dict(lr=-1e-3), "learning rate"), (dict(eps=-1e-8), "epsilon"),
             (dict(betas=(1.0, 0.999)), "beta parameter at index 0"),
             (dict(betas=(-0.1, 0.999)), "beta parameter at index 0"),
             (dict(betas=(0.9, 1.0)), "beta parameter at index 1"),
             (dict(betas=(0.9, -0.5)), "beta parameter at index 1"),
             (dict(betas=(0.9, 1.5)), "beta parameter at index 1"),
             (dict(weight_decay=-0.1), "weight_decay"), (dict(betas=(0, 0.999)), "betas")],
    "NAdam": [(dict(lr=-2e-3), "learning rate"), (dict(eps=-1e-8), "epsilon"),
              (dict(betas=(1.0, 0.999)), "beta parameter at index 0"),
              (dict(betas=(0.9, 1.0)), "beta parameter at index 1"),
              (dict(weight_decay=-0.1), "weight_decay"), (dict(momentum_decay=-4e-3), "momentum_decay")],
    "RAdam": [(dict(lr=-1e-3), "learning rate"), (dict(eps=-1e-8), "epsilon"),
              (dict(betas=(-0.5, 0.999)), "beta parameter at index 0"),
              (dict(betas=(0.9, 1.0)), "beta parameter at index 1"), (dict(weight_decay=-0.1), "weight_decay")],
}
INVALID["AdamW"] = INVALID["Adam"]
TORCH_CASES = [pytest.param(name, kw, words, id=f"{name}-{kw}") for name, rows in INVALID.items()
               for kw, words in rows]


def torch_message(name, kw):
    with pytest.raises(ValueError) as exc:
        getattr(torch.optim, name)(leaves(initial_params()), **kw)
    return str(exc.value)


def value_of(kw):
    """The offending value as torch prints it (the last non-bool argument)."""
    for key in ("betas", "initial_accumulator_value", "momentum_decay", "lr_decay", "weight_decay", "eps", "alpha",
                "momentum", "lr"):
        if key in kw:
            v = kw[key]
            if key == "betas":
                return str(v[0] if not 0 <= v[0] < 1 else v[1])
            return str(v)


def assert_both_fronts_raise(name, kw, message):
    """The torch front and the numpy front both raise ValueError(message) for these hyperparameters."""
    for make in (lambda: getattr(oo, name)(leaves(initial_params()), **kw), lambda: getattr(optlib, name)(**kw)):
        with pytest.raises(ValueError) as exc:
            make()
        assert str(exc.value) == message


@pytest.mark.parametrize("name, kw, words", TORCH_CASES)
def test_invalid_hyperparameter_message_is_torchs_on_both_fronts(name, kw, words):
    expected = torch_message(name, kw)
    assert words in expected
    if "Nesterov" not in expected and "betas must" not in expected:
        assert expected.endswith(value_of(kw)), expected  # the value is named too
    assert_both_fronts_raise(name, kw, expected)


@pytest.mark.parametrize("name", list(INVALID))
def test_two_invalid_hyperparameters_report_the_one_torch_reports(name):
    """torch checks in a fixed order; with two bad values optlib must complain about the same one."""
    rows = [kw for kw, _ in INVALID[name] if "nesterov" not in kw and not any(
        isinstance(v, float) and math.isnan(v) for v in kw.values())]
    for a, b in itertools.combinations(rows, 2):
        if a.keys() & b.keys():
            continue
        kw = {**a, **b}
        expected = torch_message(name, kw)
        with pytest.raises(ValueError) as exc:
            getattr(oo, name)(leaves(initial_params()), **kw)
        assert str(exc.value) == expected, kw
        with pytest.raises(ValueError) as exc:
            getattr(optlib, name)(**kw)
        assert str(exc.value) == expected, kw


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "NAdam", "RAdam"])
def test_nan_learning_rate(name):
    """optlib rejects lr = nan everywhere. torch does too, except SGD, whose checks are `lr < 0.0`
    (False for nan): a deliberate, stricter difference, so that a NaN lr cannot slip through."""
    if name == "SGD":
        getattr(torch.optim, name)(leaves(initial_params()), lr=NAN)
    else:
        assert torch_message(name, dict(lr=NAN)) == "Invalid learning rate: nan"
    for make in (lambda: getattr(oo, name)(leaves(initial_params()), lr=NAN), lambda: getattr(optlib, name)(lr=NAN)):
        with pytest.raises(ValueError, match="^Invalid learning rate: nan$"):
            make()


@pytest.mark.parametrize("name, kw", [("SGD", dict(dampening=-0.5, momentum=0.9)), ("RMSprop", dict(alpha=1.5)),
                                      ("NAdam", dict(betas=(0, 0.999))), ("RAdam", dict(betas=(0, 0.999))),
                                      ("SGD", dict(lr=0.0)), ("Adam", dict(betas=(0.0, 0.0), eps=0.0))],
                         ids=str)
def test_values_torch_accepts_are_accepted(name, kw):
    getattr(torch.optim, name)(leaves(initial_params()), **kw)
    getattr(oo, name)(leaves(initial_params()), **kw)
    getattr(optlib, name)(**kw)


# AdaBound: the official code's checks and messages (Luolc/AdaBound adabound.py); SWATS: Adam's.
OTHER = {
    "AdaBound": [(dict(lr=-1e-3), "Invalid learning rate: -0.001"), (dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
                 (dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
                 (dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
                 (dict(final_lr=-0.1), "Invalid final learning rate: -0.1"),
                 (dict(gamma=1.0), "Invalid gamma parameter: 1.0"), (dict(gamma=-0.1), "Invalid gamma parameter: -0.1")],
    "SWATS": [(dict(lr=-1e-3), "Invalid learning rate: -0.001"), (dict(eps=-1e-9), "Invalid epsilon value: -1e-09"),
              (dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
              (dict(weight_decay=-1), "Invalid weight_decay value: -1")],
}


@pytest.mark.parametrize("name, kw, message", [pytest.param(n, kw, m, id=f"{n}-{kw}") for n, rows in OTHER.items()
                                               for kw, m in rows])
def test_adabound_and_swats_validation(name, kw, message):
    assert_both_fronts_raise(name, kw, message)


@pytest.mark.parametrize("kw, error, message", [
    (dict(k=0), ValueError, "k must be an integer >= 1, got 0"), (dict(k=-3), ValueError, "k must be an integer >= 1, got -3"),
    (dict(k=2.5), TypeError, "k must be an integer, got 2.5 of type float"),
    (dict(k=True), TypeError, "k must be an integer, got True of type bool"),
    (dict(k="5"), TypeError, "k must be an integer, got '5' of type str"),
    (dict(k=None), TypeError, "k must be an integer, got None of type NoneType"),
    (dict(alpha=-0.1), ValueError, "alpha must be >= 0.0, got -0.1"), (dict(alpha=1.5), ValueError, "alpha must be <= 1.0, got 1.5"),
    (dict(alpha=NAN), ValueError, "alpha must be finite, got nan"),
    (dict(alpha=[0.5]), TypeError, "alpha must be a real number, got [0.5] of type list")], ids=str)
def test_lookahead_validation_on_both_fronts(kw, error, message):
    """Lookahead is strict on both fronts (it is not a torch optimizer): the message names k or alpha."""
    for make in (lambda: oo.Lookahead(torch.optim.SGD(leaves(initial_params()), lr=0.1), **kw),
                 lambda: optlib.Lookahead(optlib.SGD(lr=0.1), **kw)):
        with pytest.raises(error) as exc:
            make()
        assert str(exc.value) == "Lookahead: " + message


def test_lookahead_accepts_numpy_scalars_on_both_fronts():
    for la in (oo.Lookahead(torch.optim.SGD(leaves(initial_params()), lr=0.1), k=np.int64(5), alpha=np.float32(0.5)),
               optlib.Lookahead(optlib.SGD(lr=0.1), k=np.int64(5), alpha=np.float32(0.5))):
        assert (type(la.k), la.k, type(la.alpha), la.alpha) == (int, 5, float, 0.5)


@pytest.mark.parametrize("kw", [dict(k=1), dict(k=7, alpha=0.0), dict(alpha=1.0)], ids=str)
def test_lookahead_accepts_the_edges(kw):
    oo.Lookahead(torch.optim.SGD(leaves(initial_params()), lr=0.1), **kw)
    optlib.Lookahead(optlib.SGD(lr=0.1), **kw)


def test_lookahead_wraps_only_optimizers():
    with pytest.raises(TypeError, match="Lookahead wraps a torch.optim.Optimizer"):
        oo.Lookahead(leaves(initial_params()))
    for inner in (None, "SGD", optlib.SGD, torch.optim.SGD(leaves(initial_params()), lr=0.1)):
        with pytest.raises(TypeError, match="^Lookahead: optimizer must be a numpy optimizer"):
            optlib.Lookahead(inner)


@pytest.mark.parametrize("name", ["SGD", "Adam", "Adagrad"])
def test_base_class_errors_are_torchs(name):
    cases = [([], ValueError), (torch.zeros(3, requires_grad=True), TypeError),
             ([torch.zeros(2, requires_grad=True) * 2], ValueError)]
    for params, error in cases:
        with pytest.raises(error) as theirs:
            getattr(torch.optim, name)(params, lr=0.1)
        with pytest.raises(error) as ours:
            getattr(oo, name)(params, lr=0.1)
        assert str(ours.value) == str(theirs.value)


# --------------------------------------------------------------------------- NaN and inf gradients

NAN_SETTINGS = {
    "SGD": dict(lr=0.1, momentum=0.9), "Adagrad": dict(lr=0.1), "RMSprop": dict(lr=0.01, centered=True, momentum=0.5),
    "Adam": dict(lr=0.01, amsgrad=True), "AdamW": dict(lr=0.01), "NAdam": dict(lr=0.01), "RAdam": dict(lr=0.01),
}


def bad_grad_run(make, steps=8):
    """Step with finite gradients, except element 1 is NaN at step 3 and element 2 is +inf at step 5."""
    p = torch.tensor([0.5, -1.0, 2.0, 0.3], dtype=DTYPE, requires_grad=True)
    opt = make([p])
    for t in range(1, steps + 1):
        g = torch.tensor([0.1 * t, -0.2, 0.3, -0.05 * t], dtype=DTYPE)
        if t == 3:
            g[1] = NAN
        if t == 5:
            g[2] = math.inf
        p.grad = g
        opt.step()
    return p.detach()


@pytest.mark.parametrize("name", list(NAN_SETTINGS))
def test_nan_and_inf_gradients_propagate_as_in_torch(name, float64_default):
    kw = NAN_SETTINGS[name]
    ours = bad_grad_run(lambda ps: getattr(oo, name)(ps, **kw))
    theirs = bad_grad_run(lambda ps: getattr(torch.optim, name)(ps, **kw, foreach=False))
    assert not torch.isfinite(ours[1]) and not torch.isfinite(ours[2])  # never turned back into numbers
    assert torch.isfinite(ours[[0, 3]]).all()                            # per-coordinate: the others are fine
    assert torch.equal(torch.isnan(ours), torch.isnan(theirs))
    assert torch.equal(torch.isinf(ours), torch.isinf(theirs))
    assert torch.equal(ours[torch.isinf(ours)], theirs[torch.isinf(theirs)])
    fin = torch.isfinite(theirs)
    assert (ours[fin] - theirs[fin]).abs().max() <= 1e-12
    # numpy front: the same pattern
    opt, x = getattr(optlib, name)(**kw), np.array([0.5, -1.0, 2.0, 0.3])
    with np.errstate(invalid="ignore", over="ignore"):
        for t in range(1, 9):
            g = np.array([0.1 * t, -0.2, 0.3, -0.05 * t])
            if t == 3:
                g[1] = NAN
            if t == 5:
                g[2] = math.inf
            x = opt.step(x, g)
    np.testing.assert_array_equal(np.isnan(x), torch.isnan(theirs).numpy())
    np.testing.assert_array_equal(np.isinf(x), torch.isinf(theirs).numpy())
    np.testing.assert_allclose(x[fin.numpy()], theirs[fin].numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["AdaBound", "SWATS"])
def test_nan_gradients_are_not_hidden_by_adabound_or_swats(name):
    ours = bad_grad_run(lambda ps: getattr(oo, name)(ps, lr=0.01))
    assert not torch.isfinite(ours[1])
    opt = getattr(optlib, name)(lr=0.01)
    with np.errstate(invalid="ignore"):
        x = opt.step(np.array([0.5, -1.0]), np.array([0.1, NAN]))
    assert np.isnan(x[1])


def test_lookahead_keeps_nan():
    p = torch.tensor([1.0, 2.0], dtype=DTYPE, requires_grad=True)
    la = oo.Lookahead(torch.optim.SGD([p], lr=0.1), k=2)
    for g in ([NAN, 1.0], [1.0, 1.0]):
        p.grad = torch.tensor(g, dtype=DTYPE)
        la.step()
    assert torch.isnan(p[0]) and torch.isfinite(p[1])


# ------------------------------------------- strict fronts: the numpy front, AdaBound, SWATS (both fronts)

NUMPY_NAMES = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "NAdam", "RAdam", "AdaBound", "SWATS"]
# (hyperparameter, bad value, error, the end of the message); the message starts with "<Class>: <name>"
STRICT_CASES = [("lr", "0.1", TypeError, "must be a real number, got '0.1' of type str"),
                ("lr", None, TypeError, "must be a real number, got None of type NoneType"),
                ("lr", [0.1], TypeError, "must be a real number, got [0.1] of type list"),
                ("lr", True, TypeError, "must be a real number, got True of type bool"),
                ("lr", math.inf, ValueError, "must be finite, got inf"),
                ("weight_decay", math.inf, ValueError, "must be finite, got inf"),
                ("eps", "1e-8", TypeError, "must be a real number, got '1e-8' of type str")]


def strict_cases(name):
    hyper = inspect.signature(getattr(optlib, name)).parameters
    cases = [c for c in STRICT_CASES if c[0] in hyper]
    cases += [(flag, "False", TypeError, "must be True or False, got 'False' of type str")
              for flag in hyper if flag in validate.FLAGS]
    cases += [(flag, 1, TypeError, "must be True or False, got 1 of type int") for flag in hyper if flag in validate.FLAGS]
    if "betas" in hyper:
        cases += [("betas", 0.9, TypeError, "must be a pair (beta1, beta2), got 0.9 of type float"),
                  ("betas", "ab", TypeError, "must be a pair (beta1, beta2), got 'ab' of type str"),
                  ("betas", (0.9, None), TypeError, "betas[1] must be a real number, got None of type NoneType")]
    if "dampening" in hyper:  # torch checks nothing here
        cases += [("dampening", NAN, ValueError, "must be finite, got nan")]
    return cases


STRICT = [pytest.param(name, key, value, error, end, id=f"{name}-{key}={value!r}")
          for name in NUMPY_NAMES for key, value, error, end in strict_cases(name)]


@pytest.mark.parametrize("name, key, value, error, end", STRICT)
def test_numpy_front_is_strict_and_names_the_parameter(name, key, value, error, end):
    """Construction and assignment both refuse the value, naming the class, the parameter and the value."""
    with pytest.raises(error) as exc:
        getattr(optlib, name)(**{key: value})
    message = str(exc.value)
    assert message.startswith(f"{name}: {key if '[' not in end else ''}") and message.endswith(end), message
    opt = getattr(optlib, name)()
    before = dict(opt.hyper)
    with pytest.raises(error) as exc:
        setattr(opt, key, value)
    assert str(exc.value) == message
    assert dict(opt.hyper) == before  # a refused value changes nothing


@pytest.mark.parametrize("name, key, value, error, end",
                         [p for p in STRICT if p.values[0] in ("AdaBound", "SWATS")])
def test_adabound_and_swats_are_strict_on_the_torch_front(name, key, value, error, end):
    params = leaves(initial_params())
    with pytest.raises(error) as exc:
        getattr(oo, name)(params, **{key: value})
    assert str(exc.value) == str(pytest.raises(error, getattr(optlib, name), **{key: value}).value)
    with pytest.raises(error, match=f"^{name}: "):  # also a group's own options
        getattr(oo, name)([{"params": params[:1]}, {"params": params[1:], key: value}])


def test_numpy_scalars_are_accepted_where_python_numbers_are():
    opt = optlib.Adam(lr=np.float64(0.1), betas=(np.float32(0.5), np.float64(0.9)), eps=np.float64(1e-8),
                      amsgrad=np.bool_(True))
    assert (opt.lr, opt.betas, opt.amsgrad) == (0.1, (0.5, 0.9), True)
    assert type(opt.lr) is float and type(opt.amsgrad) is bool
    ref = optlib.Adam(lr=0.1, betas=(0.5, 0.9), amsgrad=True)
    assert opt.step(np.array([1.0, -2.0]), np.array([0.3, 0.1])).tolist() == \
        ref.step(np.array([1.0, -2.0]), np.array([0.3, 0.1])).tolist()
    sgd = optlib.SGD(lr=np.float64(0.1), momentum=np.int64(0), nesterov=np.bool_(False))
    assert sgd.step(1.0, 2.0) == pytest.approx(0.8, abs=1e-15)
    oo.AdaBound(leaves(initial_params()), lr=np.float64(1e-3), final_lr=np.float32(0.5))


def test_numpy_front_still_uses_torchs_range_messages():
    """Out-of-range values keep torch's message (test above), and a refused assignment changes nothing."""
    opt = optlib.SGD(lr=0.1)
    with pytest.raises(ValueError, match="^Invalid learning rate: -1$"):
        opt.lr = -1
    with pytest.raises(ValueError, match="^Nesterov momentum requires a momentum and zero dampening$"):
        opt.nesterov = True
    assert opt.lr == 0.1 and opt.nesterov is False
