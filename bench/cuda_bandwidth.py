"""GPU memory-bound rows: copy, add and sum over 256M float32, ember against PyTorch on the same
GPU in one run, as the fraction of the device's HBM bandwidth reached (--peak-gbs, default the
H100 SXM's 3350 GB/s) and the ember/torch time ratio. Times come from CUDA events around
`--reps` calls after a warm-up.

    EMBER_INPLACE=1 python -m bench.cuda_bandwidth [--n 268435456] [--peak-gbs 3350]

Rows whose op has no CUDA kernel in ember yet print as skipped, with the reason.
"""
import argparse
import os
import sys

if os.environ.get("EMBER_INPLACE"):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "core"))

import ember  # noqa: E402


def _time(lib, fn, reps, warmup=1):
    """Seconds per call of fn, from CUDA events around reps calls after `warmup` calls
    (lib: ember or torch, whose cuda modules share this API)."""
    for _ in range(warmup):
        fn()
    lib.cuda.synchronize()
    start, end = lib.cuda.Event(enable_timing=True), lib.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(reps):
        fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / reps / 1e3


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1 << 28, help="elements (float32)")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--peak-gbs", type=float, default=3350.0, help="HBM bandwidth of the GPU, GB/s")
    a = ap.parse_args(argv)
    if not ember.cuda.is_available():
        print("no CUDA device: nothing to measure")
        return 0
    try:
        import torch
        has_torch = torch.cuda.is_available()
    except ImportError:
        torch, has_torch = None, False
    n = a.n
    print(f"ember on {ember.cuda.get_device_name()}, {n} float32, mean of {a.reps} calls after a warm-up; "
          f"peak {a.peak_gbs:.0f} GB/s")
    x, y = ember.ones(n, device="cuda"), ember.ones(n, device="cuda")
    out = ember.empty(n, device="cuda")
    rows = [("copy (out.copy_(x))", 8 * n, lambda: out.copy_(x)),
            ("add (x + y)", 12 * n, lambda: x + y),
            ("sum (x.sum())", 4 * n, lambda: x.sum())]
    if has_torch:
        tx, ty = torch.ones(n, device="cuda"), torch.ones(n, device="cuda")
        tout = torch.empty(n, device="cuda")
        trows = [lambda: tout.copy_(tx), lambda: tx + ty, lambda: tx.sum()]
    print(f"{'case':24} {'ember':>10} {'torch':>10} {'ratio':>7} {'ember GB/s':>11} {'% of peak':>9}")
    for i, (name, nbytes, fn) in enumerate(rows):
        try:
            te = _time(ember, fn, a.reps)
        except NotImplementedError as e:
            print(f"{name:24} skipped: {e}")
            continue
        tt = _time(torch, trows[i], a.reps) if has_torch else None
        gbs = nbytes / te / 1e9
        ratio = f"{te / tt:7.2f}" if tt else "      -"
        tts = f"{tt * 1e3:8.3f}ms" if tt else "         -"
        print(f"{name:24} {te * 1e3:8.3f}ms {tts} {ratio} {gbs:11.0f} {100 * gbs / a.peak_gbs:8.0f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
