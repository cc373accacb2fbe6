"""Advanced indexing and the index op family on a GPU against the same ops on the CPU: x[idx]
(int64/int32, negative, broadcast index tensors, non-adjacent indexed dims, bool masks),
x[idx] = v, index_put_ (accumulate with duplicates), index_select, gather, scatter*,
index_add/copy/fill, masked_select/fill/scatter, nonzero, take, take_along_dim, put_,
out-of-bounds errors and the backward of the gathering ops. Data movement is compared
exactly; sums use integer-valued data so that the order of additions does not matter.
Skips without a GPU."""
import numpy as np
import pytest

import ember
from gpu_compare import same, to_np

pytestmark = pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA device")

REAL = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool"]
LAYOUTS = ["transposed", "stepped", "expanded", "offset"]


# ---- helpers -----------------------------------------------------------------------------------
def _dt(name):
    return getattr(ember, name)


def data(shape, dtype="float32", seed=0, zeros=0.0):
    """Small integers, exact in every dtype (bool: a random mask); a fraction `zeros` set to 0."""
    rng = np.random.default_rng(seed)
    a = rng.integers(-8, 9, size=shape).astype(np.float64)
    if zeros:
        a[rng.random(shape) < zeros] = 0
    if dtype == "bool":
        return ember.from_numpy(np.ascontiguousarray(a > 0))
    if dtype == "uint8":
        a = np.abs(a)
    return ember.from_numpy(np.ascontiguousarray(a)).to(_dt(dtype))


def ix(a, dtype="int64"):
    """An index tensor from a numpy array."""
    return ember.from_numpy(np.ascontiguousarray(np.asarray(a, dtype=np.int64))).to(_dt(dtype))


def mask(rng, shape, p=0.5):
    return ember.from_numpy(np.ascontiguousarray(rng.random(shape) < p))


def rand_idx(rng, n, *shape, low=None):
    """Indices in [-n, n) (or [low, n))."""
    return rng.integers(-n if low is None else low, n, size=shape)


def distinct_idx(rng, n, k, negative=True):
    """k distinct positions of a size-n dim, some written as negative indices."""
    p = rng.permutation(n)[:k]
    return np.where(rng.random(k) < 0.5, p - n, p) if negative else p


def distinct_along(rng, n, shape, dim):
    """An index of `shape` whose values along `dim` are distinct in [0, n) on every line."""
    other = [s for d, s in enumerate(shape) if d != dim]
    k = shape[dim]
    a = np.stack([rng.permutation(n)[:k] for _ in range(int(np.prod(other)))]).reshape(*other, k)
    return np.moveaxis(a, -1, dim)


def g(obj):
    """The GPU twin of a tensor, or of every tensor in a tuple/list key."""
    if isinstance(obj, ember.Tensor):
        return obj.cuda()
    if isinstance(obj, (tuple, list)):
        return type(obj)(g(o) for o in obj)
    return obj


def close(got, want):
    """Like same, with float tolerances for arithmetic (half precision a little looser)."""
    assert got.is_cuda, "the result is not on the GPU"
    assert got.dtype == want.dtype and tuple(got.shape) == tuple(want.shape)
    if not want.dtype.is_floating_point:
        np.testing.assert_array_equal(to_np(got), to_np(want))
        return
    tol = {ember.float16: 1e-3, ember.bfloat16: 8e-3, ember.float32: 1e-6}.get(want.dtype, 1e-12)
    np.testing.assert_allclose(to_np(got), to_np(want), rtol=tol, atol=tol, equal_nan=True)


def layout_pair(base, layout):
    """The same non-contiguous view of base on the CPU and of base.cuda() on the GPU."""
    view = {"transposed": lambda t: t.transpose(0, 2),
            "stepped": lambda t: t[::2, 1::3],
            "expanded": lambda t: t[:, :1].expand(t.shape[0], 4, t.shape[2]),
            "offset": lambda t: t[2:, 3:]}[layout]
    return view(base), view(base.cuda())


