"""What explain takes from the rest of tinygrad_conv beyond viz/_imports.py, imported here and
nowhere else in viz/explain/: the engine's own helpers for the conv and pool VJPs, so every number
a panel shows is computed the way backward computes it."""
from ...autograd import vjp_of  # noqa: F401
from ...kernels import correlate2d, dilate2d, pad_nd, window_view  # noqa: F401
from ...nn import Module  # noqa: F401
from ...ops.conv import rot180_transposed  # noqa: F401
from ...ops.pool import tap_index  # noqa: F401
from .._imports import Tensor, _divisor, no_grad, remainder, toposort  # noqa: F401
