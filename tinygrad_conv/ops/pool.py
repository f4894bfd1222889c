"""Pooling: max_pool2d routes each window's gradient to its maximum; avg_pool2d spreads it evenly.

Parameters arrive normalised: kernel=(KH, KW), stride=(sh, sw), padding=((top, bottom), (left,
right)) where bottom/right include the extra border of ceil_mode, dilation=(dh, dw).
"""
import numpy as np

from ..engine import Tensor, primitive
from ..kernels import pad_nd, window_view
from .conv import conv2d_input_grad
from .shape import getitem, pad, reshape


def argmax_indices(x: np.ndarray, kernel, stride, padding, dilation) -> np.ndarray:
    """For each window, the flat index h*W + w in x's (H, W) plane of its first maximum.

    x: (N, C, H, W) -> (N, C, OH, OW) int64. Padding is -inf, so it never wins; among equal
    values the first in row-major window order wins, as in PyTorch; NaN counts as the maximum.
    """
    (pt, pb), (pl, pr) = padding
    W = x.shape[3]
    windows = window_view(pad_nd(x, padding, -np.inf), kernel, stride, dilation)
    N, C, OH, OW, KH, KW = windows.shape
    arg = windows.reshape(N, C, OH, OW, KH * KW).argmax(axis=-1)
    a, b = np.divmod(arg, KW)
    rows = np.arange(OH)[:, None] * stride[0] - pt + a * dilation[0]
    cols = np.arange(OW)[None, :] * stride[1] - pl + b * dilation[1]
    index = rows * W + cols
    if pt or pb or pl or pr:
        # a window made only of padding (possible with dilation) has max -inf and no input cell
        # to send a gradient to: mark it -1
        inside = (rows >= 0) & (rows < x.shape[2]) & (cols >= 0) & (cols < W)
        index = np.where(inside, index, -1)
    return index


@primitive
def max_pool2d(x, *, kernel, stride, padding, dilation):
    """y[n,c,i,j] = max_{a,b} pad_{-inf}(x)[n, c, i*sh + a*dh, j*sw + b*dw]

    x: (N, C, H, W) -> y: (N, C, OH, OW); saves the flat argmax index of each window.
    """
    N, C, H, W = x.shape
    index = argmax_indices(x, kernel, stride, padding, dilation)
    y = np.take_along_axis(x.reshape(N, C, H * W), index.reshape(N, C, -1), axis=2)
    y = y.reshape(index.shape)
    if index.min(initial=0) < 0:
        y = np.where(index < 0, -np.inf, y).astype(x.dtype)
    return y, index


@max_pool2d.defvjp
def max_pool2d_vjp(dy, x, *, kernel, stride, padding, dilation, saved):
    # only the winner of each window affected the output: route dy[n,c,i,j] to it
    return unpool2d(dy, Tensor(saved), size=x.shape[2:])


@primitive
def unpool2d(dy, index, *, size):
    """dx[n, c, index[n,c,i,j]] += dy[n, c, i, j] over a zero (H, W) plane; overlaps add up.

    dy: (N, C, OH, OW), index: (N, C, OH, OW) flat h*W + w -> dx: (N, C, H, W)
    """
    N, C = dy.shape[:2]
    H, W = size
    plane = (np.arange(N * C) * (H * W)).reshape(N, C, 1, 1)
    flat, weights = (index + plane).ravel(), dy.ravel()
    if index.min(initial=0) < 0:                     # windows of padding only: no input cell
        keep = index.ravel() >= 0
        flat, weights = flat[keep], weights[keep]
    summed = np.bincount(flat, weights=weights, minlength=N * C * H * W)
    return summed.astype(dy.dtype).reshape(N, C, H, W)


@unpool2d.defvjp
def unpool2d_vjp(ddx, dy, index, *, size):
    # the adjoint of scattering to the argmax is gathering from it
    N, C, H, W = ddx.shape
    n, c = np.ogrid[:N, :C]
    flat = pad(reshape(ddx, shape=(N, C, H * W)), widths=((0, 1),))
    # index -1 (a window of padding only) reads the appended zero
    gathered = getitem(flat, index=(n[:, :, None], c[:, :, None], index.data.reshape(N, C, -1)))
    return reshape(gathered, shape=dy.shape), None


def avg_pool_divisor(size, out, kernel: int, stride: int, padding: int,
                     count_include_pad: bool) -> np.ndarray:
    """How many entries each window along one axis averages, as PyTorch counts them.

    With count_include_pad the zero padding counts, but never the extra ceil_mode border;
    without it only real entries count.
    """
    start = np.arange(out) * stride - padding
    end = np.minimum(start + kernel, size + padding)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def _divisor(x_shape, out_shape, kernel, stride, padding, count_include_pad, divisor_override):
    """The (OH, OW) array each window sum is divided by."""
    if divisor_override:
        return np.full(out_shape, float(divisor_override))
    rows, cols = (avg_pool_divisor(x_shape[i], out_shape[i - 2], kernel[i - 2], stride[i - 2],
                                   padding[i - 2][0], count_include_pad) for i in (2, 3))
    return np.outer(rows, cols).astype(float)


@primitive
def avg_pool2d(x, *, kernel, stride, padding, count_include_pad=True, divisor_override=None):
    """y[n,c,i,j] = sum_{a,b} pad_0(x)[n, c, i*sh + a, j*sw + b] / divisor[i, j]

    x: (N, C, H, W) -> y: (N, C, OH, OW); divisor as PyTorch (count_include_pad, divisor_override)
    """
    windows = window_view(pad_nd(x, padding), kernel, stride, (1, 1))
    total = windows.sum(axis=(4, 5))
    divisor = _divisor(x.shape, total.shape[2:], kernel, stride, padding, count_include_pad,
                       divisor_override)
    return (total / divisor).astype(x.dtype)


@avg_pool2d.defvjp
def avg_pool2d_vjp(dy, x, *, kernel, stride, padding, count_include_pad=True,
                   divisor_override=None):
    # avg-pool is a depthwise conv2d with a constant all-ones kernel, scaled by 1/divisor, so its
    # VJP is conv2d's dX recipe (dilate, pad, correlate with the flipped kernel) applied to dy/divisor
    C = x.shape[1]
    divisor = _divisor(x.shape, dy.shape[2:], kernel, stride, padding, count_include_pad,
                       divisor_override)
    ones = Tensor(np.ones((C, 1) + tuple(kernel), dtype=x.dtype))
    return conv2d_input_grad(dy * Tensor((1 / divisor).astype(x.dtype)), ones, x.shape,
                             stride=stride, padding=padding, dilation=(1, 1), groups=C)
