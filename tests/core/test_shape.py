"""Shape ops against NumPy float64 references: cat/stack family, flip, roll, repeat/tile,
repeat_interleave, tril/triu, pad, diag/diag_embed, meshgrid, broadcast_tensors, atleast_Nd.
These ops move data only, so results must match exactly for every dtype and layout."""
import numpy as np
import pytest

import ember

ALL = [ember.bool, ember.uint8, ember.int8, ember.int16, ember.int32, ember.int64, ember.float16,
       ember.bfloat16, ember.float32, ember.float64, ember.complex64]
SOME = [ember.bool, ember.int16, ember.int64, ember.bfloat16, ember.float32, ember.float64, ember.complex64]
LAYOUTS = ["contiguous", "transposed", "stepped", "expanded"]


def ref_values(shape, dtype, rng):
    """Values every dtype holds exactly (small integers, quarters for floats)."""
    if dtype == ember.bool:
        return rng.integers(0, 2, shape).astype(bool)
    if dtype == ember.uint8:
        return rng.integers(0, 200, shape).astype(np.float64)
    if dtype in (ember.int8, ember.int16, ember.int32, ember.int64):
        return rng.integers(-100, 100, shape).astype(np.float64)
    if dtype == ember.complex64:
        return (rng.integers(-8, 8, shape) / 4 + 1j * rng.integers(-8, 8, shape) / 4).astype(np.complex128)
    return rng.integers(-64, 64, shape) / 4.0


def to_ember(a, dtype):
    if dtype == ember.bool:
        return ember.tensor(a.astype(bool))
    if dtype == ember.complex64:
        return ember.tensor(a.astype(np.complex64))
    return ember.tensor(a).to(dtype)


def to_np(t):
    if t.dtype == ember.bool:
        return t.numpy().copy()
    if t.dtype == ember.complex64:
        return t.numpy().astype(np.complex128)
    if t.dtype in (ember.float16, ember.bfloat16):
        return t.float().numpy().astype(np.float64)
    return t.numpy().astype(np.float64)


def make(shape, dtype, layout="contiguous", seed=0):
    """An ember tensor of `shape` with the given memory layout, and its NumPy reference."""
    rng = np.random.default_rng(seed)
    shape = tuple(shape)
    if layout == "contiguous" or len(shape) == 0:
        a = ref_values(shape, dtype, rng)
        return to_ember(a, dtype), a
    if layout == "transposed":
        base = ref_values(shape[::-1], dtype, rng)
        t = to_ember(base, dtype).permute(*reversed(range(len(shape))))
        return t, base.transpose()
    if layout == "stepped":
        big = shape[:-1] + (shape[-1] * 2,)
        base = ref_values(big, dtype, rng)
        return to_ember(base, dtype)[..., ::2], base[..., ::2]
    if layout == "expanded":
        small = (1,) + shape[1:]
        base = ref_values(small, dtype, rng)
        return to_ember(base, dtype).expand(*shape), np.broadcast_to(base, shape)
    raise ValueError(layout)


def check(t, ref, dtype=None):
    assert tuple(t.shape) == tuple(ref.shape), (t.shape, ref.shape)
    if dtype is not None:
        assert t.dtype == dtype
    np.testing.assert_array_equal(to_np(t), ref)


# ---- cat ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_matches_numpy(dtype, layout, dim):
    shapes = [(3, 4, 5), (3, 4, 5), (3, 4, 5)]
    shapes = [tuple(s if i != dim % 3 else s + k for i, s in enumerate(sh)) for k, sh in enumerate(shapes)]
    pairs = [make(s, dtype, layout if k != 1 else "contiguous", seed=k) for k, s in enumerate(shapes)]
    r = ember.cat([p[0] for p in pairs], dim=dim)
    check(r, np.concatenate([p[1] for p in pairs], axis=dim), dtype)
    assert r.is_contiguous()


