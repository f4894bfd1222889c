"""nn's torch API: Lazy layers, Conv1d, ConvTranspose2d, AdaptiveAvgPool2d, MaxUnpool2d,
Softmax/LogSoftmax, NLL and BCE losses, Identity, ModuleList/ModuleDict, reprs, Module.to and
an all-or-nothing load_state_dict. Torch-free tests of each rule, then the same against torch."""
import itertools
import warnings

import numpy as np
import pytest

import tinygrad_conv as tc
from tinygrad_conv import functional as F
from tinygrad_conv import nn, optim


def T(a, requires_grad=False):
    return tc.Tensor(np.asarray(a), requires_grad=requires_grad)


def randn(*shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ----------------------------------------------------------------------------------------------
# Lazy layers


def test_lazy_parameters_are_uninitialized_until_the_first_forward():
    net = nn.Sequential(nn.LazyConv2d(6, 5, padding=2), nn.Sigmoid(), nn.Flatten(), nn.LazyLinear(10))
    params = list(net.parameters())
    assert len(params) == 4 and all(isinstance(p, nn.UninitializedParameter) for p in params)
    assert repr(params[0]) == "<UninitializedParameter>"
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        params[0].shape
    with pytest.raises(ValueError, match="uninitialized parameter in numel"):
        sum(p.numel() for p in params)
    assert list(net.state_dict()) == ["0.weight", "0.bias", "3.weight", "3.bias"]
    assert repr(net[0]) == "LazyConv2d(0, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))"
    assert repr(net[3]) == "LazyLinear(in_features=0, out_features=10, bias=True)"
    y = net(T(randn(2, 3, 8, 8, dtype=np.float32)))
    assert y.shape == (2, 10)
    assert type(net[0]) is nn.Conv2d and type(net[3]) is nn.Linear
    assert [type(p) for p in net.parameters()] == [nn.Parameter] * 4
    assert params[0] is net[0].weight and params[0].shape == (6, 3, 5, 5)
    assert net[0].in_channels == 3 and net[3].in_features == 6 * 8 * 8


def test_lazy_layers_draw_the_init_of_the_full_layer():
    for lazy, full, x in [(lambda: nn.LazyLinear(4), lambda: nn.Linear(7, 4), randn(3, 7)),
                          (lambda: nn.LazyConv2d(4, 3, groups=2), lambda: nn.Conv2d(2, 4, 3, groups=2),
                           randn(1, 2, 5, 5))]:
        tc.manual_seed(11)
        layer = lazy()
        layer(T(x.astype(np.float32)))
        tc.manual_seed(11)
        reference = full()
        for a, b in zip(layer.parameters(), reference.parameters()):
            np.testing.assert_array_equal(a.data, b.data)
        assert repr(layer) == repr(reference)


def test_an_optimizer_built_before_the_dry_run_steps_the_materialized_parameters():
    net = nn.Sequential(nn.LazyLinear(3))
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    held = opt.param_groups[0]["params"][0]
    net(T(randn(2, 4, dtype=np.float32))).sum().backward()
    before = net[0].weight.data.copy()
    opt.step()
    assert held is net[0].weight and not np.array_equal(before, net[0].weight.data)
    # Adagrad creates its state at construction, so (as torch) it needs the shapes then
    with pytest.raises(ValueError, match="uninitialized.*before building the optimizer"):
        optim.Adagrad(nn.LazyLinear(3).parameters())


def test_lazy_layers_infer_from_unbatched_input_and_refuse_bad_input():
    conv = nn.LazyConv2d(2, 3)
    assert conv(T(randn(3, 5, 5, dtype=np.float32))).shape == (2, 3, 3)
    assert conv.in_channels == 3
    with pytest.raises(ValueError, match="Expected 3D .*or 4D .*input to LazyConv2d"):
        nn.LazyConv2d(2, 3)(T(randn(5, 5)))
    with pytest.raises(ValueError, match="divisible by groups=2"):
        nn.LazyConv2d(4, 3, groups=2)(T(randn(1, 3, 5, 5)))


def test_loading_into_a_lazy_model_materializes_it():
    source = nn.Sequential(nn.Linear(5, 3), nn.ReLU(), nn.Linear(3, 2))
    lazy = nn.Sequential(nn.LazyLinear(3), nn.ReLU(), nn.LazyLinear(2))
    lazy.load_state_dict(source.state_dict())
    assert type(lazy[0]) is nn.Linear and lazy[0].in_features == 5 and lazy[2].in_features == 3
    x = T(randn(4, 5, dtype=np.float32))
    np.testing.assert_array_equal(lazy(x).data, source(x).data)
    with pytest.raises(ValueError, match="uninitialized parameter"):
        source.load_state_dict(nn.Sequential(nn.LazyLinear(3), nn.ReLU(), nn.LazyLinear(2)).state_dict())
    with pytest.raises(ValueError, match="Lazy layer that has not run forward"):
        tc.save(nn.LazyLinear(2).state_dict(), __import__("io").BytesIO())


def test_lazy_batchnorm_sizes_its_parameters_and_buffers():
    bn = nn.LazyBatchNorm2d()
    assert repr(bn) == ("LazyBatchNorm2d(0, eps=1e-05, momentum=0.1, affine=True, bias=True, "
                        "track_running_stats=True)")
    assert isinstance(bn.running_mean, nn.UninitializedBuffer)
    y = bn(T(randn(4, 3, 2, 2)))
    assert type(bn) is nn.BatchNorm2d and bn.num_features == 3
    assert bn.running_var.shape == (3,) and int(bn.num_batches_tracked.data) == 1
    np.testing.assert_allclose(y.data.mean(axis=(0, 2, 3)), 0, atol=1e-7)


# ----------------------------------------------------------------------------------------------
# Convolutions


def conv_settings():
    for s, p, d, g, k in itertools.product([1, 2, 3], [0, 1, 2], [1, 2], [1, 2], [1, 3]):
        yield s, p, d, g, k


@pytest.mark.parametrize("s,p,d,g,k", list(conv_settings()), ids=str)
def test_conv_transpose2d_is_the_adjoint_of_conv2d(s, p, d, g, k):
    # <conv2d(x, W), dy> = <x, conv_transpose2d(dy, W)>: conv_transpose2d is conv2d's VJP in x
    x, w = randn(2, 4, 9, 8, seed=1), randn(6, 4 // g, k, k, seed=2)
    if d * (k - 1) + 1 > 9 + 2 * p - 1:
        return
    y = F.conv2d(T(x), T(w), stride=s, padding=p, dilation=d, groups=g)
    dy = randn(*y.shape, seed=3)
    r = tuple((n + 2 * p - d * (k - 1) - 1) % s for n in (9, 8))       # rows the conv never read
    dx = F.conv_transpose2d(T(dy), T(w), stride=s, padding=p, output_padding=r, groups=g, dilation=d)
    assert dx.shape == x.shape
    np.testing.assert_allclose((y.data * dy).sum(), (x * dx.data).sum(), rtol=1e-12)


def test_conv_transpose2d_gradients_are_exact():
    x = tc.Tensor(randn(1, 2, 3, 3), requires_grad=True)
    w = tc.Tensor(randn(2, 3, 3, 2, seed=4), requires_grad=True)
    b = tc.Tensor(randn(3, seed=5), requires_grad=True)
    assert tc.gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                           output_padding=1), x, w, b)


