"""Running one snippet's text under torch and under tinygrad_conv: the names it sees, and
PyTorch's random draws, recorded and replayed by tinygrad_conv's generator, so that both runs see
the same random numbers.

`bindings(library)` is what a snippet sees: torch, nn, F, optim of one library, and for
tinygrad_conv `import torch.optim as optim` inside the snippet importing tinygrad_conv.optim.

The two libraries draw different numbers (torch's generator is not numpy's). `recording()` keeps,
in order, every draw a torch run makes through
    torch.rand / randn / rand_like / randn_like / randint / randperm,
    Tensor.uniform_ / normal_   (the layers' default initialisation and nn.init),
    F.dropout                   (the keep mask, read off dropout applied to ones),
    RandomSampler               (a DataLoader's shuffled order),
and `replaying(draws)` makes tinygrad_conv's generator (tinygrad_conv/random.py, which every
random draw of the library goes through) hand them back in the same order. Each draw is checked
for its kind and shape, so a layer that initialises in another order, or a factory that reads
its size argument differently, fails with both draws named. Only the tests patch anything.
"""
from __future__ import annotations

import builtins
import sys
from contextlib import ExitStack, contextmanager
from typing import NamedTuple
from unittest import mock

import numpy as np
import torch
from torch.utils.data import RandomSampler

import tinygrad_conv as tc


def _tc_import(name, globals=None, locals=None, fromlist=(), level=0):
    """`import torch.optim as optim` inside a snippet imports tinygrad_conv.optim."""
    if name == "torch" or name.startswith("torch."):
        name = "tinygrad_conv" + name[len("torch"):]
    return builtins.__import__(name, globals, locals, fromlist, level)


def bindings(library) -> dict:
    """The names a snippet sees: torch, nn, F, optim of `library` (torch or tinygrad_conv)."""
    names = {"torch": library, "nn": library.nn, "F": library.nn.functional,
             "optim": library.optim, "__name__": "snippet"}
    if library is tc:
        names["__builtins__"] = {**vars(builtins), "__import__": _tc_import}
    return names


class Draw(NamedTuple):
    kind: str                 # rand, randn, randint, randperm, uniform, normal, dropout
    values: np.ndarray        # what torch drew (for dropout: the keep mask)
    params: tuple = ()        # (low, high) of uniform_, (mean, std) of normal_, (p,) of dropout


def _numpy(t) -> np.ndarray:
    return t.detach().numpy().copy()


@contextmanager
def recording():
    """Run torch code inside; yields the list of its draws, filled as it runs."""
    draws: list[Draw] = []

    def factory(kind, original):
        def draw(*args, **kwargs):
            out = original(*args, **kwargs)
            draws.append(Draw(kind, _numpy(out)))
            return out
        return draw

    def fill(kind, original, defaults):
        def draw(self, *args, **kwargs):
            out = original(self, *args, **kwargs)
            params = tuple(args) + tuple(kwargs.get(k, d) for k, d in defaults[len(args):])
            draws.append(Draw(kind, _numpy(out), tuple(float(v) for v in params)))
            return out
        return draw

    original_dropout = torch.nn.functional.dropout

    inside_dropout = []

    def dropout(input, p=0.5, training=True, inplace=False):
        # F.dropout dispatches torch function modes (set_default_device's) back to the name
        # torch.nn.functional.dropout, this function: only the outermost call records
        if inside_dropout or not training or p in (0, 1):
            return original_dropout(input, p, training, inplace)
        inside_dropout.append(True)
        try:
            state = torch.get_rng_state()
            keep = original_dropout(torch.ones_like(input), p, training) != 0
            torch.set_rng_state(state)             # the same draw again, on the real input
            out = original_dropout(input, p, training, inplace)
        finally:
            inside_dropout.pop()
        draws.append(Draw("dropout", _numpy(keep), (float(p),)))
        return out

    def shuffled(self):
        # RandomSampler without replacement over the whole data set: one permutation per epoch
        # (torch's own __iter__ also draws a trailing, unused permutation)
        if self.replacement or self.num_samples != len(self.data_source):
            raise NotImplementedError("replay: only RandomSampler(data) without replacement")
        order = torch.randperm(len(self.data_source), generator=self.generator)
        draws[-1] = Draw("permutation", draws[-1].values)
        yield from order.tolist()

    with ExitStack() as stack:
        for name, kind in (("rand", "rand"), ("rand_like", "rand"), ("randn", "randn"),
                           ("randn_like", "randn"), ("randint", "randint"),
                           ("randperm", "randperm")):
            stack.enter_context(mock.patch.object(torch, name, factory(kind, getattr(torch, name))))
        stack.enter_context(mock.patch.object(torch.Tensor, "uniform_", fill(
            "uniform", torch.Tensor.uniform_, (("from", 0.0), ("to", 1.0)))))
        stack.enter_context(mock.patch.object(torch.Tensor, "normal_", fill(
            "normal", torch.Tensor.normal_, (("mean", 0.0), ("std", 1.0)))))
        stack.enter_context(mock.patch.object(torch.nn.functional, "dropout", dropout))
        stack.enter_context(mock.patch.object(RandomSampler, "__iter__", shuffled))
        try:
            yield draws
        finally:
            torch.set_default_device(None)         # a snippet's set_default_device ends with it


