"""Creation ops: tensor(), zeros/ones/empty/full (+ _like, new_*), arange, linspace, logspace,
eye, empty_strided, fill_/zero_; dtype inference and argument errors."""
import math

import numpy as np
import pytest

import ember
from op_specs import ALL, FLOATS, INTS, NP_STORAGE, make, to_np

E = lambda name: getattr(ember, name)  # noqa: E731


# ---- tensor() -----------------------------------------------------------------------------------
@pytest.mark.parametrize("data,dtype,values", [
    ([1, 2, 3], "int64", [1, 2, 3]),
    ([1.0, 2, 3], "float32", [1.0, 2.0, 3.0]),
    ([True, False], "bool", [True, False]),
    ([True, 2], "int64", [1, 2]),
    ([1, 2.5], "float32", [1.0, 2.5]),
    ([1, 2j], "complex64", [1 + 0j, 2j]),
    ([[1, 2], [3, 4]], "int64", [[1, 2], [3, 4]]),
    (3.5, "float32", 3.5),
    (7, "int64", 7),
    (False, "bool", False),
    ([], "float32", []),
    ([[], []], "float32", [[], []]),
])
def test_tensor_infers_dtype(data, dtype, values):
    t = ember.tensor(data)
    assert t.dtype == E(dtype)
    assert t.tolist() == values
    assert t.shape == np.array(data).shape


@pytest.mark.parametrize("dtype", ALL)
def test_tensor_with_dtype(dtype):
    t = ember.tensor([[0, 1, 2], [3, 4, 5]], dtype=E(dtype))
    assert t.dtype == E(dtype) and t.shape == (2, 3) and t.is_contiguous()
    want = np.arange(6).reshape(2, 3).astype(NP_STORAGE[dtype] if dtype != "bfloat16" else np.float32)
    np.testing.assert_array_equal(to_np(t), want)


def test_tensor_from_numpy_and_tensors_copies():
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    t = ember.tensor(a)
    assert t.dtype == ember.float64
    a[0, 0] = 100
    assert t[0, 0].item() == 0.0  # tensor() copies
    t2 = ember.tensor(a[:, ::2])  # non-contiguous input
    assert t2.tolist() == [[100.0, 2.0], [3.0, 5.0]]
    # 0-d tensors inside lists
    t3 = ember.tensor([ember.tensor(1.5), ember.tensor(2.0)])
    assert t3.tolist() == [1.5, 2.0]
    # NumPy scalars
    assert ember.tensor(np.float32(1.5)).dtype == ember.float32
    assert ember.tensor([np.int64(1), np.int64(2)]).dtype == ember.int64


def test_tensor_errors():
    with pytest.raises(ValueError, match=r"\[tensor\]"):
        ember.tensor([[1, 2], [3]])  # ragged
    with pytest.raises(ValueError, match=r"\[tensor\]"):
        ember.tensor([1, [2, 3]])
    with pytest.raises(TypeError, match=r"\[tensor\]"):
        ember.tensor("abc")
    with pytest.raises(TypeError, match=r"\[tensor\]"):
        ember.tensor([1, None])
    with pytest.raises(ValueError, match=r"\[tensor\]"):
        ember.tensor([ember.ones(2), ember.ones(2)])
    with pytest.raises((ValueError, OverflowError), match=r"int64"):
        ember.tensor([2 ** 70])


def test_tensor_out_of_range_values_wrap_like_casts():
    assert ember.tensor([300], dtype=ember.uint8).tolist() == [44]
    assert ember.tensor([1.7, -1.7], dtype=ember.int32).tolist() == [1, -1]
    assert ember.tensor([0.0, 2.0], dtype=ember.bool).tolist() == [False, True]


# ---- zeros / ones / empty / full -------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL)
def test_zeros_ones_full(dtype):
    z = ember.zeros(2, 3, dtype=E(dtype))
    o = ember.ones((2, 3), dtype=E(dtype))
    assert z.shape == o.shape == (2, 3) and z.dtype == o.dtype == E(dtype)
    assert not to_np(z).any() and to_np(o).all()
    assert z.stride() == (3, 1)
    f = ember.full((4,), 1, dtype=E(dtype))
    np.testing.assert_array_equal(to_np(f), np.ones(4))
    e = ember.empty(5, 0, dtype=E(dtype))
    assert e.shape == (5, 0) and e.numel() == 0


