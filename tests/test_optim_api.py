"""optim's torch API: frozen parameters, param_groups, state_dict / load_state_dict, AdamW,
RMSprop, Adadelta, Adagrad and the lr_scheduler schedules. Torch-free tests of the rules and
documented formulas, then every step and every learning rate against torch."""
import math
import warnings

import numpy as np
import pytest

import tinygrad_conv as tc
from tinygrad_conv import nn, optim
from tinygrad_conv.optim import lr_scheduler

STEPS = 6


def grads(shape, dtype=np.float64, seed=0, steps=STEPS):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for _ in range(steps)]


def run(make, theta0, gradients):
    p = nn.Parameter(theta0.copy())
    opt = make([p])
    for g in gradients:
        p.grad = tc.Tensor(g.copy())
        opt.step()
    return p.data


# ----------------------------------------------------------------------------------------------
# The documented algorithms (torch.optim's docs, one line per line), in float64


def adamw_documented(theta, gs, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
    (b1, b2), m, v, vmax = betas, 0 * theta, 0 * theta, 0 * theta
    for t, g in enumerate(gs, start=1):
        theta = theta - lr * weight_decay * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        m_hat, v_hat = m / (1 - b1 ** t), (vmax if amsgrad else v) / (1 - b2 ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


def rmsprop_documented(theta, gs, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                       centered=False):
    v, b, g_ave = 0 * theta, 0 * theta, 0 * theta
    for g in gs:
        g = g + weight_decay * theta
        v = alpha * v + (1 - alpha) * g * g
        v_tilde = v
        if centered:
            g_ave = alpha * g_ave + (1 - alpha) * g
            v_tilde = v - g_ave * g_ave
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(v_tilde) + eps)
            theta = theta - lr * b
        else:
            theta = theta - lr * g / (np.sqrt(v_tilde) + eps)
    return theta


def adadelta_documented(theta, gs, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0):
    v, u = 0 * theta, 0 * theta
    for g in gs:
        g = g + weight_decay * theta
        v = v * rho + g * g * (1 - rho)
        dx = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = u * rho + dx * dx * (1 - rho)
        theta = theta - lr * dx
    return theta


def adagrad_documented(theta, gs, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                       eps=1e-10):
    state_sum = 0 * theta + initial_accumulator_value
    for t, g in enumerate(gs, start=1):
        lr_t = lr / (1 + (t - 1) * lr_decay)
        g = g + weight_decay * theta
        state_sum = state_sum + g * g
        theta = theta - lr_t * g / (np.sqrt(state_sum) + eps)
    return theta


DOCUMENTED = [
    (optim.AdamW, adamw_documented, [dict(), dict(lr=1e-2, weight_decay=0.1),
                                     dict(lr=1e-2, amsgrad=True, betas=(0.5, 0.9))]),
    (optim.RMSprop, rmsprop_documented, [dict(), dict(momentum=0.9, weight_decay=0.1),
                                         dict(centered=True, alpha=0.9),
                                         dict(centered=True, momentum=0.5, lr=1e-3)]),
    (optim.Adadelta, adadelta_documented, [dict(), dict(lr=0.5, rho=0.5, weight_decay=0.1)]),
    (optim.Adagrad, adagrad_documented, [dict(), dict(lr=0.1, lr_decay=0.05, weight_decay=0.1,
                                                      initial_accumulator_value=0.3)]),
]


@pytest.mark.parametrize("cls,documented,settings",
                         [(c, d, s) for c, d, ss in DOCUMENTED for s in ss], ids=str)
def test_new_optimizers_follow_the_documented_algorithm(cls, documented, settings):
    theta0 = np.random.default_rng(1).standard_normal((4, 3))
    gs = grads((4, 3))
    np.testing.assert_allclose(run(lambda ps: cls(ps, **settings), theta0, gs),
                               documented(theta0, gs, **settings), rtol=1e-12, atol=1e-14)


def test_defaults_are_torchs():
    p = [nn.Parameter(np.zeros(1))]
    assert optim.AdamW(p).defaults["weight_decay"] == 0.01
    assert optim.AdamW(p).defaults["decoupled_weight_decay"] is True
    assert (optim.RMSprop(p).defaults["lr"], optim.RMSprop(p).defaults["alpha"]) == (0.01, 0.99)
    assert (optim.Adadelta(p).defaults["lr"], optim.Adadelta(p).defaults["rho"],
            optim.Adadelta(p).defaults["eps"]) == (1.0, 0.9, 1e-6)
    assert (optim.Adagrad(p).defaults["lr"], optim.Adagrad(p).defaults["eps"]) == (0.01, 1e-10)
    with pytest.raises(ValueError, match="foreach=True is not supported"):
        optim.Adam(p, foreach=True)
    with pytest.raises(ValueError, match="rho"):
        optim.Adadelta(p, rho=1.5)


def test_maximize_climbs():
    theta0, gs = np.zeros(3), grads(3)
    np.testing.assert_allclose(run(lambda ps: optim.SGD(ps, lr=0.1, maximize=True), theta0, gs),
                               0.1 * sum(gs), rtol=1e-12)


# ----------------------------------------------------------------------------------------------
# Frozen parameters, groups, closures


def test_frozen_parameters_are_skipped_as_in_fine_tuning():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    for p in model[0].parameters():
        p.requires_grad = False                           # the fine-tuning tutorial's freeze
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    frozen = [p.data.copy() for p in model[0].parameters()]
    head = [p.data.copy() for p in model[2].parameters()]
    model(tc.Tensor(np.ones((2, 3), dtype=np.float32))).sum().backward()
    opt.step()
    assert all(np.array_equal(a, p.data) for a, p in zip(frozen, model[0].parameters()))
    assert not any(np.array_equal(a, p.data) for a, p in zip(head, model[2].parameters()))
    assert all(p not in opt.state for p in model[0].parameters())


def test_param_groups_add_param_group_and_names():
    a, b, c = (nn.Parameter(np.zeros(2)) for _ in range(3))
    opt = optim.Adam([{"params": [a], "lr": 0.1}, {"params": [b]}], lr=0.01, betas=(0.5, 0.6))
    assert list(opt.param_groups[0])[:2] == ["params", "lr"] and opt.param_groups[1]["lr"] == 0.01
    opt.add_param_group({"params": c, "weight_decay": 0.5})
    assert opt.param_groups[2]["betas"] == (0.5, 0.6) and opt.param_groups[2]["weight_decay"] == 0.5
    with pytest.raises(ValueError, match="more than once"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="'params' entry"):
        opt.add_param_group({"lr": 1})
    model = nn.Linear(2, 1)
    named = optim.SGD(model.named_parameters(), lr=0.1)
    assert named.param_groups[0]["param_names"] == ["weight", "bias"]
    assert named.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]


