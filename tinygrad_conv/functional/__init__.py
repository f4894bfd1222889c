"""The public functional API (as torch.nn.functional), and the composites behind Tensor methods.

Nothing here has a VJP of its own: every function checks and normalises its arguments with the
shared contract (`contract.py`, refusing before any work whatever PyTorch refuses), then calls
primitives from `ops`. One module per family: shape, reduce, linalg, activation, conv, pool, pad,
loss, dropout, normalization.
"""
from .activation import log_softmax, relu, sigmoid, softmax, tanh
from .contract import dims_arg, reduce_args
from .conv import conv2d
from .dropout import dropout
from .linalg import linear, matmul
from .loss import cross_entropy, mse_loss, nll_loss
from .normalization import batch_norm
from .pad import pad
from .pool import avg_pool2d, max_pool2d
from .reduce import mean
from .shape import cat, expand, flatten, getitem, permute, reshape, squeeze, stack, transpose, unsqueeze

__all__ = ["conv2d", "max_pool2d", "avg_pool2d", "pad", "relu", "tanh", "sigmoid", "linear",
           "matmul", "cat", "stack", "reshape", "flatten", "permute", "transpose", "expand",
           "unsqueeze", "squeeze", "getitem", "mean",
           "softmax", "log_softmax", "nll_loss", "cross_entropy", "mse_loss", "dropout", "batch_norm"]
