"""optlib.objectives: analytic gradients, the lecture's numbers, minima and the Bumpy story."""

import numpy as np
import pytest

from optlib import objectives
from optlib.objectives import (
    OBJECTIVES,
    Beale,
    Bowl,
    Bumpy,
    Composite,
    Himmelblau,
    LogSquare,
    Quadratic,
    Rosenbrock,
    Saddle,
)

ALL = [Quadratic(1.0), Quadratic(20.0), Composite(), LogSquare(), Bumpy(), Bowl(1.0, 10.0), Bowl(2.0, 0.5),
       Rosenbrock(), Rosenbrock(2.0, 10.0), Beale(), Saddle(), Himmelblau()]
IDS = [f"{type(f).__name__}-{f.formula}" for f in ALL]


def value(f, x):
    """f(x) as a Python float (1-D objectives return an array shaped like x)."""
    return np.asarray(f(x)).item()


def central_difference(f, x, h=1e-6):
    """∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / 2h, with h scaled to |x_i|."""
    g = np.zeros_like(x)
    for i in range(x.size):
        step = h * max(1.0, abs(x[i]))
        e = np.zeros_like(x)
        e[i] = step
        g[i] = (value(f, x + e) - value(f, x - e)) / (2 * step)
    return g


def random_points(f, rng, n=8):
    box = np.array(f.domain, dtype=float)
    points = rng.uniform(box[:, 0], box[:, 1], size=(n, f.dim))
    return points[np.all(np.abs(points) > 0.05, axis=1)]  # keep away from LogSquare's pole


@pytest.mark.parametrize("f", ALL, ids=IDS)
def test_gradient_matches_finite_differences(f):
    rng = np.random.default_rng(0)
    for x in random_points(f, rng):
        numeric = central_difference(f, x)
        scale = np.abs(f.grad(x)).max() + 1.0  # relative to the gradient's size, so near-zeros don't fail
        np.testing.assert_allclose(f.grad(x), numeric, rtol=1e-6, atol=1e-6 * scale)


@pytest.mark.parametrize("f", ALL, ids=IDS)
def test_shapes_and_attributes(f):
    assert f.name and f.formula and f.dim in (1, 2)
    assert np.array(f.domain).shape == (f.dim, 2)
    assert np.all(np.array(f.domain)[:, 0] < np.array(f.domain)[:, 1])
    x = np.atleast_1d(np.asarray(f.x0, dtype=float)) + 0.1
    assert x.shape == (f.dim,)
    assert np.ndim(f(x)) == (1 if f.dim == 1 else 0)
    assert f.grad(x).shape == (f.dim,)
    assert f.minimum is None or f.minimum.shape[1] == f.dim
    if f.dim == 1:                      # 1-D: elementwise, a float gives a float
        assert np.ndim(f(2.5)) == 0 and np.ndim(f.grad(2.5)) == 0
        xs = np.linspace(0.5, 3.0, 7)
        np.testing.assert_allclose(f(xs), [f(float(v)) for v in xs], rtol=1e-15)
        np.testing.assert_allclose(f.grad(xs), [f.grad(float(v)) for v in xs], rtol=1e-15)
    else:                               # 2-D: coordinates on the leading axis, grids in one call
        X, Y, Z = f.contour_grid(n=9)
        assert X.shape == Y.shape == Z.shape == (9, 9)
        assert Z[3, 5] == pytest.approx(f(np.array([X[3, 5], Y[3, 5]])), rel=1e-15)
        G = f.grad(np.stack([X, Y]))
        assert G.shape == (2, 9, 9)
        np.testing.assert_allclose(G[:, 3, 5], f.grad(np.array([X[3, 5], Y[3, 5]])), rtol=1e-15)


@pytest.mark.parametrize("f", [f for f in ALL if f.minimum is not None], ids=lambda f: f.formula)
def test_minima_are_stationary_and_lowest(f):
    rng = np.random.default_rng(1)
    best = min(value(f, m) for m in f.minimum)
    for m in f.minimum:
        np.testing.assert_allclose(f.grad(m), 0.0, atol=1e-12)
    # no point of the plot box is lower than the (global) minimum
    assert all(value(f, x) >= best - 1e-12 for x in random_points(f, rng, 500))


def test_composite_lecture_numbers():
    f = Composite()
    assert f.grad(3.0) == 8757.0                     # u = 18: (3 * 324 + 1) * 9
    for lr, x1 in [(0.01, -84.57), (0.001, -5.757), (0.0005, -1.3785), (0.0001, 2.1243)]:
        assert 3.0 - lr * f.grad(3.0) == pytest.approx(x1, abs=1e-9)


def test_log_square_lecture_numbers():
    f = LogSquare()
    np.testing.assert_allclose(f.grad(np.array([9.0, -2.0, 0.5])), [2 / 9, -1.0, 4.0], rtol=1e-15)
    x, path = 9.0, []
    for _ in range(4):                              # lr = 10 throws the point across 0
        x = x - 10 * f.grad(x)
        path.append(x)
    assert path[:3] == pytest.approx([6.778, 3.827, -1.399], abs=5e-4)
    # The lecture's x4 = 12.897 comes from the rounded x3 = -1.399; in full precision x4 = 12.8955.
    assert path[3] == pytest.approx(12.8955, abs=5e-5)
    assert -1.399 - 10 * f.grad(-1.399) == pytest.approx(12.897, abs=5e-4)


