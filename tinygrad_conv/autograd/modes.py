"""The modes that change what an op records: grad mode, inference mode, anomaly detection, the
module path. Each is per thread, as PyTorch's grad mode is: a thread inside `no_grad` stops
recording in that thread only, and a new thread starts recording, outside every module, with
anomaly detection off.

Here: `STATE` and the context managers over it (`set_grad_enabled`, `no_grad`, `enable_grad`,
`inference_mode`, `detect_anomaly`), each also a decorator, plus the NaN/Inf checks anomaly mode
runs. Not here: the graph itself (engine).
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import threading

import numpy as np


class Modes:
    """The modes of one thread."""

    __slots__ = ("grad_enabled", "grad_mode", "inference", "anomaly", "in_backward", "module_path")

    def __init__(self):
        self.grad_enabled = True    # ops record: grad mode is on and inference mode is off
        self.grad_mode = True       # what is_grad_enabled() reports (set_grad_enabled's switch)
        self.inference = False      # inside inference_mode: nothing records, even under enable_grad
        self.anomaly = False
        self.in_backward = False    # inside a backward sweep: anomaly checks the gradients instead
        self.module_path = ()       # the nn.Module objects whose calls we are inside, outermost first


class _PerThread(threading.local):
    def __init__(self):             # threading.local runs this once in every thread
        self.modes = Modes()


THREAD = _PerThread()               # THREAD.modes: the calling thread's Modes (the hot path reads it once)


class _State:
    """STATE.name reads or sets the calling thread's mode `name` (STATE.grad_enabled, ...)."""

    __slots__ = ()

    def __getattribute__(self, name):
        return getattr(THREAD.modes, name)

    def __setattr__(self, name, value):
        setattr(THREAD.modes, name, value)


STATE = _State()


def _set_modes(grad_mode: bool, inference: bool) -> None:
    modes = THREAD.modes
    modes.grad_mode, modes.inference = grad_mode, inference
    modes.grad_enabled = grad_mode and not inference


