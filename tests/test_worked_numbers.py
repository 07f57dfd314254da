"""Every worked number of the lecture notes (shared/lecture-notes.md), reproduced with the numpy front.

The slides print truncated decimals (6.012 for 6.01295..., -27.77 for -27.774): `shown(value, printed)`
checks that the printed digits are the value's own digits, cut where the slide cut them.
"""

import math

import numpy as np
import pytest

import optlib
from optlib.averages import ewa_weights
from optlib.objectives import Bumpy, Composite, LogSquare, Quadratic


def shown(value, printed):
    """True if `printed` (as on the slide) is `value` truncated, or rounded, to the printed decimals."""
    text = repr(float(printed))
    decimals = len(text.split(".")[1]) if "." in text else 0
    scale = 10 ** decimals
    truncated = math.trunc(value * scale) / scale
    return math.isclose(truncated, printed, abs_tol=1e-9) or math.isclose(round(value, decimals), printed,
                                                                          abs_tol=1e-9)


def path(opt, objective, x0, steps, record=()):
    return optlib.run(opt, objective, x0, steps, record=record)


# ------------------------------------------------------------------------------ 1. gradient descent

def test_gd_on_x_squared_from_70():
    f = Quadratic(1.0)
    assert f.grad(70.0) == 140.0
    xs = path(optlib.SGD(lr=0.1), f, 70.0, 31)[:, 0]
    np.testing.assert_allclose(xs[1:5], [56.0, 44.8, 35.84, 28.672], rtol=1e-14)
    np.testing.assert_allclose(xs[1:] / xs[:-1], 0.8, rtol=1e-14)  # each step multiplies x by 0.8


SLIDE_VALUES = [6.012, 4.81, 3.84, 3.078, 2.46, 0.069]  # labelled x10..x14 and x30 on the slides


def test_slide_values_are_x11_to_x15_and_x31_not_x10_to_x14_and_x30():
    xs = path(optlib.SGD(lr=0.1), Quadratic(1.0), 70.0, 31)[:, 0]
    true_indices, slide_labels = [11, 12, 13, 14, 15, 31], [10, 11, 12, 13, 14, 30]
    for i, printed in zip(true_indices, SLIDE_VALUES):
        assert shown(xs[i], printed), (i, xs[i], printed)
    assert not any(shown(xs[i], printed) for i, printed in zip(slide_labels, SLIDE_VALUES))
    assert round(xs[11], 3) == 6.013 and xs[11] == pytest.approx(70 * 0.8 ** 11, rel=1e-13)


# --------------------------------------------------------------------------- 2. learning-rate pitfalls

def test_divergence_on_20_x_squared():
    f = Quadratic(20.0)
    assert f.grad(2.0) == 80.0  # f' = 40 x
    xs = path(optlib.SGD(lr=0.1), f, 2.0, 4)[:, 0]
    np.testing.assert_allclose(xs, [2.0, -6.0, 18.0, -54.0, 162.0], rtol=1e-14)  # x multiplied by 1 - 40 lr = -3


@pytest.mark.parametrize("lr, x1", [(0.01, -84.57), (0.001, -5.757), (0.0005, -1.3785), (0.0001, 2.1243)])
def test_composite_one_step(lr, x1):
    f = Composite()
    assert f.grad(3.0) == pytest.approx(8757.0, rel=1e-15)  # (3 u^2 + 1)(2x + 3) with u = 18
    assert optlib.SGD(lr=lr).step(3.0, f.grad(3.0)) == pytest.approx(x1, abs=1e-9)


def test_log_square_with_lr_10():
    xs = path(optlib.SGD(lr=10.0), LogSquare(), 9.0, 4)[:, 0]
    # the exact values (lecture notes) and the slides' truncations
    for x, exact, slide in zip(xs[1:4], [6.778, 3.827, -1.399], [6.77, 3.82, -1.39]):
        assert round(x, 3) == exact and shown(x, slide) and math.trunc(x * 100) / 100 == slide
    assert round(xs[4], 4) == 12.8955 and math.trunc(xs[4] * 100) / 100 == 12.89
    # the slide's 12.897 comes from stepping from the rounded x3 = -1.399
    assert abs(xs[4] - 12.897) > 1e-3
    assert round(optlib.SGD(lr=10.0).step(-1.399, LogSquare().grad(-1.399)), 3) == 12.897


