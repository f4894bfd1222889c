"""max_pool2d's loops, compiled: the forward (each window's maximum and winning tap) and the
routing of its gradient, the twins of window_max and route2d in ops/pool.py.

The loops run in the reference's order, so the results are the same to the bit: a window's cells are scanned in row-major order
and a cell takes over when it is greater or NaN (see window_max), and where windows overlap each
cell adds its windows' gradients in the order of their taps t = a*KW + b, as route2d does.
Padding is never read: a cell outside x counts as -inf.
"""
import numba
import numpy as np


@numba.njit(cache=True)
def window_max(x, y, tap, kernel, stride, padding, dilation):
    """Fill y[n,c,i,j] with the maximum of window (i, j) of x and tap[n,c,i,j] with its winning
    tap a*KW + b, as window_max.   x: (N, C, H, W); y, tap: (N, C, OH, OW)"""
    N, C, H, W = x.shape
    OH, OW = y.shape[2], y.shape[3]
    KH, KW, sh, sw = kernel[0], kernel[1], stride[0], stride[1]
    pt, pl, dh, dw = padding[0], padding[1], dilation[0], dilation[1]
    for plane in range(N * C):
        xp, yp, tp = x[plane // C, plane % C], y[plane // C, plane % C], tap[plane // C, plane % C]
        for i in range(OH):
            for j in range(OW):
                # the running maximum, tap by tap in row-major order; a padding cell is -inf,
                # which never takes over, so it is skipped
                best = -np.inf
                won = 0
                for a in range(KH):
                    h = i * sh - pt + a * dh
                    if 0 <= h < H:
                        for b in range(KW):
                            w = j * sw - pl + b * dw
                            if 0 <= w < W:
                                value = xp[h, w]
                                if value > best or value != value:   # value != value: NaN
                                    best = value
                                    won = a * KW + b
                if best == -np.inf:
                    # a window of -inf cells: its first cell inside x (a0 its first row inside,
                    # b0 its first column; 0 along an axis where it has none)
                    a0, b0 = 0, 0
                    while a0 < KH and not 0 <= i * sh - pt + a0 * dh < H:
                        a0 += 1
                    while b0 < KW and not 0 <= j * sw - pl + b0 * dw < W:
                        b0 += 1
                    won = (a0 if a0 < KH else 0) * KW + (b0 if b0 < KW else 0)
                yp[i, j] = best
                tp[i, j] = won


@numba.njit(cache=True)
def route(dy, tap, dx, kernel, stride, padding, dilation, overlap):
    """dx[n, c, winner of window (i, j)] += dy[n, c, i, j] into a zero dx, as route2d; winners on
    padding are dropped.   dy, tap: (N, C, OH, OW); dx: (N, C, H, W)"""
    N, C, H, W = dx.shape
    OH, OW = dy.shape[2], dy.shape[3]
    KH, KW, sh, sw = kernel[0], kernel[1], stride[0], stride[1]
    pt, pl, dh, dw = padding[0], padding[1], dilation[0], dilation[1]
    for plane in range(N * C):
        n, c = plane // C, plane % C
        # without overlap a cell has at most one window: one pass, each cell written once; with
        # overlap one pass per tap t, so every cell adds its windows in the order of their taps
        for t in range(KH * KW if overlap else 1):
            for i in range(OH):
                for j in range(OW):
                    won = tap[n, c, i, j]
                    if overlap and won != t:
                        continue
                    h = i * sh - pt + (won // KW) * dh
                    w = j * sw - pl + (won % KW) * dw
                    if 0 <= h < H and 0 <= w < W:
                        if overlap:
                            dx[n, c, h, w] += dy[n, c, i, j]
                        else:
                            dx[n, c, h, w] = dy[n, c, i, j]
