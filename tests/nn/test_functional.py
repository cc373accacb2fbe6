"""ember.nn.functional's composed functions against float64 NumPy references, and their
gradients by finite differences (gradcheck)."""
import math

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck

rng = np.random.default_rng(0)


def t64(a, grad=False):
    t = ember.from_numpy(np.ascontiguousarray(np.asarray(a, dtype=np.float64)).copy())
    return t.requires_grad_() if grad else t


def sig(x):
    return 1 / (1 + np.exp(-x))


def softplus(x):
    return np.logaddexp(0, x)


SA, SS = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
ACTS = {
    "relu": (F.relu, lambda x: np.maximum(x, 0)),
    "relu6": (F.relu6, lambda x: np.clip(x, 0, 6)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    "elu": (lambda x: F.elu(x, 1.5), lambda x: np.where(x > 0, x, 1.5 * np.expm1(x))),
    "selu": (F.selu, lambda x: SS * np.where(x > 0, x, SA * np.expm1(x))),
    "celu": (lambda x: F.celu(x, 0.5), lambda x: np.maximum(x, 0) + np.minimum(0, 0.5 * np.expm1(x / 0.5))),
    "gelu": (F.gelu, lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    "silu": (F.silu, lambda x: x * sig(x)),
    "mish": (F.mish, lambda x: x * np.tanh(softplus(x))),
    "hardswish": (F.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    "hardsigmoid": (F.hardsigmoid, lambda x: np.clip(x + 3, 0, 6) / 6),
    "hardtanh": (lambda x: F.hardtanh(x, -2.0, 1.5), lambda x: np.clip(x, -2.0, 1.5)),
    "sigmoid": (F.sigmoid, sig),
    "tanh": (F.tanh, np.tanh),
    "softplus": (lambda x: F.softplus(x, 2.0, 4.0),
                 lambda x: np.where(2 * x > 4, x, softplus(2 * x) / 2)),
    "softsign": (F.softsign, lambda x: x / (1 + np.abs(x))),
    "logsigmoid": (F.logsigmoid, lambda x: -softplus(-x)),
    "tanhshrink": (F.tanhshrink, lambda x: x - np.tanh(x)),
    "softshrink": (F.softshrink, lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0))),
    "hardshrink": (F.hardshrink, lambda x: np.where(np.abs(x) > 0.5, x, 0)),
    "threshold": (lambda x: F.threshold(x, 0.3, -1.0), lambda x: np.where(x > 0.3, x, -1.0)),
    "glu": (lambda x: F.glu(x, 1), lambda x: x[:, :2] * sig(x[:, 2:])),
    "softmin": (lambda x: F.softmin(x, 1), lambda x: np.exp(-x) / np.exp(-x).sum(1, keepdims=True)),
}


def _avoid_kinks(x):
    # keep finite differences away from the non-differentiable points
    for k in (-3.0, -2.0, -0.5, 0.0, 0.3, 0.5, 1.5, 2.0, 3.0, 6.0):
        x = np.where(np.abs(x - k) < 1e-3, x + 0.01, x)
    return x


@pytest.mark.parametrize("name", sorted(ACTS))
def test_activation_values(name):
    fn, ref = ACTS[name]
    x = rng.uniform(-7, 8, size=(3, 4, 5))
    np.testing.assert_allclose(fn(t64(x)).numpy(), ref(x), rtol=1e-12, atol=1e-14)
    x32 = x.astype(np.float32)
    out = fn(ember.from_numpy(x32))
    assert out.dtype == ember.float32
    np.testing.assert_allclose(out.numpy(), ref(x), rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name", sorted(ACTS))
def test_activation_gradcheck(name):
    fn, _ = ACTS[name]
    x = t64(_avoid_kinks(rng.uniform(-4, 4, size=(2, 4))), grad=True)
    assert gradcheck(fn, (x,))


def test_activation_extremes_have_finite_gradients():
    x = t64([-1000.0, -50.0, 0.5, 50.0, 1000.0], grad=True)
    for fn in (F.elu, F.selu, F.celu, F.logsigmoid, F.softplus):
        x.grad = None
        y = fn(x)
        y.sum().backward()
        assert np.isfinite(y.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all(), fn.__name__
    np.testing.assert_allclose(F.logsigmoid(t64([-1000.0, 1000.0])).numpy(), [-1000.0, 0.0])


def test_inplace_variants():
    x = ember.tensor([-1.0, 2.0])
    assert F.relu(x, inplace=True) is x and x.tolist() == [0.0, 2.0]
    y = ember.tensor([-1.0, 2.0])
    assert F.leaky_relu_(y, 0.5) is y and y.tolist() == [-0.5, 2.0]
    a = t64([-1.0, 2.0], grad=True)
    b = a * 1
    F.elu(b, inplace=True).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [math.exp(-1.0), 1.0])


def test_prelu():
    x = rng.standard_normal((2, 3, 4))
    w = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(F.prelu(t64(x), t64(w)).numpy(), np.where(x > 0, x, w[None, :, None] * x))
    assert gradcheck(F.prelu, (t64(_avoid_kinks(x), True), t64(w, True)))
    np.testing.assert_allclose(F.prelu(t64(x), t64([0.25])).numpy(), np.where(x > 0, x, 0.25 * x))
    with pytest.raises(ValueError, match=r"\[prelu\].*expected 3, got 2"):
        F.prelu(t64(x), t64([0.1, 0.2]))


def test_glu_errors():
    with pytest.raises(ValueError, match=r"\[glu\] halving dimension must be even"):
        F.glu(ember.ones(2, 3))


def test_linear_and_bilinear():
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    np.testing.assert_allclose(F.linear(t64(x), t64(w), t64(b)).numpy(), x @ w.T + b, rtol=1e-12)
    np.testing.assert_allclose(F.linear(t64(x[0]), t64(w)).numpy(), x[0] @ w.T, rtol=1e-12)
    assert gradcheck(F.linear, (t64(x[0], True), t64(w, True), t64(b, True)))
    x1, x2, A, c = (rng.standard_normal((3, 2)), rng.standard_normal((3, 4)), rng.standard_normal((5, 2, 4)),
                    rng.standard_normal(5))
    ref = np.einsum("ni,kij,nj->nk", x1, A, x2) + c
    np.testing.assert_allclose(F.bilinear(t64(x1), t64(x2), t64(A), t64(c)).numpy(), ref, rtol=1e-12)
    assert gradcheck(F.bilinear, (t64(x1, True), t64(x2, True), t64(A, True), t64(c, True)))


def test_normalize_cosine_pairwise():
    x, y = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    np.testing.assert_allclose(F.normalize(t64(x)).numpy(), x / np.linalg.norm(x, axis=1, keepdims=True))
    np.testing.assert_allclose(F.normalize(t64(x), p=1, dim=0).numpy(), x / np.abs(x).sum(0, keepdims=True))
    np.testing.assert_allclose(F.normalize(t64(np.zeros((1, 3)))).numpy(), np.zeros((1, 3)))
    cos = (x * y).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y, axis=1)
    np.testing.assert_allclose(F.cosine_similarity(t64(x), t64(y)).numpy(), cos, rtol=1e-12)
    np.testing.assert_allclose(F.cosine_similarity(t64(x), t64(y[:1])).numpy(),
                               (x * y[:1]).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y[0]), rtol=1e-12)
    np.testing.assert_allclose(F.pairwise_distance(t64(x), t64(y)).numpy(),
                               np.linalg.norm(x - y + 1e-6, axis=1), rtol=1e-12)
    np.testing.assert_allclose(F.pairwise_distance(t64(x), t64(y), p=1, keepdim=True).numpy(),
                               np.abs(x - y + 1e-6).sum(1, keepdims=True), rtol=1e-12)
    assert gradcheck(lambda a: F.normalize(a), (t64(x, True),))
    assert gradcheck(F.cosine_similarity, (t64(x, True), t64(y, True)))
    assert gradcheck(F.pairwise_distance, (t64(x, True), t64(y, True)))


