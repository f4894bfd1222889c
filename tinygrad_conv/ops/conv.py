"""conv2d: the cross-correlation of CNNs, and its two VJPs, which are cross-correlations too.

Shapes: x (N, C, H, W), w (F, C/G, KH, KW), y (N, F, OH, OW), G groups.
Parameters arrive normalised: stride=(sh, sw), padding=((top, bottom), (left, right)),
dilation=(dh, dw), groups=G. A negative padding crops (the VJPs use that to drop remainders).
"""
import itertools

import numpy as np

from .. import compiled
from ..autograd import Tensor, is_grad_enabled, primitive
from ..autograd.composites import composite
from ..kernels import (add_channel_bias, correlate2d, correlate2d_transposed, overlap_slices,
                       weight_grad_per_image)
from .reduce import sum_
from .shape import dilate2d, flip, getitem, permute, reshape


@primitive(reads="others")
def conv2d(x, w, b=None, *, stride, padding, dilation, groups):
    """y[n,f,i,j] = sum_{c,a,b} pad(x)[n, c, i*sh + a*dh, j*sw + b*dw] * w[f, c, a, b] + b[f]
    (y = pad(x) ⋆ w + b; without b, no bias)

    x: (N, C, H, W), w: (F, C/groups, KH, KW), b: (F,) -> y: (N, F, OH, OW)
    """
    if not compiled_depthwise(x, groups):  # the bias goes in place into the fresh result
        return correlate2d(x, w, stride, padding, dilation, groups, bias=b, loops=compiled.kernels_for)
    from ..compiled.conv import depthwise_conv2d
    return add_channel_bias(depthwise_conv2d(x, w, stride, padding, dilation), b)


def compiled_depthwise(x, groups: int) -> bool:
    """Whether numba's depthwise loops (the [fast] extra) run this conv: groups = C > 1."""
    return compiled.ENABLED and groups == x.shape[1] > 1


def remainder(size: int, out: int, kernel: int, stride: int, pad_before: int, pad_after: int,
              dilation: int) -> int:
    """Rows of the padded input past the last window: (H + pads - d(K-1) - 1) % s.

    The forward never reads them, so their gradient is zero and both VJPs must leave them out.
    """
    return size + pad_before + pad_after - dilation * (kernel - 1) - 1 - (out - 1) * stride


@conv2d.defvjp
def conv2d_vjp(dy, x, w, b=None, *, stride, padding, dilation, groups):
    # db: each bias entry was added to every pixel of its output channel
    db = sum_(dy, axis=(0, 2, 3)) if b is not None and b.requires_grad else None
    dx, dw = _conv2d_grads(dy, x, w, stride=stride, padding=padding, dilation=dilation,
                           groups=groups)
    return (dx, dw) if b is None else (dx, dw, db)


# With NumPy alone, a weight of at most FEW_WEIGHTS entries per filter (C*KH*KW) gets its dW by
# one product per image (kernels.weight_grad_per_image) instead of the kernel-major layout, which
# wins above it (per image / kernel-major at 72 and 150 entries per filter, in the measurements
# below: 0.94 / 0.79 and 0.93 / 0.74 ms).
# With the compiled kernels, a weight of at most COMPILED_WEIGHTS entries (F*C*KH*KW) in at most
# COMPILED_FILTERS filters larger than 1x1 gets it from a direct loop (compiled.conv.weight_grad),
# which runs at about 30 GFMA/s whatever the shape, unless the product per image applies and has
# at least TALL_PRODUCT rows (filters): BLAS is fast on those. Measured in turns, NumPy's default
# OpenBLAS kernels (ms, compiled / one product per image / kernel-major): 64,1,28,28 -> 6 k5
# 0.24 / 0.40 / 1.09; 64,6,14,14 -> 16 k5 (150 per filter, 2,400 in all) 0.55 / 0.93 / 0.74;
# 32,32,16,16 -> 8 k3 0.72 / 2.35 / 1.85; 32,8,16,16 -> 32 k3 (72) 0.62 / 0.94 / 0.79; but
# 32,3,32,32 -> 32 k3 0.79 / 0.59 / 1.59, 64,1,28,28 -> 32 k3 0.59 / 0.36 / 1.51, the 1x1
# 32,32,16,16 -> 64 0.90 / 0.32 / 0.52, and 32,16,16,16 -> 32 k3 (4,608 in all) 1.18 / 0.97 / 1.01.
FEW_WEIGHTS, TALL_PRODUCT = 64, 32
COMPILED_WEIGHTS, COMPILED_FILTERS = 2400, 32


