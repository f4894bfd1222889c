"""Rows: a long graph laid out the way text wraps, so that a model fits a 16:9 page.

Graphviz's dot puts every step of a chain on its own rank: a 30-op model becomes one long column
(or, with rankdir=LR, one long line). Here the nodes are split into rows by their depth (the
longest path from a leaf): each row is drawn left to right (rankdir=LR), and an edge into a later
row does not constrain the ranks (constraint=false), so every row starts again at the left, below
the one before. A leaf (input, parameter, target) goes into the row of the first node it feeds. A
row never ends inside a module's cluster that could fit in one row. The row length is given, or
chosen so that the drawing, at its estimated size, can be scaled the largest into a 16:9 page.
"""
from __future__ import annotations

from collections import defaultdict

PAGE = (16.0, 9.0)             # the aspect ratio rows are chosen for
_NODESEP, _RANKSEP = 11.0, 25.0    # points: between nodes of a rank, between ranks
NODESEP, RANKSEP = "0.15", "0.35"  # the graph attributes (inches) that give them
_CLUSTER_MARGIN = 24.0         # a cluster's label and border, roughly


def depths(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """The length of the longest path from a leaf to each node (leaves are at depth 0)."""
    successors, waiting = defaultdict(list), {n: 0 for n in nodes}
    for a, b in edges:
        successors[a].append(b)
        waiting[b] += 1
    depth = {n: 0 for n in nodes}
    ready = [n for n in nodes if waiting[n] == 0]
    while ready:
        n = ready.pop()
        for m in successors[n]:
            depth[m] = max(depth[m], depth[n] + 1)
            waiting[m] -= 1
            if waiting[m] == 0:
                ready.append(m)
    return depth


def rows(nodes: list[str], edges: list[tuple[str, str]], sizes: dict[str, tuple[float, float]],
         clusters: list[set[str]], ops: set[str], per_row: int | bool) -> dict[str, int]:
    """The row of every node: `per_row` steps (an op and its result: two depths) per row, or with
    per_row=True the rows that fit PAGE best. `clusters` are the node sets of module clusters;
    a row preferably starts with one of `ops` (so that it ends with a result)."""
    depth = depths(nodes, edges)
    is_leaf = set(nodes) - {b for _, b in edges}
    consumers = defaultdict(list)
    for a, b in edges:
        consumers[a].append(b)
    # a leaf sits one rank before the first node it feeds
    place = {n: (min(depth[c] for c in consumers[n]) - 1 if n in is_leaf and consumers[n]
                 else depth[n]) for n in nodes}
    order = sorted(set(place.values()))
    column = defaultdict(list)
    for n in nodes:
        column[place[n]].append(n)
    width = {d: max(sizes[n][0] for n in column[d]) for d in order}
    spans = [(min(place[n] for n in c), max(place[n] for n in c)) for c in clusters if c]

    def split(target: float) -> list[list[int]]:
        """Runs of depths filled up to `target` wide, ending only where no cluster that fits in
        a row is cut."""
        small = [(lo, hi) for lo, hi in spans
                 if sum(width[d] + _RANKSEP for d in order if lo <= d <= hi) <= target]
        allowed = {d for d in order if not any(lo < d <= hi for lo, hi in small)}
        starts_op = {d for d in allowed if any(n in ops for n in column[d])}
        chunks, line = [], []
        for d in order:
            line.append(d)
            if sum(width[e] + _RANKSEP for e in line) > target and len(line) > 1:
                cut = max((k for k in range(1, len(line)) if line[k] in starts_op), default=None)
                if cut is None:
                    cut = max((k for k in range(1, len(line)) if line[k] in allowed), default=None)
                if cut is not None:
                    chunks.append(line[:cut])
                    line = line[cut:]
        return chunks + [line]

    if per_row is True:
        total = sum(width[d] + _RANKSEP for d in order)
        nesting = {n: sum(n in c for c in clusters) for n in nodes}   # clusters around each node
        candidates = [split(total / count) for count in range(1, min(len(order), 120) + 1)]
        chunks = max(candidates, key=lambda c: _scale(c, column, sizes, nesting))
    else:
        chunks = [order[k:k + 2 * per_row] for k in range(0, len(order), 2 * per_row)]
        if len(order) > 2 * per_row:                  # keep clusters whole where that is possible
            target = max(sum(width[d] + _RANKSEP for d in c) for c in chunks)
            chunks = split(target)
    row_of_depth = {d: r for r, chunk in enumerate(chunks) for d in chunk}
    return {n: row_of_depth[place[n]] for n in nodes}


def _scale(chunks, column, sizes, nesting: dict[str, int]) -> float:
    """How large the drawing with these rows can be scaled into PAGE (its estimated size: the
    rows share their columns, each row is as tall as its tallest column plus the borders and
    labels of the clusters around it)."""
    widths = defaultdict(float)
    height = 0.0
    for chunk in chunks:
        tallest = 0.0
        for k, d in enumerate(chunk):
            widths[k] = max(widths[k], max(sizes[n][0] for n in column[d]))
            tallest = max(tallest, sum(sizes[n][1] + _NODESEP for n in column[d])
                          + _CLUSTER_MARGIN * max(nesting[n] for n in column[d]))
        height += tallest + _NODESEP
    deepest = max(nesting.values(), default=0)
    width = sum(w + _RANKSEP for w in widths.values()) + _CLUSTER_MARGIN * deepest
    return min(PAGE[0] / width, PAGE[1] / height)
