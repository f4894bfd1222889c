"""The step-through player: backward frames as one self-contained HTML page (inline SVG, CSS and
script; no network), with previous / next / play buttons and the arrow keys.

The page is player.html, with player.css and player.js inlined where it links them; the frames
themselves come from frames.py and their SVG from render.py.
"""
from __future__ import annotations

import functools
import html
import importlib.resources
import re
import string
from pathlib import Path

import graphviz

from ._imports import Tensor
from .frames import backward_frames
from .rendering import dot_fingerprint, svg_text

_XML_PROLOG = re.compile(r"^\s*<\?xml[^>]*>\s*(<!DOCTYPE[^>]*>\s*)?", re.S)

# where player.html links its style sheet and script, and what replaces each link in the page
_INLINED = {'<link rel="stylesheet" href="player.css">\n': ("player.css", "<style>\n{}</style>\n"),
            '<script src="player.js"></script>\n': ("player.js", "<script>\n{}</script>\n")}


@functools.lru_cache(maxsize=None)
def _page() -> string.Template:
    """player.html with its CSS and script inlined. Its placeholders ($fingerprint, $title,
    $frames, and $interval in player.js) are filled in by player_html."""
    files = importlib.resources.files(__package__)
    page = files.joinpath("player.html").read_text(encoding="utf-8")
    for link, (name, inline) in _INLINED.items():
        if page.count(link) != 1:
            raise RuntimeError(f"player.html must link {name} exactly once as {link.strip()}")
        page = page.replace(link, inline.format(files.joinpath(name).read_text(encoding="utf-8")))
    return string.Template(page)


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
    return _page().substitute(fingerprint=dot_fingerprint(f.source for f in frames),
                              title=html.escape(title), frames="\n".join(blocks),
                              interval=int(interval_ms))


def save_html(root: Tensor, path, **draw_options) -> Path:
    """Write a self-contained HTML player of root's backward pass: previous / next / play buttons
    and the arrow keys step through backward_frames(root, **draw_options). Returns the path."""
    path = Path(path)
    path.write_text(player_html(backward_frames(root, **draw_options)), encoding="utf-8")
    return path