class ReplayGenerator:
    """Stands in for tinygrad_conv's numpy Generator: each method returns torch's next draw,
    converted to what that method returns (a uniform on [0, 1), a standard normal, ...)."""

    def __init__(self, draws: list[Draw]):
        self.draws, self.used = draws, 0

    def _next(self, method: str, kinds: tuple, shape) -> Draw:
        if self.used == len(self.draws):
            raise AssertionError(f"replay: tinygrad_conv drew {method}{tuple(shape)} after torch's "
                                 f"{len(self.draws)} draws were all used")
        draw = self.draws[self.used]
        self.used += 1
        if draw.kind not in kinds or draw.values.shape != tuple(shape):
            raise AssertionError(f"replay: draw #{self.used}: tinygrad_conv drew "
                                 f"{method}{tuple(shape)} where torch drew {draw.kind}"
                                 f"{draw.values.shape} {draw.params}")
        return draw

    @staticmethod
    def _shape(size) -> tuple:
        return () if size is None else (size,) if np.ndim(size) == 0 else tuple(size)

    @staticmethod
    def _standardised(values: np.ndarray, shift: float, scale: float, dtype) -> np.ndarray:
        """(values - shift) / scale: the draw before tinygrad_conv shifts and scales it."""
        return ((values.astype(np.float64) - shift) / scale).astype(dtype)

    def random(self, size=None, dtype=np.float64):
        draw = self._next("random", ("rand", "uniform", "dropout"), self._shape(size))
        if draw.kind == "dropout":                  # tc keeps an entry where u >= p
            return np.where(draw.values, 1.0, 0.0).astype(dtype)
        if draw.kind == "uniform":                  # tc's Tensor.uniform_(a, b) is a + (b - a) u
            low, high = draw.params
            return self._standardised(draw.values, low, high - low, dtype)
        return draw.values.astype(dtype)

    def standard_normal(self, size=None, dtype=np.float64):
        draw = self._next("standard_normal", ("randn", "normal"), self._shape(size))
        if draw.kind == "normal":                   # tc's Tensor.normal_(m, s) is m + s z
            mean, std = draw.params
            return self._standardised(draw.values, mean, std, dtype)
        return draw.values.astype(dtype)

    def _with_parameters(self, method: str, params: tuple, size) -> np.ndarray:
        draw = self._next(method, (method,), self._shape(size))
        np.testing.assert_allclose(params, draw.params, rtol=1e-6,
                                   err_msg=f"replay: draw #{self.used}: the {method} parameters "
                                           f"differ")
        return draw.values

    def uniform(self, low=0.0, high=1.0, size=None):
        return self._with_parameters("uniform", (low, high), size)

    def normal(self, loc=0.0, scale=1.0, size=None):
        return self._with_parameters("normal", (loc, scale), size)

    def integers(self, low, high=None, size=None):
        return self._next("integers", ("randint",), self._shape(size)).values

    def permutation(self, n):
        return self._next("permutation", ("permutation", "randperm"), (n,)).values

    def check_all_used(self) -> None:
        left = self.draws[self.used:]
        assert not left, (f"replay: tinygrad_conv made {self.used} draws, torch made "
                          f"{len(self.draws)}; the first left over: {left[0].kind}"
                          f"{left[0].values.shape}")


@contextmanager
def replaying(draws: list[Draw]):
    """Run tinygrad_conv code inside: its generator returns `draws`, in order; on leaving,
    every one of them must have been used."""
    generator = ReplayGenerator(draws)
    with mock.patch.object(sys.modules["tinygrad_conv.random"], "generator", lambda: generator):
        yield generator
    generator.check_all_used()
