"""The `[fast]` extra's kernels against their NumPy twins, called directly, in turns.

    python benchmarks/compiled_kernels.py              # 15 timed runs per candidate
    python benchmarks/compiled_kernels.py --repeats 60
    python benchmarks/compiled_kernels.py --first-call # what compiling costs, in fresh processes

Each row runs the same op twice, with the compiled kernels switched on and off
(tinygrad_conv.compiled.ENABLED), taking turns in rounds as benchmarks/run.py does, and prints
the medians in milliseconds and their ratio (compiled / NumPy: below 1 the compiled loop is
faster). The rows are the kernels where NumPy is bound by passes over memory:
- a depthwise conv (forward; dX + dW);
- dW of LeNet-5's two convs (few weights per filter: a direct loop instead of X_col and a thin
  product);
- dX of LeNet-5's second conv, whose taps-first layout adds 25 shifted planes;
- dX of a stride-2 conv: stride phases on NumPy, a scatter with one pass per plane compiled;
- max-pool's backward routing.
Needs numba (`pip install -e ".[fast]"`).

--first-call times the first call of each kind of kernel in a fresh interpreter (numba imported
beforehand, so the figure is the compile or the cache load alone): once after deleting numba's
on-disk cache of tinygrad_conv/compiled (its .nbi/.nbc files, written again by that run), then
once with the cache.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import time_turns  # noqa: E402
from tinygrad_conv import Tensor, compiled, no_grad  # noqa: E402
from tinygrad_conv.ops import conv, pool  # noqa: E402

RNG = np.random.default_rng(0)


def normal(*shape) -> np.ndarray:
    return RNG.standard_normal(shape, dtype=np.float32)


def conv_forward(x_shape, w_shape, **params):
    x, w = normal(*x_shape), normal(*w_shape)
    return lambda: conv.conv2d.forward(x, w, **params)


def conv_vjp(x_shape, w_shape, y_shape, **params):
    dy, x, w = (Tensor(normal(*s), requires_grad=True) for s in (y_shape, x_shape, w_shape))
    return lambda: conv.conv2d_vjp(dy, x, w, **params)


def input_grad(x_shape, w_shape, y_shape, **params):
    dy, w = Tensor(normal(*y_shape)), Tensor(normal(*w_shape))
    return lambda: conv.conv2d_input_grad(dy, w, x_shape, **params)


def weight_grad(x_shape, w_shape, y_shape, **params):
    dy, x, w = Tensor(normal(*y_shape)), Tensor(normal(*x_shape)), Tensor(normal(*w_shape),
                                                                      requires_grad=True)
    return lambda: conv._conv2d_grads(dy, x, w, **params)


def max_pool_route(shape):
    x = normal(*shape)
    y, tap = pool.window_max(x, (2, 2), (2, 2), ((0, 0), (0, 0)), (1, 1))
    dy = normal(*y.shape)
    return lambda: pool.route2d.forward(dy, tap, size=shape[2:], kernel=(2, 2), stride=(2, 2),
                                        padding=((0, 0), (0, 0)), dilation=(1, 1))


PLAIN = dict(dilation=(1, 1), groups=1)
LENET_2 = ((64, 6, 14, 14), (16, 6, 5, 5), (64, 16, 10, 10))       # x, w, y of its second conv
UNPADDED = dict(stride=(1, 1), padding=((0, 0), (0, 0)), **PLAIN)
ROWS = {
    "depthwise 16,64,16,16 k3 p1: forward":
        conv_forward((16, 64, 16, 16), (64, 1, 3, 3), stride=(1, 1), padding=((1, 1), (1, 1)),
                     dilation=(1, 1), groups=64),
    "depthwise 16,64,16,16 k3 p1: dX + dW":
        conv_vjp((16, 64, 16, 16), (64, 1, 3, 3), (16, 64, 16, 16), stride=(1, 1),
                 padding=((1, 1), (1, 1)), dilation=(1, 1), groups=64),
    "LeNet's first conv 64,1,28,28 -> 6 k5 p2: dW":
        weight_grad((64, 1, 28, 28), (6, 1, 5, 5), (64, 6, 28, 28), stride=(1, 1),
                    padding=((2, 2), (2, 2)), **PLAIN),
    "LeNet's second conv 64,6,14,14 -> 16 k5: dW": weight_grad(*LENET_2, **UNPADDED),
    "LeNet's second conv 64,6,14,14 -> 16 k5: dX": input_grad(*LENET_2, **UNPADDED),
    "32,64,16,16 -> 64 k3 s2 p1: dX":
        input_grad((32, 64, 16, 16), (64, 64, 3, 3), (32, 64, 8, 8), stride=(2, 2),
                   padding=((1, 1), (1, 1)), **PLAIN),
    "max_pool2d 2x2 s2 on 64,32,32,32: routing": max_pool_route((64, 32, 32, 32)),
}


FIRST_CALLS = {
    "depthwise conv2d, forward + backward":
        "F.conv2d(x(2, 4, 8, 8), x(4, 1, 3, 3), padding=1, groups=4)",
    "taps-first adds (dX of a 6 -> 16 channel k5 conv)": "F.conv2d(x(2, 6, 14, 14), x(16, 6, 5, 5))",
    "scatter adds (dX of a stride-2 conv)": "F.conv2d(x(2, 8, 8, 8), x(8, 8, 3, 3), stride=2)",
    "dW loop (a first layer, few weights per filter)":
        "F.conv2d(x(2, 1, 8, 8, grad=False), x(4, 1, 3, 3))",
    "max-pool routing": "F.max_pool2d(x(2, 3, 8, 8), 2)",
}
FIRST_CALL = """import time, numba, numpy as np, tinygrad_conv as tc, tinygrad_conv.functional as F
x = lambda *s, grad=True: tc.tensor(np.ones(s, np.float32), requires_grad=grad)
start = time.perf_counter(); ({}).sum().backward(); print(time.perf_counter() - start)"""


def first_calls() -> None:
    cache = Path(compiled.__file__).parent / "__pycache__"
    print("| first call of | nothing cached | cached |\n|---|---:|---:|")
    for name, code in FIRST_CALLS.items():
        for stale in [*cache.glob("*.nbi"), *cache.glob("*.nbc")]:
            stale.unlink()
        seconds = [float(subprocess.run([sys.executable, "-c", FIRST_CALL.format(code)], check=True,
                                        capture_output=True, text=True).stdout) for _ in range(2)]
        print(f"| {name} | {seconds[0]:.2f} s | {seconds[1]:.2f} s |", flush=True)


def switched(fn, enabled: bool):
    def run():
        compiled.ENABLED = enabled
        with no_grad():
            fn()
    return run


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15, help="timed runs per candidate")
    parser.add_argument("--first-call", action="store_true", help="time compiling instead")
    args = parser.parse_args(argv)
    if not compiled.ENABLED:
        sys.exit("the compiled kernels are off: install numba (pip install -e '.[fast]') "
                 "and leave TINYGRAD_CONV_COMPILED unset")
    if args.first_call:
        return first_calls()
    print("| kernel | NumPy | compiled | compiled / NumPy |\n|---|---:|---:|---:|")
    for name, fn in ROWS.items():
        t = time_turns({"numpy": switched(fn, False), "compiled": switched(fn, True)}, args.repeats)
        numpy_ms, compiled_ms = t["numpy"].median * 1e3, t["compiled"].median * 1e3
        print(f"| {name} | {numpy_ms:.2f} ms | {compiled_ms:.2f} ms | "
              f"{compiled_ms / numpy_ms:.2f} |", flush=True)
    compiled.ENABLED = True


if __name__ == "__main__":
    main()
