"""The engine: graph recording, topological order, accumulation, freeing, modes, dtypes."""
import gc
import weakref

import numpy as np
import pytest

import tinygrad_conv as tc
from tinygrad_conv import Tensor


def leaf(*shape, dtype=np.float64):
    return Tensor(np.random.standard_normal(shape).astype(dtype), requires_grad=True)


# ---- topological order ----------------------------------------------------------------------

def test_toposort_puts_parents_before_children():
    a, b = leaf(2), leaf(2)
    c = a * b
    d = c + a
    e = d * c
    order = tc.toposort(e)
    position = {id(t): i for i, t in enumerate(order)}
    for t in order:
        if t.node is not None:
            for p in t.node.parents:
                assert position[id(p)] < position[id(t)]
    assert order[-1] is e and len(order) == 5


def test_toposort_visits_shared_tensor_once():
    x = leaf(3)
    y = x * x
    assert [id(t) for t in tc.toposort(y)].count(id(x)) == 1


# ---- accumulation at shared nodes ----------------------------------------------------------

def test_square_accumulates_both_uses():
    x = leaf(4)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data)


def test_reuse_does_not_alias_gradients():
    """(x + y) + x: with in-place accumulation x.grad and y.grad would become one array."""
    x, y = leaf(3), leaf(3)
    ((x + y) + x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2.0)
    np.testing.assert_array_equal(y.grad.data, 1.0)


def test_diamond_sums_both_paths():
    w = leaf(2, 2)
    x = Tensor(np.random.standard_normal((3, 2)))
    h = x @ w
    loss = (h.tanh() + h.relu()).sum()
    loss.backward()
    dh = (1 - np.tanh(h.data) ** 2) + (h.data > 0)
    np.testing.assert_allclose(w.grad.data, x.data.T @ dh)


def test_weight_used_twice_accumulates():
    w = leaf(3, 3)
    x = Tensor(np.random.standard_normal((2, 3)))
    ((x @ w) @ w).sum().backward()
    g = np.ones((2, 3))
    expected = (x.data @ w.data).T @ g + x.data.T @ (g @ w.data.T)
    np.testing.assert_allclose(w.grad.data, expected)


def test_leaves_accumulate_across_backward_calls_until_reset():
    x = leaf(2)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 6.0)
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 3.0)


def test_intermediate_tensors_get_no_grad():
    x = leaf(2)
    h = x * 2
    (h * h).sum().backward()
    with pytest.warns(UserWarning, match="not a leaf"):   # as PyTorch: use h.retain_grad()
        assert h.grad is None
    assert x.grad is not None


def test_broadcast_gradients_unbroadcast():
    x, b = leaf(4, 3), leaf(3)
    s = leaf(1, 3)
    ((x + b) * s).sum().backward()
    assert b.grad.shape == (3,) and s.grad.shape == (1, 3)
    np.testing.assert_allclose(b.grad.data, 4 * s.data[0])
    np.testing.assert_allclose(s.grad.data, (x.data + b.data).sum(0, keepdims=True))


# ---- deep graphs, freeing, errors ----------------------------------------------------------

def test_100k_op_chain_backward_has_no_recursion_limit():
    x = leaf(4)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, 1.0)


def test_backward_frees_saved_inputs():
    x = leaf(8)
    h = x * 2
    marker = weakref.ref(h)
    y = (h * h).sum()
    del h
    gc.collect()
    assert marker() is not None                        # the graph holds h
    y.backward()
    gc.collect()
    assert marker() is None                            # freed as soon as its VJP ran


def test_second_backward_raises_and_says_retain_graph():
    x = leaf(3)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf(3)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 4 * x.data)


def test_non_scalar_backward_needs_gradient():
    x = leaf(3)
    with pytest.raises(RuntimeError, match="scalar"):
        (x * 2).backward()


def test_gradient_of_wrong_shape_is_refused():
    x = leaf(3)
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2).backward(np.ones(4))


