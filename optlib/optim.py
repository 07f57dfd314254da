"""The torch front: drop-in replacements of ``torch.optim`` optimizers, driven by :mod:`optlib.rules`.

``optlib.optim.Adam(model.parameters(), lr=1e-3)`` takes the same arguments, has the same
``param_groups``, state-dict keys, ``zero_grad()``, closures and hooks as ``torch.optim.Adam``,
raises the same errors, and computes the same numbers (the tests compare them with PyTorch's own
optimizer test database, ``optim_db``). Complex parameters are updated as pairs of reals, as torch
does; SGD and Adagrad take sparse gradients. ``foreach`` and ``fused`` select torch's
implementation, not the math: optlib always runs the single-tensor algorithm (fused gives torch's
numbers to rounding). The one deliberate difference: ``differentiable=True`` is refused with a
``NotImplementedError`` (see :func:`optlib.checks.not_differentiable`). ``Lookahead``, ``AdaBound``
and ``SWATS``, which torch lacks, follow their papers' reference code.
"""

from __future__ import annotations

import inspect
import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.optim.optimizer import (
    ParamsT,
    _device_dtype_check_for_fused,
    _get_capturable_supported_devices,
    _get_scalar_dtype,
)

from . import checks, rules, validate

_P = inspect.Parameter

# The types of the constructors' arguments, for the signatures built in `__init_subclass__` (what
# help(), IDEs and tooltips show); torch's own annotations, where it has them.
_TYPES = {"params": "ParamsT", "lr": "float | torch.Tensor", "betas": "tuple[float | torch.Tensor, float | torch.Tensor]",
          "foreach": "bool | None", "fused": "bool | None", "amsgrad": "bool", "amsbound": "bool",
          "nesterov": "bool", "centered": "bool", "maximize": "bool", "capturable": "bool",
          "differentiable": "bool", "decoupled_weight_decay": "bool"}


class _StateView:
    """A parameter's torch-named state seen under the rule's math names (m for exp_avg, ...).

    For a complex parameter the rule sees every complex state tensor as real pairs
    (``torch.view_as_real``), as torch's single-tensor code does; tensors the rule stores (SGD's
    buffer, made from the real view of the gradient) are kept complex, as torch keeps them."""

    __slots__ = ("state", "names", "complex")

    def __init__(self, state, names, complex=False):
        self.state, self.names, self.complex = state, names, complex

    def __getitem__(self, name):
        value = self.state[self.names.get(name, name)]
        return torch.view_as_real(value) if self.complex and torch.is_tensor(value) and value.is_complex() else value

    def __setitem__(self, name, value):
        if self.complex and torch.is_tensor(value) and value.dim() > 0 and not value.is_complex():
            value = torch.view_as_complex(value)
        self.state[self.names.get(name, name)] = value

    def get(self, name, default=None):
        key = self.names.get(name, name)
        return self[name] if key in self.state else default


