"""The argument contract shared by F and nn: turn what a user passes into checked Tensors,
ints, pairs and axes, refusing (before any work, with our own message) whatever PyTorch refuses.

Here: only checks and normalisation. Not here: any computation (the families beside this module).
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..autograd import Tensor


def tensor_arg(x, name: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, list, tuple, int, float, np.generic)):
        return Tensor(x)
    raise TypeError(f"{name} must be a Tensor (or array-like), got {type(x).__name__}")


def int_arg(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int or a tuple of ints, got {value!r} "
                        f"({type(value).__name__})")
    return int(value)


def pair_arg(value, name: str, *, minimum: int | None = None, why: str = "") -> tuple[int, int]:
    """An int or a 2-sequence of ints as (height, width), each at least `minimum`."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            value = (value[0], value[0])
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (height, width), got {tuple(value)} "
                             f"with {len(value)} entries")
        pair = (int_arg(value[0], name), int_arg(value[1], name))
    else:
        pair = (int_arg(value, name),) * 2
    if minimum is not None and min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum}{why}, got {name}={value!r}")
    return pair


def image_input(x: Tensor, name: str, fn: str, integer_dtypes=None) -> tuple[Tensor, bool]:
    """Accept (N, C, H, W), or unbatched (C, H, W) as PyTorch does; returns the 4-D view.

    Floating-point data, and integer data of `integer_dtypes` (None: any) as PyTorch's CPU
    kernels take them (integer data cannot require gradients).
    """
    if x.ndim not in (3, 4):
        raise ValueError(f"{fn}: expected {name} of shape (N, C, H, W) or unbatched (C, H, W), got "
                         f"{x.ndim}-D input of shape {tuple(x.shape)}"
                         + ("; add batch and channel axes, e.g. x.reshape(1, 1, H, W)"
                            if x.ndim == 2 else ""))
    integer_ok = x.dtype.kind in "iu" and (integer_dtypes is None or x.dtype in integer_dtypes)
    if x.dtype.kind != "f" and not integer_ok:
        allowed = "floating-point" + (" or integer" if integer_dtypes is None else
                                      "".join(f" or {np.dtype(d)}" for d in integer_dtypes))
        raise TypeError(f"{fn}: {name} has dtype {x.dtype}, but {fn} takes {allowed} data; "
                        f"convert it with .float()")
    if x.ndim == 3:
        return ops.reshape(x, shape=(1,) + x.shape), True
    return x, False


def same_numeric_dtype(fn: str, *named: tuple[str, Tensor]) -> None:
    """Matrix products take numbers of one dtype, as in PyTorch (no implicit promotion)."""
    (first, x), *others = named
    if x.dtype.kind not in "iuf":
        raise TypeError(f"{fn}: {first} has dtype {x.dtype}; expected floating-point or integer "
                        f"data, e.g. {first}.float()")
    for name, t in others:
        if t.dtype != x.dtype:
            raise TypeError(f"{fn}: {first} ({x.dtype}) and {name} ({t.dtype}) must have the same "
                            f"dtype; convert one, e.g. {first}.to({name}.dtype) or .float()")


