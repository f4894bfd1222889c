"""The autograd core: Node, Primitive, the Tensor's autograd state, toposort, sweep, backward.

A primitive is a NumPy forward joined to a hand-derived vector-Jacobian product (VJP). Calling a
primitive on Tensors runs the forward and, when a gradient is wanted, the result records which
primitive made it, from which parents, with which static parameters: `y.op`, `y.parents`,
`y.params`. The result is thereby a node of the graph (Tensor derives from `Node`; a leaf records
nothing), so an op leaves a tensor behind, not a tensor and a node. `backward` walks those
nodes from the output back to the leaves, asking each primitive's VJP for the gradient of its inputs.

VJPs are written with the framework's own primitives, so the backward pass can itself be recorded
(`create_graph=True`), which gives higher-order gradients and a drawable gradient graph.

This file reads on its own: it imports only its siblings (modes, guards, checks, graph) and the
dtype rules. Tensor's user-facing methods (arithmetic, reductions, shapes, dtypes) live in
`tinygrad_conv/tensor.py`, which adds them to the Tensor class below when the package is
imported; the sweep uses two of them, `+` and `.to(dtype)`.
"""
from __future__ import annotations

import operator
from typing import Any, Callable

import numpy as np

from ..dtypes import to_array
from . import checks, graph
from .guards import check_versions, guard
from .modes import THREAD, backward_mode, check_finite, user_frame

# ----------------------------------------------------------------------------------------------
# The graph: Node, Primitive


class Node:
    """What a tensor records of the primitive call that produced it. Tensor derives from Node:
    the tensor is its own node (as in micrograd, the value is the node), so recording an op keeps
    the result alive, not also a second object that Python's garbage collector would walk again
    and again while the graph is alive. A leaf records nothing (op is None).

    op:      the Primitive (its name, forward and VJP); None for a leaf
    parents: the positional input Tensors, in order; they are what the VJP reads (the saved inputs)
    params:  the static keyword arguments, e.g. stride=(2, 2)
    saved:   anything extra the forward kept for the VJP (max-pool's argmax); None if nothing
    module:  the nn.Module objects whose calls the op ran inside, outermost first (for drawing)
    created_at: file:line of the user code that ran the op (recorded under detect_anomaly)
    marks, locked: the guards of the parents' values, (version, fingerprint) per parent, flat,
                   and the arrays held read-only (see guards.guard)
    A leaf's fields are all None.
    """

    __slots__ = ("op", "parents", "params", "saved", "marks", "locked", "module", "created_at")

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

    def _take_record(self, other: "Node | None") -> None:
        """Record what `other` recorded (a leaf's nothing if None): an in-place op hands the
        tensor it wrote the node of the new value, and the stand-in for the old values its node."""
        if other is None or other.op is None:
            self.op = self.parents = self.params = self.saved = self.marks = self.locked = None
            self.module = self.created_at = None
            return
        self.op, self.parents, self.params, self.saved = other.op, other.parents, other.params, other.saved
        self.marks, self.locked, self.module, self.created_at = \
            other.marks, other.locked, other.module, other.created_at
        graph.record_moved(other, self)


PRIMITIVES: dict[str, "Primitive"] = {}
READS = ("inputs", "shapes", "others")     # whose values a VJP reads (Primitive.reads)
_DATA = operator.attrgetter("_data")     # a tensor's array, without a Python frame per input


