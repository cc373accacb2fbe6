"""View ops and basic subscripts: the result's shape, strides and storage offset (checked
against NumPy's equivalent view), that it shares storage and the version counter with its base
(writes go through both ways), and the errors."""
import numpy as np
import pytest

import ember
from op_specs import make, to_np


def base(shape=(3, 4, 5), dtype="float32"):
    a = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    return make(ember, a, dtype), a


def check_view(v, ref, root):
    """v (ember view of root) against ref (NumPy view of root's values)."""
    assert v.shape == ref.shape, (v.shape, ref.shape)
    np.testing.assert_array_equal(to_np(v), ref)
    assert v._shares_storage(root)
    if ref.size > 1:
        isz = ref.itemsize
        for d in range(ref.ndim):
            if ref.shape[d] > 1:
                assert v.stride(d) == ref.strides[d] // isz, (d, v.stride(), ref.strides)


# Each case: (name, ember function of the base, NumPy function of the base array)
CASES = [
    ("view", lambda x: x.view(12, 5), lambda a: a.reshape(12, 5)),
    ("view_infer", lambda x: x.view(-1, 10), lambda a: a.reshape(-1, 10)),
    ("view_tuple", lambda x: x.view((60,)), lambda a: a.reshape(60)),
    ("reshape", lambda x: x.reshape(5, 12), lambda a: a.reshape(5, 12)),
    ("reshape_fn", lambda x: ember.reshape(x, (2, -1)), lambda a: a.reshape(2, -1)),
    ("flatten", lambda x: x.flatten(), lambda a: a.reshape(-1)),
    ("flatten_12", lambda x: x.flatten(1), lambda a: a.reshape(3, 20)),
    ("flatten_01", lambda x: ember.flatten(x, 0, 1), lambda a: a.reshape(12, 5)),
    ("ravel", lambda x: x.ravel(), lambda a: a.ravel()),
    ("unflatten", lambda x: x.unflatten(2, (5, 1)), lambda a: a.reshape(3, 4, 5, 1)),
    ("unflatten_infer", lambda x: ember.unflatten(x, 1, (2, -1)), lambda a: a.reshape(3, 2, 2, 5)),
    ("permute", lambda x: x.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1)),
    ("permute_neg", lambda x: ember.permute(x, (-1, -3, -2)), lambda a: a.transpose(2, 0, 1)),
    ("transpose", lambda x: x.transpose(0, 2), lambda a: a.swapaxes(0, 2)),
    ("swapaxes", lambda x: ember.swapaxes(x, 1, -1), lambda a: a.swapaxes(1, 2)),
    ("swapdims", lambda x: x.swapdims(0, 1), lambda a: a.swapaxes(0, 1)),
    ("T", lambda x: x.T, lambda a: a.T),
    ("mT", lambda x: x.mT, lambda a: a.swapaxes(-1, -2)),
    ("movedim", lambda x: x.movedim(0, -1), lambda a: np.moveaxis(a, 0, -1)),
    ("movedim_multi", lambda x: ember.movedim(x, (0, 1), (2, 0)), lambda a: np.moveaxis(a, (0, 1), (2, 0))),
    ("moveaxis", lambda x: x.moveaxis(2, 0), lambda a: np.moveaxis(a, 2, 0)),
    ("unsqueeze0", lambda x: x.unsqueeze(0), lambda a: a[None]),
    ("unsqueeze_last", lambda x: ember.unsqueeze(x, -1), lambda a: a[..., None]),
    ("unsqueeze_mid", lambda x: x.unsqueeze(2), lambda a: a[:, :, None]),
    ("squeeze_none", lambda x: x[:, :1].squeeze(), lambda a: a[:, :1].squeeze()),
    ("squeeze_dim", lambda x: x[:, :1].squeeze(1), lambda a: a[:, :1].squeeze(1)),
    ("squeeze_noop", lambda x: x.squeeze(0), lambda a: a),
    ("squeeze_dims", lambda x: ember.squeeze(x[:1, :1], (0, 1)), lambda a: a[:1, :1].squeeze((0, 1))),
    ("expand", lambda x: x[:, :1].expand(2, 3, 4, 5)[1], lambda a: np.broadcast_to(a[:, :1], (2, 3, 4, 5))[1]),
    ("expand_new", lambda x: x.expand(2, -1, -1, -1), lambda a: np.broadcast_to(a, (2, 3, 4, 5))),
    ("expand_as", lambda x: x[0, 0].expand_as(x), lambda a: np.broadcast_to(a[0, 0], a.shape)),
    ("broadcast_to", lambda x: ember.broadcast_to(x[:, :1, :], (3, 4, 5)),
     lambda a: np.broadcast_to(a[:, :1], a.shape)),
    ("narrow", lambda x: x.narrow(1, 1, 2), lambda a: a[:, 1:3]),
    ("narrow_neg", lambda x: ember.narrow(x, -1, -3, 3), lambda a: a[..., 2:5]),
    ("select", lambda x: x.select(1, 2), lambda a: a[:, 2]),
    ("select_neg", lambda x: ember.select(x, 0, -1), lambda a: a[-1]),
    ("diagonal", lambda x: x.diagonal(), lambda a: np.diagonal(a)),
    ("diagonal_off", lambda x: ember.diagonal(x, 1, 1, 2), lambda a: np.diagonal(a, 1, 1, 2)),
    ("diagonal_neg", lambda x: x.diagonal(-1, 2, 0), lambda a: np.diagonal(a, -1, 2, 0)),
    ("diagonal_empty", lambda x: x.diagonal(10), lambda a: np.diagonal(a, 10)),
    ("as_strided", lambda x: x.as_strided((2, 2), (1, 2), 3), lambda a: np.lib.stride_tricks.as_strided(
        a.reshape(-1)[3:], (2, 2), (8, 16))),
    ("t_2d", lambda x: x[0].t(), lambda a: a[0].T),
    ("t_1d", lambda x: x[0, 0].t(), lambda a: a[0, 0]),
    ("view_of_transposed", lambda x: x.transpose(0, 1).view(4, 3, 5)[1], lambda a: a.swapaxes(0, 1)[1]),
    ("view_after_slice", lambda x: x[:, :, 1:3].reshape(12, 2), lambda a: a[:, :, 1:3].reshape(12, 2)),
    # basic subscripts are views too
    ("index_int", lambda x: x[1], lambda a: a[1]),
    ("index_neg", lambda x: x[-1, -2], lambda a: a[-1, -2]),
    ("index_slice_step", lambda x: x[::2, 1::2, ::3], lambda a: a[::2, 1::2, ::3]),
    ("index_slice_bounds", lambda x: x[-10:10, 2:-1, 5:], lambda a: a[-10:10, 2:-1, 5:]),
    ("index_none", lambda x: x[None, :, None, 1], lambda a: a[None, :, None, 1]),
    ("index_ellipsis", lambda x: x[..., 2], lambda a: a[..., 2]),
    ("index_ellipsis_mid", lambda x: x[1, ..., ::2], lambda a: a[1, ..., ::2]),
    ("index_true", lambda x: x[True], lambda a: a[None]),
    ("index_false", lambda x: x[False], lambda a: a[None][:0]),
    ("index_numpy_int", lambda x: x[np.int64(2)], lambda a: a[2]),
    ("index_tensor_slice", lambda x: x[ember.tensor(1):ember.tensor(3)], lambda a: a[1:3]),
]


