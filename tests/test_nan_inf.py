"""Inf and NaN go where PyTorch sends them, entry by entry, and gradcheck never passes them.

conv2d: every layout of kernels.correlate2d computes the products im2col forms (zero padding
included), and dX multiplies only real pairs of dY and W (never a zero of the padding or of a
dilated dY), as PyTorch's CPU convolution does in float64 (its float32 oneDNN kernels sometimes
skip the padding in the forward: float64 is the reference). The loops of naive.py form exactly
those products, so they are the torch-free reference. max and max_pool2d follow PyTorch's NaN
rules; a float16 sum is accumulated in float32.
"""
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import tinygrad_conv as tc
import tinygrad_conv.functional as F

import naive

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NONFINITE = [np.inf, -np.inf, np.nan]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def assert_same_entries(ours, expected, what):
    """NaN where expected has NaN, +-Inf where it has +-Inf, and close values elsewhere."""
    for kind, test in (("NaN", np.isnan), ("+Inf", np.isposinf), ("-Inf", np.isneginf)):
        mismatch = test(ours) != test(expected)
        assert not mismatch.any(), f"{what}: {kind} differs at {np.argwhere(mismatch)[:5].tolist()}"
    finite = np.isfinite(expected)
    np.testing.assert_allclose(ours[finite], expected[finite], rtol=1e-9, atol=1e-9, err_msg=what)


# ----------------------------------------------------------------------------------------------
# gradcheck


def test_gradcheck_fails_on_a_nan_gradient():
    @tc.primitive(name="nan_vjp_square")
    def square(x):
        return x * x

    @square.defvjp
    def square_vjp(dy, x):
        return dy * tc.tensor(np.full(x.shape, np.nan))

    try:
        x = tc.tensor(np.ones(3), requires_grad=True)
        with pytest.raises(tc.GradcheckError, match=r"non-finite entry for input 0 .* entry \(0,\)"
                                                    r".*analytical nan"):
            tc.gradcheck(square, x)
    finally:
        del tc.PRIMITIVES["nan_vjp_square"]


def test_gradcheck_fails_where_the_function_itself_is_not_finite():
    x = tc.tensor(np.array([1.0, 0.0, 4.0]), requires_grad=True)
    with pytest.raises(tc.GradcheckError, match=r"non-finite entry for input 0 .* entry \(1,\)"):
        tc.gradcheck(lambda t: t.sqrt(), x)          # d sqrt(x)/dx = inf at 0


def test_gradcheck_still_passes_correct_gradients():
    assert tc.gradcheck(lambda t: (t * t).tanh(), tc.tensor(np.random.randn(4), requires_grad=True))


# ----------------------------------------------------------------------------------------------
# conv2d


def conv_both(x, w, dy, stride, padding, dilation, groups):
    X, Wt = tc.tensor(x, requires_grad=True), tc.tensor(w, requires_grad=True)
    y = F.conv2d(X, Wt, stride=stride, padding=padding, dilation=dilation, groups=groups)
    y.backward(dy)
    ey, backward = naive.conv2d(x, w, (stride, stride), (padding, padding), (dilation, dilation),
                                groups)
    return (y.data, X.grad.data, Wt.grad.data), (ey, *backward(dy))


