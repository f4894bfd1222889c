"""Drawing computation graphs for teaching: what was computed, and how the gradient flows back.

    draw(loss)                        tensors, ops with their parameters, modules, gradients
    draw(loss, formulas=True)         ... plus each conv / pool / pad node's VJP, with its shapes
    draw(x.grad)                      after loss.backward(create_graph=True): how dX was computed
    backward_frames(loss)             one drawing per VJP step, in the order the engine runs them
    save_html(loss, "backward.html")  those frames in one self-contained step-through player
    render(draw(loss), "graph.svg")   an image file, by Graphviz's `dot` or a dot-free fallback

The colours and shapes are explained in draw's docstring (the legend).

Output is deterministic: nodes are numbered t0, t1, ... and op0, op1, ... in toposort order, so the
same model gives the same DOT text and committed figures diff cleanly.
"""
from __future__ import annotations

import html
import re
from collections import defaultdict
from pathlib import Path
from typing import Callable, Mapping

import graphviz
import numpy as np

from ._imports import Tensor, no_grad, sweep, toposort
from .labels import (_COMPLETE, DIGITS, _GRAD_EDGE, _HIGHLIGHT, _OP_STYLE, _PARTIAL, RANKDIRS,
                     _STYLE, TINY, _label, _number, _param_texts, _shape, _summary, _values, _wrap)
from .formulas import FORMULAS
from .render import GraphvizNotFoundError, dot_fingerprint, render, svg_text

__all__ = ["draw", "backward_frames", "save_html", "render", "svg_text", "GraphvizNotFoundError",
           "Drawing"]


class Drawing(graphviz.Digraph):
    """A graphviz.Digraph that shows itself inline in Jupyter even without the `dot` program."""

    def _repr_image_svg_xml(self) -> str:
        return svg_text(self)


# ----------------------------------------------------------------------------------------------
# The layout: numbering, names, kinds, module clusters; computed once per drawn graph


def _graph_order(root: Tensor) -> list[Tensor]:
    if not isinstance(root, Tensor):
        raise TypeError(f"draw: root must be a Tensor, got {type(root).__name__}; pass the "
                        f"tensor whose graph you want, e.g. draw(loss)")
    if root.node is not None and root.node.freed:
        raise _freed_error()
    try:
        return toposort(root)
    except RuntimeError as error:              # toposort met a node whose inputs were freed
        raise _freed_error() from error


def _freed_error() -> RuntimeError:
    return RuntimeError(
        "draw: this graph was freed by backward(): its nodes no longer hold their inputs. Call "
        "loss.backward(retain_graph=True) to keep it (the drawing then shows the gradients), or "
        "draw before calling backward().")


def _param_pairs(params) -> list[tuple[str, Tensor]]:
    """draw's `params` as (name, tensor) pairs: a dict, or pairs such as model.named_parameters()."""
    if params is None:
        return []
    try:
        pairs = [(str(name), p) for name, p in (params.items() if isinstance(params, Mapping)
                                                 else params)]
    except (TypeError, ValueError):
        raise TypeError(f"draw: params must be a dict of name -> Tensor (or pairs, e.g. "
                        f"model.named_parameters()), got {type(params).__name__}") from None
    for name, p in pairs:
        if not isinstance(p, Tensor):
            raise TypeError(f"draw: params[{name!r}] must be a Tensor, got {type(p).__name__}")
    return pairs


class _Module:
    """One nn.Module call in the drawing: a cluster, or a box when collapsed."""

    def __init__(self, key, parent, level, name, module, index):
        self.key, self.parent, self.level, self.name = key, parent, level, name
        self.module = module
        self.dot_name = f"cluster_m{index}"
        self.box_id = f"m{index}"
        self.children: list[_Module] = []
        self.ops = 0
        self.op_names: list[str] = []
        self.parameters: list = []             # parameters hidden inside it, when collapsed

    @property
    def title(self) -> str:
        text = repr(self.module)
        if "\n" in text:                      # containers print all children: the class is enough
            text = type(self.module).__name__
        return f"{self.name} · {text}" if self.name else text


