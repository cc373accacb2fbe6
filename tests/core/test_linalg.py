"""Linear algebra: matmul (every broadcasting case), mm/bmm/mv/dot/vdot/inner/outer, addmm family,
einsum, tensordot, kron; against float64 NumPy references."""
import numpy as np
import pytest

import ember

RNG = np.random.default_rng(1234)

FLOAT_DTYPES = ["float32", "float64", "complex64", "float16", "bfloat16"]
ALL_DTYPES = FLOAT_DTYPES + ["int32", "int64", "int16", "int8", "uint8"]
TOL = {"float32": 1e-5, "float64": 1e-12, "complex64": 1e-5, "float16": 2e-3, "bfloat16": 1.6e-2}


def rand_np(shape, dtype):
    if dtype in ("int32", "int64", "int16", "int8", "uint8"):
        return RNG.integers(0 if dtype == "uint8" else -3, 4, size=shape).astype(dtype)
    if dtype == "complex64":
        return (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(np.complex64)
    return RNG.standard_normal(shape).astype(np.float32 if dtype in ("float16", "bfloat16") else dtype)


def to_ember(a, dtype):
    return ember.tensor(a).to(getattr(ember, dtype))


def ref(a):
    """float64/complex128 value of an ember tensor or numpy array."""
    if isinstance(a, ember.Tensor):
        a = a.to(ember.complex64).numpy() if a.dtype == ember.complex64 else a.double().numpy() \
            if a.dtype.is_floating_point else a.numpy()
    return a.astype(np.complex128) if np.iscomplexobj(a) else a.astype(np.float64)


def check(got, want, dtype, k=1):
    assert got.dtype == getattr(ember, dtype)
    g, w = ref(got), np.asarray(want)
    assert g.shape == w.shape
    if dtype in TOL:
        scale = max(1.0, np.sqrt(k))
        np.testing.assert_allclose(g, w, rtol=TOL[dtype] * scale, atol=TOL[dtype] * scale * 4)
    else:
        np.testing.assert_array_equal(g, w.astype(np.float64))


# ---- matmul: every broadcasting case ---------------------------------------------------

MATMUL_SHAPES = [
    ((5,), (5,)),                 # dot
    ((4, 5), (5,)),               # mv
    ((5,), (5, 3)),               # vector @ matrix
    ((4, 5), (5, 3)),             # mm
    ((2, 4, 5), (5,)),            # batched @ vector
    ((5,), (2, 5, 3)),            # vector @ batched
    ((2, 4, 5), (5, 3)),          # batched @ matrix (folded)
    ((4, 5), (2, 5, 3)),          # matrix @ batched
    ((2, 4, 5), (2, 5, 3)),       # bmm
    ((2, 1, 4, 5), (3, 5, 3)),    # batch broadcasting
    ((1, 4, 5), (3, 1, 5, 3)),
    ((3, 2, 4, 5), (2, 5, 3)),
    ((1, 5), (5, 1)),
    ((1, 5), (5, 7)),
    ((7, 5), (5, 1)),
]


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_shapes_dtypes(sa, sb, dtype):
    a, b = rand_np(sa, dtype), rand_np(sb, dtype)
    got = ember.matmul(to_ember(a, dtype), to_ember(b, dtype))
    want = np.matmul(ref(to_ember(a, dtype)), ref(to_ember(b, dtype)))
    if dtype in ("int8", "int16", "uint8", "int32"):
        want = want.astype(np.int64).astype(dtype).astype(np.float64)  # wrap-around like PyTorch
    check(got, want, dtype, sa[-1])


@pytest.mark.parametrize("sa,sb,shape", [
    ((0, 3), (3, 4), (0, 4)),
    ((4, 0), (0, 5), (4, 5)),
    ((2, 0, 3), (3, 4), (2, 0, 4)),
    ((0,), (0,), ()),
    ((3, 0), (0,), (3,)),
    ((0, 4, 0), (0, 2), (0, 4, 2)),
    ((2, 3, 0), (2, 0, 4), (2, 3, 4)),
])
@pytest.mark.parametrize("dtype", ["float32", "float16", "int64", "complex64"])
def test_matmul_zero_size(sa, sb, shape, dtype):
    r = ember.matmul(ember.ones(*sa, dtype=getattr(ember, dtype)), ember.ones(*sb, dtype=getattr(ember, dtype)))
    assert r.shape == shape
    np.testing.assert_array_equal(ref(r), np.zeros(shape))


def test_matmul_zero_k_ignores_garbage_out():
    out = ember.full((3, 4), float("nan"))
    ember.matmul(ember.ones(3, 0), ember.ones(0, 4), out=out)
    np.testing.assert_array_equal(out.numpy(), np.zeros((3, 4)))


def _layouts(t):
    """The same values as t in several memory layouts."""
    yield t
    yield t.mT.contiguous().mT  # column-major
    big = ember.zeros(*t.shape[:-1], t.shape[-1] * 2, dtype=t.dtype)
    big[..., ::2] = t
    yield big[..., ::2]  # column stride 2
    big2 = ember.zeros(t.shape[0] * 3, *t.shape[1:], dtype=t.dtype)
    big2[::3] = t
    yield big2[::3]  # row stride 3 * columns


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "float16", "int32"])
def test_matmul_non_contiguous(dtype):
    A, B = to_ember(rand_np((6, 5), dtype), dtype), to_ember(rand_np((5, 4), dtype), dtype)
    want = ref(A) @ ref(B)
    n = 0
    for ta in _layouts(A):
        for tb in _layouts(B):
            check(ember.matmul(ta, tb), want, dtype, 5)
            check(ember.mv(ta, tb[:, 1]), want[:, 1], dtype, 5)
            n += 1
    assert n == 16


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "bfloat16", "int64"])
def test_matmul_transposed_views_no_copy_path(dtype):
    # both operands transposed views (BLAS trans flags) and a batched transposed operand
    a, b = rand_np((3, 7, 6), dtype), rand_np((3, 5, 7), dtype)
    ta, tb = to_ember(a, dtype), to_ember(b, dtype)
    want = np.matmul(ref(ta).swapaxes(1, 2), ref(tb).swapaxes(1, 2))
    check(ember.matmul(ta.mT, tb.mT), want, dtype, 7)
    check(ember.bmm(ta.mT, tb.mT), want, dtype, 7)


