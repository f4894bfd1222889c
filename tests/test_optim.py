"""optim: SGD and Adam steps against the formulas PyTorch documents (and against torch when it is
installed), in-place updates outside the graph, parameter groups, validation, a training run."""

import numpy as np
import pytest

import tinygrad_conv as tc
from tinygrad_conv import functional as F
from tinygrad_conv import nn, optim

STEPS = 5

SGD_SETTINGS = [dict(lr=0.1), dict(lr=0.1, weight_decay=0.01), dict(lr=0.05, momentum=0.9),
                dict(lr=0.05, momentum=0.9, dampening=0.3),
                dict(lr=0.05, momentum=0.9, weight_decay=0.1, nesterov=True),
                dict(lr=0.05, momentum=0.5, dampening=0.5, weight_decay=0.02)]
ADAM_SETTINGS = [dict(), dict(lr=1e-2), dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6),
                 dict(lr=3e-3, weight_decay=0.1)]


def gradient_sequence(shape, dtype, steps=STEPS, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for _ in range(steps)]


def run(optimizer_class, settings, theta0, grads):
    """Apply `optimizer_class` for len(grads) steps, feeding the given gradients."""
    p = nn.Parameter(theta0.copy())
    opt = optimizer_class([p], **settings)
    for g in grads:
        p.grad = tc.Tensor(g.copy())
        opt.step()
    return p.data


def sgd_documented(theta, grads, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False):
    """torch.optim.SGD's documented algorithm, one line per line of the documentation."""
    b = None
    for g in grads:
        if weight_decay != 0:
            g = g + weight_decay * theta
        if momentum != 0:
            b = g.copy() if b is None else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        theta = theta - lr * g
    return theta


def adam_documented(theta, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
    """torch.optim.Adam's documented algorithm (amsgrad=False, maximize=False)."""
    beta1, beta2 = betas
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        if weight_decay != 0:
            g = g + weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


@pytest.mark.parametrize("settings", SGD_SETTINGS, ids=str)
def test_sgd_is_the_documented_formula_bit_for_bit(settings):
    theta0 = np.random.randn(4, 3)
    grads = gradient_sequence((4, 3), np.float64)
    np.testing.assert_array_equal(run(optim.SGD, settings, theta0, grads),
                                  sgd_documented(theta0, grads, **settings))


@pytest.mark.parametrize("settings", ADAM_SETTINGS, ids=str)
def test_adam_is_the_documented_formula(settings):
    # the step follows PyTorch's operation order (m + (1 - beta1)(g - m), sqrt(v)/sqrt(1 - beta2^t));
    # the documented form rounds differently, by a few units in the last place at most
    theta0 = np.random.randn(4, 3)
    grads = gradient_sequence((4, 3), np.float64)
    np.testing.assert_allclose(run(optim.Adam, settings, theta0, grads),
                               adam_documented(theta0, grads, **settings), rtol=1e-13, atol=1e-15)


def test_first_adam_step_moves_every_weight_by_lr():
    # m_hat = g and v_hat = g^2 after one step, so the update is lr * g / (|g| + eps) ≈ lr * sign(g)
    theta0 = np.zeros(5)
    g = np.array([3.0, -0.5, 1e-3, -20.0, 0.7])
    np.testing.assert_allclose(run(optim.Adam, dict(lr=0.01), theta0, [g]), -0.01 * np.sign(g),
                               rtol=1e-5)


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
                                  lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.1)],
                         ids=["SGD", "Adam"])
def test_step_updates_in_place_keeps_dtype_and_bumps_version(make):
    p = nn.Parameter(np.random.randn(3, 3).astype(np.float32))
    array, version = p.data, p._version
    opt = make([p])
    for _ in range(2):
        p.grad = tc.Tensor(np.ones((3, 3), dtype=np.float32))
        opt.step()
    assert p.data is array and p.dtype == np.float32
    assert all(s.dtype == np.float32 for s in opt.state[p].values() if isinstance(s, np.ndarray))
    assert p._version == version + 2
    assert p.is_leaf and p.node is None and p.requires_grad


def test_step_after_forward_makes_the_old_graph_refuse_backward():
    w = nn.Parameter(np.array([2.0, 3.0], dtype=np.float32))
    y = (w * w).sum()
    w.grad = tc.Tensor(np.ones(2, dtype=np.float32))
    optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match="was modified"):
        y.backward()


def test_parameters_without_gradient_are_left_alone():
    a = nn.Parameter(np.ones(2, dtype=np.float32))
    b = nn.Parameter(np.ones(2, dtype=np.float32))
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = tc.Tensor(np.ones(2, dtype=np.float32))
    opt.step()
    assert np.all(a.data < 1) and np.all(b.data == 1) and b not in opt.state


