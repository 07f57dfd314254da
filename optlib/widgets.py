"""The interactive figure at the end of every chapter: sliders that redraw an optimizer's trajectory.

    >>> from optlib.widgets import explore
    >>> explore(lambda lr, momentum: optlib.SGD(lr=lr, momentum=momentum),
    ...         [Quadratic(1.0), Rosenbrock()],
    ...         {"lr": [0.01, 0.03, 0.1, 0.3], "momentum": [0.0, 0.5, 0.9]}, steps=50)

Every combination of the slider grids is run once, up front (a few hundred short runs: well under a
second). The result displays in two ways from one output:

* in JupyterLab (a kernel), as a live ipywidgets figure: sliders, a dropdown for the objective, the
  trajectory and the loss curve redrawn at once;
* on the static site (no kernel), as a self-contained HTML + JavaScript player with the same
  controls, playing the precomputed trajectories (plain JS and inline SVG; no external library).

Both come in one mimebundle (``application/vnd.jupyter.widget-view+json`` and ``text/html``);
the book's ``_config.yml`` makes the html builders prefer ``text/html``, JupyterLab prefers the
widget view.

Divergence is a result, not an error: it raises nothing and warns nothing; the trajectory leaves the
box and the figure says "diverged at step k". A run counts as diverged when the iterate stops being
finite or runs more than ``RUNAWAY`` box-sizes away from the plotted domain; it stops there (the
remaining rows are NaN, as in ``optlib.run``).
"""

import base64
import hashlib
import html
import io
import itertools
import json
import math

import numpy as np

__all__ = ["explore", "Explorer", "trajectory", "MAX_FRAMES", "MAX_STEPS"]

MAX_FRAMES = 400   # runs per figure (objectives x slider combinations): keeps a page light
MAX_STEPS = 200    # steps per run
RUNAWAY = 1e3      # a run further than this many box-sizes from the domain has diverged

_WIDTH, _LOSS_WIDTH = 400, 300  # plot areas, in pixels
_counter = itertools.count(1)


# ----------------------------------------------------------------------------------------------
# Computing the trajectories (depends only on the contract: opt.step(x, g), objective(x), .grad(x))
# ----------------------------------------------------------------------------------------------

def _value(objective, x):
    """f(x) as a float; NaN where it cannot be computed (overflow)."""
    try:
        with np.errstate(all="ignore"):
            v = np.asarray(objective(x), dtype=float)
        return float(v.reshape(-1)[0]) if v.size else math.nan
    except (ArithmeticError, ValueError):
        return math.nan


def _box(objective):
    return np.array(objective.domain, dtype=float).reshape(-1, 2)


def trajectory(opt, objective, x0, steps):
    """Take `steps` steps of `opt` (a fresh optimizer) on `objective` from `x0`.

    Returns ``(path, losses, diverged_at)``: `path` has shape (steps + 1, dim), row 0 is `x0`;
    `losses[t] = f(path[t])`; `diverged_at` is the step at which the run diverged (the iterate is not
    finite, or is more than RUNAWAY box-sizes away from the domain), or None. Rows after a divergence
    are NaN. No warning is issued and no overflow error escapes.
    """
    box = _box(objective)
    center, size = box.mean(axis=1), box[:, 1] - box[:, 0]
    x = np.atleast_1d(np.array(x0, dtype=float))
    path = np.full((steps + 1, x.size), np.nan)
    path[0] = x
    diverged = None
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            try:
                g = np.atleast_1d(np.asarray(objective.grad(x), dtype=float))
                x = np.atleast_1d(np.asarray(opt.step(x, g), dtype=float))
            except ArithmeticError:  # e.g. math.exp overflow inside an objective
                diverged = t
                break
            finite = bool(np.all(np.isfinite(x)))
            if finite:
                path[t] = x
            if not finite or np.any(np.abs(x - center) > RUNAWAY * size):
                diverged = t
                break
    losses = np.array([_value(objective, p) if np.all(np.isfinite(p)) else math.nan for p in path])
    return path, losses, diverged


# ----------------------------------------------------------------------------------------------
# The display object
# ----------------------------------------------------------------------------------------------

def _label(v):
    if isinstance(v, (tuple, list, np.ndarray)):
        return "(" + ", ".join(_label(u) for u in v) + ")"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):g}"
    return str(v)