class RuleOptimizer(torch.optim.Optimizer):
    """A torch optimizer whose update is a rule from :mod:`optlib.rules`.

    Subclasses name the rule and torch's constructor signature: `positional` (after params) and
    `keyword_only`, each a list of names whose defaults come from the rule; `extras` are torch's
    switches that select an implementation, not the math (foreach, capturable, ...);
    `late_options` the group keys torch's ``__setstate__`` fills in for state dicts saved by older
    versions (any other missing key fails at ``step()``, as in torch); `sparse_error` torch's
    message for a sparse gradient (None: sparse gradients are supported)."""

    rule = rules.Rule
    positional = ()
    keyword_only = ()
    extras = {}
    fixed = {}  # hyperparameters the class pins (AdamW: decoupled_weight_decay=True)
    late_options = ()
    sparse_error = None
    capturable_tensors = "params and state_steps"  # in torch's message for capturable=True on CPU

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        d = {**cls.rule.defaults, **cls.extras}
        params = [_P("params", _P.POSITIONAL_OR_KEYWORD, annotation=_TYPES["params"])]
        params += [_P(n, _P.POSITIONAL_OR_KEYWORD, default=d[n], annotation=_TYPES.get(n, "float"))
                   for n in cls.positional]
        params += [_P(n, _P.KEYWORD_ONLY, default=d[n], annotation=_TYPES.get(n, "float")) for n in cls.keyword_only]
        cls.__signature__ = inspect.Signature(params)  # what help() and tooltips show, and what we bind

    def __init__(self, params: ParamsT, *args: Any, **kwargs: Any) -> None:
        bound = type(self).__signature__.bind(params, *args, **kwargs)
        bound.apply_defaults()
        options = {k: v for k, v in bound.arguments.items() if k != "params"}
        hyper = {**self.rule.defaults, **options, **self.fixed}
        self._check(hyper)
        if "betas" in hyper:  # a 1-element tensor beta becomes 0-dim, as torch's _to_scalar does
            hyper["betas"] = tuple(b.squeeze() if torch.is_tensor(b) and b.dim() else b for b in hyper["betas"])
        checks.not_differentiable(type(self).__name__, hyper)
        super().__init__(params, hyper)
        checks.fused_flags(hyper)

    def _check(self, hyper):
        """Validation, in torch's order and with its messages."""
        self.rule.check(hyper)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:  # as torch does for state saved by older versions
            for name in self.late_options:
                group.setdefault(name, {**self.rule.defaults, **self.extras}[name])
            group.update(self.fixed)  # AdamW: an Adam checkpoint trains with decoupled decay
        scalars = ("step", *(self.rule.state_names.get(n, n) for n in self.rule.scalar_state))
        for group in self.param_groups:  # older checkpoints keep `step` as a plain number
            dtype = _get_scalar_dtype(is_fused=bool(group.get("fused")))
            for p in group["params"]:
                s = self.state.get(p, {})
                for key in scalars:
                    if key in s and not torch.is_tensor(s[key]):
                        s[key] = torch.tensor(float(s[key]), dtype=dtype)
        self._check_loaded_state()

    def _check_loaded_state(self):
        """Foreign state (another optimizer's) fails when it is loaded, saying what is wrong, rather
        than with a KeyError in a later step()."""
        name = type(self).__name__
        for i, group in enumerate(self.param_groups):
            for j, p in enumerate(group["params"]):
                s = self.state.get(p)
                if not s:
                    continue
                # the names the rule's init makes, from an empty stand-in (no allocation per parameter)
                stand_in = p.new_empty(0)
                made = {self.rule.state_names.get(n, n) for n in self.rule.init(stand_in, {**self.rule.defaults, **group})}
                needed = made | ({"step"} if self.rule.counts_steps else set())
                known = needed | set(self.rule.state_names.values())
                missing, foreign = sorted(needed - set(s)), sorted(set(s) - known)
                if missing or foreign:
                    raise ValueError(
                        f"{name}.load_state_dict: the state of parameter {j} of param group {i} "
                        f"has keys {sorted(s)}; {name} needs {sorted(needed)}"
                        + (f" (missing {missing})" if missing else "")
                        + (f" (unknown {foreign})" if foreign else "")
                        + ". Was this state dict saved by another optimizer?")

    def _init_state(self, p, group):
        state = self.state[p]
        if self.rule.counts_steps:
            fused = bool(group.get("fused"))
            state["step"] = (torch.zeros((), dtype=_get_scalar_dtype(is_fused=True), device=p.device) if fused
                             else torch.tensor(0.0, dtype=_get_scalar_dtype()))
        for name, value in self.rule.init(p, group).items():  # under no_grad: plain tensors
            if name in self.rule.scalar_state:
                value = torch.tensor(value, dtype=_get_scalar_dtype())
            state[self.rule.state_names.get(name, name)] = value
        return state

    def _check_grad(self, p, group, fresh):
        """torch's refusals at step time: sparse gradients, fused on what it cannot fuse,
        capturable on a device that cannot capture."""
        if p.grad.is_sparse and self.sparse_error:
            raise RuntimeError(self.sparse_error)
        if group.get("fused") and fresh:
            _device_dtype_check_for_fused(p)
        if group.get("capturable") and p.device.type not in _get_capturable_supported_devices():
            raise AssertionError(f"If capturable=True, {self.capturable_tensors} must be on supported devices: "
                                 f"{_get_capturable_supported_devices()}.")

    def _keeps_state(self, group):
        """Whether a step records state for its parameters (torch's state dict lists exactly those)."""
        return True

    def _check_fused_once(self, p):
        """SGD and Adagrad check the device and dtype of the first parameter they fuse, once."""
        if getattr(self, "_fused_unchecked", True):
            _device_dtype_check_for_fused(p)
            self._fused_unchecked = False

    def _group_hyper(self, i, group):
        try:
            return {k: group[k] for k in self.rule.defaults}
        except KeyError as e:  # torch fails here too (KeyError): say why
            raise KeyError(f"{type(self).__name__}: param group {i} has no {e.args[0]!r}; was its state dict "
                           "saved by another optimizer?") from None

    def _rule_step(self, p, g, state, t, hyper):
        """One rule step; complex parameters are updated as pairs of reals, as torch does."""
        if p.is_complex():
            p, g = torch.view_as_real(p), torch.view_as_real(g)
            view = _StateView(state, self.rule.state_names, complex=True)
        else:
            view = _StateView(state, self.rule.state_names)
        self.rule.step(p, g, view, t, **hyper)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One optimization step; `closure` re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        rule = self.rule
        # Rules with nothing to initialise (SGD: its buffer is made in the first step) skip the call.
        has_init = rule.counts_steps or rule.init is not rules.Rule.init
        for i, group in enumerate(self.param_groups):
            hyper = self._group_hyper(i, group)
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p] if self._keeps_state(group) else {}
                self._check_grad(p, group, fresh=not state)
                if not state and has_init:  # first step
                    state = self._init_state(p, group)
                t = 0
                if rule.counts_steps:
                    step = state["step"]
                    step += 1
                    t = step.item()
                if p.grad.is_sparse:
                    self._sparse_step(p, p.grad, state, t, hyper)
                else:
                    self._rule_step(p, p.grad, state, t, hyper)
        return loss

    def _sparse_step(self, p, g, state, t, hyper):
        """A sparse gradient: the rule as it is (SGD's operations all take sparse tensors)."""
        self.rule.step(p, g, _StateView(state, self.rule.state_names), t, **hyper)


