"""Optimizers as in torch.optim: the Optimizer base (optimizer.py), SGD (sgd.py), Adam (adam.py).

This file only re-exports them.
"""
from .adam import Adam
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam"]
