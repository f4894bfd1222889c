"""Convolution layers, as torch.nn: Conv2d (y = pad(x) ⋆ W + b), Conv1d (its height-1 case),
ConvTranspose2d (conv2d's dX run forward), and LazyConv2d (in_channels from the first input).

The correlations and their VJPs are F.conv2d / F.conv1d / F.conv_transpose2d (ops/conv.py);
this module holds and checks the settings, the parameters and the repr.
"""
from __future__ import annotations

from .. import functional as F
from ..functional.contract import conv_padding, pair_arg, positive_int, tensor_arg
from ..functional.conv1d import single_arg
from ..functional.conv_transpose import transposed_out_size
from .init import _reset_weight_and_bias
from .lazy import LazyModuleMixin
from .module import Module, Parameter, UninitializedParameter, _empty, cpu_device

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What every convolution layer holds: channels, kernel, stride, padding, dilation, groups,
    weight and bias, padding_mode; `dims` spatial axes (1 or 2). A transposed convolution's
    weight is (in_channels, out_channels/groups, *kernel), a plain one's
    (out_channels, in_channels/groups, *kernel). A Lazy subclass leaves weight and bias
    uninitialized until the first input says how many channels there are."""

    dims = 2
    transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                 bias, padding_mode, device, dtype, output_padding=0):
        super().__init__()
        name = type(self).__name__
        cpu_device(device, name)
        lazy = isinstance(self, LazyModuleMixin)       # in_channels from the first input
        self.in_channels = 0 if lazy else positive_int(in_channels, "in_channels", name)
        self.out_channels = positive_int(out_channels, "out_channels", name)
        self.groups = positive_int(groups, "groups", name)
        for what, channels in (("in_channels", self.in_channels), ("out_channels", self.out_channels)):
            if channels % self.groups:
                raise ValueError(f"{name}: {what}={channels} must be divisible by groups={self.groups}")
        self.kernel_size = self._ntuple(kernel_size, "kernel_size", 1)
        self.stride = self._ntuple(stride, "stride", 1)
        self.dilation = self._ntuple(dilation, "dilation", 1)
        self.output_padding = self._ntuple(output_padding, "output_padding", 0)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        if self.transposed and padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')
        self.padding_mode = padding_mode
        if isinstance(padding, str) and not self.transposed:
            self.padding = padding
        else:
            self.padding = self._ntuple(padding, "padding", 0)
        if not self.transposed:             # checked now, as torch: 'same' with a stride, ...
            pads = conv_padding(self._as_2d(self.padding, 0), self._as_2d(self.stride, 1),
                                self._as_2d(self.dilation, 1), self._as_2d(self.kernel_size, 1),
                                name)
            # F.pad's order, last axis first, for the non-zero padding modes
            self._border = tuple(p for axis in reversed(pads[2 - self.dims:]) for p in axis)
        self.weight = UninitializedParameter(dtype=_empty(0, dtype).dtype) if lazy else \
            Parameter(_empty(self._weight_shape(), dtype))
        if bias:
            self.bias = UninitializedParameter(dtype=self.weight.dtype) if lazy else \
                Parameter(_empty(self.out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        if not lazy:
            self.reset_parameters()

    def _ntuple(self, value, name: str, minimum: int) -> tuple:
        if self.dims == 1:
            value = (single_arg(value, name),)
            if value[0] < minimum:
                raise ValueError(f"{name} must be >= {minimum}, got {name}={value[0]}")
            return value
        return pair_arg(value, name, minimum=minimum)

    def _as_2d(self, value, height):
        """A 1-D setting as the 2-D one of a height-1 image: kernel (3,) -> (1, 3), padding
        (p,) -> (0, p): `height` is the setting along the added axis."""
        if self.dims == 2 or isinstance(value, str):
            return value
        return (height,) + value

    def _weight_shape(self) -> tuple:
        if self.transposed:
            return (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        return (self.out_channels, self.in_channels // self.groups) + self.kernel_size

    def reset_parameters(self) -> None:
        _reset_weight_and_bias(self.weight, self.bias)

    def _padded(self, input):
        """The input with the border filled by padding_mode (zeros are the conv's own padding)."""
        if self.padding_mode == "zeros":
            return input, self.padding
        return F.pad(input, self._border, mode=self.padding_mode), 0

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * len(self.padding):
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.dims:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class _Conv(_ConvNd):
    """A plain (not transposed) convolution: torch's constructor, and forward through the
    padding mode and `function` (F.conv2d or F.conv1d)."""

    function = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, device, dtype)

    def forward(self, input):
        x, padding = self._padded(input)
        return type(self).function(x, self.weight, self.bias, self.stride, padding, self.dilation,
                                   self.groups)


