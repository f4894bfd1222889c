"""Regenerate the gallery: every figure in viz/figures/, deterministically.

    python viz/make_figures.py                       # rewrite every figure
    python viz/make_figures.py conv_relu_pool_block  # only the named ones
    python viz/make_figures.py --check               # exit 1 if a committed figure is stale (CI)

One small function per figure builds a graph with tinygrad_conv and returns viz.draw(...), a
backward frame, or (for the step-through player) all of viz.backward_frames(...). Each figure is
written as <name>.dot, its DOT source, and <name>.svg (or <name>.html for the player) rendered
from it. Rendered files record the sha256 of the DOT they came from, so --check compares the DOT
text with a fresh run and checks each image against its DOT, without rendering anything and
whatever the installed Graphviz version. Numbers in labels may differ in their last printed digit
(another machine's BLAS rounds differently); any other change makes a figure stale.
"""
from __future__ import annotations

import argparse
import contextlib
import difflib
import functools
import hashlib
import importlib.util
import io
import math
import re
import sys
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

import tinygrad_conv as tc
from tinygrad_conv import Tensor, nn, viz
from tinygrad_conv import functional as F

ROOT = Path(__file__).resolve().parent.parent
FIGURES_DIR = ROOT / "viz" / "figures"
FIGURES: dict[str, Callable] = {}


def figure(build: Callable) -> Callable:
    """Register a figure under its function's name (the files are <name>.dot and .svg / .html)."""
    FIGURES[build.__name__] = build
    return build


def named(t: Tensor, name: str) -> Tensor:
    t.name = name
    return t


def scalar(value: float, name: str, requires_grad: bool = True) -> Tensor:
    return named(Tensor(value, requires_grad=requires_grad, dtype=np.float64), name)


# ----------------------------------------------------------------------------------------------
# The figures


@figure
def scalar_chain_rule() -> viz.Drawing:
    """L = (a·b + c)·f on scalars, after backward: each op's local derivative (its formula) times
    the gradient arriving from above gives the gradient it sends down."""
    a, b, c, f = scalar(2.0, "a"), scalar(-3.0, "b"), scalar(10.0, "c"), scalar(-2.0, "f")
    e = named(a * b, "e")
    d = named(e + c, "d")
    loss = named(d * f, "L")
    return viz.backward_frames(loss, formulas=True, rankdir="LR")[-1]   # every gradient known


@figure
def shared_weight_accumulates() -> viz.Drawing:
    """L = tanh(w·x)·w uses w twice: its gradient is the sum of what both paths send back. The
    frame shows the second contribution arriving."""
    w, x = scalar(0.5, "w"), scalar(2.0, "x", requires_grad=False)
    u = named(w * x, "u")
    v = named(u.tanh(), "v")
    loss = named(v * w, "L")
    frames = viz.backward_frames(loss, params={"w": w}, rankdir="LR")
    return next(f for f in frames if "2 of 2 contributions" in f.comment)


def conv_block_loss() -> Tensor:
    """images -> conv2d (stride 2, padding 1) + bias -> relu -> 2x2 max-pool -> sum. The images
    require a gradient, so that the conv computes (and its label shows) dX."""
    rng = np.random.default_rng(0)
    images = named(Tensor(rng.standard_normal((2, 3, 8, 8)), requires_grad=True), "images")
    weight = named(nn.Parameter(0.3 * rng.standard_normal((4, 3, 3, 3))), "W")
    bias = named(nn.Parameter(0.1 * rng.standard_normal(4)), "b")
    y = F.conv2d(images, weight, bias, stride=2, padding=1)
    return named(F.max_pool2d(F.relu(y), 2).sum(), "loss")


@figure
def conv_relu_pool_block() -> viz.Drawing:
    """A conv -> relu -> max-pool block with each op's VJP written out for these shapes: dW and dX
    of the strided conv (dilation, padding, remainder crop), max-pool's routing rule."""
    loss = conv_block_loss()
    loss.backward(retain_graph=True)
    return viz.draw(loss, formulas=True)


@figure
def conv_relu_pool_backward() -> list[viz.Drawing]:
    """The backward pass of the conv -> relu -> max-pool block, one VJP per step."""
    return viz.backward_frames(conv_block_loss())


@figure
def strided_conv_backward_graph() -> viz.Drawing:
    """dX of a stride-2 conv, drawn from its own graph (backward with create_graph=True): a conv2d
    of the stride-dilated dY with W reshaped, permuted and flipped."""
    rng = np.random.default_rng(0)
    x = named(Tensor(rng.standard_normal((1, 2, 8, 8)), requires_grad=True), "X")
    w = named(Tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True), "W")
    y = F.conv2d(x, w, stride=2, padding=1)
    dy = named(Tensor(rng.standard_normal(y.shape), requires_grad=True), "dY")
    y.backward(dy, create_graph=True)
    return viz.draw(named(x.grad, "dX"))


