"""Property-based tests (hypothesis) of the strict fronts: bad hyperparameters on the numpy front (every
optimizer, at construction and on assignment), Lookahead, AdaBound and SWATS on both fronts, and the
schedules. Every bad value raises TypeError or ValueError naming the parameter; every call returns
within 30 s (SIGALRM stops a hang and fails the example); valid numpy scalars behave exactly like
the Python numbers they hold.

The number of cases tried per test goes to artifacts/property-tests-summary.json (merged under a file
lock, so xdist workers do not overwrite each other)."""

import contextlib
import fcntl
import inspect
import json
import math
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optlib
import optlib.optim as oo
from optlib import schedules, validate

ROOT = Path(__file__).resolve().parents[1]
SUMMARY = ROOT / "artifacts" / "property-tests-summary.json"
NAMES = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "NAdam", "RAdam", "AdaBound", "SWATS"]
# The words that name each hyperparameter in its messages (torch's wording for the range checks).
WORDS = {"lr": ("lr", "learning rate"), "eps": ("eps", "epsilon"), "betas": ("betas", "beta"),
         "final_lr": ("final_lr", "final learning rate"), "nesterov": ("nesterov", "Nesterov"),
         "dampening": ("dampening", "Nesterov"), "start_factor": ("start_factor",), "end_factor": ("end_factor",)}
NONNEGATIVE = {"lr", "momentum", "weight_decay", "eps", "lr_decay", "initial_accumulator_value", "alpha",
               "momentum_decay", "final_lr", "gamma"}
