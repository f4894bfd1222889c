"""Autograd as taught with PyTorch: grad_fn and next_functions, retain_grad, tensor hooks,
tc.autograd.grad and tc.autograd.backward, and .grad itself (a fresh array each leaf owns).

Each rule is tested on its own, then against PyTorch (torch-marked) on the same computation.
"""
import re
import warnings

import numpy as np
import pytest

import tinygrad_conv as tc
import tinygrad_conv.functional as F


def leaf(*values, shape=None):
    data = np.asarray(values, dtype=np.float64) if shape is None else np.random.randn(*shape)
    return tc.tensor(data, requires_grad=True)


# ----------------------------------------------------------------------------------------------
# grad_fn, next_functions, is_leaf


def test_grad_fn_is_none_for_leaves_and_names_the_backward_of_the_op():
    x, w = leaf(1.0, 2.0), leaf(3.0, 4.0)
    assert x.grad_fn is None and x.is_leaf and tc.tensor([1.0]).grad_fn is None
    y = x * w + x
    assert y.grad_fn.name() == "AddBackward0" == type(y.grad_fn).__name__
    assert re.fullmatch(r"<AddBackward0 object at 0x[0-9a-f]+>", repr(y.grad_fn))
    assert not y.is_leaf and y.requires_grad


def test_next_functions_lead_to_accumulate_grad_for_leaves_and_none_for_constants():
    x, w = leaf(1.0, 2.0), leaf(3.0, 4.0)
    y = (x * w) * 2
    (mul, _), (const, _) = y.grad_fn.next_functions
    assert mul.name() == "MulBackward0" and const is None
    (ax, zero), (aw, _) = mul.next_functions
    assert zero == 0 and ax.name() == "torch::autograd::AccumulateGrad"
    assert ax.variable is x and aw.variable is w and ax.next_functions == ()


def test_grad_fn_objects_are_the_same_while_held():
    x = leaf(1.0, 2.0)
    y = x * 2
    z = y + 1
    assert y.grad_fn is y.grad_fn
    assert z.grad_fn.next_functions[0][0] is y.grad_fn
    assert z.grad_fn.next_functions[0][0].next_functions[0][0] is \
        (x * 3).grad_fn.next_functions[0][0]                  # one AccumulateGrad per leaf


def test_next_functions_after_backward_explain_retain_graph():
    y = (leaf(1.0, 2.0) * 2).sum()
    y.backward()
    assert y.grad_fn.name() == "SumBackward0"
    with pytest.raises(RuntimeError, match="freed by backward.*retain_graph=True"):
        y.grad_fn.next_functions


def torch_name_cases(fw, F_):
    """The same computations in either framework: name -> result."""
    x = fw.tensor(np.random.randn(2, 3), requires_grad=True)
    img = fw.tensor(np.random.randn(1, 2, 6, 6), requires_grad=True)
    w = fw.tensor(np.random.randn(3, 2, 3, 3), requires_grad=True)
    return {
        "add": x + x, "sub": x - x, "mul": x * x, "div": x / (x * x + 1), "neg": -x,
        "pow": x ** 2, "exp": x.exp(), "tanh": x.tanh(), "sigmoid": x.sigmoid(), "relu": x.relu(),
        "abs": x.abs(), "sum": x.sum(), "sum_dim": x.sum(dim=0), "max": x.max(),
        "reshape": x.reshape(3, 2), "permute": x.permute(1, 0), "slice": x[1:], "select": x[0],
        "index": x[[0, 1, 1]], "flip": x.flip(0), "cat": fw.cat([x, x]), "expand": x[:1].expand(4, 3),
        "mm": x @ x.T, "cast": x.float(), "pad": F_.pad(x, (1, 1)),
        "conv": F_.conv2d(img, w), "max_pool": F_.max_pool2d(img, 2), "avg_pool": F_.avg_pool2d(img, 2),
    }


def test_grad_fn_names_follow_pytorch():
    names = {k: v.grad_fn.name() for k, v in torch_name_cases(tc, F).items()}
    assert names["conv"] == "ConvolutionBackward0"
    assert names["max_pool"] == "MaxPool2DWithIndicesBackward0"
    assert names["sum"] == "SumBackward0" and names["sum_dim"] == "SumBackward1"
    assert names["slice"] == "SliceBackward0" and names["select"] == "SelectBackward0"


