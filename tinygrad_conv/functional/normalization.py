"""batch_norm: normalise per channel with the batch's statistics (training) or the running ones.
"""
from __future__ import annotations

from .. import ops
from ..autograd import Tensor
from .contract import tensor_arg
from .reduce import mean


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """y = (x - mean) / sqrt(var + eps) * weight + bias, per channel (axis 1).

    input: (N, C, ...); running_mean, running_var, weight, bias: (C,).
    training: mean and biased var over every axis but 1 of this batch, and (when given) the
    running stats move in place: r = (1 - momentum) r + momentum * batch stat, with the unbiased
    var (n/(n-1) times the biased one) for running_var. Otherwise the running stats normalise.
    """
    x = tensor_arg(input, "input")
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must be (N, C, ...) with channels on axis 1, got shape "
                         f"{tuple(x.shape)}")
    C = x.shape[1]
    # numpy running stats are wrapped without a copy, so the in-place update reaches them
    running_mean = None if running_mean is None else tensor_arg(running_mean, "running_mean")
    running_var = None if running_var is None else tensor_arg(running_var, "running_var")
    for name, value in (("running_mean", running_mean), ("running_var", running_var),
                        ("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != (C,):
            raise ValueError(f"batch_norm: {name} must have shape ({C},), one entry per channel of "
                             f"the input of shape {tuple(x.shape)}, got {tuple(value.shape)}")
    axes = (0,) + tuple(range(2, x.ndim))
    channel_shape = (1, C) + (1,) * (x.ndim - 2)
    if training:
        count = x.data.size // C
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                             f"got input of shape {tuple(x.shape)}; use a batch larger than 1 or "
                             f"call model.eval()")
        batch_mean = mean(x, axis=axes, keepdims=True)
        centred = x - batch_mean
        batch_var = mean(centred * centred, axis=axes, keepdims=True)
        if running_mean is not None:
            running_mean.data[...] = (momentum * batch_mean.data.reshape(C)
                                      + (1 - momentum) * running_mean.data)
            running_mean.mark_modified()
        if running_var is not None:
            unbiased = batch_var.data.reshape(C) * (count / (count - 1))
            running_var.data[...] = momentum * unbiased + (1 - momentum) * running_var.data
            running_var.mark_modified()
        y = centred / ops.sqrt(batch_var + eps)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var must be given when "
                             "training=False (evaluation normalises with them)")
        stats_mean = Tensor(running_mean.data.reshape(channel_shape).astype(x.dtype))
        stats_var = Tensor(running_var.data.reshape(channel_shape).astype(x.dtype))
        y = (x - stats_mean) / ops.sqrt(stats_var + eps)
    if weight is not None:
        y = y * ops.reshape(tensor_arg(weight, "weight"), shape=channel_shape)
    if bias is not None:
        y = y + ops.reshape(tensor_arg(bias, "bias"), shape=channel_shape)
    return y
