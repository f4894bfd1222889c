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
