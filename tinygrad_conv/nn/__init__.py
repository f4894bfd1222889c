"""Layers as in torch.nn: Module, Parameter, Conv2d, Linear, pooling, activations, BatchNorm2d, ..."""
from . import init
from .init import (calculate_gain, constant_, kaiming_normal_, kaiming_uniform_, normal_, ones_,
                   uniform_, xavier_uniform_, zeros_)
from .module import (AvgPool2d, BatchNorm2d, Conv2d, CrossEntropyLoss, Dropout, Flatten, Linear,
                     MaxPool2d, MSELoss, Module, NLLLoss, Parameter, ReLU, Sequential, Sigmoid,
                     Tanh)

__all__ = ["Parameter", "Module", "Sequential", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d",
           "ReLU", "Tanh", "Sigmoid", "Flatten", "Dropout", "BatchNorm2d", "CrossEntropyLoss",
           "NLLLoss", "MSELoss", "init", "calculate_gain", "uniform_", "normal_", "constant_",
           "zeros_", "ones_", "kaiming_uniform_", "kaiming_normal_", "xavier_uniform_"]
