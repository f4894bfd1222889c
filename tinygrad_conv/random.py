"""The one random number generator of the framework, and `manual_seed` to make runs repeatable.

Every random draw of the library goes through `generator()`: the default initialisation of the
layers, dropout masks, and the shuffling of data loaders that were not given a seed of their own.
So `tc.manual_seed(n)` before building a model and training it makes the whole run repeatable.
Like PyTorch's default generator, it starts from a fixed seed, so even an unseeded script gives
the same numbers every time it runs.
"""
from __future__ import annotations

import numpy as np

DEFAULT_SEED = 67280421310721          # the seed PyTorch's default CPU generator starts from

_generator = np.random.default_rng(DEFAULT_SEED)
_initial_seed = DEFAULT_SEED


def _seed_arg(seed) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: seed must be an int, got {seed!r} ({type(seed).__name__})")
    if seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative int, got {seed}")
    return int(seed)


def manual_seed(seed: int) -> np.random.Generator:
    """Restart the framework's generator from `seed`; returns it (as torch.manual_seed does)."""
    global _generator, _initial_seed
    _initial_seed = _seed_arg(seed)
    _generator = np.random.default_rng(_initial_seed)
    return _generator


def initial_seed() -> int:
    """The seed the generator was last started from."""
    return _initial_seed


def generator() -> np.random.Generator:
    """The numpy Generator that initialisation, dropout and shuffling draw from."""
    return _generator


def get_rng_state() -> dict:
    """A snapshot of the generator's state, to restore later with `set_rng_state`."""
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Continue from a snapshot taken with `get_rng_state` (the same draws follow)."""
    if not isinstance(state, dict) or "bit_generator" not in state:
        raise TypeError(f"set_rng_state: state must be a dict returned by get_rng_state(), got "
                        f"{type(state).__name__}")
    _generator.bit_generator.state = state


__all__ = ["manual_seed", "initial_seed", "generator", "get_rng_state", "set_rng_state"]
