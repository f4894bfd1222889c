"""The panels of a conv2d layer, for one image n, filter f and input channel c:

    forward  Y = X ⋆ W: the window sliding over the padded X; Y[n,f,i,j] as a sum of products
    dW       dW = X ⋆ dY: the stride-dilated dY laid over the padded X; the remainder rows and
             columns no window reads; the products that build one dW[f,c,a,b]
    dX       dX = pad(dilate_s(dY)) ⋆ rot180(W): zeros between dY's entries, padding by d(K-1),
             the rotated filter laid over it, the forward padding cropped off again
    im2col   X_col and W_row, whose product is Y; how many windows read each input pixel
    db       db = sum of dY (when the layer has a bias)

Every number comes from the layer's recorded node (X, W, the parameters), the dY the backward
sweep delivered, and the engine's own helpers (remainder, dilate2d, pad_nd, window_view,
correlate2d, rot180_transposed); the totals shown are the engine's own dX and dW.
"""
from __future__ import annotations

import numpy as np

from . import svg
from ._imports import Tensor, correlate2d, dilate2d, pad_nd, remainder, rot180_transposed, window_view
from .layer import Layer
from .panel import Panel, positions
from .svg import Canvas, Grid, fills_where, number, term, wrap

SYMBOLS = "abcdefghijklmnopqrstuvwxyz"


def pair_text(p) -> str:
    """(1, 1) -> '1'; ((1, 1), (1, 1)) -> '1'; anything uneven as the tuple."""
    flat = np.ravel(p).tolist()
    return str(flat[0]) if len(set(flat)) == 1 else str(tuple(p))


def symbolic(coefficient: float, symbol: str) -> str:
    """2·b -> '2b', 1·a -> 'a', 0.5·c -> '0.5·c'."""
    text = number(coefficient, 4)
    if text in ("1", "-1"):
        return text[:-1] + symbol
    return f"{text}{symbol}" if float(coefficient) == int(coefficient) else f"{text}·{symbol}"