PROFILE = settings(max_examples=40, deadline=None, database=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


# ------------------------------------------------------------------------------------------ plumbing

@contextlib.contextmanager
def within(seconds=30.0):
    """Fail (TimeoutError) instead of hanging: SIGALRM interrupts the call. Generous, because an
    interrupted import would break later tests: the first torch optimizer imports torch._dynamo,
    which takes seconds on a loaded machine (and is done once below, before any timed call)."""
    def alarm(signum, frame):
        raise TimeoutError(f"the call did not return within {seconds} s")
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


COUNTS = {}


def tried(request):
    COUNTS[request.node.nodeid] = COUNTS.get(request.node.nodeid, 0) + 1


@pytest.fixture(autouse=True)
def _record_count(request):
    yield
    n = COUNTS.pop(request.node.nodeid, 0)
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    with open(SUMMARY.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        old = json.loads(SUMMARY.read_text()) if SUMMARY.exists() else {}
        per_test = {**old.get("per_test", {}), request.node.nodeid: n}
        SUMMARY.write_text(json.dumps({"cases_tried": sum(per_test.values()), "per_test": per_test},
                                      indent=2, sort_keys=True) + "\n")


def assert_names(error, name, value=None):
    message = str(error)
    assert any(word in message for word in WORDS.get(name, (name,))), (name, message)
    if value is not None and not isinstance(value, (tuple, list, dict)):
        assert str(validate.plain(value)) in message or repr(value) in message, (value, message)


# ------------------------------------------------------------------------------------------ strategies

wrong_types = st.one_of(st.text(max_size=5), st.none(), st.lists(st.floats(0, 1), max_size=2),
                        st.dictionaries(st.text(max_size=2), st.integers(), max_size=1), st.booleans(),
                        st.just(1j), st.just(object()))
not_finite = st.sampled_from([math.nan, math.inf, -math.inf, np.float64("nan"), np.float32("inf")])
negative = st.one_of(st.floats(max_value=-1e-12, allow_nan=False, allow_infinity=False),
                     st.integers(max_value=-1), st.integers(-10**6, -1).map(np.int64))


def bad_value(name):
    """Values that no optimizer may accept for hyperparameter `name`."""
    if name in validate.FLAGS:
        return st.one_of(st.text(max_size=5), st.none(), st.integers(), st.floats(), st.lists(st.booleans()))
    if name == "betas":
        beta_bad = st.one_of(wrong_types.filter(lambda v: not isinstance(v, bool)), not_finite, negative,
                             st.floats(min_value=1.0, allow_nan=False))
        return st.one_of(st.tuples(beta_bad, st.floats(0, 0.99)), st.tuples(st.floats(0, 0.99), beta_bad),
                         st.text(max_size=3), st.none(), st.floats(), st.lists(st.floats(0, 0.9), min_size=3))
    options = [wrong_types, not_finite]
    if name in NONNEGATIVE:
        options.append(negative)
    if name == "gamma":  # AdaBound: 0 <= gamma < 1
        options.append(st.floats(min_value=1.0, allow_nan=False))
    return st.one_of(*options)


def hyperparameters_of(name):
    return [k for k in inspect.signature(getattr(optlib, name)).parameters]


NUMPY_CASES = [(n, k) for n in NAMES for k in hyperparameters_of(n)]


# ------------------------------------------------------------------------------------------ numpy front

@pytest.mark.parametrize("name, key", NUMPY_CASES, ids=[f"{n}-{k}" for n, k in NUMPY_CASES])
@PROFILE
@given(data=st.data())
def test_numpy_front_refuses_every_bad_value(request, name, key, data):
    value = data.draw(bad_value(key), label=key)
    tried(request)
    cls = getattr(optlib, name)
    with within(), pytest.raises((TypeError, ValueError)) as exc:
        cls(**{key: value})
    assert_names(exc.value, key, value if key != "betas" else None)
    opt = cls(lr=0.01)
    before = dict(opt.hyper)
    with within(), pytest.raises((TypeError, ValueError)):
        setattr(opt, key, value)
    assert dict(opt.hyper) == before


@pytest.mark.parametrize("name", NAMES)
@PROFILE
@given(lr=st.floats(1e-6, 1.0), wd=st.floats(0, 0.5), x=st.lists(st.floats(-10, 10), min_size=1, max_size=3))
def test_numpy_scalars_are_python_numbers(request, name, lr, wd, x):
    tried(request)
    a = getattr(optlib, name)(lr=np.float64(lr), weight_decay=np.float64(wd))
    b = getattr(optlib, name)(lr=lr, weight_decay=wd)
    g = np.cos(np.arange(len(x)) + 1.0)
    with within():
        assert np.array_equal(a.step(np.array(x), g), b.step(np.array(x), g), equal_nan=True)


@PROFILE
@given(value=st.one_of(bad_value("lr"), st.floats(1e-3, 1).map(lambda v: -v)), t=st.integers(1, 20))
def test_a_schedule_value_is_checked_at_its_step(request, value, t):
    tried(request)
    with pytest.raises((TypeError, ValueError)):  # checked at construction, by its value at step 0
        optlib.SGD(lr=lambda e: value)
    opt = optlib.SGD(lr=lambda e: 0.1 if e < t else value)
    with within():
        optlib.run(opt, optlib.objectives.Quadratic(1.0), 1.0, t)
        with pytest.raises((TypeError, ValueError)) as exc:
            opt.step(1.0, 1.0)
    assert_names(exc.value, "lr")


# ------------------------------------------------------------------------------------------ Lookahead, AdaBound, SWATS

def torch_params():
    return [torch.zeros(2, requires_grad=True)]


oo.AdaBound(torch_params())  # the lazy imports of torch.optim happen here, not inside a timed call


@pytest.mark.parametrize("key", ["k", "alpha"])
@PROFILE
@given(data=st.data())
def test_lookahead_refuses_every_bad_value_on_both_fronts(request, key, data):
    if key == "k":
        value = data.draw(st.one_of(wrong_types, not_finite, st.integers(max_value=0), st.floats(0.5, 10)))
    else:
        value = data.draw(st.one_of(wrong_types, not_finite, negative, st.floats(min_value=1.0 + 1e-9)))
    tried(request)
    for make in (lambda: optlib.Lookahead(optlib.SGD(lr=0.1), **{key: value}),
                 lambda: oo.Lookahead(torch.optim.SGD(torch_params(), lr=0.1), **{key: value})):
        with within(), pytest.raises((TypeError, ValueError)) as exc:
            make()
        assert_names(exc.value, key, value)


TORCH_STRICT = [(n, k) for n in ("AdaBound", "SWATS") for k in hyperparameters_of(n)]


@pytest.mark.parametrize("name, key", TORCH_STRICT, ids=[f"{n}-{k}" for n, k in TORCH_STRICT])
@settings(PROFILE, max_examples=25)
@given(data=st.data())
def test_adabound_and_swats_refuse_every_bad_value_on_the_torch_front(request, name, key, data):
    value = data.draw(bad_value(key), label=key)
    tried(request)
    for make in (lambda: getattr(oo, name)(torch_params(), **{key: value}),
                 lambda: getattr(oo, name)([{"params": torch_params(), key: value}])):
        with within(), pytest.raises((TypeError, ValueError)) as exc:
            make()
        assert_names(exc.value, key, value if key != "betas" else None)


# ------------------------------------------------------------------------------------------ schedules

def valid_args():
    return {
        schedules.step_decay: dict(lr0=0.1, step_size=3, gamma=0.5),
        schedules.exponential_decay: dict(lr0=0.1, rate=0.9, decay_steps=2.0, staircase=False),
        schedules.inverse_time_decay: dict(lr0=0.1, decay_rate=0.5),
        schedules.inverse_sqrt_decay: dict(lr0=0.1, k=1.0),
        schedules.linear_warmup: dict(lr0=0.1, start_factor=0.25, end_factor=1.0, total_iters=5),
        schedules.cosine: dict(lr0=0.1, T_max=10.0, eta_min=0.0),
        schedules.cosine_warm_restarts: dict(lr0=0.1, T_0=5, T_mult=2, eta_min=0.0),
        schedules.cyclic_triangular: dict(base_lr=0.01, max_lr=0.1, step_size_up=4.0, step_size_down=3.0,
                                          mode="exp_range", gamma=0.99),
        schedules.one_cycle: dict(max_lr=0.1, total_steps=10**9, pct_start=0.3, anneal_strategy="cos",
                                  div_factor=25.0, final_div_factor=1e4, three_phase=False),
        schedules.one_cycle_momentum: dict(total_steps=10**9, pct_start=0.3, anneal_strategy="cos",
                                           base_momentum=0.85, max_momentum=0.95, three_phase=False),
    }


SCHEDULE_ARGS = [(fn, key) for fn, kw in valid_args().items() for key in ["step", *kw]]
INTEGER_ARGS = {"step_size", "total_iters", "T_0", "T_mult", "total_steps"}
STRING_ARGS = {"mode", "anneal_strategy"}
LR_ARGS = {"lr0", "base_lr", "max_lr"}


def bad_schedule_value(key):
    if key in INTEGER_ARGS:
        return st.one_of(wrong_types, not_finite, st.integers(max_value=0), st.floats(0.5, 10))
    if key in STRING_ARGS:
        return st.one_of(st.text(max_size=4).filter(lambda s: s not in ("cos", "linear", "triangular",
                                                                             "triangular2", "exp_range")),
                         st.none(), st.integers())
    if key in ("staircase", "three_phase"):
        return bad_value("maximize")
    if key == "pct_start":
        return st.one_of(wrong_types, not_finite, negative, st.floats(min_value=1.0 + 1e-9))
    if key in ("start_factor",):
        return st.one_of(wrong_types, not_finite, st.floats(max_value=0.0), st.floats(min_value=1.0 + 1e-9))
    if key in ("end_factor", "base_momentum", "max_momentum"):
        return st.one_of(wrong_types, not_finite, negative, st.floats(min_value=1.0 + 1e-9))
    if key in ("T_max", "decay_steps", "step_size_up", "div_factor", "final_div_factor"):
        return st.one_of(wrong_types, not_finite, st.floats(max_value=0.0))
    if key == "step_size_down":  # None is valid: as long as step_size_up
        return st.one_of(wrong_types.filter(lambda v: v is not None), not_finite, negative)
    return st.one_of(wrong_types, not_finite, negative)  # step, lrs and every factor


@pytest.mark.parametrize("fn, key", SCHEDULE_ARGS, ids=[f"{fn.__name__}-{k}" for fn, k in SCHEDULE_ARGS])
@PROFILE
@given(data=st.data())
def test_schedules_refuse_every_bad_argument_and_never_hang(request, fn, key, data):
    value = data.draw(bad_schedule_value(key), label=key)
    kwargs = {"step": 3, **valid_args()[fn], key: value}
    tried(request)
    with within(), pytest.raises((TypeError, ValueError)) as exc:
        fn(**kwargs)
    if key not in STRING_ARGS:
        assert_names(exc.value, key)


@pytest.mark.parametrize("fn", list(valid_args()), ids=lambda fn: fn.__name__)
@PROFILE
@given(step=st.one_of(st.integers(0, 10**18), st.floats(0, 1e300), st.integers(0, 100).map(np.int64)))
def test_schedules_return_a_finite_nonnegative_lr_at_once_for_any_step(request, fn, step):
    tried(request)
    kwargs = valid_args()[fn]
    step = min(step, kwargs.get("total_steps", step))  # one-cycle refuses steps past its end, as torch does
    with within():
        lr = fn(step, **kwargs)
    assert isinstance(lr, float) and math.isfinite(lr) and lr >= 0
