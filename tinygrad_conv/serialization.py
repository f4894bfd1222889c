"""tc.save / tc.load: checkpoints (state dicts, or nested dicts and lists of them with numbers
and strings: epoch, loss, model and optimizer state) as a NumPy .npz file, never a pickle.

The file is a zip (an .npz) of
    tinygrad_conv.json   the structure: dicts, lists, tuples, numbers, strings, and for every
                         array a reference to its member
    0.npy, 1.npy, ...    the arrays, each a plain .npy file (exact dtype, shape and values)
and a zip comment holding the SHA-256 of everything before it, so that any change to the file
(a flipped byte, a truncation) is reported instead of loaded. np.load opens it anywhere, and
nothing in it can run code when read. `load` also reads a plain .npz of arrays (np.savez, or
this library's earlier format) as a name -> Tensor dict, and refuses, naming the conversion,
the pickle-based files torch.save writes.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import os
import zipfile
from collections import OrderedDict
from typing import Any

import numpy as np

from .autograd import Tensor
from .nn.module import cpu_device, is_lazy

FORMAT = "tinygrad_conv checkpoint"
VERSION = 1
STRUCTURE = "tinygrad_conv.json"
MARKER = b"tinygrad_conv sha256:"
TRAILER = len(MARKER) + 64                        # the zip comment: marker + hex digest
_DATE = (1980, 1, 1, 0, 0, 0)                     # fixed member dates: equal data, equal file
_ARRAY_KINDS = "biufc"


# ----------------------------------------------------------------------------------------------
# Writing


class _Encoder:
    """Python values -> JSON-able structure, collecting the arrays (shared ones once)."""

    def __init__(self):
        self.arrays: list[np.ndarray] = []
        self.members: dict[int, int] = {}          # id(Tensor or array) -> member number
        self.keep_alive: list = []                # so that ids stay unique while encoding
        self.open: set[int] = set()               # containers being encoded (cycle check)

    def array(self, tag: str, obj, array: np.ndarray, where: str, **extra) -> dict:
        if array.dtype.kind not in _ARRAY_KINDS:
            raise TypeError(f"save: the array at {where} has dtype {array.dtype}; only numeric "
                            f"and boolean arrays can be saved")
        if id(obj) not in self.members:
            self.members[id(obj)] = len(self.arrays)
            self.arrays.append(array)
            self.keep_alive.append(obj)
        return {tag: self.members[id(obj)], **extra}

    def value(self, obj, where: str):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"float": repr(obj)}
        if isinstance(obj, Tensor):
            if is_lazy(obj):
                raise ValueError(f"save: the value at {where} is an uninitialized parameter (a "
                                 f"Lazy layer that has not run forward yet); call the model once "
                                 f"on a dummy batch before saving")
            extra = {"requires_grad": True} if obj.requires_grad else {}
            return self.array("tensor", obj, obj.data, where, **extra)
        if isinstance(obj, np.ndarray):
            return self.array("ndarray", obj, obj, where)
        if isinstance(obj, np.generic):
            return self.array("scalar", obj, np.asarray(obj), where)
        if _is_torch_tensor(obj):                 # converting a torch checkpoint: exact, via numpy
            return self.array("tensor", obj, np.asarray(obj.detach().cpu().numpy()), where)
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in self.open:
                raise ValueError(f"save: the value at {where} contains itself; only trees of "
                                 f"dicts, lists and tuples can be saved")
            self.open.add(id(obj))
            try:
                return self.container(obj, where)
            finally:
                self.open.discard(id(obj))
        if callable(getattr(obj, "state_dict", None)):
            module = hasattr(obj, "parameters")
            raise TypeError(f"save: the value at {where} is a whole "
                            f"{'nn.Module' if module else 'object'} ({type(obj).__name__}), which "
                            f"is code, not data; save its state_dict() instead, e.g. "
                            + ("tc.save(model.state_dict(), path), and later build the same model "
                               "class and call model.load_state_dict(tc.load(path))" if module else
                               "{'optimizer_state_dict': optimizer.state_dict(), ...}, restored "
                               "with optimizer.load_state_dict(...)"))
        raise TypeError(f"save: the value at {where} is a {type(obj).__name__}; only Tensors, "
                        f"numpy arrays, numbers, strings, None and dicts/lists/tuples of them can "
                        f"be saved (pass model.state_dict())")

    def container(self, obj, where: str):
        if isinstance(obj, dict):
            items = []
            for key, value in obj.items():
                if not (key is None or isinstance(key, (str, int, float, tuple))):
                    raise TypeError(f"save: the dict at {where} has a key {key!r} of type "
                                    f"{type(key).__name__}; keys must be strings, numbers, None "
                                    f"or tuples of them")
                items.append([self.value(key, f"{where} (a key)"), self.value(value, f"{where}[{key!r}]")])
            return {"odict" if isinstance(obj, OrderedDict) else "dict": items}
        encoded = [self.value(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        return {"tuple": encoded} if isinstance(obj, tuple) else encoded


def _is_torch_tensor(obj) -> bool:
    return type(obj).__module__.startswith("torch") and callable(getattr(obj, "numpy", None)) \
        and callable(getattr(obj, "detach", None))


def _archive_bytes(structure, arrays: list[np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        text = json.dumps({"format": FORMAT, "version": VERSION, "object": structure},
                          allow_nan=False, ensure_ascii=False)
        archive.writestr(zipfile.ZipInfo(STRUCTURE, _DATE), text.encode("utf-8"))
        for i, array in enumerate(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{i}.npy", _DATE), member.getvalue())
        archive.comment = MARKER + b"0" * 64
    data = buffer.getvalue()[:-64]
    return data + hashlib.sha256(data).hexdigest().encode("ascii")


def save(obj: Any, f, pickle_module=None, pickle_protocol=None,
         _use_new_zipfile_serialization=True) -> None:
    """Write `obj` (a state dict, or a checkpoint: dicts/lists/tuples of Tensors, numpy arrays,
    numbers, strings, None) to `f`, a path or a binary file, as torch.save does.

    The file is written exactly where `f` says (no suffix is added). Dict keys may be any
    strings (also '/', 'file', 'a.npy'), numbers, None or tuples; Tensors shared between entries
    are stored once and come back shared. A whole Module or Optimizer is refused: save its
    state_dict(). torch tensors are converted with .numpy() (to convert torch checkpoints).
    The pickle arguments are accepted for torch code and ignored: nothing is pickled.
    """
    encoder = _Encoder()
    data = _archive_bytes(encoder.value(obj, "the top level"), encoder.arrays)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as file:
            file.write(data)
    elif callable(getattr(f, "write", None)):
        f.write(data)
    else:
        raise TypeError(f"save: f must be a path or a binary file opened for writing, got "
                        f"{type(f).__name__}")


# ----------------------------------------------------------------------------------------------
# Reading


class _Refused(ValueError):
    """Raised inside load; load adds the file's name."""


