"""Depthwise convolutions (groups == in_channels, out_channels = in_channels * multiplier) run
direct CPU kernels (cpu/depthwise_kernels.cpp) for conv1d/2d/3d, their input gradient (also
conv_transpose with groups == channels and one output channel per group) and their weight
gradient. Values and gradients against float64 NumPy references written as loops over the
kernel's taps, finite-difference gradients (first and second order), the weight gradient's
independence of the thread count, and torch where it is installed."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None


def _tuple(v, n):
    return (v,) * n if np.isscalar(v) else tuple(v)


def _windows(shape_in, k, s, p, d):
    """For each kernel tap: the slices of the padded input it reads and the output shape."""
    nsp = len(k)
    out = [(shape_in[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(nsp)]
    taps = []
    for kk in np.ndindex(*k):
        taps.append((kk, tuple(slice(kk[i] * d[i], kk[i] * d[i] + s[i] * (out[i] - 1) + 1, s[i]) for i in range(nsp))))
    return out, taps


def ref_depthwise(x, w, stride, padding, dilation):
    """y, and the functions gx(gy) and gw(gy), of a depthwise convolution in float64."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    nsp = x.ndim - 2
    s, p, d = _tuple(stride, nsp), _tuple(padding, nsp), _tuple(dilation, nsp)
    n, c = x.shape[:2]
    mult = w.shape[0] // c
    ci = np.arange(w.shape[0]) // mult  # input channel of each output channel
    xp = np.pad(x, [(0, 0), (0, 0)] + [(q, q) for q in p])
    out, taps = _windows(x.shape[2:], w.shape[2:], s, p, d)
    wb = lambda kk: w[(slice(None), 0) + kk].reshape((1, -1) + (1,) * nsp)
    y = np.zeros((n, w.shape[0], *out))
    for kk, sl in taps:
        y += wb(kk) * xp[(slice(None), ci) + sl]

    def gx(gy):
        g = np.zeros_like(xp)
        for kk, sl in taps:
            contrib = wb(kk) * gy  # (n, Cout, *out), summed into the input channel of each
            for m in range(mult):
                g[(slice(None), slice(None)) + sl] += contrib[:, m::mult]
        crop = tuple(slice(p[i], p[i] + x.shape[2 + i]) for i in range(nsp))
        return g[(slice(None), slice(None)) + crop]

    def gw(gy):
        r = np.zeros_like(w)
        for kk, sl in taps:
            r[(slice(None), 0) + kk] = (gy * xp[(slice(None), ci) + sl]).sum(axis=(0,) + tuple(range(2, 2 + nsp)))
        return r

    return y, gx, gw


def _conv(nsp):
    return [F.conv1d, F.conv2d, F.conv3d][nsp - 1]


def _tensor(a, dtype, contiguous=True):
    """a as an ember tensor of `dtype`; when not contiguous, a view with the same values whose
    last two dims are transposed in memory."""
    if contiguous or a.ndim < 4:
        t = ember.tensor(np.ascontiguousarray(a))
    else:
        t = ember.tensor(np.ascontiguousarray(np.swapaxes(a, -1, -2))).transpose(-1, -2)
        assert not t.is_contiguous()
    return t.double() if dtype == "float64" else t.float()


