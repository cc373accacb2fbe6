"""Shape, creation, sorting and searching ops on a GPU against the same ops on the CPU: cat,
stack, flip, roll, repeat, tile, repeat_interleave, tril/triu, pad, diag, diag_embed,
arange/linspace/logspace/eye/ones/zeros/full with device="cuda", sort/argsort/msort (short and
long rows, ties, NaN; stable indices exactly), topk, kthvalue, median, nanmedian, unique,
unique_consecutive, searchsorted and bucketize. Data movement, orderings and indices are
compared exactly. Non-contiguous GPU inputs are views taken on the GPU. Skips without a GPU.
(ember has no mode(), so it is not tested here.)"""
import numpy as np
import pytest

import ember
from gpu_compare import same, to_np

pytestmark = pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA device")

REAL = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool"]
FLOATS = ["float32", "float64", "float16", "bfloat16"]
LAYOUTS = ["contiguous", "transposed", "stepped", "expanded"]
INT_RANGE = {"int8": (-128, 127), "int16": (-32768, 32767), "int32": (-2 ** 31, 2 ** 31 - 1),
             "int64": (-2 ** 63, 2 ** 63 - 1), "uint8": (0, 255)}


# ---- helpers -----------------------------------------------------------------------------------
def _dt(name):
    return getattr(ember, name)


def values(shape, dtype, seed=0, spread=100, nan=False):
    """A CPU tensor of small integers (quarters for floats) with ties; floats may hold NaN/inf/-0."""
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return ember.from_numpy(np.ascontiguousarray(rng.integers(0, 2, shape).astype(bool)))
    if dtype in INT_RANGE:
        lo, hi = INT_RANGE[dtype]
        a = rng.integers(max(lo, -spread), min(hi, spread) + 1, shape, dtype=np.int64)
        return ember.from_numpy(np.ascontiguousarray(a)).to(_dt(dtype))
    a = rng.integers(-spread, spread + 1, shape) / 4.0
    if nan and a.size:
        flat = a.reshape(-1)
        k = rng.random(flat.size)
        flat[k < 0.05] = np.nan
        flat[(k >= 0.05) & (k < 0.07)] = np.inf
        flat[(k >= 0.07) & (k < 0.09)] = -np.inf
        flat[(k >= 0.09) & (k < 0.11)] = -0.0
    return ember.from_numpy(np.ascontiguousarray(a)).to(_dt(dtype))


def with_extremes(x, dtype):
    """Puts the dtype's smallest and largest values into an integer tensor (exercises key transforms)."""
    if dtype in INT_RANGE and x.numel() >= 4:
        lo, hi = INT_RANGE[dtype]
        flat = x.reshape(-1)
        flat[0], flat[1], flat[-1] = hi, lo, hi
    return x


def distinct(shape, dim, dtype, seed=0):
    """Values distinct along dim (a permutation of 0..n-1 on every line, shifted into the dtype's range)."""
    rng = np.random.default_rng(seed)
    a = np.argsort(rng.random(shape), axis=dim).astype(np.float64)
    if dtype != "uint8":
        a -= shape[dim] // 2
    return ember.from_numpy(np.ascontiguousarray(a)).to(_dt(dtype))


def exact_distinct(dtype, n):
    """Whether `distinct` can give n different values of dtype."""
    return n <= {"int8": 256, "uint8": 256, "bfloat16": 256, "float16": 2048}.get(dtype, 1 << 40)


VIEWS = {"contiguous": lambda t: t,
         "transposed": lambda t: t.permute(*reversed(range(t.dim()))),
         "stepped": lambda t: t[..., ::2]}


def make(shape, dtype, layout="contiguous", seed=0, **kw):
    """(cpu, gpu): the same view, of `shape`, of the same data; the GPU view is taken on the GPU."""
    shape = tuple(shape)
    base_shape = {"transposed": shape[::-1], "stepped": shape[:-1] + (shape[-1] * 2,),
                  "expanded": (1,) + shape[1:]}.get(layout, shape)
    base = values(base_shape, dtype, seed, **kw)
    view = VIEWS[layout] if layout != "expanded" else (lambda t: t.expand(*shape))  # noqa: E731
    x, xg = view(base), view(base.cuda())
    assert tuple(x.shape) == shape
    return x, xg


