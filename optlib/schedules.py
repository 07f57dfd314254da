"""Learning-rate schedules as plain functions of the step (chapters 2, 8 and 12).

Every schedule here is a pure function ``lr = fn(step, lr0, ...)``: no state, so it can be plotted,
tabulated and tested on its own. ``step`` is the number of ``scheduler.step()`` calls so far (torch's
``last_epoch``, e): the value at ``step = e`` is the lr the optimizer uses for its (e+1)-th update.
Each function equals the matching ``torch.optim.lr_scheduler`` class step by step (the closed forms of
torch 2.13, which match torch's recursive implementations to rounding).

* ``as_scheduler(optimizer, fn, **kwargs)`` drives any ``torch.optim.Optimizer`` (torch's or
  ``optlib.optim``'s) with such a function;
* ``lr_sequence(fn, steps, **kwargs)`` is the numpy side, for the book's plots.

Arguments are checked strictly (:mod:`optlib.validate`): a wrong type raises ``TypeError`` and a NaN,
an infinite or a negative factor raises ``ValueError``, naming the function, the argument and the
value, before the range checks that torch also makes, which keep torch's messages. So every schedule
returns a finite, non-negative learning rate, and returns it promptly (``step=inf`` is refused).
numpy scalars are accepted wherever Python numbers are.

To use a schedule as the learning rate of a numpy optimizer, bind its other arguments:
``optlib.SGD(lr=functools.partial(cosine, lr0=0.1, T_max=100))``.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from . import validate

if TYPE_CHECKING:  # for the annotations only: torch is imported on first use (see FunctionLR)
    import torch

__all__ = ["step_decay", "exponential_decay", "inverse_time_decay", "inverse_sqrt_decay", "linear_warmup",
           "cosine", "cosine_warm_restarts", "cyclic_triangular", "one_cycle", "one_cycle_momentum",
           "FunctionLR", "as_scheduler", "lr_sequence"]  # noqa: F822 (FunctionLR: module __getattr__)


# -- validation ---------------------------------------------------------------------------------
# Each check takes (value, name, owner), returns the value as a Python number (numpy scalars too) or
# raises, naming owner, argument and value. Where torch makes the same check, the message is torch's.

def _number_where(value, name, owner, ok, message):
    """`value` as a Python number, ValueError(`message`) unless `ok(value)` (written so that NaN fails),
    then finite; `message` is formatted with value and name."""
    value = validate.number(value, name, owner)
    if not ok(value):
        raise ValueError(message.format(value=value, name=name, owner=owner))
    return validate.real(value, name, owner)


def _step(step, name, owner):
    """A finite real number >= 0: an infinite step has no learning rate (and used to hang SGDR)."""
    # torch's CosineAnnealingWarmRestarts.step(epoch) says "Expected non-negative epoch"; same idea here.
    return _number_where(step, name, owner, lambda v: v >= 0, "Expected non-negative step, but got {value}")


def _lr(value, name, owner):
    # torch's message for a negative or NaN lr, and the argument's name
    return _number_where(value, name, owner, lambda v: v >= 0, "Invalid learning rate: {value} ({owner}'s {name})")


def _factor(value, name, owner):
    """A multiplicative factor or rate: finite and >= 0, else the lr turns NaN, infinite or negative."""
    return _number_where(value, name, owner, lambda v: v >= 0, "Expected non-negative {name}, but got {value}")


def _positive(value, name, owner):
    return _number_where(value, name, owner, lambda v: v > 0, "Expected positive {name}, but got {value}")


def _positive_int(value, name, owner):
    value = validate.plain(value)  # np.int64(5) is an integer too
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"Expected positive integer {name}, but got {value}")
    return int(value)


def _int_at_least_1(value, name, owner):  # SGDR's T_mult, torch's message
    value = validate.plain(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"Expected integer {name} >= 1, but got {value}")
    return int(value)


def _float_or_int_factor(value, name, owner):  # SGDR's eta_min: torch's type message first
    if not isinstance(validate.plain(value), (float, int)):
        raise ValueError(f"Expected float or int {name}, but got {value} of type {type(value)}")
    return _factor(value, name, owner)


def _start_factor(value, name, owner):
    value = validate.number(value, name, owner)
    if not 0 < value <= 1.0:  # torch's test, written so that NaN fails it too
        raise ValueError("Starting multiplicative factor expected to be greater than 0 and less or equal to 1. "
                         f"Got {name}={value}.")
    return value


def _end_factor(value, name, owner):
    value = validate.number(value, name, owner)
    if not 0 <= value <= 1.0:
        raise ValueError(f"Ending multiplicative factor expected to be between 0 and 1. Got {name}={value}.")
    return value


def _pct_start(value, name, owner):
    if not isinstance(value, float) or not 0 <= value <= 1:  # torch wants a float; NaN fails too
        raise ValueError(f"Expected float between 0 and 1 pct_start, but got {value}")
    return float(value)


def _momentum(value, name, owner):
    return validate.real(value, name, owner, low=0.0, high=1.0)


def _one_of(choices, message):
    """One of the strings `choices`; else ValueError(message.format(value=...)), torch's wording."""
    def check(value, name, owner):
        if not isinstance(value, str) or value not in choices:
            raise ValueError(message.format(value=value))
        return value
    return check