# (N, C, multiplier, spatial size, kernel, stride, padding, dilation)
CASES = [
    (1, 3, 1, (7, 9), (3, 3), 1, 1, 1),
    (3, 4, 1, (8, 8), (3, 3), 2, 1, 1),
    (2, 3, 2, (9, 7), (3, 3), 1, 0, 1),
    (3, 2, 2, (11, 6), (3, 3), 2, 2, 1),
    (1, 5, 1, (10, 11), (3, 3), 1, 2, 2),
    (2, 3, 1, (13, 11), (5, 5), 2, 2, 1),
    (1, 2, 3, (7, 8), (3, 3), 3, 0, 1),
    (2, 3, 1, (6, 5), (3, 3), 1, 3, 1),       # padding beyond the kernel's reach
    (1, 2, 1, (3, 2), (3, 3), 2, 1, 1),       # images narrower than the stride's phases
    (3, 4, 1, (9, 17), (3, 1), (2, 1), (1, 0), 1),
    (2, 3, 2, (12, 10), (2, 4), (1, 3), (0, 2), (2, 1)),
    (2, 2, 8, (9, 10), (5, 5), 1, 2, 1),      # 200 taps per input-gradient row: several passes
    (2, 4, 1, (13,), (3,), 2, 1, 1),          # conv1d
    (1, 3, 2, (17,), (5,), 1, 4, 2),
    (1, 3, 1, (5, 6, 7), (3, 3, 3), (1, 2, 2), 1, 1),  # conv3d
    (2, 2, 2, (4, 5, 4), (2, 3, 2), 2, (1, 0, 1), (1, 1, 2)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES)
def test_matches_reference(case, dtype):
    N, C, mult, size, k, s, p, d = case
    rng = np.random.default_rng(len(size) * 100 + C)
    x = rng.standard_normal((N, C, *size))
    w = rng.standard_normal((C * mult, 1, *k))
    y_ref, gx_ref, gw_ref = ref_depthwise(x, w, s, p, d)
    gy = rng.standard_normal(y_ref.shape)
    tol = 1e-12 if dtype == "float64" else 2e-5
    for contiguous in (True, False):
        xe, we = _tensor(x, dtype, contiguous).requires_grad_(True), _tensor(w, dtype).requires_grad_(True)
        y = _conv(len(size))(xe, we, stride=s, padding=p, dilation=d, groups=C)
        assert y.dtype == (ember.float64 if dtype == "float64" else ember.float32)
        assert tuple(y.shape) == y_ref.shape
        np.testing.assert_allclose(y.numpy(), y_ref, rtol=tol, atol=tol * 10)
        y.backward(_tensor(gy, dtype))
        np.testing.assert_allclose(xe.grad.numpy(), gx_ref(gy), rtol=tol, atol=tol * 10)
        np.testing.assert_allclose(we.grad.numpy(), gw_ref(gy), rtol=tol, atol=tol * 100)


def test_channel_slice_input():
    """A non-contiguous input that skips channels: every other channel of a larger tensor."""
    rng = np.random.default_rng(7)
    big = rng.standard_normal((2, 8, 9, 9))
    w = rng.standard_normal((4, 1, 3, 3))
    x = ember.tensor(big)[:, ::2]
    assert not x.is_contiguous()
    y = F.conv2d(x, ember.tensor(w), stride=2, padding=1, groups=4)
    np.testing.assert_allclose(y.numpy(), ref_depthwise(big[:, ::2], w, 2, 1, 1)[0], rtol=1e-12, atol=1e-12)


def test_bias_and_16bit():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 6, 8, 8)), rng.standard_normal((6, 1, 3, 3)), rng.standard_normal(6)
    ref = ref_depthwise(x, w, 1, 1, 1)[0] + b.reshape(1, -1, 1, 1)
    y = F.conv2d(ember.tensor(x), ember.tensor(w), ember.tensor(b), padding=1, groups=6)
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-12, atol=1e-12)
    yb = F.conv2d(ember.tensor(x).bfloat16(), ember.tensor(w).bfloat16(), padding=1, groups=6)
    assert yb.dtype == ember.bfloat16
    xr = ember.tensor(x).bfloat16().double().numpy()  # the rounded inputs the kernel sees
    wr = ember.tensor(w).bfloat16().double().numpy()
    np.testing.assert_allclose(yb.double().numpy(), ref_depthwise(xr, wr, 1, 1, 1)[0], rtol=2e-2, atol=5e-2)


def test_zero_sized():
    w = ember.tensor(np.ones((3, 1, 3, 3))).requires_grad_(True)
    x = ember.tensor(np.ones((0, 3, 5, 5))).requires_grad_(True)
    y = F.conv2d(x, w, padding=1, groups=3)
    assert tuple(y.shape) == (0, 3, 5, 5)
    y.sum().backward()
    assert tuple(x.grad.shape) == (0, 3, 5, 5)
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros((3, 1, 3, 3)))


# (input shape, weight shape, kwargs): conv_transpose with groups == channels, one output
# channel per group, is the depthwise conv's input gradient
CONVT_CASES = [
    ((2, 4, 5, 6), (4, 1, 3, 3), dict(stride=2, padding=1, output_padding=1, groups=4)),
    ((1, 3, 7, 4), (3, 1, 3, 3), dict(stride=1, padding=1, groups=3)),
    ((2, 2, 4, 4), (2, 1, 3, 2), dict(stride=(2, 3), padding=(0, 1), dilation=(2, 1), groups=2)),
    ((2, 3, 6), (3, 1, 4), dict(stride=3, padding=2, output_padding=2, groups=3)),
    ((1, 2, 5, 5), (2, 1, 3, 3), dict(dilation=2, output_padding=1, groups=2)),  # output_padding >= stride
]


