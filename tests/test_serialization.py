"""tc.save / tc.load: state dicts as .npz, exact dtypes and key order, and the file read by torch."""
import io
import json

import numpy as np
import pytest

import tinygrad_conv as tc
from tinygrad_conv import nn


def model():
    return nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                         nn.Linear(3 * 2 * 2, 2))


def test_round_trip_keeps_keys_order_dtypes_and_values(tmp_path):
    tc.manual_seed(0)
    source = model()
    source.train()(tc.Tensor(np.random.randn(2, 1, 4, 4).astype(np.float32)))   # move BN stats
    path = tmp_path / "weights.npz"
    tc.save(source.state_dict(), path)
    loaded = tc.load(path)
    assert list(loaded) == list(source.state_dict())
    for key, value in source.state_dict().items():
        assert isinstance(loaded[key], tc.Tensor)
        assert loaded[key].dtype == value.dtype and loaded[key].shape == value.shape
        np.testing.assert_array_equal(loaded[key].data, value.data)
    assert loaded["1.num_batches_tracked"].dtype == np.int64 and loaded["1.num_batches_tracked"].item() == 1
    tc.manual_seed(1)
    target = model()
    target.load_state_dict(loaded)
    x = tc.Tensor(np.random.randn(3, 1, 4, 4).astype(np.float32))
    np.testing.assert_array_equal(target.eval()(x).data, source.eval()(x).data)


def test_the_file_is_plain_numpy_and_written_exactly_where_asked(tmp_path):
    path = tmp_path / "model.pt"                     # no .npz suffix is added
    tc.save({"w": np.arange(3, dtype=np.float64), "n": 4}, path)
    assert path.exists() and not (tmp_path / "model.pt.npz").exists()
    with np.load(path) as archive:                   # an .npz: the arrays and a JSON index
        assert archive.files == ["tinygrad_conv.json", "0"]
        assert archive["0"].dtype == np.float64 and archive["0"].tolist() == [0, 1, 2]
        structure = json.loads(archive["tinygrad_conv.json"])["object"]
        assert structure == {"dict": [["w", {"ndarray": 0}], ["n", 4]]}


def test_file_objects_work_too():
    buffer = io.BytesIO()
    tc.save({"a": tc.Tensor(np.ones((2, 2), dtype=np.float32))}, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(tc.load(buffer)["a"].data, np.ones((2, 2)))


def test_save_and_load_errors(tmp_path):
    with pytest.raises(TypeError, match="keys must be strings, numbers"):
        tc.save({object(): np.zeros(2)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match=r"\['model'\] is a whole nn.Module.*state_dict\(\)"):
        tc.save({"model": model()}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="only Tensors, numpy arrays, numbers"):
        tc.save({"f": print}, tmp_path / "x.npz")
    with pytest.raises(FileNotFoundError, match="no such file"):
        tc.load(tmp_path / "missing.npz")
    np.save(tmp_path / "single.npy", np.zeros(2))
    with pytest.raises(ValueError, match="single .npy array"):
        tc.load(tmp_path / "single.npy")


@pytest.mark.torch
def test_saved_file_loads_into_the_same_torch_model(tmp_path):
    torch = pytest.importorskip("torch")
    tc.manual_seed(2)
    ours = model().eval()
    tc.save(ours.state_dict(), tmp_path / "m.npz")
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.ReLU(),
                                 torch.nn.Flatten(), torch.nn.Linear(3 * 2 * 2, 2)).eval()
    sd = tc.load(tmp_path / "m.npz")
    theirs.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in sd.items()})
    x = np.random.randn(2, 1, 4, 4).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(tc.Tensor(x)).data, expected, rtol=1e-5, atol=1e-6)
