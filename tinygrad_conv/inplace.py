"""In-place writes with PyTorch's rules: x += y, x.add_(y), x[i] = v, x.zero_(), x.copy_(y)...

One function, `assign(t, compute)`, makes t hold compute(t)'s values, in t's own memory, and
decides what autograd makes of it, as PyTorch does:
- A leaf that requires grad may only be written under no_grad (an optimizer step); outside it
  the write is refused: its gradient would be for values it no longer holds.
- Nothing to record (grad mode off, or no tensor involved requires grad): the values are
  written into t's memory (views of it see them), and t's version counter goes up, so a graph
  that saved t refuses to backward through the stale values.
- Otherwise the write is recorded: t takes over the node of the out-of-place result, whose
  parent is a stand-in holding t's old values and old node. Later uses of t see the new values
  and the gradient flows through the op into the old t. Ops of the new value's own graph that
  read t (`x += x * 2`) are pointed at the stand-in too: they saw the old values.
- A view (y = x[i], x.view(...), x.t(), ...) that is written while recording writes into its
  base: x becomes x with the viewed part replaced (the setitem primitive: PyTorch's
  CopySlices), and the view is taken again from the new x. So `x[0].mul_(2)` and `Y[i][j] = v`
  record on x and Y.

A graph recorded before the write may have saved t; its backward then fails on t's version
(the guards), as PyTorch's does. A buffer held read-only by a live graph (guards.is_locked) is
copied before the write, so the saved values stay intact.

Here: the view registry (`note_view`, `view_base`) and `assign`. Not here: the ops that compute
the new values (functional), the methods that call assign (tensor.py).
"""
from __future__ import annotations

import weakref

import numpy as np

from . import ops
from .autograd import STATE, Tensor
from .autograd.guards import is_locked
from .dtypes import can_cast, torch_name

# id(view array) -> (weak ref to that array, weak ref to the base Tensor, how it was viewed)
VIEWS: dict[int, tuple] = {}


def note_view(y: Tensor, x: Tensor, how: tuple) -> Tensor:
    """Remember that y's values are a view into x's memory; how = (kind, parameter) with kind
    'getitem' (an index), 'reshape' (y's shape), 'permute' (dims) or 'flip' (dims). Returns y."""
    a = y._data
    if a is not x._data and a.base is not None and np.may_share_memory(a, x._data):
        key = id(a)
        VIEWS[key] = (weakref.ref(a, lambda _, key=key: VIEWS.pop(key, None)), weakref.ref(x), how)
    return y


def view_base(t: Tensor) -> tuple | None:
    """(base tensor, how) if t was made as a view of a tensor that is alive and still shares
    t's memory; else None."""
    entry = VIEWS.get(id(t._data))
    if entry is None:
        return None
    array, base, how = entry[0](), entry[1](), entry[2]
    if array is not t._data or base is None or not np.may_share_memory(t._data, base._data):
        return None
    return base, how


def _view_of(base: Tensor, how: tuple) -> Tensor:
    """The view `how` of base, recorded (y = base[index], base.reshape(shape), ...)."""
    kind, param = how
    if kind == "getitem":
        return ops.getitem(base, index=param)
    if kind == "reshape":
        return ops.reshape(base, shape=param)
    if kind == "permute":
        return ops.permute(base, dims=param)
    return ops.flip(base, dims=param)


def _written_back(base: Tensor, value: Tensor, how: tuple) -> Tensor:
    """base with the viewed part replaced by value: the inverse of _view_of."""
    kind, param = how
    if value.dtype != base.dtype:
        value = ops.cast(value, dtype=base.dtype)
    if kind == "getitem":
        return ops.setitem(base, value, index=param)
    if kind == "reshape":
        return ops.reshape(value, shape=base.shape)
    if kind == "permute":
        return ops.permute(value, dims=tuple(np.argsort(param).tolist()))
    return ops.flip(value, dims=param)


