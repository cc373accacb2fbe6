"""Sorting and searching against NumPy references: sort/argsort/msort (stable), topk,
kthvalue, unique/unique_consecutive, searchsorted, bucketize. Every ember sort is stable, so
indices are compared exactly against np.argsort(kind='stable')."""
import itertools

import numpy as np
import pytest

import ember

REAL = [ember.bool, ember.uint8, ember.int8, ember.int16, ember.int32, ember.int64, ember.float16,
        ember.bfloat16, ember.float32, ember.float64]
LAYOUTS = ["contiguous", "transposed", "stepped", "expanded"]


def ref_values(shape, dtype, rng, spread=50):
    """Values with many ties, exactly representable in dtype."""
    if dtype == ember.bool:
        return rng.integers(0, 2, shape).astype(bool)
    if dtype == ember.uint8:
        return rng.integers(0, min(spread, 255), shape).astype(np.float64)
    if dtype in (ember.int8, ember.int16, ember.int32, ember.int64):
        big = {ember.int8: 100, ember.int16: 30000, ember.int32: 2**31 - 1, ember.int64: 2**62}[dtype]
        lim = min(spread, big)
        v = rng.integers(-lim, lim, shape).astype(np.int64)
        # a few extremes to exercise the key transform
        flat = v.reshape(-1)
        if flat.size >= 4:
            flat[:2] = [big, -big - (0 if dtype == ember.int64 else 1)]
        return v.astype(np.float64) if dtype != ember.int64 else v
    return rng.integers(-spread, spread, shape) / 4.0


def to_ember(a, dtype):
    if dtype == ember.bool:
        return ember.tensor(a.astype(bool))
    if dtype == ember.int64:
        return ember.tensor(np.asarray(a, dtype=np.int64))
    return ember.tensor(np.asarray(a, dtype=np.float64)).to(dtype)


def to_np(t):
    if t.dtype == ember.bool:
        return t.numpy().copy()
    if t.dtype == ember.int64:
        return t.numpy().copy()
    if t.dtype in (ember.float16, ember.bfloat16):
        return t.float().numpy().astype(np.float64)
    return t.numpy().astype(np.float64)


def make(shape, dtype, layout="contiguous", seed=0, spread=50):
    """An ember tensor of `shape` with the given memory layout, and its exact NumPy values."""
    rng = np.random.default_rng(seed)
    shape = tuple(shape)
    base_shape = {"transposed": shape[::-1], "stepped": shape[:-1] + (shape[-1] * 2,) if shape else (),
                  "expanded": (1,) + shape[1:] if shape else ()}.get(layout, shape)
    t = to_ember(ref_values(base_shape, dtype, rng, spread), dtype)
    base = to_np(t)  # exactly what the tensor holds (16-bit floats round)
    if layout == "contiguous" or len(shape) == 0:
        return t, base
    if layout == "transposed":
        return t.permute(*reversed(range(len(shape)))), base.transpose()
    if layout == "stepped":
        return t[..., ::2], base[..., ::2]
    return t.expand(*shape), np.broadcast_to(base, shape)


