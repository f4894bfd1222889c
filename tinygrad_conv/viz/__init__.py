"""Drawing computation graphs for teaching: what was computed, and how the gradient flows back.

    draw(loss)                        tensors (with their values), ops with their parameters,
                                      modules, gradients; F.linear, F.cross_entropy, ... one op each
    draw(loss, formulas=True)         ... plus each op's VJP, with this graph's shapes
    draw(loss, group_modules=1, wrap=True)   one box per layer, in rows that fit a 16:9 slide
    draw(x.grad)                      after loss.backward(create_graph=True): how dX was computed
    backward_frames(loss)             one drawing per VJP step, in the order the engine runs them;
                                      a list that plays itself in Jupyter (Frames)
    save_html(loss, "backward.html")  those frames in one self-contained step-through player
    Player(svgs, captions, title)     that player for any SVG frames with captions
    render(draw(loss), "graph.svg")   an image file, by Graphviz's `dot` or the dot-free fallback

The colours and shapes are explained in draw's docstring (the legend).

Output is deterministic: nodes are numbered t0, t1, ... and op0, op1, ... in toposort order, so the
same model gives the same DOT text and committed figures diff cleanly.

This file only re-exports. The modules, each importing only those before it: labels (text, values
and styles of the HTML-like labels), formulas (each primitive's and composite's VJP as text), rows
(wrapping a long graph into rows), composite_units (a composite call as one drawn op), arguments (draw's root and params
checked), clusters (module clusters, nested and cut per row), graph (the
nodes, edges and clusters of one drawing), draw, frames (the backward pass step by step);
rendering (SVG and image files, used by draw and player), player (the HTML step-through page,
and backward_frames' drawings as Frames that play themselves) and explain (one layer's backward
pass, panel by panel).
Which primitives one composite call made is recorded by tinygrad_conv/autograd/composites.py.
"""
from .draw import Drawing, draw
from .explain import EntryExplanation, Explanation, GradientNorms, explain, explain_entry  # noqa: F401
from .formulas import FORMULAS  # noqa: F401
from .labels import DIGITS, RANKDIRS, TINY  # noqa: F401
from .player import Frames, Player, backward_frames, player_html, save_html  # noqa: F401
from .rendering import GraphvizNotFoundError, dot_fingerprint, render, svg_text  # noqa: F401

# FORMULAS, TINY, DIGITS, RANKDIRS, player_html and dot_fingerprint are public too, as they were
# before the split, but not in __all__

__all__ = ["draw", "backward_frames", "save_html", "render", "svg_text", "GraphvizNotFoundError",
           "Drawing", "Frames", "Player", "explain", "explain_entry", "GradientNorms"]
