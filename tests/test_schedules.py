"""optlib.schedules equals torch.optim.lr_scheduler, step by step, and validates like torch."""

import math
import re

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as S

from optlib import schedules

STEPS = 150


def close(values):
    return pytest.approx(values, rel=1e-12, abs=1e-15)


def sgd(lr=0.1, momentum=0.9):
    return torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=lr, momentum=momentum)


def torch_lrs(make, steps=STEPS, lr=0.1):
    """The lr of a real torch scheduler after 0, 1, ..., steps - 1 calls of step()."""
    opt = sgd(lr)
    sched = make(opt)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(steps - 1):
        opt.step()  # no gradients: a no-op, but keeps torch's "step order" check quiet
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


def ours(fn, steps=STEPS, **kwargs):
    return list(schedules.lr_sequence(fn, steps, **kwargs))


# -- each schedule equals torch's -----------------------------------------------------------------
@pytest.mark.parametrize("step_size, gamma", [(1, 0.9), (7, 0.5), (30, 0.1), (10, 1.5)])
def test_step_decay_is_steplr(step_size, gamma):
    expected = torch_lrs(lambda o: S.StepLR(o, step_size, gamma))
    assert ours(schedules.step_decay, lr0=0.1, step_size=step_size, gamma=gamma) == close(expected)


@pytest.mark.parametrize("gamma", [0.9, 0.99, 0.5, 1.01])
def test_exponential_decay_is_exponentiallr(gamma):
    expected = torch_lrs(lambda o: S.ExponentialLR(o, gamma))
    assert ours(schedules.exponential_decay, lr0=0.1, rate=gamma) == close(expected)


@pytest.mark.parametrize("decay_steps, rate", [(5, 0.9), (3, 0.5), (20, 0.1)])
def test_exponential_decay_staircase_is_steplr(decay_steps, rate):
    expected = torch_lrs(lambda o: S.StepLR(o, decay_steps, rate))
    got = ours(schedules.exponential_decay, lr0=0.1, rate=rate, decay_steps=decay_steps, staircase=True)
    assert got == close(expected)


def test_exponential_decay_lecture_example():
    # lr0 = 0.2, rate = 0.9: with decay_steps = 5 the lr loses a factor 0.9 every 5 steps, with 1 every step
    assert schedules.exponential_decay(10, 0.2, 0.9, decay_steps=5) == pytest.approx(0.162, rel=1e-14)
    assert schedules.exponential_decay(5, 0.2, 0.9, decay_steps=5) == pytest.approx(0.18, rel=1e-14)
    assert schedules.exponential_decay(2, 0.2, 0.9, decay_steps=1) == pytest.approx(0.162, rel=1e-14)
    assert schedules.exponential_decay(10, 0.2, 0.9, decay_steps=1) == pytest.approx(0.2 * 0.3486784401, rel=1e-12)
    # between the multiples of 5 the smooth form interpolates, the staircase holds
    assert schedules.exponential_decay(7, 0.2, 0.9, decay_steps=5) == pytest.approx(0.2 * 0.9 ** 1.4, rel=1e-14)
    assert schedules.exponential_decay(7, 0.2, 0.9, decay_steps=5, staircase=True) == pytest.approx(0.18, rel=1e-14)
    assert schedules.exponential_decay(0, 0.2, 0.9, decay_steps=5) == 0.2


@pytest.mark.parametrize("decay_rate", [0.0, 0.01, 0.5, 3.0])
def test_inverse_time_decay_is_lambdalr(decay_rate):
    expected = torch_lrs(lambda o: S.LambdaLR(o, lambda e: 1 / (1 + decay_rate * e)))
    assert ours(schedules.inverse_time_decay, lr0=0.1, decay_rate=decay_rate) == close(expected)
    assert schedules.inverse_time_decay(4, 0.2, 0.5) == pytest.approx(0.2 / 3, rel=1e-15)


@pytest.mark.parametrize("k", [1.0, 0.5, 2.0])
def test_inverse_sqrt_decay_is_lambdalr(k):
    expected = torch_lrs(lambda o: S.LambdaLR(o, lambda e: k / math.sqrt(e + 1)))
    assert ours(schedules.inverse_sqrt_decay, lr0=0.1, k=k) == close(expected)
    assert schedules.inverse_sqrt_decay(0, 0.2, k) == pytest.approx(0.2 * k)   # epoch 1
    assert schedules.inverse_sqrt_decay(3, 0.2, k) == pytest.approx(0.1 * k)   # epoch 4: k / 2 * lr0


