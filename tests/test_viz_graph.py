"""The graph model: composites drawn as one op (and expanded on request), tensors named by where
they come from, values as numbers or heatmaps, backward frames per drawn op that store only what
changes, and the LeNet-5 figures measured against a 16:9 slide and poster."""
import re
import shutil

import numpy as np
import pytest

import tinygrad_conv as tc
import tinygrad_conv.functional as F
from tinygrad_conv import Tensor, nn, viz
from tinygrad_conv.viz.labels import _colour

from gallery import load_gallery
from dot_text import all_text, attribute, edges, find, label_of, node_ids, node_line

HAS_DOT = shutil.which("dot") is not None


def ops_in(source: str) -> list[str]:
    return [label_of(source, n).split("\n")[0] for n in node_ids(source, r"op\d+")]


def classifier_loss(n=4):
    tc.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3)).double()
    x = Tensor(np.random.default_rng(0).standard_normal((n, 6)))
    loss = F.cross_entropy(model(x), np.arange(n) % 3)
    loss.backward(retain_graph=True)
    return model, x, loss


# ---- composites --------------------------------------------------------------------------------

def test_cross_entropy_is_one_op_with_its_own_vjp():
    _, _, loss = classifier_loss()
    source = viz.draw(loss, formulas=True).source
    assert ops_in(source).count("cross_entropy") == 1
    for primitive in ("exp", "log", "getitem", "max"):
        assert primitive not in ops_in(source)
    formula = label_of(source, find(source, "cross_entropy"))
    assert "dZ = (softmax(Z) − onehot(y)) / N, N = 4: (4,3)" in formula
    assert "dZ" in formula and "shift" not in formula               # no log-sum-exp constants
    assert "peripheries=2" in node_line(source, find(source, "cross_entropy"))
    target = find(source, "target\n")                                # the labels, as an input
    assert "dashed" in node_line(source, target) and "= [0, 1, 2, 0]" in label_of(source, target)
    assert (target, find(source, "cross_entropy")) in edges(source)


def test_expand_composites_draws_the_primitives():
    _, _, loss = classifier_loss()
    collapsed = ops_in(viz.draw(loss).source)
    expanded = ops_in(viz.draw(loss, expand_composites=True).source)
    assert "cross_entropy" not in expanded and "linear" not in expanded
    assert {"exp", "log", "getitem", "matmul", "permute"} <= set(expanded)
    assert len(expanded) >= len(collapsed) + 10


def test_linear_is_one_op_with_dx_dw_db():
    model, _, loss = classifier_loss()
    source = viz.draw(loss, formulas=True).source
    assert ops_in(source).count("linear") == 2 and "permute" not in ops_in(source)
    first = label_of(source, find(source, "linear"))
    assert "Y = X Wᵀ + b: (4,6) -> (4,5)" in first
    assert "dX" not in first                                  # the input data needs no gradient
    assert "dW = dYᵀ X: (5,4) (4,6) -> (5,6)" in first and "db = Σ_n dY: (4,5) -> (5,)" in first
    second = label_of(source, [n for n in node_ids(source, r"op\d+")
                               if label_of(source, n).startswith("linear")][1])
    assert "dX = dY W: (4,3) (3,5) -> (4,5)" in second
    weight = find(source, "2.weight\n")
    assert any(a == weight and label_of(source, b).startswith("linear") for a, b in edges(source))


def test_log_softmax_and_softmax_alone_are_one_op_each():
    x = Tensor(np.random.default_rng(0).standard_normal((2, 4)), requires_grad=True)
    source = viz.draw(F.log_softmax(x, dim=1).sum() + F.softmax(x, dim=1).max(), formulas=True).source
    assert ops_in(source).count("log_softmax") == 1 and ops_in(source).count("softmax") == 1
    assert "dZ = dY − softmax(Z)·Σ_j dY_j along dim 1" in all_text(source)
    assert "constant" not in all_text(source)                 # the max shift is inside the op


