"""Pooling: max_pool2d routes each window's gradient to its maximum; avg_pool2d spreads it evenly.

Parameters arrive normalised: kernel=(KH, KW), stride=(sh, sw), padding=((top, bottom), (left,
right)) where bottom/right include the extra border of ceil_mode, dilation=(dh, dw).

A window's taps t = a*KW + b, in row-major order, are its cells: tap (a, b) of window (i, j) is
cell (i*sh + a*dh, j*sw + b*dw) of the padded input. max_pool2d saves the winning tap of each
window (one byte for windows of fewer than 128 cells), not its flat index: the gradient is routed
tap by tap, with one strided write per tap and no scatter.
"""
import numpy as np

from .. import compiled
from ..autograd import Tensor, primitive
from ..kernels import overlap_slices, pad_nd, window_view
from .shape import getitem, pad, reshape


def lowest(dtype) -> float:
    """The padding value that never wins a max: -inf, or the smallest integer for integer data."""
    return -np.inf if np.dtype(dtype).kind == "f" else np.iinfo(dtype).min


def tap_slice(tap: int, out: int, stride: int, dilation: int = 1) -> slice:
    """The cells tap `tap` of windows 0 .. out-1 cover along one padded axis: tap*dilation, then
    every stride."""
    return slice(tap * dilation, tap * dilation + (out - 1) * stride + 1, stride)


def tap_dtype(kernel):
    """The smallest integer type that numbers a window's KH*KW taps."""
    return np.int8 if kernel[0] * kernel[1] < 128 else np.int32


