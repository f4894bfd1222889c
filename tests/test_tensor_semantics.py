"""PyTorch's tensor semantics, checked without torch: in-place writes and their autograd rules,
setitem, max/min with indices, dtype inference and promotion, powers, the Python and numpy
protocols, factories, devices. (tests/test_torch_api.py checks the same against torch.)"""
import math

import numpy as np
import pytest

import tinygrad_conv as tc
from tinygrad_conv import Tensor


def leaf(*values, dtype=np.float64):
    return tc.tensor(np.array(values, dtype=dtype), requires_grad=True)


# --- in-place operators: true writes, PyTorch's rules ------------------------------------------

@pytest.mark.parametrize("op, expected", [
    (lambda p: p.__isub__(1), [0.0, 1.0]), (lambda p: p.__iadd__(1), [2.0, 3.0]),
    (lambda p: p.__imul__(3), [3.0, 6.0]), (lambda p: p.__itruediv__(2), [0.5, 1.0]),
    (lambda p: p.sub_(1, alpha=2), [-1.0, 0.0]), (lambda p: p.add_(tc.tensor([1.0, 1.0])), [2.0, 3.0]),
    (lambda p: p.mul_(0), [0.0, 0.0]), (lambda p: p.div_(4), [0.25, 0.5]),
    (lambda p: p.zero_(), [0.0, 0.0]), (lambda p: p.fill_(7), [7.0, 7.0]),
    (lambda p: p.copy_(tc.tensor([5.0, 6.0])), [5.0, 6.0]), (lambda p: p.clamp_(1.5, 1.8), [1.5, 1.8]),
])
def test_in_place_ops_write_into_the_same_tensor_and_memory(op, expected):
    p = leaf(1.0, 2.0)
    memory, version = p.data, p._version
    with tc.no_grad():
        assert op(p) is p
    assert p.data is memory and p.is_leaf and p.requires_grad
    np.testing.assert_array_equal(p.data, expected)
    assert p._version == version + 1


def test_manual_sgd_updates_the_parameter_itself():
    w = leaf(1.0, -2.0)
    params = [w]
    loss = (w * w).sum()
    loss.backward()
    with tc.no_grad():
        w -= 0.1 * w.grad
    assert params[0] is w
    np.testing.assert_allclose(w.data, [0.8, -1.6])


@pytest.mark.parametrize("op", [lambda p: p.__isub__(1), lambda p: p.zero_(), lambda p: p.fill_(1),
                                lambda p: p.uniform_(), lambda p: p.normal_(),
                                lambda p: p.copy_(tc.zeros(2, dtype=np.float64))])
def test_in_place_on_a_leaf_that_requires_grad_is_refused_outside_no_grad(op):
    p = leaf(1.0, 2.0)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an "
                                           "in-place operation"):
        op(p)
    np.testing.assert_array_equal(p.data, [1.0, 2.0])


def test_setitem_and_views_of_a_leaf_that_requires_grad_are_refused():
    p = leaf(1.0, 2.0)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
        p[0] = 5.0
    with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
        p[0].add_(1)
    with tc.no_grad():
        p[0].add_(1)                                  # allowed, and writes through the view
    np.testing.assert_array_equal(p.data, [2.0, 2.0])


def test_in_place_on_a_recorded_tensor_is_recorded():
    x = leaf(1.0, 2.0)
    y = x * 2
    y *= x                                            # y = 2x^2
    y += 1
    y.sum().backward()
    np.testing.assert_allclose(y.data, [3.0, 9.0])
    np.testing.assert_allclose(x.grad.data, [4.0, 8.0])
    assert not y.is_leaf


@pytest.mark.parametrize("write, out_of_place", [
    (lambda y, x: y.__iadd__(y), lambda y, x: y + y),
    (lambda y, x: y.__iadd__(y * 2), lambda y, x: y + y * 2),
    (lambda y, x: y.mul_(y.exp()), lambda y, x: y * y.exp()),
    (lambda y, x: y.copy_(y * x), lambda y, x: y * x),
])
def test_an_in_place_op_that_reads_its_own_target_reads_the_old_values(write, out_of_place):
    """y += y * 2 must not make y its own ancestor: the right side saw the old y."""
    def f(x, fn):
        y = x * 1.5
        y = fn(y, x) if fn is out_of_place else (write(y, x), y)[1]
        return y * y

    x = leaf(0.3, -0.7)
    np.testing.assert_allclose(f(x, write).data, f(x, out_of_place).data)
    assert tc.gradcheck(lambda x: f(x, write), x)


