"""dtype rules: the dtype names, the default float dtype, what dtype a tensor made from Python
data gets, and PyTorch's type promotion for ops that mix dtypes.

The dtype objects are numpy's (tc.float32 is np.float32), so `x.dtype == tc.float32` holds.
Here: names, the default dtype, `to_array` / `tensor_array` (data -> ndarray) and
`result_type` (the dtype of an op's result). Not here: the casts of a live graph (the `cast`
primitive).
"""
from __future__ import annotations

from typing import Any

import numpy as np

# PyTorch's dtype names
float16 = half = np.float16
float32 = np.float32
float64 = double = np.float64
int8, uint8 = np.int8, np.uint8
int16 = short = np.int16
int32 = np.int32
int64 = long = np.int64
bool_ = np.bool_
FLOAT_DTYPES = (np.float16, np.float32, np.float64)

_DEFAULT = [np.dtype(np.float32)]      # PyTorch's default dtype for Python floats


def get_default_dtype():
    """The dtype of tensors made from Python floats (float32 unless set_default_dtype changed it)."""
    return _DEFAULT[0].type


def set_default_dtype(d) -> None:
    """Set the dtype of tensors made from Python floats; floating-point dtypes only, as PyTorch."""
    try:
        dtype = np.dtype(d)
    except TypeError:
        raise TypeError(f"set_default_dtype: expected a dtype such as tc.float32 or tc.float64, "
                        f"got {d!r}") from None
    if dtype.kind != "f":
        raise TypeError(f"only floating-point types are supported as the default type, got "
                        f"{dtype}")
    _DEFAULT[0] = dtype


def default_float() -> np.dtype:
    return _DEFAULT[0]


# ----------------------------------------------------------------------------------------------
# data -> ndarray

def _refuse(data, array: np.ndarray | None = None):
    kind = array.dtype.kind if array is not None else None
    if isinstance(data, (complex, np.complexfloating)) or kind == "c":
        raise TypeError("complex numbers are not supported: tinygrad_conv tensors hold real "
                        "numbers (bool, integers, floats)")
    what = type(data).__name__ if array is None or kind in (None, "O") else \
        f"{type(data).__name__} of {array.dtype.name} values"
    if isinstance(data, (list, tuple)) and kind in ("U", "S", "O"):
        leaf = _first_bad_leaf(data)
        what = f"{type(data).__name__} containing {type(leaf).__name__} ({leaf!r:.40})"
    raise TypeError(f"cannot make a tensor from {what}: expected numbers, (nested) lists of "
                    f"numbers, or a numpy array of bool, integer or float dtype")


def _first_bad_leaf(data):
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif not isinstance(item, (bool, int, float, np.generic)) and not hasattr(item, "_data"):
            return item
    return None


def to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """The ndarray for `data` as Tensor(data) takes it (torch.Tensor's constructor): Python
    numbers and lists become the default float dtype, ndarrays keep their dtype and memory.

    A Tensor passes its array (anything with `_data`: this module sits below Tensor). Strings,
    None, complex numbers and object arrays are refused; an np.matrix becomes a plain ndarray
    (its * would be a matrix product).
    """
    data = getattr(data, "_data", data)
    if isinstance(data, np.ndarray):
        if type(data) is not np.ndarray:
            data = np.asarray(data)                  # np.matrix and friends
        if data.dtype.kind not in "biuf":
            _refuse(data, data)
        return data if dtype is None or data.dtype == dtype else data.astype(dtype)
    if isinstance(data, np.generic):
        if data.dtype.kind not in "biuf":
            _refuse(data, np.asarray(data))
        return np.asarray(data, dtype=dtype)
    array = _asarray(data)
    if dtype is None and array.dtype.kind in "biuf" and not isinstance(data, bool):
        dtype = _DEFAULT[0]         # PyTorch's default dtype for Python numbers and lists
    return array.astype(dtype) if dtype is not None else array


def _asarray(data) -> np.ndarray:
    if data is None or isinstance(data, (str, bytes, dict, set)):
        _refuse(data)
    try:
        array = np.asarray(data)
    except ValueError as error:                      # ragged nested lists
        raise ValueError(f"cannot make a tensor from a ragged nested sequence: every row must "
                         f"have the same length ({error})") from None
    if array.dtype.kind not in "biuf":
        _refuse(data, array)
    return array


