"""The trajectory explorer: one or several optimizers on a landscape, with sliders, noise and a start point.

    >>> explore(lambda lr, momentum: optlib.SGD(lr=lr, momentum=momentum),
    ...         [Quadratic(1.0), Rosenbrock()],
    ...         {"lr": [0.01, 0.03, 0.1, 0.3], "momentum": [0.0, 0.5, 0.9]}, steps=50)
    >>> explore({"GD": lambda lr: optlib.SGD(lr=lr), "Adam": lambda lr: optlib.Adam(lr=lr)},
    ...         Rosenbrock(), {"lr": [0.01, 0.1]}, noise=[0.0, 1.0, 5.0], click=7)

Compare mode: a dict name -> factory overlays the optimizers, each in its colour; a slider goes to the
factories whose parameters name it (shared when several do, separate when named apart, e.g. "lr_gd").
Every run is computed up front through :func:`optlib.run` (so "diverged" means one thing: the iterate
stopped being finite) and described as data (see :mod:`.figure`).
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike

from .. import objectives as _objectives
from ..numpy_optim import run
from . import axes
from .figure import Figure

# One run: the path (steps + 1, dim), f along it, and the step where it diverged (or None).
Run = tuple[np.ndarray, np.ndarray, int | None]

MAX_RUNS = 2000   # optimizer runs per figure
MAX_STEPS = 200   # steps per run
COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]
TRAJ_W, LOSS_W = 400, 300  # plot areas of the two panels, in SVG units


# ----------------------------------------------------------------------------------------------
# One run
# ----------------------------------------------------------------------------------------------

class _Fresh:
    """An optimizer without ``reset()`` (a chapter's own class), made fresh for each run anyway."""

    def __init__(self, opt):
        self.opt = opt

    def reset(self):
        pass

    def step(self, x, g):
        return self.opt.step(x, g)


class _Guarded:
    """An objective whose gradient overflow (e.g. math.exp) reads as a non-finite gradient, so that
    :func:`optlib.run` ends the run there like any other divergence."""

    def __init__(self, objective):
        self.objective = objective

    def grad(self, x):
        try:
            with np.errstate(all="ignore"):
                return np.asarray(self.objective.grad(x), dtype=float)
        except (ArithmeticError, ValueError):
            return np.full(np.shape(x), np.nan)


def value(objective: Callable[[Any], Any], x: ArrayLike) -> float:
    """f(x) as a float; NaN where it cannot be computed."""
    try:
        with np.errstate(all="ignore"):
            v = np.asarray(objective(x), dtype=float)
        return float(v.reshape(-1)[0]) if v.size else math.nan
    except (ArithmeticError, ValueError):
        return math.nan


def trajectory(opt: Any, objective: Any, x0: ArrayLike, steps: int) -> Run:
    """Take `steps` steps of a fresh `opt` on `objective` from `x0` through :func:`optlib.run`.

    Returns ``(path, losses, diverged_at)``: `path` has shape (steps + 1, dim); `losses[t] = f(path[t])`;
    `diverged_at` is the first step whose iterate is not finite (the rows from there on are NaN), or None.
    """
    if not callable(getattr(opt, "reset", None)):
        opt = _Fresh(opt)
    path = cast(np.ndarray, run(opt, _Guarded(objective), x0, steps))  # nothing recorded: the path alone
    bad = ~np.all(np.isfinite(path), axis=1)
    diverged = int(np.argmax(bad)) if bad.any() else None
    if diverged is not None:
        path[diverged:] = np.nan
    losses = np.array([value(objective, p) if np.all(np.isfinite(p)) else math.nan for p in path])
    return path, losses, diverged


# ----------------------------------------------------------------------------------------------
# Arguments
# ----------------------------------------------------------------------------------------------

def _check_factory(name, make):
    if isinstance(make, type):
        torch_class = any(c.__module__.split(".")[0] == "torch" for c in make.__mro__)
        if torch_class or make.__module__ == "optlib.optim":
            raise TypeError(f"explore runs numpy optimizers on 2-D toy problems; {make.__module__}.{make.__name__} "
                            f"is a torch optimizer: pass a callable such as lambda lr: optlib.{make.__name__}(lr=lr)")
    if not callable(make):
        raise TypeError(f"explore needs a callable that returns an optimizer (or a dict name -> callable); "
                        f"{name} is {make!r}")


def _accepts(make):
    """The slider names a factory takes, or None for 'all of them' (**kwargs, or no signature)."""
    try:
        params = inspect.signature(make).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _check_objective(f):
    missing = [a for a in ("grad", "domain", "dim") if not hasattr(f, a)]
    if not callable(f) or missing:
        raise TypeError(f"objective {f!r} lacks {', '.join(missing) or '__call__'}: pass an optlib.objectives "
                        "object (value, grad(x), dim, domain), not a plain function")
    if f.dim not in (1, 2):
        raise ValueError(f"explore draws 1-D and 2-D objectives; {getattr(f, 'name', f)!r} has dim {f.dim!r}")


def _point(x, what):
    p = np.atleast_1d(np.asarray(x, dtype=float))
    if p.ndim != 1 or not np.all(np.isfinite(p)):
        raise ValueError(f"{what} must be a finite point, got {x!r}")
    return p


def _label(v):
    if isinstance(v, (tuple, list, np.ndarray)):
        return "(" + ", ".join(_label(u) for u in v) + ")"
    if isinstance(v, (bool, np.bool_)):
        return "on" if v else "off"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):g}"
    return str(v)