def _conv2d_grads(dy, x, w, *, stride, padding, dilation, groups):
    """(dX, dW) of y = pad(x) ⋆ w; None for an input that needs no gradient."""
    if compiled_depthwise(x, groups) and not is_grad_enabled():
        from ..compiled.conv import depthwise_conv2d_vjp
        if grads := depthwise_conv2d_vjp(dy.data, x.data, w.data, stride, padding, dilation,
                                         needs=(x.requires_grad, w.requires_grad)):
            return tuple(g if g is None else Tensor(g) for g in grads)
    # a gradient nobody asked for (the images of a first layer, frozen weights) is not computed
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    (pt, pb), (pl, pr) = padding
    rh = remainder(H, dy.shape[2], KH, stride[0], pt, pb, dilation[0])
    rw = remainder(W, dy.shape[3], KW, stride[1], pl, pr, dilation[1])
    dx = conv2d_input_grad(dy, w, x.shape, stride=stride, padding=padding, dilation=dilation,
                           groups=groups) if x.requires_grad else None
    if not w.requires_grad:
        return dx, None
    if groups == 1 and not is_grad_enabled():       # few weights:
        few = Cg * KH * KW <= FEW_WEIGHTS            # one product per image applies
        tall = few and F >= TALL_PRODUCT             # ... and BLAS is fast on it
        if (not tall and stride == dilation == (1, 1) and KH * KW > 1
                and F <= COMPILED_FILTERS and F * Cg * KH * KW <= COMPILED_WEIGHTS
                and compiled.kernels_for("conv", x.dtype, dy.dtype)):
            from ..compiled.conv import weight_grad   # a direct loop
            if (dw := weight_grad(dy.data, x.data, w.shape, padding)) is not None:
                return dx, Tensor(dw)
        if few:                                      # or one product per image
            return dx, Tensor(weight_grad_per_image(x.data, dy.data, w.shape, stride, padding,
                                                    dilation))
    # dW = X ⋆ dY: correlate the padded input with dY. Batch plays the role of channels
    # ([C, N, H, W] ⋆ [F, N, OH, OW] -> [C, F, KH, KW]), the forward stride becomes dY's dilation
    # and the forward dilation the stride; the unread remainder rows are cropped (negative padding).
    # With groups, x's channels are regrouped so group g only meets the filters of group g.
    xg = permute(reshape(x, shape=(N, groups, Cg, H, W)), dims=(2, 1, 0, 3, 4))
    dw = conv2d(reshape(xg, shape=(Cg, groups * N, H, W)), permute(dy, dims=(1, 0, 2, 3)),
                stride=dilation, padding=((pt, pb - rh), (pl, pr - rw)), dilation=stride,
                groups=groups)
    return dx, permute(dw, dims=(1, 0, 2, 3))


def conv2d_input_grad(dy: Tensor, w: Tensor, x_shape: tuple, *, stride, padding, dilation,
                      groups) -> Tensor:
    """dX = pad(dilate_s(dY)) ⋆ rot180(W) = dilate_s(dY) ∗ W: the full convolution of the
    stride-dilated dY with W (⋆ cross-correlation, ∗ true convolution).

    dy: (N, F, OH, OW), w: (F, C/G, KH, KW) -> dx: (N, C, H, W)
    Zeros between dY's pixels put each gradient back where its window started; padding dY by the
    dilated kernel extent minus one on each side makes the correlation 'full'; W rotated by 180
    degrees with its C and F axes swapped maps F channels back to C. The forward padding is cropped
    off again, and the remainder rows the forward never read get zero gradient (extra padding).
    Also the VJP of avg_pool2d, whose window is a constant kernel.

    With stride > 1 most of dilate_s(dY) is zeros; a plain backward pass uses the equal, exact
    stride-phase form below, which skips them. When the backward pass is itself recorded
    (create_graph=True: double backward, or drawing the gradient graph) dX keeps this textbook
    form, one conv2d of the dilated dY, so the graph shows the formula above.

    Both forms multiply W by the zeros of the padding and of the dilation, which gives 0 only for
    a finite W: 0 * Inf is NaN. A plain backward pass with an Inf or NaN weight therefore
    scatters instead (kernels.correlate2d_transposed: only real dY, W pairs are multiplied), so
    dX is NaN exactly where PyTorch's is. (The recorded textbook form cannot avoid those zeros.)
    With the compiled kernels, whose scatter adds every tap in one pass, a plain backward pass
    scatters for every stride > 1 too.
    """
    if not is_grad_enabled() and (not np.isfinite(w.data).all() or (
            stride != (1, 1) and compiled.kernels_for("conv", dy.dtype, w.dtype) is not None)):
        return Tensor(correlate2d_transposed(dy.data, w.data, x_shape, stride, padding, dilation,
                                             groups, loops=compiled.kernels_for))
    if stride != (1, 1) and dilation == (1, 1) and not is_grad_enabled():
        return _input_grad_by_phases(dy, w, x_shape, stride=stride, padding=padding, groups=groups)
    N, C, H, W = x_shape
    F, Cg, KH, KW = w.shape
    (pt, pb), (pl, pr) = padding
    rh = remainder(H, dy.shape[2], KH, stride[0], pt, pb, dilation[0])
    rw = remainder(W, dy.shape[3], KW, stride[1], pl, pr, dilation[1])
    eh, ew = dilation[0] * (KH - 1), dilation[1] * (KW - 1)      # dilated kernel extent - 1
    return conv2d(dilate2d(dy, stride=stride), rot180_transposed(w, groups), stride=(1, 1),
                  padding=((eh - pt, eh - pb + rh), (ew - pl, ew - pr + rw)),
                  dilation=dilation, groups=groups)