@pytest.mark.parametrize("name,fn,ref", CASES, ids=[c[0] for c in CASES])
def test_view_layout_and_values(name, fn, ref):
    x, a = base()
    v = fn(x)
    r = ref(a)
    check_view(v, r, x)


@pytest.mark.parametrize("name,fn,ref", CASES, ids=[c[0] for c in CASES])
def test_view_writes_through(name, fn, ref):
    if name.startswith(("expand", "broadcast")):
        pytest.skip("expanded views are read-only for elementwise writes")
    x, a = base()
    v = fn(x)
    if v.numel() == 0:
        return
    ver = x._version
    v.fill_(-1.0)
    assert x._version > ver and v._version == x._version  # the counter is shared
    a2 = a.copy()
    r = ref(a2)
    if not r.flags.writeable:  # NumPy's diagonal views are read-only: mark through an index grid
        idx = ref(np.arange(a2.size).reshape(a2.shape))
        a2.reshape(-1)[idx.reshape(-1)] = -1.0
    else:
        r[...] = -1.0
    np.testing.assert_array_equal(to_np(x), a2)


def test_base_writes_show_in_view():
    x, _ = base()
    v = x.permute(2, 0, 1)[1:3]
    x.add_(1)
    np.testing.assert_array_equal(to_np(v), np.arange(60.0).reshape(3, 4, 5).transpose(2, 0, 1)[1:3] + 1)


def test_views_of_zero_size_and_0d():
    z = ember.zeros(0, 3)
    assert z.view(3, 0).shape == (3, 0)
    assert z.reshape(-1, 3, 0 + 1).shape == (0, 3, 1)
    assert z.t().shape == (3, 0) and z.unsqueeze(0).shape == (1, 0, 3)
    assert z.expand(2, 0, 3).shape == (2, 0, 3)
    with pytest.raises(ValueError, match=r"\[view\]"):
        z.view(-1, 0)  # -1 with a zero product is ambiguous
    s = ember.tensor(3.0)
    assert s.view(1).shape == (1,) and s.reshape(1, 1).shape == (1, 1)
    assert s.flatten().shape == (1,)
    assert s.unsqueeze(0).shape == (1,) and s.unsqueeze(-1).shape == (1,)
    assert s.squeeze().shape == () and s.squeeze(0).shape == ()
    assert s.t().shape == () and s.T.shape == ()
    assert s.expand(2, 3).shape == (2, 3) and s.expand(2, 3).stride() == (0, 0)
    assert s.permute().shape == ()
    assert s[None].shape == (1,) and s[...].shape == ()
    assert s.transpose(0, -1).shape == ()


