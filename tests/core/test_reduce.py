"""Reductions and scans against float64 NumPy references: dtypes, dims (single, multiple,
negative, None), keepdim, non-contiguous inputs, zero-size and 0-d tensors, NaN, errors,
and results that do not depend on the thread count."""
import math

import numpy as np
import pytest

import ember

RNG = np.random.default_rng(1234)

ALL = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64", "complex64"]
REAL = ALL[:-1]
FLOATS = ["float16", "bfloat16", "float32", "float64"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]
NP = {"bool": np.bool_, "uint8": np.uint8, "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64,
      "float16": np.float16, "float32": np.float32, "float64": np.float64, "complex64": np.complex64}
RTOL = {"float16": 2e-3, "bfloat16": 1.6e-2, "float32": 2e-6, "float64": 1e-12, "complex64": 2e-6}


def dt(name):
    return getattr(ember, name)


def sample(shape, dtype, lo=-3, hi=4):
    """Random data of `dtype` (ember name) and its exact float64/complex128/int64 value."""
    if dtype == "bool":
        a = RNG.integers(0, 2, shape).astype(bool)
    elif dtype in INTS:
        lo = 0 if dtype == "uint8" else lo
        a = RNG.integers(lo, hi, shape).astype(NP[dtype])
    elif dtype == "complex64":
        a = (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(np.complex64)
    else:
        a = RNG.standard_normal(shape).astype(np.float32 if dtype == "bfloat16" else NP[dtype])
    a = np.asarray(a)
    t = ember.tensor(a)
    if dtype == "bfloat16":
        t = t.to(ember.bfloat16)
        a = t.float().numpy()
    return t, a


def to_np(t):
    if t.dtype == ember.bfloat16:
        return t.float().numpy()
    return t.numpy(force=True) if hasattr(t, "numpy") else np.asarray(t)


def exact(a):
    if a.dtype == np.complex64:
        return a.astype(np.complex128)
    if a.dtype.kind == "f":
        return a.astype(np.float64)
    if a.dtype == np.bool_:
        return a.astype(np.int64)
    return a.astype(np.int64)


def layouts(t):
    """The same logical tensor as contiguous, transposed-in-memory, step-sliced and expanded."""
    out = {"contiguous": t}
    if t.ndim >= 2:
        rev = list(range(t.ndim))[::-1]
        out["transposed"] = t.permute(rev).contiguous().permute(rev)
    if t.ndim >= 1 and t.numel() > 0:
        shape = list(t.shape)
        big = ember.zeros(*(shape[:-1] + [2 * shape[-1]]), dtype=t.dtype)
        big[..., ::2] = t
        out["strided"] = big[..., ::2]
    return out


def axis(a, dim):
    if a.ndim == 0 or dim is None or dim == ():
        return None
    return dim


def check(got, want, dtype, rtol=None, atol=None):
    g = to_np(got)
    assert g.shape == np.shape(want), (g.shape, np.shape(want))
    if rtol is None:
        rtol = RTOL.get(dtype, 0)
    if atol is None:
        atol = rtol
    if rtol == 0:
        np.testing.assert_array_equal(g, want)
    else:
        np.testing.assert_allclose(g.astype(np.complex128 if g.dtype.kind == "c" else np.float64), want,
                                   rtol=rtol, atol=atol, equal_nan=True)


SHAPE_DIMS = [
    ((), None), ((), 0), ((), -1), ((7,), 0), ((7,), None), ((3, 4), 0), ((3, 4), 1), ((3, 4), -2),
    ((3, 4), (0, 1)), ((2, 3, 5), (0, 2)), ((2, 3, 5), (-1, -3)), ((2, 3, 5), 1), ((2, 3, 5), None),
    ((2, 3, 4, 5), (1, 3)), ((2, 3, 4, 5), (0, 1)), ((2, 3, 4, 5), (2, 3)), ((2, 1, 4), 1), ((2, 3, 5), ()),
]


# ---- sum / mean / prod / nansum ---------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("shape,dim", SHAPE_DIMS)
def test_sum(dtype, shape, dim):
    t, a = sample(shape, dtype)
    want_dt = ember.int64 if dtype in INTS + ["bool"] else dt(dtype)
    for keepdim in (False, True):
        for name, x in layouts(t).items():
            r = ember.sum(x, dim, keepdim)
            assert r.dtype == want_dt, name
            check(r, np.sum(exact(a), axis=axis(a, dim), keepdims=keepdim), dtype)
            r2 = x.sum(dim=dim, keepdim=keepdim)
            np.testing.assert_array_equal(to_np(r2), to_np(r))


@pytest.mark.parametrize("dtype", FLOATS + ["complex64"])
@pytest.mark.parametrize("shape,dim", SHAPE_DIMS)
def test_mean(dtype, shape, dim):
    t, a = sample(shape, dtype)
    for keepdim in (False, True):
        for x in layouts(t).values():
            r = x.mean(dim, keepdim)
            assert r.dtype == dt(dtype)
            check(r, np.mean(exact(a), axis=axis(a, dim), keepdims=keepdim), dtype)


@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("shape,dim", [((3, 4), 1), ((2, 3, 5), (0, 2)), ((5,), None), ((), None), ((4, 3), 0)])
def test_prod(dtype, shape, dim):
    t, a = sample(shape, dtype, lo=-2, hi=3)
    for x in layouts(t).values():
        r = ember.prod(x, dim)
        assert r.dtype == (ember.int64 if dtype in INTS + ["bool"] else dt(dtype))
        check(r, np.prod(exact(a), axis=axis(a, dim)), dtype, rtol=RTOL.get(dtype, 0) * 8)


@pytest.mark.parametrize("dtype", FLOATS)
def test_nansum_nanmean(dtype):
    t, a = sample((4, 6), dtype)
    a = a.copy()
    a[0, 1] = a[2, 3] = a[2, 4] = np.nan
    a[3, :] = np.nan
    t = ember.tensor(a.astype(np.float32)).to(ember.bfloat16) if dtype == "bfloat16" else ember.tensor(a)
    for dim in (None, 0, 1, (0, 1)):
        check(ember.nansum(t, dim), np.nansum(exact(a), axis=dim), dtype)
        with np.errstate(invalid="ignore"):
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                want = np.nanmean(exact(a), axis=dim)
        check(ember.nanmean(t, dim), want, dtype)
        check(t.nansum(dim), np.nansum(exact(a), axis=dim), dtype)
    assert math.isnan(ember.sum(t).item())


def test_sum_dtype_argument():
    x = ember.tensor([[1.5, 2.25], [3.0, 4.0]])
    r = x.sum(0, dtype=ember.float64)
    assert r.dtype == ember.float64 and r.tolist() == [4.5, 6.25]
    assert ember.sum(x, dtype=ember.int32).dtype == ember.int32
    assert ember.sum(x, dtype=ember.int32).item() == 10  # cast first: 1 + 2 + 3 + 4
    b = ember.tensor([True, True, False])
    assert b.sum().item() == 2 and b.sum().dtype == ember.int64
    assert b.sum(dtype=ember.bool).item() is True
    i = ember.tensor([1, 2, 3], dtype=ember.int32)
    assert ember.mean(i, dtype=ember.float32).item() == 2.0
    assert ember.prod(i, dtype=ember.float64).dtype == ember.float64
    h = ember.tensor([1000.0] * 100, dtype=ember.float16)
    assert h.sum(dtype=ember.float32).item() == 100000.0


def test_sum_out():
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    o = ember.empty(2)
    r = ember.sum(x, 1, out=o)
    assert r.data_ptr() == o.data_ptr() and o.tolist() == [3.0, 7.0]
    o64 = ember.empty(2, dtype=ember.float64)
    ember.mean(x, 0, out=o64)
    assert o64.tolist() == [2.0, 3.0]
    with pytest.raises(ValueError, match=r"\[sum\] output has the wrong shape"):
        ember.sum(x, 1, out=ember.empty(3))
    oi = ember.empty(2, dtype=ember.int64)
    ember.amax(ember.tensor([[1, 5], [7, 2]]), 1, out=oi)
    assert oi.tolist() == [5, 7]


# ---- numerics ----------------------------------------------------------------------------------
def test_float32_sum_accumulates_in_double():
    a = np.full(10_000_000, 0.1, dtype=np.float32)
    a[0] = 1e6
    r = ember.tensor(a).sum().item()
    want = float(np.sum(a.astype(np.float64)))
    assert abs(r - want) <= abs(want) * 2 ** -24


def test_float64_sum_is_pairwise_accurate():
    a = RNG.standard_normal(3_000_000) * 1e3 + 1e9
    want = math.fsum(a.tolist())
    for x in (ember.tensor(a), ember.tensor(a.reshape(1000, 3000)).permute(1, 0)):
        assert abs(x.sum().item() - want) <= abs(want) * 4e-16
    col = ember.tensor(a.reshape(300_000, 10)).sum(0).numpy()
    want_col = [math.fsum(a.reshape(300_000, 10)[:, j].tolist()) for j in range(10)]
    np.testing.assert_allclose(col, want_col, rtol=4e-16 * 20)


def test_half_sums_accumulate_wide():
    x = ember.ones(3000, dtype=ember.float16)
    assert x.sum().item() == 3000.0  # a float16 accumulator would stall at 2048
    assert ember.ones(70000, dtype=ember.float16).sum().item() == math.inf  # like torch: beyond float16's range
    assert ember.ones(3000, dtype=ember.bfloat16).mean().item() == 1.0


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("shape,dim", [((1_000_003,), None), ((3, 100_001), 1), ((100_001, 3), 0),
                                       ((70, 3, 1000), (0, 2)), ((512, 513), 0), ((512, 513), 1),
                                       ((2, 40_000), 0)])
def test_thread_count_does_not_change_results(dtype, shape, dim):
    t, a = sample(shape, dtype)
    n = ember.get_num_threads()
    results = []
    try:
        for k in (1, 2, 3):
            ember.set_num_threads(k)
            results.append([to_np(f(t)) for f in (lambda x: x.sum(dim), lambda x: x.T.sum(dim if dim is None else 0),
                                                  lambda x: x.amax(dim) if dtype != "int32" else x.prod(dim),
                                                  lambda x: x.float().var(dim) if x.ndim else x)])
    finally:
        ember.set_num_threads(n)
    for r in results[1:]:
        for x, y in zip(results[0], r):
            np.testing.assert_array_equal(x, y)
    check(t.sum(dim), np.sum(exact(a), axis=dim), dtype, rtol=1e-6 if dtype == "float32" else None)


@pytest.mark.parametrize("shape,dim", [((4096, 8), 0), ((8, 4096), 1), ((33, 2000, 3), 1), ((3, 5, 40000), (0, 2)),
                                       ((50000, 4), 1)])
def test_big_layouts_match_numpy(shape, dim):
    t, a = sample(shape, "float64")
    for x in layouts(t).values():
        check(x.sum(dim), np.sum(a, axis=dim), "float64")
        check(x.amax(dim), np.amax(a, axis=dim), "float64")
        check(x.var(dim), np.var(a, axis=dim, ddof=1), "float64", rtol=1e-10)
        check(x.norm(dim=dim), np.sqrt(np.sum(a * a, axis=dim)), "float64")


def test_expanded_input():
    base, a = sample((1, 5), "float32")
    x = base.expand(4, 5)
    check(x.sum(0), 4 * exact(a)[0], "float32")
    check(x.sum(1), np.repeat(exact(a).sum(), 4), "float32")
    check(x.amax(), np.amax(a), "float32")
    assert x.argmax().item() == int(np.argmax(np.broadcast_to(a, (4, 5))))


# ---- extremes --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", REAL)
@pytest.mark.parametrize("shape,dim", SHAPE_DIMS)
def test_amax_amin(dtype, shape, dim):
    t, a = sample(shape, dtype)
    for keepdim in (False, True):
        for x in layouts(t).values():
            r = ember.amax(x, dim, keepdim)
            assert r.dtype == dt(dtype)
            check(r, np.amax(a, axis=axis(a, dim), keepdims=keepdim), dtype, rtol=0)
            check(x.amin(dim, keepdim), np.amin(a, axis=axis(a, dim), keepdims=keepdim), dtype, rtol=0)


@pytest.mark.parametrize("dtype", REAL)
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 5), ()])
def test_max_min_argmax(dtype, shape):
    t, a = sample(shape, dtype)
    for x in layouts(t).values():
        assert x.max().item() == a.max()
        assert ember.min(x).item() == a.min()
        assert x.argmax().item() == int(np.argmax(a))
        assert ember.argmin(x).item() == int(np.argmin(a))
        assert x.argmax(keepdim=True).shape == (1,) * len(shape)
        for d in range(-len(shape), len(shape)) if shape else [0, -1]:
            for keepdim in (False, True):
                v, i = x.max(d, keepdim)
                ax = None if not shape else d
                want_i = np.argmax(a, axis=ax)
                want_v = np.amax(a, axis=ax)
                if keepdim and shape:
                    want_i = np.expand_dims(want_i, d)
                    want_v = np.expand_dims(want_v, d)
                check(v, want_v, dtype, rtol=0)
                check(i, want_i, "int64", rtol=0)
                assert i.dtype == ember.int64
                r = ember.min(x, dim=d, keepdim=keepdim)
                assert isinstance(r, tuple) and r.values.dtype == dt(dtype)
                want = np.argmin(a, axis=ax)
                check(r.indices, np.expand_dims(want, d) if keepdim and shape else want, "int64", rtol=0)
                check(x.argmax(d, keepdim), want_i, "int64", rtol=0)
                check(ember.argmin(x, d), np.argmin(a, axis=ax), "int64", rtol=0)


