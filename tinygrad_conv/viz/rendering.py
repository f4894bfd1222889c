"""Images of drawings: SVG, PNG, ... by Graphviz's `dot`; without it by graphviz-pure, a dot-free
build of Graphviz from PyPI (in the examples and dev extras; SVG, PNG and JPEG); without either,
GraphvizNotFoundError with install help, the DOT source saved beside the requested file. Also the
fingerprint that rendered files record of their DOT source. What a drawing contains is decided
elsewhere (draw.py, frames.py).
"""
from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import inspect
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterable

import graphviz

FALLBACK = "graphviz-pure"                       # its PyPI name and the program it installs
FALLBACK_FORMATS = ("svg", "png", "jpeg", "jpg")


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """The `dot` program is missing and no fallback could render the requested format."""

    def __init__(self, message: str):
        RuntimeError.__init__(self, message)


@functools.lru_cache(maxsize=None)
def fallback_program() -> str | None:
    """The graphviz-pure program installed with this Python (found even when the environment's
    bin/ folder is not on PATH), else one on PATH, else None."""
    try:
        files = importlib.metadata.distribution(FALLBACK).files or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for file in files:
        if file.stem == FALLBACK:
            path = Path(file.locate()).resolve()
            if path.is_file():
                return str(path)
    return shutil.which(FALLBACK)


def _fallback(source: str, format: str, engine: str = "dot") -> bytes | None:
    """`source` rendered by graphviz-pure; None if it is not installed or cannot write `format`."""
    program = fallback_program()
    if program is None or format not in FALLBACK_FORMATS:
        return None
    command = [program, f"-K{engine}", f"-T{format}"]
    result = subprocess.run(command, input=source.encode("utf-8"), capture_output=True)
    if result.returncode:
        raise graphviz.CalledProcessError(result.returncode, command, result.stdout, result.stderr)
    return result.stdout


def _pipe(graph: graphviz.Digraph, format: str) -> bytes | None:
    """graph rendered by `dot`, else by the fallback; None when neither can write `format`."""
    try:
        return graph.pipe(format=format)
    except graphviz.ExecutableNotFound:
        return _fallback(graph.source, format, graph.engine)


def _not_rendered(what: str, format: str, source: Path | None = None,
                  target: Path | None = None) -> GraphvizNotFoundError:
    """Why `what` could not be drawn as `format`, how to fix it, and where its DOT source went."""
    if fallback_program() is None:
        why = (f"the Graphviz 'dot' program was not found on PATH and the dot-free renderer "
               f"{FALLBACK} is not installed")
        first = f"  any system: pip install {FALLBACK}   (SVG, PNG and JPEG; no admin rights)\n"
        last = ""
    else:
        why = (f"the Graphviz 'dot' program was not found on PATH, and the dot-free renderer "
               f"{FALLBACK} writes only SVG, PNG and JPEG, not {format!r}")
        first, last = "", f"  or ask for format='svg' or 'png', which {FALLBACK} writes\n"
    message = (f"{what}: {why}. Install one of these:\n" + first +
               "  Linux:   sudo apt-get install graphviz   (Fedora: sudo dnf install graphviz)\n"
               "  macOS:   brew install graphviz\n"
               "  Windows: winget install graphviz   (or choco install graphviz), then reopen the shell\n"
               "  conda:   conda install -c conda-forge graphviz\n" + last)
    if source is not None:
        message += (f"The DOT source was saved to {source}; render it later with:\n"
                    f"  dot -T{format} {source} -o {target}")
    return GraphvizNotFoundError(message.rstrip("\n"))


def svg_text(graph: graphviz.Digraph) -> str:
    """The graph as SVG text (dot, else the dot-free fallback; GraphvizNotFoundError otherwise)."""
    data = _pipe(graph, "svg")
    if data is None:
        raise _not_rendered("svg_text", "svg")
    return data.decode("utf-8")


def render(graph: graphviz.Digraph, path, format: str = "svg") -> Path:
    """Write `graph` to `path` as `format` ('svg', 'png', 'pdf', ...); returns the path.

    Uses Graphviz's `dot`; without it graphviz-pure (pip install graphviz-pure, in the examples
    and dev extras) writes SVG, PNG and JPEG. When neither can write `format`, the DOT source is
    written beside `path` as .gv, so nothing is lost, and GraphvizNotFoundError says where it is
    and how to install Graphviz on Linux, macOS, Windows or conda.
    """
    if not isinstance(graph, graphviz.Digraph):
        raise TypeError(f"render: graph must be a graphviz.Digraph (as returned by draw), got "
                        f"{type(graph).__name__}")
    path = Path(path)
    data = _pipe(graph, format)
    if data is None:
        source = path.with_suffix(".gv")
        source.write_text(graph.source, encoding="utf-8")
        raise _not_rendered(f"render {path.name}", format, source, path)
    path.write_bytes(data)
    return path


_DIGRAPH_RENDER = inspect.signature(graphviz.Digraph.render)


def render_drawing(graph: graphviz.Digraph, *args, **kwargs) -> str:
    """graphviz.Digraph.render with the same arguments and the same returned path, which falls
    back to graphviz-pure when `dot` is missing; Drawing.render (and so .view) is this function.

    Digraph.render saves the DOT source before it looks for `dot`, so when nothing can write the
    format, GraphvizNotFoundError names that saved file.
    """
    try:
        return graphviz.Digraph.render(graph, *args, **kwargs)
    except graphviz.ExecutableNotFound:
        pass
    call = _DIGRAPH_RENDER.bind(graph, *args, **kwargs)
    call.apply_defaults()
    options = call.arguments
    source = Path(graph.filepath)                 # where Digraph.render has just saved the DOT
    if options.get("outfile") is not None:
        target = Path(options.get("outfile"))
        format = options["format"] or target.suffix.lstrip(".").lower()
        if options["directory"] is None:
            target = Path(graph.directory, target)
    else:
        format = options["format"] or graph.format
        target = source.with_name(f"{source.name}.{format}")
    if options.get("raise_if_result_exists") and target.exists():
        raise graphviz.FileExistsError(f"output file exists: {os.fspath(target)!r}")
    data = _fallback(graph.source, format, options.get("engine") or graph.engine)
    if data is None:
        raise _not_rendered(f"render {target.name}", format, source, target)
    target.write_bytes(data)
    if options["cleanup"]:
        source.unlink()
    if options["view"] or options["quiet_view"]:
        graphviz.view(target, quiet=options["quiet_view"])
    return os.fspath(target)


def dot_fingerprint(sources: Iterable[str]) -> str:
    """sha256 of DOT texts: recorded in rendered files to tell which source they came from."""
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.encode("utf-8"))
    return digest.hexdigest()
