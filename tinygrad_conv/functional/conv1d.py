"""conv1d as torch.nn.functional.conv1d: conv2d over a height-1 image, by reshapes.
"""
from __future__ import annotations

from .. import ops
from ..autograd import Tensor
from .contract import int_arg, tensor_arg
from .conv import conv2d


def single_arg(value, name: str) -> int:
    """An int, or a 1-sequence of one (torch's _single): kernel_size=3 or (3,)."""
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError(f"{name} must be an int or a 1-tuple for a 1-D convolution, got "
                             f"{tuple(value)}")
        value = value[0]
    return int_arg(value, name)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """y[n,f,i] = sum_{c,a} pad(x)[n, c, i*stride + a*dilation] * w[f, c, a] + b[f]   (y = pad(x) ⋆ w + b)

    input: (N, C, L) or (C, L); weight: (F, C/groups, K); bias: (F,) -> (N, F, OL).
    Computed as conv2d of (N, C, 1, L) with (F, C/groups, 1, K): same values, same gradients.
    """
    x, w = tensor_arg(input, "input"), tensor_arg(weight, "weight")
    if x.ndim not in (2, 3):
        raise ValueError(f"conv1d: expected input of shape (N, C, L) or unbatched (C, L), got "
                         f"{x.ndim}-D input of shape {tuple(x.shape)}")
    if w.ndim != 3:
        raise ValueError(f"conv1d: weight must be 3-D (out_channels, in_channels/groups, kernel), "
                         f"got shape {tuple(w.shape)}")
    unbatched = x.ndim == 2
    if unbatched:
        x = ops.reshape(x, shape=(1,) + x.shape)
    groups = int_arg(groups, "groups")
    if groups > 0 and x.shape[1] != w.shape[1] * groups:
        raise ValueError(f"conv1d: weight of shape {tuple(w.shape)} with groups={groups} expects "
                         f"input with {w.shape[1] * groups} channels, but got input of shape "
                         f"{tuple(input.shape)} with {x.shape[1]} channels")
    if not isinstance(padding, str):
        padding = (0, single_arg(padding, "padding"))
    y = conv2d(ops.reshape(x, shape=x.shape[:2] + (1, x.shape[2])),
               ops.reshape(w, shape=w.shape[:2] + (1, w.shape[2])), bias,
               stride=(1, single_arg(stride, "stride")), padding=padding,
               dilation=(1, single_arg(dilation, "dilation")), groups=groups)
    y = ops.reshape(y, shape=y.shape[:2] + y.shape[3:])
    return ops.reshape(y, shape=y.shape[1:]) if unbatched else y
