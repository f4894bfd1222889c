"""Checkpoints (tc.save / tc.load of nested structures, never a pickle) and the hardening of
both readers: every damaged byte is one clear ValueError, declared sizes are checked against
real sizes before anything is allocated, torch's pickle files are refused with the conversion,
and read_idx reads no more than an IDX header declares."""
import gzip
import hashlib
import io
import json
import math
import struct
import tracemalloc
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_conv as tc
from tinygrad_conv import nn, optim
from tinygrad_conv.datasets import read_idx
from tinygrad_conv.serialization import MARKER


def saved(obj) -> bytes:
    buffer = io.BytesIO()
    tc.save(obj, buffer)
    return buffer.getvalue()


def loaded(raw: bytes):
    return tc.load(io.BytesIO(raw))


def general_checkpoint():
    tc.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    loss = model(tc.Tensor(np.random.default_rng(0).standard_normal((2, 1, 4, 4)).astype(np.float32))).sum()
    loss.backward()
    opt.step()
    return model, opt, {"epoch": 3, "model_state_dict": model.state_dict(),
                        "optimizer_state_dict": opt.state_dict(), "loss": loss}


# ----------------------------------------------------------------------------------------------
# Round trips


def test_a_general_checkpoint_round_trips_with_its_types():
    model, opt, checkpoint = general_checkpoint()
    shared = tc.Tensor(np.arange(3.0))
    checkpoint.update({"history": [2.5, 1.25, float("nan"), float("inf")], "names": ("a", "b"),
                       "flags": {True: None, 7: "seven", (1, "x"): [1, [2, {}]]},
                       "np_scalar": np.float32(0.5), "array": np.arange(4, dtype=np.int16),
                       "twice": [shared, shared], "empty": np.zeros((0, 3))})
    back = loaded(saved(checkpoint))
    assert type(back) is dict and list(back) == list(checkpoint)
    assert type(back["model_state_dict"]) is OrderedDict
    assert list(back["model_state_dict"]) == list(model.state_dict())
    assert back["epoch"] == 3 and isinstance(back["loss"], tc.Tensor) and back["loss"].requires_grad
    assert back["loss"].is_leaf and back["loss"].item() == checkpoint["loss"].item()
    assert back["history"][:2] == [2.5, 1.25] and math.isnan(back["history"][2])
    assert back["history"][3] == math.inf
    assert back["names"] == ("a", "b") and back["flags"] == {True: None, 7: "seven", (1, "x"): [1, [2, {}]]}
    assert type(back["np_scalar"]) is np.float32 and back["np_scalar"] == 0.5
    assert type(back["array"]) is np.ndarray and back["array"].dtype == np.int16
    assert back["twice"][0] is back["twice"][1]                 # shared tensors stay shared
    assert back["empty"].shape == (0, 3)
    sd = back["optimizer_state_dict"]
    assert list(sd["state"]) == [0, 1, 2, 3, 4, 5] and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    fresh = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 2))
    fresh.load_state_dict(back["model_state_dict"])
    resumed = optim.Adam(fresh.parameters(), lr=0.5)
    resumed.load_state_dict(sd)
    assert resumed.param_groups[0]["lr"] == 0.01
    np.testing.assert_array_equal(resumed.state[fresh[0].weight]["exp_avg"],
                                  opt.state[model[0].weight]["exp_avg"])


@pytest.mark.parametrize("key", ["allow_pickle", "file", "a.npy", "a/b", "", "../x", "tinygrad_conv.json",
                                 "0.npy", "ü ñ"])
def test_awkward_keys_round_trip(key):
    back = loaded(saved({key: np.arange(3), "other": 1}))
    assert list(back) == [key, "other"] and back[key].tolist() == [0, 1, 2]


def test_what_cannot_be_saved_is_refused_with_the_way_out():
    model, opt, _ = general_checkpoint()
    with pytest.raises(TypeError, match=r"whole nn.Module \(Sequential\).*model.state_dict\(\)"):
        tc.save(model, io.BytesIO())
    with pytest.raises(TypeError, match=r"\['opt'\] is a whole object \(Adam\).*optimizer.state_dict\(\)"):
        tc.save({"opt": opt}, io.BytesIO())
    with pytest.raises(TypeError, match=r"\['f'\] is a function"):
        tc.save({"f": lambda: 0}, io.BytesIO())
    with pytest.raises(TypeError, match="dtype object"):
        tc.save({"a": np.array([None])}, io.BytesIO())
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        tc.save(loop, io.BytesIO())
    with pytest.raises(TypeError, match="path or a binary file"):
        tc.save({}, 5)


def test_the_file_is_an_npz_numpy_reads_with_a_json_index():
    raw = saved({"w": np.ones(2), "nested": {"n": 3}})
    with np.load(io.BytesIO(raw)) as archive:
        assert archive.files == ["tinygrad_conv.json", "0"]
        assert json.loads(archive["tinygrad_conv.json"])["object"] == \
            {"dict": [["w", {"ndarray": 0}], ["nested", {"dict": [["n", 3]]}]]}
    assert raw.endswith(hashlib.sha256(raw[:-64]).hexdigest().encode())
    assert saved({"w": np.ones(2)}) == saved({"w": np.ones(2)})          # deterministic bytes


