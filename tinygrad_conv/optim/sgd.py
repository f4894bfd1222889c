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
