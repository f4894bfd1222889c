"""Adam, as torch.optim.Adam: p = p - lr * m_hat / (sqrt(v_hat) + eps), bias-corrected moments.

The arithmetic follows PyTorch's single-tensor implementation operation by operation (same
formulas, same order, same dtype for every intermediate). Groups, state and checks are the
Optimizer base's (optimizer.py).
"""
from __future__ import annotations

import math

import numpy as np

from .optimizer import Optimizer, _nonnegative


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
