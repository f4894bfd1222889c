"""Reference implementations by explicit loops: slow, obviously right, and independent of the
framework's derivations. Each backward scatters dy through the same loop as its forward."""
import numpy as np


def conv2d(x, w, stride, padding, dilation, groups):
    """Forward and a backward closure for y = pad(x) ⋆ w, written as six nested loops."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    OH = (H + 2 * ph - dh * (KH - 1) - 1) // sh + 1
    OW = (W + 2 * pw - dw * (KW - 1) - 1) // sw + 1
    Fg = F // groups
    taps = [(n, f, i, j, c, a, b) for n in range(N) for f in range(F) for i in range(OH)
            for j in range(OW) for c in range(Cg) for a in range(KH) for b in range(KW)]
    y = np.zeros((N, F, OH, OW))
    for n, f, i, j, c, a, b in taps:
        y[n, f, i, j] += xp[n, (f // Fg) * Cg + c, i * sh + a * dh, j * sw + b * dw] * w[f, c, a, b]

    def backward(dy):
        dxp, dw_ = np.zeros_like(xp), np.zeros_like(w)
        for n, f, i, j, c, a, b in taps:
            ci = (f // Fg) * Cg + c
            dxp[n, ci, i * sh + a * dh, j * sw + b * dw] += w[f, c, a, b] * dy[n, f, i, j]
            dw_[f, c, a, b] += xp[n, ci, i * sh + a * dh, j * sw + b * dw] * dy[n, f, i, j]
        return dxp[:, :, ph:ph + H, pw:pw + W], dw_
    return y, backward


def pool2d(x, kernel, stride, padding, dilation, ceil_mode, kind, count_include_pad=True):
    """Max or average pooling by loops over windows, with PyTorch's output size and divisor."""
    (KH, KW), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    N, C, H, W = x.shape

    def size(n, k, s, p, d):
        span = n + 2 * p - d * (k - 1) - 1
        out = (-(-span // s) if ceil_mode else span // s) + 1
        return out - 1 if ceil_mode and (out - 1) * s >= n + p else out
    OH, OW = size(H, KH, sh, ph, dh), size(W, KW, sw, pw, dw)
    y = np.zeros((N, C, OH, OW))
    routes = {}
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    cells = [(i * sh - ph + a * dh, j * sw - pw + b * dw)
                             for a in range(KH) for b in range(KW)]
                    inside = [(r, q) for r, q in cells if 0 <= r < H and 0 <= q < W]
                    if kind == "max" and not inside:          # a window of padding only
                        y[n, c, i, j] = -np.inf
                        routes[n, c, i, j] = []
                    elif kind == "max":
                        best = max(inside, key=lambda rq: (x[n, c][rq], -inside.index(rq)))
                        y[n, c, i, j] = x[n, c][best]
                        routes[n, c, i, j] = [(best, 1.0)]
                    else:
                        r0, q0 = i * sh - ph, j * sw - pw
                        r1, q1 = min(r0 + KH, H + ph), min(q0 + KW, W + pw)
                        count = (r1 - r0) * (q1 - q0) if count_include_pad else len(inside)
                        y[n, c, i, j] = sum(x[n, c][rq] for rq in inside) / count
                        routes[n, c, i, j] = [(rq, 1.0 / count) for rq in inside]

    def backward(dy):
        dx = np.zeros_like(x)
        for (n, c, i, j), route in routes.items():
            for (r, q), weight in route:
                dx[n, c, r, q] += weight * dy[n, c, i, j]
        return dx
    return y, backward
