"""Regenerate the explain gallery: viz/figures/explain_*.svg, deterministically.

    python viz/make_explain_figures.py                          # rewrite every explain figure
    python viz/make_explain_figures.py explain_sobel_dw         # only the named ones
    python viz/make_explain_figures.py --check                  # exit 1 if one is stale (CI)

One small function per figure returns a panel of tc.viz.explain (hand-written SVG, the same text on
every machine) or a matplotlib figure with the numbers it plots. The layers are those of
examples/explain_conv_backward.py: the seed articles' worked examples, and the digits CNN after a
few training steps. A panel is committed as its SVG; --check compares it with a fresh one. A plot
is committed as <name>.csv, its numbers, and <name>.svg stamped with the csv's sha256, so --check
compares the numbers and the stamp, whatever the installed matplotlib draws. Numbers may differ in
their last printed digit (another machine's BLAS rounds differently); any other change is stale.
"""
from __future__ import annotations

import difflib
import functools
import hashlib
import importlib.util
import re
import sys
import tempfile
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
FIGURES_DIR = ROOT / "viz" / "figures"
FIGURES: dict[str, Callable] = {}
TRAIN_STEPS, NORM_STEPS = 60, 40


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = load(ROOT / "examples" / "explain_conv_backward.py")
_gallery = load(ROOT / "viz" / "make_figures.py")        # the shared command line and rounding test
same_up_to_rounding = _gallery.same_up_to_rounding


class Plot:
    """A matplotlib figure and the numbers it draws, as CSV text."""

    def __init__(self, figure, csv: str):
        self.figure, self.csv = figure, csv


def figure(build: Callable) -> Callable:
    """Register a figure under its function's name (the file is <name>.svg)."""
    FIGURES[build.__name__] = build
    return build


# the explained layers, each built once per run
@functools.lru_cache(maxsize=None)
def sobel():
    return example.sobel()[0]


@functools.lru_cache(maxsize=None)
def stride2():
    return example.sobel(stride=2)[0]


@functools.lru_cache(maxsize=None)
def im2col():
    return example.padded_im2col()[0]


@functools.lru_cache(maxsize=None)
def digits():
    return example.digits_explanations(TRAIN_STEPS)


# ----------------------------------------------------------------------------------------------
# The figures


@figure
def explain_sobel_forward() -> str:
    """X = 1..25 under the Sobel-like W: the first window's sum of products, Y = -8 everywhere."""
    return sobel()["forward"].svg


@figure
def explain_sobel_dw() -> str:
    """dW[0,0] = a + 2b + 3c + 6d + 7e + 8f + 11g + 12h + 13i for dY = a..i (1..9)."""
    return sobel()["dW"].svg


@figure
def explain_sobel_dx() -> str:
    """dY padded by 2, rot180(W) laid over it: dX[0,0] = dY[0,0]·W[0,0]."""
    return sobel()["dX"].svg


@figure
def explain_stride2_dw() -> str:
    """Stride 2: dY's entries 2 apart over X, so dW reads every other row and column."""
    return stride2()["dW"].svg


@figure
def explain_stride2_dx() -> str:
    """Stride 2: zeros between dY's entries, then the padding and rot180(W)."""
    return stride2()["dX"].svg


@figure
def explain_im2col() -> str:
    """A 4x4 input padded by 1 under a 2x2 filter: 25 windows, X_col 4 x 25; pixels per window."""
    return im2col()["im2col"].svg


@figure
def explain_digits_forward() -> str:
    """The digits CNN's first conv on a test image: one window of its busiest filter."""
    return digits()["conv"]["forward"].svg


@figure
def explain_digits_dw() -> str:
    """dW[f, 0, 0, 0] of that conv: dY laid over the padded image."""
    return digits()["conv"]["dW"].svg


@figure
def explain_digits_dx() -> str:
    """dX at the corner pixel: the padding cropped off again."""
    return digits()["conv"]["dX"].svg


@figure
def explain_digits_im2col() -> str:
    """The conv as X_col and W_row; the border pixels are read by fewer windows."""
    return digits()["conv"]["im2col"].svg


@figure
def explain_digits_db() -> str:
    """db[f] = Σ dY of that filter."""
    return digits()["conv"]["db"].svg


@figure
def explain_digits_relu() -> str:
    """The ReLU after it: the mask that stops the gradient."""
    return digits()["relu"]["mask"].svg