class _Layout:
    """Where each tensor and op of one graph goes, and what it is called; built once per root."""

    def __init__(self, root: Tensor, params, group_modules, show_values, formulas):
        self.root = root
        self.order = _graph_order(root)
        self.show_values, self.formulas = show_values, formulas
        self.ids: dict[int, str] = {}                 # id(tensor) -> "t7"
        self.op_ids: dict[int, str] = {}              # id(tensor) -> "op3" for the op that made it
        self.tensors: list[Tensor] = []               # every drawn candidate, in numbering order
        self.consumers: dict[int, list[Tensor]] = defaultdict(list)
        for t in self.order:
            if t.node is not None:
                for p in t.node.parents:
                    if id(p) not in self.ids:         # a constant: toposort skips them
                        self._number(p)
                    self.consumers[id(p)].append(t)
                self.op_ids[id(t)] = f"op{len(self.op_ids)}"
            self._number(t)
        self._name_tensors(params)
        self._place(group_modules)

    def _number(self, t: Tensor) -> None:
        self.ids[id(t)] = f"t{len(self.ids)}"
        self.tensors.append(t)

    # --- names and kinds -----------------------------------------------------------------------
    def _name_tensors(self, params) -> None:
        self.names: dict[int, str] = {}
        self.owner: dict[int, tuple] = {}             # id(param) -> key of the module owning it
        self.module_names: dict[int, dict[int, str]] = {}
        for t in self.order:
            if t.node is not None and t.node.module:
                outer = t.node.module[0]
                if id(outer) not in self.module_names:
                    self.module_names[id(outer)] = {id(m): name for name, m in outer.named_modules()}
                    named = list(outer.named_parameters()) + list(outer.named_buffers())
                    for name, p in named:             # buffers: BatchNorm's running statistics
                        self.names.setdefault(id(p), name)
                        self.owner.setdefault(id(p), (id(outer), name.rpartition(".")[0]))
        named = set(self.names)                       # parameters: of modules, or in `params`
        for t in self.tensors:
            if t.name is not None:
                self.names[id(t)] = str(t.name)
        for name, p in _param_pairs(params):
            self.names[id(p)] = name
            named.add(id(p))
        from ..nn import Parameter
        self.parameters = {id(t) for t in self.tensors if t.node is None and t.requires_grad
                           and (id(t) in named or isinstance(t, Parameter))}

    def describe(self, t: Tensor) -> str:
        """How a caption refers to a tensor: its name, else its shape."""
        return self.names.get(id(t)) or ("a scalar" if t.ndim == 0 else str(tuple(t.shape)))

    def kind(self, t: Tensor) -> str:
        if t is self.root:
            return "output"
        if t.node is not None:
            return "intermediate"
        if not t.requires_grad:
            return "constant"
        return "parameter" if id(t) in self.parameters else "input"

    # --- module clusters -----------------------------------------------------------------------
    def _module_of(self, path: tuple) -> _Module | None:
        """The _Module of the innermost call in `path` (outermost first), creating its ancestors."""
        if not path:
            return None
        outer = path[0]
        names = self.module_names.get(id(outer), {})
        entries, prefix = [], ""
        for m in path:        # a module called but not registered in `outer` is named by its class
            name = names.get(id(m), f"{prefix}.{type(m).__name__}".lstrip("."))
            entries.append(((id(outer), name), name, m))
            prefix = name
        parent = None
        for level, (key, name, module) in enumerate(entries):
            found = self.modules.get(key)
            if found is None:
                found = _Module(key, parent, level, name, module, len(self.modules))
                self.modules[key] = found
                (parent.children if parent else self.top_modules).append(found)
            parent = found
        return parent

    def _place(self, group_modules) -> None:
        """Assign every op to a cluster or a collapsed box, and every tensor to a cluster or hide it."""
        self.modules: dict[tuple, _Module] = {}
        self.top_modules: list[_Module] = []
        self.depth = None if isinstance(group_modules, bool) else group_modules
        self.unit: dict[int, str] = {}                # id(output tensor) -> op or box node id
        self.box_of: dict[int, _Module] = {}          # id(output tensor) -> its collapsed box
        self.cluster: dict[str, _Module | None] = {}  # op or box node id -> the cluster around it
        for t in self.order:
            if t.node is None:
                continue
            module = self._module_of(t.node.module) if group_modules is not False else None
            box = None
            while module is not None and not self.is_cluster(module):
                box, module = module, module.parent   # collapse into the ancestor at level `depth`
            if box is not None:
                self.box_of[id(t)] = box
                self.unit[id(t)] = box.box_id
                box.ops += 1
                if t.node.op.name not in box.op_names:
                    box.op_names.append(t.node.op.name)
            else:
                self.unit[id(t)] = self.op_ids[id(t)]
            self.cluster[self.unit[id(t)]] = module
        self.hidden: set[int] = set()
        self.placement: dict[int, _Module | None] = {}
        for t in self.tensors:
            self._place_tensor(t)

    def is_cluster(self, module: _Module) -> bool:
        """Drawn as a frame around its ops (the others are collapsed boxes or inside one)."""
        return self.depth is None or module.level < self.depth

    def _place_tensor(self, t: Tensor) -> None:
        consumers = self.consumers.get(id(t), [])
        boxes = {self.box_of.get(id(c)) for c in consumers}
        inside = boxes.pop() if len(boxes) == 1 else None
        if t is not self.root and inside is not None:
            # used only inside one collapsed box: hidden there if it also comes from inside it
            owner = self.owner.get(id(t))
            if (self.box_of.get(id(t)) is inside or (owner is not None and self._within(owner, inside))
                    or self._literal(t)):
                self.hidden.add(id(t))
                if id(t) in self.parameters:
                    inside.parameters.append(t)       # listed in the box's label
                return
        if id(t) in self.box_of:                      # an output of a collapsed module
            self.placement[id(t)] = self.box_of[id(t)].parent
        elif t.node is not None:
            self.placement[id(t)] = self.cluster[self.op_ids[id(t)]]
        elif id(t) in self.owner:
            self.placement[id(t)] = self._owner_cluster(self.owner[id(t)])
        elif self._literal(t) and consumers:          # literals sit beside their first consumer
            self.placement[id(t)] = self.cluster[self.unit[id(consumers[0])]]
        else:
            self.placement[id(t)] = None

    def _literal(self, t: Tensor) -> bool:
        """An unnamed tiny constant (1.0, a mask entry): part of the op that uses it, not data."""
        return (t.node is None and not t.requires_grad and id(t) not in self.names
                and t.data.size <= TINY)

    def _within(self, owner: tuple, box: _Module) -> bool:
        """Whether the module named by `owner` is `box` or nested inside it."""
        outer, name = owner
        return box.key[0] == outer and (box.name == "" or name == box.name
                                        or name.startswith(box.name + "."))

    def _owner_cluster(self, owner: tuple) -> _Module | None:
        """The innermost drawn cluster around the module that owns a parameter."""
        outer, name = owner
        parts = name.split(".") if name else []
        for k in range(len(parts), -1, -1):
            module = self.modules.get((outer, ".".join(parts[:k])))
            if module is not None:
                while module is not None and not self.is_cluster(module):
                    module = module.parent
                return module
        return None

    # --- labels --------------------------------------------------------------------------------
    def tensor_label(self, t: Tensor, grad_line: str | None) -> str:
        kind = self.kind(t)
        lines = []
        name = self.names.get(id(t))
        if name is not None:
            lines.append(name)
        elif kind in ("input", "constant"):
            lines.append(kind)
        shape = "scalar" if t.ndim == 0 else str(tuple(t.shape))
        lines.append(f"{shape} {t.dtype}")
        show = self.show_values
        if show is True or (show == "auto" and t.data.size <= TINY):
            if t.data.size <= TINY:
                lines.append(f"= {_values(t.data)}")
            elif t.data.size:
                lines.append(f"∈ [{_number(t.data.min())}, {_number(t.data.max())}]")
        if grad_line:
            lines.append(grad_line)
        return _label(lines)

    def op_label(self, t: Tensor) -> str:
        node = t.node
        lines = [node.op.name] + _wrap(_param_texts(node.params))
        formula = FORMULAS.get(node.op.name) if self.formulas else None
        return _label(lines, formula(node, t) if formula else ())

    def box_label(self, box: _Module, grad_of: Callable) -> str:
        lines = [box.title, f"{box.ops} op{'s' if box.ops > 1 else ''}: " + ", ".join(box.op_names)]
        for t in box.parameters:
            grad = grad_of(t)
            lines.append(f"{self.names[id(t)]} {_shape(t.shape)}" + (f" {grad}" if grad else ""))
        return _label(lines)

    # --- emission ------------------------------------------------------------------------------
    def emit(self, graph: graphviz.Digraph, *, grad_of: Callable, tensor_style: Callable = None,
             current: Tensor | None = None, edge_labels: Mapping = None) -> None:
        """Add every node, cluster and edge to `graph`.

        grad_of(t) gives the gradient line of a tensor label (or None); tensor_style(t) extra
        attributes; `current` is the op being highlighted; edge_labels maps (src, dst, slot) to
        a label for highlighted edges.
        """
        edge_labels = edge_labels or {}
        bodies: dict[_Module | None, graphviz.Digraph] = {None: graph}
        for m in self.modules.values():
            if self.is_cluster(m):
                sub = graphviz.Digraph(name=m.dot_name)
                sub.attr(label=m.title, style="rounded,dashed", color="#888888", fontcolor="#444444")
                bodies[m] = sub
        current_unit = self.unit[id(current)] if current is not None else None
        boxes_done = set()
        for t in self.tensors:
            if t.node is not None:
                unit = self.unit[id(t)]
                if unit not in boxes_done:
                    if id(t) in self.box_of:
                        boxes_done.add(unit)
                        box = self.box_of[id(t)]
                        attrs = {"shape": "box3d", "style": "filled", "fillcolor": "#e6efe6"}
                        label = self.box_label(box, grad_of)
                    else:
                        attrs = dict(_OP_STYLE)
                        if self.formulas and t.node.op.name in FORMULAS:
                            attrs["shape"] = "note"
                        label = self.op_label(t)
                    if unit == current_unit:
                        attrs.update(_HIGHLIGHT, **{"class": "current"})
                    bodies[self.cluster[unit]].node(unit, label, **attrs)
            if id(t) not in self.hidden:
                attrs = dict(_STYLE[self.kind(t)])
                if tensor_style is not None:
                    attrs.update(tensor_style(t))
                bodies[self.placement[id(t)]].node(self.ids[id(t)], self.tensor_label(t, grad_of(t)),
                                                   **attrs)
        # a child is created after its parent, so in reverse creation order every child cluster
        # is complete before it is copied into its parent
        for parent in reversed([None] + list(self.modules.values())):
            if parent is None or self.is_cluster(parent):
                for child in (parent.children if parent else self.top_modules):
                    if self.is_cluster(child):
                        bodies[parent].subgraph(bodies[child])
        self._emit_edges(graph, edge_labels)

    def _emit_edges(self, graph, edge_labels) -> None:
        seen = set()
        for t in self.order:
            if t.node is None:
                continue
            unit = self.unit[id(t)]
            collapsed = id(t) in self.box_of
            for slot, p in enumerate(t.node.parents):
                if id(p) in self.hidden:
                    continue
                key = (self.ids[id(p)], unit, None if collapsed else slot)
                if key in seen:
                    continue
                seen.add(key)
                graph.edge(key[0], unit, **self._edge_attrs(key, edge_labels))
            if id(t) not in self.hidden:
                key = (unit, self.ids[id(t)], None)
                graph.edge(unit, self.ids[id(t)], **self._edge_attrs(key, edge_labels))

    @staticmethod
    def _edge_attrs(key, edge_labels) -> dict:
        label = edge_labels.get(key)
        if label is None:
            return {}
        return {"label": _label([label]), **_GRAD_EDGE, "class": "grad"}


