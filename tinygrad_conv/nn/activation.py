"""Activations as modules: ReLU, Tanh, Sigmoid, Softmax, LogSoftmax, each a single call to F.

The losses that take logits (softmax inside) are in loss.py.
"""
from __future__ import annotations

import warnings

from .. import functional as F
from ..functional.contract import tensor_arg
from .module import Module


class ReLU(Module):
    """y = max(x, 0). inplace=True is accepted for torch code; the result is the same values,
    computed out of place (the input tensor is left as it was)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """y = tanh x"""

    def forward(self, input):
        return F.tanh(input)


class Sigmoid(Module):
    """y = 1 / (1 + e^-x)"""

    def forward(self, input):
        return F.sigmoid(input)


def _implicit_dim(name: str, ndim: int) -> int:
    """torch's legacy choice when dim is left out: axis 0 for 0-, 1- and 3-D inputs, else axis 1
    (with its deprecation warning)."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                  f"include dim=X as an argument.", UserWarning, stacklevel=4)
    return 0 if ndim in (0, 1, 3) else 1


class _AlongDim(Module):
    """A normalisation along one axis, `dim` (torch's legacy implicit choice when None)."""

    function = None

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        x = tensor_arg(input, "input")
        name = type(self).function.__name__
        return type(self).function(x, _implicit_dim(name, x.ndim) if self.dim is None else self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """y_i = e^{x_i} / sum_j e^{x_j} along dim (each slice along dim sums to 1)."""

    function = staticmethod(F.softmax)


class LogSoftmax(_AlongDim):
    """y_i = x_i - log sum_j e^{x_j} along dim (the log of Softmax, computed stably)."""

    function = staticmethod(F.log_softmax)
