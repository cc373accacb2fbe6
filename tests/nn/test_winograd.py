"""Winograd F(4x4, 3x3) convolutions (cpu/winograd_kernels.cpp): float32 3x3 stride-1 convs with
at least 16 channels in and out and 16 output tiles take it, for the forward pass and for the
input gradient / conv_transpose2d. The reference is ember's float64 convolution (im2col + GEMM,
itself checked against NumPy in test_functional_kernels.py); Winograd's float32 error is a few
1e-6 of the output's scale, so the bound here is 5e-5 of it."""
import os
import subprocess
import sys

import numpy as np
import pytest

import ember
import ember.nn.functional as F

# (N, C, K, H, W, padding): output sizes multiple of 4 and not, padding 0..2, rectangular images;
# each has at least 16 tiles of 4x4 outputs in the batch (fewer go to im2col). Output rows of up to
# 4 tiles take the transforms over tiles across images (partial last blocks of 16 included), wider
# ones the per-plane transforms (the three after). With hundreds of channels the weight transform
# and the GEMMs run in blocks of 64 output channels (partial last blocks both ways). Batches whose
# transformed images pass 8 MB run in groups of images (the last two cases: 7 + 3 and 14 + 2).
CASES = [
    (4, 16, 16, 8, 8, 1),
    (2, 17, 19, 9, 13, 1),
    (3, 32, 24, 11, 7, 0),
    (4, 16, 16, 6, 6, 2),
    (16, 16, 32, 4, 4, 1),
    (1, 24, 16, 21, 30, 1),
    (2, 16, 16, 23, 19, 0),
    (2, 16, 20, 20, 22, 2),
    (16, 500, 520, 4, 4, 1),
    (10, 64, 64, 32, 32, 1),
    (16, 128, 128, 16, 16, 1),
]


def _rand(shape, seed, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def _close(got, ref, what):
    got, ref = got.numpy().astype(np.float64), ref.numpy()
    assert got.shape == ref.shape, what
    err = np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-30)
    assert err < 5e-5, f"{what}: relative error {err:.2e}"


@pytest.mark.parametrize("N,C,K,H,W,p", CASES)
def test_forward_and_gradients(N, C, K, H, W, p):
    x = _rand((N, C, H, W), 0)
    w = _rand((K, C, 3, 3), 1, 1 / np.sqrt(9 * C))
    OH, OW = H + 2 * p - 2, W + 2 * p - 2
    g = _rand((N, K, OH, OW), 2)
    ex, ew = ember.from_numpy(x).requires_grad_(), ember.from_numpy(w).requires_grad_()
    y = F.conv2d(ex, ew, padding=p)
    y.backward(ember.from_numpy(g))
    rx, rw = ember.from_numpy(x.astype(np.float64)).requires_grad_(), ember.from_numpy(w.astype(np.float64)).requires_grad_()
    ry = F.conv2d(rx, rw, padding=p)
    ry.backward(ember.from_numpy(g.astype(np.float64)))
    _close(y.detach(), ry.detach(), "forward")
    _close(ex.grad, rx.grad, "input gradient")
    _close(ew.grad, rw.grad, "weight gradient")


@pytest.mark.parametrize("p", [0, 1, 2])
def test_conv_transpose_stride1(p):
    x = _rand((4, 24, 9, 10), 3)
    w = _rand((24, 20, 3, 3), 4, 0.2)  # conv_transpose weight: (C_in, C_out, 3, 3)
    y = F.conv_transpose2d(ember.from_numpy(x), ember.from_numpy(w), padding=p)
    ref = F.conv_transpose2d(ember.from_numpy(x.astype(np.float64)), ember.from_numpy(w.astype(np.float64)), padding=p)
    _close(y, ref, f"conv_transpose2d padding={p}")


