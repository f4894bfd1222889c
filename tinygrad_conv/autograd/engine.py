"""The autograd core: Node, Primitive, the Tensor's autograd state, toposort, sweep, backward.

A primitive is a NumPy forward joined to a hand-derived vector-Jacobian product (VJP). Calling a
primitive on Tensors runs the forward and, when a gradient is wanted, records a `Node` on the result:
which primitive made it, from which parents, with which static parameters. `backward` walks those
nodes from the output back to the leaves, asking each primitive's VJP for the gradient of its inputs.

VJPs are written with the framework's own primitives, so the backward pass can itself be recorded
(`create_graph=True`), which gives higher-order gradients and a drawable gradient graph.

This file reads on its own: it imports only its siblings (modes, guards) and the dtype rules.
Tensor's user-facing methods (arithmetic, reductions, shapes, dtypes) live in
`tinygrad_conv/tensor.py`, which adds them to the Tensor class below when the package is
imported; the sweep uses two of them, `+` and `.to(dtype)`.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..dtypes import to_array
from .guards import check_versions, guard
from .modes import STATE, check_finite, set_grad_enabled, user_frame

# ----------------------------------------------------------------------------------------------
# The graph: Node, Primitive


class Node:
    """One recorded primitive call. The tensor it produced holds it as `tensor.node`.

    op:      the Primitive (its name, forward and VJP)
    parents: the positional input Tensors, in order; they are what the VJP reads (the saved inputs)
    params:  the static keyword arguments, e.g. stride=(2, 2)
    saved:   anything extra the forward kept for the VJP (max-pool's argmax); None if nothing
    module:  the nn.Module objects whose calls the op ran inside, outermost first (for drawing)
    created_at: file:line of the user code that ran the op (recorded under detect_anomaly)
    versions, checksums, locked: the guards of the parents' values (see guards.check_versions)
    """

    __slots__ = ("op", "parents", "params", "saved", "versions", "checksums", "locked", "module",
                 "created_at")

    def __init__(self, op, parents, params, saved, module=(), created_at=None, out=None):
        self.op = op
        self.parents = parents
        self.params = params
        self.saved = saved
        self.module = module
        self.created_at = created_at
        self.versions, self.checksums, self.locked = guard(parents, out)

    @property
    def freed(self) -> bool:
        return self.parents is None

    def free(self) -> None:
        """Drop the saved inputs: after this the node cannot be differentiated again."""
        self.parents = None
        self.saved = None
        if self.locked is not None:
            self.locked.release()
            self.locked = None


PRIMITIVES: dict[str, "Primitive"] = {}


class Primitive:
    """A differentiable operation: `forward(*arrays, **params)` on ndarrays and `vjp` on Tensors.

    forward returns the output array, or (output, saved) when the VJP needs more than the inputs.
    vjp(dy, *inputs, **params) (plus `saved=` when the forward saved something) returns one gradient
    Tensor (or None) per positional input, each of that input's shape.
    """

    __slots__ = ("name", "forward", "vjp", "__wrapped__")

    def __init__(self, forward: Callable, name: str | None = None):
        self.name = name or forward.__name__
        self.forward = forward
        self.vjp = None
        self.__wrapped__ = forward
        if self.name in PRIMITIVES:
            raise ValueError(f"a primitive named {self.name!r} is already registered")
        PRIMITIVES[self.name] = self

    def defvjp(self, vjp: Callable) -> Callable:
        """Decorator: attach the VJP. Returns it unchanged, so it stays a plain, testable function."""
        self.vjp = vjp
        return vjp

    def __repr__(self):
        return f"<primitive {self.name}>"

    @property
    def __doc__(self):
        return self.forward.__doc__

    def __call__(self, *inputs: "Tensor", **params):
        result = self.forward(*[x._data for x in inputs], **params)
        out, saved = result if isinstance(result, tuple) else (result, None)
        if type(out) is not np.ndarray:
            out = np.asarray(out)                    # full reductions give numpy scalars
        record = False
        if STATE.grad_enabled:
            for x in inputs:
                if x.requires_grad:
                    record = True
                    break
        y = Tensor.__new__(Tensor)
        y._data, y.grad, y.requires_grad, y._version, y.name = out, None, record, 0, None
        y.node = None
        created_at = user_frame() if STATE.anomaly else None
        if record:
            y.node = Node(self, inputs, params, saved, STATE.module_path, created_at, out)
        if STATE.anomaly and not STATE.in_backward:
            check_finite(out, "the forward output", self, created_at, inputs)
        return y


def primitive(forward: Callable | None = None, *, name: str | None = None):
    """Decorator that registers a NumPy forward as a primitive; attach its VJP with `@op.defvjp`.

    `@primitive(name="sum")` registers under a name that would shadow a Python builtin.
    """
    if forward is None:
        return lambda fn: Primitive(fn, name)
    return Primitive(forward, name)


# ----------------------------------------------------------------------------------------------
# Tensor: the values and the autograd state


class Tensor:
    """An n-dimensional array that records the primitives applied to it.

    data:          the numpy ndarray (assigning a new array bumps the version counter)
    grad:          a Tensor of data's shape, set by backward on leaves that require grad
    requires_grad: whether gradients flow to (and through) this tensor
    node:          the Node that produced it, None for leaves
    name:          an optional label for drawings and error messages

    Only the autograd state lives here; tinygrad_conv/tensor.py adds the user-facing methods.
    """

    __slots__ = ("_data", "grad", "requires_grad", "node", "_version", "name", "__weakref__")
    __array_priority__ = 1000           # ndarray + Tensor calls Tensor.__radd__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None):
        self._data = to_array(data, dtype)
        self.grad = None
        self.node = None
        self._version = 0
        self.name = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @property
    def data(self) -> np.ndarray:
        """The values. Writes are not recorded; if a live graph saved this tensor, backward
        detects any change (and an intermediate result is read-only until its graph is freed)."""
        return self._data

    @data.setter
    def data(self, value) -> None:
        self._data = to_array(value)
        self._version += 1

    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    dtype = property(lambda self: self._data.dtype)

    @property
    def is_leaf(self) -> bool:
        return self.node is None

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if requires_grad and not np.issubdtype(self.data.dtype, np.floating):
            raise TypeError(f"only floating-point tensors can require gradients, got dtype "
                            f"{self.data.dtype}; convert first, e.g. Tensor(x, dtype=np.float32)")
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("requires_grad can only be switched off on leaf tensors; "
                               "use .detach() for a non-differentiable copy")
        self.requires_grad = requires_grad
        return self

    def detach(self) -> "Tensor":
        """The same data, cut from the graph (shares memory, as in PyTorch)."""
        return Tensor(self.data)

    def mark_modified(self) -> None:
        """Tell autograd that .data was written in place, so stale saved inputs are detected."""
        self._version += 1

    __hash__ = object.__hash__           # graph walks key tensors by id(); == is elementwise

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's .grad (see backward below)."""
        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph)


