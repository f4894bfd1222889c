"""Forward values and every gradient against PyTorch (float64), over broad parameter sweeps.

Skipped when torch is not installed (`pip install torch==2.13.0` installs a CPU build).
"""
import itertools

import numpy as np
import pytest

import tinygrad_conv as tc
import tinygrad_conv.functional as F
from tinygrad_conv import Tensor

torch = pytest.importorskip("torch")
TF = torch.nn.functional
pytestmark = pytest.mark.torch


def run_both(ours, theirs, *arrays, requires_grad=None):
    """Apply both frameworks to the same float64 inputs and a shared random dy; compare all."""
    requires_grad = requires_grad or [True] * len(arrays)
    mine = [Tensor(a, requires_grad=r) for a, r in zip(arrays, requires_grad)]
    ref = [torch.tensor(a, requires_grad=r) for a, r in zip(arrays, requires_grad)]
    y, ty = ours(*mine), theirs(*ref)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    dy = np.random.standard_normal(y.shape)
    y.backward(dy)
    ty.backward(torch.tensor(dy))
    for m, r, needs in zip(mine, ref, requires_grad):
        if needs:
            np.testing.assert_allclose(m.grad.data, r.grad.numpy(), rtol=1e-9, atol=1e-10)


CONV_SWEEP = list(itertools.product([(7, 7), (8, 5)], [(1, 1), (3, 3), (2, 3)], [1, 2, (3, 2)],
                                    [0, 1, (2, 1)], [1, (2, 1)], [1, 2]))


@pytest.mark.parametrize("hw,kernel,stride,padding,dilation,groups", CONV_SWEEP)
def test_conv2d_matches_torch(hw, kernel, stride, padding, dilation, groups):
    x = np.random.standard_normal((2, 2 * groups) + hw)
    w = np.random.standard_normal((2 * groups, 2) + kernel)
    b = np.random.standard_normal(2 * groups)
    run_both(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups),
             lambda x, w, b: TF.conv2d(x, w, b, stride, padding, dilation, groups), x, w, b)


@pytest.mark.parametrize("padding,kernel,dilation", [("same", (3, 3), 1), ("same", (4, 2), 1),
                                                     ("same", (3, 2), 2), ("valid", (3, 3), 1)])
def test_conv2d_string_padding_matches_torch(padding, kernel, dilation):
    x, w = np.random.standard_normal((2, 3, 6, 7)), np.random.standard_normal((4, 3) + kernel)
    run_both(lambda x, w: F.conv2d(x, w, padding=padding, dilation=dilation),
             lambda x, w: TF.conv2d(x, w, padding=padding, dilation=dilation), x, w)


def test_conv2d_unbatched_input_matches_torch():
    x, w = np.random.standard_normal((3, 6, 6)), np.random.standard_normal((4, 3, 3, 3))
    run_both(lambda x, w: F.conv2d(x, w, stride=2, padding=1),
             lambda x, w: TF.conv2d(x, w, stride=2, padding=1), x, w)


POOL_SWEEP = list(itertools.product([(7, 7), (8, 5)], [2, 3, (3, 2)], [None, 1, 2, (3, 1)],
                                    [0, 1], [False, True]))


@pytest.mark.parametrize("hw,kernel,stride,padding,ceil_mode", POOL_SWEEP)
@pytest.mark.parametrize("dilation", [1, 2])
def test_max_pool2d_matches_torch(hw, kernel, stride, padding, ceil_mode, dilation):
    x = np.random.standard_normal((2, 3) + hw)
    run_both(lambda x: F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode),
             lambda x: TF.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode), x)


def test_max_pool2d_return_indices_match_torch():
    x = np.random.standard_normal((2, 3, 7, 6))
    y, index = F.max_pool2d(Tensor(x), 3, 2, 1, return_indices=True)
    ty, tindex = TF.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(index.data, tindex.numpy())
    assert index.dtype == np.int64


def test_max_pool2d_ties_match_torch():
    x = np.round(np.random.standard_normal((2, 2, 6, 6)))      # many ties
    run_both(lambda x: F.max_pool2d(x, 3, 1, 1), lambda x: TF.max_pool2d(x, 3, 1, 1), x)


@pytest.mark.parametrize("hw,kernel,stride,padding,ceil_mode", POOL_SWEEP)
@pytest.mark.parametrize("count_include_pad,divisor_override", [(True, None), (False, None), (True, 5)])
def test_avg_pool2d_matches_torch(hw, kernel, stride, padding, ceil_mode, count_include_pad,
                                  divisor_override):
    x = np.random.standard_normal((2, 3) + hw)
    run_both(lambda x: F.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override),
             lambda x: TF.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override),
             x)


PADS = [(1, 2), (2, 1, 0, 3), (-1, 2, 1, -1), (0, 0, 2, 2), (3, 0), (1, 1, 1, 1, 1, 1)]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("widths", PADS)
def test_pad_matches_torch(mode, widths):
    x = np.random.standard_normal((2, 3, 5, 6))
    try:
        TF.pad(torch.tensor(x), widths, mode)
    except (RuntimeError, NotImplementedError, ValueError):
        with pytest.raises(ValueError):
            F.pad(Tensor(x), widths, mode)
        return
    run_both(lambda x: F.pad(x, widths, mode), lambda x: TF.pad(x, widths, mode), x)