def test_recorded_in_place_ops_pass_gradcheck():
    def f(x, w):
        y = x * 1.0
        y *= w
        y -= x.sin()
        y.div_(w + 3)
        y.clamp_(-0.4, 0.9)
        return y

    x = leaf(0.1, -0.5, 1.2)
    w = leaf(0.7, 1.3, -0.2)
    assert tc.gradcheck(f, x, w)


def test_a_graph_that_saved_the_tensor_refuses_to_backward_after_the_write():
    x = leaf(1.0, 2.0)
    y = x * 2
    z = y * y                                         # saved y
    y += 1
    with pytest.raises(RuntimeError, match="modified after the op ran.*in-place op"):
        z.sum().backward()


def test_a_locked_buffer_is_copied_before_the_write():
    x = tc.tensor(np.random.standard_normal(2000), requires_grad=True)
    h = x * 3
    z = (h * h).sum()                                 # a large h: held read-only by z's graph
    buffer = h.data
    with tc.no_grad():
        h.add_(1)
    assert h.data is not buffer and not buffer.flags.writeable
    with pytest.raises(RuntimeError, match="version went from"):
        z.backward()


def test_in_place_dtype_and_shape_rules():
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output "
                                           "type Long"):
        tc.tensor([1, 2]).__iadd__(1.5)
    with pytest.raises(RuntimeError, match="result type Long can't be cast to the desired output "
                                           "type Bool"):
        tc.tensor([True]).__iadd__(1)
    with pytest.raises(RuntimeError, match=r"output with shape \[2\] doesn't match the broadcast "
                                           r"shape \[2, 2\]"):
        tc.ones(2).__iadd__(tc.ones(2, 2))
    x = tc.ones(2)
    x += tc.ones(2, dtype=np.float64)                 # float64 into float32: allowed
    assert x.dtype == np.float32
    y = tc.tensor([1, 2])
    y //= 2
    assert y.dtype == np.int64


def test_matmul_assignment_rebinds_as_in_pytorch():
    a = tc.eye(2)
    b = a
    a @= tc.ones(2, 2) * 2
    assert a is not b
    np.testing.assert_array_equal(b.data, np.eye(2))


def test_in_place_writes_through_views_and_bumps_the_base_version():
    x = tc.zeros(2, 3)
    x[0].fill_(1)
    x[:, 2].add_(5)
    x.view(6)[1] = 9
    x.t()[0, 1] = 4
    np.testing.assert_array_equal(x.data, [[1, 9, 6], [4, 0, 5]])
    assert x._version == 4


def test_overlapping_in_place_writes_are_refused_and_expanded_tensors_too():
    y = tc.arange(4.0)
    with pytest.raises(RuntimeError, match="refer to a single memory location"):
        y[1:] += y[:-1]
    with pytest.raises(RuntimeError, match="Please clone"):
        tc.ones(3).expand(2, 3).add_(1)
    y[0] = y[1]                                       # disjoint parts of one tensor: fine
    np.testing.assert_array_equal(y.data, [1, 1, 2, 3])


# --- setitem ---------------------------------------------------------------------------------

def corr2d(X, K):
    """d2l's 2-D cross-correlation loop."""
    h, w = K.shape
    Y = tc.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype=X.dtype)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


def test_setitem_with_values_that_require_grad_records_the_write():
    X = tc.tensor(np.arange(9.0).reshape(3, 3))
    K = tc.tensor([[0.0, 1.0], [2.0, 3.0]], requires_grad=True)
    Y = corr2d(X, K.float())
    np.testing.assert_array_equal(Y.data, [[19, 25], [37, 43]])
    assert Y.requires_grad and not Y.is_leaf
    assert tc.gradcheck(lambda X, K: corr2d(X, K), tc.tensor(np.random.standard_normal((4, 5)),
                        requires_grad=True), tc.tensor(np.random.standard_normal((2, 3)),
                        requires_grad=True))