# ----------------------------------------------------------------------------------------------
# .grad: leaves, retain_grad, the non-leaf warning, assignments


def test_reading_the_grad_of_a_non_leaf_warns_as_in_pytorch():
    x = leaf(1.0, 2.0)
    h = x * 2
    with pytest.warns(UserWarning, match=r"not a leaf Tensor.*\.retain_grad\(\)"):
        assert h.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is None and tc.tensor([1.0]).grad is None


def test_retain_grad_keeps_a_non_leafs_gradient_and_accumulates_it():
    x = leaf(1.0, 2.0)
    h = x * 2
    h.retain_grad()
    assert h.retains_grad and not x.retains_grad
    y = (h * h).sum()
    y.backward(retain_graph=True)
    np.testing.assert_array_equal(h.grad.data, 2 * h.data)
    y.backward()
    np.testing.assert_array_equal(h.grad.data, 4 * h.data)
    x.retain_grad()                                 # a leaf keeps its gradient anyway: no-op
    assert not x.retains_grad


def test_retain_grad_on_a_tensor_without_grad_is_refused():
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
        tc.tensor([1.0]).retain_grad()


def test_a_retained_root_gradient_is_its_own_array():
    x = leaf(1.0, 2.0)
    y = x * 3
    y.retain_grad()
    seed = np.ones(2)
    y.backward(seed)
    assert not np.shares_memory(y.grad.data, seed)


@pytest.mark.parametrize("value, error", [
    (np.zeros(2), TypeError), (leaf(1.0, 2.0, 3.0), RuntimeError),
    (tc.tensor([1.0, 2.0], dtype=np.float32), RuntimeError)])
def test_assigning_a_grad_of_the_wrong_kind_is_refused(value, error):
    x = leaf(1.0, 2.0)
    with pytest.raises(error, match="grad"):
        x.grad = value
    x.grad = tc.tensor(np.ones(2))
    x.grad = None


# ----------------------------------------------------------------------------------------------
# Leaf gradients are fresh, writable, contiguous arrays owned by their leaf


def test_two_leaves_never_share_a_gradient_array():
    x, y = leaf(1.0, 2.0), leaf(3.0, 4.0)
    (x + y).sum().backward()                        # add's VJP passes dy to both
    assert x.grad is not y.grad and not np.shares_memory(x.grad.data, y.grad.data)
    x.grad.zero_()
    np.testing.assert_array_equal(y.grad.data, 1.0)


def test_a_broadcast_gradient_is_materialised_and_writable():
    x = leaf(shape=(3, 4))
    x.sum().backward()                              # sum's VJP is a read-only broadcast view
    assert x.grad.data.flags.writeable and x.grad.data.flags.c_contiguous
    assert x.grad.data.base is None
    x.grad.zero_()
    x.grad.data[0, 0] = 5.0


def test_the_gradient_passed_to_backward_is_not_aliased():
    x = leaf(1.0, 2.0)
    seed = np.array([1.0, 1.0])
    (x + 0).backward(seed)
    x.grad.data[0] = 7.0
    np.testing.assert_array_equal(seed, [1.0, 1.0])
    y = leaf(1.0, 2.0)
    y.backward(seed)                                # a leaf as the root
    assert not np.shares_memory(y.grad.data, seed)


def test_a_fresh_gradient_is_not_copied():
    x = leaf(1.0, 2.0)
    y = x * tc.tensor([3.0, 4.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.data) or None)
    y.sum().backward()
    assert x.grad.data is seen[0]                   # mul's VJP made it: nobody else holds it


# ----------------------------------------------------------------------------------------------
# Hooks


def test_a_hook_sees_the_gradient_and_its_result_replaces_it():
    x = leaf(1.0, 2.0)
    h = x * 3
    seen = []
    h.register_hook(lambda g: seen.append(g.data.copy()))
    h.register_hook(lambda g: g * 2)
    (h * h).sum().backward()
    np.testing.assert_array_equal(seen[0], 2 * h.data)
    np.testing.assert_array_equal(x.grad.data, 3 * 2 * 2 * h.data)


def test_a_leaf_hook_runs_before_accumulation_and_can_be_removed():
    x = leaf(1.0, 2.0)
    handle = x.register_hook(lambda g: g * 10)
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 20.0)
    handle.remove()
    handle.remove()                                 # twice is harmless
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 22.0)