# ----------------------------------------------------------------------------------------------
# Backward pass


def toposort(root: Tensor) -> list[Tensor]:
    """Every tensor that `root` depends on through recorded nodes, parents before children.

    An iterative depth-first post-order (no recursion limit). This is the only graph walk:
    backward and the drawing code both use it.
    """
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        if t.node is not None:
            if t.node.freed:
                raise RuntimeError(
                    f"Trying to backward through the graph a second time: the saved inputs of "
                    f"'{t.node.op.name}' were freed by the first backward. Pass retain_graph=True to "
                    f"the first .backward() call if you need to backward through the graph again.")
            stack.extend((p, False) for p in reversed(t.node.parents) if p.requires_grad)
    return order


def vjp_of(node: Node, dy: "Tensor") -> tuple:
    """Ask the node's primitive for the gradient of each parent, given dy = d(out)."""
    kwargs = node.params if node.saved is None else {**node.params, "saved": node.saved}
    grads = node.op.vjp(dy, *node.parents, **kwargs)
    return grads if isinstance(grads, tuple) else (grads,)


def backward(root: Tensor, gradient: Any = None, *, retain_graph: bool | None = None,
             create_graph: bool = False) -> None:
    """Reverse-mode sweep: d(root)/d(leaf) is added into each leaf's .grad.

    Visits nodes in reverse topological order, so every consumer of a tensor has added its share
    before the tensor's own VJP runs; shared tensors therefore sum their contributions (out of
    place: a gradient array is never mutated, because VJPs may return dy itself). Each gradient is
    dropped as soon as it has been passed on, and, unless retain_graph, each node frees its saved
    inputs. With create_graph the VJPs are recorded too, so the gradients have graphs of their own.
    """
    if retain_graph is None:
        retain_graph = create_graph
    if not root.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                           "grad_fn: nothing to differentiate. Create the inputs with "
                           "requires_grad=True (or call .requires_grad_()) before computing.")
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs, but this "
                               f"output has shape {root.shape}. Reduce it first (y.sum().backward()) "
                               f"or pass gradient= of shape {root.shape}.")
        dy = Tensor(np.ones_like(root.data))
    else:
        dy = gradient if isinstance(gradient, Tensor) else Tensor(np.asarray(gradient))
        if dy.dtype.kind not in "iuf":
            raise TypeError(f"gradient must hold real numbers (it is cast to the output's dtype "
                            f"{root.dtype}), got dtype {dy.dtype}")
        if dy.shape != root.shape:
            raise RuntimeError(f"Mismatch in shape: gradient has shape {tuple(dy.shape)} but the "
                               f"output has shape {tuple(root.shape)}; pass a gradient of the "
                               f"output's shape (one entry of dL/d(output) per output entry).")
        if dy.dtype != root.dtype:
            dy = dy.to(root.dtype)                  # as PyTorch: the output's dtype
    outer, STATE.in_backward = STATE.in_backward, True
    try:
        with set_grad_enabled(create_graph):
            for t, dy, _ in sweep(root, dy, retain_graph=retain_graph):
                if t.node is None:                               # a leaf: accumulate into .grad
                    t.grad = dy if t.grad is None else t.grad + dy
    finally:
        STATE.in_backward = outer


