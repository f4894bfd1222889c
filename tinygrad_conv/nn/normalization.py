"""BatchNorm2d: y = (x - mean) / sqrt(var + eps) * weight + bias, per channel.

This module keeps the running statistics (buffers) and picks batch or running ones by mode;
the normalisation and its VJP are F.batch_norm.
"""
from __future__ import annotations

import numpy as np

from .. import functional as F
from .init import _fill, ones_, zeros_
from ..functional.contract import positive_int
from .module import Module, Parameter, _empty


class BatchNorm2d(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, per channel, as torch.nn.BatchNorm2d.

    x: (N, C, H, W) -> same shape. Training mode normalises with the batch's statistics and moves
    the running ones: r = (1 - momentum) r + momentum * batch stat (momentum=None: the plain
    average over all batches so far). Eval mode normalises with the running statistics.
    weight: ones (C,), bias: zeros (C,); buffers running_mean zeros, running_var ones (C,),
    num_batches_tracked int64 0.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, dtype=None):
        super().__init__()
        self.num_features = positive_int(num_features, "num_features", "BatchNorm2d")
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(_empty(self.num_features, dtype) + 1)
            self.bias = Parameter(_empty(self.num_features, dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", _empty(self.num_features, dtype))
            self.register_buffer("running_var", _empty(self.num_features, dtype) + 1)
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            zeros_(self.running_mean)
            ones_(self.running_var)
            zeros_(self.num_batches_tracked)

    def forward(self, input):
        x = F.contract.tensor_arg(input, "input")
        if x.ndim != 4:
            raise ValueError(f"BatchNorm2d: expected 4D input (N, C, H, W), got {x.ndim}D input "
                             f"of shape {tuple(x.shape)}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2d: expected {self.num_features} channels (dimension 1), "
                             f"got input of shape {tuple(x.shape)}")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            _fill(self.num_batches_tracked, self.num_batches_tracked.data + 1)
            if self.momentum is None:           # cumulative average: the n-th batch weighs 1/n
                momentum = 1.0 / float(self.num_batches_tracked.data)
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(x, self.running_mean if track else None,
                            self.running_var if track else None, self.weight, self.bias,
                            use_batch_stats, momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")