def test_matmul_expanded_operands():
    a = ember.tensor(rand_np((1, 4, 5), "float32")).expand(3, 4, 5)
    b = ember.tensor(rand_np((5,), "float32")).unsqueeze(1).expand(5, 6)  # stride-0 columns
    want = np.matmul(a.numpy().astype(np.float64), b.numpy().astype(np.float64))
    check(ember.matmul(a, b), want, "float32", 5)
    c = ember.tensor(rand_np((1,), "float32")).expand(5)  # stride-0 vector
    check(ember.matmul(a, c), np.matmul(a.numpy().astype(np.float64), c.numpy().astype(np.float64)), "float32", 5)


def test_matmul_out_layouts():
    a, b = rand_np((2, 4, 5), "float64"), rand_np((5, 3), "float64")
    want = a @ b
    out = ember.empty(2, 4, 3, dtype=ember.float64)
    r = ember.matmul(ember.tensor(a), ember.tensor(b), out=out)
    assert r._is_same(out)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12)
    # a column-major output (transposed view) and a strided one
    out_t = ember.zeros(2, 3, 4, dtype=ember.float64).transpose(1, 2)
    ember.matmul(ember.tensor(a), ember.tensor(b), out=out_t)
    np.testing.assert_allclose(out_t.numpy(), want, rtol=1e-12)
    big = ember.zeros(2, 4, 6, dtype=ember.float64)
    ember.matmul(ember.tensor(a), ember.tensor(b), out=big[..., ::2])
    np.testing.assert_allclose(big.numpy()[..., ::2], want, rtol=1e-12)
    np.testing.assert_array_equal(big.numpy()[..., 1::2], 0)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "bfloat16"])
