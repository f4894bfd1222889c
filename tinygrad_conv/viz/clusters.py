"""Module clusters: one nn.Module call of a drawing (a cluster, or a box when collapsed), and how
the clusters are written into a Digraph, nested and, when the drawing wraps, cut into one piece
per row. Not here: which nodes exist and their labels (graph.py), the rows themselves (rows.py).
"""
from __future__ import annotations

from collections import defaultdict

import graphviz

from .labels import _CLUSTER_STYLE, _inline


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
        self.op_params: list[str] | None = None    # the parameters of its last op

    @property
    def kind(self) -> str:
        return type(self.module).__name__

    @property
    def short(self) -> str:
        """'conv1', or '3 · Conv2d' for a layer of a Sequential, the class for the whole model."""
        if not self.name:
            return self.kind
        last = self.name.rpartition(".")[2]
        return f"{self.name} · {self.kind}" if last.isdigit() else self.name

    @property
    def description(self) -> str:
        """The module's repr, or its class when the repr lists children over several lines."""
        text = repr(self.module)
        return self.kind if "\n" in text else text

    @property
    def title(self) -> str:
        return f"{self.name} · {self.description}" if self.name else self.description


def cluster_members(modules: dict, nodes) -> list[set[str]]:
    """The node ids inside each drawn cluster, its nested clusters' included."""
    inside: dict[_ModuleCall, set[str]] = defaultdict(set)
    for node_id, _, cluster in nodes:
        while cluster is not None:
            inside[cluster].add(node_id)
            cluster = cluster.parent
    return [inside[m] for m in modules.values() if m in inside]

def cluster_bodies(graph, modules: dict, nodes, row, wrap) -> dict[tuple, graphviz.Digraph]:
    """The (sub)graph each node goes in, by (cluster, row): a module's cluster, cut into one
    per row it spans when wrapped, each inside the invisible cluster of its row."""
    bodies: dict[tuple, graphviz.Digraph] = {}
    rows_used = sorted({row[n] for n, _, _ in nodes})
    for r in rows_used:
        if wrap:
            frame = graphviz.Digraph(name=f"cluster_row{r}")
            frame.attr(label="", peripheries="0", margin="4")
            bodies[None, r] = frame
        else:
            bodies[None, r] = graph
    needed = set()
    for node_id, _, cluster in nodes:
        while cluster is not None:
            needed.add((cluster, row[node_id]))
            cluster = cluster.parent
    first_row = {}
    for m in modules.values():
        for r in rows_used:
            if (m, r) in needed:
                name = m.dot_name if not wrap else f"{m.dot_name}_{r}"
                title = m.title if m not in first_row else f"{m.title} (continued)"
                first_row.setdefault(m, r)
                sub = graphviz.Digraph(name=name)
                sub.attr(label=_inline(title), **_CLUSTER_STYLE)
                bodies[m, r] = sub
    return bodies

def nest_clusters(graph, modules: dict, top_modules: list, bodies, wrap) -> None:
    """Copy every cluster into its parent's body, children in the order they were called
    (in reverse creation order every child is complete before its parent takes it), then
    the row frames into the graph."""
    rows_used = sorted({r for _, r in bodies})
    for parent in [*reversed(modules.values()), None]:
        children = parent.children if parent is not None else top_modules
        for r in rows_used:
            for child in children:
                if (parent, r) in bodies and (child, r) in bodies:
                    bodies[parent, r].subgraph(bodies[child, r])
    if wrap:
        for (m, r), body in bodies.items():
            if m is None:
                graph.subgraph(body)