def test_default_dtypes_and_inference():
    assert ember.zeros(2).dtype == ember.float32
    assert ember.ones(()).shape == () and ember.ones(()).item() == 1.0
    assert ember.zeros([]).shape == ()
    assert ember.full((2,), 1).dtype == ember.int64
    assert ember.full((2,), 1.5).dtype == ember.float32
    assert ember.full((2,), True).dtype == ember.bool
    assert ember.full((2,), 1 + 1j).dtype == ember.complex64
    assert ember.full((2, 2), -3.25).tolist() == [[-3.25, -3.25], [-3.25, -3.25]]
    assert ember.full((2,), ember.tensor(4)).tolist() == [4, 4]
    assert ember.zeros(2, 3, device="cpu", requires_grad=False).device == ember.device("cpu")


def test_like_and_new():
    x = ember.ones(2, 3, dtype=ember.float16)
    for fn, v in [(ember.zeros_like, 0), (ember.ones_like, 1)]:
        r = fn(x)
        assert r.shape == (2, 3) and r.dtype == ember.float16 and (to_np(r) == v).all()
    assert ember.empty_like(x).shape == (2, 3)
    r = ember.full_like(x, 7, dtype=ember.int32)
    assert r.dtype == ember.int32 and r.tolist() == [[7] * 3] * 2
    # a non-contiguous input gives a contiguous result
    assert ember.zeros_like(x.t()).is_contiguous() and ember.zeros_like(x.t()).shape == (3, 2)
    assert x.new_zeros(4).dtype == ember.float16 and x.new_zeros(4).shape == (4,)
    assert x.new_ones((2, 2)).tolist() == [[1, 1], [1, 1]]
    assert x.new_full((2,), 3).tolist() == [3.0, 3.0] and x.new_full((2,), 3).dtype == ember.float16
    assert x.new_tensor([1, 2]).dtype == ember.float16
    assert x.new_empty(3, dtype=ember.int8).dtype == ember.int8


def test_sized_errors():
    with pytest.raises(ValueError, match=r"\[empty\] negative dimension"):
        ember.zeros(2, -1)
    with pytest.raises(ValueError, match=r"negative dimension"):
        ember.full((-1,), 1)
    with pytest.raises(TypeError, match=r"\[zeros\]"):
        ember.zeros("a")
    with pytest.raises(TypeError, match=r"\[zeros\]"):
        ember.zeros((2, 2.5))
    with pytest.raises(TypeError):
        ember.full((2,), "x")
    with pytest.raises(ValueError, match=r"overflow"):
        ember.empty(2 ** 40, 2 ** 40)


def test_empty_strided():
    t = ember.empty_strided((2, 3), (1, 2))
    assert t.shape == (2, 3) and t.stride() == (1, 2) and not t.is_contiguous()
    t.fill_(2.0)
    assert t.tolist() == [[2.0] * 3] * 2
    with pytest.raises(ValueError, match=r"\[empty_strided\]"):
        ember.empty_strided((2, 3), (1,))
    with pytest.raises(ValueError, match=r"\[empty_strided\]"):
        ember.empty_strided((2, 3), (-1, 1))


# ---- arange / linspace / logspace / eye -------------------------------------------------------------
@pytest.mark.parametrize("args,kw", [
    ((5,), {}), ((2, 7), {}), ((7, 2, -2), {}), ((0, 1, 0.1), {}), ((-1.5, 2.5, 0.5), {}),
    ((1, 2.5, 0.5), {}), ((10, 0, -3), {}), ((0,), {}), ((3, 3), {}), ((0, 10, 3), {"dtype": "float64"}),
    ((0, 5), {"dtype": "int8"}), ((0.5, 4.5), {"dtype": "int32"}), ((0, 1, 0.3), {"dtype": "float16"}),
    ((0, 4), {"dtype": "bfloat16"}), ((1, 4, 1), {"dtype": "uint8"}),
])
def test_arange(args, kw):
    dtype = kw.get("dtype")
    t = ember.arange(*args, **({"dtype": E(dtype)} if dtype else {}))
    all_int = all(isinstance(a, int) for a in args)
    want_dtype = dtype or ("int64" if all_int else "float32")
    assert t.dtype == E(want_dtype)
    ref = np.arange(*[float(a) for a in args])
    assert t.shape == ref.shape
    if want_dtype in INTS:
        if all_int:
            np.testing.assert_array_equal(to_np(t), ref)
        else:  # start + i * step computed in double, then converted
            np.testing.assert_array_equal(to_np(t), np.trunc(ref))
    else:
        tol = {"float16": 1e-3, "bfloat16": 1e-2}.get(want_dtype, 1e-6)
        np.testing.assert_allclose(to_np(t), ref, rtol=tol, atol=tol)