def test_out_with_nan_garbage_is_overwritten(dtype):
    a, b = to_ember(rand_np((8, 5), dtype), dtype), to_ember(rand_np((5, 6), dtype), dtype)
    dt = getattr(ember, dtype)
    for shape, fn in [((8, 6), lambda o: ember.mm(a, b, out=o)),
                      ((6, 8), lambda o: ember.mm(a, b, out=o.t())),  # column-major out
                      ((8,), lambda o: ember.mv(a, b[:, 0], out=o)),
                      ((), lambda o: ember.dot(a[0], b[:, 0], out=o))]:
        out = ember.full(shape, float("nan"), dtype=dt)
        fn(out)
        assert np.isfinite(ref(out)).all()


def test_operator_matmul():
    a, b = rand_np((3, 4), "float32"), rand_np((4, 2), "float32")
    ta, tb = ember.tensor(a), ember.tensor(b)
    np.testing.assert_allclose((ta @ tb).numpy(), a @ b, rtol=1e-5)
    np.testing.assert_allclose(tb.__rmatmul__(ta).numpy(), a @ b, rtol=1e-5)
    np.testing.assert_allclose(ta.matmul(tb).numpy(), a @ b, rtol=1e-5)
    with pytest.raises(TypeError):
        ta @ 3
    with pytest.raises(TypeError):
        3 @ ta


def test_matmul_output_is_independent_of_thread_count():
    a, b = rand_np((64, 48, 40), "float32"), rand_np((64, 40, 32), "float32")
    ta, tb = ember.tensor(a), ember.tensor(b)
    n = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        r1 = ember.bmm(ta, tb).numpy()
        ember.set_num_threads(2)
        r2 = ember.bmm(ta, tb).numpy()
    finally:
        ember.set_num_threads(n)
    np.testing.assert_allclose(r1, r2, rtol=1e-6)
    np.testing.assert_allclose(r1, a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4)


# ---- matmul errors ---------------------------------------------------------------------

def test_matmul_shape_error_message():
    with pytest.raises(ValueError, match=r"^\[matmul\] shapes cannot be multiplied: \(16, 127\) @ \(128, 64\); "
                                         r"the inner sizes 127 and 128 must match$"):
        ember.matmul(ember.ones(16, 127), ember.ones(128, 64))
    with pytest.raises(ValueError, match=r"\[matmul\] shapes cannot be multiplied: \(3,\) @ \(4,\)"):
        ember.ones(3) @ ember.ones(4)
    with pytest.raises(ValueError, match=r"\[mm\] shapes cannot be multiplied"):
        ember.mm(ember.ones(2, 3), ember.ones(4, 2))
    with pytest.raises(ValueError, match=r"\[matmul\] batch dimensions cannot be broadcast"):
        ember.matmul(ember.ones(2, 3, 4), ember.ones(5, 4, 6))


@pytest.mark.parametrize("fn", [ember.matmul, ember.mm, ember.dot])
def test_dtype_mismatch(fn):
    a = ember.ones(3, 3) if fn is not ember.dot else ember.ones(3)
    with pytest.raises(TypeError, match=r"expected .* to have the same dtype, got ember.float32 and ember.float64"):
        fn(a, a.double())


def test_matmul_dtype_message_names_m1_m2():
    with pytest.raises(TypeError, match=r"\[matmul\] expected m1 and m2 to have the same dtype"):
        ember.ones(2, 2) @ ember.ones(2, 2, dtype=ember.int64)


