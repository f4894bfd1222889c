"""Every registered primitive's VJP, two ways.

1. gradcheck: float64 central differences over every entry of every differentiable input.
2. Euler's identity, exact up to rounding, no finite differences: if f is homogeneous of degree k
   (f(t x) = t^k f(x)), then  sum_i <x_i, vjp_i(dy)> = k <f(x), dy>.  For a linear op (k = 1) this is
   the adjoint identity <op(x), dy> = <x, op^T(dy)>; conv2d is bilinear (k = 2 jointly in x and w,
   and k = 1 in each alone), max-pool and relu are piecewise linear (k = 1).
Also: a primitive that says its VJP does not read some input's values (Primitive.reads) gives the
same gradients when those values are overwritten after the forward.

A meta-test fails when a primitive is registered without a case here.
"""
import itertools

import numpy as np
import pytest

import tinygrad_conv as tc
from tinygrad_conv import ops
from tinygrad_conv.autograd import PRIMITIVES, Tensor, vjp_of


def randn(*shape):
    return np.random.standard_normal(shape)


def distinct(*shape):
    """Values with no ties, so max-pool's argmax is unambiguous and stays so under small perturbations."""
    return (np.random.permutation(int(np.prod(shape))).reshape(shape) * 0.1).astype(np.float64)


def positive(*shape):
    return np.random.uniform(0.5, 2.0, shape)


CONV = dict(stride=(2, 1), padding=((1, 0), (2, 1)), dilation=(1, 2), groups=2)

# name -> (input arrays, params, degree of homogeneity (None: not homogeneous), input indices to check)
CASES = {
    "add": (lambda: [randn(2, 3), randn(3)], {}, 1),
    "sub": (lambda: [randn(2, 3), randn(2, 1)], {}, 1),
    "mul": (lambda: [randn(2, 3), randn(1, 3)], {}, 2),
    "div": (lambda: [randn(2, 3), positive(2, 3)], {}, 0),
    "neg": (lambda: [randn(3, 2)], {}, 1),
    "power": (lambda: [positive(3, 2)], {"exponent": 2.5}, 2.5),
    "pow": (lambda: [positive(2, 3), randn(3)], {}, None),
    "exp": (lambda: [randn(3, 2)], {}, None),
    "sin": (lambda: [randn(3, 2)], {}, None),
    "cos": (lambda: [randn(3, 2)], {}, None),
    "where": (lambda: [randn(2, 3) > 0, randn(2, 3), randn(3)], {}, 1),
    "log": (lambda: [positive(3, 2)], {}, None),
    "sqrt": (lambda: [positive(3, 2)], {}, 0.5),
    "tanh": (lambda: [randn(3, 2)], {}, None),
    "sigmoid": (lambda: [randn(3, 2) * 3], {}, None),
    "relu": (lambda: [distinct(3, 4) - 0.55], {}, 1),
    "absolute": (lambda: [distinct(3, 4) - 0.55], {}, 1),
    "cast": (lambda: [randn(2, 3)], {"dtype": np.float64}, 1),
    "matmul": (lambda: [randn(2, 3, 4), randn(4, 5)], {}, 2),
    "sum": (lambda: [randn(2, 3, 4)], {"axis": (0, 2), "keepdims": False}, 1),
    "max": (lambda: [distinct(3, 4)], {"axis": 1, "keepdims": True}, 1),
    "prod": (lambda: [randn(3, 4)], {"axis": 1, "keepdims": False}, 4),
    "prod_others": (lambda: [randn(2, 4)], {"axis": 1}, 3),
    "reshape": (lambda: [randn(2, 6)], {"shape": (3, 4)}, 1),
    "permute": (lambda: [randn(2, 3, 4)], {"dims": (2, 0, 1)}, 1),
    "expand": (lambda: [randn(3, 1)], {"shape": (2, 3, 4)}, 1),
    "getitem": (lambda: [randn(4, 5)], {"index": (np.array([0, 2, 2]), slice(1, 4))}, 1),
    "setitem": (lambda: [randn(4, 5), randn(3)], {"index": (slice(1, 3), slice(0, 3))}, 1),
    "scatter_add": (lambda: [randn(3, 3)], {"index": (np.array([0, 2, 2]), slice(1, 4)), "shape": (4, 5)}, 1),
    "flip": (lambda: [randn(2, 3, 4)], {"dims": (1, 2)}, 1),
    "cat": (lambda: [randn(2, 3), randn(2, 2)], {"axis": 1}, 1),
    "pad": (lambda: [randn(2, 3, 4)], {"widths": ((1, -1), (2, 0)), "value": 0.0}, 1),
    "dilate2d": (lambda: [randn(2, 3, 4)], {"stride": (2, 3)}, 1),
    "conv2d": (lambda: [randn(2, 4, 7, 6), randn(4, 2, 3, 2)], CONV, 2),
    "max_pool2d": (lambda: [distinct(2, 2, 7, 6)],
                   {"kernel": (3, 2), "stride": (2, 1), "padding": ((1, 2), (1, 1)), "dilation": (1, 2)}, 1),
    "route2d": (lambda: [randn(2, 2, 4, 5), (np.arange(80) * 5 % 6).reshape(2, 2, 4, 5).astype(np.int8)],
                {"size": (7, 6), "kernel": (3, 2), "stride": (2, 1), "padding": ((1, 2), (1, 1)), "dilation": (1, 2)}, 1),
    "unpool2d": (lambda: [randn(1, 2, 2, 2), np.array([[[[0, 3], [3, 8]], [[1, 1], [5, 8]]]])],
                 {"size": (3, 3)}, 1),
    "avg_pool2d": (lambda: [randn(2, 2, 7, 6)],
                   {"kernel": (3, 2), "stride": (2, 2), "padding": ((1, 2), (1, 1)),
                    "count_include_pad": False, "divisor_override": None}, 1),
    "spread2d": (lambda: [randn(2, 2, 4, 4)],
                 {"size": (7, 6), "kernel": (3, 2), "stride": (2, 2), "padding": ((1, 2), (1, 1))}, 1),
}