def test_arange_errors():
    with pytest.raises(ValueError, match=r"\[arange\] step must be nonzero"):
        ember.arange(0, 5, 0)
    with pytest.raises(ValueError, match=r"\[arange\] upper bound and step sign are inconsistent"):
        ember.arange(0, 5, -1)
    with pytest.raises(ValueError, match=r"\[arange\] upper bound and step sign"):
        ember.arange(5, 0)
    with pytest.raises(ValueError, match=r"\[arange\] expected finite"):
        ember.arange(0, math.inf)
    with pytest.raises(TypeError, match=r"\[arange\] expected a number"):
        ember.arange("a")
    assert ember.arange(ember.tensor(3)).tolist() == [0, 1, 2]


def test_arange_large_is_exact():
    t = ember.arange(100000)
    np.testing.assert_array_equal(t.numpy(), np.arange(100000))
    f = ember.arange(0, 1, 1e-5, dtype=ember.float64)
    np.testing.assert_allclose(f.numpy(), np.arange(0, 1, 1e-5), rtol=0, atol=1e-15)


@pytest.mark.parametrize("start,end,steps", [(0, 1, 5), (-2, 2, 1), (3, -3, 7), (0, 1, 0), (1, 1, 4),
                                              (0, 1, 100001)])
@pytest.mark.parametrize("dtype", [None, "float64", "float16", "int32"])
def test_linspace(start, end, steps, dtype):
    t = ember.linspace(start, end, steps, **({"dtype": E(dtype)} if dtype else {}))
    assert t.dtype == E(dtype or "float32") and t.shape == (steps,)
    ref = np.linspace(start, end, steps)
    if dtype == "int32":
        np.testing.assert_array_equal(to_np(t), np.trunc(ref))
    else:
        tol = 1e-3 if dtype == "float16" else 1e-6
        np.testing.assert_allclose(to_np(t), ref, rtol=tol, atol=tol)
    if steps > 1 and dtype != "int32":  # the end points are exact
        assert to_np(t)[0] == np.float32(start) and to_np(t)[-1] == np.float32(end)


def test_linspace_logspace_errors_and_values():
    with pytest.raises(ValueError, match=r"\[linspace\] number of steps"):
        ember.linspace(0, 1, -1)
    np.testing.assert_allclose(ember.logspace(0, 3, 4).numpy(), [1, 10, 100, 1000], rtol=1e-6)
    np.testing.assert_allclose(ember.logspace(0, 3, 4, base=2.0, dtype=ember.float64).numpy(), [1, 2, 4, 8])
    assert ember.logspace(0, 1, 3).dtype == ember.float32
    assert ember.logspace(0, 1, 0).shape == (0,)


@pytest.mark.parametrize("n,m", [(3, None), (2, 4), (4, 2), (0, None), (1, 0)])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "complex64"])
def test_eye(n, m, dtype):
    t = ember.eye(n, m, dtype=E(dtype)) if m is not None else ember.eye(n, dtype=E(dtype))
    np.testing.assert_array_equal(to_np(t), np.eye(n, m))
    assert t.dtype == E(dtype)


def test_eye_errors():
    with pytest.raises(ValueError, match=r"\[eye\]"):
        ember.eye(-1)
    assert ember.eye(2).dtype == ember.float32


# ---- fill_ / zero_ ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL)
def test_fill_and_zero(dtype):
    x = ember.ones(3, 4, dtype=E(dtype))
    v = x._version
    view = x[:, 1::2]
    r = view.fill_(0)
    assert r.data_ptr() == view.data_ptr()
    assert x._version > v  # the view shares the version counter
    want = np.ones((3, 4))
    want[:, 1::2] = 0
    np.testing.assert_array_equal(to_np(x), want)
    x.zero_()
    assert not to_np(x).any()
    if dtype in FLOATS:
        x.fill_(ember.tensor(2.5))
        np.testing.assert_array_equal(to_np(x), np.full((3, 4), 2.5))
    with pytest.raises(TypeError, match=r"\[fill_\]"):
        x.fill_("a")


def test_fill_wraps_numbers_to_dtype():
    assert ember.zeros(2, dtype=ember.uint8).fill_(257).tolist() == [1, 1]
    assert ember.zeros(2, dtype=ember.float16).fill_(1e6).float().tolist() == [math.inf, math.inf]
    assert ember.zeros(2, dtype=ember.bool).fill_(0.5).tolist() == [True, True]
    assert ember.zeros(1, dtype=ember.complex64).fill_(1 - 2j).tolist() == [1 - 2j]


def test_creation_values_of_make_helper_roundtrip():
    # the test helper itself: values survive ember.from_numpy + clone for every dtype
    for dt in ALL:
        v = np.array([[0, 1], [2, 3]])
        np.testing.assert_array_equal(to_np(make(ember, v, dt)), v.astype(bool) if dt == "bool" else v)