def broadcast_shape(*shapes) -> tuple | None:
    """The numpy broadcast of `shapes`, or None if they do not broadcast."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        return None


def unbatch(y: Tensor, unbatched: bool) -> Tensor:
    return ops.reshape(y, shape=y.shape[1:]) if unbatched else y


def axis_arg(axis: int, ndim: int, name: str = "dim") -> int:
    axis = int_arg(axis, name)
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise ValueError(f"{name}={axis} is out of range for a tensor with {ndim} dimensions "
                         f"(expected {-max(ndim, 1)} <= {name} < {max(ndim, 1)})")
    return axis % max(ndim, 1)


def reduction_axes(x: Tensor, dim, keepdim, axis=None, keepdims=None, fn: str = "sum",
                   single: bool = False) -> dict:
    """PyTorch's dim/keepdim or numpy's axis/keepdims (PyTorch takes both spellings) as the
    primitives' axis=..., keepdims=...; dim: None or () (all axes), an int, or a tuple of
    ints (not with single=True). A 0-d tensor takes dim 0 or -1 and reduces nothing."""
    if dim is None:
        dim = axis
    if keepdim is None:
        keepdim = bool(keepdims)
    if dim is None or (isinstance(dim, (tuple, list)) and not dim and not single):
        return {"axis": None, "keepdims": bool(keepdim)}
    if isinstance(dim, (tuple, list)):
        if single:
            raise TypeError(f"{fn}(): dim must be a single int, got {tuple(dim)}")
        axes = tuple(axis_arg(d, x.ndim) for d in dim)
        if len(set(axes)) != len(axes):
            raise ValueError(f"{fn}(): dim {tuple(dim)} names a dimension twice")
        return {"axis": axes if x.ndim else None, "keepdims": bool(keepdim)}
    a = axis_arg(dim, x.ndim)
    return {"axis": a if x.ndim else None, "keepdims": bool(keepdim)}


def dims_arg(x: Tensor, dims) -> tuple:
    dims = dims if isinstance(dims, (tuple, list)) else (dims,)
    return tuple(axis_arg(d, x.ndim) for d in dims)


def shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int_arg(n, "shape") for n in shape)


def class_axis(x: Tensor, dim, fn: str) -> int:
    if dim is None:
        raise ValueError(f"{fn}: dim must be given (the axis that holds the classes), e.g. "
                         f"{fn}(x, dim=1) for logits of shape (N, C)")
    if x.ndim == 0:
        raise ValueError(f"{fn}: input must have at least one dimension, got a 0-D tensor")
    return axis_arg(dim, x.ndim)


REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction, fn: str) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{fn}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction


def positive_int(value, name: str, fn: str) -> int:
    """`value` as an int that must be > 0, e.g. groups, in_features."""
    value = int_arg(value, name)
    if value <= 0:
        raise ValueError(f"{fn}: {name} must be a positive integer, got {name}={value}")
    return value


def conv_padding(padding, stride: tuple, dilation: tuple, kernel: tuple, fn: str) -> tuple:
    """conv2d's padding as ((top, bottom), (left, right)): an int, a pair, 'valid' (none) or
    'same' (output size = input size; stride 1 only). 'same' pads d(K-1) in total per axis,
    the odd pixel after, as PyTorch."""
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"{fn}: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
        if padding == "valid":
            return ((0, 0), (0, 0))
        if stride != (1, 1):
            raise ValueError(f"{fn}: padding='same' is not supported for strided convolutions "
                             f"(stride={stride}); give the padding as numbers instead")
        return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                     for d, k in zip(dilation, kernel))
    ph, pw = pair_arg(padding, "padding", minimum=0, why=f" for {fn} (crop the input instead)")
    return ((ph, ph), (pw, pw))


def probability(p, fn: str) -> float:
    """A dropout probability: a real number in [0, 1]."""
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)):
        raise TypeError(f"{fn}: p must be a number between 0 and 1, got {p!r} ({type(p).__name__})")
    if not 0 <= p <= 1:
        raise ValueError(f"{fn}: probability p has to be between 0 and 1, but got p={p}")
    return p


def legacy_reduction(size_average, reduce, fn: str) -> str:
    """torch's deprecated size_average/reduce flags as a reduction string (with its warning):
    both unset or true -> 'mean', reduce alone -> 'sum', reduce=False -> 'none'."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = ("mean" if size_average else "sum") if reduce else "none"
    import warnings
    warnings.warn(f"{fn}: size_average and reduce args will be deprecated, please use "
                  f"reduction='{reduction}' instead.", UserWarning, stacklevel=3)
    return reduction


def conv_operands(input, weight, fn: str, layout: str) -> tuple[Tensor, bool, Tensor]:
    """A convolution's image and 4-D weight of the same dtype: (x as (N, C, H, W), whether it
    came unbatched, w). layout names the weight's axes for the error, e.g. '(out_channels,
    in_channels/groups, kH, kW)'."""
    x, unbatched = image_input(tensor_arg(input, "input"), "input", fn)
    w = tensor_arg(weight, "weight")
    if w.ndim != 4:
        raise ValueError(f"{fn}: weight must be 4-D {layout}, got shape {tuple(w.shape)}")
    if w.dtype != x.dtype:
        raise TypeError(f"{fn}: input ({x.dtype}) and weight ({w.dtype}) must have the same "
                        f"dtype; convert one with .float() or .double()")
    return x, unbatched, w
