"""Elementwise ops against a float64 NumPy reference, generated from tests/core/op_specs.py.

For every op x supported dtype x layout (contiguous, transposed, sliced with a step, expanded,
broadcast, zero-size, 0-d, 0-d and Python-number operands, a large parallel case): values,
result dtype, the Tensor method; per op x dtype: out= (same dtype, wider dtype, non-contiguous,
wrong shape, uncastable dtype) and the in-place variant (writes in place, bumps the version,
or raises TypeError when the result can't be cast); nan/inf/-0 inputs; and the error cases.
"""
import re
import zlib

import numpy as np
import pytest

import ember
from op_specs import (ALL, BINARY, FLOATS, INTS, SPECS, TOL, assert_close, cast, kind, make,
                      specials_for, to_np)

SHAPE = (4, 33)  # 33: a vectorised body plus a tail


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _np_value(spec, i, dtype, shape, rng):
    return spec.domains[i].sample(rng, shape, dtype)


def _layout_tensor(values_fn, dtype, layout, i, nargs):
    """One input in a layout; values_fn(shape) gives NumPy values of that shape."""
    if layout in ("contig", "pyscalar"):
        return make(ember, values_fn(SHAPE), dtype)
    if layout == "transposed":
        return make(ember, values_fn(SHAPE[::-1]), dtype).t()
    if layout == "sliced":
        base = make(ember, values_fn((2 * SHAPE[0], 2 * SHAPE[1] + 4)), dtype)
        return base[::2, 1:2 * SHAPE[1] + 1:2]
    if layout == "expanded":  # stride-0 dims of full-shape inputs
        small = (1, SHAPE[1]) if i % 2 == 0 else (SHAPE[0], 1)
        return make(ember, values_fn(small), dtype).expand(*SHAPE)
    if layout == "broadcast":  # operands of different shapes
        shapes = [(SHAPE[0], 1), (SHAPE[1],), (1, 1)]
        return make(ember, values_fn(shapes[i % 3]), dtype)
    if layout == "zero":
        return make(ember, values_fn((0, SHAPE[1])), dtype)
    if layout == "zerodim":
        return make(ember, values_fn(()), dtype)
    if layout == "scalar":  # the last operand is 0-d, the others full
        return make(ember, values_fn(() if i == nargs - 1 else SHAPE), dtype)
    if layout == "large":
        return make(ember, values_fn((2, 17001)), dtype)[:, 1:]  # above the parallel grain
    raise AssertionError(layout)


def _py_number(value, dtype):
    k = kind(dtype)
    v = np.asarray(value).item()
    return {"bool": bool, "int": int, "float": float, "complex": complex}[k](v)


def build(spec, dtype, layout, seed=0):
    """(ember inputs, wide NumPy inputs in the compute dtype) for one test case."""
    rng = _rng(spec.id, dtype, layout, seed)
    dts = spec.input_dtypes(dtype)
    compute = spec.compute_dtype(dtype)
    tensors, wide_in = [], []
    for i, dt in enumerate(dts):
        if layout == "pyscalar" and i == spec.nargs - 1:
            num = _py_number(_np_value(spec, i, dt, (), rng), dt)
            tensors.append(num)
            wide_in.append(cast(num, compute if spec.arg_kinds[i] == "x" else dt))
            continue
        t = _layout_tensor(lambda shape: _np_value(spec, i, dt, shape, rng), dt, layout, i, spec.nargs)
        tensors.append(t)
        wide_in.append(cast(to_np(t), compute if spec.arg_kinds[i] == "x" else dt))
    return tensors, wide_in


def expected(spec, dtype, wide_in, out_dtype=None):
    res = spec.result_dtype(dtype)
    with np.errstate(all="ignore"):
        kw = {"dtype": res} if spec.ref_dtype else {}
        ref = spec.ref(*wide_in, **kw)
        ref = np.broadcast_to(ref, np.broadcast_shapes(*[np.shape(w) for w in wide_in]))
        r = cast(ref, res)
        return r if out_dtype is None else cast(r, out_dtype)


def _id(spec):
    return spec.id


