"""The VJP of each primitive, and of each composite drawn as one op, as a few lines of text with
the concrete shapes of one node.

One function per primitive, registered under the primitive's name in FORMULAS by @formula(name),
the way VJPs are attached with @op.defvjp; composites (F.linear, F.cross_entropy, ...: see
tinygrad_conv/autograd/composites.py) by @formula(name, composite=True) in COMPOSITE_FORMULAS. Where the
text goes (a node's label) is graph.py's.

Notation: ⋆ is cross-correlation (what conv2d computes), ∗ true convolution (the kernel flipped):
dW = X ⋆ dY and dX = pad(dilate_s(dY)) ⋆ rot180(W) = dilate_s(dY) ∗ W, the full convolution.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._imports import _divisor, remainder
from .labels import _number, _pad_and_crop, _pairs, _shape

FORMULAS: dict[str, Callable] = {}      # primitive name -> formula(node, y) -> lines of text
COMPOSITE_FORMULAS: dict[str, Callable] = {}    # composite name -> formula(call, y) -> lines


def formula(name: str, composite: bool = False) -> Callable:
    """Decorator: register the formula of primitive `name` (or of composite `name`). Returns it
    unchanged. A composite's formula gets the drawn call: .parents are its input tensors,
    .argument(name) any argument, .interior the op outputs made inside it."""
    def register(lines_of: Callable) -> Callable:
        (COMPOSITE_FORMULAS if composite else FORMULAS)[name] = lines_of
        return lines_of
    return register


def _dilate_name(stride) -> str:
    return f"dilate_{stride[0]}" if stride[0] == stride[1] else f"dilate_({stride[0]},{stride[1]})"


def _pad_text(pairs, rule: str) -> str:
    """'pad rows (1,2), cols (1,2) = rule', or that nothing is padded."""
    text = _pad_and_crop(pairs)
    return f"{text} = {rule}" if text else f"no pad: {rule} = 0"


@formula("conv2d")
def _conv2d(node, y) -> list[str]:
    x, w = node.parents[:2]
    bias = node.parents[2] if len(node.parents) == 3 else None
    p = node.params
    stride, padding, dilation, groups = p["stride"], p["padding"], p["dilation"], p["groups"]
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    OH, OW = y.shape[2:]
    (pt, pb), (pl, pr) = padding
    rh = remainder(H, OH, KH, stride[0], pt, pb, dilation[0])
    rw = remainder(W, OW, KW, stride[1], pl, pr, dilation[1])
    strided, dilated_kernel = stride != (1, 1), dilation != (1, 1)
    lines = []
    if w.requires_grad:
        # dW: X padded as in the forward, less the remainder rows no window reached, correlated
        # with dY dilated by the stride (the forward's dilation becomes this correlation's stride)
        lines.append(f"dW = X ⋆ dY: {_shape(x.shape)} ⋆ {_shape(y.shape)} -> {_shape(w.shape)}")
        x_pads = ((pt, pb - rh), (pl, pr - rw))
        if any(any(pair) for pair in x_pads):
            why = (f" (the padding, less the remainder {_shape((rh, rw))} no window reached)"
                   if rh or rw else "")
            lines.append(f"   X: {_pad_and_crop(x_pads)}{why}")
        if strided:
            lines.append(f"   dY is the kernel, dilated by the stride {_shape(stride)}")
        if dilated_kernel:
            lines.append(f"   its stride is the kernel dilation {_shape(dilation)}")
    if x.requires_grad:
        # dX: dilate dY by the stride, pad it 'full' (dilated kernel extent - 1 - padding, plus the
        # remainder after), correlate with W rotated by 180 degrees, C and F swapped
        eh, ew = dilation[0] * (KH - 1), dilation[1] * (KW - 1)
        full = ((eh - pt, eh - pb + rh), (ew - pl, ew - pr + rw))
        inner = f"{_dilate_name(stride)}(dY)" if strided else "dY"
        spread = (N, F, (OH - 1) * stride[0] + 1, (OW - 1) * stride[1] + 1)
        padded = (N, F, spread[2] + sum(full[0]), spread[3] + sum(full[1]))
        steps = [y.shape] + ([spread] if strided else []) + [padded, x.shape]
        extent = "d(K−1)" if dilated_kernel else "K−1"
        lines += [f"dX = pad({inner}) ⋆ rot180(W) = {inner} ∗ W: "
                  + " -> ".join(_shape(s) for s in steps),
                  "   " + _pad_text(full, f"{extent} − padding" + (" + remainder after" if rh or rw
                                                                  else "")),
                  f"   rot180(W): each kernel turned by 180°, C and F swapped: "
                  f"{_shape((groups * Cg, F // groups, KH, KW))}"
                  + (f", dilated by {_shape(dilation)}" if dilated_kernel else "")]
        if groups > 1:
            lines.append(f"   groups={groups}: each group's filters are swapped on their own")
    if bias is not None and bias.requires_grad:
        lines.append(f"db = Σ dY over N, OH, OW: {_shape(y.shape)} -> {_shape(bias.shape)}")
    return lines or ["no input needs a gradient"]


def _windows_overlap(node, x) -> bool:
    """Whether some input entry lies in two windows of a pooling op (then their shares add)."""
    p = node.params
    dilation = p.get("dilation", (1, 1))
    for axis in range(2):
        size = x.shape[2 + axis] + sum(p["padding"][axis])
        starts = np.arange(0, size - dilation[axis] * (p["kernel"][axis] - 1), p["stride"][axis])
        taps = starts[:, None] + dilation[axis] * np.arange(p["kernel"][axis])[None, :]
        if len(np.unique(taps)) < taps.size:
            return True
    return False


@formula("max_pool2d")
def _max_pool2d(node, y) -> list[str]:
    (x,) = node.parents
    lines = [f"dX = unpool(dY -> argmax): {_shape(y.shape)} -> {_shape(x.shape)}",
             "   each window's dY goes to its max; ties: the first",
             "   in row-major window order (as PyTorch)"
             + ("; overlapping windows add" if _windows_overlap(node, x) else "")]
    if any(b or a for b, a in node.params["padding"]):
        lines.append(f"   padding {_pairs(node.params['padding'])} is -inf: never the max")
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
             f"   each window's share goes to all its {kernel[0]}·{kernel[1]} cells"
             + ("; overlapping windows add" if _windows_overlap(node, x) else "")]
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
        return [f"dX = crop(dY): {shapes}", f"   drops {_pairs(widths)} again: padding is constant"]
    back = tuple((-b, -a) for b, a in widths)
    if all(b >= 0 and a >= 0 for b, a in back):
        return [f"dX = zero-pad(dY): {shapes}", f"   puts back {_pairs(back)} as zeros"]
    return [f"dX = dY with the crop padded back and the padding cropped: {shapes}",
            f"   {_pad_and_crop(back)}"]


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


@formula("pow")
def _pow(node, y) -> list[str]:
    return _binary(node, y, "dY·B·A^(B-1)", "dY·A^B·ln A")


@formula("where")
def _where(node, y) -> list[str]:
    _, a, b = node.parents
    broadcast = a.shape != y.shape or b.shape != y.shape
    return ["dA = dY where C, else 0; dB = dY where not C"] + (
        ["   summed over broadcast axes"] if broadcast else [])


@formula("sin")
def _sin(node, y) -> list[str]:
    return ["dX = dY·cos(X)"]


@formula("cos")
def _cos(node, y) -> list[str]:
    return ["dX = -dY·sin(X)"]


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


@formula("prod")
def _prod(node, y) -> list[str]:
    return _moved_back(node, y, "expand(dY)·Π_(j≠i) X_j")


@formula("prod_others")
def _prod_others(node, y) -> list[str]:
    return [f"dX_k = Σ_(i≠k) dY_i·Π_(j∉{{i,k}}) X_j: {_shape(y.shape)} -> "
            f"{_shape(node.parents[0].shape)}"]


@formula("setitem")
def _setitem(node, y) -> list[str]:
    return ["dX = dY with the written entries set to 0",
            f"dV = dY[index], summed to V's shape {_shape(node.parents[1].shape)}"]


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

@formula("route2d")
def _route2d(node, y) -> list[str]:
    return [f"ddY = ddX[winners] (gather): {_shape(y.shape)} -> {_shape(node.parents[0].shape)}"]


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


# ---- composites drawn as one op -------------------------------------------------------------

def _class_rows(z) -> int:
    """How many rows of class scores a loss over z has: N, times d1... for (N, C, d1, ...)."""
    return 1 if z.ndim == 1 else z.shape[0] * int(np.prod(z.shape[2:], dtype=np.int64))


def _targets(call) -> np.ndarray:
    target = call.argument("target")
    return np.asarray(target.data if hasattr(target, "data") else target)


def _normaliser(call, z) -> str:
    """What 'mean' divides by: the rows counted (not ignored), or their summed class weights."""
    if call.argument("reduction") == "sum":
        return ""
    if call.argument("reduction") == "none":
        return " (reduction='none': per row, times its dY)"
    t = _targets(call)
    if t.dtype.kind == "f":
        return f" / N, N = {_class_rows(z)}"
    kept = t != call.argument("ignore_index")
    if call.argument("weight") is not None:
        return " / Σ w[y] over the rows counted"
    return f" / N, N = {int(kept.sum())}" + (" rows not ignored" if not kept.all() else "")


@formula("cross_entropy", composite=True)
def _cross_entropy(call, y) -> list[str]:
    z = call.parents[0]
    probabilities = _targets(call).dtype.kind == "f"
    smoothing = call.argument("label_smoothing") or 0
    target = "P" if probabilities else "onehot(y)"
    if smoothing:
        target = f"((1−{_number(smoothing)})·{target} + {_number(smoothing)}/C)"
    weight = "w[y]·" if call.argument("weight") is not None and not probabilities else ""
    loss = "−Σ_c P_c log softmax(Z)_c" if probabilities else "−log softmax(Z)[y]"
    lines = [f"L = {loss}" + (", averaged" if call.argument("reduction") == "mean" else ""),
             f"dZ = {weight}(softmax(Z) − {target}){_normaliser(call, z)}: "
             f"{_shape(z.shape)}",
             "   times dY (1 when the loss is the root)"]
    if probabilities:
        lines.append("   (softmax(Z) − P holds when each row of P sums to 1)")
    return lines


@formula("nll_loss", composite=True)
def _nll_loss(call, y) -> list[str]:
    x = call.parents[0]
    weight = "w[y]·" if call.argument("weight") is not None else ""
    return [f"dX = −{weight}onehot(y){_normaliser(call, x)}: {_shape(x.shape)}",
            "   times dY: only each row's target entry gets a gradient"]


@formula("log_softmax", composite=True)
def _log_softmax(call, y) -> list[str]:
    return [f"dZ = dY − softmax(Z)·Σ_j dY_j along dim {_dim_text(call)}: {_shape(y.shape)}"]


@formula("softmax", composite=True)
def _softmax(call, y) -> list[str]:
    return [f"dZ = S·(dY − Σ_j dY_j S_j), S = softmax(Z), along dim {_dim_text(call)}: "
            f"{_shape(y.shape)}"]


def _dim_text(call) -> str:
    dim = call.argument("dim")
    return "1 (the classes)" if dim is None else str(dim)


@formula("linear", composite=True)
def _linear(call, y) -> list[str]:
    x, w = call.parents[0], call.parents[1]
    out, inner = (w.shape[0], w.shape[1]) if w.ndim == 2 else (1, w.shape[0])
    lines = [f"Y = X Wᵀ + b: {_shape(x.shape)} -> {_shape(y.shape)}"]
    if x.requires_grad:
        lines.append(f"dX = dY W: {_shape(y.shape)} {_shape(w.shape)} -> {_shape(x.shape)}")
    if w.requires_grad:
        batch = " (summed over the batch axes)" if x.ndim > 2 else ""
        lines.append(f"dW = dYᵀ X: {_shape((out,) + y.shape[:-1])} {_shape(x.shape)} -> "
                     f"{_shape(w.shape)}{batch}")
    return lines + _bias_line(call, y, "Σ_n dY")


def _bias_line(call, y, sum_text: str) -> list[str]:
    """db = sum_text: dY's shape -> b's, when the call has a bias that needs a gradient."""
    bias = call.argument("bias")
    if bias is None or not bias.requires_grad:
        return []
    return [f"db = {sum_text}: {_shape(y.shape)} -> {_shape(bias.shape)}"]


@formula("conv2d", composite=True)
def _conv2d_call(call, y) -> list[str]:
    (conv,) = [t for t in call.interior if t.node.op.name == "conv2d"]
    return FORMULAS["conv2d"](conv.node, conv)         # the primitive adds the bias itself


@formula("mse_loss", composite=True)
def _mse_loss(call, y) -> list[str]:
    x = call.parents[0]
    n = "" if call.argument("reduction") != "mean" else f" / n, n = {x.data.size}"
    return [f"dX = 2·(X − Y){n}, times dY: {_shape(x.shape)}",
            "   (and −dX for the target, if it needs a gradient)"]


@formula("mean", composite=True)
def _mean(call, y) -> list[str]:
    x = call.parents[0]
    count = x.data.size // max(y.data.size, 1)
    return [f"dX = expand(dY) / {count}: {_shape(y.shape)} -> {_shape(x.shape)}"]


@formula("rot180", composite=True)
def _rot180(call, y) -> list[str]:
    w = call.parents[0]
    return [f"dW = rot180(dV), C and F swapped back: {_shape(y.shape)} -> {_shape(w.shape)}"]