def test_setitem_forms():
    Y = tc.zeros(2, 3)
    Y[:, 1] = tc.tensor([1.0, 2.0])
    Y[0] = 7
    Y[1, ::2] = [8.0, 9.0]
    Y[Y > 7.5] = -1
    Y[[0, 1], [0, 0]] = tc.tensor([3.0, 4.0])
    np.testing.assert_array_equal(Y.data, [[3, 7, 7], [4, 2, -1]])
    Z = tc.zeros(2, dtype=np.int64)
    Z[0] = 2.7                                        # cast to the tensor's dtype, as copy_
    assert Z.dtype == np.int64 and Z.data[0] == 2
    with pytest.raises(ValueError, match=r"value of shape \(2,\).*shape \(\)"):
        tc.zeros(3)[0] = tc.tensor([1.0, 2.0])


def test_nested_and_augmented_setitem_reach_the_base_graph():
    def f(x):
        Y = tc.zeros(3, 3, dtype=np.float64)
        for i in range(3):
            Y[i][i] = x[i] ** 2                       # a write through the view Y[i]
            Y[i] += x                                 # x[i] += v writes back into Y
        Y[1:, 0] *= x[0]
        return Y

    assert tc.gradcheck(f, leaf(0.5, -1.2, 2.0))


def test_writing_a_view_of_a_recorded_tensor_rebases_the_tensor():
    def f(x):
        y = x + 0
        y[0].mul_(3)
        v = y.view(4)
        v[1:3] *= 10
        y.t()[1].add_(x[0])
        return y

    assert tc.gradcheck(f, tc.tensor(np.random.standard_normal((2, 2)), requires_grad=True))


# --- max/min with indices ----------------------------------------------------------------------

def test_max_with_dim_returns_values_and_indices():
    x = tc.tensor([[1.0, 5.0, 5.0], [math.nan, 2.0, math.nan]])
    result = x.max(1)
    values, indices = result
    assert result.values is values and result.indices is indices and len(result) == 2
    np.testing.assert_array_equal(values.data, [5.0, math.nan])
    np.testing.assert_array_equal(indices.data, [1, 0])
    assert indices.dtype == np.int64
    kept = tc.max(x, dim=1, keepdim=True)
    assert kept.values.shape == (2, 1) and kept.indices.shape == (2, 1)
    assert tc.min(x, 1).indices.data.tolist() == [0, 0]
    assert math.isnan(x.max().item())


def test_max_of_two_tensors_is_elementwise_and_max_of_empty_is_refused():
    np.testing.assert_array_equal(tc.max(tc.tensor([1.0, 4.0]), tc.tensor([3.0, 2.0])).data, [3, 4])
    with pytest.raises(RuntimeError, match="Expected reduction dim to be specified"):
        tc.ones(0).max()
    with pytest.raises(IndexError, match="reduction dim 0 to have non-zero size"):
        tc.ones(0, 3).max(0)
    assert tc.ones(0, 3).max(1).values.shape == (0,)


def test_max_dim_sends_the_gradient_to_the_index_and_max_splits_ties():
    x = leaf(1.0, 5.0, 5.0)
    x.max(0).values.backward()
    np.testing.assert_array_equal(x.grad.data, [0, 1, 0])
    y = leaf(1.0, 5.0, 5.0)
    y.max().backward()
    np.testing.assert_array_equal(y.grad.data, [0, 0.5, 0.5])


def test_argmax_argmin():
    x = tc.tensor([[1.0, 7.0], [3.0, 3.0]])
    assert x.argmax().item() == 1 and x.argmin(1).tolist() == [0, 0]
    assert x.argmax(0, keepdim=True).shape == (1, 2)
    assert x.argmax().dtype == np.int64


# --- dtypes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("data, dtype", [
    ([1, 2, 3], np.int64), ([1, 2.0], np.float32), ([True, False], np.bool_), ([True, 1], np.int64),
    (2.5, np.float32), (7, np.int64), (True, np.bool_), (np.float64(2), np.float64),
    (np.int32(2), np.int32), (np.ones(2), np.float64), ([np.float64(2), np.float64(3)], np.float64),
    ([tc.tensor(1.0), tc.tensor(2.0)], np.float32), ([], np.float32),
])
def test_tensor_infers_the_dtype_as_pytorch(data, dtype):
    assert tc.tensor(data).dtype == dtype


def test_tensor_constructor_and_copy_rules():
    assert Tensor([1, 2]).dtype == np.float32            # torch.Tensor: the default float dtype
    a = np.ones(3)
    copied, shared, from_numpy = tc.tensor(a), tc.as_tensor(a), tc.from_numpy(a)
    a[0] = 5
    assert copied.data[0] == 1 and shared.data[0] == 5 and from_numpy.data[0] == 5
    with pytest.warns(UserWarning, match="clone"):
        u = tc.tensor(copied)
    u += 1
    assert copied.data[0] == 1


