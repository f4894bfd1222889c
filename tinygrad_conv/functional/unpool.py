"""max_unpool2d as torch.nn.functional.max_unpool2d: put each pooled value back where
max_pool2d(return_indices=True) found it, zeros elsewhere. A composite over the unpool2d
primitive (ops/pool.py), a scatter to flat indices.
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..autograd import Tensor
from .contract import image_input, pair_arg, tensor_arg, unbatch


def unpool_output_size(input_size: tuple, kernel, stride, padding, output_size) -> tuple[int, int]:
    """The default (H - 1)*stride - 2*padding + kernel per axis, or the given output_size
    ((OH, OW), optionally after batch and channel sizes), which must lie strictly within one
    stride of the default (the sizes a max_pool2d could have come from)."""
    default = tuple((n - 1) * s - 2 * p + k for n, k, s, p in zip(input_size, kernel, stride, padding))
    if output_size is None:
        return default
    sizes = tuple(output_size)
    if len(sizes) in (3, 4):
        sizes = sizes[-2:]
    if len(sizes) != 2:
        raise ValueError(f"max_unpool2d: output_size should be (OH, OW), optionally after the batch "
                         f"and channel sizes, got {tuple(output_size)}")
    for axis, (size, d, s) in enumerate(zip(sizes, default, stride)):
        if not d - s < size < d + s:
            raise ValueError(f"max_unpool2d: invalid output_size {tuple(sizes)} (dim {axis} must "
                             f"be between {d - s} and {d + s}, exclusive)")
    return tuple(int(n) for n in sizes)


def _last_writes(index: np.ndarray) -> np.ndarray | None:
    """A 0/1 mask keeping, of the entries of each (n, c) plane that share an index, only the last
    in row-major order (the one a sequence of writes leaves); None when no index repeats."""
    N, C = index.shape[:2]
    flat = index.reshape(N * C, -1)
    key = (np.arange(N * C)[:, None] * (flat.max(initial=0) + 2) + flat + 1).ravel()   # -1 too
    order = np.argsort(key, kind="stable")
    last = np.ones(len(key), dtype=bool)
    last[:-1] = key[order][1:] != key[order][:-1]
    if last.all():
        return None
    keep = np.zeros(len(key), dtype=bool)
    keep[order[last]] = True
    return keep.reshape(index.shape)


def max_unpool2d(input: Tensor, indices, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """y[n, c, indices[n,c,i,j] // OW, indices[n,c,i,j] % OW] = x[n, c, i, j], y = 0 elsewhere.

    input: (N, C, H, W) or (C, H, W), the pooled values; indices: the same shape, int64, the
    flat positions h*OW + w that max_pool2d(..., return_indices=True) returned
    -> (N, C, OH, OW), OH = (H - 1)*stride - 2*padding + kernel_size unless output_size says.
    Where overlapping windows repeat an index the last write wins, as in torch, and only it gets
    a gradient (torch sends the gradient to every repeat). Index -1 (our max_pool2d's mark
    for a window of padding only) writes nothing.
    """
    x, unbatched = image_input(tensor_arg(input, "input"), "input", "max_unpool2d")
    index = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if index.dtype != np.int64:
        raise TypeError(f"max_unpool2d: indices must be int64 (as max_pool2d(..., "
                        f"return_indices=True) returns them), got dtype {index.dtype}")
    index = index[None] if unbatched and index.ndim == 3 else index
    if index.shape != x.shape:
        raise ValueError(f"max_unpool2d: expected indices of the input's shape {tuple(input.shape)}, "
                         f"got indices of shape {tuple(np.shape(indices))}")
    kernel = pair_arg(kernel_size, "kernel_size", minimum=1)
    stride = kernel if stride is None else pair_arg(stride, "stride", minimum=1)
    padding = pair_arg(padding, "padding", minimum=0)
    OH, OW = unpool_output_size(x.shape[2:], kernel, stride, padding, output_size)
    if index.size and (index.max() >= OH * OW or index.min() < -1):
        bad = index[(index >= OH * OW) | (index < -1)].flat[0]
        raise ValueError(f"max_unpool2d: found an invalid max index {bad} (output volumes are of "
                         f"size {OH}x{OW}); pass the indices of the max_pool2d with the same "
                         f"kernel_size, stride and padding, or its input size as output_size")
    keep = _last_writes(index)
    if keep is not None:
        x = x * Tensor(keep.astype(x.dtype))
    return unbatch(ops.unpool2d(x, Tensor(index), size=(OH, OW)), unbatched)
