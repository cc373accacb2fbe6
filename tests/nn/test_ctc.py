"""ctc_loss and CTCLoss against a float64 NumPy forward algorithm and a brute-force sum over
all alignments; gradcheck; infinite losses; errors."""
import itertools

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck
from ember.nn._seq_functional import ctc_loss
from ember.nn.modules.ctc import CTCLoss

F64 = ember.float64


def _np(t):
    return t.detach().numpy()


def _log_probs(T, N, C, seed):
    x = np.random.default_rng(seed).standard_normal((T, N, C))
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def np_ctc_nll(lp, target, blank=0):
    """-log p(target | lp) for one sequence lp (T, C) by the alpha recursion (plain loops)."""
    ext = [blank]
    for y in target:
        ext += [y, blank]
    T, L = lp.shape[0], len(ext)
    if T == 0:
        return 0.0 if not target else np.inf
    alpha = np.full(L, -np.inf)
    alpha[0] = lp[0, ext[0]]
    if L > 1:
        alpha[1] = lp[0, ext[1]]
    for t in range(1, T):
        new = np.full(L, -np.inf)
        for s in range(L):
            terms = [alpha[s]] + ([alpha[s - 1]] if s >= 1 else [])
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                terms.append(alpha[s - 2])
            new[s] = np.logaddexp.reduce(terms) + lp[t, ext[s]]
        alpha = new
    ll = np.logaddexp(alpha[-1], alpha[-2]) if L > 1 else alpha[-1]
    return -ll


def brute_force_nll(lp, target, blank=0):
    """Sums the probability of every length-T path that collapses to target."""
    T, C = lp.shape
    total = 0.0
    for path in itertools.product(range(C), repeat=T):
        collapsed = [c for i, c in enumerate(path) if c != blank and (i == 0 or c != path[i - 1])]
        if collapsed == list(target):
            total += np.exp(sum(lp[t, c] for t, c in enumerate(path)))
    return -np.log(total)


def test_reference_matches_brute_force():
    lp = _log_probs(4, 1, 3, seed=0)[:, 0]
    for target in ([1], [1, 1], [1, 2], [2, 1, 2]):
        assert abs(np_ctc_nll(lp, target) - brute_force_nll(lp, target)) < 1e-12
        got = ctc_loss(ember.tensor(lp), ember.tensor(target), [4], [len(target)], reduction="none")
        assert tuple(got.shape) == ()
        assert abs(got.item() - brute_force_nll(lp, target)) < 1e-12


@pytest.mark.parametrize("blank", [0, 3])
def test_against_reference_all_reductions(blank):
    T, N, C = 8, 4, 5
    lp = _log_probs(T, N, C, seed=1)
    labels = [c for c in range(C) if c != blank]
    targets = [[labels[0], labels[0], labels[1]], [labels[2]], [], [labels[3], labels[1], labels[1], labels[2]]]
    in_lens, tg_lens = [8, 5, 3, 8], [len(t) for t in targets]
    padded = np.full((N, 4), blank if blank else 1)
    for n, t in enumerate(targets):
        padded[n, :len(t)] = t
    ref = np.array([np_ctc_nll(lp[:in_lens[n], n], targets[n], blank) for n in range(N)])
    for tg in (ember.tensor(padded), ember.tensor(sum(targets, []))):
        none = ctc_loss(ember.tensor(lp), tg, ember.tensor(in_lens), ember.tensor(tg_lens), blank=blank,
                        reduction="none")
        np.testing.assert_allclose(_np(none), ref, rtol=1e-12)
        s = ctc_loss(ember.tensor(lp), tg, in_lens, tg_lens, blank=blank, reduction="sum")
        np.testing.assert_allclose(s.item(), ref.sum(), rtol=1e-12)
        m = ctc_loss(ember.tensor(lp), tg, in_lens, tg_lens, blank=blank)
        np.testing.assert_allclose(m.item(), (ref / np.maximum(tg_lens, 1)).mean(), rtol=1e-12)
    mod = CTCLoss(blank=blank, reduction="sum")
    np.testing.assert_allclose(mod(ember.tensor(lp), ember.tensor(padded), in_lens, tg_lens).item(), ref.sum(),
                               rtol=1e-12)


