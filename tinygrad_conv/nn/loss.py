"""Losses as modules: CrossEntropyLoss, NLLLoss, MSELoss (weight is a buffer, as in PyTorch).

Each holds its settings and calls F.cross_entropy, F.nll_loss or F.mse_loss, where the formulas
and the argument checks are.
"""
from __future__ import annotations

from .. import functional as F
from ..autograd import Tensor
from ..dtypes import to_array
from .module import Module


class CrossEntropyLoss(Module):
    """loss = F.cross_entropy(input, target, weight, ignore_index, reduction)"""

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__()
        self.register_buffer("weight", None if weight is None else Tensor(to_array(weight)))
        self.ignore_index = ignore_index
        self.reduction = F.contract.check_reduction(reduction, "CrossEntropyLoss")

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction)


class NLLLoss(CrossEntropyLoss):
    """loss = F.nll_loss(input, target, weight, ignore_index, reduction), input = log-probabilities"""

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class MSELoss(Module):
    """loss = F.mse_loss(input, target, reduction)"""

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = F.contract.check_reduction(reduction, "MSELoss")

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)
