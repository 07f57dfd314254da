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
from collections.abc import Callable, Iterable
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

    def neighbour_drop(self) -> float:
        """Validation accuracy (fraction) the chosen rate gains over the better of its grid neighbours:
        how sharply the search preferred it (0: a neighbour ties)."""
        rates = sorted(self.scores)
        i = rates.index(self.lr)
        return self.scores[self.lr] - max(self.scores[r] for r in rates[max(i - 1, 0):i + 2] if r != self.lr)

    def table(self) -> tr.Table:
        body = [[f"{lr:g}", stats.mean_std(self.comparison.values(f"lr = {lr:g}")),
                 "<- chosen" if lr == self.lr else ""] for lr in self.scores]
        return tr.Table(["learning rate", "validation accuracy", ""], body,
                        note=f"final validation accuracy, {len(self.comparison.seeds)} seed(s)"
                             + ("; best at the grid's edge" if self.at_edge else ""))


def select_lr(spec: tuple, lrs: Iterable[float], seeds: Iterable[int] = (0, 1, 2), epochs: int = 10,
              batch_size: int = 128, extend: int = 0, **compare_kwargs: Any) -> LRSelection:
    """Choose the learning rate of `spec` among `lrs` by the procedure of the module docstring.

    extend: when the best is at an edge of the grid, add up to this many points beyond that edge (one at a
        time, at the grid's spacing there), so that the chosen rate ends inside the grid.
    Returns an :class:`LRSelection`; warns :class:`GridEdgeWarning` when the best is still at an edge.
    Other arguments go to :func:`optlib.train.compare` (results are stored like any other runs)."""
    lrs = sorted(float(lr) for lr in lrs)
    if len(lrs) < 3 or any(not (0 < lr < math.inf) for lr in lrs) or len(set(lrs)) != len(lrs):
        raise ValueError(f"lrs must hold at least 3 distinct positive learning rates, got {lrs!r}")
    if isinstance(extend, bool) or not isinstance(extend, int) or extend < 0:
        raise ValueError(f"extend must be a non-negative integer, got {extend!r}")
    seeds = tuple(seeds)
    while True:
        runs = {f"lr = {lr:g}": with_lr(spec, lr) for lr in lrs}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", tr.DivergenceWarning)  # a diverged rate is a result of the search
            result = tr.compare(runs, seeds=seeds, epochs=epochs, batch_size=batch_size, data=validation_split(),
                                **compare_kwargs)
        scores = {}
        for lr, name in zip(lrs, runs):
            accs = [a if math.isfinite(a) else 0.1 for a in result.values(name)]  # diverged: chance level
            scores[lr] = sum(accs) / len(accs)
        best = max(lrs, key=lambda lr: scores[lr])
        at_edge = best in (lrs[0], lrs[-1])
        if not at_edge or extend == 0:
            break
        extend -= 1
        new = lrs[0] ** 2 / lrs[1] if best == lrs[0] else lrs[-1] ** 2 / lrs[-2]
        lrs = sorted([*lrs, float(f"{new:.3g}")])
    if at_edge:
        side = "smaller" if best == lrs[0] else "larger"
        warnings.warn(f"the best learning rate {best:g} is at the edge of the grid {lrs}: extend the grid to "
                      f"{side} values", GridEdgeWarning, stacklevel=2)
    return LRSelection(best, scores, at_edge, result)


# ------------------------------------------------------------------------------ tuned comparisons

LR_GRID = log_grid(1e-4, 1.0)  # the chapters' one grid for every optimizer: 1e-4 .. 1, two points per decade
FINAL_SEEDS = (0, 1, 2, 3, 4)  # the reported runs: 5 seeds (the chapter standard asks 5 for effects below a point)
TUNING_SEEDS = (0,)  # the search: one seed per learning rate, on the validation split
QUICK_SEEDS = 2  # quick mode (CI) keeps the first two final seeds


