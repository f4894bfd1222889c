"""adaptive_avg_pool2d as torch.nn.functional: average pooling to a given output size, as an
exact composite (avg_pool2d when the windows tile the input, else two averaging matrices).
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..autograd import Tensor
from .contract import image_input, int_arg, tensor_arg, unbatch
from .linalg import matmul
from .pool import avg_pool2d


def adaptive_windows(size: int, out: int) -> list[tuple[int, int]]:
    """Output cell i averages input cells floor(i*size/out) .. ceil((i+1)*size/out) - 1 (torch's
    windows: they cover the input, neighbours may overlap by one, and out > size repeats cells)."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def averaging_matrix(size: int, out: int, dtype) -> np.ndarray:
    """P of shape (out, size), P[i, h] = 1 / |window i| on window i's cells, so (P x)_i is the
    mean of x over window i."""
    P = np.zeros((out, size), dtype=dtype)
    for i, (start, end) in enumerate(adaptive_windows(size, out)):
        P[i, start:end] = 1 / (end - start)
    return P


def _output_size(output_size, H: int, W: int) -> tuple[int, int]:
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(sizes) != 2:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair "
                         f"(OH, OW), got {tuple(sizes)}")
    sizes = tuple(n if size is None else int_arg(size, "output_size")
                  for size, n in zip(sizes, (H, W)))
    if min(sizes) < 0:
        raise ValueError(f"adaptive_avg_pool2d: elements of output_size must be greater than or "
                         f"equal to 0, got {output_size!r}")
    return sizes


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """y[n,c,i,j] = mean of x[n, c, window_i(H), window_j(W)], with torch's windows
    start = floor(i*H/OH), end = ceil((i+1)*H/OH) (see adaptive_windows).

    input: (N, C, H, W) or (C, H, W); output_size: OH, or (OH, OW), None keeping that input size
    -> (N, C, OH, OW). When OH divides H and OW divides W the windows tile the input and this is
    avg_pool2d with kernel = stride = (H/OH, W/OW) (nn.AdaptiveAvgPool2d(1): global average).
    Otherwise each window mean is separable, y = P_H x P_W^T with the averaging matrices
    P (averaging_matrix): two matmuls, exact, with exact gradients.
    """
    x, unbatched = image_input(tensor_arg(input, "input"), "input", "adaptive_avg_pool2d", ())
    N, C, H, W = x.shape
    if 0 in (C, H, W):
        raise ValueError(f"adaptive_avg_pool2d: expected an input with non-zero channels, height "
                         f"and width (only the batch may be empty), got shape {tuple(x.shape)}")
    OH, OW = _output_size(output_size, H, W)
    if OH == 0 or OW == 0:                   # an empty output, still connected to x
        empty = ops.getitem(x, index=(slice(None), slice(None), slice(0, OH), slice(0, OW)))
        return unbatch(empty, unbatched)
    if H % OH == 0 and W % OW == 0:
        return unbatch(avg_pool2d(x, (H // OH, W // OW)), unbatched)
    rows = Tensor(averaging_matrix(H, OH, x.dtype))
    cols = Tensor(averaging_matrix(W, OW, x.dtype).T.copy())
    return unbatch(matmul(rows, matmul(x, cols)), unbatched)