def test_cat_large_blocks_and_aliases():
    a = np.random.default_rng(1).standard_normal((300, 700)).astype(np.float32)
    b = np.random.default_rng(2).standard_normal((300, 500)).astype(np.float32)
    ta, tb = ember.tensor(a), ember.tensor(b)
    np.testing.assert_array_equal(ember.cat([ta, tb], 1).numpy(), np.concatenate([a, b], 1))
    np.testing.assert_array_equal(ember.concat([ta, ta], 0).numpy(), np.concatenate([a, a], 0))
    np.testing.assert_array_equal(ember.concatenate((tb, tb.t().contiguous().t()), dim=-1).numpy(),
                                  np.concatenate([b, b], 1))
    # one huge row (dim 0 of a 1-d tensor): split across threads
    big = np.arange(3_000_000, dtype=np.float32)
    tb2 = ember.tensor(big)
    np.testing.assert_array_equal(ember.cat([tb2, tb2[:5]]).numpy(), np.concatenate([big, big[:5]]))


@pytest.mark.parametrize("dts,expected", [
    ((ember.int32, ember.float32), ember.float32),
    ((ember.uint8, ember.int8), ember.int16),
    ((ember.bool, ember.int64), ember.int64),
    ((ember.float16, ember.bfloat16), ember.float32),
    ((ember.int64, ember.float16, ember.float64), ember.float64),
    ((ember.float32, ember.complex64), ember.complex64),
])
def test_cat_type_promotion(dts, expected):
    parts = [make((2, 3), dt, seed=i) for i, dt in enumerate(dts)]
    r = ember.cat([p[0] for p in parts], 1)
    assert r.dtype == expected
    np.testing.assert_array_equal(to_np(r), np.concatenate([p[1] for p in parts], 1))


def test_cat_skips_legacy_empty_and_zero_size():
    x, a = make((2, 3), ember.float32)
    e = ember.zeros(0, dtype=ember.float64)
    r = ember.cat([e, x, e], dim=1)
    assert r.dtype == ember.float64  # the skipped tensor still takes part in type promotion
    check(r, a)
    z = ember.zeros(2, 0)
    check(ember.cat([z, x, z], 1), a)
    check(ember.cat([ember.zeros(0, 3), x]), a)
    r = ember.cat([ember.zeros(0), ember.zeros(0)])
    assert tuple(r.shape) == (0,)
    check(ember.cat([ember.zeros(0, 3), ember.zeros(0, 3)]), np.zeros((0, 3)))


def test_cat_out():
    x, a = make((2, 3), ember.float32)
    out = ember.empty(4, 3, dtype=ember.float64)
    r = ember.cat([x, x], out=out)
    assert r._is_same(out)
    check(out, np.concatenate([a, a]), ember.float64)
    big = ember.zeros(4, 6)
    view = big[:, ::2]  # non-contiguous out
    ember.cat([x, x], out=view)
    check(big[:, ::2], np.concatenate([a, a]))
    check(big[:, 1::2], np.zeros((4, 3)))
    # out aliasing an input
    y = ember.tensor(np.arange(6.0, dtype=np.float32))
    ember.cat([y[:3], y[3:]], out=y)
    check(y, np.arange(6.0))
    with pytest.raises(ValueError, match=r"\[cat\] output has the wrong shape: expected \(4, 3\), got \(3, 3\)"):
        ember.cat([x, x], out=ember.empty(3, 3))
    with pytest.raises(TypeError, match=r"\[cat\] result type ember.float32 can't be cast"):
        ember.cat([x, x], out=ember.empty(4, 3, dtype=ember.int64))


def test_cat_errors():
    with pytest.raises(ValueError, match=r"\[cat\] sizes of tensors must match except in dimension 0: expected 3, "
                                         r"got 4 for tensor 1 at dimension 1"):
        ember.cat([ember.ones(2, 3), ember.ones(2, 4)])
    with pytest.raises(ValueError, match=r"\[cat\] tensors must have the same number of dimensions: expected 2, "
                                         r"got 3 for tensor 1"):
        ember.cat([ember.ones(2, 3), ember.ones(2, 3, 1)])
    with pytest.raises(ValueError, match=r"\[cat\] expected a non-empty list of tensors"):
        ember.cat([])
    with pytest.raises(ValueError, match=r"\[cat\] zero-dimensional tensor \(at position 1\) cannot be concatenated"):
        ember.cat([ember.ones(1), ember.tensor(1.0)])
    with pytest.raises(IndexError, match=r"\[cat\] dimension out of range"):
        ember.cat([ember.ones(2, 3)], dim=2)
    with pytest.raises(TypeError, match=r"\[cat\] expected a sequence of Tensors for `tensors`, got an element of "
                                        r"type int at position 1"):
        ember.cat([ember.ones(2), 3])
    with pytest.raises(TypeError, match=r"\[cat\] expected a sequence of Tensors for `tensors`, got Tensor"):
        ember.cat(ember.ones(2))