@pytest.mark.parametrize("data, match", [
    ("abc", "str"), (None, "NoneType"), ([None], "NoneType"), (1j, "complex"),
    ([[1, 2], [3]], "ragged"), (np.array(["a"]), "str"), ({"a": 1}, "dict"),
])
def test_data_that_is_not_numbers_is_refused_naming_the_type(data, match):
    with pytest.raises((TypeError, ValueError), match=match):
        tc.tensor(data)
    with pytest.raises((TypeError, ValueError), match=match):
        Tensor(data)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_np_matrix_becomes_an_ndarray():
    m = tc.tensor(np.matrix([[1.0, 2.0], [3.0, 4.0]]))
    assert type(m.data) is np.ndarray
    np.testing.assert_array_equal((m * m).data, [[1, 4], [9, 16]])   # elementwise, not a matmul


@pytest.mark.parametrize("make, dtype", [
    (lambda: tc.tensor([1, 2]) * 2, np.int64), (lambda: tc.ones(2) * np.int64(2), np.float32),
    (lambda: tc.ones(2) * np.float64(2), np.float32), (lambda: np.float64(2) * tc.ones(2), np.float32),
    (lambda: tc.ones(2) * tc.ones(2, dtype=np.float64), np.float64),
    (lambda: tc.tensor([1, 2]) * 2.5, np.float32), (lambda: tc.tensor([1, 2]) / 2, np.float32),
    (lambda: tc.tensor([1, 2]) // 2, np.int64), (lambda: tc.ones(2) * tc.tensor(2.0, dtype=np.float64), np.float32),
    (lambda: tc.tensor([1, 2]) * tc.tensor(2.0, dtype=np.float64), np.float64),
    (lambda: tc.tensor([True]) + 1, np.int64), (lambda: tc.tensor([True]) * 1.5, np.float32),
    (lambda: tc.ones(2, dtype=np.float16) * tc.tensor([1, 2]), np.float16),
    (lambda: tc.ones(2) == 1, np.bool_), (lambda: tc.sigmoid(tc.tensor([1, 2])), np.float32),
    (lambda: tc.exp(tc.tensor([1, 2])), np.float32), (lambda: tc.sqrt(tc.tensor([1, 2])), np.float32),
    (lambda: tc.tanh(tc.tensor([1, 2])), np.float32), (lambda: tc.relu(tc.tensor([1, 2])), np.int64),
    (lambda: tc.tensor([1, 2]).sum(), np.int64), (lambda: tc.tensor([True, True]).sum(), np.int64),
    (lambda: tc.cat([tc.ones(2), tc.tensor([1, 2])]), np.float32),
    (lambda: tc.tensor([1, 2], dtype=np.uint8) * -1, np.uint8),
])
def test_type_promotion_follows_pytorch(make, dtype):
    assert make().dtype == dtype


def test_integer_targets_cannot_carry_gradients():
    x = leaf(1.5, 2.5)
    for y in (x.to(np.int64), x.long(), x.int(), x.bool()):
        assert not y.requires_grad and y.is_leaf
    assert x.half().requires_grad and x.to(np.float32).requires_grad


def test_default_dtype():
    assert tc.get_default_dtype() is np.float32
    tc.set_default_dtype(tc.float64)
    try:
        assert tc.tensor([1.5]).dtype == np.float64 and tc.zeros(1).dtype == np.float64
        assert (tc.tensor([1]) * 1.5).dtype == np.float64 and Tensor([1]).dtype == np.float64
    finally:
        tc.set_default_dtype(tc.float32)
    with pytest.raises(TypeError, match="only floating-point types"):
        tc.set_default_dtype(tc.int64)


def test_dtype_names():
    assert (tc.float, tc.double, tc.half, tc.long, tc.int, tc.short, tc.bool) == \
        (np.float32, np.float64, np.float16, np.int64, np.int32, np.int16, np.bool_)
    assert (tc.float16, tc.float32, tc.float64, tc.int8, tc.int16, tc.int32, tc.int64, tc.uint8) == \
        (np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8)
    assert tc.tensor([1]).dtype == tc.long and tc.ones(1).dtype == tc.float


# --- powers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("exponent, expected", [
    (tc.tensor(2.0), [4.0, 9.0]), (np.float32(2), [4.0, 9.0]), (np.int64(3), [-8.0, 27.0]),
    (tc.tensor([3.0]), [-8.0, 27.0]), (2, [4.0, 9.0]),
])
def test_negative_bases_with_integer_exponents(exponent, expected):
    y = tc.tensor([-2.0, 3.0]) ** exponent
    np.testing.assert_array_equal(y.data, expected)
    assert y.dtype == np.float32