# ---- x[idx] --------------------------------------------------------------------------------------
# (shape, key builder: rng, index dtype -> key)
GET_CASES = {
    "1d": ((6,), lambda r, d: (ix(rand_idx(r, 6, 10), d),)),
    "rows": ((6, 4), lambda r, d: (ix(rand_idx(r, 6, 7), d),)),
    "rows_2d_index": ((6, 4), lambda r, d: (ix(rand_idx(r, 6, 2, 3), d),)),
    "cols": ((6, 4), lambda r, d: (slice(None), ix(rand_idx(r, 4, 5), d))),
    "two_dims": ((6, 4, 5), lambda r, d: (ix(rand_idx(r, 6, 3), d), ix(rand_idx(r, 4, 3), d))),
    "broadcast": ((6, 4, 5), lambda r, d: (ix(rand_idx(r, 6, 3, 1), d), ix(rand_idx(r, 4, 1, 2), d))),
    "non_adjacent": ((6, 4, 5), lambda r, d: (ix(rand_idx(r, 6, 3), d), slice(None), ix(rand_idx(r, 5, 3), d))),
    "middle": ((6, 4, 5), lambda r, d: (slice(None), ix(rand_idx(r, 4, 2, 2), d), ix(rand_idx(r, 5, 2), d))),
    "stepped_slice": ((6, 4, 5), lambda r, d: (slice(1, None, 2), ix(rand_idx(r, 4, 3), d))),
    "ellipsis": ((6, 4, 5), lambda r, d: (Ellipsis, ix(rand_idx(r, 5, 3), d))),
    "none": ((6, 4, 5), lambda r, d: (None, ix(rand_idx(r, 6, 3), d))),
    "4d_non_adjacent": ((2, 3, 4, 5), lambda r, d: (ix(rand_idx(r, 2, 3), d), slice(None), slice(None),
                                                    ix(rand_idx(r, 5, 3), d))),
    "4d_broadcast_middle": ((2, 3, 4, 5), lambda r, d: (slice(None), ix(rand_idx(r, 3, 4, 1), d), slice(None),
                                                        ix(rand_idx(r, 5, 1, 3), d))),
    "zero_d": ((6, 4), lambda r, d: (ix(np.array(-1), d),)),
    "empty": ((6, 4), lambda r, d: (ix(np.zeros(0), d),)),
    "empty_2d": ((6, 4), lambda r, d: (ix(np.zeros((0, 3)), d),)),
    "mask_full": ((6, 4), lambda r, d: (mask(r, (6, 4)),)),
    "mask_first": ((6, 4, 5), lambda r, d: (mask(r, 6),)),
    "mask_middle": ((6, 4, 5), lambda r, d: (slice(None), mask(r, (4, 5)))),
    "mask_cols": ((6, 4), lambda r, d: (slice(None), mask(r, 4))),
    "mask_and_index": ((6, 4, 5), lambda r, d: (mask(r, 6, 0.7), slice(None), ix(rand_idx(r, 5, 1), d))),
    "mask_all_false": ((6, 4), lambda r, d: (ember.zeros(6, dtype=ember.bool),)),
}


@pytest.mark.parametrize("case", list(GET_CASES))
@pytest.mark.parametrize("idx_dtype", ["int64", "int32"])
def test_getitem(case, idx_dtype):
    shape, make = GET_CASES[case]
    x = data(shape, seed=1)
    key = make(np.random.default_rng(2), idx_dtype)
    same(x.cuda()[g(key)], x[key])


@pytest.mark.parametrize("dtype", REAL)
def test_getitem_dtypes(dtype):
    rng = np.random.default_rng(3)
    x = data((7, 3), dtype, seed=3)
    xg = x.cuda()
    i, j = ix(rand_idx(rng, 7, 9)), ix(rand_idx(rng, 3, 9), "int32")
    m = mask(rng, (7, 3), 0.4)
    same(xg[i.cuda()], x[i])
    same(xg[i.cuda().to(ember.int32)], x[i])
    same(xg[m.cuda()], x[m])
    same(xg[i.cuda(), j.cuda()], x[i, j])
    same(xg[:, j.cuda()], x[:, j])
    m1 = mask(rng, 7)
    same(xg[m1.cuda()], x[m1])


@pytest.mark.parametrize("layout", LAYOUTS)
def test_getitem_non_contiguous(layout):
    rng = np.random.default_rng(4)
    x, xg = layout_pair(data((6, 8, 5), seed=4), layout)
    n0, n1, n2 = x.shape
    i, j = ix(rand_idx(rng, n0, 5)), ix(rand_idx(rng, n2, 5), "int32")
    same(xg[i.cuda()], x[i])
    same(xg[:, :, j.cuda()], x[:, :, j])
    same(xg[i.cuda(), :, j.cuda()], x[i, :, j])
    m = mask(rng, (n1, n2))
    same(xg[:, m.cuda()], x[:, m])
    # a non-contiguous index tensor
    k = ix(rand_idx(rng, n0, 6, 4))
    same(xg[k.cuda().t()], x[k.t()])


def test_getitem_large():
    rng = np.random.default_rng(5)
    x = ember.from_numpy(rng.standard_normal((5000, 16)).astype(np.float32))
    i = ix(rand_idx(rng, 5000, 70000))
    xg = x.cuda()
    same(xg[i.cuda()], x[i])
    same(xg[i.cuda().to(ember.int32)], x[i])
    col = x[:, 3].contiguous()
    same(col.cuda()[i.cuda()], col[i])
    m = mask(rng, (5000, 16), 0.3)
    same(xg[m.cuda()], x[m])


def test_getitem_result_is_a_copy():
    xg = data((4, 3)).cuda()
    r = xg[ix([0, 1]).cuda()]
    r[0, 0] = 100
    assert xg[0, 0].item() != 100