# ---- stack family ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", SOME)
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_stack(dtype, dim):
    parts = [make((3, 4), dtype, layout, seed=i) for i, layout in enumerate(["contiguous", "transposed", "stepped"])]
    check(ember.stack([p[0] for p in parts], dim=dim), np.stack([p[1] for p in parts], axis=dim), dtype)


def test_stack_errors_and_out():
    with pytest.raises(ValueError, match=r"\[stack\] expected each tensor to be equal size: got \(2, 3\) at entry 0 "
                                         r"and \(2, 4\) at entry 1"):
        ember.stack([ember.ones(2, 3), ember.ones(2, 4)])
    with pytest.raises(ValueError, match=r"\[stack\] expected a non-empty list"):
        ember.stack([])
    with pytest.raises(IndexError, match=r"\[stack\] dimension out of range"):
        ember.stack([ember.ones(2)], dim=2)
    out = ember.empty(2, 3)
    ember.stack([ember.ones(3), ember.zeros(3)], out=out)
    check(out, np.stack([np.ones(3), np.zeros(3)]))
    check(ember.stack([ember.tensor(1.0), ember.tensor(2.0)]), np.array([1.0, 2.0]))


@pytest.mark.parametrize("name,shapes", [
    ("hstack", [(3,), (2,), ()]),
    ("hstack", [(2, 3), (2, 1)]),
    ("vstack", [(3,), (2, 3)]),
    ("vstack", [(2, 2, 2), (1, 2, 2)]),
    ("dstack", [(3,), (3,)]),
    ("dstack", [(2, 3), (2, 3, 2)]),
    ("column_stack", [(3,), (3, 2), (3,)]),
    ("column_stack", [(), ()]),
    ("row_stack", [(3,), (3,)]),
])
def test_hvd_stack(name, shapes):
    parts = [make(s, ember.float32, seed=i) for i, s in enumerate(shapes)]
    npname = "vstack" if name == "row_stack" else name
    ref = getattr(np, npname)([p[1] for p in parts])
    check(getattr(ember, name)([p[0] for p in parts]), ref)
    out = ember.empty(*ref.shape)
    getattr(ember, name)([p[0] for p in parts], out=out)
    check(out, ref)


def test_stacks_errors():
    for name in ["hstack", "vstack", "dstack", "column_stack"]:
        with pytest.raises(ValueError, match=rf"\[{name}\] expected a non-empty list of tensors"):
            getattr(ember, name)([])
    with pytest.raises(ValueError, match=r"\[cat\] sizes of tensors must match except in dimension 2"):
        ember.dstack([ember.tensor(1.0), ember.arange(2.0)])


# ---- flip ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dims", [(0,), (2,), (-1,), (0, 2), (0, 1, 2), ()])
def test_flip(dtype, layout, dims):
    x, a = make((3, 4, 5), dtype, layout)
    check(ember.flip(x, dims), np.flip(a, dims) if dims else a, dtype)
    check(x.flip(*dims) if dims else x.flip(()), np.flip(a, dims) if dims else a)