@pytest.mark.parametrize("start, end, total", [(1 / 3, 1.0, 5), (0.1, 1.0, 100), (1.0, 0.05, 40), (0.5, 0.0, 7),
                                               (0.25, 0.75, 1)])
def test_linear_warmup_is_linearlr(start, end, total):
    expected = torch_lrs(lambda o: S.LinearLR(o, start_factor=start, end_factor=end, total_iters=total))
    got = ours(schedules.linear_warmup, lr0=0.1, start_factor=start, end_factor=end, total_iters=total)
    assert got == close(expected)


def test_linear_warmup_defaults_are_torchs():
    expected = torch_lrs(lambda o: S.LinearLR(o))
    assert ours(schedules.linear_warmup, lr0=0.1) == close(expected)


@pytest.mark.parametrize("T_max, eta_min", [(10, 0.0), (50, 0.001), (150, 0.01), (37, 0.05)])
def test_cosine_is_cosineannealinglr(T_max, eta_min):
    expected = torch_lrs(lambda o: S.CosineAnnealingLR(o, T_max, eta_min))
    assert ours(schedules.cosine, lr0=0.1, T_max=T_max, eta_min=eta_min) == close(expected)


@pytest.mark.parametrize("T_0, T_mult, eta_min", [(10, 1, 0.0), (5, 2, 0.001), (3, 3, 0.0), (1, 2, 0.01), (7, 1, 0)])
def test_cosine_warm_restarts_is_torchs(T_0, T_mult, eta_min):
    expected = torch_lrs(lambda o: S.CosineAnnealingWarmRestarts(o, T_0, T_mult, eta_min))
    assert ours(schedules.cosine_warm_restarts, lr0=0.1, T_0=T_0, T_mult=T_mult, eta_min=eta_min) == close(expected)


def test_cosine_warm_restarts_restarts_at_lr0():
    # periods 5, 10, 20: restarts at steps 5 and 15
    for step in (0, 5, 15, 35):
        assert schedules.cosine_warm_restarts(step, 0.1, 5, 2) == 0.1


CYCLIC = [dict(step_size_up=10), dict(step_size_up=7, step_size_down=13), dict(step_size_up=5, mode="triangular2"),
          dict(step_size_up=8, step_size_down=4, mode="exp_range", gamma=0.99), dict(step_size_up=20, step_size_down=0)]


@pytest.mark.parametrize("kwargs", CYCLIC)
def test_cyclic_triangular_is_cycliclr(kwargs):
    expected = torch_lrs(lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, **kwargs))
    assert ours(schedules.cyclic_triangular, base_lr=0.01, max_lr=0.1, **kwargs) == close(expected)


def test_cyclic_triangular_default_step_size():
    expected = torch_lrs(lambda o: S.CyclicLR(o, base_lr=0.001, max_lr=0.006), steps=4500)
    assert ours(schedules.cyclic_triangular, steps=4500, base_lr=0.001, max_lr=0.006) == close(expected)


def test_cyclic_triangular_is_smiths_formula():
    # up = down: lr = base + (max - base) max(0, 1 - |e / step - 2 cycle + 1|)
    base, top, half = 0.01, 0.1, 6
    for e in range(60):
        cycle = math.floor(1 + e / (2 * half))
        smith = base + (top - base) * max(0.0, 1 - abs(e / half - 2 * cycle + 1))
        assert schedules.cyclic_triangular(e, base, top, half) == pytest.approx(smith, rel=1e-12)


ONE_CYCLE = [dict(), dict(pct_start=0.25, anneal_strategy="linear"), dict(three_phase=True),
             dict(pct_start=0.4, div_factor=10.0, final_div_factor=100.0, three_phase=True, anneal_strategy="linear"),
             dict(pct_start=0.1, div_factor=5.0)]