# ---- x[idx] = v, index_put_ -------------------------------------------------------------------------
# (shape, key builder: rng -> key without duplicate positions, value shape or None for a scalar)
SET_CASES = {
    "1d": ((6,), lambda r: (ix(distinct_idx(r, 6, 3)),), (3,)),
    "rows": ((6, 4), lambda r: (ix(distinct_idx(r, 6, 3)),), (3, 4)),
    "rows_broadcast_value": ((6, 4), lambda r: (ix(distinct_idx(r, 6, 3)),), (4,)),
    "rows_scalar": ((6, 4), lambda r: (ix(distinct_idx(r, 6, 3), "int32"),), None),
    "non_adjacent": ((6, 4, 5), lambda r: (ix(distinct_idx(r, 6, 2)), slice(None), ix(distinct_idx(r, 5, 2))),
                     (2, 4)),
    "broadcast_index": ((6, 4, 5), lambda r: (slice(None), ix(distinct_idx(r, 4, 2)).reshape(2, 1),
                                              ix(distinct_idx(r, 5, 3))), (6, 2, 3)),
    "mask_middle": ((6, 4, 5), lambda r: (slice(None), mask(r, (4, 5))), None),
    "mask_full": ((6, 4), lambda r: (mask(r, (6, 4)),), None),
    "mask_full_tensor_value": ((6, 4), lambda r: (ember.from_numpy(np.arange(24).reshape(6, 4) % 5 < 2),), (10,)),
    "empty": ((6, 4), lambda r: (ix(np.zeros(0)),), None),
}


@pytest.mark.parametrize("case", list(SET_CASES))
def test_setitem(case):
    shape, make, vshape = SET_CASES[case]
    key = make(np.random.default_rng(6))
    v = data(vshape, seed=7) if vshape else 7.0
    x = data(shape, seed=6)
    xg = x.cuda()
    x[key] = v
    xg[g(key)] = g(v)
    same(xg, x)


@pytest.mark.parametrize("dtype", REAL)
def test_setitem_dtypes(dtype):
    rng = np.random.default_rng(8)
    x = data((6, 3), dtype, seed=8)
    xg = x.cuda()
    i = ix(distinct_idx(rng, 6, 4))
    v = data((4, 3), dtype, seed=9)
    x[i] = v
    xg[i.cuda()] = v.cuda()
    same(xg, x)
    m = mask(rng, (6, 3))
    fill = True if dtype == "bool" else 3
    x[m] = fill
    xg[m.cuda()] = fill
    same(xg, x)
    # a value of another dtype is cast
    other = data((4, 3), "float64" if dtype != "float64" else "int32", seed=10)
    x[i] = other
    xg[i.cuda()] = other.cuda()
    same(xg, x)


def test_setitem_non_contiguous_target():
    rng = np.random.default_rng(11)
    base = data((5, 6), seed=11)
    bg = base.cuda()
    i = ix(distinct_idx(rng, 6, 3))
    v = data((3, 5), seed=12)
    base.t()[i] = v
    bg.t()[i.cuda()] = v.cuda()
    same(bg, base)
    m = mask(rng, 3)
    base[::2][m] = -5.0
    bg[::2][m.cuda()] = -5.0
    same(bg, base)


@pytest.mark.parametrize("dtype", REAL)
def test_index_put_accumulate_duplicates(dtype):
    x = data((5, 2), dtype, seed=13)
    v = data((9, 2), dtype, seed=14)
    i = ix([0, 4, 0, 0, 2, -1, 4, -5, 3])
    xg = x.cuda()
    x.index_put_((i,), v, accumulate=True)
    xg.index_put_((i.cuda(),), v.cuda(), accumulate=True)
    same(xg, x)
    # two index tensors, duplicate (i, j) pairs
    y = data((4, 5), dtype, seed=15)
    yg = y.cuda()
    i2, j2 = ix([0, 3, 3, 3, -1]), ix([1, 2, 2, -3, 2], "int32")
    w = data((5,), dtype, seed=16)
    y.index_put_((i2, j2), w, accumulate=True)
    yg.index_put_((i2.cuda(), j2.cuda()), w.cuda(), accumulate=True)
    same(yg, y)


def test_index_put_accumulate_large():
    rng = np.random.default_rng(17)
    for dtype in ("float32", "int64"):
        x = data((50,), dtype, seed=17)
        i = ix(rand_idx(rng, 50, 200000))
        v = data((200000,), dtype, seed=18)  # integer-valued: every order of additions gives the same sum
        xg = x.cuda()
        x.index_put_((i,), v, accumulate=True)
        xg.index_put_((i.cuda(),), v.cuda(), accumulate=True)
        same(xg, x)
    # rows of 64 values into 30 rows
    x = ember.zeros(30, 64)
    xg = x.cuda()
    i = ix(rng.integers(0, 30, 20000))
    v = data((20000, 64), seed=19)
    x.index_put_((i,), v, accumulate=True)
    xg.index_put_((i.cuda(),), v.cuda(), accumulate=True)
    same(xg, x)


def test_index_put_forms():
    x = data((4, 5), seed=20)
    xg = x.cuda()
    i, j = ix([0, 3, 1]), ix([1, 2, 4])
    v = data((3,), seed=21)
    same(ember.index_put(xg, (i.cuda(), j.cuda()), v.cuda()), ember.index_put(x, (i, j), v))
    same(xg, x)  # out of place leaves the input alone
    same(xg.index_put((None, j.cuda()), ember.tensor(5.0).cuda()), x.index_put((None, j), ember.tensor(5.0)))
    x.index_put_([i], ember.tensor(9.0))
    xg.index_put_([i.cuda()], ember.tensor(9.0).cuda())
    same(xg, x)


