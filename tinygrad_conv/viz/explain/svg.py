"""Hand-written SVG for the explain panels: grids of numbers with coloured and outlined cells,
text, and one colour per meaning, the same in every panel.

The output is plain text, the same on every machine (no renderer, no fonts measured), so the
gallery's committed figures diff cleanly. Styles are attributes, never a <style> sheet, so a
notebook page holding several panels inline is not restyled by any of them. Every number taken
from the data is a <text class="v">; titles, indices and symbols are <text class="label">.
"""
from __future__ import annotations

import contextlib
import html
from typing import Iterable, Sequence

import numpy as np

# what each colour means, in every panel
PADDING = "#e4e4e4"       # a cell of the padding the forward added (zeros, or -inf for max-pool)
UNREAD = "#a8a8a8"        # a remainder row or column: no window ever reads it
INSERTED = "#f4f1e8"      # a zero the stride put between dY's entries
BORDER = "#d9cfe8"        # ceil_mode's extra border (a partial last window)
READ = "#ffe08a"          # the cells the current window reads
RESULT = "#bfe5b5"        # the entry being built, where it lands
CROPPED = "#f6d0d0"       # computed on the padded grid, then cropped off with the padding
WINNER = "#9fd0f5"        # the cell a window's gradient is routed to (its first maximum)
OFF = "#f0f0f0"           # an entry whose gradient is zero (ReLU's mask)
FOCUS = "#e4572e"         # the outline of the current window / entry
TIE = "#7b4fb8"           # the outline of a cell that ties with the maximum but loses
INK, GREY = "#222222", "#777777"

CELL_W, CELL_H = 50, 24    # the widest grid cell, and every cell's height, in px
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"
CHAR = 0.62                # the advance of a monospace character, in font sizes
SANS = 0.56                # the average advance of a sans-serif character, in font sizes
NBSP = "\u00a0"             # spaces that SVG keeps (it collapses runs of plain ones)


def number(v, digits: int = 3) -> str:
    """A value as a cell shows it: integers exactly, others to `digits` significant digits."""
    v = float(v)
    if not np.isfinite(v):
        return "nan" if np.isnan(v) else ("∞" if v > 0 else "−∞")
    if v == int(v) and abs(v) < 1e6:
        return str(int(v))
    text = f"{v:.{digits}g}"
    return "0" if text == "-0" else text


def term(v) -> str:
    """A value inside a written-out sum: 4 significant digits, negatives in parentheses."""
    text = number(v, 4)
    return f"({text})" if text.startswith("-") else text


class Canvas:
    """SVG elements in drawing order; the picture grows to hold whatever is drawn. Text inherits
    the sans-serif font, size 12 and dark ink from the root group, so each
    element states only what differs."""

    def __init__(self):
        self.parts: list[str] = []
        self.right = self.bottom = 0.0

    def _grow(self, x: float, y: float) -> None:
        self.right, self.bottom = max(self.right, x), max(self.bottom, y)

    def rect(self, x, y, w, h, *, fill="none", stroke="#9a9a9a", width=1.0, dash=None) -> None:
        extra = (f' stroke-width="{width:g}"' if width != 1 else "") + \
                (f' stroke-dasharray="{dash}"' if dash else "")
        self.parts.append(f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" fill="{fill}" '
                          f'stroke="{stroke}"{extra}/>')
        self._grow(x + w, y + h)

    def path(self, d: str, *, stroke="#b0b0b0") -> None:
        self.parts.append(f'<path d="{d}" fill="none" stroke="{stroke}"/>')

    def text(self, x, y, content: str, *, size=12, anchor="start", weight="normal", color=INK,
             mono=False, value=False) -> None:
        """Text with its baseline at y; value=True marks a number taken from the data."""
        width = len(content) * size * (CHAR if mono else SANS)
        left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
        extra = "".join((f' font-size="{size:g}"' if size != 12 else "",
                         f' text-anchor="{anchor}"' if anchor != "start" else "",
                         f' font-weight="{weight}"' if weight != "normal" else "",
                         f' fill="{color}"' if color != INK else "",
                         f' font-family="{MONO}"' if mono else ""))
        self.parts.append(f'<text class="{"v" if value else "label"}" x="{x:g}" y="{y:g}"{extra}>'
                          f'{html.escape(content).replace(" ", NBSP)}</text>')
        self._grow(left + width, y + size * 0.3)

    def lines(self, x, y, rows: Iterable[str], *, size=12, mono=True, color=INK) -> float:
        """Rows of text from y down; returns the y below the last."""
        for row in rows:
            self.text(x, y, row, size=size, mono=mono, color=color)
            y += size * 1.45
        return y

    @contextlib.contextmanager
    def group(self, cls: str):
        """Elements drawn inside belong to <g class="cls"> (the player scrolls to class "current")."""
        self.parts.append(f'<g class="{cls}">')
        yield
        self.parts.append("</g>")

    def svg(self, margin: int = 12) -> str:
        w, h = round(self.right) + 2 * margin, round(self.bottom) + 2 * margin
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
                f'viewBox="{-margin} {-margin} {w} {h}">\n<rect x="{-margin}" y="{-margin}" '
                f'width="{w}" height="{h}" fill="white"/>\n<g font-family="{FONT}" font-size="12" '
                f'fill="{INK}">\n' + "\n".join(self.parts) + "\n</g>\n</svg>\n")