@st.composite
def conv_with_nonfinite(draw):
    groups = draw(st.sampled_from([1, 2]))
    C, Fo = groups * draw(st.integers(1, 4)), groups * draw(st.integers(1, 4))
    K, s, d, p = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2)), \
        draw(st.integers(0, 2))
    low = max(1, d * (K - 1) + 1 - 2 * p)
    H, W, N = draw(st.integers(low, 8)), draw(st.integers(low, 8)), draw(st.integers(1, 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    x, w = rng.standard_normal((N, C, H, W)), rng.standard_normal((Fo, C // groups, K, K))
    OH, OW = (H + 2 * p - d * (K - 1) - 1) // s + 1, (W + 2 * p - d * (K - 1) - 1) // s + 1
    dy = rng.standard_normal((N, Fo, OH, OW))
    target = draw(st.sampled_from([x, w, dy]))
    for _ in range(draw(st.integers(1, 2))):
        target.flat[draw(st.integers(0, target.size - 1))] = draw(st.sampled_from(NONFINITE))
    return x, w, dy, s, p, d, groups


@given(conv_with_nonfinite())
@SETTINGS
def test_conv2d_inf_and_nan_land_where_the_loops_put_them(case):
    ours, expected = conv_both(*case)
    for what, a, b in zip(("y", "dX", "dW"), ours, expected):
        assert_same_entries(a, b, what)


# one case per layout that used to multiply zeros it should not have: the position of the Inf
LAYOUT_CASES = {
    # dW by the flat kernel-major layout: the zeros between its spread rows met the pixel
    "dW kernel-major, flat rows": ((1, 1, 6, 6), (2, 1, 3, 3), 1, 1, 1, ("x", (0, 0, 2, 5))),
    # dX by taps first / im2col of the padded, dilated dY: their zeros met the Inf weight
    "dX stride 1": ((2, 2, 7, 7), (3, 2, 3, 3), 1, 1, 1, ("w", (0, 0, 0, 0))),
    "dX stride 2, phases": ((2, 2, 9, 9), (3, 2, 3, 3), 2, 0, 1, ("w", (0, 0, 0, 0))),
    "dX stride 2, dilated": ((1, 2, 9, 9), (2, 2, 2, 2), 2, 0, 2, ("w", (0, 1, 1, 0))),
    "dX groups": ((1, 4, 6, 6), (4, 2, 3, 3), 1, 1, 1, ("w", (0, 0, 0, 0))),
    "dX depthwise": ((2, 4, 8, 8), (4, 1, 3, 3), 1, 1, 1, ("w", (0, 0, 0, 0))),
    # the forward by taps first (many input channels): it skipped the padding's products
    "y taps first": ((1, 8, 5, 5), (1, 8, 3, 3), 1, 1, 1, ("w", (0, 3, 0, 0))),
}


@pytest.mark.parametrize("name", sorted(LAYOUT_CASES))
@pytest.mark.parametrize("value", NONFINITE, ids=["inf", "-inf", "nan"])
def test_conv2d_inf_and_nan_in_each_layout(name, value):
    x_shape, w_shape, s, p, d, (where, at) = LAYOUT_CASES[name]
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    (x if where == "x" else w)[at] = value
    OH = (x_shape[2] + 2 * p - d * (w_shape[2] - 1) - 1) // s + 1
    OW = (x_shape[3] + 2 * p - d * (w_shape[3] - 1) - 1) // s + 1
    dy = rng.standard_normal((x_shape[0], w_shape[0], OH, OW))
    groups = x_shape[1] // w_shape[1]
    ours, expected = conv_both(x, w, dy, s, p, d, groups)
    for what, a, b in zip(("y", "dX", "dW"), ours, expected):
        assert_same_entries(a, b, what)


def test_one_inf_pixel_leaves_the_taps_that_never_read_it_finite():
    x = np.random.randn(1, 1, 6, 6)
    x[0, 0, 2, 5] = np.inf
    X, Wt = tc.tensor(x), tc.tensor(np.random.randn(2, 1, 3, 3), requires_grad=True)
    F.conv2d(X, Wt, padding=1).sum().backward()
    # tap (a, b) reads x[i + a - 1, j + b - 1]; column 5 is read only by the taps b = 1, 2
    assert np.isfinite(Wt.grad.data[..., 0]).all() and np.isinf(Wt.grad.data[..., 1:]).all()


def test_one_inf_weight_leaves_the_pixels_it_never_touches_at_zero_gradient():
    w = np.zeros((1, 1, 3, 3))
    w[0, 0, 0, 0] = np.inf
    X = tc.tensor(np.random.randn(1, 1, 5, 5), requires_grad=True)
    F.conv2d(X, tc.tensor(w), stride=2).backward(np.ones((1, 1, 2, 2)))
    touched = np.zeros((5, 5), dtype=bool)
    touched[0:3:2, 0:3:2] = True                     # tap (0, 0) of the four windows
    assert np.isposinf(X.grad.data[0, 0][touched]).all()
    assert (X.grad.data[0, 0][~touched] == 0).all()


# ----------------------------------------------------------------------------------------------
# max and max_pool2d


def test_max_with_nan_is_nan_and_its_gradient_goes_to_the_nan_entries_only():
    x = tc.tensor(np.array([1.0, np.nan, 3.0, np.nan]), requires_grad=True)
    y = x.max()
    y.backward()
    assert np.isnan(y.item())
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.5, 0.0, 0.5])
    x.grad = None
    x.max().backward(tc.tensor(np.inf))      # an exact 0 at the other entries, not inf * 0
    np.testing.assert_array_equal(x.grad.data, [0.0, np.inf, 0.0, np.inf])
    z = tc.tensor(np.array([[1.0, np.nan, 3.0], [2.0, 5.0, 5.0]]), requires_grad=True)
    z.amax(dim=1).sum().backward()      # amax: ties share; no entry equals nan: 0/0 (torch.amax)
    np.testing.assert_array_equal(z.grad.data, [[np.nan] * 3, [0.0, 0.5, 0.5]])


def test_max_pool_picks_the_last_nan_and_the_first_real_cell_of_an_all_minus_inf_window():
    x = np.array([[[[np.nan, 1.0], [3.0, np.nan]]]])
    X = tc.tensor(x, requires_grad=True)
    F.max_pool2d(X, 2).backward(np.ones((1, 1, 1, 1)))
    np.testing.assert_array_equal(X.grad.data[0, 0], [[0.0, 0.0], [0.0, 1.0]])
    X = tc.tensor(np.full((1, 1, 2, 2), -np.inf), requires_grad=True)
    y = F.max_pool2d(X, 2, stride=1, padding=1)      # every window starts in the padding
    y.backward(np.ones(y.shape))
    # the 3x3 windows' first cells inside x: (0,0) for four windows, (0,1) and (1,0) for two
    np.testing.assert_array_equal(X.grad.data[0, 0], [[4.0, 2.0], [2.0, 1.0]])


# ----------------------------------------------------------------------------------------------
# relu

RELU_X = [-1.0, 0.0, 2.0, np.nan, -3.0, 4.0, -np.inf, np.inf]
RELU_DY = [np.nan, np.inf, 1.0, 5.0, -np.inf, np.nan, 2.0, -np.inf]


def test_relu_passes_dy_where_x_is_not_at_most_zero_and_an_exact_zero_elsewhere():
    # PyTorch's threshold_backward: dX = 0 where x <= 0, else dY (a NaN x passes dY on)
    x = tc.tensor(np.array(RELU_X), requires_grad=True)
    tc.relu(x).backward(tc.tensor(np.array(RELU_DY)))
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 1.0, 5.0, 0.0, np.nan, 0.0, -np.inf])
    assert np.signbit(x.grad.data[[0, 1, 4, 6]]).sum() == 0        # +0.0, as PyTorch


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_inf_and_nan_match_pytorch(dtype):
    torch = pytest.importorskip("torch")
    x, dy = np.array(RELU_X, dtype=dtype), np.array(RELU_DY, dtype=dtype)
    ours = tc.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    F.relu(ours).backward(tc.tensor(dy))
    torch.nn.functional.relu(theirs).backward(torch.tensor(dy))
    np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())
    np.testing.assert_array_equal(np.signbit(ours.grad.data), np.signbit(theirs.grad.numpy()))


