"""Every mistake a student can make with the public API gets a clear error from our own checks.

One table: a label, the call, the exception type, and fragments the message must contain (the
argument, what was given, what was expected, the likely fix). Each error must be raised by the
library's own validation, before any computation, never by numpy from deep inside. Torch-free.
"""
import traceback

import numpy as np
import pytest

import tinygrad_conv as tc
import tinygrad_conv.functional as F
from tinygrad_conv import nn, optim

PACKAGE = "tinygrad_conv/"


def t(*shape, dtype=np.float64, requires_grad=False):
    """A tensor of `shape` filled with distinct values."""
    data = (np.arange(int(np.prod(shape))).reshape(shape) / 7.0).astype(dtype)
    return tc.Tensor(data, requires_grad=requires_grad)


def labels(*values, dtype=np.int64):
    return np.array(values, dtype=dtype)


def backward_twice():
    y = (t(2, requires_grad=True) * 2).sum()
    y.backward()
    y.backward()


CASES = [
    # --- conv2d -----------------------------------------------------------------------------
    ("conv2d channels-last input", lambda: F.conv2d(t(1, 5, 5, 3), t(4, 3, 3, 3)), ValueError,
     ["expects input with 3 channels", "(1, 5, 5, 3)", "channels-last (NHWC)", "x.permute(0, 3, 1, 2)"]),
    ("conv2d channel mismatch", lambda: F.conv2d(t(1, 2, 5, 5), t(4, 3, 3, 3)), ValueError,
     ["expects input with 3 channels", "with 2 channels"]),
    ("conv2d kernel larger than padded input", lambda: F.conv2d(t(1, 1, 2, 2), t(1, 1, 3, 3)),
     ValueError, ["larger than the padded input", "(2 x 2)", "kernel extent (3 x 3)", "more padding"]),
    ("conv2d dilated kernel too large", lambda: F.conv2d(t(1, 1, 4, 4), t(1, 1, 2, 2), dilation=4),
     ValueError, ["kernel extent (5 x 5)", "dilation (4, 4)"]),
    ("conv2d groups do not divide in_channels",
     lambda: F.conv2d(t(1, 3, 5, 5), t(4, 1, 3, 3), groups=2), ValueError,
     ["in_channels=3", "divisible by groups=2"]),
    ("conv2d groups do not divide out_channels",
     lambda: F.conv2d(t(1, 4, 5, 5), t(3, 2, 3, 3), groups=2), ValueError,
     ["out_channels=3", "multiple of groups=2"]),
    ("conv2d no output channels", lambda: F.conv2d(t(1, 2, 5, 5), t(0, 2, 3, 3)), ValueError,
     ["out_channels=0"]),
    ("conv2d zero groups", lambda: F.conv2d(t(1, 2, 5, 5), t(2, 2, 3, 3), groups=0), ValueError,
     ["groups must be a positive integer", "groups=0"]),
    ("conv2d float groups", lambda: F.conv2d(t(1, 2, 5, 5), t(2, 2, 3, 3), groups=1.0), TypeError,
     ["groups", "1.0"]),
    ("conv2d zero stride", lambda: F.conv2d(t(1, 1, 5, 5), t(1, 1, 3, 3), stride=0), ValueError,
     ["stride must be >= 1", "stride=0"]),
    ("conv2d negative stride", lambda: F.conv2d(t(1, 1, 5, 5), t(1, 1, 3, 3), stride=(1, -2)),
     ValueError, ["stride must be >= 1", "(1, -2)"]),
    ("conv2d zero dilation", lambda: F.conv2d(t(1, 1, 5, 5), t(1, 1, 3, 3), dilation=0),
     ValueError, ["dilation must be >= 1"]),
    ("conv2d negative padding", lambda: F.conv2d(t(1, 1, 5, 5), t(1, 1, 3, 3), padding=-1),
     ValueError, ["padding must be >= 0", "padding=-1"]),
    ("conv2d unknown padding string", lambda: F.conv2d(t(1, 1, 5, 5), t(1, 1, 3, 3), padding="full"),
     ValueError, ["'same' or 'valid'", "'full'"]),
    ("conv2d same with stride", lambda: F.conv2d(t(1, 1, 5, 5), t(1, 1, 3, 3), padding="same", stride=2),
     ValueError, ["padding='same'", "strided", "stride=(2, 2)"]),
    ("conv2d three strides", lambda: F.conv2d(t(1, 1, 5, 5), t(1, 1, 3, 3), stride=(1, 1, 1)),
     ValueError, ["stride must be an int or a pair", "3 entries"]),
    ("conv2d string stride", lambda: F.conv2d(t(1, 1, 5, 5), t(1, 1, 3, 3), stride="2"), TypeError,
     ["stride", "'2'"]),
    ("conv2d 2-D input", lambda: F.conv2d(t(5, 5), t(1, 1, 3, 3)), ValueError,
     ["(N, C, H, W)", "2-D input of shape (5, 5)", "x.reshape(1, 1, H, W)"]),
    ("conv2d 5-D input", lambda: F.conv2d(t(1, 1, 1, 5, 5), t(1, 1, 3, 3)), ValueError,
     ["5-D input"]),
    ("conv2d 3-D weight", lambda: F.conv2d(t(1, 1, 5, 5), t(1, 3, 3)), ValueError,
     ["weight must be 4-D", "(1, 3, 3)"]),
    ("conv2d bias shape", lambda: F.conv2d(t(1, 1, 5, 5), t(4, 1, 3, 3), t(3)), ValueError,
     ["bias must have shape (4,)", "got (3,)"]),
    ("conv2d dtype mismatch", lambda: F.conv2d(t(1, 1, 5, 5), t(1, 1, 3, 3, dtype=np.float32)),
     TypeError, ["float64", "float32", "same dtype"]),
    ("conv2d bias dtype", lambda: F.conv2d(t(1, 1, 5, 5), t(2, 1, 3, 3), t(2, dtype=np.float32)),
     TypeError, ["input (float64) and bias (float32)", "same dtype"]),
    ("conv2d boolean input", lambda: F.conv2d(t(1, 1, 5, 5, dtype=bool), t(1, 1, 3, 3, dtype=bool)),
     TypeError, ["dtype bool", ".float()"]),
    ("conv2d dilated int32", lambda: F.conv2d(t(1, 1, 5, 5, dtype=np.int32),
                                              t(1, 1, 2, 2, dtype=np.int32), dilation=2),
     TypeError, ["dilated", "int32", "int64"]),
    ("conv2d input that is not a tensor", lambda: F.conv2d("image", t(1, 1, 3, 3)), TypeError,
     ["input must be a Tensor", "str"]),
    # --- max_pool2d / avg_pool2d --------------------------------------------------------------
    ("max_pool2d zero kernel", lambda: F.max_pool2d(t(1, 1, 4, 4), 0), ValueError,
     ["kernel_size must be >= 1"]),
    ("max_pool2d float kernel", lambda: F.max_pool2d(t(1, 1, 4, 4), 2.5), TypeError,
     ["kernel_size", "2.5"]),
    ("max_pool2d zero stride", lambda: F.max_pool2d(t(1, 1, 4, 4), 2, stride=0), ValueError,
     ["stride must be >= 1"]),
    ("max_pool2d negative padding", lambda: F.max_pool2d(t(1, 1, 4, 4), 3, padding=-1), ValueError,
     ["padding must be >= 0"]),
    ("max_pool2d padding over half the kernel", lambda: F.max_pool2d(t(1, 1, 4, 4), 2, padding=2),
     ValueError, ["at most half of the kernel size", "padding=(2, 2)", "kernel_size=(2, 2)"]),
    ("max_pool2d zero dilation", lambda: F.max_pool2d(t(1, 1, 4, 4), 2, dilation=0), ValueError,
     ["dilation must be >= 1"]),
    ("max_pool2d input too small", lambda: F.max_pool2d(t(1, 1, 2, 2), 3), ValueError,
     ["too small", "calculated output size (0, 0)"]),
    ("max_pool2d empty channels", lambda: F.max_pool2d(t(1, 0, 4, 4), 2), ValueError,
     ["non-zero channels", "(1, 0, 4, 4)"]),
    ("max_pool2d 2-D input", lambda: F.max_pool2d(t(4, 4), 2), ValueError,
     ["2-D input", "x.reshape(1, 1, H, W)"]),
    ("max_pool2d boolean input", lambda: F.max_pool2d(t(1, 1, 4, 4, dtype=bool), 2), TypeError,
     ["dtype bool"]),
    ("avg_pool2d padding over half the kernel", lambda: F.avg_pool2d(t(1, 1, 4, 4), 3, padding=2),
     ValueError, ["at most half of the kernel size"]),
    ("avg_pool2d zero divisor", lambda: F.avg_pool2d(t(1, 1, 4, 4), 2, divisor_override=0),
     ValueError, ["divisor_override must be non-zero"]),
    ("avg_pool2d int32 input", lambda: F.avg_pool2d(t(1, 1, 4, 4, dtype=np.int32), 2), TypeError,
     ["int32", "floating-point or int64"]),
    ("avg_pool2d kernel of three", lambda: F.avg_pool2d(t(1, 1, 4, 4), (2, 2, 2)), ValueError,
     ["kernel_size must be an int or a pair"]),
    # --- pad --------------------------------------------------------------------------------
    ("pad odd length", lambda: F.pad(t(1, 4), (1, 1, 1)), ValueError,
     ["even number of entries", "got 3"]),
    ("pad more dims than the input", lambda: F.pad(t(4), (1, 1, 1, 1)), ValueError,
     ["pads 2 dimensions", "only 1"]),
    ("pad float entry", lambda: F.pad(t(1, 4), (1.0, 1)), TypeError, ["tuple of ints", "1.0"]),
    ("pad unknown mode", lambda: F.pad(t(1, 1, 4), (1, 1), mode="wrap"), ValueError,
     ["'constant', 'reflect', 'replicate' or 'circular'", "'wrap'"]),
    ("pad value with reflect", lambda: F.pad(t(1, 1, 4), (1, 1), mode="reflect", value=1.0),
     ValueError, ["does not take a value", "value=1.0"]),
    ("pad reflect as wide as the input", lambda: F.pad(t(1, 1, 3), (3, 0), mode="reflect"),
     ValueError, ["reflect padding (3, 0) must be smaller than the size 3", "'replicate'"]),
    ("pad reflect on a 4-D input by one dim", lambda: F.pad(t(1, 1, 4, 4), (1, 1), mode="reflect"),
     ValueError, ["1 to 3 dimensions", "2 entries for shape (1, 1, 4, 4)"]),
    ("pad circular wrapping twice", lambda: F.pad(t(1, 1, 3), (4, 0), mode="circular"), ValueError,
     ["wrap around more than once"]),
    ("pad circular wrapping past a crop", lambda: F.pad(t(1, 1, 3), (-1, 3), mode="circular"),
     ValueError, ["wrap around more than once", "2 entries left after cropping"]),
    ("pad replicate to nothing", lambda: F.pad(t(1, 1, 3), (-3, 0), mode="replicate"), ValueError,
     ["leaves nothing", "padded sizes would be (0,)"]),
    ("pad replicate of an empty dim", lambda: F.pad(t(1, 2, 0), (1, 1), mode="replicate"),
     ValueError, ["non-empty dimensions", "(1, 2, 0)"]),
    ("pad crop more than the size", lambda: F.pad(t(3, 2), (-3, 2)), ValueError,
     ["cannot be cropped", "negative size -1"]),
    ("pad boolean reflect", lambda: F.pad(t(1, 1, 4, dtype=bool), (1, 1), mode="reflect"), TypeError,
     ["boolean", "'constant' or 'circular'"]),
    # --- linear, matmul, reshape --------------------------------------------------------------
    ("linear in_features mismatch", lambda: F.linear(t(2, 5), t(4, 3)), ValueError,
     ["in_features=3", "(2, 5)"]),
    ("linear unflattened image", lambda: F.linear(t(2, 1, 3, 3), t(4, 9)), ValueError,
     ["in_features=9", "x.flatten(1)"]),
    ("linear 3-D weight", lambda: F.linear(t(2, 3), t(1, 4, 3)), ValueError,
     ["(out_features, in_features)", "(1, 4, 3)"]),
    ("linear bias shape", lambda: F.linear(t(2, 3), t(4, 3), t(5)), ValueError,
     ["bias of shape (5,)", "output shape (2, 4)", "(4,)"]),
    ("linear bias with a 1-D weight", lambda: F.linear(t(2, 3), t(3), t(1)), ValueError,
     ["1-D weight", "takes no bias"]),
    ("linear dtype mismatch", lambda: F.linear(t(2, 3), t(4, 3, dtype=np.float32)), TypeError,
     ["input (float64) and weight (float32)", "same dtype"]),
    ("matmul of a scalar", lambda: F.matmul(t(3), tc.tensor(2.0)), ValueError,
     ["at least 1 dimension", "use * for scalars"]),
    ("matmul inner sizes", lambda: t(2, 3) @ t(4, 2), ValueError,
     ["cannot be multiplied (3 != 4)"]),
    ("matmul batch dims", lambda: t(5, 2, 3) @ t(6, 3, 4), ValueError,
     ["batch dimensions (5,) and (6,)", "do not broadcast"]),
    ("matmul dtype mismatch", lambda: t(2, 3) @ t(3, 2, dtype=np.float32), TypeError,
     ["same dtype"]),
    ("matmul booleans", lambda: t(2, 3, dtype=bool) @ t(3, 2, dtype=bool), TypeError,
     ["dtype bool"]),
    ("reshape to the wrong size", lambda: t(2, 3).reshape(4, 2), ValueError,
     ["shape (4, 2) is invalid for input of size 6"]),
    ("reshape with two -1", lambda: t(2, 3).reshape(-1, -1), ValueError, ["at most one -1"]),
    ("reshape by a float", lambda: t(2, 3).reshape(3.0, 2), TypeError, ["shape", "3.0"]),
    # --- losses ----------------------------------------------------------------------------------
    ("cross_entropy class out of range", lambda: F.cross_entropy(t(3, 4), labels(0, 4, 1)),
     ValueError, ["class index 4", "4 classes", "0..3"]),
    ("cross_entropy negative class", lambda: F.cross_entropy(t(3, 4), labels(0, -1, 1)), ValueError,
     ["class index -1"]),
    ("cross_entropy target shape", lambda: F.cross_entropy(t(3, 4), labels(0, 1)), ValueError,
     ["target of shape (2,)", "shape (3,)"]),
    ("cross_entropy float labels", lambda: F.cross_entropy(t(3, 4), np.array([0.0, 1.0, 2.0])),
     ValueError, ["class probabilities", "input's shape (3, 4)", "integer array"]),
    ("cross_entropy int32 labels", lambda: F.cross_entropy(t(3, 4), labels(0, 1, 2, dtype=np.int32)),
     TypeError, ["int64", "int32", ".astype(np.int64)"]),
    ("cross_entropy boolean labels", lambda: F.cross_entropy(t(3, 4), np.array([True, False, True])),
     TypeError, ["integer class indices", "bool"]),
    ("cross_entropy integer logits", lambda: F.cross_entropy(t(3, 4, dtype=np.int64), labels(0, 1, 2)),
     TypeError, ["floating-point logits", ".float()"]),
    ("cross_entropy 0-D logits", lambda: F.cross_entropy(tc.tensor(1.0), labels(0)), ValueError,
     ["0-D"]),
    ("cross_entropy weight shape", lambda: F.cross_entropy(t(3, 4), labels(0, 1, 2), weight=t(3)),
     ValueError, ["weight must have shape (4,)"]),
    ("cross_entropy reduction", lambda: F.cross_entropy(t(3, 4), labels(0, 1, 2), reduction="avg"),
     ValueError, ["'mean', 'sum' or 'none'", "'avg'"]),
    ("cross_entropy label smoothing", lambda: F.cross_entropy(t(3, 4), labels(0, 1, 2), label_smoothing=1.5),
     ValueError, ["label_smoothing must be a number between 0.0 and 1.0", "1.5"]),
    ("cross_entropy probabilities with ignore_index",
     lambda: F.cross_entropy(t(3, 4), np.full((3, 4), 0.25), ignore_index=1), ValueError,
     ["ignore_index=1", "probability targets"]),
    # --- nn layers ----------------------------------------------------------------------------
    ("Conv2d zero kernel", lambda: nn.Conv2d(3, 4, 0), ValueError, ["kernel_size must be >= 1"]),
    ("Conv2d groups", lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError,
     ["in_channels=3", "divisible by groups=2"]),
    ("Conv2d negative channels", lambda: nn.Conv2d(-1, 4, 3), ValueError,
     ["in_channels must be a positive integer"]),
    ("Conv2d padding mode", lambda: nn.Conv2d(3, 4, 3, padding_mode="zero"), ValueError,
     ["padding_mode", "'zero'"]),
    ("Conv2d same with stride", lambda: nn.Conv2d(3, 4, 3, padding="same", stride=2), ValueError,
     ["padding='same'", "strided"]),
    ("Conv2d wrong input channels", lambda: nn.Conv2d(3, 4, 3)(t(1, 1, 5, 5, dtype=np.float32)),
     ValueError, ["expects input with 3 channels", "with 1 channels"]),
    ("Conv2d channels-last input", lambda: nn.Conv2d(3, 4, 3)(t(1, 5, 5, 3, dtype=np.float32)),
     ValueError, ["x.permute(0, 3, 1, 2)"]),
    ("Conv2d float64 input to a float32 layer", lambda: nn.Conv2d(1, 1, 3)(t(1, 1, 5, 5)),
     TypeError, ["float64", "float32"]),
    ("Linear float features", lambda: nn.Linear(3.0, 4), TypeError, ["in_features", "3.0"]),
    ("Linear wrong input size", lambda: nn.Linear(3, 4)(t(2, 5, dtype=np.float32)), ValueError,
     ["in_features=3", "(2, 5)"]),
    ("MaxPool2d zero kernel", lambda: nn.MaxPool2d(0), ValueError, ["kernel_size must be >= 1"]),
    ("MaxPool2d wide padding at call", lambda: nn.MaxPool2d(2, padding=2)(t(1, 1, 4, 4)),
     ValueError, ["at most half of the kernel size"]),
    ("SGD negative learning rate", lambda: optim.SGD(nn.Linear(2, 1).parameters(), lr=-1), ValueError,
     ["lr", "-1"]),
    # --- tensors and autograd -------------------------------------------------------------------
    ("integer tensor requiring grad", lambda: tc.tensor([1, 2], dtype=np.int64, requires_grad=True),
     TypeError, ["floating-point", "int64"]),
    ("backward of a vector", lambda: (t(2, requires_grad=True) * 2).backward(), RuntimeError,
     ["scalar outputs", "y.sum().backward()"]),
    ("backward with a wrongly shaped gradient",
     lambda: (t(2, requires_grad=True) * 2).backward(np.ones(3)), RuntimeError,
     ["gradient has shape (3,)", "output has shape (2,)"]),
    ("backward with a boolean gradient",
     lambda: (t(2, requires_grad=True) * 2).backward(np.ones(2, dtype=bool)), TypeError,
     ["real numbers"]),
    ("backward twice", backward_twice, RuntimeError, ["second time", "retain_graph=True"]),
    ("backward of a constant", lambda: t(2).sum().backward(), RuntimeError,
     ["does not require grad", "requires_grad=True"]),
    ("in-place op on a leaf that requires grad", lambda: t(2, requires_grad=True).zero_(),
     RuntimeError, ["leaf Variable that requires grad", "in-place", "no_grad"]),
    ("gradcheck in float32", lambda: tc.gradcheck(lambda x: x * x, t(2, dtype=np.float32, requires_grad=True)),
     ValueError, ["float64", ".double()"]),
]


