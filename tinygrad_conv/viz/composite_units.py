"""Composite calls drawn as one op: for each call of F.linear, F.cross_entropy, ... whose result is
in a graph (as tinygrad_conv/autograd/composites.py recorded it), the tensors it made, hidden inside the op,
and its inputs in the order of the function's arguments.
"""
from __future__ import annotations

import numpy as np

from ._imports import Tensor, call_of


class _Composite:
    """One call of a composite function drawn as one op: its output, the tensors made inside it
    (hidden), and its inputs in the order of the function's arguments."""

    def __init__(self, call, output: Tensor, unit_id: str, interior: list[Tensor],
                 inputs: list[tuple[str, Tensor]], data: list[tuple[str, Tensor]]):
        self.call, self.output, self.id = call, output, unit_id
        self.name = call.name
        self.interior = interior              # tensors made inside, the output last
        self.inputs = inputs                  # (argument name, tensor) for each drawn input
        self.data = data                      # inputs that are not in the autograd graph (target)
        self.parents = tuple(t for _, t in inputs)      # for formulas, as Node.parents
        self.params = {k: v for k, v in call.params.items()
                       if not isinstance(v, (np.ndarray, Tensor))}

    @property
    def op(self):                             # formulas read node.op.name
        return self

    def argument(self, name: str):
        return dict(self.call.arguments).get(name)


def _interior(output: Tensor, stops: set[int]) -> tuple[list[Tensor], list[Tensor]]:
    """The tensors a composite call made (walking back from its output to its tensor arguments,
    `stops`) and the arguments reached, in walk order."""
    inside, reached, seen, stack = [], [], set(), [output]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if id(t) in stops:
            reached.append(t)
            continue
        inside.append(t)
        if t.node is not None:
            stack.extend(reversed(t.node.parents))
    return inside, reached


def composite_units(order: list[Tensor], consumers: dict) -> tuple[dict, list]:
    """({id(tensor made inside a call): its unit}, the units): each composite call whose result is
    in `order` (a toposort), the outermost first, made of at least two primitives and used only
    through its result. `consumers` maps id(tensor) to the op outputs that use it."""
    composite_of: dict[int, _Composite] = {}
    composites: list[_Composite] = []
    for t in reversed(order):
        if t.node is None or id(t) in composite_of:
            continue
        call = call_of(t)
        if call is None:
            continue
        arguments = call.tensors
        inside, reached = _interior(t, {id(x) for _, x in arguments})
        ops = [x for x in inside if x.node is not None]
        members = {id(x) for x in inside}
        if len(ops) < 2 or any(id(x) in composite_of for x in inside) or any(
                id(c) not in members for x in inside if x is not t for c in consumers[id(x)]):
            continue
        reached_ids = {id(x) for x in reached}
        inputs, data, drawn = [], [], set()
        for name, x in arguments:
            if id(x) in drawn:
                continue
            if id(x) in reached_ids:
                inputs.append((name, x))
                drawn.add(id(x))
            elif not x.requires_grad:                 # a target or class weights: data, no graph
                inputs.append((name, x))
                data.append((name, x))
                drawn.add(id(x))
        for name, value in call.arguments:            # targets given as numpy arrays
            if isinstance(value, np.ndarray):
                x = Tensor(value)
                inputs.append((name, x))
                data.append((name, x))
        composite = _Composite(call, t, "", ops[::-1], inputs, data)
        composites.append(composite)
        for x in inside:
            composite_of[id(x)] = composite
    return composite_of, composites