def test_conv_transpose2d_module_shapes_output_size_and_errors():
    layer = nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, dtype=np.float64)
    assert layer.weight.shape == (4, 3, 3, 3)
    x = T(randn(2, 4, 5, 5))
    assert layer(x).shape == (2, 3, 9, 9)
    assert layer(x, output_size=(10, 10)).shape == (2, 3, 10, 10)
    assert layer(x, output_size=[2, 3, 9, 10]).shape == (2, 3, 9, 10)
    with pytest.raises(ValueError, match=r"valid sizes range from \[9, 9\] to \[10, 10\]"):
        layer(x, output_size=(12, 12))
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="output padding must be smaller than either stride or dilation"):
        F.conv_transpose2d(x, layer.weight, output_padding=1)
    with pytest.raises(ValueError, match="expects input with 4 channels"):
        F.conv_transpose2d(T(randn(1, 3, 5, 5)), layer.weight)
    with pytest.raises(ValueError, match="too small"):
        F.conv_transpose2d(T(randn(1, 4, 1, 1)), layer.weight, padding=2)
    with pytest.raises(TypeError, match="'same'"):
        F.conv_transpose2d(x, layer.weight, padding="same")


def test_conv1d_is_conv2d_on_a_height_one_image():
    layer = nn.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2, dtype=np.float64)
    x = randn(2, 4, 11)
    expected = F.conv2d(T(x[:, :, None]), T(layer.weight.data[:, :, None]), layer.bias,
                        stride=(1, 2), padding=(0, 1), dilation=(1, 2), groups=2)
    np.testing.assert_allclose(layer(T(x)).data, expected.data[:, :, 0], rtol=1e-12)
    assert layer(T(x[0])).shape == (6, 5)
    assert repr(layer) == "Conv1d(4, 6, kernel_size=(3,), stride=(2,), padding=(1,), dilation=(2,), groups=2)"
    reflect = nn.Conv1d(1, 1, 3, padding=1, padding_mode="reflect", bias=False, dtype=np.float64)
    reflect.weight.data[...] = [[[1, 0, 0]]]
    np.testing.assert_array_equal(reflect(T(np.array([[[1.0, 2, 3]]]))).data, [[[2, 1, 2]]])
    assert nn.Conv1d(2, 2, 4, padding="same")(T(randn(1, 2, 7, dtype=np.float32))).shape == (1, 2, 7)
    with pytest.raises(ValueError, match="weight must be 3-D"):
        F.conv1d(T(x), T(randn(6, 2, 3, 1)))
    with pytest.raises(ValueError, match="expects input with 2 channels"):
        F.conv1d(T(x), T(randn(6, 2, 3)))
    with pytest.raises(ValueError, match="1-tuple"):
        nn.Conv1d(2, 2, (3, 3))


