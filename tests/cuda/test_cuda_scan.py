"""Scans on a GPU against the CPU: cumsum, cumprod, cummax/cummin (values and indices, NaN
sticks) and logcumsumexp, along inner, middle and outer dims, including a non-contiguous input
and integer inputs that accumulate in int64. Skips without a GPU."""
import numpy as np
import pytest

import ember

pytestmark = pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA device")


def _x(dtype):
    rng = np.random.default_rng(0)
    a = rng.uniform(-1.5, 1.5, (4, 9, 6))
    if dtype in ("int64", "int32", "uint8"):
        a = np.abs(np.round(a * 3)) if dtype == "uint8" else np.round(a * 3)
    return ember.from_numpy(a).to(getattr(ember, dtype))


@pytest.mark.parametrize("op", ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "uint8"])
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_gpu_matches_cpu(op, dtype, dim):
    if op == "logcumsumexp" and not dtype.startswith("float"):
        pytest.skip("float-only op")
    x = _x(dtype)
    for src in (x, x.transpose(0, 2)):  # contiguous and not
        want = getattr(ember, op)(src, dim)
        got = getattr(ember, op)(src.cuda(), dim)
        if op in ("cummax", "cummin"):
            np.testing.assert_array_equal(got.indices.cpu().numpy(), want.indices.numpy())
            want, got = want.values, got.values
        assert got.dtype == want.dtype and got.shape == want.shape
        tol = 2e-3 if dtype == "float16" else 1e-6
        if want.dtype.is_floating_point:
            np.testing.assert_allclose(got.cpu().float().numpy(), want.float().numpy(), rtol=tol, atol=tol)
        else:
            np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


def test_nan_sticks_in_cummax():
    x = ember.tensor([1.0, float("nan"), 5.0], device="cuda")
    v, i = ember.cummax(x, 0)
    assert np.isnan(v.cpu().numpy()[1:]).all() and i.cpu().numpy().tolist() == [0, 1, 1]


@pytest.mark.parametrize("op", ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"])
@pytest.mark.parametrize("shape,dim", [((100_003,), 0), ((3, 50_000), 1), ((20_000, 2), 0)])
def test_few_long_lines_take_the_chunked_path(op, shape, dim):
    # fewer than 4096 lines of at least 2048 elements: chunk states, prefixes, rescans
    rng = np.random.default_rng(1)
    if op == "cumprod":
        a = rng.choice([1.0, -1.0, 1.0000001], size=shape)  # stays finite over 10^5 steps
    elif op in ("cummax", "cummin"):
        a = np.round(rng.uniform(-50, 50, shape))  # many ties: the latest index must win
        a.flat[7_000] = np.nan
    else:
        a = rng.uniform(-1, 1, shape)
    for dt in (["float64", "int64"] if op in ("cumsum", "cummax", "cummin") else ["float64"]):
        x = ember.from_numpy(a if dt == "float64" else np.nan_to_num(a).astype(np.int64))
        want = getattr(ember, op)(x, dim)
        got = getattr(ember, op)(x.cuda(), dim)
        if op in ("cummax", "cummin"):
            np.testing.assert_array_equal(got.indices.cpu().numpy(), want.indices.numpy())
            np.testing.assert_array_equal(got.values.cpu().numpy(), want.values.numpy())
        elif dt == "int64":
            np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())
        else:
            np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-9, atol=1e-9)
