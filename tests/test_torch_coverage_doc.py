"""docs/torch_coverage.md cannot drift from the code: every name its tables list as covered
exists in that row's namespace, every name listed as not covered does not (when it arrives, the
doc must move it), and every public name of the namespaces it describes is listed.
"""
import re
from pathlib import Path

import pytest

import tinygrad_conv as tc

DOC = Path(__file__).resolve().parents[1] / "docs" / "torch_coverage.md"
HEADER = ["Area", "Namespace", "Covered", "Not covered"]
NAME = re.compile(r"`([^`]+)`")


def _rows() -> list[dict]:
    """The rows of every table with the header Area | Namespace | Covered | Not covered."""
    rows, columns = [], None
    for line in DOC.read_text().splitlines():
        if not line.startswith("|"):
            columns = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells == HEADER:
            columns = cells
        elif columns and not set("".join(cells)) <= set("- "):
            rows.append(dict(zip(columns, cells)))
    return rows


ROWS = _rows()


def _resolve(namespace: str, name: str):
    """tc.nn + 'Linear' -> tc.nn.Linear (AttributeError if any step is missing)."""
    path = namespace.split(".")
    assert path[0] == "tc", namespace
    obj = tc
    for part in path[1:] + name.split("."):
        obj = getattr(obj, part)
    return obj


def _namespace(row) -> str:
    (namespace,) = NAME.findall(row["Namespace"])
    return namespace


def _listed() -> dict[str, set]:
    listed: dict[str, set] = {}
    for row in ROWS:
        listed.setdefault(_namespace(row), set()).update(NAME.findall(row["Covered"]))
    return listed


def _cases(column: str):
    for row in ROWS:
        if column == "Covered" and "*coming:*" in row["Covered"]:
            continue                              # being written now: not checked either way
        for name in NAME.findall(row[column]):
            yield pytest.param(_namespace(row), name, id=f"{_namespace(row)}.{name}")


def test_the_doc_has_its_tables():
    assert len(ROWS) > 30
    assert {_namespace(r) for r in ROWS} >= set(PUBLIC)


@pytest.mark.parametrize("namespace, name", list(_cases("Covered")))
def test_a_covered_name_exists(namespace, name):
    _resolve(namespace, name)


@pytest.mark.parametrize("namespace, name", list(_cases("Not covered")))
def test_a_name_listed_as_not_covered_is_absent(namespace, name):
    with pytest.raises(AttributeError):
        _resolve(namespace, name)


def _defined_in(module) -> list[str]:
    return [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
            and getattr(v, "__module__", None) == module.__name__]


def _public(cls) -> list[str]:
    return [n for n in dir(cls) if not n.startswith("_")]


PUBLIC = {
    "tc": lambda: tc.__all__,
    "tc.Tensor": lambda: _public(tc.Tensor),
    "tc.nn": lambda: tc.nn.__all__,
    "tc.nn.Module": lambda: _public(tc.nn.Module),
    "tc.nn.functional": lambda: tc.nn.functional.__all__,
    "tc.nn.init": lambda: _defined_in(tc.nn.init),
    "tc.optim": lambda: tc.optim.__all__,
    "tc.optim.Optimizer": lambda: _public(tc.optim.Optimizer),
    "tc.optim.lr_scheduler": lambda: tc.optim.lr_scheduler.__all__,
    "tc.utils.data": lambda: tc.utils.data.__all__,
}


@pytest.mark.parametrize("namespace", list(PUBLIC))
def test_every_public_name_is_listed(namespace):
    unlisted = sorted(set(PUBLIC[namespace]()) - _listed().get(namespace, set()))
    assert not unlisted, f"add to docs/torch_coverage.md, namespace `{namespace}`: {unlisted}"


def _torch_cases():
    for row in ROWS:
        if row["Area"].startswith("Extras"):
            continue                              # tinygrad_conv's own names
        for column in HEADER[2:]:
            for name in NAME.findall(row[column]):
                yield pytest.param(_namespace(row), name, id=f"{_namespace(row)}.{name}")


@pytest.mark.torch
@pytest.mark.parametrize("namespace, name", list(_torch_cases()))
def test_every_name_outside_the_extras_is_torchs(namespace, name):
    """The tables speak of PyTorch's names: each is one in torch's matching namespace."""
    torch = pytest.importorskip("torch")
    obj = torch
    for part in namespace.split(".")[1:] + name.split("."):
        obj = getattr(obj, part)