# ----------------------------------------------------------------------------------------------
# Pooling


def adaptive_naive(x, OH, OW):
    H, W = x.shape[2:]
    out = np.zeros(x.shape[:2] + (OH, OW))
    for i in range(OH):
        for j in range(OW):
            h0, h1 = (i * H) // OH, -(-((i + 1) * H) // OH)
            w0, w1 = (j * W) // OW, -(-((j + 1) * W) // OW)
            out[:, :, i, j] = x[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
    return out


@pytest.mark.parametrize("H,W,size", [(5, 7, (3, 2)), (8, 8, 4), (6, 6, 1), (5, 7, (None, 3)),
                                      (3, 3, (5, 7)), (7, 5, (4, 4))], ids=str)
def test_adaptive_avg_pool2d_uses_torchs_windows(H, W, size):
    x = randn(2, 3, H, W)
    OH, OW = (size, size) if isinstance(size, int) else (size[0] or H, size[1] or W)
    y = nn.AdaptiveAvgPool2d(size)(T(x))
    np.testing.assert_allclose(y.data, adaptive_naive(x, OH, OW), rtol=1e-12)
    xt = tc.Tensor(randn(1, 2, H, W), requires_grad=True)
    assert tc.gradcheck(lambda v: F.adaptive_avg_pool2d(v, size), xt)


def test_adaptive_avg_pool2d_edge_cases():
    assert repr(nn.AdaptiveAvgPool2d((None, 3))) == "AdaptiveAvgPool2d(output_size=(None, 3))"
    assert F.adaptive_avg_pool2d(T(randn(2, 3, 4, 4)), 0).shape == (2, 3, 0, 0)
    assert F.adaptive_avg_pool2d(T(randn(3, 4, 4)), 2).shape == (3, 2, 2)
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        F.adaptive_avg_pool2d(T(randn(1, 1, 4, 4)), -1)
    with pytest.raises(ValueError, match="non-zero"):
        F.adaptive_avg_pool2d(T(randn(1, 1, 0, 4)), 2)
    with pytest.raises(TypeError, match="floating-point"):
        F.adaptive_avg_pool2d(tc.Tensor(np.ones((1, 1, 4, 4), dtype=np.int64)), 2)


def test_max_unpool2d_puts_the_maxima_back():
    x = randn(2, 3, 6, 6)
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    y, index = pool(T(x))
    back = unpool(y, index)
    expected = np.where(x == np.repeat(np.repeat(y.data, 2, 2), 2, 3), x, 0)
    np.testing.assert_array_equal(back.data, expected)
    assert unpool(y, index, output_size=(7, 7)).shape == (2, 3, 7, 7)
    assert repr(unpool) == "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
    v = tc.Tensor(randn(2, 3, 3, 3), requires_grad=True)
    assert tc.gradcheck(lambda v: F.max_unpool2d(v, index, 2), v)


def test_max_unpool2d_repeated_indices_keep_the_last_write():
    index = tc.Tensor(np.array([[[[1, 1], [4, 4]]]]))
    values = tc.Tensor(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), requires_grad=True)
    out = F.max_unpool2d(values, index, 2, 1, output_size=(3, 3))
    np.testing.assert_array_equal(out.data, [[[[0, 2, 0], [0, 4, 0], [0, 0, 0]]]])
    out.backward(np.arange(9.0).reshape(1, 1, 3, 3))
    np.testing.assert_array_equal(values.grad.data, [[[[0, 1], [0, 4]]]])   # only the writes count


