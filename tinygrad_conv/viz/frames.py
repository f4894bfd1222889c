"""backward_frames: root.backward() replayed one VJP at a time, one drawing per step, with the
gradient arriving, what is sent to each input and every partial sum so far.

The replay reads the engine's own reverse sweep (engine.sweep) and changes nothing; how a frame is
drawn is draw.py's and graph.py's, turning frames into a page is player.py's.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from ._imports import Tensor, no_grad, sweep
from .draw import Drawing, _graph_model, _new_graph
from .labels import _COMPLETE, _PARTIAL, _label, _summary


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
    defaults = {"params": None, "show_values": "auto", "formulas": False, "group_modules": True,
                "rankdir": "TB"}                      # draw's, for each option but show_grads
    unknown = set(draw_options) - set(defaults)
    if unknown:
        raise TypeError(f"backward_frames: unknown draw option(s) {sorted(unknown)}; expected "
                        f"{', '.join(defaults)}")
    options = {**defaults, **draw_options}
    model = _graph_model(root, **options)
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
        unit = model.unit[id(t)]
        labels = {}
        if id(t) not in model.hidden:
            labels[(unit, model.ids[id(t)], None)] = f"dY {_summary(step.dy.data)}"
        collapsed = id(t) in model.box_of
        received = []
        for slot, p, dp in step.sent:
            count, value = partial.get(id(p), (0, None))
            partial[id(p)] = (count + 1, dp.data if value is None else value + dp.data)
            if id(p) not in model.hidden:
                key = (model.ids[id(p)], unit, None if collapsed else slot)
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

        shared = [f"{model.describe(p)}: {partial[id(p)][0]} of {total[id(p)]} contributions"
                  for p in received if total[id(p)] > 1]
        sends = ", ".join(f"{_summary(dp.data)} to {model.describe(p)}" for _, p, dp in step.sent)
        caption = (f"step {k + 1}/{len(steps)}: the VJP of {t.node.op.name} gets dY "
                   f"{_summary(step.dy.data)} from {model.describe(t)} and sends "
                   + (sends or "nothing") + (f"; {'; '.join(shared)}" if shared else ""))
        graph = _new_graph(f"frame{k}", options["rankdir"], comment=caption)
        graph.attr(id=f"frame{k}", label=_label([caption]), labelloc="t")
        model.emit(graph, grad_of=grad_of, tensor_style=style, current=t, edge_labels=labels)
        frames.append(graph)
    return frames