def test_pad():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(F.pad(t64(x), (1, 2)).numpy(), np.pad(x, ((0, 0), (1, 2))))
    np.testing.assert_allclose(F.pad(t64(x), (1, 1, 1, 0), value=-1.0).numpy(),
                               np.pad(x, ((1, 0), (1, 1)), constant_values=-1.0))
    np.testing.assert_allclose(F.pad(t64(x[None]), (2, 1), mode="reflect").numpy(),
                               np.pad(x[None], ((0, 0), (0, 0), (2, 1)), mode="reflect"))


def _bag_ref(w, idx, offsets, mode, psw=None, padding_idx=None):
    starts = list(offsets) + [len(idx)]
    out = np.zeros((len(offsets), w.shape[1]))
    for b in range(len(offsets)):
        rows = [(w[i] * (1 if psw is None else psw[j])) for j, i in enumerate(idx) if starts[b] <= j < starts[b + 1]
                and i != padding_idx]
        if rows:
            out[b] = {"sum": np.sum, "mean": np.mean, "max": np.max}[mode](np.stack(rows), axis=0)
    return out


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag(mode):
    w = rng.standard_normal((8, 3))
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 7, 0])
    offsets = np.array([0, 3, 3, 6])
    ei, eo = ember.from_numpy(idx), ember.from_numpy(offsets)
    np.testing.assert_allclose(F.embedding_bag(ei, t64(w), eo, mode=mode).numpy(), _bag_ref(w, idx, offsets, mode),
                               rtol=1e-12)
    np.testing.assert_allclose(F.embedding_bag(ei, t64(w), eo, mode=mode, padding_idx=4).numpy(),
                               _bag_ref(w, idx, offsets, mode, padding_idx=4), rtol=1e-12)
    idx2 = rng.integers(0, 8, (3, 4))
    np.testing.assert_allclose(F.embedding_bag(ember.from_numpy(idx2), t64(w), mode=mode).numpy(),
                               _bag_ref(w, idx2.reshape(-1), [0, 4, 8], mode), rtol=1e-12)
    assert gradcheck(lambda ww: F.embedding_bag(ei, ww, eo, mode=mode), (t64(w, True),))
    if mode == "sum":
        psw = rng.uniform(size=idx.shape)
        np.testing.assert_allclose(F.embedding_bag(ei, t64(w), eo, mode="sum", per_sample_weights=t64(psw)).numpy(),
                                   _bag_ref(w, idx, offsets, "sum", psw), rtol=1e-12)
        assert gradcheck(lambda ww, p: F.embedding_bag(ei, ww, eo, mode="sum", per_sample_weights=p),
                         (t64(w, True), t64(psw, True)))


