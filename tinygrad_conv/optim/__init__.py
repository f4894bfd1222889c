"""Optimizers as in torch.optim: the Optimizer base, SGD and Adam."""
from .optimizer import SGD, Adam, Optimizer

__all__ = ["Optimizer", "SGD", "Adam"]