@figure
def conv_worked_example() -> viz.Drawing:
    """The worked example: X = 1..25 under a Sobel filter W, and dY = 1..9 coming back through
    L = sum(Y * dY). Every small tensor shows its numbers: Y = -8 everywhere,
    dW = X ⋆ dY = [[411, 456, 501], ...]."""
    x = named(Tensor(np.arange(1.0, 26).reshape(1, 1, 5, 5)), "X")
    w = named(Tensor(np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]]).reshape(1, 1, 3, 3),
                     requires_grad=True), "W")
    y = named(F.conv2d(x, w), "Y")
    dy = named(Tensor(np.arange(1.0, 10).reshape(1, 1, 3, 3)), "dY")
    loss = named((y * dy).sum(), "L")
    loss.backward(retain_graph=True)
    return viz.draw(loss, formulas=True, rankdir="LR")


@functools.lru_cache(maxsize=None)
def trained_digits_model(epochs: int = 3):
    """The digits CNN of examples/train_digits.py, trained by that script (fixed seed)."""
    spec = importlib.util.spec_from_file_location("train_digits", ROOT / "examples" / "train_digits.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        accuracy = script.main(["--epochs", str(epochs), "--seed", "0", "--out", out])
        model = script.build_model(image_size=8)
        model.load_state_dict(tc.load(Path(out) / "model.npz"))
    return model, accuracy, epochs


def digits_loss():
    """The cross-entropy of the trained CNN on the first test image it classifies correctly,
    after its backward."""
    model, accuracy, epochs = trained_digits_model()
    _, _, x_test, y_test = tc.data.load_digits()
    with tc.no_grad():
        predicted = model(Tensor(x_test)).data.argmax(axis=1)
    k = int(np.flatnonzero(predicted == y_test)[0])
    image = named(Tensor(x_test[k:k + 1]), "image")
    loss = named(nn.CrossEntropyLoss()(model(image), y_test[k:k + 1]), "loss")
    model.zero_grad()
    loss.backward(retain_graph=True)
    return loss, (f"digits CNN after {epochs} epochs (test accuracy {accuracy:.3f}) on test image "
                  f"{k}, a {y_test[k]}, predicted correctly")


@figure
def digits_cnn_modules() -> viz.Drawing:
    """The trained digits CNN on one test image: every op inside its module's cluster, parameters
    named from the model, each with its gradient; rows wrapped to fit a 16:9 page."""
    loss, title = digits_loss()
    graph = viz.draw(loss, wrap=True)
    graph.attr(label=title, labelloc="t")
    return graph


@figure
def digits_cnn_collapsed() -> viz.Drawing:
    """The same graph with group_modules=1: each layer collapsed into one box that lists its
    parameters and their gradients."""
    loss, title = digits_loss()
    graph = viz.draw(loss, group_modules=1, wrap=True)
    graph.attr(label=title, labelloc="t")
    return graph


class LeNet5(nn.Module):
    """LeNet-5 as in PyTorch's "Neural Networks" tutorial: (N, 1, 32, 32) -> (N, 10)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, input):
        c1 = F.relu(self.conv1(input))
        s2 = F.max_pool2d(c1, (2, 2))
        c3 = F.relu(self.conv2(s2))
        s4 = F.max_pool2d(c3, 2)
        s4 = s4.flatten(1)
        f5 = F.relu(self.fc1(s4))
        f6 = F.relu(self.fc2(f5))
        return self.fc3(f6)


def lenet5_loss() -> Tensor:
    """LeNet-5 (seed 0, untrained) and its cross-entropy on the first digit of the digits test
    set, scaled up from 8 x 8 to 32 x 32 pixels; after its backward."""
    tc.manual_seed(0)
    model = LeNet5()
    _, _, x_test, y_test = tc.data.load_digits()
    image = Tensor(np.kron(x_test[:1], np.ones((1, 1, 4, 4), dtype=np.float32)))
    loss = named(F.cross_entropy(model(image), y_test[:1]), "loss")
    loss.backward(retain_graph=True)
    return loss


@figure
def lenet5_slide() -> viz.Drawing:
    """LeNet-5 and its loss on one slide: one box per layer (group_modules=1), cross_entropy as
    one op with its VJP, the rows wrapped to fit 16:9 (wrap=True), values as heatmaps."""
    return viz.draw(lenet5_loss(), group_modules=1, wrap=True, formulas=True)


@figure
def lenet5_poster() -> viz.Drawing:
    """Every op of LeNet-5 and its loss, in the module clusters, wrapped into rows for a 16:9
    poster page: conv2d with its bias and linear are one op each."""
    return viz.draw(lenet5_loss(), wrap=True)


# ----------------------------------------------------------------------------------------------
# Writing and checking


def dot_text(result) -> str:
    """The DOT of a figure; a player's frames are several graphs in one file."""
    return "".join(f.source for f in result) if isinstance(result, list) else result.source


def rendered_suffix(result) -> str:
    return ".html" if isinstance(result, list) else ".svg"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_SVG_STAMP = re.compile(r"<!-- dot-sha256: ([0-9a-f]{64}) -->")
_HTML_STAMP = re.compile(r'<meta name="dot-sha256" content="([0-9a-f]{64})">')


def render(name: str, result) -> str:
    """The SVG (stamped with its DOT's sha256) or the HTML player of a figure."""
    if isinstance(result, list):
        title = FIGURES[name].__doc__.split("\n")[0].strip()
        return viz.player_html(result, title=title)
    svg = viz.svg_text(result)
    stamp = f"<!-- dot-sha256: {sha256(result.source)} -->\n"
    prolog = re.match(r"\s*<\?xml[^>]*>\n?", svg)
    at = prolog.end() if prolog else 0
    return svg[:at] + stamp + svg[at:]


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def same_up_to_rounding(old: str, new: str, rel: float = 2e-3, abs_: float = 1e-6) -> bool:
    """Equal texts, except numbers that differ only in their last printed digit."""
    if old == new:
        return True
    if _NUMBER.sub("#", old) != _NUMBER.sub("#", new):
        return False
    return all(a == b or math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)
               for a, b in zip(_NUMBER.findall(old), _NUMBER.findall(new)))