# clamp, abs, maximum and minimum at a nan x, as PyTorch's backward formulas send it
NAN_X = [-2.0, -1.0, 0.0, 0.5, 1.0, 3.0, np.nan, np.inf, -np.inf]
MASKED = {                 # name -> (ours, PyTorch's), both given x (and a zero of x's shape)
    "clamp(-1, 1)": (lambda x, z: x.clamp(-1, 1), lambda x, z: x.clamp(-1, 1)),
    "clamp(min=0)": (lambda x, z: x.clamp(min=0), lambda x, z: x.clamp(min=0)),
    "clamp(max=0)": (lambda x, z: x.clamp(max=0), lambda x, z: x.clamp(max=0)),
    "abs": (lambda x, z: x.abs(), lambda x, z: x.abs()),
    "maximum": (lambda x, z: tc.maximum(x, z), lambda x, z: x.maximum(z)),
    "minimum": (lambda x, z: tc.minimum(z, x), lambda x, z: z.minimum(x)),
}


def test_a_nan_x_gets_no_gradient_from_clamp_and_abs_and_all_of_it_from_maximum():
    x = tc.tensor(np.array(NAN_X), requires_grad=True)
    for name, expected in (("clamp(-1, 1)", 0.0), ("abs", 0.0), ("maximum", 1.0)):
        x.grad = None
        y = MASKED[name][0](x, tc.zeros(len(NAN_X), dtype=tc.float64))
        assert np.isnan(y.data[6]), name                          # the value stays nan
        y.backward(tc.ones(len(NAN_X), dtype=tc.float64))
        assert x.grad.data[6] == expected, f"{name}: {x.grad.data[6]}"


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(MASKED))
@pytest.mark.parametrize("dy", [1.0, np.nan, np.inf, -np.inf], ids=["1", "nan", "inf", "-inf"])
def test_clamp_abs_maximum_minimum_at_nan_and_inf_match_pytorch(name, dy):
    torch = pytest.importorskip("torch")
    ours, theirs = MASKED[name]
    x = np.array(NAN_X)
    gy = np.full(x.shape, dy)
    xo, zo = tc.tensor(x, requires_grad=True), tc.tensor(np.zeros_like(x), requires_grad=True)
    xt, zt = torch.tensor(x, requires_grad=True), torch.tensor(np.zeros_like(x), requires_grad=True)
    yo, yt = ours(xo, zo), theirs(xt, zt)
    np.testing.assert_array_equal(yo.data, yt.detach().numpy())
    yo.backward(tc.tensor(gy))
    yt.backward(torch.tensor(gy))
    np.testing.assert_array_equal(xo.grad.data, xt.grad.numpy())
    if zt.grad is not None:
        np.testing.assert_array_equal(zo.grad.data, zt.grad.numpy())


