"""View ops against PyTorch: the same view of the same base must have the same shape, strides,
storage offset and values, and share memory with its base; an error in torch must be an error
in ember (and the reverse). Bases: contiguous, transposed, and sliced with an offset."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "core"))
import ember  # noqa: E402
from op_specs import to_np  # noqa: E402

torch = pytest.importorskip("torch")

VIEWS = {
    "view": lambda m, x: x.view(-1),
    "view_2": lambda m, x: x.view(2, -1),
    "view_shape": lambda m, x: x.view(x.shape[0], -1),
    "reshape": lambda m, x: x.reshape(6, -1),
    "reshape_fn": lambda m, x: m.reshape(x, (-1, 2)),
    "flatten": lambda m, x: x.flatten(),
    "flatten_1": lambda m, x: m.flatten(x, 1),
    "flatten_01": lambda m, x: x.flatten(0, 1),
    "unflatten": lambda m, x: x.unflatten(0, (1, -1)),
    "permute": lambda m, x: x.permute(2, 0, 1),
    "permute_fn": lambda m, x: m.permute(x, (1, 2, 0)),
    "transpose": lambda m, x: x.transpose(0, 2),
    "swapaxes": lambda m, x: m.swapaxes(x, -1, 0),
    "T_2d": lambda m, x: x[0].T,
    "mT": lambda m, x: x.mT,
    "t": lambda m, x: x[:, 0].t(),
    "movedim": lambda m, x: m.movedim(x, (0, 1), (2, 0)),
    "moveaxis": lambda m, x: x.moveaxis(-1, 0),
    "unsqueeze": lambda m, x: x.unsqueeze(1),
    "unsqueeze_neg": lambda m, x: m.unsqueeze(x, -1),
    "squeeze": lambda m, x: x[:, :1].squeeze(),
    "squeeze_dim": lambda m, x: x[:1].squeeze(0),
    "squeeze_tuple": lambda m, x: m.squeeze(x[:1, :1], (0, 1)),
    "squeeze_nonsingleton": lambda m, x: x.squeeze(1),
    "expand": lambda m, x: x[:, :1].expand(-1, 5, -1),
    "expand_new": lambda m, x: x.expand(2, *x.shape),
    "expand_as": lambda m, x: x[:1].expand_as(x),
    "broadcast_to": lambda m, x: m.broadcast_to(x[:, :1], (2, x.shape[0], 4, x.shape[2])),
    "narrow": lambda m, x: x.narrow(1, 1, 2),
    "narrow_fn": lambda m, x: m.narrow(x, -1, 2, 1),
    "select": lambda m, x: x.select(2, -1),
    "select_fn": lambda m, x: m.select(x, 0, 1),
    "diagonal": lambda m, x: x.diagonal(),
    "diagonal_args": lambda m, x: m.diagonal(x, -1, 2, 0),
    "diagonal_offset": lambda m, x: x.diagonal(offset=2, dim1=1, dim2=2),
    "as_strided": lambda m, x: x.as_strided((2, 3), (1, 2)),
    "as_strided_off": lambda m, x: m.as_strided(x, (2, 2), (3, 1), 4),
    "getitem_int": lambda m, x: x[1],
    "getitem_slices": lambda m, x: x[::2, 1:, ::3],
    "getitem_neg": lambda m, x: x[-1, -2:],
    "getitem_none": lambda m, x: x[None, 1, None],
    "getitem_ellipsis": lambda m, x: x[..., 1],
    "getitem_ellipsis_none": lambda m, x: x[..., None, :2],
    "getitem_big_stop": lambda m, x: x[:, 2:100],
    "getitem_empty": lambda m, x: x[2:1],
    "split0": lambda m, x: x.split(2)[1],
    "split_sizes": lambda m, x: m.split(x, [1, 3], 1)[1],
    "chunk": lambda m, x: x.chunk(2, -1)[-1],
    "unbind": lambda m, x: x.unbind(1)[2],
    "real": lambda m, x: x.real,
    "view_dtype": lambda m, x: x.view(m.int32),
    "view_zero_size": lambda m, x: x[:0].view(0, -1),
}

ERRORS = {
    "view_bad": lambda m, x: x.view(7, -1),
    "view_two_infer": lambda m, x: x.view(-1, -1),
    "permute_short": lambda m, x: x.permute(0, 1),
    "permute_repeat": lambda m, x: x.permute(0, 0, 1),
    "transpose_range": lambda m, x: x.transpose(0, 3),
    "t_3d": lambda m, x: x.t(),
    "expand_bad": lambda m, x: x.expand(2, 2, 2),
    "expand_few": lambda m, x: x.expand(4, 5),
    "squeeze_range": lambda m, x: x.squeeze(3),
    "unsqueeze_range": lambda m, x: x.unsqueeze(5),
    "narrow_past": lambda m, x: x.narrow(0, 2, 2),
    "select_range": lambda m, x: x.select(1, 4),
    "getitem_range": lambda m, x: x[3],
    "getitem_too_many": lambda m, x: x[0, 0, 0, 0],
    "getitem_neg_step": lambda m, x: x[::-1],
    "getitem_float": lambda m, x: x[1.5],
    "getitem_str": lambda m, x: x["a"],
    "diagonal_same": lambda m, x: x.diagonal(0, 1, 1),
    "as_strided_oob": lambda m, x: x.as_strided((100,), (1,)),
    "flatten_order": lambda m, x: x.flatten(2, 1),
    "unflatten_bad": lambda m, x: x.unflatten(1, (3, 3)),
    "chunk_zero": lambda m, x: x.chunk(0),
    "split_bad": lambda m, x: x.split([1, 1], 0),
    "imag_real": lambda m, x: x.imag,
    "view_dtype_size": lambda m, x: x.view(m.float64),
    "view_as_complex_bad": lambda m, x: m.view_as_complex(x),
}

BASES = {
    "contig": lambda m, a: m.from_numpy(a.copy()),
    "transposed": lambda m, a: m.from_numpy(np.ascontiguousarray(a.transpose(2, 1, 0))).permute(2, 1, 0),
    "sliced": lambda m, a: m.from_numpy(np.pad(a, ((1, 0), (0, 2), (1, 1))))[1:, :4, 1:-1],
}


def _bases(name):
    a = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    return BASES[name](ember, a), BASES[name](torch, a)


def _layout(t):
    return tuple(t.shape), tuple(t.stride()), t.storage_offset()


def _run(fn):
    try:
        return fn(), None
    except Exception as exc:  # noqa: BLE001
        return None, exc


@pytest.mark.parametrize("base", list(BASES))
@pytest.mark.parametrize("name", list(VIEWS))
def test_view_matches_torch(name, base):
    e, t = _bases(base)
    fn = VIEWS[name]
    tr, texc = _run(lambda: fn(torch, t))
    er, eexc = _run(lambda: fn(ember, e))
    assert (texc is None) == (eexc is None), f"torch {texc!r}, ember {eexc!r}"
    if texc is not None:
        return
    assert _layout(er) == _layout(tr)
    assert er.dtype.name == str(tr.dtype).replace("torch.", "")
    np.testing.assert_array_equal(to_np(er), tr.numpy().astype(to_np(er).dtype))
    shares = er._shares_storage(e)
    assert shares == (tr.untyped_storage().data_ptr() == t.untyped_storage().data_ptr())
    assert er.is_contiguous() == tr.is_contiguous()


@pytest.mark.parametrize("name", list(ERRORS))
def test_view_errors_match_torch(name):
    e, t = _bases("contig")
    fn = ERRORS[name]
    _, texc = _run(lambda: fn(torch, t))
    _, eexc = _run(lambda: fn(ember, e))
    assert (texc is None) == (eexc is None), f"torch {texc!r}, ember {eexc!r}"


def test_bool_scalar_index_values_match_torch():
    """x[True] / x[False]: same shape and values; ember returns a view where torch copies
    (a documented difference: writes through x[True] reach x in ember)."""
    for base in BASES:
        e, t = _bases(base)
        for key in (True, False, (1, True), (Ellipsis, False)):
            er, tr = e[key], t[key]
            assert tuple(er.shape) == tuple(tr.shape)
            np.testing.assert_array_equal(to_np(er), tr.numpy())


def test_complex_views_match_torch():
    z = np.array([[1 + 2j, 3 - 4j], [5 + 6j, -7 - 8j]], np.complex64)
    e, t = ember.from_numpy(z.copy()), torch.from_numpy(z.copy())
    for fn in (lambda m, x: x.real, lambda m, x: x.imag, lambda m, x: m.view_as_real(x),
               lambda m, x: m.view_as_real(x.t()), lambda m, x: x.t().imag,
               lambda m, x: m.view_as_complex(m.view_as_real(x)), lambda m, x: x[1].real):
        er, tr = fn(ember, e), fn(torch, t)
        assert _layout(er) == _layout(tr)
        np.testing.assert_array_equal(to_np(er), tr.numpy())
    for fn in (lambda m, x: m.view_as_complex(m.view_as_real(x)[..., :1]),
               lambda m, x: m.view_as_complex(m.view_as_real(x).transpose(0, 1).contiguous().transpose(0, 1))):
        _, texc = _run(lambda: fn(torch, t))
        _, eexc = _run(lambda: fn(ember, e))
        assert (texc is None) == (eexc is None), f"torch {texc!r}, ember {eexc!r}"


def test_reshape_view_or_copy_matches_torch():
    """reshape returns a view exactly when torch's does."""
    for base in BASES:
        e, t = _bases(base)
        for shape in [(-1,), (12, 5), (3, 20), (5, 12), (3, 4, 5), (60, 1), (1, 3, 1, 20)]:
            er, tr = e.reshape(*shape), t.reshape(*shape)
            assert er._shares_storage(e) == (tr.untyped_storage().data_ptr() == t.untyped_storage().data_ptr()), \
                (base, shape)
            assert _layout(er)[:2] == _layout(tr)[:2] or not er._shares_storage(e), (base, shape)
            np.testing.assert_array_equal(to_np(er), tr.numpy())
