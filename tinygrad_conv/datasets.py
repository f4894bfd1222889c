"""Data sets: the handwritten digits that ship with scikit-learn, and MNIST from local files.

Nothing here downloads. `load_digits()` reads the 1,797 8x8 digit images embedded in
scikit-learn; `load_mnist(path)` reads MNIST files the user already has (`read_idx` reads one
IDX file). Both return a `Split` of float32 images (N, 1, H, W), normalised to mean 0 and
standard deviation 1 over the training images, and int64 labels: plain arrays, not Tensors.
Batching them is tc.utils.data's (TensorDataset, DataLoader).
"""
from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np


class Split(NamedTuple):
    """A data set split once and for all: training images and labels, test images and labels."""
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


DIGITS_TEST_SIZE = 360          # 20% of 1,797, held out
DIGITS_SPLIT_SEED = 0           # the split is part of the data set: it never follows tc.manual_seed


def _standardise(x_train: np.ndarray, x_test: np.ndarray, mean: float, std: float) -> tuple:
    """(x - mean) / std for both parts, with the statistics of the training images only."""
    return ((x_train - mean) / std).astype(np.float32), ((x_test - mean) / std).astype(np.float32)


def load_digits(normalize: bool = True) -> Split:
    """The 1,797 handwritten digits of scikit-learn (8x8, 16 grey levels), split 1,437 / 360.

    -> Split with x: float32 (N, 1, 8, 8), y: int64 (N,) in 0..9. The pixels are scaled to [0, 1]
    and, with normalize, standardised by the training images' mean and standard deviation. The
    test images are a fixed random 360 (seed 0), the same on every machine and every run.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise ImportError("load_digits reads the digits that ship inside scikit-learn; install it "
                          "with: pip install 'tinygrad_conv[examples]' (or pip install "
                          "scikit-learn)") from None
    digits = sklearn_digits()
    images = (digits.images.astype(np.float32) / 16)[:, None]       # 16 grey levels -> [0, 1]
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(DIGITS_SPLIT_SEED).permutation(len(labels))
    test, train = np.sort(order[:DIGITS_TEST_SIZE]), np.sort(order[DIGITS_TEST_SIZE:])
    x_train, x_test = images[train], images[test]
    if normalize:
        x_train, x_test = _standardise(x_train, x_test, x_train.mean(), x_train.std())
    return Split(x_train, labels[train], x_test, labels[test])


# ----------------------------------------------------------------------------------------------
# MNIST from local files

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081      # of MNIST's 60,000 training images scaled to [0, 1]
MNIST_FILES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
               "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}

# IDX type codes (third byte of the magic number) -> big-endian numpy dtypes
_IDX_DTYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
               0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def _read_exactly(file, count: int) -> bytes:
    """The next `count` bytes of `file`, read in chunks, so a header that declares more than the
    file holds costs no more memory than the data really there."""
    chunks, left = [], count
    while left:
        chunk = file.read(min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_idx(path) -> np.ndarray:
    """Read one IDX file (MNIST's format; gzip-compressed if the name ends in .gz).

    Layout: two zero bytes, a type code, the number of dimensions D, then D big-endian uint32
    sizes, then the values in row-major order. -> an array of those sizes, in native byte order.
    The header is checked first, and the data read up to the size it declares: a file holding
    more or less data than declared is refused (a small .gz cannot make it allocate more than
    the header asks for, nor more than it really holds).
    """
    path = Path(path)
    with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as file:
        try:
            magic = file.read(4)
            if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_DTYPES:
                raise ValueError(f"read_idx: {str(path)!r} is not an IDX file: it must start with "
                                 f"two zero bytes and a type code in {sorted(_IDX_DTYPES)}, got "
                                 f"{list(magic)}")
            dtype, ndim = _IDX_DTYPES[magic[2]], magic[3]
            sizes_raw = file.read(4 * ndim)
            if len(sizes_raw) != 4 * ndim:
                raise ValueError(f"read_idx: {str(path)!r} ends inside its header ({ndim} sizes "
                                 f"declared); the file is truncated")
            sizes = struct.unpack(f">{ndim}I", sizes_raw)
            expected = math.prod(sizes) * dtype.itemsize
            if path.suffix != ".gz" and path.stat().st_size - 4 - 4 * ndim != expected:
                raise ValueError(f"read_idx: {str(path)!r} declares shape {sizes} "
                                 f"({expected} bytes of data) but holds "
                                 f"{path.stat().st_size - 4 - 4 * ndim}; the file is truncated "
                                 f"or corrupt")
            raw = _read_exactly(file, expected)
            extra = file.read(1)
        except (OSError, EOFError, zlib.error) as err:         # gzip's errors (BadGzipFile, ...)
            raise ValueError(f"read_idx: {str(path)!r} is not a readable IDX file: the gzip data "
                             f"is truncated or corrupt ({type(err).__name__}: {err})") from None
    if len(raw) != expected or extra:
        held = f"{len(raw)} bytes" if not extra else f"more than {expected} bytes"
        raise ValueError(f"read_idx: {str(path)!r} declares shape {sizes} "
                         f"({math.prod(sizes)} values of {dtype.itemsize} bytes) but holds "
                         f"{held} of data; the file is truncated or corrupt")
    return np.frombuffer(raw, dtype=dtype).reshape(sizes).astype(dtype.newbyteorder("="))


def _find_idx(folder: Path, stem: str) -> Path | None:
    """MNIST's files as distributed (name, name.gz) or in torchvision's MNIST/raw/ folder."""
    for where in (folder, folder / "MNIST" / "raw"):
        for name in (stem, stem + ".gz"):
            if (where / name).is_file():
                return where / name
    return None


def load_mnist(path, normalize: bool = True) -> Split:
    """MNIST from files the user already has; never downloads.

    path: a folder holding the four IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte,
    t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each possibly .gz), or an .npz file with
    arrays x_train, y_train, x_test, y_test (images (N, 28, 28) uint8, labels (N,)).
    -> Split with x: float32 (N, 1, 28, 28), y: int64. Pixels are scaled to [0, 1] and, with
    normalize, standardised with MNIST's usual training statistics (0.1307, 0.3081).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"load_mnist: path {str(path)!r} does not exist. Pass a folder holding the four MNIST "
            f"IDX files ({', '.join(MNIST_FILES.values())}, optionally .gz) or an .npz file with "
            f"x_train, y_train, x_test, y_test; this library never downloads data.")
    if path.is_file():
        with np.load(path, allow_pickle=False) as archive:
            absent = [key for key in MNIST_FILES if key not in archive.files]
            if absent:
                raise ValueError(f"load_mnist: {str(path)!r} lacks the array(s) {absent}; an MNIST "
                                 f".npz holds x_train, y_train, x_test, y_test (it has "
                                 f"{archive.files})")
            parts = {key: archive[key] for key in MNIST_FILES}
    else:
        found = {key: _find_idx(path, stem) for key, stem in MNIST_FILES.items()}
        absent = [MNIST_FILES[key] for key, file in found.items() if file is None]
        if absent:
            raise FileNotFoundError(f"load_mnist: the folder {str(path)!r} lacks {absent} "
                                    f"(looked for the names with and without .gz, also in "
                                    f"MNIST/raw/); this library never downloads data")
        parts = {key: read_idx(file) for key, file in found.items()}
    for part in ("train", "test"):
        images, labels = parts[f"x_{part}"], parts[f"y_{part}"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"load_mnist: expected {part} images (N, H, W) and labels (N,), got "
                             f"shapes {images.shape} and {labels.shape}")
    scale = 255.0 if parts["x_train"].dtype == np.uint8 else 1.0
    x_train = (parts["x_train"].astype(np.float32) / scale)[:, None]
    x_test = (parts["x_test"].astype(np.float32) / scale)[:, None]
    if normalize:
        x_train, x_test = _standardise(x_train, x_test, MNIST_MEAN, MNIST_STD)
    return Split(x_train, parts["y_train"].astype(np.int64), x_test, parts["y_test"].astype(np.int64))


__all__ = ["Split", "load_digits", "load_mnist", "read_idx", "MNIST_MEAN", "MNIST_STD", "MNIST_FILES",
           "DIGITS_TEST_SIZE", "DIGITS_SPLIT_SEED"]
