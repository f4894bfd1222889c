"""Text and looks of the drawing: numbers, values, shapes and op parameters as short text, line
wrapping, the escaped DOT label, and the styles and colours of every kind of node and edge.

What a label says about a graph (names, kinds, formulas) is decided in graph.py and formulas.py.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ._imports import Tensor

TINY = 4                      # tensors with at most this many entries show their values
DIGITS = 4                    # significant digits of every number in a label
RANKDIRS = ("TB", "LR", "BT", "RL")

_GRAPH_STYLE = {"bgcolor": "white", "fontname": "Helvetica", "fontsize": "12", "newrank": "true"}
_NODE_DEFAULTS = {"shape": "box", "style": "rounded,filled", "fillcolor": "#ffffff",
                  "fontname": "Helvetica", "fontsize": "11", "color": "#444444"}
_EDGE_DEFAULTS = {"fontname": "Helvetica", "fontsize": "10", "color": "#666666"}
_STYLE = {
    "parameter": {"fillcolor": "#cfe0fc"},
    "input": {"fillcolor": "#d3f2d3"},
    "constant": {"fillcolor": "#f0f0f0", "style": "rounded,filled,dashed", "fontcolor": "#555555"},
    "intermediate": {},                                     # the node defaults: white rounded box
    "output": {"fillcolor": "#ffe8a3", "penwidth": "2"},
}
_OP_STYLE = {"shape": "ellipse", "fillcolor": "#ebe4f7"}
_BOX_STYLE = {"shape": "box3d", "style": "filled", "fillcolor": "#e6efe6"}   # a collapsed module
_CLUSTER_STYLE = {"style": "rounded,dashed", "color": "#888888", "fontcolor": "#444444"}
_HIGHLIGHT = {"color": "#d62728", "penwidth": "3", "fillcolor": "#ffd9d9"}
_GRAD_EDGE = {"color": "#d62728", "fontcolor": "#d62728", "penwidth": "2"}
_PARTIAL, _COMPLETE = "#ff7f0e", "#2ca02c"


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
    """The values of a tiny array, the norm of a larger one."""
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


def _pads(padding) -> str:
    """((1,1),(1,1)) as (1,1) when every axis pads both sides alike."""
    same = _one_per_axis(padding)
    if same is not None:
        return _shape(same)
    return "(" + ",".join(_shape(pair) for pair in padding) + ")"


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
    """['stride=(2, 2)', 'padding=(1, 1)']: (before, after) pads that agree are shown once."""
    texts = []
    for key, value in params.items():
        if key in _QUIET and _QUIET[key] == value:
            continue
        if key in ("padding", "widths") and _is_pairs(value):
            if all(b == 0 and a == 0 for b, a in value):
                continue
            same = _one_per_axis(value)
            if same is not None:
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


def _label(lines: list[str], left: list[str] = ()) -> str:
    r"""A DOT label: `lines` centred, `left` left-justified (\l), user text escaped."""
    escape = lambda s: s.replace("\\", "\\\\").replace('"', '\\"')  # noqa: E731
    text = "\\n".join(escape(s) for s in lines)
    if left:
        text += "\\n" + "".join(escape(s) + "\\l" for s in left)
    return text
