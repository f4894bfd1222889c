"""Dropout: y = x * m / (1 - p), m ~ Bernoulli(1 - p), in training mode; the identity in eval.

The mask is drawn in F.dropout from the framework's generator (tc.manual_seed).
"""
from __future__ import annotations

from .. import functional as F
from ..functional.contract import probability
from .module import Module


class Dropout(Module):
    """y = x * m / (1 - p), m_i ~ Bernoulli(1 - p), in training mode; y = x in eval mode."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        self.p = probability(p, "Dropout")
        self.inplace = inplace              # accepted for torch code; computed out of place

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
