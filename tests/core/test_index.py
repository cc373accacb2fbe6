"""Advanced indexing and the index op family against NumPy references.

Covers x[idx] / x[idx] = v with integer and bool tensors, index_put_, index_select, gather,
scatter*, index_add/copy/fill, masked_select/scatter, nonzero/argwhere, take,
take_along_dim and put_: dtypes, non-contiguous inputs, empty and 0-d cases, negative
indices, duplicates, and every error case.
"""
import numpy as np
import pytest

import ember

RNG = np.random.default_rng(1234)

ALL_DTYPES = [ember.bool, ember.uint8, ember.int8, ember.int16, ember.int32, ember.int64, ember.float16,
              ember.bfloat16, ember.float32, ember.float64, ember.complex64]
NP_OF = {ember.bool: np.bool_, ember.uint8: np.uint8, ember.int8: np.int8, ember.int16: np.int16,
         ember.int32: np.int32, ember.int64: np.int64, ember.float16: np.float16, ember.bfloat16: np.float32,
         ember.float32: np.float32, ember.float64: np.float64, ember.complex64: np.complex64}


def T(a, dtype=None):
    """ember tensor from a numpy array (bfloat16 goes through float32)."""
    a = np.asarray(a)
    if dtype == ember.bfloat16:
        return ember.tensor(a.astype(np.float32)).to(ember.bfloat16)
    t = ember.tensor(a)
    return t if dtype is None else t.to(dtype)


def N(t):
    """numpy copy of an ember tensor (bfloat16 as float32)."""
    if t.dtype == ember.bfloat16:
        t = t.float()
    return np.array(t.numpy())


def data(shape, dtype=ember.float32):
    """Random values exactly representable in every dtype (small integers)."""
    a = RNG.integers(-8, 9, size=shape)
    if dtype == ember.bool:
        a = a > 0
    elif dtype == ember.uint8:
        a = np.abs(a)
    elif dtype == ember.complex64:
        a = a + 1j * RNG.integers(-8, 9, size=shape)
    return a.astype(NP_OF[dtype])


def idx(n, *shape, low=None):
    return RNG.integers(-n if low is None else low, n, size=shape).astype(np.int64)


def check(t, ref):
    got = N(t)
    assert got.shape == np.asarray(ref).shape, (got.shape, np.asarray(ref).shape)
    np.testing.assert_array_equal(got, ref)


# ---------------------------------------------------------------------------------------------
# x[idx]
# ---------------------------------------------------------------------------------------------

# (shape, key builder returning a tuple of numpy keys); numpy and PyTorch agree on these.
GET_CASES = [
    ((6,), lambda: (idx(6, 10),)),
    ((6, 4), lambda: (idx(6, 7),)),
    ((6, 4), lambda: (idx(6, 2, 3),)),
    ((6, 4), lambda: (slice(None), idx(4, 5))),
    ((6, 4, 5), lambda: (idx(6, 3), idx(4, 3))),
    ((6, 4, 5), lambda: (idx(6, 3, 1), idx(4, 1, 2))),                  # broadcast index shapes
    ((6, 4, 5), lambda: (idx(6, 3), slice(None), idx(5, 3))),           # non-adjacent: index dims first
    ((6, 4, 5), lambda: (slice(None), idx(4, 2, 2), idx(5, 2))),        # adjacent, in the middle
    ((6, 4, 5), lambda: (slice(1, None, 2), idx(4, 3))),                # with a stepped slice
    ((6, 4, 5), lambda: (Ellipsis, idx(5, 3))),
    ((6, 4, 5), lambda: (idx(6, 3), Ellipsis, idx(5, 3))),
    ((6, 4, 5), lambda: (None, idx(6, 3))),
    ((6, 4, 5), lambda: (idx(6, 3), None)),
    ((6, 4, 5), lambda: (slice(None), None, idx(4, 3))),
    ((2, 3, 4, 5), lambda: (idx(2, 3), slice(None), slice(None), idx(5, 3))),
    ((2, 3, 4, 5), lambda: (slice(None), idx(3, 4), slice(None), idx(5, 4))),
    ((6, 4), lambda: (RNG.random((6, 4)) > 0.5,)),                      # full mask
    ((6, 4, 5), lambda: (RNG.random(6) > 0.5,)),                        # mask over the first dim
    ((6, 4, 5), lambda: (slice(None), RNG.random((4, 5)) > 0.5)),        # 2-d mask in the middle
    ((6, 4, 5), lambda: (RNG.random(6) > 0.3, slice(None), idx(5, 1))),   # mask with an index
    ((6, 4), lambda: (np.zeros(0, np.int64),)),
    ((6, 4), lambda: (np.zeros((0, 3), np.int64),)),
    ((6, 4), lambda: (np.zeros(6, bool),)),
    ((6, 4), lambda: (np.array(-1),)),                                  # 0-d index
    ((6, 4), lambda: (np.array([5, 5, 0, 5]), np.array(-2))),
    ((0, 4), lambda: (slice(None), idx(4, 3))),                          # zero-size input
]


@pytest.mark.parametrize("case", range(len(GET_CASES)))
def test_getitem_matches_numpy(case):
    shape, make = GET_CASES[case]
    a = data(shape)
    key = make()
    ref = a[key]
    tkey = tuple(T(k) if isinstance(k, np.ndarray) else k for k in key)
    check(T(a)[tkey], ref)


def test_getitem_lists_and_int32():
    a = data((5, 6))
    x = T(a)
    check(x[[0, 2, -1]], a[[0, 2, -1]])
    check(x[[0, 1], [1, 2]], a[[0, 1], [1, 2]])
    check(x[[[0], [4]], [1, 2, 3]], a[[[0], [4]], [1, 2, 3]])
    check(x[[True, False, True, False, True]], a[[True, False, True, False, True]])
    i32 = T(np.array([4, -5, 2], np.int32))
    assert i32.dtype == ember.int32
    check(x[i32], a[[4, -5, 2]])
    check(x[:, i32], a[:, [4, -5, 2]])
    check(x[:, ember.tensor([1, 0, 1, 0, 0, 1], dtype=ember.uint8)], a[:, [True, False, True, False, False, True]])