@pytest.mark.parametrize("kwargs", ONE_CYCLE)
@pytest.mark.parametrize("total", [100, 149, 153])
def test_one_cycle_is_onecyclelr(kwargs, total):
    # total steps >= 150 lets torch's scheduler run past step 149 without its "Tried to step" error;
    # 149 runs to the very last allowed step (e = total).
    steps = min(STEPS, total + 1)
    opt = sgd()
    sched = S.OneCycleLR(opt, max_lr=0.5, total_steps=total, **kwargs)
    lrs, moms = [opt.param_groups[0]["lr"]], [opt.param_groups[0]["momentum"]]
    for _ in range(steps - 1):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
    assert ours(schedules.one_cycle, steps, max_lr=0.5, total_steps=total, **kwargs) == close(lrs)
    mkw = {k: v for k, v in kwargs.items() if k in ("pct_start", "anneal_strategy", "three_phase")}
    assert ours(schedules.one_cycle_momentum, steps, total_steps=total, **mkw) == close(moms)


def test_one_cycle_end_points():
    assert schedules.one_cycle(0, 0.5, 100) == pytest.approx(0.5 / 25)
    assert schedules.one_cycle(29, 0.5, 100) == pytest.approx(0.5)
    assert schedules.one_cycle(99, 0.5, 100) == pytest.approx(0.5 / 25 / 1e4)


# -- the bridges ----------------------------------------------------------------------------------
BRIDGED = [
    (schedules.step_decay, dict(step_size=7, gamma=0.5), lambda o: S.StepLR(o, 7, 0.5)),
    (schedules.exponential_decay, dict(rate=0.97), lambda o: S.ExponentialLR(o, 0.97)),
    (schedules.linear_warmup, dict(start_factor=0.1, total_iters=20), lambda o: S.LinearLR(o, 0.1, total_iters=20)),
    (schedules.cosine, dict(T_max=40, eta_min=1e-3), lambda o: S.CosineAnnealingLR(o, 40, 1e-3)),
    (schedules.cosine_warm_restarts, dict(T_0=5, T_mult=2), lambda o: S.CosineAnnealingWarmRestarts(o, 5, 2)),
    (schedules.one_cycle, dict(total_steps=80, three_phase=True),
     lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=80, three_phase=True, cycle_momentum=False)),
]


@pytest.mark.parametrize("fn, kwargs, make", BRIDGED, ids=[b[0].__name__ for b in BRIDGED])
def test_as_scheduler_trains_like_torch(fn, kwargs, make):
    """Two identical models, one with torch's scheduler and one with ours: same lrs, same weights."""
    def train(make_scheduler):
        torch.manual_seed(0)
        w = torch.randn(3, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
        sched = make_scheduler(opt)
        lrs = []
        for _ in range(60):
            lrs.append(opt.param_groups[0]["lr"])
            opt.zero_grad()
            ((w - 1) ** 2).sum().backward()
            opt.step()
            sched.step()
        return lrs, w.detach()

    lrs_t, w_t = train(make)
    lrs_o, w_o = train(lambda o: schedules.as_scheduler(o, fn, **kwargs))
    assert lrs_o == close(lrs_t)
    assert torch.allclose(w_o, w_t, rtol=1e-12, atol=1e-14)


def test_as_scheduler_per_group_lr0_and_torch_api():
    a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    opt = torch.optim.Adam([{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.01}])
    sched = schedules.as_scheduler(opt, schedules.cosine, T_max=10)
    assert isinstance(sched, S.LRScheduler)
    for _ in range(3):
        opt.step()
        sched.step()
    assert sched.get_last_lr() == close([schedules.cosine(3, 0.1, 10), schedules.cosine(3, 0.01, 10)])
    assert sched.state_dict()["last_epoch"] == 3


def test_as_scheduler_drives_optlib_optimizers():
    from optlib import optim

    opt = optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.2)
    sched = schedules.as_scheduler(opt, schedules.exponential_decay, rate=0.9, decay_steps=5)
    for _ in range(10):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.162, rel=1e-14)


def test_lr_sequence():
    seq = schedules.lr_sequence(schedules.step_decay, 25, lr0=1.0, step_size=10, gamma=0.5)
    assert isinstance(seq, np.ndarray) and seq.shape == (25,)
    assert seq[[0, 9, 10, 19, 20]].tolist() == [1.0, 1.0, 0.5, 0.5, 0.25]
    assert schedules.lr_sequence(schedules.cosine, 0, lr0=1.0, T_max=5).shape == (0,)
    with pytest.raises(ValueError, match="Expected non-negative integer steps, but got -1"):
        schedules.lr_sequence(schedules.cosine, -1, lr0=1.0, T_max=5)


