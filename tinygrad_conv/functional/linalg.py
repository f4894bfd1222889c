"""Matrix products: matmul with numpy's rules for 1-D operands and batch axes, and linear (x W^T + b).
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..autograd import Tensor
from ..autograd.composites import composite
from .contract import broadcast_shape, same_numeric_dtype, tensor_arg
from .out import write_out
from .shape import transpose


def matmul(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix product with numpy/PyTorch rules: 1-D operands are promoted to matrices, batch
    axes broadcast; into `out` (of the result's dtype) if given (functional/out.py)."""
    x, y = tensor_arg(input, "input"), tensor_arg(other, "other")
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"matmul: both arguments need at least 1 dimension, got shapes "
                         f"{tuple(x.shape)} and {tuple(y.shape)}; use * for scalars")
    same_numeric_dtype("matmul", ("input", x), ("other", y))
    xm = ops.reshape(x, shape=(1,) + x.shape) if x.ndim == 1 else x
    ym = ops.reshape(y, shape=y.shape + (1,)) if y.ndim == 1 else y
    if xm.shape[-1] != ym.shape[-2]:
        raise ValueError(f"matmul: shapes {tuple(x.shape)} and {tuple(y.shape)} cannot be "
                         f"multiplied ({xm.shape[-1]} != {ym.shape[-2]}): the last dimension of "
                         f"the first must equal the {'only' if y.ndim == 1 else 'second-to-last'} "
                         f"dimension of the second")
    try:
        np.broadcast_shapes(xm.shape[:-2], ym.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dimensions {xm.shape[:-2]} and {ym.shape[:-2]} of shapes "
                         f"{tuple(x.shape)} and {tuple(y.shape)} do not broadcast") from None
    z = ops.matmul(xm, ym)
    if x.ndim == 1:
        z = ops.reshape(z, shape=z.shape[:-2] + z.shape[-1:])
    if y.ndim == 1:
        z = ops.reshape(z, shape=z.shape[:-1])
    return z if out is None else write_out(z, out, "matmul", same_dtype=True)


@composite("linear")
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b.   x: (..., in), W: (out, in), b: (out,) -> y: (..., out)"""
    x, w = tensor_arg(input, "input"), tensor_arg(weight, "weight")
    if w.ndim not in (1, 2):
        raise ValueError(f"linear: weight must be (out_features, in_features), got shape {tuple(w.shape)}")
    if x.ndim == 0 or x.shape[-1] != w.shape[-1]:
        raise ValueError(f"linear: input's last dimension must equal in_features={w.shape[-1]} "
                         f"(weight shape {tuple(w.shape)}), but input has shape {tuple(x.shape)}"
                         + ("; did you forget to flatten (x.flatten(1))?" if x.ndim > 2 else ""))
    b = None if bias is None else tensor_arg(bias, "bias")
    same_numeric_dtype("linear", ("input", x), ("weight", w), *([] if b is None else [("bias", b)]))
    if b is not None:
        out_shape = x.shape[:-1] + w.shape[:-1]
        if w.ndim == 1:
            raise ValueError(f"linear: a 1-D weight {tuple(w.shape)} takes no bias (got bias of "
                             f"shape {tuple(b.shape)}); use a weight of shape (1, {w.shape[0]})")
        if broadcast_shape(b.shape, out_shape) != out_shape:
            raise ValueError(f"linear: bias of shape {tuple(b.shape)} does not broadcast to the "
                             f"output shape {out_shape}; expected shape ({w.shape[0]},), one per "
                             f"output feature")
    y = matmul(x, transpose(w, 0, 1) if w.ndim == 2 else w)
    return y if b is None else y + b


def _of_ndim(fn: str, ndim: int, what: str, *named) -> list[Tensor]:
    """The named operands as Tensors, each of `ndim` dimensions (`what` says which)."""
    tensors = [tensor_arg(t, name) for name, t in named]
    for (name, _), t in zip(named, tensors):
        if t.ndim != ndim:
            raise ValueError(f"{fn}: {name} must be {what}, got shape {tuple(t.shape)}")
    return tensors


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """z = x y for matrices only.   x: (M, J), y: (J, K) -> (M, K)"""
    x, y = _of_ndim("mm", 2, "a matrix (use matmul for vectors and batches)",
                    ("self", input), ("mat2", mat2))
    return matmul(x, y)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """z[b] = x[b] y[b], batches of matrices of equal batch size.   (B, M, J), (B, J, K) -> (B, M, K)"""
    x, y = _of_ndim("bmm", 3, "a 3D tensor (batch, rows, columns)", ("batch1", input),
                    ("batch2", mat2))
    if x.shape[0] != y.shape[0] or x.shape[2] != y.shape[1]:
        raise ValueError(f"bmm: expected size for first two dimensions of batch2 tensor to be: "
                         f"[{x.shape[0]}, {x.shape[2]}] but got: [{y.shape[0]}, {y.shape[1]}] "
                         f"(shapes {tuple(x.shape)} and {tuple(y.shape)})")
    return matmul(x, y)


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """z = sum_i x_i y_i for two 1-D tensors of the same size and dtype."""
    x, y = _of_ndim("dot", 1, "1D (use matmul, or @, for matrices)", ("input", input),
                    ("tensor", tensor))
    if x.shape != y.shape:
        raise ValueError(f"dot: inconsistent tensor size: {x.shape[0]} and {y.shape[0]} elements")
    same_numeric_dtype("dot", ("input", x), ("tensor", y))
    return matmul(x, y)