def test_argmax_first_occurrence_and_nan():
    x = ember.tensor([3.0, 1.0, 3.0, 2.0, 3.0])
    assert x.argmax().item() == 0
    assert ember.tensor([1.0, 0.0, 0.0]).argmin().item() == 1
    big = ember.zeros(100_000)
    big[70_000] = 1.0
    big[90_000] = 1.0
    assert big.argmax().item() == 70_000 and big.argmin().item() == 0
    n = ember.tensor([1.0, float("nan"), 5.0, float("nan")])
    assert n.argmax().item() == 1 and n.argmin().item() == 1
    assert math.isnan(n.max().item()) and math.isnan(n.amin().item())
    v, i = n.max(0)
    assert math.isnan(v.item()) and i.item() == 1
    m = ember.tensor([[1.0, float("nan")], [3.0, 2.0]])
    assert m.amax(0).tolist()[0] == 3.0 and math.isnan(m.amax(0).tolist()[1])
    assert m.argmax(1).tolist() == [1, 0]
    inf = ember.tensor([-math.inf, -math.inf])
    assert inf.argmax().item() == 0 and inf.max().item() == -math.inf
    mat = ember.tensor(np.arange(12.0).reshape(3, 4)).T  # non-contiguous, flattened logically
    assert mat.argmax().item() == 11 and mat.argmin().item() == 0
    assert ember.tensor([[0.0, 5.0], [5.0, 1.0]]).T.argmax().item() == 1