# -- validation: torch's messages where torch has them ---------------------------------------------
START = "Starting multiplicative factor expected to be greater than 0 and less or equal to 1."
END = "Ending multiplicative factor expected to be between 0 and 1."
PCT = "Expected float between 0 and 1 pct_start, but got "
W = schedules.cosine_warm_restarts

@pytest.mark.parametrize("call, message", [
    (lambda: schedules.linear_warmup(0, 0.1, start_factor=0), START),
    (lambda: schedules.linear_warmup(0, 0.1, start_factor=1.5), START),
    (lambda: schedules.linear_warmup(0, 0.1, end_factor=-0.1), END),
    (lambda: schedules.linear_warmup(0, 0.1, end_factor=1.1), END),
    (lambda: schedules.linear_warmup(0, 0.1, total_iters=0), "Expected positive integer total_iters, but got 0"),
    (lambda: W(0, 0.1, T_0=0), "Expected positive integer T_0, but got 0"),
    (lambda: W(0, 0.1, T_0=2.5), "Expected positive integer T_0, but got 2.5"),
    (lambda: W(0, 0.1, T_0=5, T_mult=0), "Expected integer T_mult >= 1, but got 0"),
    (lambda: W(0, 0.1, T_0=5, T_mult=1.5), "Expected integer T_mult >= 1, but got 1.5"),
    (lambda: W(0, 0.1, T_0=5, eta_min="0"),
     "Expected float or int eta_min, but got 0 of type <class 'str'>"),
    (lambda: schedules.one_cycle(0, 0.1, 100, pct_start=1), PCT + "1"),
    (lambda: schedules.one_cycle(0, 0.1, 100, pct_start=1.2), PCT + "1.2"),
    (lambda: schedules.one_cycle(0, 0.1, 100, pct_start=-0.1), PCT + "-0.1"),
    (lambda: schedules.one_cycle(0, 0.1, 0), "Expected positive integer total_steps, but got 0"),
    (lambda: schedules.one_cycle(0, 0.1, 10.0), "Expected positive integer total_steps, but got 10.0"),
    (lambda: schedules.one_cycle(101, 0.1, 100),
     "Tried to step 101 times. The specified number of total steps is 100"),
    (lambda: schedules.one_cycle(0, 0.1, 100, anneal_strategy="exp"),
     "anneal_strategy must be one of 'cos' or 'linear', instead got exp"),
    (lambda: schedules.one_cycle_momentum(0, 100, pct_start=0), PCT + "0"),
    (lambda: schedules.cyclic_triangular(0, 0.01, 0.1, mode="sine"), "mode is invalid and scale_fn is None"),
    (lambda: schedules.cyclic_triangular(0, 0.01, 0.1, step_size_up=0), "Expected positive step_size_up, but got 0"),
    (lambda: schedules.cyclic_triangular(0, 0.01, 0.1, step_size_down=-1),
     "Expected non-negative step_size_down, but got -1"),
    (lambda: schedules.step_decay(0, 0.1, step_size=0), "Expected positive integer step_size, but got 0"),
    (lambda: schedules.exponential_decay(0, 0.1, 0.9, decay_steps=0), "Expected positive decay_steps, but got 0"),
    (lambda: schedules.cosine(0, 0.1, T_max=0), "Expected positive T_max, but got 0"),
    (lambda: schedules.inverse_time_decay(0, 0.1, decay_rate=-1), "Expected non-negative decay_rate, but got -1"),
    (lambda: schedules.inverse_sqrt_decay(0, 0.1, k=-1), "Expected non-negative k, but got -1"),
    (lambda: schedules.cosine(-1, 0.1, T_max=10), "Expected non-negative step, but got -1"),
    (lambda: schedules.cosine(0, -0.1, T_max=10), "Invalid learning rate: -0.1"),
    (lambda: schedules.cyclic_triangular(0, 0.01, -0.1), "Invalid learning rate: -0.1"),
    (lambda: schedules.one_cycle(0, -1.0, 100), "Invalid learning rate: -1.0"),
])
def test_validation(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


@pytest.mark.parametrize("make, message", [
    (lambda o: S.LinearLR(o, start_factor=0), "Starting multiplicative factor"),
    (lambda o: S.LinearLR(o, end_factor=1.1), "Ending multiplicative factor"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=0), "Expected positive integer T_0, but got 0"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=0), "Expected integer T_mult >= 1, but got 0"),
    (lambda o: S.OneCycleLR(o, 0.1, total_steps=100, pct_start=1), PCT + "1"),
    (lambda o: S.OneCycleLR(o, 0.1, total_steps=0), "Expected positive integer total_steps, but got 0"),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, mode="sine"), "mode is invalid and scale_fn is None"),
])
def test_torch_raises_the_same_messages(make, message):
    """Guards the messages we copy: if torch rewords them, this fails first."""
    with pytest.raises(ValueError, match=re.escape(message)):
        make(sgd())


