"""Graph drawing: labels, leaf kinds, module clusters, formulas, the gradient graph, backward frames,
the HTML player file. Checks read the DOT text (draw(...).source), never pixels (tests/dot_text.py
turns HTML-like labels into lines of text); rendering is tested in test_rendering.py, the player's
page in test_player.py and test_viz_browser.py."""
import re
import shutil
import time

import numpy as np
import pytest

import tinygrad_conv as tc
import tinygrad_conv.functional as F
from tinygrad_conv import nn, viz
from tinygrad_conv.autograd import PRIMITIVES, Tensor, engine
from tinygrad_conv.viz.graph import _GraphModel
from tinygrad_conv.autograd.composites import COMPOSITES
from tinygrad_conv.viz.formulas import COMPOSITE_FORMULAS
from tinygrad_conv.viz.labels import _number, _pad_and_crop, _summary
from tinygrad_conv.viz.rendering import fallback_program

from gallery import load_gallery
from dot_text import all_text, attribute, edge_line, edges, find, label_of, node_ids, node_line

HAS_DOT = shutil.which("dot") is not None


def leaf(*shape, name=None):
    t = Tensor(np.random.standard_normal(shape), requires_grad=True)
    t.name = name
    return t


def conv_block(stride=2, padding=1):
    x = Tensor(np.random.standard_normal((2, 3, 8, 8)), requires_grad=True)
    w = leaf(4, 3, 3, 3, name="W")
    y = F.conv2d(x, w, stride=stride, padding=padding)
    return x, w, F.max_pool2d(F.relu(y), 2).sum()


# ---- tensor and op labels --------------------------------------------------------------------

def test_draw_labels_shape_dtype_values_and_grads():
    a, b = Tensor(2.0, requires_grad=True, dtype=np.float64), leaf(3, 4, name="B")
    a.name = "a"
    loss = (a * b).sum()
    loss.name = "loss"
    loss.backward(retain_graph=True)
    source = viz.draw(loss).source
    assert label_of(source, "t0") == "a\nscalar float64\n= 2\ngrad " + _number(b.data.sum())
    b_label = label_of(source, "t1")
    assert b_label.startswith("B\n(3, 4) float64\n")
    values, grads = b_label.split("\ngrad\n")                 # 3 x 4: every entry as a number
    assert values.split("\n")[2:] == [" ".join(_number(v) for v in row) for row in b.data]
    assert grads.split("\n") == [" ".join(_number(v) for v in row) for row in b.grad.data]
    assert label_of(source, "t3").startswith("loss\nscalar float64")
    assert label_of(source, "op0") == "mul" and label_of(source, "op1") == "sum"


def test_draw_show_values_and_show_grads_options():
    x = leaf(2, 3)
    y = (x * 2.0).sum()
    y.backward(retain_graph=True)
    assert "∈ [" in label_of(viz.draw(y, show_values=True).source, "t0")
    assert "= " not in viz.draw(y, show_values=False).source
    assert "grad" not in viz.draw(y, show_grads=False).source


def test_leaf_kinds_are_styled_apart():
    w = leaf(2, name="w")
    x = leaf(2)                                       # an unnamed leaf that requires grad: input
    data = Tensor(np.arange(6.0).reshape(3, 2))       # requires_grad=False: data, dashed
    y = ((data * w) + x).sum() * 2.0                  # 2.0: a literal constant
    source = viz.draw(y, params={"w": w}).source
    assert [label_of(source, n).split("\n")[0] for n in ("t0", "t1", "t2", "t3")] == \
        ["w", "input", "mul out", "input"]     # numbered in toposort order
    assert 'fillcolor="#cfe0fc"' in node_line(source, "t0")
    assert "dashed" in node_line(source, "t1") and 'fillcolor="#d3f2d3"' in node_line(source, "t1")
    constant = find(source, "constant")
    assert "dashed" in node_line(source, constant) and "#f0f0f0" in node_line(source, constant)
    assert 'fillcolor="#d3f2d3"' in node_line(source, "t3")
    assert "fillcolor" not in node_line(source, "t2")        # intermediate: the white default
    assert 'penwidth=2' in node_line(source, "t7")           # the root