def test_composite_frames_are_one_step_each():
    _, _, loss = classifier_loss()
    frames = viz.backward_frames(loss)
    names = [re.match(r"step \d+/\d+: the VJP of (\S+)", f.comment).group(1) for f in frames]
    assert names == ["cross_entropy", "linear", "relu", "linear"]
    expanded = viz.backward_frames(loss, expand_composites=True)
    assert len(expanded) > 10


def test_a_composite_inside_a_collapsed_module_is_part_of_the_box():
    _, _, loss = classifier_loss()
    source = viz.draw(loss, group_modules=1).source
    assert "linear" not in ops_in(source)                     # in the boxes 0 and 2
    box = label_of(source, find(source, "0 · Linear\n"))
    assert "weight (5,6)" in box and "bias (5,)" in box


def test_composite_calls_leave_no_record_without_a_graph():
    from tinygrad_conv.autograd.composites import _CALLS
    before = len(_CALLS)
    with tc.no_grad():
        F.linear(Tensor(np.ones((2, 3))), Tensor(np.ones((4, 3)), requires_grad=True))
    F.cross_entropy(Tensor(np.ones((2, 3))), np.array([0, 1]))
    assert len(_CALLS) == before
    y = F.linear(Tensor(np.ones((2, 3))), Tensor(np.ones((4, 3)), requires_grad=True))
    assert len(_CALLS) == before + 1
    del y
    assert len(_CALLS) == before                              # gone with its tensor


# ---- names ---------------------------------------------------------------------------------

class LeNetish(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 2, 3)
        self.fc1 = nn.Linear(2 * 3 * 3, 3)

    def forward(self, x):
        return self.fc1(F.max_pool2d(F.relu(self.conv1(x)), 2).flatten(1))


def test_tensors_are_named_by_where_they_come_from():
    tc.manual_seed(0)
    model = LeNetish().double()
    x = Tensor(np.random.default_rng(0).standard_normal((1, 1, 8, 8)))      # no grad, no name
    loss = F.cross_entropy(model(x), np.array([2]))
    source = viz.draw(loss).source
    first_lines = [label_of(source, n).split("\n")[0] for n in node_ids(source, r"t\d+")]
    assert {"input", "conv1 out", "relu out", "max_pool2d out", "fc1 out", "target",
            "conv1.weight", "fc1.bias"} <= set(first_lines)
    assert "constant" not in first_lines                      # the image is an input, not a constant
    assert "dashed" in node_line(source, find(source, "input\n"))


# ---- values --------------------------------------------------------------------------------

SOBEL = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])


def worked_example():
    """X = 1..25 under a Sobel filter, with dY = 1..9 coming back: dW = [[411, 456, 501], ...]."""
    x = Tensor(np.arange(1.0, 26).reshape(1, 1, 5, 5))
    w = Tensor(SOBEL.reshape(1, 1, 3, 3), requires_grad=True)
    x.name, w.name = "X", "W"
    y = F.conv2d(x, w)
    y.name = "Y"
    dy = Tensor(np.arange(1.0, 10).reshape(1, 1, 3, 3))
    dy.name = "dY"
    loss = (y * dy).sum()
    return w, y, loss


def test_small_channels_show_their_numbers_in_nodes_and_frames():
    w, y, loss = worked_example()
    loss.backward(retain_graph=True)
    np.testing.assert_array_equal(w.grad.data[0, 0, 0], [411, 456, 501])
    source = viz.draw(loss).source
    assert label_of(source, find(source, "W\n")).endswith(
        "grad\n411 456 501\n636 681 726\n861 906 951")
    assert "1 2 3 4 5\n6 7 8 9 10" in label_of(source, find(source, "X\n"))
    frames = viz.backward_frames(loss)
    last = frames[-1].source
    assert "411 456 501" in label_of(last, find(last, "W\n"))
    y_label = label_of(last, find(last, "Y\n"))
    assert y_label.endswith("grad\n1 2 3\n4 5 6\n7 8 9")            # dY arriving at Y, as numbers
    assert "‖·‖" not in y_label


