"""The pure NumPy kernels against explicit loops: correlate2d, window_view, pad_nd, dilate2d, out_size.

correlate2d has several layouts inside (im2col with flat rows or sliding windows, taps first when
the output has fewer channels, kernel-major when the kernel is larger than the output, slabs of
images), so the sweeps reach each of them, with contiguous, transposed, cropped and flipped
inputs, in float64 (exact comparisons up to rounding) and float32 (dtype kept).
"""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinygrad_conv as tc

from tinygrad_conv import kernels, ops
from tinygrad_conv.kernels import (correlate2d, dilate2d, out_size, pad_nd,
                                   pool_out_size, window_view)


def correlate2d_loops(x, w, stride, dilation, groups, padding=((0, 0), (0, 0))):
    """y[n, f, i, j] = sum_{c, a, b} pad(x)[n, g*C/G + c, i*sh + a*dh, j*sw + b*dw] w[f, c, a, b], by loops."""
    (pt, pb), (pl, pr) = padding
    x = np.pad(x, ((0, 0), (0, 0), (max(pt, 0), max(pb, 0)), (max(pl, 0), max(pr, 0))))
    x = x[:, :, max(-pt, 0):x.shape[2] - max(-pb, 0), max(-pl, 0):x.shape[3] - max(-pr, 0)]
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    OH, OW = (H - dh * (KH - 1) - 1) // sh + 1, (W - dw * (KW - 1) - 1) // sw + 1
    y = np.zeros((N, F, OH, OW))
    for f, i, j, c, a, b in itertools.product(range(F), range(OH), range(OW), range(Cg),
                                              range(KH), range(KW)):
        channel = (f // (F // groups)) * Cg + c
        y[:, f, i, j] += x[:, channel, i * sh + a * dh, j * sw + b * dw] * w[f, c, a, b]
    return y


def layouts(x):
    """The same values as x in the memory layouts correlate2d meets: contiguous, a transposed
    copy (conv2d's dW passes x with N and C swapped), a crop of a wider array (row pitch > W),
    and a view with a negative step along W (no flat rows)."""
    N, C, H, W = x.shape
    wide = np.zeros((N, C, H + 1, W + 3), dtype=x.dtype)
    wide[:, :, :H, :W] = x
    flipped = np.ascontiguousarray(x[..., ::-1])[..., ::-1]
    return {"contiguous": x, "transposed": np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3),
            "cropped": wide[:, :, :H, :W], "flipped": flipped}


SMALL_KERNEL = list(itertools.product([(6, 7), (5, 9)], [(1, 1), (2, 3), (3, 1)],
                                      [(1, 1), (2, 1), (3, 2)], [(1, 1), (1, 2)], [1, 2]))


@pytest.mark.parametrize("hw,kernel,stride,dilation,groups", SMALL_KERNEL)
@pytest.mark.parametrize("channels", [(2, 2), (4, 1)], ids=["im2col", "taps_first"])
def test_correlate2d_matches_loops(hw, kernel, stride, dilation, groups, channels):
    (Cg, Fg), padding = channels, ((1, 2), (2, 0))
    x = np.random.standard_normal((2, Cg * groups) + hw)
    w = np.random.standard_normal((Fg * groups, Cg) + kernel)
    for pads in (((0, 0), (0, 0)), padding):
        expected = correlate2d_loops(x, w, stride, dilation, groups, pads)
        for name, view in layouts(x).items():
            np.testing.assert_allclose(correlate2d(view, w, stride, pads, dilation, groups),
                                       expected, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("padding", [((-1, 2), (0, -2)), ((3, 3), (4, 4)), ((-2, -1), (-1, 0))])
@pytest.mark.parametrize("channels", [(2, 2), (6, 1)], ids=["im2col", "taps_first"])
def test_correlate2d_pads_with_zeros_and_crops_with_negative_padding(padding, channels):
    # dX is a 'full' correlation (padding K-1 - p, up to the whole kernel) with a remainder crop
    Cg, Fg = channels
    x = np.random.standard_normal((2, Cg, 7, 8))
    w = np.random.standard_normal((Fg, Cg, 3, 3))
    for stride in [(1, 1), (2, 1)]:
        np.testing.assert_allclose(correlate2d(x, w, stride, padding),
                                   correlate2d_loops(x, w, stride, (1, 1), 1, padding),
                                   rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kernel,stride,dilation,groups", [
    ((8, 9), (1, 1), (1, 1), 1), ((5, 5), (1, 1), (2, 2), 1), ((8, 9), (2, 1), (1, 1), 2),
    ((9, 10), (1, 1), (1, 1), 3)])