_CYCLIC_MODE = _one_of(("triangular", "triangular2", "exp_range"), "mode is invalid and scale_fn is None: "
                       "mode={value!r}, expected one of ('triangular', 'triangular2', 'exp_range')")
_ANNEAL = _one_of(("cos", "linear"), "anneal_strategy must be one of 'cos' or 'linear', instead got {value}")


def _or_none(check):
    def check_or_none(value, name, owner):
        return None if value is None else check(value, name, owner)
    return check_or_none


def _checked(**checks):
    """Decorator: check these arguments (name=check) before the schedule runs, so that its body is
    only the math. Each check may convert (numpy scalars become Python numbers)."""
    def decorate(fn):
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def schedule(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            for name, check in checks.items():
                bound.arguments[name] = check(bound.arguments[name], name, fn.__name__)
            return fn(*bound.args, **bound.kwargs)
        return schedule
    return decorate


# -- decays from chapter 2 ----------------------------------------------------------------------
@_checked(step=_step, lr0=_lr, step_size=_positive_int, gamma=_factor)
def step_decay(step: float, lr0: float, step_size: int, gamma: float = 0.1) -> float:
    r"""Step decay, torch's ``StepLR``: multiply the lr by ``gamma`` every ``step_size`` steps.

    .. math:: \eta_e = \eta_0 \, \gamma^{\lfloor e / \text{step\_size} \rfloor}
    """
    return lr0 * gamma ** (step // step_size)


@_checked(step=_step, lr0=_lr, rate=_factor, decay_steps=_positive, staircase=validate.flag)
def exponential_decay(step: float, lr0: float, rate: float, decay_steps: float = 1,
                      staircase: bool = False) -> float:
    r"""Exponential decay, the lecture's ``lr0 * rate^(step / decay_steps)``.

    .. math:: \eta_e = \eta_0 \, \text{rate}^{e / d}
              \qquad\text{(staircase: } \eta_0 \, \text{rate}^{\lfloor e / d \rfloor}\text{)}

    ``decay_steps = d = 1`` is torch's ``ExponentialLR(gamma=rate)``; ``staircase=True`` is
    ``StepLR(step_size=d, gamma=rate)``. A larger ``d`` spreads the same decay over ``d`` times as
    many steps: with lr0 = 0.2, rate = 0.9 and d = 5 the lr at step 10 is 0.2 * 0.9**2 = 0.162.
    """
    exponent = step // decay_steps if staircase else step / decay_steps
    return lr0 * rate ** exponent


@_checked(step=_step, lr0=_lr, decay_rate=_factor)
def inverse_time_decay(step: float, lr0: float, decay_rate: float) -> float:
    r"""Inverse-time decay, torch's ``LambdaLR(lambda e: 1 / (1 + decay_rate * e))``.

    .. math:: \eta_e = \frac{\eta_0}{1 + \text{decay\_rate} \cdot e}
    """
    return lr0 / (1 + decay_rate * step)


@_checked(step=_step, lr0=_lr, k=_factor)
def inverse_sqrt_decay(step: float, lr0: float, k: float = 1.0) -> float:
    r"""The lecture's ``k / sqrt(epoch) * lr0``, counting epochs from 1 so that step 0 is defined.

    .. math:: \eta_e = \frac{k}{\sqrt{e + 1}} \, \eta_0

    (the lecture's epoch is ``e + 1``: the first update uses ``k * lr0``). torch:
    ``LambdaLR(lambda e: k / math.sqrt(e + 1))``.
    """
    return k / math.sqrt(step + 1) * lr0


# -- warm-up (chapter 8) ------------------------------------------------------------------------
# torch accepts total_iters = 0 and then keeps start_factor forever; a warm-up needs T >= 1.
@_checked(step=_step, lr0=_lr, start_factor=_start_factor, end_factor=_end_factor, total_iters=_positive_int)
def linear_warmup(step: float, lr0: float, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                  total_iters: int = 5) -> float:
    r"""Linear warm-up, torch's ``LinearLR``: the factor goes linearly from ``start_factor`` to
    ``end_factor`` over ``total_iters`` steps, then stays.

    .. math:: \eta_e = \eta_0 \left(s + (f - s) \frac{\min(e, T)}{T}\right)
    """
    return lr0 * (start_factor + (end_factor - start_factor) * min(step, total_iters) / total_iters)


# -- cosine, cyclical and one-cycle (chapter 12) ------------------------------------------------
def _cosine_between(lr0, eta_min, t, period):
    # Half a cosine from lr0 (t = 0) down to eta_min (t = period).
    return eta_min + (lr0 - eta_min) * (1 + math.cos(math.pi * t / period)) / 2


@_checked(step=_step, lr0=_lr, T_max=_positive, eta_min=_factor)
def cosine(step: float, lr0: float, T_max: float, eta_min: float = 0.0) -> float:
    r"""Cosine annealing, torch's ``CosineAnnealingLR`` (no restarts).

    .. math:: \eta_e = \eta_{\min} + (\eta_0 - \eta_{\min}) \, \frac{1 + \cos(\pi e / T_{\max})}{2}

    Past ``T_max`` it climbs back up (it is periodic with period ``2 T_max``), exactly like torch.
    """
    return _cosine_between(lr0, eta_min, step, T_max)


@_checked(step=_step, lr0=_lr, T_0=_positive_int, T_mult=_int_at_least_1, eta_min=_float_or_int_factor)
def cosine_warm_restarts(step: float, lr0: float, T_0: int, T_mult: int = 1, eta_min: float = 0.0) -> float:
    r"""SGDR, torch's ``CosineAnnealingWarmRestarts``: cosine annealing that restarts at ``lr0``.

    .. math:: \eta_e = \eta_{\min} + (\eta_0 - \eta_{\min}) \, \frac{1 + \cos(\pi T_{cur} / T_i)}{2}

    The i-th period lasts ``T_i = T_0 T_mult^i`` steps and ``T_cur`` counts the steps since the
    last restart.
    """
    if T_mult == 1:  # equal periods: one division, however large the step (torch: epoch % T_0)
        return _cosine_between(lr0, eta_min, step % T_0, T_0)
    # Walk over the finished periods (at most log(step) / log(T_mult) of them); integer arithmetic,
    # so restarts land exactly where torch's do.
    t_cur, t_i = step, T_0
    while t_cur >= t_i:
        t_cur, t_i = t_cur - t_i, t_i * T_mult
    return _cosine_between(lr0, eta_min, t_cur, t_i)


@_checked(step=_step, base_lr=_lr, max_lr=_lr, step_size_up=_positive, step_size_down=_or_none(_factor),
          mode=_CYCLIC_MODE, gamma=_factor)  # optlib has no custom scale_fn: the mode must be one of the three
def cyclic_triangular(step: float, base_lr: float, max_lr: float, step_size_up: float = 2000,
                      step_size_down: float | None = None, mode: str = "triangular", gamma: float = 1.0) -> float:
    r"""Cyclical learning rates (Smith 2017), torch's ``CyclicLR`` learning rate.

    With N = up + down steps per cycle and r = up / N:

    .. math:: c = \lfloor 1 + e / N \rfloor, \quad x = 1 + e/N - c, \quad
              s = \begin{cases} x / r & x \le r \\ (x - 1)/(r - 1) & x > r \end{cases}

    .. math:: \eta_e = \eta_{base} + (\eta_{max} - \eta_{base}) \, s \, \varphi

    with φ = 1 (``triangular``), 1 / 2^(c-1) (``triangular2``: the height halves every cycle) or
    γ^e (``exp_range``). torch also cycles the momentum the other way; that does not change the lr.
    """
    if step_size_down is None:
        step_size_down = step_size_up
    total = float(step_size_up) + float(step_size_down)
    ratio = step_size_up / total
    cycle = math.floor(1 + step / total)
    x = 1.0 + step / total - cycle
    scale = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
    if mode == "triangular":
        phi = 1.0
    elif mode == "triangular2":  # torch's 1 / 2^(c-1), exactly, but 0.0 instead of OverflowError after 1024 cycles
        phi = 2.0 ** -(cycle - 1)
    else:
        phi = gamma ** step
    return base_lr + (max_lr - base_lr) * scale * phi


@_checked(step=_step, peak_lr=_lr, step_size_up=_positive, low_factor=_factor)
def triangular(step: float, peak_lr: float, step_size_up: float, low_factor: float = 0.1) -> float:
    """:func:`cyclic_triangular` with its bounds relative to the peak: from ``low_factor * peak_lr`` up to
    `peak_lr` in `step_size_up` steps and back, repeated. Relative bounds let the peak be tuned (and let
    :class:`FunctionLR` drive it from the optimizer's lr, like the other schedules)."""
    return cyclic_triangular(step, low_factor * peak_lr, peak_lr, step_size_up)


def _one_cycle_ends(total_steps, pct_start, three_phase):
    """The last step of each of torch's phases (float, as torch computes them)."""
    if three_phase:
        return [float(pct_start * total_steps) - 1, float(2 * pct_start * total_steps) - 2, total_steps - 1]
    return [float(pct_start * total_steps) - 1, total_steps - 1]


def _one_cycle(step, total_steps, pct_start, anneal_strategy, three_phase, levels):
    """Anneal through the phases; ``levels[i] = (start, end)`` value of phase i."""
    if step > total_steps:
        raise ValueError(f"Tried to step {step} times. The specified number of total steps is {total_steps}")
    ends = _one_cycle_ends(total_steps, pct_start, three_phase)
    start_step = 0.0
    for i, (end_step, (start, end)) in enumerate(zip(ends, levels, strict=True)):
        if step <= end_step or i == len(ends) - 1:  # the last phase also takes step == total_steps
            pct = (step - start_step) / (end_step - start_step)
            if anneal_strategy == "cos":
                return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
            return (end - start) * pct + start
        start_step = end_step


@_checked(step=_step, total_steps=_positive_int, pct_start=_pct_start, anneal_strategy=_ANNEAL,
          three_phase=validate.flag, max_lr=_lr, div_factor=_positive, final_div_factor=_positive)
def one_cycle(step: float, max_lr: float, total_steps: int, pct_start: float = 0.3, anneal_strategy: str = "cos",
              div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False) -> float:
    r"""The one-cycle policy, torch's ``OneCycleLR`` learning rate.

    The lr starts at ``initial = max_lr / div_factor``, rises to ``max_lr`` by step
    ``pct_start * T - 1``, then anneals to ``min = initial / final_div_factor`` at step ``T - 1``
    (``three_phase``: back down to ``initial`` by ``2 pct_start T - 2``, then to ``min``). Within a
    phase running from step a to b, with p = (e - a) / (b - a):

    .. math:: \text{cos: } \eta = \eta_{end} + \frac{\eta_{start} - \eta_{end}}{2}(1 + \cos \pi p)
              \qquad \text{linear: } \eta = \eta_{start} + (\eta_{end} - \eta_{start}) \, p
    """
    initial = max_lr / div_factor
    low = initial / final_div_factor
    levels = [(initial, max_lr), (max_lr, initial), (initial, low)] if three_phase else [(initial, max_lr),
                                                                                          (max_lr, low)]
    return _one_cycle(step, total_steps, pct_start, anneal_strategy, three_phase, levels)


@_checked(step=_step, total_steps=_positive_int, pct_start=_pct_start, anneal_strategy=_ANNEAL,
          three_phase=validate.flag, base_momentum=_momentum, max_momentum=_momentum)
def one_cycle_momentum(step: float, total_steps: int, pct_start: float = 0.3, anneal_strategy: str = "cos",
                       base_momentum: float = 0.85, max_momentum: float = 0.95, three_phase: bool = False) -> float:
    r"""The momentum (or Adam's beta1) that torch's ``OneCycleLR`` sets alongside :func:`one_cycle`.

    It mirrors the lr: ``max_momentum`` while the lr is low, ``base_momentum`` at the lr peak, with the
    same phases and annealing (held at ``max_momentum`` in the third phase of ``three_phase``).
    """
    lo, hi = base_momentum, max_momentum
    levels = [(hi, lo), (lo, hi), (hi, hi)] if three_phase else [(hi, lo), (lo, hi)]
    return _one_cycle(step, total_steps, pct_start, anneal_strategy, three_phase, levels)


# -- the bridges ----------------------------------------------------------------------------------
# torch is imported on first use, so that the schedule functions work with numpy alone (optlib's
# core install); FunctionLR is built the first time it is asked for.
@functools.cache
def _function_lr_class():
    import torch

    class FunctionLR(torch.optim.lr_scheduler.LRScheduler):
        """A torch scheduler driven by a schedule function: after ``e`` calls of ``step()``, each group's
        lr is ``fn(e, group["initial_lr"], **kwargs)``.

        Being an ``LRScheduler`` subclass, it works wherever torch expects a scheduler (``step()``,
        ``get_last_lr()``, ``state_dict()``). It sets the lr only; torch's ``CyclicLR`` and ``OneCycleLR``
        also cycle the momentum (see :func:`one_cycle_momentum`).
        """

        def __init__(self, optimizer: torch.optim.Optimizer, fn: Callable[..., float], last_epoch: int = -1,
                     **kwargs: Any) -> None:
            if not callable(fn):
                raise TypeError(f"FunctionLR: fn must be a schedule function, got {fn!r} of type "
                                f"{type(fn).__name__}")
            self.fn, self.kwargs = fn, kwargs  # set before super().__init__, whose first step() calls get_lr
            super().__init__(optimizer, last_epoch)

        def get_lr(self) -> list[float]:
            return [self.fn(self.last_epoch, base_lr, **self.kwargs) for base_lr in self.base_lrs]

        def state_dict(self) -> dict[str, Any]:
            """torch's state without the function: plain data, loadable with ``torch.load(weights_only=True)``
            (``load_state_dict`` keeps this scheduler's own function)."""
            return {k: v for k, v in super().state_dict().items() if k != "fn"}

    # Its public name, as if defined at module level: the training cache keys name the class by it.
    FunctionLR.__qualname__ = "FunctionLR"
    return FunctionLR


def __getattr__(name: str) -> Any:
    if name == "FunctionLR":
        return _function_lr_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def as_scheduler(optimizer: torch.optim.Optimizer, fn: Callable[..., float],
                 **kwargs: Any) -> torch.optim.lr_scheduler.LRScheduler:
    """Drive ``optimizer`` (any ``torch.optim.Optimizer``) with the schedule ``fn``; see :class:`FunctionLR`.

    ``as_scheduler(opt, cosine, T_max=100)`` behaves like ``CosineAnnealingLR(opt, T_max=100)``; the
    group's lr at construction is ``lr0`` (the second argument of ``fn``: ``base_lr`` for
    :func:`cyclic_triangular`, ``max_lr`` for :func:`one_cycle`).
    """
    return _function_lr_class()(optimizer, fn, **kwargs)


def lr_sequence(fn: Callable[..., float], steps: int, **kwargs: Any) -> np.ndarray:
    """The schedule's lrs at steps 0, 1, ..., steps - 1 as a numpy array: ``[fn(e, **kwargs) for e]``."""
    if not callable(fn):
        raise TypeError(f"lr_sequence: fn must be a schedule function, got {fn!r} of type {type(fn).__name__}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"Expected non-negative integer steps, but got {steps}")
    return np.array([fn(e, **kwargs) for e in range(steps)], dtype=float)
