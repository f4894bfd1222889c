"""numpy functions on tensors: np.exp(x), np.sum(x), ndarray - x, ... (Tensor's __array_ufunc__
and __array_function__).

Without these, numpy would turn a tensor into an ndarray and the gradient would be lost without
a word: `(np.exp(x) * w).sum().backward()` would leave x.grad None. So:
- a numpy function with a differentiable counterpart here (np.exp, np.add, np.matmul, np.sum,
  np.reshape, ...) runs that op and returns a Tensor, with numpy's arguments and defaults
  (np.std is the biased one, as in numpy);
- any other, given a tensor that requires grad, raises a TypeError naming what to use instead,
  unless its result holds no floats (np.isnan, np.argmax, np.allclose read values only);
- with nothing requiring grad, the others read the values as before (np.allclose, printing,
  np.testing, plotting) and return what numpy returns.
Writing into a numpy array (`out=`, as `array -= lr * x.grad` does) works for values that need
no gradient.
"""
from __future__ import annotations

import inspect

import numpy as np

from . import functional as F
from .autograd import STATE, Tensor
from .functional import elementwise as E
from .functional import reduce as R

UFUNCS = {
    np.add: E.add, np.subtract: E.sub, np.multiply: E.mul, np.true_divide: E.div,
    np.floor_divide: E.floor_divide, np.remainder: E.remainder, np.power: E.pow,
    np.float_power: E.pow, np.negative: E.neg, np.positive: lambda x: x, np.absolute: E.abs,
    np.exp: E.exp, np.log: E.log, np.sqrt: E.sqrt, np.sin: E.sin, np.cos: E.cos,
    np.tanh: F.tanh, np.matmul: F.matmul,
    np.maximum: lambda a, b: E.maximum(*E.promote(a, b)),     # numpy's take numbers too
    np.minimum: lambda a, b: E.minimum(*E.promote(a, b)),
    np.square: lambda x: E.mul(x, x), np.reciprocal: lambda x: E.div(1, x),
    np.equal: E.eq, np.not_equal: E.ne, np.less: E.lt, np.less_equal: E.le,
    np.greater: E.gt, np.greater_equal: E.ge,
}


def _axes(axis):
    return () if axis is None else axis


def _reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if order != "C" or copy is not None:
        raise _Unsupported
    return F.reshape(a, shape if shape is not None else newshape)


def _transpose(a, axes=None):
    return F.permute(a, tuple(reversed(range(a.ndim))) if axes is None else axes)


def _clip(a, a_min=None, a_max=None, *, min=None, max=None):
    return E.clamp(a, a_min if a_min is not None else min, a_max if a_max is not None else max)


def _dot(a, b):
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return E.mul(a, b)
    if np.ndim(a) > 2 or np.ndim(b) > 2:
        raise _Unsupported                            # np.dot's N-D rule is not matmul's
    return F.matmul(a, b)


FUNCTIONS = {
    np.sum: lambda a, axis=None, keepdims=False: R.sum(a, axis, keepdims),
    np.mean: lambda a, axis=None, keepdims=False: R.mean(a, axis, keepdims),
    np.prod: lambda a, axis=None, keepdims=False: R.prod(a, axis, keepdims),
    np.max: lambda a, axis=None, keepdims=False: R.amax(a, _axes(axis), keepdims),
    np.min: lambda a, axis=None, keepdims=False: R.amin(a, _axes(axis), keepdims),
    np.std: lambda a, axis=None, ddof=0, keepdims=False:
        R.std(a, axis, keepdim=keepdims, correction=ddof),
    np.var: lambda a, axis=None, ddof=0, keepdims=False:
        R.var(a, axis, keepdim=keepdims, correction=ddof),
    np.reshape: _reshape, np.transpose: _transpose, np.clip: _clip, np.dot: _dot,
    np.concatenate: lambda arrays, axis=0: F.cat(arrays, axis),
    np.stack: lambda arrays, axis=0: F.stack(arrays, axis),
    np.squeeze: lambda a, axis=None: F.squeeze(a, axis),
    np.expand_dims: lambda a, axis: F.unsqueeze(a, axis),
    np.where: lambda condition, x=None, y=None: E.where(condition, x, y),
}
FUNCTIONS[np.amax], FUNCTIONS[np.amin] = FUNCTIONS[np.max], FUNCTIONS[np.min]


