"""Every script in examples/ runs end to end (with the tiny settings below, if it has any).

A new example is picked up automatically; give it an entry in TINY_ARGS when its default run is
slow. "{out}" in the arguments becomes a fresh temporary folder. Scripts run in that folder, so
whatever they write by default lands there too.
"""
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))

TINY_ARGS = {
    "train_digits.py": ["--epochs", "1", "--limit", "160", "--batch-size", "32", "--out", "{out}"],
    "explain_conv_backward.py": ["--quick", "--out", "{out}"],
    "double_backward.py": ["--seed", "1"],
}


def run_script(script: Path, args, cwd: Path) -> subprocess.CompletedProcess:
    args = [a.replace("{out}", str(cwd / "out")) for a in args]
    return subprocess.run([sys.executable, str(script), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def test_tiny_settings_name_existing_scripts():
    assert SCRIPTS, "examples/ has no scripts"
    assert set(TINY_ARGS) <= {s.name for s in SCRIPTS}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda s: s.name)
def test_example_runs(script, tmp_path):
    result = run_script(script, TINY_ARGS.get(script.name, []), tmp_path)
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert result.stdout.strip(), f"{script.name} printed nothing"


def test_train_digits_output(tmp_path):
    pytest.importorskip("sklearn")
    result = run_script(EXAMPLES / "train_digits.py", TINY_ARGS["train_digits.py"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("test accuracy: 0.") and len(last.split(": ")[1]) == 6
    out = tmp_path / "out"
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import tinygrad_conv as tc
    state = tc.load(out / "model.npz")
    assert list(state) == ["0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias"]
    graph = [line for line in result.stdout.splitlines() if line.startswith("graph: ")]
    assert len(graph) == 1
    if "skipped" not in graph[0]:
        assert (out / "graph.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    assert "epoch 1/1" in result.stderr                      # the progress bar


def test_train_digits_is_deterministic_for_a_seed(tmp_path):
    pytest.importorskip("sklearn")
    args = ["--epochs", "1", "--limit", "96", "--seed", "4", "--out", "{out}"]
    first = run_script(EXAMPLES / "train_digits.py", args, tmp_path)
    import tinygrad_conv as tc
    weights = tc.load(tmp_path / "out" / "model.npz")
    second = run_script(EXAMPLES / "train_digits.py", args, tmp_path)
    assert first.stdout.splitlines()[-1] == second.stdout.splitlines()[-1]
    again = tc.load(tmp_path / "out" / "model.npz")
    assert all(np.array_equal(weights[k].data, again[k].data) for k in weights)


def test_train_digits_reads_local_mnist_files(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "mnist.npz", x_train=rng.integers(0, 256, (40, 28, 28), dtype=np.uint8),
             y_train=rng.integers(0, 10, 40), x_test=rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
             y_test=rng.integers(0, 10, 10))
    result = run_script(EXAMPLES / "train_digits.py",
                        ["--data", "mnist", "--mnist-path", str(tmp_path / "mnist.npz"),
                         "--epochs", "1", "--out", "{out}"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "mnist: 40 training and 10 test images of shape (1, 28, 28)" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("test accuracy: ")


def test_train_digits_explains_a_missing_mnist_path(tmp_path):
    result = run_script(EXAMPLES / "train_digits.py", ["--data", "mnist"], tmp_path)
    assert result.returncode != 0 and "--mnist-path" in result.stderr
    result = run_script(EXAMPLES / "train_digits.py",
                        ["--data", "mnist", "--mnist-path", str(tmp_path / "none")], tmp_path)
    assert result.returncode != 0 and "does not exist" in result.stderr


def test_graph_output_says_where_the_source_is_when_nothing_can_render(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("train_digits", EXAMPLES / "train_digits.py")
    train_digits = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_digits)
    from tinygrad_conv.viz import rendering
    monkeypatch.setenv("PATH", str(tmp_path / "no-graphviz"))        # no dot ...
    monkeypatch.setattr(rendering, "fallback_program", lambda: None)  # ... and no graphviz-pure
    model = train_digits.build_model(image_size=8)
    x = np.zeros((1, 1, 8, 8), dtype=np.float32)
    status = train_digits.save_graph(model, x, np.array([3]), tmp_path)
    first, *rest = status.splitlines()
    assert first.startswith("graph: skipped, render graph.svg: the Graphviz 'dot' program was not")
    assert all(line.startswith("  ") for line in rest)              # the whole help, indented
    assert f"The DOT source was saved to {tmp_path / 'graph.gv'}" in status
    assert "pip install graphviz-pure" in status and "brew install graphviz" in status
    assert (tmp_path / "graph.gv").exists() and not (tmp_path / "graph.svg").exists()
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.torch
def test_digits_model_builds_the_same_model_in_pytorch():
    """benchmarks/run.py times the digits epoch against build_model(framework=torch.nn): the
    two must have the same layers, so the same parameter shapes in the same order."""
    torch = pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location("train_digits", EXAMPLES / "train_digits.py")
    train_digits = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_digits)
    ours = train_digits.build_model(image_size=8)
    theirs = train_digits.build_model(image_size=8, framework=torch.nn)
    assert [(name, tuple(p.shape)) for name, p in ours.named_parameters()] == \
        [(name, tuple(p.shape)) for name, p in theirs.named_parameters()]
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
