"""Batching, as torch.utils.data: datasets (Dataset, TensorDataset, Subset, ConcatDataset,
random_split), samplers (the order indices are drawn in), default_collate (samples -> a batch
of Tensors) and DataLoader, which puts the three together.

`DataLoader(TensorDataset(x, y), batch_size, shuffle=True)` yields [x_batch, y_batch] Tensors.
Every random draw (shuffling, random_split, random samplers) comes from the framework's
generator (tc.manual_seed) unless a numpy Generator is passed as generator=. Loading always
runs in this process: num_workers is accepted and changes nothing. The data sets themselves
(digits, MNIST) are in tinygrad_conv.datasets.
"""
from __future__ import annotations

import bisect
import collections.abc
import copy
import itertools
import math
import warnings
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from .. import random
from ..autograd import Tensor


def _generator(generator) -> np.random.Generator:
    """The numpy Generator to draw from: `generator` (anything with numpy's Generator methods),
    or the framework's one (tc.manual_seed) when None."""
    if generator is None:
        return random.generator()
    if not (hasattr(generator, "permutation") and hasattr(generator, "integers")):
        raise TypeError(f"generator must be a numpy Generator (np.random.default_rng(seed)) or "
                        f"None for the framework's generator (tc.manual_seed), got "
                        f"{type(generator).__name__}")
    return generator


def _count(value, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} should be an integer >= {minimum}, got {name}={value!r}")
    return int(value)


# ----------------------------------------------------------------------------------------------
# Datasets


class Dataset:
    """Base class of map-style datasets: define __getitem__(i) (one sample) and __len__.
    dataset_a + dataset_b concatenates them."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples made of the i-th entry of each tensor: dataset[i] = (x[i], y[i]), as in PyTorch.

    tensors: Tensors or numpy arrays with the same first dimension (one entry per sample);
    kept as Tensors in .tensors (numpy arrays are wrapped without a copy).
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor, e.g. TensorDataset(x, y) "
                             "(at least one array)")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(np.asarray(t)) for t in tensors)
        sizes = [t.shape[0] if t.ndim else None for t in self.tensors]
        if None in sizes or len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: size mismatch between tensors: every tensor needs "
                             f"the same first dimension (one entry per sample), got shapes "
                             f"{[tuple(t.shape) for t in self.tensors]}")

    def __len__(self):
        return self.tensors[0].shape[0]

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def _gather(self, indices: np.ndarray) -> list:
        """The batch default_collate would make of these samples, by one gather per tensor."""
        return [Tensor(t.data[indices]) for t in self.tensors]


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order: subset[i] = dataset[indices[i]]."""

    def __init__(self, dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list) -> list:
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)

    def _gather(self, indices: np.ndarray):
        inner = getattr(self.dataset, "_gather", None)
        return None if inner is None else inner(np.asarray(self.indices)[indices])


class ConcatDataset(Dataset):
    """The samples of several datasets one after the other."""

    def __init__(self, datasets: Iterable):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def random_split(dataset, lengths: Sequence, generator=None) -> list[Subset]:
    """Split into non-overlapping random Subsets of the given lengths (counts summing to
    len(dataset), or fractions summing to 1: floor(n * f) each, the remainder handed out one by
    one from the first, as torch)."""
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(int(math.floor(n * fraction)))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty "
                              f"dataset.", UserWarning, stacklevel=2)
        lengths = counts
    if any(isinstance(k, float) and not float(k).is_integer() for k in lengths) or sum(lengths) != n:
        raise ValueError(f"Sum of input lengths {lengths} does not equal the length of the input "
                         f"dataset ({n}): give counts that add up to {n}, or fractions that add "
                         f"up to 1")
    order = _generator(generator).permutation(n).tolist()
    ends = itertools.accumulate(int(k) for k in lengths)
    return [Subset(dataset, order[end - int(k):end]) for end, k in zip(ends, lengths)]


# ----------------------------------------------------------------------------------------------
# Samplers: the order in which a DataLoader visits the indices


