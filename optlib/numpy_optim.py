"""The numpy front: optimizers for the book's 1-D and 2-D demos.

    >>> opt = optlib.Adam(lr=0.1)
    >>> x = opt.step(x, grad)             # one step; opt.state holds t, m, v, ...
    >>> path = optlib.run(opt, f, x0, 50)  # the whole trajectory, shape (51, dim)
    >>> opt.lr = 0.05                      # hyperparameters are attributes, checked when set
    >>> opt = optlib.SGD(lr=functools.partial(schedules.cosine, lr0=0.1, T_max=50))  # a schedule

Hyperparameters have torch.optim's names and defaults. Each class only names its rule from
:mod:`optlib.rules`; the rule does the work.

Validation is strict (:mod:`optlib.validate`): a wrong type (``lr="0.1"``, ``maximize="False"``)
raises ``TypeError``, a value torch refuses raises ``ValueError`` with torch's message, and NaN or
infinite values, which torch lets through, raise ``ValueError`` too; all name the parameter.

Any real-valued hyperparameter (``lr``, ``momentum``, ``weight_decay``, ...) may be a *schedule*: a
callable of the step ``e``, the number of updates taken before this one (0 for the first), as
``torch.optim.lr_scheduler`` counts; every function of :mod:`optlib.schedules` is one once its other
arguments are bound. Its value is computed and checked at every step.
"""

from __future__ import annotations

import inspect
import types
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import numpy as np

from . import rules, validate

Array = Any  # a float, or a numpy array of floats


