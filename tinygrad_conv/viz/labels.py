"""Text and looks of the drawing: numbers, values, shapes and op parameters as short text, the
escaped HTML-like labels of DOT (values as tables of numbers or heatmaps), and the styles and
colours of every kind of node and edge.

Every label is an HTML-like label (`label=<...>`): all text goes through `_text`, which escapes
&, <, > and " and replaces line breaks and other control characters, so no name can end a label,
open a tag or add DOT of its own. What a label says about a graph (names, kinds, formulas) is
decided in graph.py and formulas.py.
"""
from __future__ import annotations

import math
import re
from typing import Any, Mapping

import numpy as np

from ._imports import Tensor

TINY = 4                      # tensors with at most this many entries show their values inline
DIGITS = 4                    # significant digits of every number in a label
RANKDIRS = ("TB", "LR", "BT", "RL")
NUMBERS_UP_TO = (7, 7)        # a channel of at most 7 rows and 7 columns is written as numbers...
NUMBER_CHANNELS = 4           # ... when the tensor has at most this many channels
HEATMAP_SIDE = 12             # larger channels: heatmaps of at most 12 x 12 cells (vectors 48)
HEATMAP_CHANNELS = 8          # of at most this many channels (the first ones)
_CELL = 3                     # points per heatmap cell, at least
_HEATMAP_MIN = 24             # points along the longer side of a channel's heatmap, at least

_FONT = "Helvetica"
_FONT_SIZE, _SMALL_SIZE, _EDGE_SIZE = 14, 12, 12
_GRAPH_STYLE = {"bgcolor": "white", "fontname": _FONT, "fontsize": str(_FONT_SIZE),
                "newrank": "true"}
_NODE_DEFAULTS = {"shape": "box", "style": "rounded,filled", "fillcolor": "#ffffff",
                  "fontname": _FONT, "fontsize": str(_FONT_SIZE), "color": "#444444",
                  "margin": "0.08,0.04"}
_EDGE_DEFAULTS = {"fontname": _FONT, "fontsize": str(_EDGE_SIZE), "color": "#666666"}
_STYLE = {
    "parameter": {"fillcolor": "#cfe0fc"},
    "input": {"fillcolor": "#d3f2d3"},
    "data": {"fillcolor": "#d3f2d3", "style": "rounded,filled,dashed"},
    "constant": {"fillcolor": "#f0f0f0", "style": "rounded,filled,dashed", "fontcolor": "#555555"},
    "intermediate": {},                                     # the node defaults: white rounded box
    "output": {"fillcolor": "#ffe8a3", "penwidth": "2"},
}
_OP_STYLE = {"shape": "ellipse", "fillcolor": "#ebe4f7"}
_COMPOSITE_STYLE = {"shape": "ellipse", "fillcolor": "#ddd0f2", "peripheries": "2"}
_BOX_STYLE = {"shape": "box3d", "style": "filled", "fillcolor": "#e6efe6"}   # a collapsed module
_CLUSTER_STYLE = {"style": "rounded,dashed", "color": "#888888", "fontcolor": "#444444",
                  "peripheries": "1", "margin": "8"}
_HIGHLIGHT = {"color": "#d62728", "penwidth": "3", "fillcolor": "#ffd9d9"}
_GRAD_EDGE = {"color": "#d62728", "fontcolor": "#d62728", "penwidth": "2", "dir": "back",
              "arrowtail": "normal"}
_PARTIAL, _COMPLETE = "#ff7f0e", "#2ca02c"

# the diverging colour scale of values: blue below 0, white at 0, red above (ColorBrewer RdBu)
_NEGATIVE, _ZERO, _POSITIVE = (33, 102, 172), (247, 247, 247), (178, 24, 43)
_LEVELS = 8                   # shades on each side of 0


# ---- numbers and short text ----------------------------------------------------------------

def _number(x) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    text = f"{float(x):.{DIGITS}g}"
    return "0" if text == "-0" else text


def _values(a: np.ndarray) -> str:
    """[[1, 2], [3, 4]]: every entry, nested like the array (for tiny arrays)."""
    if a.ndim == 0:
        return _number(a.item())
    return "[" + ", ".join(_values(row) for row in a) + "]"


