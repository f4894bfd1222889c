"""The gallery script viz/make_figures.py, loaded as a module for tests (it is not a package)."""
import importlib.util
from pathlib import Path


def load_gallery(name: str = "make_figures"):
    path = Path(__file__).resolve().parent.parent / "viz" / "make_figures.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