def close(got, want, rtol):
    assert got.is_cuda, "the result is not on the GPU"
    assert got.dtype == want.dtype and tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(to_np(got), to_np(want), rtol=rtol, atol=rtol, equal_nan=True)


def consistent(x, dim, values_, indices):
    """indices (GPU) point at values_ in x (GPU) along dim, and no index repeats within a line."""
    picked = ember.gather(x, dim, indices)
    np.testing.assert_array_equal(to_np(picked), to_np(values_))
    idx = np.moveaxis(to_np(indices), dim, -1)
    if idx.size:
        s = np.sort(idx, axis=-1)
        assert (np.diff(s, axis=-1) != 0).all(), "an index repeats within a line"


# ---- cat / stack --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64", "int16", "uint8", "bool"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(dtype, dim):
    pairs = []
    for k, (size, layout) in enumerate([(2, "contiguous"), (1, "transposed"), (3, "stepped"), (4, "contiguous")]):
        shape = [3, 4, 5]
        shape[dim] = size
        pairs.append(make(shape, dtype, layout, seed=k))
    same(ember.cat([p[1] for p in pairs], dim=dim), ember.cat([p[0] for p in pairs], dim=dim))
    same(ember.cat([pairs[0][1]], dim=dim), ember.cat([pairs[0][0]], dim=dim))


def test_cat_many_inputs_large_and_promotion():
    parts = [values((k % 5 + 1, 7), "float32", seed=k) for k in range(40)]
    same(ember.cat([p.cuda() for p in parts]), ember.cat(parts))
    same(ember.cat([p.cuda() for p in parts[:9]], 0).t().contiguous(), ember.cat(parts[:9], 0).t().contiguous())
    big = values((1000, 1500), "float32", seed=1)
    bg = big.cuda()
    same(ember.cat([bg, bg[:, :7]], 1), ember.cat([big, big[:, :7]], 1))
    same(ember.cat([bg.t()[:, :900], bg.t()[:, 900:]], 1), ember.cat([big.t()[:, :900], big.t()[:, 900:]], 1))
    same(ember.cat([bg, bg[5:]], 0), ember.cat([big, big[5:]], 0))
    a, b = values((2, 3), "int32", seed=2), values((2, 4), "float32", seed=3)
    same(ember.cat([a.cuda(), b.cuda()], 1), ember.cat([a, b], 1))  # promotion to float32
    z = ember.zeros(2, 0)
    same(ember.cat([z.cuda(), a.cuda(), z.cuda()], 1), ember.cat([z, a, z], 1))


@pytest.mark.parametrize("dtype", ["float32", "float16", "int64", "int8", "bool"])
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(dtype, dim):
    pairs = [make((3, 4), dtype, layout, seed=k) for k, layout in enumerate(["contiguous", "transposed", "stepped"])]
    same(ember.stack([p[1] for p in pairs], dim=dim), ember.stack([p[0] for p in pairs], dim=dim))


# ---- flip / roll / repeat / tile / repeat_interleave ---------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "int64", "bool"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_flip(dtype, layout):
    x, xg = make((3, 4, 5), dtype, layout)
    for dims in [(0,), (1,), (-1,), (0, 2), (0, 1, 2)]:
        same(ember.flip(xg, dims), ember.flip(x, dims))


def test_flip_large():
    x = values((700, 1100), "float32", seed=4)
    for dims in ((0,), (1,), (0, 1)):
        same(ember.flip(x.cuda(), dims), ember.flip(x, dims))
    same(ember.fliplr(x.cuda()), ember.fliplr(x))
    same(ember.flipud(x.cuda()), ember.flipud(x))