def test_power_gradients_at_zero_and_dtypes():
    x = leaf(0.0, -2.0, 3.0)
    (x ** 2 + x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, -4.0, 6.0])
    assert (tc.tensor([4]) ** 0.5).item() == 2.0 and (tc.tensor([4]) ** 0.5).dtype == np.float32
    assert (tc.tensor([2]) ** 2).dtype == np.int64
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        tc.tensor([2]) ** -1
    np.testing.assert_array_equal((tc.tensor([1, 2, -1]) ** tc.tensor(-1)).data, [1, 0, -1])


def test_a_tensor_exponent_gets_its_gradient():
    x, y = leaf(0.5, 2.0, 1.5), leaf(2.0, 0.0, -1.3)
    assert tc.gradcheck(lambda x, y: x ** y, x, y)
    base = leaf(0.0, 2.0)
    expo = leaf(2.0, 3.0)
    (base ** expo).sum().backward()
    np.testing.assert_allclose(base.grad.data, [0.0, 12.0])
    np.testing.assert_allclose(expo.grad.data, [0.0, 8 * math.log(2)])
    z = leaf(1.0, 2.0)
    (2 ** z).sum().backward()
    np.testing.assert_allclose(z.grad.data, [2 * math.log(2), 4 * math.log(2)])


# --- elementwise functions with gradients -----------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda x, y: tc.maximum(x, y) + tc.minimum(x, y) * 2, lambda x, y: tc.clamp(x, -0.5, 0.5),
    lambda x, y: tc.clamp(x, min=y), lambda x, y: tc.where(x > y, x * y, x - y),
    lambda x, y: (x.sin() * y.cos()), lambda x, y: x.prod(0) * y.prod(), lambda x, y: x.norm() + y.norm(p=1),
    lambda x, y: x.var(0) + y.std(1, keepdim=True), lambda x, y: x.max(1).values * y.min(0).values[0],
    lambda x, y: tc.dot(x[0], y[1]) + tc.mm(x, y.t()).sum() + tc.bmm(x[None], y.t()[None]).sum(),
])
def test_composites_pass_gradcheck(fn):
    x = tc.tensor(np.random.standard_normal((2, 3)), requires_grad=True)
    y = tc.tensor(np.random.standard_normal((2, 3)), requires_grad=True)
    assert tc.gradcheck(fn, x, y)


def test_elementwise_values_and_tie_rules():
    x, y = leaf(1.0, 2.0, 3.0), leaf(3.0, 2.0, 1.0)
    tc.maximum(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 0.5, 1])
    z = leaf(-1.0, 0.0, 0.5, 1.0, 2.0)
    z.clamp(0, 1).sum().backward()
    np.testing.assert_array_equal(z.grad.data, [0, 1, 1, 1, 0])
    assert np.isnan(tc.clamp(tc.tensor([1.0]), min=math.nan).item())
    np.testing.assert_array_equal(tc.clamp(tc.tensor([1.0, 2.0, 3.0]), 2.5, 1.5).data, [1.5] * 3)
    with pytest.raises(ValueError, match="at least one of 'min' or 'max'"):
        tc.clamp(tc.ones(1))
    with pytest.raises(TypeError, match="must be Tensor"):
        tc.maximum(tc.ones(1), 2.0)
    with pytest.raises(TypeError, match="boolean tensor"):
        tc.where(tc.ones(2), 1.0, 0.0)
    assert [t.tolist() for t in tc.where(tc.tensor([True, False, True]))] == [[0, 2]]


def test_prod_gradient_is_exact_at_zeros():
    x = leaf(1.0, 0.0, 3.0)
    x.prod().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 3.0, 0.0])
    y = leaf(0.0, 0.0, 3.0)
    y.prod().backward()
    np.testing.assert_array_equal(y.grad.data, [0.0, 0.0, 0.0])
    assert tc.gradcheck(lambda x: x.prod(1), tc.tensor(np.array([[0.0, 2.0, -1.0], [0.5, 0.0, 0.0]]),
                                                    requires_grad=True))