def _new_graph(name: str, rankdir: str, comment: str | None = None) -> Drawing:
    graph = Drawing(name=name, comment=comment)
    graph.attr(rankdir=rankdir, bgcolor="white", fontname="Helvetica", fontsize="12",
               newrank="true")
    graph.attr("node", shape="box", style="rounded,filled", fillcolor="#ffffff",
               fontname="Helvetica", fontsize="11", color="#444444")
    graph.attr("edge", fontname="Helvetica", fontsize="10", color="#666666")
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


def _layout(root, params, show_values, formulas, group_modules, rankdir) -> _Layout:
    _check_options(show_values, group_modules, rankdir)
    return _Layout(root, params, group_modules, show_values, formulas)


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
    layout = _layout(root, params, show_values, formulas, group_modules, rankdir)
    graph = _new_graph("graph", rankdir)
    layout.emit(graph, grad_of=_grad_text if show_grads else (lambda t: None))
    return graph


# ----------------------------------------------------------------------------------------------
# The backward pass, step by step


class _Step:
    """One VJP the engine runs: the op's output tensor, the dY it receives, what it sends back."""

    __slots__ = ("tensor", "dy", "sent")

    def __init__(self, tensor, dy, sent):
        self.tensor, self.dy, self.sent = tensor, dy, sent