def test_hooks_run_in_registration_order_and_a_handle_is_a_context_manager():
    x = leaf(1.0)
    order = []
    x.register_hook(lambda g: order.append("first"))
    with x.register_hook(lambda g: order.append("second")):
        (x * 2).backward()
    (x * 2).backward()
    assert order == ["first", "second", "first"]


@pytest.mark.parametrize("result, error, match", [
    (lambda g: g.sum(), RuntimeError, "changed the size"),
    (lambda g: g.to(np.float32), RuntimeError, "changed the type"),
    (lambda g: 5, TypeError, "hook '<lambda>' returned int")])
def test_a_hook_that_changes_the_gradients_shape_or_type_is_refused(result, error, match):
    x = leaf(1.0, 2.0)
    x.register_hook(result)
    with pytest.raises(error, match=match):
        (x * 2).sum().backward()
    assert x.grad is None


def test_register_hook_refuses_a_tensor_without_grad_and_a_non_function():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        tc.tensor([1.0]).register_hook(lambda g: g)
    with pytest.raises(TypeError, match="register_hook expects a function"):
        leaf(1.0).register_hook(5)


# ----------------------------------------------------------------------------------------------
# tc.autograd.grad and tc.autograd.backward


def test_autograd_grad_returns_gradients_and_leaves_grad_alone():
    x, w = leaf(1.0, 2.0), leaf(3.0, 4.0)
    loss = (x * w).sum()
    dx, dw = tc.autograd.grad(loss, [x, w])
    np.testing.assert_array_equal(dx.data, w.data)
    np.testing.assert_array_equal(dw.data, x.data)
    assert x.grad is None and w.grad is None
    with pytest.raises(RuntimeError, match="second time"):
        tc.autograd.grad(loss, x)                   # the graph was freed


def test_autograd_grad_of_a_single_tensor_and_of_an_intermediate():
    x = leaf(1.0, 2.0)
    h = x * 3
    y = (h * h).sum()
    (dh,) = tc.autograd.grad(y, h, retain_graph=True)
    np.testing.assert_array_equal(dh.data, 2 * h.data)
    (dx,) = tc.autograd.grad(y, x)
    np.testing.assert_array_equal(dx.data, 18 * x.data)


def test_autograd_grad_with_several_outputs_and_grad_outputs():
    x = leaf(1.0, 2.0)
    a, b = x * 2, x * x
    (dx,) = tc.autograd.grad([a, b], x, grad_outputs=[np.array([1.0, 0.0]), np.array([0.0, 1.0])])
    np.testing.assert_array_equal(dx.data, [2.0, 4.0])


def test_autograd_grad_unused_inputs_as_pytorch():
    x, z = leaf(1.0), leaf(2.0)
    y = x * 2
    with pytest.raises(RuntimeError, match=re.escape(
            "The differentiated Tensor at index 1 appears to not have been used in the graph. "
            "Set allow_unused=True if this is the desired behavior.")):
        tc.autograd.grad(y, [x, z], retain_graph=True)
    dx, dz = tc.autograd.grad(y, [x, z], allow_unused=True, retain_graph=True)
    assert dz is None and dx.data.tolist() == [2.0]
    _, dz = tc.autograd.grad(y, [x, z], materialize_grads=True)
    assert dz.data.tolist() == [0.0]


def test_autograd_grad_refuses_inputs_without_grad_and_non_scalar_outputs():
    x = leaf(1.0, 2.0)
    with pytest.raises(RuntimeError, match="does not require grad"):
        tc.autograd.grad((x * 2).sum(), tc.tensor([1.0]))
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        tc.autograd.grad(x * 2, x)


def test_autograd_grad_with_create_graph_gives_a_hessian_vector_product():
    x = leaf(1.0, 2.0)
    (dx,) = tc.autograd.grad((x ** 3).sum(), x, create_graph=True)
    (hvp,) = tc.autograd.grad(dx, x, grad_outputs=np.array([1.0, 1.0]))
    np.testing.assert_allclose(hvp.data, 6 * x.data)            # d²/dx² x³ = 6x


def test_autograd_grad_only_runs_the_vjps_that_lead_to_the_inputs():
    x = leaf(1.0, 2.0)
    h = x * 3
    y = (h * h).sum()
    ran = []
    x.register_hook(lambda g: ran.append("x"))
    h.register_hook(lambda g: ran.append("h"))
    tc.autograd.grad(y, h)
    assert ran == ["h"]


