"""The compiled max-pool gradient routing (tinygrad_conv/compiled/pool.py) gives exactly the NumPy
reference's gradients, over windows with ties, NaN and -inf and NaN gradients."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

pytest.importorskip("numba")

from tinygrad_conv import compiled  # noqa: E402
from tinygrad_conv.autograd import Tensor  # noqa: E402
from tinygrad_conv.functional.pool import _pool_args  # noqa: E402
from tinygrad_conv.ops import pool  # noqa: E402


def both(monkeypatch, fn, *args, **kwargs):
    """fn's result with the NumPy reference, then with the compiled kernels."""
    results = []
    for enabled in (False, True):
        monkeypatch.setattr(compiled, "ENABLED", enabled)
        results.append(fn(*args, **kwargs))
    return results


@st.composite
def pool_cases(draw):
    """A max-pool's input (few distinct values, with -inf and NaN: many ties) and parameters."""
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    ceil_mode = draw(st.booleans())
    size = tuple(draw(st.integers((k - 1) * d + 1, 12)) for k, d in zip(kernel, dilation))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.choice(np.array([-np.inf, -1.0, 0.0, 2.0, np.nan], dtype=dtype),
                   size=(2, 2) + size, p=draw(st.sampled_from([(0.2, 0.3, 0.3, 0.2, 0.0),
                                                               (0.2, 0.2, 0.2, 0.2, 0.2),
                                                               (0.9, 0.1, 0.0, 0.0, 0.0)])))
    # the primitive's parameters as F.max_pool2d normalises them (ceil_mode's extra border)
    return (x,) + _pool_args("max_pool2d", Tensor(x), kernel, stride, padding, dilation, ceil_mode)


@settings(max_examples=150, deadline=None)
@given(pool_cases(), st.integers(0, 2**32 - 1))
def test_compiled_route_matches_numpy(monkeypatch_session, case, seed):
    x, kernel, stride, pads, dilation = case
    tap = pool.window_max(x, kernel, stride, pads, dilation)[1]
    rng = np.random.default_rng(seed)
    dy = rng.standard_normal(tap.shape).astype(x.dtype)
    dy[rng.random(tap.shape) < 0.1] = np.nan                 # a NaN dy reaches its winner only
    dx0, dx1 = both(monkeypatch_session, pool.route2d.forward, dy, tap, size=x.shape[2:],
                    kernel=kernel, stride=stride, padding=pads, dilation=dilation)
    assert dx1.dtype == dx0.dtype and dx1.shape == dx0.shape == x.shape
    np.testing.assert_array_equal(dx1, dx0)                    # the same sums in the same order


def test_compiled_kernels_are_used_only_for_floats_of_one_dtype(monkeypatch):
    monkeypatch.setattr(compiled, "ENABLED", True)
    assert compiled.kernels_for("pool", np.float32) is not None
    assert compiled.kernels_for("conv", np.dtype(np.float64), np.float64) is not None
    assert compiled.kernels_for("pool", np.int64) is None
    assert compiled.kernels_for("conv", np.float32, np.float64) is None
    monkeypatch.setattr(compiled, "ENABLED", False)
    assert compiled.kernels_for("pool", np.float64) is None


@pytest.fixture(scope="module")
def monkeypatch_session():
    """One MonkeyPatch for a hypothesis test's many examples (function-scoped fixtures are not
    reset between them)."""
    with pytest.MonkeyPatch.context() as patch:
        yield patch
