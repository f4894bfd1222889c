"""Optional compiled kernels for the loops NumPy cannot run fast: `pip install tinygrad_conv[fast]`.

The NumPy kernels (kernels.py, ops/) are the default and the reference. When numba is installed,
the kernels here replace a few of them where NumPy is bound by passes over memory (depthwise
convolution, the shifted adds after a conv's product, the dW of filters with few weights,
max-pool's routing). Each is tested against its NumPy twin: the shifted adds and the routing
give its sums to the bit, the other loops add the same products in another order.
Set TINYGRAD_CONV_COMPILED=0 to switch them off (the reference path), e.g. to compare the two.

ENABLED: whether compiled kernels are used in this process (numba importable and not switched off).
"""
from __future__ import annotations

import importlib.util
import os

import numpy as np

ENABLED = (os.environ.get("TINYGRAD_CONV_COMPILED", "1") != "0"
           and importlib.util.find_spec("numba") is not None)

FLOATS = ("float32", "float64")     # the dtypes the compiled loops are built for


def kernels_for(name: str, *dtypes):
    """The compiled module `name` ("conv", "pool") when compiled kernels are on and every dtype
    is float32 or float64 (one of them throughout), else None: the caller runs NumPy's twin.
    The module, and numba with it, is imported on first use only."""
    names = {np.dtype(d).name for d in dtypes}
    if not (ENABLED and len(names) == 1 and names <= set(FLOATS)):
        return None
    return importlib.import_module(f"{__name__}.{name}")
