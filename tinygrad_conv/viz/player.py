"""The step-through player: SVG frames with a caption each, as one self-contained HTML page (inline
SVG, CSS and script; no network) or, in Jupyter, as that page inside an iframe of its own.

    Player(svgs, captions, title)     any frames: .html(), .save(path), shown inline in Jupyter
    Frames(drawings)                  a list of Drawings that plays itself as a Player
    backward_frames(loss)             frames.backward_frames' drawings as Frames
    save_html(loss, path)             those frames as one page

The page is player.html with player.css and player.js inlined where it links them. The script
keeps one frame visible, scrolls to the frame's elements of class "current" (backward frames mark
the op whose VJP runs) and, in presenter mode, crops to them and their neighbours in large type.
Its keys act only while the player has the focus.
"""
from __future__ import annotations

import functools
import html
import importlib.resources
import re
import string
from pathlib import Path
from typing import Iterable, Sequence

import graphviz

from . import frames
from ._imports import Tensor
from .rendering import dot_fingerprint, svg_text

_XML_PROLOG = re.compile(r"^\s*<\?xml[^>]*>\s*(<!DOCTYPE[^>]*>\s*)?", re.S)

# where player.html links its style sheet and script, and what replaces each link in the page
_INLINED = {'<link rel="stylesheet" href="player.css">\n': ("player.css", "<style>\n{}</style>\n"),
            '<script src="player.js"></script>\n': ("player.js", "<script>\n{}</script>\n")}

# how the iframe of a notebook output is sized: most of the window, never tiny
_IFRAME_STYLE = ("width: 100%; height: 80vh; min-height: 420px; max-height: 960px; "
                 "border: 1px solid #ccc; border-radius: 4px;")

BACKWARD_TITLE = "Backward pass, step by step"


@functools.lru_cache(maxsize=None)
def _page() -> string.Template:
    """player.html with its CSS and script inlined. Its placeholders ($meta, $title, $interval
    and $frames) are filled in by Player.html."""
    files = importlib.resources.files(__package__)
    page = files.joinpath("player.html").read_text(encoding="utf-8")
    for link, (name, inline) in _INLINED.items():
        if page.count(link) != 1:
            raise RuntimeError(f"player.html must link {name} exactly once as {link.strip()}")
        page = page.replace(link, inline.format(files.joinpath(name).read_text(encoding="utf-8")))
    return string.Template(page)


class Player:
    """A step-through player of SVG frames, one caption each: previous / next / play buttons,
    zoom, a presenter mode, and keys (arrows, space, + - f p) while it has the focus.

    svgs:        the frames as SVG markup (an XML prolog is dropped); elements of class "current"
                 are the step's focus, which the player scrolls to
    captions:    one plain-text caption per frame (escaped, never read as HTML)
    title:       plain text for the page's title
    interval_ms: time per frame when playing
    fingerprint: a sha256 hex digest of the frames' source, recorded in the page's
                 <meta name="dot-sha256"> (viz/make_figures.py checks committed pages with it)
    """

    def __init__(self, svgs: Sequence[str], captions: Sequence[str], title: str = "Step by step",
                 *, interval_ms: int = 1200, fingerprint: str | None = None):
        svgs, captions = list(svgs), list(captions)
        if not svgs:
            raise ValueError("Player: no frames to play; give at least one SVG")
        if len(captions) != len(svgs):
            raise ValueError(f"Player: {len(svgs)} frames but {len(captions)} captions; give one "
                             f"caption per frame")
        for what, texts in (("svgs", svgs), ("captions", captions), ("title", [title])):
            for text in texts:
                if not isinstance(text, str):
                    raise TypeError(f"Player: {what} must be str, got {type(text).__name__}")
        if isinstance(interval_ms, bool) or not isinstance(interval_ms, int) or interval_ms < 1:
            raise ValueError(f"Player: interval_ms must be a positive int, got {interval_ms!r}")
        if fingerprint is not None and not re.fullmatch(r"[0-9a-f]{64}", fingerprint):
            raise ValueError(f"Player: fingerprint must be a sha256 hex digest, got {fingerprint!r}")
        self.svgs, self.captions, self.title = svgs, captions, title
        self.interval_ms, self.fingerprint = interval_ms, fingerprint

    def html(self) -> str:
        """The player as one self-contained HTML page."""
        blocks = [f'<div class="frame" id="step{k}" data-caption="{html.escape(caption)}"'
                  f'{" hidden" if k else ""}>\n{_XML_PROLOG.sub("", svg)}</div>'
                  for k, (svg, caption) in enumerate(zip(self.svgs, self.captions))]
        meta = ("" if self.fingerprint is None
                else f'<meta name="dot-sha256" content="{self.fingerprint}">\n')
        return _page().substitute(meta=meta, title=html.escape(self.title),
                                  interval=self.interval_ms, frames="\n".join(blocks))

    def _repr_html_(self) -> str:
        """The page in an iframe of its own (Jupyter's inline display): its ids, style and keys
        cannot meet another player's or the notebook's."""
        return (f'<iframe class="tinygrad-conv-player" title="{html.escape(self.title)}" '
                f'sandbox="allow-scripts" style="{_IFRAME_STYLE}" '
                f'srcdoc="{html.escape(self.html())}"></iframe>')

    def save(self, path) -> Path:
        """Write the page to `path`; returns the path."""
        path = Path(path)
        path.write_text(self.html(), encoding="utf-8")
        return path

    def __repr__(self) -> str:
        return f"<Player {self.title!r}: {len(self.svgs)} frames>"


