"""Containers, as torch.nn: Sequential (calls its children one after the other), ModuleList (a
list of registered modules) and ModuleDict (a dict of them).

Only composition lives here; the registration and naming they rely on are Module's (module.py),
so their children's parameters appear in parameters() and state_dict() as "0.weight",
"features.1.bias", ... exactly as in torch.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterable, Iterator, Mapping

from ..functional.contract import int_arg
from .module import Module, _indent


def _module_arg(module, where: str) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{type(module).__name__} is not a Module subclass ({where}); did you "
                        f"mean to instantiate it, e.g. nn.ReLU()?")
    return module


class _Numbered(Module):
    """The list behaviour Sequential and ModuleList share: children at positions 0..n-1,
    indexed like a Python list (negative indices count from the end). Changes of length
    renumber the children, as in torch."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def _position(self, index) -> int:
        index = int_arg(index, "index")
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for a {type(self).__name__} of "
                             f"length {len(self)}")
        return index % len(self)

    def _key(self, index) -> str:
        return list(self._modules)[self._position(index)]

    def _renumber(self, modules: list) -> None:
        self._modules.clear()
        for module in modules:
            self._modules[str(len(self._modules))] = module

    def __setitem__(self, index, module) -> None:
        self.add_module(self._key(index), _module_arg(module, f"item {index}"))

    def __delitem__(self, index) -> None:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[self._position(index)]
        self._renumber(modules)

    def append(self, module: Module):
        """Add `module` at the end (named by its position)."""
        self.add_module(str(len(self)), _module_arg(module, "append"))
        return self

    def extend(self, modules: Iterable[Module]):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert before position `index`, as list.insert (the later children move up by one)."""
        modules = list(self._modules.values())
        modules.insert(int_arg(index, "index"), _module_arg(module, "insert"))
        self._renumber(modules)

    def pop(self, index=-1) -> Module:
        module = self[index]
        del self[index]
        return module

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        if not isinstance(other, type(self)):
            raise TypeError(f"can only add a {type(self).__name__} to a {type(self).__name__}, "
                            f"got {type(other).__name__}")
        return type(self)(*list(self), *list(other)) if isinstance(self, Sequential) \
            else type(self)(list(self) + list(other))


class Sequential(_Numbered):
    """y = layer_n(... layer_1(layer_0(x))): children named "0", "1", ... (or an OrderedDict's keys)."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), _module_arg(module, f"Sequential argument {index}"))

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, index):
        if isinstance(index, slice):               # keeps the children's names, as torch
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return self._modules[self._key(index)]


class ModuleList(_Numbered):
    """A list of modules whose parameters are registered ("0.weight", "1.bias", ...). It has no
    forward: a model's forward loops over it, e.g. `for layer in self.layers: x = layer(x)`."""

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[self._key(index)]

    def __repr__(self):
        # runs of equal children collapse to "(0-2): 3 x Linear(...)", as torch prints them
        lines, children = [], [repr(child) for child in self]
        start = 0
        for end in range(1, len(children) + 1):
            if end < len(children) and children[end] == children[start]:
                continue
            label = f"{start}" if end - start == 1 else f"{start}-{end - 1}"
            count = "" if end - start == 1 else f"{end - start} x "
            lines.append(_indent(f"({label}): {count}{children[start]}", 2))
            start = end
        if not lines:
            return "ModuleList()"
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules, in insertion order, whose parameters are registered under their keys
    ("encoder.weight", ...). Like ModuleList, it has no forward of its own."""

    def __init__(self, modules: Mapping[str, Module] | Iterable | None = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(key)
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, _module_arg(module, f"key {key!r}"))

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def update(self, modules) -> None:
        """Add (key, module) pairs from a mapping, or from an iterable of pairs."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for index, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"ModuleDict update sequence element #{index} should be a "
                                 f"(key, module) pair, got {pair!r}")
            self[pair[0]] = pair[1]
