"""Tensor protocols and conversions: NumPy sharing, tolist/item, repr, Python protocols
(len, bool, iter, hash, float/int/index), operators (reflected and in-place), out=, .to and
friends, copy_."""
import math

import numpy as np
import pytest

import ember
from op_specs import ALL, NP_STORAGE, make, to_np

E = lambda name: getattr(ember, name)  # noqa: E731
NUMPY_DTYPES = [d for d in ALL if d != "bfloat16"]


# ---- NumPy interop ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", NUMPY_DTYPES)
def test_from_numpy_shares_memory(dtype):
    a = np.arange(12).reshape(3, 4).astype(NP_STORAGE[dtype])
    t = ember.from_numpy(a)
    assert t.dtype == E(dtype) and t.shape == (3, 4) and t.stride() == (4, 1)
    assert t.data_ptr() == a.ctypes.data
    a[1, 2] = 0
    assert to_np(t)[1, 2] == 0
    t.fill_(1)
    assert (a == 1).all()


def test_from_numpy_keeps_array_alive_and_strides():
    a = np.arange(20.0).reshape(4, 5)
    t = ember.from_numpy(a[::2, 1::2])
    del a
    assert t.shape == (2, 2) and t.stride() == (10, 2) and t.tolist() == [[1.0, 3.0], [11.0, 13.0]]
    z = ember.from_numpy(np.array(2.5))
    assert z.shape == () and z.item() == 2.5
    e = ember.from_numpy(np.zeros((0, 3), np.int32))
    assert e.shape == (0, 3) and e.dtype == ember.int32


def test_from_numpy_errors():
    with pytest.raises(ValueError, match=r"\[from_numpy\] at least one stride .* is negative"):
        ember.from_numpy(np.arange(4.0)[::-1])
    with pytest.raises(TypeError, match=r"\[from_numpy\] big-endian"):
        ember.from_numpy(np.arange(3, dtype=">f4"))
    for bad in (np.arange(3, dtype=np.uint16), np.array(["a"]), np.arange(3, dtype=np.complex128),
                np.array([1, None], dtype=object)):
        with pytest.raises(TypeError, match=r"\[from_numpy\] unsupported NumPy dtype"):
            ember.from_numpy(bad)
    with pytest.raises(TypeError):
        ember.from_numpy([1, 2])


@pytest.mark.parametrize("dtype", NUMPY_DTYPES)
def test_numpy_shares_memory(dtype):
    t = ember.ones(2, 3, dtype=E(dtype))
    a = t.numpy()
    assert a.dtype == np.dtype(NP_STORAGE[dtype]) and a.shape == (2, 3)
    a[0, 0] = 0
    assert to_np(t)[0, 0] == 0
    v = t.t()[1:]
    av = v.numpy()
    assert av.shape == (2, 2) and av.strides == tuple(s * t.element_size() for s in v.stride())
    t.zero_()
    assert not av.any()
    assert np.asarray(t).dtype == a.dtype
    assert np.asarray(t, dtype=np.complex128 if dtype == "complex64" else np.float64).dtype.kind in "fc"
    c = t.numpy(force=True)
    c[...] = 5
    assert not to_np(t).any()


def test_numpy_of_bfloat16_raises_and_0d():
    with pytest.raises(TypeError, match=r"\[numpy\] ember.bfloat16 has no NumPy counterpart"):
        ember.ones(2, dtype=ember.bfloat16).numpy()
    a = ember.tensor(3).numpy()
    assert a.shape == () and a == 3


def test_as_tensor():
    a = np.arange(3.0)
    t = ember.as_tensor(a)
    a[0] = 7
    assert t[0].item() == 7.0  # shared
    t2 = ember.as_tensor(a, dtype=ember.float32)
    a[1] = 9
    assert t2.tolist() == [7.0, 1.0, 2.0] and t2.dtype == ember.float32  # converted: a copy
    x = ember.ones(2)
    assert ember.as_tensor(x)._is_same(x)
    assert ember.as_tensor([1, 2]).dtype == ember.int64
    assert ember.as_tensor(np.arange(3)[::-1]).tolist() == [2, 1, 0]  # falls back to a copy
    assert ember.is_tensor(x) and not ember.is_tensor(a)