def _without_label(drawing: graphviz.Digraph) -> graphviz.Digraph:
    """A copy of `drawing` without its graph label (the player shows the caption instead)."""
    copy = drawing.copy()
    copy.attr(label="")
    return copy


class Frames(list):
    """Drawings to step through, such as backward_frames' result: a list of Drawings as before,
    which Jupyter shows as a Player and .save(path) writes as one HTML page. Each drawing's
    comment is its caption; a drawing with a comment is played without its graph label, so the
    caption appears once."""

    def __init__(self, drawings: Iterable[graphviz.Digraph] = (), title: str = "Step by step"):
        super().__init__(drawings)
        self.title = title

    def player(self, title: str | None = None, interval_ms: int = 1200) -> Player:
        """These frames rendered to SVG (dot, or the dot-free fallback) in a Player."""
        if not self:
            raise ValueError("no frames to play: backward_frames of a tensor that no input with "
                             "requires_grad=True reaches has no VJP step")
        return Player([svg_text(_without_label(f) if f.comment else f) for f in self],
                      [f.comment or f"step {k + 1}" for k, f in enumerate(self)],
                      self.title if title is None else title, interval_ms=interval_ms,
                      fingerprint=dot_fingerprint(f.source for f in self))

    def _repr_html_(self) -> str | None:
        return self.player()._repr_html_() if self else None

    def save(self, path, title: str | None = None) -> Path:
        """Write the player page of these frames to `path`; returns the path."""
        return self.player(title).save(path)

    def __repr__(self) -> str:
        return f"<Frames {self.title!r}: {len(self)} drawings>"


def backward_frames(root: Tensor, **draw_options) -> Frames:
    """One drawing per VJP step of root.backward(), in the order the engine runs them
    (viz.frames.backward_frames says what each one shows), as Frames: in Jupyter the result
    plays itself, and .save(path) writes the same player as one HTML page.
    draw_options are draw's keyword options."""
    return Frames(frames.backward_frames(root, **draw_options), title=BACKWARD_TITLE)


def player_html(drawings: list[graphviz.Digraph], title: str = BACKWARD_TITLE,
                interval_ms: int = 1200) -> str:
    """One self-contained HTML page (inline SVG, CSS and script; no network) playing `drawings`."""
    return Frames(drawings).player(title, interval_ms).html()


def save_html(root: Tensor, path, **draw_options) -> Path:
    """Write a self-contained HTML player of root's backward pass: previous / next / play buttons
    and the arrow keys step through backward_frames(root, **draw_options). Returns the path."""
    return backward_frames(root, **draw_options).save(path)
