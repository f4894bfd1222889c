"""Conv2d, the 2-D convolution layer y = pad(x) ⋆ W + b, and its padding modes.

The correlation and its VJPs are F.conv2d (ops/conv.py); pooling windows are in pooling.py.
"""
from __future__ import annotations

from .. import functional as F
from ..functional.contract import conv_padding, pair_arg, positive_int
from .init import _reset_weight_and_bias
from .module import Module, Parameter, _empty


_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Conv2d(Module):
    """y = pad(x) ⋆ W + b, as torch.nn.Conv2d.

    x: (N, in_channels, H, W) -> y: (N, out_channels, OH, OW);
    weight: (out_channels, in_channels/groups, KH, KW), bias: (out_channels,).
    padding: int, pair, 'valid' or 'same'; padding_mode: how the border is filled, 'zeros'
    (inside the conv), or 'reflect', 'replicate', 'circular' (F.pad first).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 dtype=None):
        super().__init__()
        self.in_channels = positive_int(in_channels, "in_channels", "Conv2d")
        self.out_channels = positive_int(out_channels, "out_channels", "Conv2d")
        self.groups = positive_int(groups, "groups", "Conv2d")
        for name, channels in (("in_channels", self.in_channels), ("out_channels", self.out_channels)):
            if channels % self.groups:
                raise ValueError(f"Conv2d: {name}={channels} must be divisible by groups={self.groups}")
        self.kernel_size = pair_arg(kernel_size, "kernel_size", minimum=1)
        self.stride = pair_arg(stride, "stride", minimum=1)
        self.dilation = pair_arg(dilation, "dilation", minimum=1)
        (top, bottom), (left, right) = conv_padding(padding, self.stride, self.dilation,
                                                    self.kernel_size, "Conv2d")
        self.padding = padding if isinstance(padding, str) else (top, left)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"Conv2d: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.padding_mode = padding_mode
        self._border = (left, right, top, bottom)       # F.pad's order, for the other modes
        self.weight = Parameter(_empty((self.out_channels, self.in_channels // self.groups)
                                       + self.kernel_size, dtype))
        if bias:
            self.bias = Parameter(_empty(self.out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input):
        if self.padding_mode == "zeros":
            return F.conv2d(input, self.weight, self.bias, self.stride, self.padding,
                            self.dilation, self.groups)
        return F.conv2d(F.pad(input, self._border, mode=self.padding_mode), self.weight,
                        self.bias, self.stride, 0, self.dilation, self.groups)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text
