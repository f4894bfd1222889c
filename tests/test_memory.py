"""Memory: a backward pass frees what the forward saved, and training does not accumulate memory.

Weak references tell whether an array is still alive without keeping it alive; tracemalloc sees
every NumPy array allocation, so a training loop that leaks anything shows up as growth.
"""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import tinygrad_conv as tc
from tinygrad_conv import functional as F, nn


def small_cnn() -> nn.Sequential:
    """(N, 1, 8, 8) -> (N, 3): every kind of saved state (argmax, divisors, padded copies)."""
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3, stride=2, padding=1), nn.Tanh(),
                         nn.AvgPool2d(2, ceil_mode=True), nn.Flatten(), nn.Linear(6, 3))


def batch(n: int = 8):
    return (tc.Tensor(np.random.standard_normal((n, 1, 8, 8)).astype(np.float32)),
            tc.Tensor(np.random.randint(0, 3, n)))


def saved_arrays(loss: tc.Tensor) -> list:
    """Weak references to every array the graph of `loss` keeps for its backward pass: the
    values of each recorded op's output and parents that are not leaves, and its saved extras."""
    refs = []
    for t in tc.toposort(loss):
        if t.node is None:
            continue
        if t is not loss:
            refs.append(weakref.ref(t.data))
        saved = t.node.saved
        for extra in saved if isinstance(saved, tuple) else (saved,):
            if isinstance(extra, np.ndarray):
                refs.append(weakref.ref(extra))
    return refs


def test_backward_frees_every_saved_array():
    tc.manual_seed(0)
    model = small_cnn()
    x, y = batch()
    loss = F.cross_entropy(model(x), y)
    refs = saved_arrays(loss)
    assert len(refs) > 10
    loss.backward()
    gc.collect()
    alive = [r() for r in refs if r() is not None]
    assert alive == [], f"{len(alive)} of {len(refs)} saved arrays outlive backward: " \
                        f"{[a.shape for a in alive]}"
    assert loss.node is None or loss.node.freed


def test_retain_graph_keeps_the_saved_arrays_until_the_graph_goes():
    # the control experiment: the references above do see living arrays
    tc.manual_seed(0)
    model = small_cnn()
    x, y = batch()
    loss = F.cross_entropy(model(x), y)
    refs = saved_arrays(loss)
    loss.backward(retain_graph=True)
    gc.collect()
    assert all(r() is not None for r in refs)
    del loss
    gc.collect()
    assert all(r() is None for r in refs)


def test_a_graph_dropped_without_backward_is_freed():
    tc.manual_seed(0)
    model = small_cnn()
    x, y = batch()
    loss = F.cross_entropy(model(x), y)
    refs = saved_arrays(loss)
    del loss
    gc.collect()
    assert all(r() is None for r in refs)


def test_gradients_of_intermediate_results_are_not_kept():
    x = tc.Tensor(np.random.standard_normal((4, 1, 6, 6)), requires_grad=True)
    w = tc.Tensor(np.random.standard_normal((2, 1, 3, 3)), requires_grad=True)
    hidden = F.conv2d(x, w, padding=1)
    F.max_pool2d(hidden, 2).sum().backward()
    assert hidden.grad is None                       # only leaves accumulate .grad
    assert x.grad is not None and w.grad is not None


def train(model, optimizer, data, steps: int) -> None:
    for step in range(steps):
        x, y = data[step % len(data)]
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()


@pytest.mark.parametrize("optimizer,steps", [("sgd", 1000), ("adam", 300)])
def test_training_loop_does_not_grow_memory(optimizer, steps):
    tc.manual_seed(0)
    np.random.seed(0)
    model = small_cnn()
    optimizer = (tc.optim.SGD(model.parameters(), lr=0.01, momentum=0.9) if optimizer == "sgd"
                 else tc.optim.Adam(model.parameters(), lr=1e-3))
    data = [batch() for _ in range(4)]
    train(model, optimizer, data, 20)                # optimizer state and caches exist now
    gc.collect()
    objects_before = len(gc.get_objects())
    tracemalloc.start()
    try:
        # the first traced steps allocate a few bounded caches (about 20-30 KB, the same after
        # 500 or 3,000 more steps), so growth is measured from step 100 on; one leaked object
        # per step (a tensor, a node, an array header: 50 bytes or more) would exceed the bound
        train(model, optimizer, data, 100)
        gc.collect()
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        train(model, optimizer, data, steps)
        gc.collect()
        end, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert end - start < 32 * 1024, f"memory grew by {end - start} bytes over {steps} steps"
    assert peak - start < 1 << 20, f"one step of a tiny CNN peaked at {peak - start} bytes"
    assert len(gc.get_objects()) - objects_before < 100


def test_backward_lets_each_intermediate_go_as_soon_as_its_vjp_has_run():
    """The sweep holds no list of the whole graph: an activation is freed mid-backward, not at
    the end, so the backward pass never holds every activation and every gradient at once."""
    x = tc.tensor(np.ones(4), requires_grad=True)
    h = x * 2.0
    alive = weakref.ref(h)
    y = (h * 3.0).sum()
    del h
    seen_dead = []
    for t, dy, _ in tc.autograd.sweep(y, tc.tensor(1.0), retain_graph=False, trace=False):
        leaf = t is x
        del t, dy
        if leaf:
            seen_dead.append(alive() is None)
    assert seen_dead == [True]


def test_backward_holds_nothing_of_the_previous_step_while_the_next_one_runs():
    """When a step's VJP runs (here: h1's, whose hook runs just before it), the tensor of the step
    before (h2) and its gradient are gone: neither the sweep nor backward keeps them, nor the
    parent and share the previous VJP handed on. Else a CNN's backward would hold two more
    activations at its peak."""
    x = tc.tensor(np.ones(4), requires_grad=True)
    h1 = x * 2.0
    h2 = h1 * 3.0
    y = h2.sum()
    seen = {}
    h2.register_hook(lambda grad: seen.update(h2_grad=weakref.ref(grad)))
    h2_alive = weakref.ref(h2)
    h1.register_hook(lambda grad: seen.update(gone=(h2_alive() is None, seen["h2_grad"]() is None)))
    del h2
    y.backward()
    assert seen["gone"] == (True, True)
    assert np.array_equal(x.grad.data, np.full(4, 6.0))


def test_relu_vjp_holds_little_beyond_its_result():
    """relu's VJP (the where primitive, kernels.select) builds its result in place beside a
    one-byte mask: the result, the condition and that mask, not three full temporaries."""
    from tinygrad_conv.ops.elementwise import relu
    x = tc.Tensor(np.random.standard_normal((64, 6, 28, 28)).astype(np.float32))
    dy = tc.Tensor(np.ones(x.shape, np.float32))
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        with tc.no_grad():
            relu.vjp(dy, x)
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    assert peak <= 1.6 * x.data.nbytes, f"relu's VJP peaked at {peak / x.data.nbytes:.2f}x dX"