def _summary(a: np.ndarray) -> str:
    """The values of a tiny array, the norm of a larger one (for captions and edge labels)."""
    if a.size <= TINY:
        return _values(a)
    return f"‖·‖={_number(np.linalg.norm(a.astype(np.float64).ravel()))}"


def _shape(shape: tuple) -> str:
    """(2,1,8,8): the compact spelling used in formulas."""
    return "(" + ",".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _one_per_axis(pairs) -> tuple | None:
    """(1, 2) for the pads ((1, 1), (2, 2)): before and after agree on every axis; else None."""
    if all(b == a for b, a in pairs):
        return tuple(b for b, _ in pairs)
    return None


def _axis_names(count: int) -> list[str]:
    """The last two axes are rows and cols; any before them are numbered from the end."""
    return [f"axis {k - count}" for k in range(count - 2)] + ["rows", "cols"][-count:]


def _pairs(pairs) -> str:
    """(before, after) amounts per axis, each axis named: 'rows (1,2), cols (0,2)'. Axes without
    any amount are left out when another axis has one."""
    names = _axis_names(len(pairs))
    kept = [(n, p) for n, p in zip(names, pairs) if p != (0, 0)] or list(zip(names, pairs))[-1:]
    return ", ".join(f"{name} ({b},{a})" for name, (b, a) in kept)


def _pad_and_crop(pairs) -> str:
    """'pad rows (1,2), cols (1,2)' for positive amounts, 'crop ...' for negative ones, both
    when they mix; '' when there are none."""
    pad = tuple((max(b, 0), max(a, 0)) for b, a in pairs)
    crop = tuple((max(-b, 0), max(-a, 0)) for b, a in pairs)
    parts = [f"{word} {_pairs(amounts)}" for word, amounts in (("pad", pad), ("crop", crop))
             if any(b or a for b, a in amounts)]
    return ", ".join(parts)


