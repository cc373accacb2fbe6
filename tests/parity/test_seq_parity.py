"""Sequence models against PyTorch: RNN/LSTM/GRU (multi-layer, bidirectional, batch_first,
packed), MultiheadAttention (masks), TransformerEncoder/Decoder and ctc_loss. torch's initial
weights are copied into ember's module through the state dict (same parameter names); outputs
and every parameter and input gradient must agree to rtol 1e-6 in float64 (they agree to
~1e-14)."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.nn._seq_functional import ctc_loss
from ember.nn.modules.attention import MultiheadAttention
from ember.nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from ember.nn.modules.transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer,
                                          TransformerEncoder, TransformerEncoderLayer)
from ember.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

torch = pytest.importorskip("torch")
tnn = torch.nn

RTOL, ATOL = 1e-6, 1e-10
# torch warns about mixing bool and float masks and about its nested-tensor fast path
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _np(t):
    return t.detach().numpy()


def _close(a, b):
    np.testing.assert_allclose(_np(a), _np(b), rtol=RTOL, atol=ATOL)


def _copy(tm, em):
    """torch module -> ember module weights, by state-dict name (shapes must match too)."""
    sd = {k: ember.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    assert set(sd) == set(em.state_dict()), (sorted(sd), sorted(em.state_dict()))
    em.load_state_dict(sd)


def _check_grads(tm, em):
    eg = dict(em.named_parameters())
    n = 0
    for name, p in tm.named_parameters():
        if p.grad is None:
            assert eg[name].grad is None or float(eg[name].grad.abs().sum()) == 0.0, name
            continue
        _close(eg[name].grad, p.grad)
        n += 1
    assert n > 0


def _pair(a):
    return torch.tensor(a, requires_grad=True), ember.tensor(a, requires_grad=True)


def _flat(out):
    """Outputs (tensor, tuples, PackedSequence.data) as a list of tensors."""
    if hasattr(out, "batch_sizes"):
        return [out.data]
    if isinstance(out, (tuple, list)):
        return [t for o in out if o is not None for t in _flat(o)]
    return [out]


def _loss(outs, weights):
    return sum((o * w).sum() for o, w in zip(outs, weights))


def _run_both(tm, em, targs, eargs, tkw=None, ekw=None, seed=0):
    to = _flat(tm(*targs, **(tkw or {})))
    eo = _flat(em(*eargs, **(ekw or {})))
    assert len(to) == len(eo)
    rng = np.random.default_rng(seed)
    ws = [rng.standard_normal(tuple(o.shape)) for o in to]
    for a, b in zip(eo, to):
        _close(a, b)
    _loss(to, [torch.tensor(w) for w in ws]).backward()
    _loss(eo, [ember.tensor(w) for w in ws]).backward()
    _check_grads(tm, em)


RNN_CASES = [
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(num_layers=2, batch_first=True, proj_size=3)),
    ("GRU", dict(num_layers=3, bidirectional=True, batch_first=True)),
    ("GRU", dict(bias=False)),
    ("RNN", dict(num_layers=2, nonlinearity="relu", bidirectional=True)),
    ("RNN", dict(num_layers=2, batch_first=True)),
]
_E = {"LSTM": LSTM, "GRU": GRU, "RNN": RNN}


@pytest.mark.parametrize("name,kw", RNN_CASES)
def test_rnn_padded(name, kw):
    torch.manual_seed(0)
    tm = getattr(tnn, name)(4, 5, dtype=torch.float64, **kw)
    em = _E[name](4, 5, dtype=ember.float64, **kw)
    _copy(tm, em)
    rng = np.random.default_rng(1)
    xt, xe = _pair(rng.standard_normal((3, 6, 4) if kw.get("batch_first") else (6, 3, 4)))
    D = 2 if kw.get("bidirectional") else 1
    L = kw.get("num_layers", 1)
    ht, he = _pair(rng.standard_normal((L * D, 3, kw.get("proj_size") or 5)))
    if name == "LSTM":
        ct, ce = _pair(rng.standard_normal((L * D, 3, 5)))
        _run_both(tm, em, [xt, (ht, ct)], [xe, (he, ce)])
        _close(ce.grad, ct.grad)
    else:
        _run_both(tm, em, [xt, ht], [xe, he])
    _close(xe.grad, xt.grad)
    _close(he.grad, ht.grad)


@pytest.mark.parametrize("name,kw", RNN_CASES[:3] + RNN_CASES[4:5])
def test_rnn_packed(name, kw):
    torch.manual_seed(2)
    tm = getattr(tnn, name)(4, 5, dtype=torch.float64, **kw)
    em = _E[name](4, 5, dtype=ember.float64, **kw)
    _copy(tm, em)
    bf = kw.get("batch_first", False)
    lengths = [3, 6, 1, 6, 4]
    rng = np.random.default_rng(3)
    xt, xe = _pair(rng.standard_normal((5, 6, 4) if bf else (6, 5, 4)))
    pt = tnn.utils.rnn.pack_padded_sequence(xt, lengths, batch_first=bf, enforce_sorted=False)
    pe = pack_padded_sequence(xe, lengths, batch_first=bf, enforce_sorted=False)
    _close(pe.data, pt.data)
    assert pe.batch_sizes.tolist() == pt.batch_sizes.tolist()
    assert pe.sorted_indices.tolist() == pt.sorted_indices.tolist()
    assert pe.unsorted_indices.tolist() == pt.unsorted_indices.tolist()
    ot, hid_t = tm(pt)
    oe, hid_e = em(pe)
    padded_t, lt = tnn.utils.rnn.pad_packed_sequence(ot, batch_first=bf, total_length=7)
    padded_e, le = pad_packed_sequence(oe, batch_first=bf, total_length=7)
    assert le.tolist() == lt.tolist() == lengths
    outs_t, outs_e = [padded_t] + _flat(hid_t), [padded_e] + _flat(hid_e)
    rng = np.random.default_rng(4)
    ws = [rng.standard_normal(tuple(o.shape)) for o in outs_t]
    for a, b in zip(outs_e, outs_t):
        _close(a, b)
    _loss(outs_t, [torch.tensor(w) for w in ws]).backward()
    _loss(outs_e, [ember.tensor(w) for w in ws]).backward()
    _check_grads(tm, em)
    _close(xe.grad, xt.grad)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells(name):
    torch.manual_seed(5)
    tm = getattr(tnn, name)(3, 4, dtype=torch.float64)
    em = {"RNNCell": RNNCell, "LSTMCell": LSTMCell, "GRUCell": GRUCell}[name](3, 4, dtype=ember.float64)
    _copy(tm, em)
    rng = np.random.default_rng(6)
    xt, xe = _pair(rng.standard_normal((2, 3)))
    ht, he = _pair(rng.standard_normal((2, 4)))
    if name == "LSTMCell":
        ct, ce = _pair(rng.standard_normal((2, 4)))
        _run_both(tm, em, [xt, (ht, ct)], [xe, (he, ce)])
    else:
        _run_both(tm, em, [xt, ht], [xe, he])
    _close(he.grad, ht.grad)


E, H, L, S, N = 8, 2, 4, 5, 3


def _masks(rng):
    am = rng.random((L, S)) < 0.3
    am[:, 0] = False
    kpm = np.zeros((N, S), bool)
    kpm[1, 3:] = True
    return am, kpm


@pytest.mark.parametrize("kw,mask_kind,fkw", [
    ({}, "bool", {}),
    ({}, "float", dict(average_attn_weights=False)),
    ({}, "bool", dict(need_weights=False)),
    (dict(batch_first=True), "float3d", {}),
    (dict(add_bias_kv=True, add_zero_attn=True), "bool", {}),
    (dict(kdim=3, vdim=6, bias=False), "none", {}),
])
def test_multihead_attention(kw, mask_kind, fkw):
    torch.manual_seed(7)
    tm = tnn.MultiheadAttention(E, H, dtype=torch.float64, **kw)
    em = MultiheadAttention(E, H, dtype=ember.float64, **kw)
    with torch.no_grad():  # non-zero biases
        for p in tm.parameters():
            if p.dim() == 1:
                p.normal_()
    _copy(tm, em)
    rng = np.random.default_rng(8)
    bf = kw.get("batch_first", False)
    shape = lambda n, d: (N, n, d) if bf else (n, N, d)  # noqa: E731
    qt, qe = _pair(rng.standard_normal(shape(L, E)))
    kt, ke = _pair(rng.standard_normal(shape(S, kw.get("kdim", E))))
    vt, ve = _pair(rng.standard_normal(shape(S, kw.get("vdim", E))))
    am, kpm = _masks(rng)
    if mask_kind == "bool":
        masks = dict(attn_mask=am, key_padding_mask=kpm)
    elif mask_kind == "float":
        masks = dict(attn_mask=rng.standard_normal((L, S)), key_padding_mask=np.where(kpm, -np.inf, 0.0))
    elif mask_kind == "float3d":
        masks = dict(attn_mask=rng.standard_normal((N * H, L, S)), key_padding_mask=kpm.astype(np.float64))
    else:
        masks = {}
    tkw = {k: torch.tensor(v) for k, v in masks.items()}
    ekw = {k: ember.tensor(v) for k, v in masks.items()}
    _run_both(tm, em, [qt, kt, vt], [qe, ke, ve], {**tkw, **fkw}, {**ekw, **fkw})
    for a, b in ((qe, qt), (ke, kt), (ve, vt)):
        _close(a.grad, b.grad)


@pytest.mark.parametrize("batch_first,norm_first,act", [(False, False, "relu"), (True, True, "gelu")])
def test_transformer_encoder(batch_first, norm_first, act):
    torch.manual_seed(9)
    kw = dict(dim_feedforward=16, dropout=0.0, activation=act, batch_first=batch_first, norm_first=norm_first)
    tm = tnn.TransformerEncoder(tnn.TransformerEncoderLayer(E, H, dtype=torch.float64, **kw), 2,
                                norm=tnn.LayerNorm(E, dtype=torch.float64), enable_nested_tensor=False)
    em = TransformerEncoder(TransformerEncoderLayer(E, H, dtype=ember.float64, **kw), 2,
                            norm=ember.nn.modules.normalization.LayerNorm(E, dtype=ember.float64))
    with torch.no_grad():
        for p in tm.parameters():
            p.add_(0.1 * torch.randn_like(p))
    _copy(tm, em)
    rng = np.random.default_rng(10)
    xt, xe = _pair(rng.standard_normal((N, S, E) if batch_first else (S, N, E)))
    _, kpm = _masks(rng)
    causal_t = tnn.Transformer.generate_square_subsequent_mask(S, dtype=torch.float64)
    causal_e = Transformer.generate_square_subsequent_mask(S, dtype=ember.float64)
    _run_both(tm, em, [xt], [xe], dict(mask=causal_t, src_key_padding_mask=torch.tensor(kpm)),
              dict(mask=causal_e, src_key_padding_mask=ember.tensor(kpm)))
    _close(xe.grad, xt.grad)


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_decoder_and_full_model(norm_first):
    torch.manual_seed(11)
    kw = dict(dim_feedforward=16, dropout=0.0, norm_first=norm_first)
    tm = tnn.TransformerDecoder(tnn.TransformerDecoderLayer(E, H, dtype=torch.float64, **kw), 2)
    em = TransformerDecoder(TransformerDecoderLayer(E, H, dtype=ember.float64, **kw), 2)
    _copy(tm, em)
    rng = np.random.default_rng(12)
    tt, te = _pair(rng.standard_normal((L, N, E)))
    mt, me = _pair(rng.standard_normal((S, N, E)))
    _, kpm = _masks(rng)
    causal_t = tnn.Transformer.generate_square_subsequent_mask(L, dtype=torch.float64)
    causal_e = Transformer.generate_square_subsequent_mask(L, dtype=ember.float64)
    _run_both(tm, em, [tt, mt], [te, me], dict(tgt_mask=causal_t, memory_key_padding_mask=torch.tensor(kpm)),
              dict(tgt_mask=causal_e, memory_key_padding_mask=ember.tensor(kpm)))
    _close(te.grad, tt.grad)
    _close(me.grad, mt.grad)
    torch.manual_seed(13)
    tm = tnn.Transformer(E, H, 1, 2, 16, dropout=0.0, batch_first=True, norm_first=norm_first, dtype=torch.float64)
    em = Transformer(E, H, 1, 2, 16, dropout=0.0, batch_first=True, norm_first=norm_first, dtype=ember.float64)
    _copy(tm, em)
    st, se = _pair(rng.standard_normal((N, S, E)))
    tt, te = _pair(rng.standard_normal((N, L, E)))
    _run_both(tm, em, [st, tt], [se, te], dict(tgt_mask=causal_t, tgt_is_causal=True),
              dict(tgt_mask=causal_e, tgt_is_causal=True))
    _close(se.grad, st.grad)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_ctc_loss(reduction):
    rng = np.random.default_rng(14)
    T, Nb, C = 12, 4, 6
    x = rng.standard_normal((T, Nb, C))
    in_lens, tg_lens = [12, 9, 7, 12], [4, 2, 0, 5]
    padded = rng.integers(1, C, (Nb, 5))
    padded[0, :3] = [2, 2, 3]  # a repeat needs a blank between
    concat = np.concatenate([padded[n, :tg_lens[n]] for n in range(Nb)])
    for tg in (padded, concat):
        xt, xe = _pair(x)
        lt = tnn.functional.ctc_loss(xt.log_softmax(2), torch.tensor(tg), torch.tensor(in_lens),
                                     torch.tensor(tg_lens), reduction=reduction)
        le = ctc_loss(F.log_softmax(xe, 2), ember.tensor(tg), ember.tensor(in_lens), ember.tensor(tg_lens),
                      reduction=reduction)
        _close(le, lt)
        w = rng.standard_normal(tuple(lt.shape))
        (lt * torch.tensor(w)).sum().backward()
        (le * ember.tensor(w)).sum().backward()
        _close(xe.grad, xt.grad)


def test_ctc_raw_log_probs_gradient_convention():
    """torch's ctc_loss gradient with respect to log_probs adds exp(log_probs) on the valid steps
    (its formula assumes a log_softmax follows in the chain); ember returns the exact derivative."""
    rng = np.random.default_rng(15)
    x = rng.standard_normal((6, 2, 4))
    lp = x - np.log(np.exp(x).sum(-1, keepdims=True))
    in_lens, tg = [6, 4], np.array([[1, 2], [3, 3]])
    lt, le = _pair(lp)
    tnn.functional.ctc_loss(lt, torch.tensor(tg), torch.tensor(in_lens), torch.tensor([2, 2]),
                            reduction="sum").backward()
    ctc_loss(le, ember.tensor(tg), in_lens, [2, 2], reduction="sum").backward()
    valid = (np.arange(6)[:, None] < np.array(in_lens)[None, :])[..., None]
    np.testing.assert_allclose(_np(le.grad) + np.exp(lp) * valid, _np(lt.grad), rtol=RTOL, atol=ATOL)


def test_ctc_zero_infinity():
    rng = np.random.default_rng(16)
    x = rng.standard_normal((4, 2, 3))
    tg, in_lens, tg_lens = np.array([[1, 1, 1], [1, 2, 0]]), [4, 4], [3, 2]
    xt, xe = _pair(x)
    lt = tnn.functional.ctc_loss(xt.log_softmax(2), torch.tensor(tg), torch.tensor(in_lens), torch.tensor(tg_lens),
                                 reduction="none", zero_infinity=True)
    le = ctc_loss(F.log_softmax(xe, 2), ember.tensor(tg), in_lens, tg_lens, reduction="none", zero_infinity=True)
    _close(le, lt)
    lt.sum().backward()
    le.sum().backward()
    _close(xe.grad, xt.grad)
    inf_t = tnn.functional.ctc_loss(torch.tensor(x).log_softmax(2), torch.tensor(tg), torch.tensor(in_lens),
                                    torch.tensor(tg_lens), reduction="none")
    inf_e = ctc_loss(F.log_softmax(ember.tensor(x), 2), ember.tensor(tg), in_lens, tg_lens, reduction="none")
    assert np.isinf(_np(inf_t)[0]) and np.isinf(_np(inf_e)[0])
