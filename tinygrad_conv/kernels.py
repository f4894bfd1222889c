"""Pure NumPy kernels, no Tensors: sliding windows, padding, dilation, and `correlate2d`.

`correlate2d` is the one convolution loop of the project: conv2d's forward, its dX and its dW all
end up here, so making it fast makes all three fast.
"""
from __future__ import annotations

import itertools

import numpy as np
from numpy.lib.stride_tricks import as_strided

Pair = tuple[int, int]


def out_size(size: int, kernel: int, stride: int, pad_before: int, pad_after: int,
             dilation: int = 1) -> int:
    """floor((size + pads - dilation*(kernel-1) - 1) / stride) + 1: how many windows fit."""
    return (size + pad_before + pad_after - dilation * (kernel - 1) - 1) // stride + 1


def pool_out_size(size: int, kernel: int, stride: int, padding: int, dilation: int,
                  ceil_mode: bool) -> int:
    """PyTorch's pooling output size; with ceil_mode a last partial window counts if it starts
    inside the input or its left padding."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def window_view(x: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair) -> np.ndarray:
    """windows[n, c, i, j, a, b] = x[n, c, i*sh + a*dh, j*sw + b*dw]   (a read-only view, no copy)

    x: (N, C, H, W) -> (N, C, OH, OW, KH, KW)
    """
    N, C, H, W = x.shape
    (KH, KW), (sh, sw), (dh, dw) = kernel, stride, dilation
    OH, OW = out_size(H, KH, sh, 0, 0, dh), out_size(W, KW, sw, 0, 0, dw)
    s0, s1, s2, s3 = x.strides
    return as_strided(x, (N, C, OH, OW, KH, KW), (s0, s1, s2 * sh, s3 * sw, s2 * dh, s3 * dw),
                      writeable=False)


def pad_nd(x: np.ndarray, widths, value: float = 0.0) -> np.ndarray:
    """Pad the last len(widths) axes by (before, after) each; a negative width crops instead,
    from the padded array: out[..., o, ...] = x[..., o - before, ...] where that is inside x, else
    value (so a crop larger than x eats into the padding of the other side).

    x: (..., D1, ..., Dk), widths ((b1, a1), ..., (bk, ak)) -> (..., D1+b1+a1, ..., Dk+bk+ak)
    """
    widths = ((0, 0),) * (x.ndim - len(widths)) + tuple(widths)
    if all(b == 0 and a == 0 for b, a in widths):
        return x
    sizes = [max(0, n + b + a) for n, (b, a) in zip(x.shape, widths)]
    # the run of x that survives along each axis: x[i0:i0+count] lands at out[o0:o0+count]
    runs = [(max(0, b), max(0, -b), max(0, min(n - max(0, -b), size - max(0, b))))
            for n, (b, _), size in zip(x.shape, widths, sizes)]
    if all(b <= 0 and a <= 0 for b, a in widths):               # a crop: a view of x
        return x[tuple(slice(i0, i0 + count) for _, i0, count in runs)]
    out = np.full(sizes, value, dtype=x.dtype)
    out[tuple(slice(o0, o0 + count) for o0, _, count in runs)] = \
        x[tuple(slice(i0, i0 + count) for _, i0, count in runs)]
    return out


def dilate2d(x: np.ndarray, stride: Pair) -> np.ndarray:
    """Insert stride-1 zeros between pixels: out[..., i*sh, j*sw] = x[..., i, j].

    x: (..., H, W) -> (..., (H-1)*sh + 1, (W-1)*sw + 1)
    """
    sh, sw = stride
    if sh == 1 and sw == 1:
        return x
    H, W = x.shape[-2:]
    out = np.zeros(x.shape[:-2] + ((H - 1) * sh + 1, (W - 1) * sw + 1), dtype=x.dtype)
    out[..., ::sh, ::sw] = x
    return out


def select(condition: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """np.where(condition, x, y) to the bit, by bit arithmetic: y ^ ((x ^ y) & mask), with mask
    all ones where condition holds and all zeros elsewhere.

    condition (bool), x, y: broadcast together -> their broadcast shape, x's dtype. np.where
    branches on every entry, which a mask of random signs (relu's) mispredicts half the time:
    1.2 ms against 0.16 ms for these four passes, on LeNet's first activation (1.2 MB). The
    mask is one byte per entry and the result is built in place, so the memory held is that of
    np.where's result and the condition. Other arguments (x and y of two dtypes, a non-bool
    condition) go to np.where.
    """
    if condition.dtype != np.bool_ or x.dtype != y.dtype or x.dtype.kind not in "biuf":
        return np.where(condition, x, y)
    bits = np.dtype(f"i{x.itemsize}")
    xb, yb = x.view(bits), y.view(bits)
    mask = np.negative(condition.view(np.int8))          # True -> -1, all ones once widened
    out = np.asarray(np.bitwise_xor(xb, yb))             # 0-d: an array too
    if out.shape == np.broadcast_shapes(out.shape, mask.shape):
        np.bitwise_and(out, mask, out=out)
    else:                                                # the condition broadcasts x and y
        out = np.bitwise_and(out, mask)
    del mask
    return np.bitwise_xor(out, yb, out=out).view(x.dtype)


# The products are formed a slab (of images, or columns) at a time, each slab's matrix at most this
# many bytes: about one core's L2 cache, so it stays in cache while BLAS reads it, the allocator
# recycles its memory, and a backward pass's peak holds one small slab beside the activations.
SLAB_BYTES = 1 << 20

NO_PADDING = ((0, 0), (0, 0))


def correlate2d(x: np.ndarray, w: np.ndarray, stride: Pair = (1, 1), padding=NO_PADDING,
                dilation: Pair = (1, 1), groups: int = 1, bias: np.ndarray | None = None,
                loops=None) -> np.ndarray:
    """y[n, f, i, j] = sum_{c, a, b} pad(x)[n, g*C/G + c, i*sh + a*dh, j*sw + b*dw] * w[f, c, a, b]
                       (+ bias[f])

    x: (N, C, H, W), w: (F, C/G, KH, KW), bias: (F,) or None -> y: (N, F, OH, OW). padding
    ((top, bottom), (left, right)) adds zeros around x (a negative width crops instead); filter f
    belongs to group g = f // (F/G) and sees only that group's C/G channels. The bias is added in
    place into the fresh buffer each layout writes, in long contiguous runs (also over the columns
    a layout computes and drops): the output view itself has runs of only OW values.

    The one convolution loop of the project: conv2d's forward, its dX (a full correlation of dY
    with the flipped kernel) and its dW (x correlated with dY: a kernel larger than the output)
    all run here. The same sum is computed in whichever layout moves the fewest bytes:
    - pointwise (1x1, stride 1, no padding, groups 1): y[n] = W @ x[n], (F, C) @ (C, H*W) per
      image, straight on NCHW: no copy at all.
    - im2col: the windows of pad(x) become the columns of X_col (C/G*KH*KW, OH*OW), one matrix
      per image, and y = W_row @ X_col with W_row = w as (F/G, C/G*KH*KW): one BLAS product per
      image and group, written straight into y. (Per image rather than channel-major over the
      whole batch: the result lands in NCHW without a transposing copy, and a slab of a few
      images stays in cache while BLAS reads it; measured faster for the forward.)
    - taps first, when the output has fewer channels than the input (dX): multiply before
      shifting. Z = W_tap @ x for all KH*KW taps at once (one product, on x without its padding),
      then every tap's product is added into y at its offset. X_col would copy C/G values per
      tap and pixel; Z holds only F/G, and no zero of the padding gets multiplied.
    - kernel-major, when the kernel is larger than the output (dW): X_col gets one row per output
      pixel and the long sum over the kernel is accumulated over slabs of its channels. (A
      filter with few weights gets its dW from weight_grad_per_image instead.)
    loops(name, *dtypes), if given, finds compiled twins of the shifted adds (ops/conv.py passes
    compiled.kernels_for, which finds them when the [fast] extra is on); without it the adds are
    NumPy's.
    Every layout gives the sums of exactly the products im2col forms, zero padding included (as
    PyTorch's CPU im2col does), so Inf and NaN land where they would in PyTorch: a layout that
    would multiply other zeros (taps first skips the padding, the flat kernel-major layout fills
    rows with zeros) is used only where those products are zero, i.e. the values are finite.
    """
    if any(n + min(b, 0) + min(a, 0) < 0 for n, (b, a) in zip(x.shape[2:], padding)):
        x, padding = pad_nd(x, padding), NO_PADDING   # a crop reaches into the other side's padding
    x = pad_nd(x, [(min(b, 0), min(a, 0)) for b, a in padding])      # crop first
    padding = tuple((max(b, 0), max(a, 0)) for b, a in padding)
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    (sh, sw), (dh, dw), ((pt, pb), (pl, pr)) = stride, dilation, padding
    OH, OW = out_size(H, KH, sh, pt, pb, dh), out_size(W, KW, sw, pl, pr, dw)
    late = bias is not None and np.result_type(x, w, bias) != np.result_type(x, w)
    b = None if late else bias                        # a wider bias widens y: added afterwards
    if KH * KW == 1 and stride == (1, 1) and padding == NO_PADDING and groups == 1:
        y = np.matmul(w.reshape(F, C), x.reshape(N, C, H * W)).reshape(N, F, H, W)
        _add_bias(y, b, (F, 1, 1))
    elif KH * KW > OH * OW:
        y = _correlate_kernel_major(pad_nd(x, padding), w, stride, dilation, groups, b)
    # taps first skips the products of w with the padding; they are zero unless w holds Inf/NaN
    elif KH * KW > 1 and 2 * (F // groups) * H * W <= Cg * OH * OW and np.isfinite(w).all():
        y = _correlate_taps_first(x, w, stride, padding, dilation, groups, (OH, OW), b, loops)
    else:
        y = _correlate_im2col(pad_nd(x, padding), w, stride, dilation, groups, b)
    return add_channel_bias(y, bias) if late else y


def add_channel_bias(y: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """y[:, f] + bias[f]: in place into the fresh y, unless the bias's dtype would widen y's.

    y: (N, F, OH, OW), bias: (F,) or None -> (N, F, OH, OW)
    """
    if bias is None:
        return y
    return np.add(y, bias.reshape(-1, 1, 1), out=y if np.result_type(y, bias) == y.dtype else None)


def _add_bias(y: np.ndarray, bias: np.ndarray | None, shape: tuple) -> None:
    """y += bias, the bias reshaped to broadcast along y's channel axis (in place, same dtype)."""
    if bias is not None:
        y += bias.reshape(shape)


def _flat_rows(x: np.ndarray) -> tuple[bool, int]:
    """Whether x's (H, W) planes have unit steps along W and evenly spaced rows, and the row pitch.

    Then a window position (i, j) is the flat offset i*pitch + j of the plane, and every tap (a, b)
    reads the plane shifted by a*dh*pitch + b*dw: a 2-D correlation with stride 1 is a 1-D
    correlation over the flattened plane. The positions j >= OW wrap around a row end; they are
    computed and dropped, which costs pitch/OW extra work but turns every copied row into one
    long contiguous run instead of OH runs of OW values.
    """
    H, W = x.shape[2:]
    item, (row, col) = x.itemsize, x.strides[2:]
    pitch = row // item if H > 1 else W
    return col == item and (H == 1 or (row % item == 0 and row >= W * item)), pitch


def _correlate_im2col(x, w, stride, dilation, groups, bias=None):
    """correlate2d of an already padded x by y = W_row @ X_col (+ bias)."""
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    G, Fg, R = groups, F // groups, Cg * KH * KW
    OH, OW = out_size(H, KH, stride[0], 0, 0, dilation[0]), out_size(W, KW, stride[1], 0, 0, dilation[1])
    flat, pitch = _flat_rows(x)
    sN, sC, sH, sW = x.strides
    if flat and stride == (1, 1) and pitch < 2 * OW:
        # patches[n, g, c, a, b, p] = x[n, g*C/G + c].flat[a*dh*pitch + b*dw + p],  p = i*pitch + j
        P = (OH - 1) * pitch + OW
        patches = as_strided(x, (N, G, Cg, KH, KW, P), (sN, Cg * sC, sC, dilation[0] * sH,
                                                        dilation[1] * sW, sW), writeable=False)
    else:
        P, pitch = OH * OW, OW
        patches = window_view(x, (KH, KW), stride, dilation).reshape(N, G, Cg, OH, OW, KH, KW)
        patches = patches.transpose(0, 1, 2, 5, 6, 3, 4)             # (N, G, C/G, KH, KW, OH, OW)
    w_row = np.ascontiguousarray(w).reshape(G, Fg, R)              # BLAS wants plain rows
    y = np.empty((N, G, Fg, OH * pitch), dtype=np.result_type(x, w))
    slab = max(1, SLAB_BYTES // max(1, G * R * P * x.itemsize))
    for n0 in range(0, N, slab):
        n1 = min(N, n0 + slab)
        x_col = patches[n0:n1].reshape(n1 - n0, G, R, P)             # the copy
        np.matmul(w_row, x_col, out=y[n0:n1, :, :, :P])              # W_row @ X_col per image
        del x_col                              # one slab alive at a time
    _add_bias(y[..., :P], bias, (G, Fg, 1))    # what the products wrote (the rest is unset)
    return y.reshape(N, F, OH, pitch)[..., :OW]                       # drop the wrapped columns


def _correlate_taps_first(x, w, stride, padding, dilation, groups, out_hw, bias=None,
                          loops=None):
    """correlate2d as y[.., i, j] += Z_ab[.., i*sh + a*dh - pt, j*sw + b*dw - pl], Z_ab = W_ab @ x.

    Output pixels whose tap would read the zero padding get nothing from that tap. With stride 1,
    x is padded along W only, and each tap's whole shifted plane is then one flat slice (as in
    _flat_rows): y and Z share the row pitch W + pl + pr, so a tap adds one long run per image.
    """
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    G, Fg, (OH, OW) = groups, F // groups, out_hw
    (sh, sw), (dh, dw), ((pt, _), (pl, pr)) = stride, dilation, padding
    flat = stride == (1, 1)
    if flat:                                   # zeros left and right: no tap wraps around a row
        widths, W, pl = ((pl, pr),), W + pl + pr, 0          # (each slab is padded in turn)
    # (G, F/G, C/G, KH, KW) -> (G, KH*KW*F/G, C/G): all taps' weight matrices stacked
    w_taps = np.ascontiguousarray(w.reshape(G, Fg, Cg, KH * KW).transpose(0, 3, 1, 2)).reshape(G, -1, Cg)
    y = np.zeros((N, G, Fg, OH * W if flat else OH * OW), dtype=np.result_type(x, w))
    slab = max(1, SLAB_BYTES // max(1, G * KH * KW * Fg * H * W * x.itemsize))
    rows = [overlap_slices(H, OH, a * dh - pt, sh) for a in range(KH)]
    cols = [overlap_slices(W, OW, b * dw - pl, sw) for b in range(KW)]
    # flat: y.flat[m] += z_t.flat[m + offset[t]] for the m in [first[t], last[t]) that are in range
    offset = np.array([(a * dh - pt) * W + b * dw for a in range(KH) for b in range(KW)])
    first, last = np.maximum(0, -offset), np.minimum(OH * W, H * W - offset)
    fast = loops("conv", y.dtype, x.dtype, w.dtype) if flat and loops else None
    for n0 in range(0, N, slab):
        n1 = min(N, n0 + slab)
        x_slab = pad_nd(x[n0:n1], widths) if flat else x[n0:n1]
        z = (w_taps @ x_slab.reshape(n1 - n0, G, Cg, H * W)).reshape(n1 - n0, G, KH, KW, Fg, H * W)
        if fast is not None:                   # all taps in one pass over y
            fast.add_taps(y[n0:n1], z.reshape(n1 - n0, G, KH * KW, Fg, H * W), offset, first, last)
        else:
            for t, (a, b) in enumerate(itertools.product(range(KH), range(KW))):
                if flat:
                    m0, m1, o = first[t], last[t], offset[t]
                    if m0 < m1:
                        y[n0:n1, :, :, m0:m1] += z[:, :, a, b, :, m0 + o:m1 + o]
                else:
                    (out_rows, in_rows), (out_cols, in_cols) = rows[a], cols[b]
                    y_tap = y[n0:n1].reshape(n1 - n0, G, Fg, OH, OW)[..., out_rows, out_cols]
                    y_tap += z[:, :, a, b, :].reshape(n1 - n0, G, Fg, H, W)[..., in_rows, in_cols]
        del z, x_slab                          # one slab alive at a time
    _add_bias(y, bias, (G, Fg, 1))
    if flat:
        return y.reshape(N, F, OH, W)[..., :OW]
    return y.reshape(N, F, OH, OW)


def overlap_slices(size: int, out: int, offset: int, stride: int) -> tuple[slice, slice]:
    """The outputs i in [0, out) whose input index i*stride + offset lies in [0, size), and those
    input indices, as two slices (empty when none)."""
    first = max(0, -(-(-offset) // stride))                   # ceil(-offset / stride)
    last = min(out, (size - 1 - offset) // stride + 1)
    if last <= first:
        return slice(0, 0), slice(0, 0)
    start = first * stride + offset
    return slice(first, last), slice(start, start + (last - first - 1) * stride + 1, stride)


def _correlate_kernel_major(x, w, stride, dilation, groups, bias=None, flat_rows=True):
    """correlate2d of an already padded x when the kernel is larger than the output (dW = X ⋆ dY):
    X_col gets a row per output pixel and a column per kernel tap, and the sum over the taps,
    which is long, is accumulated over slabs of the kernel's channels. The flat layout (flat_rows)
    multiplies the zeros between the kernel's spread rows with pixels, so a non-finite result
    is computed again without it."""
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    G, Fg = groups, F // groups
    OH, OW = out_size(H, KH, stride[0], 0, 0, dilation[0]), out_size(W, KW, stride[1], 0, 0, dilation[1])
    P, item = OH * OW, x.itemsize
    flat, pitch = _flat_rows(x)
    sN, sC, sH, sW = x.strides
    flat = flat_rows and flat and dilation == (1, 1) and pitch < 2 * KW
    if flat:
        # taps k = a*pitch + b: patches[n, g, i, j, c, k] = x[n, g*C/G + c].flat[i*sh*pitch + j*sw + k]
        K = (KH - 1) * pitch + KW
        patches = as_strided(x, (N, G, OH, OW, Cg, K), (sN, Cg * sC, stride[0] * sH,
                                                          stride[1] * sW, sC, sW), writeable=False)
    else:
        K = KH * KW
        patches = window_view(x, (KH, KW), stride, dilation).reshape(N, G, Cg, OH, OW, KH, KW)
        patches = patches.transpose(0, 1, 3, 4, 2, 5, 6)             # (N, G, OH, OW, C/G, KH, KW)
    y = np.zeros((G, Fg, N * P), dtype=np.result_type(x, w))
    slab = max(1, SLAB_BYTES // max(1, G * N * P * K * item))
    for c0 in range(0, Cg, slab):
        c1 = min(Cg, c0 + slab)
        x_col = np.moveaxis(patches[:, :, :, :, c0:c1], 1, 0).reshape(G, N * P, (c1 - c0) * K)
        w_row = _spread_rows(w[:, c0:c1], pitch) if flat else w[:, c0:c1]
        y += w_row.reshape(G, Fg, -1) @ x_col.transpose(0, 2, 1)
        del x_col, w_row                       # one slab alive at a time
    if flat and not np.isfinite(y).all():      # the zeros between the spread rows met Inf/NaN
        return _correlate_kernel_major(x, w, stride, dilation, groups, bias, flat_rows=False)
    _add_bias(y, bias, (G, Fg, 1))
    return y.reshape(F, N, OH, OW).transpose(1, 0, 2, 3)


def _spread_rows(w: np.ndarray, pitch: int) -> np.ndarray:
    """The kernel laid out with the image's row pitch: tap (a, b) at a*pitch + b, zeros between
    its rows.   w: (F, C, KH, KW) -> (F, C, (KH-1)*pitch + KW)"""
    F, C, KH, KW = w.shape
    K, item = (KH - 1) * pitch + KW, w.itemsize
    spread = np.zeros((F, C, K), dtype=w.dtype)
    as_strided(spread, w.shape, (C * K * item, K * item, pitch * item, item))[...] = w
    return spread


def weight_grad_per_image(x: np.ndarray, dy: np.ndarray, w_shape: tuple, stride: Pair,
                          padding, dilation: Pair) -> np.ndarray:
    """dW[f, c, a, b] = sum_{n, i, j} dy[n, f, i, j] pad(x)[n, c, i*sh + a*dh, j*sw + b*dw]
    (dW = X ⋆ dY, one group), as dW_row = sum_n dY[n] @ X_col[n]^T

    x: (N, C, H, W), dy: (N, F, OH, OW) -> dw: w_shape (F, C, KH, KW). X_col[n] is image n's
    im2col matrix, (C*KH*KW, OH*OW), the forward's; dW_row is dW as (F, C*KH*KW). The products
    of a slab of images run as one stacked matmul, summed over the images. For a filter with
    few weights (a first layer with C = 1 or 3, a 1x1 conv over few channels) the product per
    image is short and wide, and this beats correlate2d's kernel-major layout, whose long sum
    over the batch runs as a thin product. The windows are those of dY's grid, so rows past the
    last window are never read. It multiplies exactly the pairs that im2col does, padding zeros
    included, so Inf and NaN land where they do in PyTorch.
    """
    N, C, KH, KW = dy.shape[0], w_shape[1], w_shape[2], w_shape[3]
    F, R, P = w_shape[0], C * KH * KW, dy.shape[2] * dy.shape[3]
    # patches[n, c, a, b, i, j] = pad(x)[n, c, i*sh + a*dh, j*sw + b*dw]
    patches = window_view(pad_nd(x, padding), (KH, KW), stride, dilation)
    patches = patches.transpose(0, 1, 4, 5, 2, 3)
    dy_rows = dy.reshape(N, F, P)
    dw = np.zeros((F, R), dtype=np.result_type(x, dy))
    slab = max(1, SLAB_BYTES // max(1, (R * P + F * R) * x.itemsize))   # X_col and products
    for n0 in range(0, N, slab):
        n1 = min(N, n0 + slab)
        x_col = patches[n0:n1].reshape(n1 - n0, R, P)                 # the copy
        dw += np.matmul(dy_rows[n0:n1], x_col.transpose(0, 2, 1)).sum(axis=0)
        del x_col                              # one slab alive at a time
    return dw.reshape(w_shape)


def correlate2d_transposed(dy: np.ndarray, w: np.ndarray, x_shape: tuple, stride: Pair,
                           padding, dilation: Pair, groups: int, loops=None) -> np.ndarray:
    """dx[n, g*C/G + c, i*sh + a*dh - pt, j*sw + b*dw - pl] += sum_f w[f, c, a, b] dy[n, f, i, j]

    dy: (N, F, OH, OW), w: (F, C/G, KH, KW) -> dx: x_shape (N, C, H, W). The adjoint of
    correlate2d in x (its dX), as a scatter: Z = W_tap^T @ dY for every tap at once, then each
    tap's plane is added into dx at its offset, every stride-th pixel. Only real pairs of dy and
    w are multiplied, never a zero of the padding or of a dilated dY, so an Inf or NaN weight
    reaches exactly the pixels it touches (as in PyTorch's backward, which scatters the same way).
    Contributions that land in the padding are dropped.
    """
    N, F, OH, OW = dy.shape
    _, Cg, KH, KW = w.shape
    G, Fg, (H, W) = groups, F // groups, x_shape[2:]
    (sh, sw), (dh, dw), ((pt, _), (pl, _)) = stride, dilation, padding
    Hp, Wp = (OH - 1) * sh + (KH - 1) * dh + 1, (OW - 1) * sw + (KW - 1) * dw + 1  # what windows cover
    # (G, F/G, C/G*KH*KW) -> (G, C/G*KH*KW, F/G): each tap's transposed weight matrix, stacked
    w_t = np.ascontiguousarray(w.reshape(G, Fg, Cg * KH * KW).transpose(0, 2, 1))
    dx = np.zeros((N, G, Cg, Hp, Wp), dtype=np.result_type(dy, w))
    slab = max(1, SLAB_BYTES // max(1, G * Cg * KH * KW * OH * OW * dy.itemsize))
    fast = loops("conv", dx.dtype, dy.dtype, w.dtype) if loops else None    # as in correlate2d
    for n0 in range(0, N, slab):
        n1 = min(N, n0 + slab)
        z = (w_t @ dy[n0:n1].reshape(n1 - n0, G, Fg, OH * OW)).reshape(n1 - n0, G, Cg, KH, KW, OH, OW)
        if fast is not None:                   # all taps in one pass over dx
            fast.scatter_taps(dx[n0:n1], z, stride, dilation)
        else:
            for a, b in itertools.product(range(KH), range(KW)):
                dx[n0:n1, :, :, a * dh:a * dh + (OH - 1) * sh + 1:sh,
                   b * dw:b * dw + (OW - 1) * sw + 1:sw] += z[:, :, :, a, b]
        del z                                  # one slab alive at a time
    return pad_nd(dx.reshape(N, G * Cg, Hp, Wp), ((-pt, H + pt - Hp), (-pl, W + pl - Wp)))
