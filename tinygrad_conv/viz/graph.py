"""The graph model of one drawing: which tensor and op nodes, edges and module clusters exist,
their ids (t0, op0, m0 in toposort order), names and kinds, and how they are written into a Digraph.

A drawn op is a unit: one primitive, one composite call (F.linear, F.cross_entropy, ... drawn as one
op unless expand_composites) or one collapsed module (a box). The text inside labels is built by
labels.py and formulas.py; draw's options are checked in draw.py.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Mapping

import graphviz

from ._imports import Parameter, Tensor
from .arguments import _graph_order, _param_pairs
from .clusters import _ModuleCall, cluster_bodies, cluster_members, nest_clusters
from .composite_units import _Composite, composite_units
from .formulas import COMPOSITE_FORMULAS, FORMULAS
from .rows import NODESEP, RANKSEP, rows
from .labels import (_BOX_STYLE, _COMPOSITE_STYLE, _GRAD_EDGE, _HIGHLIGHT,
                     _OP_STYLE, _SMALL_SIZE, _STYLE, TINY, _array_rows, _Html, _html_label,
                     _inline, _label, _line, _lines, _number, _param_texts, _shape, _summary,
                     _wrap)


def _statement(scratch: graphviz.Digraph, node_id: str, label: _Html, attrs: dict) -> _Html:
    """The DOT statement of one node, as graphviz writes it (into `scratch`, then taken out),
    keeping the label's size estimate."""
    scratch.node(node_id, label, **attrs)
    return _Html(scratch.body.pop(), label.width, label.height)


def _state(grad: tuple | None):
    """What a gradient row shows, as a key: its heading and which array."""
    return None if grad is None else (grad[0], id(grad[1]))