def test_max_with_other_is_elementwise():
    a = ember.tensor([1.0, 5.0, 3.0])
    b = ember.tensor([4.0, 2.0, 3.0])
    assert ember.max(a, b).tolist() == [4.0, 5.0, 3.0]
    assert a.min(b).tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("dtype", ["int32", "float32", "float64", "uint8", "bfloat16"])
def test_aminmax(dtype):
    t, a = sample((4, 5), dtype)
    r = ember.aminmax(t)
    assert r.min.item() == a.min() and r.max.item() == a.max()
    lo, hi = t.aminmax(dim=1, keepdim=True)
    check(lo, a.min(1, keepdims=True), dtype, rtol=0)
    check(hi, a.max(1, keepdims=True), dtype, rtol=0)


def test_return_types():
    x = ember.tensor([[1.0, 4.0], [3.0, 2.0]])
    r = x.max(1)
    assert isinstance(r, tuple) and len(r) == 2
    assert type(r).__name__ == "max"
    values, indices = r
    assert values.tolist() == [4.0, 3.0] and indices.tolist() == [1, 0]
    assert r.values.tolist() == r[0].tolist() and r.indices.tolist() == r[1].tolist()
    assert ember.return_types.max is type(r)
    c = ember.cummax(x, 0)
    assert c.values.tolist() == [[1.0, 4.0], [3.0, 4.0]] and c.indices.tolist() == [[0, 0], [1, 0]]
    v, m = ember.var_mean(x, 0)
    assert type(ember.var_mean(x)) is tuple


