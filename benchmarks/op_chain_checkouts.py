"""The op chain of run.py, ours only, timed in two checkouts of the project taking turns.

    git worktree add /tmp/before <commit>
    python benchmarks/op_chain_checkouts.py /tmp/before .          # before, after
    python benchmarks/op_chain_checkouts.py /tmp/before . --live 100000

A change to the engine moves the per-op time by 5-20%, less than this machine's load moves it
from one run of run.py to the next. So the two checkouts run the same chain (y = y * c + s on
16-element float32 tensors, 20,000 ops, forward and backward) in fresh interpreters, one after
the other, for several rounds, and the table gives each one's median and fastest round. With
--live N the chain runs beside N small live objects (lists, as a script that imported torch has
~10^5), which Python's garbage collector walks on every full collection; without it, the
import-time objects are frozen out of the collector, as in run.py's op-chain row.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

LENGTH = 20_000


def one_run(live: int) -> None:
    """One run in this interpreter: print the forward and backward microseconds per op."""
    import gc

    from chain import time_chain

    import numpy as np

    import tinygrad_conv as tc
    if not tc.__file__.startswith(os.getcwd()):
        raise RuntimeError(f"imported {tc.__file__}, not the checkout in {os.getcwd()}")
    x = tc.Tensor(np.linspace(0.5, 1.5, 16, dtype=np.float32), requires_grad=True)
    c = tc.Tensor(np.full(16, 1.0001, np.float32))
    s = tc.Tensor(np.full(16, 1e-4, np.float32))
    dy = tc.Tensor(np.ones(16, np.float32))
    others = [[i] for i in range(live)]               # noqa: F841 (kept alive on purpose)
    gc.collect()
    if not live:
        gc.freeze()
    forward, backward = time_chain(x, c, s, dy, LENGTH, repeats=3)
    print(min(forward) * 1e6, min(backward) * 1e6)


def run(checkout: str, live: int) -> tuple[float, float]:
    environment = dict(os.environ, PYTHONPATH=os.path.abspath(checkout), OPENBLAS_NUM_THREADS="1")
    command = [sys.executable, os.path.abspath(__file__), "--run", str(live)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=environment,
                         cwd=os.path.abspath(checkout)).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", help="a checkout of the project (a git worktree)")
    parser.add_argument("after", help="another checkout")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--live", type=int, default=0, help="live objects beside the chain")
    args = parser.parse_args()
    times = {args.before: [], args.after: []}
    for _ in range(args.rounds):
        for checkout in times:                        # they take turns: a load hits both
            times[checkout].append(run(checkout, args.live))
            time.sleep(0.5)
    print(f"op chain of {LENGTH:,} ops, us per op, over {args.rounds} rounds "
          f"({args.live:,} live objects beside it)" if args.live else
          f"op chain of {LENGTH:,} ops, us per op, over {args.rounds} rounds (gc.freeze)")
    print("| checkout | forward, median (fastest) | backward, median (fastest) |")
    print("|---|---:|---:|")
    for checkout, rounds in times.items():
        forward, backward = zip(*rounds)
        print(f"| {checkout} | {statistics.median(forward):.2f} ({min(forward):.2f}) | "
              f"{statistics.median(backward):.2f} ({min(backward):.2f}) |")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--run":
        sys.path.insert(0, os.getcwd())               # this checkout's package, not an installed one
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        one_run(int(sys.argv[2]))
    else:
        main()
