"""The blocked scaled dot-product attention kernel against the composed definition
softmax(q k^T * scale + mask) v: values, gradients (fused backward) and second derivatives
(the recording backward), over block-boundary sizes, causal masks and broadcast masks."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import _kernels as F

rng = np.random.default_rng(7)


def ref(q, k, v, mask=None, causal=False, scale=None):
    s = q @ np.swapaxes(k, -1, -2) * (1 / np.sqrt(q.shape[-1]) if scale is None else scale)
    if causal:
        s = np.where(np.tril(np.ones(s.shape[-2:], bool)), s, -np.inf)
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
    p = np.exp(s - s.max(-1, keepdims=True))
    return (p / p.sum(-1, keepdims=True)) @ v


@pytest.mark.parametrize("B,H,L,S,E,Ev", [(2, 3, 5, 7, 4, 6), (1, 2, 64, 64, 8, 8), (1, 1, 130, 70, 16, 5),
                                         (2, 1, 1, 129, 3, 3), (1, 2, 70, 530, 8, 5)])  # > 256 keys: several blocks
@pytest.mark.parametrize("causal", [False, True])
def test_values_and_gradients_match_composed(B, H, L, S, E, Ev, causal):
    q, k, v = rng.standard_normal((B, H, L, E)), rng.standard_normal((B, H, S, E)), rng.standard_normal((B, H, S, Ev))
    tq, tk, tv = (ember.tensor(a).requires_grad_() for a in (q, k, v))
    out = F.scaled_dot_product_attention(tq, tk, tv, is_causal=causal)
    np.testing.assert_allclose(out.detach().numpy(), ref(q, k, v, causal=causal), rtol=1e-10, atol=1e-12)
    go = rng.standard_normal(out.shape)
    out.backward(ember.tensor(go))
    cq, ck, cv = (ember.tensor(a).requires_grad_() for a in (q, k, v))
    F._sdpa_composed(cq, ck, cv, None, 0.0, causal, 1 / np.sqrt(E)).backward(ember.tensor(go))
    for a, b in ((tq, cq), (tk, ck), (tv, cv)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_masks_broadcast_bool_and_float32():
    q, k, v = rng.standard_normal((2, 3, 9, 4)), rng.standard_normal((2, 3, 11, 4)), rng.standard_normal((2, 3, 11, 2))
    bm = rng.random((9, 11)) > 0.4
    bm[:, 0] = True
    np.testing.assert_allclose(F.scaled_dot_product_attention(*map(ember.tensor, (q, k, v)),
                                                              attn_mask=ember.tensor(bm)).numpy(),
                               ref(q, k, v, bm), rtol=1e-10)
    q2, k2, v2 = rng.standard_normal((1, 2, 5, 4)), rng.standard_normal((1, 2, 300, 4)), rng.standard_normal((1, 2, 300, 3))
    bm2 = rng.random((5, 300)) > 0.3  # a bool mask across two key blocks
    np.testing.assert_allclose(F.scaled_dot_product_attention(*map(ember.tensor, (q2, k2, v2)),
                                                              attn_mask=ember.tensor(bm2)).numpy(),
                               ref(q2, k2, v2, bm2), rtol=1e-10)
    fm = rng.standard_normal((2, 1, 9, 11))  # broadcast over heads
    np.testing.assert_allclose(F.scaled_dot_product_attention(*map(ember.tensor, (q, k, v)),
                                                              attn_mask=ember.tensor(fm), scale=0.3).numpy(),
                               ref(q, k, v, fm, scale=0.3), rtol=1e-10)
    y32 = F.scaled_dot_product_attention(*(ember.tensor(a).float() for a in (q, k, v)), is_causal=True)
    assert y32.dtype == ember.float32
    np.testing.assert_allclose(y32.numpy(), ref(q, k, v, causal=True), rtol=1e-5, atol=1e-6)


def test_fully_masked_row_is_nan_like_the_math_path():
    q = ember.randn(1, 2, 4)
    mask = ember.tensor([[True, True], [False, False]])
    y = F.scaled_dot_product_attention(q, ember.randn(1, 2, 4), ember.randn(1, 2, 3), attn_mask=mask)
    assert not np.isnan(y.numpy()[0, 0]).any() and np.isnan(y.numpy()[0, 1]).all()


def test_gradcheck_and_double_backward():
    q, k, v = (ember.tensor(rng.standard_normal(s)).requires_grad_() for s in ((2, 3, 4), (2, 5, 4), (2, 5, 3)))
    m = ember.tensor(rng.standard_normal((3, 5)))
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=m), (q, k, v))
    assert gradgradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), (q, k, v))


def test_kernel_errors():
    with pytest.raises(ValueError, match="same last dim"):
        F.scaled_dot_product_attention(ember.randn(2, 3, 4), ember.randn(2, 3, 5), ember.randn(2, 3, 5))
    with pytest.raises(TypeError, match="floating point"):
        ember._C._nn.scaled_dot_product_attention(ember.ones(1, 2, 2, dtype=ember.int64),
                                                  ember.ones(1, 2, 2, dtype=ember.int64),
                                                  ember.ones(1, 2, 2, dtype=ember.int64), None, False, 1.0)
