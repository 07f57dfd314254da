"""Choosing a learning rate fairly: one procedure, on a validation split, never on the test set.

The procedure (:func:`select_lr`), used by the chapters and the benchmark:

1. Hold out a validation split of the 60,000 training images (:func:`validation_split`: 10,000 images,
   stratified, fixed seed); train on the other 50,000. The 10,000 test images are not touched.
2. Train the optimizer at every learning rate of a log grid, at the final budget (same epochs and batch
   size as the experiment that will use it), for each seed.
3. Pick the learning rate with the best mean final validation accuracy over the seeds (a diverged seed
   counts as chance level, 0.1, so an unstable rate cannot win on its lucky seeds).
4. Check that the best is not at an edge of the grid: if it is, the optimum may lie outside, and a
   :class:`GridEdgeWarning` says which way to extend the grid.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Iterable
from typing import Any

import torch

from . import stats
from . import train as tr

N_VALIDATION = 10_000
SPLIT_SEED = 1234  # fixed: every chapter tunes on the same split
_split: dict[tuple[int, int], tuple] = {}


class GridEdgeWarning(UserWarning):
    """The best learning rate is at an edge of the grid: the optimum may lie outside it."""


def validation_split(n_val: int = N_VALIDATION, seed: int = SPLIT_SEED) -> tuple:
    """``((x_fit, y_fit), (x_val, y_val))``: the training images minus a stratified validation split of
    `n_val`, and that split, in the ``data`` format of :func:`optlib.train.compare`."""
    if isinstance(n_val, bool) or not isinstance(n_val, int) or not 0 < n_val < 60_000:
        raise ValueError(f"n_val must be an integer in 1..59999, got {n_val!r}")
    if (n_val, seed) not in _split:
        (x, y), _ = tr.default_data()
        val = tr.stratified_indices(y, n_val, seed)
        fit = torch.ones(len(y), dtype=torch.bool)
        fit[val] = False
        _split[(n_val, seed)] = ((x[fit], y[fit]), (x[val], y[val]))
    return _split[(n_val, seed)]


def with_lr(spec: tuple, lr: float) -> tuple:
    """`spec` with its learning rate set to `lr` (the innermost optimizer's for a wrapper spec)."""
    cls, kwargs, *inner = spec
    if inner:
        return (cls, kwargs, with_lr(inner[0], lr))
    return (cls, {**kwargs, "lr": lr})


def log_grid(low: float, high: float, per_decade: int = 2) -> list[float]:
    """Learning rates from `low` to `high` evenly spaced in log scale, `per_decade` per factor 10."""
    if not (0 < low < high < math.inf):
        raise ValueError(f"need 0 < low < high, got low={low!r}, high={high!r}")
    n = round(math.log10(high / low) * per_decade)
    return [float(f"{low * (high / low) ** (i / n):.3g}") for i in range(n + 1)] if n else [low]


@dataclasses.dataclass
class LRSelection:
    """The outcome of :func:`select_lr`: the chosen `lr`, the mean validation accuracy per learning rate,
    whether the best is at the grid's edge, and the :class:`~optlib.train.Comparison` behind it."""

    lr: float
    scores: dict[float, float]
    at_edge: bool
    comparison: tr.Comparison

    def table(self) -> tr.Table:
        body = [[f"{lr:g}", stats.mean_std(self.comparison.values(f"lr = {lr:g}")),
                 "<- chosen" if lr == self.lr else ""] for lr in self.scores]
        return tr.Table(["learning rate", "validation accuracy", ""], body,
                        note=f"final validation accuracy, {len(self.comparison.seeds)} seed(s)"
                             + ("; best at the grid's edge" if self.at_edge else ""))


def select_lr(spec: tuple, lrs: Iterable[float], seeds: Iterable[int] = (0, 1, 2), epochs: int = 10,
              batch_size: int = 128, **compare_kwargs: Any) -> LRSelection:
    """Choose the learning rate of `spec` among `lrs` by the procedure of the module docstring.

    Returns an :class:`LRSelection`; warns :class:`GridEdgeWarning` when the best is at an edge. Other
    arguments go to :func:`optlib.train.compare` (results are stored like any other runs)."""
    lrs = sorted(float(lr) for lr in lrs)
    if len(lrs) < 3 or any(not (0 < lr < math.inf) for lr in lrs) or len(set(lrs)) != len(lrs):
        raise ValueError(f"lrs must hold at least 3 distinct positive learning rates, got {lrs!r}")
    runs = {f"lr = {lr:g}": with_lr(spec, lr) for lr in lrs}
    result = tr.compare(runs, seeds=seeds, epochs=epochs, batch_size=batch_size, data=validation_split(),
                        **compare_kwargs)
    scores = {}
    for lr, name in zip(lrs, runs):
        accs = [a if math.isfinite(a) else 0.1 for a in result.values(name)]  # diverged: chance level
        scores[lr] = sum(accs) / len(accs)
    best = max(lrs, key=lambda lr: scores[lr])
    at_edge = best in (lrs[0], lrs[-1])
    if at_edge:
        side = "smaller" if best == lrs[0] else "larger"
        warnings.warn(f"the best learning rate {best:g} is at the edge of the grid {lrs}: extend the grid to "
                      f"{side} values", GridEdgeWarning, stacklevel=2)
    return LRSelection(best, scores, at_edge, result)
