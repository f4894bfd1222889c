"""max_pool2d's gradient routing, compiled: the twin of route2d in ops/pool.py. Without overlap it
is one pass over the windows; with overlap one pass per tap over the small tap array, not over dx.

Where windows overlap, each cell adds its windows' gradients in the order of their taps
t = a*KW + b, as route2d does, so the results are the same to the bit. (The forward stays NumPy's
window_max: a compiled scan with one data-dependent branch per cell measured 2-3x slower than
its vectorised running maximum.)
"""
import numba
import numpy as np


@numba.njit(cache=True)
def route(dy, tap, dx, kernel, stride, padding, dilation, overlap):
    """dx[n, c, winner of window (i, j)] += dy[n, c, i, j] into a zero dx, as route2d; winners on
    padding are dropped.   dy, tap: (N, C, OH, OW); dx: (N, C, H, W)"""
    N, C, H, W = dx.shape
    OH, OW = dy.shape[2], dy.shape[3]
    KH, KW, sh, sw = kernel[0], kernel[1], stride[0], stride[1]
    pt, pl, dh, dw = padding[0], padding[1], dilation[0], dilation[1]
    # tap t = a*KW + b sits a*dh - pt rows and b*dw - pl columns from its window's corner in x
    # (looked up: a division per cell would cost more than the rest of the loop)
    down, across = np.empty(KH * KW, np.int64), np.empty(KH * KW, np.int64)
    for t in range(KH * KW):
        down[t], across[t] = (t // KW) * dh - pt, (t % KW) * dw - pl
    for n in range(N):
        for c in range(C):
            grad, taps, out = dy[n, c], tap[n, c], dx[n, c]
            # without overlap a cell has at most one window: one pass, each cell written once;
            # with overlap one pass per tap t, so every cell adds its windows in tap order
            for t in range(KH * KW if overlap else 1):
                for i in range(OH):
                    for j in range(OW):
                        won = taps[i, j]
                        if overlap and won != t:
                            continue
                        h, w = i * sh + down[won], j * sw + across[won]
                        if 0 <= h < H and 0 <= w < W:
                            if overlap:
                                out[h, w] += grad[i, j]
                            else:
                                out[h, w] = grad[i, j]
