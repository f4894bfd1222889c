"""The panels of max_pool2d, avg_pool2d and relu, for one plane (n, c):

    routing  max_pool2d: which input cell receives each dY entry (the window's first maximum in
             row-major order, as the forward saved it), the cells that tie with it and lose
    divisor  avg_pool2d: what each window's sum is divided by (count_include_pad, the ceil_mode
             border that never counts), and dY / divisor spread over each window
    mask     relu: dX = dY where X > 0, else 0

The routing is the argmax the forward saved (node.saved), the divisor the engine's own, and the
dX shown the op's own VJP.
"""
from __future__ import annotations

import numpy as np

from . import svg
from ._imports import _divisor, pad_nd, tap_index
from .conv import _check_index, _check_position, pair_text
from .layer import Layer
from .panel import Panel, positions
from .svg import Canvas, Grid, fills_where, number, term, wrap


class PoolPanels:
    """One pooling node and a chosen plane (n, c): its windows on the padded input."""

    def __init__(self, layer: Layer, n: int, c: int):
        N, C, H, W = layer.x.shape
        _check_index("n", n, N, "image")
        _check_index("c", c, C, "channel")
        p = layer.params
        self.layer, self.n, self.c, self.H, self.W = layer, n, c, H, W
        self.kernel, self.stride, self.padding = p["kernel"], p["stride"], p["padding"]
        self.dilation = p.get("dilation", (1, 1))
        self.OH, self.OW = layer.dy.shape[2:]
        (pt, pb), (pl, pr) = self.padding
        # padding is symmetric; ceil_mode adds its extra border at the bottom and right only
        inside = np.zeros((H + 2 * pt, W + 2 * pl), dtype=bool)
        self.ring = pad_nd(pad_nd(np.zeros((H, W), dtype=bool), ((pt, pt), (pl, pl)), value=True),
                           ((0, pb - pt), (0, pr - pl)))
        self.border = pad_nd(inside, ((0, pb - pt), (0, pr - pl)), value=True)
        self.where = (f"{layer.op}{f' ({layer.module})' if layer.module else ''}: X {layer.x.shape}, "
                      f"kernel {pair_text(self.kernel)}, stride {pair_text(self.stride)}, padding "
                      f"{pair_text((pt, pl))}" + (f", dilation {pair_text(self.dilation)}"
                                                  if self.dilation != (1, 1) else "")
                      + (", ceil_mode border" if (pb, pr) != (pt, pl) else ""))

    def taps(self, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
        """The padded-input rows and columns window (i, j) covers."""
        (KH, KW), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        return i * sh + np.arange(KH) * dh, j * sw + np.arange(KW) * dw

    def padded(self, fill: float) -> np.ndarray:
        return pad_nd(self.layer.x[self.n, self.c], self.padding, fill)

    # -- max_pool2d ---------------------------------------------------------------------------

    def routing_data(self, position) -> dict:
        """dX[h, w] = sum of dY[i, j] over the windows (i, j) whose first maximum is (h, w)."""
        i, j = _check_position(position, (self.OH, self.OW), "position", "Y")
        (pt, _), (pl, _) = self.padding
        index = tap_index(self.layer.node.saved, (self.H, self.W), self.kernel, self.stride,
                          self.padding, self.dilation)[self.n, self.c]   # the forward's argmax, h*W + w
        x = self.layer.x[self.n, self.c]
        count = np.bincount(index[index >= 0].ravel(), minlength=self.H * self.W).reshape(self.H, self.W)
        ties = []
        for r in range(self.OH):
            for q in range(self.OW):
                if index[r, q] < 0:
                    continue
                rows, cols = self.taps(r, q)
                best = x.flat[index[r, q]]
                ties += [(r, q, h - pt, w - pl) for h in rows for w in cols
                         if 0 <= h - pt < self.H and 0 <= w - pl < self.W
                         and (h - pt) * self.W + w - pl != index[r, q] and x[h - pt, w - pl] == best]
        winner = None if index[i, j] < 0 else divmod(int(index[i, j]), self.W)
        return {"position": (i, j), "x": x, "index": index, "winner": winner, "count": count,
                "ties": ties, "rows": self.taps(i, j)[0], "cols": self.taps(i, j)[1],
                "dy": self.layer.dy[self.n, self.c], "dx": self.layer.dx[self.n, self.c],
                "max": float(self.layer.y[self.n, self.c, i, j])}

    def routing_svg(self, d: dict) -> tuple[str, str]:
        n, c, (i, j) = self.n, self.c, d["position"]
        (pt, _), (pl, _) = self.padding
        canvas = Canvas()
        canvas.text(0, 14, f"max-pool routing: each dY entry goes to its window's first maximum   "
                           f"({self.where})", size=13, weight="bold")
        values = self.padded(-np.inf)
        winners = pad_nd(d["count"] > 0, self.padding)
        texts = np.where(self.ring | self.border, "−∞", None)
        title = f"X_pad[{n}, {c}] (padding −∞)" if (self.ring | self.border).any() else f"X[{n}, {c}]"
        x = Grid(canvas, 20, 26, values, title, texts=texts,
                 fills=fills_where(values.shape, (winners, svg.WINNER), (self.ring, svg.PADDING),
                                   (self.border, svg.BORDER)), muted=self.ring | self.border)
        for h, w in zip(*np.nonzero(d["count"] > 1)):            # several windows route here
            cx, cy, cw, _ = x.cell(h + pt, w + pl)
            canvas.text(cx + cw - 2, cy + 8, "×" + number(d["count"][h, w]), size=8, anchor="end",
                        color=svg.FOCUS)
        x.outline_cells({(h + pt, w + pl) for _, _, h, w in d["ties"]}, color=svg.TIE, width=1.6, dash="3 2")
        with canvas.group("current"):
            x.outline(d["rows"][0], d["cols"][0], d["rows"][-1], d["cols"][-1], width=1.2, dash="4 3")
            if d["winner"] is not None:
                x.outline(d["winner"][0] + pt, d["winner"][1] + pl, d["winner"][0] + pt,
                          d["winner"][1] + pl, width=3)
        chosen = np.zeros(d["dy"].shape, dtype=bool)
        chosen[i, j] = True
        right = svg.operator(canvas, x.right + 8, x.y, min(x.rows, 6), "→")
        g = Grid(canvas, right + 14, 26, d["dy"], f"dY[{n}, {c}]", fills=fills_where(chosen.shape, (chosen, svg.READ)))
        g.outline(i, j, i, j)
        right = svg.operator(canvas, g.right + 8, x.y, min(x.rows, 6), "→")
        got = np.zeros(d["dx"].shape, dtype=bool)
        if d["winner"] is not None:
            got[d["winner"]] = True
        dx = Grid(canvas, right + 14, 26, d["dx"], f"dX[{n}, {c}] (the engine's)",
                  fills=fills_where(got.shape, (d["count"] > 0, svg.WINNER), (got, svg.RESULT)))
        if d["winner"] is not None:
            dx.outline(*d["winner"], *d["winner"])
        top = max(x.bottom, dx.bottom) + 26
        if d["winner"] is None:
            rows = [f"window ({i}, {j}) covers only padding: dY[{n}, {c}, {i}, {j}] goes nowhere"]
        else:
            h, w = d["winner"]
            from_windows = [(r, q) for r, q in zip(*np.nonzero(d["index"] == d["index"][i, j]))]
            rows = [f"window ({i}, {j}): max {number(d['max'], 4)} at X[{n}, {c}, {h}, {w}] "
                    f"(the first in row-major order); dY[{n}, {c}, {i}, {j}] = "
                    f"{number(d['dy'][i, j], 4)} goes there"]
            rows += wrap(f"dX[{n}, {c}, {h}, {w}] = ", [f"dY[{n}, {c}, {r}, {q}]" for r, q in from_windows])
            rows += wrap("  = ", [term(d["dy"][r, q]) for r, q in from_windows],
                         f" = {number(d['dx'][h, w], 4)}")
        mine = [t for t in d["ties"] if t[:2] == (i, j)]
        if mine:
            rows.append("ties (equal, but later in the window, so they get nothing): "
                        + ", ".join(f"X[{h}, {w}]" for _, _, h, w in mine))
        bottom = canvas.lines(20, top, rows)
        svg.legend(canvas, 20, bottom, [
            (svg.WINNER, "#9a9a9a", "a window's maximum: it receives that window's dY (×k: k windows)"),
            ("white", svg.TIE, "ties with its window's maximum but comes later: receives nothing",
             bool(d["ties"])),
            (svg.PADDING, "#9a9a9a", "padding (−∞, never the maximum)", self.ring.any()),
            (svg.BORDER, "#9a9a9a", "ceil_mode border (−∞)", self.border.any())])
        caption = (f"window ({i}, {j}): dY = {number(d['dy'][i, j], 4)} goes to "
                   + (f"X[{d['winner'][0]}, {d['winner'][1]}], its first maximum {number(d['max'], 4)}"
                      if d["winner"] is not None else "no cell (padding only)"))
        return canvas.svg(), caption

    # -- avg_pool2d ---------------------------------------------------------------------------

    def divisor_data(self, position) -> dict:
        """dX[h, w] = sum over the windows (i, j) holding (h, w) of dY[i, j] / divisor[i, j]."""
        i, j = _check_position(position, (self.OH, self.OW), "position", "Y")
        p = self.layer.params
        divisor = _divisor(self.layer.x.shape, (self.OH, self.OW), self.kernel, self.stride,
                           self.padding, p.get("count_include_pad", True), p.get("divisor_override"))
        dy = self.layer.dy[self.n, self.c]
        return {"position": (i, j), "x_pad": self.padded(0.0), "divisor": divisor, "dy": dy,
                "share": dy / divisor, "rows": self.taps(i, j)[0], "cols": self.taps(i, j)[1],
                "dx": self.layer.dx[self.n, self.c], "mean": float(self.layer.y[self.n, self.c, i, j])}

    def divisor_svg(self, d: dict) -> tuple[str, str]:
        n, c, (i, j) = self.n, self.c, d["position"]
        p = self.layer.params
        (pt, _), (pl, _) = self.padding
        canvas = Canvas()
        canvas.text(0, 14, f"avg-pool: each window's sum over its divisor   ({self.where}, "
                           f"count_include_pad={p.get('count_include_pad', True)}"
                           + (f", divisor_override={p['divisor_override']}" if p.get("divisor_override") else "")
                           + ")", size=13, weight="bold")
        x = svg.window_grid(canvas, 20, 26, d["x_pad"], f"X_pad[{n}, {c}]", d["rows"], d["cols"],
                            under=((self.ring, svg.PADDING), (self.border, svg.BORDER)),
                            muted=self.ring | self.border, taps=False)
        chosen = np.zeros(d["divisor"].shape, dtype=bool)
        chosen[i, j] = True
        right = x.right + 30
        grids = []
        for values, title in ((d["divisor"], "divisor"), (d["dy"], f"dY[{n}, {c}]"),
                              (d["share"], "dY / divisor")):
            g = Grid(canvas, right, 26, values, title, fills=fills_where(chosen.shape, (chosen, svg.RESULT)))
            g.outline(i, j, i, j)
            grids.append(g)
            right = g.right + 30
        got = np.zeros(d["dx"].shape, dtype=bool)
        rows_in = [r - pt for r in d["rows"] if 0 <= r - pt < self.H]
        cols_in = [q - pl for q in d["cols"] if 0 <= q - pl < self.W]
        got[np.ix_(rows_in, cols_in)] = True
        dx = Grid(canvas, right, 26, d["dx"], f"dX[{n}, {c}] (the engine's)",
                  fills=fills_where(got.shape, (got, svg.RESULT)))
        top = max(x.bottom, dx.bottom) + 26
        rows = [f"Y[{n}, {c}, {i}, {j}] = (sum of the window) / {number(d['divisor'][i, j])} = "
                f"{number(d['mean'], 4)};  dX gets dY / divisor = {number(d['dy'][i, j], 4)} / "
                f"{number(d['divisor'][i, j])} = {number(d['share'][i, j], 4)} on each of the window's "
                f"{len(rows_in) * len(cols_in)} input cells",
                "the divisor counts " + ("the window's cells inside X and its zero padding, never the "
                                         "ceil_mode border" if p.get("count_include_pad", True)
                                         else "only the window's cells inside X")
                + ("" if not p.get("divisor_override") else " (here: divisor_override)"),
                "dX[h, w] = Σ over the windows holding (h, w) of dY / divisor (overlaps add up)"]
        bottom = canvas.lines(20, top, rows)
        svg.legend(canvas, 20, bottom, [
            (svg.READ, svg.FOCUS, "the window"), (svg.PADDING, "#9a9a9a", "zero padding", self.ring.any()),
            (svg.BORDER, "#9a9a9a", "ceil_mode border: read as 0, never counted", self.border.any())])
        caption = (f"window ({i}, {j}): divisor {number(d['divisor'][i, j])}, dY / divisor = "
                   f"{number(d['share'][i, j], 4)} to each of its input cells")
        return canvas.svg(), caption


def relu_data(layer: Layer, n: int, c: int) -> dict:
    """dX = dY * [X > 0]: the plane (n, c) of a 4-D input, else the input as a matrix."""
    x, dy, dx = layer.x, layer.dy, layer.dx
    if x.ndim == 4:
        _check_index("n", n, x.shape[0], "image")
        _check_index("c", c, x.shape[1], "channel")
        x, dy, dx = x[n, c], dy[n, c], dx[n, c]
    elif x.ndim != 2:
        x, dy, dx = (a.reshape(len(a) if a.ndim else 1, -1) for a in (x, dy, dx))
    return {"x": x, "mask": (x > 0).astype(x.dtype), "dy": dy, "dx": dx}


def relu_svg(d: dict, where: str) -> str:
    canvas = Canvas()
    canvas.text(0, 14, f"ReLU: dX = dY ⊙ [X > 0]   ({where})", size=13, weight="bold")
    off = d["mask"] == 0
    right, grids = 20, []
    for values, title, sign in ((d["x"], "X", ""), (d["mask"], "[X > 0]", ""), (d["dy"], "dY", "⊙"),
                                (d["dx"], "dX (the engine's)", "=")):
        if sign:
            right = svg.operator(canvas, right - 10, 60, min(len(values), 6), sign) + 16
        g = Grid(canvas, right, 26, values, title, fills=fills_where(off.shape, (off, svg.OFF)), muted=off)
        right = g.right + 24
        grids.append(g)
    bottom = canvas.lines(20, max(g.bottom for g in grids) + 26, [
        f"{int(off.sum())} of {off.size} entries have X <= 0: their gradient is 0 (slope 0 at X = 0, "
        f"as PyTorch); the rest pass dY through unchanged"])
    svg.legend(canvas, 20, bottom, [(svg.OFF, "#9a9a9a", "X <= 0: the gradient stops here")])
    return canvas.svg()


def pool_panels(layer: Layer, *, n: int, c: int, position, max_frames: int) -> tuple[str, list[Panel]]:
    """The title and panels of a max_pool2d, avg_pool2d or relu node (see the module docstring)."""
    if layer.op == "relu":
        where = f"relu{f' ({layer.module})' if layer.module else ''}: X {layer.x.shape}"
        data = relu_data(layer, n, c)
        plane = f"[{n}, {c}]" if layer.x.ndim == 4 else ""
        return (f"{where}; plane {plane or 'all'}",
                [Panel("mask", f"ReLU's mask{plane}: dX = dY where X > 0", relu_svg(data, where), data)])
    e = PoolPanels(layer, n, c)
    position = _check_position(position, (e.OH, e.OW), "position", "Y")
    steps = positions((e.OH, e.OW), position, max_frames)
    if layer.op == "max_pool2d":
        panel = Panel.moving("routing", f"max-pool routing of plane [{n}, {c}]: one window per frame",
                             steps, position, e.routing_data, e.routing_svg)
    else:
        panel = Panel.moving("divisor", f"avg-pool divisor of plane [{n}, {c}]: one window per frame",
                             steps, position, e.divisor_data, e.divisor_svg)
    return f"{e.where}; plane n={n}, c={c}", [panel]
