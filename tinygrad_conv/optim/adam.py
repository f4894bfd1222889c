"""Adam and AdamW, as torch.optim: p = p - lr * m_hat / (sqrt(v_hat) + eps), bias-corrected
moments; AdamW decays the weights directly instead of adding weight_decay * p to the gradient.

The arithmetic follows PyTorch's single-tensor implementation operation by operation (same
formulas, same order, same dtype for every intermediate). Groups, state and checks are the
Optimizer base's (optimizer.py).
"""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _nonnegative, lerp_


class Adam(Optimizer):
    """Adam (Kingma and Ba), as torch.optim.Adam: moments of the gradient, bias-corrected.

    For each parameter p with gradient g, at step t = 1, 2, ...:
        p = p * (1 - lr * weight_decay)                   (decoupled_weight_decay: AdamW)
        g = g + weight_decay * p                          (otherwise, if weight_decay != 0: L2)
        m = m + (1 - beta1) * (g - m)                     (= beta1 m + (1 - beta1) g)
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v), used in place of v below   (amsgrad)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    with m = v = v_max = 0 before the first step.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach=None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused=None, decoupled_weight_decay: bool = False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable,
                                      fused=fused, decoupled_weight_decay=decoupled_weight_decay))

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

    def _update(self, param, grad, state, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        weight_decay = group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * weight_decay
            else:
                grad = grad + weight_decay * param
        step, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        lerp_(m, grad, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        step_size = lr / (1 - beta1 ** step)
        denom = np.sqrt(v) / (1 - beta2 ** step) ** 0.5 + eps
        param += -step_size * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter), as torch.optim.AdamW:
    p = p * (1 - lr * weight_decay) before the Adam step (default weight_decay 0.01)."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach=None, capturable: bool = False,
                 differentiable: bool = False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)