@dataclasses.dataclass
class Tuned:
    """A comparison at fairly chosen learning rates (:func:`tuned`): `selections[name]` is the
    :class:`LRSelection` of each run and `comparison` the test-set runs at the chosen rates."""

    selections: dict[str, LRSelection]
    comparison: tr.Comparison
    specs: dict[str, tuple]

    def lr(self, name: str) -> float:
        """The learning rate chosen for `name`."""
        return self.selections[name].lr

    def table(self) -> tr.Table:
        """Per run: the learning rates tried, the chosen one and its validation accuracy."""
        body = []
        for name, sel in self.selections.items():
            tried = sorted(sel.scores)
            body.append([name, f"{tried[0]:g} .. {tried[-1]:g} ({len(tried)})", f"{sel.lr:g}",
                         f"{100 * sel.scores[sel.lr]:.2f} %", "yes" if sel.at_edge else "no"])
        seeds = len(next(iter(self.selections.values())).comparison.seeds)
        return tr.Table(["run", "learning rates tried", "chosen", "validation accuracy", "at the edge"], body,
                        note=f"chosen by optlib.tuning.select_lr on the validation split, {seeds} seed(s) per rate")


def schedule_steps(epochs: int, batch_size: int, n_images: int, n_train: int | None = None,
                   quick: bool | None = None) -> int:
    """Mini-batches a run of `epochs` takes on `n_images` training images (or the `n_train` subset, or quick
    mode's size and epoch cap): the length of a schedule stepped every mini-batch."""
    settings = tr.case_study_settings(quick)
    epochs = min(epochs, settings["max_epochs"] or epochs)
    n = min(n_train or settings["n_train"] or n_images, n_images)
    return epochs * math.ceil(n / batch_size)


def tuned(runs: dict[str, tuple], grid: Iterable[float] | dict[str, Iterable[float]],
          seeds: Iterable[int] = FINAL_SEEDS, epochs: int = 10, batch_size: int = 128,
          tuning_seeds: Iterable[int] = TUNING_SEEDS, extend: int = 3,
          schedule: Callable[[int], tuple] | None = None, **compare_kwargs: Any) -> Tuned:
    """Compare `runs` (``{name: spec}``), each at its own learning rate chosen by :func:`select_lr` on the
    validation split from `grid` (one grid for all, or ``{name: grid}``), then trained on all 60,000
    training images with `seeds` and evaluated on the test set. The learning rate inside the specs is
    replaced. Other arguments (model, ...) go to every run, in the search and in the final runs.

    schedule: ``total_steps -> scheduler spec``, a learning-rate schedule stepped every mini-batch and sized
        to the run: the search trains on 50,000 images and the final runs on 60,000, so the two get
        schedules of their own lengths (e.g. ``lambda n: (FunctionLR, dict(fn=cosine, T_max=n))``).
    Quick mode (``OPTBOOK_QUICK=1``) keeps the first :data:`QUICK_SEEDS` seeds."""
    if not isinstance(runs, dict) or not runs:
        raise ValueError(f"runs must be a non-empty dict {{name: spec}}, got {runs!r}")
    if schedule is not None and (not callable(schedule) or isinstance(schedule, (type, tuple))):
        raise ValueError(f"schedule must be a function total_steps -> scheduler spec, got {schedule!r}")
    grids = {name: list(grid[name] if isinstance(grid, dict) else grid) for name in runs}
    seeds = tuple(seeds)
    quick = compare_kwargs.get("quick")
    if tr.case_study_settings(quick)["quick"]:
        seeds = seeds[:QUICK_SEEDS]
    search, final = dict(compare_kwargs), dict(compare_kwargs)
    if schedule is not None:
        n_train = compare_kwargs.get("n_train")
        fit_images = 60_000 - N_VALIDATION
        search.update(scheduler=schedule(schedule_steps(epochs, batch_size, fit_images, n_train, quick)),
                      scheduler_step="batch")
        final.update(scheduler=schedule(schedule_steps(epochs, batch_size, 60_000, n_train, quick)),
                     scheduler_step="batch")
    selections = {name: select_lr(spec, grids[name], seeds=tuning_seeds, epochs=epochs, batch_size=batch_size,
                                  extend=extend, **search) for name, spec in runs.items()}
    specs = {name: with_lr(spec, selections[name].lr) for name, spec in runs.items()}
    comparison = tr.compare(specs, seeds=seeds, epochs=epochs, batch_size=batch_size, **final)
    return Tuned(selections, comparison, specs)