def _layouts(spec, dtype):
    lays = ["contig", "transposed", "sliced", "expanded", "zero", "zerodim"]
    if spec.nargs > 1:
        lays += ["broadcast", "scalar"]
    if spec in BINARY:
        lays.append("pyscalar")
    first_float = "float32" if "float32" in spec.dtypes else spec.dtypes[0]
    if dtype == first_float:
        lays.append("large")
    return lays


def _dtype(name):
    return getattr(ember, name)


def _check_forward(spec, dtype, layout):
    inputs, wide_in = build(spec, dtype, layout)
    before = [to_np(t).copy() for t in inputs if isinstance(t, ember.Tensor)]
    r = spec.call(ember, *inputs)
    res = spec.result_dtype(dtype)
    assert r.dtype == _dtype(res), f"result dtype {r.dtype}, expected {res}"
    exp = expected(spec, dtype, wide_in)
    assert_close(r, exp, res, spec.tol, f"{spec.id}({dtype}, {layout})")
    after = [to_np(t) for t in inputs if isinstance(t, ember.Tensor)]
    for a, b in zip(before, after):  # inputs are untouched
        np.testing.assert_array_equal(a, b, err_msg="an input was modified")
    if layout in ("contig", "transposed") and spec.method:
        m = getattr(inputs[0], spec.name)(*inputs[1:], *spec.args, **spec.kwargs)
        assert m.dtype == r.dtype
        assert_close(m, exp, res, spec.tol, f"Tensor.{spec.name}")


@pytest.mark.parametrize("spec,dtype", [pytest.param(s, d, id=f"{s.id}-{d}") for s in SPECS for d in s.dtypes])
def test_forward(spec, dtype):
    """Values and result dtype in every layout (failures of all layouts are reported together)."""
    failures = []
    for layout in _layouts(spec, dtype):
        if spec.id == "masked_fill" and layout == "pyscalar":
            continue
        try:
            _check_forward(spec, dtype, layout)
        except Exception as e:  # noqa: BLE001 - report the layout with the error
            failures.append(f"--- layout {layout}: {type(e).__name__}: {e}")
    assert not failures, "\n".join(failures)


def _op_dtype_cases(filter_fn=lambda s: True):
    return [pytest.param(s, d, id=f"{s.id}-{d}") for s in SPECS if filter_fn(s) for d in s.dtypes]


def _can_cast(src, dst):
    if kind(src) == "complex" and kind(dst) != "complex":
        return False
    if kind(src) == "float" and kind(dst) in ("int", "bool"):
        return False
    if src != "bool" and dst == "bool":
        return False
    return True


@pytest.mark.parametrize("spec,dtype", _op_dtype_cases(lambda s: s.out))
def test_out(spec, dtype):
    inputs, wide_in = build(spec, dtype, "contig")
    res = spec.result_dtype(dtype)
    exp = expected(spec, dtype, wide_in)
    out = ember.empty(*SHAPE, dtype=_dtype(res))
    v0 = out._version
    r = spec.call(ember, *inputs, out=out)
    assert r.data_ptr() == out.data_ptr() and r.dtype == out.dtype
    assert out._version > v0
    assert_close(out, exp, res, spec.tol, f"{spec.id} out=")

    # a non-contiguous out of a wider dtype receives the converted result
    wider = {"bool": "int16", "uint8": "int16", "int8": "int32", "int16": "int64", "int32": "int64",
             "int64": "float64", "float16": "float32", "bfloat16": "float32", "float32": "float64",
             "float64": "float64", "complex64": "complex64"}[res]
    out2 = ember.zeros(SHAPE[1], SHAPE[0], dtype=_dtype(wider)).t()
    spec.call(ember, *inputs, out=out2)
    tol = {**TOL, wider: spec.tol.get(res, (0.0, 0.0))}
    assert_close(out2, cast(exp, wider), wider, tol, f"{spec.id} out= {wider} non-contiguous")

    # wrong shape
    bad = ember.empty(SHAPE[0], SHAPE[1] + 1, dtype=_dtype(res))
    with pytest.raises(ValueError, match=re.escape(f"[{spec.err_name}]")):
        spec.call(ember, *inputs, out=bad)
    # an out dtype the result can't be cast to
    narrower = {"bool": None, "int": "bool", "float": "int32", "complex": "float32"}[kind(res)]
    if narrower:
        with pytest.raises(TypeError, match=re.escape(f"[{spec.err_name}]") + ".*can't be cast"):
            spec.call(ember, *inputs, out=ember.empty(*SHAPE, dtype=_dtype(narrower)))