class _Unsupported(Exception):
    """numpy arguments that the counterpart does not take: fall back to numpy."""


def _tensors(values):
    """The Tensors among (nested lists/tuples of) values."""
    stack = list(values)
    while stack:
        v = stack.pop()
        if isinstance(v, Tensor):
            yield v
        elif isinstance(v, (list, tuple)):
            stack.extend(v)


def _arrays(value):
    """value with every Tensor replaced by its ndarray (inside lists, tuples and dicts too)."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (list, tuple)):
        return type(value)(_arrays(v) for v in value)
    if isinstance(value, dict):
        return {k: _arrays(v) for k, v in value.items()}
    return value


def _needs_grad(values) -> bool:
    return STATE.grad_enabled and any(t.requires_grad for t in _tensors(values))


def _holds_floats(result) -> bool:
    if isinstance(result, (list, tuple)):
        return any(_holds_floats(r) for r in result)
    return getattr(result, "dtype", np.dtype(object)).kind in "fc" or isinstance(result, float)


# differentiable spellings of common numpy functions that have no counterpart of their own
HINTS = {"log1p": "tc.log(1 + x)", "expm1": "tc.exp(x) - 1", "log2": "tc.log(x) / math.log(2)",
         "log10": "tc.log(x) / math.log(10)", "exp2": "2 ** x", "tan": "tc.sin(x) / tc.cos(x)",
         "sinh": "(tc.exp(x) - tc.exp(-x)) / 2", "cosh": "(tc.exp(x) + tc.exp(-x)) / 2",
         "sign": "x / x.abs() (or x.detach().sign() without a gradient)", "hypot":
         "tc.sqrt(x * x + y * y)", "cumsum": "a matmul with tc.ones(n, n).tril()-style masks"}


def _refuse(name: str) -> None:
    import tinygrad_conv
    short = name.rsplit(".", 1)[-1]
    hint = (f"use tc.{short}(...) or the tensor method instead" if hasattr(tinygrad_conv, short)
            else f"write it as {HINTS[short]}" if short in HINTS
            else "tinygrad_conv has no differentiable equivalent: build it from tc ops, or call "
                 "it on x.detach() if no gradient should flow through it")
    raise TypeError(f"numpy.{short} would drop the gradient of a tensor that requires grad (its "
                    f"result is a plain numpy array): {hint}")


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """Tensor.__array_ufunc__: numpy ufuncs on tensors (module docstring)."""
    out = kwargs.get("out")
    if out is not None:
        if any(isinstance(o, Tensor) for o in out):
            raise TypeError(f"numpy.{ufunc.__name__}(..., out=tensor): write into a tensor with "
                            f"its in-place methods instead (x.add_(y), x.mul_(y), x.copy_(y))")
        if _needs_grad(inputs):
            raise TypeError(f"numpy.{ufunc.__name__} with out= writes into a numpy array, which "
                            f"drops the gradient of the tensor that requires grad; use .detach() "
                            f"on it, or tinygrad_conv ops")
    counterpart = UFUNCS.get(ufunc)
    if counterpart is not None and method == "__call__" and not kwargs:
        return counterpart(*inputs)
    if _needs_grad(inputs) and not all(t.endswith("?") for t in ufunc.types):
        _refuse(ufunc.__name__)
    return getattr(ufunc, method)(*_arrays(inputs), **_arrays(kwargs))


def array_function(self, func, types, args, kwargs):
    """Tensor.__array_function__: numpy functions on tensors (module docstring)."""
    counterpart = FUNCTIONS.get(func)
    if counterpart is not None and _binds(counterpart, args, kwargs):
        try:
            return counterpart(*args, **kwargs)
        except _Unsupported:
            pass
    grad = _needs_grad(args) or _needs_grad(kwargs.values())
    if grad and "out" in kwargs:
        _refuse(func.__name__)
    result = func(*_arrays(args), **_arrays(kwargs))
    if grad and _holds_floats(result):
        _refuse(func.__name__)
    return result


def _binds(fn, args, kwargs) -> bool:
    try:
        inspect.signature(fn).bind(*args, **kwargs)
        return True
    except TypeError:
        return False


__all__ = ["array_ufunc", "array_function", "UFUNCS", "FUNCTIONS"]
