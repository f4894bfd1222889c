"""Losses: nll_loss, cross_entropy (with class weights, ignore_index, label smoothing and
probability targets) and mse_loss, composites of primitives.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import ops
from ..autograd import Tensor
from ..autograd.composites import composite
from .activation import log_softmax
from .contract import check_reduction, tensor_arg
from .reduce import mean


def _class_targets(target, x: Tensor, ignore_index: int, fn: str) -> np.ndarray:
    """Integer class targets as an int64 array of x's shape without the class axis (axis 1)."""
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype not in (np.int64, np.uint8):          # PyTorch takes Long (or Byte) targets
        raise TypeError(f"{fn}: target must hold integer class indices of dtype int64 (or "
                        f"uint8), got dtype {t.dtype}; convert with .long() (Tensor) or "
                        f".astype(np.int64) (numpy)")
    expected = x.shape[:1] + x.shape[2:] if x.ndim >= 2 else ()
    if t.shape != expected:
        raise ValueError(f"{fn}: target of shape {t.shape} does not match input of shape "
                         f"{tuple(x.shape)}: expected one class index per row, shape {expected} "
                         f"(the input without its class dimension)")
    C = x.shape[1] if x.ndim >= 2 else x.shape[0]
    bad = (t != ignore_index) & ((t < 0) | (t >= C))
    if bad.any():
        raise ValueError(f"{fn}: target holds class index {int(t[bad].flat[0])}, but the input has "
                         f"{C} classes (valid indices 0..{C - 1}, or ignore_index={ignore_index})")
    return t.astype(np.int64)


def _mean_of(total: Tensor, count) -> Tensor:
    """total / count for reduction='mean'; with every target ignored (count 0) the loss is
    0/0 = nan, and, as in PyTorch, its gradient is zero."""
    if count == 0:
        return total + Tensor(np.asarray(np.nan, dtype=total.dtype))
    return total / Tensor(np.asarray(count, dtype=total.dtype))