def _graph_bases(t: Tensor):
    """(base, how) for each tensor t is a view of, nearest first."""
    seen = view_base(t)
    while seen is not None:
        yield seen
        seen = view_base(seen[0])


def _check_leaf(t: Tensor, fn: str) -> None:
    if not STATE.grad_enabled:
        return
    if t.requires_grad and t.node is None:
        what = "a view of a leaf Variable" if fn == "setitem" else "a leaf Variable"  # (PyTorch's)
        raise RuntimeError(f"{what} that requires grad is being used in an in-place "
                           f"operation ({fn}). Its gradient would be for values it no longer "
                           f"holds: update it under `with tc.no_grad():` (as an optimizer step "
                           f"does), or write y = x ... out of place.")
    for base, _ in _graph_bases(t):
        if base.requires_grad and base.node is None:
            raise RuntimeError(f"a view of a leaf Variable that requires grad is being used in an "
                               f"in-place operation ({fn}). Write it under `with tc.no_grad():`, "
                               f"or build the new values out of place.")


def _stand_in(t: Tensor) -> Tensor:
    """A tensor holding t's present values (copied if t's memory is about to be overwritten)
    and its node: the parent of a recorded write."""
    old = Tensor(t._data.copy() if t._data.flags.writeable else t._data)
    old.requires_grad, old._version, old.name = t.requires_grad, t._version, t.name
    old._take_record(t)
    return old


def _broadcast_view(array: np.ndarray) -> bool:
    return any(s == 0 and n > 1 for s, n in zip(array.strides, array.shape))


def _write(t: Tensor, values: np.ndarray, fn: str) -> None:
    """Put `values` (t's shape) into t's memory; a locked buffer is copied first."""
    a = t._data
    if a.flags.writeable:
        np.copyto(a, values, casting="unsafe")
    elif is_locked(a):                               # copy-on-write: the saved values stay
        t._data = np.array(values, dtype=a.dtype)
    elif _broadcast_view(a):
        raise RuntimeError(f"{fn}: unsupported operation: more than one element of the "
                           f"written-to tensor refers to a single memory location (it was made "
                           f"by expand). Please clone() the tensor before performing the "
                           f"operation.")
    elif a.base is not None and is_locked(a.base):
        raise RuntimeError(f"{fn}: this tensor is a view into a buffer that a live graph saved "
                           f"for backward; writing into it would change the values that "
                           f"graph's gradient needs. Run backward first, or write into a copy "
                           f"(x = x.clone()).")
    else:
        raise ValueError(f"{fn}: the tensor's memory is read-only (it wraps a read-only numpy "
                         f"array); clone() it first")


def _bump(t: Tensor) -> None:
    """Count a write in t's version and in its bases' (views share their base's counter)."""
    t._version += 1
    for base, _ in _graph_bases(t):
        base._version += 1


def _checked(t: Tensor, value: Tensor, fn: str) -> Tensor:
    """value as t's dtype (a recorded cast), refusing what PyTorch refuses: a float result into
    an integer tensor, a number into a bool one, a result of another shape."""
    if value.shape != t.shape:
        raise RuntimeError(f"{fn}: output with shape {list(t.shape)} doesn't match the "
                           f"broadcast shape {list(value.shape)}: an in-place op keeps the "
                           f"tensor's shape; write y = x ... out of place instead")
    if value.dtype != t.dtype:
        if not can_cast(value.dtype, t.dtype):
            raise RuntimeError(f"{fn}: result type {torch_name(value.dtype)} can't be cast to "
                               f"the desired output type {torch_name(t.dtype)}; convert the "
                               f"tensor first (x = x.float()) or write out of place")
        value = ops.cast(value, dtype=t.dtype)
    return value