_ATEN_NAMES = {torch.complex32: "ComplexHalf", torch.complex64: "ComplexFloat", torch.complex128: "ComplexDouble"}
_TORCH_EXTRAS = dict(foreach=None, capturable=False, differentiable=False, fused=None)


class SGD(RuleOptimizer):
    __doc__ = "Drop-in `torch.optim.SGD`.\n\n" + rules.SGD.__doc__
    rule = rules.SGD
    positional = ("lr", "momentum", "dampening", "weight_decay", "nesterov")
    keyword_only = ("maximize", "foreach", "differentiable", "fused")
    extras = _TORCH_EXTRAS
    late_options = ("nesterov", "maximize", "foreach", "differentiable", "fused")

    def _keeps_state(self, group):
        return group["momentum"] != 0  # plain SGD has no state

    def _check_grad(self, p, group, fresh):
        if group["fused"]:
            self._check_fused_once(p)
            if p.grad.is_sparse:
                raise RuntimeError("`_fused_sgd` does not support sparse gradients")
            if p.is_complex():  # torch's kernel refuses it
                raise NotImplementedError(f'"fused_sgd_kernel" not implemented for {_ATEN_NAMES[p.dtype]!r}')


class Adagrad(RuleOptimizer):
    __doc__ = "Drop-in `torch.optim.Adagrad`.\n\n" + rules.Adagrad.__doc__
    rule = rules.Adagrad
    positional = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps", "foreach")
    keyword_only = ("maximize", "differentiable", "fused")
    extras = _TORCH_EXTRAS
    late_options = ("foreach", "maximize", "differentiable", "fused")

    def __init__(self, params: ParamsT, *args: Any, **kwargs: Any) -> None:
        super().__init__(params, *args, **kwargs)
        for group in self.param_groups:  # torch creates Adagrad's state eagerly
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        # torch starts every `sum` from the constructor's initial_accumulator_value, also for a
        # group added later with its own value (which it ignores).
        h = {**self.defaults, "fused": group.get("fused")}
        if p.is_complex():  # torch fills both halves of a complex accumulator
            h["initial_accumulator_value"] = complex(h["initial_accumulator_value"], h["initial_accumulator_value"])
        return super()._init_state(p, h)

    def _check_grad(self, p, group, fresh):
        if group["fused"]:
            self._check_fused_once(p)
            if p.grad.is_sparse or p.is_complex():
                raise RuntimeError("`fused` does not support sparse grad or complex param")

    def _sparse_step(self, p, g, state, t, hyper):
        """torch's sparse Adagrad: the rule's update on the rows the gradient touches."""
        g = rules.direction(g, hyper["maximize"])
        if hyper["weight_decay"] != 0:
            raise RuntimeError("weight_decay option is not compatible with sparse gradients")
        g = g.coalesce()  # the update is non-linear: each index once
        rows = tuple(g._indices())
        x, s = p[rows], state["sum"][rows]
        rules.Adagrad.update(x, g._values(), s, hyper["lr"] / (1 + (t - 1) * hyper["lr_decay"]), hyper["eps"])
        p[rows], state["sum"][rows] = x, s


