"""Autograd safety: misuse of backward, in-place changes to saved tensors, anomaly mode, deep graphs.

Every test here checks that a mistake is answered by a clear error (naming the op, the tensor and
the fix), never by a silently wrong gradient. Torch-free.
"""
import gc
import os
import re
import warnings

import numpy as np
import pytest

import tinygrad_conv as tc
import tinygrad_conv.functional as F
from tinygrad_conv import nn, optim
from tinygrad_conv.autograd.guards import CHECKSUM_BYTES, LOCK_COUNTS

HERE = os.path.basename(__file__)


def leaf(*values, shape=None):
    data = np.asarray(values, dtype=np.float64) if shape is None else np.random.randn(*shape)
    return tc.tensor(data, requires_grad=True)


def lineno_of(marker: str) -> int:
    """Line number of the first line of this file containing `marker`."""
    with open(__file__) as source:
        return next(i for i, line in enumerate(source, 1) if marker in line and "lineno_of" not in line)


# ----------------------------------------------------------------------------------------------
# Misusing backward


def test_second_backward_through_a_freed_graph_says_retain_graph():
    x = leaf(1.0, 2.0)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_backward_again_and_accumulates():
    x = leaf(1.0, 2.0)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 8.0])


def test_non_scalar_backward_without_gradient_says_what_to_do():
    y = leaf(1.0, 2.0) * 3
    with pytest.raises(RuntimeError, match=r"scalar outputs.*\(2,\).*sum\(\)\.backward\(\)"):
        y.backward()


@pytest.mark.parametrize("shape", [(3,), (1, 2), ()])
def test_gradient_of_the_wrong_shape_names_both_shapes(shape):
    y = leaf(1.0, 2.0) * 3
    with pytest.raises(RuntimeError, match=re.escape(f"gradient has shape {shape} but the output has shape (2,)")):
        y.backward(np.ones(shape))


@pytest.mark.parametrize("gradient", [np.array([True, False]), np.array([1j, 2j]), np.array(["a", "b"])])
def test_gradient_that_is_not_real_numbers_is_refused(gradient):
    y = leaf(1.0, 2.0) * 3
    with pytest.raises(TypeError, match="gradient must hold real numbers|complex numbers are not "
                                        "supported|cannot make a tensor"):
        y.backward(gradient)


def test_integer_and_float64_gradients_are_cast_to_the_output_dtype_as_in_pytorch():
    x = tc.tensor([1.0, 2.0], requires_grad=True)          # float32
    (x * 3).backward(np.array([1, 2]))
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [3.0, 6.0])
    x.grad = None
    (x * 3).backward(tc.tensor(np.array([1.0, 1.0])))     # float64
    assert x.grad.dtype == np.float32


def test_backward_of_a_tensor_that_needs_no_grad_explains():
    with pytest.raises(RuntimeError, match="requires_grad=True"):
        tc.tensor([1.0, 2.0]).sum().backward()


# ----------------------------------------------------------------------------------------------
# In-place changes after a tensor was saved for backward


def test_writing_into_a_saved_leaf_names_the_op():
    x = leaf(1.0, 2.0, 3.0)
    w = leaf(0.5, 0.5, 0.5)
    y = (x * w).sum()
    x.data[0] = 5.0                               # w's gradient is x: it would silently be wrong
    with pytest.raises(RuntimeError, match=r"gradient of 'mul'.*input 0 of shape \(3,\).*overwritten"):
        y.backward()


@pytest.mark.parametrize("write", ["augmented", "assign", "slice", "zero_", "mark_modified", "alias"])
def test_every_kind_of_write_into_a_saved_leaf_is_detected(write):
    array = np.array([1.0, 2.0, 3.0])
    x = tc.from_numpy(array).requires_grad_()     # shares memory with `array`
    y = (x * x).sum()
    if write == "augmented":
        x.data += 1
    elif write == "assign":
        x.data = np.zeros(3)
    elif write == "slice":
        x.data[1:] = 0
    elif write == "zero_":
        with tc.no_grad():                        # (outside no_grad a leaf refuses in-place ops)
            x.zero_()
    elif write == "mark_modified":
        x.mark_modified()
    else:
        array[2] = 7.0                            # through the caller's own ndarray
    with pytest.raises(RuntimeError, match="gradient of 'mul' was modified after the op ran"):
        y.backward()


def test_the_error_names_the_op_and_the_tensor_and_suggests_detect_anomaly():
    w = leaf(shape=(2, 1, 3, 3))
    w.name = "kernel"
    x = tc.tensor(np.random.randn(1, 1, 5, 5), requires_grad=True)    # dX reads w
    y = F.conv2d(x, w).sum()
    w.data[0, 0, 0, 0] += 1.0
    with pytest.raises(RuntimeError) as err:
        y.backward()
    message = str(err.value)
    for fragment in ("'conv2d'", "input 1 'kernel'", "(2, 1, 3, 3)", "detect_anomaly"):
        assert fragment in message