@pytest.mark.parametrize("dtype", ["float16", "int32", "bool"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_roll(dtype, layout):
    x, xg = make((3, 4, 5), dtype, layout)
    for shifts, dims in [(1, 0), (-2, 1), (7, 2), ((1, 2), (0, 2)), ((3, -1), (1, 1)), (5, None), (-13, None),
                         (0, 0)]:
        same(ember.roll(xg, shifts, dims), ember.roll(x, shifts, dims))


@pytest.mark.parametrize("dtype", ["float64", "int16", "bool"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_repeat(dtype, layout):
    x, xg = make((3, 4), dtype, layout)
    for reps in [(1, 1), (2, 3), (3, 1), (1, 4), (2, 1, 2), (0, 2)]:
        same(xg.repeat(*reps), x.repeat(*reps))


@pytest.mark.parametrize("reps", [(2,), (2, 2), (1, 2, 1, 3), ()])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_tile(reps, layout):
    x, xg = make((2, 3), "int64", layout)
    same(ember.tile(xg, reps), ember.tile(x, reps))


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "int64", "bool"])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "stepped"])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_repeat_interleave(dtype, layout, dim):
    x, xg = make((3, 4), dtype, layout)
    same(ember.repeat_interleave(xg, 2, dim=dim), ember.repeat_interleave(x, 2, dim=dim))
    n = x.numel() if dim is None else x.shape[dim]
    reps = ember.arange(n) % 3
    same(ember.repeat_interleave(xg, reps.cuda(), dim=dim), ember.repeat_interleave(x, reps, dim=dim))
    total = int(reps.sum().item())
    same(xg.repeat_interleave(reps.cuda(), dim, output_size=total), x.repeat_interleave(reps, dim, output_size=total))


def test_repeat_interleave_repeats_only_and_large():
    for r in (ember.tensor([2, 0, 3]), ember.tensor([1, 2], dtype=ember.int32), ember.tensor([0, 0])):
        same(ember.repeat_interleave(r.cuda()), ember.repeat_interleave(r))
    x = values((20000, 3), "float32", seed=5)
    reps = ember.from_numpy(np.random.default_rng(5).integers(0, 5, 20000))
    same(ember.repeat_interleave(x.cuda(), reps.cuda(), dim=0), ember.repeat_interleave(x, reps, dim=0))
    same(ember.repeat_interleave(reps.cuda()), ember.repeat_interleave(reps))


# ---- tril / triu ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float16", "int8", "bool"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_tril_triu(dtype, layout):
    x, xg = make((3, 4, 5), dtype, layout)
    for k in (-5, -1, 0, 2, 6):
        same(ember.tril(xg, k), ember.tril(x, k))
        same(xg.triu(k), x.triu(k))


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "stepped"])
@pytest.mark.parametrize("k", [-1, 0, 2])
def test_tril_triu_in_place(layout, k):
    x, xg = make((2, 5, 6), "float64", layout)
    assert xg.tril_(k) is not None
    x.tril_(k)
    same(xg, x)
    x, xg = make((2, 5, 6), "int32", layout, seed=1)
    xg.triu_(k)
    x.triu_(k)
    same(xg, x)


def test_tril_triu_large():
    x = values((1500, 1700), "float32", seed=6)
    same(ember.tril(x.cuda(), 3), ember.tril(x, 3))
    same(ember.triu(x.cuda().t(), -7), ember.triu(x.t(), -7))


# ---- pad ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("dtype,layout", [("float32", "contiguous"), ("int64", "transposed"),
                                          ("bfloat16", "stepped"), ("bool", "expanded")])
def test_pad(mode, dtype, layout):
    x, xg = make((3, 4, 5), dtype, layout)
    value = None if mode != "constant" else (True if dtype == "bool" else 3)
    for pad in [(1, 2), (0, 3, 2, 0), (2, 2, 1, 1, 1, 0), (3, 0), (-1, 2, 1, -2)]:  # negative: crop
        same(ember.pad(xg, pad, mode=mode, value=value), ember.pad(x, pad, mode=mode, value=value))


def test_pad_large():
    x = values((4, 300, 500), "float32", seed=7)
    for mode in ("constant", "reflect", "replicate", "circular"):
        same(ember.pad(x.cuda(), (3, 5, 2, 1), mode=mode), ember.pad(x, (3, 5, 2, 1), mode=mode))


# ---- diag / diag_embed --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "int16", "bool"])
@pytest.mark.parametrize("k", [-2, 0, 1, 5])
def test_diag(dtype, k):
    v, vg = make((4,), dtype, "stepped")
    same(ember.diag(vg, k), ember.diag(v, k))
    m, mg = make((4, 5), dtype, "transposed")
    same(ember.diag(mg, k), ember.diag(m, k))
    m, mg = make((6, 3), dtype)
    same(mg.diag(k), m.diag(k))


