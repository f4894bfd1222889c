"""Convolution loops compiled by numba, for where NumPy makes many passes over memory:
- depthwise convolution (conv2d with groups = C and weight (F, 1, KH, KW), F = m*C): forward,
  dX and dW, below;
- the shifted adds after a conv's product (add_taps for correlate2d's taps-first layout,
  scatter_taps for the dX scatter), which add every tap into each plane while it is in cache;
- dW of a stride-1 conv whose filters have few weights (weight_grad), a direct loop of dots.

NumPy has no product to hand a depthwise convolution to: each channel meets only its own KH*KW
weights, so every layout of kernels.correlate2d is a long series of passes over the activations.
Here each pass is one loop nest that reads every plane once. All three passes are the same idea:

    a strided correlation is a stride-1 correlation of the stride phases. Pixel (u*sh + r,
    v*sw + q) of the padded image goes to phase (r, q) at (u, v); then tap (a, b) of window (i, j)
    reads phase ((a*dh) % sh, (b*dw) % sw) at (i + (a*dh)//sh, j + (b*dw)//sw): every tap reads
    one phase plane at a fixed offset. Flattened with row pitch Qw, output (i, j) sits at
    p = i*Qw + j and tap t reads p + offset[t], so each tap is one long contiguous loop over p
    (the columns j >= OW of the flat grid wrap around a row end: computed and dropped).

- forward: y = pad(x) ⋆ w, the loop above (the products with the zeros of the padding included,
  as in kernels.correlate2d, so an Inf or NaN weight reaches the same outputs);
- dX = dilate_s(dY) ∗ W: the same loop on pad(dilate_s(dY)) with W rotated by 180 degrees (a
  correlation with C groups of m channels). It multiplies W by the zeros of the dilation and of
  the padding, which is exact only for a finite W: otherwise the NumPy scatter runs instead;
- dW = X ⋆ dY: for each tap, the sum over images and p of the tap's shifted phase plane times dY
  laid out on the flat grid (zeros in the wrapped columns). Those zeros meet real pixels, so a
  dW that comes out non-finite is recomputed by NumPy, which leaves the wrapped columns out.

float32 and float64 only, accumulated in that dtype; other dtypes return None (NumPy's path).
This module imports numba: import it only once compiled.ENABLED holds and a depthwise conv runs.
"""
from __future__ import annotations

import numba
import numpy as np

from . import FLOATS
from ..kernels import correlate2d, out_size, pad_nd


def depthwise_conv2d(x: np.ndarray, w: np.ndarray, stride, padding, dilation) -> np.ndarray:
    """y[n, f, i, j] = sum_{a, b} pad(x)[n, f // m, i*sh + a*dh, j*sw + b*dw] * w[f, 0, a, b]

    x: (N, C, H, W), w: (m*C, 1, KH, KW) -> y: (N, m*C, OH, OW). Other dtypes than float32 and
    float64 go to kernels.correlate2d.
    """
    if not _compiles(x, w):
        return correlate2d(x, w, stride, padding, dilation, groups=x.shape[1])
    N, _, H, W = x.shape
    F, _, KH, KW = w.shape
    (pt, pb), (pl, pr) = padding
    OH, OW = out_size(H, KH, stride[0], pt, pb, dilation[0]), out_size(W, KW, stride[1], pl, pr, dilation[1])
    (Qh, Qw) = grid = phase_grid(x.shape, padding, stride)
    y = np.empty((N, F, OH, OW), dtype=x.dtype)
    _correlate(np.ascontiguousarray(x), np.ascontiguousarray(w), (pt, pl), (1, 1), stride, grid,
               *taps(w.shape, stride, dilation, Qw), y)
    return y


