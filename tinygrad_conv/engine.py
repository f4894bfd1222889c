"""The autograd engine: Tensor, the primitive registry, and the backward pass.

A primitive is a NumPy forward joined to a hand-derived vector-Jacobian product (VJP). Calling a
primitive on Tensors runs the forward and, when a gradient is wanted, records a `Node` on the result:
which primitive made it, from which parents, with which static parameters. `backward` walks those
nodes from the output back to the leaves, asking each primitive's VJP for the gradient of its inputs.

VJPs are written with the framework's own primitives, so the backward pass can itself be recorded
(`create_graph=True`), which gives higher-order gradients and a drawable gradient graph.
"""
from __future__ import annotations

import functools
import sys
import zlib
from typing import Any, Callable

import numpy as np

# ----------------------------------------------------------------------------------------------
# Global modes: gradient recording and anomaly detection


class _State:
    grad_enabled = True
    anomaly = False
    in_backward = False         # inside a backward sweep: anomaly checks the gradients instead
    module_path: tuple = ()     # the nn.Module objects whose calls we are inside, outermost first


STATE = _State()


class set_grad_enabled:
    """Context manager (and decorator) that turns graph recording on or off, like torch.set_grad_enabled."""

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)
        self.prev = STATE.grad_enabled
        STATE.grad_enabled = self.mode   # also works as a plain function call, as in PyTorch

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        STATE.grad_enabled = self.prev
        return False

    def __call__(self, fn):
        mode = self.mode
        STATE.grad_enabled = self.prev    # using it as a decorator must not change the mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class no_grad(set_grad_enabled):
    """`with no_grad():` records nothing: results have no node and requires_grad=False. Also a decorator."""

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """`with enable_grad():` records again inside a no_grad block. Also a decorator."""

    def __init__(self):
        super().__init__(True)


def is_grad_enabled() -> bool:
    return STATE.grad_enabled


class detect_anomaly:
    """`with detect_anomaly():` raises at the first op whose output or gradient holds NaN or Inf.

    The error names the primitive and the line of user code that created it (file:line), recorded
    when the op ran inside this block. Also a decorator.
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self.prev = STATE.anomaly
        STATE.anomaly = self.check_nan
        return self

    def __exit__(self, *exc):
        STATE.anomaly = self.prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


_PACKAGE_DIR = __file__.rsplit("/", 1)[0]


def _user_frame() -> str:
    """file:line of the innermost stack frame outside this package: where the user created an op."""
    frame = sys._getframe(1)
    while frame is not None:
        if not frame.f_code.co_filename.startswith(_PACKAGE_DIR):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"


def _nonfinite(array: np.ndarray) -> str | None:
    """'nan' or 'inf' if a floating-point array holds one (nan first), else None."""
    if array.dtype.kind != "f" or np.isfinite(array).all():
        return None
    return "nan" if np.isnan(array).any() else "inf"


def _check_finite(array: np.ndarray, what: str, op: "Primitive", created_at: str | None,
                  inputs: tuple = ()) -> None:
    """Under detect_anomaly: raise FloatingPointError if `array` holds NaN or Inf, naming the op,
    the line that created it and, for a forward output, whether an input was already bad."""
    bad = _nonfinite(array)
    if bad is None:
        return
    where = created_at or ("an unknown line (it ran outside detect_anomaly: run the forward "
                           "pass inside the block too)")
    culprits = [f"input {i} already contains {b}" for i, x in enumerate(inputs)
                if (b := _nonfinite(x._data)) is not None]
    cause = (f" ({'; '.join(culprits)}: the problem is upstream)" if culprits else
             " (its inputs are finite: this op produced it)" if inputs else "")
    raise FloatingPointError(f"detect_anomaly: {what} of '{op.name}' contains {bad}{cause}; "
                             f"the op was created at {where}")


# ----------------------------------------------------------------------------------------------
# Dtypes

FLOAT_DTYPES = (np.float16, np.float32, np.float64)
DEFAULT_DTYPE = np.float32


def to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """The ndarray for `data`: Python scalars and lists become float32, ndarrays keep their dtype."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        return data if dtype is None or data.dtype == dtype else data.astype(dtype)
    if isinstance(data, np.generic):
        return np.asarray(data, dtype=dtype)
    array = np.asarray(data)
    if dtype is None and array.dtype.kind in "biuf" and not isinstance(data, bool):
        dtype = DEFAULT_DTYPE       # PyTorch's default dtype for Python numbers and lists
    return array.astype(dtype) if dtype is not None else array