def _read_bytes(f) -> tuple[bytes, str | None]:
    """The file's bytes, and its path (None for a file object)."""
    if isinstance(f, (str, os.PathLike)):
        if not os.path.exists(f):
            raise FileNotFoundError(f"load: no such file: {os.fspath(f)!r}; give the path a "
                                    f"previous tc.save(state_dict, path) wrote to")
        with open(f, "rb") as file:
            return file.read(), os.fspath(f)
    if not callable(getattr(f, "read", None)):
        raise TypeError(f"load: f must be a path or a binary file opened for reading, got "
                        f"{type(f).__name__}")
    data = f.read()
    if not isinstance(data, bytes):
        raise TypeError("load: the file must be opened in binary mode ('rb')")
    return data, None


def _torch_message(source: str | None, what: str) -> str:
    path = source or "model.pt"
    target = os.path.splitext(path)[0] + ".npz"
    return (f"{what}; tinygrad_conv never unpickles files (unpickling can run arbitrary code). "
            f"Convert it once where torch is installed; tc.save turns the torch tensors into "
            f"numpy arrays, for state dicts and whole checkpoints alike:\n"
            f"    python -c \"import torch, tinygrad_conv as tc; "
            f"tc.save(torch.load({path!r}, map_location='cpu'), {target!r})\"\n"
            f"then tc.load({target!r}) here")


