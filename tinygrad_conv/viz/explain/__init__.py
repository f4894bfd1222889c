"""Explain a layer's backward pass with its own numbers: the pictures the blog posts draw by hand.

    explain(y, root=loss)                 y: a conv2d / max_pool2d / avg_pool2d / relu output (or
                                          conv2d + bias, or the nn.Module that ran it); its panels
    explain(y, dy=dY)                     the same with the gradient arriving at y given
    explain_entry(w.grad, (0, 0, 1, 2), root=loss)
                                          one gradient entry as the sum of products that built it,
                                          beside a finite-difference estimate
    GradientNorms(model)                  .record() after each backward, .plot(): the gradient norm
                                          of every layer across training steps

The modules: layer (which op, its dY, the engine's VJP of it), svg (hand-written SVG grids), panel
(Panel, Explanation), conv, pool (the panels per op family), entry, norms.
"""
from __future__ import annotations

from ._imports import Tensor
from .conv import conv_panels
from .entry import EntryExplanation, explain_entry
from .layer import find_layer
from .norms import GradientNorms
from .panel import Explanation, Panel
from .pool import pool_panels

__all__ = ["explain", "explain_entry", "GradientNorms", "Explanation", "EntryExplanation", "Panel"]


def explain(y, root: Tensor | None = None, dy=None, *, n: int = 0, f: int = 0, c: int | None = None,
            position=(0, 0), entry=(0, 0), pixel=(0, 0), symbols: bool = False,
            max_frames: int = 64) -> Explanation:
    """The panels that explain the layer whose output is y, for its real parameters and values.

    y:        the output of conv2d (or conv2d + bias), max_pool2d, avg_pool2d or relu in a graph
              that is still alive (backward ran with retain_graph=True, or has not run yet), or the
              nn.Module (a single layer, e.g. model[0]) that computed it
    root:     the tensor backward is called on (seeded with ones, like backward on a scalar
              loss): the engine's backward sweep is replayed from it to get dY at y; nothing is
              changed, no .grad is touched
    dy:       instead of root, the gradient arriving at y (y's shape)
    n, f, c:  the image, the filter and the input channel shown (c defaults to the first channel
              filter f sees); for pools and ReLU, n and c pick the plane
    position: the output entry (i, j) of the forward, im2col and pooling panels
    entry:    the weight entry (a, b) of the dW panel;  pixel: the input pixel (h, w) of dX
    symbols:  name dY's entries a, b, c, ... in the dW panel (at most 26 of them)
    max_frames: moving panels step through every position, or through the chosen row(s) when
              there are more than this many

    Returns an Explanation: panels by name (conv: forward, dW, dX, im2col, and db with a bias;
    max_pool2d: routing; avg_pool2d: divisor; relu: mask), each with the arrays it drew in
    `.data`; it shows itself in Jupyter and `.save(folder)` writes SVGs and players.
    """
    if isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1:
        raise ValueError(f"explain: max_frames must be a positive int, got {max_frames!r}")
    layer = find_layer(y, root, dy)
    if layer.op == "conv2d":
        title, panels = conv_panels(layer, n=n, f=f, c=c, position=position, entry=entry,
                                    pixel=pixel, symbols=symbols, max_frames=max_frames)
    else:
        title, panels = pool_panels(layer, n=n, c=0 if c is None else c, position=position,
                                    max_frames=max_frames)
    return Explanation(title, panels)