def test_step_runs_the_closure_with_gradients_enabled():
    w = nn.Parameter(np.array([1.0, 2.0]))
    opt = optim.SGD([w], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with tc.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 5.0 and w.data.tolist() == [0.0, 0.0]


# ----------------------------------------------------------------------------------------------
# state_dict / load_state_dict


def trained(make, steps=3, seed=0):
    tc.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    opt = make(model.parameters())
    x = np.random.default_rng(seed).standard_normal((5, 3))
    for _ in range(steps):
        opt.zero_grad()
        (model(tc.Tensor(x)) ** 2).sum().backward()
        opt.step()
    return model, opt, x


def test_state_dict_has_torchs_structure():
    model, opt, _ = trained(lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True))
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"} and list(sd["state"]) == [0, 1, 2, 3]
    assert list(sd["state"][0]) == ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    assert isinstance(sd["state"][0]["exp_avg"], tc.Tensor) and sd["state"][0]["step"].item() == 3.0
    assert sd["state"][0]["step"].dtype == np.float32
    assert sd["param_groups"][0]["params"] == [0, 1, 2, 3] and sd["param_groups"][0]["lr"] == 0.01
    assert list(sd["param_groups"][0])[-1] == "params"


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
                                  lambda ps: optim.Adam(ps, lr=0.01),
                                  lambda ps: optim.AdamW(ps, lr=0.01, amsgrad=True),
                                  lambda ps: optim.RMSprop(ps, momentum=0.5, centered=True),
                                  lambda ps: optim.Adadelta(ps), lambda ps: optim.Adagrad(ps, lr=0.1)],
                         ids=["SGD", "Adam", "AdamW", "RMSprop", "Adadelta", "Adagrad"])
