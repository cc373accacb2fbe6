"""Composed losses against float64 NumPy references (every reduction), gradcheck, errors."""
import math

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn
from ember.autograd import gradcheck

rng = np.random.default_rng(1)


def t64(a, grad=False):
    t = ember.from_numpy(np.ascontiguousarray(np.asarray(a, dtype=np.float64)).copy())
    return t.requires_grad_() if grad else t


def red(x, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](x)


def softplus(x):
    return np.logaddexp(0, x)


X = rng.standard_normal((5, 3))
Y = rng.standard_normal((5, 3))
P = rng.uniform(0.05, 0.95, (5, 3))
T01 = rng.uniform(0, 1, (5, 3))
PM = np.where(rng.uniform(size=(5, 3)) > 0.5, 1.0, -1.0)
CNT = rng.poisson(2.0, (5, 3)).astype(np.float64)


def huber(d, delta):
    a = np.abs(d)
    return np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))


CASES = {
    "mse_loss": (lambda r: F.mse_loss(t64(X, 1), t64(Y, 1), reduction=r), lambda r: red((X - Y) ** 2, r), (X, Y)),
    "l1_loss": (lambda r: F.l1_loss(t64(X), t64(Y), reduction=r), lambda r: red(np.abs(X - Y), r), (X, Y)),
    "smooth_l1_loss": (lambda r: F.smooth_l1_loss(t64(X), t64(Y), reduction=r, beta=0.7),
                       lambda r: red(huber(X - Y, 0.7) / 0.7, r), (X, Y)),
    "huber_loss": (lambda r: F.huber_loss(t64(X), t64(Y), reduction=r, delta=0.7),
                   lambda r: red(huber(X - Y, 0.7), r), (X, Y)),
    "binary_cross_entropy": (lambda r: F.binary_cross_entropy(t64(P), t64(T01), reduction=r),
                             lambda r: red(-(T01 * np.log(P) + (1 - T01) * np.log(1 - P)), r), (P, T01)),
    "bce_with_logits": (lambda r: F.binary_cross_entropy_with_logits(t64(X), t64(T01), reduction=r),
                        lambda r: red(-(T01 * np.log(1 / (1 + np.exp(-X))) + (1 - T01) * np.log(1 - 1 / (1 + np.exp(-X)))),
                                      r), (X, T01)),
    "kl_div": (lambda r: F.kl_div(t64(np.log(P)), t64(T01), reduction=r),
               lambda r: red(T01 * (np.log(T01) - np.log(P)), r), (np.log(P), T01)),
    "soft_margin_loss": (lambda r: F.soft_margin_loss(t64(X), t64(PM), reduction=r),
                         lambda r: red(softplus(-PM * X), r), (X, PM)),
    "hinge_embedding_loss": (lambda r: F.hinge_embedding_loss(t64(X), t64(PM), margin=0.5, reduction=r),
                             lambda r: red(np.where(PM == 1, X, np.maximum(0, 0.5 - X)), r), (X, PM)),
    "poisson_nll_loss": (lambda r: F.poisson_nll_loss(t64(X), t64(CNT), reduction=r),
                         lambda r: red(np.exp(X) - CNT * X, r), (X, CNT)),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_values(name, reduction):
    fn, ref, _ = CASES[name]
    np.testing.assert_allclose(fn(reduction).detach().numpy(), ref(reduction), rtol=1e-12, atol=1e-14)


GRAD = {
    "mse_loss": F.mse_loss, "l1_loss": F.l1_loss, "smooth_l1_loss": F.smooth_l1_loss, "huber_loss": F.huber_loss,
    "binary_cross_entropy": F.binary_cross_entropy, "bce_with_logits": F.binary_cross_entropy_with_logits,
    "kl_div": F.kl_div, "poisson_nll_loss": F.poisson_nll_loss,
    "soft_margin_loss": F.soft_margin_loss, "hinge_embedding_loss": F.hinge_embedding_loss,
}


@pytest.mark.parametrize("name", sorted(GRAD))
def test_loss_gradcheck(name):
    a, b = CASES[name][2]
    target_grad = name not in ("soft_margin_loss", "hinge_embedding_loss")
    assert gradcheck(lambda x, y: GRAD[name](x, y, reduction="sum"), (t64(a, True), t64(b, target_grad)))


def test_weighted_losses():
    w = rng.uniform(0.5, 2.0, (5, 3))
    np.testing.assert_allclose(F.mse_loss(t64(X), t64(Y), weight=t64(w)).item(), (w * (X - Y) ** 2).sum() / w.sum())
    np.testing.assert_allclose(F.l1_loss(t64(X), t64(Y), weight=t64(w), reduction="none").numpy(), w * np.abs(X - Y))
    np.testing.assert_allclose(F.huber_loss(t64(X), t64(Y), weight=t64(w)).item(), (w * huber(X - Y, 1.0)).mean())
    cw = rng.uniform(0.5, 2.0, 3)
    ref = -(cw * (T01 * np.log(P) + (1 - T01) * np.log(1 - P)))
    np.testing.assert_allclose(F.binary_cross_entropy(t64(P), t64(T01), weight=t64(cw)).item(), ref.mean())
    pw = rng.uniform(0.5, 3.0, 3)
    s = 1 / (1 + np.exp(-X))
    ref = -(pw * T01 * np.log(s) + (1 - T01) * np.log(1 - s)) * cw
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(t64(X), t64(T01), weight=t64(cw),
                                                                  pos_weight=t64(pw), reduction="sum").item(),
                               ref.sum(), rtol=1e-12)
    assert gradcheck(lambda x: F.binary_cross_entropy_with_logits(x, t64(T01), pos_weight=t64(pw)), (t64(X, True),))
    with pytest.raises(ValueError, match=r"\[mse_loss\] weight must have the input's shape"):
        F.mse_loss(t64(X), t64(Y), weight=t64(w[0]))