class _GraphModel:
    """Where each tensor and op of one graph goes, and what it is called; built once per root and
    written into a Digraph by emit (once by draw, once per frame by backward_frames)."""

    def __init__(self, root: Tensor, params, group_modules, show_values, formulas,
                 expand_composites=False, wrap=None):
        self.root, self.wrap = root, wrap
        self.order = _graph_order(root)
        self.show_values, self.formulas = show_values, formulas
        self.consumers: dict[int, list[Tensor]] = defaultdict(list)
        for t in self.order:
            if t.node is not None:
                for p in t.node.parents:
                    self.consumers[id(p)].append(t)
        # id(tensor made inside a composite call) -> the call, drawn as one op; the calls
        self.composite_of, self.composites = ({}, []) if expand_composites else \
            composite_units(self.order, self.consumers)
        self.ids: dict[int, str] = {}                 # id(tensor) -> "t7"
        self.op_ids: dict[int, str] = {}              # id(tensor) -> "op3" for the op that made it
        self.tensors: list[Tensor] = []               # every drawn candidate, in numbering order
        for t in self.order:
            if t.node is not None:
                for p in t.node.parents:
                    if id(p) not in self.ids:         # a constant: toposort skips them
                        self._number(p)
                composite = self.composite_of.get(id(t))
                if composite is not None and composite.output is t:
                    for _, d in composite.data:
                        self._number(d)
                self.op_ids[id(t)] = f"op{len(self.op_ids)}"
            self._number(t)
        self._data_users: dict[int, list[_Composite]] = defaultdict(list)
        for composite in self.composites:
            composite.id = self.op_ids[id(composite.output)]
            for _, d in composite.data:
                self._data_users[id(d)].append(composite)
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
        self.argument_names: dict[int, str] = {}      # leaves named by the argument they were
        for composite in self.composites:
            for name, x in composite.inputs:
                if x.node is None:
                    self.argument_names.setdefault(id(x), name)

    def name_of(self, t: Tensor) -> str | None:
        """What a tensor is called: its name, the argument it was passed as (target), 'input',
        'constant', or where it comes from: 'conv1 out', 'relu out'."""
        name = self.names.get(id(t)) or self.argument_names.get(id(t))
        if name is not None:
            return name
        kind = self.kind(t)
        if kind in ("input", "data"):
            return "input"
        if kind == "constant":
            return "constant"
        if t.node is None:
            return None
        module = self.exited_module(t)
        if module is not None:
            return f"{module.short} out"
        return f"{self.unit_name(t)} out"

    def describe(self, t: Tensor) -> str:
        """How a caption refers to a tensor: its name, else its shape."""
        return self.name_of(t) or ("a scalar" if t.ndim == 0 else str(tuple(t.shape)))

    def kind(self, t: Tensor) -> str:
        if t is self.root:
            return "output"
        if t.node is not None:
            return "intermediate"
        if t.requires_grad:
            return "parameter" if id(t) in self.parameters else "input"
        return "constant" if self._literal(t) else "data"

    def exited_module(self, t: Tensor) -> _ModuleCall | None:
        """The innermost module call that `t` leaves: made inside it, used outside it (or the root)."""
        path = t.node.module
        if not path:
            return None
        calls = self._calls_of(path)
        for depth in range(len(path) - 1, -1, -1):
            module = path[depth]
            if t is self.root or any(not any(m is module for m in c.node.module)
                                     for c in self.consumers[id(t)]):
                return calls[depth]
        return None

    def unit_name(self, t: Tensor) -> str:
        composite = self.composite_of.get(id(t))
        return composite.name if composite is not None else t.node.op.name

    # --- module clusters -----------------------------------------------------------------------
    def _calls_of(self, path: tuple) -> list[_ModuleCall]:
        """The module call of each entry of `path` (outermost first), created as needed."""
        outer = path[0]
        names = self.module_names.get(id(outer), {})
        calls, prefix, parent = [], "", None
        for level, m in enumerate(path):   # a module called but not registered is named by its class
            name = names.get(id(m), f"{prefix}.{type(m).__name__}".lstrip("."))
            key = (id(outer), name)
            found = self.modules.get(key)
            if found is None:
                found = _ModuleCall(key, parent, level, name, m, len(self.modules))
                self.modules[key] = found
                (parent.children if parent else self.top_modules).append(found)
            calls.append(found)
            prefix, parent = name, found
        return calls

    def _place(self, group_modules) -> None:
        """Assign every op to a unit (its own, its composite's or a collapsed box) inside a cluster,
        and every tensor to a cluster or hide it."""
        self.modules: dict[tuple, _ModuleCall] = {}
        self.top_modules: list[_ModuleCall] = []
        self.depth = None if isinstance(group_modules, bool) else group_modules
        self.unit: dict[int, str] = {}                    # id(output tensor) -> unit node id
        self.box_of: dict[int, _ModuleCall] = {}          # id(output tensor) -> its collapsed box
        self.cluster: dict[str, _ModuleCall | None] = {}  # unit node id -> the cluster around it
        self.grouping = group_modules is not False
        for t in self.order:
            if t.node is None:
                continue
            path = t.node.module
            module = self._calls_of(path)[-1] if path and self.grouping else None
            box = None
            while module is not None and not self.is_cluster(module):
                box, module = module, module.parent   # collapse into the ancestor at level `depth`
            composite = self.composite_of.get(id(t))
            if box is not None:
                self.box_of[id(t)] = box
                self.unit[id(t)] = box.box_id
                if composite is None or composite.output is t:
                    box.ops += 1
                    box.op_params = self._param_texts(t)
                    if self.unit_name(t) not in box.op_names:
                        box.op_names.append(self.unit_name(t))
            elif composite is not None:
                self.unit[id(t)] = composite.id
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

    def consumers_of(self, t: Tensor) -> list[Tensor]:
        """The op outputs whose unit takes `t` as an input (a composite's data inputs included)."""
        found = list(self.consumers.get(id(t), []))
        for composite in self._data_users.get(id(t), []):
            found.append(composite.output)
        return found

    def _place_tensor(self, t: Tensor) -> None:
        composite = self.composite_of.get(id(t))
        if composite is not None and composite.output is not t:
            self.hidden.add(id(t))                    # made inside a composite call
            return
        consumers = self.consumers_of(t)
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
            self.placement[id(t)] = self.cluster[self.unit[id(t)]]
        elif id(t) in self.owner and self.grouping:
            self.placement[id(t)] = self._owner_cluster(self.owner[id(t)])
        elif self._literal(t) and consumers:          # literals sit beside their first consumer
            self.placement[id(t)] = self.cluster[self.unit[id(consumers[0])]]
        else:
            self.placement[id(t)] = None

    def _literal(self, t: Tensor) -> bool:
        """An unnamed tiny constant (1.0, a mask entry): part of the op that uses it, not data."""
        return (t.node is None and not t.requires_grad and id(t) not in self.names
                and id(t) not in self.argument_names and t.data.size <= TINY)

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

    # --- the inputs of each unit ---------------------------------------------------------------
    def unit_inputs(self, t: Tensor) -> list[tuple[Tensor, int | None]]:
        """The (input, slot) pairs drawn as edges into the unit of op output `t`: a primitive's
        parents, a composite's inputs (for its output only), a box member's outside inputs
        (slot None); hidden tensors have no edge."""
        unit = self.unit[id(t)]
        composite = self.composite_of.get(id(t))
        if id(t) in self.box_of:
            pairs = [(p, None) for p in t.node.parents]
            if composite is not None and composite.output is t:
                pairs += [(d, None) for _, d in composite.data]
        elif composite is not None:
            if composite.output is not t:
                return []
            pairs = [(x, slot) for slot, (_, x) in enumerate(composite.inputs)]
        else:
            pairs = list(enumerate(t.node.parents))
            pairs = [(p, slot) for slot, p in pairs]
        return [(p, slot) for p, slot in pairs
                if id(p) not in self.hidden and self.unit.get(id(p)) != unit]

    def input_key(self, t: Tensor, parent: Tensor, slot: int) -> tuple | None:
        """The edge key (src, dst, slot) along which the VJP of op output `t` sends to `parent`
        (its input `slot`), or None when that gradient stays inside a unit or goes to a hidden
        tensor."""
        unit = self.unit[id(t)]
        if id(parent) in self.hidden or self.unit.get(id(parent)) == unit:
            return None
        if id(t) in self.box_of:
            return (self.ids[id(parent)], unit, None)
        composite = self.composite_of.get(id(t))
        if composite is not None:
            for k, (_, x) in enumerate(composite.inputs):
                if x is parent:
                    return (self.ids[id(parent)], unit, k)
            return None
        return (self.ids[id(parent)], unit, slot)

    # --- labels --------------------------------------------------------------------------------
    def tensor_label(self, t: Tensor, grad: tuple | None) -> _Html:
        """Name, shape and dtype, the values, then `grad` = (heading, array or None) if given."""
        name = self.name_of(t)
        rows = [_line(name, bold=True)] if name else []
        shape = "scalar" if t.ndim == 0 else str(tuple(t.shape))
        rows.append(_line(f"{shape} {t.dtype}"))
        if self.show_values is not False and t.data.size:
            rows += _array_rows(t.data)
            if self.show_values is True and t.data.size > TINY and t.data.dtype.kind in "biuf":
                rows.append(_line(f"∈ [{_number(t.data.min())}, {_number(t.data.max())}]"))
        if grad is not None:
            heading, value = grad
            rows += _array_rows(value, heading) if value is not None else [_line(heading)]
        return _html_label(rows)

    def _param_texts(self, t: Tensor) -> list[str]:
        """The static parameters of the op (or composite call) that made `t`, as short texts."""
        composite = self.composite_of.get(id(t))
        return _param_texts(composite.params if composite is not None else t.node.params)

    def op_label(self, t: Tensor) -> _Html:
        composite = self.composite_of.get(id(t))
        if composite is not None:
            formula = COMPOSITE_FORMULAS.get(composite.name) if self.formulas else None
            node = composite
        else:
            formula = FORMULAS.get(t.node.op.name) if self.formulas else None
            node = t.node
        lines = [self.unit_name(t)] + _wrap(self._param_texts(t))
        return _label(lines, formula(node, t) if formula else (), bold_first=True)

    def box_label(self, box: _ModuleCall, grad_of: Callable) -> _Html:
        """The module's name and repr, its ops when there are several, and the parameters hidden
        inside it with their shapes (and the norm of their gradients)."""
        rows = [_line(box.short, bold=True)]
        if box.ops == 1 and box.op_params:     # one op: its parameters say enough
            rows.append(_lines(_wrap(box.op_params, 28), size=_SMALL_SIZE))
        elif box.description not in (box.kind, f"{box.kind}()"):
            pieces = box.description.replace(", ", ",\x00").split("\x00")
            rows.append(_lines(_wrap(pieces, 28), size=_SMALL_SIZE))
        if box.ops > 1:
            rows.append(_line(f"{box.ops} ops: " + ", ".join(box.op_names), _SMALL_SIZE))
        for t in box.parameters:
            name = self.names[id(t)]
            short = name[len(box.name) + 1:] if box.name and name.startswith(box.name + ".") else name
            text = f"{short} {_shape(t.shape)}"
            grad = grad_of(t)
            if grad is not None:
                heading, value = grad
                text += f" {heading}" + ("" if value is None else f" {_summary(value)}")
            rows.append(_line(text, _SMALL_SIZE))
        return _html_label(rows)

    # --- emission ------------------------------------------------------------------------------
    def emit(self, graph: graphviz.Digraph, *, grad_of: Callable, tensor_style: Callable = None,
             current: Tensor | None = None, edge_labels: Mapping = None,
             cache: dict | None = None) -> None:
        """Add every node, cluster and edge to `graph`.

        grad_of(t) gives (heading, array or None) for a tensor's gradient rows, or None;
        tensor_style(t) extra attributes; `current` is the op whose unit is highlighted;
        edge_labels maps (src, dst, slot) to the text of a highlighted (gradient) edge. `cache`
        keeps node statements between calls (backward frames), keyed by what they show.
        """
        edge_labels = edge_labels or {}
        cache = {} if cache is None else cache
        scratch = graphviz.Digraph()              # writes statements, one at a time
        current_unit = self.unit[id(current)] if current is not None else None
        nodes = []                                # (node id, DOT statement, cluster)
        units_done = set()
        for t in self.tensors:
            if t.node is not None:
                unit = self.unit[id(t)]
                composite = self.composite_of.get(id(t))
                drawn_here = id(t) in self.box_of or composite is None or composite.output is t
                if unit not in units_done and drawn_here:
                    box = self.box_of.get(id(t))
                    shown = tuple(_state(grad_of(p)) for p in box.parameters) if box else ()
                    key = (unit, unit == current_unit, shown)
                    if key not in cache:
                        attrs, label = self._unit_node(t, grad_of)
                        if unit == current_unit:
                            attrs.update(_HIGHLIGHT, **{"class": "current"})
                        cache[key] = _statement(scratch, unit, label, attrs)
                    units_done.add(unit)
                    nodes.append((unit, cache[key], self.cluster[unit]))
            if id(t) not in self.hidden:
                node_id, grad = self.ids[id(t)], grad_of(t)
                style = tensor_style(t) if tensor_style is not None else {}
                key = (node_id, _state(grad), tuple(sorted(style.items())))
                if key not in cache:
                    cache[key] = _statement(scratch, node_id, self.tensor_label(t, grad),
                                            {**_STYLE[self.kind(t)], **style})
                nodes.append((node_id, cache[key], self.placement[id(t)]))
        edges = self.edges()
        row: dict[str, int] = defaultdict(int)
        if self.wrap:
            if self.rows is None:
                self.rows = self.layout_rows(nodes)
            row.update(self.rows)
            graph.attr(rankdir="LR", ranksep=RANKSEP, nodesep=NODESEP)
        bodies = cluster_bodies(graph, self.modules, nodes, row, self.wrap)
        for node_id, statement, cluster in nodes:
            bodies[cluster, row[node_id]].body.append(statement)
        nest_clusters(graph, self.modules, self.top_modules, bodies, self.wrap)
        for key in edges:
            label = edge_labels.get(key)
            if (key, label) not in cache:
                attrs = self._edge_attrs(key, edge_labels)
                if row[key[0]] != row[key[1]]:
                    attrs["constraint"] = "false"     # into a later row: it starts at the left
                scratch.edge(key[0], key[1], **attrs)
                cache[key, label] = scratch.body.pop()
            graph.body.append(cache[key, label])

    rows: dict[str, int] | None = None           # node id -> row, once laid out (wrap)

    def layout_rows(self, nodes) -> dict[str, int]:
        """The row of each node (wrap), from the estimated sizes of these node statements."""
        sizes = {n: (statement.width, statement.height) for n, statement, _ in nodes}
        return rows(list(sizes), [e[:2] for e in self.edges()], sizes,
                    cluster_members(self.modules, nodes), set(self.unit.values()), self.wrap)

    def _unit_node(self, t: Tensor, grad_of: Callable) -> tuple[dict, _Html]:
        """The attributes and label of the unit node of op output `t`."""
        if id(t) in self.box_of:
            return dict(_BOX_STYLE), self.box_label(self.box_of[id(t)], grad_of)
        composite = self.composite_of.get(id(t))
        if composite is not None:
            attrs = dict(_COMPOSITE_STYLE)
            if self.formulas and composite.name in COMPOSITE_FORMULAS:
                attrs["shape"] = "note"
            return attrs, self.op_label(t)
        attrs = dict(_OP_STYLE)
        if self.formulas and t.node.op.name in FORMULAS:
            attrs["shape"] = "note"
        return attrs, self.op_label(t)

    def edges(self) -> list[tuple]:
        """Every edge as (src, dst, slot): into each unit from its inputs, out to its results."""
        if self._edge_list is not None:
            return self._edge_list
        seen, edges = set(), []
        for t in self.order:
            if t.node is None:
                continue
            unit = self.unit[id(t)]
            for p, slot in self.unit_inputs(t):
                key = (self.ids[id(p)], unit, slot)
                if key not in seen:
                    seen.add(key)
                    edges.append(key)
            if id(t) not in self.hidden:
                edges.append((unit, self.ids[id(t)], None))
        self._edge_list = edges
        return edges

    _edge_list: list[tuple] | None = None

    @staticmethod
    def _edge_attrs(key, edge_labels) -> dict:
        label = edge_labels.get(key)
        if label is None:
            return {}
        return {"label": _inline(label), **_GRAD_EDGE, "class": "grad"}