def test_explicit_gradient_is_the_vjp_seed():
    x = leaf(3)
    (x * 2).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(x.grad.data, [2, 4, 6])


def test_backward_of_a_tensor_without_grad_explains():
    with pytest.raises(RuntimeError, match="requires_grad"):
        Tensor([1.0, 2.0]).sum().backward()


# ---- modes --------------------------------------------------------------------------------

def test_no_grad_records_nothing():
    x = leaf(3)
    with tc.no_grad():
        y = x * 2
    assert y.node is None and not y.requires_grad
    assert tc.is_grad_enabled()


def test_no_grad_as_decorator():
    x = leaf(3)

    @tc.no_grad()
    def f(t):
        return t * 2
    assert f(x).node is None
    assert (x * 2).node is not None


def test_enable_grad_inside_no_grad():
    x = leaf(3)
    with tc.no_grad():
        with tc.enable_grad():
            y = x * 2
    assert y.node is not None


def test_detach_cuts_the_graph():
    x = leaf(3)
    d = (x * 2).detach()
    assert d.node is None and not d.requires_grad


# ---- higher order -------------------------------------------------------------------------

def test_create_graph_hessian_vector_product_matches_finite_differences():
    """Hv for f(x) = sum(tanh(Ax)^2), compared with central differences of the gradient."""
    A = np.random.standard_normal((4, 3))
    v = np.random.standard_normal(3)
    x0 = np.random.standard_normal(3)

    def grad_at(x_value, create_graph=False):
        x = Tensor(x_value, requires_grad=True)
        (((Tensor(A) @ x).tanh()) ** 2).sum().backward(create_graph=create_graph)
        return x

    x = grad_at(x0, create_graph=True)
    (x.grad * Tensor(v)).sum().backward()
    hvp = x.grad.data - grad_at(x0).grad.data          # x.grad accumulated g + Hv
    eps = 1e-6
    fd = (grad_at(x0 + eps * v).grad.data - grad_at(x0 - eps * v).grad.data) / (2 * eps)
    np.testing.assert_allclose(hvp, fd, rtol=1e-6, atol=1e-8)


# ---- dtypes -------------------------------------------------------------------------------

def test_python_scalars_and_lists_become_float32():
    assert Tensor(1.5).dtype == np.float32
    assert Tensor([1, 2, 3]).dtype == np.float32
    assert Tensor(np.zeros(2)).dtype == np.float64


def test_python_scalar_never_upcasts_float32():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = (x * 2.5 + 1) / 3 - 0.5
    y = y ** 2
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_mixed_float32_float64_promotes_and_grads_keep_input_dtype():
    a = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    b = Tensor(np.ones(3, dtype=np.float64), requires_grad=True)
    y = a * b
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_only_float_tensors_can_require_grad():
    with pytest.raises(TypeError, match="floating"):
        Tensor(np.arange(3), requires_grad=True)


def test_array_protocol_and_accessors():
    x = Tensor([[1.0, 2.0]])
    assert np.asarray(x).shape == (1, 2)
    assert x.numpy() is x.data and x.ndim == 2 and x.is_leaf
    assert x.requires_grad_().requires_grad


# ---- Tensor ops ---------------------------------------------------------------------------

