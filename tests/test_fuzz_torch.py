"""Property-based fuzzing of conv2d, max_pool2d, avg_pool2d and pad against PyTorch.

Hypothesis draws random arguments, valid and invalid alike: shapes (including empty and wrong
ranks), dtypes, strides, paddings, dilations, groups, kernel sizes, modes, and ill-typed values.
For each draw PyTorch is the judge:
- torch refuses -> we raise ValueError or TypeError, from our own argument checks in
  tinygrad_conv/functional.py (never from numpy or from inside a primitive);
- torch accepts -> we accept, and the forward values and every gradient match in float64.
The number of cases of each kind is printed at the end of the module.
"""
import collections
import traceback
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_conv as tc
import tinygrad_conv.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
pytestmark = pytest.mark.torch

EXAMPLES = 400                    # per primitive
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))
COUNTS = collections.Counter()    # (primitive, "accepted" | "refused") -> cases


@pytest.fixture(scope="module", autouse=True)
def report_case_counts(request):
    yield
    ops = sorted({op for op, _ in COUNTS})
    lines = [f"{op}: {COUNTS[op, 'accepted']} accepted, {COUNTS[op, 'refused']} refused" for op in ops]
    total = sum(COUNTS.values())
    text = f"fuzz against torch: {total} cases ({'; '.join(lines)})"
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        print(text)
        return
    with capture.global_and_fixture_disabled():   # shown even though output is captured
        reporter.write_line("")
        reporter.write_line(text)


# ----------------------------------------------------------------------------------------------
# The judge


def ours_raised_by_validation(err: BaseException) -> bool:
    """True if the exception was raised by our own argument checks, not by numpy or an op."""
    frame = traceback.extract_tb(err.__traceback__)[-1]
    return "tinygrad_conv/functional/" in frame.filename.replace("\\", "/")


def tolerance(dtype):
    """float64 to rounding; float32 loosely; integers and booleans exactly."""
    return {"float64": dict(rtol=1e-9, atol=1e-10), "float32": dict(rtol=1e-4, atol=1e-5)}.get(
        np.dtype(dtype).name, dict(rtol=0, atol=0))


