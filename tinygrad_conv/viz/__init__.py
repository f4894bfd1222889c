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


import graphviz
import numpy as np

from ._imports import Tensor, no_grad, sweep
from .labels import _COMPLETE, DIGITS, _PARTIAL, RANKDIRS, TINY, _label, _summary
from .formulas import FORMULAS
from .render import GraphvizNotFoundError, dot_fingerprint, render, svg_text
from .draw import Drawing, draw, _graph_model, _new_graph

__all__ = ["draw", "backward_frames", "save_html", "render", "svg_text", "GraphvizNotFoundError",
           "Drawing"]


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
    layout = _graph_model(root, **options)
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