def _short(value: Any) -> str:
    """A static parameter as short text; arrays (index arrays of getitem) are summarised."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, np.ndarray):
        return _values(value) if value.size <= TINY else f"{value.dtype}{_shape(value.shape)}"
    if isinstance(value, slice):
        parts = ["" if v is None else str(v) for v in (value.start, value.stop, value.step)]
        return ":".join(parts[:2]) + (f":{parts[2]}" if value.step is not None else "")
    if value is Ellipsis:
        return "..."
    if isinstance(value, tuple):
        return "(" + ", ".join(_short(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name
    if isinstance(value, (float, int, np.floating, np.integer, bool, np.bool_)):
        return _number(value)
    return repr(value)


def _is_pairs(value) -> bool:
    return isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in value)


# parameters left out of op labels when they have their everyday value
_QUIET = {"axis": None, "dilation": (1, 1), "groups": 1, "keepdims": False, "count_include_pad": True,
          "divisor_override": None, "value": 0.0}


def _param_texts(params: Mapping) -> list[str]:
    """['stride=(2, 2)', 'padding=(1, 1)']: (before, after) pads that agree are shown once per
    axis; others are written per named axis ('widths=rows (1,0), cols (0,2)')."""
    texts = []
    for key, value in params.items():
        if key in _QUIET and _QUIET[key] == value:
            continue
        if key in ("padding", "widths") and _is_pairs(value):
            if all(b == 0 and a == 0 for b, a in value):
                continue
            same = _one_per_axis(value)
            if same is None:
                texts.append(f"{key}={_pairs(value)}")
                continue
            value = same
        texts.append(f"{key}={_short(value)}")
    return texts


def _wrap(words: list[str], width: int = 36) -> list[str]:
    lines, line = [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + ([line] if line else [])


# ---- escaping ------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def _text(s: Any) -> str:
    """Any text as the content of an HTML-like label: &<>" escaped, a line break shown as ↵ and
    any other control character as �, so the label stays one line of well-formed markup."""
    s = re.sub(r'[&<>"]', lambda m: _ESCAPES[m.group()], str(s))
    return _CONTROL.sub(lambda m: "↵" if m.group() in "\n\r\x0b\x0c\x85\u2028\u2029" else "�", s)


def _one_line(s: str) -> str:
    """Text for a DOT comment (`// ...`): every line break and control character becomes a space."""
    return _CONTROL.sub(" ", str(s))


# ---- HTML-like labels ----------------------------------------------------------------------

class _Html(str):
    """A fragment of an HTML-like label, with its estimated size in points (for laying out rows
    of nodes before Graphviz measures them)."""

    def __new__(cls, html: str, width: float = 0.0, height: float = 0.0):
        fragment = super().__new__(cls, html)
        fragment.width, fragment.height = width, height
        return fragment


def _text_width(text: str, size: float) -> float:
    return 0.56 * size * len(text)          # Helvetica's average advance, about 0.56 em


def _font(html: str, size: int | None = None, bold: bool = False, color: str | None = None) -> str:
    if bold:
        html = f"<B>{html}</B>"
    attrs = (f' POINT-SIZE="{size}"' if size else "") + (f' COLOR="{color}"' if color else "")
    return f"<FONT{attrs}>{html}</FONT>" if attrs else html


def _line(text: str, size: int = _FONT_SIZE, bold: bool = False) -> _Html:
    """One line of plain text (escaped), as a label row."""
    return _Html(_font(_text(text), None if size == _FONT_SIZE else size, bold),
                 _text_width(text, size) * (1.08 if bold else 1.0), 1.25 * size)


def _lines(texts: list[str], align: str = "CENTER", size: int = _FONT_SIZE) -> _Html:
    """Lines of plain text in one cell, each aligned (CENTER or LEFT)."""
    br = f'<BR ALIGN="{align}"/>' if align != "CENTER" else "<BR/>"
    body = br.join(_text(t) for t in texts) + (br if align != "CENTER" else "")
    return _Html(_font(body, None if size == _FONT_SIZE else size),
                 max((_text_width(t, size) for t in texts), default=0), 1.2 * size * len(texts))


def _html_label(rows: list[_Html]) -> _Html:
    """A DOT HTML-like label: the fragments stacked and centred, as lines of text when they are
    all text, else as the rows of a table."""
    rows = [row for row in rows if row]
    width, height = max((r.width for r in rows), default=0) + 20, sum(r.height + 2 for r in rows) + 10
    if not any("<TABLE" in row for row in rows):
        return _Html(f"<{'<BR/>'.join(rows)}>", width, height)
    cells = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
    return _Html(f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}'
                 f'</TABLE>>', width, height)


def _label(lines: list[str], left: list[str] = (), bold_first: bool = False) -> _Html:
    """An HTML-like label of plain text: `lines` centred (the first in bold if asked), `left`
    left-justified below them in the small size, every line escaped."""
    rows = [_line(line, bold=bold_first and k == 0) for k, line in enumerate(lines)]
    if left:
        rows.append(_lines(list(left), "LEFT", _SMALL_SIZE))
    return _html_label(rows)


def _inline(text: str) -> str:
    """A short HTML-like label for an edge or a graph title: one line of escaped text."""
    return f"<{_text(text)}>"


# ---- values: numbers and heatmaps ------------------------------------------------------------

def _channels(a: np.ndarray) -> list[np.ndarray]:
    """The 2-D slices of an array, in row-major order of its leading axes; a vector is one row."""
    if a.ndim <= 1:
        return [a.reshape(1, -1)]
    return list(a.reshape((-1,) + a.shape[-2:]))


def _colour(t: float, strength: float = 1.0) -> str:
    """#rrggbb for t in [-1, 1] on the diverging scale, quantised to _LEVELS shades a side;
    strength < 1 mixes it with white (backgrounds behind numbers)."""
    level = round(min(abs(t), 1.0) * _LEVELS) / _LEVELS * strength
    end = _POSITIVE if t > 0 else _NEGATIVE
    rgb = [round(z + (e - z) * level) for z, e in zip(_ZERO, end)]
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _scale(a: np.ndarray) -> float:
    """The largest |value|, the end of the shared colour scale (1 when all are 0 or not finite)."""
    finite = np.abs(a[np.isfinite(a)])
    top = float(finite.max()) if finite.size else 0.0
    return top if top > 0 else 1.0


def _number_table(channel: np.ndarray, top: float) -> _Html:
    rows, widths = [], []
    for row in channel:
        texts = [_number(v) for v in row]
        cells = "".join(f'<TD BGCOLOR="{_colour(float(v) / top, 0.45)}">{_text(text)}</TD>'
                        for v, text in zip(row, texts))
        rows.append(f"<TR>{cells}</TR>")
        widths.append(texts)
    column = [max(_text_width(r[k], _SMALL_SIZE) for r in widths) + 6 for k in range(len(widths[0]))]
    return _Html(f'<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="2" '
                 f'COLOR="#bbbbbb">{"".join(rows)}</TABLE>', sum(column),
                 len(rows) * (1.25 * _SMALL_SIZE + 5))


def _block_means(channel: np.ndarray, block: int) -> np.ndarray:
    """The means of block x block squares (the last ones may be smaller)."""
    if block == 1:
        return channel
    h, w = channel.shape
    rows, cols = math.ceil(h / block), math.ceil(w / block)
    padded = np.full((rows * block, cols * block), np.nan)
    padded[:h, :w] = channel
    with np.errstate(invalid="ignore"):
        return np.nanmean(padded.reshape(rows, block, cols, block), axis=(1, 3))


def _heatmap_table(channel: np.ndarray, top: float) -> _Html:
    """One channel as a table of coloured cells (the first row and column carry the sizes),
    at least _HEATMAP_MIN points on its longer side."""
    cell = max(_CELL, math.ceil(_HEATMAP_MIN / max(channel.shape)))
    rows = []
    for i, row in enumerate(channel):
        cells = []
        for j, v in enumerate(row):
            size = (f' WIDTH="{cell}"' if i == 0 else "") + (f' HEIGHT="{cell}"' if j == 0 else "")
            colour = _colour(float(v) / top) if np.isfinite(v) else "#000000"
            cells.append(f'<TD BGCOLOR="{colour}"{size}></TD>')
        rows.append(f"<TR>{''.join(cells)}</TR>")
    h, w = channel.shape
    return _Html(f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">'
                 f'{"".join(rows)}</TABLE>', cell * w, cell * h)


def _side_by_side(tables: list[_Html], fixed: bool = False) -> _Html:
    """Tables in one row; `fixed` keeps each at its size (heatmaps: not stretched to the label)."""
    size = (lambda t: f' FIXEDSIZE="TRUE" WIDTH="{t.width:g}" HEIGHT="{t.height:g}"') if fixed \
        else (lambda t: "")
    cells = "".join(f"<TD{size(t)}>{t}</TD>" for t in tables)
    return _Html(f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3" CELLPADDING="0"><TR>{cells}'
                 f'</TR></TABLE>', sum(t.width + 3 for t in tables) + 3,
                 max(t.height for t in tables) + 6)


def _array_rows(a: np.ndarray, prefix: str = "") -> list[_Html]:
    """The values of an array as label rows: inline text when tiny, tables of numbers when each
    channel is small, else a heatmap per channel (shared colour scale, blue < 0 < red) with the
    range. `prefix` ('grad') starts the first row."""
    lead = f"{prefix} " if prefix else ""
    if a.size <= TINY:
        return [_line(f"{lead or '= '}{_values(a)}")]
    if a.dtype.kind not in "biuf":
        return [_line(f"{lead}{a.dtype} values")]
    data = a.astype(np.float64)
    channels = _channels(data)
    top = _scale(data)
    rows_max, cols_max = NUMBERS_UP_TO
    h, w = channels[0].shape
    if h <= rows_max and w <= cols_max and len(channels) <= NUMBER_CHANNELS:
        rows = [_line(prefix)] if prefix else []
        return rows + [_side_by_side([_number_table(c, top) for c in channels])]
    side = HEATMAP_SIDE * (HEATMAP_SIDE // 3 if h == 1 else 1)    # a vector: one longer strip
    block = max(1, math.ceil(max(h, w) / side))
    shown = channels[:HEATMAP_CHANNELS]
    finite = data[np.isfinite(data)]
    notes = [f"min {_number(finite.min())}, max {_number(finite.max())}" if finite.size
             else "no finite values"]
    if len(channels) > len(shown):
        notes.append(f"first {len(shown)} of {len(channels)}")
    return [_line(f"{lead}{', '.join(notes)}", _SMALL_SIZE),
            _side_by_side([_heatmap_table(_block_means(c, block), top) for c in shown], fixed=True)]