def _checked_member(archive: zipfile.ZipFile, name: str, size: int) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise _Refused(f"the member {name!r} it refers to is missing") from None
    if info.compress_type != zipfile.ZIP_STORED:
        raise _Refused(f"the member {name!r} is compressed (np.savez_compressed?); tc.load reads "
                       f"uncompressed archives only: read it with np.load")
    if info.file_size > size or info.compress_size != info.file_size:
        raise _Refused(f"the member {name!r} declares {info.file_size} bytes, more than the file "
                       f"holds")
    return archive.read(name)


def _read_array(archive: zipfile.ZipFile, name: str, size: int) -> np.ndarray:
    """One .npy member, its header checked against its real size before any allocation."""
    raw = _checked_member(archive, name, size)
    header = io.BytesIO(raw)
    version = np.lib.format.read_magic(header)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(header)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(header)
    else:
        raise _Refused(f"the member {name!r} is a .npy file of version {version}, not 1.0 or 2.0")
    if dtype.hasobject or dtype.kind not in _ARRAY_KINDS or dtype.fields is not None:
        raise _Refused(f"the member {name!r} holds dtype {dtype}, not a numeric array")
    count = math.prod(shape)
    held = len(raw) - header.tell()
    if count * dtype.itemsize != held:
        raise _Refused(f"the member {name!r} declares shape {shape} of {dtype} "
                       f"({count * dtype.itemsize} bytes) but holds {held} bytes of data")
    array = np.frombuffer(raw, dtype=dtype, count=count, offset=header.tell())
    return array.reshape(shape, order="F" if fortran else "C").copy()


class _Decoder:
    """The JSON structure -> Python values, every array read and checked once."""

    def __init__(self, archive: zipfile.ZipFile, size: int):
        self.archive, self.size = archive, size
        self.loaded: dict[int, Any] = {}

    def member(self, index, tag: str, extra: dict):
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise _Refused(f"the structure refers to array {index!r}, not a member number")
        if index not in self.loaded:
            array = _read_array(self.archive, f"{index}.npy", self.size)
            if tag == "tensor":
                self.loaded[index] = Tensor(array, requires_grad=extra.get("requires_grad") is True)
            else:
                self.loaded[index] = array if tag == "ndarray" else array[()]
        return self.loaded[index]

    def value(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.value(v) for v in node]
        if not isinstance(node, dict) or not node:
            raise _Refused(f"the structure holds {node!r}, which no tc.save writes")
        tag = next(iter(node))
        body = node[tag]
        if tag in ("tensor", "ndarray", "scalar") and set(node) <= {tag, "requires_grad"}:
            return self.member(body, tag, node)
        if len(node) != 1:
            raise _Refused(f"the structure holds an entry with keys {sorted(node)}")
        if tag == "float" and body in ("nan", "inf", "-inf"):
            return float(body)
        if tag == "tuple" and isinstance(body, list):
            return tuple(self.value(v) for v in body)
        if tag in ("dict", "odict") and isinstance(body, list):
            result = OrderedDict() if tag == "odict" else {}
            for pair in body:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise _Refused("the structure holds a dict entry that is not a (key, value) pair")
                key = self.value(pair[0])
                if not (key is None or isinstance(key, (bool, int, float, str, tuple))) \
                        or key in result:
                    raise _Refused(f"the structure holds the dict key {key!r} twice, or as a key "
                                   f"that cannot be one")
                result[key] = self.value(pair[1])
            return result
        raise _Refused(f"the structure holds an entry tagged {tag!r}, which no tc.save writes")


