"""Layers as in torch.nn: Module, Parameter, Conv2d, Linear, pooling, activations, BatchNorm2d, ...

One family per module: module (Module, Parameter, UninitializedParameter), lazy (the Lazy
layers' mechanism), init (the initialisers, also nn.init), conv, linear, pooling,
normalization, dropout, activation, loss, container (Sequential, ModuleList, ModuleDict),
flatten. This file only re-exports them.
"""
from . import init
from .activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .container import ModuleDict, ModuleList, Sequential
from .conv import Conv1d, Conv2d, ConvTranspose2d, LazyConv2d
from .dropout import Dropout
from .flatten import Flatten
from .init import (calculate_gain, constant_, kaiming_normal_, kaiming_uniform_, normal_, ones_,
                   uniform_, xavier_uniform_, zeros_)
from .lazy import LazyModuleMixin
from .linear import Identity, LazyLinear, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module, Parameter, UninitializedBuffer, UninitializedParameter
from .normalization import BatchNorm2d, LazyBatchNorm2d
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, MaxUnpool2d
from .. import functional
import sys as _sys

# `import tinygrad_conv.nn.functional as F`, the line torch code starts with, finds F
_sys.modules[__name__ + ".functional"] = functional

__all__ = ["Parameter", "UninitializedParameter", "UninitializedBuffer", "Module", "Sequential",
           "ModuleList", "ModuleDict", "Identity", "Linear", "LazyLinear", "Conv1d", "Conv2d",
           "ConvTranspose2d", "LazyConv2d", "LazyModuleMixin", "MaxPool2d", "AvgPool2d",
           "AdaptiveAvgPool2d", "MaxUnpool2d", "ReLU", "Tanh", "Sigmoid", "Softmax",
           "LogSoftmax", "Flatten", "Dropout", "BatchNorm2d", "LazyBatchNorm2d",
           "CrossEntropyLoss", "NLLLoss", "MSELoss", "BCELoss", "BCEWithLogitsLoss", "functional",
           "init", "calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_",
           "kaiming_uniform_", "kaiming_normal_", "xavier_uniform_"]