def test_op_labels_show_parameters_and_hide_everyday_defaults():
    x, w, loss = conv_block()
    source = viz.draw(loss).source
    conv = label_of(source, "op0")
    assert conv == "conv2d\nstride=(2, 2) padding=(1, 1)"
    assert "max_pool2d\nkernel=(2, 2) stride=(2, 2)" == label_of(source, "op2")


def test_op_labels_summarise_index_arrays_and_keep_asymmetric_padding():
    x = leaf(5, 6)
    y = F.pad(x[np.array([0, 1, 1, 3, 4, 2]), 1:5], (0, 2, 1, 0))
    source = viz.draw(y.sum()).source
    assert "getitem\nindex=(int64(6,), 1:5)" == label_of(source, "op0")
    assert "pad\nwidths=rows (1,0), cols (0,2)" == label_of(source, "op1")   # (before, after) per axis


def test_tensor_name_slot_is_the_label():
    x = leaf(3, name="x")
    h = x.exp()
    h.name = "hidden"
    source = viz.draw(h.sum()).source
    assert label_of(source, "t1").startswith("hidden\n")
    assert 'fillcolor="#d3f2d3"' in node_line(source, "t0")     # a name alone: still an input


def test_an_nn_parameter_is_a_parameter_without_a_name():
    w = nn.Parameter(np.ones(2))
    source = viz.draw((w * 2.0).sum()).source
    assert 'fillcolor="#cfe0fc"' in node_line(source, "t0")


def test_draw_a_leaf_is_one_node():
    x = leaf(2, name="x")
    source = viz.draw(x).source
    assert label_of(source, "t0").startswith("x\n(2,)") and not edges(source)


def test_params_argument_accepts_named_parameters_pairs():
    w = leaf(2)
    source = viz.draw((w * w).sum(), params=[("layer.w", w)]).source
    assert label_of(source, "t0").startswith("layer.w\n")


