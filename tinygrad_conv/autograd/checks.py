"""What the engine refuses, each with an error naming the primitive (or tensor), what it got and
what was expected: a gradient seed of the wrong shape, a VJP returning the wrong number of
gradients, a numpy array, a wrong shape or a non-float dtype, a primitive recorded without a VJP,
a hook or an assignment to .grad that changes a gradient's shape or dtype.

These are checks of user code (your own primitives and hooks), so they are raised errors, never
asserts: `python -O` keeps them. Where PyTorch refuses the same thing, the error type is PyTorch's
(RuntimeError; TypeError for a value of the wrong type).

Here: the checks. Not here: the graph (engine), the guards on saved inputs (guards). This module
refers back to engine.Tensor when it runs (engine imports it first).
"""
from __future__ import annotations

import inspect
import warnings

import numpy as np

from . import engine


def as_tensors(values, what: str) -> tuple:
    """A Tensor or a sequence of Tensors, as a tuple."""
    values = (values,) if isinstance(values, engine.Tensor) else tuple(values)
    for i, t in enumerate(values):
        if not isinstance(t, engine.Tensor):
            raise TypeError(f"{what}[{i}] must be a Tensor, got {type(t).__name__}")
    return values


def seed_gradients(tensors, grad_tensors) -> tuple[tuple, tuple]:
    """The roots of a backward pass and the gradient each starts from (ones for a scalar root)."""
    roots = as_tensors(tensors, "tensors")
    if grad_tensors is None:
        grads = (None,) * len(roots)
    elif isinstance(grad_tensors, (engine.Tensor, np.ndarray, int, float)):
        grads = (grad_tensors,)
    else:
        grads = tuple(grad_tensors)
    if len(grads) != len(roots):
        raise RuntimeError(f"got {len(roots)} tensors and {len(grads)} gradients: pass one "
                           f"gradient (or None for a scalar) per tensor")
    return roots, tuple(_seed(i, root, g, len(roots)) for i, (root, g) in enumerate(zip(roots, grads)))


def _seed(i: int, root, gradient, count: int):
    which = f"output {i}" if count > 1 else "the output"
    if not root.requires_grad:
        raise RuntimeError(f"element {i} of tensors does not require grad and does not have a "
                           f"grad_fn: nothing to differentiate. Create the inputs with "
                           f"requires_grad=True (or call .requires_grad_()) before computing.")
    if gradient is None:
        if root._data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs, but "
                               f"{which} has shape {root.shape}. Reduce it first "
                               f"(y.sum().backward()) or pass gradient= of shape {root.shape}.")
        return engine.Tensor(np.ones_like(root._data))
    dy = gradient if isinstance(gradient, engine.Tensor) else engine.Tensor(np.asarray(gradient))
    if dy.dtype.kind not in "iuf":
        raise TypeError(f"gradient must hold real numbers (it is cast to the output's dtype "
                        f"{root.dtype}), got dtype {dy.dtype}")
    if dy.shape != root.shape:
        raise RuntimeError(f"Mismatch in shape: gradient has shape {tuple(dy.shape)} but {which} "
                           f"has shape {tuple(root.shape)}; pass a gradient of the output's "
                           f"shape (one entry of dL/d(output) per output entry).")
    return dy if dy.dtype == root.dtype else dy.to(root.dtype)   # as PyTorch: the output's dtype


# ----------------------------------------------------------------------------------------------
# Your own primitives: the VJP's signature at registration, its result at backward


def _positional(sig: inspect.Signature) -> tuple[int, float]:
    """The fewest and the most positional arguments a signature accepts."""
    kinds = [p for p in sig.parameters.values()
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    most = float("inf") if any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values()) \
        else len(kinds)
    return sum(p.default is p.empty for p in kinds), most


def check_vjp_signature(op, vjp) -> None:
    """At @op.defvjp: the VJP must take dy, then one argument per positional input of the
    forward, and accept every keyword parameter of the forward."""
    if not callable(vjp):
        raise TypeError(f"{op.name}.defvjp expects a function vjp(dy, *inputs, **params), got "
                        f"{type(vjp).__name__}")
    try:
        forward, backward = inspect.signature(op.forward), inspect.signature(vjp)
    except (TypeError, ValueError):                 # a builtin without a signature: trust it
        return
    inputs, most_inputs = _positional(forward)
    if inputs == most_inputs:                       # a fixed number of inputs
        fewest, most = _positional(backward)
        if not fewest <= inputs + 1 <= most:
            raise TypeError(f"the VJP {vjp.__name__}{backward} of '{op.name}' must take dy and then "
                            f"the {inputs} input(s) of {op.name}{forward}, i.e. "
                            f"{1 + inputs} positional arguments")
    takes_any = any(p.kind == p.VAR_KEYWORD for p in backward.parameters.values())
    for p in forward.parameters.values():
        if p.kind == p.KEYWORD_ONLY and not takes_any and p.name not in backward.parameters:
            raise TypeError(f"the VJP {vjp.__name__}{backward} of '{op.name}' does not accept the "
                            f"parameter {p.name!r} of {op.name}{forward}: a VJP is called with "
                            f"every static parameter as a keyword argument")