def test_map_location_and_torch_load_arguments():
    raw = saved({"a": 1})
    for location in (None, "cpu", lambda storage, loc: storage, {"cuda:0": "cpu"}):
        assert loaded_with(raw, map_location=location) == {"a": 1}
    assert loaded_with(raw, weights_only=True) == {"a": 1}
    with pytest.raises(RuntimeError, match="CPU only"):
        loaded_with(raw, map_location="cuda:0")


def loaded_with(raw, **kwargs):
    return tc.load(io.BytesIO(raw), **kwargs)


def test_a_plain_npz_of_arrays_still_loads():
    buffer = io.BytesIO()
    np.savez(buffer, w=np.arange(3.0), b=np.zeros(2, dtype=np.int64))
    back = loaded(buffer.getvalue())
    assert type(back) is OrderedDict and list(back) == ["w", "b"]
    assert isinstance(back["w"], tc.Tensor) and back["b"].dtype == np.int64


# ----------------------------------------------------------------------------------------------
# Damage and foreign files


def test_every_flipped_byte_and_every_truncation_is_one_clear_value_error():
    raw = saved({"w": np.arange(3, dtype=np.float32), "step": 2, "s": {"b": tc.Tensor(np.ones(2))}})
    for position in range(len(raw)):
        for flip in (0x01, 0x80, 0xFF):
            damaged = bytearray(raw)
            damaged[position] ^= flip
            with pytest.raises(ValueError, match="not a readable checkpoint"):
                loaded(bytes(damaged))
    for length in range(len(raw)):
        with pytest.raises(ValueError, match="not a readable checkpoint"):
            loaded(raw[:length])
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        loaded(raw + b"\0")


def resign(data: bytes) -> bytes:
    """A crafted file with a valid checksum (the checks below do not rely on it)."""
    return data[:-64] + hashlib.sha256(data[:-64]).hexdigest().encode()