def test_norm_of_zero_has_zero_gradient_and_reductions_as_pytorch():
    x = tc.tensor(np.array([[0.0, 0.0], [3.0, 4.0]]), requires_grad=True)
    x.norm(dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.data, [[0, 0], [0.6, 0.8]])
    v = tc.tensor([1.0, 2.0, 4.0])
    assert v.var().item() == pytest.approx(7 / 3) and v.var(unbiased=False).item() == pytest.approx(14 / 9)
    assert v.var(correction=0).item() == pytest.approx(14 / 9)
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert math.isnan(tc.tensor([1.0]).var().item())
    with pytest.raises(TypeError, match="floating point"):
        tc.tensor([1, 2]).mean()
    assert math.isnan(tc.ones(0).mean().item()) and tc.ones(0).prod().item() == 1


# --- Python protocols --------------------------------------------------------------------------

def test_one_element_tensors_act_as_numbers():
    loss = tc.tensor(0.05)
    assert bool(loss < 0.1) and f"{loss:.3f}" == "0.050" and float(loss) == pytest.approx(0.05)
    assert not bool(Tensor([0.0])) and int(tc.tensor([-1.7])) == -1
    assert ["a", "b", "c"][tc.tensor(1)] == "b" and ["a", "b"][tc.tensor([1])] == "b"
    assert f"{tc.tensor(3):03d}" == "003"


@pytest.mark.parametrize("use, error, match", [
    (lambda: bool(tc.ones(2)), RuntimeError, "more than one value is ambiguous"),
    (lambda: bool(tc.ones(0)), RuntimeError, "no values is ambiguous"),
    (lambda: float(tc.ones(2)), ValueError, "only one element tensors"),
    (lambda: int(tc.ones(2)), ValueError, "only one element tensors"),
    (lambda: [1, 2][tc.tensor(1.0)], TypeError, "only integer tensors of a single element"),
    (lambda: f"{tc.tensor([1.5]):.2f}", TypeError, "unsupported format string"),
    (lambda: len(tc.tensor(1.0)), TypeError, "len\\(\\) of a 0-d tensor"),
    (lambda: list(tc.tensor(1.0)), TypeError, "iteration over a 0-d tensor"),
    (lambda: tc.ones(2).item(), RuntimeError, "2 elements cannot be converted to Scalar"),
    (lambda: "a" in tc.ones(2), RuntimeError, "only supports Tensor or scalar"),
    (lambda: tc.ones(2) in [tc.zeros(2)], RuntimeError, "ambiguous"),
    (lambda: tc.ones(2, requires_grad=True).numpy(), RuntimeError, "detach\\(\\).numpy\\(\\)"),
])
def test_python_protocols_refuse_as_pytorch(use, error, match):
    with pytest.raises(error, match=match):
        use()


def test_containers_sorting_and_iteration():
    a, b = tc.tensor(1.0), tc.tensor(2.0)
    assert a in [b, a] and tc.tensor(2.0) in [a, b]
    assert max([a, b]) is b and sorted([b, a]) == [a, b] and sum([a, b]).item() == 3
    t = tc.ones(2)
    assert t in [t] and 2 in tc.tensor([1, 2]) and 5 not in tc.tensor([1, 2])
    assert [row.tolist() for row in tc.tensor([[1, 2], [3, 4]])] == [[1, 2], [3, 4]]
    assert (tc.ones(2) == None) is False  # noqa: E711


def test_comparisons_and_logic_give_bool_tensors():
    x = tc.tensor([1.0, 2.0])
    for result in (x == 1, x != 1, x < 2, x <= 2, x > 1, x >= 1, x.eq(1), tc.tensor([0.1]) == 0.1):
        assert result.dtype == np.bool_
    assert (tc.tensor([0.1]) == np.float64(0.1)).item()
    mask = tc.tensor([True, False])
    assert (~mask).tolist() == [False, True] and (mask & tc.tensor([True, True])).tolist() == [True, False]
    with pytest.raises(TypeError, match="integer and Boolean"):
        ~x
    with pytest.raises(ValueError, match=r"\(2,\) and \(3,\) do not broadcast.*size of tensor a \(2\) "
                                         r"must match the size of tensor b \(3\)"):
        tc.ones(2) < tc.ones(3)