def _rows_of_classes(x: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N*d1*..., C), and (C,) -> (1, C): one row of class scores per target."""
    if x.ndim == 2:
        return x
    if x.ndim == 1:
        return ops.reshape(x, shape=(1, x.shape[0]))
    C = x.shape[1]
    classes_last = ops.permute(x, dims=(0,) + tuple(range(2, x.ndim)) + (1,))
    return ops.reshape(classes_last, shape=(x.data.size // C, C))


@composite("nll_loss")
def nll_loss(input: Tensor, target, weight: Tensor | None = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """loss_n = -w[t_n] * input[n, t_n]; 'mean' divides the sum by sum_n w[t_n].

    input: (N, C) log-probabilities (or (C,), or (N, C, d1, ...)); target: (N,) integer classes
    (or (), or (N, d1, ...)) as a numpy array or Tensor; weight: (C,) per-class weights.
    Targets equal to ignore_index contribute nothing. -> scalar, or target's shape for 'none'.
    """
    x = tensor_arg(input, "input")
    check_reduction(reduction, "nll_loss")
    if x.ndim == 0:
        raise ValueError("nll_loss: input must be (N, C) or (C,) log-probabilities, got a 0-D tensor")
    t = _class_targets(target, x, ignore_index, "nll_loss")
    C = x.shape[1] if x.ndim >= 2 else x.shape[0]
    rows = _rows_of_classes(x)
    flat = t.reshape(-1)
    kept = flat != ignore_index
    classes = np.where(kept, flat, 0)
    if weight is None:
        w = kept.astype(x.dtype)
    else:
        weight = tensor_arg(weight, "weight")
        if weight.shape != (C,):
            raise ValueError(f"nll_loss: weight must have shape ({C},), one per class, got "
                             f"{tuple(weight.shape)}")
        w = (weight.data[classes] * kept).astype(x.dtype)
    picked = ops.getitem(rows, index=(np.arange(len(flat)), classes))        # input[n, t_n]
    losses = -picked * Tensor(w)
    if reduction == "none":
        return ops.reshape(losses, shape=t.shape)
    total = ops.sum_(losses)
    return total if reduction == "sum" else _mean_of(total, w.sum())


@composite("cross_entropy")
def cross_entropy(input: Tensor, target, weight: Tensor | None = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """loss_n = -log softmax(x_n)[t_n] = log sum_j e^{x_nj} - x_{n t_n}   (= nll_loss(log_softmax(x, 1), t))

    input: (N, C) raw scores (logits), or (C,), or (N, C, d1, ...); target: (N,) integer classes
    as a numpy array or Tensor, or class probabilities of the input's shape (then
    loss_n = -sum_c w_c p_nc log softmax(x_n)_c). -> scalar, or (N, ...) for reduction='none'.
    label_smoothing = s mixes the target with the uniform distribution, (1 - s) t + s / C, as
    PyTorch: for class indices the loss is (1 - s) loss + s/C * (-sum_c w_c log softmax(x_n)_c).
    """
    x = tensor_arg(input, "input")
    check_reduction(reduction, "cross_entropy")
    if x.ndim == 0:
        raise ValueError("cross_entropy: input must be (N, C) or (C,) logits, got a 0-D tensor")
    if x.dtype.kind != "f":
        raise TypeError(f"cross_entropy: input must hold floating-point logits, got dtype "
                        f"{x.dtype}; convert it with .float()")
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)) \
            or not 0 <= label_smoothing <= 1:
        raise ValueError(f"cross_entropy: label_smoothing must be a number between 0.0 and 1.0, "
                         f"got {label_smoothing!r}")
    class_axis = 1 if x.ndim >= 2 else 0
    C = x.shape[class_axis]
    class_shape = tuple(C if i == class_axis else 1 for i in range(x.ndim))
    if weight is not None:
        weight = tensor_arg(weight, "weight")
        if weight.shape != (C,):
            raise ValueError(f"cross_entropy: weight must have shape ({C},), one per class, got "
                             f"{tuple(weight.shape)}")
    logp = log_softmax(x, dim=class_axis)
    is_probabilities = (isinstance(target, Tensor) and np.issubdtype(target.dtype, np.floating)) \
        or (isinstance(target, np.ndarray) and target.dtype.kind == "f")
    if not is_probabilities:
        loss = nll_loss(logp, target, weight=weight, ignore_index=ignore_index, reduction=reduction)
        if not label_smoothing:
            return loss
        # the uniform part, over the same rows (and with the same normaliser) as the nll part
        t = _class_targets(target, x, ignore_index, "cross_entropy")
        kept = t != ignore_index
        if weight is not None:
            logp = logp * ops.reshape(weight, shape=class_shape)
        uniform = -ops.sum_(logp, axis=class_axis) * Tensor(kept.astype(x.dtype))
        if reduction != "none":
            uniform = ops.sum_(uniform)
        if reduction == "mean":
            rows = kept.sum() if weight is None else (weight.data[np.where(kept, t, 0)] * kept).sum()
            uniform = _mean_of(uniform, rows)
        return loss * (1 - label_smoothing) + uniform * (label_smoothing / C)
    p = tensor_arg(target, "target")
    if p.shape != x.shape:
        raise ValueError(f"cross_entropy: a floating-point target holds class probabilities and "
                         f"must have the input's shape {tuple(x.shape)}, got {tuple(p.shape)}; "
                         f"for class indices pass an integer array")
    if ignore_index != -100:
        raise ValueError(f"cross_entropy: ignore_index={ignore_index} is not supported for "
                         f"probability targets (as in PyTorch); give the ignored rows zero "
                         f"probabilities instead")
    if label_smoothing:
        p = p * (1 - label_smoothing) + label_smoothing / C
    if weight is not None:
        logp = logp * ops.reshape(weight, shape=class_shape)
    losses = -ops.sum_(p * logp, axis=class_axis)
    if reduction == "none":
        return losses
    total = ops.sum_(losses)
    return total if reduction == "sum" else total / max(losses.data.size, 1)


@composite("mse_loss")
def mse_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """loss = (x - y)^2, averaged ('mean'), summed ('sum') or elementwise ('none').

    input, target: the same shape (a different shape broadcasts, with a warning, as in PyTorch).
    """
    x, y = tensor_arg(input, "input"), tensor_arg(target, "target")
    check_reduction(reduction, "mse_loss")
    if x.shape != y.shape:
        warnings.warn(f"mse_loss: using a target size {tuple(y.shape)} that is different to the "
                      f"input size {tuple(x.shape)}. This will likely lead to incorrect results "
                      f"due to broadcasting. Please ensure they have the same size.", stacklevel=2)
    diff = x - y
    squared = diff * diff
    if reduction == "none":
        return squared
    return ops.sum_(squared) if reduction == "sum" else mean(squared)
