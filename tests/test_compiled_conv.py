"""The numba kernels of depthwise convolution (compiled/conv.py) against their NumPy twins.

The forward against kernels.correlate2d, dX and dW against conv2d's VJP on the NumPy path
(compiled.ENABLED switched off), over swept shapes, strides with remainders, asymmetric and
negative paddings, dilations and channel multipliers, in float64 and float32, and with Inf and
NaN in the image, the weight or dY (then entry by entry: NaN and Inf exactly where NumPy has
them). Skipped when numba is not installed.
"""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

pytest.importorskip("numba")

import tinygrad_conv as tc  # noqa: E402
import tinygrad_conv.functional as F  # noqa: E402
from tinygrad_conv import compiled  # noqa: E402
from tinygrad_conv.compiled import conv as fast  # noqa: E402
from tinygrad_conv.kernels import correlate2d, correlate2d_transposed, out_size  # noqa: E402
from tinygrad_conv.ops import conv as conv_ops  # noqa: E402

from test_nan_inf import NONFINITE, _quiet, assert_same_entries as same_entries  # noqa: E402,F401

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def depthwise_cases(draw, dtype=np.float64):
    """x (N, C, H, W), w (m*C, 1, KH, KW), dy, stride, padding ((top, bottom), (left, right)) with
    negative widths (crops), dilation: every combination whose output has at least one pixel."""
    C, m, N = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    KH, KW = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dilation = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    padding = tuple((draw(st.integers(-1, 3)), draw(st.integers(-1, 3))) for _ in range(2))
    H, W = draw(st.integers(1, 11)), draw(st.integers(1, 11))
    OH = out_size(H, KH, stride[0], *padding[0], dilation[0])
    OW = out_size(W, KW, stride[1], *padding[1], dilation[1])
    if OH < 1 or OW < 1 or H + min(padding[0][0], 0) < 1 or W + min(padding[1][0], 0) < 1:
        return draw(depthwise_cases(dtype))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((m * C, 1, KH, KW)).astype(dtype)
    dy = rng.standard_normal((N, m * C, OH, OW)).astype(dtype)
    return x, w, dy, stride, padding, dilation


def conv2d_vjp(dy, x, w, stride, padding, dilation, enabled: bool, groups=None):
    """conv2d's VJP as a plain backward pass runs it, on the compiled path or NumPy's: (dx, dw);
    depthwise unless groups says otherwise."""
    with pytest.MonkeyPatch.context() as patch, tc.no_grad():
        patch.setattr(compiled, "ENABLED", enabled)
        dx, dw = conv_ops.conv2d_vjp(tc.tensor(dy), tc.tensor(x, requires_grad=True),
                                     tc.tensor(w, requires_grad=True), stride=stride,
                                     padding=padding, dilation=dilation,
                                     groups=x.shape[1] if groups is None else groups)
    return dx.data, dw.data


def assert_same_entries(ours, expected, what):
    """Same shape and dtype, NaN and +-Inf where expected has them, close values elsewhere."""
    assert (ours.shape, ours.dtype) == (expected.shape, expected.dtype), what
    same_entries(ours, expected, what)


@given(depthwise_cases())
@SETTINGS
def test_compiled_depthwise_forward_matches_correlate2d(case):
    x, w, _, stride, padding, dilation = case
    assert_same_entries(fast.depthwise_conv2d(x, w, stride, padding, dilation),
                        correlate2d(x, w, stride, padding, dilation, groups=x.shape[1]), "y")


@given(depthwise_cases())
@SETTINGS
def test_compiled_depthwise_vjp_matches_the_numpy_vjp(case):
    x, w, dy, stride, padding, dilation = case
    dx, dw = fast.depthwise_conv2d_vjp(dy, x, w, stride, padding, dilation)
    ex, ew = conv2d_vjp(dy, x, w, stride, padding, dilation, enabled=False)
    assert_same_entries(dx, ex, "dX")
    assert_same_entries(dw, ew, "dW")