def test_zero_grad():
    p = nn.Parameter(np.ones(2, dtype=np.float32))
    opt = optim.SGD([p], lr=0.1)
    p.grad = tc.Tensor(np.ones(2, dtype=np.float32))
    opt.zero_grad(set_to_none=False)
    assert np.all(p.grad.data == 0) and p.grad.dtype == np.float32
    opt.zero_grad()
    assert p.grad is None


def test_parameter_groups_have_their_own_settings():
    a = nn.Parameter(np.zeros(1))
    b = nn.Parameter(np.zeros(1))
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 1.0}], lr=0.1, momentum=0.5)
    assert opt.param_groups[1]["momentum"] == 0.5 and opt.param_groups[0]["lr"] == 0.1
    a.grad = tc.Tensor(np.ones(1))
    b.grad = tc.Tensor(np.ones(1))
    opt.step()
    assert a.data[0] == -0.1 and b.data[0] == -1.0
    assert "Parameter Group 1\n    dampening: 0\n    differentiable: False\n    foreach: None\n" \
           "    fused: None\n    lr: 1.0" in repr(opt)


def test_optimizers_validate_their_arguments():
    p = nn.Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match="momentum"):
        optim.SGD([p], lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="index 1"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([p], betas=0.9)
    with pytest.raises(ValueError, match="eps"):
        optim.Adam([p], eps=-1e-8)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors"):
        optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([p, p], lr=0.1)
    with pytest.raises(TypeError, match="ordered"):
        optim.SGD({p}, lr=0.1)


def test_a_short_training_run_reduces_the_loss():
    pytest.importorskip("sklearn")
    from tinygrad_conv.data import DataLoader, TensorDataset, load_digits

    tc.manual_seed(0)
    x, y, _, _ = load_digits()
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(8 * 4 * 4, 10))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = DataLoader(TensorDataset(x[:512], y[:512]), batch_size=64, shuffle=True, seed=0)

    def full_loss():
        with tc.no_grad():
            return F.cross_entropy(model(tc.Tensor(x[:512])), y[:512]).item()

    before = full_loss()
    for _ in range(3):
        for xb, yb in loader:
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
    after = full_loss()
    assert before > 2.0 and after < 0.5 * before


# ----------------------------------------------------------------------------------------------
# Against torch.optim


def torch_run(torch, name, settings, theta0, grads):
    p = torch.nn.Parameter(torch.from_numpy(theta0.copy()))
    opt = getattr(torch.optim, name)([p], **settings)
    for g in grads:
        p.grad = torch.from_numpy(g.copy())
        opt.step()
    return p.detach().numpy()


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,settings", [("SGD", s) for s in SGD_SETTINGS]
                         + [("Adam", s) for s in ADAM_SETTINGS], ids=str)
def test_steps_match_torch(name, settings, dtype):
    # PyTorch's CPU kernels fuse a*x + y into one rounding (FMA), numpy rounds twice, so the two
    # can differ in the last bit of a step; over several steps that stays within a few units of
    # rounding of the weights' scale
    torch = pytest.importorskip("torch")
    theta0 = np.random.randn(7, 5).astype(dtype)
    grads = gradient_sequence((7, 5), dtype)
    ours = run(getattr(optim, name), settings, theta0, grads)
    theirs = torch_run(torch, name, settings, theta0, grads)
    assert ours.dtype == theirs.dtype == dtype
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(ours, theirs, rtol=8 * eps, atol=8 * eps * np.abs(theta0).max())


@pytest.mark.torch
def test_model_training_steps_match_torch():
    torch = pytest.importorskip("torch")
    tc.manual_seed(0)
    ours = nn.Sequential(nn.Conv2d(1, 3, 3), nn.Tanh(), nn.Flatten(), nn.Linear(3 * 4 * 4, 4)).double()
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.Tanh(), torch.nn.Flatten(),
                                 torch.nn.Linear(3 * 4 * 4, 4)).double()
    theirs.load_state_dict({k: torch.from_numpy(np.asarray(v).copy()) for k, v in ours.state_dict().items()})
    opt = optim.Adam(ours.parameters(), lr=1e-2, weight_decay=1e-3)
    topt = torch.optim.Adam(theirs.parameters(), lr=1e-2, weight_decay=1e-3)
    x = np.random.randn(8, 1, 6, 6)
    y = np.random.randint(0, 4, size=8)
    for _ in range(4):
        opt.zero_grad()
        F.cross_entropy(ours(tc.Tensor(x)), y).backward()
        opt.step()
        topt.zero_grad()
        torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        topt.step()
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(np.asarray(ours.state_dict()[key]), value.numpy(), rtol=1e-10,
                                   atol=1e-12)