# ----------------------------------------------------------------------------------------------
# float16 sums


def test_a_float16_sum_accumulates_in_float32_as_in_pytorch():
    x = tc.tensor(np.ones((4096, 2), dtype=np.float16))
    total = x.sum(dim=0)                             # a float16 running sum stops at 2048
    assert total.dtype == np.float16 and total.data.tolist() == [4096.0, 4096.0]
    assert np.isposinf(tc.tensor(np.ones(100_000, dtype=np.float16)).sum().item())  # > 65504


# ----------------------------------------------------------------------------------------------
# Against PyTorch


@pytest.mark.torch
@given(conv_with_nonfinite())
@SETTINGS
def test_conv2d_inf_and_nan_match_pytorch_float64(case):
    torch = pytest.importorskip("torch")
    x, w, dy, s, p, d, groups = case
    ours, _ = conv_both(x, w, dy, s, p, d, groups)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ty = torch.nn.functional.conv2d(tx, tw, stride=s, padding=p, dilation=d, groups=groups)
    ty.backward(torch.tensor(dy))
    for what, a, b in zip(("y", "dX", "dW"), ours, (ty.detach(), tx.grad, tw.grad)):
        assert_same_entries(a, b.numpy(), what)


@pytest.mark.torch
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_max_with_nan_matches_pytorch(dim):
    torch = pytest.importorskip("torch")
    data = np.array([[1.0, np.nan, 3.0], [2.0, 5.0, 4.0], [np.nan, 0.0, 7.0]])
    x, tx = tc.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    if dim is None:
        y, ty = x.max(), tx.max()                   # torch: MaxBackward1, NaN entries share
    else:                                           # at most one NaN, no ties per slice: the
        y, ty = x.max(dim=dim).values, tx.max(dim=dim).values   # same entry as torch's max(dim)
    y.sum().backward()
    ty.sum().backward()
    assert_same_entries(y.data, ty.detach().numpy(), "max")
    assert_same_entries(x.grad.data, tx.grad.numpy(), "its gradient")


