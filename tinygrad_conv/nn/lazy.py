"""Lazy layers, as torch.nn.LazyLinear / LazyConv2d / LazyBatchNorm2d: the input size is left out
and read off the first input, so a model can be written without working out in_features.

Until the first forward the layer's parameters (and buffers) are UninitializedParameters: they
are listed by parameters(), and an optimizer built then holds these very objects, which the
first forward materializes in place (as torch). That first call sizes them, draws the default
initialisation of the full layer (same draws, in the same order, as building that layer then),
and changes the module's class to it (LazyConv2d -> Conv2d, as torch's cls_to_become), so a
shape-printing loop shows `Conv2d`.
"""
from __future__ import annotations

from .module import Module, is_lazy


class LazyModuleMixin:
    """Mixed in before the full layer: LazyConv2d(LazyModuleMixin, Conv2d). The layer supplies
    `_infer_sizes(input)` (set in_channels, ... from the input), `_parameter_shapes()` (name ->
    shape of every lazy parameter and buffer) and `_sizes_from_parameters()` (the sizes again,
    from loaded parameters)."""

    cls_to_become = None

    def has_uninitialized_params(self) -> bool:
        members = list(self._parameters.values()) + list(self._buffers.values())
        return any(is_lazy(t) for t in members if t is not None)

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        """Size every uninitialized parameter and buffer from `input`, then draw the layer's
        default initialisation."""
        self._infer_sizes(input)
        tables = {**self._parameters, **self._buffers}
        for name, shape in self._parameter_shapes().items():
            if tables.get(name) is not None and is_lazy(tables[name]):
                tables[name].materialize(shape)
        self._become()
        self.reset_parameters()

    def _become(self) -> None:
        self.__class__ = self.cls_to_become

    def __call__(self, *args, **kwargs):
        if self.has_uninitialized_params():
            self.initialize_parameters(*args, **kwargs)
        return Module.__call__(self, *args, **kwargs)

    def _after_load(self) -> None:
        """load_state_dict materialized the parameters: learn the sizes from them and become the
        full layer (torch keeps the Lazy class and a size of 0 until the next forward)."""
        if not self.has_uninitialized_params():
            self._sizes_from_parameters()
            self._become()

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params():
            super().reset_parameters()
