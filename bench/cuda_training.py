"""GPU compute rows of issue 7, ember against PyTorch on the same GPU in one run (ratios are
ember time / torch time, or torch throughput / ember throughput: below 1.0 ember is faster):

  matmul     bf16 and f32 (TF32 off and on) at 4096^3 and 8192^3: TFLOP/s
  conv2d     the 3x3 and 1x1 convs of ResNet-50's four stages, batch 128, forward+backward
  sdpa       B=8, H=16, T=2048, D=64, causal, forward+backward
  resnet50   training images/s, batch 128, 224x224, AMP (float16 autocast + GradScaler), SGD
  gpt        GPT-2-small decoder (d=768, 12 layers, T=1024) training tokens/s, AMP (bfloat16), AdamW

    EMBER_INPLACE=1 python -m bench.cuda_training [--only matmul,sdpa] [--quick]

Needs a CUDA GPU, ember built with CUDA and cuBLAS (pip install "ember[cuda]"), and a CUDA build
of torch for the comparison (without it, ember's figures print alone). Times come from CUDA
events around `reps` iterations after warm-up iterations.
"""
import argparse
import os
import sys

if os.environ.get("EMBER_INPLACE"):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "core"))

import ember  # noqa: E402

from . import models  # noqa: E402
from .cuda_bandwidth import _time  # noqa: E402


def _libs():
    libs = [("ember", ember)]
    try:
        import torch
        if torch.cuda.is_available():
            libs.append(("torch", torch))
    except ImportError:
        pass
    return libs


def _row(name, times, unit_of=None):
    """Prints one row: each library's time (and throughput), and the ember/torch time ratio."""
    parts = [f"{name:<44}"]
    for lib, t in times.items():
        parts.append(f"{lib} {t * 1e3:9.3f} ms" + (f" ({unit_of(t)})" if unit_of else ""))
    if "torch" in times:
        parts.append(f"ratio {times['ember'] / times['torch']:.2f}")
    print("  ".join(parts), flush=True)


def bench_matmul(libs, quick):
    for n in ((4096,) if quick else (4096, 8192)):
        for dt, tf32 in (("bfloat16", False), ("float32", False), ("float32", True)):
            times = {}
            for name, lib in libs:
                lib.backends.cuda.matmul.allow_tf32 = tf32
                a = lib.randn(n, n, device="cuda").to(getattr(lib, dt))
                b = lib.randn(n, n, device="cuda").to(getattr(lib, dt))
                times[name] = _time(lib, lambda: lib.matmul(a, b), 5 if quick else 20, warmup=2)
            label = f"matmul {dt}{' tf32' if tf32 else ''} {n}^3"
            _row(label, times, lambda t, n=n: f"{2 * n ** 3 / t / 1e12:.0f} TFLOP/s")


RESNET50_CONVS = [  # (C, H, W, Cout, k, stride): one of each 1x1/3x3 shape per stage, batch 128
    (64, 56, 56, 64, 3, 1), (256, 56, 56, 64, 1, 1), (128, 28, 28, 128, 3, 1), (512, 28, 28, 128, 1, 1),
    (256, 14, 14, 256, 3, 1), (1024, 14, 14, 256, 1, 1), (512, 7, 7, 512, 3, 1), (2048, 7, 7, 512, 1, 1),
]


def bench_conv(libs, quick):
    for C, H, W, Co, k, s in RESNET50_CONVS[: 2 if quick else None]:
        times = {}
        for name, lib in libs:
            x = lib.randn(128, C, H, W, device="cuda").requires_grad_()
            w = lib.randn(Co, C, k, k, device="cuda").requires_grad_()
            g = lib.randn(128, Co, H // s, W // s, device="cuda")

            def step(lib=lib, x=x, w=w, g=g):
                y = lib.nn.functional.conv2d(x, w, stride=s, padding=k // 2)
                y.backward(g)
            times[name] = _time(lib, step, 3 if quick else 10, warmup=2)
        _row(f"conv2d {C}->{Co} {H}x{W} k{k} b128 fwd+bwd", times)


def bench_sdpa(libs, quick):
    B, H, T, D = (2, 16, 1024, 64) if quick else (8, 16, 2048, 64)
    times = {}
    for name, lib in libs:
        q, k, v = (lib.randn(B, H, T, D, device="cuda").requires_grad_() for _ in range(3))
        g = lib.randn(B, H, T, D, device="cuda")

        def step(lib=lib, q=q, k=k, v=v, g=g):
            lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True).backward(g)
        times[name] = _time(lib, step, 3 if quick else 10, warmup=2)
    _row(f"sdpa B={B} H={H} T={T} D={D} causal fwd+bwd", times)


def bench_resnet50(libs, quick):
    batch = 32 if quick else 128
    times = {}
    for name, lib in libs:
        lib.manual_seed(0)
        net = models.resnet50(lib.nn).cuda()
        opt = lib.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        scaler = lib.amp.GradScaler("cuda")
        x = lib.randn(batch, 3, 224, 224, device="cuda")
        y = lib.randint(0, 1000, (batch,), device="cuda")

        def step(lib=lib, net=net, opt=opt, scaler=scaler, x=x, y=y):
            opt.zero_grad()
            with lib.autocast("cuda", dtype=lib.float16):
                loss = lib.nn.functional.cross_entropy(net(x), y)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        times[name] = _time(lib, step, 3 if quick else 10, warmup=2)
    _row(f"resnet50 train b{batch} AMP fp16", times, lambda t: f"{batch / t:.0f} img/s")


def bench_gpt(libs, quick):
    B, T = (2, 512) if quick else (8, 1024)
    times = {}
    for name, lib in libs:
        lib.manual_seed(0)
        net = models.gpt_decoder(lib.nn, lib.nn.functional, ctx=T).cuda()
        opt = lib.optim.AdamW(net.parameters(), lr=3e-4)
        idx = lib.randint(0, 50304, (B, T), device="cuda")
        pos = lib.arange(T, device="cuda")

        def step(lib=lib, net=net, opt=opt, idx=idx, pos=pos):
            opt.zero_grad()
            with lib.autocast("cuda", dtype=lib.bfloat16):
                logits = net(idx, pos)
            loss = lib.nn.functional.cross_entropy(logits.float().flatten(0, 1), idx.flatten())
            loss.backward()
            opt.step()
        times[name] = _time(lib, step, 2 if quick else 5, warmup=1)
    _row(f"gpt d=768 L=12 T={T} b{B} train AMP bf16", times, lambda t: f"{B * T / t:.0f} tok/s")


ROWS = {"matmul": bench_matmul, "conv": bench_conv, "sdpa": bench_sdpa, "resnet50": bench_resnet50, "gpt": bench_gpt}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="comma-separated rows: " + ",".join(ROWS))
    ap.add_argument("--quick", action="store_true", help="smaller sizes and fewer repetitions")
    a = ap.parse_args(argv)
    if not ember.cuda.is_available():
        print("no CUDA device: nothing to measure")
        return 0
    libs = _libs()
    print(f"# {ember.cuda.get_device_name()}; libraries: {', '.join(n for n, _ in libs)}")
    for name in (a.only.split(",") if a.only else ROWS):
        ROWS[name](libs, a.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