def test_max_unpool2d_errors():
    y, index = F.max_pool2d(T(randn(1, 1, 4, 4)), 2, return_indices=True)
    with pytest.raises(TypeError, match="int64"):
        F.max_unpool2d(y, index.data.astype(np.float64), 2)
    with pytest.raises(ValueError, match="indices of the input's shape"):
        F.max_unpool2d(y, index.data[..., :1], 2)
    with pytest.raises(ValueError, match="invalid max index 20"):
        F.max_unpool2d(y, index.data * 0 + 20, 2)
    with pytest.raises(ValueError, match=r"dim 0 must be between 2 and 6"):
        F.max_unpool2d(y, index, 2, output_size=(7, 7))


# ----------------------------------------------------------------------------------------------
# Activations and losses


def test_softmax_modules_take_dim_and_warn_when_it_is_implicit():
    x = T(randn(2, 3))
    np.testing.assert_allclose(nn.Softmax(dim=1)(x).data.sum(1), 1)
    np.testing.assert_allclose(nn.LogSoftmax(1)(x).data, F.log_softmax(x, dim=1).data)
    assert repr(nn.Softmax(dim=-1)) == "Softmax(dim=-1)" and repr(nn.LogSoftmax()) == "LogSoftmax(dim=None)"
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = nn.Softmax()(x)
    np.testing.assert_allclose(y.data.sum(1), 1)                  # 2-D: dim 1, as torch


def test_nll_loss_takes_log_probabilities_not_logits():
    logits, target = T(randn(5, 4)), np.array([0, 3, 1, 1, 2])
    logp = F.log_softmax(logits, dim=1)
    nll = nn.NLLLoss()(logp, target)
    np.testing.assert_allclose(nll.data, -logp.data[np.arange(5), target].mean(), rtol=1e-12)
    np.testing.assert_allclose(nll.data, nn.CrossEntropyLoss()(logits, target).data, rtol=1e-12)
    np.testing.assert_allclose(nn.NLLLoss()(logits, target).data,
                               -logits.data[np.arange(5), target].mean(), rtol=1e-12)
    weighted = nn.NLLLoss(weight=np.array([1.0, 2, 3, 4]), reduction="sum", ignore_index=1)
    w = np.array([1.0, 4, 0, 0, 3])
    np.testing.assert_allclose(weighted(logp, target).data,
                               -(w * logp.data[np.arange(5), target]).sum(), rtol=1e-12)
    assert not hasattr(nn.NLLLoss(), "label_smoothing")


def bce_naive(p, y, w=1.0):
    with np.errstate(divide="ignore"):
        return -w * (y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log(1 - p), -100))


def test_bce_loss_formula_clamp_and_weights():
    p = np.array([0.2, 0.7, 1.0, 0.0, 0.5])
    y = np.array([0.0, 1.0, 0.0, 1.0, 0.3])
    w = np.array([1.0, 2.0, 0.5, 1.0, 3.0])
    np.testing.assert_allclose(F.binary_cross_entropy(T(p), T(y), reduction="none").data,
                               bce_naive(p, y), rtol=1e-12)
    np.testing.assert_allclose(nn.BCELoss(weight=w, reduction="sum")(T(p), T(y)).data,
                               bce_naive(p, y, w).sum(), rtol=1e-12)
    x = tc.Tensor(p, requires_grad=True)
    F.binary_cross_entropy(x, T(y)).backward()
    assert np.isfinite(x.grad.data).all()                # log(0) is clamped: no inf, no nan
    assert x.grad.data[2] == 0 and x.grad.data[3] == 0   # the clamped constant's gradient
    xs = tc.Tensor(np.array([0.2, 0.7, 0.4]), requires_grad=True)
    assert tc.gradcheck(lambda v: F.binary_cross_entropy(v, T(np.array([0.0, 1, 0.5]))), xs)


