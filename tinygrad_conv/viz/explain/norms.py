"""GradientNorms: the gradient norm of every layer across training steps, the picture of vanishing
or exploding gradients.

    norms = GradientNorms(model)
    for step ...:
        loss.backward()
        norms.record()            # reads p.grad of each named parameter
        optimizer.step()
    norms.plot("gradient_norms.png")    # one line per layer, log scale (matplotlib)

A layer is the module that owns parameters ("0" for model[0].weight and model[0].bias); its norm
is ‖(dW, db)‖₂ over all its parameters' gradients.
"""
from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np

from ._imports import Module, Tensor


class GradientNorms:
    """Records ‖grad‖₂ per layer each time record() is called.

    model: an nn.Module (its named_parameters, layers labelled "0: Conv2d"), or a mapping /
           iterable of (name, parameter) pairs (layers by the name before the last dot)
    history: layer label -> list of norms, one per record() (NaN while a layer has no gradient)
    """

    def __init__(self, model):
        if isinstance(model, Module):
            named = list(model.named_parameters())
            kinds = {name: type(m).__name__ for name, m in model.named_modules()}
        else:
            named = list(model.items() if hasattr(model, "items") else model)
            kinds = {}
        if not named or not all(isinstance(p, Tensor) for _, p in named):
            raise ValueError("GradientNorms: model must be an nn.Module with parameters, or "
                             "(name, parameter) pairs")
        self.layers: OrderedDict[str, list[Tensor]] = OrderedDict()
        for name, p in named:
            owner = name.rpartition(".")[0]
            label = f"{owner}: {kinds[owner]}" if owner in kinds and owner else (owner or name)
            self.layers.setdefault(label, []).append(p)
        self.history: OrderedDict[str, list[float]] = OrderedDict((k, []) for k in self.layers)

    def record(self) -> dict[str, float]:
        """Append each layer's current gradient norm; returns them."""
        now = {}
        for label, params in self.layers.items():
            grads = [p.grad.data.astype(np.float64).ravel() for p in params if p.grad is not None]
            now[label] = float(np.sqrt(sum((g * g).sum() for g in grads))) if grads else float("nan")
            self.history[label].append(now[label])
        return now

    @property
    def steps(self) -> int:
        return len(next(iter(self.history.values())))

    def table(self) -> str:
        """The last recorded norm of each layer, first layer first."""
        width = max(len(k) for k in self.history)
        return "\n".join(f"{k:<{width}}  {v[-1]:.3e}" if v else f"{k:<{width}}  -"
                         for k, v in self.history.items())

    def plot(self, path=None, *, ax=None, title: str | None = None, legend: str | None = "best",
             xlabel: str = "training step"):
        """One line per layer (first layer darkest), gradient norm on a log scale against the
        step. Draws into `ax` if given, else a new figure; saves to `path` if given (the format
        from its suffix; SVGs are written deterministically). legend: matplotlib's loc, or
        "outside" (to the right), or None; xlabel: what one record() is (e.g. "epoch").
        Returns the figure."""
        import matplotlib
        from matplotlib.figure import Figure         # no pyplot: no backend, no window

        own = ax is None
        if own:
            fig = Figure(figsize=(6.4, 4))
            ax = fig.subplots()
        else:
            fig = ax.figure
        colours = matplotlib.colormaps["viridis"](np.linspace(0, 0.9, len(self.history)))
        steps = np.arange(1, self.steps + 1)
        for (label, norms), colour in zip(self.history.items(), colours):
            ax.plot(steps, norms, label=label, color=colour, marker="." if len(steps) < 30 else None)
        ax.set_yscale("log")
        ax.set(xlabel=xlabel, ylabel="‖gradient‖₂ of the layer", title=title)
        ax.grid(alpha=0.3, which="both")
        if legend == "outside":
            ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
        elif legend is not None:
            ax.legend(fontsize=8, loc=legend)
        if own:
            fig.tight_layout()
        if path is not None:
            save_figure(fig, path)
        return fig


def plot_side_by_side(recorders: dict[str, "GradientNorms"], path=None):
    """Several recorders' plots in one figure, one panel each with a shared log axis (e.g. a
    sigmoid and a ReLU net: the same depth, vanishing or not). Returns the figure."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.6 * len(recorders) + 1.4, 4.2))
    axes = fig.subplots(1, len(recorders), sharey=True, squeeze=False)[0]
    for k, (ax, (title, recorder)) in enumerate(zip(axes, recorders.items())):
        recorder.plot(ax=ax, title=title, legend="outside" if k == len(axes) - 1 else None)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig


def save_figure(fig, path) -> Path:
    """fig.savefig, deterministic for SVG: text kept as text, a fixed hash salt and no date."""
    import matplotlib
    path = Path(path)
    if path.suffix.lower() == ".svg":
        with matplotlib.rc_context({"svg.hashsalt": "tinygrad_conv", "svg.fonttype": "none"}):
            fig.savefig(path, metadata={"Date": None})
    else:
        fig.savefig(path, dpi=120)
    return path
