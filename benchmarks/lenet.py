"""LeNet-5 (ReLU, max-pool) in either framework's nn, and our SGD step on it: the model of
run.py's training-step and memory rows and of page_faults.py."""
from __future__ import annotations

import numpy as np


def lenet5(framework):
    """(N, 1, 28, 28) -> (N, 10), built from framework.Conv2d, .Linear, ... (tinygrad_conv.nn or
    torch.nn)."""
    return framework.Sequential(
        framework.Conv2d(1, 6, 5, padding=2), framework.ReLU(), framework.MaxPool2d(2),
        framework.Conv2d(6, 16, 5), framework.ReLU(), framework.MaxPool2d(2), framework.Flatten(),
        framework.Linear(400, 120), framework.ReLU(), framework.Linear(120, 84), framework.ReLU(),
        framework.Linear(84, 10))


def sgd_step(x: np.ndarray, labels: np.ndarray):
    """(step, model): step() runs one training step of our LeNet-5 on the batch (x, labels):
    cross-entropy, backward, SGD with lr 0.01 and momentum 0.9. The model is seeded with 0."""
    import tinygrad_conv as tc
    from tinygrad_conv import functional as F
    from tinygrad_conv import nn
    X, Y = tc.Tensor(x), tc.Tensor(labels)
    tc.manual_seed(0)
    model = lenet5(nn)
    optimizer = tc.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        optimizer.zero_grad()
        F.cross_entropy(model(X), Y).backward()
        optimizer.step()
    return step, model
