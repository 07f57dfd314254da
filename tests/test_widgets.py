"""optlib.widgets.explore: one output that is a live widget in a kernel and an HTML player on the site.

Uses tiny stand-ins (plain GD, heavy-ball momentum, a quadratic and a 2-D bowl) so the tests depend only
on the contract `opt.step(x, g) -> x_next` and objectives with __call__/grad/name/formula/domain/dim.
"""

import json
import re
import warnings

import numpy as np
import pytest

from optlib.widgets import MAX_FRAMES, Explorer, explore, trajectory

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class GD:
    def __init__(self, lr, momentum=0.0):
        self.lr, self.momentum, self.v = lr, momentum, None

    def step(self, x, g):
        self.v = g if self.v is None else self.momentum * self.v + g
        return x - self.lr * self.v


class Quadratic:
    """f(x) = a x^2 / 2 on [-2, 2]."""
    dim, name = 1, "quadratic"
    domain = ((-2.0, 2.0),)

    def __init__(self, a=1.0):
        self.a = a
        self.formula = rf"f(x) = \tfrac{{{a:g}}}{{2}} x^2"

    def __call__(self, x):
        return 0.5 * self.a * np.sum(np.square(x))

    def grad(self, x):
        return self.a * np.asarray(x, dtype=float)


class Bowl:
    """f(x, y) = (a x^2 + b y^2) / 2 on [-2, 2] x [-1.5, 1.5]."""
    dim, name, formula = 2, "bowl", r"f(x, y) = \tfrac12 (x^2 + 10 y^2)"
    domain = ((-2.0, 2.0), (-1.5, 1.5))
    x0 = (-1.8, 1.0)

    def __call__(self, x):
        x = np.asarray(x, dtype=float)
        return 0.5 * (x[0] ** 2 + 10 * x[1] ** 2)

    def grad(self, x):
        x = np.asarray(x, dtype=float)
        return np.array([x[0], 10 * x[1]])


def direct(lr, momentum, objective, x0, steps):
    """The trajectory computed without explore: the reference."""
    opt, x = GD(lr, momentum), np.atleast_1d(np.array(x0, dtype=float))
    path = [x]
    for _ in range(steps):
        x = opt.step(x, objective.grad(x))
        path.append(x)
    return np.array(path)


SLIDERS = {"lr": [0.01, 0.05, 0.1, 0.19, 0.25], "momentum": [0.0, 0.5, 0.9]}


@pytest.fixture(scope="module")
def ex():
    return explore(lambda lr, momentum: GD(lr, momentum), [Quadratic(), Bowl()], SLIDERS, steps=40,
                   title="GD with momentum")


def test_mimebundle_has_widget_view_and_html(ex):
    bundle = ex._repr_mimebundle_()
    assert WIDGET_VIEW in bundle and "text/html" in bundle and "text/plain" in bundle
    view = bundle[WIDGET_VIEW]
    assert view["version_major"] == 2 and view["model_id"] == ex.widget().model_id
    assert 'data-optlib-explore="1"' in bundle["text/html"] and "<script>" in bundle["text/html"]


def test_kernel_displays_live_widget(ex):
    """In a kernel (JupyterLab), the widget view is what is displayed: IPython's formatter keeps it."""
    from IPython.core.formatters import DisplayFormatter
    data, _ = DisplayFormatter().format(ex)
    assert WIDGET_VIEW in data and "text/html" in data
    import ipywidgets as W
    box = ex.widget()
    sliders = [c for c in box.children if isinstance(c, W.SelectionSlider)]
    assert [s.description for s in sliders] == ["lr", "momentum"]
    image = next(c for c in box.children if isinstance(c, W.Image))
    before = image.value
    sliders[0].value = 0
    assert image.value != before  # moving a slider redraws at once