def test_bce_with_logits_is_stable_and_matches_the_sigmoid_form():
    x = np.array([-3.0, -0.5, 0.0, 2.0, 4.0])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    pw = np.array([2.0])
    sig = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(T(x), T(y), reduction="none").data,
                               bce_naive(sig, y), rtol=1e-12)
    expected = -(pw * y * np.log(sig) + (1 - y) * np.log(1 - sig))
    np.testing.assert_allclose(nn.BCEWithLogitsLoss(pos_weight=pw, reduction="none")(T(x), T(y)).data,
                               expected, rtol=1e-12)
    huge = tc.Tensor(np.array([-1000.0, 1000.0]), requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(huge, T(np.array([1.0, 0.0])), reduction="sum")
    np.testing.assert_allclose(loss.data, 2000.0)
    loss.backward()
    np.testing.assert_allclose(huge.grad.data, [-1.0, 1.0])
    xs = tc.Tensor(randn(3, 2), requires_grad=True)
    assert tc.gradcheck(lambda v: F.binary_cross_entropy_with_logits(
        v, T(np.array([[0.0, 1], [1, 0], [0.5, 0.5]])), weight=T(np.array([1.0, 2.0])),
        pos_weight=T(np.array([3.0, 0.5]))), xs)
    assert list(nn.BCEWithLogitsLoss(pos_weight=pw).state_dict()) == ["pos_weight"]


def test_bce_errors_and_legacy_reduction_flags():
    p, y = T(np.array([0.5, 0.5])), T(np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="between 0 and 1.*sigmoid"):
        F.binary_cross_entropy(T(np.array([1.5, 0.5])), y)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(T(np.array([np.nan, 0.5])), y)
    with pytest.raises(ValueError, match=r"target size \(2, 1\) must be the same as input size \(2,\)"):
        F.binary_cross_entropy_with_logits(p, T(np.ones((2, 1))))
    with pytest.raises(TypeError, match="target has dtype int64"):
        F.binary_cross_entropy(p, np.array([1, 0]))
    with pytest.raises(ValueError, match="weight of shape"):
        F.binary_cross_entropy(p, y, weight=np.ones(3))
    with pytest.raises(ValueError, match="pos_weight of shape"):
        F.binary_cross_entropy_with_logits(T(np.ones((2, 4))), T(np.ones((2, 4))), pos_weight=np.ones(3))
    with pytest.raises(ValueError, match="reduction"):
        nn.BCELoss(reduction="avg")
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert nn.BCELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert F.binary_cross_entropy(p, y, reduce=False).shape == (2,)


# ----------------------------------------------------------------------------------------------
# Containers, reprs, inplace flags


def test_module_list_behaves_like_a_list_and_registers_its_modules():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and layers[-1] is layers[2] and isinstance(layers[1:], nn.ModuleList)
    layers.append(nn.ReLU())
    layers.extend([nn.Tanh()])
    layers.insert(1, nn.Sigmoid())
    layers.insert(-1, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Linear", "Sigmoid", "Linear", "Linear", "ReLU",
                                                  "Identity", "Tanh"]
    assert isinstance(layers.pop(1), nn.Sigmoid)
    del layers[0]
    assert list(layers.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    layers[0] = nn.Linear(2, 5)
    assert layers.state_dict()["0.weight"].shape == (5, 2)
    with pytest.raises(IndexError, match="out of range"):
        layers[10]
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        nn.ModuleList([1])
    with pytest.raises(NotImplementedError, match="forward"):
        layers(T(randn(1, 2)))
    assert repr(nn.ModuleList()) == "ModuleList()"
    assert repr(nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Linear(1, 1), nn.ReLU()])) == (
        "ModuleList(\n  (0-1): 2 x ReLU()\n  (2): Linear(in_features=1, out_features=1, bias=True)\n"
        "  (3): ReLU()\n)")


def test_module_dict_behaves_like_a_dict_and_registers_its_modules():
    heads = nn.ModuleDict({"b": nn.Linear(2, 1), "a": nn.Linear(2, 3)})
    assert list(heads) == ["b", "a"] and "a" in heads and len(heads) == 2
    heads.update([("c", nn.ReLU())])
    heads["d"] = nn.Linear(1, 1)
    assert list(heads.keys()) == ["b", "a", "c", "d"]
    assert isinstance(heads.pop("c"), nn.ReLU)
    assert list(heads.state_dict()) == ["b.weight", "b.bias", "a.weight", "a.bias", "d.weight", "d.bias"]
    with pytest.raises(KeyError):
        heads["zz"]
    with pytest.raises(ValueError, match="element #0 should be a"):
        heads.update([nn.ReLU()])

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(3, 3), nn.Linear(3, 3)])
            self.heads = nn.ModuleDict({"out": nn.Linear(3, 1)})

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return self.heads["out"](x)

    net = Net()
    assert net(T(randn(2, 3, dtype=np.float32))).shape == (2, 1)
    assert len(list(net.parameters())) == 6


