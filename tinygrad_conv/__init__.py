"""tinygrad_conv: a small, exact NumPy autograd framework for teaching backpropagation through CNNs."""
# Layers, bottom to top: kernels, dtypes -> autograd (the core) -> ops (the primitives) ->
# functional -> tensor (Tensor's methods) -> nn, optim, data, serialization -> viz (on first use).
from .autograd import (PRIMITIVES, Node, Primitive, Tensor, backward, detect_anomaly, enable_grad,
                       inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
                       primitive, set_grad_enabled, toposort)
from .autograd import GradcheckError, gradcheck
from . import ops, functional
from . import tensor as _tensor_methods  # noqa: F401  (adds Tensor's methods: the one back-edge)
from .functional import cat, stack
from . import data, nn, optim
from .random import manual_seed
from .serialization import load, save

import numpy as _np

float32, float64, int64 = _np.float32, _np.float64, _np.int64


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """Same as Tensor(data, requires_grad, dtype), the PyTorch spelling."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def zeros(*shape, dtype=_np.float32, requires_grad: bool = False) -> Tensor:
    shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    return Tensor(_np.zeros(shape, dtype=dtype), requires_grad=requires_grad)


def ones(*shape, dtype=_np.float32, requires_grad: bool = False) -> Tensor:
    shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    return Tensor(_np.ones(shape, dtype=dtype), requires_grad=requires_grad)


def __getattr__(name):
    if name == "viz":                              # drawing needs graphviz: import it on first use
        import importlib
        return importlib.import_module(".viz", __name__)
    raise AttributeError(f"module 'tinygrad_conv' has no attribute {name!r}")


__all__ = ["Tensor", "tensor", "zeros", "ones", "no_grad", "enable_grad", "set_grad_enabled",
           "is_grad_enabled", "inference_mode", "is_inference_mode_enabled", "detect_anomaly", "backward", "toposort", "primitive", "Primitive",
           "Node", "PRIMITIVES", "gradcheck", "GradcheckError", "cat", "stack", "functional",
           "ops", "float32", "float64", "int64", "nn", "optim", "data", "save", "load",
           "manual_seed"]
