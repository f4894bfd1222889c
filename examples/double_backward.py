"""A Hessian-vector product through a small CNN by double backward, checked by finite differences.

    python examples/double_backward.py [--seed 0] [--eps 1e-5]

The gradient g(θ) = dL/dθ of a loss L is itself computed by framework ops, so with
backward(create_graph=True) it is a graph of its own, and differentiating the scalar g(θ) · v
once more gives the Hessian-vector product

    H v = d/dθ (g(θ) · v)

without ever forming H. Finite differences check it from outside: H v ≈ (g(θ + εv) - g(θ - εv)) / 2ε.
The Hessian is symmetric, so u · (H v) = v · (H u) is checked too. Everything runs in float64.
"""
from __future__ import annotations

import argparse

import numpy as np

import tinygrad_conv as tc
from tinygrad_conv import functional as F
from tinygrad_conv import nn


def build_model() -> nn.Sequential:
    """(N, 1, 8, 8) -> (N, 3). Smooth activations (tanh, sigmoid), so the Hessian is not all zero."""
    return nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3, padding=1), nn.Tanh(), nn.MaxPool2d(2),
        nn.Conv2d(4, 4, kernel_size=3), nn.Sigmoid(),
        nn.Flatten(), nn.Linear(4 * 2 * 2, 3)).double()


def gradient(model, x, y, create_graph: bool = False) -> list[tc.Tensor]:
    """g = dL/dθ for every parameter, as Tensors (with their own graph if create_graph)."""
    model.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward(create_graph=create_graph)
    grads = [p.grad for p in model.parameters()]
    model.zero_grad()
    return grads


def hessian_vector_product(model, x, y, v: list[np.ndarray]) -> list[np.ndarray]:
    """H v = d(g · v)/dθ: backward through the graph that computed the gradient."""
    grads = gradient(model, x, y, create_graph=True)
    g_dot_v = sum((g * tc.Tensor(vi)).sum() for g, vi in zip(grads, v))
    g_dot_v.backward()
    hv = [p.grad.data.copy() for p in model.parameters()]
    model.zero_grad()
    return hv


def finite_difference(model, x, y, v: list[np.ndarray], eps: float) -> list[np.ndarray]:
    """(g(θ + εv) - g(θ - εv)) / 2ε, moving the parameters in place and back."""
    params = list(model.parameters())

    def shift(scale):
        with tc.no_grad():
            for p, vi in zip(params, v):
                p.data += scale * vi
                p.mark_modified()

    shift(eps)
    plus = [g.data.copy() for g in gradient(model, x, y)]
    shift(-2 * eps)
    minus = [g.data.copy() for g in gradient(model, x, y)]
    shift(eps)
    return [(a - b) / (2 * eps) for a, b in zip(plus, minus)]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="seed for the model, data and vectors")
    parser.add_argument("--eps", type=float, default=1e-5, help="finite-difference step")
    args = parser.parse_args(argv)

    tc.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = build_model()
    x = tc.Tensor(rng.standard_normal((4, 1, 8, 8)))
    y = rng.integers(0, 3, size=4)
    names = [name for name, _ in model.named_parameters()]
    v = [rng.standard_normal(p.shape) for p in model.parameters()]
    u = [rng.standard_normal(p.shape) for p in model.parameters()]

    grads = gradient(model, x, y, create_graph=True)
    print(f"the gradient of {names[0]} was computed by {len(tc.toposort(grads[0]))} recorded "
          f"tensors: it can be differentiated again")

    hv = hessian_vector_product(model, x, y, v)
    fd = finite_difference(model, x, y, v, args.eps)
    print(f"\nH v by double backward vs finite differences (eps={args.eps:g}):")
    print(f"    {'parameter':<10} {'shape':<15} {'|Hv|':>10} {'max |Hv - FD|':>14} {'relative':>10}")
    worst = 0.0
    for name, a, b in zip(names, hv, fd):
        error = np.abs(a - b).max()
        relative = error / max(np.abs(b).max(), 1e-12)
        worst = max(worst, relative)
        print(f"    {name:<10} {str(a.shape):<15} {np.linalg.norm(a):>10.4g} {error:>14.3g} "
              f"{relative:>10.2g}")
    assert worst < 1e-5, f"H v disagrees with finite differences (worst relative error {worst:.3g})"

    hu = hessian_vector_product(model, x, y, u)
    u_hv = sum(float((a * b).sum()) for a, b in zip(u, hv))
    v_hu = sum(float((a * b).sum()) for a, b in zip(v, hu))
    print(f"\nsymmetry: u · (H v) = {u_hv:.12g}, v · (H u) = {v_hu:.12g}")
    assert abs(u_hv - v_hu) <= 1e-9 * max(abs(u_hv), 1.0), "the Hessian should be symmetric"
    print("\nH v by double backward agrees with finite differences, and H is symmetric.")


if __name__ == "__main__":
    main()
