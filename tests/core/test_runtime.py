"""Runtime behaviour of the core: thread pool, fork safety, GIL release, allocator, devices."""
import os
import signal
import threading

import numpy as np
import pytest

import ember


def test_set_num_threads_roundtrip():
    old = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        assert ember.get_num_threads() == 1
        a = ember.arange(1 << 20, dtype=ember.float32)
        one = (a * 3 + 1).numpy().copy()
        ember.set_num_threads(2)
        two = (a * 3 + 1).numpy()
        np.testing.assert_array_equal(one, two)
    finally:
        ember.set_num_threads(old)


def test_set_num_threads_rejects_zero():
    with pytest.raises(ValueError, match=r"\[set_num_threads\]"):
        ember.set_num_threads(0)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_child_after_fork_does_not_hang():
    # The parent runs a parallel region first: libgomp's pool does not survive fork().
    big = ember.ones(1 << 22)
    (big * 2).numpy()
    pid = os.fork()
    if pid == 0:  # child
        try:
            signal.alarm(20)
            r = (big * 3 + 1).numpy()
            os._exit(0 if r[0] == 4.0 and r[-1] == 4.0 else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status), f"child killed by signal {os.WTERMSIG(status) if os.WIFSIGNALED(status) else '?'}"
    assert os.WEXITSTATUS(status) == 0


def test_kernels_release_the_gil():
    x = ember.ones(1 << 24)
    count = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            count[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    try:
        progressed = False
        for _ in range(5):  # a few tries: one kernel call must overlap the spinning thread
            before = count[0]
            ember.exp(x)
            ember.sin(x)
            if count[0] > before:
                progressed = True
                break
        assert progressed, "a Python thread made no progress while kernels ran: the GIL was held"
    finally:
        stop.set()
        t.join()


def test_caching_allocator_reuses_blocks():
    ember._C._cpu_empty_cache()
    a = ember.empty(1 << 20)
    ptr = a.data_ptr()
    del a
    assert ember._C._cpu_cached_bytes() >= 4 << 20
    b = ember.empty(1 << 20)
    assert b.data_ptr() == ptr  # the freed block came back
    assert b.data_ptr() % 64 == 0


def test_storage_is_64_byte_aligned():
    for n in (1, 3, 17, 1000):
        assert ember.empty(n, dtype=ember.int8).data_ptr() % 64 == 0


def test_cuda_reports_cleanly_without_gpu():
    if ember.cuda.is_available():
        pytest.skip("a GPU is present")
    assert ember.cuda.device_count() == 0
    with pytest.raises((RuntimeError, NotImplementedError), match=r"CUDA"):
        ember.zeros(2, device="cuda")


def test_device_objects():
    assert str(ember.device("cuda:1")) == "cuda:1"
    assert ember.device("cpu") == "cpu"
    assert ember.zeros(1).device == ember.device("cpu")
    with pytest.raises(ValueError, match=r"\[device\] invalid device string"):
        ember.device("tpu")


def test_sizes_are_checked():
    with pytest.raises(ValueError, match=r"negative dimension"):
        ember.zeros(2, -1)
    with pytest.raises(ValueError, match=r"size overflow"):
        ember.empty(1 << 40, 1 << 40)
