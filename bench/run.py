"""ember against PyTorch, side by side in one process.

Every case builds the same inputs for both libraries, warms both up, then times several
repetitions of each (alternating, so that both see the same machine state) and reports the
medians, the ratio ember/torch (below 1: ember is faster) and, for cases that count them, the
GFLOP/s or GB/s (bytes read + written / time) each reaches and which fraction of the machine's
limit that is (--peak-gflops per thread, --peak-gbs). The peak-RSS rows give MB instead of times.

Cases whose ember op does not exist yet are skipped with a note.

    python -m bench                 # full run (several minutes)
    python -m bench --quick         # under 3 minutes
    python -m bench --json out.json # also write the rows as JSON
    python -m bench --only add,sgemm --threads 4
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

if os.environ.get("EMBER_INPLACE"):  # in-tree build, as tests/conftest.py does
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "core"))

import numpy as np  # noqa: E402

import ember  # noqa: E402

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None


class Skip(Exception):
    """The ember side of a case is not available (yet)."""


def _has(*names):
    for n in names:
        obj = ember
        for part in n.split("."):
            if not hasattr(obj, part):
                raise Skip(f"ember.{n} does not exist yet")
            obj = getattr(obj, part)


def _probe(fn, what):
    """Runs fn once; a NotImplementedError/AttributeError/TypeError means 'not there yet'."""
    try:
        fn()
    except (NotImplementedError, AttributeError, TypeError) as e:
        raise Skip(f"{what}: {type(e).__name__}: {str(e)[:80]}")


def _pair(a):
    """The same NumPy array as an ember and a torch tensor."""
    return ember.from_numpy(a.copy()), torch.from_numpy(a.copy())


# ---- cases: each returns (ember_fn, torch_fn, bytes moved or None, flops or None[, info]) -------
# info: a dict; {"dtype": "float64"} makes the FLOP limit half the float32 one. A case that measures
# itself (peak RSS) returns its row as a dict instead.
_RAND = {}


def _rand(shape, dtype=np.float32, seed=0):
    """Random normal input (cached: cases copy it into their own tensors)."""
    key = (shape if isinstance(shape, tuple) else (shape,), np.dtype(dtype).str, seed)
    if key not in _RAND:
        _RAND[key] = np.random.default_rng(seed).standard_normal(key[0], dtype=np.float32).astype(dtype)
    return _RAND[key]


N16M = 16 * 1024 * 1024


def case_add_1(quick):
    (ea, ta), (eb, tb) = _pair(_rand(1)), _pair(_rand(1, seed=1))
    return (lambda: ea + eb), (lambda: ta + tb), None, None


def _ew_binary(op):
    def make(quick):
        (ea, ta), (eb, tb) = _pair(_rand(N16M)), _pair(_rand(N16M, seed=1))
        f = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b}[op]
        return (lambda: f(ea, eb)), (lambda: f(ta, tb)), 3 * N16M * 4, None
    return make


def _ew_unary(op):
    def make(quick):
        ea, ta = _pair(_rand(N16M))
        return (lambda: getattr(ember, op)(ea)), (lambda: getattr(torch, op)(ta)), 2 * N16M * 4, None
    return make


def _ew_out(op):
    """The same op into a preallocated out=: kernel throughput without allocation (torch has no
    caching CPU allocator, so a fresh 64 MB result costs it page faults on every call)."""
    def make(quick):
        (ea, ta), (eb, tb) = _pair(_rand(N16M)), _pair(_rand(N16M, seed=1))
        eo, to = ember.empty(N16M), torch.empty(N16M)
        if op in ("add", "mul"):
            fe = lambda: getattr(ember, op)(ea, eb, out=eo)  # noqa: E731
            ft = lambda: getattr(torch, op)(ta, tb, out=to)  # noqa: E731
            return fe, ft, 3 * N16M * 4, None
        if op == "relu":  # torch.relu has no out=; clamp(min=0) is the same kernel shape
            return (lambda: ember.relu(ea, out=eo)), (lambda: torch.clamp(ta, min=0, out=to)), 2 * N16M * 4, None
        return (lambda: getattr(ember, op)(ea, out=eo)), (lambda: getattr(torch, op)(ta, out=to)), 2 * N16M * 4, None
    return make


def case_transpose_copy_out(quick):
    ea, ta = _pair(_rand((4096, 4096)))
    eo, to = ember.empty(4096, 4096), torch.empty(4096, 4096)
    return (lambda: eo.copy_(ea.t())), (lambda: to.copy_(ta.t())), 2 * N16M * 4, None


def _reduce(op, dim):
    def make(quick):
        _has(op)
        ea, ta = _pair(_rand((4096, 4096)))
        if dim is None:
            fe, ft = (lambda: getattr(ea, op)()), (lambda: getattr(ta, op)())
        else:
            fe, ft = (lambda: getattr(ea, op)(dim)), (lambda: getattr(ta, op)(dim))
        _probe(fe, f"{op}(dim={dim})")
        return fe, ft, N16M * 4, None
    return make


def case_transpose_copy(quick):
    ea, ta = _pair(_rand((4096, 4096)))
    return (lambda: ea.t().contiguous()), (lambda: ta.t().contiguous()), 2 * N16M * 4, None


def _gemm(n, dtype):
    def make(quick):
        _has("matmul")
        (ea, ta), (eb, tb) = _pair(_rand((n, n), dtype)), _pair(_rand((n, n), dtype, seed=1))
        fe = lambda: ember.matmul(ea, eb)  # noqa: E731
        _probe(fe, "matmul")
        return fe, (lambda: torch.matmul(ta, tb)), None, 2.0 * n ** 3, {"dtype": np.dtype(dtype).name}
    return make


def case_bmm(quick):
    _has("bmm")
    (ea, ta), (eb, tb) = _pair(_rand((64, 128, 128))), _pair(_rand((64, 128, 128), seed=1))
    fe = lambda: ember.bmm(ea, eb)  # noqa: E731
    _probe(fe, "bmm")
    return fe, (lambda: torch.bmm(ta, tb)), None, 2.0 * 64 * 128 ** 3


def case_gather(quick):
    rows = 1 << 20
    ex, tx = _pair(_rand((rows, 16)))
    idx = np.random.default_rng(2).integers(0, rows, rows)
    ei, ti = _pair(idx)
    fe = lambda: ex[ei]  # noqa: E731
    _probe(fe, "advanced indexing x[idx]")
    return fe, (lambda: tx[ti]), rows * 16 * 4 * 2 + rows * 8, None


# ---- autograd -------------------------------------------------------------------------------
def case_add_1_grad(quick):
    _has("autograd")
    (ea, ta), (eb, tb) = _pair(_rand(1)), _pair(_rand(1, seed=1))
    ea.requires_grad_()
    ta.requires_grad_()
    return (lambda: ea + eb), (lambda: ta + tb), None, None


def _mlp_params(lib, make):
    rng = np.random.default_rng(3)
    ps = [rng.standard_normal(s).astype(np.float32) * 0.2 for s in ((1, 32), (32, 32), (32,), (32, 32), (32,))]
    ts = [make(p.copy()) for p in ps]
    for t in ts[1:]:
        t.requires_grad_()
    return ts


def case_tiny_mlp(quick):
    _has("autograd")
    ex, ew1, eb1, ew2, eb2 = _mlp_params(ember, ember.from_numpy)
    tx, tw1, tb1, tw2, tb2 = _mlp_params(torch, torch.from_numpy)

    def fe():
        y = ((ex @ ew1.t() + eb1).relu() @ ew2.t() + eb2).sum()
        y.backward()
        for p in (ew1, eb1, ew2, eb2):
            p.grad = None

    def ft():
        y = ((tx @ tw1.t() + tb1).relu() @ tw2.t() + tb2).sum()
        y.backward()
        for p in (tw1, tb1, tw2, tb2):
            p.grad = None
    _probe(fe, "backward")
    return fe, ft, None, None


_CHAINS = {
    # the elementwise ops of a network: scale, shift, sigmoid, relu, exp
    "mix": lambda y, i: (lambda: y * 1.001, lambda: y + 0.1, lambda: y.sigmoid(), lambda: y.relu(),
                         lambda: (y * 0.1).exp())[i % 5](),
    # sin/cos: their kernels are scalar libm calls in ember, SLEEF in torch
    "sin": lambda y, i: y.sin() if i % 2 else y * 1.001,
}


def _chain(kind):
    def make(quick):
        _has("autograd")
        ex, tx = _pair(_rand(1 << 20))
        ex.requires_grad_()
        tx.requires_grad_()
        step = _CHAINS[kind]

        def run(x):
            y = x
            for i in range(100):
                y = step(y, i)
            y.sum().backward()
            x.grad = None
        _probe(lambda: run(ex), "backward")
        return (lambda: run(ex)), (lambda: run(tx)), None, None
    return make


def cases(quick):
    out = [("add 1 element (per-op overhead)", case_add_1)]
    out.append(("add 1 element, requires_grad (graph recording)", case_add_1_grad))
    out.append(("tiny MLP fwd+bwd (2 x Linear 32, batch 1)", case_tiny_mlp))
    out.append(("chain of 100 ops (mul, add, sigmoid, relu, exp) on 1M f32, fwd+bwd", _chain("mix")))
    out.append(("chain of 100 ops (mul, sin) on 1M f32, fwd+bwd", _chain("sin")))
    for op in ("add", "mul"):
        out.append((f"{op} 16M f32", _ew_binary(op)))
    for op in ("exp", "relu"):
        out.append((f"{op} 16M f32", _ew_unary(op)))
    for op in ("add", "mul", "exp", "relu"):
        out.append((f"{op} 16M f32, out= (no allocation)", _ew_out(op)))
    for op in ("sum", "mean"):
        for dim in (None, 0, 1):
            out.append((f"{op} 4096x4096 " + ("all" if dim is None else f"dim={dim}"), _reduce(op, dim)))
    out.append(("transpose copy 4096x4096 (x.t().contiguous())", case_transpose_copy))
    out.append(("transpose copy 4096x4096 into out (o.copy_(x.t()))", case_transpose_copy_out))
    sizes = (256, 1024) if quick else (256, 512, 1024, 2048, 4096)
    for name, dt in (("sgemm", np.float32), ("dgemm", np.float64)):
        for n in sizes:
            if quick and name == "dgemm" and n > 256:
                continue
            out.append((f"{name} {n}", _gemm(n, dt)))
    out.append(("bmm 64x(128x128)", case_bmm))
    out.append(("gather x[idx], x (1M,16), 1M rows", case_gather))
    from . import nn_cases  # layers, models, optimizers, DataLoader (imported here: it uses Skip from this module)
    out += nn_cases.cases(quick, sys.modules[__name__])
    return out


# ---- timing -----------------------------------------------------------------------------------
def _calibrate(fn, target):
    """Calls per repetition so that a repetition takes about `target` seconds."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= target or n >= 1 << 20:
            return n, dt / n
        n = max(n * 2, int(n * target / max(dt, 1e-9) * 1.1))


