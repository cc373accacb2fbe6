"""PackedSequence utilities, and recurrent layers on packed batches: each sequence of a packed
batch gives the same outputs and final states as running it alone."""
import numpy as np
import pytest

import ember
from ember.nn.modules.rnn import GRU, LSTM, RNN
from ember.nn.utils.rnn import (PackedSequence, invert_permutation, pack_padded_sequence, pack_sequence,
                                pad_packed_sequence, pad_sequence, unpack_sequence, unpad_sequence)

F64 = ember.float64


def _np(t):
    return t.detach().numpy()


def _padded(lengths, feat=2, seed=0, batch_first=False):
    rng = np.random.default_rng(seed)
    T, B = max(lengths), len(lengths)
    x = rng.standard_normal((T, B, feat))
    for b, n in enumerate(lengths):
        x[n:, b] = 0.0
    return x.transpose(1, 0, 2).copy() if batch_first else x


def test_pack_padded_sorted_exact():
    x = np.arange(4 * 3, dtype=np.float64).reshape(4, 3, 1)  # (T, B, 1): value = 3 t + b
    p = pack_padded_sequence(ember.tensor(x), [4, 2, 1])
    assert isinstance(p, PackedSequence) and isinstance(p, tuple)
    assert p.batch_sizes.tolist() == [3, 2, 1, 1] and p.batch_sizes.dtype == ember.int64
    assert _np(p.data)[:, 0].tolist() == [0, 1, 2, 3, 4, 6, 9]
    assert p.sorted_indices is None and p.unsorted_indices is None
    data, bs, si, ui = p  # the namedtuple unpacks
    assert data is p.data and bs is p.batch_sizes


def test_pack_unsorted_and_roundtrip():
    lengths = [2, 5, 3]
    x = _padded(lengths, seed=1)
    p = pack_padded_sequence(ember.tensor(x), ember.tensor(lengths), enforce_sorted=False)
    assert p.sorted_indices.tolist() == [1, 2, 0]
    assert p.unsorted_indices.tolist() == [2, 0, 1]
    assert p.batch_sizes.tolist() == [3, 3, 2, 1, 1]
    expected = np.concatenate([x[t, [b for b in [1, 2, 0] if lengths[b] > t]] for t in range(5)])
    np.testing.assert_array_equal(_np(p.data), expected)
    padded, lens = pad_packed_sequence(p)
    assert lens.tolist() == lengths
    np.testing.assert_array_equal(_np(padded), x)
    padded_bf, _ = pad_packed_sequence(p, batch_first=True, padding_value=-1.0, total_length=7)
    assert tuple(padded_bf.shape) == (3, 7, 2)
    assert (_np(padded_bf)[0, 2:] == -1).all() and (_np(padded_bf)[1, 5:] == -1).all()
    np.testing.assert_array_equal(_np(padded_bf)[2, :3], x[:3, 2])


def test_pack_batch_first_and_gradient_flow():
    lengths = [3, 1, 2]
    x = ember.tensor(_padded(lengths, seed=2, batch_first=True), requires_grad=True)
    p = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, _ = pad_packed_sequence(p, batch_first=True)
    np.testing.assert_array_equal(_np(out), _np(x))
    (out * ember.arange(1.0, 4.0, dtype=F64).view(1, 3, 1)).sum().backward()
    g = _np(x.grad)
    mask = np.array([[t < n for t in range(3)] for n in lengths])
    want = np.where(mask[..., None], np.arange(1.0, 4.0)[None, :, None], 0.0)
    np.testing.assert_array_equal(g, np.broadcast_to(want, g.shape))


def test_pack_errors():
    x = ember.zeros(4, 3, 2)
    with pytest.raises(ValueError, match="decreasing order"):
        pack_padded_sequence(x, [2, 4, 1])
    with pytest.raises(ValueError, match="greater than 0"):
        pack_padded_sequence(x, [4, 0, 0])
    with pytest.raises(ValueError, match="expected 3 lengths"):
        pack_padded_sequence(x, [4, 2])
    with pytest.raises(ValueError, match="exceeds"):
        pack_padded_sequence(x, [5, 2, 1])
    with pytest.raises(ValueError, match="total_length"):
        pad_packed_sequence(pack_padded_sequence(x, [4, 2, 1]), total_length=3)
    with pytest.raises(ValueError, match="padding_side"):
        pad_sequence([ember.zeros(2)], padding_side="middle")
    with pytest.raises(ValueError, match="trailing shape"):
        pad_sequence([ember.zeros(2, 3), ember.zeros(2, 4)])


