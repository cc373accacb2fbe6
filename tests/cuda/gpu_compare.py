"""Comparisons shared by the GPU-vs-CPU test files (imported from tests/cuda, which pytest puts
on sys.path while collecting them)."""
import numpy as np

import ember


def to_np(t):
    """A tensor (either device) as a NumPy array; 16-bit floats widened to float32."""
    t = t.cpu()
    if t.dtype in (ember.float16, ember.bfloat16):
        t = t.float()
    return np.array(t.numpy())


def same(got, want):
    """got (on the GPU) equals want (on the CPU) exactly: dtype, shape and every value (NaN == NaN)."""
    assert got.is_cuda, "the result is not on the GPU"
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert tuple(got.shape) == tuple(want.shape), (tuple(got.shape), tuple(want.shape))
    np.testing.assert_array_equal(to_np(got), to_np(want))