class RMSprop(RuleOptimizer):
    __doc__ = "Drop-in `torch.optim.RMSprop`.\n\n" + rules.RMSprop.__doc__
    rule = rules.RMSprop
    positional = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered", "capturable", "foreach",
                  "maximize", "differentiable")
    extras = _TORCH_EXTRAS
    late_options = ("momentum", "centered", "foreach", "maximize", "differentiable", "capturable")
    sparse_error = "RMSprop does not support sparse gradients"


class Adam(RuleOptimizer):
    __doc__ = "Drop-in `torch.optim.Adam` (AMSGrad with amsgrad=True).\n\n" + rules.Adam.__doc__
    rule = rules.Adam
    positional = ("lr", "betas", "eps", "weight_decay", "amsgrad")
    keyword_only = ("foreach", "maximize", "capturable", "differentiable", "fused", "decoupled_weight_decay")
    extras = _TORCH_EXTRAS
    late_options = ("amsgrad", "maximize", "foreach", "capturable", "differentiable", "decoupled_weight_decay",
                    "fused")
    sparse_error = "Adam does not support sparse gradients, please consider SparseAdam instead"

    def _check(self, hyper):
        checks.tensor_lr_with_foreach(hyper)
        self.rule.check(hyper)
        checks.tensor_betas(hyper)


class AdamW(Adam):
    __doc__ = "Drop-in `torch.optim.AdamW`.\n\n" + rules.AdamW.__doc__
    rule = rules.AdamW
    keyword_only = ("maximize", "foreach", "capturable", "differentiable", "fused")
    fixed = {"decoupled_weight_decay": True}


class NAdam(RuleOptimizer):
    __doc__ = "Drop-in `torch.optim.NAdam`.\n\n" + rules.NAdam.__doc__
    rule = rules.NAdam
    positional = ("lr", "betas", "eps", "weight_decay", "momentum_decay", "decoupled_weight_decay")
    keyword_only = ("foreach", "maximize", "capturable", "differentiable")
    extras = _TORCH_EXTRAS
    late_options = ("maximize", "foreach", "capturable", "differentiable", "decoupled_weight_decay")
    sparse_error = "NAdam does not support sparse gradients"
    capturable_tensors = "params, mu_products and state_steps"


class RAdam(RuleOptimizer):
    __doc__ = "Drop-in `torch.optim.RAdam`.\n\n" + rules.RAdam.__doc__
    rule = rules.RAdam
    positional = ("lr", "betas", "eps", "weight_decay", "decoupled_weight_decay")
    keyword_only = ("foreach", "maximize", "capturable", "differentiable")
    extras = _TORCH_EXTRAS
    late_options = ("foreach", "maximize", "differentiable", "decoupled_weight_decay", "capturable")
    sparse_error = "RAdam does not support sparse gradients"


class _Strict:
    """For AdaBound and SWATS, which torch lacks: strict checks (:mod:`optlib.validate`) of the
    constructor's arguments and of each group's options, instead of torch's lenient ones."""

    def __init__(self, params: ParamsT, *args: Any, **kwargs: Any) -> None:
        bound = type(self).__signature__.bind(params, *args, **kwargs)
        options = {k: v for k, v in bound.arguments.items() if k != "params"}
        validate.hyperparameters(type(self).__name__, self.rule, {**self.rule.defaults, **options})
        super().__init__(params, *args, **kwargs)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if isinstance(param_group, dict):  # torch itself reports a group that is not a dict
            options = {k: v for k, v in param_group.items() if k in self.rule.defaults}
            validate.hyperparameters(type(self).__name__, self.rule, {**self.defaults, **options})
        super().add_param_group(param_group)


class AdaBound(_Strict, RuleOptimizer):
    __doc__ = "AdaBound, as in the authors' code (Luolc/AdaBound).\n\n" + rules.AdaBound.__doc__
    rule = rules.AdaBound
    positional = ("lr", "betas", "final_lr", "gamma", "eps", "weight_decay", "amsbound")
    sparse_error = "AdaBound does not support sparse gradients"

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        if group["base_lr"] is None:  # the lr at construction: final_lr follows lr / base_lr
            group["base_lr"] = group["lr"]


