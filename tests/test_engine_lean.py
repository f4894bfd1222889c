"""The engine's shortcuts change no result: shared number constants, the untraced sweep.

Torch-free.
"""
import math

import numpy as np
import pytest

import tinygrad_conv as tc
from tinygrad_conv.autograd import sweep
from tinygrad_conv.functional import elementwise as E


def test_a_number_operand_becomes_one_shared_read_only_constant_per_dtype():
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    a, b = x * 2.5, x * 2.5
    ca, cb = a.node.parents[1], b.node.parents[1]
    assert ca is cb and ca.dtype == np.float32 and not ca.data.flags.writeable
    d = tc.tensor([1.0, 2.0], dtype=np.float64) * 2.5
    assert d.dtype == np.float64 and (d.data == [2.5, 5.0]).all()
    i = tc.tensor([1, 2]) * 2                        # int64 stays int64
    assert i.dtype == np.int64 and (i.data == [2, 4]).all()


@pytest.mark.parametrize("number", [0.0, -0.0, float("nan"), 0, True])
def test_numbers_a_shared_key_could_confuse_are_not_shared(number):
    """0.0 == -0.0 and NaN != NaN as dict keys; True == 1: each is converted afresh."""
    x = tc.tensor([1.0, -1.0])
    y = x * number
    expected = np.array([1.0, -1.0], dtype=np.float32) * np.float32(number)
    assert np.array_equal(y.data, expected, equal_nan=True)
    assert np.array_equal(np.signbit(y.data), np.signbit(expected))
    assert y.node is None or y.node.parents[1] not in E._CONSTANTS.values()


def test_signed_zero_reaches_the_result():
    y = 1.0 / (tc.tensor([3.0]) * -0.0)
    assert y.data[0] == -math.inf


def test_backward_and_the_traced_sweep_give_the_same_gradients():
    x = tc.tensor([0.5, 1.5], requires_grad=True)
    y = ((x * 3.0 + 1.0) * x).sum()
    steps = list(sweep(y, tc.tensor(1.0)))
    assert any(sent for _, _, sent in steps)         # traced: the edges are listed
    untraced = list(sweep(y, tc.tensor(1.0), trace=False))
    assert all(sent == () for _, _, sent in untraced)
    y.backward()
    leaf = [dy for t, dy, _ in steps if t is x]
    assert np.allclose(sum(g.data for g in leaf), x.grad.data)
    assert np.allclose(x.grad.data, 6 * x.data + 1)


def test_a_recorded_op_keeps_two_objects_for_the_garbage_collector():
    """The result is its own node: a recorded op keeps the tensor and its parents tuple alive,
    not a third object (a separate node) that each collection of the graph would walk again.
    Its guards (a tuple of ints) and its empty params dict are not tracked."""
    import gc
    x, c = tc.tensor([1.0, 2.0], requires_grad=True), tc.tensor([3.0, 4.0])
    y = x
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(1000):
        y = y * c
    gc.collect()
    assert (len(gc.get_objects()) - before) / 1000 == pytest.approx(2, abs=0.05)
    assert y.node is y and y.op.name == "mul" and y.parents[1] is c
    assert x.node is None and x.op is None and x.parents is None     # a leaf records nothing


def test_backward_frees_each_node_and_an_in_place_op_hands_its_node_on():
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    first = h.grad_fn
    h.add_(1)                                          # h now records the add; a stand-in the mul
    assert h.op.name == "add" and h.parents[0].op.name == "mul"
    assert type(h.grad_fn).__name__ == "AddBackward0" and h.grad_fn is not first
    assert h.grad_fn is h.grad_fn
    loss = (h * h).sum()
    loss.backward()
    assert h.freed and loss.freed                      # backward dropped the saved inputs
    assert np.array_equal(x.grad.data, 2 * 2 * (2 * x.data + 1))
