"""dropout: a random mask drawn from the framework's generator, scaled by 1/(1 - p).
"""
from __future__ import annotations

import numpy as np

from .. import random
from ..autograd import Tensor
from .contract import probability, tensor_arg


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """y = x * m / (1 - p) with m_i ~ Bernoulli(1 - p) in training, y = x otherwise.

    Any shape. Scaling the kept entries by 1/(1-p) keeps E[y] = x, so evaluation needs no change.
    The mask is drawn from the framework's generator (tc.manual_seed makes it repeatable).
    """
    x = tensor_arg(input, "input")
    probability(p, "dropout")
    if not training or p == 0:
        return x
    if p == 1:
        return x * Tensor(np.zeros(x.shape, dtype=x.dtype))
    keep = random.generator().random(x.shape) >= p
    return x * Tensor((keep / (1 - p)).astype(x.dtype))
