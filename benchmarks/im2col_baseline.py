"""The classic im2col convolution of course notes, as a speed baseline (no autograd, no Tensors).

    X_col = x_padded[:, k, i, j]            fancy indexing gathers every window: (C*KH*KW, OH*OW*N)
    y     = W_row @ X_col + b               W_row = w reshaped to (F, C*KH*KW)
    dW    = dY_row @ X_col.T                dY_row = dy laid out as (F, OH*OW*N)
    dX    = col2im(W_row.T @ dY_row)        np.add.at scatters each column back onto its window

The index arrays k, i, j give, for each row (c, a, b) of X_col and each output pixel, the input
channel, row and column that the pixel's window reads at tap (a, b). A grouped convolution is one
such convolution per group. Only float32/float64 NCHW arrays, stride and padding the same on both
axes, no dilation: the setting in which the notes present it.
"""
import numpy as np


def im2col_indices(x_shape, kernel: int, padding: int, stride: int):
    """(k, i, j) such that x_padded[:, k, i, j] is X_col, one row per (c, a, b), one column per pixel."""
    N, C, H, W = x_shape
    OH = (H + 2 * padding - kernel) // stride + 1
    OW = (W + 2 * padding - kernel) // stride + 1
    i0 = np.tile(np.repeat(np.arange(kernel), kernel), C)           # tap row a of each (c, a, b)
    i1 = stride * np.repeat(np.arange(OH), OW)                      # window start row of each pixel
    j0 = np.tile(np.arange(kernel), kernel * C)                     # tap column b
    j1 = stride * np.tile(np.arange(OW), OH)                        # window start column
    i = i0.reshape(-1, 1) + i1.reshape(1, -1)
    j = j0.reshape(-1, 1) + j1.reshape(1, -1)
    k = np.repeat(np.arange(C), kernel * kernel).reshape(-1, 1)
    return k, i, j, OH, OW


def im2col(x, kernel: int, padding: int, stride: int):
    """X_col: (C*KH*KW, OH*OW*N), the image index fastest."""
    x_padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    k, i, j, OH, OW = im2col_indices(x.shape, kernel, padding, stride)
    cols = x_padded[:, k, i, j]                                     # (N, C*KH*KW, OH*OW)
    return cols.transpose(1, 2, 0).reshape(k.shape[0], -1), OH, OW


def col2im(cols, x_shape, kernel: int, padding: int, stride: int):
    """The adjoint of im2col: add every column of cols back onto the window it came from."""
    N, C, H, W = x_shape
    x_padded = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=cols.dtype)
    k, i, j, _, _ = im2col_indices(x_shape, kernel, padding, stride)
    cols = cols.reshape(C * kernel * kernel, -1, N).transpose(2, 0, 1)
    np.add.at(x_padded, (slice(None), k, i, j), cols)               # overlapping windows add up
    return x_padded[:, :, padding:padding + H, padding:padding + W]


def conv2d_forward(x, w, b, stride: int = 1, padding: int = 0):
    """y = W_row @ X_col + b.  x: (N, C, H, W), w: (F, C, K, K), b: (F,) -> y (N, F, OH, OW), cache"""
    N = x.shape[0]
    F, _, K, _ = w.shape
    x_col, OH, OW = im2col(x, K, padding, stride)
    y = w.reshape(F, -1) @ x_col + b.reshape(-1, 1)
    return y.reshape(F, OH, OW, N).transpose(3, 0, 1, 2), (x, w, x_col, stride, padding)


def conv2d_backward(dy, cache):
    """dX = col2im(W_row.T @ dY_row), dW = dY_row @ X_col.T, db = sum of dY over N, OH, OW."""
    x, w, x_col, stride, padding = cache
    F, _, K, _ = w.shape
    db = dy.sum(axis=(0, 2, 3))
    dy_row = dy.transpose(1, 2, 3, 0).reshape(F, -1)
    dw = (dy_row @ x_col.T).reshape(w.shape)
    dx = col2im(w.reshape(F, -1).T @ dy_row, x.shape, K, padding, stride)
    return dx, dw, db


def grouped_conv2d_forward_backward(x, w, b, dy, stride: int = 1, padding: int = 0,
                                    groups: int = 1):
    """Forward then backward, one im2col convolution per group: returns y, dx, dw, db."""
    Cg, Fg = x.shape[1] // groups, w.shape[0] // groups
    ys, dxs, dws, dbs = [], [], [], []
    for g in range(groups):
        channels, filters = slice(g * Cg, (g + 1) * Cg), slice(g * Fg, (g + 1) * Fg)
        y, cache = conv2d_forward(x[:, channels], w[filters], b[filters], stride, padding)
        dx, dw, db = conv2d_backward(dy[:, filters], cache)
        ys.append(y), dxs.append(dx), dws.append(dw), dbs.append(db)
    return (np.concatenate(ys, axis=1), np.concatenate(dxs, axis=1), np.concatenate(dws),
            np.concatenate(dbs))
