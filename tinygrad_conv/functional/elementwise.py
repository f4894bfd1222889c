"""Elementwise arithmetic with PyTorch's type promotion and broadcasting: + - * / ** and
comparisons, maximum/minimum, where, clamp, and the float functions (exp, log, sqrt, sin, cos).

Every binary op first brings its operands to one dtype, `torch.result_type`'s (dtypes.py):
a Python or numpy number takes the tensor's dtype within its category (float32 * 2.0 stays
float32, int64 * 2 stays int64) and the default float dtype across categories (int64 * 2.5 is
float32). The casts of tensors that require grad are recorded, so gradients keep each input's
dtype. Division and the float functions of integers give the default float dtype, as in PyTorch.
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..autograd import STATE, Tensor
from ..dtypes import default_float, result_type, torch_name
from .contract import tensor_arg
from .out import write_out


def _as(x, dtype: np.dtype) -> Tensor:
    """Operand x (Tensor, ndarray or number) as a Tensor of `dtype`: a recorded cast for a
    tensor that requires grad, a converted constant otherwise."""
    if isinstance(x, Tensor):
        if x._data.dtype == dtype:
            return x
        if x.requires_grad and STATE.grad_enabled:
            return ops.cast(x, dtype=dtype)
        x = x._data
    elif (type(x) is float or type(x) is int) and x and x == x:
        return _constant(x, dtype)
    return Tensor(np.asarray(x).astype(dtype, copy=False))   # an int wraps (uint8 * -1), as PyTorch


_CONSTANTS: dict[tuple, Tensor] = {}


def _constant(x: float | int, dtype: np.dtype) -> Tensor:
    """The Python number x as a 0-d constant of `dtype`, made once and shared (`y * 2.0` in a loop
    makes no new tensor). Only for numbers that are not 0 (whose sign a key could not tell) or NaN."""
    key = (x, dtype)
    constant = _CONSTANTS.get(key)
    if constant is None:
        if len(_CONSTANTS) >= 1024:
            _CONSTANTS.clear()
        array = np.asarray(x).astype(dtype)
        array.flags.writeable = False               # shared: nobody may change it
        constant = _CONSTANTS[key] = Tensor(array)
    return constant


def promote(*operands, dtype: np.dtype | None = None) -> list[Tensor]:
    """The operands as Tensors of their common dtype (torch.result_type), or of `dtype`."""
    if dtype is None:
        dtype = _one_float_dtype(operands)
        if dtype is None:
            dtype = result_type(*operands)
    return [_as(x, dtype) for x in operands]


def _one_float_dtype(operands) -> np.dtype | None:
    """The hot path of result_type: tensors of one float dtype with Python numbers keep it."""
    dtype = None
    for x in operands:
        if isinstance(x, Tensor):
            d = x._data.dtype
            if d.kind != "f" or (dtype is not None and d != dtype):
                return None
            dtype = d
        elif type(x) is not float and type(x) is not int:
            return None
    return dtype


def _shape_of(x) -> tuple:
    return tuple(np.shape(getattr(x, "_data", x)))


def check_broadcast(fn: str, *operands) -> tuple:
    """The broadcast shape of the operands, or PyTorch's error with our explanation."""
    shapes = [_shape_of(x) for x in operands]
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        pass
    n = max(len(s) for s in shapes)
    for i in range(1, n + 1):                        # trailing dimensions first, as numpy
        sizes = [s[-i] for s in shapes if len(s) >= i and s[-i] != 1]
        if len(set(sizes)) > 1:
            a, b = sizes[0], next(v for v in sizes if v != sizes[0])
            break
    names = " and ".join(str(s) for s in shapes)
    raise ValueError(f"{fn}: shapes {names} do not broadcast: the size of tensor a ({a}) must "
                     f"match the size of tensor b ({b}) at non-singleton dimension {n - i}; "
                     f"trailing dimensions must be equal or 1: reshape or unsqueeze one operand")