def test_embedding_bag_errors():
    w = ember.randn(5, 2)
    with pytest.raises(ValueError, match=r"\[embedding_bag\] offsets must be given"):
        F.embedding_bag(ember.tensor([0, 1]), w)
    with pytest.raises(ValueError, match="offsets\\[0\\] has to be 0"):
        F.embedding_bag(ember.tensor([0, 1]), w, ember.tensor([1]))
    with pytest.raises(IndexError, match=r"expected indices in \[0, 5\), got 5"):
        F.embedding_bag(ember.tensor([0, 5]), w, ember.tensor([0]))
    with pytest.raises(NotImplementedError, match="per_sample_weights"):
        F.embedding_bag(ember.tensor([0, 1]), w, ember.tensor([0]), mode="mean",
                        per_sample_weights=ember.ones(2))


def test_batch_norm_eval_inference_path_matches_recorded_path():
    """Eval-mode batch_norm without gradients runs one fused pass (channel_affine); with a
    gradient it is recorded op by op: both give the float64 reference."""
    import numpy as np
    import ember.nn.functional as F
    rng = np.random.default_rng(11)
    for shape in ((4, 3, 5, 6), (2, 3), (2, 3, 7)):
        x = rng.standard_normal(shape)
        rm, rv = rng.standard_normal(3), rng.random(3) + 0.5
        w, b = rng.standard_normal(3), rng.standard_normal(3)
        cv = (1, 3) + (1,) * (len(shape) - 2)
        ref = (x - rm.reshape(cv)) / np.sqrt(rv.reshape(cv) + 1e-5) * w.reshape(cv) + b.reshape(cv)
        for dt, tol in ((ember.float64, 1e-12), (ember.float32, 1e-5)):
            args = [ember.tensor(a, dtype=dt) for a in (rm, rv, w, b)]
            with ember.no_grad():
                y0 = F.batch_norm(ember.tensor(x, dtype=dt), *args, training=False)
            xg = ember.tensor(x, dtype=dt).requires_grad_()
            y1 = F.batch_norm(xg, *args, training=False)
            np.testing.assert_allclose(y0.numpy(), ref, rtol=tol, atol=tol)
            np.testing.assert_allclose(y1.detach().numpy(), ref, rtol=tol, atol=tol)
            x_t = ember.tensor(x, dtype=dt).transpose(0, 1)  # non-contiguous input, (C, N, ...) viewed back
            with ember.no_grad():
                y2 = F.batch_norm(x_t.transpose(0, 1), *args, training=False)
            np.testing.assert_allclose(y2.numpy(), ref, rtol=tol, atol=tol)
