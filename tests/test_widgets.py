"""optlib.widgets: the figures' data (every decision), the two renderers and the display outputs.

The explorer tests use tiny stand-ins (plain GD, heavy-ball momentum, a quadratic and a 2-D bowl) so they
depend only on the contract `opt.step(x, g) -> x_next` and objectives with __call__/grad/name/formula/domain/dim.
The browser tests of the player are in test_site.py.
"""

import json
import re
import shutil
import subprocess
import warnings

import numpy as np
import pytest

import optlib
from optlib import objectives as O
from optlib.widgets import (
    MAX_RUNS,
    axes,
    ewa_explorer,
    explore,
    figure,
    heavy_ball_rate,
    live,
    momentum_phase,
    mpl,
    optimal_momentum,
    player,
    trajectory,
)

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
    """f(x, y) = (x^2 + 10 y^2) / 2 on [-2, 2] x [-1.5, 1.5]."""
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
    return explore(lambda lr, momentum: GD(lr, momentum), [Quadratic(), Bowl()], SLIDERS, steps=40, title="t")


def player_data(html):
    m = re.search(r'<script type="application/json" class="ox-data">(.*?)</script>', html, re.DOTALL)
    return json.loads(m.group(1).replace("<\\/", "</"))


def frame_of(fig, **positions):
    """The data frame at control positions given by name (others: initial)."""
    data = fig.data()
    pos = [positions.get(c["name"], c["init"]) for c in data["controls"]]
    return data["frames"][fig.frame_number(pos)]