def sweep(root: Tensor, dy: Tensor, *, retain_graph: bool = True):
    """The reverse sweep of backward, one step at a time: yields (t, dy_t, sent) for every tensor
    that receives a gradient, in the order the VJPs run (reversed toposort).

    For a leaf, sent is (); for an op's output, sent lists (input slot, parent, its share dp) as
    the VJP passed them on. Contributions to shared tensors are summed out of place before the
    tensor's own step, and each gradient is dropped once passed on. Without retain_graph each node
    frees its saved inputs after its VJP. Nothing here touches .grad: backward does that with the
    leaf steps, and the drawing code replays the sweep frame by frame.
    """
    grads = {id(root): dy}
    for t in reversed(toposort(root)):
        dy = grads.pop(id(t), None)
        if dy is None:
            continue
        node = t.node
        if node is None:
            yield t, dy, ()
            continue
        check_versions(node)
        sent = []
        for i, (p, dp) in enumerate(zip(node.parents, vjp_of(node, dy))):
            if dp is None or not p.requires_grad:
                continue
            d, x = dp._data, p._data
            assert d.shape == x.shape, f"{node.op.name} VJP: grad {d.shape} != input {x.shape}"
            if d.dtype != x.dtype:
                dp = dp.to(x.dtype)                             # gradients keep the input's dtype
            if STATE.anomaly:
                check_finite(dp._data, f"the gradient for input {i}", node.op, node.created_at)
            earlier = grads.get(id(p))
            grads[id(p)] = dp if earlier is None else earlier + dp
            sent.append((i, p, dp))
        if not retain_graph:
            node.free()
        yield t, dy, sent
