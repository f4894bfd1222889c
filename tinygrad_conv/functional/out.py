"""out=: a function's result written into a tensor the caller gives, as PyTorch's
torch.mul(a, b, out=z) and torch.matmul(a, b, out=y): z holds the values and is returned.

As PyTorch: outside autograd only (a result that requires grad is refused), the result cast to
out's dtype where an in-place op could write it (never a float into an integer tensor), or of
out's dtype exactly for the functions that demand it (matmul), and out resized to the result's
shape when it has another one (with PyTorch's warning when out held values).
"""
from __future__ import annotations

import warnings

import numpy as np

from ..autograd import STATE, Tensor
from ..dtypes import can_cast, torch_name


def write_out(result: Tensor, out, fn: str, *, same_dtype: bool = False) -> Tensor:
    """out holding result's values (checked as above), returned."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{fn}(): argument 'out' must be a Tensor, not {type(out).__name__}")
    if STATE.grad_enabled and (result.requires_grad or out.requires_grad):
        raise RuntimeError(f"{fn}(): functions with out=... arguments don't support automatic "
                           f"differentiation, but one of the arguments requires grad. Drop "
                           f"out= (z = {fn}(...)) or compute under torch.no_grad()")
    if same_dtype and result.dtype != out.dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {result.dtype}, but got "
                           f"{out.dtype} instead")
    if not can_cast(result.dtype, out.dtype):
        raise RuntimeError(f"result type {torch_name(result.dtype)} can't be cast to the desired "
                           f"output type {torch_name(out.dtype)}")
    if out.shape != result.shape:
        if out._data.size:
            warnings.warn(f"{fn}: an output with one or more elements was resized since it had "
                          f"shape {list(out.shape)}, which does not match the required output "
                          f"shape {list(result.shape)}.", UserWarning, stacklevel=3)
        out.data = np.empty(result.shape, out.dtype)
    out.data[...] = result._data
    out.mark_modified()
    return out