class Conv2d(_Conv):
    """y = pad(x) ⋆ W + b, as torch.nn.Conv2d.

    x: (N, in_channels, H, W) -> y: (N, out_channels, OH, OW);
    weight: (out_channels, in_channels/groups, KH, KW), bias: (out_channels,).
    padding: int, pair, 'valid' or 'same'; padding_mode: how the border is filled, 'zeros'
    (inside the conv), or 'reflect', 'replicate', 'circular' (F.pad first).
    """

    function = staticmethod(F.conv2d)


class Conv1d(_Conv):
    """y[n,f,i] = sum_{c,a} pad(x)[n, c, i*stride + a*dilation] W[f, c, a] + b[f], as torch.nn.Conv1d.

    x: (N, in_channels, L) -> y: (N, out_channels, OL); weight: (out_channels,
    in_channels/groups, K). Computed by F.conv1d as a conv2d over a height-1 image.
    """

    dims = 1
    function = staticmethod(F.conv1d)


class ConvTranspose2d(_ConvNd):
    """y = dilate_s(x) ∗ W + b: conv2d's dX as a layer (upsampling), as torch.nn.ConvTranspose2d.

    x: (N, in_channels, H, W) -> y: (N, out_channels, OH, OW),
    OH = (H-1)*stride - 2*padding + dilation*(KH-1) + output_padding + 1;
    weight: (in_channels, out_channels/groups, KH, KW), bias: (out_channels,).
    forward(x, output_size=(OH, OW)) picks the output_padding that gives that size.
    """

    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, device, dtype, output_padding)

    def _output_padding(self, input, output_size) -> tuple:
        """The output_padding for which the output has output_size ((OH, OW), possibly after the
        batch and channel sizes): each size must be one a strided conv2d could have read."""
        if output_size is None:
            return self.output_padding
        x = tensor_arg(input, "input")
        sizes = tuple(output_size)[-2:] if len(output_size) in (3, 4) else tuple(output_size)
        if len(sizes) != 2:
            raise ValueError(f"ConvTranspose2d: output_size must have 2, 3 or 4 elements (the "
                             f"last two are OH, OW), got {tuple(output_size)}")
        smallest = tuple(transposed_out_size(n, k, s, p, d, 0) for n, k, s, p, d
                         in zip(x.shape[-2:], self.kernel_size, self.stride, self.padding,
                                self.dilation))
        largest = tuple(n + s - 1 for n, s in zip(smallest, self.stride))
        if not all(a <= n <= b for a, n, b in zip(smallest, sizes, largest)):
            raise ValueError(f"requested an output size of {sizes}, but valid sizes range from "
                             f"{list(smallest)} to {list(largest)} (for an input of "
                             f"{tuple(x.shape[-2:])})")
        return tuple(n - a for n, a in zip(sizes, smallest))

    def forward(self, input, output_size=None):
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups,
                                  self.dilation)


class LazyConv2d(LazyModuleMixin, Conv2d):
    """Conv2d whose in_channels is inferred from the first input (x.shape[1], or x.shape[0] for an
    unbatched (C, H, W) input), as torch.nn.LazyConv2d. Until then weight and bias are
    UninitializedParameters; the first call materializes them, draws Conv2d's default init and
    turns the module into a Conv2d."""

    cls_to_become = Conv2d

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None,
                 dtype=None):
        super().__init__(None, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def _infer_sizes(self, input) -> None:
        x = tensor_arg(input, "input")
        if x.ndim not in (3, 4):
            raise ValueError(f"Expected 3D (unbatched) or 4D (batched) input to LazyConv2d, but "
                             f"got input of shape {tuple(x.shape)}")
        channels = x.shape[1] if x.ndim == 4 else x.shape[0]
        if channels % self.groups:
            raise ValueError(f"LazyConv2d: the input's {channels} channels (shape "
                             f"{tuple(x.shape)}) must be divisible by groups={self.groups}")
        self.in_channels = channels

    def _parameter_shapes(self) -> dict:
        return {"weight": self._weight_shape(), "bias": (self.out_channels,)}

    def _sizes_from_parameters(self) -> None:
        self.in_channels = self.weight.shape[1] * self.groups
