"""Checkpoints written by torch at test time, loaded by ember (skipped without torch).

The CI run has no torch; the committed fixtures (test_torch_checkpoints.py) cover it there.
"""
import io

import numpy as np
import pytest

import ember
from ember.serialization import load, save

torch = pytest.importorskip("torch", reason="PyTorch not installed: serialization parity skipped")

DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.int16,
          torch.int8, torch.uint8, torch.bool, torch.complex64]


def as_numpy(t):
    if isinstance(t, torch.Tensor):
        return (t.float() if t.dtype == torch.bfloat16 else t).detach().numpy()
    return (t.float() if t.dtype == ember.bfloat16 else t).detach().numpy()


def torch_save(obj, legacy):
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=not legacy)
    buf.seek(0)
    return buf


def sample(dtype, gen):
    x = torch.randn(4, 5, 6, generator=gen) * 50
    if dtype == torch.bool:
        return x > 0
    if dtype == torch.complex64:
        return torch.complex(x, -x)
    return x.to(dtype)


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_views_of_every_dtype_match_torch(legacy):
    gen = torch.Generator().manual_seed(0)
    sd = {}
    for dt in DTYPES:
        x = sample(dt, gen)
        name = str(dt).split(".")[1]
        sd[name] = x
        sd[name + "_perm"] = x.permute(2, 0, 1)
        sd[name + "_slice"] = x[1:3, ::2, 3]
        sd[name + "_0d"] = x[1, 2, 3]
    out = load(torch_save(sd, legacy))
    for k, t in sd.items():
        e = out[k]
        assert tuple(e.shape) == tuple(t.shape) and e.stride() == t.stride(), k
        assert e.storage_offset() == t.storage_offset(), k
        np.testing.assert_array_equal(as_numpy(e), as_numpy(t), err_msg=k)


def test_module_and_optimizer_state_dicts_match_torch():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3), torch.nn.Linear(3, 2))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    model(torch.randn(5, 4)).pow(2).sum().backward()
    opt.step()
    sched.step()
    ck = {"model": model.state_dict(), "optim": opt.state_dict(), "sched": sched.state_dict(), "epoch": 3}
    out = load(torch_save(ck, legacy=False))
    assert list(out["model"]) == list(ck["model"])
    for k, v in ck["model"].items():
        np.testing.assert_array_equal(as_numpy(out["model"][k]), as_numpy(v))
    for i, st in ck["optim"]["state"].items():
        for k, v in st.items():
            np.testing.assert_array_equal(as_numpy(out["optim"]["state"][i][k]), as_numpy(v))
    assert out["optim"]["param_groups"] == ck["optim"]["param_groups"]
    assert out["sched"] == ck["sched"] and out["epoch"] == 3
    # ember's own format round-trips the loaded checkpoint exactly
    buf = io.BytesIO()
    save(out, buf)
    buf.seek(0)
    again = load(buf)
    assert again["optim"]["param_groups"] == ck["optim"]["param_groups"]
    np.testing.assert_array_equal(as_numpy(again["optim"]["state"][0]["exp_avg"]),
                                  as_numpy(ck["optim"]["state"][0]["exp_avg"]))


def test_safetensors_torch_reads_ember_files_and_back():
    stt = pytest.importorskip("safetensors.torch")
    gen = torch.Generator().manual_seed(1)
    sd = {str(dt).split(".")[1]: sample(dt, gen) for dt in DTYPES}
    raw = stt.save(sd, metadata={"format": "pt"})
    out = load(io.BytesIO(raw))
    for k, v in sd.items():
        np.testing.assert_array_equal(as_numpy(out[k]), as_numpy(v))
    buf = io.BytesIO()
    save(out, buf, metadata={"format": "pt"})
    assert buf.getvalue() == raw                       # byte-identical to safetensors.torch
    back = stt.load(buf.getvalue())
    for k, v in sd.items():
        assert torch.equal(back[k], v)