@pytest.mark.parametrize("spec,dtype", _op_dtype_cases(lambda s: s.inplace and s.method))
def test_inplace(spec, dtype):
    inputs, wide_in = build(spec, dtype, "transposed")
    x = inputs[0]
    res = spec.result_dtype(dtype)
    fn = getattr(x, spec.name + "_")
    if not _can_cast(res, dtype):
        with pytest.raises(TypeError, match=re.escape(f"[{spec.err_name}]") + ".*can't be cast"):
            fn(*inputs[1:], *spec.args, **spec.kwargs)
        return
    exp = expected(spec, dtype, wide_in, out_dtype=dtype)
    ptr, ver, stride = x.data_ptr(), x._version, x.stride()
    r = fn(*inputs[1:], *spec.args, **spec.kwargs)
    assert r._is_same(x) or (r.data_ptr() == ptr and r.stride() == stride)
    assert x.data_ptr() == ptr and x.stride() == stride and x.dtype == _dtype(dtype)
    assert x._version > ver
    tol = {**TOL, **spec.tol}
    assert_close(x, exp, dtype, tol, f"{spec.id}_ in place")

    # through a strided view: writes into the base and bumps the shared version
    inputs, wide_in = build(spec, dtype, "sliced")
    v = inputs[0]
    ver = v._version
    getattr(v, spec.name + "_")(*inputs[1:], *spec.args, **spec.kwargs)
    assert v._version > ver
    assert_close(v, expected(spec, dtype, wide_in, out_dtype=dtype), dtype, tol, f"{spec.id}_ on a strided view")


# ---- nan / inf / -0 -----------------------------------------------------------------------------
def _special_cases():
    out = []
    for s in SPECS:
        if not s.specials:
            continue
        for d in s.dtypes:
            if d in FLOATS:
                out.append(pytest.param(s, d, id=f"{s.id}-{d}"))
    return out


@pytest.mark.parametrize("spec,dtype", _special_cases())
def test_specials(spec, dtype):
    sp = specials_for(dtype)
    if spec.nargs == 1:
        grids = [sp]
    else:  # every pair of specials
        a, b = np.meshgrid(sp, sp, indexing="ij")
        grids = [a, b] + [sp[:, None]] * (spec.nargs - 2)
    tensors = [make(ember, g, dtype) for g in grids]
    compute = spec.compute_dtype(dtype)
    wide_in = [cast(to_np(t), compute) for t in tensors]
    r = spec.call(ember, *tensors)
    exp = expected(spec, dtype, wide_in)
    res = spec.result_dtype(dtype)
    tol = dict(spec.tol)
    if dtype in ("float16", "bfloat16"):  # results at the edge of the range: allow one more ulp
        tol[dtype] = (tol[dtype][0] * 2, tol[dtype][1])
    assert_close(r, exp, res, tol, f"{spec.id}({dtype}) on nan/inf/0")


# ---- errors ---------------------------------------------------------------------------------------
def _unsupported_cases():
    return [pytest.param(s, d, id=f"{s.id}-{d}") for s in SPECS for d in ALL if d not in s.dtypes]


@pytest.mark.parametrize("spec,dtype", _unsupported_cases())
def test_unsupported_dtype_raises(spec, dtype):
    inputs, _ = build(spec, dtype, "contig")
    with pytest.raises(TypeError, match=re.escape(f"[{spec.err_name}]")):
        spec.call(ember, *inputs)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.nargs > 1 and s.arg_kinds[0] == "x"], ids=_id)
def test_broadcast_error(spec):
    dtype = spec.dtypes[-1] if "float32" not in spec.dtypes else "float32"
    dts = spec.input_dtypes(dtype)
    tensors = [make(ember, np.ones((2, 3) if i == 0 else (4,)), dt) for i, dt in enumerate(dts)]
    with pytest.raises(ValueError, match=re.escape(f"[{spec.err_name}] shapes cannot be broadcast")):
        spec.call(ember, *tensors)
    if spec.inplace and spec.method:
        small = make(ember, np.ones((1, 3)), dts[0])
        others = [make(ember, np.ones((2, 3)), dt) for dt in dts[1:]]
        with pytest.raises(ValueError, match=re.escape(f"[{spec.err_name}") + r"_?\]"):
            getattr(small, spec.name + "_")(*others, *spec.args, **spec.kwargs)