# ---- tolist / item ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL)
def test_tolist_and_item(dtype):
    v = np.array([[0, 1, 2], [3, 0, 1]])
    t = make(ember, v, dtype)
    lst = t.tolist()
    py = {"bool": bool, "complex64": complex}.get(dtype, float if "float" in dtype else int)
    assert isinstance(lst, list) and isinstance(lst[0][1], py)
    assert lst == (v.astype(bool) if dtype == "bool" else v).tolist()
    assert t.t().tolist() == np.array(lst).T.tolist()
    it = t[1, 0].item()
    assert isinstance(it, py) and it == (True if dtype == "bool" else 3)
    assert t[0, 1].tolist() == it or t[0, 1].tolist() == (True if dtype == "bool" else 1)
    assert ember.zeros(2, 0, dtype=E(dtype)).tolist() == [[], []]


def test_item_errors_and_values():
    with pytest.raises(ValueError, match=r"\[item\] only one-element tensors"):
        ember.ones(2).item()
    assert ember.ones(1, 1).item() == 1.0
    assert ember.tensor([1.1], dtype=ember.float16).item() == float(np.float16(1.1))
    assert ember.tensor([2 ** 62]).item() == 2 ** 62
    assert ember.tensor(1 - 2j).item() == 1 - 2j
    assert math.isnan(ember.tensor(float("nan")).item())


# ---- repr -----------------------------------------------------------------------------------------
REPRS = [
    (lambda: ember.tensor([1.5, 2.25, -3.0]), "tensor([ 1.5000,  2.2500, -3.0000])"),
    (lambda: ember.tensor([1.0, 2.0]), "tensor([1., 2.])"),
    (lambda: ember.tensor([[1, 2], [300, 4]]), "tensor([[  1,   2],\n        [300,   4]])"),
    (lambda: ember.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda: ember.tensor([1.0, 5000.0]), "tensor([1.0000e+00, 5.0000e+03])"),
    (lambda: ember.tensor(3.5), "tensor(3.5000)"),
    (lambda: ember.tensor(5), "tensor(5)"),
    (lambda: ember.tensor(-0.0), "tensor(-0.)"),
    (lambda: ember.tensor([], dtype=ember.int32), "tensor([], dtype=ember.int32)"),
    (lambda: ember.zeros(2, 0), "tensor([], size=(2, 0))"),
    (lambda: ember.zeros(2, 0, dtype=ember.int64), "tensor([], size=(2, 0), dtype=ember.int64)"),
    (lambda: ember.tensor([1.5], dtype=ember.float16), "tensor([1.5000], dtype=ember.float16)"),
    (lambda: ember.tensor([1.5], dtype=ember.bfloat16), "tensor([1.5000], dtype=ember.bfloat16)"),
    (lambda: ember.tensor([1.5], dtype=ember.float64), "tensor([1.5000], dtype=ember.float64)"),
    (lambda: ember.tensor([1, 2], dtype=ember.uint8), "tensor([1, 2], dtype=ember.uint8)"),
    (lambda: ember.tensor([True, False]), "tensor([ True, False])"),
    (lambda: ember.tensor([1 + 2j, -3.5 - 1j]), "tensor([ 1.0000+2.j, -3.5000-1.j])"),
    (lambda: ember.tensor([float("nan"), float("inf"), 1.5]), "tensor([   nan,    inf, 1.5000])"),
    (lambda: ember.tensor([1.0, float("nan"), 3.0]), "tensor([1., nan, 3.])"),
    (lambda: ember.arange(12.0).reshape(2, 2, 3),
     "tensor([[[ 0.,  1.,  2.],\n         [ 3.,  4.,  5.]],\n\n        [[ 6.,  7.,  8.],\n         [ 9., 10., 11.]]])"),
    (lambda: ember.arange(2000), "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"),
    (lambda: ember.arange(20.0) / 3,
     "tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333, 2.6667,\n"
     "        3.0000, 3.3333, 3.6667, 4.0000, 4.3333, 4.6667, 5.0000, 5.3333, 5.6667,\n"
     "        6.0000, 6.3333])"),
]


@pytest.mark.parametrize("make_t,want", REPRS, ids=[f"r{i}" for i in range(len(REPRS))])
def test_repr(make_t, want):
    t = make_t()
    assert repr(t) == want
    assert str(t) == want


