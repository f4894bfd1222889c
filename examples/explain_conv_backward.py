"""A conv layer's backward pass drawn with its own numbers: tc.viz.explain and explain_entry.

    pip install -e ".[examples]"
    python examples/explain_conv_backward.py              # writes runs/explain/
    python examples/explain_conv_backward.py --quick      # fewer training steps (for tests)

The worked examples of the blog posts, computed from the graph instead of drawn by hand:
  sobel/     X = 1..25 under the Sobel-like W = [[1,0,-1],[2,0,-2],[1,0,-1]]: Y = -8 everywhere;
             dW[0,0] = a + 2b + 3c + 6d + 7e + 8f + 11g + 12h + 13i for dY = a..i; dY padded by
             2 and correlated with rot180(W)
  stride2/   the same with stride 2: zeros between dY's entries before the padding
  im2col/    a 4x4 input padded by 1 under a 2x2 filter: 25 windows, X_col is 4 x 25
  digits/    the same panels for the first conv, its ReLU and its max-pool of the digits CNN of
             train_digits.py after a few training steps, and one weight's gradient entry as a
             sum of products next to its finite difference
  gradient_norms.svg  the gradient norm of every layer while training a deep sigmoid net and a
             deep ReLU net on the digits: the sigmoid's first layers barely learn
Each folder holds one SVG per panel and an HTML player per moving panel (open it in a browser:
arrow keys step). Every number is checked against the engine before it is written.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
from pathlib import Path

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")        # small matrices: one BLAS thread is fastest

import numpy as np  # noqa: E402

import tinygrad_conv as tc  # noqa: E402
from tinygrad_conv import functional as F  # noqa: E402
from tinygrad_conv import nn, viz  # noqa: E402
from tinygrad_conv.datasets import load_digits  # noqa: E402
from tinygrad_conv.viz.explain.norms import plot_side_by_side  # noqa: E402

SOBEL = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float64)
HERE = Path(__file__).resolve().parent


def conv_of(x: np.ndarray, w: np.ndarray, dy: np.ndarray, **params):
    """y = conv2d(x, w, **params) on (1, 1, H, W) float64 tensors, after y.backward(dy)."""
    xt = tc.Tensor(x[None, None], requires_grad=True, dtype=np.float64)
    wt = tc.Tensor(w[None, None], requires_grad=True, dtype=np.float64)
    y = F.conv2d(xt, wt, **params)
    y.backward(dy[None, None].astype(np.float64), retain_graph=True)
    return y, xt, wt


def sobel(stride: int = 1):
    """The seed example: X = 1..25 (5x5), the Sobel-like W, dY = 1, 2, ... (a, b, ...)."""
    x = np.arange(1, 26, dtype=np.float64).reshape(5, 5)
    side = (5 - 3) // stride + 1
    dy = np.arange(1, side * side + 1, dtype=np.float64).reshape(side, side)
    y, xt, wt = conv_of(x, SOBEL, dy, stride=stride)
    return viz.explain(y, dy=dy[None, None], symbols=True), xt, wt


def padded_im2col():
    """A 4x4 input padded by 1 under a 2x2 filter: 5x5 windows, so X_col is 4 x 25."""
    x = np.arange(1, 17, dtype=np.float64).reshape(4, 4)
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    y, xt, wt = conv_of(x, w, np.ones((5, 5)), padding=1)
    return viz.explain(y, dy=np.ones((1, 1, 5, 5)), position=(2, 2)), xt, wt


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def trained_digits_cnn(steps: int, seed: int = 0):
    """train_digits.py's CNN after `steps` Adam steps on batches of 32 digits, the loss of the
    first test image it classifies correctly (backward run, graph kept), and that image's label."""
    tc.manual_seed(seed)
    x_train, y_train, x_test, y_test = load_digits()
    model = load_script("train_digits").build_model(image_size=8)
    optimizer = tc.optim.Adam(model.parameters(), lr=3e-3)
    order = np.random.default_rng(seed).permutation(len(y_train))
    for step in range(steps):
        batch = order[(step * 32) % len(order):][:32]
        loss = F.cross_entropy(model(tc.Tensor(x_train[batch])), tc.Tensor(y_train[batch]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with tc.no_grad():
        k = int(np.flatnonzero(model(tc.Tensor(x_test)).data.argmax(axis=1) == y_test)[0])
    image = tc.Tensor(x_test[k:k + 1])
    loss = F.cross_entropy(model(image), tc.Tensor(y_test[k:k + 1]))
    model.zero_grad()
    loss.backward(retain_graph=True)
    return model, loss, int(y_test[k])


def busiest_filter(conv: nn.Conv2d) -> int:
    """The filter with the largest gradient (ReLU and max-pool leave some at 0 for one image)."""
    return int(np.argmax(np.linalg.norm(conv.weight.grad.data.reshape(len(conv.weight.grad.data), -1),
                                         axis=1)))


def digits_explanations(steps: int) -> dict:
    """The first conv, its ReLU and max-pool of the trained digits CNN, explained."""
    model, loss, label = trained_digits_cnn(steps)
    f = busiest_filter(model[0])
    return {"model": model, "loss": loss, "label": label, "f": f,
            "conv": viz.explain(model[0], root=loss, f=f, position=(3, 3), entry=(0, 0), pixel=(0, 0)),
            "relu": viz.explain(model[1], root=loss, c=f),
            "pool": viz.explain(model[2], root=loss, c=f, position=(1, 1))}


def deep_net(activation, depth: int = 8, width: int = 32) -> nn.Sequential:
    layers, size = [nn.Flatten()], 64
    for _ in range(depth):
        layers += [nn.Linear(size, width), activation()]
        size = width
    return nn.Sequential(*layers, nn.Linear(size, 10))


def gradient_norms(steps: int, seed: int = 0) -> dict[str, viz.GradientNorms]:
    """The per-layer gradient norms of an 8-layer sigmoid net and the same net with ReLU, each
    trained `steps` SGD steps on the digits."""
    x_train, y_train, _, _ = load_digits()
    recorders = {}
    for title, activation in (("8 sigmoid layers", nn.Sigmoid), ("8 ReLU layers", nn.ReLU)):
        tc.manual_seed(seed)
        model = deep_net(activation)
        optimizer = tc.optim.SGD(model.parameters(), lr=0.1)
        norms = viz.GradientNorms(model)
        for step in range(steps):
            batch = slice((step * 64) % (len(y_train) - 64), None)
            loss = F.cross_entropy(model(tc.Tensor(x_train[batch][:64])), tc.Tensor(y_train[batch][:64]))
            optimizer.zero_grad()
            loss.backward()
            norms.record()
            optimizer.step()
        recorders[title] = norms
    return recorders


def check_seed_examples(sobel1, stride2, im2col) -> None:
    """The numbers the articles print, read from the panels' data and the engine."""
    (e, x, w) = sobel1
    assert np.all(e["forward"].data["y"] == -8)
    assert e["dW"].data["symbolic"] == "a + 2b + 3c + 6d + 7e + 8f + 11g + 12h + 13i"
    assert e["dW"].data["dw_value"] == w.grad.data[0, 0, 0, 0]
    assert e["dX"].data["full"].shape == (7, 7)                      # 3x3 dY padded by 2
    np.testing.assert_array_equal(e["dX"].data["rotated"], SOBEL[::-1, ::-1])
    (e2, x2, _) = stride2
    full = e2["dX"].data["full"]
    assert full.shape == (7, 7) and np.all(full[2:5, 2:5][1::2, :] == 0)   # zeros between entries
    assert e2["dX"].data["dx_value"] == x2.grad.data[0, 0, 0, 0]
    assert im2col[0]["im2col"].data["x_col"].shape == (4, 25)


def print_seed_examples(sobel1, stride2, im2col) -> None:
    e = sobel1[0]
    print("Y = X ⋆ W for X = 1..25 and the Sobel-like W:")
    print(e["forward"].data["y"].astype(int))
    print(f"dW[0,0] for dY = a..i: {e['dW'].data['symbolic']} = {e['dW'].data['dw_value']:g} "
          f"for dY = 1..9")
    print("dY padded by 2 (dX = that ⋆ rot180(W)):")
    print(e["dX"].data["full"].astype(int))
    print("stride 2: dY = [[1, 2], [3, 4]] dilated, then padded by 2:")
    print(stride2[0]["dX"].data["full"].astype(int))
    x_col = im2col[0]["im2col"].data["x_col"]
    print(f"im2col of the 4x4 input padded by 1 under a 2x2 filter: X_col is {x_col.shape[0]} x "
          f"{x_col.shape[1]}; its first 8 columns:")
    print(x_col[:, :8].astype(int))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/explain"), help="output folder")
    parser.add_argument("--quick", action="store_true", help="few training steps (for tests)")
    args = parser.parse_args(argv)
    train_steps, norm_steps = (8, 4) if args.quick else (60, 40)

    sobel1, stride2, im2col = sobel(), sobel(stride=2), padded_im2col()
    check_seed_examples(sobel1, stride2, im2col)
    print_seed_examples(sobel1, stride2, im2col)
    written = []
    for folder, (e, _, _) in (("sobel", sobel1), ("stride2", stride2), ("im2col", im2col)):
        written += e.save(args.out / folder)

    digits = digits_explanations(train_steps)
    for name in ("conv", "relu", "pool"):
        written += digits[name].save(args.out / "digits", prefix=f"{name}_")
    conv = digits["model"][0]
    entry = viz.explain_entry(conv.weight.grad, (digits["f"], 0, 1, 2), root=digits["loss"])
    assert np.isclose(entry.total, entry.grad, rtol=1e-4, atol=1e-7)
    assert np.isclose(entry.fd, entry.grad, rtol=1e-3, atol=1e-6)
    print(f"\ndigits CNN after {train_steps} steps, one test image (a {digits['label']}):")
    print(entry)

    recorders = gradient_norms(norm_steps)
    plot_side_by_side(recorders, args.out / "gradient_norms.svg")
    written.append(args.out / "gradient_norms.svg")
    for title, norms in recorders.items():
        print(f"\ngradient norms after {norms.steps} steps, {title}:\n{norms.table()}")
    print(f"\nwrote {len(written)} files to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
