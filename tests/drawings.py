"""Models the rendering, player and browser tests draw."""
import numpy as np

import tinygrad_conv as tc
import tinygrad_conv.functional as F
from tinygrad_conv import Tensor, nn


def conv_block_loss() -> Tensor:
    """conv (W named, with a gradient) -> relu -> 2x2 max-pool -> sum: four VJP steps."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((1, 2, 6, 6)))
    w = Tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    w.name = "W"
    return F.max_pool2d(F.relu(F.conv2d(x, w, padding=1)), 2).sum()


def lenet_loss() -> tuple[Tensor, dict]:
    """LeNet-5 on one 28x28 image with its cross-entropy, the size of a lecture's model; and the
    model's parameters by name."""
    tc.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                          nn.Linear(84, 10))
    image = Tensor(np.random.default_rng(0).standard_normal((1, 1, 28, 28)).astype(np.float32))
    return F.cross_entropy(model(image), Tensor(np.array([3]))), dict(model.named_parameters())
