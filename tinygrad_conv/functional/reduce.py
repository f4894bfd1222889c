"""Reductions as PyTorch's: sum, mean, var, std, prod, amax/amin, max/min (with dim: values and
indices), argmax/argmin and norm. Composites of the sum, max and prod primitives.

Every reduction takes PyTorch's `dim`/`keepdim` and numpy's `axis`/`keepdims` (PyTorch accepts
both spellings). Integer and bool data sum to int64; mean, var, std and norm need floats.
"""
from __future__ import annotations

import builtins
import math
import warnings
from collections import namedtuple

import numpy as np

from .. import ops
from ..autograd import Tensor
from ..autograd.composites import composite
from ..dtypes import torch_name
from .contract import reduction_axes, tensor_arg
from .elementwise import maximum, minimum


def _counted(x: Tensor, axis) -> int:
    """The number of entries each output of a reduction over `axis` combines."""
    if axis is None:
        return x.data.size
    axes = axis if isinstance(axis, tuple) else (axis,)
    return math.prod(x.shape[a] for a in axes)


def _cast_for(x: Tensor, dtype) -> Tensor:
    """x converted to `dtype` first (PyTorch's dtype= argument of reductions), if given."""
    if dtype is None:
        return x
    dtype = np.dtype(dtype)
    return x if x.dtype == dtype else x.to(dtype)


def sum(input, dim=None, keepdim=None, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    """y = sum of x over dim (all entries if None); bool and integers sum to int64."""
    x = _cast_for(tensor_arg(input, "input"), dtype)
    args = reduction_axes(x, dim, keepdim, axis, keepdims, "sum")
    if x.dtype.kind in "biu" and x.dtype != np.int64:
        x = Tensor(x.data.astype(np.int64))
    return ops.sum_(x, **args)


def _float_only(x: Tensor, fn: str, dtype=None) -> Tensor:
    x = _cast_for(x, dtype)
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}(): could not infer output dtype. Input dtype must be a floating "
                        f"point dtype, got {torch_name(x.dtype)}; convert with .float() (or pass "
                        f"dtype=tc.float32)")
    return x


