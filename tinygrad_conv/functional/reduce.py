"""Reductions built from the sum primitive: mean. (sum and max are primitives, in ops.reduce.)
"""
from __future__ import annotations

from .. import ops
from ..autograd import Tensor


def mean(x: Tensor, axis=None, keepdims=False) -> Tensor:
    """Average over `axis`: sum / number of summed entries."""
    total = ops.sum_(x, axis=axis, keepdims=keepdims)
    return total / (x.data.size // max(total.data.size, 1) if x.data.size else 1)
