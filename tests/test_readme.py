"""The README's Python examples run as written."""
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
          if "import tinygrad_conv" in b]


def test_readme_has_a_runnable_example():
    assert BLOCKS


@pytest.mark.parametrize("source", BLOCKS)
def test_readme_example_runs(source, capsys):
    exec(compile(source, str(README), "exec"), {})
    assert "(2, 1, 3, 3)" in capsys.readouterr().out
