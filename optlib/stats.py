"""Statistics of the case studies, phrased only as far as the numbers support.

* :func:`mean_std` formats a value over seeds: ``"87.14 ± 0.25 %"``; one seed has no spread, so it says
  ``"87.14 % (1 seed)"``; diverged seeds (NaN) are counted, not averaged.
* :func:`paired_difference`: the runs of two optimizers with the same seed share the initialisation and
  the batch order, so their difference per seed removes that shared noise. Its mean over seeds comes with
  a 95 % Student-t interval.
* :func:`verdict` turns a :class:`Difference` into words: "higher by 0.8 ± 0.3 points" only when the
  interval excludes zero, else "no difference detectable with 3 seeds (0.1 ± 0.6 points)".
* :func:`plus_minus` gives the same numbers without the words, for a table cell: ``"+0.2 ± 0.4"``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

# Two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom (standard tables).
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042)


def t_quantile_975(df: int) -> float:
    """The 97.5 % quantile of Student's t with `df` degrees of freedom (the half-width factor of a
    two-sided 95 % interval): tabulated up to 30, Cornish-Fisher expansion beyond (error < 1e-3)."""
    if not (isinstance(df, int) and df >= 1):
        raise ValueError(f"df must be an integer >= 1, got {df!r}")
    if df <= 30:
        return _T975[df - 1]
    z = 1.959964
    return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)


def _finite(values: Iterable[float]) -> list[float]:
    return [float(v) for v in values if math.isfinite(float(v))]


def mean_std(values: Iterable[float], scale: float = 100.0, unit: str = " %", digits: int = 2) -> str:
    """``mean ± std`` (sample std) of `values` times `scale`; "1 seed" instead of a zero spread, "all n
    seeds equal" for an exactly zero one, "± <0.01" below the last digit; seeds that diverged (NaN/inf)
    are reported as such. Never "± 0.00"."""
    values = list(values)
    ok = _finite(values)
    bad = len(values) - len(ok)
    if not ok:
        return f"diverged ({bad}/{len(values)} seeds)"
    mean = sum(ok) / len(ok) * scale
    if len(ok) == 1:
        text = f"{mean:.{digits}f}{unit} (1 seed)"
    else:
        std = math.sqrt(sum((v * scale - mean) ** 2 for v in ok) / (len(ok) - 1))
        if len(set(ok)) == 1:  # e.g. every seed stuck at chance: say so rather than print "± 0.00"
            text = f"{mean:.{digits}f}{unit} (all {len(ok)} seeds equal)"
        elif float(f"{std:.{digits}f}") == 0:  # a spread below the last digit shown
            text = f"{mean:.{digits}f} ± <{10 ** -digits:.{digits}f}{unit}"
        else:
            text = f"{mean:.{digits}f} ± {std:.{digits}f}{unit}"
    return text + (f", {bad} of {len(values)} diverged" if bad else "")


@dataclasses.dataclass
class Difference:
    """Mean of the paired differences ``a - b`` over `n` seeds, with the half-width of its 95 % interval
    (``nan`` with fewer than 2 seeds: no interval can be given)."""

    mean: float
    half_width: float
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    @property
    def significant(self) -> bool:
        """The 95 % interval excludes zero."""
        return self.n >= 2 and (self.low > 0 or self.high < 0)


def paired_difference(a: Iterable[float], b: Iterable[float]) -> Difference:
    """:class:`Difference` of `a` minus `b`, paired seed by seed (same length, same seed order).
    Seeds where either diverged (non-finite) are left out."""
    a, b = list(a), list(b)
    if len(a) != len(b):
        raise ValueError(f"paired values need the same seeds: got {len(a)} and {len(b)} values")
    d = [float(x) - float(y) for x, y in zip(a, b) if math.isfinite(float(x)) and math.isfinite(float(y))]
    n = len(d)
    if n == 0:
        return Difference(math.nan, math.nan, 0)
    mean = sum(d) / n
    if n == 1:
        return Difference(mean, math.nan, 1)
    sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1))
    return Difference(mean, t_quantile_975(n - 1) * sd / math.sqrt(n), n)


def verdict(diff: Difference, scale: float = 100.0, unit: str = "points", digits: int = 1,
            higher: str = "higher", lower: str = "lower") -> str:
    """Words for a :class:`Difference` (values times `scale`, in `unit`), claiming a direction only when
    the 95 % interval excludes zero."""
    m, h = diff.mean * scale, diff.half_width * scale
    u = f" {unit}" if unit else ""  # a unitless quantity (a loss) gets no trailing space
    if diff.n == 0:
        return "no comparison: every seed diverged"
    if diff.n == 1:
        return f"{m:+.{digits}f}{u} with 1 seed: no interval, no verdict (run more seeds)"
    seeds = f"{diff.n} seeds"
    if diff.significant:
        return f"{higher if m > 0 else lower} by {abs(m):.{digits}f} ± {h:.{digits}f}{u} (95 % interval, {seeds})"
    return f"no difference detectable with {seeds} ({m:+.{digits}f} ± {h:.{digits}f}{u})"


def plus_minus(diff: Difference, scale: float = 100.0, digits: int = 1) -> str:
    """``"+0.2 ± 0.4"``: the mean of a :class:`Difference` (signed) and the half-width of its 95 % interval,
    both times `scale`, for a table cell whose header says what is compared and in which unit (a
    :func:`verdict` in few characters, without the words). One seed has no interval: ``"+0.2 (1 seed)"``;
    no seed at all: ``"diverged"``. A half-width below the last digit shown reads ``"± <0.1"``, never
    ``"± 0.0"``."""
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
        raise ValueError(f"digits must be a non-negative integer, got {digits!r}")
    if diff.n == 0:
        return "diverged"
    m = diff.mean * scale
    if diff.n == 1:
        return f"{m:+.{digits}f} (1 seed)"
    h = diff.half_width * scale
    if float(f"{h:.{digits}f}") == 0:
        return f"{m:+.{digits}f} ± <{10 ** -digits:.{digits}f}"
    return f"{m:+.{digits}f} ± {h:.{digits}f}"


def brief(diff: Difference, scale: float = 100.0, digits: int = 2) -> str:
    """A :class:`Difference` in a table cell: :func:`plus_minus` and a star where the 95 % interval excludes
    zero, ``"+0.84 ± 0.66 *"``."""
    text = plus_minus(diff, scale, digits)
    return text + " *" if diff.n > 1 and diff.significant else text


def per_epoch(comparison, name: str, baseline: str, metric: str = "test_acc",
              epochs: Iterable[int] | None = None) -> list[Difference]:
    """The paired difference `name` minus `baseline` of a curve `metric` of a
    :class:`~optlib.train.Comparison` after each epoch in `epochs` (default: every epoch of `name`'s runs,
    from 1): ``comparison.difference(..., epoch=e)`` per epoch, for following a gap through training."""
    if epochs is None:
        epochs = range(1, comparison.runs[name][0].epochs + 1)
    return [comparison.difference(name, baseline, metric, epoch=e) for e in epochs]


def paired_table(comparison, pairs: Iterable[tuple[str, str]]):
    """The paired differences ``a - b`` of a :class:`~optlib.train.Comparison`, one row per pair in
    `pairs`: final test accuracy (points) and final training loss, each with its 95 % interval.
    Returns an :class:`~optlib.train.Table` (a chapter's question often needs pairs other than the
    single baseline of ``Comparison.table``)."""
    from optlib.train import Table   # optlib.train imports this module

    pairs = list(pairs)
    if not pairs:
        raise ValueError("pairs must name at least one (run, baseline) pair, got none")
    body = []
    for a, b in pairs:
        acc, loss = comparison.difference(a, b), comparison.difference(a, b, "final_train_loss")
        body.append([f"{a}  minus  {b}", brief(acc), brief(loss, scale=1.0, digits=3)])
    return Table(["paired difference", "final test accuracy (points)", "final training loss"], body,
                 note=f"mean over {len(comparison.seeds)} seeds ± half-width of the 95 % t interval; "
                      "* the interval excludes 0")
