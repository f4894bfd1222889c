"""Batching, as in torch.utils.data: TensorDataset (sample i = the i-th entry of each array) and
DataLoader (batches of Tensors, optionally shuffled each epoch).

`DataLoader(TensorDataset(x, y), batch_size, shuffle=True)` yields (x_batch, y_batch) Tensors.
The data sets themselves (digits, MNIST) are in tinygrad_conv.datasets.
"""
from __future__ import annotations

import numpy as np

from .. import random
from ..autograd import Tensor


class TensorDataset:
    """Samples made of the i-th entry of each array: dataset[i] = (x[i], y[i]), as in PyTorch."""

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset needs at least one array, e.g. TensorDataset(x, y)")
        self.arrays = tuple(a.data if isinstance(a, Tensor) else np.asarray(a) for a in arrays)
        sizes = [len(a) if a.ndim else None for a in self.arrays]
        if None in sizes or len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: every array needs the same first dimension (one entry "
                             f"per sample), got shapes {[a.shape for a in self.arrays]}")

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)


class DataLoader:
    """Iterate over a dataset in batches of Tensors: for x, y in DataLoader(TensorDataset(x, y), 32).

    shuffle draws a new order every epoch (every `for` loop): from its own generator started at
    `seed` when one is given, else from the framework's generator (tc.manual_seed). drop_last
    skips a last batch smaller than batch_size. len() is the number of batches per epoch.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None):
        if isinstance(dataset, tuple):
            raise TypeError("DataLoader takes a dataset, not a tuple of arrays; wrap the arrays as "
                            "TensorDataset(x, y)")
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: dataset must support len() and indexing, got "
                            f"{type(dataset).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size should be a positive integer, got "
                             f"batch_size={batch_size!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self._generator = None if seed is None else np.random.default_rng(seed)

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return (self._generator or random.generator()).permutation(n)

    def _collate(self, indices: np.ndarray) -> tuple:
        if isinstance(self.dataset, TensorDataset):
            fields = self.dataset[indices]               # one fancy-indexing gather per array
        else:
            samples = [self.dataset[int(i)] for i in indices]
            single = not isinstance(samples[0], (tuple, list))
            columns = [samples] if single else list(zip(*samples))
            fields = [np.stack([s.data if isinstance(s, Tensor) else np.asarray(s) for s in column])
                      for column in columns]
            if single:
                return Tensor(fields[0])
        return tuple(Tensor(field) for field in fields)

    def __iter__(self):
        order = self._order()
        for start in range(0, len(order), self.batch_size):
            indices = order[start:start + self.batch_size]
            if self.drop_last and len(indices) < self.batch_size:
                break
            yield self._collate(indices)


__all__ = ["TensorDataset", "DataLoader"]
