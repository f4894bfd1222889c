"""A LeNet-5 training step with freed memory kept for reuse (tinygrad_conv/allocator.py) and
with malloc as glibc sets it, in fresh interpreters taking turns.

    python benchmarks/page_faults.py              # 5 rounds of 200 steps each way
    python benchmarks/page_faults.py --rounds 1 --steps 20    # a smoke run

Each interpreter imports nothing but NumPy and tinygrad_conv (importing torch would change what
malloc has seen), trains 20 steps untimed, then times `--steps` steps and counts the page faults
the kernel reports for them (getrusage's minor faults).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def steps(count: int) -> None:
    """Run in the child: print faults per step, then the step's median and best time in ms."""
    import resource
    import time

    import numpy as np

    import tinygrad_conv as tc
    sys.path.insert(0, str(HERE))
    from lenet import sgd_step

    rng = np.random.default_rng(0)
    step, _ = sgd_step(rng.standard_normal((64, 1, 28, 28), dtype=np.float32),
                       rng.integers(0, 10, 64))
    for _ in range(20):
        step()
    times, before = [], resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(count):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / count
    print(faults, statistics.median(times) * 1e3, min(times) * 1e3, tc.allocator.KEPT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    results = {"freed memory kept": [], "glibc's defaults": []}
    for _ in range(args.rounds):
        for name, keep in (("freed memory kept", "1"), ("glibc's defaults", "0")):
            environment = dict(os.environ, TINYGRAD_CONV_KEEP_MEMORY=keep)
            out = subprocess.run([sys.executable, __file__, "--child", str(args.steps)],
                                 env=environment, capture_output=True, text=True, check=True)
            results[name].append([float(v) for v in out.stdout.split()[:3]])
    print(f"LeNet-5 step, batch 64, SGD momentum; {args.rounds} rounds of {args.steps} steps "
          f"each way, in turns")
    for name, runs in results.items():
        faults, medians, best = zip(*runs)
        print(f"  {name:>18}: {statistics.median(faults):,.0f} page faults per step; "
              f"median step {min(medians):.2f}-{max(medians):.2f} ms over the rounds, "
              f"best {min(best):.2f} ms")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        steps(int(sys.argv[2]))
    else:
        main()
