"""explain_entry: one entry of a leaf's gradient as the sum of products that built it, with the
numbers, beside a central finite difference of the same entry.

The sums come from the engine's backward sweep replayed from root (the dY each op received, and
what its VJP sent to the leaf), written out per consuming op:
    conv2d, the weight:  dW[f,c,a,b] = Σ_{n,i,j} X_pad[n, c, i*sh + a*dh, j*sw + b*dw] dY[n,f,i,j]
    conv2d, the bias:    db[f] = Σ_{n,i,j} dY[n,f,i,j]
    conv2d, the input:   dX[n,c,h,w] = Σ over (f, a, b) with h + pt = i*sh + a*dh, w + pl = j*sw + b*dw
                         of dY[n,f,i,j] W[f,c,a,b]
    matmul (2-D):        dX = dY Yᵀ and dY' = Xᵀ dY, one row times one column
    mul, add, sub:       Σ over the positions the entry was broadcast to of dY (times the other factor)
    anything else:       the share the op's VJP sent, as one term
Ops that only move entries (reshape, permute, expand, getitem, flip, pad, dilate2d) are followed
to where the entry went. The finite difference replays the recorded forward (each node's
op.forward with its params) in float64 with the entry moved by ±h, so no loss function is needed:
    fd = (L(x + h) - L(x - h)) / 2h,   L = sum(root), h = eps * max(1, |x|)
"""
from __future__ import annotations

import html
from collections import defaultdict

import numpy as np

from ..frames import _replay_backward
from ._imports import Tensor, toposort
from .layer import _check_graph
from .svg import number, term

MOVES = ("reshape", "permute", "expand", "getitem", "flip", "pad", "dilate2d")


class Contribution:
    """What one consuming op sent to the entry: formula, terms (a, value_a, b, value_b) with b
    None for a plain sum, and their total; engine is the entry of the share its VJP sent."""

    def __init__(self, op: str, via: tuple, formula: str, terms: list, engine: float, note: str = ""):
        self.op, self.via, self.formula, self.terms, self.engine, self.note = op, via, formula, terms, engine, note
        self.value = float(sum(a * (1.0 if b is None else b) for _, a, _, b in terms))

    def products(self) -> list[float]:
        return [a * (1.0 if b is None else b) for _, a, _, b in self.terms]

    def nonzero(self) -> list[tuple]:
        """The terms whose product is not 0 (a ReLU or max-pool upstream zeroes many dY)."""
        return [t for t, p in zip(self.terms, self.products()) if p != 0]


