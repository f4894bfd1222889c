"""Speed and memory of tinygrad_conv next to PyTorch on the CPU, in one table.

    python benchmarks/run.py              # the full run (a few minutes)
    python benchmarks/run.py --quick      # a smoke run: fewer repeats, a shorter op chain
    python benchmarks/run.py --threads 1  # BLAS and PyTorch both on one thread
    python benchmarks/run.py --no-torch   # ours only (also what happens when torch is missing)

Every timing is the median of repeated runs after a warm-up; the candidates of a row (ours,
PyTorch, the im2col baseline of the course notes) take turns in three rounds, so a load that
comes and goes on the machine hits them alike, and each block of runs starts after a rest that
lets the BLAS threads of the previous candidate fall asleep (they spin for ~0.1-0.3 s after a
NumPy product and would slow the next PyTorch call 2-25x). "PyTorch spread" is max / min of its
round medians: near 1.00 the figure is stable. Both frameworks get the same thread count: the BLAS
that NumPy uses through the environment variables set below, PyTorch through set_num_threads.
Ratios are ours / PyTorch (below 1: we are faster); 'x seed' is how many times faster than the
im2col baseline (benchmarks/im2col_baseline.py) ours is.
"""
from __future__ import annotations

import argparse
import os
import sys


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: few repeats, short chain")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="threads for NumPy's BLAS and for PyTorch (default: all cores)")
    parser.add_argument("--no-torch", action="store_true", help="time ours only")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per candidate")
    return parser.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else parse_args([])
if __name__ == "__main__":
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[variable] = str(ARGS.threads)       # read by the BLAS when numpy loads it

import contextlib  # noqa: E402
import gc  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import NamedTuple  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "examples"))

import im2col_baseline  # noqa: E402
from chain import time_chain  # noqa: E402
from lenet import lenet5, sgd_step  # noqa: E402
import tinygrad_conv as tc  # noqa: E402
from tinygrad_conv import functional as F, nn  # noqa: E402

torch = None
if not ARGS.no_torch:
    try:
        import torch
        torch.set_num_threads(ARGS.threads)
    except ImportError:
        torch = None

# (N, C, H, W) -> F, kernel, stride, padding, groups
CONV_ROWS = [((64, 1, 28, 28), 6, 5, 1, 2, 1), ((64, 6, 14, 14), 16, 5, 1, 0, 1),
             ((32, 3, 32, 32), 32, 3, 1, 1, 1), ((32, 32, 32, 32), 32, 3, 1, 1, 1),
             ((32, 64, 16, 16), 64, 3, 2, 1, 1), ((32, 32, 16, 16), 64, 1, 1, 0, 1),
             ((16, 64, 16, 16), 64, 3, 1, 1, 64)]
POOL_SHAPE = (64, 32, 32, 32)


# ----------------------------------------------------------------------------------------------
# Timing


# OpenBLAS worker threads keep spinning for about 0.1-0.3 s after a NumPy matrix product before
# they sleep; a PyTorch call made in that window competes with them for the cores and runs 2-25x
# slower. So every block of runs starts after a rest longer than that.
BLAS_IDLE_SECONDS = 0.4


class Timing(NamedTuple):
    median: float              # seconds, over all timed runs
    rounds: tuple              # the median of each round, to show how stable the figure is

    @property
    def spread(self) -> float:
        """max / min of the round medians: 1.00 when every round agrees."""
        return max(self.rounds) / min(self.rounds)


def time_turns(candidates: dict, repeats: int, rounds: int = 3) -> dict:
    """Timing of each callable over `repeats` runs, taken in `rounds` blocks: within a round every
    candidate runs its share of repeats back to back (after a rest of BLAS_IDLE_SECONDS and one
    untimed warm-up run), then the next candidate does. A load that comes and goes hits all of
    them alike, no candidate is timed while another's BLAS threads still spin, and one
    candidate's allocations do not disturb the next run of another."""
    rounds = max(1, min(rounds, repeats))
    times = {name: [[] for _ in range(rounds)] for name in candidates}
    for r in range(rounds):
        share = repeats // rounds + (r < repeats % rounds)
        for name, fn in candidates.items():
            gc.collect()
            time.sleep(BLAS_IDLE_SECONDS)
            fn()
            for _ in range(share):
                start = time.perf_counter()
                fn()
                times[name][r].append(time.perf_counter() - start)
    return {name: Timing(statistics.median([t for block in blocks for t in block]),
                         tuple(statistics.median(block) for block in blocks))
            for name, blocks in times.items()}


