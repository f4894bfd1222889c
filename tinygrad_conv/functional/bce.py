"""Binary cross-entropy, as torch.nn.functional: binary_cross_entropy on probabilities and
binary_cross_entropy_with_logits on raw scores (the stable form), composites of primitives.
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..autograd import Tensor
from .contract import broadcast_shape, check_reduction, legacy_reduction, tensor_arg
from .reduce import mean

LOG_FLOOR = -100.0          # torch clamps log(p) at -100, so p = 0 or 1 gives a finite loss


def _reduce(losses: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return losses
    return ops.sum_(losses) if reduction == "sum" else mean(losses)


def _bce_args(fn: str, input, target, weight, size_average, reduce, reduction):
    """The checks both losses share: float input and target of one shape and dtype, a weight
    that broadcasts to it, and the reduction (or torch's legacy size_average/reduce)."""
    x, y = tensor_arg(input, "input"), tensor_arg(target, "target")
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, fn)
    check_reduction(reduction, fn)
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}: input must be floating point, got dtype {x.dtype}; convert it "
                        f"with .float()")
    if y.dtype != x.dtype:
        raise TypeError(f"{fn}: target has dtype {y.dtype} but input has dtype {x.dtype}; the "
                        f"target must be floating point like the input (0.0/1.0 labels), e.g. "
                        f"target.float()")
    if y.shape != x.shape:
        raise ValueError(f"{fn}: target size {tuple(y.shape)} must be the same as input size "
                         f"{tuple(x.shape)}; e.g. target.reshape(input.shape) or "
                         f"output.squeeze(1)")
    if weight is not None:
        weight = tensor_arg(weight, "weight")
        if broadcast_shape(weight.shape, x.shape) != x.shape:
            raise ValueError(f"{fn}: weight of shape {tuple(weight.shape)} does not broadcast to "
                             f"the input shape {tuple(x.shape)}")
    return x, y, weight, reduction


def _clamped_log(p: Tensor) -> Tensor:
    """max(log p, -100), with the gradient 1/p where log p > -100 and 0 where it is clamped.

    The clamped entries (p = 0, or p below e^-100) are taken out before the log, so neither the
    value nor the gradient sees log(0) = -inf or 1/0.
    """
    with np.errstate(divide="ignore"):
        kept = (np.log(p.data) > LOG_FLOOR).astype(p.dtype)
    safe = p * Tensor(kept) + Tensor(1 - kept)           # 1 where clamped: log 1 = 0
    return ops.log(safe) + Tensor((1 - kept) * LOG_FLOOR)


def binary_cross_entropy(input: Tensor, target, weight=None, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """loss = -w * (y log p + (1 - y) log(1 - p)), each log clamped at -100 (as torch).

    input p: probabilities in [0, 1], any shape; target y: the same shape and dtype (labels
    0.0/1.0 or soft targets); weight w: broadcasts to the input. -> scalar, or the input's shape
    for reduction='none'. Where a log is clamped (p exactly 0 or 1) the gradient is that of the
    clamped constant, 0; torch returns (p - y) / 1e-12 there instead. For raw scores use
    binary_cross_entropy_with_logits, which is stable and needs no clamp.
    """
    p, y, weight, reduction = _bce_args("binary_cross_entropy", input, target, weight,
                                        size_average, reduce, reduction)
    if not ((p.data >= 0) & (p.data <= 1)).all():
        bad = p.data[~((p.data >= 0) & (p.data <= 1))].flat[0]
        raise ValueError(f"binary_cross_entropy: all elements of input should be between 0 and 1, "
                         f"got {bad}; apply torch.sigmoid first, or use "
                         f"binary_cross_entropy_with_logits (BCEWithLogitsLoss) on raw scores")
    losses = -(y * _clamped_log(p) + (1 - y) * _clamped_log(1 - p))
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target, weight=None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """loss = -w * (r y log σ(x) + (1 - y) log(1 - σ(x))), computed stably as
    w * ((1 - y) x + (1 + (r - 1) y) (max(-x, 0) + log(1 + e^-|x|)))
    (without pos_weight r = 1: max(x, 0) - x y + log(1 + e^-|x|)).

    input x: raw scores, any shape; target y: the same shape and dtype; weight w broadcasts to
    the input; pos_weight r weighs the positive term, broadcasting along the last (class) axis.
    -log σ(x) = max(-x, 0) + log(1 + e^-|x|) never exponentiates a positive number.
    """
    x, y, weight, reduction = _bce_args("binary_cross_entropy_with_logits", input, target,
                                        weight, size_average, reduce, reduction)
    softplus_neg = ops.relu(-x) + ops.log(1 + ops.exp(-ops.absolute(x)))     # -log σ(x)
    if pos_weight is None:
        losses = (1 - y) * x + softplus_neg
    else:
        r = tensor_arg(pos_weight, "pos_weight")
        if broadcast_shape(r.shape, x.shape) != x.shape:
            raise ValueError(f"binary_cross_entropy_with_logits: pos_weight of shape "
                             f"{tuple(r.shape)} does not broadcast to the input shape "
                             f"{tuple(x.shape)}; give one weight per class (the last dimension)")
        losses = (1 - y) * x + (1 + (r - 1) * y) * softplus_neg
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction)