# ---- statistics --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,dim", SHAPE_DIMS)
def test_var_std(dtype, shape, dim):
    t, a = sample(shape, dtype)
    ax = axis(a, dim)
    n = a.size if ax is None else np.prod([a.shape[d] for d in ((ax,) if isinstance(ax, int) else ax)])
    import warnings
    for correction in (0, 1, 2.5):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            m = np.mean(exact(a), axis=ax, keepdims=True)
            ss = np.sum((exact(a) - m) ** 2, axis=ax)
            with np.errstate(divide="ignore", invalid="ignore"):
                want = ss / max(0.0, n - correction)
        for x in layouts(t).values():
            check(ember.var(x, dim, correction=correction), want, dtype, rtol=RTOL[dtype] * 4)
            check(x.std(dim, correction=correction), np.sqrt(want), dtype, rtol=RTOL[dtype] * 4)
    check(t.var(dim, unbiased=False), np.var(exact(a), axis=ax), dtype, rtol=RTOL[dtype] * 4)
    v, mu = ember.std_mean(t, dim, keepdim=True)
    check(mu, np.mean(exact(a), axis=ax, keepdims=True), dtype)


def test_var_legacy_forms():
    x = ember.tensor([[1.0, 2.0, 4.0], [0.0, 3.0, 9.0]])
    a = x.numpy().astype(np.float64)
    assert math.isclose(x.var(False).item(), np.var(a), rel_tol=1e-6)
    assert math.isclose(x.var(True).item(), np.var(a, ddof=1), rel_tol=1e-6)
    check(x.var(1, False), np.var(a, axis=1), "float32")
    check(ember.std(x, 1, True, True), np.std(a, axis=1, ddof=1, keepdims=True), "float32")
    with pytest.raises(TypeError, match=r"\[var\] expected either unbiased or correction"):
        x.var(0, unbiased=True, correction=1)
    assert math.isnan(ember.tensor([1.0]).var().item())
    assert ember.tensor([1.0, 2.0]).var(correction=3).item() == math.inf