def test_log_square_throws_the_point_across_zero():
    """Also on the slides with x0 = 1.5, lr = 0.2: the step 2 lr / x grows as x nears 0."""
    xs = path(optlib.SGD(lr=0.2), LogSquare(), 1.5, 10)[:, 0]
    assert np.all(np.isfinite(xs)) and np.any(np.diff(np.sign(xs)) != 0)
    steps = np.abs(np.diff(xs))
    np.testing.assert_allclose(steps, 0.4 / np.abs(xs[:-1]), rtol=1e-12)


# ----------------------------------------------------------------------------------------- 3. EWA

def test_ewa_weights_for_beta_09():
    np.testing.assert_allclose(ewa_weights(3, 0.9), [0.081, 0.09, 0.1], rtol=1e-13)
    series = [3, 8, 6, 5, 1, 9, 0, 8, 4]
    v3 = optlib.ewa(series, 0.9)[2]
    assert v3 == pytest.approx(0.081 * 3 + 0.09 * 8 + 0.1 * 6, rel=1e-14)
    # Adam's first moment is the same EWA of the gradients it is fed
    adam = optlib.Adam(lr=0.1, betas=(0.9, 0.999))
    x = 0.0
    for g in series[:3]:
        x = adam.step(x, float(g))
    assert adam.state["m"] == pytest.approx(v3, rel=1e-14)


@pytest.mark.parametrize("beta, points", [(0.9, 10), (0.98, 50), (0.5, 2)])
def test_ewa_averages_over_about_one_over_one_minus_beta_points(beta, points):
    assert 1 / (1 - beta) == pytest.approx(points)
    # the last `points` weights carry 1 - beta^points of the mass (about 1 - 1/e for beta near 1)
    w = ewa_weights(1000, beta)
    assert w[-points:].sum() == pytest.approx(1 - beta ** points, rel=1e-12)


# ------------------------------------------------------------------------------------- 5. RMSProp

def test_rmsprop_worked_example():
    opt = optlib.RMSprop(lr=0.1, alpha=0.9, eps=1e-7)
    xs, trace = path(opt, Quadratic(1.0), 9.0, 3, record=("v",))
    xs, s = xs[:, 0], trace["v"][:, 0]
    grads = 2 * xs
    assert grads[0] == 18.0
    for value, printed in [(s[0], 32.4), (xs[1], 8.6837), (grads[1], 17.36), (s[1], 59.3), (xs[2], 8.458),
                           (grads[2], 16.916), (s[2], 82.0), (xs[3], 8.27)]:
        assert shown(value, printed), (value, printed)
    # optlib (like torch) adds eps outside the sqrt; the slides' sqrt(s + eps) differs by < 1e-8 here
    x, s_ = 9.0, 0.0
    for t in range(3):
        g = 2 * x
        s_ = 0.9 * s_ + 0.1 * g * g
        x = x - 0.1 * g / math.sqrt(s_ + 1e-7)
        assert abs(x - xs[t + 1]) < 1e-8


# ------------------------------------------------------------------------------------ 6. momentum

def test_momentum_worked_example_in_the_slide_form():
    opt = optlib.SGD(lr=0.1, momentum=0.9)
    xs, trace = path(opt, Quadratic(1.0), 90.0, 5, record=("b",))
    xs, v = xs[1:, 0], 0.1 * trace["b"][:, 0]  # the slides' v = lr * torch's buffer b
    for value, printed in zip(v, [18.0, 30.6, 35.82, 33.354, 24.46]):
        assert shown(value, printed), (value, printed)
    for value, printed in zip(xs, [72.0, 41.4, 5.58, -27.77, -52.23]):
        assert shown(value, printed), (value, printed)
    # the slide form itself: v = beta v + lr g, x = x - v
    x, vv = 90.0, 0.0
    for t in range(5):
        vv = 0.9 * vv + 0.1 * 2 * x
        x -= vv
        assert x == pytest.approx(xs[t], abs=1e-12) and vv == pytest.approx(v[t], abs=1e-12)
    assert xs[4] < xs[3] < 0  # the overshoot


@pytest.mark.parametrize("lr", [0.01, 0.03, 0.05])
def test_momentum_rolls_over_the_local_minimum(lr):
    """Bumpy from x0 = -3.2: plain GD stops in the local minimum, heavy ball (beta 0.9) reaches the global one."""
    f = Bumpy()
    local, global_ = f.minimum[1, 0], f.minimum[0, 0]
    assert path(optlib.SGD(lr=lr), f, -3.2, 400)[-1, 0] == pytest.approx(local, abs=1e-6)
    assert path(optlib.SGD(lr=lr, momentum=0.9), f, -3.2, 400)[-1, 0] == pytest.approx(global_, abs=1e-6)
