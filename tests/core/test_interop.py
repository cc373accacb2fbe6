"""DLPack: zero-copy exchange with NumPy and PyTorch in both directions, strides, dtypes,
lifetimes and capsule protocol errors."""
import gc

import numpy as np
import pytest

import ember

NP_DTYPES = [("bool", ember.bool), ("uint8", ember.uint8), ("int8", ember.int8), ("int16", ember.int16),
             ("int32", ember.int32), ("int64", ember.int64), ("float16", ember.float16),
             ("float32", ember.float32), ("float64", ember.float64), ("complex64", ember.complex64)]


def test_dlpack_device():
    assert ember.ones(2).__dlpack_device__() == (1, 0)


def test_numpy_to_ember_shares_memory():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = ember.from_dlpack(a)
    assert t.shape == (3, 4) and t.dtype == ember.float32
    t[0, 0] = 100
    assert a[0, 0] == 100
    a[2, 3] = -7
    assert t[2, 3].item() == -7


def test_ember_to_numpy_shares_memory():
    t = ember.arange(6, dtype=ember.float64).reshape(2, 3)
    a = np.from_dlpack(t)
    assert a.shape == (2, 3) and a.dtype == np.float64
    a[1, 2] = 42
    assert t[1, 2].item() == 42
    t[0, 1] = -1
    assert a[0, 1] == -1


@pytest.mark.parametrize("npname,dt", NP_DTYPES)
def test_dtypes_roundtrip_numpy(npname, dt):
    a = (np.arange(6) % 2 == 1) if npname == "bool" else (np.arange(6) * (1 + 1j if npname == "complex64" else 1))
    a = a.astype(npname)
    t = ember.from_dlpack(a)
    assert t.dtype == dt
    np.testing.assert_array_equal(t.numpy(), a)
    b = np.from_dlpack(t)
    assert b.dtype == a.dtype
    np.testing.assert_array_equal(b, a)
    assert b.ctypes.data == a.ctypes.data  # zero-copy both ways


def test_strides_both_ways():
    base = np.arange(48, dtype=np.int32).reshape(6, 8)
    view = base[1::2, ::3]  # non-contiguous
    t = ember.from_dlpack(view)
    assert t.shape == view.shape and t.stride() == (16, 3)
    np.testing.assert_array_equal(t.numpy(), view)
    t[0, 1] = -5
    assert base[1, 3] == -5
    e = ember.arange(24).reshape(2, 3, 4).permute(2, 0, 1)[1:, :, ::2]
    a = np.from_dlpack(e)
    np.testing.assert_array_equal(a, e.numpy())
    assert a.strides == tuple(s * 8 for s in e.stride())
    ex = ember.arange(3).unsqueeze(0).expand(4, 3)  # stride 0
    np.testing.assert_array_equal(np.from_dlpack(ex), np.broadcast_to(np.arange(3), (4, 3)))


def test_zero_size_and_0d():
    for t in [ember.zeros(0), ember.zeros(2, 0, 3), ember.tensor(3.5)]:
        a = np.from_dlpack(t)
        assert a.shape == t.shape
        back = ember.from_dlpack(a)
        assert back.shape == t.shape
    assert ember.from_dlpack(np.array(2.5)).item() == 2.5


def test_lifetimes():
    a = np.arange(1000, dtype=np.float64)
    t = ember.from_dlpack(a)
    del a
    gc.collect()
    np.testing.assert_array_equal(t.numpy(), np.arange(1000))
    e = ember.arange(100, dtype=ember.float32) * 2
    b = np.from_dlpack(e)
    del e
    gc.collect()
    assert b[99] == 198


def test_capsules():
    t = ember.arange(4)
    cap = t.__dlpack__()
    assert "dltensor" in repr(cap) and "versioned" not in repr(cap)
    u = ember.from_dlpack(cap)
    u[0] = 9
    assert t[0].item() == 9
    with pytest.raises(ValueError, match=r"\[from_dlpack\] this DLPack capsule was already consumed"):
        ember.from_dlpack(cap)
    v = t.__dlpack__(max_version=(1, 0))
    assert "dltensor_versioned" in repr(v)
    w = ember.from_dlpack(v)
    w[1] = 8
    assert t[1].item() == 8
    del w, u
    gc.collect()
    unused = t.__dlpack__()  # collected without a consumer: the deleter runs
    del unused
    gc.collect()
    c = t.__dlpack__(copy=True)
    x = ember.from_dlpack(c)
    x[2] = 100
    assert t[2].item() == 2  # a copy
    y = ember.from_dlpack(t, copy=True)
    y[3] = 50
    assert t[3].item() == 3
    assert ember.from_dlpack(t)._is_same(t)
    assert "dltensor" in repr(ember.to_dlpack(t))