def test_flip_variants_and_errors():
    x, a = make((4, 5), ember.int32)
    check(x.flip(dims=(1,)), np.flip(a, 1))
    check(x.flip([0, 1]), np.flip(a))
    check(ember.fliplr(x), np.fliplr(a))
    check(ember.flipud(x), np.flipud(a))
    check(x.fliplr(), np.fliplr(a))
    check(ember.flip(ember.tensor(3.0), (0,)), np.array(3.0))
    check(ember.flip(ember.zeros(0, 3), (0, 1)), np.zeros((0, 3)))
    big, ab = make((7, 70001), ember.float32)  # long inner gather rows split across threads
    check(ember.flip(big, (1,)), np.flip(ab, 1))
    with pytest.raises(ValueError, match=r"\[flip\] dim 0 appears multiple times"):
        ember.flip(x, (0, -2))
    with pytest.raises(IndexError, match=r"\[flip\] dimension out of range"):
        ember.flip(x, (2,))
    with pytest.raises(ValueError, match=r"\[fliplr\] input must be at least 2-d, got 1-d"):
        ember.fliplr(ember.ones(3))
    with pytest.raises(ValueError, match=r"\[flipud\] input must be at least 1-d, got 0-d"):
        ember.flipud(ember.tensor(1.0))


# ---- roll ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", SOME)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shifts,dims", [(1, 0), (-2, 1), (7, 2), ((1, 2), (0, 2)), ((3, -1), (1, 1)), (5, None),
                                         (-13, None), (0, 0)])
def test_roll(dtype, layout, shifts, dims):
    x, a = make((3, 4, 5), dtype, layout)
    check(ember.roll(x, shifts, dims), np.roll(a, shifts, dims), dtype)
    check(x.roll(shifts, dims), np.roll(a, shifts, dims))


def test_roll_edge_cases():
    check(ember.roll(ember.tensor(4), 3), np.array(4.0))
    check(ember.roll(ember.zeros(0, 2), 1, 0), np.zeros((0, 2)))
    with pytest.raises(ValueError, match=r"\[roll\] shifts and dims must align: got 2 shifts and 1 dims"):
        ember.roll(ember.ones(2, 3), (1, 2), (0,))
    with pytest.raises(ValueError, match=r"\[roll\] without dims, expected a single shift"):
        ember.roll(ember.ones(2, 3), (1, 2))
    with pytest.raises(IndexError, match=r"\[roll\] dimension out of range"):
        ember.roll(ember.ones(2, 3), 1, 2)


# ---- repeat / tile / repeat_interleave -------------------------------------------------------
@pytest.mark.parametrize("dtype", SOME)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("reps", [(1, 1), (2, 3), (3, 1), (1, 4), (2, 1, 2), (0, 2)])
def test_repeat_is_numpy_tile(dtype, layout, reps):
    x, a = make((3, 4), dtype, layout)
    check(x.repeat(*reps), np.tile(a, reps), dtype)
    check(x.repeat(reps), np.tile(a, reps))


@pytest.mark.parametrize("reps", [(2,), (2, 2), (1, 2, 1, 3), ()])
def test_tile(reps):
    x, a = make((2, 3), ember.int64, "transposed")
    check(ember.tile(x, reps), np.tile(a, reps))
    check(x.tile(*reps) if reps else x.tile(()), np.tile(a, reps))


def test_repeat_errors_and_scalars():
    check(ember.tensor(5).repeat(3), np.array([5.0, 5.0, 5.0]))
    check(ember.tensor(5).repeat(()), np.array(5.0))
    with pytest.raises(ValueError, match=r"\[repeat\] number of repeat dims can not be smaller"):
        ember.ones(2, 3).repeat(2)
    with pytest.raises(ValueError, match=r"\[repeat\] repeats must be non-negative"):
        ember.ones(3).repeat(-1)
    with pytest.raises(ValueError, match=r"\[tile\] dims must be non-negative"):
        ember.tile(ember.ones(3), (-1,))


@pytest.mark.parametrize("dtype", SOME)
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "stepped"])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_repeat_interleave(dtype, layout, dim):
    x, a = make((3, 4), dtype, layout)
    check(ember.repeat_interleave(x, 2, dim=dim), np.repeat(a, 2, axis=dim), dtype)
    n = a.size if dim is None else a.shape[dim]
    reps = np.arange(n) % 3
    check(ember.repeat_interleave(x, ember.tensor(reps), dim=dim), np.repeat(a, reps, axis=dim))
    check(x.repeat_interleave(ember.tensor(reps), dim, output_size=int(reps.sum())), np.repeat(a, reps, axis=dim))