# ---- modules ---------------------------------------------------------------------------------

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.conv1 = nn.Conv2d(2, 3, 1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(12, 3)

    def forward(self, x):
        return self.fc(self.flatten(self.conv1(self.features(x))))


def net_loss():
    tc.random.manual_seed(0)
    model = Net().double()
    x = Tensor(np.random.default_rng(0).standard_normal((2, 1, 4, 4)))
    x.name = "images"
    loss = F.cross_entropy(model(x), Tensor(np.array([0, 2])))
    loss.backward(retain_graph=True)
    return model, loss


def clusters(source: str) -> dict[str, str]:
    """cluster name -> its label."""
    found = re.findall(r'subgraph (cluster_m\d+) \{\n([^\n]*)', source)
    return {name: attribute(line, "label") for name, line in found}


def test_parameter_names_come_from_modules():
    model, loss = net_loss()
    source = viz.draw(loss).source
    labels = {label_of(source, n).split("\n")[0] for n in re.findall(r"^\s*(t\d+) \[", source, re.M)}
    assert {"features.0.weight", "features.0.bias", "conv1.weight", "conv1.bias", "fc.weight",
            "fc.bias", "images"} <= labels
    for name, p in model.named_parameters():        # every parameter shows its shape and gradient
        label = label_of(source, find(source, name + "\n"))
        assert label.startswith(f"{name}\n({', '.join(map(str, p.shape))}")
        assert "grad" in label


def test_module_clusters_are_nested_and_labelled_with_path_and_repr():
    model, loss = net_loss()
    source = viz.draw(loss).source
    labels = set(clusters(source).values())
    assert "Net" in labels
    assert "features · Sequential" in labels
    assert f"features.0 · {model.features[0]!r}" in labels
    assert f"conv1 · {model.conv1!r}" in labels
    # features.0 is drawn inside features, which is inside Net
    net = source.index('label=<Net>')
    features = source.index('label=<features · Sequential>')
    conv = source.index(f'label=<features.0 · {model.features[0]!r}>')
    assert net < features < conv
    # the first conv2d op sits in the features.0 cluster
    block = source[conv:source.index("}", conv)]
    assert re.search(r"op\d+ \[label=<<B>conv2d</B>", block)


def test_group_modules_false_draws_no_clusters():
    _, loss = net_loss()
    assert "subgraph" not in viz.draw(loss, group_modules=False).source


def test_group_modules_depth_collapses_each_module_into_one_box():
    model, loss = net_loss()
    full = viz.draw(loss).source
    source = viz.draw(loss, group_modules=1).source
    boxes = {label_of(source, m).split("\n")[0] for m in node_ids(source, r"m\d+")}
    assert boxes == {"features", "conv1", "flatten", "fc"}       # the module names, in bold
    assert "box3d" in source and "conv2d" not in source.split("m0")[0]
    features = label_of(source, find(source, "features\n"))
    assert "0.weight (2,1,3,3) grad ‖·‖=" in features            # named within the box
    assert "3 ops: conv2d, relu, max_pool2d" in features
    conv1 = label_of(source, find(source, "conv1\n"))
    # one op (the bias is added inside conv2d): its parameters, as for any one-op module
    assert conv1.replace("\n", " ").startswith("conv1 stride=(1, 1) weight (3,2,1,1)")
    assert set(clusters(source).values()) == {"Net"}
    assert source.count(" -> ") < full.count(" -> ")
    # the input still feeds the first box, and each box feeds the next through a drawn tensor
    images = next(n for n in re.findall(r"^\s*(t\d+) \[", source, re.M)
                  if label_of(source, n).startswith("images"))
    assert any(a == images and b.startswith("m") for a, b in edges(source))
    whole = viz.draw(loss, group_modules=0).source
    assert [label_of(whole, m).split("\n")[0] for m in re.findall(r"^\s*(m\d+) \[", whole, re.M)] == ["Net"]


def test_draw_is_deterministic():
    first = viz.draw(net_loss()[1], formulas=True).source
    second = viz.draw(net_loss()[1], formulas=True).source
    assert first == second
    assert not re.search(r"(?<![\d.])\d{7,}", first)     # no id()s in node names or labels


# ---- formulas --------------------------------------------------------------------------------

def test_every_primitive_and_composite_has_a_formula():
    assert set(viz.FORMULAS) == set(PRIMITIVES)
    assert set(COMPOSITE_FORMULAS) == COMPOSITES


def test_conv2d_formula_has_this_graphs_shapes_dilation_padding_and_remainder():
    x, w, loss = conv_block(stride=2, padding=1)      # H = 8: (8 + 2 - 3) % 2 = 1 row never read
    conv = label_of(viz.draw(loss, formulas=True).source, "op0")
    assert "dW = X ⋆ dY: (2,3,8,8) ⋆ (2,4,4,4) -> (4,3,3,3)" in conv
    assert "X: pad rows (1,0), cols (1,0) (the padding, less the remainder (1,1) no window reached)" in conv
    assert "dY is the kernel, dilated by the stride (2,2)" in conv
    assert ("dX = pad(dilate_2(dY)) ⋆ rot180(W) = dilate_2(dY) ∗ W: "
            "(2,4,4,4) -> (2,4,7,7) -> (2,4,10,10) -> (2,3,8,8)") in conv
    assert "pad rows (1,2), cols (1,2) = K−1 − padding + remainder after" in conv
    assert "C and F swapped: (3,4,3,3)" in conv
    assert 'shape=note' in node_line(viz.draw(loss, formulas=True).source, "op0")


def test_conv2d_formula_leaves_out_what_is_not_there():
    x = Tensor(np.random.standard_normal((1, 2, 6, 6)))             # data: dX is never computed
    w = leaf(3, 2, 3, 3, name="W")
    conv = label_of(viz.draw(F.conv2d(x, w).sum(), formulas=True).source, "op0")
    assert "dW = X ⋆ dY" in conv and "dX" not in conv
    assert "X: " not in conv and "padded" not in conv                 # nothing padded, no stride
    x.requires_grad_(True)
    w.requires_grad_(False)
    conv = label_of(viz.draw(F.conv2d(x, w).sum(), formulas=True).source, "op0")
    assert "dW" not in conv and "dX = pad(dY) ⋆ rot180(W) = dY ∗ W" in conv


def test_conv2d_formula_padding_is_the_padding_the_engine_uses():
    """The dX padding printed on the forward node is the one of the dX conv the VJP records."""
    x, w, _ = conv_block()
    y = F.conv2d(x, w, stride=(2, 3), padding=(1, 2), dilation=(1, 2))
    dy = leaf(*y.shape, name="dY")
    y.backward(dy, create_graph=True)
    formula = label_of(viz.draw(y, formulas=True).source, "op0")
    (dx_conv,) = [t for t in tc.toposort(x.grad) if t.node is not None and t.node.op.name == "conv2d"]
    padding = dx_conv.node.params["padding"]
    assert f"{_pad_and_crop(padding)} = d(K−1) − padding" in formula
    assert "dilate_(2,3)(dY)" in formula and "dilated by (1,2)" in formula
    assert "its stride is the kernel dilation (1,2)" in formula


def test_pool_and_pad_formulas():
    x = leaf(1, 2, 5, 5)
    m = F.max_pool2d(x, 3, stride=2, padding=1)
    a = F.avg_pool2d(x, 2, ceil_mode=True)
    c = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
    d = F.avg_pool2d(x, 2, divisor_override=3)
    p = F.pad(x, (1, 1, 1, 1))
    q = F.pad(x, (-1, -1, 0, 0))
    text = all_text(viz.draw(m.sum() + a.sum() + c.sum() + d.sum() + p.sum() + q.sum(),
                             formulas=True).source)
    assert "dX = unpool(dY -> argmax): (1,2,3,3) -> (1,2,5,5)" in text
    assert ("ties: the first\nin row-major window order (as PyTorch); overlapping windows add"
            in text)                                              # 3 x 3 windows, stride 2
    assert "padding rows (1,1), cols (1,1) is -inf: never the max" in text
    assert ("dX = spread(dY / divisor): (1,2,3,3) -> (1,2,5,5)\neach window's share goes to all "
            "its 2·2 cells\n") in text                             # 2 x 2 windows, stride 2: apart
    assert "divisor = 1..4 per window (only entries of the input count)" in text   # ceil_mode border
    assert "ceil_mode border (1,1) is never counted" in text
    assert "divisor = 4..9 per window (only entries of the input count)" in text
    e = F.avg_pool2d(x, 3, stride=2, padding=1)                          # count_include_pad=True
    assert "divisor = 9 in every window = 3·3" in all_text(viz.draw(e.sum(), formulas=True).source)
    g = F.avg_pool2d(leaf(1, 1, 6, 6), 3, stride=2, padding=1, ceil_mode=True)   # last window: 2 rows
    assert "divisor = 4..9 per window (zero padding counts)" in all_text(
        viz.draw(g.sum(), formulas=True).source)
    assert "divisor = 3 (divisor_override)" in text
    assert "dX = crop(dY): (1,2,7,7) -> (1,2,5,5)\ndrops rows (1,1), cols (1,1) again" in text
    assert "dX = zero-pad(dY): (1,2,5,3) -> (1,2,5,5)\nputs back cols (1,1) as zeros" in text
    only_max = all_text(viz.draw(F.max_pool2d(x, 2).sum(), formulas=True).source)
    assert "overlapping" not in only_max and "-inf" not in only_max


def test_avg_pool_divisor_in_formula_matches_the_forward():
    """Pooling ones gives entries / divisor: all ones means the ceil_mode border is not counted."""
    x = Tensor(np.ones((1, 1, 5, 5)), requires_grad=True)
    y = F.avg_pool2d(x, 2, ceil_mode=True)           # windows of 4, 2 (edges) and 1 (corner) entries
    np.testing.assert_array_equal(y.data, 1.0)
    assert "divisor = 1..4 per window" in viz.draw(y.sum(), formulas=True).source


# ---- the backward graph (create_graph) ---------------------------------------------------------

def dx_graph():
    x, w, _ = conv_block()
    y = F.conv2d(x, w, stride=2, padding=1)
    dy = leaf(*y.shape, name="dY")
    y.backward(dy, create_graph=True)
    return x


def op_names(source: str) -> dict[str, str]:
    return {n: label_of(source, n).split("\n")[0] for n in node_ids(source, r"op\d+")}


def test_gradient_graph_shows_dx_as_conv_of_dilated_dy_with_flipped_w():
    x = dx_graph()
    source = viz.draw(x.grad).source
    ops = op_names(source)
    out_of = {b: a for a, b in edges(source) if a.startswith("op")}
    into = {}
    for a, b in edges(source):
        into.setdefault(b, []).append(a)
    (conv,) = [n for n, name in ops.items() if name == "conv2d"]
    producers = [ops[out_of[t]] for t in into[conv]]
    assert sorted(producers) == ["dilate2d", "rot180"]           # W turned and C, F swapped: one op
    dilate = next(n for n, name in ops.items() if name == "dilate2d")
    assert label_of(source, into[dilate][0]).startswith("dY\n")
    assert "stride=(2, 2)" in label_of(source, dilate)
    (dx,) = [b for a, b in edges(source) if a == conv]
    assert 'penwidth=2' in node_line(source, dx) and "(2, 3, 8, 8)" in label_of(source, dx)
    w_node = find(source, "W\n")
    assert [ops[b] for a, b in edges(source) if a == w_node] == ["rot180"]


def test_gradient_graph_expanded_shows_the_primitives_of_rot180():
    x = dx_graph()
    source = viz.draw(x.grad, expand_composites=True).source
    ops = op_names(source)
    chain, tensor = [], find(source, "W\n")
    for _ in range(4):                                    # W -> op -> its result -> op -> ...
        op = next(b for a, b in edges(source) if a == tensor)
        chain.append(ops[op])
        tensor = next(b for a, b in edges(source) if a == op)
    assert chain[:4] == ["reshape", "permute", "reshape", "flip"]


# ---- errors ----------------------------------------------------------------------------------

def test_draw_after_backward_without_retain_graph_explains_the_fix():
    x = leaf(3)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"retain_graph=True.*or draw before calling backward"):
        viz.draw(loss)