def test_resuming_from_a_state_dict_continues_exactly(make):
    model, opt, x = trained(make, steps=5)                          # 5 uninterrupted steps
    resumed_model, first, _ = trained(make, steps=2)                # 2 steps, saved,
    saved = {"model": resumed_model.state_dict(), "optim": first.state_dict()}
    import io
    buffer = io.BytesIO()
    tc.save(saved, buffer)
    buffer.seek(0)
    checkpoint = tc.load(buffer)
    tc.manual_seed(99)
    fresh = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    fresh.load_state_dict(checkpoint["model"])
    second = make(fresh.parameters())
    second.load_state_dict(checkpoint["optim"])                     # then 3 more steps
    for _ in range(3):
        second.zero_grad()
        (fresh(tc.Tensor(x)) ** 2).sum().backward()
        second.step()
    for a, b in zip(fresh.parameters(), model.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_load_state_dict_checks_before_changing_anything():
    _, opt, _ = trained(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9))
    sd = opt.state_dict()
    other, _, _ = trained(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), steps=0)
    target = optim.SGD(other.parameters(), lr=0.5, momentum=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        target.load_state_dict({"state": {}, "param_groups": sd["param_groups"] * 2})
    with pytest.raises(ValueError, match="doesn't match the size"):
        target.load_state_dict({"state": {}, "param_groups": [{**sd["param_groups"][0], "params": [0]}]})
    bad = {"state": {**sd["state"], 3: {"momentum_buffer": np.zeros(7)}}, "param_groups": sd["param_groups"]}
    with pytest.raises(ValueError, match=r"momentum_buffer.*parameter 3 has shape \(7,\)"):
        target.load_state_dict(bad)
    assert target.param_groups[0]["lr"] == 0.5 and not target.state
    numpy_sd = {"state": {k: {n: np.asarray(v) for n, v in s.items()} for k, s in sd["state"].items()},
                "param_groups": sd["param_groups"]}
    target.load_state_dict(numpy_sd)                               # plain numpy arrays work too
    assert target.param_groups[0]["lr"] == 0.1 and target.param_groups[0]["momentum"] == 0.9
    buffer = target.state[target.param_groups[0]["params"][0]]["momentum_buffer"]
    assert isinstance(buffer, np.ndarray) and buffer.dtype == np.float64


# ----------------------------------------------------------------------------------------------
# lr_scheduler


def sgd(lr=0.1, groups=1):
    return optim.SGD([{"params": [nn.Parameter(np.zeros(1))]} for _ in range(groups)], lr=lr)


def lrs(scheduler, epochs=30, metrics=None):
    out = []
    for epoch in range(epochs):
        scheduler.optimizer.step()
        scheduler.step() if metrics is None else scheduler.step(metrics[epoch])
        out.append(scheduler.get_last_lr()[0])
    return out


def test_epoch_schedules_follow_their_closed_forms():
    np.testing.assert_allclose(lrs(lr_scheduler.StepLR(sgd(), step_size=7, gamma=0.5)),
                               [0.1 * 0.5 ** (e // 7) for e in range(1, 31)], rtol=1e-12)
    np.testing.assert_allclose(lrs(lr_scheduler.MultiStepLR(sgd(), milestones=[5, 12], gamma=0.1)),
                               [0.1 * 0.1 ** ((e >= 5) + (e >= 12)) for e in range(1, 31)], rtol=1e-12)
    np.testing.assert_allclose(lrs(lr_scheduler.ExponentialLR(sgd(), gamma=0.9)),
                               [0.1 * 0.9 ** e for e in range(1, 31)], rtol=1e-12)
    np.testing.assert_allclose(lrs(lr_scheduler.CosineAnnealingLR(sgd(), T_max=10, eta_min=0.01)),
                               [0.01 + 0.09 * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(1, 31)],
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(lrs(lr_scheduler.LambdaLR(sgd(), lambda e: 1 / (e + 1))),
                               [0.1 / (e + 1) for e in range(1, 31)], rtol=1e-12)


def test_scheduler_basics():
    opt = sgd(groups=2)
    scheduler = lr_scheduler.StepLR(opt, step_size=2)
    assert scheduler.last_epoch == 0 and scheduler.get_last_lr() == [0.1, 0.1]
    assert opt.param_groups[0]["initial_lr"] == 0.1 and scheduler.base_lrs == [0.1, 0.1]
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        scheduler.step()
    state = scheduler.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 1 and state["step_size"] == 2
    other = lr_scheduler.StepLR(sgd(groups=2), step_size=5)
    other.load_state_dict(state)
    assert other.step_size == 2 and other.last_epoch == 1
    with pytest.warns(UserWarning, match="epoch parameter"):
        scheduler.step(4)
    assert scheduler.get_last_lr() == pytest.approx([0.001, 0.001])
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(sgd(), step_size=2, last_epoch=3)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas"):
        lr_scheduler.LambdaLR(sgd(groups=2), [lambda e: 1])


def test_reduce_lr_on_plateau_waits_patience_epochs_then_cools_down():
    opt = sgd()
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, patience=2, cooldown=1, factor=0.5)
    losses = [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5]
    seen = lrs(scheduler, len(losses), losses)
    # 3 epochs without improvement (> patience 2) halve the lr; the next epoch is the cooldown
    assert seen == [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025]
    up = lr_scheduler.ReduceLROnPlateau(sgd(), mode="max", patience=0, factor=0.5, threshold=0.1,
                                        threshold_mode="abs", min_lr=0.04)
    assert lrs(up, 4, [1.0, 1.05, 1.2, 1.25]) == [0.1, 0.05, 0.05, 0.04]
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(sgd(), factor=1.0)
    with pytest.raises(ValueError, match="mode sideways is unknown"):
        lr_scheduler.ReduceLROnPlateau(sgd(), mode="sideways")


# ----------------------------------------------------------------------------------------------
# Against torch


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


TORCH_CASES = [
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9), maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict()), ("AdamW", dict(lr=0.01, amsgrad=True, weight_decay=0.5)),
    ("RMSprop", dict()), ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(alpha=0.3, centered=True)),
    ("Adadelta", dict()), ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.2)),
]


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,settings", TORCH_CASES, ids=str)
def test_every_step_matches_torch(torch, name, settings, dtype):
    # CPU kernels may fuse a multiply-add into one rounding: a few units of rounding per step
    theta0 = np.random.default_rng(3).standard_normal((7, 5)).astype(dtype)
    p, pt = nn.Parameter(theta0.copy()), torch.nn.Parameter(torch.from_numpy(theta0.copy()))
    ours, theirs = getattr(optim, name)([p], **settings), getattr(torch.optim, name)([pt], **settings)
    eps = np.finfo(dtype).eps
    for g in grads((7, 5), dtype, seed=4):
        p.grad, pt.grad = tc.Tensor(g.copy()), torch.from_numpy(g.copy())
        ours.step()
        theirs.step()
        np.testing.assert_allclose(p.data, pt.detach().numpy(), rtol=8 * eps, atol=8 * eps)
    assert repr(ours) == repr(theirs)
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert sd["param_groups"] == tsd["param_groups"]
    assert {k: list(v) for k, v in sd["state"].items()} == {k: list(v) for k, v in tsd["state"].items()}
    for key, value in tsd["state"][0].items():
        np.testing.assert_allclose(np.asarray(sd["state"][0][key]), value.numpy(), rtol=16 * eps,
                                   atol=16 * eps)


