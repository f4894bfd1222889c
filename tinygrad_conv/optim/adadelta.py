"""Adadelta, as torch.optim.Adadelta: steps scaled by the ratio of running RMS of past updates
to running RMS of gradients, so no learning rate is needed (lr=1.0 by default).

The arithmetic follows PyTorch's single-tensor implementation operation by operation. Groups,
state and checks are the Optimizer base's (optimizer.py).
"""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _nonnegative


class Adadelta(Optimizer):
    """Adadelta (Zeiler), as torch.optim.Adadelta. For each parameter p with gradient g:
        g = g + weight_decay * p                          (if weight_decay != 0)
        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta
    with v = u = 0 before the first step.
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach=None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, capturable=capturable, foreach=foreach,
                                      differentiable=differentiable))

    def _check_group(self, group):
        super()._check_group(group)
        for name in ("eps", "weight_decay"):
            _nonnegative(group, name)
        rho = group["rho"]
        if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not 0 <= rho <= 1:
            raise ValueError(f"Invalid rho value: {rho!r}; expected 0 <= rho <= 1")

    def _update(self, param, grad, state, group):
        rho, eps = group["rho"], group["eps"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            state["acc_delta"] = np.zeros_like(param)
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg *= rho
        square_avg += (1 - rho) * grad * grad
        std = np.sqrt(square_avg + eps)
        delta = np.sqrt(acc_delta + eps)
        delta /= std
        delta *= grad
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        param += -group["lr"] * delta
