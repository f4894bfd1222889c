"""max_pool2d and avg_pool2d as torch.nn.functional: the pooling checks (PyTorch's output
size, ceil_mode's extra border), then the pooling primitives.
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..autograd import Tensor
from ..kernels import pool_out_size
from .contract import image_input, int_arg, pair_arg, tensor_arg, unbatch


def _pool_args(fn, x, kernel_size, stride, padding, dilation, ceil_mode):
    """Check pooling parameters as PyTorch does; returns the normalised primitive parameters."""
    kernel = pair_arg(kernel_size, "kernel_size", minimum=1)
    stride = kernel if stride is None or (isinstance(stride, (list, tuple)) and not stride) \
        else pair_arg(stride, "stride", minimum=1)
    padding = pair_arg(padding, "padding", minimum=0)
    dilation = pair_arg(dilation, "dilation", minimum=1)
    if 0 in x.shape[1:]:
        raise ValueError(f"{fn}: expected an input with non-zero channels, height and width "
                         f"(only the batch may be empty), got shape {tuple(x.shape)}")
    for p, k, name in zip(padding, kernel, ("height", "width")):
        if p > k // 2:
            raise ValueError(f"{fn}: padding should be at most half of the kernel size, but got "
                             f"padding={padding} for kernel_size={kernel} ({name}); padding acts "
                             f"as -inf/0, so wider padding would make whole windows of padding")
    N, C, H, W = x.shape
    out = tuple(pool_out_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip((H, W), kernel, stride, padding, dilation))
    if min(out) < 1:
        raise ValueError(f"{fn}: input of shape {tuple(x.shape)} is too small for kernel_size="
                         f"{kernel}, stride={stride}, padding={padding}, dilation={dilation}: "
                         f"calculated output size {out}; use a smaller kernel or more padding")
    # ceil_mode's last partial window reads past the padding: extend the bottom/right border
    extra = tuple(max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p))
                  for o, s, d, k, n, p in zip(out, stride, dilation, kernel, (H, W), padding))
    pads = tuple((p, p + e) for p, e in zip(padding, extra))
    return kernel, stride, pads, dilation


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """y[n,c,i,j] = max over the window at (i*stride, j*stride), as torch.nn.functional.max_pool2d.

    input: (N, C, H, W) or (C, H, W) -> (N, C, OH, OW). Padding acts as -inf. The gradient goes to
    the first maximum of each window in row-major order; overlapping windows add up.
    return_indices also returns the flat index h*W + w of each maximum (int64, as PyTorch), or
    -1 for a window that covers only padding (PyTorch returns an arbitrary index there).
    """
    x, unbatched = image_input(tensor_arg(input, "input"), "input", "max_pool2d")
    kernel, stride, pads, dilation = _pool_args("max_pool2d", x, kernel_size, stride, padding,
                                                dilation, ceil_mode)
    y = ops.max_pool2d(x, kernel=kernel, stride=stride, padding=pads, dilation=dilation)
    if not return_indices:
        return unbatch(y, unbatched)
    # the winning taps the forward saved for the VJP (computed again only when nothing was
    # recorded), as flat indices
    tap = y.node.saved if y.node is not None else \
        ops.pool.window_max(x.data, kernel, stride, pads, dilation)[1]
    index = ops.pool.tap_index(tap, x.shape[2:], kernel, stride, pads, dilation)
    return unbatch(y, unbatched), Tensor(index[0] if unbatched else index)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None) -> Tensor:
    """y[n,c,i,j] = (sum over the window at (i*stride, j*stride)) / divisor, as PyTorch.

    input: (N, C, H, W) or (C, H, W) -> (N, C, OH, OW). The divisor is the window size, counting
    zero padding when count_include_pad (never the ceil_mode border), or divisor_override.
    """
    x, unbatched = image_input(tensor_arg(input, "input"), "input", "avg_pool2d", (np.int64,))
    kernel, stride, pads, _ = _pool_args("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and (int_arg(divisor_override, "divisor_override") == 0):
        raise ValueError("avg_pool2d: divisor_override must be non-zero, got 0")
    return unbatch(ops.avg_pool2d(x, kernel=kernel, stride=stride, padding=pads,
                                   count_include_pad=bool(count_include_pad),
                                   divisor_override=divisor_override), unbatched)