class Primitive:
    """A differentiable operation: `forward(*arrays, **params)` on ndarrays and `vjp` on Tensors.

    forward returns the output array, or (output, saved) when the VJP needs more than the inputs.
    vjp(dy, *inputs, **params) (plus `saved=` when the forward saved something) returns one gradient
    Tensor (or None) per positional input, each of that input's shape.
    reads says whose values the VJP reads, so that only those are guarded (guards.guard):
    "inputs" (all, the default), "shapes" (none: add, sum), "others" (each input's only for the
    other inputs' gradients: mul, matmul, conv2d).
    """

    __slots__ = ("name", "forward", "vjp", "reads", "__wrapped__")

    def __init__(self, forward: Callable, name: str | None = None, reads: str = "inputs"):
        if reads not in READS:
            raise ValueError(f"reads must be one of {READS}, got {reads!r}")
        self.name = name or forward.__name__
        self.forward = forward
        self.vjp = None
        self.reads = reads
        self.__wrapped__ = forward
        if self.name in PRIMITIVES:
            raise ValueError(f"a primitive named {self.name!r} is already registered")
        PRIMITIVES[self.name] = self

    def defvjp(self, vjp: Callable) -> Callable:
        """Decorator: attach the VJP. Returns it unchanged, so it stays a plain, testable function."""
        checks.check_vjp_signature(self, vjp)
        self.vjp = vjp
        return vjp

    def __repr__(self):
        return f"<primitive {self.name}>"

    @property
    def __doc__(self):
        return self.forward.__doc__

    def __call__(self, *inputs: "Tensor", **params):
        arity = len(inputs)             # one and two inputs without unpacking a map (0.1-0.2 us)
        if arity == 2:
            result = self.forward(inputs[0]._data, inputs[1]._data, **params)
        elif arity == 1:
            result = self.forward(inputs[0]._data, **params)
        else:
            result = self.forward(*map(_DATA, inputs), **params)
        if type(result) is tuple:
            out, saved = result
        else:
            out, saved = result, None
        if type(out) is not np.ndarray:
            out = np.asarray(out)                    # full reductions give numpy scalars
        y = Tensor.__new__(Tensor)
        y._data, y._version, y._retains_grad = out, 0, False
        y._grad = y._hooks = y.name = None
        modes = THREAD.modes
        for x in inputs if modes.grad_enabled else ():
            if x.requires_grad:                      # record: a gradient will flow through y
                y.requires_grad = True
                y.op, y.parents, y.params, y.saved = self, inputs, params, saved
                y.module = modes.module_path
                y.created_at = user_frame() if modes.anomaly else None
                y.marks, y.locked = guard(inputs, out, self.reads)
                break
        else:                                        # nothing to record: y is a leaf
            y.requires_grad = False
            y.op = y.parents = y.params = y.saved = y.marks = y.locked = y.module = \
                y.created_at = None
        if modes.anomaly and not modes.in_backward:
            where = y.created_at if y.op is not None else user_frame()
            check_finite(out, "the forward output", self, where, inputs)
        return y


def primitive(forward: Callable | None = None, *, name: str | None = None, reads: str = "inputs"):
    """Decorator that registers a NumPy forward as a primitive; attach its VJP with `@op.defvjp`.

    `@primitive(name="sum")` registers under a name that would shadow a Python builtin;
    `@primitive(reads="shapes")` declares a VJP that reads no input's values (Primitive.reads).
    """
    if forward is None:
        return lambda fn: Primitive(fn, name, reads)
    return Primitive(forward, name, reads)


# ----------------------------------------------------------------------------------------------
# Tensor: the values and the autograd state


class Tensor(Node):
    """An n-dimensional array that records the primitives applied to it.

    data:          the numpy ndarray (assigning a new array bumps the version counter)
    grad:          a Tensor of data's shape, set by backward on leaves that require grad
    requires_grad: whether gradients flow to (and through) this tensor
    node:          the tensor itself, as the node of the primitive call that produced it (its
                   op, parents, params, ...: see Node); None for a leaf (grad_fn is PyTorch's view)
    name:          an optional label for drawings and error messages

    Only the autograd state lives here; tinygrad_conv/tensor.py adds the user-facing methods.
    """

    __slots__ = ("_data", "_grad", "requires_grad", "_version", "name", "_hooks",
                 "_retains_grad", "__weakref__")
    __array_priority__ = 1000           # ndarray + Tensor calls Tensor.__radd__

    def __init__(self, data: Any, *sizes: int, requires_grad: bool = False, dtype: Any = None):
        if sizes or (type(data) is int):           # torch.Tensor(5, 3): a (5, 3) tensor, zeroed
            data = np.zeros(checks.tensor_sizes((data,) + sizes), dtype=dtype or np.float32)
        self._data = to_array(data, dtype)
        self._grad = self._hooks = self.name = None
        self._take_record(None)                     # a leaf: it records nothing
        self._version = 0
        self.requires_grad = self._retains_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @property
    def data(self) -> np.ndarray:
        """The values. Writes are not recorded; if a live graph saved this tensor, backward
        detects any change (and a large intermediate result is read-only until its graph is freed)."""
        return self._data

    @data.setter
    def data(self, value) -> None:
        self._data = to_array(value)
        self._version += 1

    # the array's own attributes, read without a Python frame (VJPs ask for shapes constantly)
    shape = property(operator.attrgetter("_data.shape"), doc="The array's shape, a tuple.")
    ndim = property(operator.attrgetter("_data.ndim"), doc="The number of dimensions.")
    dtype = property(operator.attrgetter("_data.dtype"), doc="The array's numpy dtype.")

    @property
    def node(self) -> "Tensor | None":
        """The node of the primitive call that produced this tensor: the tensor itself (None for
        a leaf). Assigning another tensor's node (or None) copies its record (Node._take_record)."""
        return None if self.op is None else self

    @node.setter
    def node(self, other: "Tensor | None") -> None:
        self._take_record(other)

    @property
    def is_leaf(self) -> bool:
        return self.op is None

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if requires_grad and not np.issubdtype(self.data.dtype, np.floating):
            raise TypeError(f"only floating-point tensors can require gradients, got dtype "
                            f"{self.data.dtype}; convert first, e.g. Tensor(x, dtype=np.float32)")
        if self.op is not None and not requires_grad:
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

    # --- gradients, as PyTorch -----------------------------------------------------------------
    @property
    def grad(self) -> "Tensor | None":
        """d(root)/d(self), accumulated by backward into leaves and into tensors that retain_grad()."""
        if self._grad is None and self.op is not None and not self._retains_grad:
            checks.warn_non_leaf_grad()             # as PyTorch: you probably meant a leaf
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        self._grad = checks.check_assigned_grad(self, value)

    grad_fn = property(lambda self: graph.grad_fn(self.node), doc="PyTorch's view of the node")
    retains_grad = property(lambda self: self._retains_grad)

    def retain_grad(self) -> None:
        """Keep this non-leaf's gradient in .grad after backward (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.op is not None:
            self._retains_grad = True

    def register_hook(self, hook: Callable) -> "graph.RemovableHandle":
        """Call hook(grad) whenever the gradient of this tensor is computed (for a leaf, before it
        is added into .grad); a Tensor it returns replaces the gradient. handle.remove() undoes it."""
        checks.check_hook(self, hook)
        if self._hooks is None:
            self._hooks = graph.Hooks()
        return self._hooks.add(hook)

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's .grad (see backward below)."""
        backward(self, (gradient,), retain_graph=retain_graph, create_graph=create_graph,
                 inputs=inputs)


