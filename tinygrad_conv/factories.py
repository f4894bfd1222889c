"""Tensor factories, as PyTorch's: tensor, as_tensor, from_numpy, zeros, ones, full, empty, eye,
arange, linspace, the *_like forms, and the random ones (rand, randn, randint, normal,
randperm), which draw from the framework's generator (tinygrad_conv/random.py, seeded by
tc.manual_seed).

Every factory takes dtype=, device= (the CPU only) and requires_grad= (floating dtypes only),
and sizes as varargs, one tuple or the keyword size=: zeros(2, 3) == zeros((2, 3)) ==
zeros(size=(2, 3)). Random values follow PyTorch's
distributions, not its exact numbers (the generators differ).
"""
from __future__ import annotations

import math
import operator
import warnings

import numpy as np

from . import random
from .autograd import Tensor
from .device import device_arg
from .dtypes import default_float, tensor_array, to_array


def _size(size: tuple, fn: str, keyword=None) -> tuple:
    """Sizes given as varargs, as one tuple/list, or as the keyword size=, as non-negative ints."""
    if keyword is not None:
        if size:
            raise TypeError(f"{fn}(): the size is given twice, as {size} and as size="
                            f"{keyword!r}; give one of them")
        size = (keyword,)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    dims = []
    for n in size:
        if isinstance(n, (bool, np.bool_)):
            raise TypeError(f"{fn}(): size must be a tuple of ints, got {n!r}")
        try:
            dims.append(operator.index(n))
        except TypeError:
            raise TypeError(f"{fn}(): argument 'size' must be a tuple of ints, but found an "
                            f"element of type {type(n).__name__} ({n!r}); write e.g. "
                            f"{fn}(2, 3) or {fn}((2, 3))") from None
    if any(n < 0 for n in dims):
        raise ValueError(f"{fn}: Dimension size must be non-negative, got size {tuple(dims)}")
    return tuple(dims)


def _dtype(dtype, default) -> np.dtype:
    return np.dtype(default if dtype is None else dtype)


def _made(array: np.ndarray, requires_grad: bool, device, fn: str) -> Tensor:
    """The new tensor on the CPU, requiring grad if asked (floating dtypes only)."""
    device_arg(device, fn)
    t = Tensor(array)
    return t.requires_grad_(True) if requires_grad else t


# --- from data --------------------------------------------------------------------------------