def test_under_detect_anomaly_the_error_gives_the_line_that_created_the_op():
    x = leaf(1.0, 2.0)
    with tc.detect_anomaly():
        y = (x * x).sum()  # created-here
    x.data[0] = 3.0
    with pytest.raises(RuntimeError, match=rf"{HERE}:{lineno_of('# created-here')}"):
        y.backward()


def big_leaf():
    """A leaf whose intermediate results are large enough to be locked, not checksummed."""
    return tc.tensor(np.linspace(-1, 1, 2 * CHECKSUM_BYTES // 8), requires_grad=True)


def test_writing_into_a_small_saved_intermediate_is_caught_by_backward():
    x = leaf(1.0, 2.0)
    h = x * 2
    y = (h * h).sum()
    h.data[0] = 5.0
    with pytest.raises(RuntimeError, match=r"gradient of 'mul'.*input 0 of shape \(2,\).*overwritten"):
        y.backward()


def test_a_write_through_a_view_of_a_small_saved_intermediate_is_caught_by_backward():
    x = leaf(1.0, 2.0, 3.0, 4.0)
    h = x * 2
    v = h.reshape(2, 2)                           # shares h's memory
    y = (h * h).sum()
    v.data[1, 1] = 0.0
    with pytest.raises(RuntimeError, match="gradient of 'mul'.*overwritten"):
        y.backward()


def test_writing_into_a_large_saved_intermediate_fails_at_once_and_works_after_backward():
    x = big_leaf()
    h = x * 2
    y = (h * h).sum()
    with pytest.raises(ValueError, match="read-only"):
        h.data[0] = 5.0
    with pytest.raises(ValueError, match="read-only"):
        h.data += 1
    y.backward()
    np.testing.assert_allclose(x.grad.data, 8 * x.data)       # d(4x^2)/dx = 8x
    h.data[0] = 5.0                               # the graph is freed: writable again


def test_a_view_returned_by_an_op_is_protected_like_its_base():
    x = big_leaf()
    h = x * 2
    v = h.reshape(2, -1)                          # shares h's memory
    y = (h * h).sum()
    with pytest.raises(ValueError, match="read-only"):
        v.data[0, 0] = 5.0
    y.backward()
    np.testing.assert_allclose(x.grad.data, 8 * x.data)


def test_dropping_a_graph_without_backward_makes_its_buffers_writable():
    x = big_leaf()
    h = x * 2
    y = (h * h).sum()
    del y
    gc.collect()
    h.data[0] = 5.0                               # only h's own node is left, and it saved x
    assert id(h.data) not in LOCK_COUNTS


def test_shared_buffer_stays_protected_until_its_last_graph_is_gone():
    x = big_leaf()
    h = x * 2
    first, second = (h * h).sum(), h.exp().sum()  # both VJPs read h
    del first
    gc.collect()
    with pytest.raises(ValueError, match="read-only"):
        h.data[0] = 5.0                           # `second` still needs h
    del second
    gc.collect()
    h.data[0] = 5.0


def test_zero_on_a_recorded_intermediate_is_recorded_with_gradient_zero():
    x = leaf(1.0, 2.0)
    h = x * 3
    h.zero_()                                     # as PyTorch: h stays in the graph
    (h + x).sum().backward()
    np.testing.assert_array_equal(h.data, [0.0, 0.0])
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


@pytest.mark.parametrize("make", [lambda: leaf(1.0, 2.0), big_leaf], ids=["small", "large"])
def test_zero_under_no_grad_keeps_the_saved_values_and_the_stale_graph_refuses(make):
    x = make()
    h = x * 3
    y = (h * h).sum()
    buffer, values = h.data, h.data.copy()
    with tc.no_grad():
        h.zero_()
    assert not h.data.any()
    if make is big_leaf:                          # its locked buffer was copied, not overwritten
        assert not buffer.flags.writeable
        np.testing.assert_array_equal(buffer, values)
    with pytest.raises(RuntimeError, match="'mul'.*version went from 0 to 1"):
        y.backward()


def test_optimizer_step_after_backward_then_a_new_forward_is_exact():
    model = nn.Linear(3, 1).double()
    opt = optim.SGD(model.parameters(), lr=0.1)
    x = tc.tensor(np.random.randn(4, 3))
    for _ in range(3):
        opt.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        w, b = model.weight.data.copy(), model.bias.data.copy()
        dw = 2 * ((x.data @ w.T + b) * x.data).mean(axis=0, keepdims=True)
        np.testing.assert_allclose(model.weight.grad.data, dw, rtol=1e-12)
        opt.step()
        np.testing.assert_allclose(model.weight.data, w - 0.1 * dw, rtol=1e-12)


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: optim.Adam(ps, lr=0.1)])
def test_optimizer_step_under_a_retained_graph_works_and_the_stale_graph_refuses(make):
    model = nn.Linear(3, 2).double()
    opt = make(model.parameters())
    loss = model(tc.tensor(np.random.randn(4, 3))).sum()
    loss.backward(retain_graph=True)
    before = model.weight.data.copy()
    opt.step()                                    # writes into the saved weight in place
    assert not np.array_equal(model.weight.data, before)
    with pytest.raises(RuntimeError, match="modified after the op ran"):
        loss.backward()


