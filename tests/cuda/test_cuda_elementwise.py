"""Every elementwise op of the CPU op table (tests/core/op_specs.py) on a GPU against the same op
on the CPU: values within the dtype's tolerance (16-bit floats: a few ulps more, since the GPU's
float math differs from the CPU's in the last bits), exact for integers and bools, with
broadcasting and a non-contiguous operand. Skips without a GPU.

Ops and dtypes without a CUDA kernel yet must raise NotImplementedError naming the op; the list
below says which, so a kernel added later fails this test until the list is updated.
"""
import os
import sys
import zlib

import numpy as np
import pytest

import ember

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "core"))
from op_specs import SPECS, make, to_np  # noqa: E402

pytestmark = pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA device")

NO_CUDA_KERNEL = {}  # spec id -> dtypes without a CUDA kernel ("*": all); none left for real dtypes
GPU_TOL = {"float16": (4e-3, 4e-3), "bfloat16": (3.2e-2, 3.2e-2), "float32": (1e-5, 1e-6), "float64": (1e-12, 1e-13)}

CASES = [(s, d) for s in SPECS for d in s.dtypes if d != "complex64"]


def _missing(spec, dtype):
    m = NO_CUDA_KERNEL.get(spec.id)
    return m == "*" or (m is not None and dtype in m)


@pytest.mark.parametrize("spec,dtype", CASES, ids=[f"{s.id}-{d}" for s, d in CASES])
def test_gpu_matches_cpu(spec, dtype):
    rng = np.random.default_rng(zlib.crc32(f"{spec.id}-{dtype}".encode()))
    shapes = [(6, 33)] + [(33,)] * (spec.nargs - 1)  # the later inputs broadcast over rows
    cpu = []
    for i, (dom, k) in enumerate(zip(spec.domains, spec.input_dtypes(dtype))):
        cpu.append(make(ember, dom.sample(rng, shapes[i], k), k))
    cpu[0] = cpu[0].t().contiguous().t()  # a non-contiguous first operand (same values)
    gpu = [t.cuda() for t in cpu]
    if _missing(spec, dtype):
        with pytest.raises(NotImplementedError, match=r"no CUDA kernel"):
            spec.call(ember, *gpu)
        return
    want = spec.call(ember, *cpu)
    got = spec.call(ember, *gpu)
    assert got.is_cuda and got.dtype == want.dtype and got.shape == want.shape
    g, w = to_np(got.cpu()), to_np(want)
    if w.dtype.kind == "f":
        rtol, atol = GPU_TOL[want.dtype.name]
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True, err_msg=f"{spec.id} {dtype}")
    else:
        np.testing.assert_array_equal(g, w, err_msg=f"{spec.id} {dtype}")


@pytest.mark.parametrize("dtype", ["float32", "float16", "int64", "bool"])
def test_fill_copy_and_scalars(dtype):
    dt = getattr(ember, dtype)
    z = ember.zeros(3, 5, dtype=dt, device="cuda")
    o = ember.ones(3, 5, dtype=dt, device="cuda")
    np.testing.assert_array_equal(to_np(z.cpu()), np.zeros((3, 5)))
    np.testing.assert_array_equal(to_np(o.cpu()), np.ones((3, 5)))
    if dtype != "bool":
        r = (o * 3 + 1).cpu()  # Python scalars with a CUDA tensor
        np.testing.assert_array_equal(to_np(r), np.full((3, 5), 4))
    f = ember.full((4,), 2, dtype=dt, device="cuda").to(ember.float32)
    np.testing.assert_array_equal(f.cpu().numpy(), [2 if dtype != "bool" else 1] * 4)


@pytest.mark.parametrize("op", ["floor_divide", "remainder", "fmod", "div_trunc"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_integer_division_by_zero_raises(op, dtype):
    dt = getattr(ember, dtype)
    a = ember.tensor([7, 8, 9], dtype=dt, device="cuda")
    b = ember.tensor([2, 0, 3], dtype=dt, device="cuda")
    def f(x, y):
        return ember.div(x, y, rounding_mode="trunc") if op == "div_trunc" else getattr(ember, op)(x, y)
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        f(a, b)
    # the device is still usable
    np.testing.assert_array_equal(f(a, b + 1).cpu().numpy(), f(a.cpu(), (b + 1).cpu()).numpy())


def test_integer_negative_power_raises():
    a = ember.tensor([2, 3], device="cuda")
    with pytest.raises(ValueError):
        a ** ember.tensor([-1, 2], device="cuda")
    np.testing.assert_array_equal((ember.tensor([1, -1], device="cuda") ** -3).cpu().numpy(), [1, -1])


def test_python_scalars_travel_by_value_everywhere():
    x = ember.arange(12, dtype=ember.float32).reshape(3, 4)
    g = x.cuda()
    for f in (lambda t: t * 2, lambda t: 2 - t, lambda t: t / 3, lambda t: t ** 2, lambda t: ember.where(t > 5, t, 0.5),
              lambda t: ember.lerp(t, t * 3, 0.25), lambda t: t.clamp(min=2.0), lambda t: (t == 4).int() + 7):
        np.testing.assert_allclose(to_np(f(g).cpu()), to_np(f(x)), rtol=1e-6)
    h = g.clone()
    h[:, 0] = 0          # basic-slice assignment of a Python number (copy_ with a host scalar)
    h[h > 9] = -1.0      # mask assignment (index_put_ with a Python number)
    h[ember.tensor([0, 2]), 1] = 3  # advanced indexing with a Python number
    w = x.clone()
    w[:, 0] = 0
    w[w > 9] = -1.0
    w[ember.tensor([0, 2]), 1] = 3
    np.testing.assert_array_equal(to_np(h.cpu()), to_np(w))
    seq = ember.tensor([1.0, 2.0, 3.0])
    assert ember.searchsorted(seq.cuda(), 2.5).item() == ember.searchsorted(seq, 2.5).item() == 2


def test_zero_dim_cpu_tensors_act_as_scalars_like_torch():
    g = ember.arange(4, dtype=ember.float32, device="cuda")
    two = ember.tensor(2.0)  # 0-d, CPU, no gradient: allowed with CUDA tensors, as in PyTorch
    np.testing.assert_array_equal((g * two).cpu().numpy(), [0, 2, 4, 6])
    np.testing.assert_array_equal(ember.where(g > 1, g, two).cpu().numpy(), [2, 2, 2, 3])
    with pytest.raises(ValueError, match="same device"):
        g * ember.ones(4)  # not 0-d: an error
    with pytest.raises(ValueError, match="same device"):
        g * ember.tensor(2.0, requires_grad=True)  # its gradient would have to cross devices
