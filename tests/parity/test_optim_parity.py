"""ember.optim, lr_scheduler and GradScaler against PyTorch: same weights and gradients,
10 steps of every optimizer and option set; lr sequences of every scheduler; state_dict layout."""
import math
import os
import sys

import numpy as np
import pytest
import torch

import ember
import ember.optim as eoptim
from ember.amp.grad_scaler import GradScaler
from ember.optim import lr_scheduler as EL
from torch.optim import lr_scheduler as TL

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "optim"))
from optim_reference import CASES, case_id  # noqa: E402

DT = {np.float32: (ember.float32, torch.float32), np.float64: (ember.float64, torch.float64)}


def _pair(name, opts, shapes, dtype, seed):
    rng = np.random.default_rng(seed)
    w0 = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ed, td = DT[dtype]
    pe = [ember.tensor(w.copy(), dtype=ed, requires_grad=True) for w in w0]
    pt = [torch.tensor(w.copy(), dtype=td, requires_grad=True) for w in w0]
    oe = getattr(eoptim, name)(pe, **opts)
    ot = getattr(torch.optim, name)(pt, foreach=False, **opts)
    return rng, pe, pt, oe, ot


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_optimizer_parity(case, dtype):
    name, opts = case
    rng, pe, pt, oe, ot = _pair(name, opts, [(4, 5), (7,)], dtype, 0)
    for _ in range(10):
        for a, b in zip(pe, pt):
            g = rng.standard_normal(tuple(b.shape)).astype(dtype)
            a.grad, b.grad = ember.tensor(g, dtype=a.dtype), torch.tensor(g)
        oe.step()
        ot.step()
    rtol, atol = (1e-6, 1e-7) if dtype == np.float32 else (1e-12, 1e-14)
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)
    # the state too, entry by entry
    se, st = oe.state_dict(), ot.state_dict()
    assert list(se["state"]) == list(st["state"])
    for k in st["state"]:
        assert list(se["state"][k]) == list(st["state"][k])
        for key, tv in st["state"][k].items():
            ev = se["state"][k][key]
            assert str(ev.dtype).split(".")[-1] == str(tv.dtype).split(".")[-1]
            np.testing.assert_allclose(ev.numpy(), tv.numpy(), rtol=rtol * 10, atol=atol)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax"])
def test_state_dict_structure(name):
    opts = {"momentum": 0.9} if name == "SGD" else {}
    rng, pe, pt, oe, ot = _pair(name, opts, [(2,), (3,), (1,)], np.float32, 1)
    for opt, params, lib in ((oe, pe, ember), (ot, pt, torch)):
        opt.add_param_group({"params": [], "lr": 0.5})
        params[0].grad = lib.ones(2)
        params[2].grad = lib.ones(1)
        opt.step()
    se, st = oe.state_dict(), ot.state_dict()
    assert list(se["state"]) == list(st["state"]) == ([0, 1, 2] if name == "Adagrad" else [0, 2])
    assert [list(g) for g in se["param_groups"]] == [list(g) for g in st["param_groups"]]
    for ge, gt in zip(se["param_groups"], st["param_groups"]):
        assert ge.pop("foreach") is None and gt.pop("foreach") is False  # torch was built with foreach=False
        assert ge == gt
    for k in st["state"]:
        assert list(se["state"][k]) == list(st["state"][k])
        if "step" in st["state"][k]:
            assert se["state"][k]["step"].shape == () and se["state"][k]["step"].dtype == ember.float32


def _lr_seq(lib, make, steps=30, metrics=None, key="lr"):
    L = EL if lib is ember else TL
    optim = eoptim if lib is ember else torch.optim
    params = [[lib.zeros(1, requires_grad=True)], [lib.zeros(1, requires_grad=True)]]
    opt_cls, opt_kw = make.get("opt", ("SGD", {"momentum": 0.9}))
    opt = getattr(optim, opt_cls)([{"params": params[0]}, {"params": params[1], "lr": 0.3}], lr=0.1, **opt_kw)
    sched = make["sched"](L, opt)
    seq = []
    for i in range(steps):
        seq.append([(g["lr"], g.get("momentum"), g.get("betas")) for g in opt.param_groups])
        opt.step()
        sched.step() if metrics is None else sched.step(metrics[i])
    seq.append([(g["lr"], g.get("momentum"), g.get("betas")) for g in opt.param_groups])
    return seq, sched.get_last_lr()