def test_repr_of_views_and_format():
    x = ember.arange(6.0).reshape(2, 3)
    assert repr(x.t()) == "tensor([[0., 3.],\n        [1., 4.],\n        [2., 5.]])"
    assert f"{ember.tensor(2.5):.2f}" == "2.50"
    assert repr(ember.float32) == "ember.float32" and str(ember.int64) == "ember.int64"


# ---- Python protocols ------------------------------------------------------------------------------
def test_len_iter_bool():
    x = ember.arange(6).reshape(3, 2)
    assert len(x) == 3
    rows = list(x)
    assert len(rows) == 3 and rows[1].tolist() == [2, 3] and rows[1]._shares_storage(x)
    assert [r.tolist() for r in ember.zeros(0, 2)] == []
    with pytest.raises(TypeError, match=r"\[len\] len\(\) of a 0-d tensor"):
        len(ember.tensor(1))
    with pytest.raises(TypeError, match=r"\[iter\] iteration over a 0-d tensor"):
        iter(ember.tensor(1))
    assert bool(ember.tensor([1])) and not bool(ember.tensor(0.0)) and bool(ember.tensor([[True]]))
    assert bool(ember.tensor(float("nan")))
    for bad in (ember.ones(2), ember.ones(0)):
        with pytest.raises(ValueError, match=r"\[bool\] the truth value of a tensor with \d elements is ambiguous"):
            bool(bad)
    with pytest.raises(ValueError):
        if ember.ones(2) > 0:
            pass


def test_number_conversions():
    assert float(ember.tensor([2.5])) == 2.5 and int(ember.tensor(3.9)) == 3
    assert int(ember.tensor(-3.9)) == -3
    assert [10, 20, 30][ember.tensor(1)] == 20  # __index__
    assert range(10)[ember.tensor(2):ember.tensor(4)] == range(2, 4)
    with pytest.raises(TypeError, match=r"\[float\] only one-element tensors"):
        float(ember.ones(2))
    with pytest.raises(TypeError, match=r"\[int\]"):
        int(ember.ones(2))
    with pytest.raises(TypeError, match=r"\[index\] only integer tensors of a single element"):
        [1, 2][ember.tensor(1.0)]
    assert complex(ember.tensor(1 + 1j).item()) == 1 + 1j


def test_hash_is_identity():
    a, b = ember.ones(2), ember.ones(2)
    assert hash(a) == hash(a) and hash(a) != hash(b)
    d = {a: 1, b: 2}
    assert d[a] == 1 and d[b] == 2
    assert len({a, b, a}) == 2


def test_properties():
    x = ember.ones(2, 3, dtype=ember.float16)
    assert x.dtype == ember.float16 and x.device == ember.device("cpu") and x.device == "cpu"
    assert x.is_cpu and not x.is_cuda and x.get_device() == -1
    assert x.element_size() == x.itemsize == 2 and x.nbytes == 12
    assert x.is_floating_point() and not x.is_complex() and ember.ones(1, dtype=ember.complex64).is_complex()
    assert ember.float16.is_floating_point and ember.complex64.is_complex and not ember.uint8.is_signed
    assert ember.int8.is_signed and ember.float64.itemsize == 8
    assert ember.float is ember.float32 or ember.float == ember.float32
    assert ember.long == ember.int64 and ember.half == ember.float16 and ember.cfloat == ember.complex64
    assert ember.double == ember.float64 and ember.short == ember.int16 and ember.int == ember.int32


# ---- operators ----------------------------------------------------------------------------------------
A = np.array([[5, -3, 7], [2, 9, -6]])
B = np.array([[2, 3, -2], [1, 4, 5]])

