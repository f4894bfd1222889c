"""backward_frames: root.backward() replayed one drawn op at a time, one drawing per step, with the
gradient arriving, what is sent to each input and every partial sum so far.

The replay reads the engine's own reverse sweep (engine.sweep) and changes nothing. The graph
model is built once; each frame records only what changes at its step (the op, its edges, the
tensors it sends to) and writes its DOT when first read, so building the frames of an n-op graph
takes time linear in n. How a frame is drawn is draw.py's and graph.py's, turning frames into a
page is player.py's.
"""
from __future__ import annotations

import bisect
from collections import defaultdict

import numpy as np

from ._imports import Tensor, no_grad, sweep
from .draw import DRAW_DEFAULTS, Drawing, _graph_model, _new_graph
from .labels import _COMPLETE, _PARTIAL, _inline, _summary


class _Step:
    """One VJP the engine runs: the op's output tensor, the dY it receives, what it sends back."""

    __slots__ = ("tensor", "dy", "sent")

    def __init__(self, tensor, dy, sent):
        self.tensor, self.dy, self.sent = tensor, dy, sent


def _replay_backward(root: Tensor, seed: Tensor | None = None) -> list[_Step]:
    """engine.backward's own sweep, run without touching any .grad or freeing anything: one step
    per VJP, in the engine's order. The seed dY of the root defaults to ones."""
    if seed is None:
        seed = Tensor(np.ones_like(root.data))
    with no_grad():
        return [_Step(t, dy, sent) for t, dy, sent in sweep(root, seed) if t.node is not None]


class _Gradients:
    """Every tensor's gradient as it grows during the replay: after engine step s, the partial
    sum and how many drawn ops have contributed to it, of how many in all."""

    def __init__(self, root: Tensor, seed: Tensor, steps: list[_Step], unit_of):
        self.steps_at: dict[int, list[int]] = defaultdict(list)    # id(t) -> engine step indices
        self.values: dict[int, list] = defaultdict(list)           # ... the partial sum then
        self.counts: dict[int, list[int]] = defaultdict(list)      # ... contributing units then
        senders: dict[int, set] = defaultdict(set)
        self._add(root, -1, seed.data, "seed", senders)
        for s, step in enumerate(steps):
            for _, p, dp in step.sent:
                self._add(p, s, dp.data, unit_of(step.tensor), senders)
        self.total = {key: len(units) for key, units in senders.items()}

    def _add(self, t, s, value, unit, senders) -> None:
        key = id(t)
        values = self.values[key]
        senders[key].add(unit)
        self.steps_at[key].append(s)
        values.append(value if not values else values[-1] + value)
        self.counts[key].append(len(senders[key]))

    def at(self, t, s) -> tuple[int, int, np.ndarray] | None:
        """(contributions so far, of all, partial sum) of t after engine step s, or None."""
        key = id(t)
        k = bisect.bisect_right(self.steps_at.get(key, ()), s) - 1
        if k < 0:
            return None
        return self.counts[key][k], max(self.total[key], 1), self.values[key][k]


class _Replay:
    """What every frame of one backward pass shares: the graph model, the gradients as they grow,
    and the node statements already written (a tensor's is rewritten only when its gradient
    changes)."""

    def __init__(self, model, gradients: _Gradients, root: Tensor):
        self.model, self.gradients, self.root = model, gradients, root
        self.cache: dict = {}

    def grad_of(self, step: int):
        def grad_of(x):
            state = self.gradients.at(x, step)
            if state is None:
                return None
            count, total, value = state
            share = f" ({count} of {total} contributions)" if total > 1 else ""
            return f"grad{share}{' (seed)' if x is self.root else ''}", value
        return grad_of

    def style(self, step: int):
        def style(x):
            state = self.gradients.at(x, step)
            if state is None:
                return {}
            return {"color": _COMPLETE if state[0] >= state[1] else _PARTIAL, "penwidth": "2"}
        return style


class _Frame(Drawing):
    """One backward frame. Its DOT is written when first read (`source`, `body`), from the shared
    replay at its engine step. What it changes compared with the frame before is all it stores:
    `current` (the highlighted op's node id), `edge_labels` ((src, dst, slot) -> text) and
    `changed` (the tensors whose gradient it adds to)."""

    _pending = None

    def setup(self, replay: _Replay, step: int, current: Tensor, edge_labels: dict,
              changed: list) -> "_Frame":
        self._pending = (replay, step)
        self._current_tensor = current
        self.current = replay.model.unit[id(current)]
        self.edge_labels, self.changed = edge_labels, changed
        return self

    @property
    def body(self) -> list[str]:
        if self._pending is not None:
            replay, step = self._pending
            self._pending = None
            replay.model.emit(self, grad_of=replay.grad_of(step), tensor_style=replay.style(step),
                              current=self._current_tensor, edge_labels=self.edge_labels,
                              cache=replay.cache)
        return self._body

    @body.setter
    def body(self, value) -> None:
        self._body = value


