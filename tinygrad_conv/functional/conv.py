"""conv2d as torch.nn.functional.conv2d: the checks, then the conv2d primitive (bias included).
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..autograd import Tensor
from ..autograd.composites import composite
from .contract import conv_operands, conv_padding, pair_arg, positive_int, tensor_arg, unbatch


@composite("conv2d")
def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """y = pad(x) ⋆ w + b: 2-D cross-correlation, as torch.nn.functional.conv2d.

    input: (N, C, H, W) or (C, H, W); weight: (F, C/groups, KH, KW); bias: (F,)
    -> (N, F, OH, OW) with OH = floor((H + 2*padding - dilation*(KH-1) - 1) / stride) + 1.
    padding: int, pair, 'valid' (no padding) or 'same' (output size = input size, stride 1 only).
    """
    x, unbatched, w = conv_operands(input, weight, "conv2d",
                                    "(out_channels, in_channels/groups, kH, kW)")
    groups = positive_int(groups, "groups", "conv2d")
    stride = pair_arg(stride, "stride", minimum=1, why=" (a zero or negative step is meaningless)")
    dilation = pair_arg(dilation, "dilation", minimum=1)
    if x.dtype.kind in "iu" and x.dtype != np.int64 and dilation != (1, 1):
        raise TypeError(f"conv2d: dilated convolution of {x.dtype} data is not supported (as in "
                        f"PyTorch); use int64 or floating-point data")
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    if F < groups or F % groups:
        raise ValueError(f"conv2d: out_channels={F} (weight shape {tuple(w.shape)}) must be a "
                         f"positive multiple of groups={groups}")
    if C % groups:
        raise ValueError(f"conv2d: in_channels={C} (input shape {tuple(input.shape)}) must be "
                         f"divisible by groups={groups}")
    if Cg * groups != C:
        hint = ""
        if x.shape[-1] == Cg * groups:
            hint = ("; the last dimension matches, so the input looks channels-last (NHWC): "
                    "use x.permute(0, 3, 1, 2)")
        raise ValueError(f"conv2d: weight of shape {tuple(w.shape)} with groups={groups} expects "
                         f"input with {Cg * groups} channels, but got input of shape "
                         f"{tuple(input.shape)} with {C} channels (dimension 1){hint}")
    pads = conv_padding(padding, stride, dilation, (KH, KW), "conv2d")
    Hp, Wp = H + sum(pads[0]), W + sum(pads[1])
    EH, EW = dilation[0] * (KH - 1) + 1, dilation[1] * (KW - 1) + 1
    if EH > Hp or EW > Wp:
        raise ValueError(f"conv2d: the (dilated) kernel is larger than the padded input: padded "
                         f"input size per channel ({Hp} x {Wp}), kernel extent ({EH} x {EW}) from "
                         f"kernel ({KH} x {KW}) and dilation {dilation}; use a smaller kernel or "
                         f"more padding")
    if bias is not None:
        bias = tensor_arg(bias, "bias")
        if bias.shape != (F,):
            raise ValueError(f"conv2d: bias must have shape ({F},), one per output channel, got "
                             f"{tuple(bias.shape)}")
        if bias.dtype != x.dtype:
            if not isinstance(padding, str):        # PyTorch refuses, except for 'same'/'valid',
                raise TypeError(f"conv2d: input ({x.dtype}) and bias ({bias.dtype}) must have "
                                f"the same dtype; convert the bias, e.g. "
                                f"bias.to({x.dtype.name})")
            bias = bias.to(x.dtype)                 # where it converts the bias
    operands = (x, w) if bias is None else (x, w, bias)    # the bias is added inside the conv
    y = ops.conv2d(*operands, stride=stride, padding=pads, dilation=dilation, groups=groups)
    return unbatch(y, unbatched)
