"""Optimizers as in torch.optim: SGD (momentum, dampening, weight decay, Nesterov) and Adam.

An optimizer holds lists of parameters (param_groups, each with its own lr, ...) and per-parameter
state (momentum buffers, Adam's moments). `step()` reads each parameter's .grad and updates the
parameter's array in place, outside the graph, keeping its dtype; each write bumps the tensor's
version counter, so a graph that saved the old value refuses to backward through it.

The arithmetic follows PyTorch's single-tensor implementations operation by operation (same
formulas, same order, same dtype for every intermediate), as written in the step docstrings.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from ..engine import Tensor


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
    value = group[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"Invalid {name} value: {value!r}; expected a number >= 0")


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, weight decay and Nesterov.

    For each parameter p with gradient g, at step t (as torch.optim.SGD):
        g = g + weight_decay * p                          (if weight_decay != 0)
        b = g at t = 1, else b = momentum * b + (1 - dampening) * g     (if momentum != 0)
        g = g + momentum * b  if nesterov  else  b        (if momentum != 0)
        p = p - lr * g
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _check_group(self, group):
        super()._check_group(group)
        for name in ("momentum", "weight_decay"):
            _nonnegative(group, name)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"Nesterov momentum requires a momentum > 0 and zero dampening, got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    def step(self) -> None:
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov = group["weight_decay"], group["nesterov"]
            for p, grad, state in self._params_with_grad(group):
                if weight_decay != 0:
                    grad = grad + weight_decay * p.data
                if momentum != 0:
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = grad.copy()
                    else:
                        buf *= momentum
                        buf += (1 - dampening) * grad
                    grad = grad + momentum * buf if nesterov else buf
                param = p.data
                param -= lr * grad
                p.mark_modified()


class Adam(Optimizer):
    """Adam (Kingma and Ba), as torch.optim.Adam: moments of the gradient, bias-corrected.

    For each parameter p with gradient g, at step t = 1, 2, ...:
        g = g + weight_decay * p                          (if weight_decay != 0; L2, not AdamW)
        m = m + (1 - beta1) * (g - m)                     (= beta1 m + (1 - beta1) g)
        v = beta2 * v + (1 - beta2) * g * g
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    with m = v = 0 before the first step.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def _check_group(self, group):
        super()._check_group(group)
        for name in ("eps", "weight_decay"):
            _nonnegative(group, name)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Invalid betas: {betas!r}; expected a pair (beta1, beta2)")
        for i, beta in enumerate(betas):
            if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not 0 <= beta < 1:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta!r}; expected "
                                 f"0 <= beta < 1")

    def step(self) -> None:
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay = group["weight_decay"]
            for p, grad, state in self._params_with_grad(group):
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros_like(p.data)
                    state["exp_avg_sq"] = np.zeros_like(p.data)
                if weight_decay != 0:
                    grad = grad + weight_decay * p.data
                state["step"] += 1
                step, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
                m += (1 - beta1) * (grad - m)
                v *= beta2
                v += (1 - beta2) * grad * grad
                bias_correction1 = 1 - beta1 ** step
                bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
                denom = np.sqrt(v) / bias_correction2_sqrt + eps
                param = p.data
                param += -(lr / bias_correction1) * (m / denom)
                p.mark_modified()


__all__ = ["Optimizer", "SGD", "Adam"]
