"""Linear, the fully connected layer y = x W^T + b.

The product itself is F.linear; the default weight and bias draw is init._reset_weight_and_bias,
shared with Conv2d.
"""
from __future__ import annotations

from .. import functional as F
from .init import _reset_weight_and_bias
from ..functional.contract import positive_int
from .module import Module, Parameter, _empty


class Linear(Module):
    """y = x W^T + b.   x: (..., in_features) -> y: (..., out_features)

    weight: (out_features, in_features), bias: (out_features,), both U(-1/sqrt(in), 1/sqrt(in)).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None):
        super().__init__()
        self.in_features = positive_int(in_features, "in_features", "Linear")
        self.out_features = positive_int(out_features, "out_features", "Linear")
        self.weight = Parameter(_empty((self.out_features, self.in_features), dtype))
        if bias:
            self.bias = Parameter(_empty(self.out_features, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
