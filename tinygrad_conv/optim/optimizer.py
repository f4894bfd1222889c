"""The Optimizer base of torch.optim: parameter groups, per-parameter state, zero_grad, and the
checks every optimizer's settings go through.

An optimizer holds lists of parameters (param_groups, each with its own lr, ...) and per-parameter
state (momentum buffers, Adam's moments). `step()` reads each parameter's .grad and updates the
parameter's array in place, outside the graph, keeping its dtype; each write bumps the tensor's
version counter, so a graph that saved the old value refuses to backward through it.

The update rules themselves are in sgd.py and adam.py (a scheduler would go in lr_scheduler.py).
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ..autograd import Tensor


def _refuse_sets(params) -> None:
    if isinstance(params, (set, frozenset)):
        raise TypeError("optimizer parameters need to be organized in ordered collections, but "
                        "the ordering of tensors in sets changes between runs; use a list")


class Optimizer:
    """Base class: parameter groups, per-parameter state, zero_grad. Subclasses define step()."""

    def __init__(self, params: Iterable, defaults: dict[str, Any]):
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}      # Tensors hash by identity
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got a single Tensor; wrap it in a list: [w]")
        _refuse_sets(params)
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list; pass model.parameters() "
                             "after the model's layers are created")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add {'params': [...], 'lr': ..., ...}; settings it leaves out take the defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        _refuse_sets(params)
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor (it was computed by an op); "
                                 "optimize the leaf it came from, or .detach() it first")
            if not p.requires_grad:
                raise ValueError("optimizing a Tensor that does not require grad: it will never "
                                 "get a .grad; create it with requires_grad=True (nn.Parameter)")
        existing = {id(p) for group in self.param_groups for p in group["params"]}
        if len({id(p) for p in params}) != len(params) or existing & {id(p) for p in params}:
            raise ValueError("some parameters appear more than once (in one group or in more "
                             "than one parameter group)")
        group = {**self.defaults, **param_group, "params": params}
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate a group's settings (subclasses check their own hyperparameters)."""
        lr = group["lr"]
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr < 0:
            raise ValueError(f"Invalid learning rate: lr={lr!r}; expected a number >= 0")

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the accumulated gradients: .grad = None (or zeros with set_to_none=False)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = Tensor(np.zeros_like(p.data))

    def _params_with_grad(self, group: dict[str, Any]):
        for p in group["params"]:
            if p.grad is not None:
                yield p, p.grad.data, self.state.setdefault(p, {})

    def step(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define step()")

    def __repr__(self):
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}"
            for key in sorted(k for k in group if k != "params"):
                text += f"\n    {key}: {group[key]}"
        return text + "\n)"


def _nonnegative(group: dict[str, Any], name: str) -> None:
    """group[name] must be an int or float >= 0 (a bool is refused): momentum, eps, weight_decay."""
    value = group[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"Invalid {name} value: {value!r}; expected a number >= 0")
