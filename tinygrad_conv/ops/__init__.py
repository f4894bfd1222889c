"""The primitives. Importing a module registers its primitives; this import list is the registry."""
from . import shape, reduce, elementwise, conv, pool  # noqa: F401
from .shape import (reshape, permute, expand, getitem, setitem, scatter_add, flip, cat, pad,
                    dilate2d, sum_to)
from .reduce import sum_, max_, prod, prod_others
from .elementwise import (add, sub, mul, div, neg, power, pow, exp, log, sin, cos, sqrt, tanh,
                          sigmoid, relu, absolute, where, cast, matmul)
from .conv import conv2d, conv2d_input_grad
from .pool import max_pool2d, route2d, unpool2d, avg_pool2d, spread2d

__all__ = ["reshape", "permute", "expand", "getitem", "setitem", "scatter_add", "flip", "cat",
           "pad", "dilate2d", "sum_to", "sum_", "max_", "prod", "prod_others", "add", "sub",
           "mul", "div", "neg", "power", "pow", "exp", "log", "sin", "cos", "sqrt", "tanh",
           "sigmoid", "relu", "absolute", "where", "cast", "matmul", "conv2d",
           "conv2d_input_grad", "max_pool2d", "route2d", "unpool2d", "avg_pool2d", "spread2d"]
