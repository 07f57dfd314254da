"""The torch front: drop-in replacements of ``torch.optim`` optimizers, driven by :mod:`optlib.rules`.

``optlib.optim.Adam(model.parameters(), lr=1e-3)`` takes the same arguments, has the same
``param_groups``, state-dict keys, ``zero_grad()`` and closures as ``torch.optim.Adam`` and computes
the same numbers (the tests compare them in float64). ``Lookahead``, ``AdaBound`` and ``SWATS``,
which torch lacks, follow their papers' reference code.
"""

import inspect

import torch
from torch.optim.optimizer import _get_scalar_dtype

from . import checks, rules, validate

_P = inspect.Parameter


class _StateView:
    """A parameter's torch-named state seen under the rule's math names (m for exp_avg, ...)."""

    __slots__ = ("state", "names")

    def __init__(self, state, names):
        self.state, self.names = state, names

    def __getitem__(self, name):
        return self.state[self.names.get(name, name)]

    def __setitem__(self, name, value):
        self.state[self.names.get(name, name)] = value

    def get(self, name, default=None):
        return self.state.get(self.names.get(name, name), default)


class RuleOptimizer(torch.optim.Optimizer):
    """A torch optimizer whose update is a rule from :mod:`optlib.rules`.

    Subclasses name the rule and torch's constructor signature: `positional` (after params) and
    `keyword_only`, each a list of names whose defaults come from the rule; `extras` are torch's
    switches that select an implementation, not the math (foreach, capturable, ...)."""

    rule = rules.Rule
    positional = ()
    keyword_only = ()
    extras = {}
    fixed = {}  # hyperparameters the class pins (AdamW: decoupled_weight_decay=True)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        d = {**cls.rule.defaults, **cls.extras}
        params = [_P("params", _P.POSITIONAL_OR_KEYWORD)]
        params += [_P(n, _P.POSITIONAL_OR_KEYWORD, default=d[n]) for n in cls.positional]
        params += [_P(n, _P.KEYWORD_ONLY, default=d[n]) for n in cls.keyword_only]
        cls.__signature__ = inspect.Signature(params)  # what help() and tooltips show, and what we bind

    def __init__(self, params, *args, **kwargs):
        bound = type(self).__signature__.bind(params, *args, **kwargs)
        bound.apply_defaults()
        options = {k: v for k, v in bound.arguments.items() if k != "params"}
        checks.single_tensor_path(options)
        hyper = {**self.rule.defaults, **options, **self.fixed}
        if "betas" in hyper:
            hyper["betas"] = tuple(float(b) if torch.is_tensor(b) else b for b in hyper["betas"])
        self.rule.check(hyper)
        super().__init__(params, hyper)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:  # as torch does for state saved by older versions
            for name, value in {**self.rule.defaults, **self.extras, **self.fixed}.items():
                group.setdefault(name, value)

    def _init_state(self, p, group):
        state = self.state[p]
        if self.rule.counts_steps:
            state["step"] = torch.tensor(0.0, dtype=_get_scalar_dtype())
        for name, value in self.rule.init(p, group).items():  # under no_grad: plain tensors
            if name in self.rule.scalar_state:
                value = torch.tensor(value, dtype=_get_scalar_dtype())
            state[self.rule.state_names.get(name, name)] = value
        return state

    @torch.no_grad()
    def step(self, closure=None):
        """One optimization step; `closure` re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        rule = self.rule
        names, hyper_names, counts_steps = rule.state_names, tuple(rule.defaults), rule.counts_steps
        # Rules with nothing to initialise (SGD: its buffer is made in the first step) skip the call.
        has_init = counts_steps or rule.init is not rules.Rule.init
        for group in self.param_groups:
            hyper = {k: group[k] for k in hyper_names}
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if g.is_sparse:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
                state = self.state[p]
                if not state and has_init:  # first step
                    state = self._init_state(p, group)
                t = 0
                if counts_steps:
                    step = state["step"]
                    step += 1
                    t = step.item()
                rule.step(p, g, _StateView(state, names), t, **hyper)
        return loss


_TORCH_EXTRAS = dict(foreach=None, capturable=False, differentiable=False, fused=None)


class SGD(RuleOptimizer):
    __doc__ = "Drop-in `torch.optim.SGD`.\n\n" + rules.SGD.__doc__
    rule = rules.SGD
    positional = ("lr", "momentum", "dampening", "weight_decay", "nesterov")
    keyword_only = ("maximize", "foreach", "differentiable", "fused")
    extras = _TORCH_EXTRAS


class Adagrad(RuleOptimizer):
    __doc__ = "Drop-in `torch.optim.Adagrad`.\n\n" + rules.Adagrad.__doc__
    rule = rules.Adagrad
    positional = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps", "foreach")
    keyword_only = ("maximize", "differentiable", "fused")
    extras = _TORCH_EXTRAS

    def __init__(self, params, *args, **kwargs):
        super().__init__(params, *args, **kwargs)
        for group in self.param_groups:  # torch creates Adagrad's state eagerly
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        # torch starts every `sum` from the constructor's initial_accumulator_value, also for a
        # group added later with its own value (which it ignores).
        return super()._init_state(p, self.defaults)


class RMSprop(RuleOptimizer):
    __doc__ = "Drop-in `torch.optim.RMSprop`.\n\n" + rules.RMSprop.__doc__
    rule = rules.RMSprop
    positional = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered", "capturable", "foreach",
                  "maximize", "differentiable")
    extras = _TORCH_EXTRAS


class Adam(RuleOptimizer):
    __doc__ = "Drop-in `torch.optim.Adam` (AMSGrad with amsgrad=True).\n\n" + rules.Adam.__doc__
    rule = rules.Adam
    positional = ("lr", "betas", "eps", "weight_decay", "amsgrad")
    keyword_only = ("foreach", "maximize", "capturable", "differentiable", "fused", "decoupled_weight_decay")
    extras = _TORCH_EXTRAS


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


class RAdam(RuleOptimizer):
    __doc__ = "Drop-in `torch.optim.RAdam`.\n\n" + rules.RAdam.__doc__
    rule = rules.RAdam
    positional = ("lr", "betas", "eps", "weight_decay", "decoupled_weight_decay")
    keyword_only = ("foreach", "maximize", "capturable", "differentiable")
    extras = _TORCH_EXTRAS


class _Strict:
    """For AdaBound and SWATS, which torch lacks: strict checks (:mod:`optlib.validate`) of the
    constructor's arguments and of each group's options, instead of torch's lenient ones."""

    def __init__(self, params, *args, **kwargs):
        bound = type(self).__signature__.bind(params, *args, **kwargs)
        options = {k: v for k, v in bound.arguments.items() if k != "params"}
        validate.hyperparameters(type(self).__name__, self.rule, {**self.rule.defaults, **options})
        super().__init__(params, *args, **kwargs)

    def add_param_group(self, param_group):
        if isinstance(param_group, dict):  # torch itself reports a group that is not a dict
            options = {k: v for k, v in param_group.items() if k in self.rule.defaults}
            validate.hyperparameters(type(self).__name__, self.rule, {**self.defaults, **options})
        super().add_param_group(param_group)


