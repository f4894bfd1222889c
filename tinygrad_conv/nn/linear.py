"""Linear, the fully connected layer y = x W^T + b; LazyLinear (in_features from the first
input); Identity (y = x).

The product itself is F.linear; the default weight and bias draw is init._reset_weight_and_bias,
shared with the convolutions.
"""
from __future__ import annotations

from .. import functional as F
from ..functional.contract import positive_int, tensor_arg
from .init import _reset_weight_and_bias
from .lazy import LazyModuleMixin
from .module import Module, Parameter, UninitializedParameter, _empty, cpu_device


class Identity(Module):
    """y = x: a placeholder layer (e.g. to replace a model's head); any arguments are ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b.   x: (..., in_features) -> y: (..., out_features)

    weight: (out_features, in_features), bias: (out_features,), both U(-1/sqrt(in), 1/sqrt(in)).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__()
        cpu_device(device, type(self).__name__)
        lazy = isinstance(self, LazyModuleMixin)       # LazyLinear: in_features from the input
        self.in_features = 0 if lazy else positive_int(in_features, "in_features", "Linear")
        self.out_features = positive_int(out_features, "out_features", type(self).__name__)
        self.weight = UninitializedParameter(dtype=_empty(0, dtype).dtype) if lazy else \
            Parameter(_empty((self.out_features, self.in_features), dtype))
        if bias:
            self.bias = UninitializedParameter(dtype=self.weight.dtype) if lazy else \
                Parameter(_empty(self.out_features, dtype))
        else:
            self.register_parameter("bias", None)
        if not lazy:
            self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class LazyLinear(LazyModuleMixin, Linear):
    """Linear whose in_features is inferred from the first input (its last dimension), as
    torch.nn.LazyLinear; the first call materializes weight and bias with Linear's default init
    and turns the module into a Linear."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__(None, out_features, bias, device, dtype)

    def _infer_sizes(self, input) -> None:
        x = tensor_arg(input, "input")
        if x.ndim == 0:
            raise ValueError("LazyLinear: expected an input with at least one dimension (the "
                             "features), got a 0-D tensor")
        self.in_features = x.shape[-1]

    def _parameter_shapes(self) -> dict:
        return {"weight": (self.out_features, self.in_features), "bias": (self.out_features,)}

    def _sizes_from_parameters(self) -> None:
        self.in_features = self.weight.shape[1]