def test_getitem_int_with_index_follows_pytorch():
    # PyTorch (unlike NumPy) turns the int into a view first: the index dim stays in place
    a = data((3, 4, 5))
    check(T(a)[1, :, T(np.array([0, 2]))], a[1][:, [0, 2]])


def test_getitem_bool_scalars():
    a = data((3, 4))
    x = T(a)
    check(x[ember.tensor(True)], a[None])
    check(x[ember.tensor(False)], a[None][:0])
    check(x[True, T(np.array([2, 0]))], a[None][:, [2, 0]])


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_getitem_dtypes(dtype):
    a = data((7, 3), dtype)
    x = T(a, dtype)
    i = idx(7, 9)
    r = x[T(i)]
    assert r.dtype == dtype
    check(r, a[i])
    m = RNG.random((7, 3)) > 0.4
    check(x[T(m)], a[m])
    j = idx(3, 9)
    check(x[T(i), T(j)], a[i, j])


@pytest.mark.parametrize("layout", ["transposed", "stepped", "expanded", "offset"])
def test_getitem_non_contiguous(layout):
    a = data((6, 8, 5))
    x = T(a)
    if layout == "transposed":
        x, a = x.transpose(0, 2), a.swapaxes(0, 2)
    elif layout == "stepped":
        x, a = x[::2, 1::3], a[::2, 1::3]
    elif layout == "expanded":
        x, a = x[:, :1].expand(6, 4, 5), np.broadcast_to(a[:, :1], (6, 4, 5))
    else:
        x, a = x[2:, 3:], a[2:, 3:]
    i = idx(a.shape[0], 5)
    j = idx(a.shape[2], 5)
    check(x[T(i)], a[i])
    check(x[:, :, T(j)], a[:, :, j])
    check(x[T(i), :, T(j)], a[i, :, j])
    m = RNG.random(a.shape[1:]) > 0.5
    check(x[:, T(m)], a[:, m])


def test_getitem_non_contiguous_index():
    a = data((9, 4))
    i = idx(9, 6, 4)
    ti = T(i)
    check(T(a)[ti.t()], a[i.T])
    check(T(a)[ti[::2, 1:]], a[i[::2, 1:]])
    check(T(a)[ti[:, :1].expand(6, 5)], a[np.broadcast_to(i[:, :1], (6, 5))])


def test_getitem_row_gather_large():
    a = RNG.standard_normal((5000, 16)).astype(np.float32)
    i = RNG.integers(-5000, 5000, 70000)
    check(T(a)[T(i)], a[i])
    check(T(a)[T(i.astype(np.int32))], a[i])
    b = a[:, 0].copy()
    check(T(b)[T(i)], b[i])


def test_getitem_result_is_a_copy():
    a = data((4, 3))
    x = T(a)
    r = x[T(np.array([0, 1]))]
    r[0, 0] = 100
    assert x[0, 0].item() == a[0, 0]


# ---------------------------------------------------------------------------------------------
# x[idx] = v, index_put_
# ---------------------------------------------------------------------------------------------

SET_CASES = [
    ((6,), lambda: (np.array([0, 3, -1]),), (3,)),
    ((6, 4), lambda: (np.array([4, 0, -3]),), (3, 4)),
    ((6, 4), lambda: (np.array([4, 0, -3]),), (4,)),                   # broadcast value
    ((6, 4), lambda: (np.array([4, 0, -3]),), ()),
    ((6, 4, 5), lambda: (np.array([1, 2]), slice(None), np.array([0, 4])), (2, 4)),
    ((6, 4, 5), lambda: (slice(None), np.array([[1], [2]]), np.array([0, 4, 3])), (6, 2, 3)),
    ((6, 4, 5), lambda: (slice(None), RNG.random((4, 5)) > 0.5), ()),
    ((6, 4), lambda: (RNG.random((6, 4)) > 0.5,), ()),
    ((6, 4), lambda: (np.zeros(0, np.int64),), ()),
]


@pytest.mark.parametrize("case", range(len(SET_CASES)))
def test_setitem_matches_numpy(case):
    shape, make, vshape = SET_CASES[case]
    a = data(shape)
    key = make()
    ref = a.copy()
    tgt = ref[key]
    v = data(vshape) if vshape else np.float32(7)
    ref[key] = v
    del tgt
    x = T(a)
    tkey = tuple(T(k) if isinstance(k, np.ndarray) else k for k in key)
    x[tkey] = T(v) if vshape else 7.0
    check(x, ref)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_setitem_dtypes_and_cast(dtype):
    a = data((6, 3), dtype)
    v = data((2, 3), dtype)
    x = T(a, dtype)
    i = np.array([4, 1])
    x[T(i)] = T(v, dtype)
    ref = a.copy()
    ref[i] = v
    check(x, ref)
    # values of another dtype are cast to x's dtype
    x = T(a, dtype)
    x[T(i)] = T(np.ones((2, 3)), ember.float64) if dtype != ember.complex64 else ember.ones(2, 3)
    ref = a.copy()
    ref[i] = 1
    check(x, ref)


