"""Shape primitives: they move entries around without arithmetic, so each VJP moves them back."""
import numpy as np

from ..autograd import Tensor, primitive
from ..kernels import pad_nd, dilate2d as dilate2d_kernel


@primitive
def reshape(x, *, shape):
    """y = x viewed with a new shape.   (...) -> shape"""
    return x.reshape(shape)


@reshape.defvjp
def reshape_vjp(dy, x, *, shape):
    return reshape(dy, shape=x.shape)


@primitive
def permute(x, *, dims):
    """y[i_dims[0], i_dims[1], ...] = x[i_0, i_1, ...]: reorder the axes.   (D0, D1, ...) -> (D_dims[0], ...)"""
    return x.transpose(dims)


@permute.defvjp
def permute_vjp(dy, x, *, dims):
    return permute(dy, dims=tuple(np.argsort(dims).tolist()))    # the inverse permutation


@primitive
def expand(x, *, shape):
    """y = x broadcast to `shape` (size-1 axes repeat, new axes are added in front)."""
    return np.broadcast_to(x, shape)


@expand.defvjp
def expand_vjp(dy, x, *, shape):
    # every copy of x[i] received a share of dy, so dx[i] is their sum
    return sum_to(dy, x.shape)


def sum_to(x: Tensor, shape: tuple) -> Tensor:
    """Sum x over the axes broadcasting added or stretched, so that it has `shape` again.

    The VJP of broadcasting: (..., *shape-compatible) -> shape
    """
    if x._data.shape == shape or x._data.shape == tuple(shape):
        return x
    from .reduce import sum_
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    y = sum_(x, axis=axes, keepdims=True)
    return reshape(y, shape=tuple(shape)) if y.shape != tuple(shape) else y


@primitive
def getitem(x, *, index):
    """y = x[index]: basic slicing and integer-array indexing, as numpy. Basic indexing gives a
    view of x, also when it picks a single entry (numpy would copy it out as a scalar)."""
    y = x[index]
    if not isinstance(y, np.ndarray):
        items = index if isinstance(index, tuple) else (index,)
        if not any(i is Ellipsis for i in items):
            y = x[items + (Ellipsis,)]               # the same entry, as a 0-d view
    return y


@getitem.defvjp
def getitem_vjp(dy, x, *, index):
    # each selected entry of x sends its gradient back to where it came from; repeats add up
    return scatter_add(dy, index=index, shape=x.shape)


def _is_basic(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (slice, int, type(None), type(Ellipsis))) for i in items)


@primitive(reads="shapes")
def scatter_add(x, *, index, shape):
    """y = zeros(shape); y[index] += x  (repeated indices accumulate).   x: shape[index] -> shape"""
    y = np.zeros(shape, dtype=x.dtype)
    if _is_basic(index):
        y[index] = x                     # basic indexing never repeats an entry
    else:
        np.add.at(y, index, x)
    return y


@scatter_add.defvjp
def scatter_add_vjp(dy, x, *, index, shape):
    return getitem(dy, index=index)


@primitive
def flip(x, *, dims):
    """y = x reversed along `dims` (for a kernel's last two axes: the 180-degree rotation)."""
    return np.flip(x, dims)


@flip.defvjp
def flip_vjp(dy, x, *, dims):
    return flip(dy, dims=dims)


@primitive(reads="shapes")
def cat(*xs, axis):
    """y = [x0 | x1 | ...] joined along `axis`."""
    return np.concatenate(xs, axis=axis)


@cat.defvjp
def cat_vjp(dy, *xs, axis):
    # the gradient of each piece is its own slab of dy
    bounds = np.cumsum([0] + [x.shape[axis] for x in xs])
    lead = (slice(None),) * (axis % dy.ndim)
    return tuple(getitem(dy, index=lead + (slice(int(a), int(b)),)) for a, b in zip(bounds, bounds[1:]))


@primitive(reads="shapes")
def pad(x, *, widths, value=0.0):
    """y = x with `value` around the last len(widths) axes, (before, after) each; negative crops.

    x: (..., D) -> (..., D + before + after)
    """
    return pad_nd(x, widths, value)


@pad.defvjp
def pad_vjp(dy, x, *, widths, value=0.0):
    # padded entries are constants: the gradient is the slice that undoes the pad, which is a pad
    # by the negated widths (and a crop's gradient is the zero-padding that undoes it)
    return pad(dy, widths=tuple((-b, -a) for b, a in widths))


@primitive(reads="shapes")
def dilate2d(x, *, stride):
    """y[..., i*sh, j*sw] = x[..., i, j], zeros in between.   (..., H, W) -> (..., (H-1)sh+1, (W-1)sw+1)"""
    return dilate2d_kernel(x, stride)


@dilate2d.defvjp
def dilate2d_vjp(dy, x, *, stride):
    # the inserted zeros are constants; only every stride-th entry came from x
    return getitem(dy, index=(Ellipsis, slice(None, None, stride[0]), slice(None, None, stride[1])))


@primitive(reads="shapes")
def setitem(x, value, *, index):
    """y = x with y[index] = value (value broadcast to the shape of x[index]): the out-of-place
    form of `x[index] = value`.   x: any shape, value: broadcastable to x[index] -> x's shape

    With repeated integer indices the last write wins (PyTorch leaves it undefined); each
    repeat still sends its gradient back to the value.
    """
    y = x.copy()
    y[index] = value
    return y


@setitem.defvjp
def setitem_vjp(dy, x, value, *, index):
    # the overwritten entries of x no longer reach y: they get 0; the value gets what reached
    # the entries it filled, summed back over its broadcast
    dx = setitem(dy, Tensor(np.zeros((), dy.dtype)), index=index) if x.requires_grad else None
    dv = sum_to(getitem(dy, index=index), value.shape) if value.requires_grad else None
    return dx, dv
