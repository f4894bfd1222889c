"""Guards on saved inputs: a VJP must never read values that changed after its forward ran.

A VJP reads the values of its node's parents, so those values must not change between the
forward and the backward pass. Three cheap guards make such changes loud:
- Version counters. Every write through the tensor API (in-place ops, zero_(), assigning .data,
  mark_modified(), the optimizers' steps and nn.init) bumps the tensor's version; the node keeps
  the versions it saw, and backward compares them. This catches every write the framework makes.
- Fingerprints, for raw writes into .data (numpy code the framework never sees). Leaves
  (parameters, inputs, constants) stay writable, because optimizers and loaders update them in
  place; so do small intermediate results. For a small array (up to CHECKSUM_BYTES) the node
  keeps a 64-bit hash of all its bytes, which misses a change with a chance of 2^-64. For a
  larger leaf, hashing every byte would cost one pass per forward and per backward (2 ms for
  an 8 MB input), so the node keeps the hash of a fixed sample of SAMPLE_SIZE entries, evenly
  spread and including the first and the last. That catches a raw write that changes the
  whole array or a long run of it (x.data += 1, x.data[:] = new, an update by hand, a refilled
  buffer) and any write to a sampled entry; it misses a raw write that changes only a few
  unsampled entries.
- Locks. A large intermediate result (over CHECKSUM_BYTES) is made read-only while a node that
  saved it is alive, so a write into it fails at once. It becomes writable again when the last
  such node is freed by backward or collected. A view that an op returns into a locked buffer
  is locked with it. A lock cannot reach a numpy view taken earlier (`v = h.data[:10]` before
  h was saved): v stays writable. Such a view holds a reference to the array (its .base), so an
  array that something else refers to when it is first locked is checksummed as well.
Values are guarded only where a VJP reads them; each primitive says whose (Primitive.reads).
The inputs of x + y, and x in x * c with a constant c (only dx = dz * c is wanted), keep their
version alone: a raw write into them cannot change the gradient. (If such an op returns a
view, the ops that read the view rely on its guard: then all its inputs are guarded.)
Backward checks every node before any VJP runs, so a change caught only by an earlier node's
guard (a view of a leaf, an expand of a modified input) still stops it before it computes.

Here: `guard` (what a new node keeps), `value_mark` (`fingerprint`, `checksum`), `Locks`, `check_versions` (what backward
asks). Not here: the nodes themselves (engine).
"""
from __future__ import annotations

import functools
import sys
import threading

import numpy as np

CHECKSUM_BYTES = 4096                   # up to this size a checksum is cheaper than a lock
SAMPLE_SIZE = 64                        # entries fingerprinted in a larger array
LOCK_COUNTS: dict[int, int] = {}        # id(array) -> live nodes that hold it read-only
_ALIASED: set[int] = set()              # ids of locked arrays that had other references when locked
_WAITING_VIEWS: dict[int, list] = {}    # id(owner) -> views to unlock once their owner is
_MUTEX = threading.RLock()              # threads share these tables (re-entrant: a collected
                                        # node may release its locks while we hold it)


def value_mark(t) -> int:
    """What guards a saved tensor's values: a large leaf's fingerprint, else a checksum."""
    array = t._data
    if array.nbytes > CHECKSUM_BYTES and t.op is None:
        return fingerprint(array)
    return checksum(array)


def fingerprint(array: np.ndarray) -> int:
    """The checksum of a fixed sample of the array's entries: SAMPLE_SIZE evenly spaced flat
    indices, the first and the last among them."""
    return hash(array.flat[_sample(array.size)].tobytes())     # .flat reads any strides


def checksum(array: np.ndarray) -> int:
    """A 64-bit hash of all of the array's bytes, in C order (any strides). Python's hash of
    bytes (SipHash): for a small array half the time of zlib.crc32, which also wants the
    array contiguous."""
    return hash(array.tobytes())


@functools.lru_cache(maxsize=256)
def _sample(size: int) -> np.ndarray:
    # distinct: an array over CHECKSUM_BYTES has over 256 entries (16 bytes at most each)
    return np.linspace(0, size - 1, SAMPLE_SIZE).astype(np.intp)


def _references(array: np.ndarray) -> int:
    return sys.getrefcount(array)


def _own_references() -> int:
    """The references `guard` sees to an array that only its tensor holds: the tensor's slot,
    guard's variable, and the call to _references (measured, not assumed: it varies by Python)."""
    class Holder:
        __slots__ = ("_data",)
    holder = Holder()
    holder._data = np.empty(1)
    array = holder._data
    return _references(array)


OWN_REFERENCES = _own_references()


def is_locked(array: np.ndarray) -> bool:
    """Whether a live node holds `array` read-only (writes must copy it first)."""
    return not array.flags.writeable and id(array) in LOCK_COUNTS


