"""Pages that cannot lie: numbers in prose computed on the page, and the hidden checks of its claims.

A number in a sentence comes from a variable of the notebook, shown by MyST's ``{eval}`` role::

    ewa_hat_1 = fmt(v_hat[0], ".2f")          # in a code cell
    ... starts at {eval}`ewa_hat_1` ...       # in the markdown cell below it

The book build runs the notebook while it parses it (``nb_execution_mode: inline`` in _config.yml)
and JupyterLab (jupyterlab-myst) asks the live kernel, so both show the computed number. ``{eval}``
takes a plain variable name, and shows the value's ``repr``: :func:`fmt` returns a :class:`Text`,
whose ``repr`` is the formatted number itself (no quotes).

Every sentence that says something about an output is followed by a hidden cell (tag
``remove-cell``) that asserts it with :func:`claim`; a claim about full-mode results (the whole data
set) is made with ``full_only=True`` and is skipped, saying so, in quick mode (``OPTBOOK_QUICK=1``)::

    claim(v_hat[0] == theta[0], "the corrected average starts at the first value")
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable

import numpy as np

__all__ = ["Text", "fmt", "quick_mode", "claim", "ClaimError", "verdict_text"]


class Text(str):
    """A string whose ``repr`` is the string itself, so that ``{eval}`` shows ``0.30``, not ``'0.30'``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return str(self)


def fmt(value: float, spec: str = "", unit: str = "") -> Text:
    """``value`` formatted for a sentence: ``fmt(0.6513, ".1%")`` -> ``65.1%``; ``fmt(1234, ",d")``
    -> ``1,234``; ``unit`` is appended as given (``fmt(3, "d", " steps")`` -> ``3 steps``).

    Rejects what would print a misleading number: NaN and infinities, and a bool (``True`` would print 1).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"fmt: value must be a real number, got {value!r} ({type(value).__name__})")
    if not math.isfinite(value):
        raise ValueError(f"fmt: value must be finite to appear in prose, got {value!r}")
    if not isinstance(spec, str) or not isinstance(unit, str):
        raise TypeError(f"fmt: spec and unit must be strings, got spec={spec!r}, unit={unit!r}")
    try:
        text = format(value, spec)
    except ValueError as err:
        raise ValueError(f"fmt: format spec {spec!r} does not apply to {value!r}: {err}") from None
    return Text(text + unit)


def quick_mode() -> bool:
    """True when the case studies run on the quick subset: ``OPTBOOK_QUICK`` is 1, true, yes or on (the
    one reading of the switch: :func:`optlib.train.case_study_settings` asks this too)."""
    return os.environ.get("OPTBOOK_QUICK", "").strip().lower() in ("1", "true", "yes", "on")


class ClaimError(AssertionError):
    """A sentence of the book is no longer true of what the page computes."""


def claim(condition: bool | Callable[[], bool], sentence: str, *, full_only: bool = False,
          **values: object) -> bool:
    """Assert that the prose ``sentence`` holds; ``values`` are shown when it does not.

    ``condition`` is a bool, or a function of no arguments (evaluated only when the claim is checked,
    for a full-only claim whose inputs exist only in full mode). With ``full_only=True`` the claim
    is about the full data set: in quick mode it is skipped and a line says so. Returns True when
    checked and held, False when skipped.
    """
    if not isinstance(sentence, str) or not sentence.strip():
        raise ValueError(f"claim: sentence must quote the prose being checked, got {sentence!r}")
    if full_only and quick_mode():
        print(f"claim skipped in quick mode (holds on full-mode results only): {sentence}")
        return False
    held = condition() if callable(condition) else condition
    if not isinstance(held, (bool, np.bool_)):  # not an array, whose truth value is ambiguous
        raise TypeError(f"claim: condition must be a bool (or a function returning one), got {held!r} "
                        f"for the sentence {sentence!r}")
    if not held:
        details = ", ".join(f"{k} = {v!r}" for k, v in values.items())
        raise ClaimError(f"The sentence {sentence!r} is no longer true" + (f" ({details})" if details else ""))
    return True


def verdict_text(comparison, name: str, baseline: str, metric: str = "final_acc") -> Text:
    """``comparison.verdict(name, baseline, metric)`` (a :class:`~optlib.train.Comparison`) as a
    :class:`Text`, for ``{eval}``: "higher by 0.8 ± 0.3 points (95 % interval, 5 seeds)" without quotes."""
    return Text(comparison.verdict(name, baseline, metric))
