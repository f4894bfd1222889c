"""Element-wise activations as modules: ReLU, Tanh, Sigmoid, each a single call to F.

The losses that take logits (softmax inside) are in loss.py.
"""
from __future__ import annotations

from .. import functional as F
from .module import Module


class ReLU(Module):
    """y = max(x, 0)"""

    def forward(self, input):
        return F.relu(input)


class Tanh(Module):
    """y = tanh x"""

    def forward(self, input):
        return F.tanh(input)


class Sigmoid(Module):
    """y = 1 / (1 + e^-x)"""

    def forward(self, input):
        return F.sigmoid(input)