def test_autograd_backward_over_several_tensors_and_inputs():
    x, w = leaf(1.0, 2.0), leaf(3.0, 4.0)
    tc.autograd.backward([(x * w).sum(), (x * x).sum()])
    np.testing.assert_array_equal(x.grad.data, w.data + 2 * x.data)
    with pytest.raises(RuntimeError, match="got 2 tensors and 1 gradients"):
        tc.autograd.backward([x * 2, x * 3], [np.ones(2)])
    x.grad = w.grad = None
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None and w.grad.data.tolist() == [1.0, 2.0]


# ----------------------------------------------------------------------------------------------
# All or nothing: an error leaves every .grad as it was


def test_a_failing_backward_updates_no_grad():
    x, w = leaf(1.0, 2.0), leaf(3.0, 4.0)
    x.grad = tc.tensor(np.array([10.0, 10.0]))
    y = (x * w).sum() + (w * 2).sum()
    w.register_hook(lambda g: (_ for _ in ()).throw(ValueError("hook failed")))
    with pytest.raises(ValueError, match="hook failed"):
        y.backward()
    assert x.grad.data.tolist() == [10.0, 10.0] and w.grad is None


# ----------------------------------------------------------------------------------------------
# Against PyTorch


@pytest.mark.torch
def test_grad_fn_names_match_pytorch():
    torch = pytest.importorskip("torch")
    ours = {k: v.grad_fn.name() for k, v in torch_name_cases(tc, F).items()}
    theirs = {k: v.grad_fn.name() for k, v in torch_name_cases(torch, torch.nn.functional).items()}
    assert ours == theirs


@pytest.mark.torch
def test_next_functions_structure_matches_pytorch():
    torch = pytest.importorskip("torch")

    def shape(fw):
        x = fw.tensor(np.array([1.0, 2.0]), requires_grad=True)
        w = fw.tensor(np.array([3.0, 4.0]), requires_grad=True)
        y = ((x * w) * 2).tanh().sum()

        def walk(fn):
            if fn is None:
                return None
            return fn.name(), tuple((walk(f), i) for f, i in fn.next_functions)
        return walk(y.grad_fn)

    assert shape(tc) == shape(torch)


@pytest.mark.torch
def test_a_grad_fn_made_before_an_in_place_op_keeps_describing_its_op_as_in_pytorch():
    torch = pytest.importorskip("torch")

    def run(fw):
        x = fw.tensor(np.array([1.0, 2.0]), requires_grad=True)
        h = x * 2
        mul = h.grad_fn
        h.add_(1)
        add = h.grad_fn
        leaf = mul.next_functions[0][0]
        return (mul.name(), add.name(), add.next_functions[0][0] is mul, add is h.grad_fn,
                leaf.name(), leaf.variable is x)

    assert run(tc) == run(torch)


@pytest.mark.torch
def test_hooks_retain_grad_and_autograd_grad_match_pytorch():
    torch = pytest.importorskip("torch")

    def run(fw):
        x = fw.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
        h = x * 2
        h.retain_grad()
        log = []
        x.register_hook(lambda g: log.append(("x", g.tolist())))
        h.register_hook(lambda g: log.append(("h", g.tolist())) or g * 10)
        y = (h * h).sum()
        (gx,) = fw.autograd.grad(y, x, retain_graph=True)
        log.append(("grad", gx.tolist(), h.grad.tolist(), x.grad))
        y.backward()
        log.append(("backward", x.grad.tolist(), h.grad.tolist()))
        return log

    assert run(tc) == run(torch)


@pytest.mark.torch
def test_autograd_grad_over_a_small_network_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    xs, ws, vs = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal((4, 2))

    def run(fw):
        x, w = (fw.tensor(a, requires_grad=True) for a in (xs, ws))
        h = (x @ w).tanh()
        dx, dw = fw.autograd.grad(h, [x, w], grad_outputs=fw.tensor(vs), create_graph=True)
        (ddw,) = fw.autograd.grad((dx * dx).sum(), w)
        return dx.detach().numpy(), dw.detach().numpy(), ddw.numpy()

    for ours, theirs in zip(run(tc), run(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
