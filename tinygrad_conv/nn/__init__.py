"""Layers as in torch.nn: Module, Parameter, Conv2d, Linear, pooling, activations, BatchNorm2d, ..."""
from .module import (AvgPool2d, BatchNorm2d, Conv2d, CrossEntropyLoss, Dropout, Flatten, Linear,
                     MaxPool2d, MSELoss, Module, NLLLoss, Parameter, ReLU, Sequential, Sigmoid,
                     Tanh, calculate_gain, constant_, init, kaiming_normal_, kaiming_uniform_,
                     normal_, ones_, uniform_, xavier_uniform_, zeros_)
from .module import __all__
