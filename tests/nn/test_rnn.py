"""RNN, LSTM, GRU and their cells against a float64 NumPy reference of the recurrences;
gradcheck on small cases; module argument and input errors."""
import math

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.nn._seq_functional import gru_cell, lstm_cell, rnn_packed, rnn_relu_cell, rnn_tanh_cell
from ember.nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

F64 = ember.float64


# ---- NumPy reference ------------------------------------------------------------------------------
def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_step(mode, x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr=None):
    b_ih = 0.0 if b_ih is None else b_ih
    b_hh = 0.0 if b_hh is None else b_hh
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    if mode == "RNN_TANH":
        return np.tanh(gi + gh), None
    if mode == "RNN_RELU":
        return np.maximum(gi + gh, 0.0), None
    if mode == "LSTM":
        i, f, g, o = np.split(gi + gh, 4, axis=-1)
        c = _sig(f) * c + _sig(i) * np.tanh(g)
        h = _sig(o) * np.tanh(c)
        return (h if w_hr is None else h @ w_hr.T), c
    r_i, z_i, n_i = np.split(gi, 3, axis=-1)
    r_h, z_h, n_h = np.split(gh, 3, axis=-1)
    r, z = _sig(r_i + r_h), _sig(z_i + z_h)
    n = np.tanh(n_i + r * n_h)
    return (1 - z) * n + z * h, None