def binary(op, fn: str, x, y, dtype=None) -> Tensor:
    """op(x, y) for a binary primitive op, its operands promoted to one dtype (or to `dtype`);
    numpy's broadcasting error becomes ours, naming `fn` and both shapes."""
    if dtype is not None or not isinstance(x, Tensor) or not isinstance(y, Tensor) \
            or x._data.dtype is not y._data.dtype or x._data.dtype.kind != "f":
        x, y = promote(x, y, dtype=dtype)        # else two tensors of one float dtype: as they are
    try:
        return op(x, y)
    except ValueError:                               # numpy's broadcasting error: say it ours
        check_broadcast(fn, x, y)
        raise


def add(input, other, *, alpha=1) -> Tensor:
    """z = input + alpha * other (broadcast, promoted)."""
    return binary(ops.add, "add", input, other if alpha == 1 else mul(other, alpha))


def sub(input, other, *, alpha=1) -> Tensor:
    """z = input - alpha * other (broadcast, promoted)."""
    if _is_bool(input) and _is_bool(other):
        raise TypeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                        "Use the `^` or `logical_xor()` operator instead.")
    return binary(ops.sub, "sub", input, other if alpha == 1 else mul(other, alpha))


def mul(input, other, *, out=None) -> Tensor:
    """z = input * other (broadcast, promoted); into `out` if given (functional/out.py)."""
    z = binary(ops.mul, "mul", input, other)
    return z if out is None else write_out(z, out, "mul")


def _is_bool(x) -> bool:
    data = getattr(x, "_data", x)
    return isinstance(data, (bool, np.bool_)) or getattr(data, "dtype", None) == np.bool_