def control_kind(values: Sequence[Any]) -> str:
    """Two-valued options are toggles; categories (strings) are dropdowns; numbers and points are sliders."""
    if len(values) == 2 and all(isinstance(v, (bool, np.bool_)) for v in values):
        return "toggle"
    if all(isinstance(v, str) for v in values):
        return "buttons" if len(values) == 2 else "dropdown"
    return "slider"


# ----------------------------------------------------------------------------------------------
# The explorer
# ----------------------------------------------------------------------------------------------

def explore(make_optimizer: Callable[..., Any] | Mapping[str, Callable[..., Any]], objectives: Any,
            sliders: Mapping[str, Sequence[Any]], x0: ArrayLike | Callable[[Any], ArrayLike] | None = None,
            steps: int = 50, title: str | None = None, initial: Mapping[str, Any] | None = None,
            noise: float | Sequence[float] | None = None, seed: int = 0, click: int | None = None) -> Explorer:
    """An interactive trajectory figure, live in JupyterLab and as a player on the static site.

    make_optimizer: callable(**slider values) -> a fresh numpy optimizer (``.step(x, grad)``), or a dict
        name -> such callables (compare mode: overlaid, each gets the sliders its parameters name).
    objectives: one objective or a list (a dropdown): ``__call__``, ``grad``, ``name``, ``formula``,
        ``domain``, ``dim`` (as in :mod:`optlib.objectives`).
    sliders: dict name -> sequence of values. Numbers become sliders, two booleans a checkbox, strings
        buttons or a dropdown. A slider named "x0" sets the start point instead.
    x0: the start for every objective, or callable(objective) -> point; default ``objective.x0``.
    steps: steps per run (at most MAX_STEPS); title: above the figure.
    initial: dict slider name -> the value it starts at (default: the middle of its grid).
    noise: gradient-noise scales for a "noise" slider (Gaussian, :class:`optlib.objectives.Noisy`,
        seeded with `seed`: every optimizer sees the same noise).
    click: n to set the start by clicking on the landscape: starts precomputed on an n x n grid over the
        domain (n points in 1-D); the player snaps a click to the nearest, the live figure runs from
        the exact point.
    """
    return Explorer(make_optimizer, objectives, sliders, x0=x0, steps=steps, title=title, initial=initial,
                    noise=noise, seed=seed, click=click)