def make_inputs(name):
    arrays, params, degree = CASES[name][0](), CASES[name][1], CASES[name][2]
    inputs = [Tensor(a, requires_grad=np.issubdtype(a.dtype, np.floating)) for a in arrays]
    return inputs, params, degree


def test_every_primitive_has_a_case():
    assert set(CASES) == set(PRIMITIVES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_vjp_matches_finite_differences(name):
    inputs, params, _ = make_inputs(name)
    op = PRIMITIVES[name]
    assert tc.gradcheck(lambda *xs: op(*xs, **params), *inputs, eps=1e-6, atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(n for n in CASES if CASES[n][2] is not None))
def test_vjp_euler_adjoint_identity(name):
    inputs, params, degree = make_inputs(name)
    y = PRIMITIVES[name](*inputs, **params)
    dy = Tensor(np.random.standard_normal(y.shape))
    grads = vjp_of(y.node, dy)
    lhs = sum(np.vdot(x.data, g.data) for x, g in zip(inputs, grads) if g is not None)
    rhs = degree * np.vdot(y.data, dy.data)
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_vjp_returns_one_gradient_per_input_of_its_shape(name):
    inputs, params, _ = make_inputs(name)
    y = PRIMITIVES[name](*inputs, **params)
    grads = vjp_of(y.node, Tensor(np.ones_like(y.data)))
    assert len(grads) == len(inputs)
    for x, g in zip(inputs, grads):
        assert g is None or g.shape == x.shape


@pytest.mark.parametrize("name", ["conv2d", "max_pool2d", "avg_pool2d", "pad", "matmul", "tanh"])
def test_second_order_gradients_match_finite_differences(name):
    """create_graph=True: the gradient is itself differentiable (Hessian-vector products)."""
    inputs, params, _ = make_inputs(name)
    op = PRIMITIVES[name]
    differentiable = [x for x in inputs if x.requires_grad]
    v = [Tensor(np.random.standard_normal(x.shape)) for x in differentiable]

    def grad_dot_v(*xs):
        y = op(*xs, **params)
        (y * y).sum().backward(create_graph=True)
        total = sum(((x.grad * vi).sum() for x, vi in zip(xs, v)), Tensor(np.zeros(())))
        for x in xs:
            x.grad = None
        return total

    fresh = [Tensor(x.data.copy(), requires_grad=x.requires_grad) for x in inputs]
    assert tc.gradcheck(grad_dot_v, *fresh, eps=1e-6, atol=1e-6, rtol=1e-5)


def test_conv2d_vjp_is_made_of_conv2d_calls():
    """dX and dW are computed by the conv2d primitive itself (seen in the recorded backward graph)."""
    x = Tensor(randn(1, 2, 6, 6), requires_grad=True)
    w = Tensor(randn(3, 2, 3, 3), requires_grad=True)
    y = ops.conv2d(x, w, stride=(2, 2), padding=((1, 1), (1, 1)), dilation=(1, 1), groups=1)
    (y * y).sum().backward(create_graph=True)       # dy = 2y depends on x and w, so it is recorded
    for g in (x.grad, w.grad):
        names = {t.node.op.name for t in tc.toposort(g) if t.node is not None}
        assert "conv2d" in names
    x_ops = {t.node.op.name for t in tc.toposort(x.grad) if t.node is not None}
    assert {"dilate2d", "flip"} <= x_ops            # dX correlates the dilated dY with the flipped W


@pytest.mark.parametrize("stride", [(1, 1), (2, 1)])
def test_conv2d_with_bias_vjp_matches_finite_differences(stride):
    """conv2d(x, w, b): the bias is a third input, db = sum of dY over (N, OH, OW)."""
    x, w, b = (Tensor(a, requires_grad=True) for a in (randn(2, 4, 7, 6), randn(4, 2, 3, 2), randn(4)))
    params = {**CONV, "stride": stride}
    assert tc.gradcheck(lambda *xs: ops.conv2d(*xs, **params), x, w, b, eps=1e-6, atol=1e-7, rtol=1e-5)
    y = ops.conv2d(x, w, b, **params)
    dy = Tensor(randn(*y.shape))
    with tc.no_grad():
        db = vjp_of(y.node, dy)[2]
    np.testing.assert_allclose(db.data, dy.data.sum(axis=(0, 2, 3)), rtol=1e-12)


def test_conv2d_bias_gradient_is_a_recorded_sum():
    """db is written with the framework's sum, so it shows in the recorded backward graph."""
    x, w, b = (Tensor(a, requires_grad=True) for a in (randn(2, 4, 7, 6), randn(4, 2, 3, 2), randn(4)))
    y = ops.conv2d(x, w, b, **CONV)
    db = vjp_of(y.node, Tensor(randn(*y.shape), requires_grad=True))[2]    # recorded: grad mode on
    assert db.node is not None and db.node.op.name == "sum"


def _unread(op, requires):
    """The inputs whose values op's VJP declares it does not read (Primitive.reads), given which
    inputs require grad."""
    if op.reads == "shapes":
        return set(range(len(requires)))
    if op.reads == "others":
        return {i for i in range(len(requires)) if not any(r for j, r in enumerate(requires) if j != i)}
    return set()


@pytest.mark.parametrize("name", sorted(n for n in CASES if PRIMITIVES[n].reads != "inputs"))
def test_a_vjp_reads_no_values_its_primitive_says_it_does_not(name):
    """Primitive.reads is what lets the guards skip an input: with each unread input's values
    overwritten after the forward, the VJP gives exactly the same gradients. Every combination
    of which float inputs require grad is tried."""
    op = PRIMITIVES[name]
    floats = [i for i, a in enumerate(CASES[name][0]()) if np.issubdtype(a.dtype, np.floating)]
    for wanted in itertools.product([False, True], repeat=len(floats)):
        if not any(wanted):
            continue
        arrays, params = CASES[name][0](), CASES[name][1]
        requires = [False] * len(arrays)
        for i, w in zip(floats, wanted):
            requires[i] = w
        inputs = [Tensor(a, requires_grad=r) for a, r in zip(arrays, requires)]
        y = op(*inputs, **params)
        dy = Tensor(np.random.standard_normal(y.shape))
        before = [None if g is None else g.data.copy() for g in vjp_of(y.node, dy)]
        for i in _unread(op, requires):
            inputs[i].data[...] = np.random.standard_normal(inputs[i].shape) * 7 + 3
        after = vjp_of(y.node, dy)
        for i, (b, a) in enumerate(zip(before, after)):
            assert (b is None) == (a is None), (name, wanted, i)
            if b is not None:
                np.testing.assert_array_equal(a.data, b, err_msg=f"{name} {wanted} input {i}")