def test_noncontiguous_and_batched_equals_single():
    x = _rand((4, 16, 12, 12), 5)
    w = _rand((16, 16, 3, 3), 6, 0.1)
    ex = ember.from_numpy(x.transpose(0, 1, 3, 2).copy()).transpose(2, 3)  # strided view of the same values
    assert not ex.is_contiguous()
    ew = ember.from_numpy(w)
    y = F.conv2d(ex, ew, padding=1)
    scale = np.abs(y.numpy()).max()
    for n in range(4):  # tile indices do not mix images (the GEMMs' widths differ: rounding only)
        yn = F.conv2d(ember.from_numpy(x[n:n + 1].copy()).repeat(4, 1, 1, 1), ew, padding=1)
        np.testing.assert_allclose(y.numpy()[n], yn.numpy()[0], rtol=0, atol=5e-5 * scale)


def test_disabled_by_environment_matches():
    """EMBER_CONV_WINOGRAD=0 (read once per process) gives im2col + GEMM: the same values to float32
    rounding, and closer to the float64 reference."""
    code = ("import numpy as np, ember, ember.nn.functional as F\n"
            "x = ember.from_numpy(np.random.default_rng(0).standard_normal((2, 32, 16, 16)).astype(np.float32))\n"
            "w = ember.from_numpy(np.random.default_rng(1).standard_normal((32, 32, 3, 3)).astype(np.float32) * 0.06)\n"
            "np.save('y.npy', F.conv2d(x, w, padding=1).numpy())\n")
    outs = {}
    env = dict(os.environ)
    core = os.path.join(os.path.dirname(__file__), "..", "..", "core")
    if os.environ.get("EMBER_INPLACE"):
        env["PYTHONPATH"] = os.path.abspath(core) + os.pathsep + env.get("PYTHONPATH", "")
    for flag in ("0", "1"):
        d = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"ember_wino_{os.getpid()}_{flag}")
        os.makedirs(d, exist_ok=True)
        subprocess.run([sys.executable, "-c", code], cwd=d, env={**env, "EMBER_CONV_WINOGRAD": flag}, check=True)
        outs[flag] = np.load(os.path.join(d, "y.npy")).astype(np.float64)
    scale = np.abs(outs["0"]).max()
    assert 0 < np.abs(outs["1"] - outs["0"]).max() / scale < 5e-5  # different algorithms, same result


def test_weight_gradient_independent_of_thread_count():
    x = ember.from_numpy(_rand((6, 16, 10, 10), 7))
    w = ember.from_numpy(_rand((24, 16, 3, 3), 8, 0.1)).requires_grad_()
    g = ember.from_numpy(_rand((6, 24, 10, 10), 9))
    grads = []
    prev = ember.get_num_threads()
    try:
        for nt in (1, 2, 3):
            ember.set_num_threads(nt)
            F.conv2d(x, w, padding=1).backward(g)
            grads.append(w.grad.numpy().copy())
            w.grad = None
    finally:
        ember.set_num_threads(prev)
    assert np.array_equal(grads[0], grads[1]) and np.array_equal(grads[0], grads[2])


# Stride 2 (forward): the four phases of x as 4C channels of a 2x2 stride-1 conv in Winograd
# F(4x4, 2x2), for batches of at least 128 output tiles. Odd and even sizes, padding 0..2,
# channel counts off the 16-lane blocks, several image groups (third-last case: 3 groups) and
# the weight transform in blocks of output channels (last case: 96 + 40).
S2_CASES = [
    (8, 16, 16, 31, 29, 1),
    (16, 17, 19, 20, 22, 0),
    (8, 16, 24, 33, 35, 2),
    (32, 64, 128, 32, 32, 1),
    (32, 48, 40, 18, 18, 1),
    (32, 128, 136, 16, 16, 1),
]


@pytest.mark.parametrize("N,C,K,H,W,p", S2_CASES)
def test_stride2_forward(N, C, K, H, W, p):
    x = _rand((N, C, H, W), 10)
    w = _rand((K, C, 3, 3), 11, 1 / np.sqrt(9 * C))
    y = F.conv2d(ember.from_numpy(x), ember.from_numpy(w), stride=2, padding=p)
    ref = F.conv2d(ember.from_numpy(x.astype(np.float64)), ember.from_numpy(w.astype(np.float64)), stride=2, padding=p)
    _close(y, ref, "stride-2 forward")