class Explorer(Figure):
    """Every run precomputed; the frames describe what both renderers draw (see :mod:`.figure`)."""

    def __init__(self, make_optimizer: Callable[..., Any] | Mapping[str, Callable[..., Any]], objectives: Any,
                 sliders: Mapping[str, Sequence[Any]], x0: ArrayLike | Callable[[Any], ArrayLike] | None = None,
                 steps: int = 50, title: str | None = None, initial: Mapping[str, Any] | None = None,
                 noise: float | Sequence[float] | None = None, seed: int = 0, click: int | None = None) -> None:
        if isinstance(make_optimizer, dict):
            if not make_optimizer:
                raise ValueError("explore needs at least one optimizer, got an empty dict")
            self.factories = {str(k): v for k, v in make_optimizer.items()}
        else:
            self.factories = {"": make_optimizer}
        for name, make in self.factories.items():
            _check_factory(repr(name) if name else "make_optimizer", make)
        if not isinstance(objectives, (list, tuple)):
            objectives = [objectives]
        if not objectives:
            raise ValueError("explore needs at least one objective")
        for f in objectives:
            _check_objective(f)
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= MAX_STEPS:
            raise ValueError(f"steps must be an integer in 1..{MAX_STEPS}, got {steps!r}")
        if not isinstance(sliders, dict) or not sliders:
            raise ValueError(f"explore needs a dict of sliders (name -> list of values), got {sliders!r}")
        self.sliders = {}
        for k, v in sliders.items():
            if isinstance(v, (str, bytes)) or not hasattr(v, "__len__"):
                raise TypeError(f"slider {k!r} needs a sequence of values, got {v!r}")
            if len(v) == 0:
                raise ValueError(f"slider {k!r} has no values")
            self.sliders[str(k)] = list(v)
        if "x0" in self.sliders:
            self.sliders["x0"] = [tuple(_point(v, "each value of slider 'x0'")) for v in self.sliders["x0"]]
            if click:
                raise ValueError("click=... and an 'x0' slider both set the start point: use one")
        if noise is not None:
            noise = list(noise) if isinstance(noise, (list, tuple, np.ndarray)) else [noise]
            for s in noise:
                if not (isinstance(s, (int, float, np.integer, np.floating)) and 0 <= s < math.inf):
                    raise ValueError(f"noise scales must be finite numbers >= 0, got {s!r}")
            if "noise" in self.sliders:
                raise ValueError("noise=... and a slider named 'noise': rename the slider")
        self.noise = noise
        if click is not None and click is not False and (
                isinstance(click, bool) or not isinstance(click, (int, np.integer)) or not 2 <= click <= 15):
            raise ValueError(f"click must be a grid size in 2..15, got {click!r}")
        self.click = int(click) if click else 0
        if self.click and len({f.dim for f in objectives}) > 1:
            raise ValueError("click=... needs objectives of one dimension (all 1-D or all 2-D)")
        self.objectives = list(objectives)
        self.steps, self.title, self.seed = int(steps), title or "", seed
        if x0 is not None and not callable(x0):
            _point(x0, "x0")
        self._x0 = x0
        # which sliders each factory takes
        self.accepts = {}
        for name, make in self.factories.items():
            takes = _accepts(make)
            self.accepts[name] = [s for s in self.sliders if s != "x0" and (takes is None or s in takes)]
        if len(self.factories) > 1:
            unused = [s for s in self.sliders if s != "x0" and not any(s in a for a in self.accepts.values())]
            if unused:
                raise ValueError(f"slider(s) {unused} are taken by none of the optimizers {list(self.factories)}")
        self.shape = tuple(len(v) for v in self.sliders.values())
        self.initial = tuple((k - 1) // 2 for k in self.shape)
        if initial:
            unknown = sorted(set(initial) - set(self.sliders))
            if unknown:
                raise ValueError(f"initial names no slider: {unknown}; the sliders are {list(self.sliders)}")
            self.initial = self.frame_index(**initial)
        self.starts = [self._starts(f) for f in self.objectives]
        per_combo = sum(math.prod(len(v) for k, v in self.sliders.items() if k in self.accepts[name] or k == "x0")
                        for name in self.factories)  # runs that differ (a factory ignores others' sliders)
        n = len(self.objectives) * max(len(s) for s in self.starts) * per_combo * len(self.noise or [0])
        if n > MAX_RUNS:
            raise ValueError(f"{n} different runs (objectives x starts x slider combinations x noise, per optimizer); "
                             f"at most {MAX_RUNS}: use coarser grids")
        self._runs: dict[tuple, Run] = {}
        self._compute()

    # -- runs ------------------------------------------------------------------------------------
    def start(self, objective: Any) -> np.ndarray:
        """The default start on `objective`."""
        if callable(self._x0):
            return _point(self._x0(objective), "x0(objective)")
        if self._x0 is not None:
            return _point(self._x0, "x0")
        if getattr(objective, "x0", None) is not None:
            return _point(objective.x0, f"{getattr(objective, 'name', 'objective')}.x0")
        box = np.array(objective.domain, dtype=float).reshape(-1, 2)
        return box[:, 0] + 0.1 * (box[:, 1] - box[:, 0])

    def _starts(self, objective):
        if not self.click:
            return [self.start(objective)]
        box = np.array(objective.domain, dtype=float).reshape(-1, 2)
        axes_ = [np.linspace(lo + 0.05 * (hi - lo), hi - 0.05 * (hi - lo), self.click) for lo, hi in box]
        grid = [np.array(p) for p in itertools.product(*axes_)]
        # The grid point nearest to the default start becomes that start, so the first picture (live and
        # static) starts where the chapter asked, not at a grid point that may hide the lesson.
        x0 = np.asarray(self.start(objective), dtype=float)
        spans = np.ptp(np.array(grid), axis=0).clip(1e-12)
        grid[int(np.argmin([np.sum(((p - x0) / spans) ** 2) for p in grid]))] = x0
        return grid

    def run(self, oi: int, start: ArrayLike, values: Mapping[str, Any], name: str, scale: float) -> Run:
        """One run: optimizer `name` with slider `values` (a dict) on objective `oi` from `start`."""
        objective = self.objectives[oi]
        if scale:
            objective = _objectives.Noisy(objective, scale, seed=self.seed)
        kwargs = {k: values[k] for k in self.accepts[name]}
        return trajectory(self.factories[name](**kwargs), objective, start, self.steps)

    def _values(self, idx):
        return {name: vals[i] for (name, vals), i in zip(self.sliders.items(), idx)}

    def _key(self, oi, si, idx, ni, name):
        relevant = tuple(i for s, i in zip(self.sliders, idx) if s in self.accepts[name] or s == "x0")
        return oi, si, relevant, ni, name

    def _compute(self):
        for oi, starts in enumerate(self.starts):
            for si, start in enumerate(starts):
                for idx in itertools.product(*(range(k) for k in self.shape)):
                    values = self._values(idx)
                    point = np.array(values.pop("x0")) if "x0" in values else start
                    for ni, scale in enumerate(self.noise or [0.0]):
                        for name in self.factories:
                            key = self._key(oi, si, idx, ni, name)
                            if key not in self._runs:
                                self._runs[key] = self.run(oi, point, values, name, scale)

    def runs(self, objective: int = 0, start: int = 0, noise: int = 0, **values: Any) -> dict[str, Run]:
        """``{optimizer name: (path, losses, diverged_at)}`` at slider `values` (default: initial positions)."""
        idx = self.frame_index(**values)
        return {name: self._runs[self._key(objective, start, idx, noise, name)] for name in self.factories}

    def frame(self, objective: int = 0, **values: Any) -> Run:
        """The first optimizer's ``(path, losses, diverged_at)`` at slider `values`."""
        return next(iter(self.runs(objective, **values).values()))

    def frame_index(self, **values: Any) -> tuple[int, ...]:
        """The slider index tuple of slider values (default: the initial positions)."""
        idx = list(self.initial)
        for i, name in enumerate(self.sliders):
            if name in values:
                grid = self.sliders[name]
                want = values[name]
                if name == "x0":
                    want = tuple(_point(want, "x0"))
                matches = [j for j, v in enumerate(grid) if np.array_equal(np.asarray(v), np.asarray(want))]
                if not matches:
                    raise ValueError(f"{values[name]!r} is not on the grid of slider {name!r}: {grid}")
                idx[i] = matches[0]
        unknown = sorted(set(values) - set(self.sliders))
        if unknown:
            raise ValueError(f"no slider named {unknown}; the sliders are {list(self.sliders)}")
        return tuple(idx)

    def __repr__(self) -> str:
        names = ", ".join(f"{k}: {len(v)}" for k, v in self.sliders.items())
        opts = f"; optimizers {list(self.factories)}" if len(self.factories) > 1 else ""
        return (f"<optlib.widgets.Explorer {self.title} ({len(self.objectives)} objective(s); sliders {names}{opts}; "
                f"{len(self._runs)} precomputed runs of {self.steps} steps)>")

    # -- decisions: the view of each objective ------------------------------------------------
    def _view(self, oi):
        """The trajectory panel's box: the starts, the minima and every in-domain iterate, padded."""
        f = self.objectives[oi]
        box = np.array(f.domain, dtype=float).reshape(-1, 2)
        if self.click:
            return box
        if "x0" in self.sliders:  # the slider's starts replace the default one
            pts = [np.asarray(v) for v in self.sliders["x0"]]
        else:
            pts = [np.asarray(s) for s in self.starts[oi]]
        minimum = getattr(f, "minimum", None)
        if minimum is not None:
            pts += [m for m in np.asarray(minimum, dtype=float).reshape(-1, f.dim)]
        for key, (path, _, _) in self._runs.items():
            # runs that stay in the domain set the frame; one that leaves it is shown leaving
            if key[0] == oi and not self._left(oi, path):
                pts += list(path)
        pts = np.array([p for p in pts if np.all((p >= box[:, 0]) & (p <= box[:, 1]))]).reshape(-1, f.dim)
        return np.array([axes.fitted(pts[:, d], pad=0.08, floor=0.1 * (box[d, 1] - box[d, 0]), limits=box[d])
                         for d in range(f.dim)])

    def _curve(self, oi, view):
        f = self.objectives[oi]
        xs = np.linspace(view[0, 0], view[0, 1], 241)
        return xs, np.array([value(f, np.array([x])) for x in xs])

    def _scenes(self, oi, view):
        """The trajectory scene and the loss scene of objective `oi`, and how loss values map to the axis."""
        f = self.objectives[oi]
        name = str(getattr(f, "name", type(f).__name__))
        if f.dim == 1:
            xs, fs = self._curve(oi, view)
            finite = fs[np.isfinite(fs)]
            lo, hi = (np.percentile(finite, 1), finite.max()) if finite.size else (-1.0, 1.0)
            yr = axes.fitted([lo, hi], pad=0.05)
            curve = {"c": "#555555", "w": 1.5, "p": _flat(np.column_stack([xs, fs]))}
            h = 260
        else:
            yr = list(view[1])
            curve = None
            h = int(np.clip(round(TRAJ_W * (view[1, 1] - view[1, 0]) / (view[0, 1] - view[0, 0])), 220, 360))
        traj = {"w": TRAJ_W, "h": h, "xr": list(map(float, view[0])), "yr": list(map(float, yr)),
                "xt": axes.linear_ticks(*view[0]), "yt": axes.linear_ticks(*yr), "xl": "x",
                "yl": "f(x)" if f.dim == 1 else "y", "title": name, "img": None, "curve": None}
        if f.dim == 2:
            traj["img"] = _contour_png(f, view, TRAJ_W, h)
        losses = np.concatenate([r[1] for k, r in self._runs.items() if k[0] == oi])
        log = axes.use_log(losses)
        kept = [r[1][np.isfinite(r[1])] for k, r in self._runs.items() if k[0] == oi]
        inside = [r[1] for k, r in self._runs.items() if k[0] == oi and not self._left(oi, r[0])]
        pool = np.concatenate(inside or kept)
        pool = pool[np.isfinite(pool)]
        if log:
            positive = pool[pool > 0]
            top = positive.max() if positive.size else 1.0
            floor = max(positive.min() if positive.size else top * 1e-12, top * 1e-12)
            yr_l = axes.fitted(axes.to_log(pool, floor), pad=0.05, floor=1.0)
            loss = {"yt": axes.log_ticks(*yr_l), "yl": "f(x_t), log scale"}
        else:
            floor = None
            yr_l = axes.fitted(pool, pad=0.05)
            loss = {"yt": axes.linear_ticks(*yr_l), "yl": "f(x_t)"}
        loss.update({"w": LOSS_W, "h": h, "xr": [0.0, float(self.steps)], "yr": list(map(float, yr_l)),
                     "xt": axes.linear_ticks(0, self.steps), "xl": "step t", "title": "loss", "img": None,
                     "curve": None})
        return traj, loss, curve, floor

    def _left(self, oi, path):
        box = np.array(self.objectives[oi].domain, dtype=float).reshape(-1, 2)
        with np.errstate(invalid="ignore"):
            out = np.any((path < box[:, 0]) | (path > box[:, 1]), axis=1) | ~np.all(np.isfinite(path), axis=1)
        return bool(out.any())

    def _status(self, oi, name, run_):
        path, losses, diverged = run_
        prefix = f"{name}: " if len(self.factories) > 1 else ""
        if diverged is not None:
            return prefix + f"diverged at step {diverged} (the iterate overflowed)", True
        box = self._views[oi]  # the box drawn
        outside = np.any((path < box[:, 0]) | (path > box[:, 1]), axis=1)
        if outside.any():
            return prefix + f"left the plot at step {int(np.argmax(outside))}", True
        at = ", ".join(f"{v:.4g}" for v in path[-1])
        return prefix + f"after {self.steps} steps: f = {losses[-1]:.4g} at x = ({at})", False

    # -- the description ---------------------------------------------------------------------------
    def build(self) -> dict[str, Any]:
        controls = []
        if len(self.objectives) > 1:
            controls.append({"name": "function", "kind": "dropdown", "init": 0,
                             "labels": [str(getattr(f, "name", i)) for i, f in enumerate(self.objectives)]})
        nstarts = max(len(s) for s in self.starts)
        if self.click:
            first = np.array(self.starts[0])
            near = int(np.argmin(np.sum(((first - self.start(self.objectives[0])) /
                                         np.ptp(first, axis=0).clip(1e-12)) ** 2, axis=1)))
            controls.append({"name": "start", "kind": "hidden", "init": near,
                             "labels": [_label(tuple(round(float(v), 3) for v in p)) for p in self.starts[0]]})
        for (name, vals), i in zip(self.sliders.items(), self.initial):
            controls.append({"name": name, "kind": control_kind(vals), "labels": [_label(v) for v in vals],
                             "init": i})
        if self.noise:
            controls.append({"name": "noise", "kind": "slider", "labels": [f"{s:g}" for s in self.noise],
                             "init": 0})
        scenes, lines, line_ids = [], [], {}
        self._scene_info, self._scene_ranges, self._views = [], [], []
        for oi in range(len(self.objectives)):
            view = self._view(oi)
            self._views.append(view)
            traj, loss, curve, floor = self._scenes(oi, view)
            if curve is not None:
                lines.append(curve)
                traj["curve"] = len(lines) - 1
            # the legend, the same in every frame of the objective, is stored once with its scene
            minimum = getattr(self.objectives[oi], "minimum", None)
            traj["lg"] = [[name or "trajectory", COLORS[i % len(COLORS)], "line"]
                          for i, name in enumerate(self.factories)]
            traj["lg"] += [["start", "#000000", "start"]] + ([["minimum", "#000000", "min"]] if minimum is not None else [])
            scenes += [traj, loss]
            self._scene_info.append((len(scenes) - 2, floor))
            self._scene_ranges.append(((traj["xr"], traj["yr"]), (loss["xr"], loss["yr"])))
        self._colors = {name: COLORS[i % len(COLORS)] for i, name in enumerate(self.factories)}
        frames = []
        for oi in range(len(self.objectives)):
            for si in range(nstarts):
                for idx in itertools.product(*(range(k) for k in self.shape)):
                    for ni in range(len(self.noise or [0])):
                        ids = []
                        for name in self.factories:
                            key = self._key(oi, si, idx, ni, name)
                            if key not in line_ids:
                                line_ids[key] = len(lines)
                                lines += self._lines(oi, name, self._runs[key])
                            ids.append(line_ids[key])
                        runs_ = [self._runs[self._key(oi, si, idx, ni, n)] for n in self.factories]
                        frames.append(self._frame(oi, runs_, ids))
        click = None
        if self.click:
            click = {"control": 1 if len(self.objectives) > 1 else 0, "panel": 0,
                     "objective": 0 if len(self.objectives) > 1 else None,
                     "starts": [[axes.rounded(v, 6) for p in s for v in p] for s in self.starts],
                     "scenes": [info[0] for info in self._scene_info]}  # each objective's landscape scene
        return {"kind": "explore", "title": self.title, "controls": controls, "scenes": scenes, "lines": lines,
                "frames": frames, "click": click,
                "formulas": [[str(getattr(f, "name", "")), str(getattr(f, "formula", ""))] for f in self.objectives],
                "formula_control": 0 if len(self.objectives) > 1 else None}

    def _lines(self, oi, name, run_):
        """The trajectory line and the loss line of one run."""
        path, losses, _ = run_
        f = self.objectives[oi]
        keep = np.all(np.isfinite(path), axis=1)
        p, fl = path[keep], losses[keep]
        xy = np.column_stack([p[:, 0], fl]) if f.dim == 1 else p[:, :2]
        floor = self._scene_info[oi][1]
        ly = axes.to_log(fl, floor) if floor is not None else fl
        # stop a line one point after it leaves the domain: the rest is off the picture
        box = self._views[oi]
        margin = 0.5 * (box[:, 1] - box[:, 0])
        outside = np.any((p < box[:, 0] - margin) | (p > box[:, 1] + margin), axis=1)
        if outside.any():
            n = int(np.argmax(outside)) + 1
            xy, ly = xy[:n], ly[:n]
        traj, loss = self._scene_ranges[oi]
        color = self._colors[name]
        status, bad = self._status(oi, name, run_)  # stored with the run's line, once
        return [{"c": color, "w": 1.4, "m": 2.2, "s": status, "b": int(bad), **axes.encode(xy, *traj)},
                {"c": color, "w": 1.5, **axes.encode(np.column_stack([np.arange(len(ly)), ly]), *loss, implicit_x=True)}]

    def _frame(self, oi, runs_, ids):
        f = self.objectives[oi]
        scene = self._scene_info[oi][0]
        start = runs_[0][0][0]
        marks = [[axes.rounded(start[0], 6), axes.rounded(value(f, start) if f.dim == 1 else start[1], 6), "start"]]
        minimum = getattr(f, "minimum", None)
        if minimum is not None:
            for m in np.asarray(minimum, dtype=float).reshape(-1, f.dim):
                marks.append([axes.rounded(m[0], 6), axes.rounded(value(f, m) if f.dim == 1 else m[1], 6), "min"])
        # the status lines are those of the runs' lines ("s", "b"): see statuses()
        return {"pan": [[scene, ids, marks], [scene + 1, [i + 1 for i in ids], []]]}

    def live_frame(self, positions: Sequence[int], point: ArrayLike) -> tuple[dict[str, Any], list]:
        """The frame at control `positions`, started at `point` (the live figure's exact click)."""
        data = self.data()
        ctl = {c["name"]: i for c, i in zip(data["controls"], positions)}
        oi = ctl.get("function", 0)
        idx = tuple(ctl[name] for name in self.sliders)
        ni = ctl.get("noise", 0)
        values = self._values(idx)
        values.pop("x0", None)
        scale = (self.noise or [0.0])[ni]
        runs_ = [self.run(oi, _point(point, "start"), values, name, scale) for name in self.factories]
        extra: list = []
        ids: list[int] = []
        for name, r in zip(self.factories, runs_):
            ids.append(len(data["lines"]) + len(extra))
            extra += self._lines(oi, name, r)
        return self._frame(oi, runs_, ids), extra


def _flat(xy):
    return [axes.rounded(v) for v in np.asarray(xy, dtype=float).reshape(-1)]


def _contour_png(objective, view, w, h):
    """The landscape over `view` as filled contours, exactly the plot area, as a JPEG data URI."""
    import base64
    import io

    from matplotlib.figure import Figure as MplFigure
    xs = np.linspace(view[0, 0], view[0, 1], 121)
    ys = np.linspace(view[1, 0], view[1, 1], 121)
    X, Y = np.meshgrid(xs, ys)
    Z = np.array([[value(objective, np.array([x, y])) for x, y in zip(rx, ry)] for rx, ry in zip(X, Y)])
    finite = Z[np.isfinite(Z)]
    levels = np.unique(np.quantile(finite, np.linspace(0, 1, 18) ** 1.6))
    if levels.size < 3:
        levels = np.linspace(finite.min(), finite.max() + 1e-12, 5)
    fig = MplFigure(figsize=(w / 100, h / 100), dpi=100)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_axis_off()
    ax.contourf(X, Y, Z, levels=levels, cmap="viridis", alpha=0.85, extend="both")
    ax.contour(X, Y, Z, levels=levels, colors="white", linewidths=0.5, alpha=0.6)
    ax.set_xlim(*view[0])
    ax.set_ylim(*view[1])
    buf = io.BytesIO()
    fig.savefig(buf, format="jpeg", dpi=100, pil_kwargs={"quality": 85})  # a fifth of the PNG's size
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