def depthwise_conv2d_vjp(dy: np.ndarray, x: np.ndarray, w: np.ndarray, stride, padding, dilation,
                         needs=(True, True)):
    """(dX, dW) of depthwise_conv2d, each None unless `needs` asks for it; None for the whole when
    the compiled loops cannot give NumPy's exact result (a non-finite W or dW, another dtype).

    dy: (N, m*C, OH, OW), x: (N, C, H, W), w: (m*C, 1, KH, KW) -> dx like x, dw like w
    """
    if not (_compiles(x, w) and dy.dtype == x.dtype) or (needs[0] and not np.isfinite(w).all()):
        return None
    dy = np.ascontiguousarray(dy)
    dx = depthwise_input_grad(dy, w, x.shape, stride, padding, dilation) if needs[0] else None
    dw = depthwise_weight_grad(dy, x, w.shape, stride, padding, dilation) if needs[1] else None
    if dw is not None and not np.isfinite(dw).all():
        return None
    return dx, dw


def depthwise_input_grad(dy, w, x_shape, stride, padding, dilation) -> np.ndarray:
    """dX = pad(dilate_s(dY)) ⋆ rot180(W), cropped to x: a correlation with C groups of m channels.

    dy: (N, m*C, OH, OW), w: (m*C, 1, KH, KW) -> dx: x_shape (N, C, H, W). dilate_s(dY) is padded
    by the dilated kernel extent minus the forward padding, and the grid holds exactly what the H
    rows and W columns of dx read (dY's pixels past it only reach the cropped padding).
    """
    N, C, H, W = x_shape
    F, _, KH, KW = w.shape
    eh, ew = dilation[0] * (KH - 1), dilation[1] * (KW - 1)     # dilated kernel extent - 1
    (pt, _), (pl, _) = padding
    w_rot = np.ascontiguousarray(w.reshape(C, F // C, KH, KW)[:, :, ::-1, ::-1])
    grid = (H + eh, W + ew)
    dx = np.empty(x_shape, dtype=dy.dtype)
    _correlate(dy, w_rot, (eh - pt, ew - pl), stride, (1, 1), grid,
               *taps(w_rot.shape, (1, 1), dilation, grid[1]), dx)
    return dx


def depthwise_weight_grad(dy, x, w_shape, stride, padding, dilation) -> np.ndarray:
    """dW[f, 0, a, b] = sum_{n, i, j} pad(x)[n, f // m, i*sh + a*dh, j*sw + b*dw] * dy[n, f, i, j]

    dy: (N, m*C, OH, OW), x: (N, C, H, W) -> dw: w_shape (m*C, 1, KH, KW)
    """
    (pt, _), (pl, _) = padding
    grid = phase_grid(x.shape, padding, stride)
    dw = np.empty(w_shape, dtype=dy.dtype)
    _correlate_weight(np.ascontiguousarray(x), dy, (pt, pl), stride, grid,
                      *taps(w_shape, stride, dilation, grid[1]), dw)
    return dw


def weight_grad(dy: np.ndarray, x: np.ndarray, w_shape, padding) -> np.ndarray | None:
    """dW[f, c, a, b] = sum_{n, i, j} pad(x)[n, c, i + a, j + b] * dy[n, f, i, j]: dW = X ⋆ dY
    of a stride-1, undilated, ungrouped conv2d, by the direct loop _weight_grad.

    dy: (N, F, OH, OW), x: (N, C, H, W) -> dw: w_shape (F, C, KH, KW); None (NumPy's layout)
    for another dtype, a negative padding, or a dW that comes out non-finite: the loop meets the
    zeros of dY's wrapped columns with real pixels, which NumPy's layouts leave out.
    """
    if not _compiles(x, dy) or min(min(pair) for pair in padding) < 0:
        return None
    dw = np.empty(w_shape, dtype=x.dtype)
    _weight_grad(pad_nd(x, padding), np.ascontiguousarray(dy), dw)
    return dw if np.isfinite(dw).all() else None


def _compiles(x: np.ndarray, w: np.ndarray) -> bool:
    return x.dtype.name in FLOATS and w.dtype == x.dtype


def phase_grid(x_shape, padding, stride) -> tuple[int, int]:
    """(Qh, Qw): the rows and columns of each stride phase of the padded image, ceil(size / s)."""
    (H, W), (sh, sw), ((pt, pb), (pl, pr)) = x_shape[2:], stride, padding
    return -(-(H + pt + pb) // sh), -(-(W + pl + pr) // sw)


def taps(w_shape, stride, dilation, Qw: int) -> tuple[np.ndarray, np.ndarray]:
    """For each tap t = a*KW + b: the phase plane it reads and its offset on the flat grid.

    phase[t] = ((a*dh) % sh)*sw + (b*dw) % sw, offset[t] = ((a*dh) // sh)*Qw + (b*dw) // sw
    """
    (KH, KW), (sh, sw), (dh, dw) = w_shape[2:], stride, dilation
    rows, cols = np.arange(KH)[:, None] * dh, np.arange(KW)[None, :] * dw
    phase = (rows % sh) * sw + cols % sw
    offset = (rows // sh) * Qw + cols // sw
    return phase.ravel().astype(np.int64), offset.ravel().astype(np.int64)


# Short runs are plain loops below: numba's slice assignment checks for overlap first, which
# doubled the depthwise forward's time. And each call places a whole image with its stride test
# taken once: one call per 16x16 plane, with the test in the row loop, took 0.19 ms for 1,024
# planes, against 0.05 ms now.


@numba.njit(cache=True)
def _place(planes, phases, at, spread, stride, Qw):
    """phases[c, (R % sh)*sw + Q % sw, (R // sh)*Qw + Q // sw] = planes[c, h, v], R = top + h*eh
    and Q = left + v*ew: pixel (h, v) of every plane c, spread apart by (eh, ew) and shifted by
    (top, left), put on the flat grid of its stride phase. Pixels that land off the grid are
    dropped (a crop); the rest of the grid is not touched, so it keeps the zeros it was made with
    (the padding, the dilation).

    planes: (C, H, W), phases: (C, sh*sw, Qh*Qw), written in place. The rows and columns that
    land on the grid are worked out first, so that the common case (no stride, no spread) is one
    branch-free run per row, which the compiler turns into vector copies.
    """
    C, H, W = planes.shape
    (top, left), (eh, ew), (sh, sw) = at, spread, stride
    rows, cols = phases.shape[2] // Qw * sh, Qw * sw
    h0, h1 = max(0, -(top // eh)), min(H, (rows - 1 - top) // eh + 1)       # 0 <= R < rows
    v0, v1 = max(0, -(left // ew)), min(W, (cols - 1 - left) // ew + 1)     # 0 <= Q < cols
    if sh == 1 and sw == 1 and eh == 1 and ew == 1:
        for c in range(C):
            for h in range(h0, h1):
                dst, src = phases[c, 0, (top + h) * Qw + left + v0:], planes[c, h, v0:v1]
                for v in range(src.size):
                    dst[v] = src[v]
        return
    for c in range(C):
        for h in range(h0, h1):
            R, src = top + h * eh, planes[c, h]
            row = phases[c, (R % sh) * sw:, (R // sh) * Qw:]
            for v in range(v0, v1):
                Q = left + v * ew
                row[Q % sw, Q // sw] = src[v]


@numba.njit(cache=True)
def _correlate(x, w, at, spread, stride, grid, phase, offset, y):
    """y[n, o, i, j] = sum_{c, t} X[n, g*Cg + c, phase[t], offset[t] + i*Qw + j] * w[o, c].flat[t]

    X: each image of x placed on its stride phases (_place). x: (N, C, H, W), w: (O, Cg, KH, KW),
    output o in group g = o // (O / (C/Cg)) -> y: (N, O, OH, OW). Each output plane is summed on
    the flat grid first, output (i, j) at i*Qw + j (the columns j >= OW wrap around a row end:
    computed and dropped), then its rows are copied into y while they are in cache. The sum runs
    over channels, then taps in order.
    """
    N, O, OH, OW = y.shape
    C, Cg, T, (Qh, Qw) = x.shape[1], w.shape[1], phase.size, grid
    per_group = O // (C // Cg)
    L = (OH - 1) * Qw + OW
    taps_w = w.reshape(O, Cg, T)
    phases = np.zeros((C, stride[0] * stride[1], Qh * Qw), dtype=x.dtype)
    acc = np.empty(L, dtype=y.dtype)
    for n in range(N):
        _place(x[n], phases, at, spread, stride, Qw)
        for o in range(O):
            first = (o // per_group) * Cg
            for p in range(L):
                acc[p] = 0
            for c in range(Cg):
                for t in range(T):
                    weight = taps_w[o, c, t]
                    src = phases[first + c, phase[t], offset[t]:]
                    for p in range(L):
                        acc[p] += src[p] * weight
            out = y[n, o]
            for i in range(OH):
                row, run = out[i], acc[i * Qw:]
                for j in range(OW):
                    row[j] = run[j]


@numba.njit(cache=True, fastmath={"reassoc"})
def _correlate_weight(x, dy, at, stride, grid, phase, offset, dw):
    """dw[o, c].flat[t] = sum_{n, p} X[n, g*Cg + c, phase[t], offset[t] + p] * DY[n, o, p]

    X as in _correlate; DY: dY on the flat grid of pitch Qw (zeros in the wrapped columns).
    x: (N, C, H, W), dy: (N, O, OH, OW) -> dw: (O, Cg, KH, KW), written in place. Each sum over p
    is a dot product that the vector units may add up in any order ("reassoc").
    """
    N, O, OH, OW = dy.shape
    C, Cg, T, (Qh, Qw) = x.shape[1], dw.shape[1], phase.size, grid
    per_group = O // (C // Cg)
    L = (OH - 1) * Qw + OW
    taps_dw = dw.reshape(O, Cg, T)
    taps_dw[:] = 0
    phases = np.zeros((C, stride[0] * stride[1], Qh * Qw), dtype=x.dtype)
    flat_dy = np.zeros((O, 1, OH * Qw), dtype=dy.dtype)
    for n in range(N):
        _place(x[n], phases, at, (1, 1), stride, Qw)
        _place(dy[n], flat_dy, (0, 0), (1, 1), (1, 1), Qw)
        for o in range(O):
            first = (o // per_group) * Cg
            g = flat_dy[o, 0]
            for c in range(Cg):
                for t in range(T):
                    src = phases[first + c, phase[t], offset[t]:]
                    total = src[0] * g[0]
                    for p in range(1, L):
                        total += src[p] * g[p]
                    taps_dw[o, c, t] += total


@numba.njit(cache=True)
def add_taps(y, z, offset, first, last):
    """y[s, g, f, m] += z[s, g, t, f, m + offset[t]] for first[t] <= m < last[t], tap t by tap t:
    the shifted adds of correlate2d's taps-first layout (kernels._correlate_taps_first), each
    plane of y summed in cache. The same sums in the same order as NumPy's tap-by-tap adds, so
    the result is the same to the bit; NumPy makes one pass over all of y per tap.

    y: (S, G, F/G, M), z: (S, G, T, F/G, P), offset, first, last: (T,), written into y.
    """
    S, G, Fg, M = y.shape
    for s in range(S):
        for g in range(G):
            for f in range(Fg):
                out = y[s, g, f]
                for t in range(offset.size):
                    if first[t] < last[t]:
                        dst = out[first[t]:last[t]]
                        src = z[s, g, t, f, first[t] + offset[t]:last[t] + offset[t]]
                        for m in range(dst.size):
                            dst[m] += src[m]


@numba.njit(cache=True)
def scatter_taps(dx, z, stride, dilation):
    """dx[s, g, c, a*dh + i*sh, b*dw + j*sw] += z[s, g, c, a, b, i, j], tap (a, b) by tap: the
    adds of kernels.correlate2d_transposed, each plane of dx summed in cache. The same sums in
    the same order as NumPy's tap-by-tap strided adds, so the result is the same to the bit.

    dx: (S, G, C/G, Hp, Wp), z: (S, G, C/G, KH, KW, OH, OW), written into dx.
    """
    S, G, Cg, KH, KW, OH, OW = z.shape
    (sh, sw), (dh, dw) = stride, dilation
    for s in range(S):
        for g in range(G):
            for c in range(Cg):
                plane = dx[s, g, c]
                for a in range(KH):
                    for b in range(KW):
                        taps = z[s, g, c, a, b]
                        for i in range(OH):
                            row, src = plane[a * dh + i * sh, b * dw:], taps[i]
                            for j in range(OW):
                                row[j * sw] += src[j]


@numba.njit(cache=True, fastmath={"reassoc", "contract"})
def _weight_grad(xp, dy, dw):
    """dw[f, c].flat[a*KW + b] = sum_{n, p} xp[n, c].flat[a*Wp + b + p] * DY[n, f, p]

    xp: the padded x (N, C, Hp, Wp); DY: dY laid on the flat grid of pitch Wp (zeros in the
    wrapped columns j >= OW), dy: (N, F, OH, OW) -> dw: (F, C, KH, KW), written in place. The
    sums are taken in blocks of four filters and two neighbouring taps (b, b + 1) of a kernel
    row: eight sums held in registers, fed by two windows of xp and four rows of DY. Each sum
    over p is a dot product the vector units may add in any order ("reassoc") with fused
    multiply-adds ("contract"). Against blocks of four filters and one tap, in turns, three runs:
    LeNet's first conv (64,1,28,28 -> 6, k5) 0.73-0.77 -> 0.65-0.68 ms, its second (64,6,14,14
    -> 16, k5) 1.61-2.18 -> 1.54-1.62, 32,3,32,32 -> 32 k3 1.73-2.39 -> 1.97-2.05.
    """
    N, C, Hp, Wp = xp.shape
    F, OH, OW = dy.shape[1], dy.shape[2], dy.shape[3]
    KH, KW = dw.shape[2], dw.shape[3]
    L = (OH - 1) * Wp + OW
    flat_dy = np.zeros((F, 1, OH * Wp), dtype=dy.dtype)
    grid = flat_dy.reshape(F, OH * Wp)
    zero = np.zeros(1, dtype=dw.dtype)[0]
    out = dw.reshape(F, C, KH * KW)
    out[:] = 0
    for n in range(N):
        _place(dy[n], flat_dy, (0, 0), (1, 1), (1, 1), Wp)
        for c in range(C):
            plane = xp[n, c].ravel()
            t = 0
            while t < KH * KW:
                taps = 2 if t % KW + 1 < KW else 1     # tap t and its right neighbour, if any
                w0 = plane[(t // KW) * Wp + t % KW:]
                w1 = plane[(t // KW) * Wp + t % KW + taps - 1:]
                f = 0
                while f + 4 <= F and taps == 2:      # the block: 4 filters x 2 taps
                    g0, g1, g2, g3 = grid[f], grid[f + 1], grid[f + 2], grid[f + 3]
                    s0 = s1 = s2 = s3 = r0 = r1 = r2 = r3 = zero
                    for p in range(L):
                        u, v = w0[p], w1[p]
                        s0 += u * g0[p]
                        s1 += u * g1[p]
                        s2 += u * g2[p]
                        s3 += u * g3[p]
                        r0 += v * g0[p]
                        r1 += v * g1[p]
                        r2 += v * g2[p]
                        r3 += v * g3[p]
                    out[f, c, t] += s0
                    out[f + 1, c, t] += s1
                    out[f + 2, c, t] += s2
                    out[f + 3, c, t] += s3
                    out[f, c, t + 1] += r0
                    out[f + 1, c, t + 1] += r1
                    out[f + 2, c, t + 1] += r2
                    out[f + 3, c, t + 1] += r3
                    f += 4
                for h in range(taps):                # the filters left over, a tap at a time
                    window = w0 if h == 0 else w1
                    for k in range(f, F):
                        g, s0 = grid[k], zero
                        for p in range(L):
                            s0 += window[p] * g[p]
                        out[k, c, t + h] += s0
                t += taps
