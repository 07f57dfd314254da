"""An exponentially weighted average of the weights: chapter 3's rule applied to the iterates.

Averaging the iterates of SGD (Polyak & Juditsky, 1992) cancels part of the noise of its last steps;
with a forgetting factor beta it becomes the "model EMA" of practice (``torch.optim.swa_utils.AveragedModel``
with ``get_ema_multi_avg_fn``). :class:`WeightEWA` wraps any optimizer, keeps the averages after every
step and lets the trainer evaluate them (``evaluation_views()``, as :class:`optlib.optim.Lookahead` does
for its slow weights) without changing the training itself.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch

from . import rules, validate
from .train import Comparison, History

__all__ = ["WeightEWA", "VIEWS", "views_comparison"]

# the three ways to start the average, as evaluation views (each per beta)
VIEWS = {
    "bias-corrected": "v_0 = 0, divided by 1 - beta^t (an EWA whose weights sum to 1)",
    "no correction": "v_0 = 0 (the weights sum to 1 - beta^t: pulled towards 0 early on)",
    "torch's start": "the buffer starts at the first iterate, as AveragedModel does",
}


def _check_betas(betas: Any) -> tuple[float, ...]:
    if isinstance(betas, numbers.Real) and not isinstance(betas, bool):
        betas = (betas,)
    if isinstance(betas, (str, bytes)) or not isinstance(betas, Iterable):
        raise TypeError(f"WeightEWA: betas must be a number or a sequence of numbers, got {betas!r}")
    betas = tuple(validate.real(b, f"betas[{i}]", "WeightEWA", low=0.0, high=1.0, high_open=True)
                  for i, b in enumerate(betas))
    if not betas or len(set(betas)) != len(betas):
        raise ValueError(f"WeightEWA: betas must hold at least one beta, each once, got {betas!r}")
    return betas


class WeightEWA(torch.optim.Optimizer):
    r"""Exponentially weighted averages of the parameters of `optimizer`'s iterates, one per beta.

    After the inner step t (counted from 1) every parameter theta_t updates, for each beta,

    * ``v = beta v + (1 - beta) theta_t`` from v_0 = 0 (:func:`optlib.rules.ewa_`, chapter 3's rule);
    * ``b = beta b + (1 - beta) theta_t`` from b_1 = theta_1: torch's convention
      (``AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(beta))`` updated after each step).

    ``evaluation_views()`` offers, per beta, ``"EWA {beta}, bias-corrected"`` (v_t / (1 - beta^t)),
    ``"EWA {beta}, no correction"`` (v_t) and ``"EWA {beta}, torch's start"`` (b_t): inside each context
    the parameters hold that average, and leaving it restores the iterate. Training is unchanged: the
    inner optimizer steps exactly as without the wrapper. ``param_groups`` are the inner optimizer's
    (schedulers and lr changes reach it); ``state_dict()`` holds the inner state, the averages and t.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, betas: float | Iterable[float] = (0.99,)) -> None:
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"WeightEWA wraps a torch.optim.Optimizer, got {type(optimizer).__name__}")
        self.optimizer, self.betas, self.ewa_step = optimizer, _check_betas(betas), 0
        super().__init__(optimizer.param_groups, {})  # torch's bookkeeping; the averages live in self.state
        self.param_groups = optimizer.param_groups  # the same list: lr changes and new groups reach both
        self.defaults = optimizer.defaults

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group to the inner optimizer (which fills in its defaults); its parameters get averages."""
        inner = self.optimizer
        if not any(param_group is g for g in inner.param_groups):  # a new group, not one from __init__
            inner.add_param_group(param_group)
            param_group = inner.param_groups[-1]
        if self.param_groups is not inner.param_groups:  # still inside torch's __init__
            self.param_groups.append(param_group)
        for p in param_group["params"]:
            for beta in self.betas:
                self.state[p][f"ewa {beta}"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                # torch's buffer: filled by the first step (a group added later starts its own count there)
                self.state[p][f"first {beta}"] = None

    def __repr__(self) -> str:
        return f"WeightEWA({self.optimizer!r}, betas={self.betas})"

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none)

    def _params(self) -> list[torch.Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        loss = self.optimizer.step(closure)  # the training step, unchanged
        self.ewa_step += 1
        for p in self._params():
            state = self.state[p]
            for beta in self.betas:
                # v_t = beta v_{t-1} + (1 - beta) theta_t, from v_0 = 0
                rules.ewa_(state[f"ewa {beta}"], p, beta)
                if state[f"first {beta}"] is None:  # b_1 = theta_1 (torch)
                    state[f"first {beta}"] = p.detach().clone()
                else:
                    rules.ewa_(state[f"first {beta}"], p, beta)
        return loss

    def averages(self, beta: float, start: str = "bias-corrected") -> list[torch.Tensor]:
        """The averaged parameters (new tensors, in the order of ``param_groups``) for `beta` and `start`,
        one of :data:`VIEWS`."""
        if beta not in self.betas:
            raise ValueError(f"WeightEWA: beta must be one of {self.betas}, got {beta!r}")
        if start not in VIEWS:
            raise ValueError(f"WeightEWA: start must be one of {list(VIEWS)}, got {start!r}")
        if self.ewa_step == 0:
            raise RuntimeError("WeightEWA: no step taken yet, so there is no average to evaluate")
        if start == "torch's start":
            return [self.state[p][f"first {beta}"].clone() for p in self._params()]
        total_weight = 1 - beta ** self.ewa_step if start == "bias-corrected" else 1.0  # of theta_1..theta_t
        return [self.state[p][f"ewa {beta}"] / total_weight for p in self._params()]

    def evaluation_views(self) -> dict[str, Callable[[], contextlib.AbstractContextManager]]:
        """``{"EWA {beta}, {start}": context}`` for every beta and start of :data:`VIEWS`: inside the
        context the parameters hold that average; on leaving, the iterate is back."""
        return {f"EWA {beta}, {start}": (lambda beta=beta, start=start: self._holding(beta, start))
                for beta in self.betas for start in VIEWS}

    @contextlib.contextmanager
    def _holding(self, beta: float, start: str) -> Iterator[None]:
        params, averaged = self._params(), self.averages(beta, start)
        iterate = [p.detach().clone() for p in params]
        with torch.no_grad():
            for p, a in zip(params, averaged):
                p.copy_(a)
        try:
            yield
        finally:
            with torch.no_grad():
                for p, x in zip(params, iterate):
                    p.copy_(x)

    def state_dict(self) -> dict[str, Any]:
        averages = super().state_dict()
        return {"inner": self.optimizer.state_dict(), "averages": averages["state"],
                "weight_ewa": {"betas": self.betas, "step": self.ewa_step}}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        own = state_dict["weight_ewa"]
        if tuple(own["betas"]) != self.betas:
            raise ValueError(f"WeightEWA: the state holds averages for betas {tuple(own['betas'])}, "
                             f"this wrapper keeps {self.betas}")
        self.optimizer.load_state_dict(state_dict["inner"])
        torch.optim.Optimizer.load_state_dict(
            self, {"state": state_dict["averages"], "param_groups": state_dict["inner"]["param_groups"]})
        self.param_groups = self.optimizer.param_groups  # loading replaced the group dicts: share again
        self.ewa_step = own["step"]


def views_comparison(comparison: Comparison, name: str, last: str = "last iterate") -> Comparison:
    """The evaluation views of run `name` (e.g. :class:`WeightEWA`'s averages, Lookahead's slow weights) as
    runs of a :class:`~optlib.train.Comparison` of their own, beside the run itself under `last`, so that
    ``values``, ``difference`` and ``verdict`` pair them over seeds (``epoch=`` for ``test_acc`` and
    ``test_loss``). Views are evaluated on the test set only: their training curves are NaN."""
    if name not in comparison.runs:
        raise ValueError(f"name {name!r} is not a run of this comparison: {list(comparison.runs)}")
    histories = comparison.runs[name]
    views = list(histories[0].views)
    if not views:
        raise ValueError(f"run {name!r} has no evaluation views")
    if last in views:
        raise ValueError(f"last={last!r} is already the name of a view: {views}")
    runs = {last: histories}
    for view in views:
        runs[view] = [History(train_loss=[math.nan] * h.epochs, train_acc=[math.nan] * h.epochs,
                              test_loss=list(h.views[view]["test_loss"]), test_acc=list(h.views[view]["test_acc"]),
                              lr=list(h.lr), diverged_at=h.diverged_at) for h in histories]
    return Comparison(runs, comparison.seeds, dict(comparison.config))