@pytest.mark.parametrize("label,call,error,fragments", CASES, ids=[case[0] for case in CASES])
def test_bad_input_gets_a_clear_error_from_our_own_checks(label, call, error, fragments):
    with pytest.raises(error) as info:
        call()
    assert type(info.value) is error or issubclass(type(info.value), error)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from: {message}"
    frame = traceback.extract_tb(info.value.__traceback__)[-1]
    path = frame.filename.replace("\\", "/")
    assert PACKAGE in path and "/ops/" not in path and "kernels.py" not in path, (
        f"raised from {frame.filename}:{frame.lineno}, not by argument checking")


def test_the_table_covers_every_checked_function():
    covered = " ".join(case[0] for case in CASES)
    for name in ("conv2d", "max_pool2d", "avg_pool2d", "pad", "linear", "matmul", "reshape",
                 "cross_entropy", "Conv2d", "Linear", "MaxPool2d", "backward", "gradcheck"):
        assert name in covered


# ----------------------------------------------------------------------------------------------
# Checkpoints: a clear error, and the model is left as it was


def small_model():
    tc.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))


def weights_of(model):
    return {key: value.data.copy() for key, value in model.state_dict().items()}


def assert_unchanged(model, before):
    after = weights_of(model)
    assert after.keys() == before.keys()
    for key in before:
        np.testing.assert_array_equal(after[key], before[key])


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / "model.npz"
    model = small_model()
    for p in model.parameters():
        p.data[...] = 1.0                          # differs from a fresh model
    tc.save(model.state_dict(), path)
    return path