def test_matmul_errors():
    with pytest.raises(ValueError, match=r"\[matmul\] both arguments need to be at least 1-D, got 0-D and 2-D"):
        ember.matmul(ember.tensor(1.0), ember.ones(2, 2))
    with pytest.raises(TypeError, match=r"\[matmul\] unsupported dtype.*ember.bool"):
        ember.matmul(ember.ones(2, 2, dtype=ember.bool), ember.ones(2, 2, dtype=ember.bool))
    with pytest.raises(ValueError, match=r"\[mm\] expected 2-D tensors, got 3-D and 2-D"):
        ember.mm(ember.ones(1, 2, 2), ember.ones(2, 2))
    with pytest.raises(ValueError, match=r"\[bmm\] expected equal batch sizes, got 2 and 3"):
        ember.bmm(ember.ones(2, 2, 2), ember.ones(3, 2, 2))
    with pytest.raises(ValueError, match=r"\[bmm\] expected 3-D tensors"):
        ember.bmm(ember.ones(2, 2), ember.ones(2, 2))
    with pytest.raises(ValueError, match=r"\[mv\] expected a 2-D matrix and a 1-D vector"):
        ember.mv(ember.ones(2, 2), ember.ones(2, 1))
    with pytest.raises(ValueError, match=r"\[dot\] expected both vectors to have the same number of elements, got 3 and 4"):
        ember.dot(ember.ones(3), ember.ones(4))
    with pytest.raises(ValueError, match=r"\[dot\] expected 1-D tensors"):
        ember.dot(ember.ones(3, 1), ember.ones(3))
    with pytest.raises(ValueError, match=r"\[matmul\] output has the wrong shape: expected \(2, 2\), got \(3,\)"):
        ember.matmul(ember.ones(2, 2), ember.ones(2, 2), out=ember.empty(3))
    with pytest.raises(TypeError, match=r"\[mm\] expected out to have dtype ember.float32, got ember.float64"):
        ember.mm(ember.ones(2, 2), ember.ones(2, 2), out=ember.empty(2, 2, dtype=ember.float64))
    with pytest.raises(ValueError, match=r"cannot write into an expanded tensor"):
        ember.mm(ember.ones(2, 2), ember.ones(2, 2), out=ember.zeros(1, 2).expand(2, 2))


# ---- the other products ----------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_mm_bmm_mv_dot(dtype):
    a, b = rand_np((4, 6), dtype), rand_np((6, 3), dtype)
    A, B = to_ember(a, dtype), to_ember(b, dtype)
    wrap = (lambda w: w.astype(np.int64).astype(dtype).astype(np.float64)) if dtype in ("int8", "uint8", "int16") \
        else (lambda w: w)
    check(ember.mm(A, B), wrap(ref(A) @ ref(B)), dtype, 6)
    check(A.mm(B), wrap(ref(A) @ ref(B)), dtype, 6)
    x, y = rand_np((2, 4, 6), dtype), rand_np((2, 6, 3), dtype)
    X, Y = to_ember(x, dtype), to_ember(y, dtype)
    check(ember.bmm(X, Y), wrap(ref(X) @ ref(Y)), dtype, 6)
    v = to_ember(rand_np((6,), dtype), dtype)
    check(ember.mv(A, v), wrap(ref(A) @ ref(v)), dtype, 6)
    check(A.mv(v), wrap(ref(A) @ ref(v)), dtype, 6)
    w = to_ember(rand_np((6,), dtype), dtype)
    check(ember.dot(v, w), wrap(np.dot(ref(v), ref(w))), dtype, 6)
    check(v.dot(w), wrap(np.dot(ref(v), ref(w))), dtype, 6)


def test_vdot_inner_outer_kron():
    a = (RNG.standard_normal(5) + 1j * RNG.standard_normal(5)).astype(np.complex64)
    b = (RNG.standard_normal(5) + 1j * RNG.standard_normal(5)).astype(np.complex64)
    np.testing.assert_allclose(ember.vdot(ember.tensor(a), ember.tensor(b)).item(), np.vdot(a, b), rtol=1e-5)
    np.testing.assert_allclose(ember.dot(ember.tensor(a), ember.tensor(b)).item(), np.dot(a, b), rtol=1e-5)
    x, y = rand_np((5,), "float64"), rand_np((3,), "float64")
    np.testing.assert_allclose(ember.vdot(ember.tensor(x), ember.tensor(x)).item(), np.dot(x, x), rtol=1e-12)
    np.testing.assert_allclose(ember.outer(ember.tensor(x), ember.tensor(y)).numpy(), np.outer(x, y), rtol=1e-12)
    np.testing.assert_allclose(ember.ger(ember.tensor(x), ember.tensor(y)).numpy(), np.outer(x, y), rtol=1e-12)
    np.testing.assert_allclose(ember.tensor(x).outer(ember.tensor(y)).numpy(), np.outer(x, y), rtol=1e-12)
    # outer promotes like PyTorch (int * float -> float)
    r = ember.outer(ember.arange(3), ember.ones(2))
    assert r.dtype == ember.float32
    np.testing.assert_array_equal(r.numpy(), np.outer(np.arange(3), np.ones(2)))
    p, q = rand_np((2, 3, 4), "float64"), rand_np((5, 4), "float64")
    np.testing.assert_allclose(ember.inner(ember.tensor(p), ember.tensor(q)).numpy(), np.inner(p, q), rtol=1e-12)
    np.testing.assert_allclose(ember.inner(ember.tensor(2.0, dtype=ember.float64), ember.tensor(q)).numpy(), 2 * q)
    for sa, sb in [((2, 3), (4, 5)), ((2,), (3, 3)), ((2, 2, 2), (3,)), ((), (2,))]:
        u, v = rand_np(sa, "float64"), rand_np(sb, "float64")
        np.testing.assert_allclose(ember.kron(ember.tensor(u), ember.tensor(v)).numpy(), np.kron(u, v), rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "bfloat16", "int64"])