def _replay_backward(root: Tensor) -> list[_Step]:
    """engine.backward's own sweep, run without touching any .grad or freeing anything: one step
    per VJP, in the engine's order; a non-scalar root is seeded with ones."""
    with no_grad():
        return [_Step(t, dy, sent) for t, dy, sent in sweep(root, Tensor(np.ones_like(root.data)))
                if t.node is not None]


def backward_frames(root: Tensor, **draw_options) -> list[Drawing]:
    """One drawing per VJP step of root.backward(), in the order the engine runs them.

    Each frame highlights the op whose VJP runs, labels the edge where its gradient dY arrives and
    the edges carrying what it sends to each input, and shows every tensor's gradient so far: at a
    tensor used several times, the partial sum and "2 of 3 contributions". Nothing is modified: no
    .grad is set and the graph is not freed. A non-scalar root is seeded with dY = ones.
    draw_options are draw's keyword options (show_grads is implied).
    """
    draw_options.pop("show_grads", None)
    options = {"params": None, "show_values": "auto", "formulas": False, "group_modules": True,
               "rankdir": "TB", **draw_options}
    unknown = set(options) - {"params", "show_values", "formulas", "group_modules", "rankdir"}
    if unknown:
        raise TypeError(f"backward_frames: unknown draw option(s) {sorted(unknown)}; expected "
                        f"params, show_values, formulas, group_modules, rankdir")
    layout = _layout(root, **options)
    steps = _replay_backward(root)
    total: dict[int, int] = defaultdict(int)
    for step in steps:
        for _, p, _ in step.sent:
            total[id(p)] += 1
    seed = Tensor(np.ones_like(root.data))
    partial: dict[int, tuple[int, np.ndarray]] = {id(root): (1, seed.data)}
    frames = []
    for k, step in enumerate(steps):
        t = step.tensor
        unit = layout.unit[id(t)]
        labels = {}
        if id(t) not in layout.hidden:
            labels[(unit, layout.ids[id(t)], None)] = f"dY {_summary(step.dy.data)}"
        collapsed = id(t) in layout.box_of
        received = []
        for slot, p, dp in step.sent:
            count, value = partial.get(id(p), (0, None))
            partial[id(p)] = (count + 1, dp.data if value is None else value + dp.data)
            if id(p) not in layout.hidden:
                key = (layout.ids[id(p)], unit, None if collapsed else slot)
                labels[key] = f"sends {_summary(dp.data)}"
            received.append(p)

        def grad_of(x, snapshot=dict(partial)):
            if id(x) not in snapshot:
                return None
            count, value = snapshot[id(x)]
            expected = max(total[id(x)], 1)
            share = f" ({count} of {expected} contributions)" if expected > 1 else ""
            seed_note = " (seed)" if x is root else ""
            return f"grad{share}{seed_note} {_summary(value)}"

        def style(x, snapshot=dict(partial)):
            if id(x) not in snapshot:
                return {}
            done = snapshot[id(x)][0] >= max(total[id(x)], 1)
            return {"color": _COMPLETE if done else _PARTIAL, "penwidth": "2"}

        shared = [f"{layout.describe(p)}: {partial[id(p)][0]} of {total[id(p)]} contributions"
                  for p in received if total[id(p)] > 1]
        sends = ", ".join(f"{_summary(dp.data)} to {layout.describe(p)}" for _, p, dp in step.sent)
        caption = (f"step {k + 1}/{len(steps)}: the VJP of {t.node.op.name} gets dY "
                   f"{_summary(step.dy.data)} from {layout.describe(t)} and sends "
                   + (sends or "nothing") + (f"; {'; '.join(shared)}" if shared else ""))
        graph = _new_graph(f"frame{k}", options["rankdir"], comment=caption)
        graph.attr(id=f"frame{k}", label=_label([caption]), labelloc="t")
        layout.emit(graph, grad_of=grad_of, tensor_style=style, current=t, edge_labels=labels)
        frames.append(graph)
    return frames