NORM_PS = [2, 1, 3.5, 0.5, math.inf, -math.inf, 0, "fro", -1.5]


@pytest.mark.parametrize("dtype", FLOATS + ["complex64"])
@pytest.mark.parametrize("p", NORM_PS)
@pytest.mark.parametrize("shape,dim", [((5,), None), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), (0, 2)), ((), None)])
def test_norm(dtype, p, shape, dim):
    t, a = sample(shape, dtype)
    ab = np.abs(exact(a))
    ax = axis(a, dim)
    pp = 2 if p == "fro" else p
    with np.errstate(divide="ignore"):
        if pp == math.inf:
            want = ab.max(axis=ax)
        elif pp == -math.inf:
            want = ab.min(axis=ax)
        elif pp == 0:
            want = (ab != 0).sum(axis=ax).astype(np.float64)
        else:
            want = np.sum(ab ** pp, axis=ax) ** (1.0 / pp)
    for x in layouts(t).values():
        r = ember.norm(x, p, dim)
        assert r.dtype == (ember.float32 if dtype == "complex64" else dt(dtype))
        check(r, want, dtype, rtol=RTOL[dtype] * 4)
    check(t.norm(p=p, dim=dim, keepdim=True), np.reshape(want, [1] * t.ndim if ax is None else
                                                          np.expand_dims(want, ax).shape), dtype, rtol=RTOL[dtype] * 4)