def test_sequential_list_methods():
    seq = nn.Sequential(nn.ReLU())
    seq.extend([nn.Tanh()])
    seq.insert(0, nn.Sigmoid())
    assert isinstance(seq.pop(0), nn.Sigmoid) and [type(m) for m in seq] == [nn.ReLU, nn.Tanh]
    assert repr(seq[-1:]) == "Sequential(\n  (1): Tanh()\n)"          # slices keep the names
    del seq[0]
    assert list(seq._modules) == ["0"]
    assert len(seq + nn.Sequential(nn.ReLU())) == 2


def test_identity_and_inplace_flags():
    x = T(randn(2, 3))
    assert nn.Identity(54, unused="x")(x) is x and repr(nn.Identity()) == "Identity()"
    before = x.data.copy()
    np.testing.assert_array_equal(nn.ReLU(inplace=True)(x).data, np.maximum(before, 0))
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)" and repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.Dropout(0.25, inplace=True)) == "Dropout(p=0.25, inplace=True)"
    assert repr(nn.BatchNorm2d(3, bias=False)) == ("BatchNorm2d(3, eps=1e-05, momentum=0.1, "
                                                   "affine=True, bias=False, track_running_stats=True)")
    assert list(nn.BatchNorm2d(3, bias=False).state_dict()) == ["weight", "running_mean",
                                                                "running_var", "num_batches_tracked"]


# ----------------------------------------------------------------------------------------------
# Module.to, devices, load_state_dict


class DeviceLike:
    """Stands for torch.device / tc.device: only its str() is read."""

    def __init__(self, name):
        self.name = name

    def __str__(self):
        return self.name


def test_module_to_accepts_the_cpu_and_refuses_other_devices():
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm2d(2))
    for device in ("cpu", "cpu:0", DeviceLike("cpu")):
        assert net.to(device) is net and net.cpu() is net
    assert net[0].weight.dtype == np.float32
    for device in ("cuda", "cuda:0", DeviceLike("cuda:1"), "mps", 0):
        with pytest.raises(RuntimeError, match="runs on the CPU only"):
            net.to(device)
    with pytest.raises(RuntimeError, match="CPU only"):
        net.cuda()
    with pytest.raises(RuntimeError, match="CPU only"):
        nn.Linear(2, 2, device="cuda")


def test_module_to_converts_dtypes_in_every_spelling():
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm2d(2))
    assert net.to(np.float64)[0].weight.dtype == np.float64
    assert net.to("cpu", np.float32)[0].weight.dtype == np.float32
    assert net.to(device="cpu", dtype=np.float64)[1].running_mean.dtype == np.float64
    assert net.to(T(np.zeros(1, dtype=np.float32)))[0].bias.dtype == np.float32
    assert net.to(DeviceLike("torch.float64"))[0].weight.dtype == np.float64  # a dtype object by name
    assert net.half()[0].weight.dtype == np.float16 and net.float()[0].weight.dtype == np.float32
    assert net.double()[1].num_batches_tracked.dtype == np.int64
    with pytest.raises(TypeError, match="floating-point"):
        net.to(np.int64)


def test_load_state_dict_checks_everything_before_writing_anything():
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    frozen = np.ones((2, 2), dtype=np.float32)
    frozen.flags.writeable = False
    net[0].weight = nn.Parameter(frozen)                 # a read-only target
    before = {k: v.data.copy() for k, v in net.state_dict().items()}
    bad = {k: np.full(v.shape, 7.0) for k, v in before.items()}
    bad["1.bias"] = np.zeros(3)                           # the last key is wrong
    with pytest.raises(ValueError, match="size mismatch for 1.bias"):
        net.load_state_dict(bad)
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(value.data, before[key])
    good = {k: np.full(v.shape, 7.0) for k, v in before.items()}
    net.load_state_dict(good)
    assert all((v.data == 7).all() and v.dtype == np.float32 for v in net.state_dict().values())