# ---- index_select / gather / take_along_dim ---------------------------------------------------------
@pytest.mark.parametrize("dtype", REAL)
def test_index_select(dtype):
    rng = np.random.default_rng(22)
    x = data((5, 6, 3), dtype, seed=22)
    xg = x.cuda()
    for dim in (0, 1, 2, -1):
        for idt in ("int64", "int32"):
            i = ix(rng.integers(0, x.shape[dim], 8), idt)
            same(ember.index_select(xg, dim, i.cuda()), ember.index_select(x, dim, i))
    xt, xtg = x.transpose(0, 2), xg.transpose(0, 2)
    i = ix([2, 0, 0, 1])
    same(xtg.index_select(1, i.cuda()), xt.index_select(1, i))
    same(xg.index_select(0, ix(np.zeros(0)).cuda()), x.index_select(0, ix(np.zeros(0))))
    same(xg.index_select(0, ix(3).cuda()), x.index_select(0, ix(3)))


def test_index_select_large():
    rng = np.random.default_rng(23)
    x = ember.from_numpy(rng.standard_normal((3000, 33)).astype(np.float32))
    i = ix(rng.integers(0, 3000, 50000))
    same(ember.index_select(x.cuda(), 0, i.cuda()), ember.index_select(x, 0, i))
    j = ix(rng.integers(0, 33, 500))
    same(ember.index_select(x.cuda(), 1, j.cuda()), ember.index_select(x, 1, j))


@pytest.mark.parametrize("dtype", REAL)
def test_gather(dtype):
    rng = np.random.default_rng(24)
    x = data((4, 5, 3), dtype, seed=24)
    xg = x.cuda()
    for dim in range(3):
        shape = [2, 3, 2]
        shape[dim] = 7
        for idt in ("int64", "int32"):
            i = ix(rng.integers(0, x.shape[dim], shape), idt)
            same(ember.gather(xg, dim, i.cuda()), ember.gather(x, dim, i))
    i = ix(rng.integers(0, 4, (5, 4)))
    same(xg.transpose(0, 2).gather(2, i.t().cuda()[:2].unsqueeze(0).expand(3, 2, 5)),
         x.transpose(0, 2).gather(2, i.t()[:2].unsqueeze(0).expand(3, 2, 5)))


def test_gather_large_and_non_contiguous():
    rng = np.random.default_rng(25)
    x = ember.from_numpy(rng.standard_normal((300, 400)).astype(np.float32))
    xg = x.cuda()
    i = ix(rng.integers(0, 400, (300, 500)))
    same(ember.gather(xg, 1, i.cuda()), ember.gather(x, 1, i))
    i0 = ix(rng.integers(0, 300, (700, 400)))
    same(ember.gather(xg, 0, i0.cuda()), ember.gather(x, 0, i0))
    it = ix(rng.integers(0, 300, (400, 300)))
    same(ember.gather(xg.t(), 1, it.cuda().t().t()), ember.gather(x.t(), 1, it))
    same(ember.gather(xg[:, ::3], 0, i0.cuda()[:, ::3]), ember.gather(x[:, ::3], 0, i0[:, ::3]))


def test_take_along_dim():
    rng = np.random.default_rng(26)
    x = data((4, 1, 3), seed=26)
    i = ix(rng.integers(0, 3, (1, 5, 2)))
    same(ember.take_along_dim(x.cuda(), i.cuda(), 2), ember.take_along_dim(x, i, 2))
    same(x.cuda().take_along_dim(i.cuda(), dim=-1), x.take_along_dim(i, dim=-1))
    j = ix(rng.integers(0, 12, 7))
    same(ember.take_along_dim(x.cuda(), j.cuda()), ember.take_along_dim(x, j))
    y = data((5, 6), "int16", seed=27)
    k = ix(rng.integers(0, 5, (3, 6)))
    same(ember.take_along_dim(y.cuda(), k.cuda(), 0), ember.take_along_dim(y, k, 0))


# ---- scatter family ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", REAL)
def test_scatter(dtype):
    rng = np.random.default_rng(28)
    x = data((5, 4, 6), dtype, seed=28)
    for dim in range(3):
        shape = [3, 3, 3]
        i = ix(distinct_along(rng, x.shape[dim], shape, dim))  # no two writes to one place
        src = data((4, 4, 4), dtype, seed=29 + dim)             # larger than the index
        y, yg = x.clone(), x.cuda()
        y.scatter_(dim, i, src)
        yg.scatter_(dim, i.cuda(), src.cuda())
        same(yg, y)
        fill = True if dtype == "bool" else 2.5 if _dt(dtype).is_floating_point else 3
        y.scatter_(dim, i, fill)
        yg.scatter_(dim, i.cuda(), fill)
        same(yg, y)
        i32 = i.to(ember.int32)
        same(ember.scatter(x.cuda(), dim, i32.cuda(), value=fill), ember.scatter(x, dim, i32, value=fill))


def test_scatter_non_contiguous_and_reduce_forms():
    rng = np.random.default_rng(30)
    base = data((5, 6), seed=30)
    bg = base.cuda()
    i = ix(distinct_along(rng, 5, (6, 2), 1))
    src = data((6, 3), seed=31)
    base.t().scatter_(1, i, src)
    bg.t().scatter_(1, i.cuda(), src.cuda())
    same(bg, base)
    # reduce='add' / 'multiply' accept duplicates
    i = ix([[1, 1, 4], [0, 2, 2]])
    src = data((2, 3), seed=32)
    for reduce in ("add", "multiply"):
        same(base.cuda().scatter(1, i.cuda(), src.cuda(), reduce=reduce), base.scatter(1, i, src, reduce=reduce))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "uint8"])
