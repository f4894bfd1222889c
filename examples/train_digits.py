"""Train a small CNN on real handwritten digits, the way one would with PyTorch.

    pip install -e ".[examples]"
    python examples/train_digits.py                     # digits that ship with scikit-learn
    python examples/train_digits.py --data mnist --mnist-path ~/data/mnist   # MNIST you already have

The model is conv -> relu -> pool -> conv -> relu -> pool -> linear, trained with Adam on the
cross-entropy loss. Each epoch shows a progress bar with the running loss and accuracy; the last
line printed is the accuracy on the held-out test images. The output folder receives:

    curves.png    training loss and train/test accuracy per epoch
    model.npz     the trained state_dict (tc.load it, or load it into the same torch.nn model)
    graph.svg     the computation graph of the loss for one image, grouped by module, with
                  each op's VJP (by Graphviz's dot, else by graphviz-pure from the examples extra;
                  without either, graph.gv holds the DOT source and the script says how to render it)
    backward.html the backward pass of that loss, one VJP per step, in a self-contained player

The run is deterministic: the same --seed gives the same weights, batches and accuracy.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

# The matrix products here are small (a batch of 32 images of 8x8 pixels): one BLAS thread is
# faster than several, far faster when other programs keep the cores busy, and makes the result
# independent of the number of cores. Set before numpy loads BLAS; values already set are kept.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402

import tinygrad_conv as tc  # noqa: E402
from tinygrad_conv import functional as F  # noqa: E402
from tinygrad_conv import nn  # noqa: E402
from tinygrad_conv.data import DataLoader, TensorDataset, load_digits, load_mnist  # noqa: E402


def build_model(image_size: int, classes: int = 10, framework=nn) -> nn.Sequential:
    """(N, 1, S, S) -> (N, classes). Each 2x2 max-pool halves the image side: S -> S/2 -> S/4.
    framework=torch.nn builds the same model in PyTorch (benchmarks/run.py times the two)."""
    side = image_size // 4
    return framework.Sequential(
        framework.Conv2d(1, 32, kernel_size=3, padding=1), framework.ReLU(), framework.MaxPool2d(2),
        framework.Conv2d(32, 64, kernel_size=3, padding=1), framework.ReLU(), framework.MaxPool2d(2),
        framework.Flatten(), framework.Linear(64 * side * side, classes))


def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = 500) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) over (x, y), in eval mode and without recording a graph."""
    model.eval()
    total_loss, correct = 0.0, 0
    with tc.no_grad():
        for xb, yb in DataLoader(TensorDataset(x, y), batch_size=batch_size):
            logits = model(xb)
            total_loss += F.cross_entropy(logits, yb, reduction="sum").item()
            correct += int((logits.data.argmax(axis=1) == yb.data).sum())
    model.train()
    return total_loss / len(y), correct / len(y)


def train_epoch(model, loader, optimizer, bar, grad_norms=None) -> tuple[float, float]:
    """One pass over the training set, advancing the progress bar; returns mean loss and accuracy.
    grad_norms (a tc.viz.GradientNorms) records every layer's gradient norm after each backward."""
    seen, total_loss, correct = 0, 0.0, 0
    for xb, yb in loader:
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        optimizer.zero_grad()
        loss.backward()
        if grad_norms is not None:
            grad_norms.record()
        optimizer.step()
        seen += len(yb)
        total_loss += loss.item() * len(yb)
        correct += int((logits.data.argmax(axis=1) == yb.data).sum())
        bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{correct / seen:.4f}", refresh=False)
        bar.update(1)
    return total_loss / seen, correct / seen


