"""tc.utils.data as torch.utils.data: datasets, samplers, default_collate, DataLoader's arguments,
random_split; torch-free tests of the rules, then the same structures against torch."""
import collections
import warnings

import numpy as np
import pytest

import tinygrad_conv as tc
from tinygrad_conv.utils import data
from tinygrad_conv.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset,
                                      RandomSampler, SequentialSampler, Subset,
                                      SubsetRandomSampler, TensorDataset, default_collate,
                                      random_split)


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.full((2,), i, dtype=np.float32), i * i


def epoch(loader):
    return [np.asarray(batch[0].data if isinstance(batch, (list, tuple)) else batch.data).tolist()
            for batch in loader]


# ----------------------------------------------------------------------------------------------
# Datasets


def test_dataset_base_concatenation_and_subset():
    with pytest.raises(NotImplementedError, match="should implement __getitem__"):
        Dataset()[0]
    both = Squares(3) + Squares(2)
    assert isinstance(both, ConcatDataset) and len(both) == 5
    assert both[3][1] == 0 and both[-1][1] == 1 and both.cumulative_sizes == [3, 5]
    with pytest.raises(ValueError, match="should not exceed"):
        both[-6]
    sub = Subset(Squares(10), [9, 2, 5])
    assert len(sub) == 3 and sub[0][1] == 81 and [s[1] for s in sub[[1, 2]]] == [4, 25]


def test_tensor_dataset_holds_tensors_and_gives_tuples_of_tensors():
    x, y = np.arange(12, dtype=np.float32).reshape(6, 2), np.arange(6)
    ds = TensorDataset(x, tc.Tensor(y))
    assert all(isinstance(t, tc.Tensor) for t in ds.tensors) and ds.tensors[0].data is x
    sample = ds[4]
    assert isinstance(sample, tuple) and sample[0].data.tolist() == [8.0, 9.0] and sample[1].item() == 4
    with pytest.raises(ValueError, match="size mismatch between tensors"):
        TensorDataset(np.zeros(3), np.zeros(4))


# ----------------------------------------------------------------------------------------------
# Collation


def test_default_collate_follows_torchs_rules():
    Point = collections.namedtuple("Point", "x y")
    batch = default_collate([(np.ones(2, dtype=np.float32), 1, 0.5, "a", True, {"k": np.int64(3)},
                              Point(1, 2.0))] * 3)
    assert isinstance(batch, list) and len(batch) == 7
    assert batch[0].shape == (3, 2) and batch[0].dtype == np.float32
    assert batch[1].dtype == np.int64 and batch[2].dtype == np.float64 and batch[4].dtype == np.bool_
    assert batch[3] == ("a", "a", "a")
    assert set(batch[5]) == {"k"} and batch[5]["k"].data.tolist() == [3, 3, 3]
    assert isinstance(batch[6], Point) and batch[6].y.dtype == np.float64
    assert default_collate([[1, 2], [3, 4]])[1].data.tolist() == [2, 4]   # a list per position
    stacked = default_collate([tc.Tensor(np.ones((2, 2))), tc.Tensor(np.zeros((2, 2)))])
    assert isinstance(stacked, tc.Tensor) and stacked.shape == (2, 2, 2)
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(ValueError, match=r"equal size, but got \[2\] at entry 0 and \[3\] at entry 1"):
        default_collate([np.ones(2), np.ones(3)])
    with pytest.raises(TypeError, match="batch must contain tensors, numpy arrays, numbers"):
        default_collate([object(), object()])


# ----------------------------------------------------------------------------------------------
# DataLoader


def test_loader_yields_lists_of_stacked_tensors():
    x, y = np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and all(isinstance(b, list) for b in batches)
    assert [b[1].data.tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    generic = list(DataLoader(Subset(Squares(10), list(range(10))), batch_size=4))
    assert [b[1].data.tolist() for b in generic][0] == [0, 1, 4, 9]
    assert generic[0][0].dtype == np.float32 and generic[0][1].dtype == np.int64
    # a Subset of a TensorDataset gathers columns at once, with the same result as sample by sample
    sub = Subset(TensorDataset(x, y), [7, 1, 3])
    fast = next(iter(DataLoader(sub, batch_size=3)))
    slow = next(iter(DataLoader(sub, batch_size=3, collate_fn=default_collate)))
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a.data, b.data)
    single = list(DataLoader(TensorDataset(x, y), batch_size=None))
    assert len(single) == 10 and single[3][1].item() == 3