def measure(fe, ft, reps, target, warmup=2):
    for _ in range(warmup):  # allocator caches, lazy init, first-touch page faults
        fe()
        ft()
    ne, _ = _calibrate(fe, target)
    nt, _ = _calibrate(ft, target)
    te, tt = [], []
    for _ in range(reps):  # alternate so that both see the same machine state
        t0 = time.perf_counter()
        for _ in range(ne):
            fe()
        te.append((time.perf_counter() - t0) / ne)
        t0 = time.perf_counter()
        for _ in range(nt):
            ft()
        tt.append((time.perf_counter() - t0) / nt)
    return statistics.median(te), statistics.median(tt)


def _fmt_time(s):
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


# Machine limits of the project's CI-class machine (2 cores of an AMD EPYC, AVX2 + FMA): two 8-wide
# float32 FMAs per cycle per core is about 116 GFLOP/s per thread at its clock (OpenBLAS runs its
# Haswell kernels there); float64 half of that; STREAM measured 40-65 GB/s with 2 threads.
PEAK_GFLOPS_PER_THREAD = 116.0
PEAK_GBS = 50.0


def limits(peak_gflops, peak_gbs, ember_threads, torch_threads):
    """The machine limits the '% of limit' column divides by.

    Args:
        peak_gflops (float): float32 GFLOP/s of one thread (float64: half).
        peak_gbs (float): memory bandwidth in GB/s (the whole machine).
        ember_threads, torch_threads (int): each library's thread count (capped at the CPU count:
            threads beyond the cores add no FLOPs).

    Returns:
        dict: the arguments, the capped thread counts, and each library's float32 GFLOP/s limit.
    """
    cores = os.cpu_count() or 1
    et, tt = min(ember_threads, cores), min(torch_threads, cores)
    return {"peak_gflops_per_thread": peak_gflops, "peak_gflops_f64_per_thread": peak_gflops / 2,
            "peak_gbs": peak_gbs, "ember_threads": et, "torch_threads": tt,
            "ember_peak_gflops": peak_gflops * et, "torch_peak_gflops": peak_gflops * tt}


