"""How much DataLoader workers grow when the dataset holds a big Python list.

Forked workers share the dataset copy-on-write, but reading an item of a Python list writes
its reference count (and a garbage collection writes the GC headers of every object it
visits), so the page holding it is copied into the worker: every worker slowly grows a
private copy of the list. This script builds a dataset holding N (path, label) tuples (about
3 objects per item), runs one shuffled epoch with 2 workers, and prints each worker's USS
(private memory) and PSS (proportional share) growth, read from /proc/<pid>/smaps_rollup,
between the first batch and the end of the epoch, for:

    torch  list        torch.utils.data.DataLoader over the plain list (if torch is installed)
    ember  list        ember.data.DataLoader over the plain list (gc.freeze() before forking)
    ember  list, no gc.freeze   the same with the freeze disabled, to isolate its effect
    ember  SerializedList       the list packed by ember.data.SerializedList (3 objects in all)
    ember  SerializedList, no freeze   the same without gc.freeze()

Each configuration runs in a fresh Python process so that they cannot disturb each other.

Usage (from the repository root, with an in-tree build):
    EMBER_INPLACE=1 PYTHONPATH=core python bench/dataloader_memory.py [--items 1000000] [--gc-every 0]

``--gc-every K`` makes every worker call gc.collect() every K items (what a dataset that
allocates a lot triggers by itself): it shows the part of the growth that gc.freeze() removes.
"""
import argparse
import json
import os
import subprocess
import sys
import time

CONFIGS = ["torch-list", "ember-list", "ember-list-nofreeze", "ember-serialized", "ember-serialized-nofreeze"]
LABELS = {"torch-list": "torch  list", "ember-list": "ember  list (gc.freeze)",
          "ember-list-nofreeze": "ember  list, no gc.freeze", "ember-serialized": "ember  SerializedList",
          "ember-serialized-nofreeze": "ember  SerializedList, no freeze"}


def memory_kb(pid):
    """(USS, PSS, RSS) of a process in kB, from /proc/<pid>/smaps_rollup."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                fields[parts[0][:-1]] = int(parts[1])
    return fields["Private_Clean"] + fields["Private_Dirty"], fields["Pss"], fields["Rss"]


class ListDataset:
    """A map-style dataset over a sequence of (path, label) records (a plain class: both
    libraries' loaders accept it)."""

    def __init__(self, records, gc_every=0):
        self.records = records
        self.gc_every = gc_every
        self.count = 0

    def __len__(self):
        return len(self.records)

    def __getitem__(self, i):
        path, label = self.records[i]
        if self.gc_every:
            self.count += 1
            if self.count % self.gc_every == 0:
                import gc
                gc.collect()
        return len(path), label


def run_one(config, n_items, batch_size, workers, gc_every):
    """Runs one configuration in this process; returns a dict of measurements."""
    t0 = time.perf_counter()
    records = [(f"/data/train/class_{i % 1000:04d}/img_{i:08d}.jpg", i % 1000) for i in range(n_items)]
    base_rss = memory_kb(os.getpid())[2]
    if config.startswith("torch"):
        import torch
        from torch.utils.data import DataLoader
        torch.manual_seed(0)
        kwargs = {}
    else:
        import ember
        from ember.data import DataLoader, SerializedList
        from ember.data import dataloader as _dl
        ember.manual_seed(0)
        if config.startswith("ember-serialized"):
            records = SerializedList(records)
        if config.endswith("-nofreeze"):
            _dl._gc_freeze_acquire = lambda: None
            _dl._gc_freeze_release = lambda: None
        kwargs = {}
    build_s = time.perf_counter() - t0
    ds = ListDataset(records, gc_every)
    loader = DataLoader(ds, batch_size=batch_size, shuffle=True, num_workers=workers, persistent_workers=True,
                        **kwargs)
    it = iter(loader)
    next(it)
    pids = [w.pid for w in it._workers]
    start = [memory_kb(p) for p in pids]
    t1 = time.perf_counter()
    n = 1 + sum(1 for _ in it)
    epoch_s = time.perf_counter() - t1
    end = [memory_kb(p) for p in pids]
    del it, loader
    return {"config": config, "items": n_items, "batches": n, "build_s": build_s, "epoch_s": epoch_s,
            "main_rss_mb": base_rss / 1024, "start": start, "end": end}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=1_000_000, help="records in the list (about 3 objects each)")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--gc-every", type=int, default=0, help="workers call gc.collect() every K items (0: never)")
    ap.add_argument("--only", default="", help="comma-separated configs: " + ",".join(CONFIGS))
    ap.add_argument("--one", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.items, args.batch_size, args.workers, args.gc_every)))
        return
    configs = [c for c in CONFIGS if not args.only or c in args.only.split(",")]
    print(f"{args.items:,} records ({3 * args.items:,} Python objects), batch_size {args.batch_size}, "
          f"{args.workers} workers, one shuffled epoch; gc.collect() in workers every {args.gc_every or 'never'}\n")
    print(f"{'configuration':34s} {'main RSS':>9s} {'epoch':>7s}   worker USS growth (MB)   worker PSS growth (MB)")
    for config in configs:
        if config.startswith("torch"):
            try:
                import torch  # noqa: F401
            except ImportError:
                print(f"{LABELS[config]:34s} skipped: torch is not installed")
                continue
        cmd = [sys.executable, os.path.abspath(__file__), "--one", config, "--items", str(args.items),
               "--batch-size", str(args.batch_size), "--workers", str(args.workers), "--gc-every", str(args.gc_every)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{LABELS[config]:34s} failed:\n{proc.stderr[-2000:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        uss = [(e[0] - s[0]) / 1024 for s, e in zip(r["start"], r["end"])]
        pss = [(e[1] - s[1]) / 1024 for s, e in zip(r["start"], r["end"])]
        print(f"{LABELS[config]:34s} {r['main_rss_mb']:7.0f}MB {r['epoch_s']:6.1f}s   "
              f"{' + '.join(f'{u:6.1f}' for u in uss):>22s}   {' + '.join(f'{p:6.1f}' for p in pss):>22s}")


if __name__ == "__main__":
    main()