def stable_argsort(a, axis, descending=False):
    """np.argsort(kind='stable'); descending keeps ties in index order and puts NaN first."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    r = np.flip(a, axis)
    p = np.argsort(r, axis=axis, kind="stable")
    return a.shape[axis] - 1 - np.flip(p, axis)


# ---- sort / argsort ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", REAL)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_small_rows(dtype, layout, dim, descending):
    x, a = make((7, 9, 6), dtype, layout)
    v, i = ember.sort(x, dim=dim, descending=descending)
    idx = stable_argsort(a, dim, descending)
    np.testing.assert_array_equal(i.numpy(), idx)
    np.testing.assert_array_equal(to_np(v), np.take_along_axis(np.asarray(a), idx, dim))
    assert v.dtype == dtype and i.dtype == ember.int64
    np.testing.assert_array_equal(ember.argsort(x, dim, descending).numpy(), idx)


@pytest.mark.parametrize("dtype", REAL)
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("spread", [3, 100000])
def test_sort_long_rows_radix(dtype, descending, spread):
    x, a = make((3, 3000), dtype, "transposed", spread=spread)
    v, i = x.sort(-1, descending)
    idx = stable_argsort(a, -1, descending)
    np.testing.assert_array_equal(i.numpy(), idx)
    np.testing.assert_array_equal(to_np(v), np.take_along_axis(np.asarray(a), idx, -1))


@pytest.mark.parametrize("dtype", [ember.float16, ember.bfloat16, ember.float32, ember.float64])
@pytest.mark.parametrize("n", [11, 1000])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_nan_inf_signed_zero(dtype, n, descending):
    rng = np.random.default_rng(3)
    a = rng.choice(np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, -2.0]), n)
    x = ember.tensor(a).to(dtype)
    v, i = ember.sort(x, descending=descending)
    idx = stable_argsort(a, 0, descending)
    np.testing.assert_array_equal(i.numpy(), idx)  # NaN largest, -0.0 == 0.0, ties in index order
    np.testing.assert_array_equal(to_np(v), a[idx])
    np.testing.assert_array_equal(np.signbit(to_np(v)), np.signbit(a[idx]))


def test_sort_million_floats():
    a = np.random.default_rng(0).standard_normal(1_000_000).astype(np.float32)
    v, i = ember.sort(ember.tensor(a))
    np.testing.assert_array_equal(v.numpy(), np.sort(a, kind="stable"))
    np.testing.assert_array_equal(i.numpy(), np.argsort(a, kind="stable"))


def test_sort_signatures_and_results():
    x, a = make((4, 5), ember.float32)
    r = ember.sort(x, stable=True)
    assert type(r).__name__ == "sort" and r.values._is_same(r[0]) and r.indices._is_same(r[1])
    v, i = x.sort(dim=0, descending=True, stable=True)
    np.testing.assert_array_equal(i.numpy(), stable_argsort(a, 0, True))
    np.testing.assert_array_equal(x.argsort(dim=0).numpy(), stable_argsort(a, 0))
    np.testing.assert_array_equal(ember.argsort(x, stable=True).numpy(), stable_argsort(a, -1))
    np.testing.assert_array_equal(to_np(ember.msort(x)), np.sort(a, axis=0))
    np.testing.assert_array_equal(to_np(x.msort()), np.sort(a, axis=0))
    vo, io = ember.empty(4, 5), ember.empty(4, 5, dtype=ember.int64)
    r = ember.sort(x, 1, out=(vo, io))
    assert r.values._is_same(vo) and r.indices._is_same(io)
    np.testing.assert_array_equal(io.numpy(), stable_argsort(a, 1))
    mo = ember.empty(4, 5)
    ember.msort(x, out=mo)
    np.testing.assert_array_equal(to_np(mo), np.sort(a, axis=0))


def test_sort_edge_shapes():
    v, i = ember.sort(ember.tensor(5.0))
    assert v.item() == 5.0 and i.item() == 0 and tuple(i.shape) == ()
    v, i = ember.sort(ember.zeros(0, 3), dim=0)
    assert tuple(v.shape) == (0, 3) and tuple(i.shape) == (0, 3)
    v, i = ember.sort(ember.zeros(3, 0))
    assert tuple(v.shape) == (3, 0)
    assert ember.argsort(ember.tensor(2)).item() == 0


def test_sort_errors():
    with pytest.raises(TypeError, match=r"\[sort\] complex tensors have no order: expected a real dtype, got "
                                        r"ember.complex64"):
        ember.sort(ember.zeros(3, dtype=ember.complex64))
    with pytest.raises(IndexError, match=r"\[sort\] dimension out of range"):
        ember.sort(ember.zeros(3), dim=1)
    with pytest.raises(IndexError, match=r"\[argsort\] dimension out of range"):
        ember.argsort(ember.zeros(3), dim=-2)
    with pytest.raises(ValueError, match=r"\[sort\] expected out=\(values, indices\), got 1 tensors"):
        ember.sort(ember.zeros(3), out=(ember.zeros(3),))
    with pytest.raises(TypeError, match=r"\[sort\] expected an int64 tensor for the indices in out"):
        ember.sort(ember.zeros(3), out=(ember.zeros(3), ember.zeros(3)))


# ---- topk / kthvalue --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", REAL)
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "stepped"])
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("k", [0, 1, 3, 40])
def test_topk(dtype, layout, largest, k):
    x, a = make((5, 40), dtype, layout)
    v, i = ember.topk(x, k, dim=1, largest=largest)
    idx = stable_argsort(a, 1, largest)[:, :k]  # ties: lower index first
    np.testing.assert_array_equal(i.numpy(), idx)
    np.testing.assert_array_equal(to_np(v), np.take_along_axis(np.asarray(a), idx, 1))
    v0, i0 = x.topk(min(k, 5), 0, largest, True)
    idx0 = stable_argsort(a, 0, largest)[:min(k, 5)]
    np.testing.assert_array_equal(i0.numpy(), idx0)


def test_topk_nan_and_big():
    a = np.array([1.0, np.nan, 3.0, -np.inf, np.nan, 2.0])
    v, i = ember.topk(ember.tensor(a), 3)
    np.testing.assert_array_equal(i.numpy(), [1, 4, 2])
    v, i = ember.topk(ember.tensor(a), 2, largest=False)
    np.testing.assert_array_equal(i.numpy(), [3, 0])
    b = np.random.default_rng(1).standard_normal(100000).astype(np.float32)
    r = ember.topk(ember.tensor(b), 10)
    assert type(r).__name__ == "topk"
    np.testing.assert_array_equal(r.indices.numpy(), np.argsort(-b, kind="stable")[:10])
    v, i = ember.topk(ember.tensor(4.0), 1)
    assert v.item() == 4.0 and i.item() == 0 and tuple(v.shape) == ()
    vo, io = ember.empty(2), ember.empty(2, dtype=ember.int64)
    ember.topk(ember.tensor(a), 2, out=(vo, io))
    np.testing.assert_array_equal(io.numpy(), [1, 4])


def test_topk_errors():
    with pytest.raises(IndexError, match=r"\[topk\] k out of range: expected 0 <= k <= 3 \(the size of dimension 0\), "
                                         r"got 4"):
        ember.topk(ember.zeros(3), 4)
    with pytest.raises(IndexError, match=r"\[topk\] k out of range"):
        ember.topk(ember.zeros(3), -1)
    with pytest.raises(TypeError, match=r"\[topk\] complex tensors have no order"):
        ember.topk(ember.zeros(3, dtype=ember.complex64), 1)


@pytest.mark.parametrize("dtype", REAL)
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "expanded"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_kthvalue(dtype, layout, keepdim):
    x, a = make((6, 9), dtype, layout)
    order = stable_argsort(a, 1)
    for k in (1, 4, 9):
        r = ember.kthvalue(x, k, 1, keepdim)
        assert type(r).__name__ == "kthvalue"
        idx = order[:, k - 1:k]
        ref_v = np.take_along_axis(np.asarray(a), idx, 1)
        if not keepdim:
            idx, ref_v = idx[:, 0], ref_v[:, 0]
        np.testing.assert_array_equal(r.indices.numpy(), idx)
        np.testing.assert_array_equal(to_np(r.values), ref_v)
    v, i = x.kthvalue(2, dim=0)
    np.testing.assert_array_equal(i.numpy(), stable_argsort(a, 0)[1])


def test_kthvalue_edges_and_errors():
    v, i = ember.kthvalue(ember.tensor(3.0), 1)
    assert v.item() == 3.0 and i.item() == 0
    a = np.array([2.0, np.nan, 1.0])
    assert ember.kthvalue(ember.tensor(a), 3).indices.item() == 1
    with pytest.raises(IndexError, match=r"\[kthvalue\] k out of range: expected 1 <= k <= 3 \(the size of dimension "
                                         r"0\), got 0"):
        ember.kthvalue(ember.zeros(3), 0)
    with pytest.raises(IndexError, match=r"\[kthvalue\] k out of range"):
        ember.kthvalue(ember.zeros(3), 4)
    with pytest.raises(IndexError, match=r"\[kthvalue\] k out of range"):
        ember.kthvalue(ember.zeros(0), 1)


# ---- unique -------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", REAL)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_unique(dtype, layout):
    x, a = make((5, 8), dtype, layout, spread=6)
    vals, inv, cnt = np.unique(np.asarray(a), return_inverse=True, return_counts=True)
    check_vals = ember.unique(x)
    np.testing.assert_array_equal(to_np(check_vals), vals)
    u, i, c = ember.unique(x, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(to_np(u), vals)
    np.testing.assert_array_equal(i.numpy(), inv.reshape(a.shape))
    np.testing.assert_array_equal(c.numpy(), cnt)
    u, c = x.unique(sorted=False, return_counts=True)
    np.testing.assert_array_equal(c.numpy(), cnt)
    u, i = x.unique(return_inverse=True)
    np.testing.assert_array_equal(to_np(u)[i.numpy()], np.asarray(a))


def test_unique_nan_and_edges():
    a = np.array([2.0, np.nan, 1.0, np.nan, 2.0, -0.0, 0.0])
    u, c = ember.unique(ember.tensor(a), return_counts=True)
    np.testing.assert_array_equal(u.numpy(), [0.0, 1.0, 2.0, np.nan, np.nan])  # every NaN is unique, like torch
    np.testing.assert_array_equal(c.numpy(), [2, 1, 2, 1, 1])
    u, i, c = ember.unique(ember.zeros(0), return_inverse=True, return_counts=True)
    assert tuple(u.shape) == (0,) and tuple(i.shape) == (0,) and tuple(c.shape) == (0,)
    u, i = ember.unique(ember.tensor(3), return_inverse=True)
    assert u.tolist() == [3] and tuple(i.shape) == () and i.item() == 0


@pytest.mark.parametrize("dtype", [ember.bool, ember.int32, ember.float16, ember.float64])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unique_dim(dtype, dim):
    x, a = make((6, 4), dtype, "transposed", spread=2)
    x = ember.cat([x, x], dim=dim)
    a = np.concatenate([a, a], axis=dim)
    vals, inv, cnt = np.unique(a, axis=dim, return_inverse=True, return_counts=True)
    u, i, c = ember.unique(x, dim=dim, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(to_np(u), vals)
    np.testing.assert_array_equal(i.numpy(), inv.reshape(-1))
    np.testing.assert_array_equal(c.numpy(), cnt)


def test_unique_dim_edges_and_errors():
    u, i, c = ember.unique(ember.zeros(0, 3), dim=0, return_inverse=True, return_counts=True)
    assert tuple(u.shape) == (0, 3) and tuple(i.shape) == (0,) and tuple(c.shape) == (0,)
    u, i, c = ember.unique(ember.zeros(3, 0), dim=0, return_inverse=True, return_counts=True)
    assert tuple(u.shape) == (1, 0) and i.tolist() == [0, 0, 0] and c.tolist() == [3]
    with pytest.raises(IndexError, match=r"\[unique\] dim out of range for a 0-d input"):
        ember.unique(ember.tensor(1), dim=0)
    with pytest.raises(IndexError, match=r"\[unique\] dimension out of range"):
        ember.unique(ember.zeros(2, 2), dim=2)
    with pytest.raises(TypeError, match=r"\[unique\] complex tensors have no order"):
        ember.unique(ember.zeros(2, dtype=ember.complex64))


def consecutive_ref(seq):
    vals, counts, inv = [], [], []
    for k, g in itertools.groupby(seq):
        n = len(list(g))
        inv += [len(vals)] * n
        vals.append(k)
        counts.append(n)
    return np.array(vals), np.array(inv), np.array(counts)


@pytest.mark.parametrize("dtype", REAL)
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_unique_consecutive(dtype, layout):
    x, a = make((4, 9), dtype, layout, spread=2)
    flat = np.asarray(a).reshape(-1).tolist()
    vals, inv, cnt = consecutive_ref(flat)
    u, i, c = ember.unique_consecutive(x, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(to_np(u), vals)
    np.testing.assert_array_equal(i.numpy(), inv.reshape(a.shape))
    np.testing.assert_array_equal(c.numpy(), cnt)
    np.testing.assert_array_equal(to_np(x.unique_consecutive()), vals)


def test_unique_consecutive_dim():
    a = np.array([[1, 1, 2, 1], [0, 0, 3, 0]])
    u, i, c = ember.unique_consecutive(ember.tensor(a), dim=1, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(u.numpy(), [[1, 2, 1], [0, 3, 0]])
    np.testing.assert_array_equal(i.numpy(), [0, 0, 1, 2])
    np.testing.assert_array_equal(c.numpy(), [2, 1, 1])
    u = ember.unique_consecutive(ember.tensor([np.nan, np.nan, 1.0]))
    assert u.numel() == 3  # NaN != NaN


# ---- searchsorted / bucketize ---------------------------------------------------------------
@pytest.mark.parametrize("dtype", [ember.uint8, ember.int16, ember.int32, ember.int64, ember.float16, ember.bfloat16,
                                   ember.float32, ember.float64])
@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_1d(dtype, right):
    rng = np.random.default_rng(0)
    seq = np.sort(rng.integers(0, 40, 25)).astype(np.float64)
    vals = rng.integers(0 if dtype == ember.uint8 else -2, 43, (3, 7)).astype(np.float64)
    s, v = to_ember(seq, dtype), to_ember(vals, dtype)
    side = "right" if right else "left"
    ref = np.searchsorted(seq, vals, side=side)
    r = ember.searchsorted(s, v, right=right)
    assert r.dtype == ember.int64
    np.testing.assert_array_equal(r.numpy(), ref)
    np.testing.assert_array_equal(ember.searchsorted(s, v, side=side).numpy(), ref)
    r32 = ember.searchsorted(s, v.t(), right=right, out_int32=True)
    assert r32.dtype == ember.int32
    np.testing.assert_array_equal(r32.numpy(), ref.T)
    # bucketize(x, b, right) is np.digitize(x, b, right=not right)
    np.testing.assert_array_equal(ember.bucketize(v, s, right=right).numpy(), np.digitize(vals, seq, right=not right))


def test_searchsorted_nd_sorter_scalar_promotion():
    rng = np.random.default_rng(1)
    seq = np.sort(rng.standard_normal((2, 3, 10)), axis=-1)
    vals = rng.standard_normal((2, 3, 4))
    r = ember.searchsorted(ember.tensor(seq), ember.tensor(vals))
    ref = np.stack([np.stack([np.searchsorted(seq[i, j], vals[i, j]) for j in range(3)]) for i in range(2)])
    np.testing.assert_array_equal(r.numpy(), ref)
    # sorter
    raw = rng.standard_normal(12)
    order = np.argsort(raw, kind="stable")
    q = rng.standard_normal(5)
    r = ember.searchsorted(ember.tensor(raw), ember.tensor(q), sorter=ember.tensor(order), side="right")
    np.testing.assert_array_equal(r.numpy(), np.searchsorted(raw, q, side="right", sorter=order))
    # python scalars and promotion (int boundaries, float values)
    s = ember.tensor([1, 2, 3])
    assert ember.searchsorted(s, 2.5).item() == 2
    assert ember.searchsorted(s, 2, right=True).item() == 2
    np.testing.assert_array_equal(ember.searchsorted(s, ember.tensor([1.5, 2.0])).numpy(), [1, 1])
    assert ember.bucketize(2.5, ember.tensor([1.0, 2.0, 3.0])).item() == 2
    out = ember.empty(2, dtype=ember.int64)
    ember.searchsorted(s, ember.tensor([0, 9]), out=out)
    np.testing.assert_array_equal(out.numpy(), [0, 3])
    np.testing.assert_array_equal(ember.searchsorted(ember.zeros(0), ember.tensor([1.0])).numpy(), [0])
    assert tuple(ember.searchsorted(s, ember.zeros(0, dtype=ember.int64)).shape) == (0,)


def test_searchsorted_nan_like_torch():
    # PyTorch's comparisons (b >= v / b > v) send a NaN value to the end
    s = ember.tensor([1.0, 2.0, np.nan])
    np.testing.assert_array_equal(ember.searchsorted(s, ember.tensor([np.nan, 5.0, 1.5])).numpy(), [3, 3, 1])


def test_searchsorted_errors():
    s = ember.tensor([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"\[searchsorted\] boundaries must be 1-d or match the input in all but the "
                                         r"last dimension"):
        ember.searchsorted(ember.zeros(2, 3), ember.zeros(3, 3))
    with pytest.raises(ValueError, match=r"\[searchsorted\] boundaries must be 1-d or match"):
        ember.searchsorted(ember.zeros(2, 3), 1.0)
    with pytest.raises(ValueError, match=r"\[searchsorted\] boundaries must have at least 1 dimension"):
        ember.searchsorted(ember.tensor(1.0), ember.zeros(3))
    with pytest.raises(IndexError, match=r"\[searchsorted\] sorter index out of range: expected values in \[0, 3\), "
                                         r"got 3 at position 1"):
        ember.searchsorted(s, ember.zeros(2), sorter=ember.tensor([0, 3, 1]))
    with pytest.raises(TypeError, match=r"\[searchsorted\] sorter must be an int64 tensor"):
        ember.searchsorted(s, ember.zeros(2), sorter=ember.tensor([0, 1, 2], dtype=ember.int32))
    with pytest.raises(ValueError, match=r"\[searchsorted\] side and right can't be set to opposites"):
        ember.searchsorted(s, ember.zeros(2), side="left", right=True)
    with pytest.raises(ValueError, match=r"\[searchsorted\] side must be 'left' or 'right'"):
        ember.searchsorted(s, ember.zeros(2), side="middle")
    with pytest.raises(ValueError, match=r"\[bucketize\] boundaries must be 1-d, got 2-d"):
        ember.bucketize(ember.zeros(2), ember.zeros(2, 2))
    with pytest.raises(TypeError, match=r"\[searchsorted\] complex tensors have no order"):
        ember.searchsorted(ember.zeros(3, dtype=ember.complex64), ember.zeros(2))


def test_results_do_not_depend_on_thread_count():
    x, _ = make((64, 3000), ember.float32, "transposed", spread=5)
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        one = [ember.sort(x, 1).indices.numpy(), ember.topk(x, 7, 1).indices.numpy(), ember.flip(x, (1,)).numpy()]
        ember.set_num_threads(max(2, before))
        many = [ember.sort(x, 1).indices.numpy(), ember.topk(x, 7, 1).indices.numpy(), ember.flip(x, (1,)).numpy()]
    finally:
        ember.set_num_threads(before)
    for a, b in zip(one, many):
        np.testing.assert_array_equal(a, b)
