"""Devices: tinygrad_conv computes with numpy, on the CPU only.

`tc.device('cpu')`, `tensor.device`, `.to(device)`, `tc.cuda.is_available()`,
`tc.accelerator.is_available()` and `tc.set_default_device('cpu')` exist so that
PyTorch code written for any machine runs unchanged: on a machine without a GPU that code picks
'cpu'. Naming a GPU device is allowed (torch.device('cuda') is just a name); moving a tensor
there, or creating one there, is refused with a message saying what to do.
"""
from __future__ import annotations

import builtins

_TYPES = ("cpu", "cuda", "mps", "xpu", "hip", "meta", "xla", "ipu", "hpu", "mtia", "privateuseone")


class device:
    """A device name, as torch.device: device('cpu'), device('cuda:0'), device('cuda', 0)."""

    __slots__ = ("type", "index")

    def __init__(self, type, index: int | None = None):
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type                  # torch.device(0) is cuda:0
        elif not isinstance(type, str):
            raise TypeError(f"device(): expected a string such as 'cpu' or 'cuda:0', got "
                            f"{type!r} ({builtins.type(type).__name__})")
        else:
            name, _, number = type.partition(":")
            if name not in _TYPES:
                raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of "
                                   f"device string: {type}")
            if number:
                if not number.isdigit():
                    raise RuntimeError(f"Invalid device string: '{type}'")
                if index is not None:
                    raise RuntimeError(f"device(): the index is given twice, in {type!r} and as "
                                       f"index={index}")
                index = int(number)
            type = name
        if index is not None and (isinstance(index, bool) or not isinstance(index, int) or index < 0):
            raise RuntimeError(f"Device index must not be negative, got {index!r}")
        self.type, self.index = type, index

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        extra = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{extra})"

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return device, (self.type, self.index)


CPU = device("cpu")


def device_arg(value, fn: str) -> device:
    """`value` (None, a name, an int or a device) as a device; anything but the CPU is refused."""
    if value is None:
        return CPU
    d = value if isinstance(value, device) else device(value)
    if d.type != "cpu":
        raise RuntimeError(f"tinygrad_conv runs on the CPU only: {fn} got device='{d}'; use "
                           f"device='cpu' (or drop .to(device)). Code that picks its device with "
                           f"torch.cuda.is_available() gets 'cpu' here.")
    return CPU


def is_device_like(value) -> bool:
    """Whether `value` names a device (for Tensor.to's positional argument)."""
    if isinstance(value, device):
        return True
    if isinstance(value, str):
        return value.partition(":")[0] in _TYPES
    return False


class cuda:
    """torch.cuda as seen on a machine without a GPU: nothing is available, seeding is a no-op."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def device_count() -> int:
        return 0

    @staticmethod
    def manual_seed(seed: int) -> None:
        """No GPU, nothing to seed (as torch.cuda.manual_seed without CUDA)."""

    manual_seed_all = manual_seed


class accelerator:
    """torch.accelerator as seen on a machine without one: none is available, so the tutorials'
    `torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else
    "cpu"` picks 'cpu'."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def current_accelerator(check_available: bool = False) -> None:
        """The accelerator's device type, None when there is none (always, here)."""
        return None

    @staticmethod
    def device_count() -> int:
        return 0


def set_default_device(device) -> None:
    """Where factories put new tensors: the CPU (or None, the same) is the only choice."""
    device_arg(device, "set_default_device")


def get_default_device() -> device:
    return CPU


__all__ = ["device", "device_arg", "cuda", "accelerator", "set_default_device",
           "get_default_device", "CPU"]