class _ModeDecorator:
    """A context manager that also decorates functions, as PyTorch's do: every call of the function
    (every resumption, for a generator) runs inside a fresh copy of the manager, `clone()`, so that
    recursive calls and interleaved generators each restore the mode they found."""

    def clone(self):
        return type(self)()

    def __call__(self, fn):
        if inspect.isclass(fn) or not callable(fn):
            raise TypeError(f"{type(self).__name__} decorates functions, got {fn!r}; decorate the "
                            f"methods you mean one by one")
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(self.clone, fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper


def _wrap_generator(make_mode, fn):
    """The generator function fn with each step, and its closing, run inside a fresh mode."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        gen = fn(*args, **kwargs)
        try:
            with make_mode():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with make_mode():
                        gen.close()
                    raise
                except BaseException:
                    with make_mode():
                        response = gen.throw(*sys.exc_info())
                else:
                    with make_mode():
                        response = gen.send(request)
        except StopIteration as done:
            return done.value
    return wrapper


def _bool_arg(mode, fn: str) -> bool:
    if type(mode) is not bool:
        raise TypeError(f"{fn}(): mode must be True or False, not {type(mode).__name__} "
                        f"({mode!r}); write {fn}(bool(...)) to convert")
    return mode


class set_grad_enabled(_ModeDecorator):
    """Turn graph recording on or off, like torch.set_grad_enabled: as a context manager, a
    decorator, or a plain call `set_grad_enabled(False)`, which switches the mode at once."""

    def __init__(self, mode: bool):
        self.mode = _bool_arg(mode, "set_grad_enabled")
        self.prev = STATE.grad_mode
        _set_modes(self.mode, STATE.inference)

    def clone(self):
        return type(self)(self.mode)

    def __call__(self, fn):
        _set_modes(self.prev, STATE.inference)     # decorating must not change the mode
        return super().__call__(fn)

    def __enter__(self):
        _set_modes(self.mode, STATE.inference)

    def __exit__(self, *exc):
        _set_modes(self.prev, STATE.inference)
        return False

    def __repr__(self):
        return f"set_grad_enabled(mode={self.mode})"


class _NoArgMode(_ModeDecorator):
    """A grad mode without arguments: usable as `with m():`, `@m()` and `@m`. Constructing one
    changes nothing; entering it sets grad mode to the class's `grad_mode`."""

    grad_mode: bool

    def __new__(cls, fn=None):
        if fn is None:
            return super().__new__(cls)
        return cls()(fn)                           # @no_grad without parentheses

    def __init__(self, fn=None):
        self.prev = None

    def __enter__(self):
        self.prev = STATE.grad_mode
        _set_modes(self.grad_mode, STATE.inference)

    def __exit__(self, *exc):
        _set_modes(self.prev, STATE.inference)
        return False


class no_grad(_NoArgMode):
    """`with no_grad():` records nothing: results have no node and requires_grad=False. Also a decorator."""

    grad_mode = False


class enable_grad(_NoArgMode):
    """`with enable_grad():` records again inside a no_grad block. Also a decorator."""

    grad_mode = True


class inference_mode(_ModeDecorator):
    """`with inference_mode():` records nothing, like no_grad, and enable_grad inside it does not
    record either; inference_mode(False) leaves it (and turns grad mode on), as in PyTorch.
    Also a decorator: `@inference_mode`, `@inference_mode()`, `@inference_mode(False)`."""

    def __new__(cls, mode=True):
        if isinstance(mode, bool) or not callable(mode):
            return super().__new__(cls)
        return cls()(mode)                         # @inference_mode without parentheses

    def __init__(self, mode: bool = True):
        self.mode = _bool_arg(mode, "inference_mode")
        self.prev = None

    def clone(self):
        return type(self)(self.mode)

    def __enter__(self):
        self.prev = STATE.grad_mode, STATE.inference
        _set_modes(not self.mode, self.mode)

    def __exit__(self, *exc):
        _set_modes(*self.prev)
        return False


@contextlib.contextmanager
def backward_mode(create_graph: bool):
    """The modes inside a backward pass: the VJPs record only with create_graph, and anomaly mode
    checks the gradients rather than the forward outputs."""
    modes = THREAD.modes
    outer = modes.grad_mode, modes.in_backward
    modes.in_backward = True
    _set_modes(bool(create_graph), modes.inference)
    try:
        yield
    finally:
        grad_mode, modes.in_backward = outer
        _set_modes(grad_mode, modes.inference)


def is_grad_enabled() -> bool:
    return THREAD.modes.grad_mode


def is_inference_mode_enabled() -> bool:
    return THREAD.modes.inference


class detect_anomaly(_ModeDecorator):
    """`with detect_anomaly():` raises at the first op whose output or gradient holds NaN or Inf.

    The error names the primitive and the line of user code that created it (file:line), recorded
    when the op ran inside this block. Also a decorator. Per thread (PyTorch's flag is global):
    one thread debugging does not slow down, or raise in, the others.
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan
        self.prev = None

    def clone(self):
        return type(self)(self.check_nan)

    def __enter__(self):
        self.prev = STATE.anomaly
        STATE.anomaly = self.check_nan

    def __exit__(self, *exc):
        STATE.anomaly = self.prev
        return False


def is_anomaly_enabled() -> bool:
    return THREAD.modes.anomaly


_PACKAGE_DIR = __file__.rsplit("/", 2)[0]


def user_frame() -> str:
    """file:line of the innermost stack frame outside this package: where the user created an op."""
    frame = sys._getframe(1)
    while frame is not None:
        if not frame.f_code.co_filename.startswith(_PACKAGE_DIR):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"


def _nonfinite(array: np.ndarray) -> str | None:
    """'nan' or 'inf' if a floating-point array holds one (nan first), else None."""
    if array.dtype.kind != "f" or np.isfinite(array).all():
        return None
    return "nan" if np.isnan(array).any() else "inf"


def check_finite(array: np.ndarray, what: str, op, created_at: str | None,
                 inputs: tuple = ()) -> None:
    """Under detect_anomaly: raise FloatingPointError if `array` holds NaN or Inf, naming the op,
    the line that created it and, for a forward output, whether an input was already bad."""
    bad = _nonfinite(array)
    if bad is None:
        return
    where = created_at or ("an unknown line (it ran outside detect_anomaly: run the forward "
                           "pass inside the block too)")
    culprits = [f"input {i} already contains {b}" for i, x in enumerate(inputs)
                if (b := _nonfinite(x._data)) is not None]
    cause = (f" ({'; '.join(culprits)}: the problem is upstream)" if culprits else
             " (its inputs are finite: this op produced it)" if inputs else "")
    raise FloatingPointError(f"detect_anomaly: {what} of '{op.name}' contains {bad}{cause}; "
                             f"the op was created at {where}")
