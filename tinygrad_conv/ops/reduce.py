"""Reductions: sum and max over axes."""
import numpy as np

from ..autograd import Tensor, primitive
from .shape import expand, reshape


def _kept_shape(shape, axis):
    """x's shape with the reduced axes kept as size 1 (the shape of the keepdims result)."""
    axes = range(len(shape)) if axis is None else [a % len(shape) for a in np.atleast_1d(axis)]
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


@primitive(name="sum")
def sum_(x, *, axis=None, keepdims=False):
    """y = sum of x over `axis` (all axes if None).

    float16 is summed in float32 and rounded once at the end, as PyTorch does: float16 has 11
    bits of mantissa, so a running float16 sum stops growing (2048 + 1 == 2048) or overflows.
    """
    if x.dtype == np.float16:
        with np.errstate(over="ignore"):                # too large for float16: inf, as PyTorch
            return np.sum(x, axis=axis, keepdims=keepdims, dtype=np.float32).astype(np.float16)
    return np.sum(x, axis=axis, keepdims=keepdims)


@sum_.defvjp
def sum_vjp(dy, x, *, axis=None, keepdims=False):
    # every summand has derivative 1: dy is copied back over the reduced axes
    return expand(reshape(dy, shape=_kept_shape(x.shape, axis)), shape=x.shape)


@primitive(name="max")
def max_(x, *, axis=None, keepdims=False):
    """y = max of x over `axis`; ties share the gradient equally (as torch.amax).

    NaN propagates: a slice holding NaN has max NaN, and its gradient goes to its NaN entries
    only (shared if several), as PyTorch's x.max() does, never to the whole slice.
    """
    y = np.max(x, axis=axis, keepdims=True)
    winners = x == y                                  # False at NaN, where y is NaN too
    if x.dtype.kind == "f":
        nan = np.isnan(y)
        if nan.any():
            winners = np.where(nan, np.isnan(x), winners)
    winners = winners.astype(x.dtype)
    share = winners / winners.sum(axis=axis, keepdims=True)
    return (y if keepdims else y.reshape(np.max(x, axis=axis).shape)), share


@max_.defvjp
def max_vjp(dy, x, *, axis=None, keepdims=False, saved):
    # only the maxima move the output: dx = dy at the argmax (split among ties), 0 elsewhere
    spread = expand(reshape(dy, shape=_kept_shape(x.shape, axis)), shape=x.shape)
    return spread * Tensor(saved)