SCHEDS = {
    "LambdaLR": dict(sched=lambda L, o: L.LambdaLR(o, [lambda e: 0.95 ** e, lambda e: 1 / (1 + e)])),
    "MultiplicativeLR": dict(sched=lambda L, o: L.MultiplicativeLR(o, lambda e: 0.9 if e % 2 else 0.99)),
    "StepLR": dict(sched=lambda L, o: L.StepLR(o, step_size=4, gamma=0.3)),
    "MultiStepLR": dict(sched=lambda L, o: L.MultiStepLR(o, milestones=[3, 8, 8, 20], gamma=0.5)),
    "ConstantLR": dict(sched=lambda L, o: L.ConstantLR(o, factor=0.4, total_iters=6)),
    "LinearLR": dict(sched=lambda L, o: L.LinearLR(o, start_factor=0.1, end_factor=0.7, total_iters=12)),
    "ExponentialLR": dict(sched=lambda L, o: L.ExponentialLR(o, gamma=0.87)),
    "PolynomialLR": dict(sched=lambda L, o: L.PolynomialLR(o, total_iters=20, power=1.7)),
    "CosineAnnealingLR": dict(sched=lambda L, o: L.CosineAnnealingLR(o, T_max=9, eta_min=0.01)),
    "CosineAnnealingWarmRestarts": dict(sched=lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2,
                                                                                           eta_min=0.001)),
    "OneCycleLR-cos": dict(sched=lambda L, o: L.OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=30)),
    "OneCycleLR-linear-3phase": dict(sched=lambda L, o: L.OneCycleLR(o, max_lr=1.0, epochs=3, steps_per_epoch=10,
                                                                      anneal_strategy="linear", three_phase=True,
                                                                      pct_start=0.25)),
    "OneCycleLR-adam-betas": dict(opt=("Adam", {}), sched=lambda L, o: L.OneCycleLR(o, max_lr=0.5, total_steps=30,
                                                                                     base_momentum=0.8)),
    "CyclicLR-triangular2": dict(sched=lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                                               step_size_down=5, mode="triangular2")),
    "CyclicLR-exp_range-adam": dict(opt=("Adam", {}), sched=lambda L, o: L.CyclicLR(
        o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=4, mode="exp_range", gamma=0.97)),
    "SequentialLR": dict(sched=lambda L, o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.1, total_iters=5),
                                                              L.CosineAnnealingLR(o, T_max=10),
                                                              L.ExponentialLR(o, gamma=0.9)],
                                                           milestones=[5, 15])),
    "ChainedScheduler": dict(sched=lambda L, o: L.ChainedScheduler([L.ConstantLR(o, factor=0.5, total_iters=4),
                                                                    L.ExponentialLR(o, gamma=0.9),
                                                                    L.StepLR(o, step_size=7, gamma=0.5)])),
}


@pytest.mark.parametrize("name", list(SCHEDS))
def test_scheduler_parity(name):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        se, le = _lr_seq(ember, SCHEDS[name])
        st, lt = _lr_seq(torch, SCHEDS[name])
    assert len(se) == len(st)
    for i, (a, b) in enumerate(zip(se, st)):
        for (lra, ma, ba), (lrb, mb, bb) in zip(a, b):
            assert lra == pytest.approx(lrb, rel=1e-13, abs=1e-15), (i, lra, lrb)
            assert (ma is None) == (mb is None) and (ma is None or ma == pytest.approx(mb, rel=1e-13)), i
            assert (ba is None) == (bb is None) and (ba is None or ba == pytest.approx(bb, rel=1e-13)), i
    assert le == pytest.approx(lt, rel=1e-13)


@pytest.mark.parametrize("kw", [dict(), dict(mode="max", threshold_mode="abs", threshold=0.05, cooldown=2),
                                dict(patience=2, factor=0.5, min_lr=[0.02, 0.05], eps=1e-3)])
def test_reduce_lr_on_plateau_parity(kw):
    rng = np.random.default_rng(5)
    metrics = list(np.round(1 + 0.3 * np.sin(np.arange(40) / 3) + 0.05 * rng.standard_normal(40), 3))
    make = dict(sched=lambda L, o: L.ReduceLROnPlateau(o, **{"patience": 1, **kw}))
    se, le = _lr_seq(ember, make, steps=40, metrics=metrics)
    st, lt = _lr_seq(torch, make, steps=40, metrics=metrics)
    assert se == st and le == lt
    assert se[-1][0][0] < se[0][0][0]  # it did reduce


def test_scheduler_state_dict_keys():
    for name in ("StepLR", "CosineAnnealingLR", "OneCycleLR-linear-3phase", "SequentialLR", "CyclicLR-triangular2"):
        make = SCHEDS[name]
        oe = eoptim.SGD([ember.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
        ot = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
        ke = set(make["sched"](EL, oe).state_dict())
        kt = set(make["sched"](TL, ot).state_dict())
        assert ke == kt, name


def test_grad_scaler_parity():
    rng = np.random.default_rng(2)
    w0 = rng.standard_normal(4).astype(np.float32)
    we, wt = ember.tensor(w0.copy(), requires_grad=True), torch.tensor(w0.copy(), requires_grad=True)
    oe, ot = eoptim.SGD([we], lr=0.1), torch.optim.SGD([wt], lr=0.1)
    se = GradScaler(init_scale=256.0, growth_interval=3)
    st = torch.amp.GradScaler("cpu", init_scale=256.0, growth_interval=3)
    for i in range(12):
        g = rng.standard_normal(4).astype(np.float32)
        if i in (4, 9):
            g[1] = np.inf if i == 4 else np.nan
        for w, opt, sc, lib in ((we, oe, se, ember), (wt, ot, st, torch)):
            opt.zero_grad()
            sc.scale((w * lib.tensor(g)).sum()).backward()
            sc.step(opt)
            sc.update()
        np.testing.assert_allclose(we.detach().numpy(), wt.detach().numpy(), rtol=1e-6)
        assert se.get_scale() == st.get_scale() and se._get_growth_tracker() == st._get_growth_tracker()
    assert se.state_dict() == st.state_dict()
