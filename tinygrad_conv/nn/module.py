"""Module, the base of every layer, and the argument checks layers share (Parameter and the
uninitialized kinds are in parameter.py; they are imported here too).

A Module owns Parameters (trainable Tensors), buffers (state that is saved but not trained, such as
BatchNorm's running statistics) and child Modules, all registered by plain attribute assignment.
Their dotted names (`features.0.weight`) and the order they are listed in are PyTorch's, so a
`state_dict()` loads into the same architecture built with torch.nn, and back.

Calling a module pushes it onto `engine.STATE.module_path` while its forward runs, so every
recorded op knows which modules it ran inside (`node.module`); the graph drawing groups by that.

The layers themselves live one family per module (conv.py, linear.py, ...), the initialisers in
init.py.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Iterator, NamedTuple

import numpy as np

from ..autograd import STATE, Tensor
from .parameter import Parameter, UninitializedBuffer, UninitializedParameter, is_lazy  # noqa: F401


# ----------------------------------------------------------------------------------------------
# Module


class _IncompatibleKeys(NamedTuple):
    """What load_state_dict(strict=False) skipped: keys the model has but the dict lacks, and back."""
    missing_keys: list
    unexpected_keys: list

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"


def _check_name(name, what: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"{what} name should be a string, got {type(name).__name__}")
    if not name or "." in name:
        raise ValueError(f"{what} name must be a non-empty string without '.', got {name!r}")
    return name


def _indent(text: str, spaces: int) -> str:
    first, *rest = text.split("\n")
    return "\n".join([first] + [" " * spaces + line for line in rest])


class Module:
    """Base class of every layer and model: subclass it, assign layers in __init__, write forward.

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(1, 8, 3)
            def forward(self, x):
                return self.conv(x).relu()

    Attributes that are Parameters, Modules or registered buffers are tracked (in assignment
    order) and named with dots: `conv.weight`. `model(x)` calls forward.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required "
                                  f"'forward' method; define forward(self, x) in the subclass")

    def __call__(self, *args, **kwargs):
        # every op recorded while forward runs remembers that it ran inside this module
        outer = STATE.module_path
        STATE.module_path = outer + (self,)
        try:
            return self.forward(*args, **kwargs)
        finally:
            STATE.module_path = outer

    # --- registration ---------------------------------------------------------------------------
    def _registry(self, what: str) -> OrderedDict:
        table = self.__dict__.get(what)
        if table is None:
            raise AttributeError(f"cannot assign {what.strip('_')} before Module.__init__() call; "
                                 f"call super().__init__() first in {type(self).__name__}.__init__")
        return table

    def _forget(self, name: str) -> None:
        for table in ("_parameters", "_buffers", "_modules"):
            self.__dict__.get(table, {}).pop(name, None)
        self.__dict__.pop(name, None)
        self.__dict__.get("_non_persistent_buffers", set()).discard(name)

    def __setattr__(self, name: str, value) -> None:
        params, buffers, modules = (self.__dict__.get(t) for t in ("_parameters", "_buffers", "_modules"))
        if isinstance(value, Parameter):
            self._registry("_parameters")
            self._forget(name)
            params[name] = value
        elif isinstance(value, Module):
            self._registry("_modules")
            self._forget(name)
            modules[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign a {type(value).__name__} as parameter {name!r} of "
                                f"{type(self).__name__}: wrap it as nn.Parameter(...) (or assign None)")
            params[name] = None
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign a {type(value).__name__} as child module {name!r} "
                                f"of {type(self).__name__}: expected a Module or None")
            modules[name] = None
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign a {type(value).__name__} as buffer {name!r} of "
                                f"{type(self).__name__}: expected a Tensor or None")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        # only called when normal lookup fails: parameters, buffers and children live in tables
        for table in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(table)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        if any(name in self.__dict__.get(t, {}) for t in ("_parameters", "_buffers", "_modules")):
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None: a declared but absent one, such as bias=False)."""
        self._registry("_parameters")
        _check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign a {type(param).__name__} as parameter {name!r}: "
                            f"expected nn.Parameter or None")
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | np.ndarray | None,
                        persistent: bool = True) -> None:
        """Add state that is saved in state_dict (unless persistent=False) but not trained."""
        self._registry("_buffers")
        _check_name(name, "buffer")
        if name in self.__dict__ and name not in self._buffers:
            raise KeyError(f"attribute {name!r} already exists on {type(self).__name__}")
        if tensor is not None and not isinstance(tensor, Tensor):
            if not isinstance(tensor, np.ndarray):
                raise TypeError(f"cannot assign a {type(tensor).__name__} as buffer {name!r}: "
                                f"expected a Tensor, a numpy array or None")
            tensor = Tensor(tensor)
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Add a child module under `name` (as `self.name = module` does)."""
        self._registry("_modules")
        _check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass (child {name!r})")
        self._forget(name)
        self._modules[name] = module

    # --- traversal ------------------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """(name, module) for this module ('') and every descendant, depth first, parents first."""
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, prefix + ("." if prefix else "") + name,
                                               remove_duplicate)

    def modules(self) -> Iterator["Module"]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator["Module"]:
        for _, child in self.named_children():
            yield child

    def _named_members(self, table: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Tensor]]:
        seen = set()
        owners = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for owner_name, owner in owners:
            for name, value in owner.__dict__[table].items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield owner_name + ("." if owner_name else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter), in registration order, each shared parameter once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn: Callable[["Module"], None]) -> "Module":
        """Call fn on every submodule (children first) and then on self, e.g. to re-initialise."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- modes and gradients --------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode (Dropout drops, BatchNorm uses batch statistics) for self and descendants."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode: Dropout passes through, BatchNorm uses its running statistics."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the accumulated gradients: .grad = None (or zeros with set_to_none=False)."""
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad = Tensor(np.zeros_like(param.data))

    def to(self, *args, **kwargs) -> "Module":
        """Move to a device and/or convert the floating-point parameters and buffers, as torch:
        to(device), to(dtype), to(device, dtype), to(tensor) (its dtype), device=/dtype= keywords.

        Only the CPU exists here: 'cpu' (or a device object that prints as 'cpu') is accepted
        and changes nothing; any other device is refused. Integer buffers keep their dtype.
        """
        device, dtype = _parse_to(args, kwargs)
        cpu_device(device, "Module.to")
        if dtype is None:
            return self
        if dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating-point dtypes, but got desired "
                            f"dtype={dtype}")
        return self._convert_floats(dtype)

    def _convert_floats(self, dtype: np.dtype) -> "Module":
        for tensor in list(self.parameters()) + list(self.buffers()):
            if tensor.dtype.kind == "f" and tensor.dtype != dtype:
                if is_lazy(tensor):                          # only the dtype it will have
                    tensor._data = tensor._data.astype(dtype)
                    continue
                tensor.data = tensor.data.astype(dtype)          # assigning .data bumps the version
                if tensor.grad is not None:
                    tensor.grad = Tensor(tensor.grad.data.astype(dtype))
        return self

    def float(self) -> "Module":
        return self._convert_floats(np.dtype(np.float32))

    def double(self) -> "Module":
        return self._convert_floats(np.dtype(np.float64))

    def half(self) -> "Module":
        return self._convert_floats(np.dtype(np.float16))

    def cpu(self) -> "Module":
        """The model is on the CPU already (the only device): returns self."""
        return self

    def cuda(self, device=None) -> "Module":
        cpu_device("cuda" if device is None else f"cuda:{device}" if isinstance(device, int)
                   else device, "Module.cuda")
        return self

    # --- state_dict -----------------------------------------------------------------------------
    def state_dict(self, destination: OrderedDict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict:
        """name -> Tensor for every parameter and persistent buffer, with PyTorch's keys and order.

        The tensors share memory with the model (as in PyTorch): copy them to keep a snapshot
        while training goes on. keep_vars returns the Parameter objects themselves.
        """
        destination = OrderedDict() if destination is None else destination
        for name, param in self._parameters.items():
            if param is not None:                  # an uninitialized one stands for itself
                destination[prefix + name] = param if keep_vars or is_lazy(param) else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = buffer if keep_vars or is_lazy(buffer) else buffer.detach()
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False) -> _IncompatibleKeys:
        """Copy arrays (numpy arrays or Tensors, e.g. from tc.load or a torch state_dict) into the
        model's parameters and buffers, converting to their dtypes.

        strict=True refuses missing and unexpected keys; a wrong shape or a value that is not a
        numeric array is refused always. Every problem is listed in one ValueError, and then
        nothing is changed: all keys, shapes and dtypes are checked before the first write. A
        read-only target array is replaced by a converted copy instead of written into. An
        uninitialized parameter (a Lazy layer before its first forward) takes the shape of the
        value, as in torch. Returns the (missing_keys, unexpected_keys) that were skipped.
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"load_state_dict expects a mapping of names to arrays (such as "
                            f"model.state_dict() or tc.load(path)), got {type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict.keys() if key not in own]
        problems, updates = [], []
        if strict and missing:
            problems.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        if strict and unexpected:
            problems.append("Unexpected key(s) in state_dict: "
                            + ", ".join(f'"{k}"' for k in unexpected) + ".")
        for key, target in own.items():
            if key not in state_dict:
                continue
            given = state_dict[key]
            if is_lazy(given):
                if not is_lazy(target):
                    problems.append(f"value for {key} is an uninitialized parameter (a Lazy layer "
                                    f"that never ran forward); run the source model once first.")
                continue
            try:
                value = given.data if isinstance(given, Tensor) else np.asarray(given)
            except (TypeError, ValueError, RuntimeError) as err:
                problems.append(f"value for {key} could not be read as an array ({err}).")
                continue
            if value.dtype.kind not in "biuf":
                problems.append(f"value for {key} has dtype {value.dtype}, expected a numeric array.")
            elif not is_lazy(target) and value.shape != target.shape:
                problems.append(f"size mismatch for {key}: copying a param with shape {value.shape} "
                                f"from checkpoint, the shape in current model is {target.shape}.")
            else:
                updates.append((target, value))
        if problems:
            raise ValueError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                             + "\n\t".join(problems))
        for target, value in updates:              # every check passed: nothing below can fail
            if is_lazy(target):
                target.materialize(value.shape)
            if target.data.flags.writeable:
                target.data[...] = value
                target.mark_modified()
            else:
                target.data = value.astype(target.dtype, copy=True)   # bumps the version
        for module in self.modules():
            if hasattr(module, "_after_load"):      # Lazy layers learn their sizes
                module._after_load()
        return _IncompatibleKeys(missing, unexpected)

    # --- printing -------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The layer's settings, shown inside the parentheses of its repr."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): {_indent(repr(child), 2)}" for name, child in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"


# ----------------------------------------------------------------------------------------------
# Helpers for the layers' constructors


def _empty(shape, dtype) -> np.ndarray:
    """Zeros of `shape` for a parameter or buffer to be filled later; float32 unless dtype says."""
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    if dtype.kind != "f":
        raise TypeError(f"layer parameters must be floating point, got dtype={dtype}")
    return np.zeros(shape, dtype=dtype)


def cpu_device(device, fn: str) -> None:
    """Accept the CPU, the only device here: None, 'cpu', 'cpu:0', or any object that prints
    as one of those (torch.device('cpu'), tc.device('cpu')); refuse every other device."""
    if device is None:
        return
    name = f"cuda:{device}" if isinstance(device, int) and not isinstance(device, bool) else str(device)
    if name == "cpu" or name == "cpu:0":
        return
    raise RuntimeError(f"{fn}: tinygrad_conv runs on the CPU only, so device {name!r} is not "
                       f"available; use 'cpu' (the usual `device = 'cuda' if "
                       f"torch.cuda.is_available() else 'cpu'` gives 'cpu' here)")


_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "ipu", "mtia", "privateuseone")
_TORCH_DTYPE_NAMES = {"float": "float32", "double": "float64", "half": "float16", "long": "int64",
                      "int": "int32", "short": "int16"}


def dtype_arg(dtype) -> np.dtype:
    """A numpy dtype from np.float32, np.dtype(...), or any dtype object that prints as
    'torch.float32' / 'float64' (torch's names: float, double, half, long, ...)."""
    if isinstance(dtype, str):
        raise TypeError(f"expected a dtype such as tc.float32, got the string {dtype!r}")
    try:
        return np.dtype(dtype)
    except TypeError:
        name = str(dtype).rsplit(".", 1)[-1]
        try:
            return np.dtype(_TORCH_DTYPE_NAMES.get(name, name))
        except TypeError:
            raise TypeError(f"expected a dtype such as tc.float32 or np.float64, got "
                            f"{dtype!r}") from None


def _is_device(value) -> bool:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return True
    return str(value).split(":")[0] in _DEVICE_TYPES


def _parse_to(args: tuple, kwargs: dict):
    """Module.to's overloads: (device), (dtype), (device, dtype), (tensor), plus keywords."""
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "memory_format"}
    if unknown or len(args) > 3:
        raise TypeError(f"to() received an invalid combination of arguments: {args}, {kwargs}; "
                        f"expected to(device), to(dtype), to(device, dtype) or to(tensor)")
    device, dtype = kwargs.get("device"), kwargs.get("dtype")
    for arg in args:
        if isinstance(arg, bool):
            continue                                # non_blocking given positionally
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif _is_device(arg):
            device = arg
        else:
            dtype = arg
    return device, None if dtype is None else dtype_arg(dtype)
