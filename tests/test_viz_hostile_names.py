"""Names are data, never DOT, SVG or HTML: tensor, parameter and module names with line breaks,
quotes, tags, DOT attribute syntax, braces, backslashes and unicode go through draw, the backward
frames, the HTML player and the gallery script, and come out as text, with no node, edge,
attribute, link or script of their own."""
import re
import shutil
import subprocess

import numpy as np
import pytest

import tinygrad_conv.functional as F
from tinygrad_conv import Tensor, manual_seed, nn, viz
from tinygrad_conv.viz.rendering import fallback_program

from dot_text import edges, node_ids
from gallery import load_gallery

HOSTILE = ["two\nlines", 'say "hi"', "<script>alert(1)</script>",
           ']; x [URL="javascript:alert(1)"', "{ } braces", "back\\slash\\", "\\", "ünï ✓ 𝔘 中",
           "cr\r\nlf", "sep\u2028arator", "tab\there", "&amp; &lt;", "// comment", "-- > <!--"]
HAS_DOT = shutil.which("dot") is not None
needs_renderer = pytest.mark.skipif(not HAS_DOT and fallback_program() is None,
                                    reason="neither Graphviz dot nor the graphviz-pure fallback is installed")


class Hostile(nn.Module):
    """A module whose class name, child names, parameter names and repr are all hostile."""

    def __init__(self, name: str):
        super().__init__()
        self.add_module(name, nn.Linear(3, 2))
        self.register_parameter(name + " w", nn.Parameter(np.ones(2)))
        self.child_name, self.text = name, name

    def forward(self, x):
        return getattr(self, self.child_name)(x) * getattr(self, self.child_name + " w")

    def extra_repr(self):
        return self.text


def hostile_loss(name: str):
    manual_seed(0)
    model = Hostile(name).double()
    x = Tensor(np.random.default_rng(0).standard_normal((4, 3)))
    x.name = name
    out = model(x)
    out.name = name + " out"
    loss = F.cross_entropy(out, np.array([0, 1, 1, 0]))
    loss.name = name
    loss.backward(retain_graph=True)
    return model, loss


def statements_are_safe(source: str) -> None:
    """Every line of the DOT is one statement of ours: a comment, a head or tail, attributes, a
    node or edge with an id of ours, a subgraph of ours, a row constraint."""
    allowed = re.compile(r'^\s*(//[^\n]*|digraph \w+ \{|digraph "graph" \{|\}|subgraph cluster_\w+ \{'
                         r'|(graph|node|edge) \[.*\]|\w+=.*|(t|op|m)\d+( -> (t|op|m)\d+)?( \[.*\])?)$')
    for line in source.split("\n"):
        if line:
            assert allowed.match(line), f"unexpected DOT line {line[:200]!r}"
    for line in source.split("\n"):
        if line.startswith("//"):
            assert "\r" not in line and "\u2028" not in line


def svg_is_safe(svg: str, node_count: int, edge_count: int) -> None:
    assert "javascript:" not in svg.replace("javascript:alert(1)&quot;", "")   # only as text
    assert not re.search(r"\b(href|xlink:href|onload|onclick)\s*=", svg)
    assert "<script" not in svg.replace("&lt;script", "")
    titles = re.findall(r"<title>([^<]*)</title>", svg)
    nodes = [t for t in titles if re.fullmatch(r"(t|op|m)\d+", t)]
    assert len(nodes) == node_count, "a name added or removed a node"
    assert len([t for t in titles if "&#45;&gt;" in t]) == edge_count, "a name added an edge"


@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize("options", [{}, {"group_modules": 1}, {"formulas": True, "wrap": True}],
                         ids=["clusters", "boxes", "formulas-wrapped"])
def test_hostile_names_in_draw(name, options):
    model, loss = hostile_loss(name)
    graph = viz.draw(loss, params=[(name, dict(model.named_parameters())[name + " w"])], **options)
    source = graph.source
    statements_are_safe(source)
    if HAS_DOT:
        svg = viz.svg_text(graph)
        svg_is_safe(svg, len(node_ids(source)), len(edges(source)))
        assert as_svg_text(name) in svg.replace("&#160;", " ")           # shown, as text


def as_svg_text(name: str) -> str:
    """How a name reads in the SVG: line breaks as ↵, other control characters as �, and the
    XML escapes of dot's SVG output."""
    shown = re.sub(r"[\n\r\u2028]", "↵", name).replace("\t", "�")
    return (shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("-", "&#45;"))


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_in_frames_and_their_captions(name):
    _, loss = hostile_loss(name)
    frames = viz.backward_frames(loss, group_modules=1)
    for frame in frames:
        assert "\n" not in frame.comment and "\r" not in frame.comment
        statements_are_safe(frame.source)
    if HAS_DOT:
        frame = frames[-1]
        svg_is_safe(viz.svg_text(frame), len(node_ids(frame.source)), len(edges(frame.source)))


@needs_renderer
@pytest.mark.parametrize("name", HOSTILE[:6])
def test_hostile_names_in_the_player(name, tmp_path):
    _, loss = hostile_loss(name)
    text = viz.save_html(loss, tmp_path / "player.html").read_text()
    assert text.count("<script") == 1                               # the player's own script
    assert "javascript:" not in text.replace("javascript:alert(1)&quot;", "")
    assert not re.search(r"<[^>]*\b(href|xlink:href|onload|onclick|onerror)\s*=", text)
    captions = re.findall(r'data-caption="([^"]*)"', text)
    assert len(captions) == len(viz.backward_frames(loss)) and all("\n" not in c for c in captions)


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz dot is not installed")
def test_hostile_names_through_the_gallery_script(tmp_path, monkeypatch):
    gallery = load_gallery("make_figures_hostile")

    def hostile_figure():
        """A figure of hostile names."""
        return viz.draw(hostile_loss(HOSTILE[3] + HOSTILE[0])[1], group_modules=1)

    def hostile_frames():
        """Frames of hostile names."""
        return viz.backward_frames(hostile_loss(HOSTILE[2] + HOSTILE[1])[1])

    monkeypatch.setattr(gallery, "FIGURES", {"hostile_figure": hostile_figure,
                                              "hostile_frames": hostile_frames})
    gallery.write(list(gallery.FIGURES), tmp_path)
    assert gallery.check(list(gallery.FIGURES), tmp_path) == []
    svg = (tmp_path / "hostile_figure.svg").read_text()
    source = (tmp_path / "hostile_figure.dot").read_text()
    statements_are_safe(source)
    svg_is_safe(svg, len(node_ids(source)), len(edges(source)))
    page = (tmp_path / "hostile_frames.html").read_text()
    assert page.count("<script") == 1


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz dot is not installed")
def test_a_plain_newline_in_a_name_does_not_break_dot():
    x = Tensor(np.ones(3), requires_grad=True)
    x.name = "first line\nsecond line"
    frames = viz.backward_frames((x * 2.0).sum())
    for frame in frames:
        result = subprocess.run(["dot", "-Tsvg"], input=frame.source.encode(), capture_output=True)
        assert result.returncode == 0 and not result.stderr, result.stderr