def zip_of(members: dict, comment: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        archive.comment = comment
    return buffer.getvalue()


def huge_npy() -> bytes:
    """An .npy header declaring 2^40 float64 values (8 TB), followed by 16 bytes of data."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (2 ** 40,)})
    return header.getvalue() + b"\0" * 16


def test_an_array_header_is_checked_against_the_real_size_before_allocating():
    structure = json.dumps({"format": "tinygrad_conv checkpoint", "version": 1,
                            "object": {"dict": [["w", {"ndarray": 0}]]}})
    ours = resign(zip_of({"tinygrad_conv.json": structure, "0.npy": huge_npy()},
                         MARKER + b"0" * 64))
    plain = zip_of({"w.npy": huge_npy()})
    for raw in (ours, plain):
        tracemalloc.start()
        with pytest.raises(ValueError, match=r"declares shape \(1099511627776,\).*holds 16 bytes"):
            loaded(raw)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 10 ** 6


@pytest.mark.parametrize("members,fragment", [
    ({"notes.txt": "hello"}, "a zip archive that tc.save did not write"),
    ({"archive/data.pkl": b"\x80\x02", "archive/version": "3"}, "written by torch.save"),
    ({"tinygrad_conv.json": "{}"}, "checksum tc.save writes at its end is missing"),
], ids=["foreign zip", "torch zip", "no checksum"])
def test_zips_tc_save_did_not_write_are_refused(members, fragment):
    with pytest.raises(ValueError, match=fragment):
        loaded(zip_of(members))


@pytest.mark.parametrize("structure,fragment", [
    ('{"format": "other"}', "not a tinygrad_conv checkpoint"),
    ('{"format": "tinygrad_conv checkpoint", "version": 9, "object": 1}', "format version 9"),
    ('{"format": "tinygrad_conv checkpoint", "version": 1, "object": {"ndarray": 5}}', "'5.npy'.*missing"),
    ('{"format": "tinygrad_conv checkpoint", "version": 1, "object": {"set": []}}', "tagged 'set'"),
    ('{"format": "tinygrad_conv checkpoint", "version": 1, "object": {"dict": [[1, 2], [1, 3]]}}',
     "key 1 twice"),
    ('[1, 2', "not valid JSON"),
], ids=["format", "version", "missing member", "unknown tag", "repeated key", "bad json"])
def test_crafted_structures_are_refused(structure, fragment):
    with pytest.raises(ValueError, match=fragment):
        loaded(resign(zip_of({"tinygrad_conv.json": structure}, MARKER + b"0" * 64)))


def test_other_files_are_refused_clearly(tmp_path):
    compressed = io.BytesIO()
    np.savez_compressed(compressed, w=np.ones(3))
    with pytest.raises(ValueError, match="compressed.*np.load"):
        loaded(compressed.getvalue())
    single = io.BytesIO()
    np.save(single, np.ones(2))
    with pytest.raises(ValueError, match="single .npy array"):
        loaded(single.getvalue())
    with pytest.raises(ValueError, match="(?s)legacy format of torch.save.*torch.load"):
        loaded(b"\x80\x02\x8a\x0alz\xfc\x9cF\xf9 j\xa8P\x19.")
    with pytest.raises(ValueError, match="the file is empty"):
        loaded(b"")
    with pytest.raises(FileNotFoundError, match="no such file"):
        tc.load(tmp_path / "missing.pt")
    with pytest.raises(TypeError, match="binary mode"):
        tc.load(io.StringIO("text"))


@pytest.mark.torch
def test_torch_save_files_are_refused_with_a_conversion_that_works(tmp_path):
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    checkpoint = {"epoch": 1, "model_state_dict": model.state_dict(),
                  "optimizer_state_dict": opt.state_dict()}
    for name, legacy in (("model.pt", False), ("old.pt", True)):
        path = tmp_path / name
        torch.save(checkpoint, path, _use_new_zipfile_serialization=not legacy)
        with pytest.raises(ValueError, match="never unpickles") as err:
            tc.load(path)
        command = str(err.value).split('python -c "')[1].split('"\n')[0]
        exec(command, {})                                  # the conversion the message gives
        back = tc.load(tmp_path / (name[:-3] + ".npz"))
        assert back["epoch"] == 1 and list(back["model_state_dict"]) == list(model.state_dict())
        ours = nn.Sequential(nn.Linear(3, 2))
        ours.load_state_dict({k: v for k, v in back["model_state_dict"].items() if k.startswith("0.")})
        np.testing.assert_array_equal(ours[0].weight.data, model[0].weight.detach().numpy())
        momentum = back["optimizer_state_dict"]["state"][0]["momentum_buffer"]
        np.testing.assert_array_equal(momentum.data, opt.state_dict()["state"][0]["momentum_buffer"].numpy())


@pytest.mark.torch
def test_torch_loads_our_state_dict_arrays(tmp_path):
    torch = pytest.importorskip("torch")
    _, _, checkpoint = general_checkpoint()
    tc.save(checkpoint, tmp_path / "c.npz")
    back = tc.load(tmp_path / "c.npz")
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.Flatten(),
                                 torch.nn.Linear(8, 2))
    theirs.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in back["model_state_dict"].items()})


# ----------------------------------------------------------------------------------------------
# read_idx


def idx_bytes(sizes, payload, code=0x08):
    return bytes([0, 0, code, len(sizes)]) + struct.pack(f">{len(sizes)}I", *sizes) + payload


def test_read_idx_checks_the_header_before_reading_a_gz(tmp_path):
    bomb = tmp_path / "bomb-idx1-ubyte.gz"
    bomb.write_bytes(gzip.compress(idx_bytes((10,), b"\0" * (24 << 20))))    # 24 MB of zeros
    assert bomb.stat().st_size < 200_000
    tracemalloc.start()
    with pytest.raises(ValueError, match=r"declares shape \(10,\).*holds more than 10 bytes"):
        read_idx(bomb)
    big = tmp_path / "big-idx1-ubyte.gz"
    big.write_bytes(gzip.compress(idx_bytes((1 << 31,), b"\0" * 100)))       # declares 2 GB
    with pytest.raises(ValueError, match=r"declares shape \(2147483648,\).*holds 100 bytes"):
        read_idx(big)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4 << 20


@pytest.mark.parametrize("raw,fragment", [
    (idx_bytes((60000, 28, 28), b"\0" * 100), "declares shape"),
    (idx_bytes((3,), b"\0" * 4), "declares shape"),
    (idx_bytes((3, 3), b"")[:8], "ends inside its header"),
    (b"\x00\x00", "not an IDX file"),
    (b"\x01\x00\x08\x01", "not an IDX file"),
], ids=["declared too large", "too much data", "truncated header", "short", "bad magic"])
def test_read_idx_refuses_inconsistent_files(tmp_path, raw, fragment):
    for path, content in ((tmp_path / "f-idx", raw), (tmp_path / "f-idx.gz", gzip.compress(raw))):
        path.write_bytes(content)
        with pytest.raises(ValueError, match=fragment):
            read_idx(path)


def test_read_idx_refuses_a_corrupt_gzip(tmp_path):
    path = tmp_path / "x-idx.gz"
    good = gzip.compress(idx_bytes((4,), bytes(range(4))))
    np.testing.assert_array_equal(read_idx(path.write_bytes(good) and path), [0, 1, 2, 3])
    path.write_bytes(good[:-6])
    with pytest.raises(ValueError, match="gzip data is truncated or corrupt"):
        read_idx(path)
    path.write_bytes(good[:10] + bytes(b ^ 0xFF for b in good[10:14]) + good[14:])
    with pytest.raises(ValueError, match="IDX"):
        read_idx(path)