def test_addmm_family(dtype):
    beta, alpha = (2, 3) if dtype == "int64" else (0.5, -1.5)
    a, b = to_ember(rand_np((4, 6), dtype), dtype), to_ember(rand_np((6, 3), dtype), dtype)
    for ishape in [(4, 3), (3,), (1, 3), (4, 1), ()]:
        inp = to_ember(rand_np(ishape, dtype), dtype)
        want = beta * ref(inp) + alpha * (ref(a) @ ref(b))
        check(ember.addmm(inp, a, b, beta=beta, alpha=alpha), want, dtype, 6)
        check(inp.addmm(a, b, beta=beta, alpha=alpha), want, dtype, 6)
    inp = to_ember(rand_np((4, 3), dtype), dtype)
    want = beta * ref(inp) + alpha * (ref(a) @ ref(b))
    r = inp.addmm_(a, b, beta=beta, alpha=alpha)
    assert r._is_same(inp)
    check(inp, want, dtype, 6)
    # baddbmm
    x, y = to_ember(rand_np((2, 4, 6), dtype), dtype), to_ember(rand_np((2, 6, 3), dtype), dtype)
    inp = to_ember(rand_np((2, 4, 3), dtype), dtype)
    want = beta * ref(inp) + alpha * (ref(x) @ ref(y))
    check(ember.baddbmm(inp, x, y, beta=beta, alpha=alpha), want, dtype, 6)
    inp.baddbmm_(x, y, beta=beta, alpha=alpha)
    check(inp, want, dtype, 6)
    # addmv, addr
    v = to_ember(rand_np((6,), dtype), dtype)
    inp = to_ember(rand_np((4,), dtype), dtype)
    check(ember.addmv(inp, a, v, beta=beta, alpha=alpha), beta * ref(inp) + alpha * ref(a) @ ref(v), dtype, 6)
    u, w = to_ember(rand_np((4,), dtype), dtype), to_ember(rand_np((3,), dtype), dtype)
    inp = to_ember(rand_np((4, 3), dtype), dtype)
    check(ember.addr(inp, u, w, beta=beta, alpha=alpha), beta * ref(inp) + alpha * np.outer(ref(u), ref(w)), dtype)
    want = beta * ref(inp) + alpha * np.outer(ref(u), ref(w))
    inp.addr_(u, w, beta=beta, alpha=alpha)
    check(inp, want, dtype)


def test_addmm_beta_zero_ignores_nan_and_out():
    inp = ember.full((3, 2), float("nan"))
    a, b = ember.ones(3, 4), ember.ones(4, 2)
    np.testing.assert_array_equal(ember.addmm(inp, a, b, beta=0).numpy(), np.full((3, 2), 4.0))
    np.testing.assert_array_equal(ember.addmv(ember.full((3,), float("nan")), a, ember.ones(4), beta=0).numpy(), 4.0)
    out = ember.empty(3, 2)
    r = ember.addmm(ember.ones(2), a, b, alpha=2, out=out)
    assert r._is_same(out)
    np.testing.assert_array_equal(out.numpy(), np.full((3, 2), 9.0))


