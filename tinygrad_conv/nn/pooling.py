"""Pooling layers: MaxPool2d and AvgPool2d (the max or the mean of each sliding window),
AdaptiveAvgPool2d (the mean over windows fitted to an output size) and MaxUnpool2d (max-pooled
values put back where they were found).

These modules hold and check the window settings; the window arithmetic is F's (ops/pool.py).
"""
from __future__ import annotations

from .. import functional as F
from ..functional.contract import pair_arg
from .module import Module


class _Pool2d(Module):
    """The window both poolings slide: kernel_size, moved by stride (default kernel_size), over
    the input padded by padding. kernel_size and stride are checked here, on construction; the
    other settings when forward hands them to F."""

    def __init__(self, kernel_size, stride, padding):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        pair_arg(kernel_size, "kernel_size", minimum=1)
        pair_arg(self.stride, "stride", minimum=1)


class MaxPool2d(_Pool2d):
    """y[n,c,i,j] = max of the kernel_size window at (i*stride, j*stride) (stride defaults to kernel_size).

    x: (N, C, H, W) -> y: (N, C, OH, OW); with return_indices also the flat index of each max
    (what MaxUnpool2d takes).
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False):
        super().__init__(kernel_size, stride, padding)
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(_Pool2d):
    """y[n,c,i,j] = mean of the kernel_size window at (i*stride, j*stride) (stride defaults to kernel_size).

    x: (N, C, H, W) -> y: (N, C, OH, OW)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None):
        super().__init__(kernel_size, stride, padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """y[n,c,i,j] = mean of x over window (i, j) of an OH x OW grid fitted to the input
    (F.adaptive_avg_pool2d); AdaptiveAvgPool2d(1) is the global average pool.

    x: (N, C, H, W) -> y: (N, C, OH, OW); output_size: OH, or (OH, OW), None keeping that size.
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class MaxUnpool2d(Module):
    """y = zeros with y[indices] = x: the partial inverse of MaxPool2d(return_indices=True)
    (F.max_unpool2d).   x, indices: (N, C, H, W) -> y: (N, C, OH, OW),
    OH = (H - 1)*stride - 2*padding + kernel_size, or forward(x, indices, output_size)."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = pair_arg(kernel_size, "kernel_size", minimum=1)
        self.stride = self.kernel_size if stride is None else pair_arg(stride, "stride", minimum=1)
        self.padding = pair_arg(padding, "padding", minimum=0)

    def forward(self, input, indices, output_size=None):
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