# ----------------------------------------------------------------------------------------------
# Backward pass


def toposort(*roots: Tensor) -> list[Tensor]:
    """Every tensor that the roots depend on through recorded nodes, parents before children.

    An iterative depth-first post-order (no recursion limit). This is the only graph walk:
    backward and the drawing code both use it.
    """
    order, seen, stack = [], set(), list(reversed(roots))
    push, pop = stack.append, stack.pop
    while stack:
        t = pop()
        if t is _PARENTS_DONE:                       # every parent of the tensor below is placed
            order.append(pop())
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        push(t)
        push(_PARENTS_DONE)
        if t.op is not None:
            if t.parents is None:
                checks.freed(t)
            for p in reversed(t.parents):
                if p.requires_grad and id(p) not in seen:
                    push(p)
    return order


_PARENTS_DONE = object()         # toposort's marker: the tensor under it goes into the order next


def vjp_of(node: Node, dy: "Tensor") -> tuple:
    """Ask the node's primitive for the gradient of each parent, given dy = d(out)."""
    kwargs = node.params if node.saved is None else {**node.params, "saved": node.saved}
    grads = node.op.vjp(dy, *node.parents, **kwargs)
    if type(grads) is not tuple or len(grads) != len(node.parents):
        grads = checks.one_per_input(node, grads)       # a lone Tensor, or an error
    return grads


def backward(tensors, grad_tensors=None, *, retain_graph: bool | None = None,
             create_graph: bool = False, inputs=None) -> None:
    """Reverse-mode sweep: d(sum of tensors)/d(leaf) is added into each leaf's .grad.

    Visits nodes in reverse topological order, so every consumer of a tensor has added its share
    before the tensor's own VJP runs; shared tensors therefore sum their contributions (out of
    place: a gradient array is never mutated, because VJPs may return dy itself). Each gradient is
    dropped as soon as it has been passed on, and, unless retain_graph, each node frees its saved
    inputs. With create_graph the VJPs are recorded too, so the gradients have graphs of their own.
    With `inputs`, only those tensors' .grad are updated (and only the VJPs leading to them run).

    All or nothing: the .grad of every leaf is updated only after every VJP ran and every saved
    input passed its check, so an error leaves every .grad as it was.
    """
    roots, dys = checks.seed_gradients(tensors, grad_tensors)
    targets = None if inputs is None else checks.as_tensors(inputs, "inputs")
    with backward_mode(create_graph):
        found = run_backward(roots, dys, targets, retain_graph=retain_graph, create_graph=create_graph)
        graph.accumulate(found.values(), create_graph, seeds=dys)


def run_backward(roots, dys, inputs, *, retain_graph, create_graph) -> dict:
    """Run the sweep; {id(t): (t, dt)} for each of `inputs` (every leaf when None) that received
    a gradient, and for each tensor that retains its gradient."""
    wanted = None if inputs is None else {id(t) for t in inputs}
    retain = create_graph if retain_graph is None else retain_graph
    found = {}
    for t, dt, _ in sweep(roots, dys, retain_graph=retain, inputs=inputs, trace=False):
        if (t.op is None if wanted is None else id(t) in wanted) or t._retains_grad:
            found[id(t)] = t, dt
        t = dt = None            # let this step's tensor and gradient go while the next VJP runs
    return found