def test_scatter_add(dtype):
    rng = np.random.default_rng(33)
    x = data((5, 4), dtype, seed=33)
    i = ix(rng.integers(0, 5, (9, 4)))  # duplicates in every column
    src = data((9, 4), dtype, seed=34)
    same(ember.scatter_add(x.cuda(), 0, i.cuda(), src.cuda()), ember.scatter_add(x, 0, i, src))
    y, yg = x.clone(), x.cuda()
    j = ix(rng.integers(0, 4, (5, 7)), "int32")
    src = data((5, 7), dtype, seed=35)
    y.scatter_add_(1, j, src)
    yg.scatter_add_(1, j.cuda(), src.cuda())
    same(yg, y)


def test_scatter_add_large():
    rng = np.random.default_rng(36)
    i = ix(rng.integers(0, 100, 300000))
    v = data((300000,), seed=36)
    same(ember.zeros(100).cuda().scatter_add(0, i.cuda(), v.cuda()), ember.zeros(100).scatter_add(0, i, v))
    v = data((300000,), "int64", seed=37)
    z = ember.zeros(100, dtype=ember.int64)
    same(z.cuda().scatter_add(0, i.cuda(), v.cuda()), z.scatter_add(0, i, v))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32"])
def test_scatter_reduce(reduce, include_self, dtype):
    rng = np.random.default_rng(38)
    x = data((4, 6), dtype, seed=38)
    i = ix(rng.integers(0, 6, (4, 9)))
    src = data((4, 9), dtype, seed=39)
    if reduce == "prod":
        src = src.remainder(3) - 1 if dtype != "float16" else (src.float().remainder(3) - 1).half()  # -1, 0, 1
    want = x.scatter_reduce(1, i, src, reduce, include_self=include_self)
    got = x.cuda().scatter_reduce(1, i.cuda(), src.cuda(), reduce, include_self=include_self)
    close(got, want)
    y, yg = data((6, 4), dtype, seed=40), data((6, 4), dtype, seed=40).cuda()
    j = ix(rng.integers(0, 6, (9, 4)), "int32")
    s2 = data((9, 4), dtype, seed=41)
    if reduce == "prod":
        s2 = s2.remainder(3) - 1 if dtype != "float16" else (s2.float().remainder(3) - 1).half()
    y.scatter_reduce_(0, j, s2, reduce, include_self=include_self)
    yg.scatter_reduce_(0, j.cuda(), s2.cuda(), reduce, include_self=include_self)
    close(yg, y)


def test_scatter_reduce_nan():
    x = ember.tensor([1.0, 2.0, 3.0, 4.0])
    i = ember.tensor([0, 0, 2, 3])
    s = ember.tensor([float("nan"), 5.0, 1.0, float("nan")])
    for reduce in ("amax", "amin", "sum"):
        same(x.cuda().scatter_reduce(0, i.cuda(), s.cuda(), reduce), x.scatter_reduce(0, i, s, reduce))


# ---- index_add / index_copy / index_fill ----------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "uint8"])
def test_index_add(dtype):
    rng = np.random.default_rng(42)
    x = data((5, 4, 3), dtype, seed=42)
    for dim in (0, 1, 2):
        i = ix(rng.integers(0, x.shape[dim], 7))  # duplicates are summed
        shape = list(x.shape)
        shape[dim] = 7
        s = data(shape, dtype, seed=43 + dim)
        for alpha in (1, 2):
            y, yg = x.clone(), x.cuda()
            y.index_add_(dim, i, s, alpha=alpha)
            yg.index_add_(dim, i.cuda(), s.cuda(), alpha=alpha)
            close(yg, y)
    i32 = ix([3, 0, 3], "int32")
    s = data((3, 4, 3), dtype, seed=46)
    same(x.cuda().transpose(0, 2).index_add(2, i32.cuda(), s.cuda().transpose(0, 2)),
         x.transpose(0, 2).index_add(2, i32, s.transpose(0, 2)))


def test_index_add_large():
    rng = np.random.default_rng(47)
    i = ix(rng.integers(0, 30, 20000))
    v = data((20000, 64), seed=47)
    same(ember.zeros(30, 64).cuda().index_add_(0, i.cuda(), v.cuda(), alpha=3),
         ember.zeros(30, 64).index_add_(0, i, v, alpha=3))


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "int64", "int8", "bool"])
def test_index_copy(dtype):
    rng = np.random.default_rng(48)
    x = data((5, 4, 3), dtype, seed=48)
    for dim in (0, 1, 2):
        i = ix(rng.permutation(x.shape[dim])[:2])  # distinct: no two copies to one place
        shape = list(x.shape)
        shape[dim] = 2
        s = data(shape, dtype, seed=49 + dim)
        same(ember.index_copy(x.cuda(), dim, i.cuda(), s.cuda()), ember.index_copy(x, dim, i, s))
    y, yg = x.clone(), x.cuda()
    i = ix([4, 0])
    s = data((2, 4, 3), dtype, seed=52)
    y.transpose(0, 1).index_copy_(1, i, s.transpose(0, 1))
    yg.transpose(0, 1).index_copy_(1, i.cuda(), s.cuda().transpose(0, 1))
    same(yg, y)


