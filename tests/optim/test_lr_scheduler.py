"""Learning-rate schedulers against their closed forms; state_dict, errors and warnings."""
import math
import warnings

import pytest

import ember
import ember.optim as optim
from ember.optim import lr_scheduler as L


def _opt(lr=1.0, n_groups=1, cls=optim.SGD, **kw):
    groups = [{"params": [ember.zeros(1, requires_grad=True)], "lr": lr * (i + 1)} for i in range(n_groups)]
    return cls(groups, lr=lr, **kw)


def _lrs(opt, sched, n, metrics=None):
    """Initial lr then the lr after each of n steps, for the first group."""
    out = [opt.param_groups[0]["lr"]]
    for i in range(n):
        opt.step()
        sched.step() if metrics is None else sched.step(metrics[i])
        out.append(opt.param_groups[0]["lr"])
    return out


CLOSED = [
    ("StepLR", dict(step_size=3, gamma=0.5), lambda e: 0.5 ** (e // 3)),
    ("MultiStepLR", dict(milestones=[2, 5, 5], gamma=0.1), lambda e: 0.1 ** ((e >= 2) + 2 * (e >= 5))),
    ("ConstantLR", dict(factor=0.25, total_iters=4), lambda e: 0.25 if e < 4 else 1.0),
    ("LinearLR", dict(start_factor=0.2, end_factor=0.9, total_iters=5), lambda e: 0.2 + 0.7 * min(e, 5) / 5),
    ("ExponentialLR", dict(gamma=0.8), lambda e: 0.8 ** e),
    ("PolynomialLR", dict(total_iters=6, power=2.0), lambda e: (1 - min(e, 6) / 6) ** 2),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.1), lambda e: 0.1 + 0.9 * (1 + math.cos(math.pi * e / 7)) / 2),
    ("LambdaLR", dict(lr_lambda=lambda e: 1 / (1 + e)), lambda e: 1 / (1 + e)),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.9), lambda e: 0.9 ** e),
]


@pytest.mark.parametrize("name,kw,form", CLOSED, ids=[c[0] for c in CLOSED])
def test_matches_closed_form(name, kw, form):
    opt = _opt(lr=1.0)
    sched = getattr(L, name)(opt, **kw)
    lrs = _lrs(opt, sched, 20)
    for e, lr in enumerate(lrs):
        assert lr == pytest.approx(form(e), rel=1e-12, abs=1e-14), e
    assert sched.get_last_lr() == [lrs[-1]] and sched.last_epoch == 20


def test_per_group_base_lrs_and_closed_form_epoch():
    opt = _opt(lr=0.1, n_groups=2)
    sched = L.StepLR(opt, step_size=2, gamma=0.5)
    assert sched.base_lrs == [0.1, 0.2]
    opt.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(5)
    assert sched.get_last_lr() == pytest.approx([0.1 * 0.25, 0.2 * 0.25])


def test_cosine_annealing_continues_past_t_max():
    opt = _opt(lr=1.0)
    sched = L.CosineAnnealingLR(opt, T_max=4)
    lrs = _lrs(opt, sched, 12)
    for e, lr in enumerate(lrs):
        assert lr == pytest.approx((1 + math.cos(math.pi * e / 4)) / 2, abs=1e-12)


def test_warm_restarts():
    opt = _opt(lr=1.0)
    sched = L.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, eta_min=0.0)
    lrs = _lrs(opt, sched, 10)
    # periods: epochs 0-2 (T=3), 3-8 (T=6), 9-... (T=12)
    t_cur = [0, 1, 2, 0, 1, 2, 3, 4, 5, 0, 1]
    t_i = [3, 3, 3, 6, 6, 6, 6, 6, 6, 12, 12]
    for lr, tc, ti in zip(lrs, t_cur, t_i):
        assert lr == pytest.approx((1 + math.cos(math.pi * tc / ti)) / 2, abs=1e-12)
    sched.step(1.5)
    assert sched.get_last_lr()[0] == pytest.approx((1 + math.cos(math.pi * 1.5 / 3)) / 2)


def test_one_cycle_lr_and_momentum():
    opt = _opt(lr=0.1, momentum=0.9)
    sched = L.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.3, anneal_strategy="linear")
    lrs, moms = [opt.param_groups[0]["lr"]], [opt.param_groups[0]["momentum"]]
    for _ in range(9):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
    initial, min_lr = 1.0 / 25, 1.0 / 25 / 1e4
    up = [initial + (1.0 - initial) * s / 2 for s in range(3)]             # phase 1 ends at step 2
    down = [1.0 + (min_lr - 1.0) * (s - 2) / 7 for s in range(3, 10)]      # phase 2 ends at step 9
    assert lrs == pytest.approx(up + down, rel=1e-12)
    assert moms[0] == 0.95 and moms[2] == pytest.approx(0.85) and moms[9] == pytest.approx(0.95)
    opt.step()
    sched.step()  # step 10 is still accepted, as in PyTorch
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        sched.step()


def test_one_cycle_uses_beta1_for_adam():
    opt = _opt(lr=0.1, cls=optim.Adam)
    L.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    assert opt.param_groups[0]["betas"] == (0.95, 0.999)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        L.OneCycleLR(_opt(cls=optim.Adagrad), max_lr=1.0, total_steps=5)