def cell_width(texts: Iterable[str]) -> float:
    """How wide a grid's cells are: room for the longest text, within 26..CELL_W px."""
    return min(CELL_W, max(26, max((len(t) for t in texts), default=1) * 6.2 + 10))


class Grid:
    """A 2-D array drawn as a grid of cells with its title above and its indices along the top and
    the left. fills: a colour per cell (None: white); texts: what a cell says instead of its
    number (symbols, −∞), None to show the number; muted: cells whose text is grey. Cells are as
    wide as the longest number needs, within CELL_W, unless `width` is given."""

    def __init__(self, canvas: Canvas, x: float, y: float, values: np.ndarray, title: str, *,
                 fills=None, texts=None, muted=None, width: float | None = None):
        values = np.asarray(values)
        rows, cols = values.shape
        shown = [[number(values[r, c]) if texts is None or texts[r][c] is None else texts[r][c]
                  for c in range(cols)] for r in range(rows)]
        self.canvas, self.x, self.ch = canvas, x, CELL_H
        self.cw = width or cell_width(t for row in shown for t in row)
        canvas.text(x, y + 12, title, weight="bold")
        self.y = y + 34                             # room for the title and the column indices
        self.rows, self.cols = rows, cols
        self.bottom = self.y + rows * self.ch
        # what follows on the right starts after the cells and the title, whichever is wider
        self.right = max(self.x + cols * self.cw, x + len(title) * 12 * SANS)
        cells_right = self.x + cols * self.cw
        canvas.rect(self.x, self.y, cols * self.cw, rows * self.ch, fill="white", stroke="#b0b0b0")
        for r in range(rows):
            for c in range(cols):
                if fills is not None and fills[r][c] is not None:
                    canvas.rect(*self.cell(r, c), fill=fills[r][c], stroke="#b0b0b0")
        canvas.path("".join(f"M{self.x + c * self.cw:g} {self.y:g}V{self.bottom:g}" for c in range(1, cols))
                    + "".join(f"M{self.x:g} {self.y + r * self.ch:g}H{cells_right:g}" for r in range(1, rows)))
        canvas.parts.append(f'<g font-size="9" fill="{GREY}" text-anchor="middle">')
        for c in range(cols):
            canvas.parts.append(f'<text class="label" x="{self.x + (c + 0.5) * self.cw:g}" '
                                f'y="{self.y - 5:g}">{c}</text>')
        canvas.parts.append('</g><g font-size="9" fill="{}" text-anchor="end">'.format(GREY))
        for r in range(rows):
            canvas.parts.append(f'<text class="label" x="{self.x - 4:g}" '
                                f'y="{self.y + (r + 0.7) * self.ch:g}">{r}</text>')
        canvas.parts.append('</g><g font-size="10" text-anchor="middle">')
        for r in range(rows):
            for c in range(cols):
                text, number_shown = shown[r][c], texts is None or texts[r][c] is None
                size = "" if len(text) * 6.2 + 4 <= self.cw else \
                    f' font-size="{max(6.0, (self.cw - 4) / (len(text) * 0.62)):.1f}"'
                grey = f' fill="{GREY}"' if muted is not None and muted[r][c] else ""
                canvas.parts.append(f'<text class="{"v" if number_shown else "label"}" '
                                    f'x="{self.x + (c + 0.5) * self.cw:g}" '
                                    f'y="{self.y + (r + 0.7) * self.ch:g}"{size}{grey}>'
                                    f'{html.escape(text)}</text>')
        canvas.parts.append("</g>")

    def cell(self, r: int, c: int) -> tuple[float, float, float, float]:
        return self.x + c * self.cw, self.y + r * self.ch, self.cw, self.ch

    def outline(self, r0: int, c0: int, r1: int, c1: int, *, color=FOCUS, width=2.5,
                dash=None) -> None:
        """A frame around cells r0..r1, c0..c1 (inclusive)."""
        x, y, _, _ = self.cell(r0, c0)
        self.canvas.rect(x, y, (c1 - c0 + 1) * self.cw, (r1 - r0 + 1) * self.ch, stroke=color,
                         width=width, dash=dash)

    def outline_cells(self, cells: Iterable[tuple[int, int]], **style) -> None:
        for r, c in cells:
            self.outline(r, c, r, c, **style)


