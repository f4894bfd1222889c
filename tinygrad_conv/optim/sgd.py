"""SGD, as torch.optim.SGD: p = p - lr * g, with optional momentum, dampening, weight decay
and Nesterov.

The arithmetic follows PyTorch's single-tensor implementation operation by operation (same
formulas, same order, same dtype for every intermediate). Groups, state and checks are the
Optimizer base's (optimizer.py).
"""
from __future__ import annotations

from .optimizer import Optimizer, _nonnegative


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, weight decay and Nesterov.

    For each parameter p with gradient g, at step t (as torch.optim.SGD):
        g = -g                                            (if maximize)
        g = g + weight_decay * p                          (if weight_decay != 0)
        b = g at t = 1, else b = momentum * b + (1 - dampening) * g     (if momentum != 0)
        g = g + momentum * b  if nesterov  else  b        (if momentum != 0)
        p = p - lr * g
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach=None, differentiable: bool = False, fused=None):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _check_group(self, group):
        super()._check_group(group)
        for name in ("momentum", "weight_decay"):
            _nonnegative(group, name)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"Nesterov momentum requires a momentum > 0 and zero dampening, got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    def _update(self, param, grad, state, group):
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.copy()
            else:
                buf *= momentum
                buf += (1 - dampening) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        param -= lr * grad