def test_floor_division_and_remainder():
    np.testing.assert_array_equal((tc.tensor([-3.0, 3.0]) // 2).data, [-2, 1])
    np.testing.assert_array_equal((tc.tensor([-3, 3]) % 2).data, [1, 1])
    np.testing.assert_array_equal(tc.tensor([5, -5]).div(2, rounding_mode="trunc").data, [2, -2])
    with pytest.raises(RuntimeError, match="no gradient"):
        tc.ones(1, requires_grad=True) // 2


# --- numpy protocols -----------------------------------------------------------------------------

def test_numpy_functions_keep_the_gradient():
    x = leaf(1.0, 2.0)
    w = tc.tensor([3.0, 4.0], dtype=np.float64)
    (np.exp(x) * w).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.exp([1.0, 2.0]) * [3, 4])
    x.grad = None
    y = np.sum(np.sqrt(x) * np.maximum(x, 1.5)) + np.mean(np.reshape(x, (2, 1)) @ np.ones((1, 2)))
    assert isinstance(y, Tensor)
    y.backward()
    assert x.grad is not None
    assert np.std(tc.tensor([1.0, 3.0])).item() == 1.0        # numpy's meaning: ddof=0


def test_numpy_functions_without_a_counterpart():
    x = leaf(1.0, 2.0)
    with pytest.raises(TypeError, match=r"numpy.log1p would drop the gradient.*tc.log\(1 \+ x\)"):
        np.log1p(x)
    with pytest.raises(TypeError, match="numpy.cumsum would drop the gradient"):
        np.cumsum(x)
    assert np.isnan(x).tolist() == [False, False] and np.argmax(x) == 1     # reading is fine
    assert np.allclose(x, [1, 2])
    np.testing.assert_allclose(np.log1p(x.detach()), np.log1p([1.0, 2.0]))
    np.testing.assert_allclose(x, [1, 2])


def test_numpy_arrays_updated_from_tensors():
    weight = np.ones(2, dtype=np.float32)
    grad = tc.tensor([0.5, 0.25])
    weight[:] -= 0.1 * grad                           # d2l's conv2d.weight.data[:] -= lr * grad
    np.testing.assert_allclose(weight, [0.95, 0.975])
    with pytest.raises(TypeError, match="out= writes into a numpy array"):
        weight[:] -= leaf(1.0, 2.0)
    a = np.ones(2) + tc.ones(2)
    assert isinstance(a, Tensor) and a.dtype == np.float64


# --- factories and devices -----------------------------------------------------------------------

def test_factories():
    assert tc.zeros(2, 3).shape == tc.zeros((2, 3)).shape == tc.ones([2, 3]).shape == (2, 3)
    assert tc.full((2,), 3).dtype == np.int64 and tc.full((2,), 3.0).dtype == np.float32
    assert tc.full((2,), True).dtype == np.bool_
    np.testing.assert_array_equal(tc.eye(2, 3).data, np.eye(2, 3))
    assert tc.arange(5).dtype == np.int64 and tc.arange(5.0).dtype == np.float32
    np.testing.assert_array_equal(tc.arange(0, 1, 0.25).data, [0, 0.25, 0.5, 0.75])
    np.testing.assert_array_equal(tc.arange(10, 0, -3).data, [10, 7, 4, 1])
    np.testing.assert_allclose(tc.linspace(0, 1, 5).data, [0, 0.25, 0.5, 0.75, 1])
    assert tc.linspace(0, 10, 5, dtype=tc.int64).tolist() == [0, 2, 5, 7, 10]
    assert tc.zeros_like(tc.tensor([1, 2])).dtype == np.int64
    assert tc.full_like(tc.ones(2), 7).tolist() == [7, 7]
    assert tc.empty(2, 2).shape == tc.empty_like(tc.ones(3)).shape[:0] + (2, 2)
    assert tc.zeros(2, requires_grad=True).requires_grad


def test_random_factories_draw_from_the_seeded_generator():
    tc.manual_seed(3)
    first = [tc.rand(3), tc.randn(2, 2), tc.randint(10, (4,)), tc.randperm(5), tc.normal(0.0, 1.0, (2,))]
    tc.manual_seed(3)
    again = [tc.rand(3), tc.randn(2, 2), tc.randint(10, (4,)), tc.randperm(5), tc.normal(0.0, 1.0, (2,))]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.data, b.data)
    assert first[2].dtype == np.int64 and first[3].dtype == np.int64
    assert sorted(first[3].tolist()) == [0, 1, 2, 3, 4]
    assert 3 <= tc.randint(3, 5, (100,)).data.min() and tc.randint(3, 5, (100,)).data.max() < 5
    assert tc.rand_like(tc.ones(2, dtype=np.float64)).dtype == np.float64
    assert tc.normal(tc.zeros(3), tc.ones(3)).shape == (3,)


