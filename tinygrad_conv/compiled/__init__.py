"""Optional compiled kernels for the loops NumPy cannot run fast: `pip install tinygrad_conv[fast]`.

The NumPy kernels (kernels.py, ops/) are the default and the reference. When numba is installed,
the kernels here replace a few of them where NumPy is bound by passes over memory (depthwise
convolution, max-pool's routing); each computes exactly the same sums in the same order of taps
and is tested against its NumPy twin. Set TINYGRAD_CONV_COMPILED=0 to switch them off (the
reference path), e.g. to compare the two.

ENABLED: whether compiled kernels are used in this process (numba importable and not switched off).
"""
from __future__ import annotations

import importlib.util
import os

ENABLED = (os.environ.get("TINYGRAD_CONV_COMPILED", "1") != "0"
           and importlib.util.find_spec("numba") is not None)
