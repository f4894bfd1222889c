"""PyTorch's view of the graph: `tensor.grad_fn`, its `next_functions`, AccumulateGrad (and the
accumulation into .grad it stands for), tensor hooks and their handles.

A tensor's grad_fn is its Node seen the way PyTorch shows it: an object named after the backward
of the op ("MulBackward0") whose `next_functions` lead to the grad_fns of the inputs, ending in an
AccumulateGrad for each leaf that requires grad (None for an input that needs no gradient):

    >>> y = x * w + b
    >>> y.grad_fn
    <AddBackward0 object at 0x...>
    >>> y.grad_fn.next_functions
    ((<MulBackward0 object at 0x...>, 0), (<AccumulateGrad object at 0x...>, 0))

These objects are made on access from the nodes (recording an op costs nothing extra) and kept
while anyone holds them, so `y.grad_fn is y.grad_fn`. Not here: the nodes themselves (engine,
which this module refers back to when it runs).
"""
from __future__ import annotations

import itertools
import weakref

from . import engine

# PyTorch's names for the backward of each primitive, where they differ from f"{Name}Backward0"
TORCH_NAMES = {
    "reshape": "ViewBackward0", "getitem": "IndexBackward0", "pad": "ConstantPadNdBackward0",
    "absolute": "AbsBackward0", "power": "PowBackward0", "cast": "ToCopyBackward0",
    "matmul": "MmBackward0", "conv2d": "ConvolutionBackward0",
    "max_pool2d": "MaxPool2DWithIndicesBackward0", "avg_pool2d": "AvgPool2DBackward0",
}


def torch_name(node) -> str:
    """The name PyTorch gives the grad_fn of the op that `node` recorded."""
    name, params = node.op.name, node.params
    if name == "sum":                               # sum() and sum(dim) are two overloads
        return "SumBackward0" if params.get("axis") is None else "SumBackward1"
    if name == "max":                               # max() splits ties, as amax(dim) does
        return "MaxBackward1" if params.get("axis") is None else "AmaxBackward0"
    if name == "getitem":                           # named after the last index applied
        index = params["index"] if isinstance(params["index"], tuple) else (params["index"],)
        items = [i for i in index if i is not None and i is not Ellipsis]
        if items and all(isinstance(i, (int, slice)) for i in items):
            return "SelectBackward0" if isinstance(items[-1], int) else "SliceBackward0"
    if name == "matmul" and node.parents is not None and \
            (node.parents[0].ndim, node.parents[1].ndim) != (2, 2):
        return "BmmBackward0"
    return TORCH_NAMES.get(name) or "".join(w.capitalize() for w in name.split("_")) + "Backward0"


class BackwardFunction:
    """A node seen as PyTorch's grad_fn (torch.autograd.graph.Node). Its class is named after the
    op's backward, as PyTorch's are: type(y.grad_fn).__name__ == y.grad_fn.name()."""

    __slots__ = ("node", "marks", "__weakref__")

    def __init__(self, node):
        self.node = node
        self.marks = node.marks                     # which of the tensor's records it shows

    def name(self) -> str:
        return type(self).__name__

    @property
    def next_functions(self) -> tuple:
        """((grad_fn of input 0, 0), (grad_fn of input 1, 0), ...): an input's own grad_fn, an
        AccumulateGrad for a leaf that requires grad, None for an input that needs no gradient."""
        if self.node.freed:
            raise RuntimeError(f"the inputs of {self.name()} were freed by backward(), so its "
                               f"next_functions are gone; call backward(retain_graph=True) to "
                               f"keep the graph")
        return tuple((grad_fn(p.node) if p.node is not None else
                      accumulate_grad(p) if p.requires_grad else None, 0)
                     for p in self.node.parents)

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"


class AccumulateGrad:
    """Where the gradient of a leaf ends: backward adds it into `variable.grad`."""

    __slots__ = ("variable", "__weakref__")

    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    next_functions = ()

    def __repr__(self):
        return f"<AccumulateGrad object at {id(self):#x}>"


def accumulate(found, create_graph: bool, seeds=()) -> None:
    """t.grad += dt for each (t, dt), out of place. A first gradient becomes t's own array, fresh,
    writable and contiguous: a view, a read-only array, a seed of the backward pass or an array
    already given to another tensor is copied; an array a VJP has just made is kept as it is.
    With create_graph the gradient is the recorded result itself, so that it can be differentiated."""
    taken = {id(dy._data) for dy in seeds}
    for t, dt in found:
        if t._grad is not None:
            dt = t._grad + dt if create_graph else engine.Tensor(t._grad._data + dt._data)
        elif not create_graph:
            array = dt._data
            if array.base is not None or id(array) in taken or not array.flags.writeable \
                    or not array.flags.c_contiguous:
                array = array.copy()
            taken.add(id(array))
            dt = engine.Tensor(array)
        t._grad = dt


_CLASSES: dict[str, type] = {}
_LIVE: weakref.WeakValueDictionary = weakref.WeakValueDictionary()     # id(node) -> its grad_fn
_LEAVES: weakref.WeakValueDictionary = weakref.WeakValueDictionary()   # id(leaf) -> AccumulateGrad


def grad_fn(node) -> BackwardFunction | None:
    """The grad_fn of the tensor that `node` produced (None for a leaf)."""
    if node is None:
        return None
    view = _LIVE.get(id(node))
    # the view holds its node, so the id is live; an in-place op gives the tensor a new record
    if view is None or view.marks is not node.marks:
        name = torch_name(node)
        cls = _CLASSES.get(name) or _CLASSES.setdefault(name, type(name, (BackwardFunction,),
                                                                  {"__slots__": ()}))
        view = _LIVE[id(node)] = cls(node)
    return view


def record_moved(source, holder) -> None:
    """`holder` now holds the record `source` held (an in-place op keeps a tensor's old values and
    node in a stand-in): a grad_fn already made for that record follows it, as PyTorch's old
    grad_fn keeps describing the op it was made for."""
    view = _LIVE.get(id(source))
    if view is not None and view.marks is source.marks:
        view.node = holder
        del _LIVE[id(source)]
        _LIVE[id(holder)] = view


def accumulate_grad(leaf) -> AccumulateGrad:
    view = _LEAVES.get(id(leaf))
    if view is None:
        view = _LEAVES[id(leaf)] = AccumulateGrad(leaf)
    return view


_HANDLE_IDS = itertools.count()


class RemovableHandle:
    """What register_hook returns: `handle.remove()` unregisters the hook (twice is harmless).
    Also a context manager that removes the hook on exit."""

    __slots__ = ("hooks", "id")

    def __init__(self, hooks: dict):
        self.hooks = weakref.ref(hooks)
        self.id = next(_HANDLE_IDS)

    def remove(self) -> None:
        hooks = self.hooks()
        if hooks is not None:
            hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


class Hooks(dict):
    """A tensor's gradient hooks, handle id -> fn, in registration order (a dict subclass so that
    handles can refer to it weakly)."""

    __slots__ = ("__weakref__",)

    def add(self, hook) -> RemovableHandle:
        handle = RemovableHandle(self)
        self[handle.id] = hook
        return handle
