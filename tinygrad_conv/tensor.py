"""Tensor's user-facing methods: arithmetic, comparisons, in-place writes, reductions, shapes,
dtypes, devices, conversions and the Python and numpy protocols, with PyTorch's semantics.

Each method is a one-liner onto a primitive (`ops`), a checked composite (`functional`), an
in-place write (`inplace`) or the numpy protocols (`interop`), as PyTorch's `_tensor.py` sits
over its functions. The class `TensorMethods` below only holds them: importing this module adds
every one of them to the autograd core's `Tensor` (tinygrad_conv/autograd/engine.py), so that
the core reads on its own and never imports the functional API. That is the package's one
back-edge, and it lives here alone.
"""
from __future__ import annotations

import math

import numpy as np

from . import factories, functional, interop, ops
from .autograd.engine import Tensor
from .device import CPU, device_arg, is_device_like
from .dtypes import default_float
from .factories import check_std, gaussian, integers, uniform
from .functional import elementwise as E
from .functional import reduce as R
from .functional.shape import index_arg
from .inplace import assign, note_view, overwrite, same_memory

# torch.Tensor.type() names
TYPE_NAMES = {np.dtype(np.float32): "torch.FloatTensor", np.dtype(np.float64): "torch.DoubleTensor",
              np.dtype(np.float16): "torch.HalfTensor", np.dtype(np.int64): "torch.LongTensor",
              np.dtype(np.int32): "torch.IntTensor", np.dtype(np.int16): "torch.ShortTensor",
              np.dtype(np.int8): "torch.CharTensor", np.dtype(np.uint8): "torch.ByteTensor",
              np.dtype(np.bool_): "torch.BoolTensor"}
_BY_TYPE_NAME = {name: dtype for dtype, name in TYPE_NAMES.items()}
_OPERAND_TYPES = (Tensor, np.ndarray, np.generic, int, float, bool)


def _operand(other, op: str):
    """other if it can take part in arithmetic, else a TypeError (lists are not operands)."""
    if isinstance(other, _OPERAND_TYPES):
        return other
    raise TypeError(f"unsupported operand type for {op}: 'Tensor' and '{type(other).__name__}'"
                    + ("; make it a tensor first: tc.tensor(...)" if isinstance(other, (list, tuple))
                       else ""))


def _compare(fn):
    """A comparison dunder: a bool tensor, or NotImplemented for non-numbers (so == None is False)."""
    def dunder(self, other):
        if not isinstance(other, _OPERAND_TYPES):
            return NotImplemented
        return fn(self, other)
    return dunder


def _one_element(t: Tensor, what: str):
    if t._data.size != 1:
        raise ValueError(f"only one element tensors can be converted to Python scalars ({what} "
                         f"of a tensor of shape {tuple(t.shape)}); reduce it first, e.g. "
                         f"x.sum(), or pick one entry, x[0]")
    return t._data.reshape(-1)[0]