# ----------------------------------------------------------------------------------------------
# The step-through player


_XML_PROLOG = re.compile(r"^\s*<\?xml[^>]*>\s*(<!DOCTYPE[^>]*>\s*)?", re.S)

_PLAYER = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="dot-sha256" content="{fingerprint}">
<title>{title}</title>
<style>
body {{ font-family: Helvetica, Arial, sans-serif; margin: 1em; }}
#controls {{ position: sticky; top: 0; background: white; padding: .5em 0; }}
#controls button {{ font-size: 1em; margin-right: .3em; }}
#caption {{ margin: .5em 0; min-height: 2.5em; }}
.frame svg {{ max-width: 100%; height: auto; }}
</style>
</head>
<body>
<h1>{title}</h1>
<div id="controls">
<button id="prev" title="previous step (left arrow)">&#9664; previous</button>
<button id="play" title="play / pause (space)">&#9654; play</button>
<button id="next" title="next step (right arrow)">next &#9654;</button>
<span id="counter"></span>
<div id="caption"></div>
</div>
{frames}
<script>
(function () {{
  var frames = document.querySelectorAll(".frame");
  var counter = document.getElementById("counter"), caption = document.getElementById("caption");
  var playButton = document.getElementById("play"), index = 0, timer = null;
  function show(k) {{
    index = Math.max(0, Math.min(frames.length - 1, k));
    frames.forEach(function (f, i) {{ f.hidden = i !== index; }});
    counter.textContent = "step " + (index + 1) + " of " + frames.length;
    caption.textContent = frames[index].getAttribute("data-caption");
  }}
  function stop() {{ clearInterval(timer); timer = null; playButton.innerHTML = "&#9654; play"; }}
  function play() {{
    if (timer) {{ stop(); return; }}
    if (index === frames.length - 1) show(0);
    playButton.innerHTML = "&#10074;&#10074; pause";
    timer = setInterval(function () {{
      if (index === frames.length - 1) stop(); else show(index + 1);
    }}, {interval});
  }}
  document.getElementById("prev").onclick = function () {{ stop(); show(index - 1); }};
  document.getElementById("next").onclick = function () {{ stop(); show(index + 1); }};
  playButton.onclick = play;
  document.addEventListener("keydown", function (e) {{
    if (e.key === "ArrowRight") {{ stop(); show(index + 1); }}
    else if (e.key === "ArrowLeft") {{ stop(); show(index - 1); }}
    else if (e.key === " ") {{ e.preventDefault(); play(); }}
  }});
  show(0);
}})();
</script>
</body>
</html>
"""


def player_html(frames: list[graphviz.Digraph], title: str = "Backward pass, step by step",
                interval_ms: int = 1200) -> str:
    """One self-contained HTML page (inline SVG, CSS and script; no network) playing `frames`."""
    if not frames:
        raise ValueError("player_html: no frames to play (the graph has no VJP step); draw a "
                         "tensor that was computed from inputs with requires_grad=True")
    blocks = []
    for k, frame in enumerate(frames):
        svg = _XML_PROLOG.sub("", svg_text(frame))
        caption = html.escape(frame.comment or f"step {k + 1}", quote=True)
        blocks.append(f'<div class="frame" id="step{k}" data-caption="{caption}"'
                      f'{" hidden" if k else ""}>\n{svg}</div>')
    return _PLAYER.format(fingerprint=dot_fingerprint(f.source for f in frames),
                          title=html.escape(title), frames="\n".join(blocks),
                          interval=int(interval_ms))


def save_html(root: Tensor, path, **draw_options) -> Path:
    """Write a self-contained HTML player of root's backward pass: previous / next / play buttons
    and the arrow keys step through backward_frames(root, **draw_options). Returns the path."""
    path = Path(path)
    path.write_text(player_html(backward_frames(root, **draw_options)), encoding="utf-8")
    return path
