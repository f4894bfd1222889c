"""Adagrad, as torch.optim.Adagrad: each weight's step shrinks with the sum of its squared
gradients so far.

The arithmetic follows PyTorch's single-tensor implementation operation by operation. Groups,
state and checks are the Optimizer base's (optimizer.py).
"""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _nonnegative


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), as torch.optim.Adagrad. For each parameter p with gradient g,
    at step t = 1, 2, ...:
        g = g + weight_decay * p                          (if weight_decay != 0)
        s = s + g * g                                     (s starts at initial_accumulator_value)
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)
    As in torch, the state (step 0 and s) exists from construction on, so the parameters must
    have their shapes then (build the optimizer after a Lazy model's first forward).
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach=None, *,
                 maximize: bool = False, differentiable: bool = False, fused=None):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))
        for group in self.param_groups:
            for p in group["params"]:
                try:
                    shape = p.shape
                except RuntimeError:
                    raise ValueError("Adagrad: one of the parameters is uninitialized (a Lazy "
                                     "layer before its first forward), and Adagrad creates its "
                                     "state now; run the model once on a dummy batch, e.g. "
                                     "net(X), before building the optimizer") from None
                self.state[p] = self._initial_state(shape, p.dtype, group)

    @staticmethod
    def _initial_state(shape, dtype, group) -> dict:
        return {"step": 0, "sum": np.full(shape, group["initial_accumulator_value"], dtype=dtype)}

    def _check_group(self, group):
        super()._check_group(group)
        for name in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            _nonnegative(group, name)

    def _update(self, param, grad, state, group):
        if not state:                       # a parameter a loaded state_dict had no state for
            state.update(self._initial_state(param.shape, param.dtype, group))
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += 1 * grad * grad
        std = np.sqrt(state["sum"])
        std += group["eps"]
        param += -clr * grad / std
