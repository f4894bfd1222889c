"""Flatten: merge axes start_dim..end_dim into one, (N, C, H, W) -> (N, C*H*W) by default.

Other reshapes are Tensor methods (x.reshape, x.flatten); this is the module form for Sequential.
"""
from __future__ import annotations

from .. import functional as F
from ..functional.contract import int_arg
from .module import Module


class Flatten(Module):
    """Merge axes start_dim..end_dim: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = int_arg(start_dim, "start_dim")
        self.end_dim = int_arg(end_dim, "end_dim")

    def forward(self, input):
        return F.flatten(F.contract.tensor_arg(input, "input"), self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
