"""The public functional API (as torch.nn.functional), and the composites behind Tensor methods
and the torch-style top-level functions (tc.max, tc.where, ...).

Nothing here has a VJP of its own: every function checks and normalises its arguments with the
shared contract (`contract.py`, refusing before any work whatever PyTorch refuses), then calls
primitives from `ops`. One module per family: elementwise, shape, reduce, linalg, activation,
conv, pool, pad, loss, dropout, normalization.
"""
from .activation import log_softmax, relu, sigmoid, softmax, tanh
from .contract import dims_arg, reduction_axes
from .conv import conv2d
from .dropout import dropout
from .elementwise import (abs, add, allclose, clamp, cos, div, eq, equal, exp, floor_divide, ge,
                          gt, le, log, lt, maximum, minimum, mul, ne, neg, pow, remainder, sin,
                          sqrt, sub, where)
from .linalg import bmm, dot, linear, matmul, mm
from .loss import cross_entropy, mse_loss, nll_loss
from .normalization import batch_norm
from .pad import pad
from .pool import avg_pool2d, max_pool2d
from .reduce import amax, amin, argmax, argmin, max, mean, min, norm, prod, std, sum, var
from .shape import cat, expand, flatten, getitem, permute, reshape, squeeze, stack, transpose, unsqueeze
from .conv_transpose import conv_transpose2d
from .conv1d import conv1d
from .adaptive import adaptive_avg_pool2d
from .unpool import max_unpool2d
from .bce import binary_cross_entropy, binary_cross_entropy_with_logits

__all__ = ["conv2d", "max_pool2d", "avg_pool2d", "pad", "relu", "tanh", "sigmoid", "linear",
           "matmul", "mm", "bmm", "dot", "cat", "stack", "reshape", "flatten", "permute",
           "transpose", "expand", "unsqueeze", "squeeze", "getitem", "sum", "mean", "var", "std",
           "prod", "amax", "amin", "max", "min", "argmax", "argmin", "norm", "add", "sub", "mul",
           "div", "pow", "neg", "exp", "log", "sqrt", "sin", "cos", "abs", "clamp", "where",
           "maximum", "minimum", "floor_divide", "remainder", "eq", "ne", "lt", "le", "gt", "ge",
           "allclose", "equal", "softmax", "log_softmax", "nll_loss", "cross_entropy", "mse_loss",
           "dropout", "batch_norm",
           "conv_transpose2d", "conv1d", "adaptive_avg_pool2d", "max_unpool2d",
           "binary_cross_entropy", "binary_cross_entropy_with_logits"]
