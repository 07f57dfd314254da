"""Strict argument checks for everything in optlib that is not a drop-in for ``torch.optim``.

The torch front (``optlib.optim.SGD`` ... ``RAdam``) accepts exactly what torch accepts and raises
torch's errors. Everything else — the numpy front, Lookahead, AdaBound and SWATS on both fronts, the
schedules, the data loader — is strict: a wrong type raises ``TypeError`` and a NaN, an infinity or
an out-of-range value raises ``ValueError``, and both messages name the parameter and the value.
numpy scalars (``np.float64(0.1)``, ``np.int64(5)``) are accepted wherever Python numbers are and are
turned into them (``value.item()``), so nothing downstream sees a numpy scalar.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = ["FLAGS", "plain", "number", "real", "integer", "flag", "betas", "hyperparameters"]

# Hyperparameters that are switches: True/False only (``maximize="False"`` must not maximize).
FLAGS = frozenset({"nesterov", "maximize", "amsgrad", "centered", "decoupled_weight_decay", "amsbound"})


def _where(owner: str | None) -> str:
    return f"{owner}: " if owner else ""


def _describe(value: Any) -> str:
    return f"{value!r} of type {type(value).__name__}"


def plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds; anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def number(value: Any, name: str, owner: str | None = None) -> float | int:
    """`value` as a Python int or float, after checking its type only (a real number, not a bool)."""
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{_where(owner)}{name} must be a real number, got {_describe(value)}")
    return value


def real(value: Any, name: str, owner: str | None = None, *, low: float | None = None,
         high: float | None = None, low_open: bool = False, high_open: bool = False,
         finite: bool = True) -> float | int:
    """`value` as a Python int or float, after checking that it is a real number (not a bool), finite
    (unless ``finite=False``: then only NaN is refused) and within [low, high] (open ends on request)."""
    value = number(value, name, owner)
    if math.isnan(value) or (finite and math.isinf(value)):
        raise ValueError(f"{_where(owner)}{name} must be {'finite' if finite else 'a number'}, got {value}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{_where(owner)}{name} must be {'>' if low_open else '>='} {low}, got {value}")
    if high is not None and (value >= high if high_open else value > high):
        raise ValueError(f"{_where(owner)}{name} must be {'<' if high_open else '<='} {high}, got {value}")
    return value


def integer(value: Any, name: str, owner: str | None = None, *, low: int | None = None) -> int:
    """`value` as a Python int, after checking that it is an integer (Python or numpy, not a bool) >= low."""
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{_where(owner)}{name} must be an integer, got {_describe(value)}")
    if low is not None and value < low:
        raise ValueError(f"{_where(owner)}{name} must be an integer >= {low}, got {value}")
    return int(value)


def flag(value: Any, name: str, owner: str | None = None) -> bool:
    """`value` as a bool: only True, False and numpy's bools are switches (not "False", not 1)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{_where(owner)}{name} must be True or False, got {_describe(value)}")
    return bool(value)


def betas(value: Any, owner: str | None = None, name: str = "betas") -> tuple:
    """`value` as a tuple of two real numbers (their range is the rule's check)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{_where(owner)}{name} must be a pair (beta1, beta2), got {_describe(value)}")
    return tuple(number(b, f"{name}[{i}]", owner) for i, b in enumerate(value))


def _typed(name: str, value: Any, owner: str | None) -> Any:
    if name in FLAGS:
        return flag(value, name, owner)
    if name == "betas":
        return betas(value, owner)
    if name == "base_lr" and value is None:  # AdaBound's "the lr at construction", filled in later
        return None
    return number(value, name, owner)  # NaN and inf: after the rule's own checks, below


def hyperparameters(owner: str, rule: Any, hyper: Mapping[str, Any]) -> dict[str, Any]:
    """Check a rule's hyperparameters strictly; return them with numpy scalars made Python numbers.

    First the types (so that the rule's comparisons cannot fail with an anonymous ``TypeError``),
    then the rule's own range checks (torch's messages, e.g. ``Invalid learning rate: -1``), then
    what torch lets through: NaN and infinite values (``dampening=nan``, ``lr=inf``)."""
    h = {name: _typed(name, value, owner) for name, value in hyper.items()}
    rule.check(h)
    for name, value in h.items():
        if name == "betas":
            for i, b in enumerate(value):
                real(b, f"betas[{i}]", owner)
        elif name not in FLAGS and value is not None:
            real(value, name, owner)
    return h


def callable_of_step(value: Any, name: str, owner: str | None = None) -> Callable[[int], Any]:
    """`value` must be callable (a schedule: a function of the step)."""
    if not callable(value):
        raise TypeError(f"{_where(owner)}{name} must be callable, got {_describe(value)}")
    return value