class Table:
    """Rows of (case, ours, torch, seed) in seconds, printed as a Markdown table; conv rows also
    give GFLOP/s, and every row with PyTorch how stable its figure was across rounds."""

    def __init__(self):
        self.rows = []

    def add(self, case: str, ours, theirs=None, seed=None, unit: str = "ms", flops=None):
        """ours, theirs, seed: Timing or seconds; flops: the work of one run, for GFLOP/s."""
        self.rows.append((case, ours, theirs, seed, unit, flops))
        print(f"  {case}: " + ", ".join(self._cells(self.rows[-1])), file=sys.stderr, flush=True)

    @staticmethod
    def _cells(row):
        case, ours, theirs, seed, unit, flops = row
        ours, theirs, seed = (getattr(t, "median", t) for t in (ours, theirs, seed))
        scale = {"ms": 1e3, "us/op": 1e6, "s": 1.0}[unit]
        fmt = (lambda v: f"{v * scale:.3g}" if v * scale < 100 else f"{v * scale:.0f}")
        rate = (lambda t: f"{flops / t / 1e9:.0f}" if t else "-")
        spread = getattr(row[2], "spread", None)
        return [f"{fmt(ours)} {unit}",
                f"{fmt(theirs)} {unit}" if theirs is not None else "-",
                f"{ours / theirs:.2f}" if theirs is not None else "-",
                f"{rate(ours)} / {rate(theirs)}" if flops else "-",
                f"{spread:.2f}" if spread is not None else "-",
                f"{seed / ours:.1f}x" if seed is not None else "-"]

    def markdown(self) -> str:
        lines = ["| case | ours | PyTorch | ours / PyTorch | GFLOP/s ours / PyTorch "
                 "| PyTorch spread | x seed |", "|---|---:|---:|---:|---:|---:|---:|"]
        lines += ["| " + " | ".join([row[0]] + self._cells(row)) + " |" for row in self.rows]
        return "\n".join(lines)

    def worst_torch_spread(self) -> tuple[float, str] | None:
        spreads = [(row[2].spread, row[0]) for row in self.rows if hasattr(row[2], "spread")]
        return max(spreads) if spreads else None


# ----------------------------------------------------------------------------------------------
# conv2d and pooling, forward + backward