def _round(v, digits=5):
    """JSON-ready number: `digits` significant digits, None for NaN."""
    v = float(v)
    return float(f"{v:.{digits}g}") if math.isfinite(v) else None


def explore(make_optimizer, objectives, sliders, x0=None, steps=50, title=None, initial=None):
    """An interactive trajectory figure (see the module docstring).

    make_optimizer: callable(**slider_values) -> a fresh optimizer with ``.step(x, grad) -> x_next``.
    objectives: one objective or a list (a dropdown); each has ``__call__(x)``, ``grad(x)``, ``name``,
        ``formula`` (LaTeX), ``domain`` (((xmin, xmax),) or ((xmin, xmax), (ymin, ymax))), ``dim``.
    sliders: dict name -> sequence of values, e.g. ``{"lr": [0.01, 0.1, 0.3]}``. A slider named
        ``"x0"`` sets the starting point instead of being passed to `make_optimizer`.
    x0: the starting point for every objective, or a callable(objective) -> point; default
        ``objective.x0`` if it has one, else near the lower-left corner of its domain.
    steps: steps per run; title: shown above the figure.
    initial: dict slider name -> the value it starts at (must be on its grid); other sliders start in
        the middle of their grids.
    """
    return Explorer(make_optimizer, objectives, sliders, x0=x0, steps=steps, title=title, initial=initial)


