"""Property sweeps (hypothesis) over shapes, strides, paddings, dilations, groups and ceil_mode.

Each drawn case is checked against the loop implementations in naive.py (forward and every
gradient), and the output size against PyTorch's formula. The strategies favour the stride-remainder
cases, (H + 2p - d(K-1) - 1) % s != 0, where the forward never reads the last rows.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import tinygrad_conv.functional as F
from tinygrad_conv import Tensor

import naive

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def conv_cases(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    C, Fo = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    KH, KW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    H = draw(st.integers(max(1, dh * (KH - 1) + 1 - 2 * ph), 8))
    W = draw(st.integers(max(1, dw * (KW - 1) + 1 - 2 * pw), 8))
    N = draw(st.integers(1, 2))
    return dict(N=N, C=C, H=H, W=W, F=Fo, K=(KH, KW), stride=(sh, sw), padding=(ph, pw),
                dilation=(dh, dw), groups=groups)


@given(conv_cases(), st.integers(0, 2**31 - 1))
@SETTINGS
def test_conv2d_matches_loops_forward_and_gradients(case, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((case["N"], case["C"], case["H"], case["W"]))
    w = rng.standard_normal((case["F"], case["C"] // case["groups"]) + case["K"])
    b = rng.standard_normal(case["F"])
    args = (case["stride"], case["padding"], case["dilation"], case["groups"])
    expected, loop_backward = naive.conv2d(x, w, *args)

    X, Wt, B = (Tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(X, Wt, B, *args)
    OH = (case["H"] + 2 * case["padding"][0] - case["dilation"][0] * (case["K"][0] - 1) - 1) // case["stride"][0] + 1
    assert y.shape[2] == OH and y.shape == expected.shape
    np.testing.assert_allclose(y.data, expected + b[:, None, None], rtol=1e-10, atol=1e-10)

    dy = rng.standard_normal(y.shape)
    y.backward(dy)
    dx, dw = loop_backward(dy)
    np.testing.assert_allclose(X.grad.data, dx, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(Wt.grad.data, dw, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(B.grad.data, dy.sum(axis=(0, 2, 3)), rtol=1e-10, atol=1e-10)
    # adjoint identities, exact: <conv(x, w), dy> = <x, dX> = <w, dW>
    inner = np.vdot(expected, dy)
    assert np.vdot(x, X.grad.data) == pytest.approx(inner, rel=1e-10, abs=1e-10)
    assert np.vdot(w, Wt.grad.data) == pytest.approx(inner, rel=1e-10, abs=1e-10)


@st.composite
def pool_cases(draw, with_dilation):
    KH, KW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, KH // 2)), draw(st.integers(0, KW // 2))
    dh, dw = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if with_dilation else (1, 1)
    H = draw(st.integers(max(1, dh * (KH - 1) + 1 - 2 * ph), 7))
    W = draw(st.integers(max(1, dw * (KW - 1) + 1 - 2 * pw), 7))
    return dict(shape=(draw(st.integers(1, 2)), draw(st.integers(1, 2)), H, W), kernel=(KH, KW),
                stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw), ceil_mode=draw(st.booleans()))


@given(pool_cases(with_dilation=True), st.integers(0, 2**31 - 1))
@SETTINGS
def test_max_pool2d_matches_loops(case, seed):
    rng = np.random.default_rng(seed)
    x = rng.permutation(np.prod(case["shape"])).reshape(case["shape"]) / 7.0   # distinct: no ties
    expected, loop_backward = naive.pool2d(x, case["kernel"], case["stride"], case["padding"],
                                           case["dilation"], case["ceil_mode"], "max")
    X = Tensor(x, requires_grad=True)
    y = F.max_pool2d(X, case["kernel"], case["stride"], case["padding"], case["dilation"],
                     case["ceil_mode"])
    np.testing.assert_array_equal(y.data, expected)
    dy = rng.standard_normal(y.shape)
    y.backward(dy)
    np.testing.assert_allclose(X.grad.data, loop_backward(dy), rtol=1e-12, atol=1e-12)
    finite = np.isfinite(expected)
    assert np.vdot(x, X.grad.data) == pytest.approx(np.vdot(expected[finite], dy[finite]),
                                                    rel=1e-10, abs=1e-10)


@given(pool_cases(with_dilation=False), st.booleans(), st.integers(0, 2**31 - 1))
@SETTINGS
def test_avg_pool2d_matches_loops(case, count_include_pad, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(case["shape"])
    expected, loop_backward = naive.pool2d(x, case["kernel"], case["stride"], case["padding"],
                                           (1, 1), case["ceil_mode"], "avg", count_include_pad)
    X = Tensor(x, requires_grad=True)
    y = F.avg_pool2d(X, case["kernel"], case["stride"], case["padding"], case["ceil_mode"],
                     count_include_pad)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-12)
    dy = rng.standard_normal(y.shape)
    y.backward(dy)
    np.testing.assert_allclose(X.grad.data, loop_backward(dy), rtol=1e-12, atol=1e-12)


def test_max_pool2d_ties_go_to_the_first_maximum_in_row_major_order():
    x = Tensor(np.array([[[[1.0, 3.0], [3.0, 3.0]]]]), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[[[0, 1], [0, 0]]]])


def test_max_pool2d_overlapping_windows_accumulate():
    x = Tensor(np.array([[[[0.0, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]]]]), requires_grad=True)
    F.max_pool2d(x, 2, stride=1).sum().backward()      # all four windows pick the centre
    assert x.grad.data[0, 0, 1, 1] == 4.0 and x.grad.data.sum() == 4.0


@given(st.lists(st.integers(-2, 3), min_size=2, max_size=6).filter(lambda p: len(p) % 2 == 0),
       st.sampled_from(["constant", "reflect", "replicate", "circular"]), st.integers(0, 2**31 - 1))
@SETTINGS
def test_pad_matches_numpy_and_its_gradient_is_the_adjoint(widths, mode, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 4, 5))
    pairs = [(widths[2 * j], widths[2 * j + 1]) for j in reversed(range(len(widths) // 2))]
    full = [(0, 0)] * (3 - len(pairs)) + pairs
    numpy_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
                  "circular": "wrap"}[mode]
    if mode == "reflect" and any(b >= n or a >= n for (b, a), n in zip(full, x.shape)):
        return
    if mode != "constant" and (any(b < 0 or a < 0 for b, a in full) or len(pairs) == 3):
        return      # numpy cannot express cropping here; PyTorch pads 3 dims only of 4-D/5-D input
    X = Tensor(x, requires_grad=True)
    if any(n + b + a < 0 for n, (b, a) in zip(x.shape, full)):
        with pytest.raises(ValueError, match="negative size"):
            F.pad(X, tuple(widths), mode)
        return
    y = F.pad(X, tuple(widths), mode)
    if mode == "constant":
        expected = np.pad(x, [(max(b, 0), max(a, 0)) for b, a in full])
        expected = expected[tuple(slice(max(-b, 0), expected.shape[i] - max(-a, 0))
                                  for i, (b, a) in enumerate(full))]
    else:
        expected = np.pad(x, full, mode=numpy_mode)
    np.testing.assert_array_equal(y.data, expected)
    dy = rng.standard_normal(y.shape)
    y.backward(dy)
    assert np.vdot(x, X.grad.data) == pytest.approx(np.vdot(expected, dy), rel=1e-10, abs=1e-10)
