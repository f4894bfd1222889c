"""Pure NumPy kernels, no Tensors: sliding windows, padding, dilation, and `correlate2d`.

`correlate2d` is the one convolution loop of the project: conv2d's forward, its dX and its dW all
end up here, so making it fast makes all three fast.
"""
from __future__ import annotations

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
    """Pad the last len(widths) axes by (before, after) each; a negative width crops instead.

    x: (..., D1, ..., Dk), widths ((b1, a1), ..., (bk, ak)) -> (..., D1+b1+a1, ..., Dk+bk+ak)
    """
    widths = ((0, 0),) * (x.ndim - len(widths)) + tuple(widths)
    if all(b == 0 and a == 0 for b, a in widths):
        return x
    crop = tuple(slice(max(-b, 0), n - max(-a, 0)) for n, (b, a) in zip(x.shape, widths))
    x = x[crop]
    if all(b <= 0 and a <= 0 for b, a in widths):
        return x
    out = np.full([n + max(b, 0) + max(a, 0) for n, (b, a) in zip(x.shape, widths)], value,
                  dtype=x.dtype)
    out[tuple(slice(max(b, 0), max(b, 0) + n) for n, (b, _) in zip(x.shape, widths))] = x
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


# The im2col matrices are built a slab of images at a time, each slab at most this many bytes: small
# enough to stay in cache while BLAS reads it, and for the allocator to recycle its memory.
SLAB_BYTES = 2 << 20


def correlate2d(x: np.ndarray, w: np.ndarray, stride: Pair = (1, 1), dilation: Pair = (1, 1),
                groups: int = 1) -> np.ndarray:
    """y[n, f, i, j] = sum_{c, a, b} x[n, g*C/G + c, i*sh + a*dh, j*sw + b*dw] * w[f, c, a, b]

    x: (N, C, H, W) already padded, w: (F, C/G, KH, KW) -> y: (N, F, OH, OW); filter f belongs to
    group g = f // (F/G) and sees only that group's C/G channels.

    im2col: the windows of each group form a matrix X_col (C/G*KH*KW, N*OH*OW), the weights a matrix
    W_row (F/G, C/G*KH*KW), and y = W_row @ X_col, one BLAS product that does every multiply-add.
    The same function computes conv2d's forward, its dX (a full correlation with the flipped
    kernel) and its dW (a correlation of x with dY, where the kernel is large and the output is
    KH x KW): X_col has a row per kernel tap in the first two, a row per output pixel in the last.

    Building X_col is a copy, and a copy is fast when it moves long contiguous runs. With stride 1
    a window position (i, j) is the flat offset i*pitch + j in the row-major (H, W) plane (pitch:
    the distance between rows), and every tap (a, b) reads the plane shifted by a*dh*pitch + b*dw:
    a 2-D correlation is a 1-D correlation over the flattened plane. The positions j >= OW wrap
    around a row end; they are computed and dropped, which costs pitch/OW extra work but makes
    each row of X_col one contiguous run. For dW the kernel (dY) is spread to the row pitch
    instead, with zeros between its rows.
    """
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    G, Fg = groups, F // groups
    (sh, sw), (dh, dw) = stride, dilation
    OH, OW = out_size(H, KH, sh, 0, 0, dh), out_size(W, KW, sw, 0, 0, dw)
    item = x.itemsize
    sN, sC, sH, sW = x.strides
    pitch = sH // item if H > 1 else W
    # flat runs need unit steps along W and evenly spaced rows, and should not waste too much
    rows_are_flat = sW == item and (H == 1 or (sH % item == 0 and sH >= W * item))
    dtype = np.result_type(x, w)
    if KH * KW > OH * OW:
        flat = rows_are_flat and (dh, dw) == (1, 1) and pitch < 2 * KW
        return _correlate_kernel_major(x, w, stride, dilation, G, (OH, OW), flat, pitch)
    if rows_are_flat and (sh, sw) == (1, 1) and pitch < 2 * OW:
        # patches[n, g, c, a, b, p] = x[n, g*C/G + c].flat[a*dh*pitch + b*dw + p],  p = i*pitch + j
        P = (OH - 1) * pitch + OW
        patches = as_strided(x, (N, G, Cg, KH, KW, P), (sN, Cg * sC, sC, dh * sH, dw * sW, sW),
                             writeable=False)
    else:
        P = OH * OW
        patches = window_view(x, (KH, KW), stride, dilation).reshape(N, G, Cg, OH, OW, KH, KW)
        patches = patches.transpose(0, 1, 2, 5, 6, 3, 4)             # (N, G, C/G, KH, KW, OH, OW)
    R = Cg * KH * KW
    w_row = w.reshape(G, Fg, R)
    y = np.empty((N, G, Fg, OH * pitch if P != OH * OW else P), dtype=dtype)
    slab = max(1, SLAB_BYTES // (G * R * P * item))
    for n0 in range(0, N, slab):
        n1 = min(N, n0 + slab)
        x_col = np.moveaxis(patches[n0:n1], 0, 4).reshape(G, R, (n1 - n0) * P)     # the copy
        y[n0:n1, :, :, :P] = (w_row @ x_col).reshape(G, Fg, n1 - n0, P).transpose(2, 0, 1, 3)
    if P == OH * OW:
        return y.reshape(N, F, OH, OW)
    return y.reshape(N, F, OH, pitch)[..., :OW]                       # drop the wrapped columns


def _correlate_kernel_major(x, w, stride, dilation, G, out_hw, flat, pitch):
    """correlate2d when the kernel is larger than the output (dW = X ⋆ dY): X_col gets a row per
    output pixel and a column per kernel tap, and the sum over kernel taps, which is long, is
    accumulated over slabs of the kernel's channels."""
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    Fg, (OH, OW), P = F // G, out_hw, out_hw[0] * out_hw[1]
    item = x.itemsize
    sN, sC, sH, sW = x.strides
    if flat:
        # taps k = a*pitch + b: patches[n, g, i, j, c, k] = x[n, g*C/G + c].flat[i*sh*pitch + j*sw + k]
        K = (KH - 1) * pitch + KW
        patches = as_strided(x, (N, G, OH, OW, Cg, K), (sN, Cg * sC, stride[0] * sH,
                                                          stride[1] * sW, sC, sW), writeable=False)
        spread = np.zeros((F, Cg, K), dtype=w.dtype)             # w with zeros between its rows
        as_strided(spread, (F, Cg, KH, KW), (Cg * K * item, K * item, pitch * item, item))[...] = w
        w_row = spread.reshape(G, Fg, Cg, K)
    else:
        K = KH * KW
        patches = window_view(x, (KH, KW), stride, dilation).reshape(N, G, Cg, OH, OW, KH, KW)
        patches = patches.transpose(0, 1, 3, 4, 2, 5, 6)             # (N, G, OH, OW, C/G, KH, KW)
        w_row = w.reshape(G, Fg, Cg, K)
    y = np.zeros((G, Fg, N * P), dtype=np.result_type(x, w))
    slab = max(1, SLAB_BYTES // (G * N * P * K * item))
    for c0 in range(0, Cg, slab):
        c1 = min(Cg, c0 + slab)
        x_col = np.moveaxis(patches[:, :, :, :, c0:c1], 1, 0).reshape(G, N * P, (c1 - c0) * K)
        y += w_row[:, :, c0:c1].reshape(G, Fg, -1) @ x_col.transpose(0, 2, 1)
    return y.reshape(F, N, OH, OW).transpose(1, 0, 2, 3)