@pytest.mark.parametrize("offset,dim1,dim2", [(0, -2, -1), (1, 0, 2), (-1, 2, 0), (2, 1, 3)])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_diag_embed(offset, dim1, dim2, dtype):
    x, xg = make((2, 3, 4), dtype, "transposed")
    same(ember.diag_embed(xg, offset, dim1, dim2), ember.diag_embed(x, offset, dim1, dim2))


# ---- creation with device="cuda" --------------------------------------------------------------------
@pytest.mark.parametrize("args,dtype", [((10,), None), ((-5, 17, 3), "int32"), ((0.5, 10.3, 0.7), "float32"),
                                        ((1, 0, -0.1), "float64"), ((0, 2 ** 20), "int64"), ((0, 2 ** 20), "float32"),
                                        ((-3.0, 3.0, 0.25), "float16"), ((2.5, 40), None)])
def test_arange(args, dtype):
    kw = {} if dtype is None else {"dtype": _dt(dtype)}
    want = ember.arange(*args, **kw)
    got = ember.arange(*args, device="cuda", **kw)
    if want.dtype.is_floating_point:
        close(got, want, rtol={"float16": 1e-3}.get(dtype, 1e-6))
    else:
        same(got, want)


@pytest.mark.parametrize("start,end,steps", [(0, 1, 5), (-3.5, 7.25, 1001), (2, 2, 1), (0, 1, 0), (5, -5, 100000)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linspace_logspace(start, end, steps, dtype):
    d = _dt(dtype)
    tol = 1e-6 if dtype == "float32" else 1e-12
    close(ember.linspace(start, end, steps, dtype=d, device="cuda"), ember.linspace(start, end, steps, dtype=d), tol)
    s, e = start / 4, end / 4
    close(ember.logspace(s, e, steps, dtype=d, device="cuda"), ember.logspace(s, e, steps, dtype=d), tol * 4)
    close(ember.logspace(s, e, steps, 2.0, dtype=d, device="cuda"), ember.logspace(s, e, steps, 2.0, dtype=d), tol * 4)
    same(ember.linspace(0, 12, 5, dtype=ember.int64, device="cuda"), ember.linspace(0, 12, 5, dtype=ember.int64))


@pytest.mark.parametrize("dtype", ["float32", "float16", "int64", "uint8", "bool"])
def test_eye_ones_zeros_full(dtype):
    d = _dt(dtype)
    for args in ((5,), (3, 7), (6, 2), (0,)):
        same(ember.eye(*args, dtype=d, device="cuda"), ember.eye(*args, dtype=d))
    for shape in ((4, 5), (0, 3), (1000, 1001)):
        same(ember.ones(*shape, dtype=d, device="cuda"), ember.ones(*shape, dtype=d))
        same(ember.zeros(*shape, dtype=d, device="cuda"), ember.zeros(*shape, dtype=d))
        fill = True if dtype == "bool" else 7
        same(ember.full(shape, fill, dtype=d, device="cuda"), ember.full(shape, fill, dtype=d))
    same(ember.full((3, 2), 2.5, device="cuda"), ember.full((3, 2), 2.5))


# ---- sort / argsort / msort --------------------------------------------------------------------------
def sort_input(dtype, n, dim, seed=0):
    """A tensor with rows of length n along dim (3 rows; 2 for the longest), with many ties
    (and NaN/inf/-0.0 for floats, the dtype's extremes for integers)."""
    rows = 2 if n >= 100000 else 3
    shape = (rows, n) if dim == -1 else (n, rows)
    x = values(shape, dtype, seed, spread=max(4, n // 8), nan=True)
    return with_extremes(x, dtype)


@pytest.mark.parametrize("dtype", REAL)
@pytest.mark.parametrize("n", [1, 7, 1000, 5000, 100000])
@pytest.mark.parametrize("dim", [-1, 0])
def test_sort(dtype, n, dim):
    x = sort_input(dtype, n, dim)
    xg = x.cuda()
    for descending in (False, True):
        v, i = ember.sort(x, dim=dim, descending=descending, stable=True)
        vg, ig = ember.sort(xg, dim=dim, descending=descending, stable=True)
        same(vg, v)
        same(ig, i)  # stable: ties keep index order, so the indices are determined
        # unstable (the default): the values are the same, the indices point at them
        vg2, ig2 = ember.sort(xg, dim, descending)
        same(vg2, v)
        assert ig2.dtype == ember.int64
        consistent(xg, dim, vg2, ig2)
        same(ember.argsort(xg, dim, descending, stable=True), i)


@pytest.mark.parametrize("dtype", ["float32", "int64", "uint8", "bool", "float16"])
@pytest.mark.parametrize("layout", ["transposed", "stepped", "expanded"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_sort_non_contiguous(dtype, layout, dim):
    x, xg = make((3, 9, 6), dtype, layout, spread=5)
    for descending in (False, True):
        v, i = x.sort(dim, descending, stable=True)
        vg, ig = xg.sort(dim, descending, stable=True)
        same(vg, v)
        same(ig, i)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("descending", [False, True])
def test_sort_nan_inf_signed_zero(dtype, descending):
    a = np.random.default_rng(3).choice(np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, -2.0]), 3000)
    x = ember.from_numpy(a).to(_dt(dtype))
    v, i = ember.sort(x, descending=descending, stable=True)
    vg, ig = ember.sort(x.cuda(), descending=descending, stable=True)
    same(ig, i)
    same(vg, v)
    np.testing.assert_array_equal(np.signbit(to_np(vg)), np.signbit(to_np(v)))  # -0.0 stays where it was


def test_sort_million():
    a = np.random.default_rng(0).standard_normal(1_000_000).astype(np.float32)
    x = ember.from_numpy(a)
    v, i = ember.sort(x, stable=True)
    vg, ig = ember.sort(x.cuda(), stable=True)
    same(vg, v)
    same(ig, i)
    x = ember.from_numpy(np.random.default_rng(1).integers(-2 ** 40, 2 ** 40, 1_000_000))
    v, i = ember.sort(x, descending=True, stable=True)
    vg, ig = ember.sort(x.cuda(), descending=True, stable=True)
    same(vg, v)
    same(ig, i)


def test_sort_many_short_rows_and_edges():
    x = values((20000, 33), "float32", seed=9, spread=10, nan=True)
    v, i = ember.sort(x, 1, stable=True)
    vg, ig = ember.sort(x.cuda(), 1, stable=True)
    same(vg, v)
    same(ig, i)
    for t in (ember.tensor(5.0), ember.zeros(0, 3), ember.zeros(3, 0)):
        v, i = ember.sort(t, stable=True)
        vg, ig = ember.sort(t.cuda(), stable=True)
        same(vg, v)
        same(ig, i)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8", "bool"])
def test_msort(dtype):
    x = values((1000, 5), dtype, seed=10, spread=50, nan=True)
    same(ember.msort(x.cuda()), ember.msort(x))
    same(x.cuda().t().msort(), x.t().msort())


# ---- topk / kthvalue / median ---------------------------------------------------------------------------
TOPK_DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8"]


@pytest.mark.parametrize("dtype", TOPK_DTYPES)
@pytest.mark.parametrize("dim", [-1, 0])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_distinct(dtype, dim, largest):
    shape = (6, 200) if dim == -1 else (200, 6)
    x = distinct(shape, dim, dtype, seed=11)
    xg = x.cuda()
    for k in (1, 5, 200):
        v, i = ember.topk(x, k, dim, largest)
        vg, ig = ember.topk(xg, k, dim, largest)
        same(vg, v)
        same(ig, i)  # distinct values: the indices are determined
        vg, ig = ember.topk(xg, k, dim, largest, sorted=False)
        same(vg.sort(dim)[0], v.sort(dim)[0])
        consistent(xg, dim, vg, ig)


@pytest.mark.parametrize("dtype", ["float32", "float16", "int64", "uint8", "bool"])
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("k", [1, 7, 40])
def test_topk_ties_and_nan(dtype, largest, k):
    x, xg = make((5, 40), dtype, "transposed", spread=4, nan=dtype.startswith("float"))
    v, _ = ember.topk(x, k, 1, largest)
    vg, ig = ember.topk(xg, k, 1, largest)
    same(vg, v)
    consistent(xg, 1, vg, ig)


@pytest.mark.parametrize("n,k", [(100000, 1), (100000, 10), (100000, 1000), (5000, 5000)])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_topk_long_rows(n, k, dtype):
    x = distinct((2, n), 1, dtype, seed=12)
    for largest in (True, False):
        v, i = ember.topk(x, k, largest=largest)
        vg, ig = ember.topk(x.cuda(), k, largest=largest)
        same(vg, v)
        same(ig, i)


@pytest.mark.parametrize("dtype", TOPK_DTYPES)
@pytest.mark.parametrize("keepdim", [False, True])
def test_kthvalue(dtype, keepdim):
    for dim, shape in ((1, (6, 9)), (0, (9, 6)), (1, (3, 1001))):
        n = shape[dim]
        determined = exact_distinct(dtype, n)
        x = distinct(shape, dim, dtype, seed=13) if determined else values(shape, dtype, seed=13)
        xg = x.cuda()
        for k in (1, (n + 1) // 2, n):
            v, i = ember.kthvalue(x, k, dim, keepdim)
            vg, ig = ember.kthvalue(xg, k, dim, keepdim)
            same(vg, v)
            if determined:
                same(ig, i)
            else:  # ties: the index points at the value
                consistent(xg, dim, vg if keepdim else vg.unsqueeze(dim), ig if keepdim else ig.unsqueeze(dim))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "uint8"])
def test_kthvalue_ties(dtype):
    x, xg = make((4, 30), dtype, "transposed", spread=3, nan=dtype.startswith("float"))
    for k in (1, 10, 30):
        v, _ = ember.kthvalue(x, k, 1, True)
        vg, ig = ember.kthvalue(xg, k, 1, True)
        same(vg, v)
        consistent(xg, 1, vg, ig)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "uint8"])
def test_median(dtype):
    for dim, shape in ((1, (5, 9)), (0, (8, 5)), (1, (2, 1000)), (1, (3, 1))):
        determined = exact_distinct(dtype, shape[dim])
        x = distinct(shape, dim, dtype, seed=14) if determined else values(shape, dtype, seed=14)
        xg = x.cuda()
        same(ember.median(xg), ember.median(x))
        for keepdim in (False, True):
            v, i = ember.median(x, dim, keepdim)
            vg, ig = ember.median(xg, dim, keepdim)
            same(vg, v)
            if determined:
                same(ig, i)
            else:
                consistent(xg, dim, vg if keepdim else vg.unsqueeze(dim), ig if keepdim else ig.unsqueeze(dim))
    # ties: the same values; the indices point at them
    x, xg = make((4, 10), dtype, "transposed", spread=2)
    same(ember.median(xg), ember.median(x))
    v, _ = x.median(1, keepdim=True)
    vg, ig = xg.median(1, keepdim=True)
    same(vg, v)
    consistent(xg, 1, vg, ig)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_median_nanmedian_nan(dtype):
    rng = np.random.default_rng(15)
    a = np.stack([rng.permutation(11).astype(np.float64) for _ in range(6)])
    a[0, 3] = a[2, [1, 5, 8]] = a[4, :10] = np.nan  # row 4: one number left
    a[5, :] = np.nan                                 # row 5: nothing but NaN
    x = ember.from_numpy(a).to(_dt(dtype))
    xg = x.cuda()
    same(ember.median(xg), ember.median(x))          # NaN
    same(ember.nanmedian(xg), ember.nanmedian(x))
    same(ember.nanmedian(xg[:5]), ember.nanmedian(x[:5]))
    v, i = ember.median(x, 1)
    vg, ig = ember.median(xg, 1)
    same(vg, v)                                      # NaN in every row that holds one
    assert np.isnan(to_np(xg.gather(1, ig.unsqueeze(1)))[[0, 2, 4, 5], 0]).all()
    same(ig[1:4:2], i[1:4:2])                        # rows 1 and 3: no NaN, distinct numbers
    v, i = ember.nanmedian(x, 1)
    vg, ig = ember.nanmedian(xg, 1)
    same(vg, v)
    same(ig[:5], i[:5])                              # distinct numbers: the index is determined
    v, _ = ember.nanmedian(x, 0, keepdim=True)
    vg, _ = ember.nanmedian(xg, 0, keepdim=True)
    same(vg, v)


def test_median_large():
    x = ember.from_numpy(np.random.default_rng(16).permutation(1_000_001).astype(np.float32))
    same(ember.median(x.cuda()), ember.median(x))
    same(ember.nanmedian(x.cuda()), ember.nanmedian(x))
    y = x[:1_000_000].reshape(100, 10000)
    v, i = ember.median(y, 1)
    vg, ig = ember.median(y.cuda(), 1)
    same(vg, v)
    same(ig, i)


# ---- unique / unique_consecutive ----------------------------------------------------------------------
UNIQUE_DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int8", "uint8", "bool"]


def _same_tuple(got, want):
    if isinstance(want, ember.Tensor):
        same(got, want)
        return
    assert len(got) == len(want)
    for a, b in zip(got, want):
        same(a, b)


@pytest.mark.parametrize("dtype", UNIQUE_DTYPES)
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "stepped"])
def test_unique(dtype, layout):
    x, xg = make((5, 8), dtype, layout, spread=6)
    for inv in (False, True):
        for cnt in (False, True):
            _same_tuple(ember.unique(xg, return_inverse=inv, return_counts=cnt),
                        ember.unique(x, return_inverse=inv, return_counts=cnt))
    _same_tuple(xg.unique(sorted=True, return_counts=True), x.unique(sorted=True, return_counts=True))


