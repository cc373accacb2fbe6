"""The nn rows of `python -m bench` at tiny sizes: every case builds, its ember side runs and
matches torch (bench.nn_cases compares them before timing; a mismatch or an ember error is a Skip,
which fails here), and both callables run again after the check."""
import os
import sys

import pytest

pytest.importorskip("torch")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from bench import nn_cases as nc  # noqa: E402
from bench import run as bench_run  # noqa: E402

TINY = [
    ("conv2d fwd", nc.conv2d(N=2, C=4, H=6)),
    ("conv2d fwd+bwd", nc.conv2d(N=2, C=4, H=6, backward=True)),
    ("lstm", nc.lstm(I=5, H=7, T=4, B=3)),
    ("mlp train", nc.train(nc.mlp, 4, (12,), num_classes=3, sizes=(12, 8, 3))),
    ("resnet18 train", nc.train(nc.resnet18, 2, (3, 8, 8), num_classes=3, widths=(4, 4, 8, 8))),
    ("resnet18 eval", nc.infer(nc.resnet18, 2, (3, 8, 8), widths=(4, 4, 8, 8))),
    ("encoder train", nc.train(nc.encoder, 2, (5, 8), opt="adamw", d_model=8, nhead=2, ff=16, layers=2)),
    ("dataloader 0", nc.dataloader(n=50, batch=8, workers=0)),
    ("softmax", nc.softmax((3, 4, 5))),
    ("cross_entropy", nc.cross_entropy(N=6, C=5)),
    ("layer_norm", nc.layer_norm(N=6, D=8)),
    ("batch_norm", nc.batch_norm((3, 4, 5, 5))),
    ("sdpa", nc.sdpa(B=1, H=2, T=6, D=4)),
    ("max_pool2d", nc.max_pool2d((2, 3, 7, 7))),
    ("adamw", nc.adamw_step(tensors=2, numel=10)),
]


@pytest.mark.parametrize("name,make", TINY, ids=[t[0] for t in TINY])
def test_case_runs_and_matches_torch(name, make):
    try:
        fe, ft, nbytes, flops = make(True)
    except bench_run.Skip as e:
        pytest.fail(f"{name} skipped: {e}")
    fe()
    ft()
    assert nbytes is None or nbytes > 0
    assert flops is None or flops > 0


def test_rows_listed():
    names = [n for n, _ in nc.cases(True)]
    assert len(names) == len(set(names)) == 16
    assert all(n in [c[0] for c in bench_run.cases(True)] for n in names)