def rates(row, nbytes, flops, info, lim):
    """Adds to a timed row (ember_s, torch_s) the rates each library reaches and the fraction of
    the machine limit: GFLOP/s against peak FLOPs where the case counts FLOPs (float64 cases, info
    {'dtype': 'float64'}: half the float32 peak), else GB/s against the bandwidth."""
    te, tt = row["ember_s"], row["torch_s"]
    if nbytes:
        row.update(ember_gbs=nbytes / te / 1e9, torch_gbs=nbytes / tt / 1e9)
    if flops:
        row.update(ember_gflops=flops / te / 1e9, torch_gflops=flops / tt / 1e9)
        scale = 0.5 if (info or {}).get("dtype") == "float64" else 1.0
        le, lt = lim["ember_peak_gflops"] * scale, lim["torch_peak_gflops"] * scale
        row.update(limit_unit="GFLOP/s", ember_limit=le, torch_limit=lt,
                   ember_frac_of_limit=row["ember_gflops"] / le, torch_frac_of_limit=row["torch_gflops"] / lt)
    elif nbytes:
        row.update(limit_unit="GB/s", ember_limit=lim["peak_gbs"], torch_limit=lim["peak_gbs"],
                   ember_frac_of_limit=row["ember_gbs"] / lim["peak_gbs"],
                   torch_frac_of_limit=row["torch_gbs"] / lim["peak_gbs"])
    return row


