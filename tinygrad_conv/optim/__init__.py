"""Optimizers as in torch.optim: the Optimizer base (optimizer.py), SGD, Adam and AdamW,
RMSprop, Adadelta, Adagrad (one module each), and the learning-rate schedules (lr_scheduler).

This file only re-exports them.
"""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adadelta", "Adagrad", "lr_scheduler"]
