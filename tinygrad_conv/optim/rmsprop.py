"""RMSprop, as torch.optim.RMSprop: divide the gradient by a running root mean square of it.

The arithmetic follows PyTorch's single-tensor implementation operation by operation. Groups,
state and checks are the Optimizer base's (optimizer.py).
"""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _nonnegative, lerp_


class RMSprop(Optimizer):
    """RMSprop (Hinton), as torch.optim.RMSprop. For each parameter p with gradient g:
        g = g + weight_decay * p                          (if weight_decay != 0)
        v = alpha * v + (1 - alpha) * g * g
        a = v - m*m, m = m + (1 - alpha) * (g - m)        (centered: subtract the mean's square)
        avg = sqrt(v or a) + eps
        b = momentum * b + g / avg;  p = p - lr * b       (if momentum > 0)
        p = p - lr * g / avg                              (otherwise)
    with v = m = b = 0 before the first step.
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach=None, maximize: bool = False,
                 differentiable: bool = False):
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=centered, weight_decay=weight_decay,
                                      capturable=capturable, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable))

    def _check_group(self, group):
        super()._check_group(group)
        for name in ("eps", "momentum", "weight_decay", "alpha"):
            _nonnegative(group, name)

    def _update(self, param, grad, state, group):
        alpha, momentum = group["alpha"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            if momentum > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"]
            lerp_(grad_avg, grad, 1 - alpha)
            avg = np.sqrt(square_avg + -1 * grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += group["eps"]
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += 1 * grad / avg
            param += -group["lr"] * buf
        else:
            param += -group["lr"] * grad / avg