class Sampler:
    """Base class: iterate over dataset indices (and give their number with len)."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A new random permutation every epoch (or num_samples draws with replacement)."""

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={replacement!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = None if num_samples is None else _count(num_samples, "num_samples", 1)
        self.generator = generator if generator is None else _generator(generator)

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, rng = len(self.data_source), _generator(self.generator)
        if self.replacement:
            return iter(rng.integers(0, n, size=self.num_samples).tolist())
        rounds = -(-self.num_samples // n) if n else 0
        order = np.concatenate([rng.permutation(n) for _ in range(rounds)] or [np.arange(0)])
        return iter(order[:self.num_samples].tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a new random order every epoch."""

    def __init__(self, indices: Sequence[int], generator=None):
        self.indices = indices
        self.generator = generator if generator is None else _generator(generator)

    def __iter__(self):
        for i in _generator(self.generator).permutation(len(self.indices)):
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class BatchSampler(Sampler):
    """Group another sampler's indices into lists of batch_size (the last one shorter, unless
    drop_last)."""

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        self.sampler = sampler
        self.batch_size = _count(batch_size, "batch_size", 1)
        self.drop_last = bool(drop_last)

    def __iter__(self) -> Iterator[list[int]]:
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


# ----------------------------------------------------------------------------------------------
# Collation: a list of samples -> one batch


_COLLATE_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                  "lists; found {}")


def _stack(arrays: list, what: str) -> Tensor:
    try:
        return Tensor(np.stack(arrays))
    except ValueError:
        shapes = [tuple(np.shape(a)) for a in arrays]
        first = next(i for i, s in enumerate(shapes) if s != shapes[0])
        raise ValueError(f"default_collate: stack expects each {what} to be equal size, but got "
                         f"{list(shapes[0])} at entry 0 and {list(shapes[first])} at entry "
                         f"{first}; give every sample the same shape (or pass a collate_fn)") from None


def default_collate(batch: list):
    """Samples -> a batch, as torch's default_collate: Tensors and numpy arrays are stacked
    along a new first axis; Python floats become a float64 Tensor, ints (and bools) an int64
    (bool) one; strings stay as they come (a list, or a tuple inside samples); tuples and lists
    are collated position by position (a tuple gives a list, as torch), dicts key by key,
    namedtuples field by field."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([t.data for t in batch], "tensor")
    if isinstance(elem, (np.ndarray, np.generic)) and not isinstance(elem, (np.str_, np.bytes_)):
        if np.asarray(elem).dtype.kind in "OSUV":
            raise TypeError(_COLLATE_ERROR.format(np.asarray(elem).dtype))
        return _stack([np.asarray(a) for a in batch], "array")
    if isinstance(elem, float):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):                       # bool too: a bool Tensor
        return Tensor(np.array(batch, dtype=np.bool_ if isinstance(elem, bool) else np.int64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(collated)
            return clone
        return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):       # namedtuple
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(field) for field in zip(*batch)]       # strings stay a tuple, as torch
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def default_convert(data):
    """One sample as it is, with numpy arrays turned into Tensors (batch_size=None loaders)."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OSUV":
        return Tensor(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return Tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (tuple, list)):
        return [default_convert(d) for d in data]
    return data


# ----------------------------------------------------------------------------------------------
# DataLoader


class DataLoader:
    """Iterate over a dataset in batches: for x, y in DataLoader(TensorDataset(x, y), 32).

    Each batch is collate_fn(list of samples) (default_collate: stacked Tensors, a list per
    tuple sample). The indices come from `sampler` (default: in order, or RandomSampler when
    shuffle: a new permutation every epoch, i.e. every `for` loop), grouped by batch_size (the
    last batch shorter unless drop_last), or from `batch_sampler`. batch_size=None yields single
    samples. The random order is drawn from `generator` (a numpy Generator), from a generator
    started at `seed` (a tinygrad_conv extra), or from the framework's (tc.manual_seed).
    num_workers, pin_memory, timeout, ... are accepted: loading runs in this process.
    len() is the number of batches per epoch.
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0,
                 collate_fn: Callable[[list], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None,
                 persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True, seed: int | None = None):
        if isinstance(dataset, tuple):
            raise TypeError("DataLoader takes a dataset, not a tuple of arrays; wrap the arrays as "
                            "TensorDataset(x, y)")
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: dataset must support len() and indexing, got "
                            f"{type(dataset).__name__}")
        _count(num_workers, "num_workers")
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(
                batch_size, (int, np.integer)) or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size should be a positive integer value (or "
                             f"None), got batch_size={batch_size!r}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if seed is not None:
            if generator is not None:
                raise ValueError("DataLoader: give either generator= or seed=, not both")
            generator = np.random.default_rng(seed)
        self.dataset = dataset
        self.num_workers = num_workers
        self.generator = generator
        self.seed = seed
        self.drop_last = bool(drop_last)
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle \
                else SequentialSampler(dataset)
        self.sampler = sampler
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, int(batch_size), self.drop_last)
        self.batch_size = None if batch_size is None else int(batch_size)
        self.batch_sampler = batch_sampler
        self._default_collate = collate_fn is None
        self.collate_fn = collate_fn if collate_fn is not None else \
            (default_collate if self.batch_sampler is not None else default_convert)

    def __len__(self):
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def _fetch(self, indices: list):
        if self._default_collate and hasattr(self.dataset, "_gather"):
            batch = self.dataset._gather(np.asarray(indices, dtype=np.int64))
            if batch is not None:                  # one gather per tensor, the same batch
                return batch
        getitems = getattr(self.dataset, "__getitems__", None)
        samples = getitems(indices) if getitems else [self.dataset[i] for i in indices]
        return self.collate_fn(samples)

    def __iter__(self):
        if self.batch_sampler is None:
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
            return
        for indices in self.batch_sampler:
            yield self._fetch(list(indices))


__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "Sampler",
           "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler",
           "default_collate", "default_convert", "DataLoader"]