# ----------------------------------------------------------------------------------------------
# Against torch


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def every_layer(nn):
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
        nn.MaxPool2d(2, 2), nn.Conv2d(8, 8, (3, 5), stride=2, padding=1, dilation=2, groups=4,
                                      padding_mode="reflect"),
        nn.Tanh(), nn.Sigmoid(), nn.AvgPool2d(3, 2, 1), nn.AdaptiveAvgPool2d((2, 3)),
        nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1),
        nn.Identity(), nn.Dropout(0.3), nn.Flatten(),
        nn.Linear(4 * 4 * 6, 10), nn.LogSoftmax(dim=1), nn.Softmax(dim=-1),
        nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()]),
        nn.ModuleDict({"head": nn.Linear(2, 1), "act": nn.ReLU()}),
        nn.LazyLinear(5), nn.LazyConv2d(3, 2), nn.LazyBatchNorm2d(),
        nn.Conv1d(3, 4, 5, stride=2, padding=2, bias=False), nn.MaxUnpool2d(2),
        nn.CrossEntropyLoss(), nn.NLLLoss(), nn.MSELoss(), nn.BCELoss(), nn.BCEWithLogitsLoss(),
        nn.Sequential(), nn.Dropout(), nn.MaxPool2d(3, 2, 1, ceil_mode=True))


@pytest.mark.torch
def test_printed_models_equal_torchs(torch):
    # (d2l's LeNet before and after its first forward, the blitz and CIFAR Nets are printed
    # against torch's by test_snippets_nn_torch)
    assert repr(every_layer(nn)) == repr(every_layer(torch.nn))
    ours, theirs = nn.Sequential(nn.LazyConv2d(4, 3), nn.Flatten(), nn.LazyLinear(2)), \
        torch.nn.Sequential(torch.nn.LazyConv2d(4, 3), torch.nn.Flatten(), torch.nn.LazyLinear(2))
    ours(T(randn(1, 2, 5, 5, dtype=np.float32)))
    theirs(torch.rand(1, 2, 5, 5))
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]


@pytest.mark.torch
def test_container_state_dict_keys_equal_torchs(torch):
    def build(nn):
        m = nn.ModuleDict({"b": nn.ModuleList([nn.Linear(2, 2), nn.BatchNorm2d(2)]), "a": nn.Linear(2, 1)})
        m["b"].insert(1, nn.Linear(2, 2))
        m["b"].append(nn.ReLU())
        return m
    assert list(build(nn).state_dict()) == list(build(torch.nn).state_dict())


TRANSPOSED = [(s, p, op, d, g) for s, p, op, d, g in
              itertools.product([1, 2, 3], [0, 1, 2], [0, 1, 2], [1, 2], [1, 2]) if op < max(s, d)]