def test_in_place_aliasing_input_and_factor():
    a = rand_np((4, 4), "float64")
    t = ember.tensor(a)
    t.addmm_(t, t)  # BLAS must not read what it writes
    np.testing.assert_allclose(t.numpy(), a + a @ a, rtol=1e-12)
    u = ember.tensor(a)
    ember.mm(u, u, out=u)
    np.testing.assert_allclose(u.numpy(), a @ a, rtol=1e-12)


def test_addmm_errors():
    a = ember.ones(2, 3)
    with pytest.raises(TypeError, match=r"\[addmm\] for integer inputs, alpha must be an integer, got 1.5"):
        ember.addmm(ember.ones(2, 2, dtype=ember.int64), a.long(), a.long().t(), alpha=1.5)
    with pytest.raises(TypeError, match=r"\[addmm\] for real inputs, beta must not be a complex number"):
        ember.addmm(ember.ones(2, 2), a, a.t(), beta=1j)
    with pytest.raises(ValueError, match=r"\[addmm\] input of shape \(3,\) cannot be broadcast|shapes cannot be broadcast"):
        ember.addmm(ember.ones(3), a, a.t())
    with pytest.raises(TypeError, match=r"\[addmm\] expected input to have the dtype of the factors"):
        ember.addmm(ember.ones(2, 2, dtype=ember.float64), a, a.t())
    with pytest.raises(ValueError, match=r"\[baddbmm\] expected 3-D tensors"):
        ember.baddbmm(ember.ones(2, 2), a, a.t())


# ---- einsum ----------------------------------------------------------------------------

EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij,kj->ik", [(3, 4), (5, 4)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("i,i->", [(5,), (5,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij->ji", [(3, 4)]),
    ("ba", [(3, 4)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("...ij,...jk", [(2, 1, 3, 4), (3, 4, 5)]),
    ("b...i,bi->b...", [(2, 3, 4, 5), (2, 5)]),
    ("bii->bi", [(2, 3, 3)]),
    ("iij->j", [(3, 3, 4)]),
    ("abc,cd,de->abe", [(2, 3, 4), (4, 5), (5, 6)]),
    ("ijk,ikl->ijl", [(2, 3, 4), (2, 4, 5)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("ij,ij->", [(3, 4), (3, 4)]),
    ("ijk,jil->kl", [(3, 4, 5), (4, 3, 2)]),
    ("i,i,i->i", [(4,), (4,), (4,)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    (",ij->ij", [(), (2, 3)]),
    ("i,->i", [(3,), ()]),
    ("ij,j->i", [(3, 0), (0,)]),
    ("...", [(2, 3)]),
    ("a b , b c -> a c", [(2, 3), (3, 4)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM_CASES)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_einsum(eq, shapes, dtype):
    arrs = [rand_np(s, dtype) for s in shapes]
    want = np.einsum(eq.replace(" ", ""), *[a.astype(np.float64) for a in arrs])
    got = ember.einsum(eq, *[ember.tensor(a) for a in arrs])
    check(got, want, dtype, 8)
    got_list = ember.einsum(eq, [ember.tensor(a) for a in arrs])
    check(got_list, want, dtype, 8)


def test_einsum_size_one_broadcast_and_views():
    a, b = rand_np((3, 1), "float64"), rand_np((1, 4), "float64")
    np.testing.assert_allclose(ember.einsum("ij,ij->ij", ember.tensor(a), ember.tensor(b)).numpy(), a * b)
    x = rand_np((3,), "float64")
    np.testing.assert_allclose(ember.einsum("i,i->", ember.tensor(x), ember.ones(1, dtype=ember.float64)).item(), x.sum())
    # non-contiguous operands
    m = rand_np((5, 4), "float64")
    t = ember.tensor(m).t()
    np.testing.assert_allclose(ember.einsum("ij,jk->ik", t, ember.tensor(m)).numpy(), m.T @ m, rtol=1e-12)
    np.testing.assert_allclose(ember.einsum("ii->i", ember.tensor(m)[:4, :4]).numpy(), np.diag(m[:4, :4]))


def test_einsum_sublist_format():
    a, b = rand_np((3, 4), "float64"), rand_np((4, 5), "float64")
    got = ember.einsum(ember.tensor(a), [0, 1], ember.tensor(b), [1, 2], [0, 2])
    np.testing.assert_allclose(got.numpy(), a @ b, rtol=1e-12)
    got = ember.einsum(ember.tensor(a), [Ellipsis, 1], ember.tensor(b), [1, 2])
    np.testing.assert_allclose(got.numpy(), a @ b, rtol=1e-12)


def test_einsum_errors():
    a = ember.ones(2, 3)
    with pytest.raises(ValueError, match=r"\[einsum\] the equation has 2 operand terms but 1 tensor was given"):
        ember.einsum("ij,jk->ik", a)
    with pytest.raises(ValueError, match=r"\[einsum\] operand 0 has 2 dimensions but its term 'i' gives 1 subscript"):
        ember.einsum("i->i", a)
    with pytest.raises(ValueError, match=r"\[einsum\] invalid character '1'"):
        ember.einsum("i1->i", a)
    with pytest.raises(ValueError, match=r"\[einsum\] output subscript 'k' does not appear in any input term"):
        ember.einsum("ij->k", a)
    with pytest.raises(ValueError, match=r"\[einsum\] output subscript 'i' appears more than once"):
        ember.einsum("ij->ii", a)
    with pytest.raises(ValueError, match=r"\[einsum\] subscript 'i' is repeated for operand 0 but the sizes don't match"):
        ember.einsum("ii->i", a)
    with pytest.raises(ValueError, match=r"\[einsum\] operands do not broadcast for subscript 'j': sizes 3 and 4"):
        ember.einsum("ij,jk->ik", a, ember.ones(4, 2))
    with pytest.raises(TypeError, match=r"\[einsum\] expected all operands to have the same dtype"):
        ember.einsum("ij,jk->ik", a, ember.ones(3, 2, dtype=ember.float64))
    with pytest.raises(ValueError, match=r"\[einsum\] more than one ellipsis"):
        ember.einsum("......->", a)


# ---- tensordot -------------------------------------------------------------------------

@pytest.mark.parametrize("dims", [0, 1, 2, ([1, 0], [0, 1]), ([2], [0]), [[0, 2], [1, 0]], (2, 0)])
def test_tensordot(dims):
    a, b = rand_np((3, 4, 5), "float64"), rand_np((5, 3, 4), "float64") if not isinstance(dims, int) or dims != 2 \
        else rand_np((4, 5, 2), "float64")
    if dims == ([1, 0], [0, 1]):
        b = rand_np((4, 3, 2), "float64")
    if dims == 1:
        b = rand_np((5, 2), "float64")
    if dims == 0:
        b = rand_np((2,), "float64")
    if dims == (2, 0):
        b = rand_np((5, 2), "float64")
    nd = ([dims[0]], [dims[1]]) if isinstance(dims, tuple) and isinstance(dims[0], int) else dims
    want = np.tensordot(a, b, axes=nd)
    np.testing.assert_allclose(ember.tensordot(ember.tensor(a), ember.tensor(b), dims=dims).numpy(), want, rtol=1e-12)


def test_tensordot_errors():
    with pytest.raises(ValueError, match=r"\[tensordot\] contracted dimensions need to match, but the first has size 3 "
                                         r"in dim 0 and the second has size 4 in dim 0"):
        ember.tensordot(ember.ones(3, 2), ember.ones(4, 2), dims=([0], [0]))
    with pytest.raises(ValueError, match=r"\[tensordot\] both dimension lists should have the same length"):
        ember.tensordot(ember.ones(3, 2), ember.ones(3, 2), dims=([0, 1], [0]))
    with pytest.raises(ValueError, match=r"\[tensordot\] expected a non-negative number of dims"):
        ember.tensordot(ember.ones(3), ember.ones(3), dims=-1)
    with pytest.raises(TypeError, match=r"\[tensordot\] expected both inputs to have the same dtype"):
        ember.tensordot(ember.ones(3), ember.ones(3, dtype=ember.float64), dims=1)
