"""Reductions on a GPU against the same reductions on the CPU: full, over the inner dim (Row
layout), over the outer dim (Col layout), over several dims, keepdim, and a long full reduction
that is split over many blocks. Skips without a GPU."""
import numpy as np
import pytest

import ember

pytestmark = pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA device")

OPS = ["sum", "mean", "prod", "amax", "amin", "all", "any", "count_nonzero", "var", "std", "nansum", "nanmean"]
FLOAT_ONLY = {"mean", "var", "std", "nanmean"}
DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "uint8", "bool"]
DIMS = [None, -1, 0, (0, 2)]


def _input(dtype, shape=(7, 65, 9), seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-2, 2, shape)
    if dtype == "bool":
        return ember.from_numpy(a > 0)
    x = ember.from_numpy(a.astype(np.float32 if dtype in ("float16", "bfloat16") else np.float64))
    if dtype in ("uint8", "int32", "int64"):
        x = (x * 3).round()
        if dtype == "uint8":
            x = x.abs()
    return x.to(getattr(ember, dtype))


def _call(op, x, dim, keepdim):
    f = getattr(ember, op)
    if dim is None:
        return f(x) if op != "count_nonzero" else f(x)
    if op == "count_nonzero":
        return f(x, dim=dim)
    return f(x, dim=dim, keepdim=keepdim)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", DIMS, ids=["all", "inner", "outer", "outer2"])
def test_gpu_matches_cpu(op, dtype, dim):
    if op in FLOAT_ONLY and dtype not in ("float32", "float64", "float16", "bfloat16"):
        pytest.skip("float-only op")
    if op == "prod" and dtype not in ("float32", "float64"):
        x = _input(dtype, (3, 5, 4))  # small enough not to overflow
    else:
        x = _input(dtype)
    want = _call(op, x, dim, False)
    got = _call(op, x.cuda(), dim, False)
    assert got.is_cuda and got.dtype == want.dtype and got.shape == want.shape
    g, w = got.cpu().float().numpy() if got.dtype.is_floating_point else got.cpu().numpy(), \
        want.float().numpy() if want.dtype.is_floating_point else want.numpy()
    tol = {"float16": 2e-3, "bfloat16": 1.6e-2}.get(dtype, 1e-6)
    if w.dtype.kind == "f":
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(g, w)


def test_keepdim_var_correction_and_mean_output():
    x = _input("float64")
    v, m = ember.var_mean(x, dim=1, correction=0, keepdim=True)
    gv, gm = ember.var_mean(x.cuda(), dim=1, correction=0, keepdim=True)
    np.testing.assert_allclose(gv.cpu().numpy(), v.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gm.cpu().numpy(), m.numpy(), rtol=1e-12)


def test_long_full_reduction_is_split_and_exact_enough():
    x = ember.ones(1 << 26, device="cuda")      # 64M ones: many blocks, then the partials
    assert x.sum().item() == float(1 << 26)
    y = ember.arange(1 << 20, dtype=ember.float64, device="cpu").cuda()
    assert y.sum().item() == float((1 << 20) * ((1 << 20) - 1) // 2)


def test_nan_propagates_in_max_and_is_skipped_by_nansum():
    x = ember.tensor([1.0, float("nan"), 3.0], device="cuda")
    assert np.isnan(x.amax().item()) and np.isnan(x.sum().item())
    assert x.nansum().item() == 4.0 and x.nanmean().item() == 2.0


@pytest.mark.parametrize("dtype", ["float32", "float16", "int64", "uint8", "bool"])
def test_arg_reductions_and_aminmax(dtype):
    x = _input(dtype)
    g = x.cuda()
    for dim in (None, 0, 1, -1):
        for f in ("argmax", "argmin"):
            want = getattr(ember, f)(x) if dim is None else getattr(ember, f)(x, dim=dim)
            got = getattr(ember, f)(g) if dim is None else getattr(ember, f)(g, dim=dim)
            np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())  # first index of the extreme
    mn, mx = ember.aminmax(x, dim=1)
    gmn, gmx = ember.aminmax(g, dim=1)
    np.testing.assert_array_equal(gmn.cpu().float().numpy(), mn.float().numpy())
    np.testing.assert_array_equal(gmx.cpu().float().numpy(), mx.float().numpy())
    v, i = ember.max(x, dim=2)
    gv, gi = ember.max(g, dim=2)
    np.testing.assert_array_equal(gi.cpu().numpy(), i.numpy())
    np.testing.assert_array_equal(gv.cpu().float().numpy(), v.float().numpy())


def test_argmax_takes_the_first_nan():
    x = ember.tensor([1.0, float("nan"), 5.0, float("nan")], device="cuda")
    assert x.argmax().item() == 1 and x.argmin().item() == 1


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, 0, float("inf"), float("-inf")])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_norm(p, dtype):
    x = _input(dtype)
    for dim in (None, 1):
        want = ember.norm(x, p=p) if dim is None else ember.norm(x, p=p, dim=dim)
        got = ember.norm(x.cuda(), p=p) if dim is None else ember.norm(x.cuda(), p=p, dim=dim)
        tol = 2e-3 if dtype == "float16" else 1e-6
        np.testing.assert_allclose(got.cpu().float().numpy(), want.float().numpy(), rtol=tol, atol=tol)