BINOPS = [
    ("+", lambda x, y: x + y), ("-", lambda x, y: x - y), ("*", lambda x, y: x * y),
    ("/", lambda x, y: x / y), ("//", lambda x, y: x // y), ("%", lambda x, y: x % y),
    ("**", lambda x, y: x ** y), ("&", lambda x, y: x & y), ("|", lambda x, y: x | y),
    ("^", lambda x, y: x ^ y), ("<<", lambda x, y: x << y), (">>", lambda x, y: x >> y),
    ("==", lambda x, y: x == y), ("!=", lambda x, y: x != y), ("<", lambda x, y: x < y),
    ("<=", lambda x, y: x <= y), (">", lambda x, y: x > y), (">=", lambda x, y: x >= y),
]


def _np_op(sym, x, y):
    if sym == "/":
        return np.true_divide(x, y).astype(np.float32)
    if sym == "**":
        return np.power(x, np.abs(y)) if np.ndim(y) else np.power(x, np.abs(y))
    if sym in ("<<", ">>"):
        return (np.left_shift if sym == "<<" else np.right_shift)(x, np.abs(y))
    return eval(f"x {sym} y")


@pytest.mark.parametrize("sym,fn", BINOPS, ids=[b[0] for b in BINOPS])
def test_binary_operators(sym, fn):
    x, y = ember.tensor(A), ember.tensor(np.abs(B) if sym in ("**", "<<", ">>") else B)
    yv = np.abs(B) if sym in ("**", "<<", ">>") else B
    r = fn(x, y)
    np.testing.assert_array_equal(to_np(r), _np_op(sym, A, yv))
    # with a Python number on either side (reflected operators)
    r = fn(x, 2)
    np.testing.assert_array_equal(to_np(r), _np_op(sym, A, 2))
    if sym not in ("==", "!=", "<", "<=", ">", ">="):
        r = fn(3, y)
        np.testing.assert_array_equal(to_np(r), _np_op(sym, np.int64(3), yv))
        assert r.dtype == (ember.float32 if sym == "/" else ember.int64)
    else:  # Python swaps comparisons: 3 < y is y > 3
        np.testing.assert_array_equal(to_np(fn(3, y)), _np_op(sym, 3, yv))


IOPS = ["+=", "-=", "*=", "/=", "//=", "%=", "**=", "&=", "|=", "^=", "<<=", ">>="]


@pytest.mark.parametrize("sym", IOPS)
def test_inplace_operators_keep_the_tensor(sym):
    dtype = np.float32 if sym == "/=" else np.int64
    x = ember.tensor(A.astype(dtype))
    keep, ptr, ver = x, x.data_ptr(), x._version
    y = ember.tensor(np.abs(B) if sym in ("**=", "<<=", ">>=") else B)
    ns = {"x": x, "y": y}
    exec(f"x {sym} y", ns)
    x2 = ns["x"]
    assert x2 is keep and x2.data_ptr() == ptr  # the same Python object, as in PyTorch
    assert keep._version > ver
    ref = A.astype(dtype).copy()
    nsr = {"x": ref, "y": to_np(y)}
    exec(f"x {sym} y", nsr) if sym not in ("**=", "<<=", ">>=") else None
    if sym in ("**=", "<<=", ">>="):
        nsr["x"] = _np_op(sym[:-1], ref, to_np(y))
    np.testing.assert_array_equal(to_np(keep), nsr["x"])


def test_inplace_methods_return_self():
    x = ember.ones(2, 3)
    i = ember.tensor([[0, 1, 2]])
    calls = [
        lambda: x.add_(1), lambda: x.mul_(2.0), lambda: x.sub_(x, alpha=0.5), lambda: x.div_(2),
        lambda: x.exp_(), lambda: x.clamp_(min=0), lambda: x.fill_(3), lambda: x.zero_(),
        lambda: x.copy_(ember.ones(3)), lambda: x.uniform_(), lambda: x.normal_(),
        lambda: x.masked_fill_(x > 0, 1.0), lambda: x.index_fill_(1, ember.tensor([0]), 2.0),
        lambda: x.scatter_add_(1, i, ember.ones(1, 3)), lambda: x.tril_(), lambda: x.cumsum_(1),
        lambda: x.addmm_(ember.ones(2, 4), ember.ones(4, 3)), lambda: x.round_(),
    ]
    for f in calls:
        assert f() is x
    with pytest.raises(TypeError):  # an unsupported operand still raises, not returns self
        x += "a"


def test_unary_operators():
    x = ember.tensor(A)
    np.testing.assert_array_equal((-x).numpy(), -A)
    np.testing.assert_array_equal((+x).numpy(), A)
    np.testing.assert_array_equal(abs(x).numpy(), np.abs(A))
    np.testing.assert_array_equal((~x).numpy(), ~A)
    np.testing.assert_array_equal((~ember.tensor([True, False])).numpy(), [False, True])


def test_operators_with_numpy_and_bad_types():
    x = ember.ones(2)
    r = x + np.ones(2)
    assert isinstance(r, ember.Tensor) and r.dtype == ember.float64  # an array joins as a tensor
    y = ember.ones(2)
    y += np.full(2, 2, np.float32)
    assert isinstance(y, ember.Tensor) and y.tolist() == [3.0, 3.0]
    assert (x * np.float32(3)).dtype == ember.float32
    for bad in ("a", [1, 2], None, object()):
        with pytest.raises(TypeError):
            x + bad
        with pytest.raises(TypeError):
            bad * x
    assert (x == None) is False  # noqa: E711  (Python falls back to identity)
    assert (x != "a") is True


def test_chained_and_mixed_expressions():
    x = ember.arange(6.0).reshape(2, 3)
    r = (x * 2 - 1) / (x + 1) ** 2 % 3
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(r.numpy(), np.mod((a * 2 - 1) / (a + 1) ** 2, 3), rtol=1e-6)
    assert ((x > 1) & (x < 4)).tolist() == [[False, False, True], [True, False, False]]


# ---- out= edge cases --------------------------------------------------------------------------------------
def test_out_aliasing_inputs():
    x = ember.arange(6.0)
    r = ember.add(x, 1, out=x)
    assert r.data_ptr() == x.data_ptr() and x.tolist() == [1, 2, 3, 4, 5, 6]
    # out overlaps the input shifted by one element: the result is as if computed first
    y = ember.arange(6.0)
    ember.mul(y[:-1], 10, out=y[1:])
    assert y.tolist() == [0, 0, 10, 20, 30, 40]
    z = ember.arange(4.0)
    ember.add(z, z.flip(0) if hasattr(z, "flip") else ember.tensor([3.0, 2.0, 1.0, 0.0]), out=z)
    assert z.tolist() == [3.0, 3.0, 3.0, 3.0]
    # a transposed view as out
    o = ember.zeros(3, 2)
    ember.mul(ember.ones(2, 3), 2, out=o.t())
    assert o.tolist() == [[2, 2]] * 3
    # out of a different dtype
    o = ember.zeros(3, dtype=ember.float64)
    ember.div(ember.tensor([1, 2, 3]), 3, out=o)
    np.testing.assert_allclose(o.numpy(), np.array([1, 2, 3]) / 3, rtol=1e-7)
    # out is a float view of complex storage that the complex input also covers: overlap is
    # judged in bytes (in elements, floats 6..9 and complex 0..3 would look disjoint)
    cv = np.arange(8) + 1j * np.arange(8, 16)
    c = ember.tensor(cv.astype(np.complex64))
    flat = ember.view_as_real(c).view(-1)
    ember.abs(c[:4], out=flat[6:10])
    np.testing.assert_allclose(flat[6:10].numpy(), np.abs(cv[:4]), rtol=1e-6)


def test_out_errors():
    with pytest.raises(ValueError, match=r"\[add\] output has the wrong shape"):
        ember.add(ember.ones(2, 3), 1, out=ember.empty(3))
    with pytest.raises(TypeError, match=r"\[div\] result type ember.float32 can't be cast .* ember.int64"):
        ember.div(ember.ones(3), 2, out=ember.empty(3, dtype=ember.int64))
    with pytest.raises(TypeError, match=r"out"):
        ember.add(ember.ones(2), 1, out="x")


# ---- conversions and copy_ -----------------------------------------------------------------------------------
@pytest.mark.parametrize("src", ALL)
@pytest.mark.parametrize("dst", ALL)
def test_to_dtype(src, dst):
    v = np.array([[0, 1, 2], [3, -1, 5]]) if src not in ("bool", "uint8") else np.array([[0, 1, 1], [0, 1, 1]])
    x = make(ember, v, src).t()  # non-contiguous source
    r = x.to(E(dst))
    assert r.dtype == E(dst) and r.shape == (3, 2)
    if src == dst:
        assert r._is_same(x)
        return
    want = v.T.astype(NP_STORAGE[dst] if dst != "bfloat16" else np.float32)
    np.testing.assert_array_equal(to_np(r), want.astype(to_np(r).dtype))
    assert r.is_contiguous()


def test_to_variants():
    x = ember.tensor([1.7, -2.2])
    assert x.to(ember.int32).tolist() == [1, -2]
    assert x.int().dtype == ember.int32 and x.long().dtype == ember.int64 and x.double().dtype == ember.float64
    assert x.half().dtype == ember.float16 and x.bfloat16().dtype == ember.bfloat16
    assert x.bool().tolist() == [True, True]
    assert x.short().dtype == ember.int16 and x.char().dtype == ember.int8 and x.byte().dtype == ember.uint8
    assert x.cfloat().dtype == ember.complex64 and x.float()._is_same(x)
    assert x.to("cpu")._is_same(x) and x.cpu()._is_same(x)
    assert x.to(ember.ones(1, dtype=ember.float64)).dtype == ember.float64
    assert x.type_as(ember.ones(1, dtype=ember.int8)).dtype == ember.int8
    c = x.to(copy=True)
    assert not c._shares_storage(x) and c.tolist() == x.tolist()
    assert x.to("cpu", ember.float64).dtype == ember.float64
    with pytest.raises(TypeError, match=r"\[to\]"):
        x.to(3)
    assert ember.tensor([1e6]).half().float().tolist() == [math.inf]
    assert ember.tensor([float("nan")]).to(ember.bool).tolist() == [True]
    assert ember.tensor([2 + 3j]).to(ember.float32).tolist() == [2.0]  # real part, like PyTorch


def test_copy_():
    x = ember.zeros(2, 3)
    ver = x._version
    r = x.copy_(ember.tensor([1, 2, 3]))  # broadcast and convert
    assert r.data_ptr() == x.data_ptr() and x.tolist() == [[1, 2, 3]] * 2 and x._version > ver
    x.copy_(2.5)
    assert x.tolist() == [[2.5] * 3] * 2
    x.t().copy_(ember.arange(6.0).reshape(3, 2))
    assert x.tolist() == [[0, 2, 4], [1, 3, 5]]
    y = ember.arange(5.0)
    y[1:].copy_(y[:-1])  # overlapping
    assert y.tolist() == [0, 0, 1, 2, 3]
    with pytest.raises(ValueError, match=r"\[copy_\]"):
        ember.zeros(3).copy_(ember.ones(2))
    with pytest.raises(ValueError, match=r"\[copy_\]"):
        ember.zeros(1, 3).copy_(ember.ones(2, 3))


@pytest.mark.parametrize("dtype", ["uint8", "float16", "float32", "float64", "complex64", "bool"])
@pytest.mark.parametrize("shape", [(37, 70), (3, 33, 9), (8, 8), (2, 1, 100, 65)])
def test_transposed_copy_is_exact(dtype, shape):
    """contiguous() and copy_() of transposed views (the tiled path) match NumPy, edges included."""
    r = np.random.default_rng(3).standard_normal((2,) + shape) * 50
    a = (r[0] + 1j * r[1] if dtype == "complex64" else r[0] > 0 if dtype == "bool" else np.abs(r[0])).astype(dtype)
    x = ember.tensor(a)
    want = np.ascontiguousarray(np.swapaxes(a, -1, -2))
    got = x.transpose(-1, -2).contiguous()
    assert got.is_contiguous()
    np.testing.assert_array_equal(to_np(got), want)
    out = ember.zeros(*want.shape, dtype=getattr(ember, dtype))
    out.copy_(x.transpose(-1, -2))
    np.testing.assert_array_equal(to_np(out), want)
    # a transposed output written from a contiguous input (the mirror case)
    out2 = ember.zeros(*want.shape, dtype=getattr(ember, dtype))
    out2.transpose(-1, -2).copy_(x)
    np.testing.assert_array_equal(to_np(out2), want)


def test_tensor_where_an_int_is_expected_raises_not_crashes():
    # a multi-element tensor's __index__ raises; iterating a tensor as a sequence of dims used
    # to keep dangling handles to the temporary rows
    x = ember.ones(3, 4)
    with pytest.raises(TypeError):
        ember.cummax(x, ember.ones(3, 4))
    with pytest.raises(TypeError):
        ember.einsum(x)
    with pytest.raises(TypeError):
        x.sum(dim=ember.ones(2, 2))