@pytest.mark.torch
def test_a_torch_optimizer_state_loads_and_continues(torch):
    # torch's state_dict, converted with numpy, loads into ours; both then take the same steps
    theta0 = np.random.default_rng(5).standard_normal(6)
    gs = grads(6, seed=6)
    pt = torch.nn.Parameter(torch.from_numpy(theta0.copy()))
    theirs = torch.optim.Adam([pt], lr=0.05, amsgrad=True)
    for g in gs[:3]:
        pt.grad = torch.from_numpy(g.copy())
        theirs.step()
    converted = {"state": {k: {n: v.numpy().copy() for n, v in s.items()}
                           for k, s in theirs.state_dict()["state"].items()},
                 "param_groups": theirs.state_dict()["param_groups"]}
    p = nn.Parameter(pt.detach().numpy().copy())
    ours = optim.Adam([p], lr=0.5)
    ours.load_state_dict(converted)
    for g in gs[3:]:
        p.grad, pt.grad = tc.Tensor(g.copy()), torch.from_numpy(g.copy())
        ours.step()
        theirs.step()
    np.testing.assert_allclose(p.data, pt.detach().numpy(), rtol=1e-14, atol=1e-15)


SCHEDULES = [("StepLR", dict(step_size=7, gamma=0.5)),
             ("MultiStepLR", dict(milestones=[3, 8, 8, 20], gamma=0.3)),
             ("ExponentialLR", dict(gamma=0.9)),
             ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001)), ("CosineAnnealingLR", dict(T_max=7)),
             ("LambdaLR", dict(lr_lambda=lambda e: 0.95 ** e))]