def test_bce_with_logits_is_stable():
    x = t64([-1000.0, 1000.0], True)
    loss = F.binary_cross_entropy_with_logits(x, t64([1.0, 0.0]), reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [1000.0, 1000.0])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-1.0, 1.0])
    np.testing.assert_allclose(F.binary_cross_entropy(t64([0.0, 1.0]), t64([1.0, 0.0]), reduction="none").numpy(),
                               [100.0, 100.0])


def test_kl_div_variants():
    lt = np.log(T01)
    np.testing.assert_allclose(F.kl_div(t64(np.log(P)), t64(lt), log_target=True, reduction="sum").item(),
                               (T01 * (lt - np.log(P))).sum())
    np.testing.assert_allclose(F.kl_div(t64(np.log(P)), t64(T01), reduction="batchmean").item(),
                               (T01 * (np.log(T01) - np.log(P))).sum() / 5)
    z = F.kl_div(t64(np.log(P[0])), t64([0.0, 0.5, 0.5]), reduction="none")
    assert z[0].item() == 0.0 and np.isfinite(z.numpy()).all()


def test_three_input_losses():
    a, b, n = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    y = np.array([1.0, -1.0, 1.0, -1.0])
    cos = (a * b).sum(1) / np.sqrt(((a * a).sum(1) + 1e-12) * ((b * b).sum(1) + 1e-12))
    ref = np.where(y == 1, 1 - cos, np.maximum(0, cos - 0.1))
    np.testing.assert_allclose(F.cosine_embedding_loss(t64(a), t64(b), t64(y), margin=0.1, reduction="none").numpy(),
                               ref, rtol=1e-12)
    np.testing.assert_allclose(F.margin_ranking_loss(t64(a[:, 0]), t64(b[:, 0]), t64(y), margin=0.2).item(),
                               np.maximum(0, -y * (a[:, 0] - b[:, 0]) + 0.2).mean())
    dp = np.linalg.norm(a - b + 1e-6, axis=1)
    dn = np.linalg.norm(a - n + 1e-6, axis=1)
    ds = np.linalg.norm(b - n + 1e-6, axis=1)
    np.testing.assert_allclose(F.triplet_margin_loss(t64(a), t64(b), t64(n), reduction="none").numpy(),
                               np.maximum(dp - dn + 1.0, 0), rtol=1e-12)
    np.testing.assert_allclose(F.triplet_margin_loss(t64(a), t64(b), t64(n), swap=True, reduction="sum").item(),
                               np.maximum(dp - np.minimum(dn, ds) + 1.0, 0).sum(), rtol=1e-12)
    assert gradcheck(lambda u, v: F.cosine_embedding_loss(u, v, t64(y)), (t64(a, True), t64(b, True)))
    assert gradcheck(lambda u, v, w: F.triplet_margin_loss(u, v, w, margin=3.0), (t64(a, True), t64(b, True),
                                                                                   t64(n, True)))


