"""The public functional API (as torch.nn.functional), and the composites behind Tensor methods.

Nothing here has a VJP of its own: every function checks and normalises its arguments (refusing,
before any work, whatever PyTorch refuses), then calls primitives from `ops`.
"""
from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np

from . import ops, random
from .engine import Tensor
from .kernels import pool_out_size


# ----------------------------------------------------------------------------------------------
# Argument checking


def _tensor(x, name: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, list, tuple, int, float, np.generic)):
        return Tensor(x)
    raise TypeError(f"{name} must be a Tensor (or array-like), got {type(x).__name__}")


def _int(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int or a tuple of ints, got {value!r} "
                        f"({type(value).__name__})")
    return int(value)


def _pair(value, name: str, *, minimum: int | None = None, why: str = "") -> tuple[int, int]:
    """An int or a 2-sequence of ints as (height, width), each at least `minimum`."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            value = (value[0], value[0])
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (height, width), got {tuple(value)} "
                             f"with {len(value)} entries")
        pair = (_int(value[0], name), _int(value[1], name))
    else:
        pair = (_int(value, name),) * 2
    if minimum is not None and min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum}{why}, got {name}={value!r}")
    return pair


def _image_input(x: Tensor, name: str, fn: str, integer_dtypes=None) -> tuple[Tensor, bool]:
    """Accept (N, C, H, W), or unbatched (C, H, W) as PyTorch does; returns the 4-D view.

    Floating-point data, and integer data of `integer_dtypes` (None: any) as PyTorch's CPU
    kernels take them (integer data cannot require gradients).
    """
    if x.ndim not in (3, 4):
        raise ValueError(f"{fn}: expected {name} of shape (N, C, H, W) or unbatched (C, H, W), got "
                         f"{x.ndim}-D input of shape {tuple(x.shape)}"
                         + ("; add batch and channel axes, e.g. x.reshape(1, 1, H, W)"
                            if x.ndim == 2 else ""))
    integer_ok = x.dtype.kind in "iu" and (integer_dtypes is None or x.dtype in integer_dtypes)
    if x.dtype.kind != "f" and not integer_ok:
        allowed = "floating-point" + (" or integer" if integer_dtypes is None else
                                      "".join(f" or {np.dtype(d)}" for d in integer_dtypes))
        raise TypeError(f"{fn}: {name} has dtype {x.dtype}, but {fn} takes {allowed} data; "
                        f"convert it with .float()")
    if x.ndim == 3:
        return ops.reshape(x, shape=(1,) + x.shape), True
    return x, False


def _same_numeric_dtype(fn: str, *named: tuple[str, Tensor]) -> None:
    """Matrix products take numbers of one dtype, as in PyTorch (no implicit promotion)."""
    (first, x), *others = named
    if x.dtype.kind not in "iuf":
        raise TypeError(f"{fn}: {first} has dtype {x.dtype}; expected floating-point or integer "
                        f"data, e.g. {first}.float()")
    for name, t in others:
        if t.dtype != x.dtype:
            raise TypeError(f"{fn}: {first} ({x.dtype}) and {name} ({t.dtype}) must have the same "
                            f"dtype; convert one, e.g. {first}.to({name}.dtype) or .float()")


def _broadcast_shape(*shapes) -> tuple | None:
    """The numpy broadcast of `shapes`, or None if they do not broadcast."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        return None


def _unbatch(y: Tensor, unbatched: bool) -> Tensor:
    return ops.reshape(y, shape=y.shape[1:]) if unbatched else y


def _axis(axis: int, ndim: int, name: str = "dim") -> int:
    axis = _int(axis, name)
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise ValueError(f"{name}={axis} is out of range for a tensor with {ndim} dimensions "
                         f"(expected {-max(ndim, 1)} <= {name} < {max(ndim, 1)})")
    return axis % max(ndim, 1)


def reduce_args(x: Tensor, axis, keepdims, dim, keepdim) -> dict:
    """numpy's axis/keepdims or PyTorch's dim/keepdim, as the primitives' axis=..., keepdims=..."""
    axis = dim if dim is not None else axis
    keepdims = keepdim if keepdim is not None else keepdims
    if axis is not None:
        axes = tuple(_axis(a, x.ndim) for a in (axis if isinstance(axis, (tuple, list)) else (axis,)))
        axis = axes if isinstance(axis, (tuple, list)) else axes[0]
    return {"axis": axis, "keepdims": bool(keepdims)}


def dims_arg(x: Tensor, dims) -> tuple:
    dims = dims if isinstance(dims, (tuple, list)) else (dims,)
    return tuple(_axis(d, x.ndim) for d in dims)


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(_int(n, "shape") for n in shape)


# ----------------------------------------------------------------------------------------------
# Shapes, indexing, joining (composites behind Tensor methods and tc.cat / tc.stack)


