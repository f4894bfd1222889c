"""tc.save / tc.load: state dicts (name -> array) stored as a NumPy .npz file.

An .npz is a zip of .npy arrays: it keeps every array's dtype and shape exactly, the keys in
order, and can be opened with plain NumPy (np.load) anywhere, without this library.
"""
from __future__ import annotations

import os
import zipfile
import zlib
from collections import OrderedDict
from typing import Mapping

import numpy as np

from .autograd import Tensor


def _as_array(key, value) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (np.ndarray, np.generic, int, float, bool)):
        return np.asarray(value)
    raise TypeError(f"save: the value for key {key!r} is a {type(value).__name__}; only Tensors, "
                    f"numpy arrays and numbers can be saved (pass model.state_dict())")


def save(obj: Mapping, f) -> None:
    """Write a mapping of names to Tensors/arrays (a state dict) to `f`, a path or binary file.

    The file is written exactly where `f` says: no '.npz' suffix is added to a path.
    """
    if not isinstance(obj, Mapping):
        raise TypeError(f"save: expected a mapping of names to arrays such as model.state_dict(), "
                        f"got {type(obj).__name__}")
    arrays = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise TypeError(f"save: keys must be strings, got {key!r} ({type(key).__name__})")
        arrays[key] = _as_array(key, value)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as file:
            np.savez(file, **arrays)
    else:
        np.savez(f, **arrays)


def load(f) -> OrderedDict:
    """Read a file written by `save`: an OrderedDict of name -> Tensor, in the saved order.

    The result can be passed to Module.load_state_dict, or converted for torch with
    {k: torch.from_numpy(np.asarray(v)) for k, v in sd.items()}.
    """
    if isinstance(f, (str, os.PathLike)) and not os.path.exists(f):
        raise FileNotFoundError(f"load: no such file: {os.fspath(f)!r}; give the path a previous "
                                f"tc.save(state_dict, path) wrote to")
    try:
        archive = np.load(f, allow_pickle=False)
        if isinstance(archive, np.lib.npyio.NpzFile):
            with archive:                           # read everything now: damage shows up here
                return OrderedDict((key, Tensor(archive[key])) for key in archive.files)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as err:
        raise ValueError(f"load: {f!r} is not a readable checkpoint: it is truncated or corrupted, "
                         f"or was not written by tc.save ({type(err).__name__}: {err}); save the "
                         f"state dict again") from err
    raise ValueError(f"load: {f!r} holds a single .npy array, not a state dict saved by tc.save; "
                     f"read it with np.load instead")


__all__ = ["save", "load"]