def test_tensor_ops_forward_match_numpy():
    a, b = np.random.standard_normal((2, 3)), np.random.uniform(0.5, 2, (2, 3))
    A, B = Tensor(a), Tensor(b)
    np.testing.assert_allclose((A - B).data, a - b)
    np.testing.assert_allclose((2 - A).data, 2 - a)
    np.testing.assert_allclose((1 / B).data, 1 / b)
    np.testing.assert_allclose((B ** A).data, b ** a)
    np.testing.assert_allclose((2 ** A).data, 2 ** a)
    np.testing.assert_allclose(B.sqrt().data, np.sqrt(b))
    np.testing.assert_allclose(A.sigmoid().data, 1 / (1 + np.exp(-a)))
    np.testing.assert_allclose(A.abs().data, np.abs(a))
    np.testing.assert_allclose(A.mean(1).data, a.mean(1))
    np.testing.assert_allclose(A.mean(dim=0, keepdim=True).data, a.mean(0, keepdims=True))
    np.testing.assert_allclose(A.max(axis=1).values.data, a.max(1))
    np.testing.assert_allclose(A.amax(axis=1).data, a.max(1))
    np.testing.assert_array_equal(A.argmax(1).data, a.argmax(1))
    np.testing.assert_allclose(A.T.data, a.T)
    np.testing.assert_allclose(A.flatten().data, a.ravel())
    np.testing.assert_allclose(A.view(3, 2).data, a.reshape(3, 2))
    np.testing.assert_allclose(A.reshape(-1, 1).data, a.reshape(-1, 1))
    np.testing.assert_allclose(A.transpose(0, 1).data, a.T)
    np.testing.assert_allclose(A.unsqueeze(0).expand(4, 2, 3).data, np.broadcast_to(a, (4, 2, 3)))
    np.testing.assert_allclose(A.flip(1).data, a[:, ::-1])
    np.testing.assert_allclose(A[1, ::2].data, a[1, ::2])
    np.testing.assert_allclose(A[[0, 1, 1]].data, a[[0, 1, 1]])
    np.testing.assert_allclose(tc.cat([A, B], dim=1).data, np.concatenate([a, b], 1))
    np.testing.assert_allclose(tc.stack([A, B], dim=1).data, np.stack([a, b], 1))
    np.testing.assert_array_equal((A > 0).data, a > 0)


def test_matmul_handles_vectors_and_batches():
    m = np.random.standard_normal((5, 3, 4))
    v = np.random.standard_normal(4)
    M, V = Tensor(m), Tensor(v)
    np.testing.assert_allclose((M @ V).data, m @ v)
    np.testing.assert_allclose((V @ Tensor(m[0].T)).data, v @ m[0].T)
    np.testing.assert_allclose((V @ V).data, v @ v)


@pytest.mark.parametrize("fn", [
    lambda a, b: (a @ b[0].T).sum(),
    lambda a, b: (a[:, 1:, ::2] * 3).sum(),
    lambda a, b: tc.stack([a, b], dim=2).tanh().sum(),
    lambda a, b: (a.permute(2, 0, 1).reshape(4, -1) ** 2).mean(),
    lambda a, b: (a.max(dim=1).values + b.amax(dim=1) + b.sum(axis=1)).sum(),
    lambda a, b: ((a - b) / (b * b + 1)).exp().sum(),
])
def test_composite_gradients_match_finite_differences(fn):
    a = Tensor(np.random.standard_normal((2, 3, 4)), requires_grad=True)
    b = Tensor(np.random.standard_normal((2, 3, 4)), requires_grad=True)
    assert tc.gradcheck(fn, a, b)


def test_gradcheck_reports_input_and_entry():
    @tc.primitive
    def wrong_square(x):
        return x * x

    @wrong_square.defvjp
    def wrong_square_vjp(dy, x):
        return dy * x                                   # missing the factor 2

    try:
        with pytest.raises(tc.GradcheckError, match="input 0"):
            tc.gradcheck(lambda x: wrong_square(x), Tensor(np.ones(3), requires_grad=True))
    finally:
        del tc.PRIMITIVES["wrong_square"]


def test_gradcheck_refuses_float32():
    with pytest.raises(ValueError, match="float64"):
        tc.gradcheck(lambda x: x * 2, Tensor(np.ones(3, dtype=np.float32), requires_grad=True))


def test_registering_a_primitive_name_twice_fails():
    with pytest.raises(ValueError, match="already registered"):
        tc.primitive(name="conv2d")(lambda x: x)


def test_shapes_that_do_not_broadcast_are_refused_clearly():
    with pytest.raises(ValueError, match=r"\(2, 4\) and \(3, 4\)"):
        Tensor(np.ones((2, 4))) + Tensor(np.ones((3, 4)))