def test_a_missing_checkpoint_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file.*nothing.npz"):
        tc.load(tmp_path / "nothing.npz")


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage", "flipped bytes"])
def test_a_damaged_checkpoint_is_refused_clearly_and_the_model_is_unchanged(checkpoint, damage):
    raw = checkpoint.read_bytes()
    damaged = {"truncated": raw[: len(raw) // 2], "empty": b"", "garbage": b"not a checkpoint" * 8,
               "flipped bytes": raw[:200] + bytes(b ^ 0xFF for b in raw[200:240]) + raw[240:]}[damage]
    checkpoint.write_bytes(damaged)
    model = small_model()
    before = weights_of(model)
    with pytest.raises(ValueError, match="not a readable checkpoint: it is truncated or corrupted"):
        model.load_state_dict(tc.load(checkpoint))
    assert_unchanged(model, before)


@pytest.mark.parametrize("mismatch", ["missing", "unexpected", "shape", "not numbers"])
def test_a_mismatched_state_dict_is_refused_clearly_and_the_model_is_unchanged(checkpoint, mismatch):
    state = tc.load(checkpoint)
    if mismatch == "missing":
        del state["3.bias"]
    elif mismatch == "unexpected":
        state["4.weight"] = np.ones(2)
    elif mismatch == "shape":
        state["3.weight"] = np.ones((3, 9))
    else:
        state["0.bias"] = np.array(["a", "b"])
    model = small_model()
    before = weights_of(model)
    fragment = {"missing": 'Missing key(s) in state_dict: "3.bias"',
                "unexpected": 'Unexpected key(s) in state_dict: "4.weight"',
                "shape": "size mismatch for 3.weight", "not numbers": "0.bias"}[mismatch]
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        model.load_state_dict(state)
    assert_unchanged(model, before)


def test_a_good_checkpoint_round_trips(checkpoint):
    model = small_model()
    model.load_state_dict(tc.load(checkpoint))
    assert all((p.data == 1.0).all() for p in model.parameters())
