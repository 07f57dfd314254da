"""The numpy front: optimizers for the book's 1-D and 2-D demos.

    >>> opt = optlib.Adam(lr=0.1)
    >>> x = opt.step(x, grad)             # one step; opt.state holds t, m, v, ...
    >>> path = optlib.run(opt, f, x0, 50)  # the whole trajectory, shape (51, dim)

Hyperparameters have torch.optim's names and defaults, and are validated with its messages. Each
class only names its rule from :mod:`optlib.rules`; the rule does the work.
"""

import inspect

import numpy as np

from . import checks, rules


class Optimizer:
    """Base of the numpy optimizers: holds the hyperparameters and the state of one array."""

    rule = rules.Rule

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Show the real hyperparameters in help() and in JupyterLab's tooltips.
        params = [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=v)
                  for k, v in cls.rule.defaults.items() if k in cls._arguments()]
        cls.__signature__ = inspect.Signature(params)

    @classmethod
    def _arguments(cls):
        """The hyperparameters a user may pass (not AdamW's pinned decoupling, not AdaBound's base_lr)."""
        return [k for k in cls.rule.defaults if k not in cls.rule.fixed and k != "base_lr"]

    def __init__(self, **hyper):
        unknown = set(hyper) - set(self._arguments())
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected hyperparameter(s): {', '.join(sorted(unknown))}")
        h = {**self.rule.defaults, **hyper}
        if "betas" in h:
            h["betas"] = tuple(h["betas"])
        self.rule.check(h)
        self.hyper = h
        self.reset()

    def reset(self):
        """Forget the state: the next step is step 1 again."""
        self.state = {"t": 0}

    def __getattr__(self, name):  # opt.lr, opt.betas, ...
        hyper = self.__dict__.get("hyper", {})
        if name in hyper:
            return hyper[name]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    def __repr__(self):
        changed = {k: v for k, v in self.hyper.items() if v != self.rule.defaults[k] and k != "base_lr"}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    def step(self, x, grad):
        """One update from the point `x` with gradient `grad`; returns the next point (float in, float out)."""
        xs = np.array(x, dtype=float)  # a copy: the caller's array is never changed
        g = np.asarray(grad, dtype=float)
        if g.shape != xs.shape:
            raise ValueError(f"grad has shape {g.shape} but x has shape {xs.shape}")
        if self.state["t"] == 0:
            self.state.update(self.rule.init(xs, self.hyper))
        self.state["t"] += 1
        self.rule.step(xs, g, self.state, self.state["t"], **self.hyper)
        return float(xs) if xs.ndim == 0 else xs


def _front(rule, doc):
    return type(rule.__name__, (Optimizer,), {"rule": rule, "__doc__": doc + "\n\n" + (rule.__doc__ or ""),
                                             "__module__": __name__})


SGD = _front(rules.SGD, "Gradient descent, with optional (Nesterov) momentum; `torch.optim.SGD`'s hyperparameters.")
Adagrad = _front(rules.Adagrad, "Adagrad; `torch.optim.Adagrad`'s hyperparameters.")
RMSprop = _front(rules.RMSprop, "RMSProp; `torch.optim.RMSprop`'s hyperparameters.")
Adam = _front(rules.Adam, "Adam (AMSGrad with amsgrad=True); `torch.optim.Adam`'s hyperparameters.")
AdamW = _front(rules.AdamW, "AdamW; `torch.optim.AdamW`'s hyperparameters.")
RAdam = _front(rules.RAdam, "RAdam; `torch.optim.RAdam`'s hyperparameters.")
NAdam = _front(rules.NAdam, "Nadam; `torch.optim.NAdam`'s hyperparameters.")
AdaBound = _front(rules.AdaBound, "AdaBound; the hyperparameters of the authors' code.")
SWATS = _front(rules.SWATS, "SWATS: Adam, then SGD with momentum.")


class Lookahead:
    """Lookahead around any numpy optimizer: k fast steps forward, then the slow weights move a
    fraction alpha of the way and the fast weights restart from them.

    ``state`` holds ``t`` (inner steps taken) and ``slow`` (the slow weights, for plotting)."""

    def __init__(self, inner, k=5, alpha=0.5):
        checks.positive_int(k, "Invalid k (lookahead steps)")
        checks.unit_interval(alpha, "Invalid alpha (slow update rate)")
        self.inner, self.k, self.alpha = inner, k, alpha
        self.reset()

    def reset(self):
        self.inner.reset()
        self.state = {"t": 0, "slow": None}

    def __repr__(self):
        return f"Lookahead({self.inner!r}, k={self.k}, alpha={self.alpha})"

    def step(self, x, grad):
        if self.state["slow"] is None:
            self.state["slow"] = np.array(x, dtype=float)  # phi_0 = theta_0, as in the paper
        fast = np.array(self.inner.step(x, grad), dtype=float)
        self.state["t"] += 1
        if self.state["t"] % self.k == 0:
            rules.lookahead_sync_(fast, self.state["slow"], self.alpha)
        return float(fast) if fast.ndim == 0 else fast


def run(opt, objective, x0, steps, record=()):
    """Reset `opt` and take `steps` steps on `objective` (anything with `grad(x)`) from `x0`.

    Returns the trajectory, an array of shape (steps + 1, dim) whose row 0 is `x0`. If the iterate
    stops being finite (divergence) the run stops there and the remaining rows are NaN. With
    `record=("v", ...)` it also returns a dict of those state entries after every step
    (arrays of shape (steps, dim), NaN after a divergence).
    """
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"Invalid steps: {steps}")
    x = np.atleast_1d(np.array(x0, dtype=float))
    if x.ndim != 1:
        raise ValueError(f"x0 must be a number or a 1-D array, got shape {x.shape}")
    opt.reset()
    path = np.full((steps + 1, x.size), np.nan)
    path[0] = x
    trace = {name: np.full((steps, x.size), np.nan) for name in record}
    # Divergence is a result here, not an error: no overflow warnings, the path just ends.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for i in range(steps):
            x = opt.step(x, np.atleast_1d(objective.grad(x)))
            path[i + 1] = x
            for name in record:
                trace[name][i] = opt.state[name]
            if not np.all(np.isfinite(x)):
                break
    return (path, trace) if record else path
