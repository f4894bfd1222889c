"""Pooling: max_pool2d routes each window's gradient to its maximum; avg_pool2d spreads it evenly.

Parameters arrive normalised: kernel=(KH, KW), stride=(sh, sw), padding=((top, bottom), (left,
right)) where bottom/right include the extra border of ceil_mode, dilation=(dh, dw).
"""
import numpy as np

from ..autograd import Tensor, primitive
from ..kernels import pad_nd, window_view
from .shape import getitem, pad, reshape


def lowest(dtype) -> float:
    """The padding value that never wins a max: -inf, or the smallest integer for integer data."""
    return -np.inf if np.dtype(dtype).kind == "f" else np.iinfo(dtype).min


def window_max(x: np.ndarray, kernel, stride, padding, dilation) -> tuple[np.ndarray, np.ndarray]:
    """y[n,c,i,j] = max of window (i, j), and index[n,c,i,j] = h*W + w of its maximum in x.

    x: (N, C, H, W) -> y: (N, C, OH, OW) of x's dtype, index: (N, C, OH, OW) int64. Which cell
    wins follows PyTorch's CPU kernel, which scans a window's cells in row-major order and takes
    over when a value is greater or NaN: among equal values the first wins, among NaNs the last,
    and a window whose cells are all -inf sends its gradient to its first cell. Padding is -inf
    and never wins; a window of padding only (possible with dilation) has y = -inf and index -1:
    no input cell to send a gradient to.
    """
    (pt, pb), (pl, pr) = padding
    (sh, sw), (dh, dw), (H, W) = stride, dilation, x.shape[2:]
    windows = window_view(pad_nd(x, padding, lowest(x.dtype)), kernel, stride, dilation)
    N, C, OH, OW, KH, KW = windows.shape
    # a running maximum over the taps t = a*KW + b in row-major window order: a later tap takes
    # over only where it is strictly greater, so ties keep the first; t only grows, so the winning
    # tap is the largest t that took over
    y = windows[..., 0, 0].copy()
    tap = np.zeros(y.shape, dtype=np.int8 if KH * KW < 128 else np.int32)
    for t in range(1, KH * KW):
        value = windows[..., t // KW, t % KW]
        np.maximum(tap, np.multiply(value > y, t, dtype=tap.dtype), out=tap)
        np.maximum(y, value, out=y)
    nan = np.isnan(y)
    if nan.any():                           # every NaN takes over: the last NaN of the window
        flipped = np.isnan(windows.reshape(N, C, OH, OW, KH * KW)[..., ::-1])
        tap = np.where(nan, KH * KW - 1 - flipped.argmax(axis=-1), tap)
    padded = pt or pb or pl or pr
    if padded and x.dtype.kind == "f" and (y == -np.inf).any():
        # a window of -inf cells: the first cell inside x wins, not the padding before it
        rows = np.arange(OH)[:, None] * sh - pt + np.arange(KH) * dh    # (OH, KH): row of tap a
        cols = np.arange(OW)[:, None] * sw - pl + np.arange(KW) * dw    # (OW, KW): column of tap b
        a0 = ((rows >= 0) & (rows < H)).argmax(axis=1)
        b0 = ((cols >= 0) & (cols < W)).argmax(axis=1)
        tap = np.where(y == -np.inf, (a0 * KW)[:, None] + b0, tap)
    # tap (a, b) of window (i, j) is cell (i*sh - pt + a*dh, j*sw - pl + b*dw) of x
    corner = (np.arange(OH)[:, None] * sh - pt) * W + (np.arange(OW) * sw - pl)
    offset = (np.arange(KH)[:, None] * dh * W + np.arange(KW) * dw).ravel()
    index = corner + np.take(offset, tap)
    if padded:
        a, b = np.divmod(tap, KW)
        rows = np.arange(OH)[:, None] * sh - pt + a * dh
        cols = np.arange(OW) * sw - pl + b * dw
        inside = (rows >= 0) & (rows < H) & (cols >= 0) & (cols < W)
        index = np.where(inside, index, -1)
    return y, index


def argmax_indices(x: np.ndarray, kernel, stride, padding, dilation) -> np.ndarray:
    """For each window, the flat index h*W + w in x's (H, W) plane of the maximum PyTorch picks
    (see window_max).   x: (N, C, H, W) -> (N, C, OH, OW) int64"""
    return window_max(x, kernel, stride, padding, dilation)[1]


@primitive
def max_pool2d(x, *, kernel, stride, padding, dilation):
    """y[n,c,i,j] = max_{a,b} pad_{-inf}(x)[n, c, i*sh + a*dh, j*sw + b*dw]

    x: (N, C, H, W) -> y: (N, C, OH, OW); saves the flat argmax index of each window.
    """
    return window_max(x, kernel, stride, padding, dilation)


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
    dx = np.zeros(N * C * H * W, dtype=dy.dtype)
    np.add.at(dx, flat, weights)                     # unbuffered: repeated indices accumulate
    return dx.reshape(N, C, H, W)


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
    KH, KW = kernel
    total = windows[..., 0, 0].copy()
    for t in range(1, KH * KW):                      # one strided add per tap of the window
        total += windows[..., t // KW, t % KW]
    divisor = _divisor(x.shape, total.shape[2:], kernel, stride, padding, count_include_pad,
                       divisor_override)
    if x.dtype.kind in "iu":                         # integer data: division truncates, as PyTorch
        return (total / divisor).astype(x.dtype)
    return np.divide(total, divisor.astype(x.dtype), out=total)


@avg_pool2d.defvjp
def avg_pool2d_vjp(dy, x, *, kernel, stride, padding, count_include_pad=True,
                   divisor_override=None):
    # avg-pool sums the KH*KW strided tap views of pad(x) and divides by the divisor, so dy/divisor
    # goes back through every tap view: each window spreads its gradient evenly over its cells.
    # (The same as conv2d's dX recipe with a constant all-ones depthwise kernel.)
    divisor = _divisor(x.shape, dy.shape[2:], kernel, stride, padding, count_include_pad,
                       divisor_override)
    return spread2d(dy * Tensor((1 / divisor).astype(x.dtype)), size=x.shape[2:], kernel=kernel,
                    stride=stride, padding=padding)


@primitive
def spread2d(dy, *, size, kernel, stride, padding):
    """dx = unpad(sum_{a,b} dy placed on tap (a, b) of every window): each dy[n,c,i,j] is added to
    all the cells of window (i, j); overlaps add up. The adjoint of summing windows.

    dy: (N, C, OH, OW) -> dx: (N, C, H, W)
    """
    N, C, OH, OW = dy.shape
    (KH, KW), (sh, sw), (pt, pb), (pl, pr) = kernel, stride, *padding
    dx = np.zeros((N, C, size[0] + pt + pb, size[1] + pl + pr), dtype=dy.dtype)
    for a in range(KH):
        for b in range(KW):                         # tap (a, b) of window (i, j): cell (i*sh + a, j*sw + b)
            dx[:, :, a:a + (OH - 1) * sh + 1:sh, b:b + (OW - 1) * sw + 1:sw] += dy
    return pad_nd(dx, ((-pt, -pb), (-pl, -pr)))


@spread2d.defvjp
def spread2d_vjp(ddx, dy, *, size, kernel, stride, padding):
    # the adjoint of spreading over the windows is summing them: an avg-pool with divisor 1
    return avg_pool2d(ddx, kernel=kernel, stride=stride, padding=padding, divisor_override=1)