class Explorer:
    """Precomputed trajectories for every slider combination, shown live (kernel) or as an HTML player."""

    def __init__(self, make_optimizer, objectives, sliders, x0=None, steps=50, title=None, initial=None):
        if not isinstance(objectives, (list, tuple)):
            objectives = [objectives]
        if not objectives:
            raise ValueError("explore needs at least one objective")
        if not isinstance(steps, (int, np.integer)) or not 1 <= steps <= MAX_STEPS:
            raise ValueError(f"steps must be an integer in 1..{MAX_STEPS}, got {steps!r}")
        if not sliders:
            raise ValueError("explore needs at least one slider")
        self.sliders = {str(k): list(v) for k, v in sliders.items()}
        for k, v in self.sliders.items():
            if not v:
                raise ValueError(f"slider {k!r} has no values")
        self.objectives = list(objectives)
        self.make_optimizer, self.steps, self.title = make_optimizer, int(steps), title
        self.shape = tuple(len(v) for v in self.sliders.values())
        n = len(self.objectives) * math.prod(self.shape)
        if n > MAX_FRAMES:
            raise ValueError(f"{n} slider combinations x objectives; at most {MAX_FRAMES}: use coarser grids")
        self.initial = tuple((k - 1) // 2 for k in self.shape)  # sliders start in the middle ...
        if initial:  # ... unless told otherwise
            unknown = sorted(set(initial) - set(self.sliders))
            if unknown:
                raise ValueError(f"initial names no slider: {unknown}; the sliders are {list(self.sliders)}")
            self.initial = self.frame_index(**initial)
        self._x0 = x0
        # frames[(objective index, slider index tuple)] = (path, losses, diverged_at)
        self.frames = {}
        names = list(self.sliders)
        for oi, objective in enumerate(self.objectives):
            for idx in itertools.product(*(range(k) for k in self.shape)):
                values = {name: self.sliders[name][i] for name, i in zip(names, idx)}
                start = values.pop("x0") if "x0" in values else self.start(objective)
                opt = make_optimizer(**values)
                self.frames[(oi, idx)] = trajectory(opt, objective, start, self.steps)
        self._widget = None
        self.uid = None

    # -- queries -------------------------------------------------------------------------------
    def start(self, objective):
        """The default starting point on `objective`."""
        if callable(self._x0):
            return np.atleast_1d(np.asarray(self._x0(objective), dtype=float))
        if self._x0 is not None:
            return np.atleast_1d(np.asarray(self._x0, dtype=float))
        if getattr(objective, "x0", None) is not None:
            return np.atleast_1d(np.asarray(objective.x0, dtype=float))
        box = _box(objective)
        return box[:, 0] + 0.1 * (box[:, 1] - box[:, 0])

    def frame(self, objective=0, **values):
        """The stored ``(path, losses, diverged_at)`` for slider values (default: initial positions)."""
        return self.frames[(objective, self.frame_index(**values))]

    def frame_index(self, **values):
        """The slider index tuple of slider values (default: the initial positions)."""
        idx = list(self.initial)
        for i, name in enumerate(self.sliders):
            if name in values:
                grid = self.sliders[name]
                matches = [j for j, v in enumerate(grid) if np.array_equal(np.asarray(v), np.asarray(values[name]))]
                if not matches:
                    raise ValueError(f"{values[name]!r} is not on the grid of slider {name!r}: {grid}")
                idx[i] = matches[0]
        return tuple(idx)

    def __repr__(self):
        names = ", ".join(f"{k}: {len(v)}" for k, v in self.sliders.items())
        return (f"<optlib.widgets.Explorer {self.title or ''!s} ({len(self.objectives)} objective(s); "
                f"sliders {names}; {len(self.frames)} precomputed runs of {self.steps} steps)>")

    # -- static pictures (shared by both displays) ---------------------------------------------
    def _sample(self, objective):
        """1-D: the curve (xs, fs); 2-D: the grid (X, Y, Z). Computed once per objective."""
        cache = self.__dict__.setdefault("_samples", {})
        if id(objective) not in cache:
            cache[id(objective)] = self._compute_sample(objective)
        return cache[id(objective)]

    @staticmethod
    def _compute_sample(objective):
        box = _box(objective)
        if objective.dim == 1:
            xs = np.linspace(box[0, 0], box[0, 1], 241)
            return xs, np.array([_value(objective, np.array([x])) for x in xs])
        xs = np.linspace(box[0, 0], box[0, 1], 121)
        ys = np.linspace(box[1, 0], box[1, 1], 121)
        X, Y = np.meshgrid(xs, ys)
        Z = np.array([[_value(objective, np.array([x, y])) for x, y in zip(rx, ry)] for rx, ry in zip(X, Y)])
        return X, Y, Z

    @staticmethod
    def _height(objective):
        box = _box(objective)
        if objective.dim == 1:
            return 280
        ratio = (box[1, 1] - box[1, 0]) / (box[0, 1] - box[0, 0])
        return int(np.clip(round(_WIDTH * ratio), 240, 400))

    @staticmethod
    def _contours(ax, X, Y, Z):
        finite = Z[np.isfinite(Z)]
        levels = np.unique(np.quantile(finite, np.linspace(0, 1, 18) ** 1.6))
        if levels.size < 3:
            levels = np.linspace(finite.min(), finite.max() + 1e-12, 5)
        ax.contourf(X, Y, Z, levels=levels, cmap="viridis", alpha=0.85, extend="both")
        ax.contour(X, Y, Z, levels=levels, colors="white", linewidths=0.5, alpha=0.6)

    def _background_png(self, objective):
        """The 2-D contour picture, exactly the plot area (no axes), as base64 PNG. Computed once."""
        cache = self.__dict__.setdefault("_backgrounds", {})
        if id(objective) in cache:
            return cache[id(objective)]
        from matplotlib.figure import Figure
        X, Y, Z = self._sample(objective)
        w, h = _WIDTH, self._height(objective)
        fig = Figure(figsize=(w / 100, h / 100), dpi=100)
        ax = fig.add_axes([0, 0, 1, 1])
        ax.set_axis_off()
        self._contours(ax, X, Y, Z)
        box = _box(objective)
        ax.set_xlim(*box[0])
        ax.set_ylim(*box[1])
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        cache[id(objective)] = base64.b64encode(buf.getvalue()).decode("ascii")
        return cache[id(objective)]

    # -- the kernel-free player ----------------------------------------------------------------
    def data(self):
        """Everything the HTML player needs, JSON-ready."""
        sliders = [{"name": k, "labels": [_label(v) for v in vals], "init": i}
                   for (k, vals), i in zip(self.sliders.items(), self.initial)]
        objectives = []
        for objective in self.objectives:
            box = _box(objective)
            entry = {"name": str(getattr(objective, "name", type(objective).__name__)),
                     "formula": str(getattr(objective, "formula", "")), "dim": int(objective.dim),
                     "domain": box.tolist(), "height": self._height(objective)}
            if objective.dim == 1:
                xs, fs = self._sample(objective)
                entry["curve"] = [[_round(x), _round(f)] for x, f in zip(xs, fs)]
                entry["log"] = False
            else:
                X, Y, Z = self._sample(objective)
                entry["image"] = "data:image/png;base64," + self._background_png(objective)
                entry["log"] = bool(np.nanmin(Z) >= 0)
            objectives.append(entry)
        frames = []
        for oi in range(len(self.objectives)):
            for idx in itertools.product(*(range(k) for k in self.shape)):
                path, losses, diverged = self.frames[(oi, idx)]
                keep = np.all(np.isfinite(path), axis=1)
                frames.append({"p": [[_round(v) for v in row] for row in path[keep]],
                               "f": [_round(v) for v in losses[keep]], "d": diverged})
        return {"title": self.title or "", "steps": self.steps, "sliders": sliders,
                "objectives": objectives, "frames": frames}

    def to_html(self):
        """The self-contained HTML + JS player (no external resources)."""
        payload = json.dumps(self.data(), separators=(",", ":"), allow_nan=False)
        if self.uid is None:
            digest = hashlib.sha1(payload.encode()).hexdigest()[:10]
            self.uid = f"optlib-explore-{digest}-{next(_counter)}"
        uid = self.uid
        controls = []
        if len(self.objectives) > 1:
            options = "".join(f'<option value="{i}">{html.escape(o["name"])}</option>'
                              for i, o in enumerate(json.loads(payload)["objectives"]))
            controls.append(f'<label class="ox-row"><span class="ox-name">function</span>'
                            f'<select class="ox-objective">{options}</select></label>')
        for i, (name, vals) in enumerate(self.sliders.items()):
            controls.append(
                f'<label class="ox-row"><span class="ox-name">{html.escape(name)}</span>'
                f'<input type="range" class="ox-slider" data-slider="{i}" min="0" max="{len(vals) - 1}" '
                f'step="1" value="{self.initial[i]}"><output class="ox-value"></output></label>')
        formulas = "".join(
            f'<div class="ox-formula mathjax_process" data-objective="{i}"'
            f'{"" if i == 0 else " hidden"}>{html.escape(getattr(o, "name", ""))}: '
            f'\\({html.escape(str(getattr(o, "formula", "")))}\\)</div>'
            for i, o in enumerate(self.objectives))
        title = f'<div class="ox-title">{html.escape(self.title)}</div>' if self.title else ""
        return (_HTML.replace("@UID@", uid).replace("@TITLE@", title).replace("@FORMULAS@", formulas)
                .replace("@CONTROLS@", "".join(controls))
                .replace("@DATA@", payload.replace("</", "<\\/"))
                .replace("@JS@", _JS.replace("@UID@", uid)))

    # -- the live widget -----------------------------------------------------------------------
    def _figure_png(self, oi, idx):
        """The live figure for one frame, drawn with matplotlib."""
        from matplotlib.figure import Figure
        objective = self.objectives[oi]
        path, losses, diverged = self.frames[(oi, idx)]
        box = _box(objective)
        fig = Figure(figsize=(8.4, 3.4), dpi=90, layout="constrained")
        ax, ax2 = fig.subplots(1, 2, width_ratios=[1.25, 1])
        keep = np.all(np.isfinite(path), axis=1)
        p, f = path[keep], losses[keep]
        if objective.dim == 1:
            xs, fs = self._sample(objective)
            ax.plot(xs, fs, color="0.3", lw=1.5, label="f(x)")
            ax.plot(p[:, 0], f, "o-", color="#d62728", ms=3.5, lw=1, label="trajectory")
            finite = fs[np.isfinite(fs)]
            pad = 0.05 * (finite.max() - finite.min() + 1e-12)
            ax.set_ylim(finite.min() - pad, finite.max() + pad)
            ax.set_xlabel("x")
            ax.set_ylabel("f(x)")
        else:
            # the same contour picture as the HTML player's (drawn once), so redrawing is fast
            from matplotlib.image import imread
            png = base64.b64decode(self._background_png(objective))
            ax.imshow(imread(io.BytesIO(png), format="png"), extent=(*box[0], *box[1]), aspect="auto",
                      origin="upper", interpolation="bilinear")
            ax.plot(p[:, 0], p[:, 1], "o-", color="#d62728", ms=3, lw=1.2, label="trajectory")
            ax.set_ylim(*box[1])
            ax.set_xlabel("x")
            ax.set_ylabel("y")
        ax.plot(p[:1, 0], (f[:1] if objective.dim == 1 else p[:1, 1]), "o", mfc="white", mec="black",
                ms=7, label="start")
        ax.set_xlim(*box[0])
        ax.set_title(getattr(objective, "name", ""))
        ax.legend(loc="upper right", fontsize=8)
        log = objective.dim == 2 and np.all(f[np.isfinite(f)] >= 0)
        t = np.arange(len(f))
        ax2.plot(t, np.maximum(f, 1e-16) if log else f, color="#1f77b4")
        if log:
            ax2.set_yscale("log")
        ax2.set_xlim(0, self.steps)
        ax2.set_xlabel("iteration")
        ax2.set_ylabel("f(x_t)")
        ax2.set_title("loss")
        if diverged is not None:
            ax2.set_title(f"diverged at step {diverged}", color="#d62728")
        ax2.grid(alpha=0.3)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()

    def widget(self):
        """The live ipywidgets figure (built once)."""
        if self._widget is not None:
            return self._widget
        import ipywidgets as W
        controls, sliders = [], []
        dropdown = None
        if len(self.objectives) > 1:
            dropdown = W.Dropdown(options=[(getattr(o, "name", str(i)), i) for i, o in enumerate(self.objectives)],
                                  value=0, description="function")
            controls.append(dropdown)
        for (name, vals), i in zip(self.sliders.items(), self.initial):
            s = W.SelectionSlider(options=[(_label(v), j) for j, v in enumerate(vals)], value=i,
                                  description=name, continuous_update=True,
                                  layout=W.Layout(width="420px"))
            sliders.append(s)
            controls.append(s)
        formula = W.HTMLMath()
        image = W.Image(format="png")
        status = W.HTML()

        def redraw(*_):
            oi = dropdown.value if dropdown is not None else 0
            idx = tuple(s.value for s in sliders)
            objective = self.objectives[oi]
            formula.value = f'{html.escape(getattr(objective, "name", ""))}: ${getattr(objective, "formula", "")}$'
            image.value = self._figure_png(oi, idx)
            status.value = self._status_html(oi, idx)

        for c in controls:
            c.observe(redraw, names="value")
        redraw()
        header = [W.HTML(f"<b>{html.escape(self.title)}</b>")] if self.title else []
        self._widget = W.VBox(header + [formula, *controls, image, status])
        return self._widget

    def _status_html(self, oi, idx):
        path, losses, diverged = self.frames[(oi, idx)]
        if diverged is not None:
            return f'<span style="color:#d62728;font-weight:bold">diverged at step {diverged}</span>'
        box = _box(self.objectives[oi])
        outside = np.any((path < box[:, 0]) | (path > box[:, 1]), axis=1)
        if outside.any():
            return f'<span style="color:#d62728">left the plot at step {int(np.argmax(outside))}</span>'
        return f"after {self.steps} steps: f = {losses[-1]:.4g} at x = {_label([float(f'{v:.4g}') for v in path[-1]])}"

    # -- display ---------------------------------------------------------------------------------
    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": repr(self), "text/html": self.to_html()}
        try:
            view = self.widget()._repr_mimebundle_()
        except ImportError:  # no ipywidgets: the HTML player only
            view = None
        if view:
            view.pop("text/plain", None)
            bundle.update(view)
        return bundle

    def _repr_html_(self):
        return self.to_html()


_HTML = """<div class="optlib-explore" id="@UID@" data-optlib-explore="1">
<style>
#@UID@ {font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 14px; color: #222;
  border: 1px solid #ddd; border-radius: 6px; padding: 8px 10px; margin: 6px 0; background: #fff; max-width: 760px}
#@UID@ .ox-title {font-weight: 600; margin-bottom: 4px}
#@UID@ .ox-row {display: flex; align-items: center; gap: 10px; margin: 2px 0}
#@UID@ .ox-name {min-width: 80px; font-family: monospace}
#@UID@ input[type=range] {width: 260px}
#@UID@ .ox-value {font-family: monospace; min-width: 90px}
#@UID@ .ox-plots {display: flex; gap: 6px; margin-top: 6px; align-items: flex-start}
#@UID@ svg {background: #fff; height: auto; display: block}
#@UID@ svg.ox-main {width: 57%}
#@UID@ svg.ox-loss {width: 43%}
#@UID@ svg text {font: 13px sans-serif; fill: #333}
#@UID@ .ox-status {margin-top: 4px; font-family: monospace}
#@UID@ .ox-status.ox-bad {color: #d62728; font-weight: bold}
</style>
@TITLE@@FORMULAS@<div class="ox-controls">@CONTROLS@</div>
<div class="ox-plots"><svg class="ox-main"></svg><svg class="ox-loss"></svg></div>
<div class="ox-status"></div>
<script type="application/json" class="ox-data">@DATA@</script>
<script>@JS@</script>
</div>"""

_JS = r"""(function () {
  var root = document.getElementById("@UID@");
  if (!root || root.getAttribute("data-ready")) return;
  root.setAttribute("data-ready", "1");
  var D = JSON.parse(root.querySelector("script.ox-data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  var W = 400, LW = 300, M = {l: 56, r: 12, t: 10, b: 38};
  var state = {obj: 0, idx: D.sliders.map(function (s) { return s.init; })};
  var sel = root.querySelector("select.ox-objective");
  var inputs = root.querySelectorAll("input.ox-slider");
  var outputs = root.querySelectorAll("output.ox-value");
  var main = root.querySelector("svg.ox-main"), loss = root.querySelector("svg.ox-loss");
  var status = root.querySelector(".ox-status");

  function el(parent, name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  }
  function ticks(a, b, n) {
    var span = b - a;
    if (!(span > 0)) return [a];
    var step = Math.pow(10, Math.floor(Math.log10(span / n))), err = span / n / step;
    if (err >= 7.5) step *= 10; else if (err >= 3.5) step *= 5; else if (err >= 1.5) step *= 2;
    var out = [];
    for (var v = Math.ceil(a / step) * step; v <= b + 1e-9 * span; v += step) out.push(Math.abs(v) < 1e-12 * span ? 0 : v);
    return out;
  }
  function fmt(v) { return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(1) : String(+v.toPrecision(4)); }
  function axes(svg, w, h, xr, yr, xlabel, ylabel, ylog) {
    var g = el(svg, "g", {});
    el(g, "rect", {x: M.l, y: M.t, width: w, height: h, fill: "none", stroke: "#888"});
    ticks(xr[0], xr[1], 5).forEach(function (v) {
      var x = M.l + (v - xr[0]) / (xr[1] - xr[0]) * w;
      el(g, "line", {x1: x, x2: x, y1: M.t + h, y2: M.t + h + 4, stroke: "#888"});
      el(g, "text", {x: x, y: M.t + h + 17, "text-anchor": "middle"}, fmt(v));
    });
    ticks(yr[0], yr[1], 5).forEach(function (v) {
      var y = M.t + h - (v - yr[0]) / (yr[1] - yr[0]) * h;
      el(g, "line", {x1: M.l - 4, x2: M.l, y1: y, y2: y, stroke: "#888"});
      el(g, "text", {x: M.l - 6, y: y + 4, "text-anchor": "end"}, ylog ? "1e" + Math.round(v) : fmt(v));
    });
    el(g, "text", {x: M.l + w / 2, y: M.t + h + 34, "text-anchor": "middle"}, xlabel);
    el(g, "text", {x: 13, y: M.t + h / 2, "text-anchor": "middle", transform: "rotate(-90 13 " + (M.t + h / 2) + ")"}, ylabel);
  }
  function clip(svg, id, w, h) {
    var defs = el(svg, "defs", {}), cp = el(defs, "clipPath", {id: id});
    el(cp, "rect", {x: M.l, y: M.t, width: w, height: h});
  }
  function frameIndex() {
    var k = state.obj;
    for (var i = 0; i < D.sliders.length; i++) k = k * D.sliders[i].labels.length + state.idx[i];
    return k;
  }
  function draw() {
    var O = D.objectives[state.obj], F = D.frames[frameIndex()], H = O.height;
    var dom = O.domain, xr = dom[0], yr;
    while (main.firstChild) main.removeChild(main.firstChild);
    while (loss.firstChild) loss.removeChild(loss.firstChild);
    main.setAttribute("viewBox", "0 0 " + (W + M.l + M.r) + " " + (H + M.t + M.b));
    var cid = "@UID@-clip-" + state.obj;
    clip(main, cid, W, H);
    var pts;
    if (O.dim === 1) {
      var ys = O.curve.map(function (c) { return c[1]; }).filter(function (v) { return v !== null; });
      var lo = Math.min.apply(null, ys), hi = Math.max.apply(null, ys), pad = 0.05 * (hi - lo || 1);
      yr = [lo - pad, hi + pad];
      pts = F.p.map(function (p, i) { return [p[0], F.f[i]]; });
    } else {
      yr = dom[1];
      el(main, "image", {x: M.l, y: M.t, width: W, height: H, preserveAspectRatio: "none", href: O.image});
      pts = F.p;
    }
    function sx(x) { return M.l + (x - xr[0]) / (xr[1] - xr[0]) * W; }
    function sy(y) { return M.t + H - (y - yr[0]) / (yr[1] - yr[0]) * H; }
    axes(main, W, H, xr, yr, "x", O.dim === 1 ? "f(x)" : "y", false);
    var g = el(main, "g", {"clip-path": "url(#" + cid + ")"});
    if (O.dim === 1) {
      el(g, "path", {d: O.curve.filter(function (c) { return c[1] !== null; }).map(function (c, i) {
        return (i ? "L" : "M") + sx(c[0]).toFixed(1) + " " + sy(c[1]).toFixed(1); }).join(""),
        fill: "none", stroke: "#444", "stroke-width": 1.5});
    }
    var good = pts.filter(function (p) { return p[1] !== null && p[0] !== null; });
    var d = good.map(function (p, i) { return (i ? "L" : "M") + sx(p[0]).toFixed(2) + " " + sy(p[1]).toFixed(2); }).join("");
    el(g, "path", {"class": "ox-traj", d: d, fill: "none", stroke: "#d62728", "stroke-width": 1.4});
    good.forEach(function (p, i) {
      el(g, "circle", {cx: sx(p[0]).toFixed(2), cy: sy(p[1]).toFixed(2), r: i === 0 ? 5 : 2.5,
        fill: i === 0 ? "#fff" : "#d62728", stroke: i === 0 ? "#000" : "none"});
    });
    // loss panel
    loss.setAttribute("viewBox", "0 0 " + (LW + M.l + M.r) + " " + (H + M.t + M.b));
    clip(loss, cid + "-loss", LW, H);
    var ls = [];
    F.f.forEach(function (v, i) { if (v !== null) ls.push([i, O.log ? Math.log10(Math.max(v, 1e-16)) : v]); });
    var lv = ls.map(function (p) { return p[1]; });
    var llo = Math.min.apply(null, lv), lhi = Math.max.apply(null, lv);
    if (!(lhi > llo)) { llo -= 1; lhi += 1; }
    var lpad = 0.05 * (lhi - llo);
    var lyr = [llo - lpad, lhi + lpad], lxr = [0, D.steps];
    axes(loss, LW, H, lxr, lyr, "iteration", O.log ? "f(x_t), log scale" : "f(x_t)", O.log);
    var lg = el(loss, "g", {"clip-path": "url(#" + cid + "-loss)"});
    el(lg, "path", {"class": "ox-loss-line", fill: "none", stroke: "#1f77b4", "stroke-width": 1.5,
      d: ls.map(function (p, i) { return (i ? "L" : "M") + (M.l + p[0] / D.steps * LW).toFixed(2) + " " +
        (M.t + H - (p[1] - lyr[0]) / (lyr[1] - lyr[0]) * H).toFixed(2); }).join("")});
    // status
    var out = -1;
    for (var i = 0; i < F.p.length && out < 0; i++) {
      for (var j = 0; j < F.p[i].length; j++) {
        if (F.p[i][j] < dom[j][0] || F.p[i][j] > dom[j][1]) { out = i; break; }
      }
    }
    if (F.d !== null) {
      status.textContent = "diverged at step " + F.d;
      status.className = "ox-status ox-bad";
      el(loss, "text", {x: M.l + LW / 2, y: M.t + 18, "text-anchor": "middle", style: "fill:#d62728;font-weight:bold"}, "diverged");
    } else if (out >= 0) {
      status.textContent = "left the plot at step " + out;
      status.className = "ox-status ox-bad";
    } else {
      var last = F.p[F.p.length - 1];
      status.textContent = "after " + D.steps + " steps: f = " + fmt(F.f[F.f.length - 1]) +
        " at x = (" + last.map(fmt).join(", ") + ")";
      status.className = "ox-status";
    }
    for (var s = 0; s < D.sliders.length; s++) outputs[s].textContent = D.sliders[s].labels[state.idx[s]];
    root.querySelectorAll(".ox-formula").forEach(function (f) {
      f.hidden = +f.getAttribute("data-objective") !== state.obj;
    });
    root.setAttribute("data-frame", frameIndex());
  }
  inputs.forEach(function (inp) {
    inp.addEventListener("input", function () { state.idx[+inp.getAttribute("data-slider")] = +inp.value; draw(); });
  });
  if (sel) sel.addEventListener("change", function () { state.obj = +sel.value; draw(); });
  draw();
})();"""