def reshape(x: Tensor, *shape) -> Tensor:
    """y = x with a new shape (one entry may be -1: inferred)."""
    shape = _shape_arg(shape)
    known = math.prod(n for n in shape if n != -1)
    if shape.count(-1) > 1 or any(n < -1 for n in shape):
        raise ValueError(f"invalid shape {shape}: at most one -1 and no other negative sizes")
    if -1 in shape:
        if known == 0 or x.data.size % known:
            raise ValueError(f"shape {shape} is invalid for input of size {x.data.size} "
                             f"(shape {tuple(x.shape)})")
        shape = tuple(x.data.size // known if n == -1 else n for n in shape)
    if math.prod(shape) != x.data.size:
        raise ValueError(f"shape {shape} is invalid for input of size {x.data.size} (shape "
                         f"{tuple(x.shape)}): the number of elements must stay the same")
    return x if shape == x.shape else ops.reshape(x, shape=shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge axes start_dim..end_dim into one."""
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = _axis(start_dim, x.ndim, "start_dim"), _axis(end_dim, x.ndim, "end_dim")
    if start > end:
        raise ValueError(f"flatten: start_dim ({start_dim}) must not come after end_dim ({end_dim})")
    return reshape(x, x.shape[:start] + (-1,) + x.shape[end + 1:])


def permute(x: Tensor, *dims) -> Tensor:
    """Reorder the axes: y.shape[i] = x.shape[dims[i]]."""
    dims = _shape_arg(dims)
    norm = tuple(_axis(d, x.ndim) for d in dims)
    if sorted(norm) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {dims} must be a permutation of the {x.ndim} axes of a "
                         f"tensor of shape {tuple(x.shape)}")
    return ops.permute(x, dims=norm)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two axes."""
    dims = list(range(x.ndim))
    a, b = _axis(dim0, x.ndim, "dim0"), _axis(dim1, x.ndim, "dim1")
    dims[a], dims[b] = dims[b], dims[a]
    return ops.permute(x, dims=tuple(dims))


def expand(x: Tensor, *shape) -> Tensor:
    """Broadcast to `shape` (-1 keeps a size), as torch.Tensor.expand."""
    shape = _shape_arg(shape)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: the target shape {shape} has fewer dimensions than the tensor "
                         f"({tuple(x.shape)})")
    full = tuple(x.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape))
    for i, n in enumerate(x.shape):
        if n != 1 and n != full[lead + i]:
            raise ValueError(f"expand: size {n} of dimension {i} of shape {tuple(x.shape)} must be "
                             f"1 or match the target {full[lead + i]} (target shape {shape})")
    return ops.expand(x, shape=full)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    dim = _axis(dim, x.ndim + 1)
    return ops.reshape(x, shape=x.shape[:dim] + (1,) + x.shape[dim:])


def squeeze(x: Tensor, dim=None) -> Tensor:
    dims = range(x.ndim) if dim is None else dims_arg(x, dim)
    shape = tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1))
    return x if shape == x.shape else ops.reshape(x, shape=shape)


def getitem(x: Tensor, index) -> Tensor:
    """y = x[index] (basic slicing, integer and boolean arrays, as numpy)."""
    items = index if isinstance(index, tuple) else (index,)
    items = tuple(np.asarray(i.data) if isinstance(i, Tensor) else
                  np.asarray(i) if isinstance(i, list) else i for i in items)
    return ops.getitem(x, index=items if isinstance(index, tuple) else items[0])


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing axis `dim`."""
    tensors = [_tensor(t, "tensors[i]") for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    axis = _axis(dim, tensors[0].ndim)
    for i, t in enumerate(tensors):
        if t.ndim != tensors[0].ndim or any(a != b for k, (a, b) in enumerate(zip(t.shape, tensors[0].shape)) if k != axis):
            raise ValueError(f"cat: tensors[{i}] has shape {tuple(t.shape)}, which does not match "
                             f"{tuple(tensors[0].shape)} except along dim {axis}")
    return ops.cat(*tensors, axis=axis)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis `dim`."""
    tensors = [_tensor(t, "tensors[i]") for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: all tensors must have the same shape, but tensors[0] has "
                             f"{tuple(tensors[0].shape)} and tensors[{i}] has {tuple(t.shape)}")
    return cat([unsqueeze(t, dim) for t in tensors], dim)


def matmul(x: Tensor, y: Tensor) -> Tensor:
    """Matrix product with numpy/PyTorch rules: 1-D operands are promoted to matrices, batch axes broadcast."""
    x, y = _tensor(x, "input"), _tensor(y, "other")
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"matmul: both arguments need at least 1 dimension, got shapes "
                         f"{tuple(x.shape)} and {tuple(y.shape)}; use * for scalars")
    _same_numeric_dtype("matmul", ("input", x), ("other", y))
    xm = ops.reshape(x, shape=(1,) + x.shape) if x.ndim == 1 else x
    ym = ops.reshape(y, shape=y.shape + (1,)) if y.ndim == 1 else y
    if xm.shape[-1] != ym.shape[-2]:
        raise ValueError(f"matmul: shapes {tuple(x.shape)} and {tuple(y.shape)} cannot be "
                         f"multiplied ({xm.shape[-1]} != {ym.shape[-2]}): the last dimension of "
                         f"the first must equal the {'only' if y.ndim == 1 else 'second-to-last'} "
                         f"dimension of the second")
    try:
        np.broadcast_shapes(xm.shape[:-2], ym.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dimensions {xm.shape[:-2]} and {ym.shape[:-2]} of shapes "
                         f"{tuple(x.shape)} and {tuple(y.shape)} do not broadcast") from None
    z = ops.matmul(xm, ym)
    if x.ndim == 1:
        z = ops.reshape(z, shape=z.shape[:-2] + z.shape[-1:])
    if y.ndim == 1:
        z = ops.reshape(z, shape=z.shape[:-1])
    return z


