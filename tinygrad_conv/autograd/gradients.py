"""torch.autograd.grad: the gradients of outputs with respect to chosen inputs, returned rather
than accumulated into .grad.

    >>> dx, dw = tc.autograd.grad(loss, [x, w])
    >>> (hvp,) = tc.autograd.grad(dx, x, grad_outputs=v)    # after create_graph=True: Hessian @ v

Here: `grad`. Not here: the sweep it runs (engine.run_backward, shared with backward).
"""
from __future__ import annotations

import numpy as np

from .checks import as_tensors, seed_gradients
from .engine import Tensor, run_backward
from .graph import accumulate
from .modes import backward_mode


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool | None = None,
         materialize_grads: bool = False) -> tuple:
    """The tuple (d(sum of outputs)/d(input) for each input), as torch.autograd.grad.

    outputs, inputs: a Tensor or a sequence of them; an input may be a leaf or an intermediate.
    grad_outputs:    the gradient each output starts from (None: ones, for scalar outputs).
    create_graph:    record the backward, so the results can be differentiated again.
    allow_unused:    an input the outputs do not depend on gets None instead of an error
                     (zeros with materialize_grads).
    No leaf's .grad changes; as in PyTorch, tensors that called retain_grad() still accumulate.
    """
    inputs = as_tensors(inputs, "inputs")
    for x in inputs:
        if not x.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad: create "
                               "it with requires_grad=True before computing the outputs")
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    roots, dys = seed_gradients(outputs, grad_outputs)
    with backward_mode(create_graph):
        found = run_backward(roots, dys, inputs, retain_graph=retain_graph,
                             create_graph=create_graph)
        results = []
        for i, x in enumerate(inputs):
            if id(x) in found:
                results.append(found[id(x)][1])
            elif allow_unused:
                results.append(Tensor(np.zeros_like(x.data)) if materialize_grads else None)
            else:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have "
                                   f"been used in the graph. Set allow_unused=True if this is "
                                   f"the desired behavior.")
        accumulate([(t, dt) for t, dt in found.values() if t._retains_grad], create_graph, dys)
    return tuple(results)
