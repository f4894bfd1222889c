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


def correlate2d(x: np.ndarray, w: np.ndarray, stride: Pair = (1, 1), dilation: Pair = (1, 1),
                groups: int = 1) -> np.ndarray:
    """y[n, f, i, j] = sum_{c, a, b} x[n, g(f)*C/groups + c, i*sh + a*dh, j*sw + b*dw] * w[f, c, a, b]

    x: (N, C, H, W) already padded, w: (F, C/groups, KH, KW) -> y: (N, F, OH, OW)
    The sliding windows form the im2col matrix (N*OH*OW, C/groups*KH*KW) per group, and one batched
    matrix product with the weights does all the multiply-adds.
    """
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    G, Fg = groups, F // groups
    windows = window_view(x, (KH, KW), stride, dilation)                # (N, C, OH, OW, KH, KW)
    OH, OW = windows.shape[2:4]
    if G == 1:
        y = np.tensordot(windows, w, axes=((1, 4, 5), (1, 2, 3)))      # (N, OH, OW, F)
        return y.transpose(0, 3, 1, 2)
    windows = windows.reshape(N, G, Cg, OH, OW, KH, KW)
    cols = windows.transpose(1, 0, 3, 4, 2, 5, 6).reshape(G, N * OH * OW, Cg * KH * KW)
    y = cols @ w.reshape(G, Fg, Cg * KH * KW).transpose(0, 2, 1)        # (G, N*OH*OW, Fg)
    return y.reshape(G, N, OH, OW, Fg).transpose(1, 0, 4, 2, 3).reshape(N, F, OH, OW)
