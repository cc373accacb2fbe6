"""Peak memory of a training loop, ember against PyTorch: the peak-RSS rows of `python -m bench`.

Each measurement runs in a fresh Python process that imports only one library (bench/models.py
imports neither), builds the model, its input and its optimizer, reads its resident set size,
runs a few training steps, then reads its peak resident set size (VmHWM, see _maxrss_mb). The peak
is everything the process ever held resident: the interpreter, the library's code and its import-
time allocations, the weights, the optimizer state, the autograd graph's saved activations, the
gradients, and whatever the allocator keeps cached; the RSS after construction ("base") shows how
much of it the loop added.

    python -m bench.memory resnet18 --steps 3      # both libraries, printed side by side
    python -m bench.memory encoder --threads 2

The subprocess imports ember from the directory the parent's ember came from (so an in-tree build
under EMBER_INPLACE=1 is measured as such), and uses the parent's thread count when given.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name -> (model builder in bench.models, its keyword arguments, input shape without batch, batch,
# classes (None: mean-square loss), optimizer)
CONFIGS = {
    "resnet18": ("resnet18", {}, (3, 32, 32), 32, 10, "sgd"),
    "encoder": ("encoder", {}, (128, 256), 16, None, "adamw"),
}


def _status_mb(field):
    """A kB field of /proc/self/status (VmRSS: now, VmHWM: peak) in MB; None where there is none."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:  # pragma: no cover (not Linux)
        pass
    return None


def _rss_mb():
    """The current resident set size in MB."""
    rss = _status_mb("VmRSS")
    return rss if rss is not None else _maxrss_mb()


def _maxrss_mb():
    """The peak resident set size of this process in MB.

    VmHWM where Linux has it: getrusage's ru_maxrss survives exec, so in a child of a big process
    (the benchmark, after its other rows) it reports the parent's RSS at the fork instead of the
    child's own peak; VmHWM belongs to the address space the exec created."""
    hwm = _status_mb("VmHWM")
    if hwm is not None:
        return hwm
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover (kB on Linux)


def child(lib_name, config, steps, threads=None, overrides=None):
    """Runs in the measuring subprocess: builds config's model with lib_name ('ember' or 'torch'),
    runs `steps` training steps, and returns a dict of MB figures and the last loss."""
    from bench import models
    if lib_name == "ember":
        import ember as lib
        import ember.nn as nn
        import ember.nn.functional as F
        import ember.optim as optim
    else:
        import torch as lib
        import torch.nn as nn
        import torch.nn.functional as F
        import torch.optim as optim
    if threads:
        lib.set_num_threads(threads)
    import_mb = _rss_mb()
    build, kw, in_shape, batch, classes, opt = CONFIGS[config]
    if overrides:
        kw = dict(kw, **overrides.get("kw", {}))
        in_shape = tuple(overrides.get("in_shape", in_shape))
        batch = overrides.get("batch", batch)
        classes = overrides.get("classes", classes)
    lib.manual_seed(0)
    model = getattr(models, build)(nn, **kw)
    model.train()
    x = lib.randn(batch, *in_shape)
    if classes:
        y = lib.randint(0, classes, (batch,))
        loss_fn = F.cross_entropy
    else:
        y = None
        loss_fn = lambda out, _: (out * out).mean()  # noqa: E731
    if opt == "sgd":
        optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    else:
        optimizer = optim.AdamW(model.parameters(), lr=1e-4)
    base_mb = _rss_mb()
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return {"lib": lib_name, "peak_mb": _maxrss_mb(), "base_mb": base_mb, "import_mb": import_mb,
            "end_mb": _rss_mb(), "loss": float(loss.item()), "loop_s": time.perf_counter() - t0,
            "threads": lib.get_num_threads(), "module": lib.__file__}


def measure(lib_name, config, steps, threads=None, ember_path=None, overrides=None, timeout=600):
    """Runs child() in a fresh `python -m bench.memory --child` process; returns its dict.

    Args:
        lib_name (str): 'ember' or 'torch'.
        config (str): a key of CONFIGS.
        steps (int): training steps to run.
        threads (int or None): set_num_threads in the child (default: the library's own).
        ember_path (str or None): directory to put first on the child's sys.path (the parent of
            the ember package the caller imported), so both import the same build.
        overrides (dict or None): 'kw', 'in_shape', 'batch', 'classes' to shrink the config (tests).

    Raises:
        RuntimeError: the child failed; the message ends with its stderr.
    """
    cmd = [sys.executable, "-m", "bench.memory", "--child", lib_name, config, "--steps", str(steps)]
    if threads:
        cmd += ["--threads", str(threads)]
    if ember_path:
        cmd += ["--ember-path", ember_path]
    if overrides:
        cmd += ["--overrides", json.dumps(overrides)]
    proc = subprocess.run(cmd, cwd=_ROOT, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        err = " ".join(proc.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"[bench.memory] {lib_name} {config} failed (exit {proc.returncode}): {err[-300:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.split("\n")[0])
    p.add_argument("config", choices=sorted(CONFIGS))
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--child", choices=("ember", "torch"), help=argparse.SUPPRESS)
    p.add_argument("--ember-path", default=None, help=argparse.SUPPRESS)
    p.add_argument("--overrides", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        if args.ember_path:
            sys.path.insert(0, args.ember_path)
        overrides = json.loads(args.overrides) if args.overrides else None
        print(json.dumps(child(args.child, args.config, args.steps, args.threads, overrides)))
        return
    if os.environ.get("EMBER_INPLACE"):  # in-tree build, as bench/run.py does
        sys.path.insert(0, os.path.join(_ROOT, "core"))
    import ember
    ember_path = os.path.dirname(os.path.dirname(os.path.abspath(ember.__file__)))
    print(f"{args.config}, {args.steps} training steps, one fresh process per library")
    for lib_name in ("ember", "torch"):
        r = measure(lib_name, args.config, args.steps, args.threads, ember_path)
        print(f"{lib_name:6s} peak {r['peak_mb']:7.0f} MB  after import {r['import_mb']:6.0f} MB  after construction "
              f"{r['base_mb']:6.0f} MB  loop {r['loop_s']:.1f} s  ({r['threads']} threads)")


if __name__ == "__main__":
    main()