@pytest.mark.parametrize("dtype", ["float32", "int64", "int32", "uint8", "bool"])
def test_unique_large(dtype):
    x = values((300000,), dtype, seed=17, spread=1000)
    _same_tuple(ember.unique(x.cuda(), return_inverse=True, return_counts=True),
                ember.unique(x, return_inverse=True, return_counts=True))


def test_unique_nan_and_edges():
    x = ember.tensor([2.0, float("nan"), 1.0, float("nan"), 2.0, -0.0, 0.0])  # every NaN is unique, like the CPU's
    _same_tuple(ember.unique(x.cuda(), return_inverse=True, return_counts=True),
                ember.unique(x, return_inverse=True, return_counts=True))
    for t in (ember.zeros(0), ember.tensor(3)):
        _same_tuple(ember.unique(t.cuda(), return_inverse=True, return_counts=True),
                    ember.unique(t, return_inverse=True, return_counts=True))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unique_dim(dtype, dim):
    x, xg = make((6, 4), dtype, "transposed", spread=1)
    x, xg = ember.cat([x, x.flip(dim)], dim=dim), ember.cat([xg, xg.flip(dim)], dim=dim)  # repeated slices
    for inv in (False, True):
        for cnt in (False, True):
            _same_tuple(ember.unique(xg, dim=dim, return_inverse=inv, return_counts=cnt),
                        ember.unique(x, dim=dim, return_inverse=inv, return_counts=cnt))


