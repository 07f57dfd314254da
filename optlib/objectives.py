"""Objectives for the 1-D and 2-D demos: a value, an analytic gradient and what a plot needs.

Every objective has ``f(x)`` (the value), ``f.grad(x)``, and the attributes ``name``, ``formula``
(LaTeX), ``dim``, ``domain`` (the plot box: ``((xmin, xmax),)`` or ``((xmin, xmax), (ymin, ymax))``),
``x0`` (a default starting point) and ``minimum`` (the known minimizers as an array of shape
(k, dim), or None).

Shapes. A 2-D objective takes ``x`` with the coordinates on the *leading* axis: ``x`` of shape
(2,) gives a number and a gradient of shape (2,); ``x`` of shape (2, ...) evaluates a whole grid at
once, e.g. ``f(np.stack([X, Y]))`` for a contour plot (``f.contour_grid()`` does that for you).
A 1-D objective works elementwise: a float gives a float, an array an array of the same shape
(so ``f(np.linspace(-4, 4, 200))`` is the curve and ``f.grad(np.array([x]))`` has shape (1,)).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "OBJECTIVES",
    "Beale",
    "Bowl",
    "Bumpy",
    "Composite",
    "Himmelblau",
    "LogSquare",
    "Noisy",
    "Objective",
    "Quadratic",
    "Rosenbrock",
    "Saddle",
]


def _times(a: float) -> str:
    """'' for a coefficient of 1, else 'a ' (so formulas read x^2 + 10 y^2, not 1 x^2 + 10 y^2)."""
    return "" if a == 1 else f"{a:g} "


class Objective:
    """Base class: a subclass sets the attributes and writes ``value(*coords)`` and
    ``partials(*coords)`` (the tuple of partial derivatives) in plain numpy."""

    name: str = ""
    formula: str = ""
    dim: int = 2
    domain: tuple[tuple[float, float], ...] = ((-1.0, 1.0), (-1.0, 1.0))
    x0: Any = None  # a number (1-D) or an array of shape (dim,)
    minimum: np.ndarray | None = None

    # unannotated: each subclass fixes the number of coordinates (x, or x and y), which the type system
    # cannot express as an override of a variadic signature
    def value(self, *coords):
        raise NotImplementedError

    def partials(self, *coords):
        raise NotImplementedError

    def _coords(self, x: ArrayLike) -> tuple[np.ndarray, ...]:
        x = np.asarray(x, dtype=float)
        if self.dim == 1:
            return (x,)
        if x.ndim == 0 or x.shape[0] != self.dim:
            raise ValueError(f"x must have shape ({self.dim}, ...) for {self.name}, got shape {x.shape}")
        return tuple(x)

    def __call__(self, x: ArrayLike) -> np.ndarray:
        return self.value(*self._coords(x))

    def grad(self, x: ArrayLike) -> np.ndarray:
        g = self.partials(*self._coords(x))
        if self.dim == 1:
            return g[0]
        return np.stack(np.broadcast_arrays(*g))  # a constant partial still gets the grid's shape

    def contour_grid(self, n: int = 200, domain: tuple[tuple[float, float], ...] | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``X, Y, Z`` on an n x n grid over ``domain`` (default: the objective's), for ``plt.contour``."""
        if self.dim != 2:
            raise ValueError(f"contour_grid needs a 2-D objective; {self.name} has dim {self.dim}")
        (x0, x1), (y0, y1) = domain if domain is not None else self.domain
        X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
        return X, Y, self(np.stack([X, Y]))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}: f = {self.formula}>"