class TensorMethods:
    """The methods added to Tensor (see the module docstring); never instantiated."""

    # --- sizes and identity --------------------------------------------------------------------
    def size(self, dim=None):
        if dim is None:
            return self._data.shape
        return self._data.shape[functional.contract.axis_arg(dim, self.ndim)]

    numel = nelement = lambda self: self._data.size  # noqa: E731
    dim = ndimension = lambda self: self._data.ndim  # noqa: E731
    T = property(lambda self: self.permute(*reversed(range(self.ndim))))
    device = property(lambda self: CPU)
    is_cuda = property(lambda self: False)
    is_floating_point = lambda self: self._data.dtype.kind == "f"  # noqa: E731

    # --- conversions ---------------------------------------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The values as the numpy array itself (shares memory, as PyTorch's)."""
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self._data

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to "
                               f"Scalar; reduce it first (x.sum(), x.mean()) or index one entry")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    __array_ufunc__ = interop.array_ufunc
    __array_function__ = interop.array_function

    # --- Python protocols (one-element tensors as numbers, iteration over dim 0) ---------------
    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with "
                               f"{'no values' if self._data.size == 0 else 'more than one value'}"
                               f" is ambiguous (shape {tuple(self.shape)}); use (x > 0).all() or "
                               f".any(), or compare one number")
        return bool(self._data.reshape(-1)[0])

    def __float__(self):
        return float(_one_element(self, "float()"))

    def __int__(self):
        return int(_one_element(self, "int()"))

    def __index__(self):
        if self._data.size != 1 or self._data.dtype.kind not in "biu":
            raise TypeError(f"only integer tensors of a single element can be converted to an "
                            f"index (got dtype {self.dtype}, shape {tuple(self.shape)})")
        return int(self._data.reshape(-1)[0])

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self._data.item().__format__(spec)
        return object.__format__(self, spec)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self._data)))

    def __contains__(self, element):
        if not isinstance(element, (Tensor, int, float, bool, np.number, np.bool_)):
            raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you "
                               f"passed in a {type(element)}.")
        return bool(E.eq(self, element)._data.any())

    def __repr__(self):
        body = np.array2string(self._data, separator=", ", prefix="tensor(")
        extra = ""
        if self._data.dtype not in (default_float(), np.int64, np.bool_) or \
                (self._data.size == 0 and self._data.dtype != default_float()):
            extra += f", dtype={self._data.dtype}"
        if self.node is not None:
            extra += f", op={self.node.op.name}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # --- arithmetic (broadcast, PyTorch's type promotion) --------------------------------------
    # + and * go straight to the promotion and the primitive: they are the ops of every VJP
    def __add__(self, other):
        return E.binary(ops.add, "add", self, other if type(other) is Tensor else _operand(other, "+"))

    def __radd__(self, other): return E.binary(ops.add, "add", _operand(other, "+"), self)
    def __sub__(self, other): return E.sub(self, _operand(other, "-"))
    def __rsub__(self, other): return E.sub(_operand(other, "-"), self)

    def __mul__(self, other):
        return E.binary(ops.mul, "mul", self, other if type(other) is Tensor else _operand(other, "*"))

    def __rmul__(self, other): return E.binary(ops.mul, "mul", _operand(other, "*"), self)
    def __truediv__(self, other): return E.div(self, _operand(other, "/"))
    def __rtruediv__(self, other): return E.div(_operand(other, "/"), self)
    def __floordiv__(self, other): return E.floor_divide(self, _operand(other, "//"))
    def __rfloordiv__(self, other): return E.floor_divide(_operand(other, "//"), self)
    def __mod__(self, other): return E.remainder(self, _operand(other, "%"))
    def __rmod__(self, other): return E.remainder(_operand(other, "%"), self)
    def __pow__(self, exponent): return E.pow(self, _operand(exponent, "**"))
    def __rpow__(self, base): return E.pow(_operand(base, "**"), self)
    def __neg__(self): return E.neg(self)
    def __pos__(self): return self
    def __abs__(self): return E.abs(self)
    def __matmul__(self, other): return functional.matmul(self, _operand(other, "@"))
    def __rmatmul__(self, other): return functional.matmul(_operand(other, "@"), self)
    def __invert__(self): return E.logical("~", np.invert, self)
    def __and__(self, other): return E.logical("&", np.bitwise_and, self, _operand(other, "&"))
    def __rand__(self, other): return E.logical("&", np.bitwise_and, _operand(other, "&"), self)
    def __or__(self, other): return E.logical("|", np.bitwise_or, self, _operand(other, "|"))
    def __ror__(self, other): return E.logical("|", np.bitwise_or, _operand(other, "|"), self)
    def __xor__(self, other): return E.logical("^", np.bitwise_xor, self, _operand(other, "^"))
    def __rxor__(self, other): return E.logical("^", np.bitwise_xor, _operand(other, "^"), self)

    # comparisons give boolean tensors outside the graph (they have no useful derivative)
    __eq__ = _compare(E.eq)
    __ne__ = _compare(E.ne)
    __lt__ = _compare(E.lt)
    __le__ = _compare(E.le)
    __gt__ = _compare(E.gt)
    __ge__ = _compare(E.ge)
    eq, ne, lt, le, gt, ge = E.eq, E.ne, E.lt, E.le, E.gt, E.ge

    add, sub, mul, div, pow = E.add, E.sub, E.mul, E.div, E.pow
    neg, exp, log, sqrt, sin, cos, abs = E.neg, E.exp, E.log, E.sqrt, E.sin, E.cos, E.abs
    relu, tanh, sigmoid = functional.relu, functional.tanh, functional.sigmoid
    clamp = clip = E.clamp
    maximum, minimum = E.maximum, E.minimum
    softmax, log_softmax = functional.softmax, functional.log_softmax
    matmul, mm, bmm, dot = functional.matmul, functional.mm, functional.bmm, functional.dot

    def where(self, condition, other): return E.where(condition, self, other)
    def masked_fill(self, mask, value): return E.where(mask, value, self)
    def logical_not(self): return E.logical("logical_not", np.logical_not, self)

    # --- in-place writes (inplace.py: PyTorch's autograd rules) --------------------------------
    def add_(self, other, *, alpha=1):
        return assign(self, lambda x: E.add(x, other, alpha=alpha), "add_", (other,))

    def sub_(self, other, *, alpha=1):
        return assign(self, lambda x: E.sub(x, other, alpha=alpha), "sub_", (other,))

    def mul_(self, other):
        return assign(self, lambda x: E.mul(x, other), "mul_", (other,))

    def div_(self, other, *, rounding_mode=None):
        return assign(self, lambda x: E.div(x, other, rounding_mode=rounding_mode), "div_", (other,))

    def pow_(self, exponent):
        return assign(self, lambda x: E.pow(x, exponent), "pow_", (exponent,))

    def clamp_(self, min=None, max=None):
        return assign(self, lambda x: E.clamp(x, min, max), "clamp_", (min, max))

    clip_ = clamp_

    def __iadd__(self, other): return self.add_(_operand(other, "+="))
    def __isub__(self, other): return self.sub_(_operand(other, "-="))
    def __imul__(self, other): return self.mul_(_operand(other, "*="))
    def __itruediv__(self, other): return self.div_(_operand(other, "/="))
    # no __imatmul__, as in PyTorch: `a @= b` rebinds a to a @ b

    def neg_(self): return assign(self, E.neg, "neg_")
    def exp_(self): return assign(self, E.exp, "exp_")
    def log_(self): return assign(self, E.log, "log_")
    def sqrt_(self): return assign(self, E.sqrt, "sqrt_")
    def abs_(self): return assign(self, E.abs, "abs_")
    def relu_(self): return assign(self, functional.relu, "relu_")
    def tanh_(self): return assign(self, functional.tanh, "tanh_")
    def sigmoid_(self): return assign(self, functional.sigmoid, "sigmoid_")

    def copy_(self, src, non_blocking: bool = False):
        """Write src's values (broadcast, cast to this dtype) into this tensor; the gradient
        flows to src."""
        src = functional.contract.tensor_arg(src, "src")
        if self.dtype.kind != "f" and src.requires_grad:
            src = src.detach()                       # integer data carries no gradient
        if E.check_broadcast("copy_", self, src) != self.shape:
            raise RuntimeError(f"copy_: the source of shape {tuple(src.shape)} does not "
                               f"broadcast to the destination's shape {tuple(self.shape)}")
        return assign(self, lambda x: overwrite(x, src if src.dtype == x.dtype else
                                                ops.cast(src, dtype=x.dtype)), "copy_", (src,))

    def fill_(self, value):
        """Every entry := value (a number or a 0-d tensor)."""
        if isinstance(value, Tensor) and value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value.ndim} dimensions.")
        return self.copy_(value if isinstance(value, Tensor) else
                          Tensor(np.asarray(value).astype(self.dtype)))

    def zero_(self):
        """Every entry := 0. A leaf that requires grad only under no_grad (as an optimizer's
        zero_grad); a recorded tensor stays in the graph with gradient 0."""
        return self.fill_(0)

    def _random_fill(self, fn: str, draw) -> "Tensor":
        if self.dtype.kind != "f" and fn != "random_":
            raise TypeError(f"{fn}: needs a floating-point tensor, got dtype {self.dtype}")
        return assign(self, lambda x: overwrite(x, Tensor(draw())), fn)

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        """Entries := samples of U[a, b) (the framework's generator)."""
        if not (math.isfinite(a) and math.isfinite(b)):
            raise ValueError(f"uniform_: the bounds must be finite numbers, got from={a}, to={b}")
        if a > b:
            raise ValueError(f"uniform_ expects to return a [from, to) range, but found "
                             f"from={a} > to={b}")
        return self._random_fill("uniform_", lambda: uniform(self.shape, a, b, self.dtype, generator))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Entries := samples of N(mean, std^2)."""
        check_std(std, "normal_")
        return self._random_fill("normal_", lambda: gaussian(self.shape, mean, std, self.dtype,
                                                             generator))

    def random_(self, from_=0, to=None, *, generator=None):
        """Entries := integers uniform in [from, to) (random_(to) is [0, to)); without bounds
        [0, 2^mantissa] for floats, [0, max] for integers, as PyTorch."""
        if to is None and from_ != 0:
            from_, to = 0, from_
        if to is None:
            to = (2 ** (np.finfo(self.dtype).nmant + 1) + 1 if self.dtype.kind == "f" else
                  2 if self.dtype == np.bool_ else int(np.iinfo(self.dtype).max))
        return self._random_fill("random_", lambda: integers(self.shape, from_, to, self.dtype,
                                                             generator))

    def __setitem__(self, index, value):
        """self[index] = value, in place (inplace.py); a value that requires grad makes the
        result part of the graph (PyTorch's CopySlices)."""
        index = index_arg(index)
        v = value if isinstance(value, Tensor) else Tensor(np.asarray(getattr(value, "_data", value)))
        if self.dtype.kind != "f" and v.requires_grad:
            v = v.detach()                           # integer data carries no gradient
        part = ops.getitem.forward(self._data, index=index)   # a view for basic indexing
        if same_memory(v._data, part) and v.dtype == self.dtype:
            return                                   # x[i] += v writing x[i]'s own view back
        target = part.shape
        if np.broadcast_shapes(target, v.shape) != target:
            raise ValueError(f"setitem: cannot write a value of shape {tuple(v.shape)} into the "
                             f"selected part of shape {target} (tensor of shape "
                             f"{tuple(self.shape)}); the value must broadcast to it")
        assign(self, lambda x: ops.setitem(x, v if v.dtype == x.dtype else
                                           ops.cast(v, dtype=x.dtype), index=index),
               "setitem", (v,), written=part)

    # --- reductions ----------------------------------------------------------------------------
    sum, mean, var, std, prod, norm = R.sum, R.mean, R.var, R.std, R.prod, R.norm
    max, min, amax, amin, argmax, argmin = R.max, R.min, R.amax, R.amin, R.argmax, R.argmin

    def all(self, dim=None, keepdim=False):
        return Tensor(np.asarray(np.all(self._data, axis=dim, keepdims=keepdim)))

    def any(self, dim=None, keepdim=False):
        return Tensor(np.asarray(np.any(self._data, axis=dim, keepdims=keepdim)))

    # --- shapes (views remember their base, for in-place writes) -------------------------------
    def __getitem__(self, index):
        index = index_arg(index)
        return note_view(ops.getitem(self, index=index), self, ("getitem", index))

    def reshape(self, *shape):
        y = functional.reshape(self, *shape)
        return note_view(y, self, ("reshape", y.shape))

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        y = functional.flatten(self, start_dim, end_dim)
        return note_view(y, self, ("reshape", y.shape))

    def unsqueeze(self, dim):
        y = functional.unsqueeze(self, dim)
        return note_view(y, self, ("reshape", y.shape))

    def squeeze(self, dim=None):
        y = functional.squeeze(self, dim)
        return note_view(y, self, ("reshape", y.shape))

    def permute(self, *dims):
        y = functional.permute(self, *dims)
        return note_view(y, self, ("permute", tuple(d % max(self.ndim, 1) for d in
                                                    functional.contract.shape_arg(dims))))

    def transpose(self, dim0, dim1):
        y = functional.transpose(self, dim0, dim1)
        dims = list(range(self.ndim))
        a, b = dims[dim0], dims[dim1]
        dims[a], dims[b] = b, a
        return note_view(y, self, ("permute", tuple(dims)))

    def t(self):
        if self.ndim > 2:
            raise ValueError(f"t() expects a tensor with <= 2 dimensions, but self is "
                             f"{self.ndim}D (shape {tuple(self.shape)}); use transpose(dim0, dim1)")
        return self if self.ndim < 2 else self.transpose(0, 1)

    def flip(self, dims):
        dims = functional.dims_arg(self, dims)
        return note_view(ops.flip(self, dims=dims), self, ("flip", dims))

    def expand(self, *shape): return functional.expand(self, *shape)
    def view_as(self, other): return self.view(other.shape)
    def reshape_as(self, other): return self.reshape(other.shape)
    def expand_as(self, other): return self.expand(other.shape)
    def contiguous(self): return self

    def clone(self):
        """A copy of the values, in the graph (the gradient passes through unchanged)."""
        return ops.cast(self, dtype=self.dtype)

    # --- dtypes and devices --------------------------------------------------------------------
    def to(self, *args, dtype=None, device=None, non_blocking: bool = False, copy: bool = False):
        """to(dtype), to(device), to(device, dtype), to(other) (its dtype), with keywords too.
        Only the CPU exists; a float dtype keeps the gradient, an integer or bool one gives a
        result outside the graph (such tensors cannot require grad)."""
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif is_device_like(arg):
                device = arg
            elif arg is not None:
                dtype = arg
        device_arg(device, "to()")
        target = self.dtype if dtype is None else np.dtype(dtype)
        if target == self.dtype:
            return self.clone() if copy else self
        if target.kind != "f":
            return Tensor(self._data.astype(target))
        return ops.cast(self, dtype=target)

    def type(self, dtype=None, non_blocking: bool = False):
        """type() -> 'torch.FloatTensor' etc.; type(dtype or such a name) -> the converted tensor."""
        if dtype is None:
            return TYPE_NAMES[self.dtype]
        if isinstance(dtype, str):
            if "cuda" in dtype:
                device_arg("cuda", f"type({dtype!r})")
            if dtype not in _BY_TYPE_NAME:
                raise ValueError(f"invalid type: {dtype!r}; expected one of "
                                 f"{', '.join(sorted(_BY_TYPE_NAME))}")
            dtype = _BY_TYPE_NAME[dtype]
        return self.to(dtype)

    def type_as(self, other): return self.to(other.dtype)
    def float(self): return self.to(np.float32)
    def double(self): return self.to(np.float64)
    def half(self): return self.to(np.float16)
    def long(self): return self.to(np.int64)
    def int(self): return self.to(np.int32)
    def short(self): return self.to(np.int16)
    def byte(self): return self.to(np.uint8)
    def char(self): return self.to(np.int8)
    def bool(self): return self.to(np.bool_)
    def cpu(self): return self

    def cuda(self, device=None, non_blocking: bool = False):
        device_arg("cuda" if device is None else device if not isinstance(device, int)
                   else f"cuda:{device}", "cuda()")

    def new_zeros(self, *size, dtype=None, requires_grad=False):
        return factories.zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False):
        return factories.ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, requires_grad=False):
        return factories.full(size, fill_value, dtype=dtype or self.dtype,
                              requires_grad=requires_grad)

    def new_tensor(self, data, *, dtype=None, requires_grad=False):
        return factories.tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)


# what Python puts in any class body; __hash__ too, which it sets to None beside an __eq__
# (Tensor keeps object's hash: graph walks key tensors by identity)
_CLASS_ATTRIBUTES = {"__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__hash__"}
for _name, _method in vars(TensorMethods).items():
    if _name not in _CLASS_ATTRIBUTES:
        setattr(Tensor, _name, _method)