def test_unique_dim_large():
    x = values((50000, 3), "int64", seed=18, spread=3)
    _same_tuple(ember.unique(x.cuda(), dim=0, return_inverse=True, return_counts=True),
                ember.unique(x, dim=0, return_inverse=True, return_counts=True))


@pytest.mark.parametrize("dtype", UNIQUE_DTYPES)
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_unique_consecutive(dtype, layout):
    x, xg = make((4, 9), dtype, layout, spread=1)
    for inv in (False, True):
        for cnt in (False, True):
            _same_tuple(ember.unique_consecutive(xg, return_inverse=inv, return_counts=cnt),
                        ember.unique_consecutive(x, return_inverse=inv, return_counts=cnt))
    for dim in (0, 1):
        _same_tuple(ember.unique_consecutive(xg, return_inverse=True, return_counts=True, dim=dim),
                    ember.unique_consecutive(x, return_inverse=True, return_counts=True, dim=dim))


def test_unique_consecutive_large_and_nan():
    rng = np.random.default_rng(19)
    runs = np.repeat(rng.integers(0, 4, 50000), rng.integers(1, 6, 50000))
    x = ember.from_numpy(runs)
    _same_tuple(ember.unique_consecutive(x.cuda(), return_inverse=True, return_counts=True),
                ember.unique_consecutive(x, return_inverse=True, return_counts=True))
    f = ember.tensor([float("nan"), float("nan"), 1.0, 1.0, -0.0, 0.0])
    _same_tuple(ember.unique_consecutive(f.cuda(), return_counts=True), ember.unique_consecutive(f, return_counts=True))