def freed(node) -> None:
    raise RuntimeError(
        f"Trying to backward through the graph a second time: the saved inputs of "
        f"'{node.op.name}' were freed by the first backward. Pass retain_graph=True to the first "
        f".backward() call if you need to backward through the graph again.")


def no_vjp(node) -> None:
    raise NotImplementedError(
        f"the primitive '{node.op.name}' has no VJP, so backward cannot go through it: attach "
        f"one with @{node.op.name}.defvjp (def {node.op.name}_vjp(dy, *inputs, **params): one "
        f"gradient per input), or call it under `with tc.no_grad():` if no gradient should "
        f"flow through it")


def one_per_input(node, grads) -> tuple:
    """A VJP's result that is not a tuple of one gradient per input: a lone gradient of a
    one-input primitive (or a list) becomes a tuple; anything else is an error."""
    if type(grads) is not tuple:
        grads = tuple(grads) if isinstance(grads, list) else (grads,)
    if len(grads) != len(node.parents):
        raise RuntimeError(f"the VJP of '{node.op.name}' returned {len(grads)} gradient(s), but "
                           f"'{node.op.name}' has {len(node.parents)} input(s): return one "
                           f"gradient (or None) per positional input, in order")
    return grads


def checked_grad(node, i: int, g, x):
    """The VJP's gradient g for input i (x) when it is not a Tensor of x's shape and dtype: an
    error, unless only the float dtype differs (then it is cast to x's dtype, as in PyTorch)."""
    if not isinstance(g, engine.Tensor):
        raise RuntimeError(f"the VJP of '{node.op.name}' returned a {type(g).__module__}."
                           f"{type(g).__name__} for input {i}; expected a Tensor or None "
                           f"(wrap an array as Tensor(array), or better compute it with the "
                           f"framework's ops so that it can be differentiated again)")
    if g._data.shape != x._data.shape:
        raise RuntimeError(f"the VJP of '{node.op.name}' returned a gradient of shape "
                           f"{tuple(g.shape)} for input {i}, which has shape {tuple(x.shape)}: "
                           f"a gradient has its input's shape (sum over broadcast axes with "
                           f"sum_to)")
    if g._data.dtype.kind != "f":
        raise RuntimeError(f"the VJP of '{node.op.name}' returned a gradient of dtype {g.dtype} "
                           f"for input {i} ({x.dtype}); gradients are floating point: build it "
                           f"from float arrays (e.g. mask.astype(x.dtype))")
    return g if g._data.dtype == x._data.dtype else g.to(x._data.dtype)


# ----------------------------------------------------------------------------------------------
# Hooks and assignments to .grad


def check_hook(tensor, fn) -> None:
    if not tensor.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if not callable(fn):
        raise TypeError(f"register_hook expects a function hook(grad) -> Tensor or None, got "
                        f"{type(fn).__name__}")


def _unlike(value, like) -> str | None:
    """How `value` fails to be a Tensor of like's shape and dtype: 'type', 'shape', 'dtype' or None."""
    if not isinstance(value, engine.Tensor):
        return "type"
    return "shape" if value.shape != like.shape else "dtype" if value.dtype != like.dtype else None


def check_hook_result(fn, grad, new):
    """The gradient a hook returned (None keeps the old one): same shape and dtype, as PyTorch."""
    problem = None if new is None else _unlike(new, grad)
    if problem is None:
        return grad if new is None else new
    name = getattr(fn, "__name__", repr(fn))
    if problem == "type":
        raise TypeError(f"expected a Tensor or None, but hook '{name}' returned "
                        f"{type(new).__name__}")
    if problem == "shape":
        raise RuntimeError(f"hook '{name}' has changed the size of value: it returned shape "
                           f"{tuple(new.shape)} for a gradient of shape {tuple(grad.shape)}")
    raise RuntimeError(f"hook '{name}' has changed the type of value (was {grad.dtype}, got "
                       f"{new.dtype})")


NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead.")


def warn_non_leaf_grad() -> None:
    warnings.warn(NON_LEAF_GRAD, UserWarning, stacklevel=3)      # at the line that read .grad


def check_assigned_grad(tensor, grad):
    """`tensor.grad = grad`: None, or a Tensor of the tensor's shape and dtype, as PyTorch."""
    problem = None if grad is None else _unlike(grad, tensor)
    if problem is None:
        return grad
    if problem == "type":
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                        f"{type(grad).__name__}; wrap it: tc.tensor(array)")
    if problem == "shape":
        raise RuntimeError(f"attempting to assign a gradient of shape {tuple(grad.shape)} to a "
                           f"tensor of shape {tuple(tensor.shape)}; they must be the same")
    raise RuntimeError(f"attempting to assign a gradient of dtype {grad.dtype} to a tensor of "
                       f"dtype {tensor.dtype}; convert it first (grad.to({tensor.dtype}))")


def tensor_sizes(sizes: tuple) -> tuple:
    """Tensor(5, 3)'s sizes, as torch.Tensor takes them: non-negative ints only."""
    if not all(type(n) is int and n >= 0 for n in sizes):
        raise TypeError(f"Tensor(*sizes) takes non-negative int sizes, got {sizes}; to make a "
                        f"tensor from data pass one sequence or array, e.g. Tensor([5, 3]), and "
                        f"requires_grad= / dtype= by keyword")
    return sizes
