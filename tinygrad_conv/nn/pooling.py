"""MaxPool2d and AvgPool2d: the max or the mean of each sliding window.

These modules hold and check the window settings; the window arithmetic is F.max_pool2d and
F.avg_pool2d (ops/pool.py).
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

    x: (N, C, H, W) -> y: (N, C, OH, OW)
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
