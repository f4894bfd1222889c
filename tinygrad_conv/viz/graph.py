"""The graph model of one drawing: which tensor and op nodes, edges and module clusters exist,
their ids (t0, op0, m0 in toposort order), names and kinds, and how they are written into a Digraph.

The text inside labels is built by labels.py and formulas.py; draw's options are checked in draw.py.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Mapping

import graphviz

from ._imports import Parameter, Tensor, toposort
from .formulas import FORMULAS
from .labels import (_BOX_STYLE, _CLUSTER_STYLE, _GRAD_EDGE, _HIGHLIGHT, _OP_STYLE, _STYLE, TINY,
                     _label, _number, _param_texts, _shape, _values, _wrap)


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


class _ModuleCall:
    """One nn.Module call in the drawing: a cluster, or a box when collapsed."""

    def __init__(self, key, parent, level, name, module, index):
        self.key, self.parent, self.level, self.name = key, parent, level, name
        self.module = module
        self.dot_name = f"cluster_m{index}"
        self.box_id = f"m{index}"
        self.children: list[_ModuleCall] = []
        self.ops = 0
        self.op_names: list[str] = []
        self.parameters: list = []             # parameters hidden inside it, when collapsed

    @property
    def title(self) -> str:
        text = repr(self.module)
        if "\n" in text:                      # containers print all children: the class is enough
            text = type(self.module).__name__
        return f"{self.name} · {text}" if self.name else text


class _GraphModel:
    """Where each tensor and op of one graph goes, and what it is called; built once per root and
    written into a Digraph by emit (once by draw, once per frame by backward_frames)."""

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
    def _module_of(self, path: tuple) -> _ModuleCall | None:
        """The innermost module call of `path` (outermost first), creating its ancestors."""
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
                found = _ModuleCall(key, parent, level, name, module, len(self.modules))
                self.modules[key] = found
                (parent.children if parent else self.top_modules).append(found)
            parent = found
        return parent

    def _place(self, group_modules) -> None:
        """Assign every op to a cluster or a collapsed box, and every tensor to a cluster or hide it."""
        self.modules: dict[tuple, _ModuleCall] = {}
        self.top_modules: list[_ModuleCall] = []
        self.depth = None if isinstance(group_modules, bool) else group_modules
        self.unit: dict[int, str] = {}                    # id(output tensor) -> op or box node id
        self.box_of: dict[int, _ModuleCall] = {}          # id(output tensor) -> its collapsed box
        self.cluster: dict[str, _ModuleCall | None] = {}  # op or box node id -> the cluster around it
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
        self.placement: dict[int, _ModuleCall | None] = {}
        for t in self.tensors:
            self._place_tensor(t)

    def is_cluster(self, module: _ModuleCall) -> bool:
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

    def _within(self, owner: tuple, box: _ModuleCall) -> bool:
        """Whether the module named by `owner` is `box` or nested inside it."""
        outer, name = owner
        return box.key[0] == outer and (box.name == "" or name == box.name
                                        or name.startswith(box.name + "."))

    def _owner_cluster(self, owner: tuple) -> _ModuleCall | None:
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

    def box_label(self, box: _ModuleCall, grad_of: Callable) -> str:
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
        bodies: dict[_ModuleCall | None, graphviz.Digraph] = {None: graph}
        for m in self.modules.values():
            if self.is_cluster(m):
                sub = graphviz.Digraph(name=m.dot_name)
                sub.attr(label=m.title, **_CLUSTER_STYLE)
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
                        attrs = dict(_BOX_STYLE)
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