class Objective(Protocol):
    def grad(self, x: np.ndarray) -> Array: ...


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
    def _arguments(cls) -> list[str]:
        """The hyperparameters a user may pass (not AdamW's pinned decoupling, not AdaBound's base_lr)."""
        return [k for k in cls.rule.defaults if k not in cls.rule.fixed and k != "base_lr"]

    def __init__(self, **hyper: Any) -> None:
        unknown = set(hyper) - set(self._arguments())
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected hyperparameter(s): {', '.join(sorted(unknown))}")
        h = {**self.rule.defaults, **hyper}
        object.__setattr__(self, "_hyper", self._checked(h, step=0))
        if "base_lr" in h:  # AdaBound's final_lr follows lr / (the lr at construction), as on the torch front
            self._hyper["base_lr"] = self._resolved(0)["lr"]
        self.reset()

    @property
    def hyper(self) -> Mapping[str, Any]:
        """The hyperparameters, read-only: set one with ``opt.lr = ...``, which checks the value."""
        return types.MappingProxyType(self._hyper)

    def _checked(self, h: dict[str, Any], step: int) -> dict[str, Any]:
        """`h` validated (schedules by their value at `step`), numpy scalars made Python numbers."""
        name = type(self).__name__
        schedules = {k: v for k, v in h.items() if callable(v)}
        for k in schedules:
            if k == "betas" or k in validate.FLAGS or k == "base_lr":
                raise TypeError(f"{name}: {k} cannot be a schedule, got {schedules[k]!r}")
        values = validate.hyperparameters(name, self.rule, {**h, **self._evaluate(schedules, step)})
        return {**values, **schedules}

    def _evaluate(self, schedules: Mapping[str, Callable], step: int) -> dict[str, Any]:
        out = {}
        for k, fn in schedules.items():
            value = fn(step)
            if isinstance(value, np.ndarray) and value.shape == ():
                value = value[()]
            out[k] = validate.real(value, f"{k} (the schedule's value at step {step})", type(self).__name__)
        return out

    def _resolved(self, step: int) -> dict[str, Any]:
        """The hyperparameters in force at `step` (schedules evaluated and checked)."""
        schedules = {k: v for k, v in self._hyper.items() if callable(v)}
        if not schedules:
            return self._hyper
        return validate.hyperparameters(type(self).__name__, self.rule,
                                        {**self._hyper, **self._evaluate(schedules, step)})

    def reset(self) -> None:
        """Forget the state: the next step is step 1 again."""
        self.state = {"t": 0}

    def __getattr__(self, name: str) -> Any:  # opt.lr, opt.betas, ...
        hyper = self.__dict__.get("_hyper", {})
        if name in hyper and name != "base_lr":
            return hyper[name]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "state" or name.startswith("_"):
            object.__setattr__(self, name, value)
        elif name in self._arguments():
            self._hyper = self._checked({**self._hyper, name: value}, step=self.state["t"])
        else:  # a typo (opt.learning_rate = ...) must not pass silently
            raise AttributeError(f"{type(self).__name__} has no hyperparameter {name!r}; "
                                 f"it has {', '.join(self._arguments())}")

    def __repr__(self) -> str:
        changed = {k: v for k, v in self._hyper.items()
                   if k != "base_lr" and (callable(v) or v != self.rule.defaults[k])}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    def step(self, x: Array, grad: Array) -> Array:
        """One update from the point `x` with gradient `grad`; returns the next point (float in, float out)."""
        xs = np.array(x, dtype=float)  # a copy: the caller's array is never changed
        g = np.asarray(grad, dtype=float)
        if g.shape != xs.shape:
            raise ValueError(f"grad has shape {g.shape} but x has shape {xs.shape}")
        hyper = self._resolved(self.state["t"])
        if self.state["t"] == 0:
            self.state.update(self.rule.init(xs, hyper))
        self.state["t"] += 1
        self.rule.step(xs, g, self.state, self.state["t"], **hyper)
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

    ``optimizer`` is the inner optimizer (the torch front's name too; ``inner=`` still works, with a
    DeprecationWarning). ``state`` holds ``t`` (inner steps taken) and ``slow`` (the slow weights,
    for plotting). ``k`` and ``alpha`` may be reassigned; they are checked when set."""

    def __init__(self, optimizer: Any = None, k: int = 5, alpha: float = 0.5, *, inner: Any = None) -> None:
        if inner is not None:
            warnings.warn("Lookahead(inner=...) is deprecated: the argument is now `optimizer`, "
                          "as on the torch front", DeprecationWarning, stacklevel=2)
            if optimizer is not None:
                raise TypeError("Lookahead got both optimizer and inner (its deprecated name)")
            optimizer = inner
        if isinstance(optimizer, type) or not (callable(getattr(optimizer, "step", None))
                                               and callable(getattr(optimizer, "reset", None))):
            raise TypeError(f"Lookahead: optimizer must be a numpy optimizer (with step(x, grad) and reset()), "
                            f"got {optimizer!r} of type {type(optimizer).__name__}")
        self.optimizer, self.k, self.alpha = optimizer, k, alpha
        self.reset()

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "k":
            value = validate.integer(value, "k", "Lookahead", low=1)
        elif name == "alpha":
            value = validate.real(value, "alpha", "Lookahead", low=0.0, high=1.0)
        object.__setattr__(self, name, value)

    @property
    def inner(self) -> Any:
        """Deprecated name of :attr:`optimizer`."""
        warnings.warn("Lookahead.inner is deprecated: use Lookahead.optimizer", DeprecationWarning, stacklevel=2)
        return self.optimizer

    def reset(self) -> None:
        self.optimizer.reset()
        self.state = {"t": 0, "slow": None}

    def __repr__(self) -> str:
        return f"Lookahead({self.optimizer!r}, k={self.k}, alpha={self.alpha})"

    def step(self, x: Array, grad: Array) -> Array:
        if self.state["slow"] is None:
            self.state["slow"] = np.array(x, dtype=float)  # phi_0 = theta_0, as in the paper
        fast = np.array(self.optimizer.step(x, grad), dtype=float)
        self.state["t"] += 1
        if self.state["t"] % self.k == 0:
            rules.lookahead_sync_(fast, self.state["slow"], self.alpha)
        return float(fast) if fast.ndim == 0 else fast


def run(opt: Any, objective: Objective, x0: Array, steps: int,
        record: tuple[str, ...] = ()) -> np.ndarray | tuple[np.ndarray, dict[str, np.ndarray]]:
    """Reset `opt` and take `steps` steps on `objective` (anything with `grad(x)`) from `x0`.

    Returns the trajectory, an array of shape (steps + 1, dim) whose row 0 is `x0`. If the iterate
    stops being finite (divergence) the run stops there and the remaining rows are NaN. With
    `record=("v", ...)` it also returns a dict of those state entries after every step
    (arrays of shape (steps, dim), NaN after a divergence).
    """
    if isinstance(opt, type) or not (callable(getattr(opt, "step", None)) and callable(getattr(opt, "reset", None))):
        raise TypeError(f"run: opt must be a numpy optimizer (with step(x, grad) and reset()), got {opt!r}")
    if not callable(getattr(objective, "grad", None)):
        raise TypeError(f"run: objective must have a grad(x) method, got {objective!r} of type "
                        f"{type(objective).__name__}")
    steps = validate.integer(steps, "steps", "run", low=0)
    if isinstance(record, str):  # record="v" would record "v" letter by letter
        record = (record,)
    if not all(isinstance(name, str) for name in record):
        raise TypeError(f"run: record must be names of state entries (str), got {record!r}")
    try:
        x = np.atleast_1d(np.array(x0, dtype=float))
    except (TypeError, ValueError) as e:
        raise TypeError(f"run: x0 must be a number or a 1-D array of numbers, got {x0!r}") from e
    if x.ndim != 1:
        raise ValueError(f"x0 must be a number or a 1-D array, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"run: x0 must be finite, got {x0!r}")
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
                if name not in opt.state:
                    raise ValueError(f"run: record={name!r}, but {type(opt).__name__} keeps no such state "
                                     f"(it keeps {', '.join(map(repr, opt.state))})")
                trace[name][i] = opt.state[name]
            if not np.all(np.isfinite(x)):
                break
    return (path, trace) if record else path