class Locks:
    """The arrays one node made read-only; released by Node.free, or when the node is collected."""

    __slots__ = ("arrays",)

    def __init__(self, arrays: tuple):
        self.arrays = arrays

    def release(self) -> None:
        with _MUTEX:
            self._release()

    def _release(self) -> None:
        arrays, self.arrays = self.arrays, ()
        for array in arrays:
            key = id(array)
            count = LOCK_COUNTS[key] - 1
            if count:
                LOCK_COUNTS[key] = count
                continue
            del LOCK_COUNTS[key]
            _ALIASED.discard(key)
            try:
                array.flags.writeable = True
            except ValueError:                      # a view whose owner is still held read-only
                if id(array.base) in LOCK_COUNTS:
                    _WAITING_VIEWS.setdefault(id(array.base), []).append(array)
                continue
            for view in _WAITING_VIEWS.pop(key, ()):
                if id(view) not in LOCK_COUNTS:
                    view.flags.writeable = True

    def __del__(self):
        try:
            self.release()
        except Exception:                           # interpreter shutdown: nothing left to guard
            pass


def guard(parents: tuple, out: np.ndarray | None, reads: str = "inputs") -> tuple[tuple, Locks | None]:
    """The guards a node keeps for its parents: (version, fingerprint) per parent, flat, with
    fingerprint None for a locked array or one whose values the VJP does not read, and the locks
    on the other arrays (counted, so that nodes can share them), plus on `out` if it is a view
    into a locked one. Leaves and small intermediates get a value_mark (a sampled fingerprint
    for a leaf over CHECKSUM_BYTES), large intermediates are locked. A large array that
    something besides its tensor (and the op's own output) refers to when first locked may have
    writable views: it is checksummed too.

    reads (the primitive's): whose values its VJP reads. "inputs": all of them; "shapes": none
    (z = x + y: dx = dz); "others": each input's only for the other inputs' gradients (z = x*y:
    dx = dz*y, dy = dz*x), so an input is unread when no other input requires grad. An unread
    input keeps its version only: a raw write into it cannot change the gradient. Unless `out`
    is an input's array or a view of one: the ops that read it read that input's values
    through it, and rely on this node's guard of them."""
    marks, locked = [], None
    if reads != "inputs" and (out is None or out.base is not None and any(
            np.may_share_memory(out, p._data) for p in parents)):
        reads = "inputs"                            # out may view an input: guard them all
    elif reads == "others":
        wanting = 0                                 # the inputs that require grad
        for p in parents:
            wanting += p.requires_grad
    for p in parents:
        array = p._data
        if reads != "inputs" and (reads == "shapes" or wanting == p.requires_grad) \
                and array is not out:
            marks += p._version, None               # values the VJP never reads
            continue
        if array.nbytes <= CHECKSUM_BYTES:
            marks += p._version, hash(array.tobytes())    # value_mark(p), on the hot path
            continue
        if p.op is None:
            marks += p._version, fingerprint(array)
            continue
        key = id(array)
        with _MUTEX:
            count = LOCK_COUNTS.get(key)
            if count:
                LOCK_COUNTS[key] = count + 1
            elif array.flags.writeable:
                known = OWN_REFERENCES + (out is not None and out.base is array)
                if _references(array) > known:
                    _ALIASED.add(key)
                array.flags.writeable = False
                LOCK_COUNTS[key] = 1
            else:                                   # read-only by nature (a broadcast view);
                marks += p._version, None           # the node that made it guards its base
                continue
            aliased = key in _ALIASED
        marks += p._version, (value_mark(p) if aliased else None)
        if locked is None:
            locked = []
        locked.append(array)
    if locked is None:
        return tuple(marks), None
    if out is not None and out.base is not None and out.flags.writeable \
            and any(out.base is (a if a.base is None else a.base) for a in locked):
        with _MUTEX:
            out.flags.writeable = False             # views share the base's memory
            LOCK_COUNTS[id(out)] = LOCK_COUNTS.get(id(out), 0) + 1
        locked.append(out)
    return tuple(marks), Locks(tuple(locked))


def check_versions(node) -> None:
    """Raise if a parent of `node` changed since the op ran: its VJP would read the new values.

    A version bump (zero_(), mark_modified(), assigning .data, an optimizer step) or a
    fingerprint that no longer matches (a raw write into .data) both count.
    """
    marks, i = node.marks, 0
    for p in node.parents:
        version, mark = marks[i], marks[i + 1]      # flat: parent k's pair is at 2k, 2k + 1
        i += 2
        if p._version == version:
            if mark is None:
                continue
            array = p._data
            if array.nbytes <= CHECKSUM_BYTES:      # value_mark(p), on the hot path
                if hash(array.tobytes()) == mark:
                    continue
            elif value_mark(p) == mark:
                continue
            how = "its values were overwritten in place (a raw write into .data)"
        else:
            how = (f"its version went from {version} to {p._version} (an in-place op such as "
                   f"+= or zero_(), an optimizer step, mark_modified() or an assignment to .data)")
        raise RuntimeError(_modified_message(node, i // 2 - 1, p, how))


def _modified_message(node, i: int, p, how: str) -> str:
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