def test_load_state_dict_under_a_retained_graph_works_and_the_stale_graph_refuses():
    model = nn.Linear(3, 2).double()
    loss = model(tc.tensor(np.random.randn(4, 3))).sum()
    loss.backward(retain_graph=True)
    model.load_state_dict({k: np.ones_like(v.data) for k, v in model.state_dict().items()})
    with pytest.raises(RuntimeError, match="modified after the op ran"):
        loss.backward()


def test_gradcheck_may_perturb_its_inputs_in_place():
    x = leaf(shape=(1, 2, 4, 4))
    assert tc.gradcheck(lambda t: F.max_pool2d(t * t, 2), x)


# ----------------------------------------------------------------------------------------------
# detect_anomaly


def test_anomaly_names_the_forward_op_and_the_users_line():
    x = leaf(-1.0, 4.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with tc.detect_anomaly():
            with pytest.raises(FloatingPointError) as err:
                x.sqrt()  # forward-nan
    message = str(err.value)
    assert "forward output of 'sqrt' contains nan" in message
    assert "this op produced it" in message
    assert f"{HERE}:{lineno_of('# forward-nan')}" in message


def test_anomaly_says_when_the_nan_came_from_an_input():
    bad = tc.tensor([np.nan, 1.0])
    with tc.detect_anomaly():
        with pytest.raises(FloatingPointError, match="'mul' contains nan.*input 1 already contains nan"):
            leaf(1.0, 2.0) * bad


def test_anomaly_names_the_op_whose_gradient_is_not_finite():
    x = leaf(0.0, 4.0)
    with tc.detect_anomaly():
        y = x.sqrt().sum()  # backward-inf       (sqrt(0) is fine, its slope 1/(2 sqrt 0) is not)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            with pytest.raises(FloatingPointError) as err:
                y.backward()
    message = str(err.value)
    assert "gradient for input 0 of 'sqrt' contains inf" in message
    assert f"{HERE}:{lineno_of('# backward-inf')}" in message


def test_anomaly_also_checks_ops_that_record_nothing_and_decorates_functions():
    @tc.detect_anomaly()
    def log_of(values):
        return tc.tensor(values).log()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(FloatingPointError, match="'log' contains inf"):
            log_of([0.0, 1.0])
        assert tc.tensor([0.0]).log().data[0] == -np.inf         # off again outside


def test_without_anomaly_mode_nan_flows_through_silently_as_in_pytorch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        y = leaf(-1.0).sqrt()
    assert np.isnan(y.data[0])


# ----------------------------------------------------------------------------------------------
# Numerics and deep graphs


def test_gradcheck_given_float32_explains_that_float64_is_needed():
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"float64.*x\.double\(\)"):
        tc.gradcheck(lambda t: t * t, x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_softmax_and_cross_entropy_are_exact_for_logits_of_1e4(dtype):
    logits = tc.tensor(np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]], dtype=dtype), requires_grad=True)
    expected = np.array([[0.0, -1e4, -2e4], [-1e4 - np.log(2), -np.log(2), -np.log(2)]])
    np.testing.assert_allclose(F.log_softmax(logits, dim=1).data, expected, rtol=1e-6)
    loss = F.cross_entropy(logits, tc.tensor(np.array([1, 2])))
    np.testing.assert_allclose(loss.data, (1e4 + np.log(2)) / 2, rtol=1e-6)
    loss.backward()
    softmax = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
    onehot = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert np.isfinite(logits.grad.data).all()
    np.testing.assert_allclose(logits.grad.data, (softmax - onehot) / 2, atol=1e-7)


def chain(n):
    x = leaf(1.0, 2.0)
    y = x
    for _ in range(n):
        y = y * 1.0
    return x, y


def test_100k_op_chain_backward_and_drop_without_backward():
    x, y = chain(100_000)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])
    x, y = chain(100_000)
    del y                                         # freeing an unused deep graph must not recurse
    gc.collect()


def test_100k_op_chain_can_be_drawn():
    pytest.importorskip("graphviz")
    from tinygrad_conv import viz
    x, y = chain(100_000)
    source = viz.draw(y).source
    assert source.count("->") >= 200_000          # tensor -> op -> tensor for each of the ops