def tensor_array(data: Any, dtype: Any = None) -> np.ndarray:
    """The ndarray for tc.tensor(data) (a copy), with PyTorch's dtype inference: bools -> bool,
    Python ints -> int64, Python floats -> the default dtype; numpy data and tensors keep their
    dtype (a list of numpy float64 scalars gives float64, as in PyTorch)."""
    source = getattr(data, "_data", data)
    if isinstance(source, (np.ndarray, np.generic)):
        array = to_array(source)
        return np.array(array, dtype=dtype if dtype is not None else array.dtype)
    array = _asarray(data)
    if dtype is None:
        if array.dtype.kind == "f" and not (array.dtype == np.float64 and _has_strong_float64(data)):
            dtype = _DEFAULT[0]
        elif array.dtype.kind in "iu" and isinstance(data, (int, list, tuple)) \
                and array.dtype != np.int64 and not _has_numpy_leaf(data):
            dtype = np.int64                          # Python ints are int64 on every platform
    return np.array(array, dtype=dtype if dtype is not None else array.dtype)


def _leaves(data):
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        else:
            yield item


def _has_strong_float64(data) -> bool:
    """Whether a float64 array made from `data` came from float64 numpy values (kept, as in
    PyTorch) rather than from Python floats (which take the default dtype)."""
    return any(getattr(getattr(leaf, "_data", leaf), "dtype", None) == np.float64
               for leaf in _leaves(data))


def _has_numpy_leaf(data) -> bool:
    return any(isinstance(getattr(leaf, "_data", leaf), (np.ndarray, np.generic))
               for leaf in _leaves(data))


# ----------------------------------------------------------------------------------------------
# type promotion, as torch.result_type

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}
_BOOL, _INT64 = np.dtype(np.bool_), np.dtype(np.int64)


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """torch.promote_types: within a category (bool < integer < float) numpy's rule; across
    categories the higher one wins as it is (int64 with float16 gives float16, not float64)."""
    if a == b:
        return a
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca == cb:
        return np.promote_types(a, b)
    return a if ca > cb else b


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """Participants of higher priority keep their dtype unless a lower-priority one is of a
    higher category (PyTorch's combine_categories)."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value) -> np.dtype | None:
    """The dtype a Python or numpy scalar stands for in promotion (a 'wrapped number'), or None
    if `value` is not a real scalar. numpy scalars count as Python numbers, as in PyTorch."""
    kind = type(value)
    if kind is float:
        return _DEFAULT[0]
    if kind is int:
        return _INT64
    if kind is bool:
        return _BOOL
    if isinstance(value, np.generic):
        k = value.dtype.kind
        return _BOOL if k == "b" else _INT64 if k in "iu" else _DEFAULT[0] if k == "f" else None
    if isinstance(value, (float, int)):               # subclasses of float/int
        return _BOOL if isinstance(value, bool) else _INT64 if isinstance(value, int) else _DEFAULT[0]
    return None


def result_type(*operands) -> np.dtype:
    """The dtype of an elementwise op on `operands` (tensors, ndarrays, Python/numpy scalars),
    as torch.result_type: tensors with dimensions decide; a 0-d tensor, then a number, only
    counts when it is of a higher category (float above integer above bool), and then a
    number gives the default float dtype (or int64). So float32 * 2.0, float32 * np.float64(2)
    and float32 * float64 0-d tensor stay float32; int64 * 2.5 is float32; float32 * float64
    tensor is float64."""
    dim = zero = wrapped = None
    for x in operands:
        data = getattr(x, "_data", x)
        if isinstance(data, np.ndarray):
            d = data.dtype
            if d.kind not in _CATEGORY:
                raise TypeError(f"unsupported dtype {d} in an arithmetic op")
            if data.ndim:
                dim = d if dim is None else promote_types(dim, d)
            else:
                zero = d if zero is None else promote_types(zero, d)
        else:
            d = scalar_dtype(data)
            if d is None:
                raise TypeError(f"unsupported operand of type {type(x).__name__}: expected a "
                                f"Tensor or a number")
            wrapped = d if wrapped is None else promote_types(wrapped, d)
    return _combine(dim, _combine(zero, wrapped))


def can_cast(source: np.dtype, target: np.dtype) -> bool:
    """Whether an in-place op may write a `source` result into a `target` tensor (PyTorch's
    canCast: never float into integer, never a number into bool)."""
    return _CATEGORY[source.kind] <= _CATEGORY[target.kind]


_TORCH_NAMES = {"f": "Float", "i": "Long", "u": "Byte", "b": "Bool"}


def torch_name(dtype: np.dtype) -> str:
    """PyTorch's scalar type name of a dtype, for messages: Float, Double, Long, Int, Bool..."""
    return {np.dtype(np.float64): "Double", np.dtype(np.float16): "Half",
            np.dtype(np.int32): "Int", np.dtype(np.int16): "Short", np.dtype(np.int8): "Char",
            }.get(np.dtype(dtype), _TORCH_NAMES[np.dtype(dtype).kind])


__all__ = ["float16", "half", "float32", "float64", "double", "int8", "uint8", "int16", "short",
           "int32", "int64", "long", "bool_", "get_default_dtype", "set_default_dtype",
           "to_array", "tensor_array", "result_type", "promote_types", "can_cast"]