def _what_moves(model, steps: list[_Step]) -> tuple[dict, dict, dict]:
    """What the VJPs of one drawn op move: the edge labels (dY on each drawn output, "sends ..."
    on each drawn input), {edge: (input, all it sent along the edge)} and {id(parameter):
    (parameter, all it received)} for the parameters hidden inside a collapsed module."""
    labels, sent, inside = {}, {}, {}
    for step in steps:
        t = step.tensor
        if id(t) not in model.hidden:
            labels[(model.unit[id(t)], model.ids[id(t)], None)] = f"dY {_summary(step.dy.data)}"
        for slot, p, dp in step.sent:
            key = model.input_key(t, p, slot)
            if key is not None:
                _add_to(sent, key, p, dp.data)
            elif id(p) in model.parameters and id(p) in model.hidden:
                _add_to(inside, id(p), p, dp.data)
    for key, (_, value) in sent.items():
        labels[key] = f"sends {_summary(value)}"
    return labels, sent, inside


def _add_to(sums: dict, key, tensor, value) -> None:
    sums[key] = (tensor, value if key not in sums else sums[key][1] + value)


def _unit_title(model, t) -> str:
    box = model.box_of.get(id(t))
    return box.short if box is not None else model.unit_name(t)


def backward_frames(root: Tensor, **draw_options) -> list[Drawing]:
    """One drawing per drawn op of root.backward(), in the order the engine runs their VJPs.

    Each frame highlights the op whose VJP runs (a composite or a collapsed module: all of its
    VJPs, at the last of them), points red edges the way the gradient flows (the dY arriving from
    its output, what it sends to each input) and shows every tensor's gradient so far: at a
    tensor used several times, the partial sum and "2 of 3 contributions". Nothing is modified:
    no .grad is set and the graph is not freed. A non-scalar root is seeded with dY = ones.
    draw_options are draw's keyword options (show_grads is implied).
    """
    draw_options.pop("show_grads", None)
    unknown = set(draw_options) - set(DRAW_DEFAULTS)
    if unknown:
        raise TypeError(f"backward_frames: unknown draw option(s) {sorted(unknown)}; expected "
                        f"{', '.join(DRAW_DEFAULTS)}")
    options = {**DRAW_DEFAULTS, **draw_options}
    model = _graph_model(root, **options)
    seed = Tensor(np.ones_like(root.data))
    steps = _replay_backward(root, seed)
    unit_of = lambda t: model.unit[id(t)]  # noqa: E731
    gradients = _Gradients(root, seed, steps, unit_of)
    last: dict[str, int] = {}                 # unit -> its last engine step: where its frame goes
    members: dict[str, list[int]] = defaultdict(list)
    for s, step in enumerate(steps):
        last[unit_of(step.tensor)] = s
        members[unit_of(step.tensor)].append(s)
    units = sorted(last, key=last.get)
    replay = _Replay(model, gradients, root)
    if model.wrap:                            # one set of rows for all frames: laid out with
        final = len(steps) - 1                # every gradient known (the largest labels)
        model.emit(_new_graph("layout", options["rankdir"]), grad_of=replay.grad_of(final),
                   tensor_style=replay.style(final), cache=replay.cache)
    frames = []
    for k, unit in enumerate(units):
        first, s = steps[members[unit][0]], last[unit]
        labels, sent, inside = _what_moves(model, [steps[m] for m in members[unit]])
        shared = []                           # tensors that get gradients from several ops
        for p, _ in sent.values():
            count, total, _ = gradients.at(p, s)
            if total > 1:
                shared.append(f"{model.describe(p)}: {count} of {total} contributions")
        sends = ", ".join(f"{_summary(value)} to {model.describe(p)}"
                          for p, value in [*sent.values(), *inside.values()])
        caption = (f"step {k + 1}/{len(units)}: the VJP of {_unit_title(model, first.tensor)} gets "
                   f"dY {_summary(first.dy.data)} from {model.describe(first.tensor)} and sends "
                   + (sends or "nothing") + (f"; {'; '.join(shared)}" if shared else ""))
        graph = _new_graph(f"frame{k}", options["rankdir"], comment=caption, cls=_Frame)
        graph.attr(id=f"frame{k}", label=_inline(caption), labelloc="t")
        frames.append(graph.setup(replay, s, first.tensor, labels, [p for p, _ in sent.values()]))
    return frames