def test_float32():
    lp = _log_probs(6, 2, 4, seed=2)
    got = ctc_loss(ember.tensor(lp, dtype=ember.float32), ember.tensor([[1, 2], [3, 3]]), [6, 6], [2, 2],
                   reduction="none")
    assert got.dtype == ember.float32
    ref = [np_ctc_nll(lp[:, 0], [1, 2]), np_ctc_nll(lp[:, 1], [3, 3])]
    np.testing.assert_allclose(_np(got), ref, rtol=1e-5)


def test_gradcheck_through_log_softmax_and_raw():
    rng = np.random.default_rng(3)
    x = ember.tensor(rng.standard_normal((5, 2, 4)), requires_grad=True)
    tg = ember.tensor([[1, 1], [2, 3]])

    def f(x):
        return ctc_loss(F.log_softmax(x, 2), tg, [5, 4], [2, 1], reduction="none")
    assert gradcheck(f, [x])
    raw = ember.tensor(_log_probs(4, 2, 3, seed=4), requires_grad=True)
    assert gradcheck(lambda lp: ctc_loss(lp, ember.tensor([1, 2, 2]), [4, 3], [2, 1], reduction="mean"), [raw])


def test_gradient_is_minus_posterior():
    """d(-log p)/d log_probs[t, c] = -(posterior occupancy of label c at t), which sums to -1 per step."""
    lp = ember.tensor(_log_probs(6, 1, 4, seed=5), requires_grad=True)
    ctc_loss(lp, ember.tensor([[1, 2, 1]]), [6], [3], reduction="sum").backward()
    g = _np(lp.grad)[:, 0]
    np.testing.assert_allclose(g.sum(-1), -np.ones(6), rtol=1e-12)
    assert (g <= 1e-15).all()


def test_infinite_losses_and_zero_infinity():
    lp = ember.tensor(_log_probs(4, 2, 3, seed=6), requires_grad=True)
    tg = ember.tensor([[1, 1, 1], [1, 2, 0]])  # sample 0 needs 5 steps (blanks between repeats)
    loss = ctc_loss(lp, tg, [4, 4], [3, 2], reduction="none")
    assert np.isinf(loss[0].item()) and np.isfinite(loss[1].item())
    zl = ctc_loss(lp, tg, [4, 4], [3, 2], reduction="sum", zero_infinity=True)
    np.testing.assert_allclose(zl.item(), loss[1].item(), rtol=1e-12)
    zl.backward()
    g = _np(lp.grad)
    assert (g[:, 0] == 0).all() and np.abs(g[:, 1]).sum() > 0.5
    # an empty input explains only the empty target
    e = ctc_loss(lp, ember.tensor([[1], [0]]), [0, 0], [1, 0], reduction="none")
    assert np.isinf(e[0].item()) and e[1].item() == 0.0


def test_errors():
    lp = ember.tensor(_log_probs(4, 2, 3, seed=7))
    with pytest.raises(ValueError, match="blank"):
        ctc_loss(lp, ember.tensor([[1], [1]]), [4, 4], [1, 1], blank=3)
    with pytest.raises(IndexError, match="out of range"):
        ctc_loss(lp, ember.tensor([[1], [5]]), [4, 4], [1, 1])
    with pytest.raises(ValueError, match="input_lengths"):
        ctc_loss(lp, ember.tensor([[1], [1]]), [5, 4], [1, 1])
    with pytest.raises(ValueError, match="one entry per batch element"):
        ctc_loss(lp, ember.tensor([[1], [1]]), [4], [1, 1])
    with pytest.raises(ValueError, match="sum\\(target_lengths\\)"):
        ctc_loss(lp, ember.tensor([1, 2, 1]), [4, 4], [1, 1])
    with pytest.raises(ValueError, match="reduction"):
        CTCLoss(reduction="avg")
    with pytest.raises(ValueError, match="log_probs"):
        ctc_loss(ember.zeros(4), ember.tensor([1]), [4], [1])