def window_grid(canvas: Canvas, x: float, y: float, values: np.ndarray, title: str, rows, cols, *,
                under: Sequence[tuple[np.ndarray, str]] = (), muted=None, taps: bool = True) -> Grid:
    """values as a Grid with the current window on it: the cells at rows x cols READ (unless an
    `under` layer (mask, colour) covers them: padding stays padding), then, in the group the
    player follows, a dashed frame around the window's extent and a frame around each tap (or,
    without taps, one solid frame)."""
    read = np.zeros(np.shape(values), dtype=bool)
    read[np.ix_(rows, cols)] = True
    grid = Grid(canvas, x, y, values, title, fills=fills_where(read.shape, (read, READ), *under),
                muted=muted)
    with canvas.group("current"):
        if taps:
            grid.outline(rows[0], cols[0], rows[-1], cols[-1], width=1.2, dash="4 3")
            grid.outline_cells((r, q) for r in rows for q in cols)
        else:
            grid.outline(rows[0], cols[0], rows[-1], cols[-1])
    return grid


def fills_where(shape: tuple, *layers: tuple[np.ndarray, str]) -> list[list[str | None]]:
    """A colour per cell: the colour of the last layer whose mask holds there, else None."""
    fills = [[None] * shape[1] for _ in range(shape[0])]
    for mask, colour in layers:
        for r, c in zip(*np.nonzero(mask)):
            fills[r][c] = colour
    return fills


def operator(canvas: Canvas, x: float, grid_top: float, rows: int, symbol: str) -> float:
    """A large operator sign (⋆, =, ×) centred beside grids starting at grid_top; returns the x
    after it."""
    canvas.text(x + 16, grid_top + rows * CELL_H / 2 + 9, symbol, size=30, anchor="middle")
    return x + 32


def shade(values: np.ndarray, colour=(111, 168, 220)) -> list[list[str]]:
    """A fill per cell from white (the smallest value) to `colour` (the largest)."""
    v = np.asarray(values, dtype=float)
    span = v.max() - v.min()
    t = (v - v.min()) / span if span else np.zeros_like(v)
    return [[("#" + "".join(f"{round(255 + (c - 255) * x):02x}" for c in colour)) for x in row]
            for row in t]


def legend(canvas: Canvas, x: float, y: float, entries: Sequence[tuple]) -> float:
    """Colour swatches with what they mean: (fill, outline, text[, shown]); entries whose shown
    is False are left out. Returns the y below."""
    for fill, stroke, text, *shown in entries:
        if shown and not shown[0]:
            continue
        canvas.rect(x, y, 16, 12, fill=fill, stroke=stroke, width=2 if stroke != "#9a9a9a" else 1)
        canvas.text(x + 22, y + 10, text, size=11)
        y += 17
    return y


def wrap(prefix: str, terms: Sequence[str], suffix: str = "", width: int = 110,
         indent: str = "    ") -> list[str]:
    """prefix + terms joined by ' + ', broken into lines of at most `width` characters."""
    lines, line = [], prefix
    for k, text in enumerate(terms):
        piece = text if k == 0 else " + " + text
        if len(line) + len(piece) > width and line.strip():
            lines.append(line)
            line = indent + piece.lstrip()
        else:
            line += piece
    lines.append(line + suffix)
    return lines