def test_pad_sequence_sides_and_values():
    a, b = ember.tensor([1.0, 2.0, 3.0]), ember.tensor([4.0])
    assert pad_sequence([a, b]).tolist() == [[1.0, 4.0], [2.0, 0.0], [3.0, 0.0]]
    assert pad_sequence([a, b], batch_first=True, padding_value=9.0).tolist() == [[1.0, 2.0, 3.0], [4.0, 9.0, 9.0]]
    assert pad_sequence([a, b], batch_first=True, padding_side="left").tolist() == [[1.0, 2.0, 3.0], [0.0, 0.0, 4.0]]
    seqs = [ember.ones(2, 3), ember.ones(4, 3)]
    assert tuple(pad_sequence(seqs).shape) == (4, 2, 3)
    padded = pad_sequence(seqs, batch_first=True)
    parts = unpad_sequence(padded, [2, 4], batch_first=True)
    assert [tuple(s.shape) for s in parts] == [(2, 3), (4, 3)]
    parts = unpad_sequence(pad_sequence(seqs), ember.tensor([2, 4]))
    assert [tuple(s.shape) for s in parts] == [(2, 3), (4, 3)]


def test_pack_sequence_unpack_sequence_roundtrip():
    rng = np.random.default_rng(3)
    seqs = [rng.standard_normal((n, 2)) for n in (2, 4, 1)]
    p = pack_sequence([ember.tensor(s) for s in seqs], enforce_sorted=False)
    assert p.batch_sizes.tolist() == [3, 2, 1, 1]
    for got, want in zip(unpack_sequence(p), seqs):
        np.testing.assert_array_equal(_np(got), want)
    with pytest.raises(ValueError, match="decreasing"):
        pack_sequence([ember.tensor(s) for s in seqs])


def test_packed_sequence_conversions():
    p = pack_sequence([ember.ones(3, 2), ember.ones(1, 2)])
    q = p.double()
    assert q.data.dtype == F64 and q.batch_sizes is p.batch_sizes
    assert p.to(ember.float32) is p and not p.is_cuda
    assert invert_permutation(ember.tensor([2, 0, 3, 1])).tolist() == [1, 3, 0, 2]
    assert invert_permutation(None) is None
    r = PackedSequence((p.data, p.batch_sizes))
    assert r.batch_sizes is p.batch_sizes and r.sorted_indices is None


@pytest.mark.parametrize("cls,kw", [
    (LSTM, dict(num_layers=2, bidirectional=True)),
    (GRU, dict(num_layers=2, bidirectional=True, batch_first=True)),
    (RNN, dict(bidirectional=True)),
    (LSTM, dict(proj_size=2, bidirectional=True)),
])
def test_packed_equals_each_sequence_alone(cls, kw):
    ember.manual_seed(4)
    m = cls(2, 3, dtype=F64, **kw)
    bf = kw.get("batch_first", False)
    lengths = [3, 5, 1, 5]
    x = _padded(lengths, seed=5, batch_first=bf)
    rng = np.random.default_rng(6)
    D = 2 if m.bidirectional else 1
    hout = m.proj_size or m.hidden_size
    h0 = rng.standard_normal((m.num_layers * D, 4, hout))
    c0 = rng.standard_normal((m.num_layers * D, 4, 3))
    lstm = isinstance(m, LSTM)
    hx = (ember.tensor(h0), ember.tensor(c0)) if lstm else ember.tensor(h0)
    p = pack_padded_sequence(ember.tensor(x), lengths, batch_first=bf, enforce_sorted=False)
    out_p, hid_p = m(p, hx)
    assert isinstance(out_p, PackedSequence) and out_p.batch_sizes is p.batch_sizes
    out, lens = pad_packed_sequence(out_p, batch_first=bf)
    assert lens.tolist() == lengths
    out = _np(out)
    for b, n in enumerate(lengths):
        seq = x[b, :n] if bf else x[:n, b]
        hx_b = (ember.tensor(h0[:, b]), ember.tensor(c0[:, b])) if lstm else ember.tensor(h0[:, b])
        o, hid = m(ember.tensor(seq), hx_b)  # unbatched (T, I)
        got = out[b, :n] if bf else out[:n, b]
        np.testing.assert_allclose(got, _np(o), rtol=1e-12, atol=1e-12)
        assert (out[b, n:] if bf else out[n:, b]).max(initial=0.0) == 0.0
        if lstm:
            np.testing.assert_allclose(_np(hid_p[0])[:, b], _np(hid[0]), rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(_np(hid_p[1])[:, b], _np(hid[1]), rtol=1e-12, atol=1e-12)
        else:
            np.testing.assert_allclose(_np(hid_p)[:, b], _np(hid), rtol=1e-12, atol=1e-12)


def test_packed_gradients_ignore_padding():
    ember.manual_seed(7)
    m = GRU(2, 3, bidirectional=True, dtype=F64)
    lengths = [4, 2]
    x = ember.tensor(_padded(lengths, seed=8), requires_grad=True)
    out, h = m(pack_padded_sequence(x, lengths))
    (out.data.sum() + h.sum()).backward()
    g = _np(x.grad)
    assert (g[2:, 1] == 0).all() and np.abs(g[:2, 1]).min() > 0 and np.abs(g[:, 0]).min() > 0
    # the packed gradient equals the gradient of the sequences run alone
    x2 = ember.tensor(_padded(lengths, seed=8)[:2, 1], requires_grad=True)
    o2, h2 = m(x2)
    (o2.sum() + h2.sum()).backward()
    np.testing.assert_allclose(g[:2, 1], _np(x2.grad), rtol=1e-12, atol=1e-12)
