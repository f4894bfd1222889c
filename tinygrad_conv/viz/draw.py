"""draw: the computation graph behind a tensor as a Drawing (a graphviz.Digraph), after
checking draw's options. The nodes, clusters and edges themselves come from graph.py; the backward
frames built from the same model are in frames.py, image files in rendering.py.
"""
from __future__ import annotations

import graphviz

from ._imports import Tensor
from .graph import _GraphModel
from .labels import _EDGE_DEFAULTS, _GRAPH_STYLE, _NODE_DEFAULTS, RANKDIRS, _one_line
from .rendering import render_drawing, svg_text


class Drawing(graphviz.Digraph):
    """A graphviz.Digraph that shows itself inline in Jupyter, and renders to a file (render,
    view), even without the `dot` program: then graphviz-pure draws it."""

    render = render_drawing            # view() calls render, so it falls back too

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", "svg")     # Graphviz's default, PDF, only `dot` can write
        super().__init__(*args, **kwargs)

    def _repr_image_svg_xml(self) -> str:
        return svg_text(self)


def _new_graph(name: str, rankdir: str, comment: str | None = None, cls=None) -> Drawing:
    """An empty Drawing (or `cls`) with the graph, node and edge defaults that every drawing
    shares; the comment is kept to one line, so it cannot end the DOT comment it is written as."""
    graph = (cls or Drawing)(name=name, comment=None if comment is None else _one_line(comment))
    graph.attr(rankdir=rankdir, **_GRAPH_STYLE)
    graph.attr("node", **_NODE_DEFAULTS)
    graph.attr("edge", **_EDGE_DEFAULTS)
    return graph


def _check_options(show_values, group_modules, rankdir, expand_composites=False,
                   wrap=None) -> None:
    if show_values not in ("auto", True, False):
        raise ValueError(f"draw: show_values must be 'auto', True or False, got {show_values!r}")
    if not isinstance(group_modules, (bool, int)) or (not isinstance(group_modules, bool)
                                                      and group_modules < 0):
        raise ValueError(f"draw: group_modules must be True, False or a depth >= 0 (modules "
                         f"nested deeper are collapsed into one box each), got {group_modules!r}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw: rankdir must be one of {RANKDIRS} (top-bottom, left-right, ...), "
                         f"got {rankdir!r}")
    if not isinstance(expand_composites, bool):
        raise ValueError(f"draw: expand_composites must be True or False, got "
                         f"{expand_composites!r}")
    if wrap not in (None, True, False) and (not isinstance(wrap, int) or wrap < 1):
        raise ValueError(f"draw: wrap must be None, True (rows that fit a 16:9 page) or the "
                         f"number of steps per row (>= 1), got {wrap!r}")


DRAW_DEFAULTS = {"params": None, "show_values": "auto", "formulas": False, "group_modules": True,
                 "rankdir": "TB", "expand_composites": False, "wrap": None}


def _graph_model(root, params, show_values, formulas, group_modules, rankdir,
                 expand_composites=False, wrap=None) -> _GraphModel:
    """The graph model of `root` for draw's options, once they are checked."""
    _check_options(show_values, group_modules, rankdir, expand_composites, wrap)
    return _GraphModel(root, params, group_modules, show_values, formulas, expand_composites, wrap)


def _grad_rows(t: Tensor) -> tuple | None:
    grad = t._grad                      # not t.grad, which warns for non-leaves (as PyTorch)
    return None if grad is None else ("grad", grad.data)


def draw(root: Tensor, *, params=None, show_grads: bool = True, show_values="auto",
         formulas: bool = False, group_modules: bool | int = True, rankdir: str = "TB",
         expand_composites: bool = False, wrap: int | None = None) -> Drawing:
    """The computation graph that produced `root`, as a graphviz.Digraph.

    root:          any Tensor; draw after loss.backward(retain_graph=True) to see gradients, or
                   draw(x.grad) after backward(create_graph=True) to see how a gradient was computed
    params:        names for leaves, {name: tensor} or pairs such as model.named_parameters();
                   leaves used inside nn.Modules are named from the modules anyway ('0.weight')
    show_grads:    add each leaf's .grad
    show_values:   'auto' and True show the values (numbers for small channels, else a heatmap);
                   True also the range; False only names, shapes and dtypes
    formulas:      write each op's VJP with this graph's shapes (conv2d, pools, pad, the
                   composites in full; short rules for the other primitives)
    group_modules: True draws nested clusters per nn.Module call, False none; an int `depth`
                   keeps clusters for the modules fewer than `depth` levels below the outermost
                   one and collapses each module `depth` levels down into one box (0: the whole
                   model is one box, 1: one box per top-level layer)
    rankdir:       'TB' (top to bottom), 'LR', 'BT' or 'RL'
    expand_composites: False draws each call of a composite function (F.linear, F.cross_entropy,
                   F.log_softmax, F.conv2d with a bias, ...) as one op with its own VJP; True
                   draws the primitives it is made of
    wrap:          lay the graph out in rows, each left to right, the rows top to bottom, as
                   text wraps: True chooses rows that fit a 16:9 slide best, an int gives the steps
                   (an op and its result) per row; None: one long column (see rankdir)

    Legend
        ⋆ is cross-correlation (what conv2d computes: y = x ⋆ w), ∗ true convolution (the kernel
        rotated by 180°). So dW = X ⋆ dY, and dX = pad(dilate_s(dY)) ⋆ rot180(W) = dilate_s(dY) ∗ W,
        the full convolution of the stride-dilated dY with W.
        Tensors are rounded boxes: name (given, from the module or argument, or where it comes
        from: 'conv1 out', 'relu out'), shape and dtype, values, gradient. Values: up to 4
        entries inline; channels of up to 7 rows and 10 columns (4 channels at most) as numbers;
        larger ones as a heatmap per channel (at most 12 × 12 cells of block means, the first 8
        channels) on one colour scale per tensor, blue below 0, white at 0, red above, with the
        minimum and maximum.
            light blue     parameter: an nn.Parameter, or a leaf named by `params` or by the
                           modules it was used in
            light green    input: a leaf with requires_grad=True; dashed: data without a
                           gradient (images, targets)
            grey, dashed   constant: a small literal (1.0, a mask entry); no gradient
            white          an intermediate result
            amber, bold    the root being drawn (a loss, or a gradient after create_graph=True)
        Ops are lavender ellipses: the primitive's name and its static parameters
        (`stride=(2, 2) padding=(1, 1)`); a double border is a composite call drawn as one op;
        with formulas=True an op is a note (folded corner) carrying its VJP. (before, after)
        amounts are written per named axis: `rows (1,2), cols (0,1)`.
        Dashed rounded frames are nn.Module calls, labelled `path · repr`; a 3-D box is a module
        collapsed by group_modules=depth (its ops hidden, its parameters listed).
        Edges point forward (input -> op -> output).
        Backward frames: the red op is the VJP being run; red edges point the way the gradient
        flows: the dY arriving from its output, and what it sends to each input; an orange border
        marks a tensor whose gradient is still a partial sum ("2 of 3 contributions"), a green
        border a complete one.
    """
    model = _graph_model(root, params, show_values, formulas, group_modules, rankdir,
                         expand_composites, wrap)
    graph = _new_graph("graph", rankdir)
    model.emit(graph, grad_of=_grad_rows if show_grads else (lambda t: None))
    return graph
