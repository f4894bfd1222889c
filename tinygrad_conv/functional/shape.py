"""Shapes, indexing and joining: reshape, flatten, permute, transpose, expand, (un)squeeze,
getitem, cat, stack. Composites over the shape primitives; no arithmetic here.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .. import ops
from ..autograd import Tensor
from .contract import axis_arg, dims_arg, shape_arg, tensor_arg
from .elementwise import promote


def reshape(x: Tensor, *shape) -> Tensor:
    """y = x with a new shape (one entry may be -1: inferred)."""
    shape = shape_arg(shape)
    known = math.prod(n for n in shape if n != -1)
    if shape.count(-1) > 1 or any(n < -1 for n in shape):
        raise ValueError(f"invalid shape {shape}: at most one -1 and no other negative sizes")
    if -1 in shape:
        if known == 0 or x.data.size % known:
            raise ValueError(f"shape {shape} is invalid for input of size {x.data.size} "
                             f"(shape {tuple(x.shape)})")
        shape = tuple(x.data.size // known if n == -1 else n for n in shape)
    if math.prod(shape) != x.data.size:
        raise ValueError(f"shape {shape} is invalid for input of size {x.data.size} (shape "
                         f"{tuple(x.shape)}): the number of elements must stay the same")
    return x if shape == x.shape else ops.reshape(x, shape=shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge axes start_dim..end_dim into one."""
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = axis_arg(start_dim, x.ndim, "start_dim"), axis_arg(end_dim, x.ndim, "end_dim")
    if start > end:
        raise ValueError(f"flatten: start_dim ({start_dim}) must not come after end_dim ({end_dim})")
    return reshape(x, x.shape[:start] + (-1,) + x.shape[end + 1:])


def permute(x: Tensor, *dims) -> Tensor:
    """Reorder the axes: y.shape[i] = x.shape[dims[i]]."""
    dims = shape_arg(dims)
    norm = tuple(axis_arg(d, x.ndim) for d in dims)
    if sorted(norm) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {dims} must be a permutation of the {x.ndim} axes of a "
                         f"tensor of shape {tuple(x.shape)}")
    return ops.permute(x, dims=norm)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two axes."""
    dims = list(range(x.ndim))
    a, b = axis_arg(dim0, x.ndim, "dim0"), axis_arg(dim1, x.ndim, "dim1")
    dims[a], dims[b] = dims[b], dims[a]
    return ops.permute(x, dims=tuple(dims))


def expand(x: Tensor, *shape) -> Tensor:
    """Broadcast to `shape` (-1 keeps a size), as torch.Tensor.expand."""
    shape = shape_arg(shape)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: the target shape {shape} has fewer dimensions than the tensor "
                         f"({tuple(x.shape)})")
    full = tuple(x.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape))
    for i, n in enumerate(x.shape):
        if n != 1 and n != full[lead + i]:
            raise ValueError(f"expand: size {n} of dimension {i} of shape {tuple(x.shape)} must be "
                             f"1 or match the target {full[lead + i]} (target shape {shape})")
    return ops.expand(x, shape=full)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    dim = axis_arg(dim, x.ndim + 1)
    return ops.reshape(x, shape=x.shape[:dim] + (1,) + x.shape[dim:])


def squeeze(x: Tensor, dim=None) -> Tensor:
    dims = range(x.ndim) if dim is None else dims_arg(x, dim)
    shape = tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1))
    return x if shape == x.shape else ops.reshape(x, shape=shape)


def index_arg(index):
    """An index as numpy takes it: index tensors become arrays (a 0-d integer one an int),
    lists become arrays."""
    items = index if isinstance(index, tuple) else (index,)
    items = tuple(_index_item(i) for i in items)
    return items if isinstance(index, tuple) else items[0]


def _index_item(i):
    if isinstance(i, Tensor):
        a = i.data
        return int(a) if a.ndim == 0 and a.dtype.kind in "iu" else a
    return np.asarray(i) if isinstance(i, list) else i


def getitem(x: Tensor, index) -> Tensor:
    """y = x[index] (basic slicing, integer and boolean arrays, as numpy)."""
    return ops.getitem(x, index=index_arg(index))


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing axis `dim`."""
    tensors = [tensor_arg(t, "tensors[i]") for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise ValueError(f"cat: zero-dimensional tensor (at position {i}) cannot be "
                             f"concatenated; use stack to join 0-d tensors")
    axis = axis_arg(dim, tensors[0].ndim)
    for i, t in enumerate(tensors):
        if t.ndim != tensors[0].ndim or any(a != b for k, (a, b) in enumerate(zip(t.shape, tensors[0].shape)) if k != axis):
            raise ValueError(f"cat: tensors[{i}] has shape {tuple(t.shape)}, which does not match "
                             f"{tuple(tensors[0].shape)} except along dim {axis}")
    return ops.cat(*promote(*tensors), axis=axis)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis `dim`."""
    tensors = [tensor_arg(t, "tensors[i]") for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: all tensors must have the same shape, but tensors[0] has "
                             f"{tuple(tensors[0].shape)} and tensors[{i}] has {tuple(t.shape)}")
    return cat([unsqueeze(t, dim) for t in tensors], dim)