def test_repeat_interleave_forms_and_errors():
    r = ember.tensor([2, 0, 3])
    check(ember.repeat_interleave(r), np.repeat(np.arange(3), [2, 0, 3]), ember.int64)
    check(ember.repeat_interleave(ember.tensor([1, 2], dtype=ember.int32)), np.array([0, 1, 1]), ember.int32)
    x, a = make((2, 2), ember.float32)
    check(ember.repeat_interleave(x, ember.tensor(2), dim=0), np.repeat(a, 2, 0))
    check(ember.repeat_interleave(x, ember.tensor([3]), dim=1), np.repeat(a, 3, 1))
    check(ember.repeat_interleave(ember.tensor(7.0), 3), np.array([7.0] * 3))
    check(ember.repeat_interleave(x, 0, dim=0), np.zeros((0, 2)))
    with pytest.raises(ValueError, match=r"\[repeat_interleave\] repeats must have the same size as input along "
                                         r"dim: expected 2, got 3"):
        ember.repeat_interleave(x, ember.tensor([1, 2, 3]), dim=0)
    with pytest.raises(ValueError, match=r"\[repeat_interleave\] repeats must be non-negative, got -2"):
        ember.repeat_interleave(x, ember.tensor([1, -2]), dim=0)
    with pytest.raises(ValueError, match=r"\[repeat_interleave\] repeats must be non-negative, got -1"):
        ember.repeat_interleave(x, -1)
    with pytest.raises(ValueError, match=r"\[repeat_interleave\] output_size does not match the sum of repeats: "
                                         r"expected 3, got 4"):
        ember.repeat_interleave(x, ember.tensor([1, 2]), dim=0, output_size=4)
    with pytest.raises(TypeError, match=r"\[repeat_interleave\] repeats must be an integer tensor"):
        ember.repeat_interleave(x, ember.tensor([1.0, 2.0]), dim=0)
    with pytest.raises(TypeError, match=r"\[repeat_interleave\] expected an int or an integer Tensor"):
        ember.repeat_interleave(x, 1.5)
    with pytest.raises(IndexError, match=r"\[repeat_interleave\] dimension out of range"):
        ember.repeat_interleave(x, 2, dim=2)


# ---- tril / triu ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("k", [-5, -1, 0, 2, 6])
def test_tril_triu(dtype, layout, k):
    x, a = make((2, 4, 5), dtype, layout)
    check(ember.tril(x, k), np.tril(a, k), dtype)
    check(x.triu(k), np.triu(a, k), dtype)
    check(x.triu(diagonal=k), np.triu(a, k))


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "stepped"])
def test_tril_inplace_and_out(layout):
    x, a = make((3, 4), ember.float32, layout)
    a = a.copy()
    v = x._version
    assert x.tril_(1)._is_same(x)
    assert x._version > v
    check(x, np.tril(a, 1))
    x.triu_(-1)
    check(x, np.triu(np.tril(a, 1), -1))
    y, b = make((3, 4), ember.int32)
    out = ember.empty(3, 4, dtype=ember.int64)
    assert ember.triu(y, 0, out=out)._is_same(out)
    check(out, np.triu(b))
    out2 = ember.empty(3, 4, dtype=ember.int32)
    ember.tril(y, out=out2)
    check(out2, np.tril(b))
    ember.tril(y, out=y)
    check(y, np.tril(b))
    check(ember.tril(ember.zeros(0, 3)), np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"\[tril\] input must have at least 2 dimensions, got 1"):
        ember.tril(ember.ones(3))
    with pytest.raises(ValueError, match=r"\[triu\] output has the wrong shape"):
        ember.triu(y, out=ember.empty(4, 3, dtype=ember.int32))


