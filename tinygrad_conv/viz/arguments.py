"""A drawing's root and params, checked: the tensors in toposort order (refusing a freed graph)
and the (name, tensor) pairs that name parameters. Not here: what is drawn (graph.py)."""
from __future__ import annotations

from typing import Mapping

from ._imports import Tensor, toposort


def _graph_order(root: Tensor) -> list[Tensor]:
    if not isinstance(root, Tensor):
        raise TypeError(f"draw: root must be a Tensor, got {type(root).__name__}; pass the "
                        f"tensor whose graph you want, e.g. draw(loss)")
    if root.node is not None and root.node.freed:
        raise _freed_error()
    try:
        return toposort(root)
    except RuntimeError as error:              # toposort met a node whose inputs were freed
        raise _freed_error() from error


def _freed_error() -> RuntimeError:
    return RuntimeError(
        "draw: this graph was freed by backward(): its nodes no longer hold their inputs. Call "
        "loss.backward(retain_graph=True) to keep it (the drawing then shows the gradients), or "
        "draw before calling backward().")


def _param_pairs(params) -> list[tuple[str, Tensor]]:
    """draw's `params` as (name, tensor) pairs: a dict, or pairs such as model.named_parameters()."""
    if params is None:
        return []
    try:
        pairs = [(str(name), p) for name, p in (params.items() if isinstance(params, Mapping)
                                                 else params)]
    except (TypeError, ValueError):
        raise TypeError(f"draw: params must be a dict of name -> Tensor (or pairs, e.g. "
                        f"model.named_parameters()), got {type(params).__name__}") from None
    for name, p in pairs:
        if not isinstance(p, Tensor):
            raise TypeError(f"draw: params[{name!r}] must be a Tensor, got {type(p).__name__}")
    return pairs
