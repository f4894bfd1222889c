"""draw: the computation graph behind a tensor as a Drawing (a graphviz.Digraph), after
checking draw's options. The nodes, clusters and edges themselves come from graph.py; the backward
frames built from the same model are in frames.py, image files in render.py.
"""
from __future__ import annotations

import graphviz

from ._imports import Tensor
from .graph import _GraphModel
from .labels import _EDGE_DEFAULTS, _GRAPH_STYLE, _NODE_DEFAULTS, RANKDIRS, _summary
from .rendering import svg_text


class Drawing(graphviz.Digraph):
    """A graphviz.Digraph that shows itself inline in Jupyter even without the `dot` program."""

    def _repr_image_svg_xml(self) -> str:
        return svg_text(self)


def _new_graph(name: str, rankdir: str, comment: str | None = None) -> Drawing:
    """An empty Drawing with the graph, node and edge defaults that every drawing shares."""
    graph = Drawing(name=name, comment=comment)
    graph.attr(rankdir=rankdir, **_GRAPH_STYLE)
    graph.attr("node", **_NODE_DEFAULTS)
    graph.attr("edge", **_EDGE_DEFAULTS)
    return graph


def _check_options(show_values, group_modules, rankdir) -> None:
    if show_values not in ("auto", True, False):
        raise ValueError(f"draw: show_values must be 'auto', True or False, got {show_values!r}")
    if not isinstance(group_modules, (bool, int)) or (not isinstance(group_modules, bool)
                                                      and group_modules < 0):
        raise ValueError(f"draw: group_modules must be True, False or a depth >= 0 (modules "
                         f"nested deeper are collapsed into one box each), got {group_modules!r}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw: rankdir must be one of {RANKDIRS} (top-bottom, left-right, ...), "
                         f"got {rankdir!r}")


def _graph_model(root, params, show_values, formulas, group_modules, rankdir) -> _GraphModel:
    """The graph model of `root` for draw's options, once they are checked."""
    _check_options(show_values, group_modules, rankdir)
    return _GraphModel(root, params, group_modules, show_values, formulas)


def _grad_text(t: Tensor) -> str | None:
    return None if t.grad is None else f"grad {_summary(t.grad.data)}"


def draw(root: Tensor, *, params=None, show_grads: bool = True, show_values="auto",
         formulas: bool = False, group_modules: bool | int = True, rankdir: str = "TB") -> Drawing:
    """The computation graph that produced `root`, as a graphviz.Digraph.

    root:          any Tensor; draw after loss.backward(retain_graph=True) to see gradients, or
                   draw(x.grad) after backward(create_graph=True) to see how a gradient was computed
    params:        names for leaves, {name: tensor} or pairs such as model.named_parameters();
                   leaves used inside nn.Modules are named from the modules anyway ('0.weight')
    show_grads:    add each leaf's .grad (values when tiny, the norm otherwise)
    show_values:   'auto' shows the values of tiny tensors, True also the range of larger ones
    formulas:      write each conv2d / pool / pad node's VJP with this graph's shapes (and short
                   rules for the other ops)
    group_modules: True draws nested clusters per nn.Module call, False none; an int `depth`
                   keeps clusters for the modules fewer than `depth` levels below the outermost
                   one and collapses each module `depth` levels down into one box (0: the whole
                   model is one box, 1: one box per top-level layer)
    rankdir:       'TB' (top to bottom), 'LR', 'BT' or 'RL'

    Legend
        Tensors are rounded boxes: name, shape and dtype, values (tiny tensors), gradient
        (values for tiny tensors, its norm ‖grad‖ otherwise).
            light blue     parameter: an nn.Parameter, or a leaf named by `params` or by the
                           modules it was used in
            light green    input: any other leaf with requires_grad=True
            grey, dashed   constant: requires_grad=False (data, masks, literals); no gradient
            white          an intermediate result
            amber, bold    the root being drawn (a loss, or a gradient after create_graph=True)
        Ops are lavender ellipses: the primitive's name and its static parameters
        (`stride=(2, 2) padding=(1, 1)`); with formulas=True an op is a note (folded corner)
        carrying its VJP.
        Dashed rounded frames are nn.Module calls, labelled `path · repr`; a 3-D box is a module
        collapsed by group_modules=depth (its ops hidden, its parameters listed).
        Edges point forward (input -> op -> output); gradients flow against them.
        Backward frames: the red op is the VJP being run; red edge labels show the gradient
        arriving (dY) and what is sent to each input; an orange border marks a tensor whose
        gradient is still a partial sum ("2 of 3 contributions"), a green border a complete one.
    """
    model = _graph_model(root, params, show_values, formulas, group_modules, rankdir)
    graph = _new_graph("graph", rankdir)
    model.emit(graph, grad_of=_grad_text if show_grads else (lambda t: None))
    return graph