def test_reshape_copies_when_it_must():
    x, a = base()
    t = x.transpose(0, 2)  # not viewable as flat
    r = t.reshape(-1)
    np.testing.assert_array_equal(to_np(r), a.transpose(2, 1, 0).reshape(-1))
    assert r.is_contiguous()
    assert r.data_ptr() != x.data_ptr()
    with pytest.raises(ValueError, match=r"\[view\] size .* is not compatible .*reshape"):
        t.view(-1)
    # a viewable reshape of a non-contiguous tensor stays a view
    v = x[:, ::2].reshape(3, 2, 1, 5)
    assert v._shares_storage(x)


def test_contiguous_and_clone():
    x, a = base()
    t = x.transpose(0, 1)
    assert not t.is_contiguous()
    c = t.contiguous()
    assert c.is_contiguous() and c.stride() == (15, 5, 1) and not c._shares_storage(x)
    np.testing.assert_array_equal(to_np(c), a.swapaxes(0, 1))
    assert x.contiguous()._is_same(x) or x.contiguous().data_ptr() == x.data_ptr()
    k = x.clone()
    assert not k._shares_storage(x) and k._version == 0
    k.add_(1)
    np.testing.assert_array_equal(to_np(x), a)


@pytest.mark.parametrize("dtype,other,ratio", [("float32", "int32", 1), ("int64", "float64", 1),
                                               ("uint8", "int8", 1), ("float16", "bfloat16", 1),
                                               ("float16", "int16", 1)])
def test_view_dtype(dtype, other, ratio):
    x = make(ember, np.arange(6).reshape(2, 3), dtype)
    v = x.view(getattr(ember, other))
    assert v.dtype == getattr(ember, other) and v.shape == (2, 3) and v._shares_storage(x)
    if dtype != "float16" or other != "bfloat16":
        np_in = np.arange(6).reshape(2, 3).astype(dtype)
        np.testing.assert_array_equal(to_np(v), np_in.view(other).astype(to_np(v).dtype))
    with pytest.raises(ValueError, match=r"\[view\] viewing as a dtype of another element size"):
        x.view(ember.complex64 if x.element_size() != 8 else ember.int8)


def test_split_chunk_unbind():
    x, a = base((7, 4))
    parts = x.split(3)
    assert [p.shape for p in parts] == [(3, 4), (3, 4), (1, 4)]
    assert all(p._shares_storage(x) for p in parts)
    np.testing.assert_array_equal(to_np(parts[2]), a[6:])
    parts = ember.split(x, [1, 2, 4])
    assert [p.shape[0] for p in parts] == [1, 2, 4]
    np.testing.assert_array_equal(to_np(parts[1]), a[1:3])
    parts = x.split(2, dim=1)
    assert [p.shape for p in parts] == [(7, 2), (7, 2)] and parts[1].storage_offset() == 2
    with pytest.raises(ValueError, match=r"\[split\]"):
        x.split([1, 2])  # sizes do not sum to 7
    ch = x.chunk(3)
    assert [c.shape[0] for c in ch] == [3, 3, 1]
    ch = ember.chunk(x, 4, dim=1)
    assert [c.shape for c in ch] == [(7, 1)] * 4
    assert len(ember.zeros(0, 2).chunk(3)) == 3
    with pytest.raises(ValueError, match=r"\[chunk\]"):
        x.chunk(0)
    u = x.unbind(1)
    assert len(u) == 4 and u[3].shape == (7,) and u[3].stride() == (4,)
    np.testing.assert_array_equal(to_np(ember.unbind(x)[5]), a[5])
    with pytest.raises(ValueError, match=r"\[unbind\]"):
        ember.tensor(1.0).unbind()


def test_expanded_view_rejects_inplace_writes():
    x = ember.zeros(1, 3).expand(4, 3)
    with pytest.raises(ValueError, match=r"\[add\] cannot write into an expanded tensor"):
        x.add_(1)
    with pytest.raises(ValueError, match=r"expanded"):
        ember.add(ember.ones(4, 3), 1, out=x)