@composite("rot180")
def rot180_transposed(w: Tensor, groups: int) -> Tensor:
    """W with each group's filter bank transposed and every kernel rotated by 180 degrees.

    w: (F, C/G, KH, KW) -> (C, F/G, KH, KW); (G, F/G, C/G) -> (G, C/G, F/G) inside.
    """
    F, Cg, KH, KW = w.shape
    wt = permute(reshape(w, shape=(groups, F // groups, Cg, KH, KW)), dims=(0, 2, 1, 3, 4))
    return flip(reshape(wt, shape=(groups * Cg, F // groups, KH, KW)), dims=(2, 3))


def _input_grad_by_phases(dy: Tensor, w: Tensor, x_shape: tuple, *, stride, padding,
                          groups) -> Tensor:
    """conv2d_input_grad for stride s > 1 (no dilation), without multiplying dilate_s's zeros.

    Split the padded input rows by their stride phase r = h mod s. In the full correlation with
    dilate_s(dY), row h = q*s + r only ever meets non-zero entries of dY through the taps
    a = r, r + s, r + 2s, ... of W, and then dY's row q - k for tap a = r + k*s:
        dX_pad[q*s + r] = sum_k dY[q - k] W[r + k*s] = (dY ∗ W[r::s])[q] = (pad(dY) ⋆ rot180(W[r::s]))[q]
    so each phase (rh, rw) is an exact full convolution of the undilated dY with the sub-kernel
    W[:, :, rh::sh, rw::sw], and interleaving the s*s phases rebuilds dX_pad with s² times fewer
    multiply-adds. Rows past the last window come out as zero by themselves (no tap reaches them).
    Each phase is written straight into its rows and columns of dX (every s-th, the padding
    dropped), so this form is not recorded: it runs in a plain backward pass only.
    dy: (N, F, OH, OW), w: (F, C/G, KH, KW) -> dx: (N, C, H, W)
    """
    N, C, H, W = x_shape
    (pt, pb), (pl, pr) = padding
    (sh, sw), (OH, OW) = stride, dy.shape[2:]
    Qh, Qw = -(-(H + pt + pb) // sh), -(-(W + pl + pr) // sw)     # rows, columns per phase
    # rows (columns) that a negative padding crops off the windows get no gradient
    covered = min(pt, pl) >= 0 and Qh * sh - pt >= H and Qw * sw - pl >= W
    dx = (np.empty if covered else np.zeros)(x_shape, dtype=np.result_type(dy.data, w.data))
    for r, c in itertools.product(range(sh), range(sw)):
        # phase row q is padded row q*sh + r, i.e. row q*sh + r - pt of dx: the q that land in dx
        (q_rows, dx_rows), (q_cols, dx_cols) = (overlap_slices(H, Qh, r - pt, sh),
                                                overlap_slices(W, Qw, c - pl, sw))
        w_phase = getitem(w, index=(slice(None), slice(None), slice(r, None, sh), slice(c, None, sw)))
        KHp, KWp = w_phase.shape[2:]
        if KHp == 0 or KWp == 0:                 # stride > kernel: no tap lands on this phase
            dx[:, :, dx_rows, dx_cols] = 0
            continue
        phase = conv2d(dy, rot180_transposed(w_phase, groups), stride=(1, 1),
                       padding=((KHp - 1, Qh - OH), (KWp - 1, Qw - OW)), dilation=(1, 1),
                       groups=groups)
        dx[:, :, dx_rows, dx_cols] = phase.data[:, :, q_rows, q_cols]
    return Tensor(dx)