def div(input, other, *, rounding_mode: str | None = None) -> Tensor:
    """z = input / other: true division (integers give the default float dtype), or rounded
    toward zero ('trunc') or down ('floor'), which keep the promoted dtype and have no gradient."""
    if rounding_mode is None:
        dtype = result_type(input, other)
        return binary(ops.div, "div", input, other,
                       dtype=dtype if dtype.kind == "f" else default_float())
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                         f"found '{rounding_mode}'")
    x, y = promote(input, other)
    check_broadcast("div", x, y)
    _no_gradient(f"div(rounding_mode='{rounding_mode}')", x, y)
    with np.errstate(divide="ignore", invalid="ignore"):
        if x.dtype.kind in "iu" and (y._data == 0).any():
            raise ZeroDivisionError("ZeroDivisionError: integer division by zero")
        q = np.floor_divide(x._data, y._data) if rounding_mode == "floor" else \
            np.trunc(x._data / y._data).astype(x.dtype) if x.dtype.kind == "f" else \
            (np.sign(x._data) * np.sign(y._data) * (np.abs(x._data) // np.abs(y._data))).astype(x.dtype)
    return Tensor(q)


def floor_divide(input, other) -> Tensor:
    """z = floor(input / other) (the // operator); no gradient."""
    return div(input, other, rounding_mode="floor")


def remainder(input, other) -> Tensor:
    """z = input - floor(input / other) * other, the sign of other (the % operator); no gradient."""
    x, y = promote(input, other)
    check_broadcast("remainder", x, y)
    _no_gradient("remainder (%)", x, y)
    if x.dtype.kind in "iu" and (y._data == 0).any():
        raise ZeroDivisionError("ZeroDivisionError: integer modulo by zero")
    return Tensor(np.remainder(x._data, y._data))


def _no_gradient(what: str, *xs: Tensor) -> None:
    if STATE.grad_enabled and any(x.requires_grad for x in xs):
        raise RuntimeError(f"{what} has no gradient here: compute it from detached values "
                           f"(x.detach()) if the result should not be differentiated")


def neg(input) -> Tensor:
    """y = -x"""
    x = tensor_arg(input, "input")
    if x.dtype == np.bool_:
        raise TypeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                        "are trying to invert a mask, use the `~` or `logical_not()` operator "
                        "instead.")
    return ops.neg(x)


# --- powers -----------------------------------------------------------------------------------

def _constant_exponent(y, shape: tuple):
    """A Python number for an exponent that is a number, a numpy scalar, or a one-element
    tensor that needs no gradient and does not change the result's shape; else None."""
    if isinstance(y, (bool, np.bool_)):
        return int(y)
    if isinstance(y, (int, float, np.integer, np.floating)):
        return y.item() if isinstance(y, np.generic) else y
    data = getattr(y, "_data", y)
    if isinstance(data, np.ndarray) and data.size == 1 and not getattr(y, "requires_grad", False) \
            and (data.ndim == 0 or np.broadcast_shapes(shape, data.shape) == shape):
        return data.item()
    return None


def pow(input, exponent) -> Tensor:
    """z = input ** exponent (either may be a number). A constant exponent uses the power
    primitive: exact for negative bases with integer exponents, slope 0 at x = 0 for x ** 0.
    A tensor exponent uses pow, which also differentiates in it: dz/dy = x^y ln x."""
    dtype = result_type(input, exponent)
    if not isinstance(input, Tensor):                       # number ** tensor
        base, y = promote(input, exponent, dtype=dtype)
        check_broadcast("pow", base, y)
        return ops.pow(base, y)
    c = _constant_exponent(exponent, input.shape)
    if c is not None and dtype.kind in "iu" and c < 0:
        if not isinstance(exponent, Tensor):             # as PyTorch: only a number is refused
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        c = None                                         # pow gives 0 unless |x| = 1
    if c is not None:
        return ops.power(_as(input, dtype), exponent=c)
    x, y = promote(input, exponent, dtype=dtype)
    check_broadcast("pow", x, y)
    return ops.pow(x, y)


# --- float functions --------------------------------------------------------------------------

def float_input(input) -> Tensor:
    """x as floating-point data: bool and integer tensors give the default float dtype, as the
    float functions of PyTorch (exp, log, sqrt, sin, tanh, sigmoid, ...) do."""
    x = tensor_arg(input, "input")
    if x._data.dtype.kind in "biu":
        return Tensor(x._data.astype(default_float()))
    return x


def exp(input) -> Tensor:
    """y = e^x"""
    return ops.exp(float_input(input))


def log(input) -> Tensor:
    """y = ln x (nan for x < 0, -inf at 0)"""
    return ops.log(float_input(input))


def sqrt(input) -> Tensor:
    """y = sqrt(x) (nan for x < 0)"""
    return ops.sqrt(float_input(input))


def sin(input) -> Tensor:
    """y = sin x"""
    return ops.sin(float_input(input))


def cos(input) -> Tensor:
    """y = cos x"""
    return ops.cos(float_input(input))


def abs(input) -> Tensor:
    """y = |x| (slope sign(x), 0 at 0); integers stay integers"""
    x = tensor_arg(input, "input")
    return x if x.dtype == np.bool_ else ops.absolute(x)


# --- selections -------------------------------------------------------------------------------

def where(condition, input=None, other=None):
    """z = input where condition else other (broadcast, promoted); condition must be boolean.

    where(condition) alone is condition.nonzero(as_tuple=True): the indices of the True entries.
    """
    cond = tensor_arg(condition, "condition")
    if cond.dtype != np.bool_:
        raise TypeError(f"where expected condition to be a boolean tensor, but got a tensor with "
                        f"dtype {torch_name(cond.dtype)}; compare first, e.g. where(x > 0, ...)")
    if input is None and other is None:
        return tuple(Tensor(i.astype(np.int64)) for i in np.nonzero(cond._data))
    if input is None or other is None:
        raise TypeError("where: give both input and other (or neither, for the indices)")
    x, y = promote(input, other)
    check_broadcast("where", cond, x, y)
    return ops.where(cond, x, y)


def maximum(input, other) -> Tensor:
    """z = max(x, y) elementwise; nan wins; at ties each side gets half the gradient (PyTorch)."""
    return _extremum(input, other, "maximum", np.maximum, lambda x, y: x > y)


def minimum(input, other) -> Tensor:
    """z = min(x, y) elementwise; nan wins; at ties each side gets half the gradient (PyTorch)."""
    return _extremum(input, other, "minimum", np.minimum, lambda x, y: x < y)


def _extremum(input, other, fn, choose, wins) -> Tensor:
    for name, value in (("input", input), ("other", other)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not "
                            f"{type(value).__name__}; use clamp for a number")
    x, y = promote(input, other)
    check_broadcast(fn, x, y)
    if not (STATE.grad_enabled and (x.requires_grad or y.requires_grad)):
        return Tensor(choose(x._data, y._data))
    # x where it wins, y where y wins, the mean at ties (exactly x = y); where either is nan,
    # x + y: nan, with the whole gradient to both sides (PyTorch's: neither is greater)
    tie = ops.add(ops.mul(x, _as(0.5, x.dtype)), ops.mul(y, _as(0.5, y.dtype)))
    z = ops.where(Tensor(wins(x._data, y._data)), x, ops.where(Tensor(wins(y._data, x._data)), y, tie))
    if z._data.dtype.kind != "f" or not (nan := np.isnan(z._data)).any():   # nan: x or y is
        return z
    return ops.where(Tensor(nan), ops.add(x, y), z)


def clamp(input, min=None, max=None) -> Tensor:
    """y = min(max(x, min), max) (either bound may be None, a number or a tensor).

    Slope 1 where min <= x <= max (bounds included, as PyTorch), else 0; a tensor bound gets
    the gradient where it is the result. nan in x or in a bound gives nan; a nan of x gets no
    gradient, as in PyTorch (nan is not between the bounds).
    """
    x = tensor_arg(input, "input")
    if min is None and max is None:
        raise ValueError("clamp: at least one of 'min' or 'max' must not be None")
    if None not in (min, max) and isinstance(min, Tensor) != isinstance(max, Tensor):
        raise TypeError("clamp: min and max must both be numbers or both be tensors, got "
                        f"{type(min).__name__} and {type(max).__name__}")
    x, *bounds = promote(x, *[b for b in (min, max) if b is not None])
    lo = bounds.pop(0) if min is not None else None
    hi = bounds.pop(0) if max is not None else None
    check_broadcast("clamp", x, *(b for b in (lo, hi) if b is not None))
    y = x
    for bound, below in ((lo, True), (hi, False)):
        if bound is None:
            continue
        b = bound._data
        outside = (y._data < b) if below else (y._data > b)
        if b.dtype.kind == "f":
            outside = outside | np.isnan(b)
        y = ops.where(Tensor(outside), bound, y)
    if x._data.dtype.kind != "f" or not (nan := np.isnan(x._data)).any():
        return y
    return ops.where(Tensor(nan), _as(np.nan, x.dtype), y)


# --- comparisons and logic: boolean results, outside the graph -------------------------------

def compare(fn: str, op, input, other) -> Tensor:
    """z = input <op> other as a boolean tensor, compared in the promoted dtype."""
    x, y = promote(input, other)
    check_broadcast(fn, x, y)
    return Tensor(op(x._data, y._data))


def _comparison(fn: str, op, symbol: str):
    def comparison(input, other) -> Tensor:
        return compare(fn, op, input, other)
    comparison.__name__ = comparison.__qualname__ = fn
    comparison.__doc__ = f"z = input {symbol} other, a boolean tensor (broadcast, promoted)"
    return comparison


eq = _comparison("eq", np.equal, "==")
ne = _comparison("ne", np.not_equal, "!=")
lt = _comparison("lt", np.less, "<")
le = _comparison("le", np.less_equal, "<=")
gt = _comparison("gt", np.greater, ">")
ge = _comparison("ge", np.greater_equal, ">=")


def logical(fn: str, op, *operands) -> Tensor:
    """Bitwise/logical op on bool or integer tensors (~, &, |, ^), as PyTorch's bitwise_*."""
    xs = promote(*operands)
    if xs[0].dtype.kind not in "biu":
        raise TypeError(f"{fn} is only implemented on integer and Boolean-type tensors, got "
                        f"dtype {xs[0].dtype}; for a mask, compare first (x > 0)")
    if len(xs) > 1:
        check_broadcast(fn, *xs)
    return Tensor(op(*(x._data for x in xs)))


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """|input - other| <= atol + rtol |other| everywhere (same dtype required, as PyTorch)."""
    x, y = tensor_arg(input, "input"), tensor_arg(other, "other")
    if x.dtype != y.dtype:
        raise TypeError(f"allclose: {torch_name(x.dtype)} did not match {torch_name(y.dtype)}: "
                        f"convert one, e.g. other.to(input.dtype)")
    check_broadcast("allclose", x, y)
    return bool(np.allclose(x._data, y._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other) -> bool:
    """True if both have the same shape and the same values (nan is never equal)."""
    x, y = tensor_arg(input, "input"), tensor_arg(other, "other")
    return x.shape == y.shape and bool(np.array_equal(x._data, y._data))
