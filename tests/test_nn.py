"""nn: module registration and naming, state_dict round trips and strict loading, layers, init,
BatchNorm and Dropout behaviour; and the same against torch.nn when it is installed."""
import math

import numpy as np
import pytest

import tinygrad_conv as tc
from tinygrad_conv import functional as F
from tinygrad_conv import nn
from tinygrad_conv.autograd import STATE


class Net(nn.Module):
    """A model with every kind of member: parameters, buffers, nested and shared children."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                      nn.MaxPool2d(2))
        self.head = nn.Linear(4 * 4 * 4, 3)
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
        self.register_buffer("calls", np.zeros((), dtype=np.int64))
        self.register_buffer("scratch", np.zeros(2, dtype=np.float32), persistent=False)

    def forward(self, x):
        return self.head(self.features(x).flatten(1)) * self.scale


def small_cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, padding=1, padding_mode="reflect"),
                         nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(), nn.Dropout(0.25),
                         nn.Linear(6 * 2 * 2, 5), nn.Sigmoid())


def snapshot(model):
    return {k: np.array(v.data, copy=True) for k, v in model.state_dict().items()}


# ----------------------------------------------------------------------------------------------
# Registration, naming, traversal


def test_named_parameters_follow_registration_order_with_dotted_names():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "scale", "features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias",
        "head.weight", "head.bias"]
    assert [n for n, _ in net.named_buffers()] == [
        "calls", "scratch", "features.1.running_mean", "features.1.running_var",
        "features.1.num_batches_tracked"]
    assert [n for n, _ in net.named_modules()] == ["", "features", "features.0", "features.1",
                                                    "features.2", "features.3", "head"]
    assert [n for n, _ in net.named_children()] == ["features", "head"]
    assert list(net.children()) == [net.features, net.head]
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert len(list(net.parameters())) == 7 and len(list(net.modules())) == 7


def test_state_dict_keys_skip_non_persistent_buffers_and_absent_parameters():
    net = Net()
    keys = list(net.state_dict())
    assert "scratch" not in keys and "calls" in keys
    assert keys[:3] == ["scale", "calls", "features.0.weight"]
    no_bias = nn.Conv2d(1, 2, 3, bias=False)
    assert list(no_bias.state_dict()) == ["weight"]
    assert no_bias.bias is None


def test_shared_modules_and_parameters_are_listed_once():
    layer = nn.Linear(2, 2)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(model.modules())) == 3
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_attribute_assignment_rules():
    net = Net()
    with pytest.raises(TypeError, match="nn.Parameter"):
        net.scale = np.ones(1)
    with pytest.raises(TypeError, match="child module 'head'"):
        net.head = 3
    with pytest.raises(TypeError, match="buffer 'calls'"):
        net.calls = np.zeros(())
    net.calls = tc.Tensor(np.ones((), dtype=np.int64))
    assert net.calls.item() == 1
    net.scale = None
    assert "scale" not in dict(net.named_parameters())
    del net.head
    assert "head" not in dict(net.named_children())
    with pytest.raises(AttributeError, match="has no attribute 'head'"):
        net.head
    net.plain = 3                                    # ordinary attributes stay ordinary
    assert net.plain == 3 and "plain" not in net.state_dict()


def test_assignment_before_init_is_refused():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)
            super().__init__()

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Broken()


def test_register_helpers_validate_names_and_values():
    module = nn.Module()
    with pytest.raises(ValueError, match="without '.'"):
        module.register_buffer("a.b", np.zeros(1))
    with pytest.raises(TypeError, match="expected nn.Parameter"):
        module.register_parameter("w", tc.Tensor([1.0]))
    with pytest.raises(TypeError, match="not a Module subclass"):
        module.add_module("child", "relu")
    with pytest.raises(TypeError, match="Tensor, a numpy array or None"):
        module.register_buffer("b", [1, 2])
    with pytest.raises(NotImplementedError, match="forward"):
        module(tc.Tensor([1.0]))


def test_sequential_indexing_iteration_and_append():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    assert len(model) == 3 and isinstance(model[-1], nn.Linear)
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]
    head = model[1:]
    assert isinstance(head, nn.Sequential) and list(head._modules) == ["1", "2"]
    model.append(nn.Sigmoid())
    assert list(model._modules) == ["0", "1", "2", "3"]
    with pytest.raises(IndexError, match="out of range"):
        model[4]
    with pytest.raises(TypeError, match="instantiate"):
        nn.Sequential(nn.ReLU)
    x = tc.Tensor(np.random.randn(5, 3).astype(np.float32))
    y = model(x)
    np.testing.assert_allclose(y.data, model[3](model[2](model[1](model[0](x)))).data)


def test_repr_uses_pytorch_format():
    model = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1, bias=False), nn.ReLU(),
                          nn.Linear(8, 2))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Conv2d(1, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)\n"
        "  (1): ReLU()\n"
        "  (2): Linear(in_features=8, out_features=2, bias=True)\n"
        ")")
    nested = nn.Sequential(nn.Sequential(nn.Tanh()))
    assert repr(nested) == "Sequential(\n  (0): Sequential(\n    (0): Tanh()\n  )\n)"
    assert repr(nn.BatchNorm2d(4)) == \
        "BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    assert repr(nn.MaxPool2d(2)) == \
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.Conv2d(2, 4, 3, padding="same", groups=2, padding_mode="circular")) == \
        "Conv2d(2, 4, kernel_size=(3, 3), stride=(1, 1), padding=same, groups=2, padding_mode=circular)"
    assert repr(nn.Parameter(np.zeros(1, dtype=np.float32))).startswith("Parameter containing:\n")


def test_train_and_eval_reach_every_submodule():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.features.train()
    assert net.features[1].training and not net.training
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_zero_grad_and_requires_grad():
    net = Net()
    x = tc.Tensor(np.random.randn(2, 1, 8, 8).astype(np.float32))
    net(x).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.data == 0) and p.grad.shape == p.shape for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_apply_visits_children_first():
    visited = []
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU()))
    model.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "ReLU", "Sequential", "Sequential"]


def test_calls_record_the_module_path_on_nodes():
    model = nn.Sequential(nn.Linear(3, 2), nn.Sequential(nn.ReLU()))
    x = tc.Tensor(np.random.randn(4, 3).astype(np.float32))
    y = model(x)
    assert STATE.module_path == ()
    assert y.node.op.name == "relu"
    assert y.node.module == (model, model[1], model[1][0])
    linear_nodes = [t.node for t in tc.toposort(y) if t.node is not None and t.node.op.name == "matmul"]
    assert linear_nodes[0].module == (model, model[0])


def test_module_path_is_restored_when_forward_raises():
    model = nn.Sequential(nn.Linear(3, 2))
    with pytest.raises(ValueError, match="in_features"):
        model(tc.Tensor(np.zeros((1, 5), dtype=np.float32)))
    assert STATE.module_path == ()


def test_to_double_converts_float_parameters_and_buffers_only():
    net = Net().double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.features[1].running_var.dtype == np.float64
    assert net.features[1].num_batches_tracked.dtype == np.int64
    y = net(tc.Tensor(np.random.randn(2, 1, 8, 8)))
    assert y.dtype == np.float64
    assert all(p.dtype == np.float32 for p in net.float().parameters())
    with pytest.raises(TypeError, match="floating-point"):
        net.to(np.int32)


# ----------------------------------------------------------------------------------------------
# Initialisation and the generator


def test_default_init_is_uniform_within_one_over_sqrt_fan_in():
    tc.manual_seed(0)
    conv = nn.Conv2d(6, 64, kernel_size=(3, 5), groups=2)
    fan_in = 3 * 3 * 5                                  # in_channels/groups * KH * KW
    for p in (conv.weight, conv.bias):
        bound = 1 / math.sqrt(fan_in)
        assert np.abs(p.data).max() <= bound
        assert p.dtype == np.float32
    w = conv.weight.data
    assert np.abs(w).max() > 0.97 / math.sqrt(fan_in)
    np.testing.assert_allclose(w.var(), 1 / (3 * fan_in), rtol=0.1)  # U(-b, b) has variance b^2/3
    linear = nn.Linear(400, 300)
    np.testing.assert_allclose(linear.weight.data.var(), 1 / (3 * 400), rtol=0.05)
    assert np.abs(linear.bias.data).max() <= 1 / 20


def test_batchnorm_init_and_buffers():
    bn = nn.BatchNorm2d(3)
    np.testing.assert_array_equal(bn.weight.data, np.ones(3))
    np.testing.assert_array_equal(bn.bias.data, np.zeros(3))
    np.testing.assert_array_equal(bn.running_mean.data, np.zeros(3))
    np.testing.assert_array_equal(bn.running_var.data, np.ones(3))
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.shape == ()
    assert list(nn.BatchNorm2d(3, affine=False).state_dict()) == [
        "running_mean", "running_var", "num_batches_tracked"]
    assert list(nn.BatchNorm2d(3, track_running_stats=False).state_dict()) == ["weight", "bias"]


def test_manual_seed_makes_models_reproducible():
    tc.manual_seed(7)
    a = snapshot(small_cnn())
    tc.manual_seed(7)
    b = snapshot(small_cnn())
    c = snapshot(small_cnn())
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["0.weight"], c["0.weight"])
    assert tc.random.initial_seed() == 7


def test_rng_state_can_be_saved_and_restored():
    tc.manual_seed(1)
    state = tc.random.get_rng_state()
    first = nn.Linear(4, 4).weight.data.copy()
    tc.random.set_rng_state(state)
    np.testing.assert_array_equal(nn.Linear(4, 4).weight.data, first)
    with pytest.raises(TypeError, match="get_rng_state"):
        tc.random.set_rng_state(3)
    with pytest.raises(TypeError, match="int"):
        tc.manual_seed(1.5)
    with pytest.raises(ValueError, match="non-negative"):
        tc.manual_seed(-1)


def test_init_functions():
    tc.manual_seed(0)
    w = nn.Parameter(np.zeros((200, 300), dtype=np.float32))
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    np.testing.assert_allclose(w.data.std(), math.sqrt(2 / 300), rtol=0.02)
    nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    assert np.abs(w.data).max() <= math.sqrt(6 / 200)
    nn.init.xavier_uniform_(w, gain=2.0)
    assert np.abs(w.data).max() <= 2 * math.sqrt(6 / 500)
    nn.init.normal_(w, mean=3.0, std=0.5)
    np.testing.assert_allclose([w.data.mean(), w.data.std()], [3.0, 0.5], rtol=0.02)
    version = w._version
    nn.init.constant_(w, 0.25)
    assert np.all(w.data == 0.25) and w._version == version + 1 and w.dtype == np.float32
    nn.init.zeros_(w)
    assert not w.data.any()
    nn.init.ones_(w)
    assert np.all(w.data == 1)
    assert nn.init.calculate_gain("tanh") == 5 / 3
    assert nn.init.calculate_gain("relu") == math.sqrt(2)
    assert nn.init.calculate_gain("leaky_relu", math.sqrt(5)) == math.sqrt(1 / 3)
    assert nn.init.calculate_gain("conv2d") == 1
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        nn.init.calculate_gain("swish")
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.kaiming_uniform_(nn.Parameter(np.zeros(3, dtype=np.float32)))
    with pytest.raises(ValueError, match="fan_in"):
        nn.init.kaiming_uniform_(w, mode="fan")


# ----------------------------------------------------------------------------------------------
# state_dict and load_state_dict


def test_state_dict_round_trip_gives_identical_outputs():
    tc.manual_seed(0)
    a = small_cnn().eval()
    tc.manual_seed(1)
    b = small_cnn().eval()
    x = tc.Tensor(np.random.randn(3, 1, 8, 8).astype(np.float32))
    assert not np.allclose(a(x).data, b(x).data)
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_state_dict_shares_memory_and_keep_vars_returns_parameters():
    model = nn.Linear(2, 2)
    sd = model.state_dict()
    assert sd["weight"].data is model.weight.data and not sd["weight"].requires_grad
    assert model.state_dict(keep_vars=True)["weight"] is model.weight


def test_load_state_dict_accepts_numpy_arrays_and_keeps_dtypes():
    model = small_cnn()
    arrays = {k: np.asarray(v, dtype=np.float64) if v.dtype.kind == "f" else np.asarray(v) + 3
              for k, v in model.state_dict().items()}
    arrays["0.weight"] = np.full((4, 1, 3, 3), 0.5)
    model.load_state_dict(arrays)
    assert model[0].weight.dtype == np.float32 and np.all(model[0].weight.data == 0.5)
    assert model[1].num_batches_tracked.item() == 3
    assert model[1].num_batches_tracked.dtype == np.int64


def test_strict_load_lists_every_problem_and_changes_nothing():
    model = small_cnn()
    before = snapshot(model)
    bad = dict(model.state_dict())
    del bad["0.bias"]
    del bad["1.running_var"]
    bad["9.weight"] = np.zeros((5, 99), dtype=np.float32)
    bad["extra.weight"] = np.zeros(1)
    bad["0.weight"] = np.ones((4, 1, 3, 3))          # a valid entry must not be copied either
    with pytest.raises(ValueError) as error:
        model.load_state_dict(bad)
    message = str(error.value)
    assert "Error(s) in loading state_dict for Sequential" in message
    assert 'Missing key(s) in state_dict: "0.bias", "1.running_var".' in message
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in message
    assert ("size mismatch for 9.weight: copying a param with shape (5, 99) from checkpoint, "
            "the shape in current model is (5, 24).") in message
    after = snapshot(model)
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_non_strict_load_reports_skipped_keys_but_refuses_wrong_shapes():
    model = nn.Linear(3, 2)
    result = model.load_state_dict({"weight": np.ones((2, 3)), "other": np.zeros(1)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["other"]
    assert np.all(model.weight.data == 1)
    with pytest.raises(ValueError, match="size mismatch for weight"):
        model.load_state_dict({"weight": np.ones((3, 2))}, strict=False)
    with pytest.raises(ValueError, match="dtype <U"):
        model.load_state_dict({"weight": np.array([["a"] * 3] * 2), "bias": np.zeros(2)})
    with pytest.raises(TypeError, match="mapping"):
        model.load_state_dict([("weight", np.ones((2, 3)))])


def test_load_state_dict_bumps_versions_of_saved_inputs():
    model = nn.Linear(2, 1)
    y = model(tc.Tensor(np.ones((1, 2), dtype=np.float32))).sum()
    model.load_state_dict(model.state_dict())
    with pytest.raises(RuntimeError, match="was modified"):
        y.backward()


# ----------------------------------------------------------------------------------------------
# Layers


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv2d_padding_modes_pad_before_a_valid_convolution(mode):
    conv = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode, dtype=np.float64)
    x = tc.Tensor(np.random.randn(2, 2, 5, 6))
    expected = F.conv2d(F.pad(x, (2, 2, 1, 1), mode=mode), conv.weight, conv.bias)
    y = conv(x)
    assert y.shape == (2, 3, 5, 8)
    np.testing.assert_array_equal(y.data, expected.data)


def test_conv2d_same_and_valid_padding():
    x = tc.Tensor(np.random.randn(1, 1, 7, 6).astype(np.float32))
    assert nn.Conv2d(1, 2, 4, padding="same")(x).shape == (1, 2, 7, 6)
    assert nn.Conv2d(1, 2, 4, padding="same", padding_mode="reflect", dilation=2)(x).shape == (1, 2, 7, 6)
    assert nn.Conv2d(1, 2, 3, padding="valid")(x).shape == (1, 2, 5, 4)


def test_conv2d_rejects_bad_settings():
    with pytest.raises(ValueError, match="in_channels=3 must be divisible by groups=2"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="out_channels must be a positive integer"):
        nn.Conv2d(1, 0, 3)
    with pytest.raises(ValueError, match="kernel_size must be >= 1"):
        nn.Conv2d(1, 1, 0)
    with pytest.raises(TypeError, match="floating point"):
        nn.Linear(2, 2, dtype=np.int32)


def test_linear_and_activation_modules_match_functional():
    x = tc.Tensor(np.random.randn(4, 3))
    fc = nn.Linear(3, 2, dtype=np.float64)
    np.testing.assert_array_equal(fc(x).data, x.data @ fc.weight.data.T + fc.bias.data)
    np.testing.assert_array_equal(nn.ReLU()(x).data, np.maximum(x.data, 0))
    np.testing.assert_array_equal(nn.Tanh()(x).data, np.tanh(x.data))
    np.testing.assert_allclose(nn.Sigmoid()(x).data, 1 / (1 + np.exp(-x.data)))
    assert nn.Flatten()(tc.Tensor(np.zeros((2, 3, 4, 5)))).shape == (2, 60)
    assert nn.Flatten(0, 1)(tc.Tensor(np.zeros((2, 3, 4)))).shape == (6, 4)


def test_pooling_modules():
    x = tc.Tensor(np.arange(32, dtype=np.float32).reshape(1, 2, 4, 4))
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x).data[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(nn.AvgPool2d(2)(x).data[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    y, index = nn.MaxPool2d(2, return_indices=True)(x)
    np.testing.assert_array_equal(index.data[0, 0], [[5, 7], [13, 15]])
    assert nn.MaxPool2d(3, stride=1, padding=1)(x).shape == (1, 2, 4, 4)
    with pytest.raises(ValueError, match="kernel_size"):
        nn.MaxPool2d(0)


def test_batchnorm_training_normalises_and_moves_running_stats():
    bn = nn.BatchNorm2d(3, dtype=np.float64)
    x = np.random.randn(4, 3, 5, 5) * 3 + 2
    y = bn(tc.Tensor(x)).data
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    expected = (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    n = 4 * 5 * 5
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * mean, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.data, 0.9 + 0.1 * var * n / (n - 1), rtol=1e-12)
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    z = bn(tc.Tensor(x)).data
    expected = (x - bn.running_mean.data[None, :, None, None]) / np.sqrt(
        bn.running_var.data[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(z, expected, rtol=1e-12)
    assert bn.num_batches_tracked.item() == 1


def test_batchnorm_momentum_none_is_the_cumulative_average():
    bn = nn.BatchNorm2d(2, momentum=None, dtype=np.float64)
    batches = [np.random.randn(3, 2, 2, 2) + k for k in range(3)]
    for x in batches:
        bn(tc.Tensor(x))
    means = [x.mean(axis=(0, 2, 3)) for x in batches]
    np.testing.assert_allclose(bn.running_mean.data, np.mean(means, axis=0), rtol=1e-12)
    assert bn.num_batches_tracked.item() == 3


def test_batchnorm_without_running_stats_uses_batch_stats_in_eval():
    bn = nn.BatchNorm2d(2, track_running_stats=False, affine=False).eval()
    x = np.random.randn(3, 2, 4, 4).astype(np.float32)
    y = bn(tc.Tensor(x)).data
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-6)


def test_batchnorm_gradient_matches_finite_differences():
    bn = nn.BatchNorm2d(2, dtype=np.float64)
    bn.weight.data[:] = [1.5, -0.5]
    x = tc.Tensor(np.random.randn(3, 2, 2, 2), requires_grad=True)
    mix = tc.Tensor(np.random.randn(3, 2, 2, 2))      # a random projection of the output

    def layer(x, weight, bias):      # BatchNorm2d's forward in training mode, on gradcheck's copies
        return F.batch_norm(x, bn.running_mean, bn.running_var, weight, bias, training=True) * mix

    assert tc.gradcheck(layer, x, bn.weight, bn.bias)


def test_batchnorm_rejects_bad_input():
    bn = nn.BatchNorm2d(3)
    with pytest.raises(ValueError, match="expected 4D input"):
        bn(tc.Tensor(np.zeros((2, 3), dtype=np.float32)))
    with pytest.raises(ValueError, match="expected 3 channels"):
        bn(tc.Tensor(np.zeros((2, 4, 2, 2), dtype=np.float32)))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(tc.Tensor(np.zeros((1, 3, 1, 1), dtype=np.float32)))


def test_dropout_drops_and_rescales_in_training_only():
    tc.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = tc.Tensor(np.ones((200, 200), dtype=np.float32))
    y = drop(x).data
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    np.testing.assert_allclose((y == 0).mean(), 0.25, atol=0.01)
    assert drop.eval()(x) is x
    assert repr(drop) == "Dropout(p=0.25, inplace=False)"
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_loss_modules_match_functional():
    logits = tc.Tensor(np.random.randn(4, 3))
    target = np.array([0, 2, 1, 2])
    weight = np.array([1.0, 2.0, 0.5])
    np.testing.assert_array_equal(nn.CrossEntropyLoss()(logits, target).data,
                                  F.cross_entropy(logits, target).data)
    loss = nn.CrossEntropyLoss(weight=weight, reduction="sum")
    assert list(loss.state_dict()) == ["weight"]
    np.testing.assert_array_equal(loss(logits, target).data,
                                  F.cross_entropy(logits, target, weight=weight, reduction="sum").data)
    logp = F.log_softmax(logits, dim=1)
    np.testing.assert_array_equal(nn.NLLLoss(ignore_index=2)(logp, target).data,
                                  F.nll_loss(logp, target, ignore_index=2).data)
    np.testing.assert_array_equal(nn.MSELoss(reduction="none")(logits, logits * 2).data,
                                  logits.data ** 2)
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


# ----------------------------------------------------------------------------------------------
# Against torch.nn


@pytest.fixture
def torch_nn():
    torch = pytest.importorskip("torch")
    return torch


def torch_small_cnn(torch):
    tnn = torch.nn
    return tnn.Sequential(tnn.Conv2d(1, 4, 3, padding=1), tnn.BatchNorm2d(4), tnn.ReLU(),
                          tnn.MaxPool2d(2), tnn.Conv2d(4, 6, 3, padding=1, padding_mode="reflect"),
                          tnn.Tanh(), tnn.AvgPool2d(2), tnn.Flatten(), tnn.Dropout(0.25),
                          tnn.Linear(6 * 2 * 2, 5), tnn.Sigmoid())


@pytest.mark.torch
def test_state_dict_keys_shapes_dtypes_match_torch(torch_nn):
    ours, theirs = small_cnn().state_dict(), torch_small_cnn(torch_nn).state_dict()
    assert list(ours) == list(theirs)
    for key in ours:
        assert ours[key].shape == tuple(theirs[key].shape), key
        assert ours[key].dtype == theirs[key].numpy().dtype, key
    assert [n for n, _ in Net().named_modules()] == [n for n, _ in torch_net(torch_nn).named_modules()]
    assert list(Net().state_dict()) == list(torch_net(torch_nn).state_dict())


def torch_net(torch):
    tnn = torch.nn

    class TorchNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.features = tnn.Sequential(tnn.Conv2d(1, 4, 3, padding=1), tnn.BatchNorm2d(4),
                                           tnn.ReLU(), tnn.MaxPool2d(2))
            self.head = tnn.Linear(4 * 4 * 4, 3)
            self.scale = tnn.Parameter(torch.ones(1))
            self.register_buffer("calls", torch.zeros((), dtype=torch.int64))
            self.register_buffer("scratch", torch.zeros(2), persistent=False)

    return TorchNet()


@pytest.mark.torch
def test_same_logits_after_moving_weights_to_torch_and_back(torch_nn):
    torch = torch_nn
    tc.manual_seed(3)
    ours = small_cnn().eval()
    theirs = torch_small_cnn(torch).eval()
    sd = ours.state_dict()
    theirs.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in sd.items()})
    x = np.random.randn(4, 1, 8, 8).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(tc.Tensor(x)).data, expected, rtol=1e-5, atol=1e-6)
    torch.manual_seed(0)
    back = torch_small_cnn(torch).eval()
    fresh = small_cnn().eval()
    fresh.load_state_dict(back.state_dict())              # torch tensors are accepted as they are
    with torch.no_grad():
        expected = back(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(fresh(tc.Tensor(x)).data, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_train_and_eval_match_torch(torch_nn, momentum):
    torch = torch_nn
    ours = nn.BatchNorm2d(3, momentum=momentum, dtype=np.float64)
    theirs = torch.nn.BatchNorm2d(3, momentum=momentum, dtype=torch.float64)
    ours.weight.data[:] = [0.5, 1.0, 2.0]
    ours.bias.data[:] = [0.1, -0.2, 0.3]
    theirs.load_state_dict({k: torch.from_numpy(np.asarray(v).copy()) for k, v in ours.state_dict().items()})
    for step in range(3):
        x = np.random.randn(4, 3, 5, 5) * (step + 1) + step
        xt = torch.tensor(x, requires_grad=True)
        y = ours(tc.Tensor(x))
        yt = theirs(xt)
        np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(np.asarray(ours.state_dict()[key]), value.numpy(), rtol=1e-12)
    ours.eval(), theirs.eval()
    x = np.random.randn(2, 3, 4, 4)
    np.testing.assert_allclose(ours(tc.Tensor(x)).data,
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12)


@pytest.mark.torch
def test_batchnorm_gradients_match_torch(torch_nn):
    torch = torch_nn
    ours = nn.BatchNorm2d(2, dtype=np.float64)
    theirs = torch.nn.BatchNorm2d(2, dtype=torch.float64)
    x = np.random.randn(3, 2, 3, 3)
    dy = np.random.randn(3, 2, 3, 3)
    xo = tc.Tensor(x, requires_grad=True)
    ours(xo).backward(dy)
    xt = torch.tensor(x, requires_grad=True)
    theirs(xt).backward(torch.tensor(dy))
    np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.bias.grad.data, theirs.bias.grad.numpy(), rtol=1e-10)


@pytest.mark.torch
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv2d_module_matches_torch(torch_nn, mode):
    torch = torch_nn
    theirs = torch.nn.Conv2d(4, 6, 3, stride=2, padding=(1, 2), dilation=(1, 2), groups=2,
                             padding_mode=mode, dtype=torch.float64)
    ours = nn.Conv2d(4, 6, 3, stride=2, padding=(1, 2), dilation=(1, 2), groups=2,
                     padding_mode=mode, dtype=np.float64)
    ours.load_state_dict(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    x = np.random.randn(2, 4, 7, 8)
    np.testing.assert_allclose(ours(tc.Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.torch
def test_reprs_match_torch(torch_nn):
    tnn = torch_nn.nn
    pairs = [(nn.Linear(3, 4, bias=False), tnn.Linear(3, 4, bias=False)),
             (nn.Conv2d(2, 4, (3, 5), stride=2, padding=1), tnn.Conv2d(2, 4, (3, 5), stride=2, padding=1)),
             (nn.MaxPool2d(3, 2, 1, ceil_mode=True), tnn.MaxPool2d(3, 2, 1, ceil_mode=True)),
             (nn.AvgPool2d(2), tnn.AvgPool2d(2)), (nn.Flatten(), tnn.Flatten()),
             (nn.ReLU(), tnn.ReLU()), (nn.Tanh(), tnn.Tanh()), (nn.Sigmoid(), tnn.Sigmoid())]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