@composite("mean")
def mean(input, dim=None, keepdim=None, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    """y = sum / number of summed entries (nan for none, as PyTorch). Floats only."""
    x = _float_only(tensor_arg(input, "input"), "mean", dtype)
    args = reduction_axes(x, dim, keepdim, axis, keepdims, "mean")
    half = x.dtype == np.float16        # as PyTorch: sum and divide in float32, then round once
    total = ops.sum_(ops.cast(x, dtype=np.float32) if half else x, **args)
    with np.errstate(invalid="ignore"):
        y = total / _counted(x, args["axis"])
    return ops.cast(y, dtype=np.float16) if half else y


def var(input, dim=None, unbiased=None, keepdim=None, *, correction=None, axis=None,
        keepdims=None) -> Tensor:
    """y = sum (x - mean)^2 / (N - correction) over dim; correction 1 (unbiased) by default.

    As PyTorch: var(dim), var(dim, unbiased, keepdim), var(unbiased) and correction=.
    """
    x = _float_only(tensor_arg(input, "input"), "var")
    if isinstance(dim, (bool, np.bool_)):            # x.var(False): the unbiased overload
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError("var(): give either unbiased or correction, not both")
    c = correction if correction is not None else (1 if unbiased is None else int(bool(unbiased)))
    args = reduction_axes(x, dim, keepdim, axis, keepdims, "var")
    n = _counted(x, args["axis"])
    if n - c <= 0:
        warnings.warn(f"var(): degrees of freedom is <= 0 (N={n} entries per output, "
                      f"correction={c}): the result is nan or inf, as PyTorch's", stacklevel=3)
    centred = x - ops.sum_(x, axis=args["axis"], keepdims=True) / builtins.max(n, 1)
    squares = ops.sum_(centred * centred, **args)
    with np.errstate(invalid="ignore", divide="ignore"):
        return squares / float(builtins.max(n - c, 0))


def std(input, dim=None, unbiased=None, keepdim=None, *, correction=None, axis=None,
        keepdims=None) -> Tensor:
    """y = sqrt(var(x)), with var's arguments (unbiased by default)."""
    return ops.sqrt(var(input, dim, unbiased, keepdim, correction=correction, axis=axis,
                        keepdims=keepdims))


def prod(input, dim=None, keepdim=None, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    """y = product of x over one dim (all entries if None); bool and integers give int64.
    The gradient prod_{j != i} x_j is exact where entries are zero."""
    x = _cast_for(tensor_arg(input, "input"), dtype)
    args = reduction_axes(x, dim, keepdim, axis, keepdims, fn="prod", single=True)
    if x.dtype.kind in "biu" and x.dtype != np.int64:
        x = Tensor(x.data.astype(np.int64))
    return ops.prod(x, **args)


def _nonempty(x: Tensor, axis, fn: str) -> None:
    if axis is None:
        if x.data.size == 0:
            raise RuntimeError(f"{fn}(): Expected reduction dim to be specified for "
                               f"input.numel() == 0. Specify the reduction dim with the 'dim' "
                               f"argument.")
        return
    for a in (axis if isinstance(axis, tuple) else (axis,)):
        if x.shape[a] == 0:
            raise IndexError(f"{fn}(): Expected reduction dim {a} to have non-zero size (input "
                             f"shape {tuple(x.shape)}).")


def amax(input, dim=(), keepdim=None, *, axis=None, keepdims=None) -> Tensor:
    """y = max of x over dim (all if ()); ties share the gradient equally; nan wins, and a slice
    holding nan has nan in all of its gradient (PyTorch's amax: none of its entries equals nan)."""
    x = tensor_arg(input, "input")
    args = reduction_axes(x, dim if dim != () else axis, keepdim, None, keepdims, fn="amax")
    _nonempty(x, args["axis"], "amax")
    return ops.max_(x, **args)


def amin(input, dim=(), keepdim=None, *, axis=None, keepdims=None) -> Tensor:
    """y = min of x over dim (all if ()), as -amax(-x) for floats; nan wins."""
    x = tensor_arg(input, "input")
    args = reduction_axes(x, dim if dim != () else axis, keepdim, None, keepdims, fn="amin")
    _nonempty(x, args["axis"], "amin")
    return _negated_max(x, args)


def _negated_max(x: Tensor, args: dict) -> Tensor:
    """min as -max(-x) over args' axes (max_'s keywords) for floats."""
    if x.dtype.kind != "f":                          # no gradient; -x would wrap unsigned data
        return Tensor(np.asarray(np.min(x.data, axis=args["axis"], keepdims=args["keepdims"])))
    return ops.neg(ops.max_(ops.neg(x), **args))


max_result = namedtuple("max", ["values", "indices"])
min_result = namedtuple("min", ["values", "indices"])
max_result.__doc__ = "(values, indices) of max(dim), as torch.return_types.max"
min_result.__doc__ = "(values, indices) of min(dim), as torch.return_types.min"


def _select(x: Tensor, index: np.ndarray, axis: int, keepdim: bool) -> Tensor:
    """y = x[..., index, ...] along `axis` (one entry per position): the gradient goes to
    the selected entry only, as PyTorch's max(dim)."""
    if x.ndim == 0:
        return x
    grids = np.ogrid[tuple(slice(n) for n in index.shape)]
    picked = tuple(index if a == axis else grids[a - (a > axis)] for a in range(x.ndim))
    y = ops.getitem(x, index=picked)
    return ops.reshape(y, shape=_kept(x.shape, axis)) if keepdim else y


def _kept(shape, axis):
    return tuple(1 if a == axis else n for a, n in enumerate(shape))


def _indices(x: Tensor, dim, fn: str, pick) -> tuple[int | None, np.ndarray]:
    """(axis, int64 indices of the first extremum along it); nan counts as the extremum, as
    PyTorch. dim None: the flat index; a 0-d tensor: index 0."""
    if dim is None:
        _nonempty(x, None, fn)
        return None, np.asarray(pick(x.data.reshape(-1)), dtype=np.int64)
    axis = reduction_axes(x, dim, False, fn=fn, single=True)["axis"]
    if axis is None:
        return None, np.zeros((), dtype=np.int64)
    _nonempty(x, axis, fn)
    return axis, pick(x.data, axis=axis).astype(np.int64)


def _kept_index(x: Tensor, index: np.ndarray, axis, keepdim: bool) -> Tensor:
    if not keepdim:
        return Tensor(index)
    return Tensor(index.reshape((1,) * x.ndim if axis is None else _kept(x.shape, axis)))


def argmax(input, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    """Index of the first maximum along dim (flat index if None), int64."""
    x = tensor_arg(input, "input")
    dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    axis, index = _indices(x, dim, "argmax", np.argmax)
    return _kept_index(x, index, axis, keepdim)


def argmin(input, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    """Index of the first minimum along dim (flat index if None), int64."""
    x = tensor_arg(input, "input")
    dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    axis, index = _indices(x, dim, "argmin", np.argmin)
    return _kept_index(x, index, axis, keepdim)


def _aliases(dim, keepdim, axis, keepdims):
    """numpy's axis/keepdims for PyTorch's dim/keepdim."""
    return (axis if dim is None else dim), bool(keepdims if keepdims is not None else keepdim)


def _extreme(input, dim, keepdim, fn, whole, pick, result, elementwise, axis=None, keepdims=None):
    if isinstance(dim, Tensor):                      # max(a, b): elementwise
        return elementwise(input, dim)
    dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    x = tensor_arg(input, "input")
    if dim is None:
        if keepdim:
            raise TypeError(f"{fn}(): keepdim needs a dim, e.g. {fn}(x, dim=1, keepdim=True)")
        return whole(x)
    axis, index = _indices(x, dim, fn, pick)
    values = x if axis is None else _select(x, index, axis, keepdim)
    return result(values, _kept_index(x, index, axis, keepdim and axis is not None))


def max(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """max(x): the largest entry (nan wins; the maxima share the gradient, an exact 0 elsewhere,
    as PyTorch's x.max()). max(x, dim): (values, indices) of the first maximum along dim, the
    gradient going to that entry. max(a, b): the elementwise maximum."""
    return _extreme(input, dim, keepdim, "max", _whole_max, np.argmax, max_result, maximum,
                    axis, keepdims)


def min(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """min(x), min(x, dim) -> (values, indices), min(a, b): as max."""
    return _extreme(input, dim, keepdim, "min", _whole_min, np.argmin, min_result, minimum,
                    axis, keepdims)


def _whole_max(x: Tensor) -> Tensor:
    _nonempty(x, None, "max")
    return ops.max_(x, axis=None, keepdims=False, evenly=True)


def _whole_min(x: Tensor) -> Tensor:
    _nonempty(x, None, "min")
    return _negated_max(x, {"axis": None, "keepdims": False, "evenly": True})


def norm(input, p="fro", dim=None, keepdim=False, dtype=None) -> Tensor:
    """y = (sum |x|^p)^(1/p) over dim (all entries if None): p = 2 ('fro') by default, 1, inf
    (max |x|), -inf (min |x|), 0 (number of non-zeros) or any other positive number.

    The gradient of a norm that is 0 is 0 (as PyTorch), not 0 * inf = nan.
    """
    x = _float_only(tensor_arg(input, "input"), "norm", dtype)
    if p == "fro":
        p = 2
    if isinstance(p, str) or isinstance(p, bool) or not isinstance(p, (int, float, np.number)):
        raise ValueError(f"norm: p must be a number or 'fro', got {p!r} (the nuclear norm is "
                         f"not supported)")
    args = reduction_axes(x, dim, keepdim, fn="norm")
    a = ops.absolute(x)
    if p == math.inf:
        return ops.max_(a, **args)
    if p == -math.inf:
        return amin(a, dim=args["axis"] if args["axis"] is not None else (), keepdim=keepdim)
    if p == 0:
        return ops.sum_(Tensor((x.data != 0).astype(x.dtype)), **args)
    s = ops.sum_(a * a if p == 2 else a ** p, **args)
    # where s = 0 take the root of 1 instead and pick 0: both branches are finite there
    zero = Tensor(s.data == 0)
    safe = ops.where(zero, Tensor(np.ones((), x.dtype)), s)
    root = ops.sqrt(safe) if p == 2 else safe ** (1.0 / p)
    return ops.where(zero, Tensor(np.zeros((), x.dtype)), root)