@given(depthwise_cases(np.float32))
@SETTINGS
def test_compiled_depthwise_keeps_float32(case):
    x, w, dy, stride, padding, dilation = case
    y = fast.depthwise_conv2d(x, w, stride, padding, dilation)
    dx, dw = fast.depthwise_conv2d_vjp(dy, x, w, stride, padding, dilation)
    assert y.dtype == dx.dtype == dw.dtype == np.float32
    expected = correlate2d(x.astype(np.float64), w.astype(np.float64), stride, padding, dilation,
                           groups=x.shape[1])
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


@given(depthwise_cases(), st.sampled_from(["x", "w", "dy"]), st.sampled_from(NONFINITE),
       st.data())
@SETTINGS
def test_compiled_depthwise_inf_and_nan_land_where_numpy_puts_them(case, where, value, data):
    """Through conv2d's forward and VJP (the hooks, and their fallbacks to NumPy), on and off."""
    x, w, dy, stride, padding, dilation = case
    target = {"x": x, "w": w, "dy": dy}[where]
    target.flat[data.draw(st.integers(0, target.size - 1))] = value
    results = {}
    for enabled in (True, False):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(compiled, "ENABLED", enabled)
            y = conv_ops.conv2d.forward(x, w, stride=stride, padding=padding, dilation=dilation,
                                        groups=x.shape[1])
        results[enabled] = y, *conv2d_vjp(dy, x, w, stride, padding, dilation, enabled)
    for what, a, b in zip(("y", "dX", "dW"), results[True], results[False]):
        assert_same_entries(a, b, what)


def test_compiled_depthwise_declines_what_it_cannot_match_exactly():
    x, w, dy = np.ones((1, 2, 5, 5)), np.ones((2, 1, 3, 3)), np.ones((1, 2, 3, 3))
    args = ((1, 1), ((0, 0), (0, 0)), (1, 1))
    w[0, 0, 1, 1] = np.inf                  # W times the zeros of a dilated, padded dY
    assert fast.depthwise_conv2d_vjp(dy, x, w, *args) is None
    assert fast.depthwise_conv2d_vjp(dy, x, w, *args, needs=(False, True)) is not None
    x[0, 0, 0, 0] = np.nan                  # a non-finite dW: NumPy leaves the wrapped columns out
    assert fast.depthwise_conv2d_vjp(dy, x, np.ones_like(w), *args) is None
    ints = np.ones((1, 2, 5, 5), dtype=np.int64), np.ones((2, 1, 3, 3), dtype=np.int64)
    assert fast.depthwise_conv2d_vjp(np.ones((1, 2, 3, 3), dtype=np.int64), *ints, *args) is None
    np.testing.assert_array_equal(fast.depthwise_conv2d(*ints, *args), np.full((1, 2, 3, 3), 9))


def test_compiled_depthwise_gives_only_the_gradients_asked_for():
    x, w, dy = np.ones((1, 2, 5, 5)), np.ones((2, 1, 3, 3)), np.ones((1, 2, 3, 3))
    args = ((1, 1), ((0, 0), (0, 0)), (1, 1))
    dx, dw = fast.depthwise_conv2d_vjp(dy, x, w, *args, needs=(True, False))
    assert dw is None and dx.shape == x.shape
    dx, dw = fast.depthwise_conv2d_vjp(dy, x, w, *args, needs=(False, True))
    assert dx is None and dw.shape == w.shape


def test_conv2d_runs_the_compiled_kernels_for_depthwise_only(monkeypatch):
    calls = []
    monkeypatch.setattr(compiled, "ENABLED", True)
    for name in ("depthwise_conv2d", "depthwise_conv2d_vjp"):
        original = getattr(fast, name)
        monkeypatch.setattr(fast, name, lambda *a, _f=original, _n=name, **k: calls.append(_n)
                            or _f(*a, **k))
    X = tc.randn(2, 4, 6, 6, requires_grad=True)
    F.conv2d(X, tc.randn(8, 1, 3, 3, requires_grad=True), padding=1, groups=4).sum().backward()
    assert calls == ["depthwise_conv2d", "depthwise_conv2d_vjp"]
    F.conv2d(X, tc.randn(8, 2, 3, 3, requires_grad=True), padding=1, groups=2).sum().backward()
    assert calls == ["depthwise_conv2d", "depthwise_conv2d_vjp"]