# ---- pad -----------------------------------------------------------------------------------
NP_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def np_pad(a, pad, mode, value=0):
    widths = [(0, 0)] * a.ndim
    for i in range(len(pad) // 2):
        widths[a.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        return np.pad(a, widths, mode="constant", constant_values=value)
    return np.pad(a, widths, mode=NP_MODE[mode])


@pytest.mark.parametrize("dtype", SOME)
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("pad", [(1, 2), (0, 3, 2, 0), (2, 2, 1, 1, 1, 0), (3, 0)])
def test_pad_matches_numpy(dtype, mode, layout, pad):
    x, a = make((3, 4, 5), dtype, layout)
    value = 0 if mode != "constant" else (True if dtype == ember.bool else 3)
    r = ember.pad(x, pad, mode=mode, value=value if mode == "constant" else None)
    check(r, np_pad(a, pad, mode, value), dtype)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_negative_crops(mode):
    x, a = make((4, 6), ember.float32)
    # cropping on both sides is slicing
    check(ember.pad(x, (-1, -2, -1, 0), mode=mode), a[1:, 1:-2])
    # crop on one side, pad on the other: padding uses the uncropped input for reflect/replicate
    r = ember.pad(x, (-2, 2), mode=mode)
    full = np_pad(a, (0, 2), mode) if mode != "circular" else np_pad(a[:, 2:], (0, 2), "circular")
    check(r, full[:, 2:] if mode != "circular" else full)


def test_pad_values_and_shapes():
    x = ember.arange(6).reshape(2, 3)
    check(ember.pad(x, (1, 1), value=2.5), np.pad(np.arange(6).reshape(2, 3), ((0, 0), (1, 1)), constant_values=2))
    check(ember.pad(ember.zeros(0), (2, 1), value=1.0), np.ones(3))
    check(ember.pad(x, ()), np.arange(6).reshape(2, 3))
    check(ember.pad(ember.tensor(2.0), ()), np.array(2.0))
    check(ember.pad(ember.ones(2, 0, 3), (1, 1), mode="reflect"), np.zeros((2, 0, 5)))
    check(ember.pad(x, (-3, 0)), np.zeros((2, 0)))


def test_pad_errors():
    x = ember.ones(1, 2, 3)
    with pytest.raises(ValueError, match=r"\[pad\] reflect padding must be less than the input size: got padding "
                                         r"\(3, 3\) at dimension 2 of input \(1, 2, 3\)"):
        ember.pad(x, (3, 3), mode="reflect")
    with pytest.raises(ValueError, match=r"\[pad\] circular padding wraps around more than once"):
        ember.pad(x, (4, 0), mode="circular")
    with pytest.raises(ValueError, match=r"\[pad\] replicate padding needs a non-empty dimension"):
        ember.pad(ember.ones(2, 0), (1, 1), mode="replicate")
    with pytest.raises(ValueError, match=r"\[pad\] unknown padding mode: expected one of 'constant', 'reflect', "
                                         r"'replicate', 'circular', got 'foo'"):
        ember.pad(x, (1, 1), mode="foo")
    with pytest.raises(ValueError, match=r"\[pad\] padding length must be divisible by 2: got 1"):
        ember.pad(x, (1,))
    with pytest.raises(ValueError, match=r"\[pad\] padding length must be at most twice the number of dimensions"):
        ember.pad(x, (1,) * 8)
    with pytest.raises(ValueError, match=r"\[pad\] padding mode 'reflect' takes no value argument"):
        ember.pad(x, (1, 1), mode="reflect", value=2.0)
    with pytest.raises(ValueError, match=r"\[pad\] padding \(-2, -2\) at dimension 2 of input \(1, 2, 3\) gives a "
                                         r"negative output size -1"):
        ember.pad(x, (-2, -2))
    with pytest.raises(TypeError, match=r"\[pad\] expected a number for `value`"):
        ember.pad(x, (1, 1), value="a")


# ---- diag / diag_embed ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", SOME)
@pytest.mark.parametrize("k", [-2, 0, 1, 5])
def test_diag(dtype, k):
    v, a = make((4,), dtype, "stepped")
    check(ember.diag(v, k), np.diag(a, k), dtype)
    m, b = make((4, 5), dtype, "transposed")
    check(ember.diag(m, k), np.diag(b, k), dtype)
    check(m.diag(k), np.diag(b, k))
    out = ember.empty(*np.diag(b, k).shape, dtype=dtype)
    ember.diag(m, k, out=out)
    check(out, np.diag(b, k))


def test_diag_errors():
    with pytest.raises(ValueError, match=r"\[diag\] expected a 1-d or 2-d tensor, got 3-d"):
        ember.diag(ember.ones(2, 2, 2))
    with pytest.raises(ValueError, match=r"\[diag\] expected a 1-d or 2-d tensor, got 0-d"):
        ember.diag(ember.tensor(1.0))


@pytest.mark.parametrize("offset,dim1,dim2", [(0, -2, -1), (1, 0, 2), (-1, 2, 0), (2, 1, 3)])
def test_diag_embed(offset, dim1, dim2):
    x, a = make((2, 3, 4), ember.float64, "transposed")
    r = ember.diag_embed(x, offset, dim1, dim2)
    n = 4 + abs(offset)
    ref = np.zeros((2, 3, n, n))
    for i in range(4):
        r0, c0 = (i, i + offset) if offset >= 0 else (i - offset, i)
        ref[:, :, r0, c0] = a[:, :, i]
    # ref has the two new dims last; move them to dim1/dim2
    nd = 4
    d1, d2 = dim1 % nd, dim2 % nd
    order = [None] * nd
    order[d1], order[d2] = 2, 3
    rest = iter([0, 1])
    order = [next(rest) if o is None else o for o in order]
    check(r, np.transpose(ref, order))
    check(x.diag_embed(offset, dim1, dim2), np.transpose(ref, order))
    with pytest.raises(ValueError, match=r"\[diag_embed\] dim1 and dim2 cannot be identical"):
        ember.diag_embed(x, 0, 1, 1)
    with pytest.raises(ValueError, match=r"\[diag_embed\] expected a tensor with at least 1 dimension"):
        ember.diag_embed(ember.tensor(1.0))


# ---- meshgrid / broadcast_tensors / atleast ---------------------------------------------------
@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid(indexing):
    xs = [make((n,), ember.float32, seed=n) for n in (2, 3, 4)]
    for k in (1, 2, 3):
        r = ember.meshgrid(*[p[0] for p in xs[:k]], indexing=indexing)
        ref = np.meshgrid(*[p[1] for p in xs[:k]], indexing=indexing)
        assert len(r) == k
        for t, a in zip(r, ref):
            check(t, a)
    r = ember.meshgrid([xs[0][0], ember.tensor(1.0)], indexing=indexing)
    assert tuple(r[0].shape) == ((2, 1) if indexing == "ij" else (1, 2))


def test_meshgrid_errors():
    with pytest.raises(ValueError, match=r"\[meshgrid\] indexing must be 'ij' or 'xy', got 'foo'"):
        ember.meshgrid(ember.ones(2), indexing="foo")
    with pytest.raises(ValueError, match=r"\[meshgrid\] expected 0-d or 1-d tensors, got a 2-d tensor at position 1"):
        ember.meshgrid(ember.ones(2), ember.ones(2, 2))
    with pytest.raises(TypeError, match=r"\[meshgrid\] expected all tensors to have the same dtype"):
        ember.meshgrid(ember.ones(2), ember.ones(2, dtype=ember.int64))
    with pytest.raises(ValueError, match=r"\[meshgrid\] expected a non-empty list"):
        ember.meshgrid()


def test_broadcast_tensors():
    a, ra = make((3, 1), ember.int32)
    b, rb = make((1, 4), ember.int32, seed=1)
    c, rc = make((), ember.int32, seed=2)
    r = ember.broadcast_tensors(a, b, c)
    for t, ref in zip(r, np.broadcast_arrays(ra, rb, rc)):
        check(t, ref)
    assert r[0]._shares_storage(a)
    with pytest.raises(ValueError, match=r"\[broadcast_tensors\] shapes cannot be broadcast"):
        ember.broadcast_tensors(ember.ones(2), ember.ones(3))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_atleast(n):
    fn, npfn = getattr(ember, f"atleast_{n}d"), getattr(np, f"atleast_{n}d")
    for shape in [(), (3,), (2, 3), (2, 3, 4)]:
        x, a = make(shape, ember.float32)
        check(fn(x), npfn(a))
    xs = [make(s, ember.float32)[0] for s in [(), (2,)]]
    r = fn(*xs)
    assert isinstance(r, tuple) and len(r) == 2
    for t, s in zip(r, [(), (2,)]):
        assert tuple(t.shape) == npfn(np.zeros(s)).shape
    r = fn(xs)
    assert isinstance(r, tuple) and len(r) == 2
