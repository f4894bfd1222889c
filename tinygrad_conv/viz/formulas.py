"""The VJP of each primitive as a few lines of text, with the concrete shapes of one node.

One function per primitive, registered under the primitive's name in FORMULAS by @formula(name),
the way VJPs are attached with @op.defvjp. Where the text goes (a node's label) is graph.py's.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._imports import _divisor, remainder
from .labels import _number, _pads, _shape

FORMULAS: dict[str, Callable] = {}      # primitive name -> formula(node, y) -> lines of text


def formula(name: str) -> Callable:
    """Decorator: register the formula of primitive `name`. Returns it unchanged."""
    def register(lines_of: Callable) -> Callable:
        FORMULAS[name] = lines_of
        return lines_of
    return register


def _dilate_name(stride) -> str:
    return f"dilate_{stride[0]}" if stride[0] == stride[1] else f"dilate_({stride[0]},{stride[1]})"


@formula("conv2d")
def _conv2d(node, y) -> list[str]:
    x, w = node.parents
    p = node.params
    stride, padding, dilation, groups = p["stride"], p["padding"], p["dilation"], p["groups"]
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    OH, OW = y.shape[2:]
    (pt, pb), (pl, pr) = padding
    rh = remainder(H, OH, KH, stride[0], pt, pb, dilation[0])
    rw = remainder(W, OW, KW, stride[1], pl, pr, dilation[1])
    eh, ew = dilation[0] * (KH - 1), dilation[1] * (KW - 1)
    # dX: dilate dY by the stride, pad it 'full' (kernel extent - 1 - padding, + remainder after),
    # correlate with W rotated by 180 degrees and its C, F axes swapped (as conv2d_input_grad)
    dilated = (N, F, (OH - 1) * stride[0] + 1, (OW - 1) * stride[1] + 1)
    full = ((eh - pt, eh - pb + rh), (ew - pl, ew - pr + rw))
    padded = (N, F, dilated[2] + sum(full[0]), dilated[3] + sum(full[1]))
    strided = stride != (1, 1)
    inner = f"{_dilate_name(stride)}(dY)" if strided else "dY"
    steps = [y.shape] + ([dilated] if strided else []) + [padded, x.shape]
    lines = [f"dW = X ⋆ dY: {_shape(x.shape)} ⋆ {_shape(y.shape)} -> {_shape(w.shape)}",
             f"   X padded {_pads(padding)}"
             + (f" minus remainder crop {_shape((rh, rw))} = {_pads(((pt, pb - rh), (pl, pr - rw)))}"
                if rh or rw else "")
             + (f"; dY is the kernel, dilated by stride {_shape(stride)}" if strided else ""),
             f"dX = rot180(W) ∗ pad({inner}): " + " -> ".join(_shape(s) for s in steps),
             f"   pad {_pads(full)} = K-1 - padding{' + remainder' if rh or rw else ''};"
             f" rot180(W) with C, F swapped: {_shape((groups * Cg, F // groups, KH, KW))}"]
    if dilation != (1, 1):
        lines.append(f"   both VJPs keep the kernel dilation {_shape(dilation)}")
    if groups > 1:
        lines.append(f"   groups={groups}: each group's filters are transposed on their own")
    return lines


@formula("max_pool2d")
def _max_pool2d(node, y) -> list[str]:
    (x,) = node.parents
    lines = [f"dX = unpool(dY -> argmax): {_shape(y.shape)} -> {_shape(x.shape)}",
             "   each window's dY goes to its max; ties: the first",
             "   in row-major window order (as PyTorch); overlaps add"]
    if any(b or a for b, a in node.params["padding"]):
        lines.append(f"   padding {_pads(node.params['padding'])} is -inf: never the max")
    return lines


@formula("avg_pool2d")
def _avg_pool2d(node, y) -> list[str]:
    (x,) = node.parents
    p = node.params
    kernel, stride, padding = p["kernel"], p["stride"], p["padding"]
    override, include = p.get("divisor_override"), p.get("count_include_pad", True)
    divisor = _divisor(x.shape, y.shape[2:], kernel, stride, padding, include, override)
    # as avg_pool2d_vjp: dY / divisor is spread back over every cell of its window (spread2d)
    lines = [f"dX = spread(dY / divisor): {_shape(y.shape)} -> {_shape(x.shape)}",
             f"   each window's share goes to all its {kernel[0]}·{kernel[1]} cells; overlaps add"]
    if override:
        lines.append(f"   divisor = {override} (divisor_override)")
    elif np.all(divisor == divisor.flat[0]):
        whole = divisor.flat[0] == kernel[0] * kernel[1]
        lines.append(f"   divisor = {_number(divisor.flat[0])} in every window"
                     + (f" = {kernel[0]}·{kernel[1]}" if whole else ""))
    else:
        rule = ("zero padding counts" if include and any(b for b, _ in padding)
                else "only entries of the input count")
        lines.append(f"   divisor = {_number(divisor.min())}..{_number(divisor.max())} per window "
                     f"({rule})")
    border = tuple(a - b for b, a in padding)
    if any(border):
        lines.append(f"   ceil_mode border {_shape(border)} is never counted")
    return lines


@formula("pad")
def _pad(node, y) -> list[str]:
    (x,) = node.parents
    widths = node.params["widths"]
    shapes = f"{_shape(y.shape)} -> {_shape(x.shape)}"
    if all(b >= 0 and a >= 0 for b, a in widths):
        return [f"dX = crop(dY): {shapes}", f"   drops {_pads(widths)} again: padding is constant"]
    if all(b <= 0 and a <= 0 for b, a in widths):
        cropped = tuple((-b, -a) for b, a in widths)
        return [f"dX = zero-pad(dY): {shapes}", f"   puts back {_pads(cropped)}"]
    return [f"dX = pad(dY, -widths): {shapes}"]


# ---- elementwise: the local derivative times dY ------------------------------------------------

def _binary(node, y, da: str, db: str) -> list[str]:
    """dA and dB of a broadcasting binary op; a broadcast input gets dY summed back to its shape."""
    a, b = node.parents
    broadcast = a.shape != y.shape or b.shape != y.shape
    return [f"dA = {da}, dB = {db}"] + (["   summed over broadcast axes"] if broadcast else [])


@formula("add")
def _add(node, y) -> list[str]:
    return _binary(node, y, "dY", "dY")


@formula("sub")
def _sub(node, y) -> list[str]:
    return _binary(node, y, "dY", "-dY")


@formula("mul")
def _mul(node, y) -> list[str]:
    return _binary(node, y, "dY·B", "dY·A")


@formula("div")
def _div(node, y) -> list[str]:
    return _binary(node, y, "dY / B", "-dY·A / B²")


@formula("matmul")
def _matmul(node, y) -> list[str]:
    a, b = node.parents
    a_t, b_t = (_shape(t.shape[:-2] + t.shape[:-3:-1]) for t in (a, b))    # last two axes swapped
    return [f"dA = dY Bᵀ: {_shape(y.shape)} {b_t} -> {_shape(a.shape)}",
            f"dB = Aᵀ dY: {a_t} {_shape(y.shape)} -> {_shape(b.shape)}"]


@formula("neg")
def _neg(node, y) -> list[str]:
    return ["dX = -dY"]


@formula("power")
def _power(node, y) -> list[str]:
    return [f"dX = dY·p·X^(p-1), p = {_number(node.params['exponent'])}"]


@formula("exp")
def _exp(node, y) -> list[str]:
    return ["dX = dY·exp(X)"]


@formula("log")
def _log(node, y) -> list[str]:
    return ["dX = dY / X"]


@formula("sqrt")
def _sqrt(node, y) -> list[str]:
    return ["dX = dY / (2 sqrt(X))"]


@formula("tanh")
def _tanh(node, y) -> list[str]:
    return ["dX = dY·(1 - tanh²(X))"]


@formula("sigmoid")
def _sigmoid(node, y) -> list[str]:
    return ["dX = dY·σ(X)(1 - σ(X))"]


@formula("relu")
def _relu(node, y) -> list[str]:
    return ["dX = dY·[X > 0]"]


@formula("absolute")
def _absolute(node, y) -> list[str]:
    return ["dX = dY·sign(X)"]


# ---- reductions and shape ops: dY moved back to the input's shape -------------------------------

def _moved_back(node, y, how: str) -> list[str]:
    """dX = how: dY's shape -> the input's shape."""
    return [f"dX = {how}: {_shape(y.shape)} -> {_shape(node.parents[0].shape)}"]


@formula("sum")
def _sum(node, y) -> list[str]:
    return _moved_back(node, y, "expand(dY)")


@formula("max")
def _max(node, y) -> list[str]:
    return _moved_back(node, y, "dY at the maxima (ties share)")


@formula("expand")
def _expand(node, y) -> list[str]:
    return _moved_back(node, y, "sum_to(dY)")


@formula("reshape")
def _reshape(node, y) -> list[str]:
    return _moved_back(node, y, "reshape(dY)")


@formula("permute")
def _permute(node, y) -> list[str]:
    return _moved_back(node, y, "permute(dY, inverse dims)")


@formula("flip")
def _flip(node, y) -> list[str]:
    return _moved_back(node, y, "flip(dY)")


@formula("dilate2d")
def _dilate2d(node, y) -> list[str]:
    return _moved_back(node, y, "dY[..., ::sh, ::sw]")


@formula("getitem")
def _getitem(node, y) -> list[str]:
    return _moved_back(node, y, "scatter_add(dY)")


@formula("scatter_add")
def _scatter_add(node, y) -> list[str]:
    return _moved_back(node, y, "dY[index]")


@formula("cast")
def _cast(node, y) -> list[str]:
    return _moved_back(node, y, "cast(dY)")


# ---- the ops the pooling VJPs record: their own VJPs, drawn after backward(create_graph=True) ---

@formula("unpool2d")
def _unpool2d(node, y) -> list[str]:
    return [f"ddY = ddX[argmax] (gather): {_shape(y.shape)} -> {_shape(node.parents[0].shape)}"]


@formula("spread2d")
def _spread2d(node, y) -> list[str]:
    return [f"ddY = window sums of ddX (avg-pool, divisor 1): "
            f"{_shape(y.shape)} -> {_shape(node.parents[0].shape)}"]


# ---- concatenation --------------------------------------------------------------------------

@formula("cat")
def _cat(node, y) -> list[str]:
    return ["dX_i = slab i of dY"]