def test_state_dict_is_plain_data(tmp_path):
    """torch.load's default weights_only=True refuses pickled functions: the state must not hold one."""
    opt = sgd()
    sched = schedules.as_scheduler(opt, schedules.cosine, T_max=10)
    for _ in range(3):
        opt.step()
        sched.step()
    torch.save(sched.state_dict(), tmp_path / "sched.pt")
    state = torch.load(tmp_path / "sched.pt", weights_only=True)
    assert state["last_epoch"] == 3 and state["kwargs"] == {"T_max": 10}
    opt2 = sgd()
    again = schedules.as_scheduler(opt2, schedules.cosine, T_max=10)
    again.load_state_dict(state)
    opt2.step()
    again.step()
    opt.step()
    sched.step()
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == schedules.cosine(4, 0.1, 10)


# -- strict: wrong types, NaN, infinite and negative factors (beyond torch's own checks) --------------
NAN, INF = float("nan"), float("inf")
STRICT = [
    (lambda: schedules.cosine("3", 0.1, T_max=10), TypeError, "cosine: step must be a real number, got '3'"),
    (lambda: schedules.cosine(None, 0.1, T_max=10), TypeError, "cosine: step must be a real number, got None"),
    (lambda: schedules.cosine(INF, 0.1, T_max=10), ValueError, "cosine: step must be finite, got inf"),
    (lambda: W(INF, 0.1, T_0=5), ValueError, "cosine_warm_restarts: step must be finite, got inf"),
    (lambda: W(NAN, 0.1, T_0=5), ValueError, "Expected non-negative step, but got nan"),
    (lambda: schedules.cosine(0, INF, T_max=10), ValueError, "cosine: lr0 must be finite, got inf"),
    (lambda: schedules.cosine(0, NAN, T_max=10), ValueError, "Invalid learning rate: nan"),
    (lambda: schedules.cosine(0, [0.1], T_max=10), TypeError, "cosine: lr0 must be a real number, got [0.1]"),
    (lambda: schedules.cosine(0, 0.1, T_max=INF), ValueError, "cosine: T_max must be finite, got inf"),
    (lambda: schedules.cosine(0, 0.1, T_max=10, eta_min=-0.1), ValueError,
     "Expected non-negative eta_min, but got -0.1"),
    (lambda: schedules.step_decay(0, 0.1, 10, gamma=NAN), ValueError, "Expected non-negative gamma, but got nan"),
    (lambda: schedules.step_decay(0, 0.1, 10, gamma=-0.5), ValueError, "Expected non-negative gamma, but got -0.5"),
    (lambda: schedules.step_decay(0, 0.1, 10, gamma=INF), ValueError, "step_decay: gamma must be finite, got inf"),
    (lambda: schedules.step_decay(0, 0.1, 10, gamma="0.5"), TypeError, "step_decay: gamma must be a real number"),
    (lambda: schedules.exponential_decay(0, 0.1, NAN), ValueError, "Expected non-negative rate, but got nan"),
    (lambda: schedules.exponential_decay(0, 0.1, -0.9), ValueError, "Expected non-negative rate, but got -0.9"),
    (lambda: schedules.exponential_decay(0, 0.1, INF), ValueError, "exponential_decay: rate must be finite, got inf"),
    (lambda: schedules.exponential_decay(0, 0.1, 0.9, decay_steps=NAN), ValueError,
     "Expected positive decay_steps, but got nan"),
    (lambda: schedules.exponential_decay(0, 0.1, 0.9, staircase="yes"), TypeError,
     "exponential_decay: staircase must be True or False, got 'yes'"),
    (lambda: schedules.inverse_time_decay(0, 0.1, NAN), ValueError, "Expected non-negative decay_rate, but got nan"),
    (lambda: schedules.inverse_time_decay(0, 0.1, INF), ValueError, "inverse_time_decay: decay_rate must be finite"),
    (lambda: schedules.inverse_sqrt_decay(0, 0.1, k=NAN), ValueError, "Expected non-negative k, but got nan"),
    (lambda: schedules.linear_warmup(0, 0.1, start_factor=NAN), ValueError, START),
    (lambda: schedules.linear_warmup(0, 0.1, end_factor=NAN), ValueError, END),
    (lambda: schedules.linear_warmup(0, 0.1, total_iters=None), ValueError, "Expected positive integer total_iters"),
    (lambda: W(0, 0.1, T_0=5, eta_min=NAN), ValueError, "Expected non-negative eta_min, but got nan"),
    (lambda: W(0, 0.1, T_0=5, eta_min=-1.0), ValueError, "Expected non-negative eta_min, but got -1.0"),
    (lambda: schedules.cyclic_triangular(0, 0.01, 0.1, mode="exp_range", gamma=NAN), ValueError,
     "Expected non-negative gamma, but got nan"),
    (lambda: schedules.cyclic_triangular(0, 0.01, 0.1, step_size_up=INF), ValueError,
     "cyclic_triangular: step_size_up must be finite, got inf"),
    (lambda: schedules.cyclic_triangular(0, 0.01, 0.1, mode=None), ValueError, "mode is invalid"),
    (lambda: schedules.one_cycle(0, 0.1, 100, div_factor=0.0), ValueError, "Expected positive div_factor, but got 0.0"),
    (lambda: schedules.one_cycle(0, 0.1, 100, final_div_factor=NAN), ValueError,
     "Expected positive final_div_factor, but got nan"),
    (lambda: schedules.one_cycle(0, 0.1, 100, pct_start=NAN), ValueError, PCT + "nan"),
    (lambda: schedules.one_cycle(0, 0.1, 100, three_phase="False"), TypeError,
     "one_cycle: three_phase must be True or False, got 'False'"),
    (lambda: schedules.one_cycle(0, 0.1, 100, anneal_strategy=["cos"]), ValueError, "anneal_strategy must be one of"),
    (lambda: schedules.one_cycle_momentum(0, 100, base_momentum=-0.1), ValueError,
     "one_cycle_momentum: base_momentum must be >= 0.0, got -0.1"),
    (lambda: schedules.one_cycle_momentum(0, 100, max_momentum=NAN), ValueError,
     "one_cycle_momentum: max_momentum must be finite, got nan"),
    (lambda: schedules.lr_sequence("cosine", 3), TypeError, "lr_sequence: fn must be a schedule function"),
    (lambda: schedules.as_scheduler(sgd(), None), TypeError, "FunctionLR: fn must be a schedule function, got None"),
]