# ----------------------------------------------------------------------------------------------
# Guarding saved inputs against in-place writes
#
# A VJP reads the values of its node's parents, so those values must not change between the
# forward and the backward pass. Two cheap guards make every such change loud:
# - Checksums. Leaves (parameters, inputs, constants) stay writable, because optimizers and
#   loaders update them in place; so do small intermediate results. The node keeps a CRC32
#   checksum of their bytes (4-6 GB/s here), and backward compares it, with the version counter,
#   before running the VJP, naming the op if anything changed. That is one pass over each
#   saved leaf per forward and per backward: small next to the op that reads it, except for
#   a huge weight in a cheap op (Linear(2000, 2000) at batch 32: about +40% per step).
# - Locks. A large intermediate result (over _CHECKSUM_BYTES, where hashing would cost more than
#   a lock) is made read-only while a node that saved it is alive, so a write into it fails at
#   once. It becomes writable again when the last such node is freed by backward or collected.
#   A view that an op returns into a locked buffer is locked with it.

_CHECKSUM_BYTES = 4096                  # up to this size a checksum is cheaper than a lock
_LOCK_COUNTS: dict[int, int] = {}       # id(array) -> live nodes that hold it read-only
_WAITING_VIEWS: dict[int, list] = {}    # id(owner) -> views to unlock once their owner is


def _checksum(array: np.ndarray) -> int:
    try:
        return zlib.crc32(array)
    except ValueError:                              # not C-contiguous
        return zlib.crc32(np.ascontiguousarray(array))


class _Locks:
    """The arrays one node made read-only; released by Node.free, or when the node is collected."""

    __slots__ = ("arrays",)

    def __init__(self, arrays: tuple):
        self.arrays = arrays

    def release(self) -> None:
        arrays, self.arrays = self.arrays, ()
        for array in arrays:
            key = id(array)
            count = _LOCK_COUNTS[key] - 1
            if count:
                _LOCK_COUNTS[key] = count
                continue
            del _LOCK_COUNTS[key]
            try:
                array.flags.writeable = True
            except ValueError:                      # a view whose owner is still held read-only
                if id(array.base) in _LOCK_COUNTS:
                    _WAITING_VIEWS.setdefault(id(array.base), []).append(array)
                continue
            for view in _WAITING_VIEWS.pop(key, ()):
                if id(view) not in _LOCK_COUNTS:
                    view.flags.writeable = True

    def __del__(self):
        try:
            self.release()
        except Exception:                           # interpreter shutdown: nothing left to guard
            pass


def _guard(parents: tuple, out: np.ndarray | None) -> tuple[tuple, tuple, _Locks | None]:
    """The guards a node keeps for its parents: their versions, a checksum for each leaf or
    small array (None for the others), and the locks on the other arrays (counted, so that
    nodes can share them), plus on `out` if it is a view into a locked one."""
    versions, checksums, locked = [], [], []
    for p in parents:
        array = p._data
        versions.append(p._version)
        if p.node is None or array.nbytes <= _CHECKSUM_BYTES:
            checksums.append(_checksum(array))
            continue
        checksums.append(None)
        key = id(array)
        count = _LOCK_COUNTS.get(key)
        if count:
            _LOCK_COUNTS[key] = count + 1
        elif array.flags.writeable:
            array.flags.writeable = False
            _LOCK_COUNTS[key] = 1
        else:                                       # read-only by nature (a broadcast view);
            continue                                # the node that made it guards its base
        locked.append(array)
    if not locked:
        return tuple(versions), tuple(checksums), None
    if out is not None and out.base is not None and out.flags.writeable \
            and any(out.base is (a if a.base is None else a.base) for a in locked):
        out.flags.writeable = False                 # views share the base's memory
        _LOCK_COUNTS[id(out)] = _LOCK_COUNTS.get(id(out), 0) + 1
        locked.append(out)
    return tuple(versions), tuple(checksums), _Locks(tuple(locked))


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
    versions, checksums, locked: the guards of the parents' values (see _check_versions)
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
        self.versions, self.checksums, self.locked = _guard(parents, out)

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
        created_at = _user_frame() if STATE.anomaly else None
        if record:
            y.node = Node(self, inputs, params, saved, STATE.module_path, created_at, out)
        if STATE.anomaly and not STATE.in_backward:
            _check_finite(out, "the forward output", self, created_at, inputs)
        return y


def primitive(forward: Callable | None = None, *, name: str | None = None):
    """Decorator that registers a NumPy forward as a primitive; attach its VJP with `@op.defvjp`.

    `@primitive(name="sum")` registers under a name that would shadow a Python builtin.
    """
    if forward is None:
        return lambda fn: Primitive(fn, name)
    return Primitive(forward, name)


# ----------------------------------------------------------------------------------------------
# Tensor


