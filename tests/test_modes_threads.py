"""Grad mode, inference mode, anomaly mode and the module path are per thread, as in PyTorch.

The thread tests force their interleavings with barriers (never sleeps), so each runs the same
way every time: one thread is parked inside a mode while another computes.
"""
import threading

import numpy as np
import pytest

import tinygrad_conv as tc
from tinygrad_conv import nn
from tinygrad_conv.autograd.modes import STATE


@pytest.fixture(autouse=True)
def _modes_restored():
    """Every test leaves the main thread's modes as it found them (a failure must not leak)."""
    yield
    leaked = (tc.is_grad_enabled(), tc.is_inference_mode_enabled(), STATE.anomaly)
    tc.set_grad_enabled(True)
    STATE.inference = STATE.anomaly = False
    STATE.grad_enabled = True
    assert leaked == (True, False, False)


def leaf(*values):
    return tc.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def in_thread(fn):
    """Run fn in a new thread; return its result (re-raising its exception here)."""
    box = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as error:              # noqa: BLE001 - handed back to the caller
            box["error"] = error
    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def run_together(*fns):
    """Run each fn in its own thread at the same time; their results, in order."""
    results, errors = [None] * len(fns), []

    def target(i):
        try:
            results[i] = fns[i]()
        except BaseException as error:              # noqa: BLE001 - re-raised below
            errors.append(error)
    threads = [threading.Thread(target=target, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


# ----------------------------------------------------------------------------------------------
# Each thread has its own modes


def test_a_new_thread_starts_recording_outside_every_mode():
    marker = object()
    outer = STATE.module_path
    STATE.module_path = outer + (marker,)
    try:
        with tc.no_grad(), tc.detect_anomaly(), tc.inference_mode():
            seen = in_thread(lambda: (tc.is_grad_enabled(), tc.autograd.is_anomaly_enabled(),
                                      tc.is_inference_mode_enabled(), STATE.module_path,
                                      (leaf(1.0) * 2).requires_grad))
    finally:
        STATE.module_path = outer
    assert seen == (True, False, False, (), True)


def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    inside, done = threading.Barrier(2), threading.Barrier(2)

    def parked_in_no_grad():
        with tc.no_grad():
            inside.wait()                           # the other thread computes now
            done.wait()
            return tc.is_grad_enabled()

    def computing():
        inside.wait()
        y = leaf(1.0, 2.0) * 3
        done.wait()
        return y.requires_grad, y.node is not None

    assert run_together(parked_in_no_grad, computing) == [False, (True, True)]


def test_interleaved_no_grad_blocks_of_two_threads_leave_recording_on():
    """A enters, B enters, A exits, B exits: with one global flag B would restore A's False."""
    a_in, b_in, a_out = threading.Barrier(2), threading.Barrier(2), threading.Barrier(2)

    def a():
        with tc.no_grad():
            a_in.wait()
            b_in.wait()
        a_out.wait()
        return tc.is_grad_enabled(), (leaf(1.0) * 2).requires_grad

    def b():
        a_in.wait()
        with tc.no_grad():
            b_in.wait()
            a_out.wait()
        return tc.is_grad_enabled(), (leaf(1.0) * 2).requires_grad

    assert run_together(a, b) == [(True, True), (True, True)]
    assert tc.is_grad_enabled()


def test_set_grad_enabled_called_as_a_function_is_per_thread():
    flipped, checked = threading.Barrier(2), threading.Barrier(2)

    def switch_off():
        tc.set_grad_enabled(False)
        flipped.wait()
        checked.wait()
        return tc.is_grad_enabled()

    def other():
        flipped.wait()
        enabled = tc.is_grad_enabled()
        checked.wait()
        return enabled

    assert run_together(switch_off, other) == [False, True]


def test_anomaly_mode_is_per_thread():
    entered, done = threading.Barrier(2), threading.Barrier(2)
    bad = tc.tensor([-1.0])

    def debugging():
        with tc.detect_anomaly():
            entered.wait()
            try:
                tc.tensor([-1.0]).sqrt()
            except FloatingPointError:
                return "raised"
            finally:
                done.wait()
        return "silent"

    def other():
        entered.wait()
        y = bad.sqrt()                              # NaN, but this thread is not debugging
        done.wait()
        return bool(np.isnan(y.data).all())

    assert run_together(debugging, other) == ["raised", True]


def test_a_backward_in_another_thread_does_not_hide_forward_anomalies():
    """in_backward is per thread: thread B is parked inside a backward (in a hook) while thread A,
    debugging, runs a forward op that makes NaN."""
    in_backward, checked = threading.Barrier(2), threading.Barrier(2)

    def backward_parked_in_a_hook():
        x = leaf(1.0, 2.0)
        y = x * 2
        y.register_hook(lambda g: (in_backward.wait(), checked.wait(), None)[-1])
        y.sum().backward()
        return x.grad.data.tolist()

    def forward_under_anomaly():
        in_backward.wait()
        try:
            with tc.detect_anomaly():
                tc.tensor([-1.0]).log()
        except FloatingPointError:
            return "raised"
        finally:
            checked.wait()
        return "silent"

    assert run_together(backward_parked_in_a_hook, forward_under_anomaly) == [[2.0, 2.0], "raised"]


def test_the_module_path_is_per_thread():
    inside, done = threading.Barrier(2), threading.Barrier(2)

    class Parked(nn.Module):
        def forward(self, x):
            y = x * 2
            inside.wait()                           # the other thread records an op now
            done.wait()
            return y

    module = Parked()

    def through_module():
        return module(leaf(1.0)).node.module

    def outside():
        inside.wait()
        node = (leaf(1.0) * 3).node
        done.wait()
        return node.module

    assert run_together(through_module, outside) == [(module,), ()]


def test_four_threads_training_their_own_models_match_serial_training():
    """Each thread trains its own Linear by SGD under no_grad. Odd and even threads take turns:
    while one half is parked inside no_grad, the other half runs its recorded forward."""
    steps, rng = 5, np.random.default_rng(0)
    data = [(rng.standard_normal((8, 3)), rng.standard_normal((8, 2))) for _ in range(4)]
    weights = [(rng.standard_normal((2, 3)), rng.standard_normal(2)) for _ in range(4)]

    def make(k):
        model = nn.Linear(3, 2).double()
        with tc.no_grad():
            model.weight.data[...], model.bias.data[...] = weights[k]
        return model

    def train(k, model, turn=None):
        x, target = (tc.tensor(a) for a in data[k])
        nodes = []
        for step in range(steps):
            updating_first = (k + step) % 2 == 0
            if turn and not updating_first:
                turn[0].wait()                     # the other half is inside no_grad now
            loss = ((model(x) - target) ** 2).mean()
            nodes += [t.node for t in tc.toposort(loss) if t.node is not None]
            if turn and not updating_first:
                turn[1].wait()
            loss.backward()
            with tc.no_grad():
                if turn and updating_first:
                    turn[0].wait()                 # parked in no_grad while the others record
                    turn[1].wait()
                for p in model.parameters():
                    p.data -= 0.1 * p.grad.data
                    p.grad = None
        linear_ops = [n for n in nodes if n.op.name == "matmul"]
        assert linear_ops and all(n.module == (model,) for n in linear_ops)
        return [p.data.copy() for p in model.parameters()]

    serial = [train(k, make(k)) for k in range(4)]
    turn = (threading.Barrier(4), threading.Barrier(4))
    models = [make(k) for k in range(4)]
    threaded = run_together(*[lambda k=k: train(k, models[k], turn) for k in range(4)])
    for expected, got in zip(serial, threaded):
        for e, g in zip(expected, got):
            np.testing.assert_array_equal(g, e)


# ----------------------------------------------------------------------------------------------
# Constructing, entering, decorating


def test_constructing_no_grad_or_enable_grad_changes_nothing():
    manager = tc.no_grad()
    assert tc.is_grad_enabled()
    with tc.no_grad():
        tc.enable_grad()
        assert not tc.is_grad_enabled()
    with manager:
        assert not tc.is_grad_enabled()
    assert tc.is_grad_enabled()


def test_set_grad_enabled_as_a_function_sets_the_mode_and_as_a_context_restores_it():
    try:
        tc.set_grad_enabled(False)
        assert not tc.is_grad_enabled() and not (leaf(1.0) * 2).requires_grad
        with tc.set_grad_enabled(True):
            assert tc.is_grad_enabled()
        assert not tc.is_grad_enabled()
    finally:
        tc.set_grad_enabled(True)
    with tc.set_grad_enabled(False):
        assert not tc.is_grad_enabled()
    assert tc.is_grad_enabled()


@pytest.mark.parametrize("mode", [1, None, "no", np.bool_(False)])
def test_set_grad_enabled_wants_a_bool_as_in_pytorch(mode):
    with pytest.raises(TypeError, match="must be True or False"):
        tc.set_grad_enabled(mode)
    assert tc.is_grad_enabled()


DECORATORS = {                                      # name -> (make the decorator, records inside)
    "@no_grad": (lambda: tc.no_grad, False), "@no_grad()": (lambda: tc.no_grad(), False),
    "@enable_grad": (lambda: tc.enable_grad, True), "@enable_grad()": (lambda: tc.enable_grad(), True),
    "@set_grad_enabled(False)": (lambda: tc.set_grad_enabled(False), False),
    "@set_grad_enabled(True)": (lambda: tc.set_grad_enabled(True), True),
    "@inference_mode": (lambda: tc.inference_mode, False),
    "@inference_mode()": (lambda: tc.inference_mode(), False),
}


@pytest.mark.parametrize("name", sorted(DECORATORS))
def test_every_decorator_form_runs_the_function_in_its_mode_and_restores(name):
    make, records = DECORATORS[name]

    @make()
    def double(x):
        """Doubles."""
        return x * 2

    assert double.__name__ == "double" and double.__doc__ == "Doubles."
    for outer in (True, False):
        with tc.set_grad_enabled(outer):
            assert double(leaf(1.0)).requires_grad == records
            assert tc.is_grad_enabled() == outer


def test_a_decorated_recursive_function_restores_each_level():
    seen = []

    @tc.enable_grad()
    def count(n):
        seen.append(tc.is_grad_enabled())
        if n:
            with tc.no_grad():
                count(n - 1)
                seen.append(tc.is_grad_enabled())

    with tc.no_grad():
        count(2)
        assert not tc.is_grad_enabled()
    assert seen == [True, True, True, False, False]


def grad_modes_of_a_generator(framework):
    """What a no_grad-decorated generator and its caller see at every step, in `framework`."""
    seen = []

    @framework.no_grad()
    def steps():
        seen.append(("inside", framework.is_grad_enabled()))
        received = yield 1
        seen.append(("inside", framework.is_grad_enabled(), received))
        yield 2

    gen = steps()
    seen.append(("caller", framework.is_grad_enabled(), next(gen)))
    seen.append(("caller", framework.is_grad_enabled(), gen.send("hi")))
    gen.close()
    seen.append(("caller", framework.is_grad_enabled()))
    return seen


def test_a_decorated_generator_runs_each_step_in_the_mode_and_the_caller_outside_it():
    assert grad_modes_of_a_generator(tc) == [
        ("inside", False), ("caller", True, 1), ("inside", False, "hi"), ("caller", True, 2),
        ("caller", True)]


def test_decorating_a_class_is_refused():
    with pytest.raises(TypeError, match="decorates functions"):
        tc.no_grad()(type("Model", (), {}))


# ----------------------------------------------------------------------------------------------
# inference_mode


def test_inference_mode_records_nothing_even_under_enable_grad():
    x = leaf(1.0, 2.0)
    with tc.inference_mode():
        assert tc.is_inference_mode_enabled() and not tc.is_grad_enabled()
        assert not (x * 2).requires_grad
        with tc.enable_grad():
            assert tc.is_grad_enabled()             # as PyTorch: the flag is on...
            assert not (x * 2).requires_grad        # ...but inference mode still records nothing
        with tc.inference_mode(False):
            assert not tc.is_inference_mode_enabled() and tc.is_grad_enabled()
            assert (x * 2).requires_grad
    assert not tc.is_inference_mode_enabled() and (x * 2).requires_grad


def test_inference_mode_false_inside_no_grad_turns_grad_mode_on_as_in_pytorch():
    with tc.no_grad(), tc.inference_mode(False):
        assert tc.is_grad_enabled() and (leaf(1.0) * 2).requires_grad


def test_inference_mode_decorator_with_a_mode():
    @tc.inference_mode(False)
    def records(x):
        return tc.is_inference_mode_enabled(), (x * 2).requires_grad

    with tc.inference_mode():
        assert records(leaf(1.0)) == (False, True)


@pytest.mark.parametrize("mode", [1, "yes"])
def test_inference_mode_wants_a_bool(mode):
    with pytest.raises(TypeError, match="must be True or False"):
        tc.inference_mode(mode)


# ----------------------------------------------------------------------------------------------
# The same rules in PyTorch


@pytest.mark.torch
def test_generator_decoration_matches_pytorch():
    torch = pytest.importorskip("torch")
    assert grad_modes_of_a_generator(tc) == grad_modes_of_a_generator(torch)


@pytest.mark.torch
def test_mode_nesting_matches_pytorch():
    torch = pytest.importorskip("torch")

    def states(fw):
        seen = [fw.is_grad_enabled()]
        fw.no_grad()
        seen.append(fw.is_grad_enabled())
        with fw.inference_mode():
            seen.append((fw.is_grad_enabled(), fw.is_inference_mode_enabled()))
            with fw.enable_grad():
                seen.append((fw.is_grad_enabled(), fw.is_inference_mode_enabled()))
            with fw.inference_mode(False):
                seen.append((fw.is_grad_enabled(), fw.is_inference_mode_enabled()))
        with fw.no_grad(), fw.inference_mode(False):
            seen.append((fw.is_grad_enabled(), fw.is_inference_mode_enabled()))
        fw.set_grad_enabled(False)
        seen.append(fw.is_grad_enabled())
        fw.set_grad_enabled(True)
        seen.append(in_thread(fw.is_grad_enabled))
        return seen

    assert states(tc) == states(torch)
