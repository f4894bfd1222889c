"""examples/backprop_in_a_notebook.ipynb runs top to bottom in a fresh Jupyter kernel (nbclient,
as CI runs it) and shows what it teaches: drawings as SVG, printed gradients, and two players,
each in an iframe of its own. The committed notebook carries no outputs."""
import shutil
from pathlib import Path

import pytest

from tinygrad_conv.viz.rendering import fallback_program

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "backprop_in_a_notebook.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    if shutil.which("dot") is None and fallback_program() is None:
        pytest.skip("neither Graphviz dot nor graphviz-pure is installed")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    folder = tmp_path_factory.mktemp("notebook")
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}}).execute()
    return notebook, folder


def outputs(notebook, key: str) -> list[str]:
    return [output.get("data", {}).get(key) for cell in notebook.cells if cell.cell_type == "code"
            for output in cell.outputs if key in output.get("data", {})]


def test_the_notebook_runs_without_errors(executed):
    notebook, folder = executed
    kinds = [o.output_type for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert "error" not in kinds
    printed = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code"
                      for o in c.outputs if o.output_type == "stream" and o.name == "stdout")
    assert "[[411. 456. 501.]" in printed                          # dW = X ⋆ dY of the worked example
    assert (folder / "tiny_cnn_backward.html").read_text().startswith("<!DOCTYPE html>")


def test_the_notebook_draws_graphs_and_two_players(executed):
    notebook, _ = executed
    svgs = outputs(notebook, "image/svg+xml")
    assert len(svgs) >= 3 and all("<svg" in svg for svg in svgs)
    assert any("conv2d" in svg and "dW = X" in svg for svg in svgs)   # draw(..., formulas=True)
    players = [h for h in outputs(notebook, "text/html") if 'class="tinygrad-conv-player"' in h]
    assert len(players) == 2
    for page in players:
        assert page.startswith("<iframe") and 'sandbox="allow-scripts"' in page
        assert "srcdoc=\"&lt;!DOCTYPE html&gt;" in page and "<script" not in page


def test_the_committed_notebook_has_no_outputs():
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