def check(names: list[str], folder: Path) -> list[str]:
    """Every problem that makes a committed figure stale, as a message."""
    problems = []
    expected_files = set()
    for name in names:
        result = FIGURES[name]()
        dot_path = folder / f"{name}.dot"
        image_path = folder / f"{name}{rendered_suffix(result)}"
        expected_files |= {dot_path.name, image_path.name}
        fresh = dot_text(result)
        if not dot_path.exists():
            problems.append(f"{dot_path.name} is missing")
            continue
        committed = dot_path.read_text(encoding="utf-8")
        if not same_up_to_rounding(committed, fresh):
            diff = difflib.unified_diff(committed.splitlines(), fresh.splitlines(),
                                        f"committed {dot_path.name}", "regenerated", lineterm="", n=1)
            problems.append(f"{dot_path.name} is stale:\n" + "\n".join(list(diff)[:40]))
        if not image_path.exists():
            problems.append(f"{image_path.name} is missing")
            continue
        stamp = (_HTML_STAMP if image_path.suffix == ".html" else _SVG_STAMP).search(
            image_path.read_text(encoding="utf-8"))
        if stamp is None or stamp.group(1) != sha256(committed):
            problems.append(f"{image_path.name} was not rendered from the committed {dot_path.name}")
    if names == list(FIGURES):
        for path in sorted(folder.glob("*")):
            if path.suffix in (".dot", ".svg", ".html") and path.name not in expected_files \
                    and not path.name.startswith("explain_"):    # make_explain_figures.py's
                problems.append(f"{path.name} belongs to no figure in make_figures.py (delete it)")
    return problems


def write(names: list[str], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        result = FIGURES[name]()
        (folder / f"{name}.dot").write_text(dot_text(result), encoding="utf-8")
        image = folder / f"{name}{rendered_suffix(result)}"
        image.write_text(render(name, result), encoding="utf-8")
        print(f"wrote {image.relative_to(ROOT) if image.is_relative_to(ROOT) else image}")


def gallery_main(argv, description: str, figures: dict, write, check, what: str, script: str) -> int:
    """The command line of a gallery script: write the named figures (default: all), or with
    --check exit 1 naming every stale one. make_explain_figures.py uses it too."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("names", nargs="*", metavar="name",
                        help=f"figures to make (default: all): {', '.join(figures)}")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if a committed figure is stale")
    parser.add_argument("--out", type=Path, default=FIGURES_DIR, help="figures folder")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in figures]
    if unknown:
        parser.error(f"unknown figure(s) {', '.join(unknown)}; choose from {', '.join(figures)}")
    names = args.names or list(figures)
    if not args.check:
        write(names, args.out)
        return 0
    problems = check(names, args.out)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{what} are stale: run  python viz/{script}  and commit viz/figures/",
              file=sys.stderr)
        return 1
    print(f"{len(names)} {what} up to date")
    return 0


def main(argv=None) -> int:
    return gallery_main(argv, __doc__.split("\n\n")[0], FIGURES, write, check, "figures",
                        "make_figures.py")


if __name__ == "__main__":
    sys.exit(main())