# ---------------------------------------------------------------------------------------------
# The model: runs through optlib.run, one definition of divergence
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("oi,lr,momentum", [(0, 0.1, 0.0), (0, 0.01, 0.9), (1, 0.05, 0.5), (1, 0.1, 0.0)])
def test_runs_equal_direct_computation_and_the_player_carries_them(ex, oi, lr, momentum):
    objective = ex.objectives[oi]
    path, losses, diverged = ex.frame(oi, lr=lr, momentum=momentum)
    x0 = objective.x0 if hasattr(objective, "x0") else (-2.0 + 0.1 * 4.0,)
    ref = direct(lr, momentum, objective, x0, 40)
    assert diverged is None
    np.testing.assert_allclose(path, ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(losses, [objective(p) for p in ref], rtol=1e-12, atol=1e-15)
    # the player's compact line decodes to the same points, to the quantum (1/2000 of the view)
    data = player_data(ex.to_html())
    pos = {"function": oi, "lr": SLIDERS["lr"].index(lr), "momentum": SLIDERS["momentum"].index(momentum)}
    f = data["frames"][ex.frame_number([pos[c["name"]] for c in data["controls"]])]
    scene = data["scenes"][f["pan"][0][0]]
    xy = axes.decode(data["lines"][f["pan"][0][1][0]])
    want = np.column_stack([ref[:, 0], [objective(p) for p in ref]]) if objective.dim == 1 else ref
    span = np.array([scene["xr"][1] - scene["xr"][0], scene["yr"][1] - scene["yr"][0]])
    assert np.all(np.abs(xy - want[:len(xy)]) <= span / axes.STEPS_PER_SPAN * 0.51 + 1e-9)


def test_divergence_is_what_optlib_run_says_and_raises_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e = explore(lambda lr: optlib.SGD(lr=lr), O.Quadratic(1.0), {"lr": [0.1, 1.5, 1e150]}, steps=200)
        e.to_html()
        e.png()
    status = {lr: e.data()["lines"][frame_of(e, lr=i)["pan"][0][1][0]]["s"] for i, lr in enumerate([0.1, 1.5, 1e150])}
    path, _, diverged = e.frame(0, lr=1e150)
    ref = optlib.run(optlib.SGD(lr=1e150), O.Quadratic(1.0), [9.0], 200)
    first_bad = int(np.argmax(~np.all(np.isfinite(ref), axis=1)))
    assert diverged == first_bad == 3 and np.all(np.isnan(path[diverged:]))
    assert status[1e150] == "diverged at step 3 (the iterate overflowed)"
    # lr 1.5 grows like 2^t: still finite after 200 steps, so not "diverged", but it leaves the picture
    assert e.frame(0, lr=1.5)[2] is None and status[1.5].startswith("left the plot at step")
    assert e.frame(0, lr=0.1)[2] is None and status[0.1].startswith("after 200 steps")


def test_trajectory_helper_and_optimizers_without_reset():
    path, losses, diverged = trajectory(GD(0.1), Bowl(), (1.0, 1.0), 5)
    assert path.shape == (6, 2) and losses.shape == (6,) and diverged is None
    np.testing.assert_allclose(path, direct(0.1, 0.0, Bowl(), (1.0, 1.0), 5))


def test_x0_slider_single_objective_and_initial_positions():
    e = explore(lambda lr: GD(lr), Quadratic(), {"lr": [0.1, 0.5], "x0": [-1.5, 1.0]}, steps=10)
    np.testing.assert_allclose(e.frame(0, lr=0.5, x0=1.0)[0], direct(0.5, 0.0, Quadratic(), [1.0], 10))
    assert [c["name"] for c in e.data()["controls"]] == ["lr", "x0"]
    sliders = {"lr": [0.01, 0.1, 0.5], "momentum": [0.0, 0.5, 0.9]}
    e = explore(lambda lr, momentum: GD(lr, momentum), Quadratic(), sliders, steps=5, initial={"lr": 0.5})
    assert e.initial == (2, 1)
    assert [c["init"] for c in player_data(e.to_html())["controls"]] == [2, 1]
    with pytest.raises(ValueError, match="not on the grid of slider 'lr'"):
        explore(lambda lr, momentum: GD(lr, momentum), Quadratic(), sliders, initial={"lr": 0.3})
    with pytest.raises(ValueError, match="initial names no slider: \\['beta'\\]"):
        explore(lambda lr, momentum: GD(lr, momentum), Quadratic(), sliders, initial={"beta": 0.9})


# ---------------------------------------------------------------------------------------------
# Compare mode and noise
# ---------------------------------------------------------------------------------------------

def test_compare_mode_overlays_optimizers_each_with_its_sliders():
    calls = []

    def heavy(lr, beta):
        calls.append(("heavy", lr, beta))
        return GD(lr, beta)

    e = explore({"GD": lambda lr: GD(lr), "heavy ball": heavy}, Bowl(), {"lr": [0.05, 0.1], "beta": [0.5, 0.9]},
                steps=30)
    assert e.accepts == {"GD": ["lr"], "heavy ball": ["lr", "beta"]}
    assert len(e._runs) == 2 + 4  # GD does not depend on beta: computed once per lr
    runs = e.runs(0, lr=0.1, beta=0.9)
    np.testing.assert_allclose(runs["GD"][0], direct(0.1, 0.0, Bowl(), Bowl.x0, 30))
    np.testing.assert_allclose(runs["heavy ball"][0], direct(0.1, 0.9, Bowl(), Bowl.x0, 30))
    data = e.data()
    f = frame_of(e)
    colors = [data["lines"][i]["c"] for i in f["pan"][0][1]]
    assert len(f["pan"][0][1]) == 2 and len(set(colors)) == 2
    legend = data["scenes"][f["pan"][0][0]]["lg"]
    assert [row[0] for row in legend[:2]] == ["GD", "heavy ball"] and [row[1] for row in legend[:2]] == colors
    texts, _ = figure.Figure.statuses(data, f)
    assert texts[0].startswith("GD: ") and texts[1].startswith("heavy ball: ")
    with pytest.raises(ValueError, match=r"slider\(s\) \['gamma'\] are taken by none"):
        explore({"GD": lambda lr: GD(lr), "HB": heavy}, Bowl(), {"lr": [0.1], "beta": [0.5], "gamma": [1]})


def test_noisy_gradients_are_seeded_and_shared_by_the_optimizers():
    e = explore({"a": lambda lr: optlib.SGD(lr=lr), "b": lambda lr: optlib.SGD(lr=lr)}, O.Bowl(1.0, 10.0),
                {"lr": [0.01, 0.05]}, noise=[0.0, 20.0], steps=50, seed=3)
    clean, noisy = e.runs(0, noise=0, lr=0.05), e.runs(0, noise=1, lr=0.05)
    np.testing.assert_allclose(clean["a"][0], optlib.run(optlib.SGD(lr=0.05), O.Bowl(1.0, 10.0), (-80.0, 40.0), 50))
    ref = optlib.run(optlib.SGD(lr=0.05), O.Noisy(O.Bowl(1.0, 10.0), 20.0, seed=3), (-80.0, 40.0), 50)
    np.testing.assert_allclose(noisy["a"][0], ref)
    np.testing.assert_array_equal(noisy["a"][0], noisy["b"][0])  # the same noise for every optimizer
    assert not np.allclose(noisy["a"][0], clean["a"][0])
    assert e.data()["controls"][-1] == {"name": "noise", "kind": "slider", "labels": ["0", "20"], "init": 0}


# ---------------------------------------------------------------------------------------------
# Decisions made once: frames, scales, ticks, controls
# ---------------------------------------------------------------------------------------------

def test_the_frame_fits_the_starts_and_the_runs_that_stay():
    """Chapter 1's case: x² on -10..10 with starts in ±3.5 is framed around ±3.5, not the whole domain."""
    e = explore(lambda lr: optlib.SGD(lr=lr), O.Quadratic(1.0), {"lr": [0.01, 0.1, 0.9, 1.05],
                "x0": [-3.5, -2.0, 1.0, 3.5]}, steps=60)
    xr = e.data()["scenes"][0]["xr"]
    assert -4.5 < xr[0] < -3.5 and 3.5 < xr[1] < 4.5
    # lr 1.05 grows out of the frame: said so, in Python, once
    f = frame_of(e, lr=3, x0=3)
    assert "left the plot at step" in e.data()["lines"][f["pan"][0][1][0]]["s"]


def test_log_axis_only_for_nonnegative_losses_with_correct_tick_labels():
    e = explore(lambda lr: optlib.SGD(lr=lr), [O.Bowl(1.0, 10.0), O.Saddle()], {"lr": [0.01, 0.05]}, steps=100)
    bowl_loss, saddle_loss = e.data()["scenes"][1], e.data()["scenes"][3]
    assert bowl_loss["yl"].endswith("log scale") and saddle_loss["yl"] == "f(x_t)"
    labels = [t[1] for t in bowl_loss["yt"]]
    assert len(labels) == len(set(labels)) >= 2  # never "1e2, 1e2, 1e1"
    for value, label in bowl_loss["yt"]:
        assert value == int(value) and label == axes._decade(int(value))
    assert axes.log_ticks(0.1, 0.9) == [[axes.rounded(np.log10(2), 6), "2"], [axes.rounded(np.log10(5), 6), "5"]]
    assert [t[1] for t in axes.log_ticks(-3.2, 2.5)] == ["10⁻³", "10⁻²", "0.1", "1", "10", "10²"]


def test_two_valued_options_are_toggles_and_categories_dropdowns():
    e = explore(lambda lr, nesterov, kind, opt: GD(lr), Quadratic(),
                {"lr": [0.1, 0.2], "nesterov": [False, True], "kind": ["a", "b", "c"], "opt": ["Adam", "AMSGrad"]},
                steps=3)
    assert [c["kind"] for c in e.data()["controls"]] == ["slider", "toggle", "dropdown", "buttons"]
    import ipywidgets as W
    CONTROLS = (W.SelectionSlider, W.Checkbox, W.Dropdown, W.ToggleButtons)
    kinds = [type(w) for w in e.widget().children if isinstance(w, CONTROLS)]
    assert kinds == [W.SelectionSlider, W.Checkbox, W.Dropdown, W.ToggleButtons]


def test_legend_is_below_the_panels_in_the_live_picture(ex):
    data = ex.data()
    png, boxes = mpl.render(data, data["frames"][0])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    import io

    from matplotlib.image import imread
    width = imread(io.BytesIO(png)).shape[1]
    assert 650 <= width <= 720  # the site's column
    assert min(b[1] for b in boxes) > 0.1  # room under the axes: the legend is there, not on the data


# ---------------------------------------------------------------------------------------------
# Click to start
# ---------------------------------------------------------------------------------------------

def test_click_grid_static_snaps_and_live_runs_from_the_exact_point():
    e = explore(lambda lr: GD(lr), Bowl(), {"lr": [0.05, 0.1]}, click=4, steps=20)
    data = e.data()
    start = data["controls"][0]
    assert start["kind"] == "hidden" and len(start["labels"]) == 16
    assert data["click"]["control"] == 0 and len(data["click"]["starts"][0]) == 32
    # every precomputed start is a real run from that grid point
    for si in (0, 5, 15):
        p = np.array(data["click"]["starts"][0][2 * si:2 * si + 2])
        np.testing.assert_allclose(e.runs(0, start=si, lr=0.1)[""][0], direct(0.1, 0.0, Bowl(), p, 20), atol=1e-5)
    # the default start is the grid point nearest Bowl.x0
    p0 = np.array(data["click"]["starts"][0][2 * start["init"]:2 * start["init"] + 2])
    assert np.linalg.norm(p0 - Bowl.x0) < 0.7
    # live: a click at the middle of the first panel runs from there, exactly
    state = {"positions": [0, 1], "point": None, "boxes": mpl.render(data, data["frames"][0])[1]}
    x0, y0, x1, y1 = state["boxes"][0]
    live.click_at(state, data, (x0 + x1) / 2, 1 - (y0 + y1) / 2)
    np.testing.assert_allclose(state["point"], [0.0, 0.0], atol=1e-9)
    live.click_at(state, data, 0.3 * x0 + 0.7 * x1, 1 - (0.8 * y0 + 0.2 * y1))
    _, extra = e.live_frame((0, 1), state["point"])
    xy = axes.decode(extra[0])
    np.testing.assert_allclose(xy[0], [0.8, -0.9], atol=2e-3)
    # with a dropdown of landscapes, the start control comes after it and each landscape has its scene
    two = explore(lambda lr: GD(lr), [Bowl(), O.Rosenbrock()], {"lr": [0.1]}, click=3, steps=5).data()
    assert [c["name"] for c in two["controls"]] == ["function", "start", "lr"]
    assert two["click"]["objective"] == 0 and two["click"]["control"] == 1 and two["click"]["scenes"] == [0, 2]
    assert two["scenes"][2]["xr"] == [-2.0, 2.0]  # Rosenbrock's whole domain: every start is on the picture
    with pytest.raises(ValueError, match="needs objectives of one dimension"):
        explore(lambda lr: GD(lr), [Bowl(), Quadratic()], {"lr": [0.1]}, click=3)
    with pytest.raises(ValueError, match="click=... and an 'x0' slider"):
        explore(lambda lr: GD(lr), Bowl(), {"lr": [0.1], "x0": [(0.0, 1.0)]}, click=3)


def test_the_page_data_stays_under_a_megabyte():
    with pytest.raises(ValueError, match="over 1 MB"):
        explore({"a": lambda lr: optlib.SGD(lr=lr), "b": lambda lr: optlib.Adam(lr=lr)}, O.Rosenbrock(),
                {"lr": [0.001, 0.003, 0.01, 0.03, 0.1]}, noise=[0, 1, 3], click=6, steps=200).data()
    with pytest.raises(ValueError, match="at most"):
        explore(lambda lr: GD(lr), Quadratic(), {"lr": list(np.linspace(0.01, 1, MAX_RUNS + 1))})


# ---------------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------------

def test_bad_arguments_name_the_value():
    ok = {"lr": [0.1]}
    with pytest.raises(TypeError, match="make_optimizer is 'Adam'"):
        explore("Adam", Quadratic(), ok)
    import torch
    with pytest.raises(TypeError, match="torch.optim.adam.Adam is a torch optimizer"):
        explore(torch.optim.Adam, Quadratic(), ok)
    with pytest.raises(TypeError, match="optlib.optim.Adam is a torch optimizer"):
        explore({"Adam": optlib.optim.Adam}, Quadratic(), ok)
    with pytest.raises(TypeError, match="slider 'lr' needs a sequence of values, got 0.1"):
        explore(lambda lr: GD(lr), Quadratic(), {"lr": 0.1})
    with pytest.raises(TypeError, match="not a plain function"):
        explore(lambda lr: GD(lr), lambda x: x ** 2, ok)
    with pytest.raises(ValueError, match="x0 must be a finite point, got"):
        explore(lambda lr: GD(lr), Quadratic(), ok, x0=float("nan"))
    with pytest.raises(ValueError, match="slider 'x0' must be a finite point"):
        explore(lambda lr: GD(lr), Quadratic(), {"lr": [0.1], "x0": [1.0, float("nan")]})
    with pytest.raises(ValueError, match="steps must be an integer in 1..200, got 0"):
        explore(lambda lr: GD(lr), Quadratic(), ok, steps=0)
    with pytest.raises(ValueError, match="noise scales must be finite numbers >= 0, got -1"):
        explore(lambda lr: GD(lr), Quadratic(), ok, noise=[0, -1])


# ---------------------------------------------------------------------------------------------
# Display: the player always, the live widget next to it (see figure.py for why two outputs)
# ---------------------------------------------------------------------------------------------

def test_display_outputs_player_first_then_live_widget(ex):
    bundles = ex.display_bundles()
    assert len(bundles) == 2
    assert set(bundles[0]) == {"text/plain", "text/html"} and 'data-optlib-explore="1"' in bundles[0]["text/html"]
    assert WIDGET_VIEW not in bundles[0]  # the player never waits for a widget model
    view = bundles[1][WIDGET_VIEW]
    assert view["version_major"] == 2 and view["model_id"] == ex.widget().model_id
    assert "<script" not in bundles[1]["text/html"]  # an empty stand-in: the site shows the player once
    assert "optlib-live" in ex.widget()._dom_classes  # what the player looks for to step aside


def test_player_is_self_contained_and_its_script_is_package_data(ex):
    html = ex.to_html()
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert player.asset("player.js").strip() in html and player.asset("player.css") in html
    assert html.count("<script") == 2
    # where scripts do not run (an untrusted notebook), a still picture of the first frame shows instead
    still = re.search(r'<img class="ox-still"[^>]* src="data:image/jpeg;base64,([^"]+)"', html)
    import base64
    assert base64.b64decode(still.group(1))[:2] == b"\xff\xd8"  # a JPEG
    assert '<div class="ox-plots" style="display:none">' in html


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_player_script_parses():
    from importlib import resources
    path = resources.files("optlib.widgets").joinpath("player.js")
    proc = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_live_widget_redraws_on_every_control(ex):
    import ipywidgets as W
    box = ex.widget()
    controls = [c for c in box.children if isinstance(c, (W.SelectionSlider, W.Dropdown))]
    assert [c.description for c in controls] == ["function", "lr", "momentum"]
    image = next(c for c in box.children if isinstance(c, W.Image))
    for c in controls:
        before = image.value
        c.value = 0 if c.value != 0 else 1
        assert image.value != before


# ---------------------------------------------------------------------------------------------
# The two new views
# ---------------------------------------------------------------------------------------------

def test_ewa_explorer_shows_smoothing_against_lag():
    e = ewa_explorer(betas=(0.5, 0.9, 0.98))
    data = e.data()
    assert [c["kind"] for c in data["controls"]] == ["slider", "toggle"]
    lags, rms = [], []
    for bi, b in enumerate(e.betas):
        plain, fixed = frame_of(e, beta=bi, **{"bias correction": 0}), frame_of(e, beta=bi, **{"bias correction": 1})
        assert len(fixed["pan"][0][1]) == len(plain["pan"][0][1]) + 1  # the corrected average appears
        lags.append(int(re.search(r"lag: (\d+) steps", plain["st"][1]).group(1)))
        rms.append(float(re.search(r"by the lag: ([\d.]+)", plain["st"][1]).group(1)))
        v = axes.decode(data["lines"][plain["pan"][0][1][-1]])[:, 1]
        np.testing.assert_allclose(v, optlib.ewa(e.series, b), atol=(data["scenes"][0]["yr"][1] - data["scenes"][0]["yr"][0]) / 1000)
    assert lags == sorted(lags) and lags[-1] > lags[0]  # more smoothing, more lag
    noise = float(np.std(e.series - e.signal))
    assert max(rms[0], rms[1]) < 0.7 * noise  # beta 0.5 and 0.9 smooth the noise away ...
    assert rms[2] > rms[1]  # ... and 0.98 averages over most of a period: it flattens the wave itself


def test_heavy_ball_rate_matches_simulation_and_polyaks_optimum():
    kappa = 50.0
    f = O.Bowl(0.5 / kappa, 0.5)  # f = ½(x²/κ + y²): eigenvalues 1/κ and 1
    for lr, beta in [(0.5, 0.5), (1.5, 0.8), (0.1, 0.95)]:
        path = optlib.run(optlib.SGD(lr=lr, momentum=beta), f, (1.0, 1.0), 2000)
        err = np.linalg.norm(path, axis=1)
        measured = (err[1999] / err[999]) ** (1 / 1000)
        assert measured == pytest.approx(float(heavy_ball_rate(lr, beta, (1 / kappa, 1.0))), rel=2e-3)
    lr, beta, rho = optimal_momentum(kappa)
    assert float(heavy_ball_rate(lr, beta, (1 / kappa, 1.0))) == pytest.approx(rho, rel=1e-6)
    grid = heavy_ball_rate(*np.meshgrid(np.geomspace(0.01, 4, 80), np.linspace(0, 0.99, 80)), (1 / kappa, 1.0))
    assert grid.min() >= rho - 1e-9  # nothing on the grid beats the optimum


def test_momentum_phase_marks_the_choice_and_the_optimum():
    m = momentum_phase(kappas=(10, 100))
    data = m.data()
    assert [c["name"] for c in data["controls"]] == ["kappa", "lr", "beta"]
    f = frame_of(m, kappa=1, lr=3, beta=5)
    marks = {k: (x, y) for x, y, k in f["pan"][0][2]}
    assert marks["choice"] == (pytest.approx(np.log10(m.lrs[3]), abs=1e-5), m.betas[5])
    lr_opt, beta_opt, _ = optimal_momentum(100)
    assert marks["min"] == (pytest.approx(np.log10(lr_opt), abs=1e-5), pytest.approx(beta_opt, abs=1e-5))
    assert data["scenes"][1]["img"].startswith("data:image/jpeg;base64,")
    diverging = frame_of(m, kappa=1, lr=len(m.lrs) - 1, beta=0)
    assert diverging["bad"] and "diverges" in diverging["st"][0]


def test_live_click_through_ipyevents_restarts_the_run_there():
    pytest.importorskip("ipyevents")
    import ipywidgets as W
    e = explore(lambda lr: GD(lr), Bowl(), {"lr": [0.05, 0.1]}, click=4, steps=20)
    box = e.widget()
    image = next(c for c in box.children if isinstance(c, W.Image))
    status = [c for c in box.children if isinstance(c, W.HTML)][-1]
    before_image, before_status = image.value, status.value
    boxes = mpl.render(e.data(), e.data()["frames"][0])[1]
    x0, y0, x1, y1 = boxes[0]
    # what the browser sends on a click at the centre of the landscape panel (a 700 x 400 picture)
    image._optlib_event._handle_mouse_msg(None, {"event": "click", "relativeX": 700 * (x0 + x1) / 2,
                                                 "relativeY": 400 * (1 - (y0 + y1) / 2),
                                                 "boundingRectWidth": 700, "boundingRectHeight": 400}, [])
    assert image.value != before_image and status.value != before_status
    # started at the minimum (0, 0) (to rounding): it stays there
    assert float(re.search(r"f = ([-+\d.e]+)", status.value).group(1)) < 1e-30