# ---- errors ------------------------------------------------------------------------------------
ERRORS = [
    (lambda x: x.view(7, -1), ValueError, r"\[view\] shape .* is invalid for input of size 60"),
    (lambda x: x.view(-1, -1), ValueError, r"\[view\] only one dimension can be inferred"),
    (lambda x: x.reshape(-2, 30), ValueError, r"\[reshape\] invalid shape dimension -2"),
    (lambda x: x.permute(0, 1), ValueError, r"\[permute\] number of dims don't match"),
    (lambda x: x.permute(0, 1, 1), ValueError, r"\[permute\] repeated dim"),
    (lambda x: x.permute(0, 1, 3), IndexError, r"\[permute\] dimension out of range"),
    (lambda x: x.transpose(0, 3), IndexError, r"\[transpose\] dimension out of range"),
    (lambda x: x.t(), ValueError, r"\[t\] expects a tensor with <= 2 dimensions"),
    (lambda x: x[0, 0].mT, ValueError, r"\[mT\]"),
    (lambda x: x.movedim((0, 1), (1,)), ValueError, r"\[movedim\]"),
    (lambda x: x.movedim((0, 0), (1, 2)), ValueError, r"\[movedim\] repeated dim in source"),
    (lambda x: x.expand(3, 5, 5), ValueError, r"\[expand\] the expanded size"),
    (lambda x: x.expand(4, 5), ValueError, r"\[expand\] the number of sizes provided"),
    (lambda x: x.expand(-1, 3, 4, 5), ValueError, r"\[expand\]"),
    (lambda x: x.squeeze(3), IndexError, r"\[squeeze\] dimension out of range"),
    (lambda x: x.unsqueeze(4), IndexError, r"\[unsqueeze\] dimension out of range"),
    (lambda x: x.narrow(0, 2, 2), IndexError, r"\[narrow\] start \(2\) \+ length \(2\) exceeds"),
    (lambda x: x.narrow(0, 4, 0), IndexError, r"\[narrow\] start \(4\) out of range"),
    (lambda x: x.select(1, 4), IndexError, r"\[select\] index 4 is out of bounds for dimension 1 with size 4"),
    (lambda x: x.select(3, 0), IndexError, r"\[select\] dimension out of range"),
    (lambda x: x[3], IndexError, r"\[index\] index 3 is out of bounds for dimension 0 with size 3"),
    (lambda x: x[0, -5], IndexError, r"\[index\] index -5 is out of bounds for dimension 0 with size 4"),
    (lambda x: x[0, 0, 0, 0], IndexError, r"\[index\] too many indices"),
    (lambda x: x[..., ...], IndexError, r"\[index\] an index can only have a single ellipsis"),
    (lambda x: x[::-1], ValueError, r"step must be positive"),
    (lambda x: x[::0], ValueError, r"step"),
    (lambda x: x["a"], IndexError, r"\[index\] only integers, slices"),
    (lambda x: x[1.5], IndexError, r"\[index\] only integers"),
    (lambda x: x.diagonal(0, 1, 1), ValueError, r"\[diagonal\] dim1 and dim2 cannot be identical"),
    (lambda x: x[0, 0].diagonal(), ValueError, r"\[diagonal\] expected a tensor with at least 2"),
    (lambda x: x.as_strided((100,), (1,)), ValueError, r"\[as_strided\] out of bounds for the storage"),
    (lambda x: x.as_strided((2,), (-1,)), ValueError, r"\[as_strided\] negative strides"),
    (lambda x: x.as_strided((2, 2), (1,)), ValueError, r"\[as_strided\] expected as many strides"),
    (lambda x: x.flatten(2, 1), ValueError, r"\[flatten\] start_dim cannot come after end_dim"),
    (lambda x: x.unflatten(1, (3, -1)), ValueError, r"\[unflatten\]"),
    (lambda x: x.view("a"), TypeError, r"\[view\] expected a sequence of ints"),
    (lambda x: x.view(2.5, 24), TypeError, r"\[view\]"),
    (lambda x: ember.tensor(1.0)[0], IndexError, r"invalid index of a 0-dim tensor|too many indices"),
    (lambda x: ember.tensor(1.0).narrow(0, 0, 1), ValueError, r"\[narrow\] cannot be applied to a 0-dim"),
]


@pytest.mark.parametrize("fn,exc,msg", ERRORS, ids=[f"e{i}" for i in range(len(ERRORS))])
def test_view_errors(fn, exc, msg):
    x, _ = base()
    with pytest.raises(exc, match=msg):
        fn(x)


def test_size_stride_accessors():
    x, _ = base()
    assert x.size() == (3, 4, 5) and x.size(1) == 4 and x.size(-1) == 5
    assert x.stride() == (20, 5, 1) and x.stride(-2) == 5
    assert x.dim() == x.ndim == x.ndimension() == 3
    assert x.numel() == x.nelement() == 60 and ember.numel(x) == 60
    assert x[1:, 2:].storage_offset() == 30
    with pytest.raises(IndexError, match=r"\[size\] dimension out of range"):
        x.size(3)
    with pytest.raises(IndexError, match=r"\[stride\] dimension out of range"):
        x.stride(-4)