# -- 1-D ------------------------------------------------------------------------------------------
class Quadratic(Objective):
    """f(x) = a x², f'(x) = 2 a x. The lecture's x² (a = 1) and the diverging 20 x² (a = 20)."""

    dim = 1

    def __init__(self, a: float = 1.0) -> None:
        if not a > 0:
            raise ValueError(f"Expected positive a, but got {a}")
        self.a = a
        self.name = f"{_times(a)}x²"
        self.formula = f"{_times(a)}x^2"
        self.domain = ((-10.0, 10.0),)
        self.x0 = 9.0
        self.minimum = np.array([[0.0]])

    def value(self, x: np.ndarray) -> np.ndarray:
        return self.a * x ** 2

    def partials(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        return (2 * self.a * x,)


class Composite(Objective):
    """u = x² + 3x, f = u³ + u + 2; by the chain rule f'(x) = (3u² + 1)(2x + 3).

    The lecture's x0 = 3 gives u = 18 and f'(3) = 973 · 9 = 8757. The only stationary point is
    x = -3/2 (where 2x + 3 = 0), the global minimum.
    """

    dim = 1
    name = "composite"
    formula = r"(x^2 + 3x)^3 + (x^2 + 3x) + 2"
    domain = ((-4.5, 3.5),)
    x0 = 3.0
    minimum = np.array([[-1.5]])

    def value(self, x: np.ndarray) -> np.ndarray:
        u = x ** 2 + 3 * x
        return u ** 3 + u + 2

    def partials(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        u = x ** 2 + 3 * x
        return ((3 * u ** 2 + 1) * (2 * x + 3),)


class LogSquare(Objective):
    """f(x) = log(x²), f'(x) = 2 / x. Unbounded below at x = 0, so no minimum; the gradient grows
    near 0 and a fixed lr throws the iterate across (lecture: x0 = 9, lr = 10)."""

    dim = 1
    name = "log-square"
    formula = r"\log(x^2)"
    domain = ((-15.0, 15.0),)
    x0 = 9.0
    minimum = None

    def value(self, x: np.ndarray) -> np.ndarray:
        return np.log(x ** 2)

    def partials(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        return (2 / x,)


class Bumpy(Objective):
    """f(x) = x² − 2.5 sin 2x, f'(x) = 2x − 5 cos 2x: a parabola with a wiggle.

    Global minimum at x ≈ 0.6532 (f ≈ −1.986), a local one at x ≈ −1.9187 (f ≈ 2.079) behind a
    barrier of about 1.2. From the lecture's x0 = −3.2 plain gradient descent (lr 0.01 … 0.05) stops
    in the local minimum; heavy-ball momentum with β = 0.9 and the same lrs rolls over the barrier
    into the global one. From x0 = 3.5 (the RMSProp demo) everything runs downhill to the global one.
    """

    dim = 1
    name = "bumpy"
    formula = r"x^2 - 2.5 \sin 2x"
    domain = ((-4.0, 4.0),)
    x0 = -3.2
    # Newton-polished roots of f' (|f'| < 1e-15); the global minimizer first.
    minimum = np.array([[0.6532200041847555], [-1.9187335532495244]])

    def value(self, x: np.ndarray) -> np.ndarray:
        return x ** 2 - 2.5 * np.sin(2 * x)

    def partials(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        return (2 * x - 5 * np.cos(2 * x),)


# -- 2-D ------------------------------------------------------------------------------------------
class Bowl(Objective):
    """f(x, y) = a x² + b y², ∇f = (2 a x, 2 b y): an ill-conditioned bowl when b ≫ a
    (condition number b / a). The lecture's x² + 10 y² on −100..100."""

    def __init__(self, a: float = 1.0, b: float = 10.0) -> None:
        if not (a > 0 and b > 0):
            raise ValueError(f"Expected positive a and b, but got a={a}, b={b}")
        self.a, self.b = a, b
        self.name = f"bowl {_times(a)}x² + {_times(b)}y²"
        self.formula = f"{_times(a)}x^2 + {_times(b)}y^2"
        self.domain = ((-100.0, 100.0), (-100.0, 100.0))
        self.x0 = (-80.0, 40.0)
        self.minimum = np.array([[0.0, 0.0]])

    def value(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.a * x ** 2 + self.b * y ** 2

    def partials(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
        return 2 * self.a * x, 2 * self.b * y


class Rosenbrock(Objective):
    """f(x, y) = (a − x)² + b (y − x²)²; ∇f = (−2(a − x) − 4 b x (y − x²), 2 b (y − x²)).
    A curved, flat-bottomed valley; minimum at (a, a²)."""

    def __init__(self, a: float = 1.0, b: float = 100.0) -> None:
        self.a, self.b = a, b
        self.name = "Rosenbrock"
        self.formula = f"({a:g} - x)^2 + {_times(b)}(y - x^2)^2"
        self.domain = ((-2.0, 2.0), (-1.0, 3.0))
        self.x0 = (-1.5, 2.0)
        self.minimum = np.array([[a, a ** 2]])

    def value(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (self.a - x) ** 2 + self.b * (y - x ** 2) ** 2

    def partials(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
        return -2 * (self.a - x) - 4 * self.b * x * (y - x ** 2), 2 * self.b * (y - x ** 2)


class Beale(Objective):
    """f(x, y) = Σ_i (c_i − x + x yⁱ)², c = (1.5, 2.25, 2.625), i = 1, 2, 3; minimum at (3, 0.5).
    Flat plateaus and steep ridges."""

    name = "Beale"
    formula = r"(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2"
    domain = ((-4.5, 4.5), (-4.5, 4.5))
    x0 = (1.0, 1.5)
    minimum = np.array([[3.0, 0.5]])
    C = (1.5, 2.25, 2.625)

    def value(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return sum((c - x + x * y ** i) ** 2 for i, c in enumerate(self.C, start=1))

    def partials(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
        # d/dx (c - x + x y^i)^2 = 2 r (y^i - 1),  d/dy = 2 r i x y^(i-1)
        residuals = [(i, c - x + x * y ** i) for i, c in enumerate(self.C, start=1)]
        return (sum(2 * r * (y ** i - 1) for i, r in residuals),
                sum(2 * r * i * x * y ** (i - 1) for i, r in residuals))


class Saddle(Objective):
    """f(x, y) = x² − y², ∇f = (2x, −2y): a saddle point at the origin (stationary, not a
    minimum; f is unbounded below, so ``minimum`` is None). Started just off the y = 0 ridge,
    gradient descent slides toward the origin and only slowly escapes along y."""

    name = "saddle"
    formula = "x^2 - y^2"
    domain = ((-2.0, 2.0), (-2.0, 2.0))
    x0 = (-1.5, 1e-3)
    minimum = None
    saddle_point = np.array([0.0, 0.0])

    def value(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x ** 2 - y ** 2

    def partials(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
        return 2 * x, -2 * y


class Himmelblau(Objective):
    """f(x, y) = (x² + y − 11)² + (x + y² − 7)²: four global minima (f = 0).

    ∇f = (4x(x² + y − 11) + 2(x + y² − 7), 2(x² + y − 11) + 4y(x + y² − 7)).
    """

    name = "Himmelblau"
    formula = "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"
    domain = ((-5.0, 5.0), (-5.0, 5.0))
    x0 = (0.0, 0.0)
    # (3, 2) is exact; the other three are Newton-polished roots of the gradient.
    minimum = np.array([[3.0, 2.0], [-2.805118086952745, 3.131312518250573],
                        [-3.779310253377747, -3.283185991286169], [3.5844283403304917, -1.8481265269644034]])

    def value(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2

    def partials(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
        a, b = x ** 2 + y - 11, x + y ** 2 - 7
        return 4 * x * a + 2 * b, 2 * a + 4 * y * b


class Slope(Objective):
    """f(x) = x: the gradient is 1 everywhere (no minimum). How far does an optimizer walk in T steps?"""

    dim = 1
    name = "slope"
    formula = "x"
    domain = ((-10.0, 10.0),)
    x0 = 0.0
    minimum = None

    def value(self, x: np.ndarray) -> np.ndarray:
        return x

    def partials(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        return (np.ones_like(x),)


class Flat(Objective):
    """f = 0 in `dim` dimensions: a zero gradient, so that with :class:`Noisy` the optimizer sees pure noise."""

    name = "flat"
    formula = "0"
    minimum = None

    def __init__(self, dim: int = 2) -> None:
        self.dim = dim
        self.domain = ((-1.0, 1.0),) * dim

    def value(self, *coords: np.ndarray) -> np.ndarray:
        return np.zeros_like(coords[0])

    def partials(self, *coords: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(np.zeros_like(c) for c in coords)


# -- noise ----------------------------------------------------------------------------------------
class Noisy(Objective):
    """`objective` with a noisy gradient: ``grad(x) = objective.grad(x) + scale * N(0, I)``.

    The value is the noise-free one (what the reader wants to see decrease). The noise is seeded:
    a fresh ``Noisy(f, scale, seed)`` (or one after ``reset()``) draws the same sequence again, so

        >>> optlib.run(optlib.SGD(lr=0.1), Noisy(Quadratic(), 2.0, seed=0), 5.0, 100)

    is reproducible, and two optimizers run on two fresh copies see the same noise.
    ``scale = 0`` gives back the exact gradient.
    """

    def __init__(self, objective: Objective, scale: ArrayLike, seed: int = 0) -> None:
        if not callable(getattr(objective, "grad", None)):
            raise TypeError(f"Noisy needs an objective with grad(x), got {objective!r}")
        try:
            if isinstance(scale, (str, bytes)):
                raise TypeError
            scale = np.asarray(scale, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"Invalid noise scale: {scale!r} (expected finite numbers >= 0)") from None
        if scale.ndim > 1 or not np.all((scale >= 0) & (scale < np.inf)):
            raise ValueError(f"Invalid noise scale: {scale.tolist()!r} (expected finite numbers >= 0)")
        # a number, or one scale per coordinate
        self.objective, self.seed = objective, seed
        self.scale = float(scale) if scale.ndim == 0 else scale
        for name in ("dim", "domain", "x0", "minimum", "formula"):
            setattr(self, name, getattr(objective, name, getattr(Objective, name)))
        base = getattr(objective, "name", type(objective).__name__)
        sigma = f"{self.scale:g}" if isinstance(self.scale, float) else str(self.scale.tolist())
        self.name = base if np.all(self.scale == 0) else f"{base}, gradient noise σ = {sigma}"
        self.reset()

    def reset(self) -> None:
        """Restart the noise sequence from the seed."""
        self.rng = np.random.default_rng(self.seed)

    def __call__(self, x: ArrayLike) -> np.ndarray:
        return self.objective(x)

    def grad(self, x: ArrayLike) -> np.ndarray:
        g = np.asarray(self.objective.grad(x), dtype=float)
        if np.all(self.scale == 0):
            return g
        return g + self.scale * self.rng.standard_normal(g.shape)


# For the widgets' dropdowns: one instance each, with the lecture's parameters.
OBJECTIVES = {f.name: f for f in (Quadratic(1.0), Quadratic(20.0), Composite(), LogSquare(), Bumpy(),
                                  Bowl(1.0, 10.0), Rosenbrock(), Beale(), Saddle(), Himmelblau())}
