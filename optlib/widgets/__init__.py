"""The interactive figures: live in JupyterLab (ipywidgets), a kernel-free player on the static site.

* :func:`explore`: optimizers' trajectories on a landscape, with sliders, compare mode, noise and a
  start point set by clicking (:mod:`.explorer`);
* :func:`ewa_explorer` and :func:`momentum_phase`: the EWA and the momentum phase diagram (:mod:`.views`).

The pieces: :mod:`.explorer` and :mod:`.views` compute and describe (data, every decision made once);
:mod:`.mpl` draws a frame with matplotlib; :mod:`.player` (with ``player.js``/``player.css``) is the
static player; :mod:`.live` binds ipywidgets; :mod:`.figure` is how they display (and why).
"""

from .explorer import COLORS, MAX_RUNS, MAX_STEPS, Explorer, explore, trajectory
from .figure import MAX_BYTES, WIDGET_VIEW, Figure
from .views import (
           EWAExplorer,
           MomentumPhase,
           ewa_explorer,
           heavy_ball_rate,
           momentum_phase,
           optimal_momentum,
)

MAX_FRAMES = MAX_RUNS  # the old name

__all__ = [
           "COLORS",
           "MAX_BYTES",
           "MAX_FRAMES",
           "MAX_RUNS",
           "MAX_STEPS",
           "WIDGET_VIEW",
           "EWAExplorer",
           "Explorer",
           "Figure",
           "MomentumPhase",
           "ewa_explorer",
           "explore",
           "heavy_ball_rate",
           "momentum_phase",
           "optimal_momentum",
           "trajectory",
]
