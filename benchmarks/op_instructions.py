"""Instructions per recorded op of the benchmark's op chain, counted by valgrind's callgrind.

    python benchmarks/op_instructions.py          # needs valgrind (apt-get install valgrind)

Timings of a 5-microsecond op move with whatever else the machine runs; instruction counts do
not. The chain y = y * c + s on 16-element float32 tensors (the op-chain row of run.py) runs
under callgrind three times: with no ops, with 20,000 ops forward, and with 20,000 ops forward
and backward; the differences, divided by 20,000, are the instructions of one op. Import-time
objects are frozen out of the garbage collector first, as in run.py, and each run ends without
the interpreter's teardown, so a graph is freed (by backward) only in the backward count, as in
run.py's timings.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys

OPS = 20_000


def chain(length: int, backward: bool) -> None:
    import gc

    import numpy as np

    import tinygrad_conv as tc
    x = tc.Tensor(np.linspace(0.5, 1.5, 16, dtype=np.float32), requires_grad=True)
    c = tc.Tensor(np.full(16, 1.0001, np.float32))
    s = tc.Tensor(np.full(16, 1e-4, np.float32))
    dy = tc.Tensor(np.ones(16, np.float32))
    gc.collect()
    gc.freeze()
    y = x
    for _ in range(100):                              # warm up: caches, lazy imports
        y = y * c + s
    y.backward(dy)
    y = x
    for _ in range(length // 2):
        y = y * c + s
    if backward:
        y.backward(dy)                                # frees the graph as it goes
    os._exit(0)         # no teardown: freeing a forward-only graph at exit is not forward work


def instructions(length: int, backward: bool) -> int:
    """Total instructions of a fresh interpreter that runs the chain, as callgrind counts them."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
               __file__, "--run", str(length), str(int(backward))]
    # the same hashes (and dict layouts) each run, and no BLAS worker threads, whose idle spinning
    # callgrind would count as instructions of the program
    environment = dict(os.environ, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    report = subprocess.run(command, capture_output=True, text=True, check=True,
                            env=environment).stderr
    return int(re.search(r"Collected : (\d+)", report).group(1))


def main() -> None:
    empty, forward, both = instructions(0, False), instructions(OPS, False), instructions(OPS, True)
    print(f"instructions per op: forward {(forward - empty) / OPS:,.0f}, backward "
          f"{(both - forward) / OPS:,.0f}, forward + backward {(both - empty) / OPS:,.0f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--run"]:
        chain(int(sys.argv[2]), bool(int(sys.argv[3])))
    else:
        main()