@figure
def explain_digits_maxpool() -> str:
    """The 2x2 max-pool after it: where each dY entry goes, and the ties that get nothing."""
    return digits()["pool"]["routing"].svg


@figure
def explain_avgpool_ceil() -> str:
    """avg_pool2d(3, stride 2, padding 1, ceil_mode, count_include_pad=False) on a 6x6 input:
    the divisor counts only real cells; the ceil_mode border never counts."""
    import numpy as np

    import tinygrad_conv as tc
    from tinygrad_conv import functional as F
    x = tc.Tensor(np.arange(36, dtype=np.float64).reshape(1, 1, 6, 6), requires_grad=True)
    y = F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
    dy = np.arange(1, y.data.size + 1, dtype=np.float64).reshape(y.shape)
    return tc.viz.explain(y, dy=dy, position=(3, 3))["divisor"].svg


@figure
def explain_gradient_norms() -> Plot:
    """Per-layer gradient norms while training an 8-layer sigmoid net and a ReLU net on the
    digits: the sigmoid's first layers get gradients 10^6 times smaller."""
    recorders = example.gradient_norms(NORM_STEPS)
    rows = ["net,layer," + ",".join(f"step{k + 1}" for k in range(NORM_STEPS))]
    for title, norms in recorders.items():
        rows += [f"{title},{layer}," + ",".join(f"{v:.6e}" for v in values)
                 for layer, values in norms.history.items()]
    return Plot(example.plot_side_by_side(recorders), "\n".join(rows) + "\n")


# ----------------------------------------------------------------------------------------------
# Writing and checking


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_STAMP = re.compile(r"<!-- data-sha256: ([0-9a-f]{64}) -->")


def stamped_svg(plot: Plot) -> str:
    """The plot as SVG text with the sha256 of its CSV after the XML prolog."""
    from tinygrad_conv.viz.explain.norms import save_figure
    with tempfile.TemporaryDirectory() as folder:
        svg = save_figure(plot.figure, Path(folder) / "plot.svg").read_text(encoding="utf-8")
    prolog = re.match(r"\s*<\?xml[^>]*>\n?", svg)
    at = prolog.end() if prolog else 0
    return svg[:at] + f"<!-- data-sha256: {sha256(plot.csv)} -->\n" + svg[at:]


def files(name: str, result) -> dict[str, str]:
    """The files of a figure and their text."""
    if isinstance(result, Plot):
        return {f"{name}.csv": result.csv, f"{name}.svg": stamped_svg(result)}
    return {f"{name}.svg": result}


def stale(path: Path, fresh: str) -> str | None:
    committed = path.read_text(encoding="utf-8")
    if same_up_to_rounding(committed, fresh):
        return None
    diff = difflib.unified_diff(committed.splitlines(), fresh.splitlines(),
                                f"committed {path.name}", "regenerated", lineterm="", n=0)
    return f"{path.name} is stale:\n" + "\n".join(list(diff)[:30])


def check(names: list[str], folder: Path) -> list[str]:
    """Every problem that makes a committed explain figure stale, as a message."""
    problems, expected = [], set()
    for name in names:
        result = FIGURES[name]()
        if isinstance(result, Plot):
            csv, svg = folder / f"{name}.csv", folder / f"{name}.svg"
            expected |= {csv.name, svg.name}
            if not csv.exists() or not svg.exists():
                problems.append(f"{csv.name} or {svg.name} is missing")
                continue
            problems.append(stale(csv, result.csv))
            stamp = _STAMP.search(svg.read_text(encoding="utf-8"))
            if stamp is None or stamp.group(1) != sha256(csv.read_text(encoding="utf-8")):
                problems.append(f"{svg.name} was not drawn from the committed {csv.name}")
            continue
        path = folder / f"{name}.svg"
        expected.add(path.name)
        problems.append(stale(path, result) if path.exists() else f"{path.name} is missing")
    if names == list(FIGURES):
        problems += [f"{p.name} belongs to no figure in make_explain_figures.py (delete it)"
                     for p in sorted(folder.glob("explain_*")) if p.name not in expected]
    return [p for p in problems if p]


def write(names: list[str], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        for file, text in files(name, FIGURES[name]()).items():
            path = folder / file
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main(argv=None) -> int:
    return _gallery.gallery_main(argv, __doc__.split("\n\n")[0], FIGURES, write, check,
                                 "explain figures", "make_explain_figures.py")


if __name__ == "__main__":
    sys.exit(main())