def test_poisson_full_and_gaussian_nll():
    rate = np.abs(X) + 0.1
    stirling = np.where(CNT > 1, CNT * np.log(np.maximum(CNT, 1)) - CNT + 0.5 * np.log(2 * math.pi * np.maximum(CNT, 1)),
                        0)
    np.testing.assert_allclose(F.poisson_nll_loss(t64(rate), t64(CNT), log_input=False, full=True,
                                                  reduction="none").numpy(),
                               rate - CNT * np.log(rate + 1e-8) + stirling, rtol=1e-12)
    var = rng.uniform(0.1, 2.0, (5, 3))
    ref = 0.5 * (np.log(var) + (X - Y) ** 2 / var)
    np.testing.assert_allclose(F.gaussian_nll_loss(t64(X), t64(Y), t64(var)).item(), ref.mean(), rtol=1e-12)
    np.testing.assert_allclose(F.gaussian_nll_loss(t64(X), t64(Y), t64(var[:, 0]), full=True, reduction="sum").item(),
                               (0.5 * (np.log(var[:, :1]) + (X - Y) ** 2 / var[:, :1]) + 0.5 * math.log(2 * math.pi)).sum(),
                               rtol=1e-12)
    np.testing.assert_allclose(F.gaussian_nll_loss(t64(X), t64(Y), 0.5).item(),
                               (0.5 * (math.log(0.5) + (X - Y) ** 2 / 0.5)).mean(), rtol=1e-12)
    assert gradcheck(lambda m, v: F.gaussian_nll_loss(m, t64(Y), v), (t64(X, True), t64(var, True)))
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(t64(X), t64(Y), t64(var[:2]))
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(t64(X), t64(Y), t64(-var))


def test_loss_errors_and_legacy_flags():
    with pytest.raises(ValueError, match=r"\[mse_loss\] invalid reduction: expected 'mean', 'sum' or 'none', "
                                         r"got 'avg'"):
        F.mse_loss(t64(X), t64(Y), reduction="avg")
    with pytest.raises(ValueError, match=r"\[binary_cross_entropy\] target size must match input size"):
        F.binary_cross_entropy(t64(P), t64(P[0]))
    with pytest.raises(ValueError, match="probabilities"):
        F.binary_cross_entropy(t64([1.5]), t64([1.0]))
    with pytest.raises(ValueError, match=r"\[l1_loss\] target shape must match input shape"):
        F.l1_loss(t64(X), t64(np.ones(4)))
    with pytest.warns(UserWarning, match="broadcast"):
        F.mse_loss(t64(X), t64(Y[0]))
    np.testing.assert_allclose(F.mse_loss(t64(X), t64(Y), size_average=False).item(), ((X - Y) ** 2).sum())
    assert F.mse_loss(t64(X), t64(Y), reduce=False).shape == (5, 3)


def test_loss_modules_match_functional():
    x, y = t64(X), t64(Y)
    assert nn.MSELoss(reduction="sum")(x, y).item() == F.mse_loss(x, y, reduction="sum").item()
    assert nn.SmoothL1Loss(beta=0.5)(x, y).item() == F.smooth_l1_loss(x, y, beta=0.5).item()
    assert nn.HuberLoss(delta=2.0)(x, y).item() == F.huber_loss(x, y, delta=2.0).item()
    assert nn.L1Loss(size_average=False)(x, y).item() == F.l1_loss(x, y, reduction="sum").item()
    w = t64(np.ones(3) * 2)
    m = nn.BCEWithLogitsLoss(weight=w)
    assert "weight" in dict(m.named_buffers())
    assert m(x, t64(T01)).item() == F.binary_cross_entropy_with_logits(x, t64(T01), weight=w).item()
    assert nn.GaussianNLLLoss()(x, y, t64(P)).item() == F.gaussian_nll_loss(x, y, t64(P)).item()
    assert nn.TripletMarginLoss(margin=2.0)(x, y, x).item() == F.triplet_margin_loss(x, y, x, margin=2.0).item()
    assert repr(nn.KLDivLoss(reduction="batchmean")) == "KLDivLoss()"
    with pytest.raises(ValueError, match="invalid reduction"):
        nn.MSELoss(reduction="avg")