class SWATS(_Strict, RuleOptimizer):
    __doc__ = "SWATS (Keskar & Socher, 2017), Algorithm 1 per parameter tensor.\n\n" + rules.SWATS.__doc__
    rule = rules.SWATS
    positional = ("lr", "betas", "eps", "weight_decay")
    sparse_error = "SWATS does not support sparse gradients"

    def training_report(self) -> dict[str, Any]:
        """Whether and when each parameter tensor switched to SGD: ``tensors`` (how many), ``switched``
        (how many did), ``switch_steps`` (the step of each switch, in parameter order; None: never) and
        ``sgd_lr`` (the SGD learning rate it switched to; None: never)."""
        states = [self.state[p] for group in self.param_groups for p in group["params"]]
        switched = [bool(s.get("switched", False)) for s in states]
        return dict(tensors=len(states), switched=sum(switched),
                    switch_steps=[int(s["switch_step"]) if w else None for s, w in zip(states, switched)],
                    sgd_lr=[float(s["sgd_lr"]) if w else None for s, w in zip(states, switched)])


class Lookahead(torch.optim.Optimizer):
    """Lookahead (Zhang, Lucas, Hinton & Ba, 2019) around any torch optimizer.

    The slow weights start equal to the parameters (the paper's phi_0 = theta_0). After every k
    inner steps they move a fraction alpha towards the fast weights, which are then reset to them.
    ``param_groups`` are the inner optimizer's (so schedulers and lr changes reach it), and
    ``state_dict()`` holds the inner state, the slow weights and the step counter.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, k: int = 5, alpha: float = 0.5) -> None:
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"Lookahead wraps a torch.optim.Optimizer, got {type(optimizer).__name__}")
        k = validate.integer(k, "k", "Lookahead", low=1)  # strict: Lookahead is not torch's
        alpha = validate.real(alpha, "alpha", "Lookahead", low=0.0, high=1.0)
        self.optimizer, self.k, self.alpha, self.lookahead_step = optimizer, k, alpha, 0
        super().__init__(optimizer.param_groups, {})  # torch's bookkeeping; slow weights per group
        self.param_groups = optimizer.param_groups  # the same list: lr changes and new groups reach both
        self.defaults = optimizer.defaults

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group to the inner optimizer (which fills in its defaults); its parameters get slow weights."""
        inner = self.optimizer
        if not any(param_group is g for g in inner.param_groups):  # a new group, not one from __init__
            inner.add_param_group(param_group)
            param_group = inner.param_groups[-1]
        if self.param_groups is not inner.param_groups:  # still inside torch's __init__
            self.param_groups.append(param_group)
        for p in param_group["params"]:
            self.state[p]["slow_param"] = p.detach().clone()  # phi_0 = theta_0

    def __repr__(self) -> str:
        return f"Lookahead({self.optimizer!r}, k={self.k}, alpha={self.alpha})"

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        loss = self.optimizer.step(closure)
        self.lookahead_step += 1
        if self.lookahead_step % self.k == 0:
            for group in self.param_groups:
                for p in group["params"]:
                    rules.lookahead_sync_(p, self.state[p]["slow_param"], self.alpha)
        return loss

    def evaluation_views(self) -> dict[str, Callable[[], contextlib.AbstractContextManager]]:
        """``{"slow weights": context}``: inside the context the parameters hold the slow weights (the
        paper evaluates those); on leaving, the fast weights are back. The trainer evaluates both."""
        return {"slow weights": self._slow_weights}

    @contextlib.contextmanager
    def _slow_weights(self) -> Iterator[None]:
        params = [p for group in self.param_groups for p in group["params"]]
        fast = [p.detach().clone() for p in params]
        with torch.no_grad():
            for p in params:
                p.copy_(self.state[p]["slow_param"])
        try:
            yield
        finally:
            with torch.no_grad():
                for p, f in zip(params, fast):
                    p.copy_(f)

    def state_dict(self) -> dict[str, Any]:
        slow = super().state_dict()
        return {"inner": self.optimizer.state_dict(), "slow": slow["state"],
                "lookahead": {"k": self.k, "alpha": self.alpha, "step": self.lookahead_step}}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state_dict["inner"])
        torch.optim.Optimizer.load_state_dict(
            self, {"state": state_dict["slow"], "param_groups": state_dict["inner"]["param_groups"]})
        self.param_groups = self.optimizer.param_groups  # loading replaced the group dicts: share again
        la = state_dict["lookahead"]
        self.k, self.alpha, self.lookahead_step = la["k"], la["alpha"], la["step"]
