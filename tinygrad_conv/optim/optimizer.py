"""The Optimizer base of torch.optim: parameter groups, per-parameter state, zero_grad, step's
loop, state_dict / load_state_dict, and the checks every optimizer's settings go through.

An optimizer holds lists of parameters (param_groups, each a dict with its own lr, ...) and
per-parameter state (momentum buffers, Adam's moments: numpy arrays of the parameter's dtype, and
the step count). `step()` visits every parameter that has a .grad (the others, e.g. frozen
layers, are skipped, as in torch), and the subclass's `_update` writes the parameter's array in
place, outside the graph; each write bumps the tensor's version counter, so a graph that saved
the old value refuses to backward through it.

The update rules themselves are in sgd.py, adam.py, rmsprop.py, adadelta.py, adagrad.py; the
learning-rate schedules in lr_scheduler.py.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Iterable

import numpy as np

from ..autograd import Tensor, enable_grad

# keyword settings every torch optimizer accepts that only matter on GPUs or for torch.compile;
# accepted with their default values (anything else would silently mean something else)
_TORCH_ONLY_FLAGS = {"foreach": None, "fused": None, "capturable": False, "differentiable": False}


def _refuse_sets(params) -> None:
    if isinstance(params, (set, frozenset)):
        raise TypeError("optimizer parameters need to be organized in ordered collections, but "
                        "the ordering of tensors in sets changes between runs; use a list")


class Optimizer:
    """Base class: parameter groups, per-parameter state, zero_grad, state_dict. Subclasses
    give their defaults, check their settings (`_check_group`) and update one parameter
    (`_update`)."""

    def __init__(self, params: Iterable, defaults: dict[str, Any]):
        for flag, value in _TORCH_ONLY_FLAGS.items():
            if defaults.get(flag, value) != value:
                raise ValueError(f"{type(self).__name__}: {flag}={defaults[flag]!r} is not "
                                 f"supported (tinygrad_conv runs one NumPy update per parameter); "
                                 f"leave it at its default {value!r}")
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)   # keyed by identity
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
        """Add {'params': [...], 'lr': ..., ...}; settings it leaves out take the defaults.

        params may be Tensors or (name, Tensor) pairs, as model.named_parameters() gives; the
        names are kept as the group's 'param_names'.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("a parameter group needs a 'params' entry: {'params': [...], ...}")
        params = param_group["params"]
        _refuse_sets(params)
        params = [params] if isinstance(params, Tensor) else list(params)
        names = None
        if params and all(isinstance(p, tuple) and len(p) == 2 for p in params):
            names, params = [name for name, _ in params], [p for _, p in params]
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor (it was computed by an op); "
                                 "optimize the leaf it came from, or .detach() it first")
        existing = {id(p) for group in self.param_groups for p in group["params"]}
        if len({id(p) for p in params}) != len(params) or existing & {id(p) for p in params}:
            raise ValueError("some parameters appear more than once (in one group or in more "
                             "than one parameter group)")
        group = {**param_group, "params": params}          # torch's key order: given, then defaults
        if names is not None:
            group["param_names"] = names
        for key, default in self.defaults.items():
            group.setdefault(key, default)
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

    def step(self, closure: Callable[[], Any] | None = None):
        """One update of every parameter that has a .grad (the others are skipped).

        closure, if given, re-evaluates the model and returns the loss (with gradients enabled);
        its result is returned, as in torch.
        """
        loss = None
        self._opt_called = True                    # lr_scheduler warns when step() comes first
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.data
                if group.get("maximize", False):
                    grad = -grad
                if not p.data.flags.writeable:                 # e.g. made from a read-only array
                    p.data = p.data.copy()
                self._update(p.data, grad, self.state[p], group)
                p.mark_modified()
        return loss

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        """Change `param` in place from its gradient; `state` persists between steps."""
        raise NotImplementedError(f"{type(self).__name__} must define _update()")

    # --- state_dict -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """{'state': {index: {name: value}}, 'param_groups': [{settings..., 'params': [indices]}]}
        with torch's structure: parameters are numbered in group order, arrays are Tensors that
        share memory with the optimizer, 'step' is a float32 0-d Tensor (as torch's)."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, entries in self.state.items():
            if id(p) in index and entries:
                state[index[id(p)]] = {k: _state_value_out(k, v) for k, v in entries.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what state_dict() returned (from this optimizer, tc.load, or torch converted
        with numpy): settings per group, and each parameter's state, matched by position.

        Everything is checked (number and sizes of groups, the shapes of the state arrays)
        before anything changes; the arrays are copied and converted to the parameters' dtypes.
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError("load_state_dict expects the dict optimizer.state_dict() returns, with "
                             "'state' and 'param_groups' entries")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)}) than the optimizer ({len(self.param_groups)})")
        if any(len(s["params"]) != len(g["params"]) for s, g in zip(saved_groups, self.param_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the "
                             "size of optimizer's group")
        params = {saved: p for s, g in zip(saved_groups, self.param_groups)
                  for saved, p in zip(s["params"], g["params"])}
        state = defaultdict(dict)
        for key, entries in state_dict["state"].items():
            if key not in params:
                raise ValueError(f"loaded state dict has state for parameter {key!r}, which no "
                                 f"parameter group lists")
            p = params[key]
            state[p] = {name: _state_value_in(name, value, p, key) for name, value in entries.items()}
        groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            new = {k: v for k, v in saved.items() if k != "params"}
            new["params"] = group["params"]
            if "param_names" in group and "param_names" not in new:
                new["param_names"] = group["param_names"]
            for key, default in self.defaults.items():
                new.setdefault(key, default)
            self._check_group(new)
            groups.append(new)
        self.state, self.param_groups = state, groups

    def __repr__(self):
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}"
            for key in sorted(k for k in group if k not in ("params", "param_names")):
                text += f"\n    {key}: {group[key]}"
        return text + "\n)"


def _state_value_out(name: str, value):
    if name == "step":
        return Tensor(np.asarray(value, dtype=np.float32))
    return Tensor(value) if isinstance(value, np.ndarray) else value


def _state_value_in(name: str, value, p: Tensor, key):
    """A saved state entry as the optimizer keeps it: 'step' a number, arrays copied to p's
    dtype and checked against p's shape."""
    array = value.data if isinstance(value, Tensor) else value
    if name == "step":
        return float(np.asarray(array))
    if not hasattr(array, "shape") and not isinstance(array, (list, tuple)):
        return value                                  # a number or flag kept as it is
    array = np.array(array, dtype=p.dtype if p.dtype.kind == "f" else None)
    if array.shape != p.shape:
        raise ValueError(f"loaded state dict: state {name!r} of parameter {key} has shape "
                         f"{array.shape}, but the parameter has shape {tuple(p.shape)}")
    return array


def _nonnegative(group: dict[str, Any], name: str) -> None:
    """group[name] must be an int or float >= 0 (a bool is refused): momentum, eps, weight_decay."""
    value = group[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"Invalid {name} value: {value!r}; expected a number >= 0")


def lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """start += weight * (end - start) in place, rounded as torch's lerp_: from the nearer end
    (end - (end - start) * (1 - weight) when weight >= 0.5). Running averages: Adam's m, ..."""
    if weight < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)
