"""MultiheadAttention and the Transformer layers against float64 NumPy references; masks,
gradcheck and errors."""
import copy
import math

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck
from ember.nn._seq_functional import multi_head_attention_forward
from ember.nn.modules.attention import MultiheadAttention
from ember.nn.modules.linear import Linear
from ember.nn.modules.transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer,
                                          TransformerEncoder, TransformerEncoderLayer)

F64 = ember.float64
_erf = np.vectorize(math.erf)


def _np(t):
    return None if t is None else t.detach().numpy()


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _add_mask(m):
    """bool (True = masked) -> additive float."""
    if m is None:
        return 0.0
    return np.where(m, -np.inf, 0.0) if m.dtype == bool else m


def np_mha(mha, q, k, v, attn_mask=None, key_padding_mask=None):
    """Reference for a sequence-first batched MultiheadAttention: (out (L, N, E), weights (N, H, L, S))."""
    E, H = mha.embed_dim, mha.num_heads
    hd = E // H
    b = _np(mha.in_proj_bias) if mha.in_proj_bias is not None else np.zeros(3 * E)
    if mha.in_proj_weight is not None:
        wq, wk, wv = np.split(_np(mha.in_proj_weight), 3)
    else:
        wq, wk, wv = _np(mha.q_proj_weight), _np(mha.k_proj_weight), _np(mha.v_proj_weight)
    Q, K, V = q @ wq.T + b[:E], k @ wk.T + b[E:2 * E], v @ wv.T + b[2 * E:]
    L, N, _ = q.shape
    kpm = None if key_padding_mask is None else _add_mask(key_padding_mask)
    am = None if attn_mask is None else _add_mask(attn_mask)
    if mha.bias_k is not None:
        K = np.concatenate([K, np.broadcast_to(_np(mha.bias_k), (1, N, E))])
        V = np.concatenate([V, np.broadcast_to(_np(mha.bias_v), (1, N, E))])
        kpm = None if kpm is None else np.pad(kpm, ((0, 0), (0, 1)))
        am = None if am is None else np.pad(am, [(0, 0)] * (am.ndim - 1) + [(0, 1)])
    if mha.add_zero_attn:
        K = np.concatenate([K, np.zeros((1, N, E))])
        V = np.concatenate([V, np.zeros((1, N, E))])
        kpm = None if kpm is None else np.pad(kpm, ((0, 0), (0, 1)))
        am = None if am is None else np.pad(am, [(0, 0)] * (am.ndim - 1) + [(0, 1)])
    S = K.shape[0]
    heads = lambda X, n: X.reshape(n, N, H, hd).transpose(1, 2, 0, 3)  # noqa: E731  (N, H, n, hd)
    scores = heads(Q, L) @ heads(K, S).transpose(0, 1, 3, 2) / math.sqrt(hd)  # (N, H, L, S)
    if am is not None:
        scores = scores + (am.reshape(N, H, L, S) if am.ndim == 3 else am)
    if kpm is not None:
        scores = scores + kpm[:, None, None, :]
    w = _softmax(scores)
    out = (w @ heads(V, S)).transpose(2, 0, 1, 3).reshape(L, N, E)
    out = out @ _np(mha.out_proj.weight).T + (_np(mha.out_proj.bias) if mha.out_proj.bias is not None else 0)
    return out, w


def _ln(x, m):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + m.eps) * _np(m.weight) + _np(m.bias)


def _lin(x, m):
    return x @ _np(m.weight).T + _np(m.bias)


def _act(x, name):
    return np.maximum(x, 0) if name == "relu" else 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def np_encoder_layer(layer, x, act, mask=None, kpm=None):
    """x: (S, N, E) sequence first."""
    sa = lambda y: np_mha(layer.self_attn, y, y, y, mask, kpm)[0]  # noqa: E731
    ff = lambda y: _lin(_act(_lin(y, layer.linear1), act), layer.linear2)  # noqa: E731
    if layer.norm_first:
        x = x + sa(_ln(x, layer.norm1))
        return x + ff(_ln(x, layer.norm2))
    x = _ln(x + sa(x), layer.norm1)
    return _ln(x + ff(x), layer.norm2)


def np_decoder_layer(layer, x, mem, act, tgt_mask=None, mem_kpm=None):
    sa = lambda y: np_mha(layer.self_attn, y, y, y, tgt_mask)[0]  # noqa: E731
    ca = lambda y: np_mha(layer.multihead_attn, y, mem, mem, None, mem_kpm)[0]  # noqa: E731
    ff = lambda y: _lin(_act(_lin(y, layer.linear1), act), layer.linear2)  # noqa: E731
    if layer.norm_first:
        x = x + sa(_ln(x, layer.norm1))
        x = x + ca(_ln(x, layer.norm2))
        return x + ff(_ln(x, layer.norm3))
    x = _ln(x + sa(x), layer.norm1)
    x = _ln(x + ca(x), layer.norm2)
    return _ln(x + ff(x), layer.norm3)


