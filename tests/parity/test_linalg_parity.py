"""Linear algebra against PyTorch: matmul broadcasting, the addmm family, einsum (including
PyTorch's size-1 broadcasting of labelled dims), tensordot, kron; dtypes and error kinds."""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: parity suite skipped")

import ember  # noqa: E402

RNG = np.random.default_rng(7)
DTYPES = {"float32": (1e-5, 1e-5), "float64": (1e-12, 1e-12), "float16": (2e-3, 2e-3), "bfloat16": (2e-2, 2e-2),
          "complex64": (1e-5, 1e-5), "int64": (0, 0), "int32": (0, 0)}


def pair(shape, dtype):
    if dtype.startswith("int"):
        a = RNG.integers(-4, 5, size=shape)
    elif dtype == "complex64":
        a = RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)
    else:
        a = RNG.standard_normal(shape)
    tt = torch.tensor(a).to(getattr(torch, dtype))
    et = ember.from_dlpack(tt.clone())
    return et, tt


def close(e, t, dtype, k=1):
    assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1]
    assert tuple(e.shape) == tuple(t.shape)
    got = torch.from_dlpack(e)
    rtol, atol = DTYPES[dtype]
    if dtype in ("float16", "bfloat16"):
        got, t = got.double(), t.double()
    torch.testing.assert_close(got, t, rtol=rtol * max(1, k ** 0.5), atol=atol * max(1, k ** 0.5) * 4)


SHAPES = [((5,), (5,)), ((4, 5), (5,)), ((5,), (5, 3)), ((4, 5), (5, 3)), ((2, 4, 5), (5,)), ((5,), (2, 5, 3)),
          ((2, 4, 5), (5, 3)), ((4, 5), (2, 5, 3)), ((2, 1, 4, 5), (3, 5, 3)), ((1, 4, 5), (3, 1, 5, 3)),
          ((0, 5), (5, 3)), ((4, 0), (0, 3)), ((2, 3, 0), (0,))]


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("sa,sb", SHAPES)
def test_matmul(sa, sb, dtype):
    (ea, ta), (eb, tb) = pair(sa, dtype), pair(sb, dtype)
    close(ember.matmul(ea, eb), torch.matmul(ta, tb), dtype, sa[-1])
    close(ea @ eb, ta @ tb, dtype, sa[-1])


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "int64"])
def test_add_family(dtype):
    beta, alpha = (2, -3) if dtype == "int64" else (0.25, 1.75)
    (i, ti), (a, ta), (b, tb) = pair((4, 1), dtype), pair((4, 6), dtype), pair((6, 3), dtype)
    close(ember.addmm(i, a, b, beta=beta, alpha=alpha), torch.addmm(ti, ta, tb, beta=beta, alpha=alpha), dtype, 6)
    (i, ti), (a, ta), (b, tb) = pair((2, 4, 3), dtype), pair((2, 4, 6), dtype), pair((2, 6, 3), dtype)
    close(ember.baddbmm(i, a, b, beta=beta, alpha=alpha), torch.baddbmm(ti, ta, tb, beta=beta, alpha=alpha), dtype, 6)
    (i, ti), (a, ta), (v, tv) = pair((4,), dtype), pair((4, 6), dtype), pair((6,), dtype)
    close(ember.addmv(i, a, v, beta=beta, alpha=alpha), torch.addmv(ti, ta, tv, beta=beta, alpha=alpha), dtype, 6)
    (i, ti), (u, tu), (w, tw) = pair((4, 3), dtype), pair((4,), dtype), pair((3,), dtype)
    close(ember.addr(i, u, w, beta=beta, alpha=alpha), torch.addr(ti, tu, tw, beta=beta, alpha=alpha), dtype)


@pytest.mark.parametrize("eq,shapes", [
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ii->i", [(3, 3)]),
    ("...ij,...jk", [(2, 1, 3, 4), (3, 4, 5)]),
    ("i,i->", [(3,), (1,)]),          # PyTorch broadcasts size-1 labelled dims
    ("ij,ij->ij", [(3, 1), (1, 4)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("...ij->ij", [(2, 3, 4)]),       # ellipsis dims absent from the output are summed
    ("iij->j", [(3, 3, 2)]),
])
def test_einsum(eq, shapes):
    es, ts = zip(*[pair(s, "float64") for s in shapes])
    close(ember.einsum(eq, *es), torch.einsum(eq, *ts), "float64")


@pytest.mark.parametrize("dims", [0, 1, 2, ([1, 0], [0, 1])])
def test_tensordot_kron(dims):
    (a, ta), (b, tb) = pair((3, 4, 2), "float64"), pair((4, 3, 2), "float64")
    if dims in (1, 2):
        b, tb = pair((4, 2, 5) if dims == 2 else (2, 5), "float64")
        if dims == 2:
            a, ta = pair((3, 4, 2), "float64")
    close(ember.tensordot(a, b, dims=dims), torch.tensordot(ta, tb, dims=dims), "float64")
    close(ember.kron(a, b), torch.kron(ta, tb), "float64")


def test_same_failures_as_torch():
    cases = [
        lambda m: m.matmul(m.ones(2, 3), m.ones(4, 5)),
        lambda m: m.matmul(m.ones(2, 3), m.ones(3, 5, dtype=m.float64)),
        lambda m: m.bmm(m.ones(2, 2, 2), m.ones(3, 2, 2)),
        lambda m: m.dot(m.ones(3), m.ones(4)),
        lambda m: m.matmul(m.ones(2, 2, dtype=m.bool), m.ones(2, 2, dtype=m.bool)),
    ]
    for case in cases:
        with pytest.raises(Exception):
            case(torch)
        with pytest.raises((ValueError, TypeError)):
            case(ember)