@pytest.mark.parametrize("oi,lr,momentum", [(0, 0.1, 0.0), (0, 0.01, 0.9), (1, 0.05, 0.5), (1, 0.1, 0.0)])
def test_frames_equal_direct_computation(ex, oi, lr, momentum):
    objective = ex.objectives[oi]
    path, losses, diverged = ex.frame(oi, lr=lr, momentum=momentum)
    x0 = objective.x0 if hasattr(objective, "x0") else (-2.0 + 0.1 * 4.0,)
    ref = direct(lr, momentum, objective, x0, 40)
    assert diverged is None
    np.testing.assert_allclose(path, ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(losses, [objective(p) for p in ref], rtol=1e-12, atol=1e-15)
    # ... and the numbers embedded in the HTML player are those, to 5 significant digits
    k = oi * 15 + SLIDERS["lr"].index(lr) * 3 + SLIDERS["momentum"].index(momentum)
    frame = player_data(ex.to_html())["frames"][k]
    np.testing.assert_allclose(np.array(frame["p"]), ref, rtol=1e-4, atol=1e-12)


def player_data(html):
    m = re.search(r'<script type="application/json" class="ox-data">(.*?)</script>', html, re.S)
    return json.loads(m.group(1).replace("<\\/", "</"))


def test_html_has_every_frame(ex):
    data = player_data(ex.to_html())
    assert len(data["frames"]) == 2 * 5 * 3 == len(ex.frames)
    assert [s["labels"] for s in data["sliders"]] == [["0.01", "0.05", "0.1", "0.19", "0.25"], ["0", "0.5", "0.9"]]
    assert data["objectives"][1]["image"].startswith("data:image/png;base64,")
    html = ex.to_html()
    assert not re.search(r"""(src|href)=["']https?://""", html)  # self-contained
    assert html.count('class="ox-slider"') == 2 and "<select" in html


def test_extreme_values_diverge_without_warnings():
    sliders = {"lr": [0.1, 3.0, 1e150], "momentum": [0.0, 0.99]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e = explore(lambda lr, momentum: GD(lr, momentum), [Quadratic(), Bowl()], sliders, steps=100)
        html = e.to_html()
        e._repr_mimebundle_()
    for oi in (0, 1):
        assert e.frame(oi, lr=0.1, momentum=0.0)[2] is None
        for lr in (3.0, 1e150):
            path, losses, diverged = e.frame(oi, lr=lr, momentum=0.0)
            assert diverged is not None and 1 <= diverged <= 100
            assert np.all(np.isnan(path[diverged + 1:]))
            # divergence is shown: the last kept point is far outside the box, and the player says so
            assert "diverged at step" in e._status_html(oi, e.frame_index(lr=lr, momentum=0.0))
    # per objective, lr-major, 3 x 2 runs; heavy ball is stable for lr * curvature < 2 (1 + momentum):
    # lr = 3 with momentum 0.99 still converges on the quadratic (curvature 1), not on the bowl (10)
    frames = player_data(html)["frames"]
    assert [f["d"] is not None for f in frames] == [False, False, True, False, True, True,
                                                     False, False, True, True, True, True]


def test_x0_slider_and_single_objective():
    e = explore(lambda lr: GD(lr), Quadratic(), {"lr": [0.1, 0.5], "x0": [-1.5, 1.0]}, steps=10)
    path, _, _ = e.frame(0, lr=0.5, x0=1.0)
    np.testing.assert_allclose(path, direct(0.5, 0.0, Quadratic(), [1.0], 10))
    assert "<select" not in e.to_html()


def test_direct_trajectory_helper_matches_contract():
    path, losses, diverged = trajectory(GD(0.1), Bowl(), (1.0, 1.0), 5)
    assert path.shape == (6, 2) and losses.shape == (6,) and diverged is None


def test_too_many_frames_is_a_clear_error():
    with pytest.raises(ValueError, match="at most"):
        explore(lambda lr: GD(lr), Quadratic(), {"lr": list(np.linspace(0.01, 1, MAX_FRAMES + 1))})
    assert isinstance(explore(lambda lr: GD(lr), Quadratic(), {"lr": [0.1]}, steps=3), Explorer)


def test_initial_slider_positions():
    sliders = {"lr": [0.01, 0.1, 0.5], "momentum": [0.0, 0.5, 0.9]}
    e = explore(lambda lr, momentum: GD(lr, momentum), Quadratic(), sliders, steps=5, initial={"lr": 0.5})
    assert e.initial == (2, 1)  # lr where asked, momentum in the middle
    np.testing.assert_allclose(e.frame(0)[0], direct(0.5, 0.5, Quadratic(), (-1.6,), 5))
    assert [s["init"] for s in player_data(e.to_html())["sliders"]] == [2, 1]
    assert [s.value for s in e.widget().children if hasattr(s, "options")] == [2, 1]
    with pytest.raises(ValueError, match="not on the grid of slider 'lr'"):
        explore(lambda lr, momentum: GD(lr, momentum), Quadratic(), sliders, initial={"lr": 0.3})
    with pytest.raises(ValueError, match="initial names no slider: \\['beta'\\]"):
        explore(lambda lr, momentum: GD(lr, momentum), Quadratic(), sliders, initial={"beta": 0.9})