def _randomise(m, seed):
    """Non-zero biases and LayerNorm affines, so the references test them."""
    rng = np.random.default_rng(seed)
    with ember.no_grad():
        for p in m.parameters():
            if p.dim() == 1:
                p.copy_(ember.tensor(rng.standard_normal(tuple(p.shape)) * 0.3, dtype=p.dtype))


RNG = np.random.default_rng(0)
E, H, L, S, N = 8, 2, 4, 5, 3
Q = RNG.standard_normal((L, N, E))
KV = RNG.standard_normal((S, N, E))
BOOL_MASK = RNG.random((L, S)) < 0.3
BOOL_MASK[:, 0] = False
KPM = np.zeros((N, S), bool)
KPM[1, 3:] = True
KPM[2, 4] = True


@pytest.mark.parametrize("kw,fk", [
    ({}, dict(attn_mask=BOOL_MASK, key_padding_mask=KPM)),
    ({}, dict(attn_mask=RNG.standard_normal((N * H, L, S)), average_attn_weights=False)),
    (dict(bias=False), dict(key_padding_mask=RNG.standard_normal((N, S)))),
    (dict(add_bias_kv=True, add_zero_attn=True), dict(attn_mask=BOOL_MASK, key_padding_mask=KPM)),
    ({}, dict(need_weights=False, attn_mask=BOOL_MASK, key_padding_mask=KPM)),
    ({}, dict(need_weights=False, attn_mask=RNG.standard_normal((N * H, L, S)))),
])
def test_mha_against_reference(kw, fk):
    ember.manual_seed(1)
    mha = MultiheadAttention(E, H, dtype=F64, **kw)
    _randomise(mha, 2)
    if mha.bias_k is not None:
        assert tuple(mha.bias_k.shape) == (1, 1, E)
    ek = {a: (ember.tensor(b) if isinstance(b, np.ndarray) else b) for a, b in fk.items()}
    out, w = mha(ember.tensor(Q), ember.tensor(KV), ember.tensor(KV), **ek)
    ref, ref_w = np_mha(mha, Q, KV, KV, fk.get("attn_mask"), fk.get("key_padding_mask"))
    np.testing.assert_allclose(_np(out), ref, rtol=1e-12, atol=1e-12)
    if fk.get("need_weights", True):
        want = ref_w if fk.get("average_attn_weights") is False else ref_w.mean(1)
        np.testing.assert_allclose(_np(w), want, rtol=1e-12, atol=1e-12)
    else:
        assert w is None


