"""Losses as modules: CrossEntropyLoss, NLLLoss, MSELoss, BCELoss, BCEWithLogitsLoss (weights are
buffers, as in PyTorch).

Each holds its settings and calls the matching F function, where the formulas and the argument
checks are. The deprecated size_average/reduce flags are turned into a reduction, as torch does.
"""
from __future__ import annotations

from .. import functional as F
from ..autograd import Tensor
from ..dtypes import to_array
from ..functional.contract import check_reduction, legacy_reduction
from .module import Module


class _Loss(Module):
    """The reduction every loss takes: 'mean', 'sum' or 'none' (or the legacy flags)."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        name = type(self).__name__
        if size_average is not None or reduce is not None:
            reduction = legacy_reduction(size_average, reduce, name)
        self.reduction = check_reduction(reduction, name)


class _WeightedLoss(_Loss):
    """A loss with per-class (or per-element) weights, kept as the buffer `weight`."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", None if weight is None else Tensor(to_array(weight)))


class CrossEntropyLoss(_WeightedLoss):
    """loss = F.cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing):
    input = raw scores (logits), target = class indices or class probabilities."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                               self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """loss = F.nll_loss(input, target, weight, ignore_index, reduction): input =
    log-probabilities (e.g. F.log_softmax(x, dim=1)), target = integer class indices."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class MSELoss(_Loss):
    """loss = F.mse_loss(input, target, reduction)"""

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class BCELoss(_WeightedLoss):
    """loss = F.binary_cross_entropy(input, target, weight, reduction): input = probabilities."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """loss = F.binary_cross_entropy_with_logits(input, target, weight, reduction, pos_weight):
    input = raw scores; the sigmoid is inside, computed stably."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", None if weight is None else Tensor(to_array(weight)))
        self.register_buffer("pos_weight", None if pos_weight is None else Tensor(to_array(pos_weight)))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)
