"""dtype rules: which numpy dtype a tensor made from Python data gets.

Here: the float dtypes and `to_array`. Not here: the casts of a live graph (the `cast` primitive).
"""
from __future__ import annotations

from typing import Any

import numpy as np

FLOAT_DTYPES = (np.float16, np.float32, np.float64)
DEFAULT_DTYPE = np.float32


def to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """The ndarray for `data`: Python scalars and lists become float32, ndarrays keep their dtype.

    A Tensor passes its array (anything with `_data`: this module sits below Tensor).
    """
    data = getattr(data, "_data", data)
    if isinstance(data, np.ndarray):
        return data if dtype is None or data.dtype == dtype else data.astype(dtype)
    if isinstance(data, np.generic):
        return np.asarray(data, dtype=dtype)
    array = np.asarray(data)
    if dtype is None and array.dtype.kind in "biuf" and not isinstance(data, bool):
        dtype = DEFAULT_DTYPE       # PyTorch's default dtype for Python numbers and lists
    return array.astype(dtype) if dtype is not None else array