def test_recorded_backward_keeps_the_textbook_form(monkeypatch):
    """With create_graph the VJP stays made of recorded conv2d ops (double backward works), and
    gives the same gradients as the compiled plain backward."""
    monkeypatch.setattr(compiled, "ENABLED", True)
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 7, 7)), rng.standard_normal((6, 1, 3, 3))
    grads = []
    for create_graph in (False, True):
        X, Wt = tc.tensor(x, requires_grad=True), tc.tensor(w, requires_grad=True)
        y = F.conv2d(X, Wt, stride=2, padding=1, groups=3)
        dx, dw = tc.autograd.grad((y * y).sum(), (X, Wt), create_graph=create_graph)
        assert (dx.node is not None) == create_graph
        grads.append((dx.data, dw.data))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@st.composite
def taps_first_cases(draw):
    """x, w, padding, dilation, groups of a stride-1 correlate2d that takes the taps-first layout
    (fewer output than input channels, a finite w: the shape of a dX), float32 or float64, with
    NaN or Inf sometimes in x."""
    G, Cg, Fg, N = draw(st.integers(1, 2)), draw(st.integers(2, 5)), draw(st.integers(1, 2)), \
        draw(st.integers(1, 3))
    KH, KW = draw(st.integers(1, 4)), draw(st.integers(2, 4))
    dilation = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    padding = tuple((draw(st.integers(0, 4)), draw(st.integers(0, 4))) for _ in range(2))
    H, W = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    OH = out_size(H, KH, 1, *padding[0], dilation[0])
    OW = out_size(W, KW, 1, *padding[1], dilation[1])
    if OH < 1 or OW < 1 or 2 * Fg * H * W > Cg * OH * OW or KH * KW > OH * OW:
        return draw(taps_first_cases())
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    x = rng.standard_normal((N, G * Cg, H, W)).astype(dtype)
    w = rng.standard_normal((G * Fg, Cg, KH, KW)).astype(dtype)
    if draw(st.booleans()):
        x.flat[draw(st.integers(0, x.size - 1))] = draw(st.sampled_from(NONFINITE))
    return x, w, padding, dilation, G


@given(taps_first_cases())
@SETTINGS
def test_compiled_taps_first_adds_give_numpys_sums_to_the_bit(case):
    """kernels._correlate_taps_first with its shifted adds compiled (one pass over y) and in
    NumPy (one pass per tap): the same sums in the same order. The loops are handed in as
    ops/conv.py hands them (kernels.py imports nothing of the compiled path)."""
    x, w, padding, dilation, groups = case
    calls, results = [], {}
    for enabled in (True, False):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(compiled, "ENABLED", enabled)
            patch.setattr(fast, "add_taps", lambda *a, _f=fast.add_taps: calls.append(1) or _f(*a))
            results[enabled] = correlate2d(x, w, (1, 1), padding, dilation, groups,
                                           loops=compiled.kernels_for)
    assert calls == [1]
    assert results[True].dtype == results[False].dtype == x.dtype
    np.testing.assert_array_equal(results[True], results[False])


@given(depthwise_cases(), st.integers(1, 3), st.integers(1, 2),
       st.sampled_from([np.float32, np.float64]))
@SETTINGS
def test_compiled_scatter_adds_give_numpys_sums_to_the_bit(case, channels, groups, dtype):
    """kernels.correlate2d_transposed (dX as a scatter, which a plain backward pass with the
    compiled kernels uses for every stride > 1) with its adds compiled and in NumPy."""
    x, w, dy, stride, padding, dilation = case
    padding = tuple((max(b, 0), max(a, 0)) for b, a in padding)
    rng = np.random.default_rng(0)
    KH, KW = w.shape[2:]
    w = rng.standard_normal((groups * channels, x.shape[1], KH, KW)).astype(dtype)
    OH = out_size(x.shape[2], KH, stride[0], *padding[0], dilation[0])
    OW = out_size(x.shape[3], KW, stride[1], *padding[1], dilation[1])
    if OH < 1 or OW < 1:
        return
    dy = rng.standard_normal((x.shape[0], groups * channels, OH, OW)).astype(dtype)
    x_shape = (x.shape[0], groups * x.shape[1]) + x.shape[2:]
    calls, results = [], {}
    for enabled in (True, False):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(compiled, "ENABLED", enabled)
            patch.setattr(fast, "scatter_taps",
                          lambda *a, _f=fast.scatter_taps: calls.append(1) or _f(*a))
            results[enabled] = correlate2d_transposed(dy, w, x_shape, stride, padding, dilation,
                                                      groups, loops=compiled.kernels_for)
    assert calls and results[True].dtype == results[False].dtype == dtype
    np.testing.assert_array_equal(results[True], results[False])


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 6), st.integers(1, 4),
       st.integers(1, 4), st.integers(1, 9), st.integers(1, 9), st.data())