# ---- searchsorted / bucketize -------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "uint8"])
@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_1d(dtype, right):
    rng = np.random.default_rng(20)
    seq = ember.from_numpy(np.sort(rng.integers(0, 40, 25)).astype(np.float64)).to(_dt(dtype))  # duplicates
    v = ember.from_numpy(rng.integers(0 if dtype == "uint8" else -2, 43, (3, 7)).astype(np.float64)).to(_dt(dtype))
    s_g, v_g = seq.cuda(), v.cuda()
    same(ember.searchsorted(s_g, v_g, right=right), ember.searchsorted(seq, v, right=right))
    side = "right" if right else "left"
    same(ember.searchsorted(s_g, v_g, side=side), ember.searchsorted(seq, v, side=side))
    same(ember.searchsorted(s_g, v_g.t(), right=right, out_int32=True),
         ember.searchsorted(seq, v.t(), right=right, out_int32=True))
    same(ember.bucketize(v_g, s_g, right=right), ember.bucketize(v, seq, right=right))
    same(ember.bucketize(v_g, s_g, right=right, out_int32=True), ember.bucketize(v, seq, right=right, out_int32=True))


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_nd_sorter_and_scalars(right):
    rng = np.random.default_rng(21)
    seq = ember.from_numpy(np.sort(rng.integers(-20, 20, (2, 3, 10)), axis=-1).astype(np.float64))
    v = ember.from_numpy(rng.integers(-22, 22, (2, 3, 4)).astype(np.float64))
    same(ember.searchsorted(seq.cuda(), v.cuda(), right=right), ember.searchsorted(seq, v, right=right))
    same(ember.searchsorted(seq.cuda(), v.cuda(), right=right, out_int32=True),
         ember.searchsorted(seq, v, right=right, out_int32=True))
    # sorter: boundaries in any order plus the permutation that sorts them
    raw = ember.from_numpy(rng.integers(-10, 10, 12).astype(np.float32))
    order = ember.argsort(raw, stable=True)
    q = ember.from_numpy(rng.integers(-12, 12, 9).astype(np.float32))
    same(ember.searchsorted(raw.cuda(), q.cuda(), right=right, sorter=order.cuda()),
         ember.searchsorted(raw, q, right=right, sorter=order))
    raw2 = ember.from_numpy(rng.integers(-10, 10, (3, 12)).astype(np.float32))
    order2 = ember.argsort(raw2, -1, stable=True)
    q2 = ember.from_numpy(rng.integers(-12, 12, (3, 5)).astype(np.float32))
    same(ember.searchsorted(raw2.cuda(), q2.cuda(), right=right, sorter=order2.cuda()),
         ember.searchsorted(raw2, q2, right=right, sorter=order2))
    # python scalars and promotion (int boundaries, float values)
    s = ember.tensor([1, 2, 2, 3])
    same(ember.searchsorted(s.cuda(), 2, right=right), ember.searchsorted(s, 2, right=right))
    same(ember.searchsorted(s.cuda(), ember.tensor([1.5, 2.0]).cuda(), right=right),
         ember.searchsorted(s, ember.tensor([1.5, 2.0]), right=right))
    same(ember.bucketize(ember.tensor([0.5, 2.0, 9.0]).cuda(), s.cuda().float(), right=right),
         ember.bucketize(ember.tensor([0.5, 2.0, 9.0]), s.float(), right=right))


def test_searchsorted_large_and_nan():
    rng = np.random.default_rng(22)
    seq = ember.from_numpy(np.sort(rng.standard_normal(10000)).astype(np.float32))
    v = ember.from_numpy(rng.standard_normal(300000).astype(np.float32))
    for right in (False, True):
        same(ember.searchsorted(seq.cuda(), v.cuda(), right=right), ember.searchsorted(seq, v, right=right))
        same(ember.bucketize(v.cuda(), seq.cuda(), right=right), ember.bucketize(v, seq, right=right))
    s = ember.tensor([1.0, 2.0, float("nan")])
    q = ember.tensor([float("nan"), 5.0, 1.5, 2.0])
    for right in (False, True):
        same(ember.searchsorted(s.cuda(), q.cuda(), right=right), ember.searchsorted(s, q, right=right))
    same(ember.searchsorted(ember.zeros(0).cuda(), ember.tensor([1.0]).cuda()),
         ember.searchsorted(ember.zeros(0), ember.tensor([1.0])))
