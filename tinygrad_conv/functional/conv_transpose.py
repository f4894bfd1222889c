"""conv_transpose2d as torch.nn.functional.conv_transpose2d: the VJP of conv2d with respect to
its input, run forward. No primitive of its own: ops.conv2d_input_grad is the code conv2d's
backward pass uses, and its gradients come from the ops it records (conv2d, dilate2d, flip, ...).
"""
from __future__ import annotations

from .. import ops
from ..autograd import Tensor
from .contract import conv_operands, pair_arg, positive_int, tensor_arg, unbatch


def transposed_out_size(size: int, kernel: int, stride: int, padding: int, dilation: int,
                        output_padding: int) -> int:
    """OH = (H - 1) * stride - 2 * padding + dilation * (KH - 1) + output_padding + 1: the input
    size of the conv2d whose output size is H (output_padding picks among the sizes a strided
    conv2d maps to the same H)."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """y = conv_transpose2d(x, W) = pad(dilate_s(x)) ⋆ rot180(W) = dilate_s(x) ∗ W (+ b): the
    VJP of y' = conv2d(x', W) with respect to x', applied to x (⋆ cross-correlation, ∗ true
    convolution). Each input pixel stamps a copy of the kernel, scaled by its value, onto the
    output every `stride` pixels; overlapping stamps add up.

    input: (N, C_in, H, W) or (C_in, H, W); weight: (C_in, C_out/groups, KH, KW) (conv2d's
    weight layout read backwards: in_channels first); bias: (C_out,)
    -> (N, C_out, OH, OW), OH = (H-1)*stride - 2*padding + dilation*(KH-1) + output_padding + 1.
    The computation is ops.conv2d_input_grad, conv2d's own dX, with x_shape from that size.
    """
    x, unbatched, w = conv_operands(input, weight, "conv_transpose2d",
                                    "(in_channels, out_channels/groups, kH, kW)")
    if isinstance(padding, str):
        raise TypeError(f"conv_transpose2d: padding must be an int or a pair of ints, not the "
                        f"string {padding!r} ('same'/'valid' exist only for conv2d)")
    groups = positive_int(groups, "groups", "conv_transpose2d")
    stride = pair_arg(stride, "stride", minimum=1, why=" (a zero or negative step is meaningless)")
    padding = pair_arg(padding, "padding", minimum=0)
    output_padding = pair_arg(output_padding, "output_padding", minimum=0)
    dilation = pair_arg(dilation, "dilation", minimum=1)
    N, C, H, W = x.shape
    Cin, Fg, KH, KW = w.shape
    if Cin % groups:
        raise ValueError(f"conv_transpose2d: weight of shape {tuple(w.shape)} must have a first "
                         f"dimension (in_channels={Cin}) divisible by groups={groups}")
    if C != Cin:
        raise ValueError(f"conv_transpose2d: weight of shape {tuple(w.shape)} expects input with "
                         f"{Cin} channels (its first dimension: a transposed convolution's weight "
                         f"is (in_channels, out_channels/groups, kH, kW)), but got input of shape "
                         f"{tuple(input.shape)} with {C} channels")
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"conv_transpose2d: output padding must be smaller than either stride or "
                         f"dilation, but got output_padding={output_padding}, stride={stride}, "
                         f"dilation={dilation}")
    out = tuple(transposed_out_size(n, k, s, p, d, op) for n, k, s, p, d, op in
                zip((H, W), (KH, KW), stride, padding, dilation, output_padding))
    if min(out) < 1:
        raise ValueError(f"conv_transpose2d: input size per channel ({H} x {W}) gives output size "
                         f"{out[0]} x {out[1]}, which is too small; use less padding")
    F = Fg * groups
    if bias is not None:
        bias = tensor_arg(bias, "bias")
        if bias.shape != (F,):
            raise ValueError(f"conv_transpose2d: bias must have shape ({F},), one per output "
                             f"channel (weight shape {tuple(w.shape)}, groups={groups}), got "
                             f"{tuple(bias.shape)}")
        if bias.dtype != x.dtype:
            raise TypeError(f"conv_transpose2d: input ({x.dtype}) and bias ({bias.dtype}) must "
                            f"have the same dtype")
    (ph, pw) = padding
    y = ops.conv2d_input_grad(x, w, (N, F) + out, stride=stride, padding=((ph, ph), (pw, pw)),
                              dilation=dilation, groups=groups)
    if bias is not None:
        y = y + ops.reshape(bias, shape=(1, F, 1, 1))
    return unbatch(y, unbatched)