@pytest.mark.parametrize("dtype", REAL)
def test_index_fill(dtype):
    x = data((4, 5, 3), dtype, seed=53)
    fill = True if dtype == "bool" else -2.5 if _dt(dtype).is_floating_point else 7
    for dim in (0, 1, 2):
        i = ix([0, -1, 1, 0])  # negative and duplicate indices
        same(x.cuda().index_fill(dim, i.cuda(), fill), x.index_fill(dim, i, fill))
    y, yg = x.clone(), x.cuda()
    y.transpose(0, 1).index_fill_(0, ix([3]), 0)
    yg.transpose(0, 1).index_fill_(0, ix([3]).cuda(), 0)
    same(yg, y)


# ---- masks ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", REAL)
def test_masked_select_and_fill(dtype):
    rng = np.random.default_rng(54)
    x = data((4, 5), dtype, seed=54)
    xg = x.cuda()
    for m in (mask(rng, (4, 5)), mask(rng, 5), mask(rng, (3, 1, 1), 0.6)):  # full and broadcast masks
        same(ember.masked_select(xg, m.cuda()), ember.masked_select(x, m))
    mt = mask(rng, 4)
    same(xg.t().masked_select(mt.cuda()), x.t().masked_select(mt))
    fill = True if dtype == "bool" else 9
    for m in (mask(rng, (4, 5)), mask(rng, 5)):
        same(xg.masked_fill(m.cuda(), fill), x.masked_fill(m, fill))
    y, yg = x.clone(), x.cuda()
    m = mask(rng, 4)
    y.t().masked_fill_(m, fill)
    yg.t().masked_fill_(m.cuda(), fill)
    same(yg, y)


def test_masked_select_large():
    rng = np.random.default_rng(55)
    x = ember.from_numpy(rng.standard_normal(1_000_003).astype(np.float32))
    m = mask(rng, 1_000_003, 0.3)
    same(ember.masked_select(x.cuda(), m.cuda()), ember.masked_select(x, m))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "uint8", "bool"])
def test_masked_scatter(dtype):
    rng = np.random.default_rng(56)
    x = data((4, 5), dtype, seed=56)
    src = data((30,), dtype, seed=57)
    m = mask(rng, (4, 5))
    same(ember.masked_scatter(x.cuda(), m.cuda(), src.cuda()), ember.masked_scatter(x, m, src))
    y, yg = x.clone(), x.cuda()
    y.masked_scatter_(m, src)
    yg.masked_scatter_(m.cuda(), src.cuda())
    same(yg, y)
    # non-contiguous target, broadcast mask, 2-d source
    y, yg = x.clone(), x.cuda()
    mb = mask(rng, 4, 0.6)
    y.t().masked_scatter_(mb, src.reshape(5, 6))
    yg.t().masked_scatter_(mb.cuda(), src.cuda().reshape(5, 6))
    same(yg, y)


def test_masked_scatter_large():
    rng = np.random.default_rng(58)
    x = ember.zeros(2_000_000)
    m = mask(rng, 2_000_000, 0.4)
    src = ember.from_numpy(rng.standard_normal(2_000_000).astype(np.float32))
    same(x.cuda().masked_scatter_(m.cuda(), src.cuda()), x.masked_scatter_(m, src))


# ---- nonzero ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", REAL)
def test_nonzero(dtype):
    x = data((5, 3, 4), dtype, seed=59, zeros=0.5)
    xg = x.cuda()
    same(ember.nonzero(xg), ember.nonzero(x))
    got, want = xg.nonzero(as_tuple=True), x.nonzero(as_tuple=True)
    assert len(got) == len(want) == 3
    for a, b in zip(got, want):
        same(a, b)
    same(xg.transpose(0, 2).nonzero(), x.transpose(0, 2).nonzero())
    same(xg[:, 1:].nonzero(), x[:, 1:].nonzero())


def test_nonzero_special_values_and_shapes():
    f = ember.tensor([0.0, float("nan"), -0.0, 2.0, float("-inf")])
    same(ember.nonzero(f.cuda()), ember.nonzero(f))
    same(ember.nonzero(ember.tensor(3).cuda()), ember.nonzero(ember.tensor(3)))
    same(ember.nonzero(ember.tensor(0).cuda()), ember.nonzero(ember.tensor(0)))
    (p,) = ember.nonzero(ember.tensor(3.0).cuda(), as_tuple=True)
    same(p, ember.nonzero(ember.tensor(3.0), as_tuple=True)[0])


@pytest.mark.parametrize("shape", [(0,), (0, 3), (4, 0, 2)])
def test_nonzero_empty(shape):
    z = ember.zeros(*shape)
    got = ember.nonzero(z.cuda())
    same(got, ember.nonzero(z))
    assert tuple(got.shape) == (0, len(shape))
    for a, b in zip(z.cuda().nonzero(as_tuple=True), z.nonzero(as_tuple=True)):
        same(a, b)


def test_nonzero_all_false():
    z = ember.zeros(100, 7, dtype=ember.bool)
    got = ember.nonzero(z.cuda())
    assert tuple(got.shape) == (0, 2)
    same(got, ember.nonzero(z))
    same(ember.masked_select(ember.ones(100, 7).cuda(), z.cuda()), ember.masked_select(ember.ones(100, 7), z))