def _fmt_rate(row, who):
    if f"{who}_gflops" in row:
        return f"{row[who + '_gflops']:.1f} GFLOP/s"
    if f"{who}_gbs" in row:
        return f"{row[who + '_gbs']:.1f} GB/s"
    if f"{who}_loop_mb" in row:
        return f"loop +{row[who + '_loop_mb']:.0f} MB"
    return "-"


def format_row(row, width):
    """One printed line of the table."""
    name = row["case"]
    if "skipped" in row:
        return f"{name:<{width}} skipped: {row['skipped']}"
    if "ember_mb" in row:
        e, t = f"{row['ember_mb']:.0f} MB", f"{row['torch_mb']:.0f} MB"
    else:
        e, t = _fmt_time(row["ember_s"]), _fmt_time(row["torch_s"])
    frac = "-"
    if "ember_frac_of_limit" in row:
        frac = f"{row['ember_frac_of_limit']:.0%} / {row['torch_frac_of_limit']:.0%}"
    return (f"{name:<{width}} {e:>10} {t:>10} {row['ratio']:>11.2f} {_fmt_rate(row, 'ember'):>14} "
            f"{_fmt_rate(row, 'torch'):>14} {frac:>11}")


def _unpack(made):
    """A case's make() result as (ember_fn, torch_fn, nbytes, flops, info)."""
    return tuple(made) + ({},) if len(made) == 4 else tuple(made)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer sizes and repetitions (< 3 minutes)")
    p.add_argument("--json", metavar="PATH", help="write the rows to PATH as JSON")
    p.add_argument("--reps", type=int, default=None, help="timed repetitions per case (default 7, quick 3)")
    p.add_argument("--threads", type=int, default=None, help="threads for both libraries (default: each one's own)")
    p.add_argument("--only", default=None, help="comma-separated substrings of case names to run")
    p.add_argument("--peak-gflops", type=float, default=PEAK_GFLOPS_PER_THREAD, metavar="PER_THREAD",
                   help=f"float32 GFLOP/s of one thread, float64 half (default {PEAK_GFLOPS_PER_THREAD:g}: "
                        "AVX2 FMA at 2 x 8 lanes per cycle)")
    p.add_argument("--peak-gbs", type=float, default=PEAK_GBS,
                   help=f"memory bandwidth in GB/s (default {PEAK_GBS:g})")
    args = p.parse_args(argv)
    if torch is None:
        sys.exit("bench needs PyTorch installed (it is the reference)")
    if args.threads:
        torch.set_num_threads(args.threads)
        ember.set_num_threads(args.threads)
    reps = args.reps or (3 if args.quick else 7)
    target = 0.02 if args.quick else 0.05
    lim = limits(args.peak_gflops, args.peak_gbs, ember.get_num_threads(), torch.get_num_threads())
    header = (f"ember {getattr(ember, '__version__', '?')} ({ember.get_num_threads()} threads) vs torch "
              f"{torch.__version__} ({torch.get_num_threads()} threads), {platform.processor() or platform.machine()}, "
              f"{os.cpu_count()} CPUs, median of {reps}")
    limits_line = (f"limits: {lim['peak_gflops_per_thread']:g} GFLOP/s f32 per thread (f64 half): ember "
                   f"{lim['ember_peak_gflops']:g}, torch {lim['torch_peak_gflops']:g}; memory {lim['peak_gbs']:g} GB/s")
    print(header)
    print(limits_line)
    only = [s.strip() for s in args.only.split(",") if s.strip()] if args.only else None
    selected = [(n, m) for n, m in cases(args.quick) if not only or any(s in n for s in only)]
    width = min(60, max([len(n) for n, _ in selected] + [4]))
    cols = ("case", "ember", "torch", "ember/torch", "ember rate", "torch rate", "% of limit")
    print(" ".join(f"{c:<{width}}" if i == 0 else f"{c:>{w}}"
                   for i, (c, w) in enumerate(zip(cols, (width, 10, 10, 11, 14, 14, 11)))))
    rows = []
    t_start = time.perf_counter()
    for name, make in selected:
        row = {"case": name}
        t_row = time.perf_counter()
        try:
            made = make(args.quick)
        except Skip as e:
            row["skipped"] = str(e)
        else:
            if isinstance(made, dict):  # measured by the case itself (peak RSS)
                row.update(made)
            else:
                fe, ft, nbytes, flops, info = _unpack(made)
                # quick: the calibration's first calls are the warm-up (nn cases also ran both once)
                te, tt = measure(fe, ft, reps, target, warmup=0 if args.quick else 2)
                row.update(ember_s=te, torch_s=tt, ratio=te / tt)
                rates(row, nbytes, flops, info, lim)
                del fe, ft
            del made
        row["bench_s"] = time.perf_counter() - t_row  # building, checking and timing the row
        rows.append(row)
        print(format_row(row, width), flush=True)
    print(f"({time.perf_counter() - t_start:.0f} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"header": f"{header}; {limits_line}", "limits": lim, "rows": rows}, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