def sweep(roots, dys, *, retain_graph: bool = True, inputs=None, trace: bool = True):
    """The reverse sweep of backward, one step at a time: yields (t, dy_t, sent) for every tensor
    that receives a gradient, in the order the VJPs run (reversed toposort). `roots` and `dys`
    are a tensor and its gradient, or sequences of them.

    With trace, sent lists (input slot, parent, its share dp) as the VJP passed them on (() for a
    leaf); without, sent is always () and no per-edge record is made (backward's own pass), and
    each step is yielded just before its VJP runs and, without retain_graph, the VJP runs on
    the node taken off the tensor, so that nothing keeps the step's own tensor (and its values)
    alive meanwhile: the VJP reads only the node's parents.
    Before any VJP runs, every node that will run is checked (its saved inputs unchanged, a VJP
    defined). The tensor's hooks see (and may replace) its gradient before it is passed on.
    Contributions to shared tensors are summed out of place before the tensor's own step, and
    each gradient is dropped once passed on. Without retain_graph each node frees its saved
    inputs after its VJP. With `inputs`, only the VJPs that lead to them run. Nothing here
    touches .grad: backward does that, and the drawing code replays the sweep frame by frame.
    """
    if isinstance(roots, Tensor):
        roots, dys = (roots,), (dys,)
    order = toposort(*roots)
    leads = None if inputs is None else _leading_to(order, inputs)
    for t in order:
        if t.op is not None and (leads is None or id(t) in leads):
            if t.op.vjp is None:
                checks.no_vjp(t)
            check_versions(t)
    anomaly = THREAD.modes.anomaly
    grads = {}
    for root, dy in zip(roots, dys):
        grads[id(root)] = dy if id(root) not in grads else grads[id(root)] + dy
    # backward's own pass runs each VJP on a node taken off its tensor (`step`, one for the
    # whole pass), so that the tensor, and its values, can go while the VJP runs
    step = None if trace or retain_graph else Node()
    if step is not None:
        step._take_record(None)                     # every field set, none holding anything
    while order:
        t = order.pop()                 # dropping it here lets its array go once its VJP has run
        dy = grads.pop(id(t), None)
        if dy is None:
            continue
        if t._hooks:
            for hook in tuple(t._hooks.values()):
                dy = checks.check_hook_result(hook, dy, hook(dy))
        if t.op is None or (leads is not None and id(t) not in leads):
            yield t, dy, ()
            continue
        if not trace:                   # backward's pass: it reads only t and dy of the step,
            yield t, dy, ()             # so the step is given before its VJP runs
        node = t
        if step is not None:            # t is freed; the step holds its inputs and locks
            step.op, step.parents, step.params, step.saved = t.op, t.parents, t.params, t.saved
            step.locked, step.created_at = t.locked, t.created_at
            t.parents = t.saved = t.locked = None
            node, t = step, None
        sent = [] if trace else None
        pass_on(node, dy, grads, sent, anomaly)
        if not retain_graph:
            node.free()
        if trace:
            yield t, dy, sent


def pass_on(node: Node, dy: Tensor, grads: dict, sent: list | None, anomaly: bool) -> None:
    """Run the node's VJP and add each parent's share dp into grads[id(parent)] (out of place);
    with a `sent` list, also record (input slot, parent, dp) there. (A function of its own, so
    that no parent or share outlives the step: the next VJP runs without them.)"""
    for i, (p, dp) in enumerate(zip(node.parents, vjp_of(node, dy))):
        if dp is None or not p.requires_grad:
            continue
        if type(dp) is not Tensor or dp._data.shape != p._data.shape \
                or dp._data.dtype != p._data.dtype:
            dp = checks.checked_grad(node, i, dp, p)        # an error, or cast to p's dtype
        if anomaly:
            check_finite(dp._data, f"the gradient for input {i}", node.op, node.created_at)
        earlier = grads.get(id(p))
        grads[id(p)] = dp if earlier is None else earlier + dp
        if sent is not None:
            sent.append((i, p, dp))


def _leading_to(order: list, inputs) -> set:
    """The ids of the tensors in `order` whose VJP leads to one of `inputs` (a parent leads there)."""
    reaches, leads = {id(t) for t in inputs}, set()
    for t in order:                                   # parents first
        if t.op is not None and any(id(p) in reaches for p in t.parents):
            leads.add(id(t))
            reaches.add(id(t))
    return leads