@pytest.mark.torch
@pytest.mark.parametrize("dy", [1.0, np.nan, np.inf, -np.inf], ids=["1", "nan", "inf", "-inf"])
@pytest.mark.parametrize("how", ["max()", "min()", "amax()", "amax(1)", "amin(0)", "max(1)"])
def test_max_and_amax_with_nonfinite_inputs_and_gradients_match_pytorch(how, dy):
    torch = pytest.importorskip("torch")
    data = np.array([[1.0, np.nan, 3.0, 3.0], [2.0, 5.0, 5.0, -np.inf], [np.inf, 0.0, 7.0, 1.0]])
    run = {"max()": lambda t: t.max(), "min()": lambda t: t.min(), "amax()": lambda t: t.amax(),
           "amax(1)": lambda t: t.amax(1), "amin(0)": lambda t: t.amin(0),
           "max(1)": lambda t: t.max(1).values}[how]
    for rows in (data, data[1:]):                     # with a nan, and without
        x, tx = tc.tensor(rows, requires_grad=True), torch.tensor(rows, requires_grad=True)
        y, ty = run(x), run(tx)
        gy = np.full(ty.shape, dy)
        y.backward(tc.tensor(gy))
        ty.backward(torch.tensor(gy))
        assert_same_entries(y.data, ty.detach().numpy(), how)
        assert_same_entries(x.grad.data, tx.grad.numpy(), f"the gradient of {how}")


@st.composite
def pool_with_nonfinite(draw):
    k, s = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    p, d, ceil = draw(st.integers(0, k // 2)), draw(st.integers(1, 2)), draw(st.booleans())
    H = draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 7))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    x = rng.standard_normal((1, 2, H, H))
    for _ in range(draw(st.integers(1, 4))):
        x.flat[draw(st.integers(0, x.size - 1))] = draw(st.sampled_from(NONFINITE))
    return x, k, s, p, d, ceil


@pytest.mark.torch
@given(pool_with_nonfinite())
@SETTINGS
def test_max_pool_inf_and_nan_match_pytorch(case):
    torch = pytest.importorskip("torch")
    x, k, s, p, d, ceil = case
    X = tc.tensor(x, requires_grad=True)
    y, index = F.max_pool2d(X, k, s, p, d, ceil_mode=ceil, return_indices=True)
    if (index.data < 0).any():
        return          # a window of padding only: PyTorch's index there is arbitrary (unsafe)
    dy = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(dy)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.max_pool2d(tx, k, s, p, d, ceil_mode=ceil)
    ty.backward(torch.tensor(dy))
    assert_same_entries(y.data, ty.detach().numpy(), "max_pool2d")
    assert_same_entries(X.grad.data, tx.grad.numpy(), "its gradient")


@pytest.mark.torch
def test_max_pool_of_minus_inf_windows_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = np.array([[[[-np.inf, -np.inf, 1.0], [-np.inf, -np.inf, -np.inf], [2.0, -np.inf, -np.inf]]]])
    X, tx = tc.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.max_pool2d(X, 2, stride=1, padding=1).sum().backward()
    torch.nn.functional.max_pool2d(tx, 2, stride=1, padding=1).sum().backward()
    np.testing.assert_array_equal(X.grad.data, tx.grad.numpy())


@pytest.mark.torch
def test_float16_sums_match_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((1000, 100)).astype(np.float16)
    for dim in (0, 1, None):
        ours = tc.tensor(x).sum(dim=dim).data if dim is not None else tc.tensor(x).sum().data
        theirs = (torch.tensor(x).sum(dim) if dim is not None else torch.tensor(x).sum()).numpy()
        np.testing.assert_array_equal(ours, theirs)


def test_float16_mean_sums_and_divides_in_float32_as_pytorch():
    # 100,000 ones sum to more than float16's largest number (65504): the mean must still be 1
    assert tc.tensor(np.ones(100_000, np.float16)).mean().item() == 1.0
    assert tc.tensor(np.full(100_000, 0.1, np.float16)).mean().dtype == np.float16
    np.testing.assert_allclose(tc.tensor(np.full(100_000, 0.1, np.float16)).mean().item(), 0.1,
                               rtol=1e-3)
    assert np.isnan(tc.tensor(np.zeros(0, np.float32)).mean().item())      # empty: nan
