"""Type promotion: ember.promote_types, ember.result_type, ember.can_cast and the dtypes ops
actually return, for every dtype pair x operand category (dimensioned tensor, 0-d tensor,
Python number), against PyTorch's documented rules (modelled in op_specs.result_type; the
parity suite checks the same matrix against torch itself)."""
import itertools

import numpy as np
import pytest

import ember
from op_specs import ALL, kind, make, promote_types, result_type

E = lambda name: getattr(ember, name)  # noqa: E731

SCALARS = {"bool": True, "int": 3, "float": 2.5, "complex": 1 + 2j}
SCALAR_DTYPE = {"bool": "bool", "int": "int64", "float": "float64", "complex": "complex64"}


def operand(dtype, cat):
    if cat == "tensor":
        return make(ember, np.ones(3), dtype)
    if cat == "zerodim":
        return make(ember, np.ones(()), dtype)
    return SCALARS[kind(dtype)]


# ---- known results, from PyTorch's documentation (torch.result_type, "Type promotion") ----------
KNOWN = [
    # (a dtype, a category, b dtype, b category, result)
    ("int32", "tensor", "int64", "scalar", "int32"),          # int_tensor + 5
    ("int32", "tensor", "int64", "zerodim", "int32"),         # int_tensor + long_zerodim
    ("int64", "tensor", "int32", "tensor", "int64"),          # long_tensor + int_tensor
    ("bool", "tensor", "int64", "tensor", "int64"),           # bool_tensor + long_tensor
    ("bool", "tensor", "uint8", "tensor", "uint8"),           # bool_tensor + uint_tensor
    ("float32", "tensor", "float64", "tensor", "float64"),    # float_tensor + double_tensor
    ("bool", "tensor", "int32", "tensor", "int32"),           # bool_tensor + int_tensor
    ("int64", "tensor", "float32", "tensor", "float32"),      # long_tensor + float_tensor
    ("int32", "tensor", "float64", "scalar", "float32"),      # int_tensor + 5.5: default dtype
    ("uint8", "tensor", "float64", "zerodim", "float64"),     # 0-d of a higher kind keeps its size
    ("int64", "tensor", "float16", "zerodim", "float16"),
    ("float16", "tensor", "float64", "zerodim", "float16"),   # same kind: the tensor wins
    ("float16", "tensor", "float64", "scalar", "float16"),
    ("bfloat16", "tensor", "float16", "tensor", "float32"),
    ("uint8", "tensor", "int8", "tensor", "int16"),
    ("uint8", "tensor", "int64", "scalar", "uint8"),
    ("bool", "tensor", "bool", "scalar", "bool"),
    ("bool", "tensor", "int64", "scalar", "int64"),
    ("bool", "tensor", "float64", "scalar", "float32"),
    ("int8", "zerodim", "int64", "scalar", "int8"),
    ("int8", "zerodim", "int32", "zerodim", "int32"),
    ("int32", "tensor", "complex64", "scalar", "complex64"),
    ("float32", "tensor", "complex64", "zerodim", "complex64"),
    ("float16", "tensor", "complex64", "scalar", "complex64"),
    ("int64", "scalar", "int64", "scalar", "int64"),          # torch.add(5, 5)
    ("float64", "scalar", "int64", "scalar", "float32"),
]


@pytest.mark.parametrize("a,ca,b,cb,want", KNOWN, ids=lambda v: str(v))
def test_known_results(a, ca, b, cb, want):
    assert result_type([(a, ca), (b, cb)]) == want  # the model agrees with the docs
    if ca == "scalar" and cb == "scalar":
        got = ember.result_type(SCALARS[kind(a)], SCALARS[kind(b)])
    else:
        got = ember.result_type(operand(a, ca), operand(b, cb))
    assert got == E(want)
    if ca != "scalar":
        r = ember.mul(operand(a, ca), operand(b, cb))
        assert r.dtype == E(want)


def test_default_dtype_drives_python_floats():
    old = ember.get_default_dtype()
    try:
        ember.set_default_dtype(ember.float64)
        assert ember.result_type(ember.ones(2, dtype=ember.int32), 2.5) == ember.float64
        assert (ember.tensor([1, 2]) * 0.5).dtype == ember.float64
        assert ember.tensor([1.5]).dtype == ember.float64
        assert ember.exp(ember.tensor([1])).dtype == ember.float64  # int -> the default float
        assert (ember.ones(2, dtype=ember.float16) + 2.5).dtype == ember.float16
        with pytest.raises(TypeError, match=r"\[set_default_dtype\]"):
            ember.set_default_dtype(ember.int32)
    finally:
        ember.set_default_dtype(old)
    assert ember.get_default_dtype() == ember.float32


# ---- the full matrix against the model ----------------------------------------------------------
PAIRS = list(itertools.product(ALL, ALL))


@pytest.mark.parametrize("a,b", PAIRS, ids=lambda v: v)
def test_promote_types_matrix(a, b):
    want = promote_types(a, b)
    if want is None:
        with pytest.raises(TypeError, match=r"complex128"):
            ember.promote_types(E(a), E(b))
    else:
        assert ember.promote_types(E(a), E(b)) == E(want)


CATS = [("tensor", "tensor"), ("tensor", "zerodim"), ("zerodim", "tensor"), ("zerodim", "zerodim"),
        ("tensor", "scalar"), ("scalar", "tensor"), ("zerodim", "scalar")]