class EntryExplanation:
    """One gradient entry, explained. grad: the engine's leaf.grad[index] (None if no backward
    ran); total: the sum of every contribution; fd: the finite-difference estimate."""

    def __init__(self, name: str, index: tuple, grad, contributions: list[Contribution], fd: float,
                 h: float, max_terms: int):
        self.name, self.index, self.grad, self.contributions = name, index, grad, contributions
        self.total = float(sum(c.value for c in contributions))
        self.fd, self.h, self.max_terms = fd, h, max_terms

    def _entry(self) -> str:
        return f"{self.name}.grad[{', '.join(map(str, self.index))}]"

    def lines(self) -> list[str]:
        out = [f"{self._entry()} = {number(self.total, 6)}: the sum of "
               f"{len(self.contributions)} contribution(s)"]
        for c in self.contributions:
            via = "".join(f" via {op}" for op in c.via)
            out.append(f"  from {c.op}{via}: {c.formula}")
            nonzero = c.nonzero()
            shown = nonzero[:self.max_terms]
            more = f" + … ({len(nonzero) - len(shown)} more)" if len(nonzero) > len(shown) else ""
            zeros = len(c.terms) - len(nonzero)
            if zeros:
                more += f"   (+ {zeros} term(s) that are 0)"
            if not shown:
                out.append(f"    = 0   (all {len(c.terms)} terms are 0)")
                continue
            out.append("    = " + " + ".join(a if b is None else f"{a}·{b}" for a, _, b, _ in shown) + more)
            out.append("    = " + " + ".join(term(va) if b is None else f"{term(va)}·{term(vb)}"
                                             for _, va, b, vb in shown) + more)
            out.append(f"    = {number(c.value, 6)}" + (f"   ({c.note})" if c.note else ""))
        if self.grad is not None:
            agrees = "agrees" if np.isclose(self.grad, self.total, rtol=1e-4, atol=1e-7) else \
                "DIFFERS: .grad accumulated several backward calls (call zero_grad first)?"
            out.append(f"the engine's {self._entry()} = {number(self.grad, 6)} ({agrees})")
        out.append(f"finite difference (central, float64, the recorded forward replayed, h = "
                   f"{self.h:.1e}): {number(self.fd, 6)}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return f"<EntryExplanation {self._entry()} = {number(self.total, 6)}, fd {number(self.fd, 6)}>"

    def _repr_html_(self) -> str:
        parts = [f"<h4>{html.escape(self._entry())} = {number(self.total, 6)}</h4>"]
        for c in self.contributions:
            via = "".join(f" via {op}" for op in c.via)
            rows = "".join(f"<tr><td>{html.escape(a)}</td><td>{term(va)}</td>"
                           f"<td>{'' if b is None else html.escape(b)}</td>"
                           f"<td>{'' if b is None else term(vb)}</td><td>{term(p)}</td></tr>"
                           for (a, va, b, vb), p in zip(c.terms[:self.max_terms], c.products()))
            more = (f"<tr><td colspan=5>… {len(c.terms) - self.max_terms} more terms</td></tr>"
                    if len(c.terms) > self.max_terms else "")
            parts.append(f"<p>from <b>{html.escape(c.op)}</b>{html.escape(via)}: "
                         f"<code>{html.escape(c.formula)}</code></p><table><tr><th>factor</th>"
                         f"<th>value</th><th>factor</th><th>value</th><th>product</th></tr>{rows}"
                         f"{more}<tr><td colspan=4><b>sum</b></td><td><b>{number(c.value, 6)}</b>"
                         f"</td></tr></table>")
        parts.append("<pre>" + html.escape("\n".join(self.lines()[-2 if self.grad is not None else -1:]))
                     + "</pre>")
        return "\n".join(parts)


def _find_leaf(grad_of, order: list[Tensor]) -> Tensor:
    leaves = [t for t in order if t.node is None]
    for t in leaves:
        if t is grad_of:
            return t
    for t in leaves:
        if t.grad is not None and t.grad is grad_of:
            return t
    raise ValueError("explain_entry: grad_of must be a leaf of root's graph that requires grad "
                     "(e.g. conv.weight), or that leaf's .grad after backward")


def _normalise(index, shape: tuple) -> tuple[int, ...]:
    index = (index,) if isinstance(index, (int, np.integer)) else tuple(index)
    if len(index) != len(shape) or not all(isinstance(i, (int, np.integer)) for i in index) or \
            not all(-n <= i < n for i, n in zip(index, shape)):
        raise ValueError(f"explain_entry: index {index} is not an entry of a tensor of shape {shape}")
    return tuple(int(i) % n for i, n in zip(index, shape))


def _where(mapped: np.ndarray, flat: int) -> list[tuple]:
    """The positions of `mapped` (source indices after the op) that hold entry `flat`."""
    return [tuple(int(v) for v in p) for p in zip(*np.nonzero(mapped == flat))]


def _moved(node, shape: tuple, index: tuple) -> list[tuple]:
    """Where an op that only moves entries puts entry `index` of its input (zeros it inserts, as
    pad and dilate2d do, hold no entry: indices are counted from 1)."""
    source = np.arange(1, int(np.prod(shape)) + 1).reshape(shape)
    out = node.op.forward(source, **node.params)
    return _where(np.asarray(out), int(np.ravel_multi_index(index, shape)) + 1)


def _broadcast(shape: tuple, out_shape: tuple, index: tuple) -> list[tuple]:
    source = np.arange(int(np.prod(shape))).reshape(shape)
    return _where(np.broadcast_to(source, out_shape), int(np.ravel_multi_index(index, shape)))


def _label(name: str, index) -> str:
    return f"{name}[{', '.join(map(str, index))}]"


def _conv_terms(node, slot: int, index: tuple, dy: np.ndarray) -> tuple[str, list, str]:
    x, w = node.parents[0].data, node.parents[1].data
    p = node.params
    (sh, sw), (dh, dw), ((pt, _), (pl, _)), G = p["stride"], p["dilation"], p["padding"], p["groups"]
    N, F, OH, OW = dy.shape
    Fg, Cg, KH, KW = F // G, *w.shape[1:]
    if slot == 2:                                      # the bias, added at every pixel of channel f
        (f,) = index
        return (f"db[{f}] = Σ_n,i,j dY[n, {f}, i, j]",
                [(_label("dY", (n, f, i, j)), float(dy[n, f, i, j]), None, None)
                 for n in range(N) for i in range(OH) for j in range(OW)], "")
    if slot == 1:
        f, cw, a, b = index
        c = (f // Fg) * Cg + cw
        terms, padding = [], 0
        for n in range(N):
            for i in range(OH):
                for j in range(OW):
                    h, q = i * sh + a * dh - pt, j * sw + b * dw - pl
                    if 0 <= h < x.shape[2] and 0 <= q < x.shape[3]:
                        terms.append((_label("X", (n, c, h, q)), float(x[n, c, h, q]),
                                      _label("dY", (n, f, i, j)), float(dy[n, f, i, j])))
                    else:
                        padding += 1
        formula = (f"dW[{f}, {cw}, {a}, {b}] = Σ_n,i,j X[n, {c}, i·{sh} + {a}·{dh} − {pt}, "
                   f"j·{sw} + {b}·{dw} − {pl}] · dY[n, {f}, i, j]   (X is 0 outside: the padding)")
        return formula, terms, f"{padding} more products read the zero padding" if padding else ""
    n, c, h, q = index
    group = c // Cg
    terms = []
    for f in range(group * Fg, group * Fg + Fg):
        for a in range(KH):
            for b in range(KW):
                i, ri = divmod(h + pt - a * dh, sh)
                j, rj = divmod(q + pl - b * dw, sw)
                if ri == 0 and rj == 0 and 0 <= i < OH and 0 <= j < OW:
                    terms.append((_label("dY", (n, f, i, j)), float(dy[n, f, i, j]),
                                  _label("W", (f, c - group * Cg, a, b)), float(w[f, c - group * Cg, a, b])))
    formula = (f"dX[{n}, {c}, {h}, {q}] = Σ over (f, a, b) with {h}+{pt} = i·{sh} + a·{dh}, "
               f"{q}+{pl} = j·{sw} + b·{dw} of dY[{n}, f, i, j] · W[f, {c - group * Cg}, a, b]")
    return formula, terms, ""


def _terms(node, slot: int, index: tuple, dy: np.ndarray, share: np.ndarray) -> tuple[str, list, str]:
    """The formula, terms and a note for what `node` sends to entry `index` of input `slot`."""
    op, parents = node.op.name, node.parents
    if op == "conv2d":
        return _conv_terms(node, slot, index, dy)
    if op == "matmul" and parents[0].ndim == 2 and parents[1].ndim == 2:
        x, y = parents[0].data, parents[1].data
        if slot == 0:                                 # Y = A @ B: dA = dY Bᵀ
            m, j = index
            return (f"dA[{m}, {j}] = Σ_k dY[{m}, k] · B[{j}, k]   (Y = A @ B)",
                    [(_label("dY", (m, k)), float(dy[m, k]), _label("B", (j, k)), float(y[j, k]))
                     for k in range(y.shape[1])], "")
        j, k = index                                  # dB = Aᵀ dY
        return (f"dB[{j}, {k}] = Σ_m A[m, {j}] · dY[m, {k}]   (Y = A @ B)",
                [(_label("A", (m, j)), float(x[m, j]), _label("dY", (m, k)), float(dy[m, k]))
                 for m in range(x.shape[0])], "")
    if op in ("add", "sub", "mul"):
        at = _broadcast(parents[slot].shape, dy.shape, index)
        sign = -1.0 if op == "sub" and slot == 1 else 1.0
        if op == "mul":
            other = np.broadcast_to(parents[1 - slot].data, dy.shape)
            return ("Σ over the positions p it was broadcast to of dY[p] · (the other factor)[p]",
                    [(_label("dY", p), float(dy[p]), _label("other", p), float(other[p])) for p in at], "")
        return ("Σ over the positions p it was broadcast to of " + ("-" if sign < 0 else "") + "dY[p]",
                [(_label("-dY" if sign < 0 else "dY", p), sign * float(dy[p]), None, None) for p in at], "")
    return (f"the share {op}'s VJP sent", [(f"{op}_vjp", float(share[index]), None, None)], "")


def _contributions(t: Tensor, index: tuple, uses, dys, via=()) -> list[Contribution]:
    found = []
    for consumer, slot, share in uses[id(t)]:
        node = consumer.node
        if node.op.name in MOVES:
            for position in _moved(node, t.shape, index):
                found += _contributions(consumer, position, uses, dys, via + (node.op.name,))
            continue
        formula, terms, note = _terms(node, slot, index, dys[id(consumer)], share)
        module = f" ({type(node.module[-1]).__name__})" if node.module else ""
        found.append(Contribution(node.op.name + module, via, formula, terms, float(share[index]), note))
    if not uses[id(t)] and id(t) in dys:              # the root itself: its seed
        found.append(Contribution("the seed", via, "d root / d root = 1",
                                  [("seed", float(dys[id(t)][index]), None, None)], float(dys[id(t)][index])))
    return found


def _as64(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float64) if a.dtype.kind == "f" else a


def replay_forward(order: list[Tensor], leaf: Tensor, value: np.ndarray) -> float:
    """sum(root) recomputed from the recorded graph with `leaf` replaced by `value`, in float64:
    every node's op.forward on its parents' new values (tensors outside the graph are constants)."""
    values = {}
    for t in order:
        if t is leaf:
            values[id(t)] = value
        elif t.node is None:
            values[id(t)] = _as64(t.data)
        else:
            out = t.node.op.forward(*[values.get(id(p), _as64(p.data)) for p in t.node.parents],
                                    **t.node.params)
            values[id(t)] = _as64(np.asarray(out[0] if isinstance(out, tuple) else out))
    return float(np.sum(values[id(order[-1])]))


def explain_entry(grad_of, index, *, root: Tensor, eps: float = 1e-6, max_terms: int = 12,
                  name: str | None = None) -> EntryExplanation:
    """One entry of a leaf's gradient, as the sum of products that built it, with the numbers,
    next to a central finite difference (see the module docstring).

    grad_of:   the leaf (e.g. conv.weight, or an input x with requires_grad) or its .grad
    index:     the entry, e.g. (0, 0, 1, 2)
    root:      the tensor backward is (or was) called on, graph still alive (retain_graph=True);
               seeded with ones, as backward seeds a scalar loss
    eps:       the finite-difference step, relative to the entry's size
    max_terms: how many terms the text writes out per contribution
    name:      what to call the leaf (default: its .name, else "leaf")
    """
    _check_graph(root, "root")
    order = toposort(root)
    leaf = _find_leaf(grad_of, order)
    index = _normalise(index, leaf.shape)
    dys, uses = {}, defaultdict(list)
    for step in _replay_backward(root):
        dys[id(step.tensor)] = step.dy.data
        for slot, p, dp in step.sent:
            uses[id(p)].append((step.tensor, slot, dp.data))
    contributions = _contributions(leaf, index, uses, dys)
    base = _as64(leaf.data).copy()
    h = eps * max(1.0, abs(float(base[index])))
    plus, minus = base.copy(), base.copy()
    plus[index] += h
    minus[index] -= h
    fd = (replay_forward(order, leaf, plus) - replay_forward(order, leaf, minus)) / (2 * h)
    grad = None if leaf.grad is None else float(leaf.grad.data[index])
    return EntryExplanation(name or leaf.name or _parameter_name(leaf, uses) or "leaf", index, grad,
                            contributions, fd, h, max_terms)


def _parameter_name(leaf: Tensor, uses) -> str | None:
    """'Conv2d.weight' when the leaf is a parameter of a module that used it."""
    for consumer, _, _ in uses[id(leaf)]:
        for module in reversed(consumer.node.module):
            for name, p in module.named_parameters():
                if p is leaf:
                    return f"{type(module).__name__}.{name}"
    return None