def test_correlate2d_kernel_larger_than_output_matches_loops(kernel, stride, dilation, groups):
    # conv2d's dW: dY is the kernel and the output is only KH x KW
    x = np.random.standard_normal((2, 2 * groups, 11, 12))
    w = np.random.standard_normal((groups, 2) + kernel)
    expected = correlate2d_loops(x, w, stride, dilation, groups)
    assert expected.shape[2] * expected.shape[3] < kernel[0] * kernel[1]
    for name, view in layouts(x).items():
        np.testing.assert_allclose(correlate2d(view, w, stride, dilation=dilation, groups=groups),
                                   expected, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("shape,kernel", [((3, 4, 1, 7), (1, 3)), ((3, 4, 7, 1), (3, 1)),
                                          ((3, 4, 1, 1), (1, 1)), ((1, 2, 3, 30), (1, 2))])
def test_correlate2d_degenerate_planes(shape, kernel):
    x = np.random.standard_normal(shape)
    w = np.random.standard_normal((2, shape[1]) + kernel)
    for name, view in layouts(x).items():
        np.testing.assert_allclose(correlate2d(view, w), correlate2d_loops(x, w, (1, 1), (1, 1), 1),
                                   rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("slab_bytes", [1, 700, 1 << 30])
def test_correlate2d_same_result_for_any_slab_size(monkeypatch, slab_bytes):
    # the im2col matrix is built a slab at a time: one image (or kernel channel) per slab, a few, or all
    monkeypatch.setattr(kernels, "SLAB_BYTES", slab_bytes)
    x = np.random.standard_normal((5, 4, 8, 9))
    for w, groups in [(np.random.standard_normal((6, 2, 3, 2)), 2),          # im2col
                      (np.random.standard_normal((1, 4, 3, 2)), 1),          # taps first
                      (np.random.standard_normal((3, 4, 7, 8)), 1)]:         # large kernel
        np.testing.assert_allclose(correlate2d(x, w, groups=groups),
                                   correlate2d_loops(x, w, (1, 1), (1, 1), groups), rtol=1e-12, atol=1e-12)


def test_correlate2d_keeps_float32():
    x = np.random.standard_normal((2, 3, 9, 9)).astype(np.float32)
    w = np.random.standard_normal((4, 3, 3, 3)).astype(np.float32)
    for stride, kernel in [((1, 1), w), ((2, 2), w), ((1, 1), w[:1]),
                           ((1, 1), x[:, :, :6, :6].transpose(1, 0, 2, 3))]:
        y = correlate2d(x if kernel.shape[1] == 3 else x.transpose(1, 0, 2, 3), kernel, stride,
                        ((1, 1), (1, 1)))
        assert y.dtype == np.float32


def test_correlate2d_does_not_write_its_inputs():
    x = np.random.standard_normal((2, 3, 6, 6))
    w = np.random.standard_normal((2, 3, 3, 3))
    x.flags.writeable = w.flags.writeable = False        # a write would raise
    correlate2d(x, w, padding=((1, 1), (1, 1)))
    correlate2d(x, w[:1], padding=((1, 1), (1, 1)))
    correlate2d(x.transpose(1, 0, 2, 3), x[:, :2].transpose(1, 0, 2, 3))


def test_window_view_reads_the_windows():
    x = np.random.standard_normal((2, 3, 9, 8))
    windows = window_view(x, (2, 3), (2, 1), (3, 2))
    assert windows.shape == (2, 3, 3, 4, 2, 3) and not windows.flags.writeable
    for i, j, a, b in itertools.product(range(3), range(4), range(2), range(3)):
        np.testing.assert_array_equal(windows[:, :, i, j, a, b], x[:, :, i * 2 + a * 3, j + b * 2])


@pytest.mark.parametrize("size,kernel,stride,pads,dilation", itertools.product(
    [5, 8, 13], [1, 2, 3], [1, 2, 3], [(0, 0), (1, 2), (2, 0)], [1, 2]))
def test_out_size_counts_the_windows(size, kernel, stride, pads, dilation):
    span = dilation * (kernel - 1) + 1
    padded = size + sum(pads)
    expected = len([start for start in range(0, padded, stride) if start + span <= padded])
    assert out_size(size, kernel, stride, *pads, dilation) == expected


@pytest.mark.parametrize("size,kernel,stride,padding,ceil_mode,expected", [
    (7, 2, 2, 0, False, 3), (7, 2, 2, 0, True, 4), (6, 3, 2, 1, True, 4), (5, 3, 2, 1, True, 3),
    (8, 3, 3, 0, True, 3), (4, 2, 2, 1, True, 3)])
def test_pool_out_size_follows_pytorch(size, kernel, stride, padding, ceil_mode, expected):
    # with ceil_mode a last, partial window counts only if it starts inside the input or left padding
    assert pool_out_size(size, kernel, stride, padding, 1, ceil_mode) == expected


@pytest.mark.parametrize("widths", [((1, 2),), ((0, 3), (2, 1)), ((1, 1), (1, 1), (0, 2))])
def test_pad_nd_then_negative_pad_round_trips(widths):
    x = np.random.standard_normal((2, 3, 4, 5))
    padded = pad_nd(x, widths, value=7.0)
    lead = x.ndim - len(widths)
    assert padded.shape == x.shape[:lead] + tuple(n + b + a for n, (b, a) in zip(x.shape[lead:], widths))
    np.testing.assert_array_equal(pad_nd(padded, [(-b, -a) for b, a in widths]), x)
    border = np.ones(padded.shape, bool)
    border[(Ellipsis,) + tuple(slice(b, b + n) for n, (b, _) in zip(x.shape[lead:], widths))] = False
    assert (padded[border] == 7.0).all()


def test_pad_nd_mixed_signs_crops_and_pads():
    x = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(pad_nd(x, ((-1, 1), (2, -3))),
                                  [[0, 0, 4], [0, 0, 8], [0, 0, 0]])
    assert pad_nd(x, ((0, 0), (0, 0))) is x


@pytest.mark.parametrize("stride", [(1, 1), (2, 1), (3, 2)])
def test_dilate2d_inserts_zeros_and_slicing_undoes_it(stride):
    x = np.random.standard_normal((2, 3, 4, 5))
    dilated = dilate2d(x, stride)
    assert dilated.shape == (2, 3, 3 * stride[0] + 1, 4 * stride[1] + 1)
    np.testing.assert_array_equal(dilated[..., ::stride[0], ::stride[1]], x)
    assert np.count_nonzero(dilated) == np.count_nonzero(x)


# ---- conv2d's dX by stride phases ---------------------------------------------------------------

@pytest.mark.parametrize("kernel,stride,padding,groups", [
    ((3, 3), (2, 2), ((1, 1), (1, 1)), 1), ((1, 1), (3, 2), ((0, 0), (0, 0)), 2),
    ((4, 3), (2, 3), ((2, 0), (1, 2)), 1), ((5, 5), (3, 3), ((2, 2), (0, 1)), 2)])
def test_input_grad_by_phases_equals_dilated_form(kernel, stride, padding, groups):
    """The stride-phase split of dX (a plain backward pass's form) is exact: the same values as
    the correlation of the dilated dY (the recorded textbook form)."""
    import tinygrad_conv as tc
    from tinygrad_conv.ops import conv
    x_shape = (2, 2 * groups, 9, 8)
    w = tc.Tensor(np.random.standard_normal((2 * groups, 2) + kernel), requires_grad=True)
    params = dict(stride=stride, padding=padding, dilation=(1, 1), groups=groups)
    y = conv.conv2d(tc.Tensor(np.zeros(x_shape)), w, **params)
    dy = tc.Tensor(np.random.standard_normal(y.shape), requires_grad=True)
    with tc.no_grad():
        by_phases = conv._input_grad_by_phases(dy, w, x_shape, stride=stride, padding=padding,
                                               groups=groups)
    dilated = conv.conv2d_input_grad(dy, w, x_shape, **params)      # recording: the textbook form
    assert "dilate2d" in {t.node.op.name for t in tc.toposort(dilated) if t.node is not None}
    assert by_phases.node is None and by_phases.dtype == dilated.dtype
    np.testing.assert_allclose(by_phases.data, dilated.data, rtol=1e-12, atol=1e-12)


def test_correlate2d_input_cropped_away_gives_zeros():
    # conv2d's dX of a 1x1 input with stride 3: the remainder crop can leave nothing to correlate
    x = np.random.standard_normal((1, 2, 1, 3))
    w = np.random.standard_normal((1, 2, 1, 1))
    y = correlate2d(x, w, padding=((0, 0), (-3, 2)))
    assert y.shape == (1, 1, 1, 2) and not y.any()


def test_correlate2d_taps_that_miss_the_input_entirely():
    # dX of a dilated conv on a one-row input: some taps of the full correlation read only padding
    x = np.random.standard_normal((1, 2, 1, 2))
    w = np.random.standard_normal((1, 2, 2, 2))
    padding = ((1, 1), (2, 2))
    np.testing.assert_allclose(correlate2d(x, w, padding=padding, dilation=(2, 2)),
                               correlate2d_loops(x, w, (1, 1), (2, 2), 1, padding), rtol=1e-12, atol=1e-12)


def grads_by_loops(dy, x, w, stride, padding, dilation):
    """dX and dW of correlate2d_loops by the adjoint, one tap and pixel at a time."""
    (pt, pb), (pl, pr) = padding
    xp = np.pad(x, ((0, 0), (0, 0), (max(pt, 0), max(pb, 0)), (max(pl, 0), max(pr, 0))))
    xp = xp[:, :, max(-pt, 0):xp.shape[2] - max(-pb, 0), max(-pl, 0):xp.shape[3] - max(-pr, 0)]
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    (sh, sw), (dh, dw_) = stride, dilation
    N, F, OH, OW = dy.shape
    for i, j, a, b in itertools.product(range(OH), range(OW), range(w.shape[2]), range(w.shape[3])):
        h, q = i * sh + a * dh, j * sw + b * dw_
        dxp[:, :, h, q] += dy[:, :, i, j] @ w[:, :, a, b]
        dw[:, :, a, b] += dy[:, :, i, j].T @ xp[:, :, h, q]
    dx = np.pad(dxp, ((0, 0), (0, 0), (max(-pt, 0), max(-pb, 0)), (max(-pl, 0), max(-pr, 0))))
    dx = dx[:, :, max(pt, 0):dx.shape[2] - max(pb, 0), max(pl, 0):dx.shape[3] - max(pr, 0)]
    return dx, dw


def vjp_grads(dy, x, w, stride, padding, dilation, need_dx=True):
    """(dX, dW) arrays from conv2d's VJP in a plain backward pass (nothing recorded)."""
    from tinygrad_conv import ops
    X, W = tc.Tensor(x, requires_grad=need_dx), tc.Tensor(w, requires_grad=True)
    with tc.no_grad():
        dx, dw = ops.conv.conv2d_vjp(tc.Tensor(dy), X, W, stride=stride, padding=padding,
                                     dilation=dilation, groups=1)
    return None if dx is None else dx.data, dw.data


@pytest.mark.parametrize("channels", [(2, 5), (6, 3)])     # fewer and more input than output channels
@pytest.mark.parametrize("stride, padding, dilation", [
    ((1, 1), ((1, 1), (2, 0)), (1, 1)), ((1, 1), ((0, 0), (0, 0)), (2, 1)),
    ((2, 3), ((1, 0), (1, 1)), (1, 1)), ((1, 1), ((-1, 1), (1, -2)), (1, 1))])
@pytest.mark.parametrize("kernel", [(3, 2), (1, 1)])
def test_conv2d_plain_backward_matches_loops(channels, stride, padding, dilation, kernel):
    C, F = channels
    x = np.random.standard_normal((3, C, 7, 8))
    w = np.random.standard_normal((F, C) + kernel)
    y = correlate2d(x, w, stride, padding, dilation)
    dy = np.random.standard_normal(y.shape)
    dx, dw = vjp_grads(dy, x, w, stride, padding, dilation)
    expected = grads_by_loops(dy, x, w, stride, padding, dilation)
    np.testing.assert_allclose(dx, expected[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, expected[1], rtol=1e-12, atol=1e-12)
    assert vjp_grads(dy, x, w, stride, padding, dilation, need_dx=False)[0] is None


@pytest.mark.parametrize("channels", [(2, 5), (6, 3)])
def test_conv2d_plain_backward_multiplies_only_real_pairs(channels):
    # an Inf weight reaches only the dX pixels its taps touch; an Inf pixel only the dW taps
    # whose windows read it
    C, F = channels
    x = np.random.standard_normal((2, C, 6, 6))
    w = np.random.standard_normal((F, C, 3, 3))
    dy = np.random.standard_normal((2, F, 6, 6))
    w_inf, x_inf = w.copy(), x.copy()
    w_inf[0, 0, 0, 0], x_inf[1, 0, 5, 5] = np.inf, np.inf
    pads = ((1, 1), (1, 1))
    with np.errstate(invalid="ignore"):
        dx = vjp_grads(dy, x, w_inf, (1, 1), pads, (1, 1))[0]
        expected = grads_by_loops(dy, x, w_inf, (1, 1), pads, (1, 1))[0]
    np.testing.assert_array_equal(np.isfinite(dx), np.isfinite(expected))
    with np.errstate(invalid="ignore"):
        dw = vjp_grads(dy, x_inf, w, (1, 1), pads, (1, 1), need_dx=False)[1]
        expected = grads_by_loops(dy, x_inf, w, (1, 1), pads, (1, 1))[1]
    np.testing.assert_array_equal(np.isfinite(dw), np.isfinite(expected))


@pytest.mark.parametrize("kernel, stride", [((1, 1), (1, 1)), ((3, 3), (1, 1)), ((3, 3), (2, 2))])
def test_conv2d_adds_the_bias_per_output_channel(kernel, stride):
    from tinygrad_conv import ops
    x = np.random.standard_normal((2, 3, 6, 6))
    w = np.random.standard_normal((4, 3) + kernel)
    b = np.random.standard_normal(4)
    with_bias = ops.conv2d.forward(x, w, b, stride=stride, padding=((0, 0), (0, 0)),
                                   dilation=(1, 1), groups=1)
    np.testing.assert_array_equal(with_bias, correlate2d(x, w, stride) + b[:, None, None])


def test_pad_nd_crops_from_the_padded_array():
    """A negative width crops pad(x), not x: a crop larger than x eats into the other padding."""
    assert pad_nd(np.array([1.0, 2.0, 3.0]), ((1, -2),)).tolist() == [0.0, 1.0]
    assert pad_nd(np.array([5.0]), ((2, -2),)).tolist() == [0.0]
    assert pad_nd(np.array([5.0]), ((-3, 3),)).tolist() == [0.0]
    x = np.arange(12.0).reshape(3, 4)
    assert np.shares_memory(pad_nd(x, ((-1, 0), (0, -2))), x)          # a pure crop is a view


@pytest.mark.parametrize("size, padding, stride", [(1, 2, 5), (1, 2, 4), (2, 3, 7)])
def test_conv2d_whose_last_window_starts_in_the_padding(size, padding, stride):
    """Every output pixel reads only padding: the gradients are zero (as in PyTorch), not a
    shape error from cropping more rows than the image has."""
    x = tc.tensor(np.ones((1, 1, size, size)), requires_grad=True)
    w = tc.tensor(np.full((1, 1, 1, 1), 2.0), requires_grad=True)
    y = tc.nn.functional.conv2d(x, w, padding=padding, stride=stride)
    assert (y.data == 0).all()
    y.sum().backward()
    assert x.grad.shape == x.shape and not x.grad.data.any()
    assert w.grad.shape == w.shape and not w.grad.data.any()


@pytest.mark.parametrize("x_shape, w_shape, stride, pad, groups", [
    ((2, 3, 6, 6), (4, 3, 1, 1), (1, 1), 0, 1),      # pointwise
    ((2, 3, 6, 6), (4, 3, 3, 3), (1, 1), 1, 1),      # im2col on flat rows
    ((2, 3, 7, 7), (4, 3, 3, 3), (2, 2), 1, 1),      # im2col on windows
    ((2, 8, 6, 6), (2, 8, 3, 3), (1, 1), 1, 1),      # taps first
    ((2, 16, 7, 7), (2, 16, 3, 3), (2, 2), 1, 1),    # taps first, strided
    ((2, 3, 4, 4), (4, 3, 3, 3), (1, 1), 0, 1),      # kernel-major (kernel larger than the output)
    ((2, 4, 6, 6), (6, 2, 3, 3), (1, 1), 1, 2),      # groups
], ids=["pointwise", "im2col", "im2col_strided", "taps_first", "taps_first_strided",
        "kernel_major", "groups"])
def test_correlate2d_adds_the_bias_in_every_layout(x_shape, w_shape, stride, pad, groups):
    """Each layout adds bias[f] into its own buffer; the result is exactly the sum plus b, also when
    a wider bias widens the result (float32 sums, a float64 bias: added afterwards)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    pads = ((pad, pad), (pad, pad))
    plain = correlate2d(x, w, stride, pads, (1, 1), groups)
    for b in (rng.standard_normal(w_shape[0]).astype(np.float32), rng.standard_normal(w_shape[0])):
        with_bias = correlate2d(x, w, stride, pads, (1, 1), groups, bias=b)
        assert with_bias.dtype == np.result_type(plain, b)
        np.testing.assert_array_equal(with_bias, plain + b[:, None, None])


@st.composite
def select_cases(draw):
    """A condition and two operands of one dtype, broadcasting together, with NaN payloads,
    signed zeros and infinities among the floats."""
    dtype = np.dtype(draw(st.sampled_from([np.float16, np.float32, np.float64, np.int8,
                                           np.int32, np.int64, np.uint8, np.bool_])))
    shape = draw(st.lists(st.integers(1, 4), min_size=0, max_size=3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    def operand():
        sub = tuple(s if draw(st.booleans()) else 1 for s in shape)[draw(st.integers(0, len(shape))):]
        if dtype.kind == "f":
            pool = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, -2.0], dtype=dtype)
            return rng.choice(pool, size=sub)
        return rng.integers(0, 2, size=sub).astype(dtype) if dtype.kind == "b" else \
            rng.integers(np.iinfo(dtype).min, np.iinfo(dtype).max, size=sub, dtype=dtype)
    condition = rng.random(tuple(s if draw(st.booleans()) else 1 for s in shape)) < 0.5
    return condition, operand(), operand()


@given(select_cases())
@settings(max_examples=200, deadline=None)
def test_select_is_np_where_to_the_bit(case):
    condition, x, y = case
    expected, ours = np.where(condition, x, y), kernels.select(condition, x, y)
    assert ours.dtype == expected.dtype and ours.shape == expected.shape
    bits = f"u{expected.itemsize}"
    np.testing.assert_array_equal(np.asarray(ours).view(bits), np.asarray(expected).view(bits))


def test_select_reads_strided_and_reversed_views():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 8)).astype(np.float32)
    y = rng.standard_normal((8, 6)).astype(np.float32).T                # transposed
    condition = (rng.random((6, 16)) < 0.5)[:, ::2]                      # strided
    for a, b in ((x[:, ::-1], y), (x, y[::-1]), (x[::2].repeat(2, axis=0), y)):
        np.testing.assert_array_equal(kernels.select(condition, a, b), np.where(condition, a, b))


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4),
       st.integers(1, 4), st.integers(1, 9), st.integers(1, 9), st.data())
@settings(max_examples=150, deadline=None)
def test_weight_grad_per_image_matches_loops(N, C, F, KH, KW, H, W, data):
    """dW by one product per image, over strides (with remainder rows the windows never reach),
    dilations and paddings (negative ones crop), float64 and float32, dy contiguous or not."""
    stride = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    dilation = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    padding = tuple((data.draw(st.integers(-1, 2)), data.draw(st.integers(-1, 2))) for _ in range(2))
    OH = out_size(H, KH, stride[0], *padding[0], dilation[0])
    OW = out_size(W, KW, stride[1], *padding[1], dilation[1])
    if OH < 1 or OW < 1 or min(H + sum(padding[0]), W + sum(padding[1])) < 1:
        return
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31 - 1)))
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((F, C, KH, KW))
    dy = rng.standard_normal((N, F, OH, OW)).astype(dtype)
    if data.draw(st.booleans()):                   # a transposed copy, as a VJP may hand it on
        dy = np.ascontiguousarray(dy.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    dw = kernels.weight_grad_per_image(x, dy, w.shape, stride, padding, dilation)
    expected = grads_by_loops(dy.astype(np.float64), x.astype(np.float64), w, stride, padding,
                              dilation)[1]
    assert dw.dtype == dtype and dw.shape == w.shape
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(dw, expected, rtol=tol, atol=tol * max(1.0, np.abs(expected).max()))


def test_weight_grad_per_image_puts_nan_where_the_kernel_major_layout_does():
    # both multiply exactly im2col's pairs: an Inf pixel reaches the taps whose windows read it
    rng = np.random.default_rng(0)
    x, dy = rng.standard_normal((2, 3, 7, 7)), rng.standard_normal((2, 4, 4, 4))
    x[1, 2, 6, 0], dy[0, 1, 0, 0] = np.inf, np.nan
    args = ((2, 2), ((1, 1), (1, 1)), (1, 1))
    with np.errstate(invalid="ignore"):
        dw = kernels.weight_grad_per_image(x, dy, (4, 3, 3, 3), *args)
        expected = correlate2d(x.transpose(1, 0, 2, 3), dy.transpose(1, 0, 2, 3), (1, 1),
                               ((1, 1), (1, 1)), (2, 2)).transpose(1, 0, 2, 3)
    np.testing.assert_array_equal(np.isnan(dw), np.isnan(expected))
    np.testing.assert_array_equal(np.isinf(dw), np.isinf(expected))
    assert np.isnan(dw).any() and not np.isnan(dw).all()


def test_conv2d_takes_the_per_image_weight_grad_for_few_weights_only(monkeypatch):
    from tinygrad_conv import compiled, functional as F
    calls = []
    monkeypatch.setattr(compiled, "ENABLED", False)
    monkeypatch.setattr(ops.conv, "weight_grad_per_image",
                        lambda *a, _f=kernels.weight_grad_per_image: calls.append(a[2]) or _f(*a))
    for C, k, groups in ((1, 5, 1), (3, 3, 1), (7, 3, 1), (4, 3, 2)):   # 25, 27, 63, 18 (grouped)
        w = tc.randn(4, C // groups, k, k, requires_grad=True)
        F.conv2d(tc.randn(2, C, 9, 9), w, groups=groups).sum().backward()
    for C in (8, 16):                                                     # 72, 144 weights
        F.conv2d(tc.randn(2, C, 9, 9), tc.randn(4, C, 3, 3, requires_grad=True)).sum().backward()
    assert calls == [(4, 1, 5, 5), (4, 3, 3, 3), (4, 7, 3, 3)]
