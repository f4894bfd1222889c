"""Writes into saved tensors through any alias are caught, and caught before any .grad changes.

The guards (autograd/guards.py) fingerprint leaves (a fixed sample of a large one), checksum
small intermediates and lock large ones.
These tests probe the aliases a lock cannot reach: numpy views taken before the lock (of .data,
of a detached tensor, of Tensor(h)), views of leaves, and expand views, whose base is checked by
an earlier node. Torch-free.
"""
import numpy as np
import pytest

import tinygrad_conv as tc
from tinygrad_conv.autograd import guards

LARGE = 2 * guards.CHECKSUM_BYTES // 8              # float64 entries: locked, not checksummed


def big_leaf():
    return tc.tensor(np.linspace(-1, 1, LARGE), requires_grad=True)


ALIASES = {
    "a slice of .data": lambda h: h.data[:10],
    "a reshape of .data": lambda h: h.data.reshape(2, -1),
    "np.asarray then a slice": lambda h: np.asarray(h)[5:],
    "a view of detach()": lambda h: h.detach().data[:10],
    "a view of Tensor(h)": lambda h: tc.Tensor(h).data[:10],
    "a transposed view": lambda h: h.data.reshape(2, -1).T,
}


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_a_view_of_a_large_intermediate_taken_before_it_was_saved(alias):
    x = big_leaf()
    h = x * 2
    view = ALIASES[alias](h)                        # writable: h is not locked yet
    y = (h * h).sum()
    view[(0,) * view.ndim] = 100.0
    with pytest.raises(RuntimeError, match="gradient of 'mul'.*overwritten"):
        y.backward()
    assert x.grad is None


def test_an_unaliased_large_intermediate_is_locked_not_checksummed():
    """The check costs nothing on the common path: no view, no checksum."""
    h = big_leaf() * 2
    y = h * h
    assert y.node.marks[1::2] == (None, None) and not h.data.flags.writeable


def test_an_alias_that_is_gone_before_the_save_costs_nothing():
    h = big_leaf() * 2
    total = h.data[:10].sum()                       # a temporary view, dropped at once
    assert np.isfinite(total)
    y = h * h
    assert y.node.marks[1::2] == (None, None)


def test_a_view_of_a_large_leaf_is_caught():
    x = big_leaf()
    view = x.data[:10]
    y = (x * x).sum()
    view[0] = 7.0
    with pytest.raises(RuntimeError, match="gradient of 'mul'.*overwritten"):
        y.backward()


def test_a_leaf_changed_under_its_large_reshape_is_caught_before_any_grad_is_written():
    x = big_leaf()
    w = tc.tensor(np.linspace(0, 1, LARGE).reshape(2, -1), requires_grad=True)
    y = (x.reshape(2, -1) * w).sum()                # mul saved the reshape: a view of x
    x.data[0] = 7.0                                 # only reshape's guard (x's checksum) sees it
    with pytest.raises(RuntimeError, match="gradient of 'reshape'.*overwritten"):
        y.backward()
    assert w.grad is None and x.grad is None


def test_a_leaf_changed_under_a_large_expand_is_caught_before_any_grad_is_written():
    x = tc.tensor(np.linspace(-1, 1, 4), requires_grad=True)
    w = tc.tensor(np.ones((LARGE, 4)), requires_grad=True)
    w.grad = tc.tensor(np.zeros((LARGE, 4)))
    y = (x.expand(LARGE, 4) * w).sum()              # the expand view is read-only, not checksummed
    x.data[0] = 7.0
    with pytest.raises(RuntimeError, match="gradient of 'expand'.*overwritten"):
        y.backward()
    assert x.grad is None and not w.grad.data.any()  # all or nothing


def test_a_large_intermediate_changed_through_an_old_view_of_its_base():
    x = big_leaf()
    h = x * 2
    view = h.data[:10]
    r = h.reshape(2, -1)                            # locks h (and r), checksummed: h has a view
    y = (r * r).sum()
    view[0] = 5.0
    with pytest.raises(RuntimeError, match="gradient of 'reshape'.*overwritten"):
        y.backward()


def test_aliased_arrays_are_forgotten_with_their_locks():
    h = big_leaf() * 2
    view = h.data[:3]
    y = (h * h).sum()
    assert id(h.data) in guards._ALIASED
    del view
    y.backward()
    assert id(h.data) not in guards._ALIASED and h.data.flags.writeable


# --- what a large leaf's sampled fingerprint catches, and what it cannot --------------------------
def test_a_large_leaf_keeps_a_sampled_fingerprint_not_a_full_checksum():
    x = big_leaf()
    y = (x * x).sum()
    assert y.node.parents[0].node is not None       # sum saved the product: locked, no mark
    mul = y.node.parents[0].node
    assert mul.marks[1] == guards.fingerprint(x.data) != guards.checksum(x.data)


