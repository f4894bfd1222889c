"""data: the embedded digits set and its fixed split, batching, and MNIST from local IDX/.npz files
(written by the tests themselves: nothing is downloaded)."""
import gzip
import struct

import numpy as np
import pytest

import tinygrad_conv as tc
from tinygrad_conv.data import (MNIST_FILES, MNIST_MEAN, MNIST_STD, DataLoader, TensorDataset,
                                load_digits, load_mnist, read_idx)

# ----------------------------------------------------------------------------------------------
# Digits


@pytest.fixture(scope="module")
def digits():
    pytest.importorskip("sklearn")
    return load_digits()


def test_digits_shapes_dtypes_and_normalisation(digits):
    x_train, y_train, x_test, y_test = digits
    assert x_train.shape == (1437, 1, 8, 8) and x_test.shape == (360, 1, 8, 8)
    assert x_train.dtype == x_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int64
    assert set(np.unique(y_train)) == set(np.unique(y_test)) == set(range(10))
    np.testing.assert_allclose([x_train.mean(), x_train.std()], [0, 1], atol=1e-5)
    raw = load_digits(normalize=False)
    assert raw.x_train.min() == 0 and raw.x_train.max() == 1
    # the same standardisation, with the training statistics, maps raw test images
    mean, std = raw.x_train.mean(), raw.x_train.std()
    np.testing.assert_allclose(x_test, (raw.x_test - mean) / std, rtol=1e-5, atol=1e-6)


def test_digits_split_is_fixed_and_ignores_the_framework_seed(digits):
    tc.manual_seed(123)
    again = load_digits()
    for a, b in zip(digits, again):
        np.testing.assert_array_equal(a, b)
    from sklearn.datasets import load_digits as sklearn_digits
    original = sklearn_digits()
    raw = load_digits(normalize=False)
    # the two parts together hold every (image, label) of the original set exactly once
    images = np.concatenate([raw.x_train, raw.x_test])[:, 0] * 16
    labels = np.concatenate([raw.y_train, raw.y_test])

    def rows(images, labels):
        return sorted(map(tuple, np.column_stack([images.reshape(len(images), -1), labels])))

    assert rows(images, labels) == rows(original.images, original.target)


# ----------------------------------------------------------------------------------------------
# Batching


def test_loader_batches_in_order_with_a_short_last_batch():
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    y = np.arange(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    xb, yb = batches[0]
    assert isinstance(xb, tc.Tensor) and xb.dtype == np.float32 and yb.dtype == np.int64
    np.testing.assert_array_equal(np.concatenate([b[1].data for b in batches]), y)
    dropped = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)
    assert len(dropped) == 2 and [len(b[1]) for b in dropped] == [4, 4]


def test_shuffle_is_a_new_permutation_each_epoch_and_repeatable_with_a_seed():
    data = TensorDataset(np.arange(50))
    loader = DataLoader(data, batch_size=8, shuffle=True, seed=3)
    epochs = [np.concatenate([b[0].data for b in loader]) for _ in range(2)]
    assert all(sorted(e) == list(range(50)) for e in epochs)
    assert not np.array_equal(epochs[0], epochs[1])
    again = DataLoader(data, batch_size=8, shuffle=True, seed=3)
    np.testing.assert_array_equal(np.concatenate([b[0].data for b in again]), epochs[0])


def test_shuffle_without_a_seed_follows_manual_seed():
    data = TensorDataset(np.arange(20))

    def one_epoch():
        return np.concatenate([b[0].data for b in DataLoader(data, batch_size=5, shuffle=True)])

    tc.manual_seed(9)
    first = one_epoch()
    tc.manual_seed(9)
    np.testing.assert_array_equal(one_epoch(), first)