def mean(x: Tensor, axis=None, keepdims=False) -> Tensor:
    """Average over `axis`: sum / number of summed entries."""
    total = ops.sum_(x, axis=axis, keepdims=keepdims)
    return total / (x.data.size // max(total.data.size, 1) if x.data.size else 1)


# ----------------------------------------------------------------------------------------------
# Activations and linear layers


def relu(input: Tensor) -> Tensor:
    """y = max(x, 0)"""
    return ops.relu(_tensor(input, "input"))


def tanh(input: Tensor) -> Tensor:
    """y = tanh x"""
    return ops.tanh(_tensor(input, "input"))


def sigmoid(input: Tensor) -> Tensor:
    """y = 1 / (1 + e^-x)"""
    return ops.sigmoid(_tensor(input, "input"))


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b.   x: (..., in), W: (out, in), b: (out,) -> y: (..., out)"""
    x, w = _tensor(input, "input"), _tensor(weight, "weight")
    if w.ndim not in (1, 2):
        raise ValueError(f"linear: weight must be (out_features, in_features), got shape {tuple(w.shape)}")
    if x.ndim == 0 or x.shape[-1] != w.shape[-1]:
        raise ValueError(f"linear: input's last dimension must equal in_features={w.shape[-1]} "
                         f"(weight shape {tuple(w.shape)}), but input has shape {tuple(x.shape)}"
                         + ("; did you forget to flatten (x.flatten(1))?" if x.ndim > 2 else ""))
    b = None if bias is None else _tensor(bias, "bias")
    _same_numeric_dtype("linear", ("input", x), ("weight", w), *([] if b is None else [("bias", b)]))
    if b is not None:
        out_shape = x.shape[:-1] + w.shape[:-1]
        if w.ndim == 1:
            raise ValueError(f"linear: a 1-D weight {tuple(w.shape)} takes no bias (got bias of "
                             f"shape {tuple(b.shape)}); use a weight of shape (1, {w.shape[0]})")
        if _broadcast_shape(b.shape, out_shape) != out_shape:
            raise ValueError(f"linear: bias of shape {tuple(b.shape)} does not broadcast to the "
                             f"output shape {out_shape}; expected shape ({w.shape[0]},), one per "
                             f"output feature")
    y = matmul(x, transpose(w, 0, 1) if w.ndim == 2 else w)
    return y if b is None else y + b


# ----------------------------------------------------------------------------------------------
# Convolution


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """y = pad(x) ⋆ w + b: 2-D cross-correlation, as torch.nn.functional.conv2d.

    input: (N, C, H, W) or (C, H, W); weight: (F, C/groups, KH, KW); bias: (F,)
    -> (N, F, OH, OW) with OH = floor((H + 2*padding - dilation*(KH-1) - 1) / stride) + 1.
    padding: int, pair, 'valid' (no padding) or 'same' (output size = input size, stride 1 only).
    """
    x, unbatched = _image_input(_tensor(input, "input"), "input", "conv2d")
    w = _tensor(weight, "weight")
    if w.ndim != 4:
        raise ValueError(f"conv2d: weight must be 4-D (out_channels, in_channels/groups, kH, kW), "
                         f"got shape {tuple(w.shape)}")
    if w.dtype != x.dtype:
        raise TypeError(f"conv2d: input ({x.dtype}) and weight ({w.dtype}) must have the same "
                        f"dtype; convert one with .float() or .double()")
    groups = _int(groups, "groups")
    if groups < 1:
        raise ValueError(f"conv2d: groups must be a positive integer, got groups={groups}")
    stride = _pair(stride, "stride", minimum=1, why=" (a zero or negative step is meaningless)")
    dilation = _pair(dilation, "dilation", minimum=1)
    if x.dtype.kind in "iu" and x.dtype != np.int64 and dilation != (1, 1):
        raise TypeError(f"conv2d: dilated convolution of {x.dtype} data is not supported (as in "
                        f"PyTorch); use int64 or floating-point data")
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    if F < groups or F % groups:
        raise ValueError(f"conv2d: out_channels={F} (weight shape {tuple(w.shape)}) must be a "
                         f"positive multiple of groups={groups}")
    if C % groups:
        raise ValueError(f"conv2d: in_channels={C} (input shape {tuple(input.shape)}) must be "
                         f"divisible by groups={groups}")
    if Cg * groups != C:
        hint = ""
        if x.shape[-1] == Cg * groups:
            hint = ("; the last dimension matches, so the input looks channels-last (NHWC): "
                    "use x.permute(0, 3, 1, 2)")
        raise ValueError(f"conv2d: weight of shape {tuple(w.shape)} with groups={groups} expects "
                         f"input with {Cg * groups} channels, but got input of shape "
                         f"{tuple(input.shape)} with {C} channels (dimension 1){hint}")
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0), (0, 0))
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError("conv2d: padding='same' is not supported for strided convolutions "
                                 f"(stride={stride}); give the padding as numbers instead")
            # total padding d*(K-1), the odd pixel goes after, as PyTorch
            pads = tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                         for d, k in zip(dilation, (KH, KW)))
        else:
            raise ValueError(f"conv2d: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
    else:
        ph, pw = _pair(padding, "padding", minimum=0, why=" for conv2d (crop the input instead)")
        pads = ((ph, ph), (pw, pw))
    Hp, Wp = H + sum(pads[0]), W + sum(pads[1])
    EH, EW = dilation[0] * (KH - 1) + 1, dilation[1] * (KW - 1) + 1
    if EH > Hp or EW > Wp:
        raise ValueError(f"conv2d: the (dilated) kernel is larger than the padded input: padded "
                         f"input size per channel ({Hp} x {Wp}), kernel extent ({EH} x {EW}) from "
                         f"kernel ({KH} x {KW}) and dilation {dilation}; use a smaller kernel or "
                         f"more padding")
    if bias is not None:
        bias = _tensor(bias, "bias")
        if bias.shape != (F,):
            raise ValueError(f"conv2d: bias must have shape ({F},), one per output channel, got "
                             f"{tuple(bias.shape)}")
        if bias.dtype != x.dtype:
            if not isinstance(padding, str):        # PyTorch refuses, except for 'same'/'valid',
                raise TypeError(f"conv2d: input ({x.dtype}) and bias ({bias.dtype}) must have "
                                f"the same dtype; convert the bias, e.g. "
                                f"bias.to({x.dtype.name})")
            bias = bias.to(x.dtype)                 # where it converts the bias
    y = ops.conv2d(x, w, stride=stride, padding=pads, dilation=dilation, groups=groups)
    if bias is not None:
        y = y + ops.reshape(bias, shape=(1, F, 1, 1))   # db = sum of dY over N, OH, OW
    return _unbatch(y, unbatched)


# ----------------------------------------------------------------------------------------------
# Pooling


def _pool_args(fn, x, kernel_size, stride, padding, dilation, ceil_mode):
    """Check pooling parameters as PyTorch does; returns the normalised primitive parameters."""
    kernel = _pair(kernel_size, "kernel_size", minimum=1)
    stride = kernel if stride is None or (isinstance(stride, (list, tuple)) and not stride) \
        else _pair(stride, "stride", minimum=1)
    padding = _pair(padding, "padding", minimum=0)
    dilation = _pair(dilation, "dilation", minimum=1)
    if 0 in x.shape[1:]:
        raise ValueError(f"{fn}: expected an input with non-zero channels, height and width "
                         f"(only the batch may be empty), got shape {tuple(x.shape)}")
    for p, k, name in zip(padding, kernel, ("height", "width")):
        if p > k // 2:
            raise ValueError(f"{fn}: padding should be at most half of the kernel size, but got "
                             f"padding={padding} for kernel_size={kernel} ({name}); padding acts "
                             f"as -inf/0, so wider padding would make whole windows of padding")
    N, C, H, W = x.shape
    out = tuple(pool_out_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip((H, W), kernel, stride, padding, dilation))
    if min(out) < 1:
        raise ValueError(f"{fn}: input of shape {tuple(x.shape)} is too small for kernel_size="
                         f"{kernel}, stride={stride}, padding={padding}, dilation={dilation}: "
                         f"calculated output size {out}; use a smaller kernel or more padding")
    # ceil_mode's last partial window reads past the padding: extend the bottom/right border
    extra = tuple(max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p))
                  for o, s, d, k, n, p in zip(out, stride, dilation, kernel, (H, W), padding))
    pads = tuple((p, p + e) for p, e in zip(padding, extra))
    return kernel, stride, pads, dilation


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """y[n,c,i,j] = max over the window at (i*stride, j*stride), as torch.nn.functional.max_pool2d.

    input: (N, C, H, W) or (C, H, W) -> (N, C, OH, OW). Padding acts as -inf. The gradient goes to
    the first maximum of each window in row-major order; overlapping windows add up.
    return_indices also returns the flat index h*W + w of each maximum (int64, as PyTorch), or
    -1 for a window that covers only padding (PyTorch returns an arbitrary index there).
    """
    x, unbatched = _image_input(_tensor(input, "input"), "input", "max_pool2d")
    kernel, stride, pads, dilation = _pool_args("max_pool2d", x, kernel_size, stride, padding,
                                                dilation, ceil_mode)
    y = ops.max_pool2d(x, kernel=kernel, stride=stride, padding=pads, dilation=dilation)
    if not return_indices:
        return _unbatch(y, unbatched)
    # the argmax the forward saved for the VJP (computed again only when nothing was recorded)
    index = y.node.saved if y.node is not None else \
        ops.pool.argmax_indices(x.data, kernel, stride, pads, dilation)
    return _unbatch(y, unbatched), Tensor(index[0] if unbatched else index)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None) -> Tensor:
    """y[n,c,i,j] = (sum over the window at (i*stride, j*stride)) / divisor, as PyTorch.

    input: (N, C, H, W) or (C, H, W) -> (N, C, OH, OW). The divisor is the window size, counting
    zero padding when count_include_pad (never the ceil_mode border), or divisor_override.
    """
    x, unbatched = _image_input(_tensor(input, "input"), "input", "avg_pool2d", (np.int64,))
    kernel, stride, pads, _ = _pool_args("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and (_int(divisor_override, "divisor_override") == 0):
        raise ValueError("avg_pool2d: divisor_override must be non-zero, got 0")
    return _unbatch(ops.avg_pool2d(x, kernel=kernel, stride=stride, padding=pads,
                                   count_include_pad=bool(count_include_pad),
                                   divisor_override=divisor_override), unbatched)


# ----------------------------------------------------------------------------------------------
# Padding


def _source_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each output position along one axis, the input position it copies (non-constant modes)."""
    if mode == "circular":                  # as PyTorch: crop negative sides first, then wrap
        start, kept = max(-before, 0), n - max(-before, 0) - max(-after, 0)
        return start + np.arange(-max(before, 0), kept + max(after, 0)) % kept
    i = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    i = np.abs(i)                                   # reflect about the first entry ...
    return np.where(i > n - 1, 2 * (n - 1) - i, i)  # ... and about the last


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last len(pad)//2 dimensions, as torch.nn.functional.pad.

    pad = (left, right, top, bottom, ...): pairs for the last dimension first. In 'constant' mode
    a negative width crops. 'reflect' mirrors without repeating the edge, 'replicate' repeats it,
    'circular' wraps around. Constant padding's gradient is the slice that undoes it; the other
    modes are gathers, whose gradient adds the copies back onto their source entries.
    """
    x = _tensor(input, "input")
    if not isinstance(pad, (list, tuple)) or not all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pad):
        raise TypeError(f"pad: pad must be a tuple of ints, got {pad!r}")
    if len(pad) % 2:
        raise ValueError(f"pad: pad must have an even number of entries (a before/after pair per "
                         f"dimension, last dimension first), got {len(pad)}: {tuple(pad)}")
    if len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: pad {tuple(pad)} pads {len(pad) // 2} dimensions but the input "
                         f"has only {x.ndim} (shape {tuple(x.shape)})")
    k = len(pad) // 2
    widths = tuple((int(pad[2 * j]), int(pad[2 * j + 1])) for j in reversed(range(k)))
    dims = x.shape[x.ndim - k:]
    if mode == "constant":
        for j, (n, (b, a)) in enumerate(zip(dims, widths)):
            if n - max(-b, 0) - max(-a, 0) < 0:       # negative widths crop first, then pad
                raise ValueError(f"pad: dimension {x.ndim - k + j} of size {n} cannot be cropped "
                                 f"by the negative padding in ({b}, {a}): removing "
                                 f"{max(-b, 0) + max(-a, 0)} entries leaves a negative size "
                                 f"{n - max(-b, 0) - max(-a, 0)}")
        return ops.pad(x, widths=widths, value=0.0 if value is None else float(value))
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    if value is not None and value != 0:
        raise ValueError(f"pad: mode '{mode}' does not take a value argument (got value={value})")
    if not (k + 1 <= x.ndim <= k + 2) or not 1 <= k <= 3:
        raise ValueError(f"pad: mode '{mode}' pads 1 to 3 dimensions (2, 4 or 6 pad entries) of "
                         f"an input with 1 or 2 more dimensions (batch and channels), got "
                         f"{len(pad)} entries for shape {tuple(x.shape)}")
    if mode != "circular" and x.dtype == np.bool_:
        raise TypeError(f"pad: mode '{mode}' does not support boolean input; convert it first, "
                        f"e.g. x.float() (or use mode='constant' or 'circular')")
    if mode != "circular" and 0 in x.shape[x.ndim - k - 1 if x.ndim == k + 2 else 0:]:
        raise ValueError(f"pad: mode '{mode}' needs non-empty dimensions (only a batch may be "
                         f"empty), got shape {tuple(x.shape)}")
    for j, (n, (b, a)) in enumerate(zip(dims, widths)):
        axis = x.ndim - k + j
        if mode == "reflect" and (b >= n or a >= n):
            raise ValueError(f"pad: reflect padding ({b}, {a}) must be smaller than the size {n} "
                             f"of dimension {axis} (input shape {tuple(x.shape)}); use 'replicate' "
                             f"or pad less")
        kept = n - max(-b, 0) - max(-a, 0)           # what is left after cropping
        if mode == "circular" and (b > n or a > n or (max(b, a) > kept and n + b + a > 0)):
            raise ValueError(f"pad: circular padding ({b}, {a}) of dimension {axis} (input shape "
                             f"{tuple(x.shape)}) would wrap around more than once: each side can "
                             f"copy at most the {kept} entries left after cropping")
        if n + b + a < 0:
            raise ValueError(f"pad: dimension {axis} of size {n} with padding ({b}, {a}) would "
                             f"have negative size {n + b + a}")
    sizes = [n + b + a for n, (b, a) in zip(dims, widths)]
    if mode != "circular" and max(sizes) < 1:       # as PyTorch: one padded size must be >= 1
        raise ValueError(f"pad: mode '{mode}' with padding {tuple(pad)} leaves nothing of input "
                         f"shape {tuple(x.shape)}: the padded sizes would be {tuple(sizes)}")
    for j, (n, (b, a)) in enumerate(zip(dims, widths)):
        lead = (slice(None),) * (x.ndim - k + j)
        x = ops.getitem(x, index=lead + (_source_index(n, b, a, mode),))
    return x


# ----------------------------------------------------------------------------------------------
# Losses, normalisation, dropout


def _class_axis(x: Tensor, dim, fn: str) -> int:
    if dim is None:
        raise ValueError(f"{fn}: dim must be given (the axis that holds the classes), e.g. "
                         f"{fn}(x, dim=1) for logits of shape (N, C)")
    if x.ndim == 0:
        raise ValueError(f"{fn}: input must have at least one dimension, got a 0-D tensor")
    return _axis(dim, x.ndim)


def _shift_by_max(x: Tensor, axis: int) -> Tensor:
    """z = x - max_j x_j along `axis`, the max taken as a constant.

    Softmax is unchanged by subtracting any constant from a row, so treating the max as a
    constant leaves the values and all derivatives exact, while e^z <= 1 never overflows.
    """
    return x - Tensor(np.max(x.data, axis=axis, keepdims=True))


def softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """y_i = e^{x_i} / sum_j e^{x_j} along `dim`.   any shape -> same shape, rows sum to 1"""
    x = _tensor(input, "input")
    axis = _class_axis(x, dim, "softmax")
    e = ops.exp(_shift_by_max(x, axis))
    return e / ops.sum_(e, axis=axis, keepdims=True)


def log_softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """y_i = x_i - log sum_j e^{x_j} along `dim`, computed as z_i - log sum_j e^{z_j} with z = x - max x.

    any shape -> same shape. Stable for large logits: exp only ever sees z <= 0.
    """
    x = _tensor(input, "input")
    axis = _class_axis(x, dim, "log_softmax")
    z = _shift_by_max(x, axis)
    return z - ops.log(ops.sum_(ops.exp(z), axis=axis, keepdims=True))


_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction, fn: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{fn}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction


def _class_targets(target, x: Tensor, ignore_index: int, fn: str) -> np.ndarray:
    """Integer class targets as an int64 array of x's shape without the class axis (axis 1)."""
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype not in (np.int64, np.uint8):          # PyTorch takes Long (or Byte) targets
        raise TypeError(f"{fn}: target must hold integer class indices of dtype int64 (or "
                        f"uint8), got dtype {t.dtype}; convert with .long() (Tensor) or "
                        f".astype(np.int64) (numpy)")
    expected = x.shape[:1] + x.shape[2:] if x.ndim >= 2 else ()
    if t.shape != expected:
        raise ValueError(f"{fn}: target of shape {t.shape} does not match input of shape "
                         f"{tuple(x.shape)}: expected one class index per row, shape {expected} "
                         f"(the input without its class dimension)")
    C = x.shape[1] if x.ndim >= 2 else x.shape[0]
    bad = (t != ignore_index) & ((t < 0) | (t >= C))
    if bad.any():
        raise ValueError(f"{fn}: target holds class index {int(t[bad].flat[0])}, but the input has "
                         f"{C} classes (valid indices 0..{C - 1}, or ignore_index={ignore_index})")
    return t.astype(np.int64)


def _mean_of(total: Tensor, count) -> Tensor:
    """total / count for reduction='mean'; with every target ignored (count 0) the loss is
    0/0 = nan, and, as in PyTorch, its gradient is zero."""
    if count == 0:
        return total + Tensor(np.asarray(np.nan, dtype=total.dtype))
    return total / Tensor(np.asarray(count, dtype=total.dtype))


def _rows_of_classes(x: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N*d1*..., C), and (C,) -> (1, C): one row of class scores per target."""
    if x.ndim == 2:
        return x
    if x.ndim == 1:
        return ops.reshape(x, shape=(1, x.shape[0]))
    C = x.shape[1]
    classes_last = ops.permute(x, dims=(0,) + tuple(range(2, x.ndim)) + (1,))
    return ops.reshape(classes_last, shape=(x.data.size // C, C))


def nll_loss(input: Tensor, target, weight: Tensor | None = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """loss_n = -w[t_n] * input[n, t_n]; 'mean' divides the sum by sum_n w[t_n].

    input: (N, C) log-probabilities (or (C,), or (N, C, d1, ...)); target: (N,) integer classes
    (or (), or (N, d1, ...)) as a numpy array or Tensor; weight: (C,) per-class weights.
    Targets equal to ignore_index contribute nothing. -> scalar, or target's shape for 'none'.
    """
    x = _tensor(input, "input")
    _check_reduction(reduction, "nll_loss")
    if x.ndim == 0:
        raise ValueError("nll_loss: input must be (N, C) or (C,) log-probabilities, got a 0-D tensor")
    t = _class_targets(target, x, ignore_index, "nll_loss")
    C = x.shape[1] if x.ndim >= 2 else x.shape[0]
    rows = _rows_of_classes(x)
    flat = t.reshape(-1)
    kept = flat != ignore_index
    classes = np.where(kept, flat, 0)
    if weight is None:
        w = kept.astype(x.dtype)
    else:
        weight = _tensor(weight, "weight")
        if weight.shape != (C,):
            raise ValueError(f"nll_loss: weight must have shape ({C},), one per class, got "
                             f"{tuple(weight.shape)}")
        w = (weight.data[classes] * kept).astype(x.dtype)
    picked = ops.getitem(rows, index=(np.arange(len(flat)), classes))        # input[n, t_n]
    losses = -picked * Tensor(w)
    if reduction == "none":
        return ops.reshape(losses, shape=t.shape)
    total = ops.sum_(losses)
    return total if reduction == "sum" else _mean_of(total, w.sum())


def cross_entropy(input: Tensor, target, weight: Tensor | None = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """loss_n = -log softmax(x_n)[t_n] = log sum_j e^{x_nj} - x_{n t_n}   (= nll_loss(log_softmax(x, 1), t))

    input: (N, C) raw scores (logits), or (C,), or (N, C, d1, ...); target: (N,) integer classes
    as a numpy array or Tensor, or class probabilities of the input's shape (then
    loss_n = -sum_c w_c p_nc log softmax(x_n)_c). -> scalar, or (N, ...) for reduction='none'.
    label_smoothing = s mixes the target with the uniform distribution, (1 - s) t + s / C, as
    PyTorch: for class indices the loss is (1 - s) loss + s/C * (-sum_c w_c log softmax(x_n)_c).
    """
    x = _tensor(input, "input")
    _check_reduction(reduction, "cross_entropy")
    if x.ndim == 0:
        raise ValueError("cross_entropy: input must be (N, C) or (C,) logits, got a 0-D tensor")
    if x.dtype.kind != "f":
        raise TypeError(f"cross_entropy: input must hold floating-point logits, got dtype "
                        f"{x.dtype}; convert it with .float()")
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)) \
            or not 0 <= label_smoothing <= 1:
        raise ValueError(f"cross_entropy: label_smoothing must be a number between 0.0 and 1.0, "
                         f"got {label_smoothing!r}")
    class_axis = 1 if x.ndim >= 2 else 0
    C = x.shape[class_axis]
    class_shape = tuple(C if i == class_axis else 1 for i in range(x.ndim))
    if weight is not None:
        weight = _tensor(weight, "weight")
        if weight.shape != (C,):
            raise ValueError(f"cross_entropy: weight must have shape ({C},), one per class, got "
                             f"{tuple(weight.shape)}")
    logp = log_softmax(x, dim=class_axis)
    is_probabilities = (isinstance(target, Tensor) and np.issubdtype(target.dtype, np.floating)) \
        or (isinstance(target, np.ndarray) and target.dtype.kind == "f")
    if not is_probabilities:
        loss = nll_loss(logp, target, weight=weight, ignore_index=ignore_index, reduction=reduction)
        if not label_smoothing:
            return loss
        # the uniform part, over the same rows (and with the same normaliser) as the nll part
        t = _class_targets(target, x, ignore_index, "cross_entropy")
        kept = t != ignore_index
        if weight is not None:
            logp = logp * ops.reshape(weight, shape=class_shape)
        uniform = -ops.sum_(logp, axis=class_axis) * Tensor(kept.astype(x.dtype))
        if reduction != "none":
            uniform = ops.sum_(uniform)
        if reduction == "mean":
            rows = kept.sum() if weight is None else (weight.data[np.where(kept, t, 0)] * kept).sum()
            uniform = _mean_of(uniform, rows)
        return loss * (1 - label_smoothing) + uniform * (label_smoothing / C)
    p = _tensor(target, "target")
    if p.shape != x.shape:
        raise ValueError(f"cross_entropy: a floating-point target holds class probabilities and "
                         f"must have the input's shape {tuple(x.shape)}, got {tuple(p.shape)}; "
                         f"for class indices pass an integer array")
    if ignore_index != -100:
        raise ValueError(f"cross_entropy: ignore_index={ignore_index} is not supported for "
                         f"probability targets (as in PyTorch); give the ignored rows zero "
                         f"probabilities instead")
    if label_smoothing:
        p = p * (1 - label_smoothing) + label_smoothing / C
    if weight is not None:
        logp = logp * ops.reshape(weight, shape=class_shape)
    losses = -ops.sum_(p * logp, axis=class_axis)
    if reduction == "none":
        return losses
    total = ops.sum_(losses)
    return total if reduction == "sum" else total / max(losses.data.size, 1)


def mse_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """loss = (x - y)^2, averaged ('mean'), summed ('sum') or elementwise ('none').

    input, target: the same shape (a different shape broadcasts, with a warning, as in PyTorch).
    """
    x, y = _tensor(input, "input"), _tensor(target, "target")
    _check_reduction(reduction, "mse_loss")
    if x.shape != y.shape:
        warnings.warn(f"mse_loss: using a target size {tuple(y.shape)} that is different to the "
                      f"input size {tuple(x.shape)}. This will likely lead to incorrect results "
                      f"due to broadcasting. Please ensure they have the same size.", stacklevel=2)
    diff = x - y
    squared = diff * diff
    if reduction == "none":
        return squared
    return ops.sum_(squared) if reduction == "sum" else mean(squared)


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """y = x * m / (1 - p) with m_i ~ Bernoulli(1 - p) in training, y = x otherwise.

    Any shape. Scaling the kept entries by 1/(1-p) keeps E[y] = x, so evaluation needs no change.
    The mask is drawn from the framework's generator (tc.manual_seed makes it repeatable).
    """
    x = _tensor(input, "input")
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)):
        raise TypeError(f"dropout: p must be a number between 0 and 1, got {p!r} ({type(p).__name__})")
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: probability p has to be between 0 and 1, but got p={p}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * Tensor(np.zeros(x.shape, dtype=x.dtype))
    keep = random.generator().random(x.shape) >= p
    return x * Tensor((keep / (1 - p)).astype(x.dtype))


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """y = (x - mean) / sqrt(var + eps) * weight + bias, per channel (axis 1).

    input: (N, C, ...); running_mean, running_var, weight, bias: (C,).
    training: mean and biased var over every axis but 1 of this batch, and (when given) the
    running stats move in place: r = (1 - momentum) r + momentum * batch stat, with the unbiased
    var (n/(n-1) times the biased one) for running_var. Otherwise the running stats normalise.
    """
    x = _tensor(input, "input")
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must be (N, C, ...) with channels on axis 1, got shape "
                         f"{tuple(x.shape)}")
    C = x.shape[1]
    # numpy running stats are wrapped without a copy, so the in-place update reaches them
    running_mean = None if running_mean is None else _tensor(running_mean, "running_mean")
    running_var = None if running_var is None else _tensor(running_var, "running_var")
    for name, value in (("running_mean", running_mean), ("running_var", running_var),
                        ("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != (C,):
            raise ValueError(f"batch_norm: {name} must have shape ({C},), one entry per channel of "
                             f"the input of shape {tuple(x.shape)}, got {tuple(value.shape)}")
    axes = (0,) + tuple(range(2, x.ndim))
    channel_shape = (1, C) + (1,) * (x.ndim - 2)
    if training:
        count = x.data.size // C
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                             f"got input of shape {tuple(x.shape)}; use a batch larger than 1 or "
                             f"call model.eval()")
        batch_mean = mean(x, axis=axes, keepdims=True)
        centred = x - batch_mean
        batch_var = mean(centred * centred, axis=axes, keepdims=True)
        if running_mean is not None:
            running_mean.data[...] = (momentum * batch_mean.data.reshape(C)
                                      + (1 - momentum) * running_mean.data)
            running_mean.mark_modified()
        if running_var is not None:
            unbiased = batch_var.data.reshape(C) * (count / (count - 1))
            running_var.data[...] = momentum * unbiased + (1 - momentum) * running_var.data
            running_var.mark_modified()
        y = centred / ops.sqrt(batch_var + eps)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var must be given when "
                             "training=False (evaluation normalises with them)")
        stats_mean = Tensor(running_mean.data.reshape(channel_shape).astype(x.dtype))
        stats_var = Tensor(running_var.data.reshape(channel_shape).astype(x.dtype))
        y = (x - stats_mean) / ops.sqrt(stats_var + eps)
    if weight is not None:
        y = y * ops.reshape(_tensor(weight, "weight"), shape=channel_shape)
    if bias is not None:
        y = y + ops.reshape(_tensor(bias, "bias"), shape=channel_shape)
    return y


__all__ = ["conv2d", "max_pool2d", "avg_pool2d", "pad", "relu", "tanh", "sigmoid", "linear",
           "matmul", "cat", "stack", "reshape", "flatten", "permute", "transpose", "expand",
           "unsqueeze", "squeeze", "getitem", "mean",
           "softmax", "log_softmax", "nll_loss", "cross_entropy", "mse_loss", "dropout", "batch_norm"]