def save_curves(history: dict, path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")                       # files only, no window
    import matplotlib.pyplot as plt

    epochs = np.arange(1, len(history["train_loss"]) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(epochs, history["train_loss"], marker="o", label="train")
    left.plot(epochs, history["test_loss"], marker="o", label="test")
    left.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    right.plot(epochs, history["train_acc"], marker="o", label="train")
    right.plot(epochs, history["test_acc"], marker="o", label="test")
    right.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def save_graph(model: nn.Module, x: np.ndarray, y: np.ndarray, out: Path) -> str:
    """Draw the loss of one image (after its backward, so gradients show) as graph.svg, and its
    backward pass as the player backward.html; returns what was written, or why not and how to
    fix it (the model is saved already, and training never depends on drawing)."""
    from tinygrad_conv import viz
    params = dict(model.named_parameters())
    loss = F.cross_entropy(model(tc.Tensor(x[:1])), y[:1])
    loss.backward(retain_graph=True)
    try:
        graph = viz.render(viz.draw(loss, params=params, formulas=True, wrap=True), out / "graph.svg")
        player = viz.backward_frames(loss, params=params, group_modules=1).save(out / "backward.html")
        return f"graph: {graph}\nplayer: {player}"
    except viz.GraphvizNotFoundError as error:
        return "graph: skipped, " + str(error).replace("\n", "\n  ")
    finally:
        model.zero_grad()


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--epochs", type=int, default=15, help="passes over the training set")
    parser.add_argument("--batch-size", type=int, default=32, help="images per optimizer step")
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    parser.add_argument("--seed", type=int, default=0, help="seed for initialisation and shuffling")
    parser.add_argument("--out", type=Path, default=Path("runs/digits"), help="output folder")
    parser.add_argument("--data", choices=("digits", "mnist"), default="digits",
                        help="digits: 1,797 8x8 images inside scikit-learn; mnist: local files")
    parser.add_argument("--mnist-path", type=Path, default=None,
                        help="folder with MNIST's IDX files, or an .npz (for --data mnist)")
    parser.add_argument("--limit", type=int, default=None,
                        help="use only the first LIMIT training images (quick runs)")
    args = parser.parse_args(argv)
    if args.data == "mnist" and args.mnist_path is None:
        parser.error("--data mnist needs --mnist-path (a folder with the IDX files, or an .npz); "
                     "nothing is downloaded")
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.lr <= 0:
        parser.error("--lr must be positive")
    return args


def main(argv=None) -> float:
    args = parse_args(argv)
    from tqdm import tqdm

    tc.manual_seed(args.seed)
    if args.data == "digits":
        x_train, y_train, x_test, y_test = load_digits()
    else:
        try:
            x_train, y_train, x_test, y_test = load_mnist(args.mnist_path)
        except FileNotFoundError as error:
            sys.exit(str(error))
    if args.limit is not None:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    print(f"{args.data}: {len(y_train)} training and {len(y_test)} test images of shape "
          f"{x_train.shape[1:]}")

    model = build_model(image_size=x_train.shape[-1])
    print(model)
    optimizer = tc.optim.Adam(model.parameters(), lr=args.lr)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True)
    grad_norms = tc.viz.GradientNorms(model)       # the picture of vanishing/exploding gradients

    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
    for epoch in range(1, args.epochs + 1):
        # cosine schedule: the step size falls smoothly from lr to near 0, so the last epochs settle
        for group in optimizer.param_groups:
            group["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * (epoch - 1) / args.epochs))
        with tqdm(total=len(loader), desc=f"epoch {epoch}/{args.epochs}", unit="batch",
                  file=sys.stderr, dynamic_ncols=True) as bar:
            train_loss, train_acc = train_epoch(model, loader, optimizer, bar, grad_norms)
            test_loss, test_acc = evaluate(model, x_test, y_test)
            bar.set_postfix(loss=f"{train_loss:.4f}", acc=f"{train_acc:.4f}",
                            test_acc=f"{test_acc:.4f}")
        for key, value in zip(history, (train_loss, train_acc, test_loss, test_acc)):
            history[key].append(value)

    args.out.mkdir(parents=True, exist_ok=True)
    tc.save(model.state_dict(), args.out / "model.npz")
    save_curves(history, args.out / "curves.png",
                f"{args.data}: test accuracy {history['test_acc'][-1]:.4f} after {args.epochs} epochs "
                f"(seed {args.seed})")
    print(f"weights: {args.out / 'model.npz'}")
    print(f"curves: {args.out / 'curves.png'}")
    grad_norms.plot(args.out / "gradient_norms.png", xlabel="training step")
    print(f"gradient norms per layer: {args.out / 'gradient_norms.png'}")
    print(save_graph(model, x_test, y_test, args.out))
    print(f"test accuracy: {history['test_acc'][-1]:.4f}")
    return history["test_acc"][-1]


if __name__ == "__main__":
    main()