def test_quadratic_lecture_numbers():
    x = 70.0
    for expected in (56.0, 44.8, 35.84, 28.672):    # x^2, lr = 0.1: x *= 0.8
        x -= 0.1 * Quadratic(1.0).grad(x)
        assert x == pytest.approx(expected, rel=1e-14)
    x = 2.0
    for expected in (-6.0, 18.0, -54.0, 162.0):     # 20 x^2, lr = 0.1: x *= -3
        x -= 0.1 * Quadratic(20.0).grad(x)
        assert x == pytest.approx(expected, rel=1e-14)


def test_saddle_is_stationary_but_not_a_minimum():
    f = Saddle()
    np.testing.assert_array_equal(f.grad(f.saddle_point), [0.0, 0.0])
    assert f(np.array([0.0, 0.1])) < f(f.saddle_point) < f(np.array([0.1, 0.0]))


def descend(f, x, lr, beta, steps=2000):
    """Heavy ball, torch form: b = β b + g, x -= lr b (β = 0 is plain gradient descent)."""
    b = 0.0
    for _ in range(steps):
        b = beta * b + f.grad(x)
        x = x - lr * b
    return x


@pytest.mark.parametrize("lr", [0.01, 0.02, 0.03, 0.05])
def test_bumpy_momentum_rolls_past_the_local_minimum(lr):
    f = Bumpy()
    global_min, local_min = f.minimum[:, 0]
    assert f(global_min) < f(local_min)
    assert descend(f, -3.2, lr, beta=0.0) == pytest.approx(local_min, abs=1e-6)    # GD gets stuck
    assert descend(f, -3.2, lr, beta=0.9) == pytest.approx(global_min, abs=1e-6)   # momentum rolls over
    assert descend(f, 3.5, lr, beta=0.0) == pytest.approx(global_min, abs=1e-6)    # the RMSProp start


def test_bumpy_has_exactly_two_minima_in_its_box():
    f = Bumpy()
    xs = np.linspace(*f.domain[0], 100001)
    y = f(xs)
    is_min = (y[1:-1] < y[:-2]) & (y[1:-1] < y[2:])
    np.testing.assert_allclose(np.sort(xs[1:-1][is_min]), np.sort(f.minimum[:, 0]), atol=1e-3)


def test_bad_input():
    with pytest.raises(ValueError, match="x must have shape \\(2, ...\\) for Rosenbrock, got shape \\(3,\\)"):
        Rosenbrock()(np.zeros(3))
    with pytest.raises(ValueError, match="Expected positive a, but got 0"):
        Quadratic(0)
    with pytest.raises(ValueError, match="Expected positive a and b, but got a=1, b=-1"):
        Bowl(1, -1)
    with pytest.raises(ValueError, match="contour_grid needs a 2-D objective"):
        Quadratic().contour_grid()


def test_registry():
    assert all(isinstance(f, objectives.Objective) for f in OBJECTIVES.values())
    assert {"Rosenbrock", "bumpy", "composite", "saddle"} <= set(OBJECTIVES)
    assert all(name == f.name for name, f in OBJECTIVES.items())


# -- Noisy: the seeded noisy-gradient wrapper -------------------------------------------------------

def test_noisy_gradient_is_exact_plus_seeded_gaussian_noise():
    f = objectives.Noisy(Bowl(1.0, 10.0), 2.0, seed=5)
    x = np.array([1.0, -2.0])
    rng = np.random.default_rng(5)
    for _ in range(3):
        np.testing.assert_array_equal(f.grad(x), Bowl(1.0, 10.0).grad(x) + 2.0 * rng.standard_normal(2))
    assert f(x) == Bowl(1.0, 10.0)(x)  # the value stays noise-free
    assert f.domain == Bowl(1.0, 10.0).domain and f.dim == 2 and "σ = 2" in f.name


def test_noisy_runs_replay_after_reset_and_noise_has_the_scale():
    import optlib
    f = objectives.Noisy(Quadratic(1.0), 3.0, seed=0)
    a = optlib.run(optlib.SGD(lr=0.1), f, 5.0, 50)
    f.reset()
    np.testing.assert_array_equal(optlib.run(optlib.SGD(lr=0.1), f, 5.0, 50), a)
    assert not np.array_equal(optlib.run(optlib.SGD(lr=0.1), f, 5.0, 50), a)  # without reset: new noise
    g = objectives.Noisy(Quadratic(1.0), 3.0, seed=1)
    draws = np.array([g.grad(np.array([0.0]))[0] for _ in range(4000)])
    assert abs(draws.mean()) < 0.15 and draws.std() == pytest.approx(3.0, rel=0.05)
    np.testing.assert_array_equal(objectives.Noisy(Quadratic(1.0), 0.0).grad(np.array([2.0])), [4.0])


@pytest.mark.parametrize("scale", [-1.0, float("nan"), float("inf"), "1"])
def test_noisy_rejects_bad_scales(scale):
    with pytest.raises(ValueError, match="Invalid noise scale"):
        objectives.Noisy(Quadratic(1.0), scale)
    with pytest.raises(TypeError, match="needs an objective with grad"):
        objectives.Noisy(lambda x: x, 1.0)


def test_noisy_per_coordinate_scale_on_flat_is_pure_noise():
    """Chapter 11's setting: zero gradient, noise of std 10 along x and 0.1 along y."""
    f = objectives.Noisy(objectives.Flat(2), [10.0, 0.1], seed=0)
    draws = np.array([f.grad(np.zeros(2)) for _ in range(3000)])
    np.testing.assert_allclose(draws.std(axis=0), [10.0, 0.1], rtol=0.05)
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(draws[:5], np.array([10.0, 0.1]) * rng.standard_normal((5, 2)))


def test_slope_has_gradient_one_everywhere():
    s = objectives.Slope()
    np.testing.assert_array_equal(s.grad(np.array([-3.0, 0.0, 7.0])), [1.0, 1.0, 1.0])
    assert s(2.5) == 2.5