@pytest.mark.parametrize("ca,cb", CATS, ids=lambda v: v)
def test_result_type_matrix(ca, cb):
    """Every dtype pair in one test per category pair (keeps the suite fast)."""
    bad = []
    for a, b in PAIRS:
        da = SCALAR_DTYPE[kind(a)] if ca == "scalar" else a
        db = SCALAR_DTYPE[kind(b)] if cb == "scalar" else b
        if (ca == "scalar" and a != da) or (cb == "scalar" and b != db):
            continue  # one Python number per kind
        want = result_type([(da, ca), (db, cb)])
        x, y = operand(a, ca), operand(b, cb)
        try:
            got = ember.result_type(x, y).name
        except TypeError:
            got = None
        if want is None:
            # the model's promote_types answers None for complex128 (unsupported)
            continue
        if got != want:
            bad.append(f"{a}/{ca} + {b}/{cb}: ember {got}, expected {want}")
            continue
        # the actual dtype of an op that supports every dtype
        r = ember.mul(x, y) if isinstance(x, ember.Tensor) or isinstance(y, ember.Tensor) else None
        if r is not None and r.dtype.name != want:
            bad.append(f"{a}/{ca} * {b}/{cb}: mul gave {r.dtype.name}, expected {want}")
    assert not bad, "\n".join(bad)


def test_complex128_is_refused():
    z = ember.ones(2, dtype=ember.complex64)
    d = ember.ones(2, dtype=ember.float64)
    with pytest.raises(TypeError, match=r"complex128"):
        z + d
    # a 0-d float64 or a Python float does not need complex128
    assert (z + ember.tensor(2.0, dtype=ember.float64)).dtype == ember.complex64
    assert (z * 2.5).dtype == ember.complex64


# ---- can_cast (in-place and out= use it) ----------------------------------------------------------
def _can_cast(src, dst):
    if kind(src) == "complex" and kind(dst) != "complex":
        return False
    if kind(src) == "float" and kind(dst) in ("int", "bool"):
        return False
    if src != "bool" and dst == "bool":
        return False
    return True


def test_can_cast_matrix():
    bad = [f"{a}->{b}" for a, b in PAIRS if ember.can_cast(E(a), E(b)) != _can_cast(a, b)]
    assert not bad, bad
    assert ember.can_cast(ember.float64, ember.float16)      # same kind, narrower: allowed
    assert not ember.can_cast(ember.float32, ember.int64)
    assert not ember.can_cast(ember.int8, ember.bool)
    assert ember.can_cast(ember.bool, ember.uint8)


# ---- promotion through ops and operators --------------------------------------------------------------
@pytest.mark.parametrize("a,b", [("int8", "uint8"), ("int32", "float16"), ("bfloat16", "float16"),
                                 ("bool", "int16"), ("float32", "float64"), ("int64", "complex64")])
def test_binary_ops_promote_mixed_tensors(a, b):
    x = make(ember, np.arange(1, 5), a)
    y = make(ember, np.arange(1, 5)[::-1].copy(), b)
    want = E(promote_types(a, b))
    for name in ("add", "mul", "maximum", "eq", "div"):
        try:
            r = getattr(ember, name)(x, y)
        except TypeError:
            assert name == "maximum" and kind(promote_types(a, b)) == "complex"
            continue
        if name == "eq":
            assert r.dtype == ember.bool
        elif name == "div":
            assert r.dtype == (want if kind(want.name) in ("float", "complex") else ember.float32)
        else:
            assert r.dtype == want, (name, r.dtype, want)
    # values are computed in the promoted dtype: 100 + 100 in int8 + uint8 -> int16 has no overflow
    if (a, b) == ("int8", "uint8"):
        assert (make(ember, [100], "int8") + make(ember, [100], "uint8")).tolist() == [200]


def test_python_scalars_do_not_upcast():
    x = ember.ones(3, dtype=ember.float16)
    assert (x + 1).dtype == ember.float16
    assert (x * 1e10).dtype == ember.float16           # overflows to inf rather than upcasting
    assert np.isinf((x * 1e10).float().numpy()).all()
    i8 = ember.ones(3, dtype=ember.int8)
    assert (i8 + 1000).dtype == ember.int8             # wraps like PyTorch
    assert (i8 * 2.0).dtype == ember.float32
    assert (2.0 * i8).dtype == ember.float32
    assert (True + i8).dtype == ember.int8
    assert (ember.ones(2, dtype=ember.bool) + True).dtype == ember.bool
    assert (ember.ones(2, dtype=ember.bool) + 1).dtype == ember.int64
    assert (ember.ones(2, dtype=ember.uint8) - 1).dtype == ember.uint8


def test_comparison_and_where_promotion():
    i = ember.tensor([1, 2, 3], dtype=ember.int16)
    f = ember.tensor([1.0, 2.5, 3.0], dtype=ember.float16)
    assert (i == f).tolist() == [True, False, True]    # compared in float16, not in int
    assert (i < 2.5).tolist() == [True, True, False]
    assert ember.where(i > 1, i, f).dtype == ember.float16
    assert ember.where(i > 1, i, 0.5).dtype == ember.float32   # a Python float: default dtype


def test_numpy_scalars_act_like_python_numbers():
    x = ember.ones(2, dtype=ember.float16)
    assert (x + np.float64(2)).dtype == ember.float16
    assert (ember.ones(2, dtype=ember.int8) + np.int64(2)).dtype == ember.int8
    assert ember.result_type(ember.ones(2, dtype=ember.int32), np.float32(1.5)) == ember.float32