@SETTINGS
def test_compiled_weight_grad_matches_the_numpy_layout(N, C, F_, KH, KW, H, W, data):
    """dW of a stride-1 conv2d with few weights per filter: the direct loop against NumPy's
    layout (the same sums in another order), float64 and float32, with a non-finite x falling
    back to NumPy's exact result."""
    padding = tuple((data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in range(2))
    OH, OW = out_size(H, KH, 1, *padding[0]), out_size(W, KW, 1, *padding[1])
    if OH < 1 or OW < 1:
        return
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31 - 1)))
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((F_, C, KH, KW)).astype(dtype)
    dy = rng.standard_normal((N, F_, OH, OW)).astype(dtype)
    if data.draw(st.booleans()):
        x.flat[data.draw(st.integers(0, x.size - 1))] = data.draw(st.sampled_from(NONFINITE))
    dw = fast.weight_grad(dy, x, w.shape, padding)
    _, expected = conv2d_vjp(dy, x, w, (1, 1), padding, (1, 1), enabled=False, groups=1)
    if not np.isfinite(expected).all():
        assert dw is None                       # NumPy's result stands
        return
    assert dw.dtype == dtype
    tol = 1e-4 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(dw, expected, rtol=tol, atol=tol * np.abs(expected).max())


def test_conv2d_takes_the_compiled_weight_grad_for_small_weights_only(monkeypatch):
    calls = []
    monkeypatch.setattr(compiled, "ENABLED", True)
    monkeypatch.setattr(fast, "weight_grad", lambda *a, _f=fast.weight_grad: calls.append(a[2])
                        or _f(*a))
    # (F, C, K, stride): F*C*K*K entries, at most 32 filters, K > 1, stride 1
    for F_, C, K, stride in ((4, 6, 5, 1), (32, 8, 3, 1),      # 600 and 2,304 entries: compiled
                             (32, 3, 3, 1),                    # 27 per filter in 32: per image
                             (16, 32, 3, 1),                   # 4,608 entries
                             (64, 3, 3, 1),                    # 1,728 entries in 64 filters
                             (8, 16, 1, 1),                    # 1x1: no X_col to copy
                             (4, 6, 5, 2)):                    # strided
        W = tc.randn(F_, C, K, K, requires_grad=True)
        F.conv2d(tc.randn(2, C, 12, 12), W, stride=stride).sum().backward()
    assert calls == [(4, 6, 5, 5), (32, 8, 3, 3)]


def test_numba_is_imported_only_when_a_compiled_kernel_runs():
    code = ("import sys, tinygrad_conv as tc, tinygrad_conv.functional as F\n"
            "F.conv2d(tc.randn(1, 2, 5, 5), tc.randn(2, 2, 3, 3))\n"
            "assert 'numba' not in sys.modules, 'imported by a plain conv2d (im2col)'\n"
            "F.conv2d(tc.randn(1, 2, 5, 5), tc.randn(2, 1, 3, 3), groups=2)\n"
            "assert 'numba' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, env=_env(compiled="1"))
    code_off = code.replace("assert 'numba' in", "assert 'numba' not in")
    subprocess.run([sys.executable, "-c", code_off], check=True, env=_env(compiled="0"))


def _env(compiled: str) -> dict:
    return {**os.environ, "TINYGRAD_CONV_COMPILED": compiled,
            "PYTHONPATH": os.pathsep.join(sys.path)}
