"""allocator.keep_freed_memory: a training step's arrays reuse freed memory instead of faulting
fresh pages in (glibc only)."""
import os
import subprocess
import sys

import pytest

from tinygrad_conv import allocator

# a LeNet-sized step in miniature: fresh 512 KB arrays, freed again, one after another
STEPS = """
import resource
import numpy as np
import tinygrad_conv as tc
x = tc.randn(64, 2048, requires_grad=True)
def step():
    (x * 2.0 + 1.0).relu().sum().backward()
for _ in range(10):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(200):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 200, tc.allocator.KEPT)
"""


def faults_per_step(keep: str) -> tuple[float, bool]:
    environment = dict(os.environ, TINYGRAD_CONV_KEEP_MEMORY=keep)
    out = subprocess.run([sys.executable, "-c", STEPS], capture_output=True, text=True,
                         env=environment, check=True).stdout.split()
    return float(out[0]), out[1] == "True"


@pytest.mark.skipif(not allocator.KEPT, reason="needs glibc's mallopt")
def test_freed_memory_is_reused_not_faulted_in_again():
    kept, on = faults_per_step("1")
    plain, off = faults_per_step("0")
    assert on and not off
    assert plain > 100, f"glibc's own settings fault {plain} pages per step here; the test needs them"
    assert kept < 5, f"{kept} page faults per step with the memory kept"


def test_switched_off_by_the_environment(monkeypatch):
    monkeypatch.setenv("TINYGRAD_CONV_KEEP_MEMORY", "0")
    assert allocator.keep_freed_memory() is False