def window_max(x: np.ndarray, kernel, stride, padding, dilation) -> tuple[np.ndarray, np.ndarray]:
    """y[n,c,i,j] = max of window (i, j), and tap[n,c,i,j] = a*KW + b of its maximum.

    x: (N, C, H, W) -> y: (N, C, OH, OW) of x's dtype, tap: (N, C, OH, OW) of tap_dtype(kernel).
    Which cell wins follows PyTorch's CPU kernel, which scans a window's cells in row-major order
    and takes over when a value is greater or NaN: among equal values the first wins, among NaNs
    the last, and a window whose cells are all -inf sends its gradient to its first cell inside
    x. Padding is -inf and never wins; a window of padding only (possible with dilation) has
    y = -inf and a tap on padding: no input cell to send a gradient to (tap_index: -1).
    """
    (pt, pb), (pl, pr) = padding
    (sh, sw), (dh, dw), (H, W) = stride, dilation, x.shape[2:]
    windows = window_view(pad_nd(x, padding, lowest(x.dtype)), kernel, stride, dilation)
    N, C, OH, OW, KH, KW = windows.shape
    # a running maximum over the taps t in row-major window order: a later tap takes over only
    # where it is strictly greater, so ties keep the first; t only grows, so the winning tap is
    # the largest t that took over
    y = windows[..., 0, 0].copy()
    tap = np.zeros(y.shape, dtype=tap_dtype(kernel))
    for t in range(1, KH * KW):
        value = windows[..., t // KW, t % KW]
        np.maximum(tap, np.multiply(value > y, t, dtype=tap.dtype), out=tap)
        np.maximum(y, value, out=y)
    nan = np.isnan(y)
    if nan.any():                           # every NaN takes over: the last NaN of the window
        flipped = np.isnan(windows.reshape(N, C, OH, OW, KH * KW)[..., ::-1])
        tap = np.where(nan, KH * KW - 1 - flipped.argmax(axis=-1), tap).astype(tap.dtype)
    if (pt or pb or pl or pr) and x.dtype.kind == "f" and (y == -np.inf).any():
        # a window of -inf cells: the first cell inside x wins, not the padding before it
        first = first_inside(x.shape[2:], (OH, OW), kernel, stride, padding, dilation)
        tap = np.where(y == -np.inf, first, tap).astype(tap.dtype)
    return y, tap


def first_inside(size, out, kernel, stride, padding, dilation) -> np.ndarray:
    """(OH, OW): the first tap a0*KW + b0 of each window that lies inside x (a0 its first row
    inside x, b0 its first column; 0 along an axis where the window has none)."""
    cells = (np.arange(o)[:, None] * s - p + np.arange(k) * d
             for o, s, (p, _), k, d in zip(out, stride, padding, kernel, dilation))
    a0, b0 = (((rows >= 0) & (rows < n)).argmax(axis=1) for rows, n in zip(cells, size))
    return (a0 * kernel[1])[:, None] + b0


def winner_cells(tap: np.ndarray, kernel, stride, dilation) -> tuple[np.ndarray, np.ndarray]:
    """The padded-input row and column of each window's tap: (i*sh + a*dh, j*sw + b*dw), with
    a, b = divmod(tap, KW).   tap: (..., OH, OW) -> two int arrays of tap's shape"""
    OH, OW = tap.shape[-2:]
    a, b = np.divmod(tap.astype(np.intp), kernel[1])
    return (np.arange(OH)[:, None] * stride[0] + a * dilation[0],
            np.arange(OW) * stride[1] + b * dilation[1])


def tap_index(tap: np.ndarray, size, kernel, stride, padding, dilation) -> np.ndarray:
    """The flat index h*W + w in x's (H, W) plane of each window's tap, -1 where it lies on
    padding.   tap: (N, C, OH, OW) -> (N, C, OH, OW) int64"""
    (pt, _), (pl, _) = padding
    H, W = size
    rows, cols = winner_cells(tap, kernel, stride, dilation)
    rows, cols = rows - pt, cols - pl
    inside = (rows >= 0) & (rows < H) & (cols >= 0) & (cols < W)
    return np.where(inside, rows * W + cols, -1).astype(np.int64)


@primitive
def max_pool2d(x, *, kernel, stride, padding, dilation):
    """y[n,c,i,j] = max_{a,b} pad_{-inf}(x)[n, c, i*sh + a*dh, j*sw + b*dw]

    x: (N, C, H, W) -> y: (N, C, OH, OW); saves the winning tap a*KW + b of each window.
    """
    return window_max(x, kernel, stride, padding, dilation)


@max_pool2d.defvjp
def max_pool2d_vjp(dy, x, *, kernel, stride, padding, dilation, saved):
    # only the winner of each window affected the output: route dy[n,c,i,j] to it
    return route2d(dy, Tensor(saved), size=x.shape[2:], kernel=kernel, stride=stride,
                   padding=padding, dilation=dilation)


def keep_where(dy: np.ndarray, mask: np.ndarray, out=None) -> np.ndarray:
    """dy where mask, else +0.0, exactly: dy's bits AND all ones or all zeros (dy * mask would
    turn a NaN or inf of dy into NaN = inf*0 in the cells it did not win).   out: like dy"""
    ints = np.dtype(f"i{dy.itemsize}")
    return np.bitwise_and(dy.view(ints), -mask.view(np.int8),
                          out=None if out is None else out.view(ints)).view(dy.dtype)


@primitive
def route2d(dy, tap, *, size, kernel, stride, padding, dilation):
    """dx[n, c, winner of window (i, j)] += dy[n, c, i, j], the winner being the window's tap
    tap[n, c, i, j]; overlapping windows add up, winners on padding are dropped.

    dy: (N, C, OH, OW), tap: (N, C, OH, OW) as window_max saves it -> dx: (N, C, H, W)
    """
    N, C, OH, OW = dy.shape
    (KH, KW), (sh, sw), (dh, dw), ((pt, pb), (pl, pr)) = kernel, stride, dilation, padding
    # where windows do not overlap (stride at least the window's extent) every cell is the tap
    # of at most one window: plain writes
    overlap = sh < (KH - 1) * dh + 1 or sw < (KW - 1) * dw + 1
    kernels = compiled.kernels_for("pool", dy.dtype)
    if kernels is not None:
        dx = np.zeros((N, C) + tuple(size), dtype=dy.dtype)
        kernels.route(np.ascontiguousarray(dy), np.ascontiguousarray(tap), dx, kernel, stride,
                      (pt, pl), dilation, overlap)
        return dx
    dx = np.zeros((N, C, size[0] + pt + pb, size[1] + pl + pr), dtype=dy.dtype)
    # tap t of every window is one strided view of dx
    for t in range(KH * KW):
        cells = dx[:, :, tap_slice(t // KW, OH, sh, dh), tap_slice(t % KW, OW, sw, dw)]
        if overlap:
            cells += keep_where(dy, tap == t)
        else:
            keep_where(dy, tap == t, out=cells)
    return pad_nd(dx, ((-pt, -pb), (-pl, -pr)))


@route2d.defvjp
def route2d_vjp(ddx, dy, tap, *, size, kernel, stride, padding, dilation):
    # the adjoint of routing to the winners is gathering from them: ddy = pad_0(ddx)[winners]
    N, C = dy.shape[:2]
    rows, cols = winner_cells(tap.data, kernel, stride, dilation)
    n, c = (np.arange(N)[:, None, None, None], np.arange(C)[None, :, None, None])
    return getitem(pad(ddx, widths=padding), index=(n, c, rows, cols)), None


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


def _along(axis: int, index) -> tuple:
    return (slice(None),) * axis + (index,)


def window_sums_along(x: np.ndarray, axis: int, kernel: int, stride: int, pad) -> np.ndarray:
    """s[..., i, ...] = sum_a pad_0(x)[..., i*stride + a, ...] along one axis, pad = (before,
    after) zeros: one strided add per tap, of the cells of x it reaches (the zeros add nothing,
    so pad_0(x) is never built)."""
    size, (before, after) = x.shape[axis], pad
    out = (size + before + after - kernel) // stride + 1
    total = np.zeros(x.shape[:axis] + (out,) + x.shape[axis + 1:], dtype=x.dtype)
    for a in range(kernel):
        outputs, cells = overlap_slices(size, out, a - before, stride)
        total[_along(axis, outputs)] += x[_along(axis, cells)]
    return total


def spread_along(dy: np.ndarray, axis: int, kernel: int, stride: int, size: int, pad) -> np.ndarray:
    """The adjoint of window_sums_along: dx[..., i*stride + a - before, ...] += dy[..., i, ...]
    for every tap a, into a zero axis of length size; what lands on the padding is dropped."""
    out, (before, _) = dy.shape[axis], pad
    dx = np.zeros(dy.shape[:axis] + (size,) + dy.shape[axis + 1:], dtype=dy.dtype)
    for a in range(kernel):
        outputs, cells = overlap_slices(size, out, a - before, stride)
        dx[_along(axis, cells)] += dy[_along(axis, outputs)]
    return dx


def window_sums(x: np.ndarray, kernel, stride, padding) -> np.ndarray:
    """s[n,c,i,j] = sum_{a,b} pad_0(x)[n, c, i*sh + a, j*sw + b], separably: the window sums along
    the rows (KH adds of whole contiguous rows), then along the columns of those (KW strided adds).

    x: (N, C, H, W) -> s: (N, C, OH, OW)
    """
    rows = window_sums_along(x, 2, kernel[0], stride[0], padding[0])
    return window_sums_along(rows, 3, kernel[1], stride[1], padding[1])


@primitive(reads="shapes")
def avg_pool2d(x, *, kernel, stride, padding, count_include_pad=True, divisor_override=None):
    """y[n,c,i,j] = sum_{a,b} pad_0(x)[n, c, i*sh + a, j*sw + b] / divisor[i, j]

    x: (N, C, H, W) -> y: (N, C, OH, OW); divisor as PyTorch (count_include_pad, divisor_override)
    """
    total = window_sums(x, kernel, stride, padding)
    divisor = _divisor(x.shape, total.shape[2:], kernel, stride, padding, count_include_pad,
                       divisor_override)
    if x.dtype.kind in "iu":                         # integer data: division truncates, as PyTorch
        return (total / divisor).astype(x.dtype)
    return np.divide(total, divisor.astype(x.dtype), out=total)


@avg_pool2d.defvjp
def avg_pool2d_vjp(dy, x, *, kernel, stride, padding, count_include_pad=True,
                   divisor_override=None):
    # avg-pool sums the KH*KW taps of each window of pad(x) and divides by the divisor, so
    # dy/divisor goes back to every tap: each window spreads its gradient evenly over its cells.
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
    (KH, KW), (sh, sw) = kernel, stride
    # window_sums in reverse: spread along the columns (on the small dy), then along the rows
    rows = spread_along(dy, 3, KW, sw, size[1], padding[1])
    return spread_along(rows, 2, KH, sh, size[0], padding[0])


@spread2d.defvjp
def spread2d_vjp(ddx, dy, *, size, kernel, stride, padding):
    # the adjoint of spreading over the windows is summing them: an avg-pool with divisor 1
    return avg_pool2d(ddx, kernel=kernel, stride=stride, padding=padding, divisor_override=1)