@pytest.mark.parametrize("write", [
    lambda a: a.__iadd__(1.0),                       # x.data += 1
    lambda a: a.__setitem__(slice(None), 0.5),       # x.data[:] = 0.5
    lambda a: a.__setitem__(slice(100, 900), 3.0),   # a long run of entries
    lambda a: a.__setitem__(0, 3.0),                 # the first entry (sampled)
    lambda a: a.__setitem__(-1, 3.0),                # the last entry (sampled)
], ids=["+= 1", "[:] =", "a long run", "first", "last"])
def test_raw_writes_into_a_large_leaf_that_the_sample_sees(write):
    x = big_leaf()
    y = (x * x).sum()
    write(x.data)
    with pytest.raises(RuntimeError, match="gradient of 'mul'.*overwritten"):
        y.backward()


def test_a_raw_write_to_one_unsampled_entry_of_a_large_leaf_is_not_seen():
    """The documented limit: a few entries between the sampled ones change unseen."""
    x = big_leaf()
    sampled = set(guards._sample(x.data.size).tolist())
    unsampled = next(i for i in range(x.data.size) if i not in sampled)
    y = (x * x).sum()
    x.data[unsampled] = 5.0
    y.backward()                                     # the gradient is 2 * the new x there
    assert x.grad.data[unsampled] == 10.0


def test_writes_through_the_api_and_the_optimizers_bump_the_version_whatever_the_size():
    x = big_leaf()
    y = (x * x).sum()
    x.grad = tc.zeros_like(x)
    x.grad.data[5] = 1.0                             # an unsampled entry: versions still see it
    tc.optim.SGD([x], lr=0.1).step()
    with pytest.raises(RuntimeError, match="version went from 0 to 1"):
        y.backward()



# --- only the values a VJP reads are guarded (Primitive.reads) ------------------------------------
F = tc.nn.functional
UNREAD = {    # loss(x, c) with constant c, where no VJP reads x's values: only its shape
    "x + c": lambda x, c: (x + c).sum(),
    "c - x": lambda x, c: (c - x).sum(),
    "x * c": lambda x, c: (x * c).sum(),
    "x @ c^T": lambda x, c: (x @ c.transpose(-1, -2)).sum(),
    "sum": lambda x, c: x.sum() * 3,
    "conv2d's weight, of a constant input": lambda x, c: F.conv2d(c, x).sum(),
}


@pytest.mark.parametrize("entries", [6, LARGE], ids=["small", "large"])
@pytest.mark.parametrize("case", sorted(UNREAD))
def test_a_raw_write_into_an_input_no_vjp_reads_leaves_the_gradient_right(case, entries):
    """As in PyTorch, which saves no such input: backward runs, and its gradient is the one
    without the write. (Every entry is changed, so a checksum or a sample would have seen it.)"""
    shape = (1, 1, 2, entries // 2)                 # a kernel the size of the input: one output

    def grad(write):
        x = tc.tensor(np.linspace(-1, 1, entries).reshape(shape), requires_grad=True)
        c = tc.tensor(np.linspace(2, 3, entries).reshape(shape))
        loss = UNREAD[case](x, c)
        if write:
            x.data[...] += 1.0                       # a raw write: no version bump
        loss.backward()
        return x.grad.data

    np.testing.assert_array_equal(grad(write=True), grad(write=False))


def test_a_raw_write_into_an_input_the_vjp_reads_is_still_caught():
    x, c = tc.tensor(np.linspace(-1, 1, 6), requires_grad=True), tc.tensor(np.ones(6))
    y = (x * c).sum()
    c.data[0] = 2.0                                  # dx = dz * c reads c
    with pytest.raises(RuntimeError, match="gradient of 'mul'.*input 1.*overwritten"):
        y.backward()


def test_an_op_that_returns_a_view_of_an_unread_input_still_guards_it():
    """Later ops read the input's values through the view, and a lock on the view cannot stop
    a raw write into the leaf it views: the op's own guard must see it."""
    @tc.primitive(name="test_head_view", reads="shapes")
    def head(x):
        return x[:LARGE // 2]

    @head.defvjp
    def head_vjp(dy, x):
        return tc.Tensor(np.concatenate([dy.data, np.zeros(x.shape[0] - dy.shape[0])]))

    try:
        x = big_leaf()
        w = tc.tensor(np.ones(LARGE // 2), requires_grad=True)
        y = (head(x) * w).sum()                      # mul locks the view; x stays writable
        x.data[:] = 0.0
        with pytest.raises(RuntimeError, match="gradient of 'test_head_view'.*overwritten"):
            y.backward()
        assert w.grad is None
    finally:
        del tc.PRIMITIVES["test_head_view"]
