"""BatchNorm2d: y = (x - mean) / sqrt(var + eps) * weight + bias, per channel; LazyBatchNorm2d
(num_features from the first input).

This module keeps the running statistics (buffers) and picks batch or running ones by mode;
the normalisation and its VJP are F.batch_norm.
"""
from __future__ import annotations

import numpy as np

from .. import functional as F
from ..functional.contract import positive_int
from .init import _fill, ones_, zeros_
from .lazy import LazyModuleMixin
from .module import (Module, Parameter, UninitializedBuffer, UninitializedParameter, _empty,
                     cpu_device)


class BatchNorm2d(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, per channel, as torch.nn.BatchNorm2d.

    x: (N, C, H, W) -> same shape. Training mode normalises with the batch's statistics and moves
    the running ones: r = (1 - momentum) r + momentum * batch stat (momentum=None: the plain
    average over all batches so far). Eval mode normalises with the running statistics.
    weight: ones (C,), bias: zeros (C,) (affine; bias=False leaves the bias out); buffers
    running_mean zeros, running_var ones (C,), num_batches_tracked int64 0.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None, dtype=None,
                 *, bias: bool = True):
        super().__init__()
        cpu_device(device, type(self).__name__)
        lazy = isinstance(self, LazyModuleMixin)          # LazyBatchNorm2d
        self.num_features = 0 if lazy else positive_int(num_features, "num_features", "BatchNorm2d")
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dtype = _empty(0, dtype).dtype
        param = (lambda: UninitializedParameter(dtype=dtype)) if lazy else \
            (lambda: Parameter(_empty(self.num_features, dtype)))
        buffer = (lambda: UninitializedBuffer(dtype=dtype)) if lazy else \
            (lambda: _empty(self.num_features, dtype))
        self.register_parameter("weight", param() if affine else None)
        self.register_parameter("bias", param() if affine and bias else None)
        self.register_buffer("running_mean", buffer() if track_running_stats else None)
        self.register_buffer("running_var", buffer() if track_running_stats else None)
        self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64)
                             if track_running_stats else None)
        if not lazy:
            self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            zeros_(self.running_mean)
            ones_(self.running_var)
            zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            ones_(self.weight)
        if self.bias is not None:
            zeros_(self.bias)

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
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class LazyBatchNorm2d(LazyModuleMixin, BatchNorm2d):
    """BatchNorm2d whose num_features is inferred from the first input (x.shape[1]), as
    torch.nn.LazyBatchNorm2d; the first call sizes weight, bias and the running statistics and
    turns the module into a BatchNorm2d."""

    cls_to_become = BatchNorm2d

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__(None, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def _infer_sizes(self, input) -> None:
        x = F.contract.tensor_arg(input, "input")
        if x.ndim != 4:
            raise ValueError(f"LazyBatchNorm2d: expected 4D input (N, C, H, W), got {x.ndim}D "
                             f"input of shape {tuple(x.shape)}")
        self.num_features = x.shape[1]

    def _parameter_shapes(self) -> dict:
        shape = (self.num_features,)
        return dict.fromkeys(("weight", "bias", "running_mean", "running_var"), shape)

    def _sizes_from_parameters(self) -> None:
        tensors = [self.weight, self.bias, self.running_mean, self.running_var]
        self.num_features = next(t.shape[0] for t in tensors if t is not None)