def _lse(a, ax):
    m = np.max(a, axis=ax, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        return np.squeeze(np.log(np.sum(np.exp(a - m), axis=ax, keepdims=True)) + m, axis=ax)


@pytest.mark.parametrize("dtype", FLOATS + ["int32"])
@pytest.mark.parametrize("shape,dim", [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), (0, 2)), ((2, 3), None)])
def test_logsumexp(dtype, shape, dim):
    t, a = sample(shape, dtype)
    ax = tuple(range(a.ndim)) if dim is None else dim
    r = ember.logsumexp(t, dim)
    assert r.dtype == (ember.float32 if dtype == "int32" else dt(dtype))
    check(r, _lse(exact(a).astype(np.float64), ax), dtype if dtype != "int32" else "float32")
    big = ember.tensor([1000.0, 1000.0, -1000.0], dtype=ember.float64)
    assert math.isclose(big.logsumexp(0).item(), 1000 + math.log(2), rel_tol=1e-15)


def test_logsumexp_infinities():
    inf, nan = math.inf, math.nan
    x = ember.tensor([[-inf, -inf], [inf, 1.0], [inf, inf], [nan, 1.0], [1.0, -inf]])
    r = x.logsumexp(1).tolist()
    assert r[0] == -inf and r[1] == inf and r[2] == inf and math.isnan(r[3]) and r[4] == 1.0
    assert ember.zeros(0, 3).logsumexp(0).tolist() == [-inf] * 3


@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("shape,dim", [((3, 4), 1), ((2, 3, 5), (0, 2)), ((7,), None), ((), None), ((4, 3), 0)])
def test_all_any_count_nonzero(dtype, shape, dim):
    t, a = sample(shape, dtype, lo=-1, hi=2)
    ax = axis(a, dim)
    for x in layouts(t).values():
        r = ember.all(x, dim)
        assert r.dtype == (ember.uint8 if dtype == "uint8" else ember.bool)
        check(r, np.all(a, axis=ax).astype(to_np(r).dtype), dtype, rtol=0)
        check(x.any(dim, keepdim=True), np.any(a, axis=ax, keepdims=True).astype(to_np(r).dtype), dtype, rtol=0)
        c = ember.count_nonzero(x, dim)
        assert c.dtype == ember.int64
        check(c, np.count_nonzero(a, axis=ax), "int64", rtol=0)


# ---- scans -----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("shape,dim", [((7,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 5), 1), ((2, 3, 5), -1), ((), 0),
                                       ((300, 3), 0)])
def test_cumsum_cumprod(dtype, shape, dim):
    t, a = sample(shape, dtype, lo=-2, hi=3)
    ax = None if a.ndim == 0 else dim
    want_dt = ember.int64 if dtype in INTS + ["bool"] else dt(dtype)
    for x in layouts(t).values():
        r = ember.cumsum(x, dim)
        assert r.dtype == want_dt and r.shape == x.shape
        want = np.cumsum(exact(a), axis=ax).reshape(a.shape)
        check(r, want, dtype, rtol=RTOL.get(dtype, 0) * 4)
        if a.size <= 64:
            check(x.cumprod(dim), np.cumprod(exact(a), axis=ax).reshape(a.shape), dtype, rtol=RTOL.get(dtype, 0) * 16)


def test_cumsum_dtype_and_inplace():
    x = ember.tensor([[1, 2], [3, 4]], dtype=ember.int8)
    assert x.cumsum(1, dtype=ember.float32).dtype == ember.float32
    assert ember.cumsum(x, 0, dtype=ember.int32).tolist() == [[1, 2], [4, 6]]
    y = ember.tensor([1.0, 2.0, 3.0])
    y.cumsum_(0)
    assert y.tolist() == [1.0, 3.0, 6.0]
    y.cumprod_(0)
    assert y.tolist() == [1.0, 3.0, 18.0]
    assert ember.zeros(2, 0).cumsum(1).shape == (2, 0)


def _cumext(a, ax, is_max):
    a = np.moveaxis(a, ax, -1)
    vals = np.empty_like(a)
    idx = np.empty(a.shape, dtype=np.int64)
    for pos in np.ndindex(*a.shape[:-1]):
        best, bi = None, -1
        for i, v in enumerate(a[pos]):
            if bi < 0 or v != v or (best == best and (v >= best if is_max else v <= best)):
                best, bi = v, i
            vals[pos + (i,)] = best
            idx[pos + (i,)] = bi
    return np.moveaxis(vals, -1, ax), np.moveaxis(idx, -1, ax)


