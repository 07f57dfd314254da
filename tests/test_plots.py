"""optlib.plots: the chapters' 1-D and 2-D trajectory pictures, legends off the data, ~700 px wide."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

import optlib
from optlib import objectives, plots


def _below_all_axes(fig, legend):
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    top = legend.get_window_extent(r).y1
    return all(top <= ax.get_window_extent(r).y0 + 1 for ax in fig.axes)


def test_plot_1d_draws_every_run_on_both_panels_with_one_legend_below():
    f = objectives.Quadratic(1.0)
    runs = {f"lr = {lr}": optlib.run(optlib.SGD(lr=lr), f, 5.0, 25) for lr in (0.1, 0.9, 1.05)}
    fig = plots.plot_1d(f, runs, "x²", xlim=(-20, 20), ylog=True, marks={"zero": 1e-3}, show=False)
    ax1, ax2 = fig.axes
    assert len(ax1.lines) == 1 + 3 and len(ax2.lines) == 3 + 1
    np.testing.assert_allclose(ax2.lines[2].get_ydata(), np.abs(runs["lr = 1.05"][:, 0]))  # |x_t|
    assert ax2.get_yscale() == "log" and ax1.get_xlim() == (-20, 20)
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["f(x)", "lr = 0.1", "lr = 0.9", "lr = 1.05", "zero"]
    assert _below_all_axes(fig, legend)
    assert fig.get_size_inches()[0] * fig.dpi <= 800  # fits the column without shrinking the text much
    plt.close(fig)


def test_plot_2d_paths_minimum_rings_and_legend_below():
    bowl = objectives.Bowl(1.0, 10.0)
    paths = {"GD": optlib.run(optlib.SGD(lr=0.02), bowl, bowl.x0, 60),
             "heavy ball": optlib.run(optlib.SGD(lr=0.02, momentum=0.9), bowl, bowl.x0, 60)}
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    plots.plot_2d(ax, bowl, paths, "Bowl", ((-100, 100), (-60, 60)), (0, 0), ring_ends=True)
    data_lines = [line for line in ax.lines if line.get_label() in paths]
    assert [line.get_linestyle() for line in data_lines] == ["-", "--"]
    np.testing.assert_allclose(data_lines[1].get_xydata(), paths["heavy ball"])
    rings = [line for line in ax.lines if line.get_marker() == "o" and line.get_label().startswith("_")]
    assert len(rings) == 2 and np.allclose(rings[0].get_xydata()[0], paths["GD"][-1])
    assert ax.collections  # the contours
    assert _below_all_axes(fig, ax.get_legend())
    plt.close(fig)