DIV_OPS = ["div[floor]", "div[trunc]", "floor_divide", "remainder", "fmod"]


@pytest.mark.parametrize("op_id", DIV_OPS)
@pytest.mark.parametrize("dtype", INTS)
def test_integer_division_by_zero(op_id, dtype):
    spec = next(s for s in SPECS if s.id == op_id)
    a = make(ember, np.arange(6) + 1, dtype)
    b = make(ember, np.array([1, 2, 0, 3, 1, 1]), dtype)
    with pytest.raises(ZeroDivisionError, match=re.escape(f"[{spec.err_name}] integer division by zero")):
        spec.call(ember, a, b)
    with pytest.raises(ZeroDivisionError):
        spec.call(ember, a, 0)
    # float division by zero is not an error
    r = spec.call(ember, make(ember, [1.0, -1.0, 0.0], "float32"), make(ember, [0.0, 0.0, 0.0], "float32"))
    assert r.dtype == ember.float32


def test_integer_division_by_zero_operators():
    a = ember.tensor([1, 2, 3])
    with pytest.raises(ZeroDivisionError):
        a // 0
    with pytest.raises(ZeroDivisionError):
        a % ember.tensor([1, 0, 1])
    with pytest.raises(ZeroDivisionError):
        a //= 0
    r = a / 0  # true division: float
    assert r.dtype == ember.float32 and np.isinf(r.numpy()).all()


def test_integer_negative_power():
    with pytest.raises(ValueError, match=r"\[pow\] integers to negative integer powers"):
        ember.pow(ember.tensor([2, 3]), ember.tensor([-1, 1]))
    with pytest.raises(ValueError, match=r"\[pow\]"):
        ember.tensor([2, 3]) ** -1
    # 1 and -1 to negative powers are fine
    r = ember.pow(ember.tensor([1, -1, -1]), ember.tensor([-3, -3, -2]))
    assert r.tolist() == [1, -1, 1]


@pytest.mark.parametrize("dtype", INTS)
def test_inplace_float_scalar_into_int(dtype):
    x = make(ember, np.arange(4), dtype)
    for name, arg in [("add_", 1.5), ("sub_", 0.5), ("mul_", 2.5), ("div_", 2), ("pow_", 0.5)]:
        with pytest.raises(TypeError, match=r"can't be cast"):
            getattr(x, name)(arg)
    with pytest.raises(TypeError, match=r"can't be cast"):
        x += 1.5
    np.testing.assert_array_equal(to_np(x), np.arange(4))  # untouched


def test_bool_subtraction_and_negation():
    b = ember.tensor([True, False])
    with pytest.raises(TypeError, match=r"\[sub\]"):
        b - b
    with pytest.raises(TypeError, match=r"\[neg\]"):
        -b


def test_bitwise_on_floats():
    x = ember.ones(3)
    for fn in (lambda: x & x, lambda: x | 1, lambda: x ^ x, lambda: ~x, lambda: x << 1, lambda: x >> 1):
        with pytest.raises(TypeError, match=r"\[(bitwise_\w+|left_shift|right_shift)\] unsupported dtype"):
            fn()


def test_complex_ordering_raises():
    z = ember.tensor([1 + 2j])
    for fn in (lambda: z < z, lambda: z >= z, lambda: ember.maximum(z, z)):
        with pytest.raises(TypeError):
            fn()


@pytest.mark.parametrize("alpha", [1.5, 0.5])
@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8"])
def test_integer_add_float_alpha_raises(dtype, alpha):
    a = make(ember, np.arange(3), dtype)
    with pytest.raises(TypeError, match=r"\[add\].*alpha"):
        ember.add(a, a, alpha=alpha)
    with pytest.raises(TypeError, match=r"\[sub\].*alpha"):
        ember.sub(a, a, alpha=alpha)


