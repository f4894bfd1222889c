"""Keep freed array memory in the process, so that the next array of a training step does not
fault its pages in again.

A training step allocates and frees the same arrays every time (activations, gradients, the
im2col slabs). glibc's malloc gives an array over its mmap threshold (128 KB at start) pages of
its own and returns them to the kernel when it is freed, and it trims the top of its heap once
more than its trim threshold lies free there. Either way the next step's arrays touch fresh pages,
and every 4 KB page costs a page fault: measured, 1,080 faults per LeNet-5 step (batch 64), which
made the step 15-30% slower than without them.

glibc raises both thresholds by itself, but only after an array that large has been freed (to its
size, and twice its size), and never past 32 MB. `keep_freed_memory` starts there: arrays of up
to 32 MB come from the heap, and the heap keeps up to 64 MB of freed memory for the next ones.
The process then holds on to what a step frees, at most 64 MB beyond what it uses; peak array
memory does not change. Only on glibc (Linux), once, when the package is imported; set
TINYGRAD_CONV_KEEP_MEMORY=0 to leave malloc as it was.
"""
from __future__ import annotations

import ctypes
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3     # mallopt's parameters, from glibc's malloc.h
MMAP_THRESHOLD = 32 << 20                       # glibc's own ceiling for it on 64-bit systems
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD             # what glibc pairs with that threshold

KEPT = False                                    # whether keep_freed_memory took effect


def keep_freed_memory() -> bool:
    """Set glibc's mmap threshold to 32 MB and its trim threshold to 64 MB (see the module's
    docstring). Returns whether both took effect: False on another C library, or when
    TINYGRAD_CONV_KEEP_MEMORY=0."""
    global KEPT
    if os.environ.get("TINYGRAD_CONV_KEEP_MEMORY", "1") == "0":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt       # glibc's; musl and macOS have none
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    KEPT = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD,
                                                                            TRIM_THRESHOLD))
    return KEPT