class Tensor:
    """An n-dimensional array that records the primitives applied to it.

    data:          the numpy ndarray (assigning a new array bumps the version counter)
    grad:          a Tensor of data's shape, set by backward on leaves that require grad
    requires_grad: whether gradients flow to (and through) this tensor
    node:          the Node that produced it, None for leaves
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

    # --- properties ---------------------------------------------------------------------------
    @property
    def data(self) -> np.ndarray:
        """The values. Writes are not recorded; if a live graph saved this tensor, backward
        detects any change (and an intermediate result is read-only until its graph is freed)."""
        return self._data

    @data.setter
    def data(self, value) -> None:
        self._data = value._data if isinstance(value, Tensor) else to_array(value)
        self._version += 1

    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    dtype = property(lambda self: self._data.dtype)
    size = lambda self, dim=None: self.data.shape if dim is None else self.data.shape[dim]  # noqa: E731
    numel = lambda self: self.data.size  # noqa: E731
    T = property(lambda self: self.permute(*reversed(range(self.ndim))))

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

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self) -> float:
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype != np.float32:
            extra += f", dtype={self.data.dtype}"
        if self.node is not None:
            extra += f", op={self.node.op.name}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    __hash__ = object.__hash__           # graph walks key tensors by id(); == is elementwise

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's .grad (see engine.backward)."""
        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph)

    def zero_(self) -> "Tensor":
        """Fill with zeros in place (for gradients and parameters; bumps the version counter).

        Not recorded in the graph, so it is refused on a non-leaf while gradients are recorded
        (its graph would still send gradients through the overwritten values). A buffer that a
        live graph holds read-only is copied first, and that graph then refuses to backward.
        """
        if self.node is not None and STATE.grad_enabled:
            raise RuntimeError("zero_() is not recorded for autograd, so it cannot overwrite a "
                               "tensor computed by recorded ops: write y = y * 0 instead, or call "
                               "it under `with tc.no_grad():` if the graph should ignore it")
        if not self._data.flags.writeable and id(self._data) in _LOCK_COUNTS:
            self._data = self._data.copy()          # copy-on-write: the saved values stay intact
        self._data[...] = 0
        self._version += 1
        return self

    def mark_modified(self) -> None:
        """Tell autograd that .data was written in place, so stale saved inputs are detected."""
        self._version += 1

    # --- arithmetic (numpy broadcasting; a Python number takes the tensor's dtype) --------------
    def _lift(self, other) -> "Tensor":
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (int, float, bool)) and np.issubdtype(self.data.dtype, np.floating):
            return Tensor(np.asarray(other, dtype=self.data.dtype))
        return Tensor(other)

    def _binary(self, op, x, y) -> "Tensor":
        try:
            return op(x, y)
        except ValueError:
            try:
                np.broadcast_shapes(x.shape, y.shape)
            except ValueError:
                raise ValueError(f"{op.name}: shapes {tuple(x.shape)} and {tuple(y.shape)} do not "
                                 f"broadcast: trailing dimensions must be equal or 1; reshape or "
                                 f"unsqueeze one operand") from None
            raise

    def __add__(self, other): return self._binary(ops.add, self, self._lift(other))
    def __radd__(self, other): return self._binary(ops.add, self._lift(other), self)
    def __sub__(self, other): return self._binary(ops.sub, self, self._lift(other))
    def __rsub__(self, other): return self._binary(ops.sub, self._lift(other), self)
    def __mul__(self, other): return self._binary(ops.mul, self, self._lift(other))
    def __rmul__(self, other): return self._binary(ops.mul, self._lift(other), self)
    def __truediv__(self, other): return self._binary(ops.div, self, self._lift(other))
    def __rtruediv__(self, other): return self._binary(ops.div, self._lift(other), self)
    def __neg__(self): return ops.neg(self)
    def __pos__(self): return self
    def __matmul__(self, other): return functional.matmul(self, self._lift(other))
    def __rmatmul__(self, other): return functional.matmul(self._lift(other), self)
    def __getitem__(self, index): return functional.getitem(self, index)

    def __pow__(self, exponent):
        if isinstance(exponent, (int, float)):
            return ops.power(self, exponent=exponent)
        return ops.exp(self._lift(exponent) * ops.log(self))          # x^y = e^(y ln x)

    def __rpow__(self, base):
        return ops.exp(self * ops.log(self._lift(base)))

    # comparisons give boolean tensors outside the graph (they have no useful derivative)
    def __eq__(self, other): return Tensor(self.data == np.asarray(other))
    def __ne__(self, other): return Tensor(self.data != np.asarray(other))
    def __lt__(self, other): return Tensor(self.data < np.asarray(other))
    def __le__(self, other): return Tensor(self.data <= np.asarray(other))
    def __gt__(self, other): return Tensor(self.data > np.asarray(other))
    def __ge__(self, other): return Tensor(self.data >= np.asarray(other))

    def pow(self, exponent): return self ** exponent
    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def sqrt(self): return ops.sqrt(self)
    def relu(self): return ops.relu(self)
    def tanh(self): return ops.tanh(self)
    def sigmoid(self): return ops.sigmoid(self)
    def abs(self): return ops.absolute(self)
    def matmul(self, other): return self @ other

    # --- reductions ----------------------------------------------------------------------------
    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return ops.sum_(self, **functional.reduce_args(self, axis, keepdims, dim, keepdim))

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return functional.mean(self, **functional.reduce_args(self, axis, keepdims, dim, keepdim))

    def max(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return ops.max_(self, **functional.reduce_args(self, axis, keepdims, dim, keepdim))

    def argmax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        args = functional.reduce_args(self, axis, keepdims, dim, keepdim)
        return Tensor(np.argmax(self.data, axis=args["axis"], keepdims=args["keepdims"]))

    # --- shapes --------------------------------------------------------------------------------
    def reshape(self, *shape): return functional.reshape(self, *shape)
    view = reshape
    def flatten(self, start_dim=0, end_dim=-1): return functional.flatten(self, start_dim, end_dim)
    def permute(self, *dims): return functional.permute(self, *dims)
    def transpose(self, dim0, dim1): return functional.transpose(self, dim0, dim1)
    def expand(self, *shape): return functional.expand(self, *shape)
    def flip(self, dims): return ops.flip(self, dims=functional.dims_arg(self, dims))
    def unsqueeze(self, dim): return functional.unsqueeze(self, dim)
    def squeeze(self, dim=None): return functional.squeeze(self, dim)
    def contiguous(self): return self

    # --- dtypes --------------------------------------------------------------------------------
    def to(self, dtype):
        dtype = np.dtype(dtype)
        return self if dtype == self.data.dtype else ops.cast(self, dtype=dtype)

    def float(self): return self.to(np.float32)
    def double(self): return self.to(np.float64)
    def long(self): return Tensor(self.data.astype(np.int64))


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


def _check_versions(node: Node) -> None:
    """Raise if a parent of `node` changed since the op ran: its VJP would read the new values.

    A version bump (zero_(), mark_modified(), assigning .data) or a checksum that no longer
    matches (a write into .data, e.g. an optimizer step) both count.
    """
    for i, (p, version, checksum) in enumerate(zip(node.parents, node.versions, node.checksums)):
        if p._version != version:
            how = (f"its version went from {version} to {p._version} (zero_(), mark_modified() "
                   f"or an assignment to .data)")
        elif checksum is not None and _checksum(p._data) != checksum:
            how = "its values were overwritten in place (a write into .data, e.g. an optimizer step)"
        else:
            continue
        raise RuntimeError(_modified_message(node, i, p, how))


def _modified_message(node: Node, i: int, p: Tensor, how: str) -> str:
    name = f" '{p.name}'" if p.name else ""
    module = f" inside {type(node.module[-1]).__name__}" if node.module else ""
    where = (f" The op was created at {node.created_at}." if node.created_at else
             " To see the line that created the op, run the forward pass under "
             "`with tc.detect_anomaly():`.")
    return (f"one of the tensors needed for the gradient of '{node.op.name}'{module} was modified "
            f"after the op ran: input {i}{name} of shape {tuple(p.shape)}: {how}, so the gradient "
            f"would be computed from the new values. Run the forward pass again after changing "
            f"the tensor (an optimizer step belongs after backward), or change a copy "
            f"(tc.tensor(x.data.copy())) instead.{where}")


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
        _check_versions(node)
        sent = []
        for i, (p, dp) in enumerate(zip(node.parents, vjp_of(node, dy))):
            if dp is None or not p.requires_grad:
                continue
            d, x = dp._data, p._data
            assert d.shape == x.shape, f"{node.op.name} VJP: grad {d.shape} != input {x.shape}"
            if d.dtype != x.dtype:
                dp = dp.to(x.dtype)                             # gradients keep the input's dtype
            if STATE.anomaly:
                _check_finite(dp._data, f"the gradient for input {i}", node.op, node.created_at)
            earlier = grads.get(id(p))
            grads[id(p)] = dp if earlier is None else earlier + dp
            sent.append((i, p, dp))
        if not retain_graph:
            node.free()
        yield t, dy, sent


from . import ops, functional  # noqa: E402  (the ops need Tensor, defined above)