class AdaBound(_Strict, RuleOptimizer):
    __doc__ = "AdaBound, as in the authors' code (Luolc/AdaBound).\n\n" + rules.AdaBound.__doc__
    rule = rules.AdaBound
    positional = ("lr", "betas", "final_lr", "gamma", "eps", "weight_decay", "amsbound")

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        if group["base_lr"] is None:  # the lr at construction: final_lr follows lr / base_lr
            group["base_lr"] = group["lr"]


class SWATS(_Strict, RuleOptimizer):
    __doc__ = "SWATS (Keskar & Socher, 2017), Algorithm 1 per parameter tensor.\n\n" + rules.SWATS.__doc__
    rule = rules.SWATS
    positional = ("lr", "betas", "eps", "weight_decay")


class Lookahead(torch.optim.Optimizer):
    """Lookahead (Zhang, Lucas, Hinton & Ba, 2019) around any torch optimizer.

    The slow weights start equal to the parameters (the paper's phi_0 = theta_0). After every k
    inner steps they move a fraction alpha towards the fast weights, which are then reset to them.
    ``param_groups`` are the inner optimizer's (so schedulers and lr changes reach it), and
    ``state_dict()`` holds the inner state, the slow weights and the step counter.
    """

    def __init__(self, optimizer, k=5, alpha=0.5):
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"Lookahead wraps a torch.optim.Optimizer, got {type(optimizer).__name__}")
        k = validate.integer(k, "k", "Lookahead", low=1)  # strict: Lookahead is not torch's
        alpha = validate.real(alpha, "alpha", "Lookahead", low=0.0, high=1.0)
        self.optimizer, self.k, self.alpha, self.lookahead_step = optimizer, k, alpha, 0
        super().__init__(optimizer.param_groups, {})  # torch's bookkeeping; slow weights per group
        self.param_groups = optimizer.param_groups  # the same list: lr changes and new groups reach both
        self.defaults = optimizer.defaults

    def add_param_group(self, param_group):
        """Add a group to the inner optimizer (which fills in its defaults); its parameters get slow weights."""
        inner = self.optimizer
        if not any(param_group is g for g in inner.param_groups):  # a new group, not one from __init__
            inner.add_param_group(param_group)
            param_group = inner.param_groups[-1]
        if self.param_groups is not inner.param_groups:  # still inside torch's __init__
            self.param_groups.append(param_group)
        for p in param_group["params"]:
            self.state[p]["slow_param"] = p.detach().clone()  # phi_0 = theta_0

    def __repr__(self):
        return f"Lookahead({self.optimizer!r}, k={self.k}, alpha={self.alpha})"

    def zero_grad(self, set_to_none=True):
        self.optimizer.zero_grad(set_to_none)

    @torch.no_grad()
    def step(self, closure=None):
        loss = self.optimizer.step(closure)
        self.lookahead_step += 1
        if self.lookahead_step % self.k == 0:
            for group in self.param_groups:
                for p in group["params"]:
                    rules.lookahead_sync_(p, self.state[p]["slow_param"], self.alpha)
        return loss

    def state_dict(self):
        slow = super().state_dict()
        return {"inner": self.optimizer.state_dict(), "slow": slow["state"],
                "lookahead": {"k": self.k, "alpha": self.alpha, "step": self.lookahead_step}}

    def load_state_dict(self, state_dict):
        self.optimizer.load_state_dict(state_dict["inner"])
        torch.optim.Optimizer.load_state_dict(
            self, {"state": state_dict["slow"], "param_groups": state_dict["inner"]["param_groups"]})
        self.param_groups = self.optimizer.param_groups  # loading replaced the group dicts: share again
        la = state_dict["lookahead"]
        self.k, self.alpha, self.lookahead_step = la["k"], la["alpha"], la["step"]