def np_rnn(mode, module, x, h0=None, c0=None):
    """Reference for a (T, B, I) input: returns output (T, B, D*Hout), h_n, c_n."""
    p = {k: v.detach().numpy() for k, v in module.named_parameters()}
    D = 2 if module.bidirectional else 1
    T, B, _ = x.shape
    hout = module.proj_size or module.hidden_size
    h0 = np.zeros((module.num_layers * D, B, hout)) if h0 is None else h0
    c0 = np.zeros((module.num_layers * D, B, module.hidden_size)) if c0 is None else c0
    hn, cn, inp = [], [], x
    for layer in range(module.num_layers):
        outs = []
        for d in range(D):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            w = [p.get(n + sfx) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")]
            h, c = h0[layer * D + d], c0[layer * D + d]
            out = np.zeros((T, B, hout))
            for t in (range(T - 1, -1, -1) if d else range(T)):
                h, c2 = np_step(mode, inp[t], h, c, *w)
                c = c2 if c2 is not None else c
                out[t] = h
            outs.append(out)
            hn.append(h)
            cn.append(c)
        inp = np.concatenate(outs, -1)
    return inp, np.stack(hn), np.stack(cn)


def _np(t):
    return t.detach().numpy()


CONFIGS = [
    (RNN, "RNN_TANH", dict(num_layers=2, bidirectional=True)),
    (RNN, "RNN_RELU", dict(nonlinearity="relu", bias=False)),
    (LSTM, "LSTM", dict(num_layers=2, bidirectional=True)),
    (LSTM, "LSTM", dict(num_layers=2, proj_size=3)),
    (GRU, "GRU", dict(num_layers=2, bidirectional=True)),
    (GRU, "GRU", dict(bias=False)),
]


@pytest.mark.parametrize("cls,mode,kw", CONFIGS)
def test_against_numpy_reference(cls, mode, kw):
    ember.manual_seed(0)
    m = cls(4, 5, dtype=F64, **kw)
    x = np.random.default_rng(1).standard_normal((6, 3, 4))
    out, hidden = m(ember.tensor(x))
    ref_out, ref_h, ref_c = np_rnn(mode, m, x)
    np.testing.assert_allclose(_np(out), ref_out, rtol=1e-12, atol=1e-12)
    if mode == "LSTM":
        h, c = hidden
        np.testing.assert_allclose(_np(c), ref_c, rtol=1e-12, atol=1e-12)
    else:
        h = hidden
    np.testing.assert_allclose(_np(h), ref_h, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls,mode", [(LSTM, "LSTM"), (GRU, "GRU"), (RNN, "RNN_TANH")])
def test_batch_first_initial_state_and_unbatched(cls, mode):
    ember.manual_seed(1)
    m = cls(3, 4, num_layers=2, bidirectional=True, batch_first=True, dtype=F64)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 5, 3))  # (B, T, I)
    h0 = rng.standard_normal((4, 2, 4))
    c0 = rng.standard_normal((4, 2, 4))
    hx = (ember.tensor(h0), ember.tensor(c0)) if mode == "LSTM" else ember.tensor(h0)
    out, hidden = m(ember.tensor(x), hx)
    ref_out, ref_h, ref_c = np_rnn(mode, m, x.transpose(1, 0, 2), h0, c0)
    assert tuple(out.shape) == (2, 5, 8)
    np.testing.assert_allclose(_np(out), ref_out.transpose(1, 0, 2), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_np(hidden[0] if mode == "LSTM" else hidden), ref_h, rtol=1e-12, atol=1e-12)
    # unbatched (T, I) equals batch of one
    hx1 = (ember.tensor(h0[:, 0]), ember.tensor(c0[:, 0])) if mode == "LSTM" else ember.tensor(h0[:, 0])
    out1, hidden1 = m(ember.tensor(x[0]), hx1)
    assert tuple(out1.shape) == (5, 8)
    np.testing.assert_allclose(_np(out1), ref_out[:, 0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_np(hidden1[0] if mode == "LSTM" else hidden1), ref_h[:, 0], rtol=1e-12, atol=1e-12)


def test_parameter_names_shapes_and_init():
    m = LSTM(3, 6, num_layers=2, bidirectional=True, proj_size=2)
    shapes = {k: tuple(v.shape) for k, v in m.named_parameters()}
    assert shapes["weight_ih_l0"] == (24, 3)
    assert shapes["weight_hh_l0"] == (24, 2)
    assert shapes["weight_hr_l0_reverse"] == (2, 6)
    assert shapes["weight_ih_l1"] == (24, 4)  # 2 directions * proj_size
    assert shapes["bias_hh_l1_reverse"] == (24,)
    assert len(shapes) == 2 * 2 * 5
    assert list(m.state_dict().keys())[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                               "weight_hr_l0"]
    bound = 1 / math.sqrt(6)
    for p in m.parameters():
        a = _np(p)
        assert a.min() >= -bound and a.max() <= bound and a.std() > 0.1 * bound
    g = GRU(3, 5, bias=False)
    assert sorted(k for k, _ in g.named_parameters()) == ["weight_hh_l0", "weight_ih_l0"]
    assert tuple(g.weight_ih_l0.shape) == (15, 3)
    assert len(m.all_weights) == 4 and m.all_weights[1][0] is m.weight_ih_l0_reverse


def test_dropout_between_layers_only_in_training():
    ember.manual_seed(3)
    m = LSTM(3, 4, num_layers=2, dropout=0.5, dtype=F64)
    x = ember.randn(5, 2, 3, dtype=F64)
    m.eval()
    out_eval = _np(m(x)[0])
    ref = np_rnn("LSTM", m, _np(x))[0]
    np.testing.assert_allclose(out_eval, ref, rtol=1e-12, atol=1e-12)
    m.train()
    out_train = _np(m(x)[0])
    assert np.abs(out_train - out_eval).max() > 1e-6
    with pytest.warns(UserWarning, match="num_layers=1"):
        LSTM(3, 4, dropout=0.2)


@pytest.mark.parametrize("cls,fn,mode,chunks", [
    (RNNCell, rnn_tanh_cell, "RNN_TANH", 1), (LSTMCell, lstm_cell, "LSTM", 4), (GRUCell, gru_cell, "GRU", 3)])
def test_cells_against_reference_and_unbatched(cls, fn, mode, chunks):
    ember.manual_seed(4)
    cell = cls(3, 5, dtype=F64)
    rng = np.random.default_rng(5)
    x, h, c = rng.standard_normal((4, 3)), rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    w = [_np(cell.weight_ih), _np(cell.weight_hh), _np(cell.bias_ih), _np(cell.bias_hh)]
    ref_h, ref_c = np_step(mode, x, h, c, *w)
    if mode == "LSTM":
        got_h, got_c = cell(ember.tensor(x), (ember.tensor(h), ember.tensor(c)))
        np.testing.assert_allclose(_np(got_c), ref_c, rtol=1e-12, atol=1e-12)
        uh, uc = cell(ember.tensor(x[1]), (ember.tensor(h[1]), ember.tensor(c[1])))
        np.testing.assert_allclose(_np(uh), ref_h[1], rtol=1e-12, atol=1e-12)
        zero_h = _np(cell(ember.tensor(x))[0])
    else:
        got_h = cell(ember.tensor(x), ember.tensor(h))
        uh = cell(ember.tensor(x[1]), ember.tensor(h[1]))
        assert tuple(uh.shape) == (5,)
        np.testing.assert_allclose(_np(uh), ref_h[1], rtol=1e-12, atol=1e-12)
        zero_h = _np(cell(ember.tensor(x)))
    np.testing.assert_allclose(_np(got_h), ref_h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(zero_h, np_step(mode, x, 0 * h, 0 * c, *w)[0], rtol=1e-12, atol=1e-12)
    assert tuple(cell.weight_ih.shape) == (chunks * 5, 3)


def test_relu_cell():
    rng = np.random.default_rng(6)
    x, h = rng.standard_normal((3, 2)), rng.standard_normal((3, 4))
    w_ih, w_hh, b = rng.standard_normal((4, 2)), rng.standard_normal((4, 4)), rng.standard_normal(4)
    got = rnn_relu_cell(*(ember.tensor(a) for a in (x, h, w_ih, w_hh, b, b)))
    np.testing.assert_allclose(_np(got), np.maximum(x @ w_ih.T + h @ w_hh.T + 2 * b, 0), rtol=1e-12)
    cell = RNNCell(2, 4, nonlinearity="relu", dtype=F64)
    assert (_np(cell(ember.tensor(x))) >= 0).all()


def _t(a):
    return ember.tensor(a, dtype=F64, requires_grad=True)


@pytest.mark.parametrize("fn,chunks,lstm", [(rnn_tanh_cell, 1, False), (lstm_cell, 4, True), (gru_cell, 3, False)])
def test_cell_gradcheck(fn, chunks, lstm):
    rng = np.random.default_rng(7)
    H = 3
    args = [_t(rng.standard_normal((2, 2))), _t(rng.standard_normal((2, H))), _t(rng.standard_normal((2, H))),
            _t(rng.standard_normal((chunks * H, 2))), _t(rng.standard_normal((chunks * H, H))),
            _t(rng.standard_normal(chunks * H)), _t(rng.standard_normal(chunks * H))]

    def f(x, h, c, w_ih, w_hh, b_ih, b_hh):
        if lstm:
            return ember.cat(list(fn(x, (h, c), w_ih, w_hh, b_ih, b_hh)), 1)
        return fn(x, h, w_ih, w_hh, b_ih, b_hh)
    assert gradcheck(f, args)


@pytest.mark.parametrize("mode,chunks", [("LSTM", 4), ("GRU", 3)])
def test_multilayer_bidirectional_gradcheck(mode, chunks):
    """Two layers, both directions, variable lengths (packed rows), initial states: all gradients."""
    rng = np.random.default_rng(8)
    H, I, batch_sizes = 2, 2, [3, 2, 1]
    data = _t(rng.standard_normal((sum(batch_sizes), I)))
    h0 = _t(rng.standard_normal((4, 3, H)))
    c0 = _t(rng.standard_normal((4, 3, H))) if mode == "LSTM" else None
    ws = []
    for layer in range(2):
        for _ in range(2):
            inp = I if layer == 0 else 2 * H
            ws += [_t(rng.standard_normal((chunks * H, inp)) * 0.5), _t(rng.standard_normal((chunks * H, H)) * 0.5),
                   _t(rng.standard_normal(chunks * H)), _t(rng.standard_normal(chunks * H))]

    def f(data, h0, *rest):
        c = rest[0] if mode == "LSTM" else None
        w = rest[1:] if mode == "LSTM" else rest
        weights = [tuple(w[4 * k:4 * k + 4]) + (None,) for k in range(4)]
        out, h_n, c_n = rnn_packed(mode, data, batch_sizes, h0, c, weights, 2, True, 0.0, False)
        return ember.cat([out.reshape(-1), h_n.reshape(-1)] + ([c_n.reshape(-1)] if c_n is not None else []))
    inputs = [data, h0] + ([c0] if c0 is not None else []) + ws
    assert gradcheck(f, inputs)


def test_lstm_module_backward_matches_reference_grad():
    """Module gradients reach every parameter and equal finite differences of the NumPy reference."""
    ember.manual_seed(9)
    m = LSTM(2, 3, bidirectional=True, proj_size=2, dtype=F64)
    x = np.random.default_rng(10).standard_normal((4, 2, 2))
    out, (h, c) = m(ember.tensor(x))
    (out.sum() + (c * c).sum()).backward()
    name = "weight_hr_l0_reverse"
    p = getattr(m, name)
    base = _np(p).copy()
    eps, i, j = 1e-6, 1, 2
    vals = []
    for s in (eps, -eps):
        with ember.no_grad():
            p.copy_(ember.tensor(base + s * (np.arange(base.size).reshape(base.shape) == i * base.shape[1] + j)))
        o, _, cc = np_rnn("LSTM", m, x)
        vals.append(o.sum() + (cc ** 2).sum())
    with ember.no_grad():
        p.copy_(ember.tensor(base))
    np.testing.assert_allclose(_np(p.grad)[i, j], (vals[0] - vals[1]) / (2 * eps), rtol=1e-6)
    assert all(q.grad is not None for q in m.parameters())


def test_module_errors():
    m = LSTM(input_size=10, hidden_size=20)
    with pytest.raises(ValueError, match=r"LSTM\(input_size=10, hidden_size=20\): expected input with 10 features "
                                         r"in its last dimension, got shape \(5, 3, 11\)"):
        m(ember.randn(5, 3, 11))
    with pytest.raises(ValueError, match="2-d .* or 3-d"):
        m(ember.randn(5, 3, 2, 10))
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(1, 3, 20\), got \(2, 3, 20\)"):
        m(ember.randn(5, 3, 10), (ember.zeros(2, 3, 20), ember.zeros(1, 3, 20)))
    with pytest.raises(ValueError, match=r"expected c_0 of shape \(1, 3, 20\)"):
        m(ember.randn(5, 3, 10), (ember.zeros(1, 3, 20), ember.zeros(1, 3, 19)))
    with pytest.raises(TypeError, match="tuple"):
        m(ember.randn(5, 3, 10), ember.zeros(1, 3, 20))
    with pytest.raises(TypeError, match="dtype"):
        m(ember.randn(5, 3, 10, dtype=F64))
    with pytest.raises(ValueError, match="unbatched 2-d"):
        GRU(10, 20)(ember.randn(5, 10), ember.zeros(1, 1, 20))
    with pytest.raises(ValueError, match="proj_size"):
        GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="proj_size must be smaller"):
        LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="nonlinearity"):
        RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout"):
        LSTM(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        GRU(3, 0)
    with pytest.raises(ValueError, match=r"GRUCell\(input_size=3, hidden_size=4\): expected input with 3 features"):
        GRUCell(3, 4)(ember.randn(2, 5))
    with pytest.raises(ValueError, match=r"expected hx of shape \(2, 4\)"):
        RNNCell(3, 4)(ember.randn(2, 3), ember.zeros(3, 4))
    with pytest.raises(ValueError, match="1-d .* or 2-d"):
        LSTMCell(3, 4)(ember.randn(1, 2, 3))


def test_rnn_positional_nonlinearity_and_repr():
    m = RNN(3, 4, 2, "relu")
    assert m.nonlinearity == "relu" and m.num_layers == 2 and m.mode == "RNN_RELU"
    assert "num_layers=2" in repr(m)
    assert repr(LSTM(3, 4, batch_first=True)).startswith("LSTM(3, 4, batch_first=True)")


# ---- the sequence-level LSTM (its own backward) --------------------------------------------------
@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_sequence_matches_recorded_steps(reverse):
    """_LstmSequence (fused steps, batched weight gradient) gives the values and gradients of the
    op-by-op recurrence, for both directions, with the final state's gradients too."""
    from ember.nn._seq_functional import _LstmSequence, _lstm_steps_recorded
    rng = np.random.default_rng(5)
    T, B, H = 4, 3, 5
    args = [rng.standard_normal(s) for s in ((T * B, 4 * H), (B, H), (B, H), (4 * H, H))]
    gs = [rng.standard_normal(s) for s in ((T * B, H), (B, H), (B, H))]
    a1 = [ember.tensor(a, dtype=F64).requires_grad_() for a in args]
    a2 = [ember.tensor(a, dtype=F64).requires_grad_() for a in args]
    o1 = _LstmSequence.apply(*a1, reverse)
    o2 = _lstm_steps_recorded(*a2, reverse)
    for x, y in zip(o1, o2):
        np.testing.assert_allclose(x.detach().numpy(), y.detach().numpy(), rtol=1e-12, atol=1e-12)
    sum((o * ember.tensor(g)).sum() for o, g in zip(o1, gs)).backward()
    sum((o * ember.tensor(g)).sum() for o, g in zip(o2, gs)).backward()
    for x, y in zip(a1, a2):
        np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_lstm_sequence_gradcheck_and_second_order():
    from ember.autograd import gradgradcheck
    from ember.nn._seq_functional import _LstmSequence
    rng = np.random.default_rng(6)
    T, B, H = 3, 2, 2
    ins = tuple(ember.tensor(rng.standard_normal(s) * 0.5, dtype=F64).requires_grad_()
                for s in ((T * B, 4 * H), (B, H), (B, H), (4 * H, H)))
    fn = lambda *a: _LstmSequence.apply(*a, False)  # noqa: E731
    assert gradcheck(fn, ins)
    assert gradgradcheck(fn, ins)  # the create_graph path differentiates the recorded steps


def test_lstm_module_takes_sequence_path_for_full_length_batches():
    """A padded batch (every sequence all T steps) takes _LstmSequence; a packed batch of unequal
    lengths takes the step path."""
    import ember.nn._seq_functional as S
    calls = []
    orig = S._LstmSequence.apply
    S._LstmSequence.apply = lambda *a: calls.append(1) or orig(*a)
    try:
        m = LSTM(3, 4, num_layers=2, bidirectional=True).double()
        x = ember.randn(5, 2, 3, dtype=F64)
        out, (h, c) = m(x)
        assert len(calls) == 4  # 2 layers x 2 directions
        packed = ember.nn.utils.rnn.pack_padded_sequence(x, [5, 3], enforce_sorted=True)
        m(packed)
        assert len(calls) == 4  # unequal lengths: the step path, no new call
    finally:
        S._LstmSequence.apply = orig