@pytest.mark.parametrize("kwargs, match", [
    ({"rankdir": "UP"}, "rankdir must be one of"),
    ({"show_values": "yes"}, "show_values must be 'auto', True or False"),
    ({"group_modules": -1}, "group_modules must be True, False or a depth >= 0"),
    ({"group_modules": "1"}, "group_modules must be"),
])
def test_draw_rejects_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        viz.draw(leaf(2).sum(), **kwargs)


def test_draw_rejects_non_tensors_and_bad_params():
    with pytest.raises(TypeError, match="root must be a Tensor, got ndarray"):
        viz.draw(np.zeros(2))
    with pytest.raises(TypeError, match="params must be a dict of name -> Tensor"):
        viz.draw(leaf(2).sum(), params=3)
    with pytest.raises(TypeError, match=r"params\['w'\] must be a Tensor, got ndarray"):
        viz.draw(leaf(2).sum(), params={"w": np.zeros(2)})
    with pytest.raises(TypeError, match="unknown draw option"):
        viz.backward_frames(leaf(2).sum(), show_value=True)


# ---- large graphs ----------------------------------------------------------------------------

def test_draw_a_100000_op_chain_without_recursion():
    x = Tensor(np.float64(0.5), requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y.tanh()
    start = time.perf_counter()
    source = viz.draw(y).source
    assert time.perf_counter() - start < 60
    assert "op99999 [" in source and "t100000 [" in source
    assert source.count(" -> ") == 200_000


# ---- backward frames -------------------------------------------------------------------------

def engine_vjp_order(root, monkeypatch) -> list:
    """The tensors whose VJP engine.backward really runs, in its order."""
    ran = []
    real = engine.vjp_of

    def recording(node, dy):
        ran.append(node)
        return real(node, dy)

    with monkeypatch.context() as patch:
        patch.setattr(engine, "vjp_of", recording)
        root.backward(retain_graph=True)
    return ran


def current_op(frame) -> str:
    (match,) = re.findall(r"^\s*(op\d+|m\d+) \[[^\n]*class=current", frame.source, re.M)
    return match


def shared_weight_loss():
    w = leaf(2, name="w")
    x = Tensor(np.array([1.0, -2.0]))
    h = x * w                    # w used three times: two paths and a direct term
    loss = (h.tanh() * w + h.exp() + w).sum()
    return w, loss


def test_frames_follow_the_engines_vjp_order(monkeypatch):
    _, _, loss = conv_block()
    frames = viz.backward_frames(loss)
    layout = _GraphModel(loss, None, True, "auto", False)
    ran = engine_vjp_order(loss, monkeypatch)
    expected = []
    for node in ran:
        (t,) = [t for t in layout.order if t.node is node]
        expected.append(layout.op_ids[id(t)])
    assert [current_op(f) for f in frames] == expected
    assert len(frames) == len(ran) == sum(t.node is not None for t in layout.order)


def test_frames_order_with_a_shared_weight(monkeypatch):
    w, loss = shared_weight_loss()
    frames = viz.backward_frames(loss)
    layout = _GraphModel(loss, None, True, "auto", False)
    expected = [layout.op_ids[id(next(t for t in layout.order if t.node is n))]
                for n in engine_vjp_order(loss, monkeypatch)]
    assert [current_op(f) for f in frames] == expected


def test_frames_count_contributions_at_shared_nodes():
    w, loss = shared_weight_loss()
    frames = viz.backward_frames(loss)
    w_labels = [label_of(f.source, "t0") for f in frames]
    counts = [re.search(r"grad \((\d) of 3 contributions\)", s).group(1) if "grad" in s else None
              for s in w_labels]
    assert [c for c in counts if c] == sorted(c for c in counts if c)        # grows step by step
    assert {"1", "2", "3"} <= set(counts)
    assert "w: 1 of 3" not in frames[0].source
    assert any(f.comment.endswith("; w: 2 of 3 contributions") for f in frames)
    loss.backward(retain_graph=True)                  # the last partial sum is the real gradient
    assert w_labels[-1].endswith(_summary(w.grad.data))
    assert 'color="#2ca02c"' in node_line(frames[-1].source, "t0")            # complete: green
    first_partial = next(f for f, c in zip(frames, counts) if c == "1")
    assert 'color="#ff7f0e"' in node_line(first_partial.source, "t0")        # partial: orange


def test_frames_label_the_arriving_and_sent_gradients():
    a = Tensor(2.0, requires_grad=True, dtype=np.float64)
    b = Tensor(-3.0, requires_grad=True, dtype=np.float64)
    a.name = "a"
    loss = a * b
    (frame,) = viz.backward_frames(loss)
    source = frame.source
    assert attribute(edge_line(source, "op0", "t2"), "label") == "dY 1"
    assert attribute(edge_line(source, "t0", "op0"), "label") == "sends -3"   # dL/da = b
    assert attribute(edge_line(source, "t1", "op0"), "label") == "sends 2"    # dL/db = a
    for edge in (edge_line(source, "op0", "t2"), edge_line(source, "t0", "op0")):
        assert "dir=back" in edge        # drawn against the forward edge: the way gradients flow
    assert frame.comment == "step 1/1: the VJP of mul gets dY 1 from mul out and sends -3 to a, 2 to input"
    assert frame.comment in source                                        # the frame's title
    assert "grad (seed) 1" in label_of(source, "t2")


def test_frames_change_nothing():
    w, loss = shared_weight_loss()
    viz.backward_frames(loss)
    assert w.grad is None
    loss.backward()                                   # the graph was not freed
    assert w.grad is not None


def test_frames_with_collapsed_modules_highlight_the_box():
    _, loss = net_loss()
    frames = viz.backward_frames(loss, group_modules=1)
    highlighted = [current_op(f) for f in frames]
    assert any(h.startswith("m") for h in highlighted) and any(h.startswith("op") for h in highlighted)


# ---- the HTML player -------------------------------------------------------------------------

needs_renderer = pytest.mark.skipif(not HAS_DOT and fallback_program() is None,
                                    reason="neither Graphviz dot nor graphviz-pure is installed")


@needs_renderer
def test_save_html_is_one_self_contained_file(tmp_path):
    w, loss = shared_weight_loss()
    path = viz.save_html(loss, tmp_path / "backward.html")
    text = path.read_text()
    frames = viz.backward_frames(loss)
    assert text.count('<div class="frame"') == len(frames)
    assert "<script src" not in text and "<link" not in text and "@import" not in text
    assert set(re.findall(r'"(https?://[^"]*)"', text)) <= {"http://www.w3.org/2000/svg",
                                                            "http://www.w3.org/1999/xlink"}
    assert "<?xml" not in text and "<!DOCTYPE svg" not in text
    assert viz.dot_fingerprint(f.source for f in frames) in text
    assert 'id="prev"' in text and 'id="next"' in text and 'id="play"' in text
    assert "ArrowRight" in text and "ArrowLeft" in text
    assert 'class="node current"' in text


def test_player_needs_frames():
    with pytest.raises(ValueError, match="no frames to play"):
        viz.player_html([])


def test_viz_is_reachable_from_the_package():
    assert tc.viz is viz


# ---- the gallery script ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def make_figures():
    return load_gallery()


def test_figure_check_ignores_last_digit_rounding_only(make_figures):
    same = make_figures.same_up_to_rounding
    assert same('t0 [label="w\\n= 0.5\\ngrad 1.182"]', 't0 [label="w\\n= 0.5\\ngrad 1.183"]')
    assert not same('label="grad 1.182"', 'label="grad 1.25"')
    assert not same('label="(2, 4, 4, 4)"', 'label="(2, 4, 4, 5)"')
    assert not same('t0 -> op1', 't0 -> op2')
    assert not same('label="stride=(2, 2)"', 'label="padding=(2, 2)"')


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz dot is not installed")
def test_figure_check_finds_stale_dot_and_stale_svg(make_figures, tmp_path):
    names = ["scalar_chain_rule"]
    make_figures.write(names, tmp_path)
    assert make_figures.check(names, tmp_path) == []
    dot, svg = tmp_path / "scalar_chain_rule.dot", tmp_path / "scalar_chain_rule.svg"
    original = dot.read_text()
    dot.write_text(original.replace("grad 6", "grad 7"))
    stale, unrendered = make_figures.check(names, tmp_path)       # and the SVG is not of this DOT
    assert stale.startswith("scalar_chain_rule.dot is stale") and '+\tt0 [label=<' in stale
    assert unrendered.startswith("scalar_chain_rule.svg was not rendered from")
    dot.write_text(original)
    svg.write_text(re.sub(r"dot-sha256: \w", "dot-sha256: x", svg.read_text()))
    assert make_figures.check(names, tmp_path) == [
        "scalar_chain_rule.svg was not rendered from the committed scalar_chain_rule.dot"]
    assert make_figures.main(["--check", "--out", str(tmp_path), *names]) == 1


def test_frames_of_a_non_scalar_root_start_from_ones():
    x = leaf(2, name="x")
    y = x * 3.0
    frames = viz.backward_frames(y)
    assert len(frames) == 1 and "grad (seed) [1, 1]" in frames[0].source
    assert attribute(edge_line(frames[0].source, "t0", "op0"), "label") == "sends [3, 3]"
