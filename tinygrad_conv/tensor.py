"""Tensor's user-facing methods: arithmetic, comparisons, reductions, shapes, dtypes, conversions.

Each method is a one-liner onto a primitive (`ops`) or a checked composite (`functional`), as
PyTorch's `_tensor.py` sits over its functions. The class `TensorMethods` below only holds them:
importing this module adds every one of them to the autograd core's `Tensor`
(tinygrad_conv/autograd/engine.py), so that the core reads on its own and never imports the
functional API. That is the package's one back-edge, and it lives here alone.
"""
from __future__ import annotations

import numpy as np

from . import functional, ops
from .autograd.engine import Tensor
from .autograd.guards import is_locked
from .autograd.modes import STATE


class TensorMethods:
    """The methods added to Tensor (see the module docstring); never instantiated."""

    size = lambda self, dim=None: self.data.shape if dim is None else self.data.shape[dim]  # noqa: E731
    numel = lambda self: self.data.size  # noqa: E731
    T = property(lambda self: self.permute(*reversed(range(self.ndim))))

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self) -> float:
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype != np.float32:
            extra += f", dtype={self.data.dtype}"
        if self.node is not None:
            extra += f", op={self.node.op.name}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def zero_(self) -> "Tensor":
        """Fill with zeros in place (for gradients and parameters; bumps the version counter).

        Not recorded in the graph, so it is refused on a non-leaf while gradients are recorded
        (its graph would still send gradients through the overwritten values). A buffer that a
        live graph holds read-only is copied first, and that graph then refuses to backward.
        """
        if self.node is not None and STATE.grad_enabled:
            raise RuntimeError("zero_() is not recorded for autograd, so it cannot overwrite a "
                               "tensor computed by recorded ops: write y = y * 0 instead, or call "
                               "it under `with tc.no_grad():` if the graph should ignore it")
        if is_locked(self._data):
            self._data = self._data.copy()          # copy-on-write: the saved values stay intact
        self._data[...] = 0
        self._version += 1
        return self

    # --- arithmetic (numpy broadcasting; a Python number takes the tensor's dtype) --------------
    def _lift(self, other) -> "Tensor":
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (int, float, bool)) and np.issubdtype(self.data.dtype, np.floating):
            return Tensor(np.asarray(other, dtype=self.data.dtype))
        return Tensor(other)

    def _binary(self, op, x, y) -> "Tensor":
        try:
            return op(x, y)
        except ValueError:
            try:
                np.broadcast_shapes(x.shape, y.shape)
            except ValueError:
                raise ValueError(f"{op.name}: shapes {tuple(x.shape)} and {tuple(y.shape)} do not "
                                 f"broadcast: trailing dimensions must be equal or 1; reshape or "
                                 f"unsqueeze one operand") from None
            raise

    def __add__(self, other): return self._binary(ops.add, self, self._lift(other))
    def __radd__(self, other): return self._binary(ops.add, self._lift(other), self)
    def __sub__(self, other): return self._binary(ops.sub, self, self._lift(other))
    def __rsub__(self, other): return self._binary(ops.sub, self._lift(other), self)
    def __mul__(self, other): return self._binary(ops.mul, self, self._lift(other))
    def __rmul__(self, other): return self._binary(ops.mul, self._lift(other), self)
    def __truediv__(self, other): return self._binary(ops.div, self, self._lift(other))
    def __rtruediv__(self, other): return self._binary(ops.div, self._lift(other), self)
    def __neg__(self): return ops.neg(self)
    def __pos__(self): return self
    def __matmul__(self, other): return functional.matmul(self, self._lift(other))
    def __rmatmul__(self, other): return functional.matmul(self._lift(other), self)
    def __getitem__(self, index): return functional.getitem(self, index)

    def __pow__(self, exponent):
        if isinstance(exponent, (int, float)):
            return ops.power(self, exponent=exponent)
        return ops.exp(self._lift(exponent) * ops.log(self))          # x^y = e^(y ln x)

    def __rpow__(self, base):
        return ops.exp(self * ops.log(self._lift(base)))

    # comparisons give boolean tensors outside the graph (they have no useful derivative)
    def __eq__(self, other): return Tensor(self.data == np.asarray(other))
    def __ne__(self, other): return Tensor(self.data != np.asarray(other))
    def __lt__(self, other): return Tensor(self.data < np.asarray(other))
    def __le__(self, other): return Tensor(self.data <= np.asarray(other))
    def __gt__(self, other): return Tensor(self.data > np.asarray(other))
    def __ge__(self, other): return Tensor(self.data >= np.asarray(other))

    def pow(self, exponent): return self ** exponent
    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def sqrt(self): return ops.sqrt(self)
    def relu(self): return ops.relu(self)
    def tanh(self): return ops.tanh(self)
    def sigmoid(self): return ops.sigmoid(self)
    def abs(self): return ops.absolute(self)
    def matmul(self, other): return self @ other

    # --- reductions ----------------------------------------------------------------------------
    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return ops.sum_(self, **functional.reduce_args(self, axis, keepdims, dim, keepdim))

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return functional.mean(self, **functional.reduce_args(self, axis, keepdims, dim, keepdim))

    def max(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return ops.max_(self, **functional.reduce_args(self, axis, keepdims, dim, keepdim))

    def argmax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        args = functional.reduce_args(self, axis, keepdims, dim, keepdim)
        return Tensor(np.argmax(self.data, axis=args["axis"], keepdims=args["keepdims"]))

    # --- shapes --------------------------------------------------------------------------------
    def reshape(self, *shape): return functional.reshape(self, *shape)
    view = reshape
    def flatten(self, start_dim=0, end_dim=-1): return functional.flatten(self, start_dim, end_dim)
    def permute(self, *dims): return functional.permute(self, *dims)
    def transpose(self, dim0, dim1): return functional.transpose(self, dim0, dim1)
    def expand(self, *shape): return functional.expand(self, *shape)
    def flip(self, dims): return ops.flip(self, dims=functional.dims_arg(self, dims))
    def unsqueeze(self, dim): return functional.unsqueeze(self, dim)
    def squeeze(self, dim=None): return functional.squeeze(self, dim)
    def contiguous(self): return self

    # --- dtypes --------------------------------------------------------------------------------
    def to(self, dtype):
        dtype = np.dtype(dtype)
        return self if dtype == self.data.dtype else ops.cast(self, dtype=dtype)

    def float(self): return self.to(np.float32)
    def double(self): return self.to(np.float64)
    def long(self): return Tensor(self.data.astype(np.int64))


# what Python puts in any class body; __hash__ too, which it sets to None beside an __eq__
# (Tensor keeps object's hash: graph walks key tensors by identity)
_CLASS_ATTRIBUTES = {"__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__hash__"}
for _name, _method in vars(TensorMethods).items():
    if _name not in _CLASS_ATTRIBUTES:
        setattr(Tensor, _name, _method)
