"""Two figures the chapters need besides the explorer: the EWA explorer and the momentum phase diagram."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from .. import averages
from . import axes
from .figure import Figure

# ----------------------------------------------------------------------------------------------
# EWA: smoothing against lag
# ----------------------------------------------------------------------------------------------

def ewa_explorer(series: ArrayLike | None = None, signal: ArrayLike | None = None,
                 betas: Sequence[float] = (0.0, 0.5, 0.8, 0.9, 0.95, 0.98), title: str | None = None,
                 seed: int = 0) -> EWAExplorer:
    """A series, its exponentially weighted average for a β slider, with and without bias correction.

    series: the values θ_1..θ_n (default: a seeded noisy wave); signal: the noise-free values, if
    known (default for the default series), to measure how smooth the average is and how far it lags.
    """
    return EWAExplorer(series, signal, betas, title, seed)


def lag_and_wiggle(average, signal, skip):
    """The shift k (in steps) that best aligns `average[t]` with `signal[t - k]`, and the remaining std."""
    best = None
    for k in range(min(60, len(signal) - skip - 5)):
        r = average[skip + k:] - signal[skip:len(signal) - k]
        score = float(np.sqrt(np.mean(r ** 2)))
        if best is None or score < best[1]:
            best = (k, score)
    return best


class EWAExplorer(Figure):
    def __init__(self, series, signal, betas, title, seed):
        if series is None:
            t = np.arange(1, 121)
            signal = 3.0 + 2.0 * np.sin(2 * np.pi * t / 60)
            series = signal + np.random.default_rng(seed).normal(0, 0.8, t.size)
        series = np.asarray(series, dtype=float)
        if series.ndim != 1 or series.size < 10 or not np.all(np.isfinite(series)):
            raise ValueError(f"series must be at least 10 finite numbers, got shape {series.shape}")
        if signal is not None:
            signal = np.asarray(signal, dtype=float)
            if signal.shape != series.shape:
                raise ValueError(f"signal has shape {signal.shape}, the series {series.shape}")
        for b in betas:
            if not 0 <= b < 1:
                raise ValueError(f"Invalid beta: {b!r} (expected 0 <= beta < 1)")
        self.series, self.signal, self.betas = series, signal, list(betas)
        self.title = title or "Exponentially weighted average: smoothing against lag"

    def __repr__(self):
        return f"<optlib.widgets.EWAExplorer {len(self.series)} values; beta {self.betas}>"

    def build(self):
        n, s = len(self.series), self.series
        t = np.arange(1, n + 1)
        everything = [s] + ([self.signal] if self.signal is not None else [])
        yr = axes.fitted(np.concatenate(everything + [[0.0]]), pad=0.05)
        scene = {"w": 600, "h": 280, "xr": [0.0, float(n + 1)], "yr": yr, "xt": axes.linear_ticks(0, n + 1),
                 "yt": axes.linear_ticks(*yr), "xl": "step t", "yl": "value", "title": "the series and its EWA",
                 "img": None, "curve": None}
        lines = [{"c": "#999999", "w": 0, "m": 1.8, "nl": 1, "p": _flat(t, s)}]
        if self.signal is not None:
            lines.append({"c": "#000000", "w": 1.2, "dash": 1, "p": _flat(t, self.signal)})
        base = list(range(len(lines)))
        legend = [["series θ_t", "#999999", "dots"]] + ([["signal (no noise)", "#000000", "dash"]]
                                                        if self.signal is not None else [])
        frames = []
        for b in self.betas:
            plain = averages.ewa(s, b)
            fixed = averages.ewa(s, b, bias_correction=True)
            lines.append({"c": "#1f77b4", "w": 2, "p": _flat(t, plain)})
            lines.append({"c": "#d62728", "w": 2, "p": _flat(t, fixed)})
            i_plain, i_fixed = len(lines) - 2, len(lines) - 1
            for correct in (False, True):
                avg = fixed if correct else plain
                status = [f"β = {b:g}: the average remembers about 1/(1 − β) = {1 / (1 - b):.3g} values"]
                if self.signal is not None:
                    skip = min(int(3 / (1 - b)), n // 3)
                    lag, wiggle = lag_and_wiggle(avg, self.signal, skip)
                    noise = float(np.std(s - self.signal))
                    status.append(f"lag: {lag} steps (β/(1 − β) = {b / (1 - b):.3g}); rms distance to the signal "
                                  f"shifted by the lag: {wiggle:.2f} (the series: {noise:.2f})")
                status.append(f"first value v_1 = {avg[0]:.3g} (θ_1 = {s[0]:.3g})" +
                              ("" if correct else ": pulled toward 0 by v_0 = 0"))
                ids = base + ([i_plain, i_fixed] if correct else [i_plain])
                lg = legend + [["EWA v_t", "#1f77b4", "solid"]] + \
                    ([["bias-corrected v_t / (1 − β^t)", "#d62728", "solid"]] if correct else [])
                frames.append({"pan": [[0, ids, []]], "st": status, "bad": False, "lg": lg})
        controls = [{"name": "beta", "kind": "slider", "labels": [f"{b:g}" for b in self.betas],
                     "init": min(3, len(self.betas) - 1)},
                    {"name": "bias correction", "kind": "toggle", "labels": ["off", "on"], "init": 0}]
        return {"kind": "ewa", "title": self.title, "controls": controls, "scenes": [scene], "lines": lines,
                "frames": frames, "click": None, "formulas": [], "formula_control": None}


# ----------------------------------------------------------------------------------------------
# Momentum: the convergence rate over (learning rate, momentum) on a quadratic
# ----------------------------------------------------------------------------------------------

def heavy_ball_rate(lr: ArrayLike, beta: ArrayLike, eigenvalues: Iterable[float]) -> np.ndarray:
    """The asymptotic rate ρ (error × ρ per step) of heavy-ball momentum on a quadratic: the largest
    |root| of z² − (1 + β − ηλ) z + β over the eigenvalues λ. ρ ≥ 1 diverges (or stalls)."""
    lr, beta = np.broadcast_arrays(np.asarray(lr, dtype=float), np.asarray(beta, dtype=float))
    rho = np.zeros(lr.shape)
    for lam in eigenvalues:
        b = 1 + beta - lr * lam
        disc = np.sqrt((b ** 2 - 4 * beta).astype(complex))
        rho = np.maximum(rho, np.maximum(np.abs((b + disc) / 2), np.abs((b - disc) / 2)))
    return rho


def optimal_momentum(kappa: float) -> tuple[float, float, float]:
    """Polyak's optimum on a quadratic with eigenvalues in [1/κ, 1]: (η*, β*, ρ*)."""
    mu, L = 1.0 / kappa, 1.0
    lr = 4 / (np.sqrt(L) + np.sqrt(mu)) ** 2
    rho = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)
    return lr, rho ** 2, rho


