"""Data, as one module: the data sets (tinygrad_conv.datasets) and batching (tinygrad_conv.utils.data).

Only re-exports, so that `tc.data.load_digits` and `tc.data.DataLoader` keep working; the code is
in datasets.py and utils/data.py.
"""
from .datasets import (DIGITS_SPLIT_SEED, DIGITS_TEST_SIZE, MNIST_FILES, MNIST_MEAN,  # noqa: F401
                       MNIST_STD, Split, load_digits, load_mnist, read_idx)
from .utils.data import DataLoader, TensorDataset

# the same __all__ as before the split (the DIGITS_ constants were public but never in it)
__all__ = ["Split", "load_digits", "load_mnist", "read_idx", "TensorDataset", "DataLoader",
           "MNIST_MEAN", "MNIST_STD", "MNIST_FILES"]