@pytest.mark.parametrize("call, error, message", STRICT, ids=[m for _, _, m in STRICT])
def test_strict_validation_names_the_argument_and_the_value(call, error, message):
    with pytest.raises(error, match="^" + re.escape(message)):
        call()


def test_huge_steps_return_at_once_and_numpy_scalars_are_numbers():
    """SGDR used to walk period by period: step=1e300 must not take 1e300 iterations."""
    assert 0 <= W(1e300, 0.1, T_0=3) <= 0.1
    assert 0 <= W(1e300, 0.1, T_0=3, T_mult=2) <= 0.1
    assert W(np.int64(7), np.float64(0.1), T_0=np.int64(5), T_mult=np.int64(2)) == W(7, 0.1, T_0=5, T_mult=2)
    assert schedules.step_decay(np.int64(20), np.float32(0.5), np.int64(10), gamma=np.float64(0.5)) == 0.125
    assert schedules.one_cycle(np.int64(10), np.float64(0.1), np.int64(100)) == schedules.one_cycle(10, 0.1, 100)


def test_triangular_is_cyclic_triangular_relative_to_its_peak():
    from optlib import schedules as S

    for t in range(0, 50, 3):
        assert S.triangular(t, 0.2, 7) == S.cyclic_triangular(t, 0.1 * 0.2, 0.2, 7)
    assert S.triangular(0, 0.2, 7) == pytest.approx(0.02) and S.triangular(7, 0.2, 7) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="peak_lr"):
        S.triangular(0, -1.0, 7)
