"""Panel, one picture of an explanation (a static SVG, the numbers behind it, and, when something
moves, one frame per position), and Explanation, the panels of one layer: shown inline in Jupyter
and written to a folder.
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ..player import Player


class Panel:
    """One picture of a layer's forward or backward pass.

    name:    short file-name-safe key ("forward", "dW", "dX", "im2col", ...)
    title:   what the picture shows, one line
    svg:     the static figure (the frame at the chosen position)
    data:    every number the figure draws, as arrays and floats (tests check them against the
             engine): the picture is drawn from this dict and nothing else
    frames:  (svg, caption) per position when the picture moves, else empty
    frame_data: data of each frame, in the same order
    """

    def __init__(self, name: str, title: str, svg: str, data: dict,
                 frames: Sequence[tuple[str, str]] = (), frame_data: Sequence[dict] = ()):
        self.name, self.title, self.svg, self.data = name, title, svg, data
        self.frames, self.frame_data = list(frames), list(frame_data)

    @classmethod
    def moving(cls, name: str, title: str, positions: Sequence, chosen,
               data_of: Callable[[object], dict], draw: Callable[[dict], tuple[str, str]]) -> "Panel":
        """A panel whose frames step through `positions` and whose static figure is the frame at
        `chosen`: data_of(position) computes a frame's numbers, draw(data) -> (svg, caption)."""
        frame_data = [data_of(p) for p in positions]
        frames = [draw(d) for d in frame_data]
        positions = list(positions)
        if chosen in positions:
            data, (svg, _) = frame_data[positions.index(chosen)], frames[positions.index(chosen)]
        else:
            data = data_of(chosen)
            svg = draw(data)[0]
        return cls(name, title, svg, data, frames, frame_data)

    def player(self) -> Player | None:
        """The frames in the step-through player, or None for a static panel."""
        if not self.frames:
            return None
        return Player([s for s, _ in self.frames], [c for _, c in self.frames], self.title)

    def _repr_html_(self) -> str:
        player = self.player()
        return (f"<h4>{html.escape(self.title)}</h4>\n<div>{self.svg}</div>\n"
                + (player._repr_html_() if player is not None else ""))

    def __repr__(self) -> str:
        moving = f", {len(self.frames)} frames" if self.frames else ""
        return f"<Panel {self.name!r}: {self.title}{moving}>"


def positions(shape: tuple[int, int], chosen: tuple[int, int], max_frames: int) -> list:
    """Every (row, column) of a grid in reading order, or, when that is more than max_frames,
    those of the chosen row (then of as many rows around it as fit)."""
    rows, cols = shape
    if rows * cols <= max_frames:
        return [(r, c) for r in range(rows) for c in range(cols)]
    keep = max(1, max_frames // cols)
    first = min(max(0, chosen[0] - keep // 2), max(0, rows - keep))
    return [(r, c) for r in range(first, min(rows, first + keep)) for c in range(cols)][:max_frames]


class Explanation:
    """The panels that explain one layer's forward and backward pass with its own numbers.

    In Jupyter it shows itself: each static panel, then the moving ones as step-through players.
    `save(folder)` writes <prefix><name>.svg per panel and <prefix><name>.html per moving panel.
    `panels` maps each panel's name to its Panel; explanation["dW"] is one of them.
    """

    def __init__(self, title: str, panels: Iterable[Panel], summary: Sequence[str] = ()):
        self.title = title
        self.panels = {p.name: p for p in panels}
        self.summary = list(summary)

    def __getitem__(self, name: str) -> Panel:
        try:
            return self.panels[name]
        except KeyError:
            raise KeyError(f"no panel {name!r}; this explanation has {', '.join(self.panels)}") \
                from None

    def __iter__(self):
        return iter(self.panels.values())

    def __len__(self) -> int:
        return len(self.panels)

    def _repr_html_(self) -> str:
        summary = "".join(f"<li>{html.escape(line)}</li>" for line in self.summary)
        return (f"<h3>{html.escape(self.title)}</h3>\n" + (f"<ul>{summary}</ul>\n" if summary else "")
                + "\n".join(p._repr_html_() for p in self))

    def save(self, folder, prefix: str = "") -> list[Path]:
        """Write every panel's SVG, and each moving panel's player page, into `folder` (created
        if missing); returns the paths written."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for panel in self:
            path = folder / f"{prefix}{panel.name}.svg"
            path.write_text(panel.svg, encoding="utf-8")
            paths.append(path)
            player = panel.player()
            if player is not None:
                paths.append(player.save(folder / f"{prefix}{panel.name}.html"))
        return paths

    def __str__(self) -> str:
        return "\n".join([self.title, *self.summary,
                          *(f"  {p.name}: {p.title}" + (f" ({len(p.frames)} frames)" if p.frames else "")
                            for p in self)])

    def __repr__(self) -> str:
        return f"<Explanation {self.title!r}: {', '.join(self.panels)}>"