def test_pad_constant_value_matches_torch():
    x = np.random.standard_normal((2, 3, 4))
    run_both(lambda x: F.pad(x, (1, 2), value=-3.5), lambda x: TF.pad(x, (1, 2), value=-3.5), x)


@pytest.mark.parametrize("shapes", [((5,), (5,)), ((3, 5), (5,)), ((5,), (5, 4)), ((2, 3, 5), (5, 4)),
                                    ((2, 1, 3, 5), (4, 5, 2))])
def test_matmul_matches_torch(shapes):
    a, b = (np.random.standard_normal(s) for s in shapes)
    run_both(lambda a, b: a @ b, lambda a, b: a @ b, a, b)


def test_linear_matches_torch():
    x, w, b = (np.random.standard_normal(s) for s in [(4, 3, 5), (2, 5), (2,)])
    run_both(F.linear, TF.linear, x, w, b)


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "relu", "abs", "neg"])
def test_unary_ops_match_torch(name):
    x = np.random.standard_normal((3, 4)) * 2
    run_both(lambda x: getattr(x, name)() if name != "neg" else -x,
             lambda x: getattr(x, name)() if name != "neg" else -x, x)


def test_log_sqrt_pow_match_torch():
    x = np.random.uniform(0.5, 2, (3, 4))
    run_both(lambda x: x.log() + x.sqrt() * x ** 1.5, lambda x: x.log() + x.sqrt() * x ** 1.5, x)


def test_broadcast_arithmetic_matches_torch():
    a, b = np.random.standard_normal((2, 1, 4)), np.random.uniform(0.5, 2, (3, 1))
    run_both(lambda a, b: (a + b) * (a - b) / b, lambda a, b: (a + b) * (a - b) / b, a, b)


def test_reductions_and_shapes_match_torch():
    x = np.random.standard_normal((2, 3, 4))
    run_both(lambda x: x.sum(dim=1, keepdim=True) * x.mean(dim=(0, 2), keepdim=True),
             lambda x: x.sum(dim=1, keepdim=True) * x.mean(dim=(0, 2), keepdim=True), x)
    run_both(lambda x: x.amax(dim=2), lambda x: x.amax(dim=2), x)
    run_both(lambda x: x.max(dim=2).values, lambda x: x.max(dim=2).values, x)
    run_both(lambda x: x.permute(2, 0, 1).reshape(4, 6)[1:, ::2].flip(0),
             lambda x: x.permute(2, 0, 1).reshape(4, 6)[1:, ::2].flip(0), x)
    run_both(lambda x: tc.cat([x, x * 2], dim=1), lambda x: torch.cat([x, x * 2], dim=1), x)
    run_both(lambda x: tc.stack([x, x.exp()], dim=0), lambda x: torch.stack([x, x.exp()], dim=0), x)
    run_both(lambda x: x[:, [0, 2, 2]], lambda x: x[:, [0, 2, 2]], x)


def test_double_backward_through_conv_and_pools_matches_torch():
    x = np.random.standard_normal((2, 2, 6, 6))
    w = np.random.standard_normal((3, 2, 3, 3))
    v = np.random.standard_normal(x.shape)

    def ours(x, w):
        y = F.max_pool2d(F.conv2d(x, w, stride=2, padding=1).tanh(), 2, 1) + 0
        y = F.avg_pool2d(y, 2, 1, ceil_mode=True)
        (y * y).sum().backward(create_graph=True)
        return (x.grad * Tensor(v)).sum()

    def theirs(x, w):
        y = TF.max_pool2d(TF.conv2d(x, w, stride=2, padding=1).tanh(), 2, 1) + 0
        y = TF.avg_pool2d(y, 2, 1, ceil_mode=True)
        (gx,) = torch.autograd.grad((y * y).sum(), x, create_graph=True)
        return (gx * torch.tensor(v)).sum()

    X, Wt = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    hv = ours(X, Wt)
    X.grad = Wt.grad = None
    hv.backward()
    TX, TW = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    thv = theirs(TX, TW)
    thv.backward()
    np.testing.assert_allclose(hv.data, thv.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(X.grad.data, TX.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(Wt.grad.data, TW.grad.numpy(), rtol=1e-8, atol=1e-10)


# A raw write into an input that no VJP reads (PyTorch saves no such input): the same text runs
# under both libraries, and both give the gradient of the values the forward used.
RAW_WRITE_INTO_AN_UNREAD_INPUT = """
x = torch.linspace(-1, 1, 6, dtype=torch.float64).reshape(1, 1, 2, 3).requires_grad_()
c = torch.linspace(2, 3, 6, dtype=torch.float64).reshape(1, 1, 2, 3)
loss = (x * c).sum() + (x + c).sum() * 2 + torch.nn.functional.conv2d(c, x).sum()
x.data[0, 0, 0, 0] = 5.0
loss.backward()
"""


def test_a_raw_write_into_an_input_no_vjp_reads_gives_pytorchs_gradient():
    grads = []
    for library in (torch, tc):
        env = {"torch": library}
        exec(RAW_WRITE_INTO_AN_UNREAD_INPUT, env)
        grad = env["x"].grad
        grads.append(grad.numpy() if library is torch else grad.data)
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12)
