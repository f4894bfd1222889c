"""The modes that change what an op records: grad mode, anomaly detection, the module path.

Here: `STATE` and the context managers over it (`set_grad_enabled`, `no_grad`, `enable_grad`,
`detect_anomaly`) plus the NaN/Inf checks anomaly mode runs. Not here: the graph itself (engine).
"""
from __future__ import annotations

import functools
import sys

import numpy as np


class _State:
    grad_enabled = True
    anomaly = False
    in_backward = False         # inside a backward sweep: anomaly checks the gradients instead
    module_path: tuple = ()     # the nn.Module objects whose calls we are inside, outermost first


STATE = _State()


class set_grad_enabled:
    """Context manager (and decorator) that turns graph recording on or off, like torch.set_grad_enabled."""

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)
        self.prev = STATE.grad_enabled
        STATE.grad_enabled = self.mode   # also works as a plain function call, as in PyTorch

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        STATE.grad_enabled = self.prev
        return False

    def __call__(self, fn):
        mode = self.mode
        STATE.grad_enabled = self.prev    # using it as a decorator must not change the mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class no_grad(set_grad_enabled):
    """`with no_grad():` records nothing: results have no node and requires_grad=False. Also a decorator."""

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """`with enable_grad():` records again inside a no_grad block. Also a decorator."""

    def __init__(self):
        super().__init__(True)


def is_grad_enabled() -> bool:
    return STATE.grad_enabled


class detect_anomaly:
    """`with detect_anomaly():` raises at the first op whose output or gradient holds NaN or Inf.

    The error names the primitive and the line of user code that created it (file:line), recorded
    when the op ran inside this block. Also a decorator.
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self.prev = STATE.anomaly
        STATE.anomaly = self.check_nan
        return self

    def __exit__(self, *exc):
        STATE.anomaly = self.prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


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