@pytest.mark.parametrize("dtype", ["float32", "int16", "bool", "bfloat16", "float64"])
@pytest.mark.parametrize("shape,dim", [((9,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 5), 1)])
def test_cummax_cummin(dtype, shape, dim):
    t, a = sample(shape, dtype, lo=-2, hi=2)  # small range: many ties
    if dtype == "float32" and a.size > 3:
        a = a.copy()
        a.flat[2] = np.nan
        t = ember.tensor(a)
    for is_max, fn in ((True, ember.cummax), (False, ember.cummin)):
        wv, wi = _cumext(a, dim, is_max)
        for x in layouts(t).values():
            v, i = fn(x, dim)
            check(v, wv, dtype, rtol=0)
            check(i, wi, "int64", rtol=0)


def test_logcumsumexp():
    a = RNG.standard_normal((3, 6))
    r = ember.logcumsumexp(ember.tensor(a), 1)
    np.testing.assert_allclose(r.numpy(), np.logaddexp.accumulate(a, axis=1), rtol=1e-12)
    x = ember.tensor([-math.inf, -math.inf, 0.0, math.inf, 1.0])
    assert x.logcumsumexp(0).tolist() == [-math.inf, -math.inf, 0.0, math.inf, math.inf]


# ---- median ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "uint8", "float16"])
@pytest.mark.parametrize("shape,dim", [((7,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 5), 1), ((6,), None)])
def test_median(dtype, shape, dim):
    a = RNG.permutation(int(np.prod(shape))).reshape(shape).astype(NP[dtype])  # distinct values
    t = ember.tensor(a)
    if dim is None:
        s = np.sort(a.ravel())
        assert ember.median(t).item() == s[(s.size - 1) // 2]
        return
    for x in layouts(t).values():
        v, i = ember.median(x, dim)
        s = np.sort(a, axis=dim)
        want = np.take(s, (a.shape[dim] - 1) // 2, axis=dim)
        check(v, want, dtype, rtol=0)
        np.testing.assert_array_equal(np.take_along_axis(a, np.expand_dims(i.numpy(), dim), dim).squeeze(dim), want)
        v2, _ = x.median(dim, keepdim=True)
        assert v2.shape == np.expand_dims(want, dim).shape


def test_median_nan():
    x = ember.tensor([[1.0, math.nan, 3.0, math.nan], [4.0, 2.0, 1.0, 3.0]])
    v, i = x.median(1)
    assert math.isnan(v.tolist()[0]) and i.tolist() == [1, 1]
    v, i = x.nanmedian(1)
    assert v.tolist() == [1.0, 2.0] and i.tolist() == [0, 1]
    assert math.isnan(x.median().item()) and x.nanmedian().item() == 2.0
    assert math.isnan(ember.zeros(0).median().item())


# ---- zero-size and 0-d -----------------------------------------------------------------------
def test_zero_size():
    z = ember.zeros(0, 3)
    assert z.sum(0).tolist() == [0.0] * 3 and z.sum(1).shape == (0,)
    assert z.prod(0).tolist() == [1.0] * 3
    assert ember.zeros(0, dtype=ember.int32).sum().item() == 0
    assert all(math.isnan(v) for v in z.mean(0).tolist())
    assert all(math.isnan(v) for v in z.var(0).tolist())
    assert z.amax(1).shape == (0,) and z.argmax(1).shape == (0,)
    assert z.all(0).tolist() == [True] * 3 and z.any(0).tolist() == [False] * 3
    assert z.count_nonzero(0).tolist() == [0] * 3
    assert z.norm(dim=0).tolist() == [0.0] * 3 and z.norm().item() == 0.0
    assert ember.zeros(2, 0).cummax(1).values.shape == (2, 0)
    v, i = ember.zeros(0, 3).max(1)
    assert v.shape == (0,) and i.shape == (0,)


def test_zero_dim():
    s = ember.tensor(2.5)
    for r in (s.sum(), s.sum(0), s.mean(-1), s.amax(0), s.prod(), s.max(), s.logsumexp(0) - 0):
        assert r.shape == () and math.isclose(r.item(), 2.5)
    assert s.argmax().item() == 0 and s.max(0).indices.item() == 0
    assert s.sum(0, keepdim=True).shape == ()
    assert math.isnan(s.var().item()) and s.var(correction=0).item() == 0.0
    assert s.cumsum(0).shape == () and s.cumsum(0).item() == 2.5
    assert s.median().item() == 2.5 and s.norm().item() == 2.5


# ---- errors ------------------------------------------------------------------------------------
def test_errors():
    x = ember.ones(2, 3)
    with pytest.raises(IndexError, match=r"\[sum\] dimension out of range: expected to be in range of \[-2, 1\], got 5"):
        x.sum(5)
    with pytest.raises(IndexError, match=r"\[amax\] dimension out of range"):
        ember.amax(x, (0, -3))
    with pytest.raises(IndexError, match=r"\[cumsum\] dimension out of range"):
        x.cumsum(2)
    with pytest.raises(IndexError, match=r"\[max\] dimension out of range"):
        x.max(2)
    with pytest.raises(ValueError, match=r"\[sum\] dim 0 appears multiple times"):
        x.sum((0, -2))
    with pytest.raises(TypeError, match=r"\[mean\] could not infer output dtype"):
        ember.ones(3, dtype=ember.int64).mean()
    with pytest.raises(TypeError, match=r"\[mean\] could not infer output dtype"):
        x.mean(dtype=ember.int64)
    with pytest.raises(TypeError, match=r"\[var\] expected a floating point input"):
        ember.ones(3, dtype=ember.int32).var()
    with pytest.raises(TypeError, match=r"\[std\] expected a floating point input"):
        ember.ones(3, dtype=ember.int32).std()
    with pytest.raises(TypeError, match=r"\[norm\] expected a floating point or complex input"):
        ember.ones(3, dtype=ember.int32).norm()
    with pytest.raises(TypeError, match=r"\[nanmean\] expected a floating point input"):
        ember.ones(3, dtype=ember.int32).nanmean()
    with pytest.raises(TypeError, match=r"\[amax\] complex numbers are not ordered"):
        ember.ones(3, dtype=ember.complex64).amax()
    with pytest.raises(TypeError, match=r"\[sum\] expected dim to be None, an int or a tuple of ints"):
        x.sum("a")
    with pytest.raises(TypeError, match=r"\[argmax\] expected an int for `dim`"):
        x.argmax((0, 1))
    with pytest.raises(ValueError, match=r"\[norm\] expected p to be a number, 'fro' or 'nuc'"):
        x.norm("bad")


def test_empty_reduction_errors():
    z = ember.zeros(0, 3)
    with pytest.raises(IndexError, match=r"\[max\] expected a non-empty input when no dim is given"):
        ember.zeros(0).max()
    with pytest.raises(IndexError, match=r"\[max\] expected reduction dim 0 to have non-zero size"):
        z.max(0)
    with pytest.raises(IndexError, match=r"\[amax\] expected reduction dim 0 to have non-zero size"):
        z.amax(0)
    with pytest.raises(IndexError, match=r"\[amin\] expected reduction dim 0 to have non-zero size"):
        z.amin()
    with pytest.raises(IndexError, match=r"\[argmax\] expected a non-empty input"):
        ember.zeros(0).argmax()
    with pytest.raises(IndexError, match=r"\[argmin\] expected reduction dim 0 to have non-zero size"):
        z.argmin(0)
    with pytest.raises(IndexError, match=r"\[median\] expected reduction dim 0"):
        z.median(0)
    with pytest.raises(IndexError, match=r"\[norm\] cannot compute the inf-norm of an empty tensor"):
        ember.zeros(0).norm(math.inf)
    with pytest.raises(IndexError, match=r"\[aminmax\] expected a non-empty input"):
        ember.zeros(0).aminmax()
