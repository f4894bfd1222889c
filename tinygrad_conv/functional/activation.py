"""Activations: relu, tanh, sigmoid (primitives behind a check) and softmax / log_softmax
(composites, stabilised by subtracting the row maximum).
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..autograd import Tensor
from ..autograd.composites import composite
from .contract import class_axis, tensor_arg
from .elementwise import float_input


def relu(input: Tensor) -> Tensor:
    """y = max(x, 0)"""
    return ops.relu(tensor_arg(input, "input"))


def tanh(input: Tensor) -> Tensor:
    """y = tanh x"""
    return ops.tanh(float_input(input))


def sigmoid(input: Tensor) -> Tensor:
    """y = 1 / (1 + e^-x)"""
    return ops.sigmoid(float_input(input))


def _shift_by_max(x: Tensor, axis: int) -> Tensor:
    """z = x - max_j x_j along `axis`, the max taken as a constant.

    Softmax is unchanged by subtracting any constant from a row, so treating the max as a
    constant leaves the values and all derivatives exact, while e^z <= 1 never overflows.
    """
    return x - Tensor(np.max(x.data, axis=axis, keepdims=True))


def _float_logits(input, dtype, fn: str) -> Tensor:
    x = tensor_arg(input, "input")
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}: expected floating-point input, got dtype {x.dtype}; convert "
                        f"with .float() (or pass dtype=tc.float32)")
    return x


@composite("softmax")
def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """y_i = e^{x_i} / sum_j e^{x_j} along `dim`.   any shape -> same shape, rows sum to 1"""
    x = _float_logits(input, dtype, "softmax")
    axis = class_axis(x, dim, "softmax")
    e = ops.exp(_shift_by_max(x, axis))
    return e / ops.sum_(e, axis=axis, keepdims=True)


@composite("log_softmax")
def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """y_i = x_i - log sum_j e^{x_j} along `dim`, computed as z_i - log sum_j e^{z_j} with z = x - max x.

    any shape -> same shape. Stable for large logits: exp only ever sees z <= 0.
    """
    x = _float_logits(input, dtype, "log_softmax")
    axis = class_axis(x, dim, "log_softmax")
    z = _shift_by_max(x, axis)
    return z - ops.log(ops.sum_(ops.exp(z), axis=axis, keepdims=True))