def test_mha_kdim_vdim_batch_first_and_unbatched():
    ember.manual_seed(3)
    mha = MultiheadAttention(E, H, kdim=3, vdim=5, batch_first=True, dtype=F64)
    assert mha.in_proj_weight is None and tuple(mha.k_proj_weight.shape) == (E, 3)
    assert tuple(mha.v_proj_weight.shape) == (E, 5) and isinstance(mha.out_proj, Linear)
    names = {k for k, _ in mha.named_parameters()}
    assert names == {"q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "out_proj.weight",
                     "out_proj.bias"}
    _randomise(mha, 4)
    rng = np.random.default_rng(5)
    k, v = rng.standard_normal((S, N, 3)), rng.standard_normal((S, N, 5))
    t = lambda a: ember.tensor(a.transpose(1, 0, 2).copy())  # noqa: E731  (N, *, *)
    out, w = mha(t(Q), t(k), t(v), key_padding_mask=ember.tensor(KPM))
    ref, ref_w = np_mha(mha, Q, k, v, None, KPM)
    np.testing.assert_allclose(_np(out), ref.transpose(1, 0, 2), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_np(w), ref_w.mean(1), rtol=1e-12, atol=1e-12)
    out1, w1 = mha(ember.tensor(Q[:, 1]), ember.tensor(k[:, 1]), ember.tensor(v[:, 1]),
                   key_padding_mask=ember.tensor(KPM[1]), average_attn_weights=False)
    assert tuple(out1.shape) == (L, E) and tuple(w1.shape) == (H, L, S)
    np.testing.assert_allclose(_np(out1), ref[:, 1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_np(w1), ref_w[1], rtol=1e-12, atol=1e-12)


def test_mha_init():
    mha = MultiheadAttention(16, 4)
    bound = math.sqrt(6.0 / (16 + 48))  # xavier_uniform on (3E, E)
    w = _np(mha.in_proj_weight)
    assert np.abs(w).max() <= bound and w.std() > 0.3 * bound
    assert (_np(mha.in_proj_bias) == 0).all() and (_np(mha.out_proj.bias) == 0).all()


def test_mha_gradcheck():
    rng = np.random.default_rng(6)
    e, h = 4, 2
    t = lambda *s: ember.tensor(rng.standard_normal(s), requires_grad=True)  # noqa: E731
    q, kv, w_in, b_in, w_out, b_out = t(3, 2, e), t(4, 2, e), t(3 * e, e), t(3 * e), t(e, e), t(e)
    mask = ember.tensor(rng.random((3, 4)) < 0.3)
    kpm = ember.tensor(np.array([[False] * 4, [False, False, True, True]]))

    def f(q, kv, w_in, b_in, w_out, b_out):
        out, w = multi_head_attention_forward(q, kv, kv, e, h, w_in, b_in, None, None, False, 0.0, w_out, b_out,
                                              attn_mask=mask, key_padding_mask=kpm)
        return ember.cat([out.reshape(-1), w.reshape(-1)])
    assert gradcheck(f, [q, kv, w_in, b_in, w_out, b_out])


def test_mha_dropout_only_in_training():
    ember.manual_seed(7)
    mha = MultiheadAttention(E, H, dropout=0.5, dtype=F64)
    x = ember.tensor(Q)
    mha.eval()
    a = _np(mha(x, x, x)[0])
    np.testing.assert_allclose(a, np_mha(mha, Q, Q, Q)[0], rtol=1e-12, atol=1e-12)
    mha.train()
    assert np.abs(_np(mha(x, x, x)[0]) - a).max() > 1e-6


@pytest.mark.parametrize("norm_first,act", [(False, "relu"), (True, "gelu")])
def test_encoder_layer_and_stack_against_reference(norm_first, act):
    ember.manual_seed(8)
    layer = TransformerEncoderLayer(E, H, dim_feedforward=16, dropout=0.0, activation=act, norm_first=norm_first,
                                    dtype=F64)
    _randomise(layer, 9)
    x = RNG.standard_normal((S, N, E))
    out = layer(ember.tensor(x), src_key_padding_mask=ember.tensor(KPM))
    ref = np_encoder_layer(layer, x, act, kpm=KPM)
    np.testing.assert_allclose(_np(out), ref, rtol=1e-10, atol=1e-10)
    enc = TransformerEncoder(layer, num_layers=2, norm=copy.deepcopy(layer.norm1))
    assert len(enc.layers) == 2 and enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    assert enc.layers[0].linear1.weight is not layer.linear1.weight
    _randomise(enc.layers[1], 10)
    got = enc(ember.tensor(x), src_key_padding_mask=ember.tensor(KPM))
    ref1 = np_encoder_layer(enc.layers[0], x, act, kpm=KPM)
    ref2 = _ln(np_encoder_layer(enc.layers[1], ref1, act, kpm=KPM), enc.norm)
    np.testing.assert_allclose(_np(got), ref2, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_against_reference(norm_first):
    ember.manual_seed(11)
    layer = TransformerDecoderLayer(E, H, dim_feedforward=16, dropout=0.0, norm_first=norm_first, batch_first=True,
                                    dtype=F64)
    _randomise(layer, 12)
    tgt, mem = RNG.standard_normal((L, N, E)), RNG.standard_normal((S, N, E))
    causal = Transformer.generate_square_subsequent_mask(L, dtype=F64)
    bf = lambda a: ember.tensor(a.transpose(1, 0, 2).copy())  # noqa: E731
    out = layer(bf(tgt), bf(mem), tgt_mask=causal, memory_key_padding_mask=ember.tensor(KPM))
    ref = np_decoder_layer(layer, tgt, mem, "relu", tgt_mask=_np(causal), mem_kpm=KPM)
    np.testing.assert_allclose(_np(out), ref.transpose(1, 0, 2), rtol=1e-10, atol=1e-10)
    # the is_causal hint (scaled_dot_product_attention's causal path) gives the same values
    hinted = layer(bf(tgt), bf(mem), tgt_mask=causal, memory_key_padding_mask=ember.tensor(KPM), tgt_is_causal=True)
    np.testing.assert_allclose(_np(hinted), _np(out), rtol=1e-12, atol=1e-12)


def test_transformer_against_reference_and_mask_helpers():
    ember.manual_seed(13)
    model = Transformer(E, H, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16, dropout=0.0, dtype=F64)
    _randomise(model, 14)
    src, tgt = RNG.standard_normal((S, N, E)), RNG.standard_normal((L, N, E))
    causal = Transformer.generate_square_subsequent_mask(L, dtype=F64)
    out = model(ember.tensor(src), ember.tensor(tgt), tgt_mask=causal, src_key_padding_mask=ember.tensor(KPM),
                memory_key_padding_mask=ember.tensor(KPM))
    mem = src
    for layer in model.encoder.layers:
        mem = np_encoder_layer(layer, mem, "relu", kpm=KPM)
    mem = _ln(mem, model.encoder.norm)
    ref = _ln(np_decoder_layer(model.decoder.layers[0], tgt, mem, "relu", _np(causal), KPM), model.decoder.norm)
    np.testing.assert_allclose(_np(out), ref, rtol=1e-10, atol=1e-10)
    m = Transformer.generate_square_subsequent_mask(3)
    assert m.tolist() == [[0.0, -math.inf, -math.inf], [0.0, 0.0, -math.inf], [0.0, 0.0, 0.0]]
    assert m.dtype == ember.get_default_dtype()


def test_encoder_causal_detection_and_bool_masks():
    ember.manual_seed(15)
    enc = TransformerEncoder(TransformerEncoderLayer(E, H, 16, dropout=0.0, dtype=F64), num_layers=2)
    x = ember.tensor(RNG.standard_normal((S, N, E)))
    causal = Transformer.generate_square_subsequent_mask(S, dtype=F64)
    a = _np(enc(x, mask=causal))  # detected as causal: scaled_dot_product_attention's causal path
    b = _np(enc(x, mask=causal, is_causal=False))  # the additive mask path
    c = _np(enc(x, mask=ember.ones(S, S, dtype=ember.bool).triu(1)))  # bool mask, True = masked
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c, b, rtol=1e-12, atol=1e-12)
    # causal: the first position only sees itself, so later inputs do not change it
    x2 = x.clone()
    x2[2:] = 5.0
    np.testing.assert_allclose(_np(enc(x2, mask=causal))[:2], a[:2], rtol=1e-12, atol=1e-12)


def test_key_padding_hides_padded_positions():
    ember.manual_seed(16)
    enc = TransformerEncoder(TransformerEncoderLayer(E, H, 16, dropout=0.0, batch_first=True, dtype=F64), 1)
    x = RNG.standard_normal((N, S, E))
    x2 = x.copy()
    x2[KPM] = 100.0
    a = _np(enc(ember.tensor(x), src_key_padding_mask=ember.tensor(KPM)))
    b = _np(enc(ember.tensor(x2), src_key_padding_mask=ember.tensor(KPM)))
    np.testing.assert_allclose(a[~KPM], b[~KPM], rtol=1e-12, atol=1e-12)
    assert np.abs(a[KPM] - b[KPM]).max() > 1.0


def test_transformer_backward_reaches_all_parameters():
    ember.manual_seed(17)
    model = Transformer(8, 2, 1, 1, 16, dropout=0.1, batch_first=True)
    out = model(ember.randn(2, 5, 8), ember.randn(2, 4, 8))
    (out * ember.randn(2, 4, 8)).sum().backward()  # not out.sum(): the final LayerNorm makes that constant
    assert all(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in model.parameters())


def test_errors():
    with pytest.raises(ValueError, match="divisible"):
        MultiheadAttention(10, 3)
    mha = MultiheadAttention(8, 2)
    with pytest.raises(ValueError, match=r"MultiheadAttention\(embed_dim=8, num_heads=2\): expected query"):
        mha(ember.randn(4, 2, 7), ember.randn(4, 2, 8), ember.randn(4, 2, 8))
    x = ember.randn(4, 2, 8)
    with pytest.raises(ValueError, match="is_causal=True needs attn_mask"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match=r"2-d attn_mask has the wrong shape: expected \(4, 4\)"):
        mha(x, x, x, attn_mask=ember.zeros(3, 4))
    with pytest.raises(ValueError, match="key_padding_mask has the wrong shape"):
        mha(x, x, x, key_padding_mask=ember.zeros(2, 5, dtype=ember.bool))
    with pytest.raises(ValueError, match="activation"):
        TransformerEncoderLayer(8, 2, activation="swish")
    with pytest.raises(ValueError, match=r"TransformerEncoderLayer\(d_model=8\)"):
        TransformerEncoderLayer(8, 2, 16)(ember.randn(3, 2, 6))
    model = Transformer(8, 2, 1, 1, 16)
    with pytest.raises(ValueError, match="same batch size"):
        model(ember.randn(5, 2, 8), ember.randn(4, 3, 8))
    with pytest.raises(ValueError, match="num_layers"):
        TransformerDecoder(TransformerDecoderLayer(8, 2, 16), 0)
    assert F.relu is TransformerEncoderLayer(8, 2, 16).activation
