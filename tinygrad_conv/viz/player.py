"""The step-through player: backward frames as one self-contained HTML page (inline SVG, CSS and
script; no network), with previous / next / play buttons and the arrow keys.

The frames themselves come from frames.py and their SVG from render.py.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import graphviz

from ._imports import Tensor
from .frames import backward_frames
from .render import dot_fingerprint, svg_text

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