def test_cyclic_lr_triangular():
    opt = _opt(lr=0.1, momentum=0.9)
    sched = L.CyclicLR(opt, base_lr=0.1, max_lr=1.1, step_size_up=2, step_size_down=3)
    lrs = _lrs(opt, sched, 10)
    expected = [0.1, 0.6, 1.1, 1.1 - 1 / 3, 1.1 - 2 / 3, 0.1, 0.6, 1.1, 1.1 - 1 / 3, 1.1 - 2 / 3, 0.1]
    assert lrs == pytest.approx(expected, abs=1e-12)


def test_sequential_lr():
    opt = _opt(lr=1.0)
    warm = L.LinearLR(opt, start_factor=0.25, total_iters=3)
    cos = L.CosineAnnealingLR(opt, T_max=5)
    sched = L.SequentialLR(opt, [warm, cos], milestones=[3])
    lrs = _lrs(opt, sched, 8)
    expected = [0.25, 0.5, 0.75] + [(1 + math.cos(math.pi * e / 5)) / 2 for e in range(6)]
    assert lrs == pytest.approx(expected, abs=1e-12)
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        L.SequentialLR(opt, [warm, cos], milestones=[1, 2])
    with pytest.raises(ValueError, match="same optimizer"):
        L.SequentialLR(opt, [warm, L.ExponentialLR(_opt(), gamma=0.5)], milestones=[1])


def test_chained_scheduler():
    opt = _opt(lr=1.0)
    sched = L.ChainedScheduler([L.ConstantLR(opt, factor=0.5, total_iters=2), L.ExponentialLR(opt, gamma=0.9)])
    lrs = _lrs(opt, sched, 4)
    assert lrs == pytest.approx([0.5, 0.45, 0.81, 0.729, 0.6561], rel=1e-12)


def test_reduce_lr_on_plateau():
    opt = _opt(lr=1.0, n_groups=2)
    sched = L.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, min_lr=[0.3, 0.0], threshold=0.1)
    losses = [1.0, 0.95, 0.95, 0.95, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    got = []
    for loss in losses:
        sched.step(loss)
        got.append([g["lr"] for g in opt.param_groups])
    # 0.95 is not a 10% improvement on 1.0: bad epochs at 2, 3 -> reduce at epoch 3 (index 2), cooldown 1
    assert got[1] == [1.0, 2.0] and got[2] == [0.5, 1.0]
    assert got[3] == [0.5, 1.0]            # cooldown: bad epoch not counted
    assert got[4] == [0.5, 1.0]            # improvement
    assert got[6] == [0.3, 0.5]            # second reduction clipped at min_lr
    assert got[8] == [0.3, 0.5]            # cooldown again after the reduction
    assert got[9] == [0.3, 0.25]           # group 0 stays at its min_lr
    assert sched.get_last_lr() == got[-1]


def test_reduce_lr_on_plateau_max_abs_mode():
    opt = _opt(lr=1.0)
    sched = L.ReduceLROnPlateau(opt, mode="max", threshold_mode="abs", threshold=0.5, patience=0)
    sched.step(1.0)
    sched.step(1.4)   # not better by 0.5
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1)
    sched.step(ember.tensor(2.0))
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="mode foo is unknown"):
        L.ReduceLROnPlateau(opt, mode="foo")
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        L.ReduceLROnPlateau(opt, factor=1.0)


def test_state_dict_round_trip():
    opt = _opt(lr=1.0)
    sched = L.MultiStepLR(opt, milestones=[2, 4], gamma=0.5)
    _lrs(opt, sched, 3)
    sd = sched.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 3
    opt2 = _opt(lr=1.0)
    sched2 = L.MultiStepLR(opt2, milestones=[9], gamma=0.1)
    sched2.load_state_dict(sd)
    opt2.param_groups[0]["lr"] = opt.param_groups[0]["lr"]
    assert _lrs(opt, sched, 3)[1:] == _lrs(opt2, sched2, 3)[1:] == [0.25, 0.25, 0.25]
    seq = L.SequentialLR(opt, [L.ConstantLR(opt), L.ExponentialLR(opt, gamma=0.5)], milestones=[2])
    sd = seq.state_dict()
    assert len(sd["_schedulers"]) == 2 and "optimizer" not in sd["_schedulers"][0]


def test_warnings_and_errors():
    opt = _opt(lr=1.0)
    sched = L.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()
    with pytest.raises(TypeError, match="expected Optimizer, got list"):
        L.StepLR([1], step_size=1)
    with pytest.raises(KeyError, match="initial_lr"):
        L.StepLR(optim.SGD([ember.zeros(1, requires_grad=True)]), step_size=1, last_epoch=3)
    with pytest.raises(ValueError, match="expected 2 lr_lambdas, got 1"):
        L.LambdaLR(_opt(n_groups=2), [lambda e: 1.0])
    with pytest.raises(ValueError, match="Constant multiplicative factor"):
        L.ConstantLR(opt, factor=2.0)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        L.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="Expected positive integer T_0"):
        L.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="total_steps OR"):
        L.OneCycleLR(opt, max_lr=1.0)
