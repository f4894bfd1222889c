"""Containers: Sequential, which calls its children one after the other.

Only composition lives here; the registration and naming it relies on are Module's (module.py).
"""
from __future__ import annotations

from collections import OrderedDict

from ..functional.contract import int_arg
from .module import Module


class Sequential(Module):
    """y = layer_n(... layer_1(layer_0(x))): children named "0", "1", ... (or an OrderedDict's keys)."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(modules):
                if not isinstance(module, Module):
                    raise TypeError(f"Sequential: argument {index} is a {type(module).__name__}, "
                                    f"not a Module; did you mean to instantiate it, e.g. nn.ReLU()?")
                self.add_module(str(index), module)

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        index = int_arg(index, "index")
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for a Sequential of length {len(self)}")
        return list(self._modules.values())[index]

    def append(self, module: Module) -> "Sequential":
        self.add_module(str(len(self)), module)
        return self
