"""Composite calls: which call of a composite function (F.linear, F.cross_entropy, ...) returned a
tensor, and with which arguments, so that a drawing can show the call as one op.

F.linear records matmul, permute and add; F.cross_entropy about eleven primitives. The autograd
graph only holds the primitives, so each wrapped function leaves a `CompositeCall` here, keyed by
the tensor it returned; viz finds the primitives of the call by walking back from that tensor to
the call's tensor arguments. Nothing is recorded when the result has no graph (no_grad, or no
input requires grad), and a record disappears with its tensor.

A composite is marked where it is defined, as a primitive is: `@composite("cross_entropy")`
above the function (functional/ and ops/ do this); COMPOSITES lists the names so marked.
"""
from __future__ import annotations

import functools
import inspect
import weakref
from typing import Any, Callable

from .engine import Tensor

COMPOSITES: set[str] = set()                      # the names marked with @composite
_CALLS: dict[int, "CompositeCall"] = {}          # id(returned tensor) -> the outermost call


class CompositeCall:
    """One call of a composite function whose result has a graph.

    name:      how a drawing names it ('cross_entropy')
    output:    the tensor it returned (None once that is gone)
    arguments: (parameter name, value) in signature order: tensors (held weakly when they
               require grad: the graph holds those) and every other argument
    defaults:  the parameter names whose value is the function's default
    inner:     the call of another composite that returned the same tensor (cross_entropy
               returns nll_loss's result), or None

    The call keeps its positional and keyword arguments as they came; they are bound to the
    signature only when a drawing first asks (a training step never does).
    """

    __slots__ = ("name", "_output", "_signature", "_args", "_kwargs", "_bound", "inner",
                 "__weakref__")

    def __init__(self, name: str, signature: inspect.Signature, output: Tensor, args: tuple,
                 kwargs: dict, inner):
        self.name, self._signature, self.inner, self._bound = name, signature, inner, None
        key = id(output)
        self._output = weakref.ref(output, lambda _, key=key: _forget(key))
        self._args = tuple(_held(v) for v in args)
        self._kwargs = {k: _held(v) for k, v in kwargs.items()}

    @property
    def output(self) -> Tensor | None:
        return self._output()

    def _binding(self) -> tuple[list, set]:
        """(parameter name, held value) in signature order, defaults applied; and the names whose
        value is the default."""
        if self._bound is None:
            bound = self._signature.bind(*self._args, **self._kwargs)
            bound.apply_defaults()
            parameters = self._signature.parameters
            arguments = list(bound.arguments.items())
            defaults = {k for k, v in arguments if parameters[k].default is not inspect.Parameter.empty
                        and _same(v, parameters[k].default)}
            self._bound = arguments, defaults
        return self._bound

    @property
    def arguments(self) -> list[tuple[str, Any]]:
        return [(k, v() if isinstance(v, weakref.ref) else v) for k, v in self._binding()[0]]

    @property
    def defaults(self) -> set[str]:
        return self._binding()[1]

    @property
    def tensors(self) -> list[tuple[str, Tensor]]:
        """The arguments that are tensors (a list of tensors, as cat's, counts too), in order."""
        found = []
        for name, value in self.arguments:
            values = value if isinstance(value, (list, tuple)) else (value,)
            found += [(name, v) for v in values if isinstance(v, Tensor)]
        return found

    @property
    def params(self) -> dict[str, Any]:
        """The arguments that are not tensors and differ from the function's defaults."""
        defaults = self.defaults
        return {k: v for k, v in self.arguments if not isinstance(v, Tensor) and k not in defaults}

    def __repr__(self):
        return f"<composite call {self.name}>"


def _held(value):
    """A tensor that requires grad is held weakly (the graph holds it); anything else as it is."""
    return weakref.ref(value) if isinstance(value, Tensor) and value.requires_grad else value


def _forget(key: int) -> None:
    _CALLS.pop(key, None)


def call_of(t: Tensor) -> CompositeCall | None:
    """The outermost composite call that returned `t`, or None."""
    call = _CALLS.get(id(t))
    return call if call is not None and call.output is t else None


def composite(name: str) -> Callable:
    """Decorator: the function, recording a CompositeCall for each result that has a graph."""
    if name in COMPOSITES:
        raise ValueError(f"a composite named {name!r} is already registered")
    COMPOSITES.add(name)

    def mark(function: Callable) -> Callable:
        signature = inspect.signature(function)

        @functools.wraps(function)
        def recorded(*args, **kwargs):
            out = function(*args, **kwargs)
            if isinstance(out, Tensor) and out.node is not None:
                _record(name, signature, out, args, kwargs)
            return out

        recorded.__composite__ = name
        return recorded
    return mark


def _record(name: str, signature: inspect.Signature, out: Tensor, args, kwargs) -> None:
    if any(value is out for value in args) or any(value is out for value in kwargs.values()):
        return                                              # returned an argument: nothing recorded
    _CALLS[id(out)] = CompositeCall(name, signature, out, args, kwargs, call_of(out))


def _same(value, default) -> bool:
    """Whether an argument has its default value: stride=(1, 1) for the default 1 counts too."""
    if isinstance(value, tuple) and not isinstance(default, tuple) and value:
        return all(_same(v, default) for v in value)
    try:
        return type(value) is type(default) and bool(value == default)
    except (TypeError, ValueError):    # arrays and tensors compare elementwise: never a default
        return False
