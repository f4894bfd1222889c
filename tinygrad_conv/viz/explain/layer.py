"""Which op is explained, and the numbers of its backward step: its inputs and parameters from the
recorded node, the dY it received (given, or from the engine's own backward sweep replayed), and
what its VJP sends back, computed by the op's own VJP.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..frames import _replay_backward
from ._imports import Module, Tensor, no_grad, toposort, vjp_of

EXPLAINED = ("conv2d", "max_pool2d", "avg_pool2d", "relu")


class Layer:
    """One recorded op and its backward step, as plain arrays.

    op:      the primitive's name, one of EXPLAINED
    node:    its Node; params its static parameters (stride, padding, ...)
    x, w:    the input values (w is None for pools and ReLU)
    y:       the layer's output values (with the bias added, when there is one)
    bias:    the bias values (F,), or None
    dy:      dY = dL/d(op's output), as the backward sweep delivers it
    dx, dw:  the op's VJP applied to dy, exactly as the engine runs it
    db:      the bias gradient sum(dY) (from conv2d's VJP, or a hand-written add's), or None
    module:  the class name of the innermost module the op ran in ("" outside any)
    """

    def __init__(self, out: Tensor, dy: np.ndarray, shown: Tensor, bias=None, db=None):
        node = out.node
        self.op, self.node, self.params = node.op.name, node, node.params
        self.x = node.parents[0].data
        self.w = node.parents[1].data if self.op == "conv2d" else None
        self.y = shown.data
        self.dy = dy
        grads = local_grads(node, dy)
        self.dx = grads[0]
        self.dw = grads[1] if self.op == "conv2d" else None
        if self.op == "conv2d" and len(node.parents) == 3:     # conv2d(x, w, b): the fused bias
            bias, db = node.parents[2].data, grads[2]
        self.bias, self.db = bias, db
        self.module = type(node.module[-1]).__name__ if node.module else ""


def local_grads(node, dy: np.ndarray) -> tuple:
    """The node's VJP on dy, run (through the engine's vjp_of) on copies of its inputs that all
    require grad, so no input's gradient is skipped: one array (or None) per input."""
    copies = tuple(Tensor(p.data, requires_grad=p.dtype.kind == "f") for p in node.parents)
    with no_grad():
        grads = vjp_of(SimpleNamespace(op=node.op, parents=copies, params=node.params,
                                       saved=node.saved), Tensor(dy))
    return tuple(None if g is None else g.data for g in grads)


def _check_graph(t: Tensor, what: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"explain: {what} must be a Tensor (an op's output) or an nn.Module, got "
                        f"{type(t).__name__}")
    if t.node is None:
        raise ValueError(f"explain: {what} has no recorded graph: it is a leaf, or was computed "
                         f"under no_grad() or from inputs that do not require grad")
    if t.node.freed:
        raise RuntimeError(f"explain: the graph of {what} was freed by backward; call "
                           f"loss.backward(retain_graph=True) before explaining it")


def _module_output(module: Module, root: Tensor | None) -> Tensor:
    """The output of the one explainable op that ran inside `module` (its bias add, if any)."""
    if root is None:
        raise ValueError(f"explain: to explain the module {type(module).__name__}, pass root= "
                         f"(the tensor backward was called on), so its output can be found")
    _check_graph(root, "root")
    order = toposort(root)
    found = [t for t in order if t.node is not None and module in t.node.module
             and t.node.op.name in EXPLAINED]
    if len(found) != 1:
        ops = ", ".join(t.node.op.name for t in found) or "none"
        raise ValueError(f"explain: the module {type(module).__name__} ran {len(found)} "
                         f"explainable ops in root's graph ({ops}); pass a single layer (e.g. "
                         f"model[0]) or the output tensor itself")
    out = found[0]
    for t in order:
        if (t.node is not None and t.node.op.name == "add" and module in t.node.module
                and any(p is out for p in t.node.parents)):
            return t
    return out


def _bias_path(add: Tensor):
    """For y = conv2d(x, w) + reshape(b) written out by hand (F.conv2d adds its bias inside the
    conv2d primitive): the conv's output, its slot in the add, the reshape."""
    for slot, (p, q) in enumerate(zip(add.node.parents, add.node.parents[::-1])):
        if (p.node is not None and p.node.op.name == "conv2d" and q.node is not None
                and q.node.op.name == "reshape" and q.node.parents[0].ndim == 1
                and q.shape == (1, p.shape[1], 1, 1)):
            return p, slot, q
    raise ValueError("explain: y is the output of an add, but not of conv2d(...) + bias; pass the "
                     "output of conv2d, max_pool2d, avg_pool2d or relu")


def find_layer(y, root: Tensor | None = None, dy=None) -> Layer:
    """The Layer behind y: a conv2d / max_pool2d / avg_pool2d / relu output, a conv plus its
    bias, or an nn.Module that ran one of them (then root is needed to find its output)."""
    shown = _module_output(y, root) if isinstance(y, Module) else y
    _check_graph(shown, "y")
    out, bias_path = shown, None
    if shown.node.op.name == "add":
        bias_path = _bias_path(shown)
        out = bias_path[0]
        _check_graph(out, "the conv2d under the bias")
    elif shown.node.op.name not in EXPLAINED:
        raise ValueError(f"explain: y is the output of {shown.node.op.name}; explain takes the "
                         f"output of {', '.join(EXPLAINED)} (or conv2d plus its bias)")
    if dy is None:
        if root is None:
            raise ValueError("explain: pass root= (the tensor backward was called on, to replay "
                             "the backward sweep) or dy= (the gradient arriving at y)")
        _check_graph(root, "root")
        received = {id(step.tensor): step.dy.data for step in _replay_backward(root)}
        if id(shown) not in received:
            raise ValueError("explain: y receives no gradient from root: it is not on a path "
                             "from root to a tensor that requires grad")
        dy = received[id(shown)]
    else:
        dy = np.asarray(dy.data if isinstance(dy, Tensor) else dy)
        if dy.shape != shown.shape:
            raise ValueError(f"explain: dy has shape {dy.shape}, but y has shape {shown.shape}; "
                             f"pass dL/dy, one entry per entry of y")
        dy = dy.astype(shown.dtype)
    if bias_path is None:
        return Layer(out, dy, shown)
    # y = conv + reshape(b): the add's VJP gives the conv its dY (unchanged, the same shape) and
    # the reshape the sum over the broadcast axes, which the reshape's VJP makes db (F,)
    conv, slot, reshape = bias_path
    shares = local_grads(shown.node, dy)
    db = local_grads(reshape.node, shares[1 - slot])[0]
    return Layer(conv, shares[slot], shown, bias=reshape.node.parents[0].data, db=db)