def tensor(data, *, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of `data`, with PyTorch's dtype inference: bools -> bool,
    ints -> int64, floats -> the default dtype (float32), numpy data keeps its dtype."""
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                      "requires_grad_(True), rather than tc.tensor(sourceTensor).", UserWarning,
                      stacklevel=2)
    return _made(tensor_array(data, dtype), requires_grad, device, "tensor")


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """data as a tensor without copying when possible: a Tensor of that dtype is returned as
    it is and a numpy array shares its memory; other data is copied as by tensor()."""
    device_arg(device, "as_tensor")
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype == np.dtype(dtype) else data.to(dtype)
    if isinstance(data, np.ndarray):
        return Tensor(to_array(data, None if dtype is None else np.dtype(dtype)))
    return tensor(data, dtype=dtype)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing the memory (and dtype) of a numpy array: writes show in both."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(ndarray).__name__}); use "
                        f"tc.tensor(data) for lists and numbers")
    return Tensor(to_array(ndarray))


# --- filled -----------------------------------------------------------------------------------

def zeros(*shape, size=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of `size` filled with 0 (the default float dtype unless dtype=)."""
    return _made(np.zeros(_size(shape, "zeros", size), _dtype(dtype, default_float())),
                 requires_grad, device, "zeros")


def ones(*shape, size=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of `size` filled with 1."""
    return _made(np.ones(_size(shape, "ones", size), _dtype(dtype, default_float())),
                 requires_grad, device, "ones")


def empty(*shape, size=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of `size` (filled with 0 here: PyTorch leaves it uninitialised)."""
    return _made(np.zeros(_size(shape, "empty", size), _dtype(dtype, default_float())),
                 requires_grad, device, "empty")


def _fill_dtype(fill_value) -> np.dtype:
    """full's dtype inference: bool -> bool, int -> int64, float -> the default dtype."""
    value = getattr(fill_value, "_data", fill_value)
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise ValueError(f"full: fill_value must be a number or a one-element tensor, got "
                             f"shape {value.shape}")
        return value.dtype
    if isinstance(value, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(value, (int, np.integer)):
        return np.dtype(np.int64)
    if isinstance(value, (float, np.floating)):
        return default_float()
    raise TypeError(f"full: fill_value must be a number, got {type(fill_value).__name__}")


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of `size` (a tuple) filled with fill_value, of its dtype (bool, int64 or float)."""
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' must be a tuple of ints, not "
                        f"{type(size).__name__}; write full(({size!r},), {fill_value!r})")
    dtype = _dtype(dtype, _fill_dtype(fill_value))
    value = getattr(fill_value, "_data", fill_value)
    return _made(np.full(_size((size,), "full"), value, dtype=dtype), requires_grad, device, "full")


def _like(input, dtype) -> tuple[tuple, np.dtype]:
    if not isinstance(input, Tensor):
        raise TypeError(f"expected a Tensor as input, got {type(input).__name__}")
    return input.shape, _dtype(dtype, input.dtype)


def zeros_like(input, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """zeros of input's shape and dtype (unless dtype=)."""
    shape, dtype = _like(input, dtype)
    return _made(np.zeros(shape, dtype), requires_grad, device, "zeros_like")


def ones_like(input, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """ones of input's shape and dtype (unless dtype=)."""
    shape, dtype = _like(input, dtype)
    return _made(np.ones(shape, dtype), requires_grad, device, "ones_like")


def empty_like(input, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of input's shape and dtype (filled with 0 here)."""
    shape, dtype = _like(input, dtype)
    return _made(np.zeros(shape, dtype), requires_grad, device, "empty_like")


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """fill_value in input's shape and dtype (unless dtype=)."""
    shape, dtype = _like(input, dtype)
    value = getattr(fill_value, "_data", fill_value)
    return _made(np.full(shape, value, dtype=dtype), requires_grad, device, "full_like")


def eye(n, m=None, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix (m = n by default)."""
    n, m = _size((n, n if m is None else m), "eye")
    return _made(np.eye(n, m, dtype=_dtype(dtype, default_float())), requires_grad, device, "eye")


# --- ranges -----------------------------------------------------------------------------------

def _number(value, name: str, fn: str):
    value = getattr(value, "_data", value)
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise ValueError(f"{fn}: {name} must be a number, got a tensor of shape {value.shape}")
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{fn}: {name} must be a number, got {value!r} ({type(value).__name__})")
    return value.item() if isinstance(value, np.generic) else value


def arange(start, end=None, step=1, *, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """[start, start + step, ...) up to end (excluded); arange(n) is 0..n-1. int64 when all
    three are integers, the default float dtype otherwise (as PyTorch)."""
    if end is None:
        start, end = 0, start
    start, end, step = (_number(v, n, "arange") for v, n in
                        ((start, "start"), (end, "end"), (step, "step")))
    if not all(math.isfinite(v) for v in (start, end, step)):
        raise ValueError(f"arange: unsupported range: {start} -> {end} (step {step}): the bounds "
                         f"and the step must be finite")
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(f"arange: upper bound and lower bound inconsistent with step sign: "
                         f"start={start}, end={end}, step={step}")
    integral = all(isinstance(v, int) for v in (start, end, step))
    dtype = _dtype(dtype, np.int64 if integral else default_float())
    count = math.ceil((end - start) / step)
    values = start + np.arange(count, dtype=np.float64 if not integral else np.int64) * step
    return _made(values.astype(dtype), requires_grad, device, "arange")


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced values from start to end, both included (PyTorch's formula: the
    first half counted up from start, the second half down from end)."""
    start, end = _number(start, "start", "linspace"), _number(end, "end", "linspace")
    if isinstance(steps, (bool, np.bool_)) or not isinstance(steps, (int, np.integer)):
        raise TypeError(f"linspace: steps must be an int, got {steps!r}")
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    dtype = _dtype(dtype, default_float())
    compute = dtype if dtype.kind == "f" else np.dtype(np.float64)
    i = np.arange(steps)
    if steps == 1:
        values = np.full(1, start, dtype=compute)
    else:
        step = (compute.type(end) - compute.type(start)) / compute.type(max(steps - 1, 1))
        up = compute.type(start) + i.astype(compute) * step
        down = compute.type(end) - (steps - 1 - i).astype(compute) * step
        values = np.where(i < steps // 2, up, down)
    return _made(values.astype(dtype), requires_grad, device, "linspace")


# --- random -----------------------------------------------------------------------------------

def _rng(generator) -> np.random.Generator:
    if generator is None:
        return random.generator()
    if not isinstance(generator, np.random.Generator):
        raise TypeError(f"generator must be a numpy Generator (or None for the framework's), "
                        f"got {type(generator).__name__}")
    return generator


def _float_dtype(dtype, fn: str) -> np.dtype:
    dtype = _dtype(dtype, default_float())
    if dtype.kind != "f":
        raise TypeError(f"{fn}: random floats need a floating dtype, got {dtype}; use randint "
                        f"for integers")
    return dtype


def uniform(shape: tuple, low, high, dtype, generator=None) -> np.ndarray:
    """Uniform draws on [low, high) of `dtype` (float16 drawn in float32)."""
    draw = np.float64 if dtype == np.float64 else np.float32
    u = _rng(generator).random(shape, dtype=draw)
    return (u if (low, high) == (0, 1) else low + (high - low) * u).astype(dtype)


def gaussian(shape: tuple, mean, std, dtype, generator=None) -> np.ndarray:
    """Normal draws N(mean, std^2) of `dtype` (float16 drawn in float32)."""
    draw = np.float64 if dtype == np.float64 else np.float32
    z = _rng(generator).standard_normal(shape, dtype=draw)
    return (z if (mean, std) == (0, 1) else mean + std * z).astype(dtype)


def integers(shape: tuple, low, high, dtype, generator=None) -> np.ndarray:
    """Uniform integers in [low, high) as `dtype`."""
    if low >= high:
        raise ValueError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                         f"to={high}")
    return _rng(generator).integers(low, high, size=shape).astype(dtype)


def rand(*shape, size=None, generator=None, dtype=None, device=None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    dtype = _float_dtype(dtype, "rand")
    return _made(uniform(_size(shape, "rand", size), 0, 1, dtype, generator), requires_grad,
                 device, "rand")


def randn(*shape, size=None, generator=None, dtype=None, device=None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples N(0, 1)."""
    dtype = _float_dtype(dtype, "randn")
    return _made(gaussian(_size(shape, "randn", size), 0, 1, dtype, generator), requires_grad,
                 device, "randn")


def rand_like(input, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """rand of input's shape and dtype."""
    shape, dtype = _like(input, dtype)
    return _made(uniform(shape, 0, 1, _float_dtype(dtype, "rand_like")), requires_grad, device,
                 "rand_like")


def randn_like(input, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """randn of input's shape and dtype."""
    shape, dtype = _like(input, dtype)
    return _made(gaussian(shape, 0, 1, _float_dtype(dtype, "randn_like")), requires_grad, device,
                 "randn_like")


def randint(*args, size=None, generator=None, dtype=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """Uniform integers in [low, high): randint(high, size) or randint(low, high, size); int64."""
    if size is not None:
        args = args + (size,)
    if len(args) == 2:
        low, (high, size) = 0, args
    elif len(args) == 3:
        low, high, size = args
    else:
        raise TypeError("randint(): expected (high, size) or (low, high, size), e.g. "
                        "randint(10, (3,)) or randint(0, 10, (3,))")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' must be a tuple of ints, not "
                        f"{type(size).__name__}; write randint({high}, ({size},))")
    low, high = (operator.index(v) for v in (low, high))
    dtype = _dtype(dtype, np.int64)
    return _made(integers(_size((size,), "randint"), low, high, dtype, generator), requires_grad,
                 device, "randint")


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A random permutation of 0..n-1 (int64)."""
    (n,) = _size((n,), "randperm")
    return _made(_rng(generator).permutation(n).astype(_dtype(dtype, np.int64)), requires_grad,
                 device, "randperm")


def check_std(std, fn: str = "normal") -> None:
    values = np.asarray(getattr(std, "_data", std))
    if values.size and not (values >= 0).all():
        bad = values[~(values >= 0)].flat[0]
        raise ValueError(f"{fn} expects std >= 0.0, but found std {bad}")


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Samples of N(mean, std^2): normal(mean, std, size) for numbers, or elementwise means
    and standard deviations from tensors (their broadcast shape)."""
    check_std(std)
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if tensors:
        if size is not None:
            raise TypeError("normal(): size is only for number mean and std; with tensors the "
                            "shape is theirs")
        m, s = (getattr(v, "_data", v) for v in (mean, std))
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        dtype = _float_dtype(dtype if dtype is not None else tensors[0].dtype, "normal")
        values = (m + s * gaussian(shape, 0, 1, dtype, generator)).astype(dtype)
    else:
        if size is None:
            raise TypeError("normal(): with a number mean and std give the size, e.g. "
                            "normal(0.0, 1.0, size=(3,))")
        dtype = _float_dtype(dtype, "normal")
        values = gaussian(_size((size,), "normal"), mean, std, dtype, generator)
    return _made(values, requires_grad, device, "normal")


__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "zeros_like",
           "ones_like", "empty_like", "full_like", "eye", "arange", "linspace", "rand", "randn",
           "rand_like", "randn_like", "randint", "randperm", "normal"]
