"""Parameter, a Tensor a Module trains, and the uninitialized parameters and buffers of Lazy
layers (their shape is known only at the first forward). Not here: Module (module.py)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Tensor


class Parameter(Tensor):
    """A Tensor that a Module registers as trainable when assigned to one of its attributes.

    Same data (no copy) as the array or Tensor it is made from; requires_grad=True by default.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True):
        super().__init__(np.zeros(0, dtype=np.float32) if data is None else data)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


_UNINITIALIZED = ("Attempted to use an uninitialized parameter in {what}. This error happens when "
                  "you are using a `LazyModule` (such as nn.LazyLinear or nn.LazyConv2d) before "
                  "its first forward: call the model once on a dummy batch, e.g. net(X), to "
                  "initialize the parameters before using them")


class _Uninitialized:
    """A tensor whose shape is not known yet: a Lazy layer's parameter or buffer before its first
    forward (torch's UninitializedParameter / UninitializedBuffer).

    It is already a member of the module (parameters() lists it, an optimizer may hold it), and
    `materialize(shape)` turns this very object into an ordinary one of `cls_to_become`, so
    whatever holds it keeps working. Until then its shape, and anything computed from it, is
    refused (as torch). .data is an empty array of the dtype it will have.
    """

    __slots__ = ()
    cls_to_become = Tensor

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This "
                           "error usually happens in `load_state_dict` when trying to load an "
                           "uninitialized parameter into an initialized one. Call `forward` to "
                           "initialize the parameters before accessing their attributes.")

    ndim = shape

    def refuse(self, what: str):
        raise ValueError(_UNINITIALIZED.format(what=what))

    def numel(self):
        self.refuse("numel()")

    def __array__(self, dtype=None, copy=None):
        self.refuse("a numpy conversion")

    def materialize(self, shape: tuple, dtype=None) -> None:
        """Become an ordinary tensor of `shape` (zeros; the layer then draws its init)."""
        dtype = self._data.dtype if dtype is None else dtype
        self._data = np.zeros(tuple(shape), dtype=dtype)
        self._version += 1
        self.__class__ = self.cls_to_become

    def __repr__(self):
        return f"<{type(self).__name__}>"


class UninitializedParameter(_Uninitialized, Parameter):
    """A Parameter of a Lazy layer before its first forward (see _Uninitialized)."""

    __slots__ = ()
    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, dtype=None):
        Parameter.__init__(self, np.zeros(0, dtype=np.float32 if dtype is None else dtype),
                           requires_grad)


class UninitializedBuffer(_Uninitialized, Tensor):
    """A buffer (running statistics) of a Lazy layer before its first forward."""

    __slots__ = ()
    cls_to_become = Tensor

    def __init__(self, dtype=None):
        Tensor.__init__(self, np.zeros(0, dtype=np.float32 if dtype is None else dtype))


def is_lazy(tensor) -> bool:
    return isinstance(tensor, _Uninitialized)
