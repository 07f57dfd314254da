"""The chapters' trajectory pictures: 1-D runs on the graph of f, 2-D runs on its contours.

    >>> runs = {f"lr = {lr}": optlib.run(optlib.SGD(lr=lr), f, 70.0, 20) for lr in (0.1, 0.5, 0.9)}
    >>> plots.plot_1d(f, runs, "f(x) = x², x0 = 70", xlim=(-75, 75))
    >>> fig, ax = plt.subplots(figsize=(7, 4.5))
    >>> plots.plot_2d(ax, bowl, paths, "Bowl", ((-100, 100), (-60, 60)), (0, 0), ring_ends=True)

Sized for the site's ~700 px column; legends sit below the axes, never over the data. (Training curves
of the case studies are :meth:`optlib.train.Comparison.plot`'s.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # for the annotations only: matplotlib is imported when a plot is drawn
    import matplotlib.axes
    import matplotlib.figure

    from .objectives import Objective

__all__ = ["contours", "plot_1d", "plot_2d"]

_LINESTYLES = ("-", "--", ":", "-.")


def plot_1d(f: Callable[[np.ndarray], np.ndarray], paths: Mapping[str, np.ndarray | Sequence], title: str,
            xlim: tuple[float, float], ylog: bool = False, marks: Mapping[str, float] | None = None,
            show: bool = True) -> matplotlib.figure.Figure | None:
    """Left: the iterates on the graph of f over `xlim`. Right: x_t (or |x_t| on a log scale with
    `ylog`) against the step t. `paths`: {label: path of shape (steps + 1, 1)}; `marks`: {label: x}
    drawn as dotted horizontal lines on the right. One legend, below both panels.
    Shows the figure (``show=False``: returns it instead)."""
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3.6), layout="constrained")
    grid = np.linspace(*xlim, 400)
    ax1.plot(grid, f(grid), color="0.6", label="f(x)")
    for label, p in paths.items():
        x = np.asarray(p, dtype=float)[:, 0]
        (line,) = ax2.plot(np.abs(x) if ylog else x, ".-", ms=4, label=label)
        ax1.plot(x, f(x), "o-", ms=3, alpha=0.7, color=line.get_color())
    for (label, m), c in zip((marks or {}).items(), ("k", "0.45")):
        ax2.axhline(m, color=c, ls=":", lw=1, label=label)
    ax1.set(title=f"{title}: iterates on f", xlabel="x", ylabel="f(x)", xlim=xlim)
    ax2.set(title=f"{title}: iterate per step", xlabel="step t",
            ylabel="$|x_t|$ (log scale)" if ylog else "$x_t$")
    if ylog:
        ax2.set_yscale("log")
    handles = ax1.get_legend_handles_labels()[0][:1] + ax2.get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 4), fontsize=10, frameon=False)
    if not show:
        return fig
    plt.show()
    return None


def contours(ax: matplotlib.axes.Axes, f: Objective, extent: tuple[tuple[float, float], tuple[float, float]],
             n: int = 200, levels: int = 25) -> None:
    """Grey contour lines of f over extent = ((x_lo, x_hi), (y_lo, y_hi)), denser near the minimum."""
    X, Y, Z = f.contour_grid(n, extent)
    finite = Z[np.isfinite(Z)]
    ax.contour(X, Y, Z, levels=np.quantile(finite, np.linspace(0, 1, levels) ** 2), colors="0.75", linewidths=0.7)


def plot_2d(ax: matplotlib.axes.Axes, f: Objective, paths: Mapping[str, np.ndarray | Sequence], title: str,
            extent: tuple[tuple[float, float], tuple[float, float]], minimum: Sequence[float],
            minimum_label: str = "minimum", ring_ends: bool = False) -> None:
    """Contours of f over `extent`, one path per entry of `paths` ({label: array (steps + 1, 2)}),
    each in its colour and line style, `minimum` (a point) as a star; with `ring_ends` each path's
    end point is ringed. The legend goes below the axes."""
    contours(ax, f, extent)
    for (label, p), ls in zip(paths.items(), _LINESTYLES * len(paths)):
        p = np.asarray(p, dtype=float)
        (line,) = ax.plot(p[:, 0], p[:, 1], ls=ls, marker=".", ms=3, lw=1.3, label=label)
        if ring_ends:
            end = p[np.all(np.isfinite(p), axis=1)][-1]
            ax.plot(*end, "o", ms=9, mfc="none", mew=2, color=line.get_color())
    ax.plot(*minimum, "k*", ms=12, label=minimum_label)
    ax.set(title=title, xlabel="x", ylabel="y", xlim=extent[0], ylim=extent[1])
    ax.legend(fontsize=10, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
