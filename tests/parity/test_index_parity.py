"""Index ops against PyTorch: values (bitwise for the data-movement ops and for sums in
index order) and which calls raise."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch", reason="PyTorch not installed: parity suite skipped")

RNG = np.random.default_rng(7)
DTYPES = [("bool", np.bool_), ("uint8", np.uint8), ("int8", np.int8), ("int16", np.int16), ("int32", np.int32),
          ("int64", np.int64), ("float16", np.float16), ("float32", np.float32), ("float64", np.float64),
          ("complex64", np.complex64)]


def pair(a):
    """The same data as (ember tensor, torch tensor)."""
    a = np.ascontiguousarray(a)
    return ember.tensor(a), torch.from_numpy(a.copy())


def same(e, t):
    if isinstance(t, tuple):
        assert len(e) == len(t)
        for a, b in zip(e, t):
            same(a, b)
        return
    assert tuple(e.shape) == tuple(t.shape)
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_array_equal(np.array(e.numpy()), t.numpy())


def values(shape, dt):
    a = RNG.standard_normal(shape) * 4
    if dt == np.bool_:
        return a > 0
    if dt == np.complex64:
        return (a + 1j * RNG.standard_normal(shape)).astype(dt)
    if np.issubdtype(dt, np.integer):
        return np.abs(a).astype(dt) if dt == np.uint8 else a.astype(dt)
    return a.astype(dt)


def ints(n, *shape, low=0):
    return RNG.integers(low, n, size=shape).astype(np.int64)


@pytest.mark.parametrize("name,dt", DTYPES, ids=[d[0] for d in DTYPES])
def test_getitem_setitem_parity(name, dt):
    a = values((5, 6, 7), dt)
    e, t = pair(a)
    i0, i1, i2 = ints(5, 4, low=-5), ints(6, 3, 1), ints(7, 4)
    m = RNG.random((6, 7)) > 0.5
    keys = [
        lambda X: (X(i0),),
        lambda X: (slice(None), X(i1), X(i2)),
        lambda X: (X(i0), slice(None), X(i2)),
        lambda X: (1, slice(None), X(i2)),                  # int + index: PyTorch's placement
        lambda X: (Ellipsis, X(m)),
        lambda X: (X(i0), None, X(np.array(2))),
        lambda X: (X(m[:5, 0]), slice(None, None, 2)),
    ]
    for k in keys:
        same(e[k(lambda v: ember.tensor(v))], t[k(lambda v: torch.from_numpy(np.asarray(v)))])
    # assignment and accumulation, duplicates included
    v = values((6, 7), dt)                 # broadcast: duplicate indices write equal rows
    e2, t2 = pair(a)
    e2[ember.tensor(i0)] = ember.tensor(v)
    t2[torch.from_numpy(i0)] = torch.from_numpy(v)
    same(e2, t2)
    if dt != np.bool_:
        dup = np.array([0, 4, 0, 0, -1])
        vv = values((5, 6, 7), dt)
        e3, t3 = pair(a)
        e3.index_put_((ember.tensor(dup),), ember.tensor(vv), accumulate=True)
        t3.index_put_((torch.from_numpy(dup),), torch.from_numpy(vv), accumulate=True)
        same(e3, t3)


def test_index_select_gather_take_parity():
    a = values((6, 5, 4), np.float32)
    e, t = pair(a)
    for dim in range(3):
        i = ints(a.shape[dim], 9)
        same(ember.index_select(e, dim, ember.tensor(i)), torch.index_select(t, dim, torch.from_numpy(i)))
        same(ember.index_select(e, dim, ember.tensor(i.astype(np.int32))),
             torch.index_select(t, dim, torch.from_numpy(i.astype(np.int32))))
        shape = [3, 2, 2]
        shape[dim] = 7
        g = ints(a.shape[dim], *shape)
        same(ember.gather(e, dim, ember.tensor(g)), torch.gather(t, dim, torch.from_numpy(g)))
        shape = [1, 5, 4]
        shape[dim] = 3
        g2 = ints(a.shape[dim], *shape)
        same(ember.take_along_dim(e, ember.tensor(g2), dim), torch.take_along_dim(t, torch.from_numpy(g2), dim))
    ti = ints(120, 3, 5, low=-120)
    same(ember.take(e, ember.tensor(ti)), torch.take(t, torch.from_numpy(ti)))
    same(ember.take_along_dim(e, ember.tensor(ti[0] % 120)), torch.take_along_dim(t, torch.from_numpy(ti[0] % 120)))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dt", [np.int64, np.float32, np.float64])
def test_scatter_reduce_parity(reduce, include_self, dt):
    a = values((5, 8), dt)
    src = values((5, 12), dt)
    if reduce == "prod":
        src = (src % 3).astype(dt)
    i = ints(8, 5, 12)
    e, t = pair(a)
    r_e = e.scatter_reduce(1, ember.tensor(i), ember.tensor(src), reduce, include_self=include_self)
    r_t = t.scatter_reduce(1, torch.from_numpy(i), torch.from_numpy(src), reduce, include_self=include_self)
    if reduce in ("mean", "prod") and dt != np.int64:
        np.testing.assert_allclose(r_e.numpy(), r_t.numpy(), rtol=1e-6)
    else:
        same(r_e, r_t)


def test_scatter_family_parity():
    a = values((6, 7), np.float32)
    e, t = pair(a)
    i = ints(7, 6, 9)
    iu = np.stack([RNG.permutation(7)[:4] for _ in range(6)])
    src = values((6, 9), np.float32)
    same(e.scatter(1, ember.tensor(iu), ember.tensor(src)), t.scatter(1, torch.from_numpy(iu), torch.from_numpy(src)))
    same(e.scatter(1, ember.tensor(iu), value=1.5), t.scatter(1, torch.from_numpy(iu), value=1.5))
    same(e.scatter_add(1, ember.tensor(i), ember.tensor(src)),
         t.scatter_add(1, torch.from_numpy(i), torch.from_numpy(src)))
    same(e.scatter(1, ember.tensor(i), ember.tensor(src), reduce="add"),
         t.scatter(1, torch.from_numpy(i), torch.from_numpy(src), reduce="add"))
    ii = ints(6, 10)
    s2 = values((10, 7), np.float32)
    same(e.index_add(0, ember.tensor(ii), ember.tensor(s2), alpha=0.5),
         t.index_add(0, torch.from_numpy(ii), torch.from_numpy(s2), alpha=0.5))
    iu0 = RNG.permutation(6)[:4]
    same(e.index_copy(0, ember.tensor(iu0), ember.tensor(s2[:4])),
         t.index_copy(0, torch.from_numpy(iu0), torch.from_numpy(s2[:4])))
    same(e.index_fill(1, ember.tensor(np.array([0, -1])), -2.0), t.index_fill(1, torch.tensor([0, -1]), -2.0))
    m = RNG.random((6, 7)) > 0.5
    same(ember.masked_select(e, ember.tensor(m)), torch.masked_select(t, torch.from_numpy(m)))
    s3 = values((42,), np.float32)
    same(e.masked_scatter(ember.tensor(m), ember.tensor(s3)), t.masked_scatter(torch.from_numpy(m), torch.from_numpy(s3)))
    same(ember.nonzero(ember.tensor(m)), torch.nonzero(torch.from_numpy(m)))
    same(ember.nonzero(ember.tensor(m), as_tuple=True), torch.nonzero(torch.from_numpy(m), as_tuple=True))
    same(ember.argwhere(e > 0), torch.argwhere(t > 0))
    pi = ints(42, 8, low=-42)
    ps = values((8,), np.float32)
    same(e.put(ember.tensor(pi), ember.tensor(ps), accumulate=True),
         t.put(torch.from_numpy(pi), torch.from_numpy(ps), accumulate=True))


# Calls that PyTorch rejects must raise in ember too (ember's exception kinds follow its
# error guide: IndexError for bad indices, TypeError for dtypes, ValueError for shapes).
ERRORS = [
    ("x[oob]", lambda m, x: x[m.tensor([4])], IndexError),
    ("x[neg oob]", lambda m, x: x[m.tensor([-5])], IndexError),
    ("x[float]", lambda m, x: x[m.tensor([1.0])], IndexError),
    ("x[bad mask]", lambda m, x: x[m.tensor([True, False])], IndexError),
    ("x[bcast]", lambda m, x: x[m.tensor([1, 2]), m.tensor([1, 2, 3])], IndexError),
    ("index_select oob", lambda m, x: m.index_select(x, 1, m.tensor([5])), IndexError),
    ("gather oob", lambda m, x: m.gather(x, 1, m.tensor([[5]])), IndexError),
    ("gather neg", lambda m, x: m.gather(x, 1, m.tensor([[-1]])), IndexError),
    ("scatter oob", lambda m, x: x.clone().scatter_(1, m.tensor([[5]]), 1.0), IndexError),
    ("index_add oob", lambda m, x: x.clone().index_add_(0, m.tensor([4]), m.ones(1, 5)), IndexError),
    ("index_copy neg", lambda m, x: x.clone().index_copy_(0, m.tensor([-1]), m.ones(1, 5)), IndexError),
    ("index_fill oob", lambda m, x: x.clone().index_fill_(0, m.tensor([4]), 1.0), IndexError),
    ("take oob", lambda m, x: m.take(x, m.tensor([20])), IndexError),
    ("put oob", lambda m, x: x.clone().put_(m.tensor([20]), m.tensor([1.0])), IndexError),
    ("index_select 2d", lambda m, x: m.index_select(x, 1, m.tensor([[1]])), (ValueError, IndexError)),
    ("gather ndim", lambda m, x: m.gather(x, 1, m.tensor([1])), (ValueError, RuntimeError)),
    ("take int32", lambda m, x: m.take(x, m.tensor([1], dtype=m.int32)), (TypeError, RuntimeError)),
    ("index_copy int32", lambda m, x: x.clone().index_copy_(0, m.tensor([1], dtype=m.int32), m.ones(1, 5)),
     (TypeError, RuntimeError)),
    ("masked_select u8", lambda m, x: m.masked_select(x, m.ones(4, 5, dtype=m.uint8)), (TypeError, RuntimeError)),
    ("masked_scatter small", lambda m, x: x.clone().masked_scatter_(x > -100, m.ones(3)), (ValueError, RuntimeError)),
    ("scatter dtype", lambda m, x: x.clone().scatter_(1, m.tensor([[1]]), m.ones(1, 1, dtype=m.float64)),
     (TypeError, RuntimeError)),
    ("index_add shape", lambda m, x: x.clone().index_add_(0, m.tensor([1]), m.ones(2, 5)), (ValueError, RuntimeError)),
    ("value shape", lambda m, x: x.clone().index_put_((m.tensor([1]),), m.ones(3)), (ValueError, RuntimeError)),
]


@pytest.mark.parametrize("name,fn,kind", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_parity(name, fn, kind):
    a = np.arange(20, dtype=np.float32).reshape(4, 5)
    with pytest.raises(Exception):
        fn(torch, torch.from_numpy(a.copy()))
    with pytest.raises(kind if isinstance(kind, tuple) else (kind,)):
        fn(ember, ember.tensor(a))
