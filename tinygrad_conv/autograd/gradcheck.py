"""Numerical gradient checking in float64 over every entry of every input."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .engine import Tensor


class GradcheckError(RuntimeError):
    """The analytical and numerical Jacobians disagree."""


def _outputs(fn, inputs) -> list[Tensor]:
    out = fn(*inputs)
    return list(out) if isinstance(out, (tuple, list)) else [out]


def numerical_jacobian(fn: Callable, inputs: list[Tensor], i: int, eps: float) -> np.ndarray:
    """J[k, m] = (f(x + eps e_k) - f(x - eps e_k))_m / (2 eps) for input i.   -> (x_i.size, out.size)"""
    def outputs_at(k: int, step: float) -> np.ndarray:
        shifted = inputs[i].data.copy()
        shifted.flat[k] += step
        args = list(inputs)
        args[i] = Tensor(shifted, requires_grad=inputs[i].requires_grad)  # fn may call backward itself
        return np.concatenate([o.data.ravel() for o in _outputs(fn, args)])

    size = inputs[i].data.size
    return np.array([(outputs_at(k, eps) - outputs_at(k, -eps)) / (2 * eps) for k in range(size)]
                    ).reshape(size, -1)


def analytical_jacobian(fn: Callable, inputs: list[Tensor], wrt: list[int]) -> list[np.ndarray]:
    """J[k, m] = d out_m / d x_k by one backward pass per output entry (a one-hot dy)."""
    outs = _outputs(fn, inputs)
    sizes = [o.data.size for o in outs]
    jac = [np.zeros((inputs[i].data.size, sum(sizes))) for i in wrt]
    m = 0
    for o, size in zip(outs, sizes):
        for k in range(size):
            for i in wrt:
                inputs[i].grad = None
            dy = np.zeros(size, dtype=o.dtype)
            dy[k] = 1
            if o.requires_grad:
                o.backward(dy.reshape(o.shape), retain_graph=True)
            for j, i in enumerate(wrt):
                if inputs[i].grad is not None:
                    jac[j][:, m + k] = inputs[i].grad.data.ravel()
        m += size
    for i in wrt:
        inputs[i].grad = None
    return jac


def gradcheck(fn: Callable, *inputs, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3) -> bool:
    """True if fn's backward agrees with central differences on every entry of every input that
    requires grad: |J_analytic - J_numeric| <= atol + rtol * |J_numeric|, both finite.

    Raises GradcheckError naming the input and the entry otherwise: the first NaN or Inf of
    either Jacobian, else the worst mismatch. Inputs must be float64:
    in float32 the rounding error of a finite difference swamps the derivative.
    """
    inputs = [x if isinstance(x, Tensor) else Tensor(x) for x in inputs]
    wrt = [i for i, x in enumerate(inputs) if x.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input requires grad; create them with requires_grad=True")
    for i in wrt:
        if inputs[i].dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} has dtype {inputs[i].dtype}, but a finite "
                             f"difference with eps={eps} needs float64 (float32 rounding, ~1e-7 "
                             f"relative, swamps it); pass x.double() or Tensor(x, dtype=np.float64)")
    analytic = analytical_jacobian(fn, inputs, wrt)
    for j, i in enumerate(wrt):
        numeric = numerical_jacobian(fn, inputs, i, eps)
        # NaN compares false with everything, so `err > 0` alone would pass a NaN gradient:
        # any entry that is not finite in either Jacobian fails on its own
        bad = ~(np.isfinite(analytic[j]) & np.isfinite(numeric))
        err = np.abs(analytic[j] - numeric) - (atol + rtol * np.abs(numeric))
        if bad.any():
            k, m = np.argwhere(bad)[0]
            problem = "a non-finite entry"
        elif err.size and err.max() > 0:
            k, m = np.unravel_index(np.argmax(err), err.shape)
            problem = "a mismatch"
        else:
            continue
        entry = tuple(int(e) for e in np.unravel_index(k, inputs[i].shape))
        raise GradcheckError(
            f"gradcheck: Jacobian {problem} for input {i} (shape {tuple(inputs[i].shape)}) at "
            f"entry {entry}, output element {m}: analytical {analytic[j][k, m]:.10g} vs numerical "
            f"{numeric[k, m]:.10g} (atol={atol}, rtol={rtol})")
    return True