@pytest.mark.torch
@pytest.mark.parametrize("s,p,op,d,g", TRANSPOSED, ids=str)
def test_conv_transpose2d_matches_torch(torch, s, p, op, d, g):
    x, w, b = randn(2, 4, 5, 6, seed=7), randn(4, 3, 3, 2, seed=8), randn(3 * g, seed=9)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    yt = torch.nn.functional.conv_transpose2d(xt, wt, bt, s, p, op, g, d)
    dy = randn(*yt.shape, seed=10)
    yt.backward(torch.tensor(dy))
    xo, wo, bo = (tc.Tensor(a, requires_grad=True) for a in (x, w, b))
    yo = F.conv_transpose2d(xo, wo, bo, s, p, op, g, d)
    yo.backward(dy)
    for ours, theirs in ((yo, yt), (xo.grad, xt.grad), (wo.grad, wt.grad), (bo.grad, bt.grad)):
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    with tc.no_grad():                                   # the stride-phase form of dX
        np.testing.assert_allclose(F.conv_transpose2d(T(x), T(w), T(b), s, p, op, g, d).data,
                                   yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    layer = torch.nn.ConvTranspose2d(4, 3 * g, (3, 2), s, p, op, g, True, d, dtype=torch.float64)
    ours_layer = nn.ConvTranspose2d(4, 3 * g, (3, 2), s, p, op, g, True, d, dtype=np.float64)
    ours_layer.load_state_dict(layer.state_dict())
    assert repr(ours_layer) == repr(layer)
    np.testing.assert_allclose(ours_layer(T(x)).data, layer(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_conv1d_and_pooling_modules_match_torch(torch):
    pairs = [(nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2, padding_mode="circular",
                        dtype=np.float64),
              torch.nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2,
                              padding_mode="circular", dtype=torch.float64), randn(2, 4, 13)),
             (nn.Conv1d(4, 2, 4, padding="same", dtype=np.float64),
              torch.nn.Conv1d(4, 2, 4, padding="same", dtype=torch.float64), randn(2, 4, 9))]
    for size in [(3, 2), 1, (None, 4), (7, 9), 5]:
        pairs.append((nn.AdaptiveAvgPool2d(size), torch.nn.AdaptiveAvgPool2d(size), randn(2, 3, 5, 7)))
    for ours, theirs, x in pairs:
        ours.load_state_dict(theirs.state_dict())
        assert repr(ours) == repr(theirs)
        xo, xt = tc.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        np.testing.assert_allclose(yo.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        dy = randn(*yt.shape, seed=3)
        yo.backward(dy)
        yt.backward(torch.tensor(dy))
        np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("k,s,p", [(2, 2, 0), (3, 2, 1), (2, 1, 0), (3, 3, 1)], ids=str)
def test_max_unpool2d_matches_torch(torch, k, s, p):
    x = randn(2, 3, 7, 7)
    yo, io = F.max_pool2d(T(x), k, s, p, return_indices=True)
    yt, it = torch.nn.functional.max_pool2d(torch.tensor(x), k, s, p, return_indices=True)
    np.testing.assert_array_equal(io.data, it.numpy())
    v = randn(*yt.shape, seed=2)
    ours = nn.MaxUnpool2d(k, s, p)(T(v), io, output_size=(7, 7))
    theirs = torch.nn.MaxUnpool2d(k, s, p)(torch.tensor(v), it, output_size=(7, 7))
    np.testing.assert_array_equal(ours.data, theirs.numpy())


@pytest.mark.torch
def test_losses_and_softmax_modules_match_torch(torch):
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((6, 4)) * 4, (rng.random((6, 4)) > 0.5).astype(float)
    p = 1 / (1 + np.exp(-x))
    p[0, 0], p[1, 1] = 0.0, 1.0                            # the clamped ends of log
    w, pw, labels = rng.random(4), rng.random(4) * 3, rng.integers(0, 4, 6)
    cases = [("BCELoss", dict(), p, y), ("BCELoss", dict(weight=w, reduction="sum"), p, y),
             ("BCELoss", dict(reduction="none"), p, y),
             ("BCEWithLogitsLoss", dict(), x, y),
             ("BCEWithLogitsLoss", dict(weight=w, pos_weight=pw, reduction="none"), x, y),
             ("BCEWithLogitsLoss", dict(pos_weight=pw, reduction="sum"), x * 100, y),
             ("NLLLoss", dict(), x, labels), ("NLLLoss", dict(weight=w, reduction="sum"), x, labels),
             ("CrossEntropyLoss", dict(label_smoothing=0.1), x, labels)]
    for name, kwargs, inp, target in cases:
        theirs = getattr(torch.nn, name)(**{k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                                            for k, v in kwargs.items()})
        ours = getattr(nn, name)(**kwargs)
        assert repr(ours) == repr(theirs)
        it = torch.tensor(inp, requires_grad=True)
        io = tc.Tensor(inp, requires_grad=True)
        lt, lo = theirs(it, torch.tensor(target)), ours(io, target if target.dtype == np.int64 else T(target))
        np.testing.assert_allclose(lo.data, lt.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = rng.standard_normal(lt.shape)
        lt.backward(torch.tensor(g))
        lo.backward(g)
        grad = xt_grad = it.grad.numpy()
        if name == "BCELoss":                               # torch: (p - y) / 1e-12 where clamped
            grad = np.where((inp == 0) | (inp == 1), 0, xt_grad)
        np.testing.assert_allclose(io.grad.data, grad, rtol=1e-8, atol=1e-10)
    for ours, theirs in [(nn.Softmax(dim=0), torch.nn.Softmax(dim=0)),
                         (nn.LogSoftmax(dim=1), torch.nn.LogSoftmax(dim=1))]:
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(ours(T(x)).data, theirs(torch.tensor(x)).numpy(), rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for shape in [(4,), (2, 3), (2, 3, 4), (2, 3, 4, 5)]:
            z = randn(*shape)
            np.testing.assert_allclose(nn.Softmax()(T(z)).data,
                                       torch.nn.Softmax()(torch.tensor(z)).numpy(), rtol=1e-12)


@pytest.mark.torch
def test_module_to_accepts_torch_devices_and_dtypes(torch):
    net = nn.Linear(2, 2)
    assert net.to(torch.device("cpu")) is net
    assert net.to(torch.float64).weight.dtype == np.float64
    with pytest.raises(RuntimeError, match="CPU only"):
        net.to(torch.device("cuda:0"))