def judge(name, ours, theirs, arrays, dtype, grads=True):
    """Run both frameworks on the same arrays; see the module docstring for the verdicts."""
    floating = np.dtype(dtype).kind == "f"
    mine = [tc.Tensor(a) for a in arrays]
    ref = [torch.tensor(a) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = theirs(*ref)
        except Exception as torch_error:          # noqa: BLE001  (torch's choice is the verdict)
            COUNTS[name, "refused"] += 1
            with pytest.raises((ValueError, TypeError)) as err:
                ours(*mine)
            assert ours_raised_by_validation(err.value), (
                f"torch refused ({torch_error!r}) but our error came from "
                f"{traceback.extract_tb(err.value.__traceback__)[-1]}: {err.value!r}")
            return
    COUNTS[name, "accepted"] += 1
    if floating and grads:                        # every floating-point argument gets a gradient
        for m in mine:
            m.requires_grad_(m.dtype.kind == "f")
        ref = [t.detach().requires_grad_(t.is_floating_point()) for t in ref]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = theirs(*ref)
    got = ours(*mine)
    if isinstance(expected, tuple):               # max_pool2d(return_indices=True)
        inside = got[1].data >= 0                 # a window of padding only has no input cell:
        np.testing.assert_array_equal(got[1].data[inside], expected[1].numpy()[inside])  # -1
        got, expected = got[0], expected[0]
    assert got.shape == tuple(expected.shape)
    assert got.dtype == torch.empty(0, dtype=expected.dtype).numpy().dtype
    np.testing.assert_allclose(got.data, expected.detach().numpy(), **tolerance(dtype))
    if not (floating and grads) or got.data.size == 0:
        return
    dy = np.random.standard_normal(got.shape).astype(dtype)
    dy[~np.isfinite(got.data)] = 0                # a window of padding only: -inf, no slope
    got.backward(dy)
    expected.backward(torch.tensor(dy))
    for m, r in zip(mine, ref):
        if r.grad is None:
            assert m.grad is None or not m.grad.data.any()
        else:
            np.testing.assert_allclose(m.grad.data, r.grad.numpy(), **tolerance(dtype))


# ----------------------------------------------------------------------------------------------
# Argument strategies: a plausible call, then zero to two mistakes of the kinds students make

NONSENSE = [1.5, None, "2", True, (1, 2, 3), (), [2, "a"]]
BAD_DTYPES = [np.float32, np.int64, np.int32, np.bool_]


def values(draw, shape, dtype=np.float64):
    """An array of `shape` with distinct entries (max-pool windows then have no ties)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    distinct = rng.permutation(int(np.prod(shape))).reshape(shape)
    if np.dtype(dtype).kind == "f":
        return (distinct / 7.0 - 1.0 + rng.uniform(-0.01, 0.01, shape)).astype(dtype)
    return (distinct % 3).astype(dtype)


def pair_or_int(draw, lo, hi):
    """An int, a pair, or a one-element list, as PyTorch accepts."""
    a, b = draw(st.integers(lo, hi)), draw(st.integers(lo, hi))
    return draw(st.sampled_from([a, a, (a, b), [a, b], [a]]))


def mistakes(draw, kinds):
    """Half of the cases are meant to be valid; the rest carry one or two mistakes."""
    if draw(st.booleans()):
        return set()
    return set(draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=2)))


def change_rank(draw, shape):
    """(N, C, H, W) -> a 2-D, 3-D (unbatched, valid) or 5-D shape."""
    rank = draw(st.sampled_from([2, 3, 5]))
    return {2: shape[2:], 3: shape[1:], 5: shape + [2]}[rank]


# ----------------------------------------------------------------------------------------------
# conv2d

CONV_MISTAKES = ["rank", "weight_rank", "channels", "channels_last", "groups", "groups_nonpositive",
                 "stride", "dilation", "padding", "padding_string", "same_with_stride", "bias",
                 "dtype", "bias_dtype", "integer", "bool", "nonsense", "kernel", "empty_weight",
                 "tiny_input"]


@st.composite
def conv2d_case(draw):
    g = draw(st.sampled_from([1, 1, 1, 2, 3]))
    cg, fg = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    shape = [draw(st.integers(1, 2)), g * cg, draw(st.integers(1, 7)), draw(st.integers(1, 7))]
    w_shape = [g * fg, cg, kh, kw]
    params = dict(stride=pair_or_int(draw, 1, 3),
                  padding=draw(st.one_of(st.sampled_from(["valid", "same"]),
                                         st.builds(lambda v: v, st.integers(0, 3)),
                                         st.tuples(st.integers(0, 3), st.integers(0, 3)))),
                  dilation=pair_or_int(draw, 1, 3), groups=g)
    if params["padding"] == "same":
        params["stride"] = 1
    dtype, w_dtype, bias = np.float64, np.float64, draw(st.booleans())
    bias_shape = (g * fg,)
    wrong = mistakes(draw, CONV_MISTAKES)
    if "rank" in wrong:
        shape = change_rank(draw, shape)
    if "weight_rank" in wrong:
        w_shape = w_shape[:draw(st.integers(1, 3))]
    if "channels" in wrong:
        shape[-3 if len(shape) >= 3 else 0] += draw(st.sampled_from([-1, 1, 2]))
    if "channels_last" in wrong and len(shape) == 4:
        shape = [shape[0], shape[2], shape[3], shape[1]]
    if "groups" in wrong:
        params["groups"] = draw(st.integers(2, 4))
    if "groups_nonpositive" in wrong:
        params["groups"] = draw(st.integers(-1, 0))
    if "stride" in wrong:
        params["stride"] = draw(st.sampled_from([0, -1, (1, 0), (0, 2)]))
    if "dilation" in wrong:
        params["dilation"] = draw(st.sampled_from([0, -1, (1, 0), (-2, 1)]))
    if "padding" in wrong:
        params["padding"] = draw(st.sampled_from([-1, (0, -1), (-2, 1)]))
    if "padding_string" in wrong:
        params["padding"] = draw(st.sampled_from(["full", "SAME", ""]))
    if "same_with_stride" in wrong:
        params.update(padding="same", stride=draw(st.sampled_from([2, (1, 2)])))
    if "bias" in wrong:
        bias, bias_shape = True, draw(st.sampled_from([(w_shape[0] + 1,), (1, w_shape[0]), ()]))
    if "dtype" in wrong:
        w_dtype = draw(st.sampled_from(BAD_DTYPES))
    if "integer" in wrong:
        dtype = w_dtype = draw(st.sampled_from([np.int64, np.int32]))
    if "bool" in wrong:
        dtype = w_dtype = np.bool_
    if "nonsense" in wrong:
        params[draw(st.sampled_from(sorted(params)))] = draw(st.sampled_from(NONSENSE))
    if "kernel" in wrong:
        w_shape[2:] = [k + 6 for k in w_shape[2:]]
    if "empty_weight" in wrong:
        w_shape[0] = 0
    if "tiny_input" in wrong:
        shape[-2:] = [1, 1]
    x, w = values(draw, shape, dtype), values(draw, w_shape, w_dtype)
    b_dtype = draw(st.sampled_from(BAD_DTYPES)) if "bias_dtype" in wrong else w_dtype
    b = values(draw, bias_shape, b_dtype) if bias else None
    return x, w, b, params


@SETTINGS
@given(conv2d_case())
def test_conv2d_agrees_with_torch(case):
    x, w, bias, params = case
    arrays = [x, w] + ([] if bias is None else [bias])
    judge("conv2d", lambda *t: F.conv2d(*t, **params), lambda *t: TF.conv2d(*t, **params),
          arrays, x.dtype)


# ----------------------------------------------------------------------------------------------
# max_pool2d and avg_pool2d

POOL_MISTAKES = ["rank", "kernel", "stride", "padding", "padding_over_half", "nonsense", "integer",
                 "bool", "float32", "tiny_input", "empty_channels", "triple"]


@st.composite
def pool_case(draw, extra_mistakes=()):
    k = pair_or_int(draw, 1, 4)
    kernel = (k, k) if isinstance(k, int) else tuple(k) * (2 // len(k))
    params = dict(kernel_size=k,
                  stride=draw(st.sampled_from([None, None, ()])) if draw(st.booleans())
                  else pair_or_int(draw, 1, 3),
                  padding=pair_or_int(draw, 0, min(kernel) // 2),
                  ceil_mode=draw(st.booleans()))
    shape = [draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 7)),
             draw(st.integers(1, 7))]
    dtype = np.float64
    wrong = mistakes(draw, POOL_MISTAKES + list(extra_mistakes))
    if "rank" in wrong:
        shape = change_rank(draw, shape)
    if "kernel" in wrong:
        params["kernel_size"] = draw(st.sampled_from([0, -1, (2, 0), (0, 0)]))
    if "stride" in wrong:
        params["stride"] = draw(st.sampled_from([0, -1, (1, 0)]))
    if "padding" in wrong:
        params["padding"] = draw(st.sampled_from([-1, (0, -1)]))
    if "padding_over_half" in wrong:
        params["padding"] = max(kernel) // 2 + draw(st.integers(1, 2))
    if "nonsense" in wrong:
        params[draw(st.sampled_from(["kernel_size", "stride", "padding"]))] = \
            draw(st.sampled_from(NONSENSE))
    if "integer" in wrong:
        dtype = draw(st.sampled_from([np.int64, np.int32]))
    if "bool" in wrong:
        dtype = np.bool_
    if "float32" in wrong:
        dtype = np.float32
    if "tiny_input" in wrong:
        shape[-2:] = [1, draw(st.integers(1, 2))]
    if "empty_channels" in wrong and len(shape) >= 3:
        shape[-3] = 0
    if "triple" in wrong:
        params[draw(st.sampled_from(["kernel_size", "stride", "padding"]))] = (1, 1, 1)
    return values(draw, shape, dtype), params, wrong


@SETTINGS
@given(pool_case(extra_mistakes=["dilation"]), st.data())
def test_max_pool2d_agrees_with_torch(case, data):
    x, params, wrong = case
    dilation = data.draw(st.sampled_from([0, -1, (1, 0), 1.5])) if "dilation" in wrong \
        else pair_or_int(data.draw, 1, 2)
    params = dict(params, dilation=dilation, return_indices=data.draw(st.booleans()))
    judge("max_pool2d", lambda t: F.max_pool2d(t, **params), lambda t: TF.max_pool2d(t, **params),
          [x], x.dtype)


@SETTINGS
@given(pool_case(extra_mistakes=["divisor"]), st.data())
def test_avg_pool2d_agrees_with_torch(case, data):
    x, params, wrong = case
    divisor = data.draw(st.sampled_from([0, 1.5, "2"])) if "divisor" in wrong \
        else data.draw(st.sampled_from([None, None, 1, 3, -2]))
    params = dict(params, count_include_pad=data.draw(st.booleans()), divisor_override=divisor)
    judge("avg_pool2d", lambda t: F.avg_pool2d(t, **params), lambda t: TF.avg_pool2d(t, **params),
          [x], x.dtype)


# ----------------------------------------------------------------------------------------------
# pad

PAD_MISTAKES = ["odd_length", "too_long", "float_entry", "nonsense", "value_with_mode", "mode",
                "too_wide", "rank", "integer", "bool", "crop_too_much", "empty_dim"]


@st.composite
def pad_case(draw):
    mode = draw(st.sampled_from(["constant", "constant", "reflect", "replicate", "circular"]))
    if mode == "constant":
        rank = draw(st.integers(0, 5))
        k = draw(st.integers(0, rank))
    else:                                         # 1-3 padded dims, input with 1 or 2 more
        k = draw(st.integers(1, 3))
        rank = k + draw(st.integers(1, 2))
    shape = [draw(st.integers(1, 4)) for _ in range(rank)]
    limit = {"constant": 3, "reflect": None, "replicate": 3, "circular": None}[mode]
    widths = []
    for n in reversed(shape[rank - k:]):            # last dimension first, as PyTorch
        top = n - 1 if mode == "reflect" else n if mode == "circular" else limit
        widths += [draw(st.integers(-min(n - 1, 2), top)), draw(st.integers(-min(n - 1, 2), top))]
        if widths[-2] + widths[-1] + n < 1:
            widths[-1] = 0
        if mode == "circular":                    # copying more than what cropping keeps makes
            kept = n - max(-widths[-2], 0) - max(-widths[-1], 0)   # torch read its own output
            widths[-2:] = [min(w, kept) for w in widths[-2:]]
    value = draw(st.sampled_from([None, 0.0, 1.5])) if mode == "constant" else None
    dtype = np.float64
    wrong = mistakes(draw, PAD_MISTAKES)
    if "odd_length" in wrong:
        widths.append(1)
    if "too_long" in wrong:
        widths += [1, 1] * (rank - k + 1)
    if "float_entry" in wrong and widths:
        widths[0] = float(widths[0])
    if "value_with_mode" in wrong:
        value = draw(st.sampled_from([1.0, -2.0]))
    if "mode" in wrong:
        mode = draw(st.sampled_from(["wrap", "symmetric", "Reflect"]))
    if "too_wide" in wrong and widths and shape:
        widths[0] = shape[-1] + draw(st.integers(0, 3))
    if "rank" in wrong:
        shape = shape + [2] * draw(st.integers(1, 2))
    if "integer" in wrong:
        dtype = np.int64
    if "bool" in wrong:
        dtype = np.bool_
    if "crop_too_much" in wrong and widths and shape:
        widths[0] = -shape[-1] - draw(st.integers(0, 2))
    if "empty_dim" in wrong and shape:
        shape[-1] = 0
    pad = draw(st.sampled_from(NONSENSE)) if "nonsense" in wrong else draw(
        st.sampled_from([tuple(widths), list(widths)]))
    return values(draw, shape, dtype), pad, mode, value


def wraps_more_than_once(shape, widths, mode) -> bool:
    """Circular padding that copies more entries than cropping keeps: torch then reads its own
    half-written output (it raises only when it notices the overlap); we always refuse."""
    if mode != "circular" or not isinstance(widths, (tuple, list)) or len(widths) % 2 \
            or len(widths) > 2 * len(shape) or not all(isinstance(w, int) for w in widths):
        return False
    for j, n in enumerate(reversed(shape[len(shape) - len(widths) // 2:])):
        b, a = widths[2 * j], widths[2 * j + 1]
        if max(b, a) > n - max(-b, 0) - max(-a, 0) and n + b + a > 0:
            return True
    return False


@SETTINGS
@given(pad_case())
def test_pad_agrees_with_torch(case):
    x, widths, mode, value = case
    kwargs = dict(mode=mode) if value is None else dict(mode=mode, value=value)
    if wraps_more_than_once(x.shape, widths, mode) and x.ndim in (len(widths) // 2 + 1, len(widths) // 2 + 2):
        COUNTS["pad", "refused"] += 1
        with pytest.raises(ValueError) as err:
            F.pad(tc.Tensor(x), widths, **kwargs)
        assert ours_raised_by_validation(err.value)
        return
    judge("pad", lambda t: F.pad(t, widths, **kwargs), lambda t: TF.pad(t, widths, **kwargs),
          [x], x.dtype)


# ----------------------------------------------------------------------------------------------
# Empty batches (the fuzz above keeps every size positive: for zero-size inputs torch skips
# some of its own checks, e.g. it accepts dilation=0 when the batch is empty)

EMPTY_BATCH_CASES = {
    "conv2d": (lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: TF.conv2d(x, w, padding=1)),
    "max_pool2d": (lambda x, w: F.max_pool2d(x, 2), lambda x, w: TF.max_pool2d(x, 2)),
    "avg_pool2d": (lambda x, w: F.avg_pool2d(x, 3, 2, 1), lambda x, w: TF.avg_pool2d(x, 3, 2, 1)),
    "pad": (lambda x, w: F.pad(x, (1, 2, 2, 1), mode="reflect"),
            lambda x, w: TF.pad(x, (1, 2, 2, 1), mode="reflect")),
}


@pytest.mark.parametrize("name", sorted(EMPTY_BATCH_CASES))
def test_an_empty_batch_gives_an_empty_result_as_in_torch(name):
    ours, theirs = EMPTY_BATCH_CASES[name]
    x, w = np.zeros((0, 2, 5, 5)), np.ones((3, 2, 3, 3))
    expected = theirs(torch.tensor(x), torch.tensor(w))
    got = ours(tc.Tensor(x, requires_grad=True), tc.Tensor(w, requires_grad=True))
    assert got.shape == tuple(expected.shape)
    got.sum().backward()


# ----------------------------------------------------------------------------------------------
# The rest of the contract: linear's bias and cross_entropy's full signature, against torch

@pytest.mark.parametrize("bias_shape", [(4,), (1, 4), (2, 4), (), (1,), (5,), (3, 4), (2, 1, 4)])
def test_linear_accepts_exactly_the_biases_torch_accepts(bias_shape):
    x, w, b = np.random.randn(2, 3), np.random.randn(4, 3), np.random.randn(*bias_shape)
    judge("linear", F.linear, TF.linear, [x, w, b], np.float64)


@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 4, 3)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 1])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2, 1.0])
@pytest.mark.parametrize("probabilities", [False, True])
def test_cross_entropy_matches_torch_over_its_signature(shape, reduction, weighted, ignore_index,
                                                        label_smoothing, probabilities):
    C = shape[1] if len(shape) > 1 else shape[0]
    logits = np.random.standard_normal(shape)
    if probabilities:
        target = np.random.dirichlet(np.ones(C), size=int(np.prod(shape)) // C)
        target = np.moveaxis(target.reshape((shape[0],) + shape[2:] + (C,)), -1, 1) \
            if len(shape) > 1 else target[0]
    else:
        target = np.random.randint(0, C, size=shape[:1] + shape[2:] if len(shape) > 1 else ())
    weight = np.random.uniform(0.5, 1.5, C) if weighted else None   # a constant, as in torch
    kwargs = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing)
    judge("cross_entropy",
          lambda x, t: F.cross_entropy(x, t, None if weight is None else tc.Tensor(weight), **kwargs),
          lambda x, t: TF.cross_entropy(x, t, None if weight is None else torch.tensor(weight), **kwargs),
          [logits, target], np.float64)
