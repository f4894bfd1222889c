"""pad as torch.nn.functional.pad: constant padding is the pad primitive; reflect, replicate
and circular are gathers (getitem with index arrays).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .. import ops
from ..autograd import Tensor
from .contract import tensor_arg


def _source_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each output position along one axis, the input position it copies (non-constant modes)."""
    if mode == "circular":                  # as PyTorch: crop negative sides first, then wrap
        start, kept = max(-before, 0), n - max(-before, 0) - max(-after, 0)
        return start + np.arange(-max(before, 0), kept + max(after, 0)) % kept
    i = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    i = np.abs(i)                                   # reflect about the first entry ...
    return np.where(i > n - 1, 2 * (n - 1) - i, i)  # ... and about the last


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last len(pad)//2 dimensions, as torch.nn.functional.pad.

    pad = (left, right, top, bottom, ...): pairs for the last dimension first. In 'constant' mode
    a negative width crops. 'reflect' mirrors without repeating the edge, 'replicate' repeats it,
    'circular' wraps around. Constant padding's gradient is the slice that undoes it; the other
    modes are gathers, whose gradient adds the copies back onto their source entries.
    """
    x = tensor_arg(input, "input")
    if not isinstance(pad, (list, tuple)) or not all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pad):
        raise TypeError(f"pad: pad must be a tuple of ints, got {pad!r}")
    if len(pad) % 2:
        raise ValueError(f"pad: pad must have an even number of entries (a before/after pair per "
                         f"dimension, last dimension first), got {len(pad)}: {tuple(pad)}")
    if len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: pad {tuple(pad)} pads {len(pad) // 2} dimensions but the input "
                         f"has only {x.ndim} (shape {tuple(x.shape)})")
    k = len(pad) // 2
    widths = tuple((int(pad[2 * j]), int(pad[2 * j + 1])) for j in reversed(range(k)))
    dims = x.shape[x.ndim - k:]
    if mode == "constant":
        for j, (n, (b, a)) in enumerate(zip(dims, widths)):
            if n - max(-b, 0) - max(-a, 0) < 0:       # negative widths crop first, then pad
                raise ValueError(f"pad: dimension {x.ndim - k + j} of size {n} cannot be cropped "
                                 f"by the negative padding in ({b}, {a}): removing "
                                 f"{max(-b, 0) + max(-a, 0)} entries leaves a negative size "
                                 f"{n - max(-b, 0) - max(-a, 0)}")
        return ops.pad(x, widths=widths, value=0.0 if value is None else float(value))
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    if value is not None and value != 0:
        raise ValueError(f"pad: mode '{mode}' does not take a value argument (got value={value})")
    if not (k + 1 <= x.ndim <= k + 2) or not 1 <= k <= 3:
        raise ValueError(f"pad: mode '{mode}' pads 1 to 3 dimensions (2, 4 or 6 pad entries) of "
                         f"an input with 1 or 2 more dimensions (batch and channels), got "
                         f"{len(pad)} entries for shape {tuple(x.shape)}")
    if mode != "circular" and x.dtype == np.bool_:
        raise TypeError(f"pad: mode '{mode}' does not support boolean input; convert it first, "
                        f"e.g. x.float() (or use mode='constant' or 'circular')")
    if mode != "circular" and 0 in x.shape[x.ndim - k - 1 if x.ndim == k + 2 else 0:]:
        raise ValueError(f"pad: mode '{mode}' needs non-empty dimensions (only a batch may be "
                         f"empty), got shape {tuple(x.shape)}")
    for j, (n, (b, a)) in enumerate(zip(dims, widths)):
        axis = x.ndim - k + j
        if mode == "reflect" and (b >= n or a >= n):
            raise ValueError(f"pad: reflect padding ({b}, {a}) must be smaller than the size {n} "
                             f"of dimension {axis} (input shape {tuple(x.shape)}); use 'replicate' "
                             f"or pad less")
        kept = n - max(-b, 0) - max(-a, 0)           # what is left after cropping
        if mode == "circular" and (b > n or a > n or (max(b, a) > kept and n + b + a > 0)):
            raise ValueError(f"pad: circular padding ({b}, {a}) of dimension {axis} (input shape "
                             f"{tuple(x.shape)}) would wrap around more than once: each side can "
                             f"copy at most the {kept} entries left after cropping")
        if n + b + a < 0:
            raise ValueError(f"pad: dimension {axis} of size {n} with padding ({b}, {a}) would "
                             f"have negative size {n + b + a}")
    sizes = [n + b + a for n, (b, a) in zip(dims, widths)]
    if mode != "circular" and max(sizes) < 1:       # as PyTorch: one padded size must be >= 1
        raise ValueError(f"pad: mode '{mode}' with padding {tuple(pad)} leaves nothing of input "
                         f"shape {tuple(x.shape)}: the padded sizes would be {tuple(sizes)}")
    for j, (n, (b, a)) in enumerate(zip(dims, widths)):
        lead = (slice(None),) * (x.ndim - k + j)
        x = ops.getitem(x, index=lead + (_source_index(n, b, a, mode),))
    return x
