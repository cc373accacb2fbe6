"""ember.cuda: devices, streams, events, the caching allocator, pinned memory and transfers.

The first group runs everywhere (what a machine without a GPU must say); the rest needs a GPU and
skips cleanly without one.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import ember

GPU = ember.cuda.is_available()
needs_gpu = pytest.mark.skipif(not GPU, reason="no CUDA device")


# ---- without a GPU ---------------------------------------------------------------------------
def test_is_available_prints_nothing():
    code = "import ember; print(ember.cuda.is_available(), ember.cuda.device_count())"
    env = dict(os.environ)
    if os.environ.get("EMBER_INPLACE"):  # the in-tree build, as tests/conftest.py imports it
        core = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "core"))
        env["PYTHONPATH"] = core + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stderr == ""
    assert out.stdout.strip() == f"{GPU} {ember.cuda.device_count()}"


def test_device_strings():
    assert ember.device("cuda").index is None  # the current device, resolved when a tensor is made
    assert ember.device("cuda:1").index == 1 and str(ember.device("cuda:1")) == "cuda:1"
    assert issubclass(ember.OutOfMemoryError, RuntimeError)
    assert ember.cuda.OutOfMemoryError is ember.OutOfMemoryError


@pytest.mark.skipif(GPU, reason="a GPU is present")
def test_calls_that_need_a_gpu_say_so():
    for f in (ember.cuda.current_device, ember.cuda.memory_allocated, ember.cuda.Stream, ember.cuda.synchronize,
              lambda: ember.cuda.get_device_name(0), lambda: ember.ones(2).cuda(), lambda: ember.ones(2).to("cuda"),
              lambda: ember.zeros(2, device="cuda")):
        with pytest.raises((RuntimeError, NotImplementedError), match=r"CUDA"):
            f()
    with pytest.raises(RuntimeError, match=r"\[pin_memory\].*CUDA device"):
        ember.ones(2).pin_memory()
    assert not ember.ones(2).is_pinned()
    ember.cuda.empty_cache()      # harmless without a GPU
    ember.cuda.manual_seed_all(0)
    ember.cuda.manual_seed(0)


# ---- with a GPU --------------------------------------------------------------------------------
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]


@needs_gpu
def test_device_queries():
    n = ember.cuda.device_count()
    assert n >= 1 and 0 <= ember.cuda.current_device() < n
    p = ember.cuda.get_device_properties(0)
    assert p.total_memory > 0 and p.multi_processor_count > 0 and p.name == ember.cuda.get_device_name(0)
    assert ember.cuda.get_device_capability(0) == (p.major, p.minor)
    free, total = ember.cuda.mem_get_info()
    assert 0 < free <= total
    ember.cuda.synchronize()
    x = ember.zeros(3, device="cuda")
    assert x.device == ember.device(f"cuda:{ember.cuda.current_device()}") and x.is_cuda


@needs_gpu
@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_all_dtypes(dtype):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((5, 7)) * 50).astype(np.float32)
    x = ember.from_numpy(a).to(getattr(ember, dtype))
    y = x.cuda()
    assert y.is_cuda and y.dtype == x.dtype and y.shape == x.shape
    back = y.cpu()
    assert back.device == ember.device("cpu")
    np.testing.assert_array_equal(back.float().numpy() if dtype == "bfloat16" else back.numpy(),
                                  x.float().numpy() if dtype == "bfloat16" else x.numpy())


@needs_gpu
def test_strided_and_converting_transfers():
    a = ember.arange(24, dtype=ember.float32).reshape(4, 6)
    t = a.t()                                # non-contiguous source
    g = t.to("cuda", ember.float64)          # device and dtype at once
    assert g.dtype == ember.float64 and g.is_contiguous()
    np.testing.assert_array_equal(g.cpu().numpy(), t.numpy().astype(np.float64))
    dst = ember.zeros(6, 4, device="cuda").t()  # non-contiguous destination
    dst.copy_(a)
    np.testing.assert_array_equal(dst.cpu().numpy(), a.numpy())
    out = ember.zeros(4, 6)
    out.copy_(ember.ones(4, 6, device="cuda"))
    assert out.numpy().sum() == 24


@needs_gpu
def test_pinned_memory_and_non_blocking():
    x = ember.arange(1 << 20, dtype=ember.float32)
    p = x.pin_memory()
    assert p.is_pinned() and not x.is_pinned() and p.pin_memory() is p
    g = p.to("cuda", non_blocking=True)
    back = ember.empty(1 << 20).pin_memory()
    back.copy_(g, non_blocking=True)
    ember.cuda.synchronize()
    np.testing.assert_array_equal(back.numpy(), x.numpy())


@needs_gpu
def test_gradient_flows_back_across_devices():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.cuda() * 3.0
    y.backward(ember.ones(3, device="cuda"))
    assert x.grad.device == ember.device("cpu")
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0, 3.0])


@needs_gpu
def test_mixing_devices_names_both():
    with pytest.raises(ValueError, match=r"\[add\] expected all tensors on the same device, got cuda:0 and cpu"):
        ember.ones(2, device="cuda:0") + ember.ones(2)


@needs_gpu
def test_allocator_statistics():
    ember.cuda.synchronize()
    ember.cuda.empty_cache()
    base = ember.cuda.memory_allocated()
    x = ember.empty(1000, device="cuda")       # 4000 B -> one 4096 B block
    assert ember.cuda.memory_allocated() - base == 4096
    assert ember.cuda.memory_reserved() >= ember.cuda.memory_allocated()
    ptr = x.data_ptr()
    del x
    assert ember.cuda.memory_allocated() == base
    y = ember.empty(1000, device="cuda")       # the freed block comes back
    assert y.data_ptr() == ptr
    big = ember.empty(64 << 20, dtype=ember.uint8, device="cuda")
    peak = ember.cuda.max_memory_allocated()
    assert peak >= base + (64 << 20)
    del big
    ember.cuda.reset_peak_memory_stats()
    assert ember.cuda.max_memory_allocated() == ember.cuda.memory_allocated()
    reserved = ember.cuda.memory_reserved()
    ember.cuda.empty_cache()
    assert ember.cuda.memory_reserved() <= reserved - (64 << 20)
    s = ember.cuda.memory_summary()
    assert "allocated" in s and "reserved" in s
    st = ember.cuda.memory_stats()
    assert st["allocated_bytes.all.current"] == ember.cuda.memory_allocated()


@needs_gpu
def test_out_of_memory_says_what_and_what_to_do():
    total = ember.cuda.get_device_properties(0).total_memory
    with pytest.raises(ember.OutOfMemoryError, match=r"tried to allocate .*reserved.*empty_cache\(\).*batch size"):
        ember.empty(2 * total, dtype=ember.uint8, device="cuda")
    assert ember.cuda.memory_stats()["num_ooms"] >= 1
    ember.ones(4, device="cuda")  # still usable


@needs_gpu
def test_streams_and_events():
    s = ember.cuda.Stream()
    assert ember.cuda.current_stream() == ember.cuda.default_stream()
    with ember.cuda.stream(s):
        assert ember.cuda.current_stream() == s
        x = ember.ones(1 << 20, device="cuda")
        y = x * 2.0
    assert ember.cuda.current_stream() == ember.cuda.default_stream()
    ember.cuda.current_stream().wait_stream(s)
    s.synchronize()
    assert s.query()
    np.testing.assert_array_equal(y.cpu().numpy()[:4], [2.0] * 4)
    start, end = ember.cuda.Event(enable_timing=True), ember.cuda.Event(enable_timing=True)
    start.record()
    z = x + y
    end.record()
    end.synchronize()
    assert end.query() and start.elapsed_time(end) >= 0
    with pytest.raises(ValueError, match=r"enable_timing"):
        ember.cuda.Event().elapsed_time(end)
    del z


@needs_gpu
def test_dlpack_zero_copy_with_torch_on_the_gpu():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch without CUDA")
    x = ember.arange(12, dtype=ember.float32, device="cuda").reshape(3, 4)
    t = torch.from_dlpack(x)
    assert t.is_cuda and t.data_ptr() == x.data_ptr()
    t.mul_(2)  # shared memory: ember sees torch's write
    np.testing.assert_array_equal(x.cpu().numpy(), np.arange(12).reshape(3, 4) * 2)
    back = ember.from_dlpack(torch.ones(5, device="cuda"))
    assert back.is_cuda and back.sum().item() == 5.0
    cpu = ember.from_dlpack(torch.ones(2, device="cuda"), device="cpu")
    assert cpu.device == ember.device("cpu")


@needs_gpu
def test_dlpack_zero_copy_with_cupy():
    cp = pytest.importorskip("cupy")
    x = ember.arange(6, dtype=ember.float32, device="cuda")
    c = cp.from_dlpack(x)
    assert c.data.ptr == x.data_ptr()
    c *= 3  # shared memory
    np.testing.assert_array_equal(x.cpu().numpy(), np.arange(6) * 3)
    back = ember.from_dlpack(cp.arange(4, dtype=cp.float64))
    assert back.is_cuda and back.dtype == ember.float64 and back.tolist() == [0.0, 1.0, 2.0, 3.0]


@needs_gpu
def test_dataloader_pin_memory_pins_batches_for_non_blocking_copies():
    from ember.data import DataLoader, TensorDataset
    ds = TensorDataset(ember.arange(64.).reshape(32, 2), ember.arange(32))
    for x, y in DataLoader(ds, batch_size=8, pin_memory=True):
        assert x.is_pinned() and y.is_pinned()
        xg = x.to("cuda", non_blocking=True)
        ember.cuda.synchronize()
        np.testing.assert_array_equal(xg.cpu().numpy(), x.numpy())


def test_dataloader_pin_memory_without_a_gpu_is_a_no_op():
    from ember.data import DataLoader, TensorDataset
    x, = next(iter(DataLoader(TensorDataset(ember.ones(4, 2)), batch_size=2, pin_memory=True)))
    assert x.is_pinned() == GPU


@needs_gpu
def test_record_stream_defers_reuse_until_the_other_stream_is_done():
    side = ember.cuda.Stream()
    x = ember.ones(1 << 20, device="cuda")
    ptr = x.data_ptr()
    big = ember.ones(1 << 26, device="cuda")
    ember.cuda.synchronize()
    with ember.cuda.stream(side):
        y = x * 2
        for _ in range(30):  # keeps `side` busy for milliseconds
            big = big * 1.0001
    x.record_stream(side)
    del x
    busy = not side.query()
    z = ember.empty(1 << 20, device="cuda")
    if busy:  # while `side` may still read x, its block must not be handed out
        assert z.data_ptr() != ptr
    side.synchronize()
    np.testing.assert_array_equal(y.cpu().numpy()[:4], [2, 2, 2, 2])


@needs_gpu
def test_pinned_block_is_not_reused_while_its_copy_is_in_flight():
    h = ember.arange(1 << 20, dtype=ember.float32).pin_memory()
    d = h.to("cuda", non_blocking=True)
    del h
    h2 = ember.zeros(1 << 20).pin_memory()  # same size: must not overwrite the block being copied
    ember.cuda.synchronize()
    np.testing.assert_array_equal(d.cpu().numpy()[:3], [0, 1, 2])
    assert h2.is_pinned()


def test_record_stream_needs_a_cuda_tensor():
    with pytest.raises((ValueError, RuntimeError)):
        ember.ones(3).record_stream(0)


def test_torch_cuda_helpers_exist_and_answer_without_a_gpu_too():
    assert ember.cuda.is_bf16_supported() == (GPU and ember.cuda.get_device_capability()[0] >= 8)
    archs = ember.cuda.get_arch_list()
    if ember.cuda.is_built():  # CMake's 80-real;90: sm_80 and sm_90 machine code, compute_90 PTX
        assert archs == ["sm_80", "sm_90", "compute_90"]
    else:
        assert archs == []
    assert ember.cuda.is_initialized() == GPU
    assert len(ember.cuda.default_generators) == ember.cuda.device_count()
    assert ember.cuda.get_rng_state_all() == [] if not GPU else len(ember.cuda.get_rng_state_all()) >= 1
    ember.cuda.seed_all()  # harmless without a GPU


@needs_gpu
def test_cuda_rng_state_round_trips():
    ember.cuda.manual_seed(5)
    state = ember.cuda.get_rng_state()
    a = ember.rand(8, device="cuda")
    ember.cuda.set_rng_state(state)
    np.testing.assert_array_equal(ember.rand(8, device="cuda").cpu().numpy(), a.cpu().numpy())