def test_setitem_duplicates_last_wins():
    x = ember.zeros(5)
    x[T(np.array([1, 3, 1, 1]))] = T(np.array([1.0, 2.0, 3.0, 4.0], np.float32))
    check(x, np.array([0, 4, 0, 2, 0], np.float32))
    # large enough to run in parallel: split over destinations (short rows) and over columns (long rows)
    for rows, cols in ((3000, 400), (30, 50000)):
        i = np.array([2, 0, 2] * (rows // 3))
        v = RNG.standard_normal((rows, cols)).astype(np.float32)
        big = ember.zeros(3, cols)
        big[T(i)] = T(v)
        ref = np.zeros((3, cols), np.float32)
        ref[2] = v[-1]
        ref[0] = v[-2]
        check(big, ref)


def test_setitem_non_contiguous_target_and_version():
    a = data((5, 6))
    x = T(a)
    xt = x.t()
    v0 = x._version
    xt[T(np.array([0, 5]))] = T(np.array([[1.0] * 5, [2.0] * 5], np.float32))
    ref = a.copy()
    ref[:, 0] = 1
    ref[:, 5] = 2
    check(x, ref)
    assert x._version > v0


def test_setitem_value_aliases_target():
    a = data((6, 3))
    x = T(a)
    x[T(np.array([1, 2, 3]))] = x[0:3]
    ref = a.copy()
    ref[[1, 2, 3]] = a[0:3]
    check(x, ref)
    y = ember.arange(6)
    y[T(np.array([5, 4]))] = y[:2]
    check(y, np.array([0, 1, 2, 3, 1, 0]))


def test_setitem_index_aliases_target():
    y = ember.tensor([2, 0, 1, 3])
    y[y] = ember.tensor([10, 11, 12, 13])
    ref = np.array([2, 0, 1, 3])
    ref[ref.copy()] = [10, 11, 12, 13]
    check(y, ref)


def test_index_put_accumulate_matches_add_at():
    n = 200000
    a = RNG.standard_normal(50).astype(np.float32)
    i = RNG.integers(-50, 50, n)
    v = RNG.standard_normal(n).astype(np.float32)
    ref = a.copy()
    np.add.at(ref, i, v)        # sequential, in index order, in float32
    x = T(a)
    x.index_put_((T(i),), T(v), accumulate=True)
    np.testing.assert_array_equal(N(x), ref)  # bitwise: same order of additions


def test_index_put_accumulate_deterministic_across_threads():
    i = RNG.integers(0, 30, (20000,))
    v = RNG.standard_normal((20000, 64)).astype(np.float32)
    n0 = ember.get_num_threads()
    outs = []
    for nt in (1, max(2, n0)):
        ember.set_num_threads(nt)
        x = ember.zeros(30, 64)
        x.index_put_((T(i),), T(v), accumulate=True)
        y = ember.zeros(30, 64)
        y.index_add_(0, T(i), T(v))
        z = ember.zeros(30, 64)
        z.scatter_add_(0, T(np.broadcast_to(i[:, None], (20000, 64)).copy()), T(v))
        outs.append((N(x), N(y), N(z)))
    ember.set_num_threads(n0)
    for k in range(3):
        np.testing.assert_array_equal(outs[0][k], outs[1][k])
    ref = np.zeros((30, 64), np.float32)
    np.add.at(ref, i, v)
    np.testing.assert_array_equal(outs[0][0], ref)
    np.testing.assert_array_equal(outs[0][1], ref)
    np.testing.assert_array_equal(outs[0][2], ref)


@pytest.mark.parametrize("dtype", [ember.bool, ember.int8, ember.int32, ember.int64, ember.float16, ember.bfloat16,
                                   ember.float64, ember.complex64], ids=str)
def test_index_put_accumulate_dtypes(dtype):
    a = data((5, 2), dtype)
    v = data((7, 2), dtype)
    i = np.array([0, 4, 0, 0, 2, -1, 4])
    x = T(a, dtype)
    x.index_put_((T(i),), T(v, dtype), accumulate=True)
    if dtype == ember.bool:
        ref = a.copy()
        np.logical_or.at(ref, i, v)
    else:
        ref = a.astype(np.complex128 if dtype == ember.complex64 else np.float64)
        np.add.at(ref, i, v)
    check(x, ref.astype(NP_OF[dtype]))


def test_index_put_forms():
    a = data((4, 5))
    i, j = np.array([0, 3, 3]), np.array([1, 2, 2])
    x = T(a)
    r = ember.index_put(x, (T(i), T(j)), T(np.array([1.0, 2.0, 3.0], np.float32)), accumulate=True)
    ref = a.copy()
    np.add.at(ref, (i, j), [1, 2, 3])
    check(r, ref)
    check(x, a)  # out of place
    r2 = x.index_put((None, T(j)), T(np.float32(5)))
    ref2 = a.copy()
    ref2[:, j] = 5
    check(r2, ref2)
    out = x.index_put_([T(i)], 9.0)
    assert out._is_same(x)
    ref3 = a.copy()
    ref3[i] = 9
    check(x, ref3)
    y = T(a)
    y.index_put_((ember.tensor(True),), T(np.zeros(5, np.float32)))
    check(y, np.zeros((4, 5)))
    check(ember.index_put(ember.tensor(5.0), (ember.tensor(True),), ember.tensor(2.0)), np.float32(2))
    check(ember.index_put(ember.tensor(5.0), (ember.tensor(False),), ember.tensor(2.0)), np.float32(5))


# ---------------------------------------------------------------------------------------------
# advanced indexing errors
# ---------------------------------------------------------------------------------------------

def test_index_out_of_bounds_messages():
    x = ember.zeros(4, 5)
    with pytest.raises(IndexError, match=r"\[index\] index 4 is out of bounds for dimension 0 with size 4"):
        x[T(np.array([0, 4, 9]))]
    with pytest.raises(IndexError, match=r"\[index\] index -6 is out of bounds for dimension 1 with size 5"):
        x[:, T(np.array([-6]))]
    with pytest.raises(IndexError, match=r"\[index\] index 7 is out of bounds for dimension 1 with size 5"):
        x[T(np.array([1, 2])), T(np.array([0, 7]))]
    with pytest.raises(IndexError, match=r"index 5 is out of bounds for dimension 0 with size 4"):
        x[[1, 5]]
    with pytest.raises(IndexError, match=r"\[index_put_\] index 4 is out of bounds for dimension 0 with size 4"):
        x[T(np.array([4]))] = 1.0
    with pytest.raises(IndexError, match=r"\[index_put_\] index -9 is out of bounds for dimension 0 with size 4"):
        x.index_put_((T(np.array([-9])),), ember.tensor(1.0), accumulate=True)
    with pytest.raises(IndexError, match=r"out of bounds for dimension 0 with size 0"):
        ember.zeros(0, 3)[T(np.array([0]))]
    check(x, np.zeros((4, 5)))  # failed writes wrote nothing


def test_index_wrong_dtype_and_shapes():
    x = ember.zeros(4, 5)
    with pytest.raises(IndexError, match=r"tensors used as indices must be long, int, byte or bool"):
        x[ember.tensor([1.0])]
    with pytest.raises(IndexError, match=r"tensors used as indices must be long, int, byte or bool"):
        x[ember.tensor([1], dtype=ember.int16)]
    with pytest.raises(IndexError, match=r"the shape of the mask \(2,\) at index 0 does not match"):
        x[ember.tensor([True, False])]
    with pytest.raises(IndexError, match=r"could not be broadcast together with shapes \(2,\), \(3,\)"):
        x[T(np.array([1, 2])), T(np.array([1, 2, 3]))]
    with pytest.raises(IndexError, match=r"too many indices for tensor of dimension 2"):
        x[T(np.array([1])), T(np.array([1])), T(np.array([1]))]
    with pytest.raises(IndexError, match=r"too many indices"):
        x.index_put_((T(np.array([1])), T(np.array([1])), T(np.array([1]))), ember.tensor(1.0))
    with pytest.raises(ValueError, match=r"\[index_put_\] shape mismatch: value tensor of shape \(3,\) cannot be "
                                         r"broadcast to indexing result of shape \(1, 5\)"):
        x[T(np.array([1]))] = ember.ones(3)
    with pytest.raises(ValueError, match=r"cannot write into an expanded tensor"):
        ember.zeros(1, 5).expand(4, 5)[T(np.array([1]))] = 1.0
    with pytest.raises(TypeError, match=r"indices must be a tuple or list"):
        x.index_put_(T(np.array([1])), ember.tensor(1.0))


# ---------------------------------------------------------------------------------------------
# index_select
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_index_select_dtypes(dtype):
    a = data((5, 6, 3), dtype)
    for dim in (0, 1, 2, -1):
        i = idx(a.shape[dim], 8, low=0)
        r = ember.index_select(T(a, dtype), dim, T(i))
        check(r, np.take(a, i, axis=dim))


def test_index_select_forms():
    a = data((5, 6))
    x = T(a)
    i = np.array([5, 0, 0, 2])
    check(x.index_select(1, T(i)), a[:, i])
    check(x.index_select(1, T(i.astype(np.int32))), a[:, i])
    check(x.index_select(0, ember.tensor(3)), a[[3]])
    check(x.index_select(0, T(np.zeros(0, np.int64))), a[:0])
    check(x.t().index_select(0, T(i)), a.T[i])
    check(x[:, ::2].index_select(1, T(np.array([2, 1]))), a[:, ::2][:, [2, 1]])
    check(ember.index_select(ember.tensor(3.0), 0, ember.tensor([0])), np.float32(3))
    out = ember.zeros(5, 4)
    r = ember.index_select(x, 1, T(i), out=out)
    check(out, a[:, i])
    big = RNG.standard_normal((3000, 33)).astype(np.float32)
    bi = RNG.integers(0, 3000, 50000)
    check(ember.index_select(T(big), 0, T(bi)), big[bi])
    check(ember.index_select(T(big), 1, T(bi[:500] % 33)), big[:, bi[:500] % 33])
    del r


def test_index_select_errors():
    x = ember.zeros(4, 5)
    with pytest.raises(IndexError, match=r"\[index_select\] index 7 is out of bounds for dimension 1 with size 5"):
        ember.index_select(x, 1, T(np.array([1, 7])))
    with pytest.raises(IndexError, match=r"\[index_select\] index -1 is out of bounds for dimension 0 with size 4"):
        ember.index_select(x, 0, T(np.array([-1])))
    with pytest.raises(TypeError, match=r"\[index_select\] index must be an int64 or int32 tensor: expected "
                                        r"ember.int64, got ember.float32"):
        ember.index_select(x, 1, ember.tensor([1.0]))
    with pytest.raises(TypeError, match=r"got ember.int16"):
        ember.index_select(x, 1, ember.tensor([1], dtype=ember.int16))
    with pytest.raises(ValueError, match=r"\[index_select\] index must be a vector"):
        ember.index_select(x, 1, T(np.array([[1]])))
    with pytest.raises(IndexError, match=r"dimension out of range"):
        ember.index_select(x, 2, T(np.array([1])))
    with pytest.raises(ValueError, match=r"out has the wrong shape"):
        ember.index_select(x, 1, T(np.array([1])), out=ember.zeros(2))


# ---------------------------------------------------------------------------------------------
# gather / take_along_dim
# ---------------------------------------------------------------------------------------------

def gather_ref(a, dim, i):
    out = np.empty(i.shape, a.dtype)
    for pos in np.ndindex(*i.shape):
        src = list(pos)
        src[dim] = i[pos]
        out[pos] = a[tuple(src)]
    return out


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_gather_dtypes(dtype):
    a = data((4, 5, 3), dtype)
    for dim in range(3):
        shape = [2, 3, 2]
        shape[dim] = 6
        i = idx(a.shape[dim], *shape, low=0)
        check(ember.gather(T(a, dtype), dim, T(i)), gather_ref(a, dim, i))


def test_gather_forms():
    a = data((6, 7))
    x = T(a)
    i = idx(7, 6, 9, low=0)
    check(x.gather(1, T(i)), np.take_along_axis(a, i, 1))
    check(x.gather(-1, T(i.astype(np.int32))), np.take_along_axis(a, i, 1))
    check(x.t().gather(0, T(i.T.copy())), np.take_along_axis(a.T, i.T, 0))
    check(x.gather(1, T(i).t().t()[:, ::2]), np.take_along_axis(a, i[:, ::2], 1))
    check(x.gather(1, T(np.zeros((6, 0), np.int64))), np.zeros((6, 0)))
    check(ember.gather(ember.tensor(5.0), 0, ember.tensor(0)), np.float32(5))
    check(ember.gather(x[:, :1].expand(6, 7), 1, T(i)), np.take_along_axis(np.broadcast_to(a[:, :1], (6, 7)), i, 1))
    out = ember.empty(6, 9)
    ember.gather(x, 1, T(i), out=out)
    check(out, np.take_along_axis(a, i, 1))
    big = RNG.standard_normal((300, 400)).astype(np.float32)
    bi = RNG.integers(0, 400, (300, 500))
    check(ember.gather(T(big), 1, T(bi)), np.take_along_axis(big, bi, 1))
    bi0 = RNG.integers(0, 300, (700, 400))
    check(ember.gather(T(big), 0, T(bi0)), np.take_along_axis(big, bi0, 0))


def test_gather_errors():
    x = ember.zeros(4, 5)
    with pytest.raises(IndexError, match=r"\[gather\] index 7 is out of bounds for dimension 1 with size 5"):
        ember.gather(x, 1, T(np.array([[1, 7]])))
    with pytest.raises(IndexError, match=r"\[gather\] index -1 is out of bounds for dimension 0 with size 4"):
        ember.gather(x, 0, T(np.array([[-1]])))
    with pytest.raises(ValueError, match=r"\[gather\] index must have as many dimensions as the input"):
        ember.gather(x, 1, T(np.array([1])))
    with pytest.raises(ValueError, match=r"\[gather\] index of shape \(5, 1\) must be no larger than the input"):
        ember.gather(x, 1, T(np.zeros((5, 1), np.int64)))
    with pytest.raises(TypeError, match=r"\[gather\] index must be an int64 or int32 tensor"):
        ember.gather(x, 1, ember.zeros(1, 1))


def test_take_along_dim():
    a = data((4, 1, 3))
    i = idx(3, 1, 5, 2, low=0)
    check(ember.take_along_dim(T(a), T(i), 2),
          np.take_along_axis(np.broadcast_to(a, (4, 5, 3)), np.broadcast_to(i, (4, 5, 2)), 2))
    j = idx(12, 7, low=0)
    check(ember.take_along_dim(T(a), T(j)), a.reshape(-1)[j])
    check(T(a).take_along_dim(T(i), dim=-1), np.take_along_axis(np.broadcast_to(a, (4, 5, 3)),
                                                                 np.broadcast_to(i, (4, 5, 2)), 2))
    with pytest.raises(ValueError, match=r"\[take_along_dim\] input and indices must have the same number"):
        ember.take_along_dim(T(a), T(j), 1)
    with pytest.raises(TypeError, match=r"\[take_along_dim\] index must be an int64 tensor"):
        ember.take_along_dim(T(a), T(i.astype(np.int32)), 2)
    with pytest.raises(IndexError, match=r"\[take_along_dim\] index 3 is out of bounds for dimension 2 with size 3"):
        ember.take_along_dim(T(a), T(i + 1), 2)


# ---------------------------------------------------------------------------------------------
# scatter family
# ---------------------------------------------------------------------------------------------

def scatter_ref(a, dim, i, src, op=None, include_self=True):
    out = a.astype(np.complex128 if np.iscomplexobj(a) else np.float64).copy()
    hit = {}
    for pos in np.ndindex(*i.shape):
        dst = list(pos)
        dst[dim] = i[pos]
        dst = tuple(dst)
        v = src[pos] if np.ndim(src) else src
        if op is None:
            out[dst] = v
            continue
        hit.setdefault(dst, []).append(v)
    for dst, vs in hit.items():
        vals = ([a[dst]] if include_self else []) + vs
        if op == "sum":
            out[dst] = sum(vals)
        elif op == "prod":
            out[dst] = np.prod(vals)
        elif op == "amax":
            out[dst] = max(vals)
        elif op == "amin":
            out[dst] = min(vals)
        elif op == "mean":
            m = sum(vals) / len(vals)
            out[dst] = m if a.dtype.kind in "fc" else np.floor(m)
    return out.astype(a.dtype)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_scatter_dtypes(dtype):
    a = data((5, 4), dtype)
    for dim in (0, 1):
        i = np.stack([RNG.permutation(a.shape[dim])[:3] for _ in range(2)])   # unique per line
        i = i if dim == 1 else i.T.copy()
        src = data(i.shape, dtype)
        x = T(a, dtype)
        x.scatter_(dim, T(i), T(src, dtype))
        check(x, scatter_ref(a, dim, i, src))


def test_scatter_forms():
    a = data((5, 6))
    i = np.array([[1, 1, 4], [0, 2, 2]])          # duplicates: the last one wins
    src = data((2, 3))
    check(ember.scatter(T(a), 1, T(i), T(src)), scatter_ref(a, 1, i, src))
    check(T(a).scatter(1, T(i), T(src)), scatter_ref(a, 1, i, src))
    check(T(a).scatter(1, T(i), value=2.5), scatter_ref(a, 1, i, np.float32(2.5)))
    check(T(a).scatter(1, T(i), 3), scatter_ref(a, 1, i, np.float32(3)))
    check(T(a).scatter(1, T(i), T(src), reduce="add"), scatter_ref(a, 1, i, src, "sum"))
    check(T(a).scatter(1, T(i), T(src), reduce="multiply"), scatter_ref(a, 1, i, src, "prod"))
    check(T(a).scatter(1, T(i), 2.0, reduce="multiply"), scatter_ref(a, 1, i, np.float32(2), "prod"))
    x = T(a)
    r = x.scatter_(0, T(i.astype(np.int32)), T(data((3, 3))[:2]))
    assert r._is_same(x)
    # src larger than index, non-contiguous self
    big = data((4, 8))
    xt = T(a).t()          # (6, 5)
    xt.scatter_(1, T(np.array([[4], [0]])), T(big)[::2, ::3])
    ref = a.T.copy()
    ref[0, 4] = big[0, 0]
    ref[1, 0] = big[2, 0]
    check(xt, ref)
    z = ember.zeros(3)
    z.scatter_(0, ember.tensor(1), 7.0)
    check(z, np.array([0, 7, 0]))
    check(ember.zeros(3).scatter(0, T(np.zeros(0, np.int64)), 1.0), np.zeros(3))
    iz = ember.zeros(3, dtype=ember.int64)
    check(iz.scatter(0, ember.tensor([1]), 7.5), np.array([0, 7, 0]))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dtype", [ember.int32, ember.int64, ember.float16, ember.float32, ember.float64], ids=str)
def test_scatter_reduce(reduce, include_self, dtype):
    a = data((4, 6), dtype)
    i = idx(6, 4, 9, low=0)
    src = data((4, 9), dtype)
    if reduce == "prod":
        src = (src % 3 - 1).astype(src.dtype)
    r = T(a, dtype).scatter_reduce(1, T(i), T(src, dtype), reduce, include_self=include_self)
    ref = scatter_ref(a, 1, i, src, reduce, include_self)
    if dtype == ember.float16:
        np.testing.assert_allclose(N(r), ref, rtol=2e-3)
    else:
        check(r, ref)


def test_scatter_reduce_nan_and_inplace():
    x = ember.tensor([1.0, 2.0, 3.0])
    x.scatter_reduce_(0, ember.tensor([0, 0, 2]), ember.tensor([float("nan"), 5.0, 1.0]), "amax")
    r = N(x)
    assert np.isnan(r[0]) and r[1] == 2 and r[2] == 3
    y = ember.tensor([1, 2, 3, 4])
    y.scatter_reduce_(0, ember.tensor([0, 0, 1, 1]), ember.tensor([4, 5, -7, 0]), "mean", include_self=False)
    check(y, np.array([4, -4, 3, 4]))


def test_scatter_add():
    a = data((5, 4))
    i = idx(5, 7, 4, low=0)
    src = data((7, 4))
    ref = scatter_ref(a, 0, i, src, "sum")
    check(ember.scatter_add(T(a), 0, T(i), T(src)), ref)
    x = T(a)
    x.scatter_add_(0, T(i), T(src))
    check(x, ref)
    n = 300000
    bi = RNG.integers(0, 100, n)
    bv = RNG.standard_normal(n).astype(np.float32)
    ref = np.zeros(100, np.float32)
    np.add.at(ref, bi, bv)
    np.testing.assert_array_equal(N(ember.zeros(100).scatter_add(0, T(bi), T(bv))), ref)


def test_scatter_errors():
    x = ember.zeros(4, 5)
    i = T(np.array([[1, 7]]))
    with pytest.raises(IndexError, match=r"\[scatter\] index 7 is out of bounds for dimension 1 with size 5"):
        x.scatter_(1, i, 1.0)
    assert N(x).sum() == 0  # nothing written
    with pytest.raises(IndexError, match=r"\[scatter_add\] index 7 is out of bounds for dimension 1 with size 5"):
        x.scatter_add_(1, i, ember.ones(1, 2))
    with pytest.raises(IndexError, match=r"\[scatter_reduce\] index -1 is out of bounds for dimension 0 with size 4"):
        x.scatter_reduce_(0, T(np.array([[-1]])), ember.ones(1, 1), "sum")
    with pytest.raises(TypeError, match=r"\[scatter\] src must have the dtype of self: expected ember.float32, got "
                                        r"ember.float64"):
        x.scatter_(1, T(np.array([[1]])), ember.ones(1, 1, dtype=ember.float64))
    with pytest.raises(ValueError, match=r"\[scatter\] index of shape \(2, 2\) must be no larger than src \(1, 1\)"):
        x.scatter_(1, T(np.zeros((2, 2), np.int64)), ember.ones(1, 1))
    with pytest.raises(ValueError, match=r"\[scatter\] index must have as many dimensions as the input"):
        x.scatter_(1, T(np.zeros(2, np.int64)), 1.0)
    with pytest.raises(ValueError, match=r"\[scatter\] reduce must be 'add' or 'multiply', got 'max'"):
        x.scatter_(1, T(np.zeros((1, 1), np.int64)), ember.ones(1, 1), reduce="max")
    with pytest.raises(ValueError, match=r"\[scatter_reduce\] reduce must be one of 'sum', 'prod', 'mean'"):
        x.scatter_reduce_(1, T(np.zeros((1, 1), np.int64)), ember.ones(1, 1), "add")
    with pytest.raises(TypeError, match=r"\[scatter\] index must be an int64 or int32 tensor"):
        x.scatter_(1, ember.zeros(1, 1), 1.0)
    with pytest.raises(ValueError, match=r"cannot write into an expanded tensor"):
        ember.zeros(1, 5).expand(4, 5).scatter_(1, T(np.zeros((1, 1), np.int64)), 1.0)
    with pytest.raises(TypeError, match=r"expected src \(a tensor\) or value \(a number\)"):
        x.scatter_(1, T(np.zeros((1, 1), np.int64)))


# ---------------------------------------------------------------------------------------------
# index_add / index_copy / index_fill
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [ember.uint8, ember.int32, ember.int64, ember.float16, ember.bfloat16,
                                   ember.float32, ember.float64, ember.complex64], ids=str)
def test_index_add_dtypes(dtype):
    a = data((5, 4, 3), dtype)
    for dim in (0, 1, 2):
        i = idx(a.shape[dim], 6, low=0)
        shape = list(a.shape)
        shape[dim] = 6
        s = data(shape, dtype)
        ref = a.astype(np.complex128 if dtype == ember.complex64 else np.float64)
        np.add.at(ref, (slice(None),) * dim + (i,), 2 * s.astype(ref.dtype))
        x = T(a, dtype)
        x.index_add_(dim, T(i), T(s, dtype), alpha=2)
        if dtype == ember.uint8:
            ref = ref.astype(np.int64) % 256
        check(x, ref.astype(NP_OF[dtype]))


def test_index_add_forms_and_errors():
    a = data((4, 5))
    i = np.array([3, 0, 3])
    s = data((4, 3))
    ref = a.astype(np.float64)
    np.add.at(ref, (slice(None), i), s)
    check(ember.index_add(T(a), 1, T(i), T(s)), ref.astype(np.float32))
    check(T(a).index_add(1, T(i.astype(np.int32)), T(s)), ref.astype(np.float32))
    check(T(a).t().index_add(0, T(i), T(s.T.copy())), ref.T.astype(np.float32))
    check(ember.zeros(()).index_add_(0, ember.tensor([0]), ember.tensor(3.0)), np.float32(3))
    x = ember.zeros(4, 5)
    with pytest.raises(IndexError, match=r"\[index_add_\] index 9 is out of bounds for dimension 0 with size 4"):
        x.index_add_(0, ember.tensor([9]), ember.ones(1, 5))
    with pytest.raises(TypeError, match=r"\[index_add_\] source must have the dtype of self"):
        x.index_add_(0, ember.tensor([1]), ember.ones(1, 5, dtype=ember.float64))
    with pytest.raises(ValueError, match=r"\[index_add_\] the number of indices \(1\) must equal source.size\(dim\) "
                                         r"\(2\) for dim 0"):
        x.index_add_(0, ember.tensor([1]), ember.ones(2, 5))
    with pytest.raises(ValueError, match=r"source shape must match self shape apart from dimension 0"):
        x.index_add_(0, ember.tensor([1]), ember.ones(1, 4))
    with pytest.raises(ValueError, match=r"\[index_add_\] index must be a vector"):
        x.index_add_(0, ember.tensor([[1]]), ember.ones(1, 5))
    with pytest.raises(TypeError, match=r"alpha must be a number"):
        x.index_add_(0, ember.tensor([1]), ember.ones(1, 5), alpha="a")


def test_index_copy():
    a = data((5, 4))
    i = np.array([4, 0, 4])      # duplicate: the last one wins
    s = data((3, 4))
    ref = a.copy()
    for k, j in enumerate(i):
        ref[j] = s[k]
    check(ember.index_copy(T(a), 0, T(i), T(s)), ref)
    x = T(a)
    x.t().index_copy_(1, T(i), T(s).t())
    check(x, ref)
    with pytest.raises(TypeError, match=r"\[index_copy_\] index must be an int64 tensor: expected ember.int64, got "
                                        r"ember.int32"):
        x.index_copy_(0, T(i.astype(np.int32)), T(s))
    with pytest.raises(IndexError, match=r"\[index_copy_\] index -1 is out of bounds for dimension 0 with size 5"):
        x.index_copy_(0, ember.tensor([-1]), T(s[:1]))
    with pytest.raises(TypeError, match=r"source must have the dtype of self"):
        x.index_copy_(0, ember.tensor([1]), ember.ones(1, 4, dtype=ember.float64))


@pytest.mark.parametrize("dtype", [ember.bool, ember.int8, ember.int64, ember.float16, ember.float32,
                                   ember.complex64], ids=str)
def test_index_fill(dtype):
    a = data((4, 5), dtype)
    x = T(a, dtype)
    r = x.index_fill(1, ember.tensor([0, -1, 2]), 1)
    ref = a.copy()
    ref[:, [0, -1, 2]] = 1
    check(r, ref)
    check(x, a)
    x.index_fill_(0, ember.tensor([3]), ember.tensor(0))
    ref = a.copy()
    ref[3] = 0
    check(x, ref)


def test_index_fill_errors_and_cast():
    x = ember.zeros(3, dtype=ember.int64)
    check(x.index_fill(0, ember.tensor([1]), 7.5), np.array([0, 7, 0]))
    with pytest.raises(ValueError, match=r"\[index_fill_\] value must be a number or a 0-d tensor"):
        x.index_fill_(0, ember.tensor([1]), ember.tensor([2]))
    with pytest.raises(TypeError, match=r"\[index_fill_\] index must be an int64 tensor"):
        x.index_fill_(0, ember.tensor([1], dtype=ember.int32), 2)
    with pytest.raises(IndexError, match=r"\[index_fill_\] index 3 is out of bounds for dimension 0 with size 3"):
        x.index_fill_(0, ember.tensor([3]), 2)


# ---------------------------------------------------------------------------------------------
# masks, nonzero
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_nonzero_dtypes(dtype):
    a = data((5, 3, 4), dtype)
    check(ember.nonzero(T(a, dtype)), np.argwhere(a))
    parts = T(a, dtype).nonzero(as_tuple=True)
    ref = np.nonzero(a)
    assert len(parts) == 3
    for p, r in zip(parts, ref):
        check(p, r)


def test_nonzero_forms():
    a = (RNG.random((300, 500)) > 0.7)
    check(ember.nonzero(T(a)), np.argwhere(a))
    check(T(a).t().nonzero(), np.argwhere(a.T))
    check(ember.argwhere(T(a)[::3]), np.argwhere(a[::3]))
    check(T(a).argwhere(), np.argwhere(a))
    f = T(np.array([0.0, np.nan, -0.0, 2.0], np.float32))
    check(ember.nonzero(f), np.array([[1], [3]]))
    check(ember.nonzero(ember.tensor(3)), np.zeros((1, 0), np.int64))
    check(ember.nonzero(ember.tensor(0)), np.zeros((0, 0), np.int64))
    (p,) = ember.nonzero(ember.tensor(3), as_tuple=True)
    check(p, np.array([0]))
    check(ember.nonzero(ember.zeros(0, 3)), np.zeros((0, 2), np.int64))
    out = ember.zeros(2, 1, dtype=ember.int64)
    ember.nonzero(f, out=out)
    check(out, np.array([[1], [3]]))
    x = T(data((4, 5)))
    check(x[ember.nonzero(x > 0, as_tuple=True)], N(x)[N(x) > 0])


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_masked_select_dtypes(dtype):
    a = data((4, 5), dtype)
    m = RNG.random((4, 5)) > 0.5
    check(ember.masked_select(T(a, dtype), T(m)), a[m])


def test_masked_select_forms_and_errors():
    a = data((4, 5))
    m = RNG.random(5) > 0.5
    check(ember.masked_select(T(a), T(m)), a[np.broadcast_to(m, (4, 5))])
    m2 = RNG.random((3, 1, 1)) > 0.3
    check(T(a).masked_select(T(m2)), np.broadcast_to(a, (3, 4, 5))[np.broadcast_to(m2, (3, 4, 5))])
    check(T(a).t().masked_select(T(m[:4])), a.T[np.broadcast_to(m[:4], (5, 4))])
    check(ember.masked_select(ember.tensor(2.0), ember.tensor(True)), np.array([2.0]))
    with pytest.raises(TypeError, match=r"\[masked_select\] mask must be a bool tensor: expected ember.bool, got "
                                        r"ember.uint8"):
        ember.masked_select(T(a), T(m).to(ember.uint8))
    with pytest.raises(ValueError, match=r"shapes cannot be broadcast"):
        ember.masked_select(T(a), ember.ones(3, dtype=ember.bool))


def test_masked_scatter():
    a = data((4, 5))
    m = RNG.random((4, 5)) > 0.5
    src = data((30,))
    ref = a.copy()
    ref[m] = src[:m.sum()]
    check(ember.masked_scatter(T(a), T(m), T(src)), ref)
    x = T(a)
    x.masked_scatter_(T(m), T(src))
    check(x, ref)
    # non-contiguous target, broadcast mask, 2-d source
    x = T(a.T.copy()).t()
    mb = RNG.random(5) > 0.4
    ref = a.copy()
    full = np.broadcast_to(mb, (4, 5))
    ref[full] = src[:full.sum()]
    x.masked_scatter_(T(mb), T(src.reshape(5, 6)))
    check(x, ref)
    r = ember.masked_scatter(ember.arange(3.0), T(np.array([[True], [False]])), ember.ones(10))
    check(r, np.array([[1, 1, 1], [0, 1, 2]]))
    with pytest.raises(ValueError, match=r"\[masked_scatter_\] source has fewer elements \(3\) than mask has True "
                                         r"values \(20\)"):
        T(a).masked_scatter_(ember.ones(4, 5, dtype=ember.bool), ember.ones(3))
    with pytest.raises(TypeError, match=r"\[masked_scatter_\] source must have the dtype of self"):
        T(a).masked_scatter_(T(m), ember.ones(30, dtype=ember.float64))
    with pytest.raises(TypeError, match=r"mask must be a bool tensor"):
        T(a).masked_scatter_(T(m).to(ember.uint8), ember.ones(30))
    with pytest.raises(ValueError, match=r"mask of shape \(3, 4, 5\) cannot be broadcast to the tensor's shape"):
        T(a).masked_scatter_(ember.ones(3, 4, 5, dtype=ember.bool), ember.ones(300))


# ---------------------------------------------------------------------------------------------
# take / put_
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_take_dtypes(dtype):
    a = data((4, 5), dtype)
    i = idx(20, 3, 4)
    check(ember.take(T(a, dtype), T(i)), np.take(a, i))
    check(T(a, dtype).t().take(T(i)), np.take(a.T, i))


def test_take_errors_and_empty():
    x = ember.zeros(4, 5)
    check(x.take(T(np.zeros((0, 2), np.int64))), np.zeros((0, 2)))
    check(ember.take(ember.tensor(3.0), ember.tensor(0)), np.float32(3))
    with pytest.raises(IndexError, match=r"\[take\] index 20 is out of bounds for dimension 0 with size 20"):
        ember.take(x, ember.tensor([20]))
    with pytest.raises(IndexError, match=r"\[take\] index -21 is out of bounds"):
        ember.take(x, ember.tensor([-21]))
    with pytest.raises(TypeError, match=r"\[take\] index must be an int64 tensor"):
        ember.take(x, ember.tensor([1], dtype=ember.int32))


def test_put():
    a = data((4, 5))
    i = np.array([[0, -1], [7, 0]])
    s = data((2, 2))
    ref = a.copy().reshape(-1)
    ref[i.reshape(-1)] = s.reshape(-1)
    x = T(a)
    x.put_(T(i), T(s))
    check(x, ref.reshape(4, 5))
    ref = a.astype(np.float64).reshape(-1)
    np.add.at(ref, i.reshape(-1), s.reshape(-1))
    check(T(a).put(T(i), T(s), accumulate=True), ref.reshape(4, 5).astype(np.float32))
    check(ember.put(T(a), T(i), T(s), True), ref.reshape(4, 5).astype(np.float32))
    xt = T(a.T.copy()).t()         # non-contiguous target
    xt.put_(T(i), T(s))
    ref = a.copy().reshape(-1)
    ref[i.reshape(-1)] = s.reshape(-1)
    check(xt, ref.reshape(4, 5))
    with pytest.raises(IndexError, match=r"\[put_\] index 20 is out of bounds for dimension 0 with size 20"):
        T(a).put_(ember.tensor([20]), ember.tensor([1.0]))
    with pytest.raises(ValueError, match=r"\[put_\] source and index must have the same number of elements"):
        T(a).put_(ember.tensor([1, 2]), ember.tensor([1.0]))
    with pytest.raises(TypeError, match=r"\[put_\] index must be an int64 tensor"):
        T(a).put_(ember.tensor([1], dtype=ember.int32), ember.tensor([1.0]))
