"""The op chain both run.py and op_chain_checkouts.py time: y = y * c + s, forward and backward.

Any framework whose tensors have `*`, `+`, `.backward(dy)` and `.grad` runs it (ours and
PyTorch's), so the two are timed by the same loop.
"""
from __future__ import annotations

import gc
import time


def time_chain(x, c, s, dy, length: int, repeats: int) -> tuple[list, list]:
    """Seconds per op of the forward and of the backward of a `length`-op chain from x, one
    entry per timed run; a first, untimed run warms up. The collector runs before each run."""
    forward, backward = [], []
    for repeat in range(repeats + 1):
        gc.collect()
        start = time.perf_counter()
        y = x
        for _ in range(length // 2):
            y = y * c + s
        middle = time.perf_counter()
        y.backward(dy)
        end = time.perf_counter()
        x.grad = None
        del y
        if repeat:
            forward.append((middle - start) / length)
            backward.append((end - middle) / length)
    return forward, backward