def test_larger_channels_show_heatmaps_on_one_diverging_scale():
    a = np.zeros((1, 3, 24, 24))
    a[0, 0, :12] = 2.0                                        # the largest value: full red
    a[0, 1, :, :12] = -1.0                                    # half of it below zero: mid blue
    x = Tensor(a, requires_grad=True)
    x.name = "maps"
    line = node_line(viz.draw((x * 1.0).sum()).source, "t0")
    label = attribute(line, "label")
    assert "min -1, max 2" in label
    cells = re.findall(r'<TD BGCOLOR="(#[0-9a-f]{6})"[^>]*></TD>', line)
    assert len(cells) == 3 * 12 * 12                          # 24 x 24 as means of 2 x 2 blocks
    assert cells.count(_colour(1.0)) == 72 and cells.count(_colour(-0.5)) == 72
    assert _colour(1.0) == "#b2182b" and _colour(0.0) == "#f7f7f7" and _colour(-1.0) == "#2166ac"
    many = Tensor(np.ones((1, 20, 9, 9)), requires_grad=True)
    assert "first 8 of 20" in label_of(viz.draw(many.sum()).source, "t0")


# ---- frames -----------------------------------------------------------------------------------

def test_frames_store_only_what_changes_and_write_their_dot_when_read():
    x = Tensor(np.array([0.5, -0.3]), requires_grad=True)
    y = x
    for _ in range(300):
        y = y.tanh()
    frames = viz.backward_frames(y.sum())
    assert len(frames) == 301
    assert all(f._pending is not None for f in frames)       # no DOT written yet
    for frame in frames:                                     # each step: one op, its two edges
        assert len(frame.edge_labels) <= 2 and len(frame.changed) <= 1
    sizes = [len(frames[k].source) for k in (0, 150, 300)]
    assert max(sizes) < 1.5 * min(sizes)            # every frame: the same graph, gradients added
    assert frames[0]._pending is None and frames[1]._pending is not None


def test_frames_of_a_collapsed_module_say_what_reaches_its_parameters():
    model, _, loss = classifier_loss()
    frames = viz.backward_frames(loss, group_modules=1)
    assert frames[-1].comment.startswith("step 4/4: the VJP of 0 · Linear")
    assert "to 0.weight" in frames[-1].comment and "to 0.bias" in frames[-1].comment


def test_gradient_edges_point_the_way_the_gradient_flows():
    _, _, loss = classifier_loss()
    frame = viz.backward_frames(loss)[1]                     # the last linear
    labelled = [line for line in frame.source.split("\n") if 'class=grad' in line]
    assert len(labelled) == 4                                # dY in; dX, dW, db out
    for line in labelled:
        assert "dir=back" in line and "arrowtail=normal" in line


# ---- sizes on a slide and a poster ------------------------------------------------------------

def svg_size(graph) -> tuple[float, float, float]:
    """(width, height, smallest font size) of the rendered SVG, in points."""
    svg = viz.svg_text(graph)
    width, height = (float(v) for v in re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"',
                                                 svg).groups())
    return width, height, min(float(f) for f in re.findall(r'font-size="([\d.]+)"', svg))


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz dot is not installed")
def test_lenet5_fits_a_slide_and_a_poster():
    pytest.importorskip("sklearn")
    figures = load_gallery("make_figures_sizes")
    width, height, font = svg_size(figures.lenet5_slide())
    scale = min(1920 / width, 1080 / height)                 # shown as large as fits 1920 x 1080 px
    assert font * scale >= 12, (width, height, font, scale)  # text of 12 px at least
    width, height, font = svg_size(figures.lenet5_poster())
    scale = min(120 / 2.54 * 72 / width, 67.5 / 2.54 * 72 / height)    # 120 x 67.5 cm, 16:9
    assert font * scale >= 12, (width, height, font, scale)  # 12 pt at least, printed