def momentum_phase(kappas: Sequence[float] = (10, 100, 1000), lrs: Sequence[float] | None = None,
                   betas: Sequence[float] | None = None, title: str | None = None) -> MomentumPhase:
    """A heat map of heavy-ball momentum's convergence rate over (η, β) on f = ½(x²/κ + y²), the current
    (η, β) marked and Polyak's optimum shown; sliders for η and β, a dropdown for κ."""
    return MomentumPhase(kappas, lrs, betas, title)


class MomentumPhase(Figure):
    def __init__(self, kappas, lrs, betas, title):
        self.kappas = [float(k) for k in kappas]
        for k in self.kappas:
            if not k >= 1:
                raise ValueError(f"Invalid condition number: {k!r} (expected kappa >= 1)")
        self.lrs = list(lrs) if lrs is not None else [float(f"{v:.2g}") for v in np.geomspace(0.01, 3.5, 12)]
        self.betas = list(betas) if betas is not None else [0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99]
        for v in self.lrs:
            if not 0 < v < np.inf:
                raise ValueError(f"Invalid learning rate: {v!r}")
        for b in self.betas:
            if not 0 <= b < 1:
                raise ValueError(f"Invalid beta: {b!r} (expected 0 <= beta < 1)")
        self.title = title or "Momentum on a quadratic: convergence rate over learning rate and momentum"

    def __repr__(self):
        return f"<optlib.widgets.MomentumPhase kappa {self.kappas}>"

    def build(self):
        xr = [np.log10(min(self.lrs)) - 0.1, np.log10(max(self.lrs)) + 0.1]
        yr = [0.0, 1.0]
        scenes = []
        for kappa in self.kappas:
            scenes.append({"w": 420, "h": 300, "xr": xr, "yr": yr, "xt": axes.log_ticks(*xr),
                           "yt": axes.linear_ticks(*yr), "xl": "learning rate η (log scale)",
                           "yl": "momentum β", "title": f"f = ½(x²/κ + y²), κ = {kappa:g}",
                           "img": _rate_png(kappa, xr, yr, 420, 300), "curve": None})
        frames = []
        legend = [["current (η, β)", "#d62728", "choice"], ["optimum (η*, β*)", "#000000", "min"]]
        for ki, kappa in enumerate(self.kappas):
            lr_opt, beta_opt, rho_opt = optimal_momentum(kappa)
            for lr in self.lrs:
                for beta in self.betas:
                    rho = float(heavy_ball_rate(lr, beta, (1 / kappa, 1.0)))
                    if rho < 1:
                        now = f"η = {lr:g}, β = {beta:g}: ρ = {rho:.4f}, the error shrinks 10× every {_tenfold(rho)} steps"
                    else:
                        now = f"η = {lr:g}, β = {beta:g}: ρ = {rho:.3g} ≥ 1, diverges"
                    best = (f"optimum: η* = {lr_opt:.3g}, β* = {beta_opt:.3g}: ρ* = {rho_opt:.4f} (10× every "
                            f"{_tenfold(rho_opt)} steps); best without momentum: ρ = {(kappa - 1) / (kappa + 1):.4f}"
                            f" (10× every {_tenfold((kappa - 1) / (kappa + 1))} steps)")
                    marks = [[axes.rounded(np.log10(lr), 6), beta, "choice"],
                             [axes.rounded(np.log10(lr_opt), 6), axes.rounded(beta_opt, 6), "min"]]
                    frames.append({"pan": [[ki, [], marks]], "st": [now, best], "bad": rho >= 1, "lg": legend})
        controls = [{"name": "kappa", "kind": "dropdown", "labels": [f"{k:g}" for k in self.kappas],
                     "init": min(1, len(self.kappas) - 1)},
                    {"name": "lr", "kind": "slider", "labels": [f"{v:g}" for v in self.lrs],
                     "init": len(self.lrs) // 2},
                    {"name": "beta", "kind": "slider", "labels": [f"{b:g}" for b in self.betas],
                     "init": min(5, len(self.betas) - 1)}]
        return {"kind": "phase", "title": self.title + " (colour: steps to shrink the error 10×, "
                "dark = few, light = many; grey: diverges)", "controls": controls, "scenes": scenes, "lines": [],
                "frames": frames, "click": None, "formulas": [], "formula_control": None}


def _tenfold(rho):
    return f"{-1 / np.log10(rho):.3g}" if 0 < rho < 1 else ("1" if rho == 0 else "∞")


def _rate_png(kappa, xr, yr, w, h):
    from matplotlib import colormaps
    from matplotlib.figure import Figure as MplFigure
    lr = 10 ** np.linspace(xr[0], xr[1], 2 * w)
    beta = np.linspace(yr[0], yr[1], 2 * h)
    L, B = np.meshgrid(lr, beta)
    rho = heavy_ball_rate(L, B, (1 / kappa, 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.where(rho < 1, -1 / np.log10(np.clip(rho, 1e-12, None)), np.nan)
    shade = np.clip(np.log10(np.maximum(steps, 1)) / 4, 0, 1)  # 1 .. 10^4 steps
    rgba = colormaps["viridis"](shade)
    rgba[~np.isfinite(steps)] = (0.85, 0.85, 0.85, 1.0)
    fig = MplFigure(figsize=(w / 100, h / 100), dpi=100)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_axis_off()
    ax.imshow(rgba, origin="lower", aspect="auto", extent=(*xr, *yr), interpolation="bilinear")
    buf = io.BytesIO()
    fig.savefig(buf, format="jpeg", dpi=100, pil_kwargs={"quality": 85})
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _flat(x, y):
    return [axes.rounded(v) for v in np.column_stack([x, y]).reshape(-1)]