# ---- op-specific behaviour beyond the table ----------------------------------------------------------
def test_shift_out_of_range():
    x = ember.tensor([-5, 5, 1], dtype=ember.int32)
    assert (x << 40).tolist() == [0, 0, 0]
    assert (x >> 40).tolist() == [-1, 0, 0]
    assert (x << -1).tolist() == [0, 0, 0]
    assert (ember.tensor([1], dtype=ember.int8) << 7).tolist() == [-128]


def test_div_rounding_mode_invalid():
    with pytest.raises(ValueError, match=r"\[div\] expected rounding_mode"):
        ember.div(ember.ones(2), ember.ones(2), rounding_mode="round")


def test_div_floor_float_signs():
    a = ember.tensor([7.0, -7.0, 7.0, -7.0, 0.0, -0.0, 1.0, -1.0])
    b = ember.tensor([2.0, 2.0, -2.0, -2.0, 3.0, 3.0, 0.0, 0.0])
    r = ember.div(a, b, rounding_mode="floor").numpy()
    np.testing.assert_array_equal(r, [3.0, -4.0, -4.0, 3.0, 0.0, -0.0, np.inf, -np.inf])
    assert np.signbit(r[5])
    t = ember.div(a, b, rounding_mode="trunc").numpy()
    np.testing.assert_array_equal(t, [3.0, -3.0, -3.0, 3.0, 0.0, -0.0, np.inf, -np.inf])


def test_remainder_fmod_signs():
    a = ember.tensor([5, -5, 5, -5])
    b = ember.tensor([3, 3, -3, -3])
    assert ember.remainder(a, b).tolist() == [2, 1, -1, -2]
    assert ember.fmod(a, b).tolist() == [2, -2, 2, -2]
    assert (a % 3).tolist() == [2, 1, 2, 1]
    af = ember.tensor([5.5, -5.5])
    np.testing.assert_allclose(ember.remainder(af, 2.0).numpy(), [1.5, 0.5])
    np.testing.assert_allclose(ember.fmod(af, 2.0).numpy(), [1.5, -1.5])


def test_round_half_to_even_and_decimals():
    x = ember.tensor([0.5, 1.5, 2.5, -0.5, -1.5, 2.675])
    np.testing.assert_array_equal(ember.round(x).numpy(), [0.0, 2.0, 2.0, -0.0, -2.0, 3.0])
    np.testing.assert_allclose(ember.round(ember.tensor([1.2345, -2.5678]), decimals=2).numpy(),
                               [1.23, -2.57], rtol=1e-6)
    np.testing.assert_allclose(ember.round(ember.tensor([1234.5, 1250.0]), decimals=-2).numpy(),
                               [1200.0, 1200.0])


def test_gelu_approximate_invalid():
    with pytest.raises(ValueError, match=r"\[gelu\] approximate"):
        ember.gelu(ember.ones(2), approximate="exact")


def test_softplus_beta_zero():
    with pytest.raises(ValueError, match=r"\[softplus\] beta"):
        ember.softplus(ember.ones(2), beta=0)


def test_logit_eps_clamps():
    x = ember.tensor([0.0, 1.0, 0.5, -3.0])
    r = ember.logit(x, eps=0.25).numpy()
    lo, hi = np.log(0.25 / 0.75), np.log(0.75 / 0.25)
    np.testing.assert_allclose(r, [lo, hi, 0.0, lo], rtol=1e-6, atol=1e-7)
    r = ember.logit(x).numpy()
    assert r[0] == -np.inf and r[1] == np.inf and np.isnan(r[3])


