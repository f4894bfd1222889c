"""Losses, softmax, dropout and batch_norm in functional: values against the formulas, stability,
exact gradients (finite differences in float64), argument errors, and torch when installed."""
import warnings

import numpy as np
import pytest

import tinygrad_conv as tc
from tinygrad_conv import functional as F


def numpy_log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


# ----------------------------------------------------------------------------------------------
# softmax and log_softmax


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax_values(dim):
    x = np.random.randn(4, 5)
    p = F.softmax(tc.Tensor(x), dim=dim).data
    np.testing.assert_allclose(p, np.exp(x) / np.exp(x).sum(axis=dim, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(p.sum(axis=dim), 1, rtol=1e-12)
    np.testing.assert_allclose(F.log_softmax(tc.Tensor(x), dim=dim).data, np.log(p), rtol=1e-12)


def test_large_logits_are_stable():
    x = tc.Tensor(np.array([[1000.0, 0.0, -1000.0], [-1e4, -1e4, -1e4]], dtype=np.float32),
                  requires_grad=True)
    logp = F.log_softmax(x, dim=1)
    np.testing.assert_array_equal(logp.data[0], [0, -1000, -2000])
    np.testing.assert_allclose(logp.data[1], np.log(1 / 3), rtol=1e-6)
    np.testing.assert_array_equal(F.softmax(x, dim=1).data[0], [1, 0, 0])
    loss = F.cross_entropy(x, np.array([2, 0]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.data).all()
    np.testing.assert_allclose(loss.item(), (2000 - np.log(1 / 3)) / 2, rtol=1e-6)


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
def test_softmax_gradients_are_exact(fn):
    x = tc.Tensor(np.random.randn(3, 4), requires_grad=True)
    mix = tc.Tensor(np.random.randn(3, 4))
    assert tc.gradcheck(lambda x: fn(x, dim=1) * mix, x)
    assert tc.gradcheck(lambda x: fn(x, dim=0) * mix, x)


def test_softmax_needs_a_dim():
    with pytest.raises(ValueError, match="dim must be given"):
        F.softmax(tc.Tensor(np.zeros((2, 3))))
    with pytest.raises(ValueError, match="out of range"):
        F.log_softmax(tc.Tensor(np.zeros((2, 3))), dim=2)


# ----------------------------------------------------------------------------------------------
# cross_entropy and nll_loss


@pytest.mark.parametrize("as_tensor", [False, True])
def test_cross_entropy_is_the_mean_negative_log_probability(as_tensor):
    x = np.random.randn(6, 4)
    t = np.array([0, 3, 1, 1, 2, 3])
    target = tc.Tensor(t) if as_tensor else t
    per_sample = -numpy_log_softmax(x, 1)[np.arange(6), t]
    np.testing.assert_allclose(F.cross_entropy(tc.Tensor(x), target).item(), per_sample.mean(),
                               rtol=1e-12)
    np.testing.assert_allclose(F.cross_entropy(tc.Tensor(x), target, reduction="sum").item(),
                               per_sample.sum(), rtol=1e-12)
    np.testing.assert_allclose(F.cross_entropy(tc.Tensor(x), target, reduction="none").data,
                               per_sample, rtol=1e-12)


def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_n():
    x = np.random.randn(5, 3)
    t = np.array([2, 0, 1, 2, 2])
    logits = tc.Tensor(x, requires_grad=True)
    F.cross_entropy(logits, t).backward()
    one_hot = np.eye(3)[t]
    np.testing.assert_allclose(logits.grad.data, (np.exp(numpy_log_softmax(x, 1)) - one_hot) / 5,
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_gradients_match_finite_differences(reduction):
    x = tc.Tensor(np.random.randn(4, 3), requires_grad=True)
    t = np.array([0, 2, 1, 2])
    w = np.array([0.5, 2.0, 1.0])
    assert tc.gradcheck(lambda x: F.cross_entropy(x, t, weight=w, reduction=reduction), x)
    assert tc.gradcheck(lambda x: F.cross_entropy(x, t, ignore_index=2, reduction=reduction), x)


def test_cross_entropy_with_weights_and_ignore_index():
    x = np.random.randn(5, 3)
    t = np.array([0, 2, -100, 1, 2])
    w = np.array([0.5, 2.0, 1.5])
    kept = t != -100
    logp = numpy_log_softmax(x, 1)[np.arange(5)[kept], t[kept]]
    weights = w[t[kept]]
    np.testing.assert_allclose(F.cross_entropy(tc.Tensor(x), t, weight=w).item(),
                               -(weights * logp).sum() / weights.sum(), rtol=1e-12)
    none = F.cross_entropy(tc.Tensor(x), t, weight=w, reduction="none").data
    assert none[2] == 0 and none.shape == (5,)


def test_cross_entropy_unbatched_and_spatial_targets():
    x = np.random.randn(3)
    np.testing.assert_allclose(F.cross_entropy(tc.Tensor(x), np.array(1)).item(),
                               -numpy_log_softmax(x, 0)[1], rtol=1e-12)
    image = np.random.randn(2, 4, 3, 3)                  # a class score per pixel
    labels = np.random.randint(0, 4, size=(2, 3, 3))
    logp = numpy_log_softmax(image, 1)
    expected = -np.take_along_axis(logp, labels[:, None], axis=1)[:, 0]
    np.testing.assert_allclose(F.cross_entropy(tc.Tensor(image), labels, reduction="none").data,
                               expected, rtol=1e-12)
    x = tc.Tensor(image, requires_grad=True)
    assert tc.gradcheck(lambda x: F.cross_entropy(x, labels), x)


def test_cross_entropy_with_class_probabilities():
    x = np.random.randn(4, 3)
    p = np.random.rand(4, 3)
    p /= p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(F.cross_entropy(tc.Tensor(x), tc.Tensor(p)).item(),
                               -(p * numpy_log_softmax(x, 1)).sum(axis=1).mean(), rtol=1e-12)
    logits = tc.Tensor(x, requires_grad=True)
    assert tc.gradcheck(lambda z: F.cross_entropy(z, p, weight=np.array([1.0, 2.0, 0.5])), logits)
    with pytest.raises(ValueError, match="class probabilities"):
        F.cross_entropy(tc.Tensor(x), np.random.rand(4))


def test_nll_loss_picks_the_target_entries():
    logp = np.log(np.random.dirichlet(np.ones(4), size=3))
    t = np.array([3, 0, 2])
    np.testing.assert_allclose(F.nll_loss(tc.Tensor(logp), t).item(),
                               -logp[np.arange(3), t].mean(), rtol=1e-12)
    x = tc.Tensor(logp, requires_grad=True)
    assert tc.gradcheck(lambda x: F.nll_loss(x, t, reduction="sum"), x)


def test_class_target_errors_name_the_problem():
    x = tc.Tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="class index 4, but the input has 4 classes"):
        F.cross_entropy(x, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match="class index -1"):
        F.nll_loss(x, np.array([0, -1, 1]))
    with pytest.raises(ValueError, match=r"expected one class index per row, shape \(3,\)"):
        F.cross_entropy(x, np.array([[0], [1], [2]]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.nll_loss(x, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none'"):
        F.cross_entropy(x, np.array([0, 1, 2]), reduction="average")
    with pytest.raises(ValueError, match=r"weight must have shape \(4,\)"):
        F.nll_loss(x, np.array([0, 1, 2]), weight=np.ones(3))


# ----------------------------------------------------------------------------------------------
# mse_loss


def test_mse_loss_values_and_gradient():
    a, b = np.random.randn(3, 2), np.random.randn(3, 2)
    np.testing.assert_allclose(F.mse_loss(tc.Tensor(a), tc.Tensor(b)).item(), ((a - b) ** 2).mean(),
                               rtol=1e-12)
    np.testing.assert_allclose(F.mse_loss(tc.Tensor(a), b, reduction="sum").item(),
                               ((a - b) ** 2).sum(), rtol=1e-12)
    x = tc.Tensor(a, requires_grad=True)
    y = tc.Tensor(b, requires_grad=True)
    assert tc.gradcheck(lambda x, y: F.mse_loss(x, y, reduction="none"), x, y)


def test_mse_loss_warns_when_shapes_broadcast():
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(tc.Tensor(np.zeros((3, 1))), tc.Tensor(np.zeros(3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.mse_loss(tc.Tensor(np.zeros(3)), tc.Tensor(np.zeros(3)))


# ----------------------------------------------------------------------------------------------
# dropout and batch_norm


def test_dropout_keeps_the_expectation_and_follows_the_seed():
    x = tc.Tensor(np.ones((100, 100)), requires_grad=True)
    tc.manual_seed(5)
    y = F.dropout(x, p=0.4)
    np.testing.assert_allclose(y.data.mean(), 1.0, atol=0.03)
    assert set(np.unique(y.data)) == {0.0, 1 / 0.6}
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, y.data)     # dy/dx is the scaled mask
    tc.manual_seed(5)
    np.testing.assert_array_equal(F.dropout(x, p=0.4).data, y.data)
    assert F.dropout(x, p=0.4, training=False) is x
    assert F.dropout(x, p=0.0) is x
    assert not F.dropout(x, p=1.0).data.any()
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, p=-0.1)
    with pytest.raises(TypeError, match="number"):
        F.dropout(x, p="half")


def test_batch_norm_functional_modes():
    x = np.random.randn(4, 3, 2, 2)
    mean, var = tc.Tensor(np.zeros(3)), tc.Tensor(np.ones(3))
    y = F.batch_norm(tc.Tensor(x), None, None, training=True).data
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-4)
    y = F.batch_norm(tc.Tensor(x), mean, var, momentum=0.5, training=True)
    np.testing.assert_allclose(mean.data, 0.5 * x.mean(axis=(0, 2, 3)), rtol=1e-12)
    assert mean._version == 1 and var._version == 1
    z = F.batch_norm(tc.Tensor(x), mean, var, weight=np.full(3, 2.0), bias=np.ones(3)).data
    expected = (x - mean.data[:, None, None]) / np.sqrt(var.data[:, None, None] + 1e-5) * 2 + 1
    np.testing.assert_allclose(z, expected, rtol=1e-12)
    numpy_mean = np.zeros(3)                               # numpy stats are updated in place too
    F.batch_norm(tc.Tensor(x), numpy_mean, np.ones(3), training=True)
    np.testing.assert_allclose(numpy_mean, 0.1 * x.mean(axis=(0, 2, 3)), rtol=1e-12)
    flat = F.batch_norm(tc.Tensor(np.random.randn(5, 3)), None, None, training=True).data
    np.testing.assert_allclose(flat.mean(axis=0), 0, atol=1e-12)
    with pytest.raises(ValueError, match="running_mean and running_var must be given"):
        F.batch_norm(tc.Tensor(x), None, None)
    with pytest.raises(ValueError, match=r"running_mean must have shape \(3,\)"):
        F.batch_norm(tc.Tensor(x), tc.Tensor(np.zeros(2)), var)


# ----------------------------------------------------------------------------------------------
# Against torch.nn.functional


@pytest.mark.torch
def test_losses_and_gradients_match_torch():
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    x = np.random.randn(6, 5) * 10
    t = np.array([0, 4, 1, -100, 3, 3])
    w = np.random.rand(5) + 0.5
    cases = [
        (lambda z: F.cross_entropy(z, t, weight=w),
         lambda z: TF.cross_entropy(z, torch.from_numpy(t), weight=torch.from_numpy(w))),
        (lambda z: F.cross_entropy(z, t, reduction="sum"),
         lambda z: TF.cross_entropy(z, torch.from_numpy(t), reduction="sum")),
        (lambda z: F.nll_loss(F.log_softmax(z, dim=1), t, reduction="none"),
         lambda z: TF.nll_loss(TF.log_softmax(z, dim=1), torch.from_numpy(t), reduction="none")),
        (lambda z: F.softmax(z, dim=0), lambda z: TF.softmax(z, dim=0)),
        (lambda z: F.mse_loss(z, np.ones((6, 5))), lambda z: TF.mse_loss(z, torch.ones(6, 5, dtype=z.dtype))),
    ]
    for ours_fn, theirs_fn in cases:
        ours_x = tc.Tensor(x, requires_grad=True)
        theirs_x = torch.tensor(x, requires_grad=True)
        ours, theirs = ours_fn(ours_x), theirs_fn(theirs_x)
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
        grad = None if ours.ndim == 0 else np.random.randn(*ours.shape)     # a random dL/d(output)
        ours.backward(grad)
        theirs.backward(None if grad is None else torch.from_numpy(grad))
        np.testing.assert_allclose(ours_x.grad.data, theirs_x.grad.numpy(), rtol=1e-10, atol=1e-13)
