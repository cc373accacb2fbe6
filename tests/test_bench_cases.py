"""The rows of `python -m bench` at tiny sizes: every case builds, its ember side runs and matches
torch (bench.nn_cases compares them before timing; a mismatch or an ember error is a Skip, which
fails here), and both callables run again after the check. Also: the peak-RSS rows' subprocesses,
the machine-limit arithmetic and the printed table."""
import json
import os
import sys

import pytest

pytest.importorskip("torch")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from bench import nn_cases as nc  # noqa: E402
from bench import run as bench_run  # noqa: E402

TINY_MOBILENET = dict(stages=((1, 4, 1, 1), (6, 6, 2, 1), (6, 8, 2, 2)), stem=4, head=12)

TINY = [
    ("conv2d fwd", nc.conv2d(N=2, C=4, H=6)),
    ("conv2d fwd+bwd", nc.conv2d(N=2, C=4, H=6, backward=True)),
    ("lstm", nc.lstm(I=5, H=7, T=4, B=3)),
    ("lstm lm train", nc.lm_train(T=4, B=3, vocab=11, dim=6, layers=2)),
    ("mlp train", nc.train(nc.mlp, 4, (12,), num_classes=3, sizes=(12, 8, 3))),
    ("resnet18 train", nc.train(nc.resnet18, 2, (3, 8, 8), num_classes=3, flops=nc.layer_flops,
                                widths=(4, 4, 8, 8))),
    ("resnet18 eval", nc.infer(nc.resnet18, 2, (3, 8, 8), flops=nc.layer_flops, widths=(4, 4, 8, 8))),
    ("resnet18 eval b1", nc.infer(nc.resnet18, 1, (3, 8, 8), widths=(4, 4, 8, 8))),
    ("mobilenet train", nc.train(nc.mobilenet_v2, 2, (3, 8, 8), num_classes=3, flops=nc.layer_flops,
                                 **TINY_MOBILENET)),
    ("mobilenet eval", nc.infer(nc.mobilenet_v2, 2, (3, 8, 8), flops=nc.layer_flops, **TINY_MOBILENET)),
    ("encoder train", nc.train(nc.encoder, 2, (5, 8), opt="adamw", flops=nc.encoder_flops, d_model=8, nhead=2,
                               ff=16, layers=2)),
    ("encoder eval", nc.infer(nc.encoder, 2, (5, 8), flops=nc.encoder_flops, d_model=8, nhead=2, ff=16, layers=2)),
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


def test_layer_flops_counts_convs_and_linears():
    import torch
    m = torch.nn.Sequential(torch.nn.Conv2d(4, 8, 3, padding=1), torch.nn.Conv2d(8, 8, 3, padding=1, groups=8),
                            torch.nn.Flatten(), torch.nn.Linear(8 * 5 * 5, 3))
    x = torch.zeros(2, 4, 5, 5)
    expect = 2 * (2 * 8 * 25 * 4 * 9) + 2 * (2 * 8 * 25 * 1 * 9) + 2 * (2 * 3 * 200)
    assert nc.layer_flops(m, x) == expect
    assert m.training  # restored


def test_encoder_flops():
    import torch
    tm = nc.encoder(torch.nn, d_model=8, nhead=2, ff=16, layers=3)
    B, T, d, ff = 2, 5, 8, 16
    per_layer = 2 * B * T * d * 3 * d + 2 * B * T * d * d + 2 * 2 * B * T * T * d + 2 * 2 * B * T * d * ff
    assert nc.encoder_flops(tm, torch.zeros(B, T, d)) == 3 * per_layer


def test_peak_rss_row_runs_both_libraries_in_subprocesses():
    import numpy as np
    make = nc.peak_rss("resnet18", steps=1, overrides={"kw": {"widths": [4, 4, 8, 8]}, "in_shape": [3, 8, 8],
                                                       "batch": 2, "classes": 3})
    ballast = np.ones(1 << 25)  # 256 MB resident here: the children must not report this process's peak
    try:
        row = make(True)
    except bench_run.Skip as e:
        pytest.fail(f"peak RSS skipped: {e}")
    assert ballast.sum() == 1 << 25
    assert 10 < row["ember_base_mb"] <= row["ember_mb"] < 200
    assert 10 < row["torch_base_mb"] <= row["torch_mb"]
    assert row["ratio"] == pytest.approx(row["ember_mb"] / row["torch_mb"])
    assert row["ember_loop_mb"] == pytest.approx(row["ember_mb"] - row["ember_base_mb"])
    assert "ember_s" not in row
    assert "loop +" in bench_run.format_row(dict(row, case="peak"), 4)


def test_memory_child_imports_only_its_library():
    import subprocess
    code = ("import sys, json; from bench import memory; "
            "r = memory.child('ember', 'resnet18', 1, 1, {'kw': {'widths': [4, 4, 8, 8]}, 'in_shape': [3, 8, 8], "
            "'batch': 2, 'classes': 3}); print(json.dumps([r, 'torch' in sys.modules]))")
    import ember
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    here = os.path.dirname(os.path.dirname(os.path.abspath(ember.__file__)))  # the ember these tests use
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([here, os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True)
    r, has_torch = json.loads(out.stdout.strip().splitlines()[-1])
    assert not has_torch
    assert r["lib"] == "ember" and r["peak_mb"] >= r["base_mb"] >= r["import_mb"] > 0


def test_limits_and_rates():
    lim = bench_run.limits(100.0, 40.0, 1, 64)
    assert lim["ember_peak_gflops"] == 100.0
    assert lim["torch_peak_gflops"] == 100.0 * min(64, os.cpu_count())
    row = bench_run.rates({"ember_s": 0.5, "torch_s": 1.0}, None, 10e9, {"dtype": "float64"}, lim)
    assert row["ember_gflops"] == pytest.approx(20.0)
    assert row["ember_limit"] == pytest.approx(50.0)
    assert row["ember_frac_of_limit"] == pytest.approx(0.4)
    row = bench_run.rates({"ember_s": 0.5, "torch_s": 1.0}, 10e9, None, {}, lim)
    assert row["ember_gbs"] == pytest.approx(20.0) and row["torch_frac_of_limit"] == pytest.approx(0.25)
    assert "50% / 25%" in bench_run.format_row(dict(row, case="x", ratio=0.5), 4)


def test_main_writes_limits_and_rows_to_json(tmp_path, capsys):
    out = tmp_path / "b.json"
    bench_run.main(["--quick", "--reps", "1", "--only", "add 1 element (per-op", "--peak-gflops", "50",
                    "--peak-gbs", "20", "--json", str(out)])
    data = json.loads(out.read_text())
    assert data["limits"]["peak_gflops_per_thread"] == 50 and data["limits"]["peak_gbs"] == 20
    (row,) = data["rows"]
    assert row["case"] == "add 1 element (per-op overhead)" and row["ember_s"] > 0 and row["torch_s"] > 0
    assert "limits: 50 GFLOP/s" in capsys.readouterr().out


def test_rows_listed():
    names = [n for n, _ in nc.cases(True)]
    assert len(names) == len(set(names)) == 24
    assert all(n in [c[0] for c in bench_run.cases(True)] for n in names)