@pytest.mark.parametrize("xs,ws,kw", CONVT_CASES)
def test_conv_transpose_is_the_adjoint(xs, ws, kw):
    rng = np.random.default_rng(11)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    fn = [F.conv_transpose1d, F.conv_transpose2d][len(xs) - 3]
    y = fn(ember.tensor(x), ember.tensor(w), **kw).numpy()
    # the adjoint: <conv_transpose(x), z> == <x, conv(z)> for every z of the output's shape (conv(z)
    # may have more positions than x when output_padding >= stride: those meet no input)
    z = rng.standard_normal(y.shape)
    s, p, d = kw.get("stride", 1), kw.get("padding", 0), kw.get("dilation", 1)
    cz, gx_ref, _ = ref_depthwise(z, w, s, p, d)
    xf = np.zeros(cz.shape)
    xf[tuple(slice(0, n) for n in x.shape)] = x
    np.testing.assert_allclose(y, gx_ref(xf), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose((y * z).sum(), (xf * cz).sum(), rtol=1e-10)
    xg, wg = ember.tensor(x).requires_grad_(True), ember.tensor(w).requires_grad_(True)
    assert gradcheck(lambda a, c: fn(a, c, **kw), (xg, wg))


GRAD_CASES = [
    ((2, 2, 5, 6), 1, (3, 3), dict(stride=1, padding=1)),
    ((1, 2, 6, 5), 2, (3, 3), dict(stride=2, padding=1)),
    ((2, 2, 7, 7), 1, (3, 3), dict(stride=2, padding=2, dilation=2)),
    ((2, 3, 9), 2, (3,), dict(stride=2, padding=1)),
    ((1, 2, 3, 4, 4), 1, (2, 3, 3), dict(stride=(1, 2, 1), padding=1)),
]


@pytest.mark.parametrize("xs,mult,k,kw", GRAD_CASES)
def test_gradcheck(xs, mult, k, kw):
    rng = np.random.default_rng(5)
    C = xs[1]
    x = ember.tensor(rng.standard_normal(xs)).requires_grad_(True)
    w = ember.tensor(rng.standard_normal((C * mult, 1, *k))).requires_grad_(True)
    b = ember.tensor(rng.standard_normal(C * mult)).requires_grad_(True)
    fn = _conv(len(xs) - 2)
    assert gradcheck(lambda a, c, e: fn(a, c, e, groups=C, **kw), (x, w, b))
    if len(xs) < 5:
        assert gradgradcheck(lambda a, c: fn(a, c, groups=C, **kw), (x, w))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("s", [1, 2])
def test_weight_gradient_independent_of_threads(dtype, s):
    # big enough for several image chunks and channel groups, and for both threads to work
    rng = np.random.default_rng(9)
    x = _tensor(rng.standard_normal((40, 36, 16, 16)), dtype)
    w = _tensor(rng.standard_normal((36, 1, 3, 3)), dtype)
    y_ref, _, gw_ref = ref_depthwise(x.double().numpy(), w.double().numpy(), s, 1, 1)
    gy = _tensor(rng.standard_normal(y_ref.shape), dtype)
    prev = ember.get_num_threads()
    grads = []
    try:
        for nt in (1, 2, 3):
            ember.set_num_threads(nt)
            xg, wg = x.detach().requires_grad_(True), w.detach().requires_grad_(True)
            F.conv2d(xg, wg, stride=s, padding=1, groups=36).backward(gy)
            grads.append((wg.grad.numpy(), xg.grad.numpy()))
    finally:
        ember.set_num_threads(prev)
    for gw, gx in grads[1:]:
        np.testing.assert_array_equal(gw, grads[0][0])
        np.testing.assert_array_equal(gx, grads[0][1])
    # summed over 40 images of 256 (s=1) outputs: float32 stays within a few 1e-6 of its scale
    tol = 1e-12 if dtype == "float64" else 1e-5
    ref = gw_ref(gy.double().numpy())
    np.testing.assert_allclose(grads[0][0], ref, rtol=tol, atol=tol * np.abs(ref).max())


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,mult,s,p,d", [
    ((4, 16, 14, 14), 1, 1, 1, 1),
    ((3, 12, 15, 13), 1, 2, 1, 1),
    ((2, 8, 10, 10), 2, 1, 2, 2),
    ((2, 6, 9, 11), 1, 2, 0, 1),
])
def test_matches_torch(shape, mult, s, p, d, dtype):
    rng = np.random.default_rng(13)
    C = shape[1]
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((C * mult, 1, 3, 3)).astype(dtype)
    xt, wt = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(w).requires_grad_(True)
    yt = torch.nn.functional.conv2d(xt, wt, stride=s, padding=p, dilation=d, groups=C)
    gy = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    yt.backward(torch.from_numpy(gy))
    xe, we = ember.tensor(x).requires_grad_(True), ember.tensor(w).requires_grad_(True)
    ye = F.conv2d(xe, we, stride=s, padding=p, dilation=d, groups=C)
    ye.backward(ember.tensor(gy))
    tol = 1e-10 if dtype == "float64" else 1e-4
    np.testing.assert_allclose(ye.numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(we.grad.numpy(), wt.grad.numpy(), rtol=tol, atol=tol * 10)