class ConvPanels:
    """The geometry of one conv2d node and a chosen (n, f, c), and one method per panel that
    computes its numbers (a dict) and one that draws them."""

    def __init__(self, layer: Layer, n: int, f: int, c: int | None, symbols: bool):
        self.layer = layer
        N, C, H, W = layer.x.shape
        F, Cg, KH, KW = layer.w.shape
        p = layer.params
        self.stride, self.padding, self.dilation, G = p["stride"], p["padding"], p["dilation"], p["groups"]
        Fg = F // G
        _check_index("n", n, N, "image")
        _check_index("f", f, F, "filter")
        group = f // Fg
        c = group * Cg if c is None else c
        _check_index("c", c, C, "input channel")
        if c // Cg != group:
            raise ValueError(f"explain: with groups={G}, filter f={f} sees only input channels "
                             f"{group * Cg}..{group * Cg + Cg - 1}; choose c in that range")
        self.n, self.f, self.c, self.cw = n, f, c, c - group * Cg
        self.channels = range(group * Cg, group * Cg + Cg)       # the input channels f sees
        self.filters = range(group * Fg, group * Fg + Fg)        # the filters c feeds
        self.H, self.W, self.KH, self.KW = H, W, KH, KW
        self.OH, self.OW = layer.dy.shape[2:]
        (pt, pb), (pl, pr) = self.padding
        (sh, sw), (dh, dw) = self.stride, self.dilation
        self.Hp, self.Wp = H + pt + pb, W + pl + pr
        self.rh = remainder(H, self.OH, KH, sh, pt, pb, dh)
        self.rw = remainder(W, self.OW, KW, sw, pl, pr, dw)
        self.eh, self.ew = dh * (KH - 1), dw * (KW - 1)          # dilated kernel extent - 1
        self.symbols = symbols and self.OH * self.OW <= len(SYMBOLS)
        self.where = (f"conv2d{f' ({layer.module})' if layer.module else ''}: X {layer.x.shape}, "
                      f"W {layer.w.shape}, stride {pair_text(self.stride)}, padding "
                      f"{pair_text(self.padding)}, dilation {pair_text(self.dilation)}"
                      + (f", groups {G}" if G > 1 else ""))

    # -- shared pieces ---------------------------------------------------------------------

    def x_pad(self, n: int, c: int) -> np.ndarray:
        return pad_nd(self.layer.x[n, c], self.padding)

    def masks(self) -> tuple[np.ndarray, np.ndarray]:
        """On the padded input: the padding cells, and the remainder rows/columns no window reads."""
        padding = pad_nd(np.zeros((self.H, self.W), dtype=bool), self.padding, value=True)
        unread = np.zeros((self.Hp, self.Wp), dtype=bool)
        unread[self.Hp - self.rh:, :] = True
        unread[:, self.Wp - self.rw:] = True
        return padding, unread

    def taps(self, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
        """The padded-input rows and columns window (i, j) reads."""
        (sh, sw), (dh, dw) = self.stride, self.dilation
        return i * sh + np.arange(self.KH) * dh, j * sw + np.arange(self.KW) * dw

    def input_grid(self, canvas: Canvas, d: dict) -> Grid:
        """X_pad[n, c] with the padding, the unread remainder and the current window's taps."""
        return svg.window_grid(canvas, 20, 26, d["x_pad"], f"X_pad[{self.n}, {self.c}]", d["rows"],
                               d["cols"], under=((d["unread"], svg.UNREAD), (d["padding"], svg.PADDING)),
                               muted=d["padding"])

    def kernel(self, f: int, c: int) -> np.ndarray:
        return self.layer.w[f, c - self.channels[0]]

    # -- forward ----------------------------------------------------------------------------

    def forward_data(self, position) -> dict:
        """Y[n,f,i,j] = sum_{c,a,b} X_pad[n,c,i*sh+a*dh, j*sw+b*dw] W[f,c,a,b] (+ b[f])."""
        i, j = _check_position(position, (self.OH, self.OW), "position", "Y")
        rows, cols = self.taps(i, j)
        windows = {c: self.x_pad(self.n, c)[np.ix_(rows, cols)] for c in self.channels}
        sums = {c: float((windows[c] * self.kernel(self.f, c)).sum()) for c in self.channels}
        padding, unread = self.masks()
        return {"position": (i, j), "x_pad": self.x_pad(self.n, self.c), "padding": padding,
                "unread": unread, "rows": rows, "cols": cols, "kernel": self.kernel(self.f, self.c),
                "window": windows[self.c], "products": windows[self.c] * self.kernel(self.f, self.c),
                "partial": sums[self.c], "others": sum(v for c, v in sums.items() if c != self.c),
                "bias": None if self.layer.bias is None else float(self.layer.bias[self.f]),
                "y": self.layer.y[self.n, self.f], "y_value": float(self.layer.y[self.n, self.f, i, j])}

    def forward_svg(self, d: dict) -> tuple[str, str]:
        n, f, c, (i, j) = self.n, self.f, self.c, d["position"]
        (sh, sw), (dh, dw) = self.stride, self.dilation
        canvas = Canvas()
        canvas.text(0, 14, f"forward  Y = X ⋆ W   ({self.where})", size=13, weight="bold")
        x = self.input_grid(canvas, d)
        right = svg.operator(canvas, x.right + 8, x.y, x.rows, "⋆")
        k = Grid(canvas, right + 14, 26, d["kernel"], f"W[{f}, {self.cw}]", fills=[[svg.READ] * self.KW] * self.KH)
        right = svg.operator(canvas, k.right + 8, x.y, x.rows, "=")
        result = np.zeros(d["y"].shape, dtype=bool)
        result[i, j] = True
        y = Grid(canvas, right + 14, 26, d["y"], f"Y[{n}, {f}]", fills=fills_where(result.shape, (result, svg.RESULT)))
        with canvas.group("current"):
            y.outline(i, j, i, j)
        top = max(x.bottom, y.bottom) + 26
        formula = (f"Y[{n}, {f}, {i}, {j}] = Σ_a,b X_pad[{n}, c, {i}·{sh} + a·{dh}, {j}·{sw} + b·{dw}] "
                   f"· W[{f}, c, a, b]" + (" over its channels c" if len(self.channels) > 1 else ""))
        rows = [formula]
        rows += wrap(f"  channel {c}: ", [f"{term(a)}·{term(b)}" for a, b in
                                          zip(d["window"].ravel(), d["kernel"].ravel())],
                     f" = {number(d['partial'], 4)}")
        if len(self.channels) > 1:
            rows.append(f"  + the other {len(self.channels) - 1} input channels: {number(d['others'], 4)}")
        if d["bias"] is not None:
            rows.append(f"  + bias b[{f}] = {number(d['bias'], 4)}")
        rows.append(f"  = Y[{n}, {f}, {i}, {j}] = {number(d['y_value'], 4)}")
        bottom = canvas.lines(20, top, rows)
        svg.legend(canvas, 20, bottom, [
            (svg.PADDING, "#9a9a9a", f"padding ({pair_text(self.padding)}) the window reads as 0",
             d["padding"].any()),
            (svg.READ, svg.FOCUS, f"the window: {self.KH}x{self.KW} taps {dh},{dw} apart (dilation), "
                                  f"moving {sh},{sw} per step (stride)"),
            (svg.UNREAD, "#9a9a9a", "remainder: rows / columns no window reaches", d["unread"].any()),
            (svg.RESULT, svg.FOCUS, "the output entry it makes")])
        caption = (f"Y[{n}, {f}, {i}, {j}] = {number(d['y_value'], 4)}: window at rows "
                   f"{d['rows'][0]}..{d['rows'][-1]}, columns {d['cols'][0]}..{d['cols'][-1]} of "
                   f"X_pad; channel {c} gives {number(d['partial'], 4)}")
        return canvas.svg(), caption

    # -- dW -----------------------------------------------------------------------------------

    def weight_grad_data(self, entry) -> dict:
        """dW[f,c,a,b] = sum_{n,i,j} X_pad[n, c, a*dh + i*sh, b*dw + j*sw] dY[n, f, i, j]."""
        a, b = _check_position(entry, (self.KH, self.KW), "entry", "W")
        (sh, sw), (dh, dw) = self.stride, self.dilation
        rows, cols = a * dh + np.arange(self.OH) * sh, b * dw + np.arange(self.OW) * sw
        dy = self.layer.dy[:, self.f]
        sums = [float((self.x_pad(n, self.c)[np.ix_(rows, cols)] * dy[n]).sum())
                for n in range(len(dy))]
        read = self.x_pad(self.n, self.c)[np.ix_(rows, cols)]
        padding, unread = self.masks()
        return {"entry": (a, b), "x_pad": self.x_pad(self.n, self.c), "padding": padding,
                "unread": unread, "rows": rows, "cols": cols, "dy": dy[self.n],
                "dy_dilated": dilate2d(dy[self.n], self.stride), "read": read,
                "products": read * dy[self.n], "partial": sums[self.n],
                "symbolic": self.symbolic_sum(read) if self.symbols else None,
                "others": sum(sums[:self.n] + sums[self.n + 1:]),
                "dw": self.layer.dw[self.f, self.cw], "dw_value": float(self.layer.dw[self.f, self.cw, a, b])}

    def symbolic_sum(self, read: np.ndarray) -> str:
        """Image n's share of dW[f,c,a,b] with dY's entries named a, b, c, ... in reading order:
        read holds the X_pad entries the tap read."""
        names = np.array(list(SYMBOLS[:self.OH * self.OW])).reshape(self.OH, self.OW)
        terms = [symbolic(x, s) for x, s in zip(read.ravel(), names.ravel()) if x != 0]
        return " + ".join(terms).replace("+ -", "- ") or "0"

    def weight_grad_svg(self, d: dict) -> tuple[str, str]:
        n, f, c, (a, b) = self.n, self.f, self.c, d["entry"]
        (sh, sw), (dh, dw) = self.stride, self.dilation
        canvas = Canvas()
        canvas.text(0, 14, f"dW = X ⋆ dY   ({self.where})", size=13, weight="bold")
        x = self.input_grid(canvas, d)
        right = svg.operator(canvas, x.right + 8, x.y, x.rows, "⋆")
        lattice = np.zeros(d["dy_dilated"].shape, dtype=bool)
        lattice[::sh, ::sw] = True
        names = (np.array(list(SYMBOLS[:self.OH * self.OW])).reshape(self.OH, self.OW)
                 if self.symbols else None)
        texts = None
        if names is not None:
            texts = np.full(lattice.shape, None, dtype=object)
            texts[::sh, ::sw] = names
        title = f"dilate_{pair_text(self.stride)}(dY[{n}, {f}])" if (sh, sw) != (1, 1) else f"dY[{n}, {f}]"
        g = Grid(canvas, right + 14, 26, d["dy_dilated"], title,
                 fills=fills_where(lattice.shape, (~lattice, svg.INSERTED), (lattice, svg.READ)),
                 texts=texts, muted=~lattice)
        right = svg.operator(canvas, g.right + 8, x.y, x.rows, "=")
        result = np.zeros(d["dw"].shape, dtype=bool)
        result[a, b] = True
        w = Grid(canvas, right + 14, 26, d["dw"], f"dW[{f}, {self.cw}]",
                 fills=fills_where(result.shape, (result, svg.RESULT)))
        with canvas.group("current"):
            w.outline(a, b, a, b)
        top = max(x.bottom, g.bottom, w.bottom) + 16
        if self.symbols:
            products = np.array([f"{symbolic(x, s)}" for x, s in
                                 zip(d["read"].ravel(), names.ravel())], dtype=object)
            table = Grid(canvas, 20, top, d["products"], "the products X_pad · dY, one per window",
                         texts=products.reshape(self.OH, self.OW), fills=[[svg.READ] * self.OW] * self.OH)
        else:
            table = Grid(canvas, 20, top, d["products"], "the products X_pad · dY, one per window",
                         fills=[[svg.READ] * self.OW] * self.OH)
        rows = [f"dW[{f}, {self.cw}, {a}, {b}] = Σ_n,i,j X_pad[n, {c}, {a}·{dh} + i·{sh}, "
                f"{b}·{dw} + j·{sw}] · dY[n, {f}, i, j]"]
        if self.symbols:
            rows.append(f"  image {n}: {d['symbolic']}")
        rows += wrap(f"  image {n}: ", [f"{term(p)}·{term(q)}" for p, q in
                                        zip(d["read"].ravel(), d["dy"].ravel())],
                     f" = {number(d['partial'], 4)}")
        if len(self.layer.dy) > 1:
            rows.append(f"  + the other {len(self.layer.dy) - 1} images: {number(d['others'], 4)}")
        rows.append(f"  = dW[{f}, {self.cw}, {a}, {b}] = {number(d['dw_value'], 4)}")
        bottom = canvas.lines(table.right + 30, table.y + 12, rows)
        svg.legend(canvas, 20, max(bottom, table.bottom) + 10, [
            (svg.READ, svg.FOCUS, f"the X_pad entries tap ({a}, {b}) read: dY laid over X_pad at "
                                  f"offset ({a}·{dh}, {b}·{dw}), its entries {sh},{sw} apart"),
            (svg.INSERTED, "#9a9a9a", "zeros between dY's entries (the stride)", (sh, sw) != (1, 1)),
            (svg.UNREAD, "#9a9a9a", f"remainder: {self.rh} row(s), {self.rw} column(s) no window "
                                    f"reads, so they never meet dY", d["unread"].any()),
            (svg.PADDING, "#9a9a9a", "padding (zeros)", d["padding"].any())])
        caption = (f"dW[{f}, {self.cw}, {a}, {b}] = {number(d['dw_value'], 4)}: dY laid over X_pad "
                   f"from ({d['rows'][0]}, {d['cols'][0]}); image {n} gives {number(d['partial'], 4)}")
        return canvas.svg(), caption

    # -- dX -----------------------------------------------------------------------------------

    def full(self, n: int, f: int) -> np.ndarray:
        """pad(dilate_s(dY[n, f])) by the dilated kernel extent minus one (plus the remainder)."""
        return pad_nd(dilate2d(self.layer.dy[n, f], self.stride),
                      ((self.eh, self.eh + self.rh), (self.ew, self.ew + self.rw)))

    def rotated(self, f: int, c: int) -> np.ndarray:
        """rot180(W[f, c]), read from the engine's rot180_transposed (which also swaps C and F)."""
        G = self.layer.params["groups"]
        return rot180_transposed(Tensor(self.layer.w), G).data[c, f - self.filters[0]]

    def input_grad_data(self, pixel) -> dict:
        """dX[n,c,h,w] = sum_f sum_{a,b} pad(dilate_s(dY))[n, f, h+pt + a*dh, w+pl + b*dw]
        rot180(W)[f, c, a, b], on the padded grid, then cropped."""
        h, w = _check_position(pixel, (self.H, self.W), "pixel", "X")
        (pt, pb), (pl, pr) = self.padding
        r0, c0 = h + pt, w + pl
        rows, cols = r0 + np.arange(self.KH) * self.dilation[0], c0 + np.arange(self.KW) * self.dilation[1]
        full = self.full(self.n, self.f)
        planes = {f: correlate2d(self.full(self.n, f)[None, None], self.rotated(f, self.c)[None, None],
                                 (1, 1), dilation=self.dilation)[0, 0] for f in self.filters}
        window = full[np.ix_(rows, cols)]
        ring = pad_nd(np.zeros(dilate2d(self.layer.dy[self.n, self.f], self.stride).shape, dtype=bool),
                      ((self.eh, self.eh + self.rh), (self.ew, self.ew + self.rw)), value=True)
        lattice = np.zeros(full.shape, dtype=bool)
        lattice[self.eh:full.shape[0] - self.eh - self.rh:self.stride[0],
                self.ew:full.shape[1] - self.ew - self.rw:self.stride[1]] = True
        cropped = pad_nd(np.zeros((self.H, self.W), dtype=bool), self.padding, value=True)
        return {"pixel": (h, w), "padded_at": (r0, c0), "full": full, "ring": ring,
                "inserted": ~ring & ~lattice, "rows": rows, "cols": cols,
                "rotated": self.rotated(self.f, self.c), "window": window,
                "products": window * self.rotated(self.f, self.c),
                "partial": float((window * self.rotated(self.f, self.c)).sum()),
                "others": sum(float(p[r0, c0]) for f, p in planes.items() if f != self.f),
                "dx_pad": planes[self.f], "cropped": cropped,
                "dx": self.layer.dx[self.n, self.c], "dx_value": float(self.layer.dx[self.n, self.c, h, w])}

    def input_grad_svg(self, d: dict) -> tuple[str, str]:
        n, f, c, (h, w), (r0, c0) = self.n, self.f, self.c, d["pixel"], d["padded_at"]
        (sh, sw), (dh, dw) = self.stride, self.dilation
        canvas = Canvas()
        canvas.text(0, 14, f"dX = pad(dilate_s(dY)) ⋆ rot180(W)   ({self.where})", size=13, weight="bold")
        dilated = f"dilate_{pair_text(self.stride)}(dY[{n}, {f}])" if (sh, sw) != (1, 1) else f"dY[{n}, {f}]"
        g = svg.window_grid(canvas, 20, 26, d["full"], f"{dilated} padded by d(K−1) = "
                            f"{pair_text((self.eh, self.ew))}", d["rows"], d["cols"],
                            under=((d["ring"], svg.PADDING), (d["inserted"], svg.INSERTED)),
                            muted=d["ring"] | d["inserted"])
        right = svg.operator(canvas, g.right + 8, g.y, min(g.rows, 8), "⋆")
        k = Grid(canvas, right + 14, 26, d["rotated"], f"rot180(W[{f}, {self.cw}])",
                 fills=[[svg.READ] * self.KW] * self.KH)
        right = svg.operator(canvas, k.right + 8, g.y, min(g.rows, 8), "=")
        result = np.zeros(d["dx_pad"].shape, dtype=bool)
        result[r0, c0] = True
        p = Grid(canvas, right + 14, 26, d["dx_pad"], f"from filter {f}, on the padded grid",
                 fills=fills_where(result.shape, (d["cropped"], svg.CROPPED), (result, svg.RESULT)))
        with canvas.group("current"):
            p.outline(r0, c0, r0, c0)
        (pt, pb), (pl, pr) = self.padding
        top = max(g.bottom, p.bottom) + 16
        final = np.zeros(d["dx"].shape, dtype=bool)
        final[h, w] = True
        x = Grid(canvas, 20, top, d["dx"], f"dX[{n}, {c}] (the engine's; all filters)",
                 fills=fills_where(final.shape, (final, svg.RESULT)))
        x.outline(h, w, h, w)
        rows = [f"dX[{n}, {c}, {h}, {w}] = Σ_f Σ_a,b P[{n}, f, {h}+{pt} + a·{dh}, {w}+{pl} + b·{dw}] "
                f"· rot180(W)[f, {self.cw}, a, b],   P = pad(dilate_s(dY))"]
        rows += wrap(f"  filter {f}: ", [f"{term(p)}·{term(q)}" for p, q in
                                         zip(d["window"].ravel(), d["rotated"].ravel())],
                     f" = {number(d['partial'], 4)}")
        if len(self.filters) > 1:
            rows.append(f"  + the other {len(self.filters) - 1} filters: {number(d['others'], 4)}")
        rows.append(f"  = dX[{n}, {c}, {h}, {w}] = {number(d['dx_value'], 4)}")
        rows.append(f"crop: the padded grid loses its forward padding ({pt}, {pb}) rows, "
                    f"({pl}, {pr}) columns")
        bottom = canvas.lines(x.right + 30, x.y + 12, rows)
        svg.legend(canvas, 20, max(bottom, x.bottom) + 10, [
            (svg.INSERTED, "#9a9a9a", f"zeros inserted between dY's entries (stride "
                                      f"{pair_text(self.stride)})", d["inserted"].any()),
            (svg.PADDING, "#9a9a9a", "zero padding d(K−1) around it"
                                     + (" (and the remainder, bottom / right)" if self.rh or self.rw else "")),
            (svg.READ, svg.FOCUS, "rot180(W) laid over it"),
            (svg.CROPPED, "#9a9a9a", "the forward padding, cropped off again: no input pixel there",
             d["cropped"].any())])
        caption = (f"dX[{n}, {c}, {h}, {w}] = {number(d['dx_value'], 4)}: rot180(W) laid over "
                   f"pad(dilate(dY)) at ({r0}, {c0}); filter {f} gives {number(d['partial'], 4)}")
        return canvas.svg(), caption

    # -- im2col -------------------------------------------------------------------------------

    def im2col_data(self, position) -> dict:
        """Y[n, f] = W_row X_col (+ the other channels and b): X_col's column i*OW + j is window
        (i, j) of channel c; coverage[h, w] is how many windows read input pixel (h, w)."""
        i, j = _check_position(position, (self.OH, self.OW), "position", "Y")
        kernel = (self.KH, self.KW)
        windows = window_view(pad_nd(self.layer.x[self.n:self.n + 1, self.c:self.c + 1], self.padding),
                              kernel, self.stride, self.dilation)
        x_col = windows.reshape(self.OH * self.OW, self.KH * self.KW).T
        w_row = self.kernel(self.f, self.c).reshape(1, -1)
        cells = np.arange(self.Hp * self.Wp).reshape(1, 1, self.Hp, self.Wp)
        read = window_view(cells, kernel, self.stride, self.dilation)
        count = np.bincount(read.ravel(), minlength=self.Hp * self.Wp).reshape(self.Hp, self.Wp)
        (pt, pb), (pl, pr) = self.padding
        return {"position": (i, j), "column": i * self.OW + j, "x_col": x_col, "w_row": w_row,
                "y_row": w_row @ x_col, "coverage": pad_nd(count, ((-pt, -pb), (-pl, -pr)))}

    def im2col_svg(self, d: dict, max_columns: int = 64) -> str:
        n, f, c = self.n, self.f, self.c
        K, L = d["x_col"].shape
        shown = min(L, max_columns)
        canvas = Canvas()
        canvas.text(0, 14, f"im2col: Y = W_row · X_col   ({self.where})", size=13, weight="bold")
        column = np.zeros((K, shown), dtype=bool)
        if d["column"] < shown:
            column[:, d["column"]] = True
        cut = "" if shown == L else f", the first {shown} of {L}"
        w_width = svg.cell_width(number(v) for v in d["w_row"].ravel())
        x = Grid(canvas, 20 + K * w_width + 40, 26, d["x_col"][:, :shown],
                 f"X_col[{n}, {c}]: one column per window ({L} = {self.OH}x{self.OW}{cut}), "
                 f"one row per tap ({K} = {self.KH}x{self.KW})",
                 fills=fills_where(column.shape, (column, svg.READ)), )
        w = Grid(canvas, 20, x.bottom + 20, d["w_row"], f"W_row[{f}, {self.cw}]",
                 fills=[[svg.READ] * K], )
        y = Grid(canvas, x.x, x.bottom + 20, d["y_row"][:, :shown],
                 f"W_row · X_col: channel {c}'s share of Y[{n}, {f}], flattened",
                 fills=fills_where((1, shown), (column[:1], svg.RESULT)), )
        top = max(w.bottom, y.bottom) + 22
        channels = len(self.channels)
        rows = [(f"with all {channels} channels: " if channels > 1 else "")
                + f"X_col is {channels * K} x {L}, W_row {len(self.filters)} x {channels * K}; "
                f"Y = W_row X_col" + (" + b" if self.layer.bias is not None else ""),
                "backward: dW_row = dY_row X_colᵀ, dX_col = W_rowᵀ dY_row, then col2im adds each "
                "column back onto the pixels its window read"]
        bottom = canvas.lines(20, top, rows)
        cover = Grid(canvas, 20, bottom + 4, d["coverage"],
                     f"windows reading each pixel of X[{n}, {c}]: dX[h, w] sums this many terms",
                     fills=svg.shade(d["coverage"]))
        canvas.lines(cover.right + 30, cover.y + 12, [
            f"col2im adds a pixel's entries of dX_col, one per window that read it: from "
            f"{int(d['coverage'].min())} to {int(d['coverage'].max())} terms per pixel.",
            "A pixel few windows read (the border; with a stride, the rows and columns between",
            "window starts) gets a gradient summed from fewer terms."])
        return canvas.svg()

    # -- db -----------------------------------------------------------------------------------

    def bias_data(self) -> dict:
        """db[f] = sum_{n,i,j} dY[n, f, i, j]."""
        dy = self.layer.dy[:, self.f]
        return {"dy": dy[self.n], "partial": float(dy[self.n].sum()),
                "others": float(dy.sum() - dy[self.n].sum()) if len(dy) > 1 else 0.0,
                "db_value": float(self.layer.db[self.f])}

    def bias_svg(self, d: dict) -> str:
        n, f = self.n, self.f
        canvas = Canvas()
        canvas.text(0, 14, f"db = Σ dY   ({self.where})", size=13, weight="bold")
        g = Grid(canvas, 20, 26, d["dy"], f"dY[{n}, {f}]", fills=[[svg.READ] * self.OW] * self.OH)
        rows = [f"db[{f}] = Σ_n,i,j dY[n, {f}, i, j]: the bias is added at every output pixel",
                f"  image {n}: {number(d['partial'], 4)}"]
        if len(self.layer.dy) > 1:
            rows.append(f"  + the other {len(self.layer.dy) - 1} images: {number(d['others'], 4)}")
        rows.append(f"  = db[{f}] = {number(d['db_value'], 4)}")
        canvas.lines(g.right + 30, g.y + 12, rows)
        return canvas.svg()


def conv_panels(layer: Layer, *, n: int, f: int, c: int | None, position, entry, pixel,
                symbols: bool, max_frames: int) -> tuple[str, list[Panel]]:
    """The title and panels of a conv2d layer (see the module docstring)."""
    e = ConvPanels(layer, n, f, c, symbols)
    position = _check_position(position, (e.OH, e.OW), "position", "Y")
    entry = _check_position(entry, (e.KH, e.KW), "entry", "W")
    pixel = _check_position(pixel, (e.H, e.W), "pixel", "X")

    panels = [
        Panel.moving("forward", f"forward: Y[{e.n}, {e.f}] = X_pad[{e.n}, c] ⋆ W[{e.f}, c], the window "
                     f"at every output position", positions((e.OH, e.OW), position, max_frames),
                     position, e.forward_data, e.forward_svg),
        Panel.moving("dW", f"dW[{e.f}, {e.cw}] = X_pad[:, {e.c}] ⋆ dY[:, {e.f}], one weight per frame",
                     positions((e.KH, e.KW), entry, max_frames), entry,
                     e.weight_grad_data, e.weight_grad_svg),
        Panel.moving("dX", f"dX[{e.n}, {e.c}] = pad(dilate_s(dY)) ⋆ rot180(W), cropped; one input "
                     f"pixel per frame", positions((e.H, e.W), pixel, max_frames), pixel,
                     e.input_grad_data, e.input_grad_svg),
    ]
    data = e.im2col_data(position)
    panels.append(Panel("im2col", f"im2col: X_col and W_row of channel {e.c}, and how many windows "
                        f"read each pixel", e.im2col_svg(data), data))
    if layer.db is not None:
        data = e.bias_data()
        panels.append(Panel("db", f"db[{e.f}] = Σ dY[:, {e.f}]", e.bias_svg(data), data))
    title = f"{e.where}; image n={e.n}, filter f={e.f}, input channel c={e.c}"
    return title, panels


def _check_index(name: str, value, size: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < size:
        raise ValueError(f"explain: {name}={value!r} must be in 0..{size - 1} (the {what} index)")


def _check_position(position, shape: tuple[int, int], name: str, of: str) -> tuple[int, int]:
    try:
        i, j = (int(v) for v in position)
    except (TypeError, ValueError):
        raise TypeError(f"explain: {name} must be a pair (row, column), got {position!r}") from None
    if not (0 <= i < shape[0] and 0 <= j < shape[1]):
        raise ValueError(f"explain: {name}={tuple(position)} is outside {of}'s {shape[0]}x{shape[1]} "
                         f"plane; rows 0..{shape[0] - 1}, columns 0..{shape[1] - 1}")
    return i, j