def test_samplers_and_loader_arguments():
    ds = Squares(10)
    assert list(SequentialSampler(ds)) == list(range(10))
    assert sorted(RandomSampler(ds)) == list(range(10))
    drawn = list(RandomSampler(ds, replacement=True, num_samples=25, generator=np.random.default_rng(0)))
    assert len(drawn) == 25 and set(drawn) <= set(range(10))
    assert len(list(RandomSampler(ds, num_samples=23))) == 23
    assert sorted(SubsetRandomSampler([3, 5, 7])) == [3, 5, 7]
    batches = BatchSampler(SequentialSampler(ds), 4, drop_last=True)
    assert list(batches) == [[0, 1, 2, 3], [4, 5, 6, 7]] and len(batches) == 2
    loader = DataLoader(ds, sampler=SubsetRandomSampler([1, 2]), batch_size=2)
    assert sorted(next(iter(loader))[1].data.tolist()) == [1, 4]
    assert len(DataLoader(ds, batch_sampler=batches)) == 2
    custom = DataLoader(ds, batch_size=3, collate_fn=lambda samples: len(samples))
    assert list(custom) == [3, 3, 3, 1]
    assert len(list(DataLoader(ds, batch_size=4, num_workers=2, pin_memory=True,
                               persistent_workers=True))) == 3      # in this process
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_sampler=batches, batch_size=4)
    with pytest.raises(ValueError, match="mutually exclusive with drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(TypeError, match="numpy Generator"):
        DataLoader(ds, shuffle=True, generator=42)


def test_shuffling_draws_from_the_given_or_the_framework_generator():
    ds = TensorDataset(np.arange(30))
    a = epoch(DataLoader(ds, batch_size=30, shuffle=True, generator=np.random.default_rng(5)))
    b = epoch(DataLoader(ds, batch_size=30, shuffle=True, generator=np.random.default_rng(5)))
    assert a == b and sorted(a[0]) == list(range(30)) and a[0] != list(range(30))
    tc.manual_seed(4)
    first = epoch(DataLoader(ds, batch_size=30, shuffle=True))
    tc.manual_seed(4)
    assert epoch(DataLoader(ds, batch_size=30, shuffle=True)) == first
    loader = DataLoader(ds, batch_size=30, shuffle=True, generator=np.random.default_rng(1))
    assert epoch(loader) != epoch(loader)                        # a new order every epoch


def test_random_split_takes_counts_or_fractions():
    parts = random_split(Squares(10), [0.33, 0.33, 0.34], generator=np.random.default_rng(0))
    assert [len(p) for p in parts] == [4, 3, 3]                  # floor, then the remainder from the first
    assert sorted(i for p in parts for i in p.indices) == list(range(10))
    again = random_split(Squares(10), [0.33, 0.33, 0.34], generator=np.random.default_rng(0))
    assert [p.indices for p in parts] == [p.indices for p in again]
    assert [len(p) for p in random_split(Squares(10), [7, 3])] == [7, 3]
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(Squares(2), [0.9, 0.1])
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(Squares(10), [5, 4])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        random_split(Squares(10), [1.5, -0.5])


# ----------------------------------------------------------------------------------------------
# Against torch


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def structure(value):
    """(type name, dtype, shape) of a collated batch, recursively, in a library-neutral form."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return ("tensor", str(value.dtype).replace("torch.", ""), tuple(value.shape))
    if isinstance(value, dict):
        return {k: structure(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return (type(value).__name__ if not hasattr(value, "_fields") else "namedtuple",
                [structure(v) for v in value])
    return (type(value).__name__, value)


@pytest.mark.torch
def test_default_collate_gives_torchs_structure(torch):
    from torch.utils.data import default_collate as torch_collate
    Point = collections.namedtuple("Point", "x y")
    samples = [[(np.ones((2, 3), dtype=np.float32), 1, 0.5, "s", False)] * 4,
               [{"image": np.zeros(5, dtype=np.float64), "label": np.int64(2)}] * 3,
               [Point(1.5, np.ones(2, dtype=np.int32))] * 2, [[1, 2, 3]] * 2, [np.float32(2.0)] * 3]
    for batch in samples:
        assert structure(default_collate(batch)) == structure(torch_collate(batch)), batch


@pytest.mark.torch
def test_lengths_and_splits_match_torch(torch):
    for n, batch, drop in [(10, 3, False), (10, 3, True), (8, 4, False), (1, 5, True), (0, 2, False)]:
        ours = DataLoader(TensorDataset(np.zeros((n, 1))), batch_size=batch, drop_last=drop)
        theirs = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(n, 1)),
                                             batch_size=batch, drop_last=drop)
        assert len(ours) == len(theirs) == len(list(ours))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n, lengths in [(10, [0.33, 0.33, 0.34]), (7, [0.5, 0.5]), (101, [0.8, 0.1, 0.1]),
                           (3, [0.1, 0.9]), (10, [3, 7])]:
            ours = [len(p) for p in random_split(Squares(n), lengths)]
            theirs = [len(p) for p in torch.utils.data.random_split(range(n), lengths)]
            assert ours == theirs, (n, lengths)
    assert data.__all__ and all(hasattr(torch.utils.data, name) for name in data.__all__)
