"""Layers as in torch.nn: Module, Parameter, Conv2d, Linear, pooling, activations, BatchNorm2d, ...

One family per module: module (Module, Parameter), init (the initialisers, also nn.init), conv,
linear, pooling, normalization, dropout, activation, loss, container (Sequential), flatten.
This file only re-exports them.
"""
from . import init
from .activation import ReLU, Sigmoid, Tanh
from .container import Sequential
from .conv import Conv2d
from .dropout import Dropout
from .flatten import Flatten
from .init import (calculate_gain, constant_, kaiming_normal_, kaiming_uniform_, normal_, ones_,
                   uniform_, xavier_uniform_, zeros_)
from .linear import Linear
from .loss import CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module, Parameter
from .normalization import BatchNorm2d
from .pooling import AvgPool2d, MaxPool2d

__all__ = ["Parameter", "Module", "Sequential", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d",
           "ReLU", "Tanh", "Sigmoid", "Flatten", "Dropout", "BatchNorm2d", "CrossEntropyLoss",
           "NLLLoss", "MSELoss", "init", "calculate_gain", "uniform_", "normal_", "constant_",
           "zeros_", "ones_", "kaiming_uniform_", "kaiming_normal_", "xavier_uniform_"]