@pytest.mark.parametrize("density", [1e-3, 0.5])
def test_nonzero_large(density):
    rng = np.random.default_rng(60)
    a = rng.random(3_000_000) < density
    for x in (ember.from_numpy(a), ember.from_numpy(a).reshape(3, 1000, 1000).to(ember.float32)):
        same(ember.nonzero(x.cuda()), ember.nonzero(x))
    x = ember.from_numpy(a).reshape(1000, 3000)
    for got, want in zip(x.cuda().nonzero(as_tuple=True), x.nonzero(as_tuple=True)):
        same(got, want)
    same(x.cuda().t().nonzero(), x.t().nonzero())


# ---- take / put_ ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", REAL)
def test_take(dtype):
    rng = np.random.default_rng(61)
    x = data((4, 5), dtype, seed=61)
    i = ix(rand_idx(rng, 20, 3, 4))  # negative indices count from the end
    same(ember.take(x.cuda(), i.cuda()), ember.take(x, i))
    same(x.cuda().t().take(i.cuda()), x.t().take(i))
    same(x.cuda()[:, ::2].take(i.cuda() % 12), x[:, ::2].take(i % 12))
    same(ember.take(x.cuda(), ix(np.zeros((0, 2))).cuda()), ember.take(x, ix(np.zeros((0, 2)))))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "uint8", "bool"])
def test_put(dtype):
    rng = np.random.default_rng(62)
    x = data((4, 5), dtype, seed=62)
    i = ix(distinct_idx(rng, 20, 6)).reshape(2, 3)  # distinct positions: no last-wins question
    s = data((2, 3), dtype, seed=63)
    y, yg = x.clone(), x.cuda()
    y.put_(i, s)
    yg.put_(i.cuda(), s.cuda())
    same(yg, y)
    # a non-contiguous target
    y, yg = x.clone(), x.cuda()
    y.t().put_(i, s)
    yg.t().put_(i.cuda(), s.cuda())
    same(yg, y)
    # accumulate: duplicates are summed
    d = ix([0, -1, 7, 0, 19, 7, 7])
    sd = data((7,), dtype, seed=64)
    same(x.cuda().put(d.cuda(), sd.cuda(), accumulate=True), x.put(d, sd, accumulate=True))
    y, yg = x.clone(), x.cuda()
    y.put_(d, sd, accumulate=True)
    yg.put_(d.cuda(), sd.cuda(), accumulate=True)
    same(yg, y)
    same(ember.put(x.cuda(), i.cuda(), s.cuda(), False), ember.put(x, i, s, False))


def test_put_accumulate_large():
    rng = np.random.default_rng(65)
    i = ix(rand_idx(rng, 64, 100000))
    s = data((100000,), seed=65)
    same(ember.zeros(8, 8).cuda().put_(i.cuda(), s.cuda(), accumulate=True),
         ember.zeros(8, 8).put_(i, s, accumulate=True))


# ---- out-of-bounds indices ----------------------------------------------------------------------------
# name -> (the failing call, a valid call of the same op); both take (x, device) where x is (4, 5)
OOB = {
    "getitem": (lambda x, d: x[ix([0, 4]).to(d)], lambda x, d: x[ix([0, 3, -4]).to(d)]),
    "getitem_negative": (lambda x, d: x[ix([-5]).to(d)], lambda x, d: x[ix([-1]).to(d)]),
    "getitem_second_dim_int32": (lambda x, d: x[ix([1, 2]).to(d), ix([0, 7], "int32").to(d)],
                                 lambda x, d: x[ix([1, 2]).to(d), ix([0, 4], "int32").to(d)]),
    "getitem_large": (lambda x, d: x.reshape(-1)[ix(np.r_[np.zeros(100000), [20]]).to(d)],
                      lambda x, d: x.reshape(-1)[ix(np.r_[np.zeros(100000), [19]]).to(d)]),
    "index_select": (lambda x, d: ember.index_select(x, 1, ix([1, 7]).to(d)),
                     lambda x, d: ember.index_select(x, 1, ix([1, 4]).to(d))),
    "index_select_negative": (lambda x, d: ember.index_select(x, 0, ix([-1]).to(d)),
                              lambda x, d: ember.index_select(x, 0, ix([3]).to(d))),
    "gather": (lambda x, d: ember.gather(x, 1, ix([[1, 7]]).to(d)),
               lambda x, d: ember.gather(x, 1, ix([[1, 4]]).to(d))),
    "gather_negative": (lambda x, d: ember.gather(x, 0, ix([[-1]]).to(d)),
                        lambda x, d: ember.gather(x, 0, ix([[0]]).to(d))),
    "scatter_": (lambda x, d: x.scatter_(1, ix([[1, 7]]).to(d), 1.0),
                 lambda x, d: x.scatter_(1, ix([[1, 4]]).to(d), 1.0)),
    "scatter_src": (lambda x, d: x.scatter_(0, ix([[4]]).to(d), ember.ones(1, 1).to(d)),
                    lambda x, d: x.scatter_(0, ix([[3]]).to(d), ember.ones(1, 1).to(d))),
    "take": (lambda x, d: ember.take(x, ix([20]).to(d)), lambda x, d: ember.take(x, ix([19]).to(d))),
    "take_negative": (lambda x, d: ember.take(x, ix([-21]).to(d)), lambda x, d: ember.take(x, ix([-20]).to(d))),
    "index_put_": (lambda x, d: x.index_put_((ix([4]).to(d),), ember.tensor(1.0).to(d)),
                   lambda x, d: x.index_put_((ix([3]).to(d),), ember.tensor(1.0).to(d))),
    "index_put_accumulate": (lambda x, d: x.index_put_((ix([-9]).to(d),), ember.tensor(1.0).to(d), accumulate=True),
                             lambda x, d: x.index_put_((ix([-4]).to(d),), ember.tensor(1.0).to(d), accumulate=True)),
    "setitem": (lambda x, d: x.__setitem__(ix([0, 4]).to(d), 2.0), lambda x, d: x.__setitem__(ix([0, 3]).to(d), 2.0)),
}