def same_memory(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays are the same entries of the same buffer (same start, shape, strides)."""
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.shape == b.shape and a.strides == b.strides)


def check_overlap(written: np.ndarray, operands, fn: str) -> None:
    """Refuse, as PyTorch, to write into memory that an operand partly reads (x[1:] += x[:-1]):
    the result would depend on the order the entries are written in."""
    for o in operands:
        a = getattr(o, "_data", None)
        if a is None or a is written or not np.may_share_memory(a, written):
            continue
        try:
            partial = np.shares_memory(a, written, max_work=10_000) and not same_memory(a, written)
        except np.exceptions.TooHardError:
            partial = False
        if partial:
            raise RuntimeError(f"{fn}: unsupported operation: some elements of the input tensor "
                               f"and the written-to tensor refer to a single memory location. "
                               f"Please clone() the tensor before performing the operation.")


def recording(t: Tensor, operands=()) -> bool:
    """Whether a write into t that reads `operands` must be recorded for autograd."""
    if not STATE.grad_enabled:
        return False
    if t.requires_grad or any(getattr(x, "requires_grad", False) for x in operands):
        return True
    return any(base.requires_grad for base, _ in _graph_bases(t))


def assign(t: Tensor, compute, fn: str, operands=(), written: np.ndarray | None = None) -> Tensor:
    """Make t hold compute(t)'s values in place, with PyTorch's autograd rules (module
    docstring). compute maps a tensor with t's present values to the new values (t's shape,
    a dtype castable to t's); `operands` are the other tensors it reads, `written` the part of
    t's memory that changes (all of it by default). Returns t."""
    _check_leaf(t, fn)
    check_overlap(t._data if written is None else written, operands, fn)
    if not recording(t, operands):
        value = _checked(t, compute(t), fn)
        _write(t, value._data, fn)
        _bump(t)
        return t
    bases = next(_graph_bases(t), None)
    if bases is not None:                            # record the write on the base instead
        base, how = bases

        def written_into(b: Tensor) -> Tensor:
            before = _view_of(b, how)               # t's present values, read from the base
            before._version = t._version            # it stands for t as the ops saw it
            value = _checked(t, compute(before), fn)
            _rewire(value, t, before)
            return _written_back(b, value, how)

        assign(base, written_into, fn, operands, written=t._data)
        fresh = _view_of(base, how)
        t._data, t.node, t.requires_grad = fresh._data, fresh.node, fresh.requires_grad
        note_view(t, base, how)
        t._version += 1
        return t
    old = _stand_in(t)
    value = _checked(t, compute(old), fn)
    if value.requires_grad and value.node is None:   # compute returned a leaf as it is
        value = ops.reshape(value, shape=value.shape)
    _rewire(value, t, old)
    _write(t, value._data, fn)
    t.node, t.requires_grad = value.node, value.requires_grad
    _bump(t)
    return t


def _rewire(value: Tensor, t: Tensor, old: Tensor) -> None:
    """In the graph of the new value, the ops that read t (`x += x`, `x += x * 2`, the view
    written back by `x[i] += v`) read its values before the write: make them read `old`, or t
    would become its own ancestor. The walk stops at old (t's own history) and at freed nodes."""
    stack, seen = [value], {id(old)}
    while stack:
        u = stack.pop()
        if id(u) in seen:
            continue
        seen.add(id(u))
        node = u.node
        if node is None or node.parents is None:
            continue
        if any(p is t for p in node.parents):
            node.parents = tuple(old if p is t else p for p in node.parents)
        stack.extend(node.parents)


def overwrite(old: Tensor, value: Tensor) -> Tensor:
    """The values of `value` in place of old's: old stays in the graph with gradient 0, as after
    PyTorch's fill_ / copy_ / zero_ on a tensor that requires grad."""
    value = value if value.shape == old.shape else ops.expand(value, shape=old.shape)
    if not old.requires_grad:
        return value
    return ops.where(Tensor(np.zeros((), dtype=bool)), old, value)


__all__ = ["assign", "overwrite", "note_view", "view_base", "recording", "same_memory",
           "check_overlap"]