@pytest.mark.parametrize("make, error, match", [
    (lambda: tc.zeros(-1), ValueError, "non-negative"),
    (lambda: tc.zeros(2.0), TypeError, "tuple of ints"),
    (lambda: tc.full(2, 3.0), TypeError, "tuple of ints"),
    (lambda: tc.zeros(2, dtype=tc.int64, requires_grad=True), TypeError, "floating-point"),
    (lambda: tc.arange(0, 1, 0), ValueError, "step must be nonzero"),
    (lambda: tc.arange(1, 0), ValueError, "inconsistent with step sign"),
    (lambda: tc.arange(0, math.nan), ValueError, "finite"),
    (lambda: tc.linspace(0, 1, -1), ValueError, "non-negative"),
    (lambda: tc.randint(10, 3), TypeError, "tuple of ints"),
    (lambda: tc.randint(5, 5, (3,)), ValueError, "less than 'to'"),
    (lambda: tc.normal(0, -1, (2,)), ValueError, "std >= 0.0"),
    (lambda: tc.normal(0, math.nan, (2,)), ValueError, "std >= 0.0, but found std nan"),
    (lambda: tc.rand(2, dtype=tc.int64), TypeError, "floating dtype"),
    (lambda: tc.from_numpy([1, 2]), TypeError, "expected np.ndarray"),
    (lambda: tc.zeros(2).uniform_(2, 1), ValueError, r"\[from, to\) range"),
    (lambda: tc.zeros(2).normal_(0, -1), ValueError, "std >= 0.0"),
])
def test_factories_refuse_as_pytorch(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_devices_are_the_cpu_only():
    x = tc.ones(2)
    assert str(x.device) == "cpu" and repr(x.device) == "device(type='cpu')"
    assert x.device == tc.device("cpu") and x.to("cpu") is x and x.cpu() is x
    assert x.to(tc.device("cpu"), tc.float64).dtype == np.float64
    assert x.to(tc.zeros(1, dtype=np.float64)).dtype == np.float64
    assert x.to(dtype=tc.float16, device="cpu").dtype == np.float16
    assert not tc.cuda.is_available()
    device = tc.device("cuda" if tc.cuda.is_available() else "cpu")
    assert tc.ones(2, device=device).to(device).device == tc.device("cpu")
    for move in (lambda: x.to("cuda"), lambda: x.cuda(), lambda: tc.zeros(2, device="cuda:0"),
                 lambda: x.type("torch.cuda.FloatTensor")):
        with pytest.raises(RuntimeError, match="runs on the CPU only.*device='cpu'"):
            move()
    with pytest.raises(RuntimeError, match="device type at start of device string: gpu"):
        tc.device("gpu")


def test_type_and_conversions():
    x = tc.tensor([1.5, -0.5])
    assert x.type() == "torch.FloatTensor" and tc.tensor([1]).type() == "torch.LongTensor"
    assert x.type("torch.DoubleTensor").dtype == np.float64 and x.type(tc.float16).dtype == np.float16
    assert x.int().tolist() == [1, 0] and x.bool().tolist() == [True, True]
    assert x.long().dtype == np.int64 and x.double().dtype == np.float64
    y = tc.ones(2, 3)
    assert y.t().shape == (3, 2) and y.dim() == 2 and y.numel() == 6 and y.size(1) == 3
    assert y.view_as(tc.ones(3, 2)).shape == (3, 2) and y.expand_as(tc.ones(4, 2, 3)).shape == (4, 2, 3)
    with pytest.raises(ValueError, match="t\\(\\) expects a tensor with <= 2 dimensions"):
        tc.ones(2, 3, 4).t()


def test_nn_functional_is_functional():
    import tinygrad_conv.nn.functional as F
    assert F is tc.functional and tc.nn.functional is tc.functional