def test_clamp_variants():
    x = ember.tensor([-3.0, -1.0, 0.0, 1.0, 3.0, float("nan")])
    np.testing.assert_array_equal(ember.clamp(x, -2, 2).numpy(), [-2, -1, 0, 1, 2, np.nan])
    np.testing.assert_array_equal(ember.clip(x, max=0.5).numpy(), [-3, -1, 0, 0.5, 0.5, np.nan])
    lo = ember.tensor([-1.0, -2.0, 0.5, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(ember.clamp(x, min=lo).numpy(), [-1, -1, 0.5, 1, 3, np.nan])
    np.testing.assert_array_equal(x.clamp(lo, 2.0).numpy(), [-1, -1, 0.5, 1, 2, np.nan])
    # min > max: everything becomes max, like PyTorch
    np.testing.assert_array_equal(ember.clamp(ember.tensor([0.0, 5.0]), 3, 1).numpy(), [1, 1])
    with pytest.raises(ValueError, match=r"\[clamp\] at least one"):
        ember.clamp(x)
    y = x.clone()
    ptr = y.data_ptr()
    y.clamp_(min=0)
    assert y.data_ptr() == ptr
    np.testing.assert_array_equal(y.numpy(), [0, 0, 0, 1, 3, np.nan])
    # integer tensor clamped with tensor bounds stays integer
    xi = ember.tensor([-5, 0, 5])
    assert ember.clamp(xi, ember.tensor(-1), ember.tensor(1)).tolist() == [-1, 0, 1]
    out = ember.empty(3)
    r = ember.clamp(x[:3], lo[:3], 0.0, out=out)
    assert r.data_ptr() == out.data_ptr()
    np.testing.assert_array_equal(out.numpy(), [-1, -1, 0])


def test_clamp_tensor_bounds_shape_error_names_clamp():
    with pytest.raises(ValueError, match=r"\[clamp\] shapes cannot be broadcast"):
        ember.clamp(ember.ones(2, 3), ember.zeros(4))


def test_nan_to_num_defaults_per_dtype():
    for dt, big in [("float16", 65504.0), ("float32", float(np.finfo(np.float32).max)),
                    ("float64", float(np.finfo(np.float64).max)), ("bfloat16", 3.3895313892515355e38)]:
        x = make(ember, np.array([np.nan, np.inf, -np.inf, 1.0]), dt)
        np.testing.assert_array_equal(to_np(ember.nan_to_num(x)), [0.0, big, -big, 1.0])


def test_where_masked_fill_lerp():
    c = ember.tensor([True, False, True])
    a = ember.tensor([1, 2, 3], dtype=ember.int32)
    b = ember.tensor([0.5, 0.25, 0.125])
    r = ember.where(c, a, b)
    assert r.dtype == ember.float32 and r.tolist() == [1.0, 0.25, 3.0]
    r = ember.where(c, a, 7)
    assert r.dtype == ember.int32 and r.tolist() == [1, 7, 3]
    r = ember.where(c, 1.5, a)
    assert r.dtype == ember.float32 and r.tolist() == [1.5, 2.0, 1.5]
    assert a.where(c, 0).tolist() == [1, 0, 3]
    with pytest.raises(TypeError, match=r"\[where\] condition"):
        ember.where(a, a, a)
    m = a.masked_fill(c, 9)
    assert m.dtype == ember.int32 and m.tolist() == [9, 2, 9]
    a2 = a.clone()
    ver = a2._version
    a2.masked_fill_(ember.tensor([False, True, False]), -1)
    assert a2.tolist() == [1, -1, 3] and a2._version > ver
    with pytest.raises(TypeError, match=r"\[masked_fill\] expected a bool mask"):
        a.masked_fill(a, 0)
    # mask broadcasting to the tensor; a mask that would grow the tensor raises in place
    x = ember.zeros(2, 3)
    assert x.masked_fill(ember.tensor([True, False, True]), 1).tolist() == [[1, 0, 1], [1, 0, 1]]
    with pytest.raises(ValueError, match=r"\[masked_fill_\]"):
        ember.zeros(1, 3).masked_fill_(ember.ones(2, 3).bool(), 1)
    with pytest.raises(ValueError, match=r"\[masked_fill\]"):
        x.masked_fill(ember.tensor([True, False, True]), ember.ones(2))
    # lerp: exact endpoints, weight tensor, dtype checks
    s, e = ember.tensor([1.0, -2.0]), ember.tensor([3.0, 6.0])
    assert ember.lerp(s, e, 0.0).tolist() == [1.0, -2.0]
    assert ember.lerp(s, e, 1.0).tolist() == [3.0, 6.0]
    assert ember.lerp(s, e, ember.tensor([0.5, 0.25])).tolist() == [2.0, 0.0]
    with pytest.raises(TypeError, match=r"\[lerp\]"):
        ember.lerp(a, a, 0.5)
    with pytest.raises(TypeError, match=r"\[lerp\]"):
        ember.lerp(s, e, ember.tensor([0.5, 0.5], dtype=ember.float64))


# ---- complex64 --------------------------------------------------------------------------------------
def test_complex_ops():
    z = np.array([1 + 2j, -3 + 0.5j, 0 - 1j, 2.5 + 0j], dtype=np.complex64)
    w = np.array([0.5 - 1j, 2 + 2j, -1 + 0j, 1j], dtype=np.complex64)
    tz, tw = ember.tensor(z), ember.tensor(w)
    assert tz.dtype == ember.complex64
    for name, ref in [("add", z + w), ("sub", z - w), ("mul", z * w), ("div", z / w)]:
        r = getattr(ember, name)(tz, tw)
        assert r.dtype == ember.complex64
        np.testing.assert_allclose(r.numpy(), ref, rtol=1e-6)
    a = ember.abs(tz)
    assert a.dtype == ember.float32
    np.testing.assert_allclose(a.numpy(), np.abs(z), rtol=1e-6)
    ang = ember.angle(tz)
    assert ang.dtype == ember.float32
    np.testing.assert_allclose(ang.numpy(), np.angle(z), rtol=1e-6)
    np.testing.assert_array_equal(ember.conj(tz).numpy(), np.conj(z))
    # complex with a real tensor or Python numbers
    np.testing.assert_allclose((tz * 2).numpy(), z * 2)
    np.testing.assert_allclose((tz + ember.tensor([1.0, 2.0, 3.0, 4.0])).numpy(), z + [1, 2, 3, 4])
    r = ember.ones(4) * 1j
    assert r.dtype == ember.complex64
    np.testing.assert_array_equal(r.numpy(), np.full(4, 1j, np.complex64))
    np.testing.assert_array_equal((tz == tz).numpy(), [True] * 4)


def test_complex_real_imag_views():
    z = ember.tensor([1 + 2j, 3 - 4j])
    re, im = z.real, z.imag
    assert re.dtype == ember.float32 and im.dtype == ember.float32
    assert re.tolist() == [1.0, 3.0] and im.tolist() == [2.0, -4.0]
    assert re.stride() == (2,) and im.storage_offset() == 1
    im.mul_(10)  # writes through to z
    assert z.tolist() == [1 + 20j, 3 - 40j]
    assert ember.real(z).tolist() == [1.0, 3.0]
    r = ember.view_as_real(z)
    assert r.shape == (2, 2) and r.stride() == (2, 1)
    r[0, 0] = 7.0
    assert z.tolist()[0] == 7 + 20j
    back = ember.view_as_complex(r)
    assert back.dtype == ember.complex64 and back._shares_storage(z)
    assert back.tolist() == z.tolist()
    with pytest.raises(TypeError, match=r"\[imag\]"):
        ember.ones(2).imag
    with pytest.raises(TypeError, match=r"\[view_as_real\]"):
        ember.view_as_real(ember.ones(2))
    with pytest.raises(ValueError, match=r"\[view_as_complex\]"):
        ember.view_as_complex(ember.ones(3))
    with pytest.raises(ValueError, match=r"\[view_as_complex\]"):
        ember.view_as_complex(ember.ones(2, 2).t())
    # real of a real tensor is itself (a view)
    x = ember.ones(3)
    assert x.real._shares_storage(x)


@pytest.mark.parametrize("scale", [0.1, 1.0, 1e3, 3e4, 1e6, 1e7, 3e38])
@pytest.mark.parametrize("name", ["sin", "cos"])
def test_sin_cos_float32_within_2_ulp_at_every_scale(name, scale):
    # the vectorised float32 path (reduction in double, then polynomials) and the libm path
    # it hands large arguments to; error measured in float32 ulps of the exact result
    rng = np.random.default_rng(7)
    a = np.clip(rng.standard_normal(20000) * scale, -3.4e38, 3.4e38).astype(np.float32)
    got = getattr(ember, name)(ember.from_numpy(a)).numpy().astype(np.float64)
    ref = getattr(np, name)(a.astype(np.float64))
    ulp = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(got - ref) / ulp) <= 2.0
    x = ember.from_numpy(a.reshape(100, 200).copy())
    v = x[:, ::3]  # strided in-place goes through libm
    getattr(v, name + "_")()
    np.testing.assert_allclose(v.numpy(), getattr(np, name)(a.reshape(100, 200)[:, ::3]), rtol=1e-6, atol=1e-7)