def conv_flops(shape, F_, k, stride, padding, groups) -> float:
    """Multiply-adds x 2 of forward + dX + dW (each pass costs the same)."""
    N, C, H, W = shape
    OH, OW = (H + 2 * padding - k) // stride + 1, (W + 2 * padding - k) // stride + 1
    return 3 * 2 * N * F_ * OH * OW * (C // groups) * k * k


def conv_candidates(shape, F_, k, stride, padding, groups, rng) -> dict:
    x = rng.standard_normal(shape, dtype=np.float32)
    w = rng.standard_normal((F_, shape[1] // groups, k, k), dtype=np.float32) * 0.1
    b = rng.standard_normal(F_, dtype=np.float32)
    X, Wt, B = (tc.Tensor(a, requires_grad=True) for a in (x, w, b))
    OH = (shape[2] + 2 * padding - k) // stride + 1
    OW = (shape[3] + 2 * padding - k) // stride + 1
    dy = rng.standard_normal((shape[0], F_, OH, OW), dtype=np.float32)
    dY = tc.Tensor(dy)

    def ours():
        X.grad = Wt.grad = B.grad = None
        F.conv2d(X, Wt, B, stride=stride, padding=padding, groups=groups).backward(dY)

    def seed():
        im2col_baseline.grouped_conv2d_forward_backward(x, w, b, dy, stride, padding, groups)

    candidates = {"ours": ours, "seed": seed}
    if torch is not None:
        xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        dyt = torch.tensor(dy)

        def theirs():
            xt.grad = wt.grad = bt.grad = None
            torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding,
                                       groups=groups).backward(dyt)
        candidates["torch"] = theirs
    return candidates


def pool_candidates(kind: str, rng) -> dict:
    x = rng.standard_normal(POOL_SHAPE, dtype=np.float32)
    X = tc.Tensor(x, requires_grad=True)
    ours_pool = (lambda t: F.max_pool2d(t, 2, 2)) if kind == "max" else \
        (lambda t: F.avg_pool2d(t, 3, 2, 1))
    dY = tc.Tensor(rng.standard_normal(ours_pool(X).shape, dtype=np.float32))

    def ours():
        X.grad = None
        ours_pool(X).backward(dY)

    candidates = {"ours": ours}
    if torch is not None:
        xt, dyt = torch.tensor(x, requires_grad=True), torch.tensor(dY.data)
        their_pool = (lambda t: torch.nn.functional.max_pool2d(t, 2, 2)) if kind == "max" else \
            (lambda t: torch.nn.functional.avg_pool2d(t, 3, 2, 1))

        def theirs():
            xt.grad = None
            their_pool(xt).backward(dyt)
        candidates["torch"] = theirs
    return candidates


# ----------------------------------------------------------------------------------------------
# Per-op overhead: a long chain of tiny elementwise ops


def op_chain(length: int, repeats: int, freeze: bool = True) -> dict:
    """Seconds per op, forward and backward, of y = ((x * c) + c) * c ... on 16-element tensors.

    Python's cyclic garbage collector runs every few hundred allocations and walks all live
    objects, and every op leaves two for it (a tensor and its parents tuple), so a long chain
    costs more per op when many unrelated objects are alive (torch's import makes ~10^5). They are frozen
    first (gc.freeze, unless freeze=False), so the chain is timed as if it ran alone in a fresh
    interpreter; the run without freezing shows what a script with many live objects pays.
    """
    values = np.linspace(0.5, 1.5, 16, dtype=np.float32)
    scale = np.full(16, 1.0001, dtype=np.float32)
    shift = np.full(16, 1e-4, dtype=np.float32)
    frameworks = {"ours": (lambda a, grad=False: tc.Tensor(a, requires_grad=grad))}
    if torch is not None:
        frameworks["torch"] = lambda a, grad=False: torch.tensor(a, requires_grad=grad)
    result = {}
    gc.collect()
    if freeze:
        gc.freeze()
    for name, make in frameworks.items():
        time.sleep(BLAS_IDLE_SECONDS)
        x, c, s = make(values, True), make(scale), make(shift)
        dy = make(np.ones(16, dtype=np.float32))
        forward, backward = time_chain(x, c, s, dy, length, repeats)
        result[name] = (statistics.median(forward), statistics.median(backward))
    if freeze:
        gc.unfreeze()
    return result


# ----------------------------------------------------------------------------------------------
# Training: a LeNet-5 step and an epoch of the digits example


def lenet_candidates(rng, batch: int = 64) -> dict:
    x = rng.standard_normal((batch, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, batch)
    candidates = {"ours": sgd_step(x, labels)[0]}
    if torch is not None:
        torch.manual_seed(0)
        their_model = lenet5(torch.nn)
        their_optimizer = torch.optim.SGD(their_model.parameters(), lr=0.01, momentum=0.9)
        xt, yt = torch.tensor(x), torch.tensor(labels)

        def theirs():
            their_optimizer.zero_grad()
            torch.nn.functional.cross_entropy(their_model(xt), yt).backward()
            their_optimizer.step()
        candidates["torch"] = theirs
    return candidates


def lenet_memory(batch: int = 64, steps: int = 1000) -> dict:
    """Peak bytes of NumPy memory during one LeNet-5 step, against the lower bound

    parameters + gradients + momentum buffers + input batch + activations,

    where the activations are each layer's output (what a backward pass must keep, or recompute),
    and the live bytes after `steps` more steps (no growth: nothing of a step outlives it).
    Measured with tracemalloc, which sees NumPy's array allocations.
    """
    rng = np.random.default_rng(0)
    warm = lenet5(nn)                                    # imports made on first use (numba's,
    F.cross_entropy(warm(tc.Tensor(np.zeros((2, 1, 28, 28), np.float32))),   # say) stay out
                    tc.Tensor(np.zeros(2, np.int64))).backward()
    tracemalloc.start()
    x = rng.standard_normal((batch, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    step, model = sgd_step(x, y)
    step()                                               # momentum buffers now exist
    gc.collect()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    step()
    after, peak = tracemalloc.get_traced_memory()
    for _ in range(steps):
        step()
    gc.collect()
    after_many = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()

    params = sum(p.data.nbytes for p in model.parameters())
    activations, h = 0, tc.Tensor(x)
    with tc.no_grad():
        for layer in model:
            out = layer(h)
            if not np.shares_memory(out.data, h.data):  # a view (Flatten) costs nothing
                activations += out.data.nbytes
            h = out
    bound = 3 * params + x.nbytes + y.nbytes + activations
    return {"peak": peak, "before": before, "after": after, "bound": bound, "params": params,
            "activations": activations, "steps": steps, "after_many": after_many}


def digits_epoch_candidates() -> dict | None:
    """One epoch of examples/train_digits.py (its model, batch size 32, Adam), and the same in
    PyTorch on the same batches. None when scikit-learn (the digits) is missing."""
    try:
        import train_digits
        from tinygrad_conv.data import DataLoader, TensorDataset, load_digits
        x_train, y_train, _, _ = load_digits()
    except ImportError as error:
        print(f"  digits epoch skipped: {error}", file=sys.stderr)
        return None
    batch = train_digits.parse_args([]).batch_size
    tc.manual_seed(0)
    model = train_digits.build_model(image_size=x_train.shape[-1])
    optimizer = tc.optim.Adam(model.parameters(), lr=3e-3)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=batch, shuffle=True)

    class NoBar:
        def set_postfix(self, *args, **kwargs):
            pass

        def update(self, n=1):
            pass

    candidates = {"ours": lambda: train_digits.train_epoch(model, loader, optimizer, NoBar())}
    if torch is not None:
        torch.manual_seed(0)
        their_model = train_digits.build_model(image_size=x_train.shape[-1], framework=torch.nn)
        their_optimizer = torch.optim.Adam(their_model.parameters(), lr=3e-3)
        shuffle = np.random.default_rng(0)

        def theirs():                                    # train_digits.train_epoch, in PyTorch
            seen, total, correct = 0, 0.0, 0
            order = shuffle.permutation(len(y_train))
            for start in range(0, len(y_train), batch):
                index = order[start:start + batch]
                xb, yb = torch.from_numpy(x_train[index]), torch.from_numpy(y_train[index])
                logits = their_model(xb)
                loss = torch.nn.functional.cross_entropy(logits, yb)
                their_optimizer.zero_grad()
                loss.backward()
                their_optimizer.step()
                seen += len(yb)
                total += loss.item() * len(yb)
                correct += int((logits.argmax(dim=1) == yb).sum())
            return total / seen, correct / seen
        candidates["torch"] = theirs
    return candidates


# ----------------------------------------------------------------------------------------------
# The machine


def sgemm_gflops(repeats: int, threads: int | None = None) -> float:
    """GFLOP/s of a float32 1024^3 matrix product through NumPy's BLAS, on `threads` threads (all
    that are configured if None): the ceiling for an im2col convolution. nan without threadpoolctl
    when a thread count is asked for."""
    n = 1024
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    limit = contextlib.nullcontext()
    if threads is not None:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            return float("nan")
        limit = threadpool_limits(threads)
    with limit:
        seconds = time_turns({"sgemm": lambda: a @ a}, repeats=max(repeats, 5))["sgemm"].median
    return 2 * n ** 3 / seconds / 1e9


def blas_floor(rows, gflops: float) -> str:
    """What the matrix products of forward + dX + dW alone would take at NumPy's sgemm rate on
    the 1024^3 product (gflops), against PyTorch's time for the whole row: a lower bound for any
    layout that hands a conv's multiply-adds to NumPy's BLAS, as long as BLAS runs no faster on
    the conv's smaller products than on that one (copies and adds not counted).
    rows: (case, flops, PyTorch's seconds) of the ungrouped conv rows."""
    seconds = [(case.removeprefix("conv2d "), flops / (gflops * 1e9), theirs)
               for case, flops, theirs in rows]
    cells = [f"{case} {alone * 1e3:.2f} ms = {alone / theirs:.2f}"
             for case, alone, theirs in seconds]
    return ("the products alone at that sgemm rate, as a share of PyTorch's time for the row "
            "(ours can be no faster with NumPy's BLAS): " + "; ".join(cells))


def kernel_path() -> str:
    """Which kernels ran: NumPy's alone, or with the compiled ones of tinygrad_conv[fast]."""
    from tinygrad_conv import compiled
    if compiled.ENABLED:
        import numba
        return f"NumPy + compiled (numba {numba.__version__}; TINYGRAD_CONV_COMPILED=0 for NumPy alone)"
    why = ("switched off by TINYGRAD_CONV_COMPILED=0" if os.environ.get("TINYGRAD_CONV_COMPILED") == "0"
           else "numba not installed")
    return f"NumPy alone ({why})"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    blas = "unknown BLAS"
    try:
        from threadpoolctl import threadpool_info
        pools = [p for p in threadpool_info() if p["user_api"] == "blas"]
        if pools:
            p = pools[0]
            blas = f"{p['internal_api']} {p['version']} ({p.get('architecture', '?')} kernels, " \
                   f"{p['num_threads']} threads)"
    except ImportError:
        pass
    theirs = f", torch {torch.__version__} ({torch.get_num_threads()} threads)" if torch else ", no torch"
    kept = ("freed memory kept for reuse (tinygrad_conv/allocator.py), for both" if
            tc.allocator.KEPT else "malloc as the C library sets it")
    return (f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, numpy "
            f"{np.__version__} with {blas}{theirs}; {kept}")


# ----------------------------------------------------------------------------------------------


def main(args=ARGS) -> None:
    repeats = args.repeats or (3 if args.quick else 15)
    chain = 2_000 if args.quick else 20_000
    rng = np.random.default_rng(0)
    table = Table()
    print(f"machine: {machine()}", flush=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > 0.5:
        print(f"warning: the machine is busy (load average {load:.1f}): with the cores shared, "
              f"multithreaded BLAS and PyTorch slow down erratically; compare runs made at rest",
              flush=True)
    if forced := {v: os.environ[v] for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
                  if v in os.environ}:
        print("warning: " + ", ".join(f"{v}={value}" for v, value in forced.items())
              + (" are" if len(forced) > 1 else " is") + " set, so "
              "NumPy's BLAS runs the kernels it names, not those OpenBLAS would pick for this "
              "processor; unset them for this command alone to measure a default install",
              flush=True)
    print(f"command: python benchmarks/run.py{' --quick' if args.quick else ''} "
          f"--threads {args.threads}; medians of {repeats} runs; kernels: {kernel_path()}",
          flush=True)

    ratios, seed_speedups, rates, products = [], [], [], []
    for shape, F_, k, stride, padding, groups in CONV_ROWS:
        case = (f"conv2d {','.join(map(str, shape))} -> {F_}, k{k} s{stride} p{padding}"
                + (f" g{groups}" if groups > 1 else ""))
        t = time_turns(conv_candidates(shape, F_, k, stride, padding, groups, rng), repeats)
        flops = conv_flops(shape, F_, k, stride, padding, groups)
        table.add(case, t["ours"], t.get("torch"), t["seed"], flops=flops)
        rates.append(flops / t["ours"].median / 1e9)
        seed_speedups.append(t["seed"].median / t["ours"].median)
        if "torch" in t:
            ratios.append(t["ours"].median / t["torch"].median)
            if groups == 1:
                products.append((case, flops, t["torch"].median))
    for kind, case in (("max", f"max_pool2d 2x2 s2 on {','.join(map(str, POOL_SHAPE))}"),
                       ("avg", f"avg_pool2d 3x3 s2 p1 on {','.join(map(str, POOL_SHAPE))}")):
        t = time_turns(pool_candidates(kind, rng), repeats)
        table.add(case, t["ours"], t.get("torch"))
        if "torch" in t:
            ratios.append(t["ours"].median / t["torch"].median)

    for freeze in (True, False):
        per_op = op_chain(chain, repeats=1 if args.quick else 3, freeze=freeze)
        ours_fb, theirs_fb = per_op["ours"], per_op.get("torch")
        if freeze:
            table.add(f"op chain of {chain:,} x 16-element ops: forward", ours_fb[0],
                      theirs_fb and theirs_fb[0], unit="us/op")
            table.add("op chain: backward", ours_fb[1], theirs_fb and theirs_fb[1], unit="us/op")
        table.add("op chain: forward + backward" + ("" if freeze else ", without gc.freeze"),
                  sum(ours_fb), theirs_fb and sum(theirs_fb), unit="us/op")

    t = time_turns(lenet_candidates(rng), repeats)
    table.add("LeNet-5 training step, batch 64, SGD momentum", t["ours"], t.get("torch"))
    digits = digits_epoch_candidates()
    if digits is not None:
        t = time_turns(digits, repeats=1 if args.quick else 3)
        table.add("digits example: one epoch (1,437 images, batch 32, Adam)", t["ours"],
                  t.get("torch"), unit="s")

    print()
    print(table.markdown())
    print()
    if ratios:
        geomean = math.exp(sum(map(math.log, ratios)) / len(ratios))
        print(f"conv + pool rows: geometric mean of ours / PyTorch {geomean:.2f} over {len(ratios)} "
              f"rows, worst {max(ratios):.2f}")
    worst = table.worst_torch_spread()
    if worst:
        verdict = ("stable" if worst[0] <= 1.15 else
                   "NOT stable: the machine was busy, so compare a run made at rest")
        print(f"PyTorch's figures are {verdict}: its round medians differ by at most "
              f"{(worst[0] - 1) * 100:.0f}% on any row (worst: {worst[1]})")
    print(f"conv rows: ours is {min(seed_speedups):.1f}x to {max(seed_speedups):.1f}x faster than "
          f"the im2col baseline")
    one, every = sgemm_gflops(repeats, threads=1), sgemm_gflops(repeats)
    print(f"sgemm peak (NumPy float32 1024^3): {one:.0f} GFLOP/s on 1 thread, {every:.0f} on "
          f"{args.threads}; our conv rows reach {min(rates):.0f}-{max(rates):.0f} GFLOP/s "
          f"({min(rates) / every:.0%}-{max(rates) / every:.0%} of it)")
    if products:
        print(blas_floor(products, every))
    memory = lenet_memory(steps=50 if args.quick else 1000)
    mb = 1 / 2 ** 20
    print(f"LeNet-5 step memory: peak {memory['peak'] * mb:.2f} MB of NumPy arrays, lower bound "
          f"{memory['bound'] * mb:.2f} MB (parameters, gradients and momentum 3 x "
          f"{memory['params'] * mb:.2f} MB, input, activations {memory['activations'] * mb:.2f} MB); "
          f"{memory['peak'] / memory['bound']:.2f}x the bound; live after the step "
          f"{memory['after'] * mb:.2f} MB (before: {memory['before'] * mb:.2f} MB), after "
          f"{memory['steps']:,} more steps {memory['after_many'] * mb:.2f} MB")


if __name__ == "__main__":
    main()