def _load_ours(archive: zipfile.ZipFile, size: int):
    try:
        header = json.loads(_checked_member(archive, STRUCTURE, size).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _Refused(f"its structure record is not valid JSON ({err})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT or "object" not in header:
        raise _Refused("its structure record is not a tinygrad_conv checkpoint's")
    if header.get("version") != VERSION:
        raise _Refused(f"it has format version {header.get('version')!r}; this tinygrad_conv reads "
                       f"version {VERSION} (a newer tinygrad_conv wrote it?)")
    decoder = _Decoder(archive, size)
    result = decoder.value(header["object"])
    arrays = {f"{i}.npy" for i in decoder.loaded}
    extra = [name for name in archive.namelist() if name != STRUCTURE and name not in arrays]
    if extra:
        raise _Refused(f"it holds members the structure does not mention: {extra[:5]}")
    return result


def _load_plain_npz(archive: zipfile.ZipFile, size: int) -> OrderedDict:
    """An .npz of arrays only (np.savez, or tc.save before version 1): name -> Tensor."""
    result = OrderedDict()
    for name in archive.namelist():
        result[name[:-len(".npy")]] = Tensor(_read_array(archive, name, size))
    return result


def _decode(data: bytes, source: str | None):
    if not data:
        raise _Refused("it is truncated or corrupted: the file is empty")
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise _Refused(_torch_message(source, "it is a Python pickle, the legacy format of "
                                            "torch.save (_use_new_zipfile_serialization=False)"))
    if data[:6] == b"\x93NUMPY":
        raise _Refused("it holds a single .npy array, not a state dict saved by tc.save; read it "
                       "with np.load instead")
    ours = len(data) >= TRAILER and data[-TRAILER:-64] == MARKER
    if ours and hashlib.sha256(data[:-64]).hexdigest().encode("ascii") != data[-64:]:
        raise _Refused("it is truncated or corrupted: its SHA-256 checksum does not match its "
                       "contents (save it again)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as err:
        raise _Refused(f"it is truncated or corrupted, or not a checkpoint at all: not a readable "
                       f"zip archive ({err})") from None
    with archive:
        names = archive.namelist()
        if any(n == "data.pkl" or n.endswith("/data.pkl") or n.endswith(".pkl") for n in names):
            raise _Refused(_torch_message(source, "it was written by torch.save (a zip of pickled "
                                                "Python objects, archive/data.pkl)"))
        if STRUCTURE in names:
            if not ours:
                raise _Refused("it is truncated or corrupted: the checksum tc.save writes at its "
                               "end is missing or damaged (save it again)")
            return _load_ours(archive, len(data))
        if names and all(n.endswith(".npy") for n in names) and len(set(names)) == len(names):
            return _load_plain_npz(archive, len(data))
        raise _Refused(f"it is a zip archive that tc.save did not write (members "
                       f"{names[:5]}{'...' if len(names) > 5 else ''})")


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Read a file written by `save`: the saved object, with Tensors for the saved Tensors (and
    numpy arrays for numpy arrays), dicts and OrderedDicts (a state_dict) in their saved order.

    Any damage to the file gives one ValueError; so does a file in another format (a torch.save
    pickle: the message says how to convert it). map_location may be None, 'cpu' (or a cpu
    device), or a function / dict, accepted for torch code: everything loads onto the CPU.
    weights_only and the pickle arguments are accepted and mean nothing here: nothing is
    unpickled, ever. The result of a state dict can be passed to Module.load_state_dict, or
    converted for torch with {k: torch.from_numpy(np.asarray(v)) for k, v in sd.items()}.
    """
    if map_location is not None and not callable(map_location):
        for device in (map_location.values() if isinstance(map_location, dict) else [map_location]):
            cpu_device(device, "load(map_location=...)")
    data, source = _read_bytes(f)
    name = "the file" if source is None else repr(source)
    try:
        return _decode(data, source)
    except _Refused as err:
        raise ValueError(f"load: {name} is not a readable checkpoint: {err}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, KeyError, TypeError,
            ValueError, NotImplementedError, OverflowError, RecursionError, MemoryError,
            UnicodeDecodeError, IndexError, AttributeError) as err:
        raise ValueError(f"load: {name} is not a readable checkpoint: it is truncated or "
                         f"corrupted, or was not written by tc.save ({type(err).__name__}: {err})"
                         ) from None


__all__ = ["save", "load"]
