"""Reductions: sum, max and prod over axes (and prod_others, the gradient of prod)."""
import numpy as np

from ..autograd import Tensor, primitive
from .elementwise import where
from .shape import expand, permute, reshape


def _kept_shape(shape, axis):
    """x's shape with the reduced axes kept as size 1 (the shape of the keepdims result)."""
    axes = range(len(shape)) if axis is None else [a % len(shape) for a in np.atleast_1d(axis)]
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


@primitive(name="sum", reads="shapes")
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
def max_(x, *, axis=None, keepdims=False, evenly=False):
    """y = max of x over `axis`; the maxima share the gradient equally.

    Two rules, PyTorch's two (and where the two differ, only at nan and at an infinite dY):
    - torch.amax (evenly=False): dX = (dY / count) * [x = y]. A slice holding nan has max nan
      and no entry equal to it: 0/0, nan in all of its gradient. An infinite dY gives nan at the
      other entries (inf * 0).
    - x.max() of a whole tensor (evenly=True): dY / count at the maxima, an exact 0 elsewhere,
      nan entries being the maxima of a slice that holds them.
    """
    y = np.max(x, axis=axis, keepdims=True)
    winners = x == y                                  # False at nan, where y is nan too
    if evenly and x.dtype.kind == "f":
        nan = np.isnan(y)
        if nan.any():
            winners = np.where(nan, np.isnan(x), winners)
    winners = winners.astype(x.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):    # no winner: 0/0, nan as PyTorch
        share = winners / winners.sum(axis=axis, keepdims=True)
    return (y if keepdims else y.reshape(np.max(x, axis=axis).shape)), share


@max_.defvjp
def max_vjp(dy, x, *, axis=None, keepdims=False, evenly=False, saved):
    # only the maxima move the output: dx = dy at the argmax (split among ties), 0 elsewhere
    spread = expand(reshape(dy, shape=_kept_shape(x.shape, axis)), shape=x.shape)
    if not evenly:
        return spread * Tensor(saved)
    return where(Tensor(saved == 0), Tensor(np.zeros((), dtype=dy.dtype)), spread * Tensor(saved))


@primitive
def prod(x, *, axis=None, keepdims=False):
    """y = product of x over `axis` (an int, or None for all entries)."""
    return np.prod(x, axis=axis, keepdims=keepdims)


@prod.defvjp
def prod_vjp(dy, x, *, axis=None, keepdims=False):
    # dy/dx_i = prod_{j != i} x_j: exact even where some x_j = 0 (no division by x_i)
    spread = expand(reshape(dy, shape=_kept_shape(x.shape, axis)), shape=x.shape)
    return spread * prod_others(x, axis=axis)


def _exclusive_cumprod(x, axis):
    """c_i = x_0 x_1 ... x_{i-1} along `axis` (c_0 = 1)."""
    c = np.cumprod(x, axis=axis)
    ones = np.ones_like(np.take(x, [0], axis=axis))
    return np.concatenate([ones, np.delete(c, -1, axis=axis)], axis=axis) if x.shape[axis] else c


@primitive
def prod_others(x, *, axis=None):
    """y_i = prod_{j != i} x_j along `axis` (None: over all entries), without dividing by x_i.

    x: any shape -> same shape. The product of the entries before i times those after i.
    """
    if axis is None:
        return prod_others.forward(x.reshape(-1), axis=0).reshape(x.shape)
    before = _exclusive_cumprod(x, axis)
    after = np.flip(_exclusive_cumprod(np.flip(x, axis), axis), axis)
    return before * after


@prod_others.defvjp
def prod_others_vjp(dy, x, *, axis=None):
    # dy_i/dx_k = prod_{j not in {i, k}} x_j for k != i (0 for k = i), so
    # dx_k = sum_{i != k} dy_i prod_{j not in {i, k}} x_j: row i of M = x with x_i set to 1,
    # its prod_others at k, masked off the diagonal.   [.., n] -> [.., n, n] -> [.., n]
    if axis is None:
        flat = reshape(x, shape=(x.data.size,))
        return reshape(prod_others_vjp(reshape(dy, shape=flat.shape), flat, axis=0), shape=x.shape)
    last = tuple(a for a in range(x.ndim) if a != axis) + (axis,)
    back = tuple(np.argsort(last).tolist())
    xt, gt = permute(x, dims=last), permute(dy, dims=last)
    n = x.shape[axis]
    eye = Tensor(np.eye(n, dtype=bool))
    rows = expand(reshape(xt, shape=xt.shape[:-1] + (1, n)), shape=xt.shape[:-1] + (n, n))
    q = prod_others(where(eye, Tensor(np.ones((), x.dtype)), rows), axis=x.ndim)
    off_diagonal = Tensor(1 - np.eye(n, dtype=x.dtype))
    weighted = reshape(gt, shape=gt.shape + (1,)) * q * off_diagonal
    return permute(sum_(weighted, axis=x.ndim - 1), dims=back)
