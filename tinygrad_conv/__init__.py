"""tinygrad_conv: a small, exact NumPy autograd framework for teaching backpropagation through CNNs."""
# Layers, bottom to top: allocator, kernels, dtypes, device, random -> autograd (the core) -> ops (the
# primitives) -> functional -> inplace, interop, factories -> tensor (Tensor's methods) -> nn,
# optim, data, serialization -> viz (on first use).

from .allocator import keep_freed_memory
keep_freed_memory()         # before any array: freed memory stays for the next step (allocator.py)

from .autograd import (PRIMITIVES, Node, Primitive, Tensor, backward, detect_anomaly, enable_grad,
                       inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
                       primitive, set_grad_enabled, toposort)
from .autograd import GradcheckError, gradcheck
from . import ops, functional
from . import tensor as _tensor_methods  # noqa: F401  (adds Tensor's methods: the one back-edge)
from .device import accelerator, cuda, device, get_default_device, set_default_device
from .dtypes import (bool_, double, float16, float32, float64, get_default_dtype, half, int8,
                     int16, int32, int64, long, set_default_dtype, short, uint8)
from .factories import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like,
                        linspace, normal, ones, ones_like, rand, rand_like, randint, randn,
                        randn_like, randperm, tensor, zeros, zeros_like)
from .functional import (abs, allclose, amax, amin, argmax, argmin, bmm, cat, clamp, cos, div,
                         dot, eq, equal, exp, flatten, ge, gt, le, log, log_softmax, lt, matmul,
                         max, maximum, mean, min, minimum, mm, mul, ne, norm, pow, prod, relu,
                         sigmoid, sin, softmax, sqrt, stack, std, sub, sum, tanh, var, where)
from .functional import add, neg, remainder, floor_divide
from . import data, datasets, nn, optim, utils
from .random import manual_seed
from .serialization import load, save

clip = clamp
# PyTorch's names that shadow Python builtins inside this module only
float, int, bool = float32, int32, bool_



def __getattr__(name):
    if name == "viz":                              # drawing needs graphviz: import it on first use
        import importlib
        return importlib.import_module(".viz", __name__)
    raise AttributeError(f"module 'tinygrad_conv' has no attribute {name!r}")


__all__ = ["Tensor", "tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full",
           "eye", "arange", "linspace", "zeros_like", "ones_like", "empty_like", "full_like",
           "rand", "randn", "randint", "normal", "randperm", "rand_like", "randn_like",
           "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
           "is_inference_mode_enabled", "detect_anomaly",
           "backward", "toposort", "primitive", "Primitive", "Node", "PRIMITIVES", "gradcheck",
           "GradcheckError", "functional", "ops", "nn", "optim", "data", "datasets", "utils", "save", "load",
           "manual_seed", "device", "cuda", "accelerator", "set_default_device",
           "get_default_device", "get_default_dtype", "set_default_dtype",
           "float16", "half", "float32", "float", "float64", "double", "int8", "uint8", "int16",
           "short", "int32", "int", "int64", "long", "bool",
           "flatten", "max", "min", "amax", "amin", "argmax", "argmin", "sum", "mean", "std",
           "var", "prod", "norm", "matmul", "mm", "bmm", "dot", "exp", "log", "sin", "cos",
           "tanh", "sigmoid", "relu", "abs", "sqrt", "clamp", "clip", "where", "maximum",
           "minimum", "cat", "stack", "softmax", "log_softmax", "allclose", "equal", "add",
           "sub", "mul", "div", "pow", "neg", "remainder", "floor_divide", "eq", "ne", "lt",
           "le", "gt", "ge"]