@pytest.mark.torch
@pytest.mark.parametrize("name,settings", SCHEDULES, ids=str)
def test_schedules_match_torch_over_30_epochs(torch, name, settings):
    def two_groups(lib, module):
        p, q = (module.nn.Parameter(lib(np.zeros(1))) for _ in range(2))
        return module.optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.5}], lr=0.1, momentum=0.9)

    ours = getattr(lr_scheduler, name)(two_groups(tc.Tensor, tc), **settings)
    theirs = getattr(torch.optim.lr_scheduler, name)(two_groups(torch.from_numpy, torch), **settings)
    for epoch in range(30):
        ours.optimizer.step()
        theirs.optimizer.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == theirs.get_last_lr(), epoch      # bit for bit
        assert ours.last_epoch == theirs.last_epoch
    assert set(ours.state_dict()) <= set(theirs.state_dict())


@pytest.mark.torch
@pytest.mark.parametrize("settings", [dict(patience=2, cooldown=1, factor=0.5),
                                      dict(mode="max", threshold_mode="abs", threshold=0.01),
                                      dict(patience=0, min_lr=[0.01, 0.2], eps=1e-3)], ids=str)
def test_reduce_lr_on_plateau_matches_torch(torch, settings):
    metrics = list(np.random.default_rng(7).random(40))
    groups = [{"params": [nn.Parameter(np.zeros(1))]}, {"params": [nn.Parameter(np.zeros(1))]}]
    ours = lr_scheduler.ReduceLROnPlateau(optim.SGD(groups, lr=1.0), **settings)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(
        torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))]},
                         {"params": [torch.nn.Parameter(torch.zeros(1))]}], lr=1.0), **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for m in metrics:
            ours.step(m)
            theirs.step(m)
            assert ours.get_last_lr() == theirs.get_last_lr()
    assert set(ours.state_dict()) == set(theirs.state_dict())
