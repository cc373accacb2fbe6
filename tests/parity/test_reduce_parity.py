"""Reductions and scans: values, result dtypes and errors against PyTorch (skipped without it).

Each case is one lambda `f(m, x)` run with m = torch and m = ember on the same data."""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: parity suite skipped")
import ember  # noqa: E402

RNG = np.random.default_rng(7)
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64", "complex64"]
FLOATS = ["float16", "bfloat16", "float32", "float64"]
REAL = DTYPES[:-1]
NUMERIC = DTYPES[1:]
TOL = {"float16": 2e-3, "bfloat16": 2e-2, "float32": 1e-5, "float64": 1e-12, "complex64": 1e-5}


def make(shape, dtype, nan=False, lo=-3, hi=4, layout="contiguous"):
    if dtype == "bool":
        a = RNG.integers(0, 2, shape).astype(bool)
    elif dtype.startswith(("int", "uint")):
        a = RNG.integers(0 if dtype == "uint8" else lo, hi, shape).astype(dtype)
    elif dtype == "complex64":
        a = (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(np.complex64)
    else:
        a = RNG.standard_normal(shape).astype(np.float32 if dtype == "bfloat16" else dtype)
        if nan and a.size > 2:
            a.flat[1] = np.nan
    t = torch.from_numpy(np.ascontiguousarray(a))
    e = ember.tensor(np.ascontiguousarray(a))
    if dtype == "bfloat16":
        t, e = t.to(torch.bfloat16), e.to(ember.bfloat16)
    if layout == "transposed" and a.ndim >= 2:
        t, e = t.transpose(0, -1).contiguous().transpose(0, -1), e.transpose(0, -1).contiguous().transpose(0, -1)
    if layout == "sliced" and a.ndim >= 1:
        t, e = t[..., ::2], e[..., ::2]
    return t, e


def as_np(r):
    if isinstance(r, torch.Tensor):
        if r.dtype == torch.bfloat16:
            r = r.float()
        return r.numpy()
    if r.dtype == ember.bfloat16:
        r = r.float()
    return r.numpy(force=True)


def same(tr, er, tol):
    if isinstance(tr, tuple):
        assert isinstance(er, tuple) and len(tr) == len(er)
        if hasattr(tr, "_fields"):
            for f in tr._fields:
                same(getattr(tr, f), getattr(er, f), tol)
        else:
            for a, b in zip(tr, er):
                same(a, b, tol)
        return
    assert str(tr.dtype).split(".")[-1] == er.dtype.name, (tr.dtype, er.dtype)
    assert tuple(tr.shape) == tuple(er.shape)
    a, b = as_np(tr), as_np(er)
    if tol == 0 or a.dtype.kind in "biu":
        np.testing.assert_array_equal(b, a)
    else:
        np.testing.assert_allclose(b, a, rtol=tol, atol=tol, equal_nan=True)


def run(f, dtype, shape, tol=None, **kw):
    for layout in ("contiguous", "transposed", "sliced"):
        t, e = make(shape, dtype, layout=layout, **kw)
        same(f(torch, t), f(ember, e), TOL.get(dtype, 0) if tol is None else tol)


SUMLIKE = [
    ("sum_all", lambda m, x: m.sum(x)),
    ("sum_dim", lambda m, x: m.sum(x, 1)),
    ("sum_neg_keep", lambda m, x: x.sum(-1, keepdim=True)),
    ("sum_tuple", lambda m, x: m.sum(x, (0, 2))),
    ("sum_method_dims", lambda m, x: x.sum(dim=[2, 0], keepdim=True)),
    ("prod_dim", lambda m, x: m.prod(x, 1)),
    ("count_nonzero", lambda m, x: m.count_nonzero(x, (0, 1))),
    ("all_dim", lambda m, x: m.all(x, 2)),
    ("any_all", lambda m, x: m.any(x)),
    ("cumsum", lambda m, x: m.cumsum(x, 1)),
    ("cumsum_last", lambda m, x: x.cumsum(-1)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,f", SUMLIKE, ids=[c[0] for c in SUMLIKE])
def test_sumlike(name, f, dtype):
    if name in ("prod_dim",):
        run(f, dtype, (3, 4, 5), lo=-2, hi=3, tol=TOL.get(dtype, 0) * 10)
    else:
        run(f, dtype, (3, 4, 6))


FLOAT_OPS = [
    ("mean_all", lambda m, x: m.mean(x)),
    ("mean_dims", lambda m, x: x.mean((0, 2), keepdim=True)),
    ("nansum", lambda m, x: m.nansum(x, 1)),
    ("nanmean", lambda m, x: m.nanmean(x, 0)),
    ("var", lambda m, x: m.var(x, 1)),
    ("var_corr0", lambda m, x: m.var(x, (0, 2), correction=0)),
    ("std_unbiased_false", lambda m, x: x.std(2, unbiased=False, keepdim=True)),
    ("var_mean", lambda m, x: m.var_mean(x, 1)),
    ("std_mean_all", lambda m, x: m.std_mean(x)),
    ("norm2", lambda m, x: m.norm(x)),
    ("norm1_dim", lambda m, x: x.norm(1, dim=1)),
    ("norm_inf", lambda m, x: m.norm(x, float("inf"), dim=(0, 2))),
    ("norm_neginf", lambda m, x: m.norm(x, -float("inf"), dim=2)),
    ("norm0", lambda m, x: m.norm(x, 0, dim=1)),
    ("norm3", lambda m, x: m.norm(x, 3, dim=0, keepdim=True)),
    ("norm_fro_dim", lambda m, x: m.norm(x, "fro", dim=(1, 2))),
    ("logsumexp", lambda m, x: m.logsumexp(x, 1)),
    ("logsumexp_dims", lambda m, x: m.logsumexp(x, (0, 2), keepdim=True)),
    ("amax", lambda m, x: m.amax(x, (0, 2))),
    ("amin", lambda m, x: x.amin(1, keepdim=True)),
    ("max_all", lambda m, x: m.max(x)),
    ("max_dim", lambda m, x: m.max(x, 1)),
    ("min_dim_keep", lambda m, x: x.min(-1, keepdim=True)),
    ("argmax_all", lambda m, x: m.argmax(x)),
    ("argmin_dim", lambda m, x: m.argmin(x, 0)),
    ("aminmax", lambda m, x: m.aminmax(x)),
    ("aminmax_dim", lambda m, x: m.aminmax(x, dim=1)),
    ("cummax", lambda m, x: m.cummax(x, 1)),
    ("cummin", lambda m, x: x.cummin(2)),
    ("cumprod", lambda m, x: m.cumprod(x, 2)),
    ("logcumsumexp", lambda m, x: m.logcumsumexp(x, 1)),
    ("median_all", lambda m, x: m.median(x)),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name,f", FLOAT_OPS, ids=[c[0] for c in FLOAT_OPS])
def test_float_ops(name, f, dtype):
    tol = TOL[dtype] * (4 if dtype in ("float16", "bfloat16") else 1)
    if name.startswith(("nan", "max", "min", "amax", "amin", "argm", "cummax", "cummin", "median")):
        run(f, dtype, (3, 4, 5), nan=True, tol=tol)
    else:
        run(f, dtype, (3, 4, 5), tol=tol)


INT_OPS = [
    ("amax", lambda m, x: m.amax(x, 1)),
    ("max_dim", lambda m, x: m.max(x, 0)),
    ("argmax", lambda m, x: x.argmax(2, keepdim=True)),
    ("argmin_all", lambda m, x: m.argmin(x)),
    ("aminmax", lambda m, x: m.aminmax(x)),
    ("cumprod", lambda m, x: m.cumprod(x, 1)),
    ("cummax", lambda m, x: m.cummax(x, 2)),
    ("median_dim", lambda m, x: m.median(x, 1).values),
    ("logsumexp", lambda m, x: m.logsumexp(x, 1)),
]


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64"])
@pytest.mark.parametrize("name,f", INT_OPS, ids=[c[0] for c in INT_OPS])
def test_int_ops(name, f, dtype):
    run(f, dtype, (3, 4, 5), lo=-2, hi=3, tol=1e-6 if name == "logsumexp" else 0)


@pytest.mark.parametrize("name,f", [
    ("sum", lambda m, x: m.sum(x, 0)), ("mean", lambda m, x: m.mean(x, 1)), ("prod", lambda m, x: m.prod(x, 1)),
    ("norm", lambda m, x: m.norm(x, dim=1)), ("norm1", lambda m, x: m.norm(x, 1)), ("cumsum", lambda m, x: m.cumsum(x, 1)),
])
def test_complex(name, f):
    run(f, "complex64", (3, 4))


def test_dtype_argument():
    t, e = make((3, 4), "int32")
    for f in (lambda m, x: m.sum(x, 1, dtype=m.float64), lambda m, x: x.sum(dtype=m.int16),
              lambda m, x: m.mean(x, 0, dtype=m.float32), lambda m, x: m.cumsum(x, 1, dtype=m.float64),
              lambda m, x: m.prod(x, 1, dtype=m.float32), lambda m, x: x.sum(dtype=m.bool)):
        same(f(torch, t), f(ember, e), 1e-6)
    t, e = make((3, 4), "float32")
    same(torch.sum(t, 1, dtype=torch.float16), ember.sum(e, 1, dtype=ember.float16), 2e-3)


def test_large_sums_match():
    a = RNG.standard_normal((256, 1000)).astype(np.float32)
    t, e = torch.from_numpy(a), ember.tensor(a)
    for f in (lambda m, x: m.sum(x), lambda m, x: m.sum(x, 0), lambda m, x: m.sum(x, 1), lambda m, x: x.T.sum(0),
              lambda m, x: m.var(x, 0), lambda m, x: m.norm(x, dim=1), lambda m, x: m.logsumexp(x, 0)):
        same(f(torch, t), f(ember, e), 1e-5)


def test_zero_size_and_0d():
    z_t, z_e = torch.zeros(0, 3), ember.zeros(0, 3)
    for f in (lambda m, x: m.sum(x, 0), lambda m, x: m.prod(x, 0), lambda m, x: m.mean(x, 0),
              lambda m, x: m.amax(x, 1), lambda m, x: m.all(x, 0), lambda m, x: m.any(x, 0),
              lambda m, x: m.var(x, 0), lambda m, x: m.logsumexp(x, 0), lambda m, x: m.count_nonzero(x, 0),
              lambda m, x: m.cumsum(x, 0), lambda m, x: m.norm(x, dim=0), lambda m, x: m.nanmean(x, 0),
              lambda m, x: m.max(x, 1), lambda m, x: m.argmax(x, 1)):
        same(f(torch, z_t), f(ember, z_e), 1e-6)
    s_t, s_e = torch.tensor(1.5), ember.tensor(1.5)
    for f in (lambda m, x: m.sum(x, 0), lambda m, x: x.max(0), lambda m, x: m.argmax(x, 0, keepdim=True),
              lambda m, x: m.var(x, correction=0), lambda m, x: m.cumsum(x, 0), lambda m, x: m.median(x),
              lambda m, x: m.logsumexp(x, 0), lambda m, x: x.amax(-1)):
        same(f(torch, s_t), f(ember, s_e), 1e-6)


def test_nan_semantics():
    a = np.array([[1.0, np.nan, 3.0, np.nan], [2.0, 2.0, -1.0, 0.0], [np.inf, -np.inf, np.nan, 1.0]])
    t, e = torch.from_numpy(a), ember.tensor(a)
    for f in (lambda m, x: m.max(x, 1), lambda m, x: m.min(x, 1), lambda m, x: m.argmax(x, 1),
              lambda m, x: m.argmin(x), lambda m, x: m.amax(x, 0), lambda m, x: m.cummax(x, 1),
              lambda m, x: m.cummin(x, 1), lambda m, x: m.nansum(x, 1), lambda m, x: m.nanmean(x, 1),
              lambda m, x: m.logsumexp(x, 1), lambda m, x: m.median(x, 1), lambda m, x: m.nanmedian(x, 1).values,
              lambda m, x: m.sum(x, 0), lambda m, x: m.norm(x, float("inf"), dim=1), lambda m, x: m.aminmax(x, dim=1)):
        same(f(torch, t), f(ember, e), 1e-12)


ERRORS = [
    ("dim_out_of_range", lambda m: m.ones(2, 3).sum(2), IndexError),
    ("dim_out_of_range_tuple", lambda m: m.ones(2, 3).amax((0, 5)), IndexError),
    ("max_empty_dim", lambda m: m.zeros(0, 3).max(0), IndexError),
    ("amax_empty_dim", lambda m: m.zeros(0, 3).amax(0), IndexError),
    ("argmax_empty", lambda m: m.zeros(0).argmax(), IndexError),
    ("median_empty_dim", lambda m: m.zeros(0, 3).median(0), IndexError),
    ("argmin_empty_dim", lambda m: m.zeros(2, 0).argmin(1), IndexError),
    ("mean_int", lambda m: m.ones(3, dtype=m.int64).mean(), None),
    ("mean_int_dtype", lambda m: m.ones(3).mean(dtype=m.int32), None),
    ("var_int", lambda m: m.ones(3, dtype=m.int32).var(), None),
    ("norm_int", lambda m: m.ones(3, dtype=m.int32).norm(), None),
    ("nanmean_int", lambda m: m.ones(3, dtype=m.int32).nanmean(), None),
    ("dup_dims", lambda m: m.ones(2, 3).sum((0, 0)), None),
    ("max_empty", lambda m: m.zeros(0).max(), None),
    ("norm_inf_empty", lambda m: m.zeros(0).norm(float("inf")), None),
    ("cumsum_dim", lambda m: m.ones(2, 3).cumsum(3), IndexError),
]


@pytest.mark.parametrize("name,f,kind", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors(name, f, kind):
    with pytest.raises(Exception) as te:
        f(torch)
    with pytest.raises(Exception) as ee:
        f(ember)
    if kind is not None:
        assert te.type is kind and ee.type is kind
    assert ee.value.args[0].startswith("["), ee.value.args[0]


def test_determinism_matches_torch_shape_rules():
    x_t = torch.arange(24.0).reshape(2, 3, 4)
    x_e = ember.arange(24.0).reshape(2, 3, 4)
    for dims in [(), [], None, 0, (1,), [-1, 0]]:
        for f in (lambda m, x: m.sum(x, dims) if dims is not None else m.sum(x),
                  lambda m, x: m.amax(x, dims) if dims is not None else m.amax(x),
                  lambda m, x: m.mean(x, dims, keepdim=True) if dims is not None else m.mean(x)):
            same(f(torch, x_t), f(ember, x_e), 1e-6)
    assert math.isclose(ember.ones(5).norm(3.0).item(), torch.ones(5).norm(3.0).item(), rel_tol=1e-6)
