"""Draw docs/trajectories.png, the picture at the top of README.md: python tools/readme_figure.py"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import optlib  # noqa: E402
from optlib.objectives import Bowl, Rosenbrock  # noqa: E402

# Learning rates picked by hand per function: each about the largest that stays on a readable path.
RUNS = {"bowl": {"SGD": optlib.SGD(lr=0.04), "SGD + momentum 0.9": optlib.SGD(lr=0.01, momentum=0.9),
                 "RMSprop": optlib.RMSprop(lr=3.0), "Adam": optlib.Adam(lr=8.0)},
        "rosenbrock": {"SGD": optlib.SGD(lr=1e-3), "SGD + momentum 0.9": optlib.SGD(lr=3e-4, momentum=0.9),
                       "RMSprop": optlib.RMSprop(lr=0.01), "Adam": optlib.Adam(lr=0.1)}}


def main(out=Path(__file__).resolve().parents[1] / "docs" / "trajectories.png"):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, f, steps, runs in ((axes[0], Bowl(1.0, 10.0), 60, RUNS["bowl"]),
                               (axes[1], Rosenbrock(), 1000, RUNS["rosenbrock"])):
        X, Y, Z = f.contour_grid()
        ax.contour(X, Y, Z, levels=np.geomspace(Z.min() + 1e-3, Z.max(), 25), cmap="Greys", linewidths=0.6)
        for name, opt in runs.items():
            path = optlib.run(opt, f, f.x0, steps)
            ax.plot(path[:, 0], path[:, 1], "-", lw=1.3, label=name)
        ax.plot(*np.asarray(f.minimum).T, "k*", ms=12)
        ax.set(title=f"${f.formula}$, {steps} steps", xlabel="x", ylabel="y",
               xlim=f.domain[0], ylim=f.domain[1])
    axes[0].legend(loc="lower right", fontsize=8)
    fig.suptitle("One update rule per optimizer, from optlib.rules: the same code trains the networks")
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    print("wrote", out)


if __name__ == "__main__":
    main()