def test_errors():
    with pytest.raises(TypeError, match=r"\[from_dlpack\] expected an object with __dlpack__ or a DLPack capsule, got int"):
        ember.from_dlpack(3)
    with pytest.raises(ValueError, match=r"\[from_dlpack\] negative strides are not supported"):
        ember.from_dlpack(np.arange(5.0)[::-1])
    with pytest.raises(ValueError, match=r"\[__dlpack__\] stream must be None for a CPU tensor"):
        ember.ones(2).__dlpack__(stream=5)
    with pytest.raises(BufferError):
        ember.ones(2).__dlpack__(dl_device=(2, 0))
    with pytest.raises(TypeError, match=r"\[from_dlpack\] unsupported DLPack dtype \(code 1, bits 16"):
        ember.from_dlpack(np.arange(3, dtype=np.uint16))

    class FakeCuda:
        def __dlpack_device__(self):
            return (2, 0)

        def __dlpack__(self, **kw):
            raise AssertionError("must not be called")

    if not ember.cuda.is_available():  # refused before __dlpack__ is called
        with pytest.raises(RuntimeError, match=r"\[from_dlpack\] the object is on CUDA device 0, which ember cannot see"):
            ember.from_dlpack(FakeCuda())

    class FakeOther:
        def __dlpack_device__(self):
            return (7, 0)  # ROCm

        def __dlpack__(self, **kw):
            raise AssertionError("must not be called")

    with pytest.raises(NotImplementedError, match=r"\[from_dlpack\] only CPU and CUDA tensors can be imported"):
        ember.from_dlpack(FakeOther())


def test_read_only_numpy_is_copied():
    a = np.arange(4.0)
    a.flags.writeable = False
    try:
        t = ember.from_dlpack(a)
    except (BufferError, TypeError):  # NumPy versions that refuse to export read-only arrays
        return
    t[0] = 7
    assert a[0] == 0  # never written through
    np.testing.assert_array_equal(t.numpy(), [7, 1, 2, 3])


# ---- PyTorch ---------------------------------------------------------------------------

def test_torch_both_ways():
    torch = pytest.importorskip("torch")
    t = ember.arange(12, dtype=ember.float32).reshape(3, 4)
    pt = torch.from_dlpack(t)
    assert pt.shape == (3, 4) and pt.dtype == torch.float32
    pt[1, 1] = 55
    assert t[1, 1].item() == 55
    t[2, 0] = -3
    assert pt[2, 0].item() == -3
    src = torch.arange(10, dtype=torch.int64)[::2]
    e = ember.from_dlpack(src)
    assert e.shape == (5,) and e.stride() == (2,)
    e[1] = 77
    assert src[1].item() == 77
    src[4] = -1
    assert e[4].item() == -1
    e2 = ember.from_dlpack(torch.utils.dlpack.to_dlpack(src))
    assert e2[1].item() == 77
    p2 = torch.utils.dlpack.from_dlpack(ember.to_dlpack(t))
    assert p2[1, 1].item() == 55


@pytest.mark.parametrize("tname,dt", [("bool", ember.bool), ("bfloat16", ember.bfloat16), ("float16", ember.float16),
                                      ("complex64", ember.complex64), ("uint8", ember.uint8), ("int16", ember.int16)])
def test_torch_dtypes(tname, dt):
    torch = pytest.importorskip("torch")
    tdt = getattr(torch, tname)
    src = (torch.arange(6) % 3 == 0) if tname == "bool" else (torch.arange(6) * 1.5).to(tdt)
    if tname == "complex64":
        src = torch.complex(torch.arange(6.0), -torch.arange(6.0))
    e = ember.from_dlpack(src)
    assert e.dtype == dt
    back = torch.from_dlpack(e)
    assert back.dtype == src.dtype
    assert torch.equal(back, src)
    assert back.data_ptr() == src.data_ptr()
    assert e.data_ptr() == src.data_ptr()
