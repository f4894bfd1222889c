"""Writing your own primitive (@primitive / @op.defvjp): every mistake is a clear error naming the
primitive, what it returned and what was expected, and it survives `python -O`.

Where the mistake can be seen at registration (a VJP that cannot take the forward's inputs or
parameters) it is refused there. A primitive without a VJP records and runs forward like any
other, as a PyTorch custom Function without backward does, and backward refuses it before any VJP
runs (so evaluation code that never calls backward keeps working).
"""
import itertools
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tinygrad_conv as tc
from tinygrad_conv import PRIMITIVES, Tensor, primitive

_names = (f"custom_{i}" for i in itertools.count())


@pytest.fixture(autouse=True)
def _unregister():
    """The primitives a test registers are removed again (test_vjp wants a case for every one)."""
    before = dict(PRIMITIVES)
    yield
    PRIMITIVES.clear()
    PRIMITIVES.update(before)


def op_with_vjp(vjp, forward=lambda x, w: x * w):
    op = primitive(forward, name=next(_names))
    op.defvjp(vjp)
    return op


def run_backward(op, *shapes):
    inputs = [Tensor(np.ones(s), requires_grad=True) for s in shapes]
    op(*inputs).sum().backward()
    return inputs


def test_a_correct_primitive_works():
    op = op_with_vjp(lambda dy, x, w: (dy * w, dy * x))
    x, w = run_backward(op, (3,), (3,))
    np.testing.assert_array_equal(x.grad.data, 1.0)


@pytest.mark.parametrize("returned, count", [(lambda dy, x, w: dy * w, 1),
                                             (lambda dy, x, w: (dy, dy, dy), 3)])
def test_too_few_or_too_many_gradients(returned, count):
    op = op_with_vjp(returned)
    with pytest.raises(RuntimeError, match=rf"VJP of '{op.name}' returned {count} gradient\(s\), "
                                           rf"but '{op.name}' has 2 input\(s\)"):
        run_backward(op, (3,), (3,))


def test_a_numpy_array_instead_of_a_tensor():
    op = op_with_vjp(lambda dy, x, w: (dy.data * w.data, None))
    with pytest.raises(RuntimeError, match=rf"VJP of '{op.name}' returned a numpy.ndarray for "
                                           r"input 0; expected a Tensor or None"):
        run_backward(op, (3,), (3,))


def test_a_gradient_of_the_wrong_shape():
    op = op_with_vjp(lambda dy, x, w: (dy * w, dy))        # w broadcast: its gradient needs a sum
    with pytest.raises(RuntimeError, match=rf"VJP of '{op.name}' returned a gradient of shape "
                                           r"\(2, 3\) for input 1, which has shape \(3,\)"):
        run_backward(op, (2, 3), (3,))


def test_a_gradient_of_an_integer_dtype():
    op = op_with_vjp(lambda dy, x, w: (Tensor((x.data > 0).astype(np.int64)), None))
    with pytest.raises(RuntimeError, match=rf"VJP of '{op.name}' returned a gradient of dtype "
                                           r"int64 for input 0 \(float64\)"):
        run_backward(op, (3,), (3,))


def test_a_float_gradient_of_another_precision_is_cast_as_in_pytorch():
    op = op_with_vjp(lambda dy, x, w: ((dy * w).to(np.float32), None))
    x, _ = run_backward(op, (3,), (3,))
    assert x.grad.dtype == np.float64


def test_a_primitive_without_a_vjp_records_and_refuses_backward_before_computing():
    op = primitive(lambda x: x * 2, name=next(_names))
    ran = []
    square = op_with_vjp(lambda dy, x: ran.append("vjp") or dy * 2 * x, forward=lambda x: x * x)
    x = Tensor(np.ones(3), requires_grad=True)
    y = op(x)
    assert y.requires_grad and y.grad_fn is not None          # forward-only use still works
    with pytest.raises(NotImplementedError, match=rf"primitive '{op.name}' has no VJP.*"
                                                  rf"@{op.name}\.defvjp"):
        square(y).sum().backward()
    assert ran == [] and x.grad is None
    with tc.no_grad():
        assert not op(x).requires_grad


def test_a_vjp_that_cannot_take_dy_and_the_inputs_is_refused_at_registration():
    op = primitive(lambda x, w: x * w, name=next(_names))
    with pytest.raises(TypeError, match=rf"VJP .* of '{op.name}' must take dy and then the 2 "
                                        r"input\(s\).*3 positional arguments"):
        op.defvjp(lambda x, w: (x, w))                       # forgot dy


def test_a_vjp_that_does_not_accept_a_parameter_is_refused_at_registration():
    def scale(x, *, factor):
        return x * factor
    op = primitive(scale, name=next(_names))
    with pytest.raises(TypeError, match=r"does not accept the parameter 'factor'"):
        op.defvjp(lambda dy, x: dy)
    op.defvjp(lambda dy, x, **params: dy * params["factor"])  # **params takes it


def test_a_vjp_that_is_not_a_function_is_refused():
    op = primitive(lambda x: x, name=next(_names))
    with pytest.raises(TypeError, match="defvjp expects a function"):
        op.defvjp("dy")


SCRIPT = textwrap.dedent("""
    import numpy as np
    from tinygrad_conv import Tensor, primitive
    assert not __debug__, "run me with python -O"

    def check(name, vjp, shapes, expected):
        op = primitive(lambda *xs: xs[0] * 2, name=name)
        if vjp is not None:
            op.defvjp(vjp)
        xs = [Tensor(np.ones(s), requires_grad=True) for s in shapes]
        try:
            op(*xs).sum().backward()
        except RuntimeError as error:           # NotImplementedError is a RuntimeError
            assert expected in str(error), (name, str(error))
            print(name, "ok")
        else:
            raise SystemExit(f"{name}: no error")

    check("few", lambda dy, x, w: dy, [(3,), (3,)], "returned 1 gradient(s)")
    check("many", lambda dy, x: (dy, dy), [(3,)], "returned 2 gradient(s)")
    check("array", lambda dy, x: dy.data, [(3,)], "returned a numpy.ndarray")
    check("shape", lambda dy, x: Tensor(np.ones(2)), [(3,)], "gradient of shape (2,)")
    check("dtype", lambda dy, x: Tensor(np.ones(3, dtype=int)), [(3,)], "of dtype int64")
    check("novjp", None, [(3,)], "has no VJP")
""")


def test_every_check_survives_python_O(tmp_path):
    script = tmp_path / "custom_primitives.py"
    script.write_text(SCRIPT)
    package_root = pathlib.Path(tc.__file__).resolve().parents[1]     # this checkout, not another
    env = {**os.environ, "PYTHONPATH": str(package_root)}
    result = subprocess.run([sys.executable, "-O", str(script)], capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["few", "ok", "many", "ok", "array", "ok", "shape", "ok",
                                     "dtype", "ok", "novjp", "ok"]