@pytest.mark.parametrize("case", list(OOB))
def test_out_of_bounds_raises_index_error(case):
    bad, ok = OOB[case]
    xg = data((4, 5), seed=66).cuda()
    with pytest.raises(IndexError, match=r"out of bounds"):
        r = bad(xg, "cuda")
        ember.cuda.synchronize()
        del r
    # the GPU is still usable: the valid form of the same op, on the same tensor, matches the CPU
    x = xg.cpu()
    want = ok(x, "cpu")
    got = ok(xg, "cuda")
    if want is not None:
        same(got, want)
    same(xg, x)
    same(xg * 2 + 1, x * 2 + 1)
    ember.cuda.synchronize()


# ---- autograd -----------------------------------------------------------------------------------------
def _idx_dup():
    return ix([0, 2, 0, 0, -1, 5, 2])


GRAD_CASES = {
    "getitem_duplicates": lambda x, d: x[_idx_dup().to(d)],
    "getitem_two_dims": lambda x, d: x[ix([0, 0, 5, 5]).to(d), ix([1, 1, -1, 1], "int32").to(d)],
    "getitem_mask": lambda x, d: x[(ember.arange(24).reshape(6, 4) % 3 == 0).to(d)],
    "gather_dim0": lambda x, d: ember.gather(x, 0, ix([[0, 1, 0, 5], [0, 0, 5, 5], [2, 2, 2, 2]]).to(d)),
    "gather_dim1": lambda x, d: ember.gather(x, 1, ix([[0, 0, 3]] * 6).to(d)),
    "index_select_dim0": lambda x, d: ember.index_select(x, 0, _idx_dup().abs().to(d)),
    "index_select_dim1": lambda x, d: ember.index_select(x, 1, ix([3, 3, 0, 3]).to(d)),
    "take": lambda x, d: ember.take(x, ix([0, 0, 23, -1, 5]).to(d)),
    "masked_select": lambda x, d: ember.masked_select(x, (ember.arange(4) % 2 == 0).to(d)),
}


@pytest.mark.parametrize("case", list(GRAD_CASES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_backward(case, dtype):
    f = GRAD_CASES[case]
    x = data((6, 4), dtype, seed=67)
    xc = x.clone().requires_grad_()
    yc = f(xc, "cpu")
    w = data(tuple(yc.shape), dtype, seed=68)  # integer weights: exact sums in any order
    (yc * w).sum().backward()
    xg = x.cuda().requires_grad_()
    yg = f(xg, "cuda")
    same(yg.detach(), yc.detach())
    (yg * w.cuda()).sum().backward()
    assert xg.grad is not None
    same(xg.grad, xc.grad)


# ---- duplicate destinations: deterministic on the GPU too ---------------------------------------
@pytest.mark.parametrize("n", [5, 100, 5000])  # few lines: the sorted path; the index order decides
def test_duplicate_writes_last_wins_like_cpu(n):
    rng = np.random.default_rng(n)
    x = data((8,), "float32")
    idx = ix(rng.integers(0, 8, n))
    v = ember.from_numpy(rng.standard_normal(n).astype(np.float32))
    want = x.clone()
    want[idx] = v
    got = x.cuda()
    got[idx.cuda()] = v.cuda()
    np.testing.assert_array_equal(to_np(got), to_np(want))
    s = ember.zeros(8).scatter_(0, idx, v)
    sg = ember.zeros(8, device="cuda").scatter_(0, idx.cuda(), v.cuda())
    np.testing.assert_array_equal(to_np(sg), to_np(s))
    a = ember.zeros(8).index_put_((idx,), v, accumulate=True)  # float sums in index order: bit-equal
    ag = ember.zeros(8, device="cuda").index_put_((idx.cuda(),), v.cuda(), accumulate=True)
    np.testing.assert_array_equal(to_np(ag), to_np(a))


def test_cpu_index_on_a_gpu_tensor_moves_like_torch():
    x = data((6, 4), "float32")
    np.testing.assert_array_equal(to_np(x.cuda()[[0, 5, 2]]), to_np(x[[0, 5, 2]]))
    np.testing.assert_array_equal(to_np(x.cuda()[ember.tensor([1, 1])]), to_np(x[ember.tensor([1, 1])]))