def test_loader_collates_any_indexable_dataset():
    samples = [(np.full((2, 2), i, dtype=np.float32), i) for i in range(5)]
    xb, yb = next(iter(DataLoader(samples, batch_size=3)))
    assert xb.shape == (3, 2, 2) and yb.data.tolist() == [0, 1, 2]
    single = next(iter(DataLoader([np.ones(3), np.zeros(3)], batch_size=2)))
    assert isinstance(single, tc.Tensor) and single.shape == (2, 3)


def test_loader_and_dataset_errors():
    with pytest.raises(TypeError, match="TensorDataset"):
        DataLoader((np.zeros(3), np.zeros(3)))
    with pytest.raises(ValueError, match="positive integer"):
        DataLoader(TensorDataset(np.zeros(3)), batch_size=0)
    with pytest.raises(TypeError, match="len"):
        DataLoader(5)
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="at least one array"):
        TensorDataset()


# ----------------------------------------------------------------------------------------------
# MNIST from local files


def write_idx(path, array, compress=False):
    codes = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D}
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wb") as f:
            f.write(raw)
    else:
        path.write_bytes(raw)
    return path


def fake_mnist(n_train=6, n_test=4, side=28, seed=0):
    rng = np.random.default_rng(seed)
    return {"x_train": rng.integers(0, 256, (n_train, side, side), dtype=np.uint8),
            "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
            "x_test": rng.integers(0, 256, (n_test, side, side), dtype=np.uint8),
            "y_test": rng.integers(0, 10, n_test, dtype=np.uint8)}


def check_split(split, parts):
    assert split.x_train.shape == (6, 1, 28, 28) and split.x_test.shape == (4, 1, 28, 28)
    assert split.x_train.dtype == np.float32 and split.y_train.dtype == np.int64
    np.testing.assert_allclose(split.x_train[:, 0], (parts["x_train"] / 255 - MNIST_MEAN) / MNIST_STD,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(split.y_test, parts["y_test"])


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trip(tmp_path, compress):
    for array in (np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
                  np.array([1, -2, 70000], dtype=">i4"), np.linspace(0, 1, 6, dtype=">f4").reshape(3, 2)):
        path = write_idx(tmp_path / "a.idx", array, compress)
        back = read_idx(path)
        np.testing.assert_array_equal(back, array)
        assert back.dtype.isnative


def test_read_idx_refuses_other_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x12\x34\x08\x01")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "bad")
    path = write_idx(tmp_path / "short", np.zeros((4, 2), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(path)


@pytest.mark.parametrize("layout", ["plain", "gzip", "torchvision"])
def test_load_mnist_from_idx_files(tmp_path, layout):
    parts = fake_mnist()
    folder = tmp_path / "MNIST" / "raw" if layout == "torchvision" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    for key, stem in MNIST_FILES.items():
        write_idx(folder / stem, parts[key], compress=layout == "gzip")
    check_split(load_mnist(tmp_path), parts)


def test_load_mnist_from_npz(tmp_path):
    parts = fake_mnist()
    np.savez(tmp_path / "mnist.npz", **parts)
    check_split(load_mnist(tmp_path / "mnist.npz"), parts)
    raw = load_mnist(tmp_path / "mnist.npz", normalize=False)
    assert raw.x_train.max() <= 1 and raw.x_train.min() >= 0
    np.savez(tmp_path / "partial.npz", x_train=parts["x_train"])
    with pytest.raises(ValueError, match="lacks the array"):
        load_mnist(tmp_path / "partial.npz")


def test_load_mnist_never_downloads_and_says_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist.*never downloads"):
        load_mnist(tmp_path / "nowhere")
    write_idx(tmp_path / MNIST_FILES["x_train"], fake_mnist()["x_train"])
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        load_mnist(tmp_path)
    np.savez(tmp_path / "wrong.npz", x_train=np.zeros((2, 28, 28)), y_train=np.zeros(3),
             x_test=np.zeros((1, 28, 28)), y_test=np.zeros(1))
    with pytest.raises(ValueError, match="labels"):
        load_mnist(tmp_path / "wrong.npz")
