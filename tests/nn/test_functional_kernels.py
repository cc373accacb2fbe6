"""The compiled nn kernels (ember.nn._kernels): values against float64 NumPy references,
gradients by finite differences (first and second order), error messages."""
import math

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import _kernels as F

rng = np.random.default_rng(1234)


def T(a, grad=False):
    return ember.tensor(np.asarray(a, dtype=np.float64)).requires_grad_(grad)


# ---- references ----------------------------------------------------------------------------
def ref_conv(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Direct N-d convolution by summing shifted products (float64)."""
    nsp = x.ndim - 2
    s = (stride,) * nsp if np.isscalar(stride) else tuple(stride)
    p = (padding,) * nsp if np.isscalar(padding) else tuple(padding)
    d = (dilation,) * nsp if np.isscalar(dilation) else tuple(dilation)
    x = np.pad(x, [(0, 0), (0, 0)] + [(pi, pi) for pi in p])
    n, c = x.shape[:2]
    co, cg = w.shape[:2]
    k = w.shape[2:]
    out = [(x.shape[2 + i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(nsp)]
    y = np.zeros((n, co, *out))
    og = co // groups
    for g in range(groups):
        xg = x[:, g * cg:(g + 1) * cg]
        wg = w[g * og:(g + 1) * og]
        for kk in np.ndindex(*k):
            sl = tuple(slice(kk[i] * d[i], kk[i] * d[i] + s[i] * (out[i] - 1) + 1, s[i]) for i in range(nsp))
            patch = xg[(slice(None), slice(None)) + sl]  # (n, cg, *out)
            y[:, g * og:(g + 1) * og] += np.einsum("nc...,oc->no...", patch, wg[(slice(None), slice(None)) + kk])
    if b is not None:
        y += b.reshape(1, -1, *([1] * nsp))
    return y


def ref_conv_transpose(x, w, stride=1, padding=0, output_padding=0, dilation=1, groups=1):
    """Transposed convolution by scattering each input element's kernel (float64)."""
    nsp = x.ndim - 2
    s = (stride,) * nsp if np.isscalar(stride) else tuple(stride)
    p = (padding,) * nsp if np.isscalar(padding) else tuple(padding)
    op = (output_padding,) * nsp if np.isscalar(output_padding) else tuple(output_padding)
    d = (dilation,) * nsp if np.isscalar(dilation) else tuple(dilation)
    n, cin = x.shape[:2]
    og = w.shape[1]
    k = w.shape[2:]
    full = [(x.shape[2 + i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 + op[i] for i in range(nsp)]
    y = np.zeros((n, og * groups, *full))
    cg = cin // groups
    for g in range(groups):
        for kk in np.ndindex(*k):
            sl = tuple(slice(kk[i] * d[i], kk[i] * d[i] + s[i] * (x.shape[2 + i] - 1) + 1, s[i]) for i in range(nsp))
            contrib = np.einsum("nc...,co->no...", x[:, g * cg:(g + 1) * cg],
                                w[(slice(g * cg, (g + 1) * cg), slice(None)) + kk])
            y[(slice(None), slice(g * og, (g + 1) * og)) + sl] += contrib
    crop = tuple(slice(p[i], full[i] - p[i]) for i in range(nsp))
    return y[(slice(None), slice(None)) + crop]


def ref_pool(x, k, s, p, mode, ceil_mode=False, count_include_pad=True):
    n, c, h, w = x.shape
    def osz(i, kk, ss, pp):
        num = i + 2 * pp - kk + (ss - 1 if ceil_mode else 0)
        o = num // ss + 1
        if ceil_mode and (o - 1) * ss >= i + pp:
            o -= 1
        return o
    oh, ow = osz(h, k, s, p), osz(w, k, s, p)
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * s - p, j * s - p
            h1, w1 = min(h0 + k, h + p), min(w0 + k, w + p)
            win = x[:, :, max(h0, 0):min(h1, h), max(w0, 0):min(w1, w)]
            if mode == "max":
                y[:, :, i, j] = win.max(axis=(2, 3))
            else:
                div = (h1 - h0) * (w1 - w0) if count_include_pad else win.shape[2] * win.shape[3]
                y[:, :, i, j] = win.sum(axis=(2, 3)) / div
    return y


# ---- convolution ---------------------------------------------------------------------------
CONV_CASES = [
    # (x shape, w shape, kwargs)
    ((2, 3, 7), (4, 3, 3), dict()),
    ((2, 4, 9), (6, 2, 2), dict(stride=2, padding=1, dilation=2, groups=2)),
    ((2, 3, 6, 7), (5, 3, 3, 3), dict(padding=1)),
    ((1, 4, 8, 6), (4, 1, 3, 3), dict(stride=2, padding=1, groups=4)),  # depthwise
    ((2, 4, 7, 7), (6, 2, 3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)),
    ((2, 3, 5, 5), (4, 3, 1, 1), dict()),  # pointwise
    ((1, 2, 4, 5, 4), (3, 2, 2, 3, 2), dict(padding=1, stride=(1, 2, 1))),
]


@pytest.mark.parametrize("xs,ws,kw", CONV_CASES)
def test_conv_matches_reference(xs, ws, kw):
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    fn = [F.conv1d, F.conv2d, F.conv3d][len(xs) - 3]
    y = fn(T(x), T(w), T(b), **kw).numpy()
    np.testing.assert_allclose(y, ref_conv(x, w, b, **kw), rtol=1e-12, atol=1e-12)
    y32 = fn(T(x).float(), T(w).float(), T(b).float(), **kw)
    assert y32.dtype == ember.float32
    np.testing.assert_allclose(y32.numpy(), ref_conv(x, w, b, **kw), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("xs,ws,kw", CONV_CASES[:5])
def test_conv_gradcheck(xs, ws, kw):
    x, w, b = T(rng.standard_normal(xs), True), T(rng.standard_normal(ws), True), T(rng.standard_normal(ws[0]), True)
    fn = [F.conv1d, F.conv2d, F.conv3d][len(xs) - 3]
    assert gradcheck(lambda a, c, d: fn(a, c, d, **kw), (x, w, b))
    assert gradgradcheck(lambda a, c: fn(a, c, **kw), (x, w))


def test_conv_strided_input_and_same_padding():
    x = rng.standard_normal((2, 3, 8, 10))
    w = rng.standard_normal((4, 3, 4, 3))
    xt = T(x).transpose(2, 3).contiguous().transpose(2, 3)  # non-contiguous, same values
    assert not xt.is_contiguous()
    y = F.conv2d(xt, T(w), padding="same", dilation=(1, 2))
    assert tuple(y.shape) == (2, 4, 8, 10)
    # 'same' with an even effective kernel pads one more on the right/bottom, as torch does
    xp = np.pad(x, [(0, 0), (0, 0), (1, 2), (2, 2)])
    np.testing.assert_allclose(y.numpy(), ref_conv(xp, w, dilation=(1, 2)), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(F.conv2d(T(x), T(w), padding="valid").numpy(), ref_conv(x, w), rtol=1e-12)


CONVT_CASES = [
    ((2, 4, 5), (4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ((2, 4, 4, 5), (4, 2, 3, 3), dict(stride=2, padding=1, groups=2)),
    ((1, 3, 3, 4), (3, 2, 2, 3), dict(stride=(3, 2), dilation=(2, 1), output_padding=(1, 0))),
    ((1, 2, 3, 3, 2), (2, 2, 2, 2, 2), dict(stride=2)),
]


@pytest.mark.parametrize("xs,ws,kw", CONVT_CASES)
def test_conv_transpose_matches_reference(xs, ws, kw):
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[1] * kw.get("groups", 1))
    fn = [F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d][len(xs) - 3]
    y = fn(T(x), T(w), T(b), **kw).numpy()
    ref = ref_conv_transpose(x, w, **kw) + b.reshape(1, -1, *([1] * (len(xs) - 2)))
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)
    xg, wg = T(x, True), T(w, True)
    assert gradcheck(lambda a, c: fn(a, c, **kw), (xg, wg))
    if len(xs) < 5:
        assert gradgradcheck(lambda a, c: fn(a, c, **kw), (xg, wg))


def test_conv_16bit_and_unbatched():
    x, w = rng.standard_normal((3, 6, 6)), rng.standard_normal((2, 3, 3, 3))
    y = F.conv2d(T(x).bfloat16(), T(w).bfloat16())
    assert y.dtype == ember.bfloat16 and tuple(y.shape) == (2, 4, 4)
    np.testing.assert_allclose(y.float().numpy(), ref_conv(x[None], w)[0], rtol=0.05, atol=0.1)


def test_conv_errors():
    x = ember.randn(8, 3, 32, 32)
    with pytest.raises(ValueError, match=r"\[conv2d\] expected input with 4 channels"):
        F.conv2d(x, ember.randn(16, 4, 3, 3))
    with pytest.raises(ValueError, match=r"\[conv2d\] the kernel \(effective size 5\) is larger than the padded input"):
        F.conv2d(ember.randn(1, 3, 4, 4), ember.randn(2, 3, 5, 5))
    with pytest.raises(ValueError, match=r"\[conv2d\] expected a 3-d \(unbatched\) or 4-d"):
        F.conv2d(ember.randn(3, 4), ember.randn(2, 3, 1, 1))
    with pytest.raises(ValueError, match="divisible by groups"):
        F.conv2d(ember.randn(1, 4, 5, 5), ember.randn(3, 2, 3, 3), groups=2)
    with pytest.raises(ValueError, match="output padding must be smaller"):
        F.conv_transpose2d(ember.randn(1, 2, 3, 3), ember.randn(2, 2, 3, 3), output_padding=1)
    with pytest.raises(ValueError, match="stride"):
        F.conv2d(x, ember.randn(2, 3, 3, 3), stride=0)
    with pytest.raises(ValueError, match="'same' is not supported for strided"):
        F.conv2d(x, ember.randn(2, 3, 3, 3), stride=2, padding="same")


def test_unfold_fold_adjoint():
    x = rng.standard_normal((2, 3, 6, 5))
    cols = F.unfold(T(x), (2, 3), padding=1, stride=(2, 1))
    # each column is a flattened (C, kh, kw) patch of the padded input
    xp = np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)])
    oh, ow = (8 - 2) // 2 + 1, (7 - 3) + 1
    assert tuple(cols.shape) == (2, 3 * 6, oh * ow)
    np.testing.assert_array_equal(cols.numpy()[:, :, ow + 2], xp[:, :, 2:4, 2:5].reshape(2, -1))
    c = rng.standard_normal(tuple(cols.shape))
    back = F.fold(T(c), (6, 5), (2, 3), padding=1, stride=(2, 1)).numpy()
    # <unfold(x), c> == <x, fold(c)>
    assert math.isclose(float((cols.numpy() * c).sum()), float((x * back).sum()), rel_tol=1e-12)
    assert gradgradcheck(lambda a: F.fold(F.unfold(a, 2, stride=2), (6, 5), 2, stride=2) * a, (T(x, True),))


# ---- pooling -------------------------------------------------------------------------------
@pytest.mark.parametrize("k,s,p,ceil", [(2, 2, 0, False), (3, 2, 1, False), (3, 2, 1, True), (2, 3, 1, True),
                                        (3, 1, 0, False)])
def test_pool2d_matches_reference(k, s, p, ceil):
    x = rng.standard_normal((2, 3, 7, 8))
    np.testing.assert_array_equal(F.max_pool2d(T(x), k, s, p, ceil_mode=ceil).numpy(),
                                  ref_pool(x, k, s, p, "max", ceil))
    for cip in (True, False):
        np.testing.assert_allclose(F.avg_pool2d(T(x), k, s, p, ceil_mode=ceil, count_include_pad=cip).numpy(),
                                   ref_pool(x, k, s, p, "avg", ceil, cip), rtol=1e-12)


def test_max_pool_indices_dilation_and_nan():
    x = np.arange(36.0).reshape(1, 1, 6, 6)
    x[0, 0, 2, 3] = np.nan
    y, idx = F.max_pool2d(T(x), 2, return_indices=True)
    assert np.isnan(y.numpy()[0, 0, 1, 1]) and int(idx[0, 0, 1, 1]) == 2 * 6 + 3
    assert idx.dtype == ember.int64 and int(idx[0, 0, 0, 0]) == 7
    z = rng.standard_normal((1, 2, 9, 9))
    yd = F.max_pool2d(T(z), 3, stride=2, dilation=2).numpy()
    ref = np.stack([z[:, :, i * 2:i * 2 + 5:2, j * 2:j * 2 + 5:2].max(axis=(2, 3))
                    for i in range(3) for j in range(3)], -1).reshape(1, 2, 3, 3)
    np.testing.assert_array_equal(yd, ref)


def _ref_max_pool_indices(x, k, s, p):
    """Values and flat plane indices of max_pool2d by the scan rule: rows then columns, the first
    maximum wins, a nan replaces whatever came before it (torch's rule)."""
    N, C, H, W = x.shape
    OH, OW = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    y, idx = np.empty((N, C, OH, OW)), np.empty((N, C, OH, OW), np.int64)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    best, bi = -np.inf, -1
                    for h in range(max(i * s - p, 0), min(i * s - p + k, H)):
                        for w in range(max(j * s - p, 0), min(j * s - p + k, W)):
                            v = x[n, c, h, w]
                            if bi < 0 or v > best or v != v:
                                best, bi = v, h * W + w
                    y[n, c, i, j], idx[n, c, i, j] = best, bi
    return y, idx


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
@pytest.mark.parametrize("k,s,p,W", [(3, 2, 1, 75), (2, 2, 0, 64), (3, 1, 1, 40), (5, 3, 2, 90)])
def test_max_pool_wide_rows_ties_and_nans(dtype, k, s, p, W):
    """Rows wide enough for the vectorised interior (16 outputs at a time): ties (a relu's zeros)
    keep the first index, nans win, borders and interior agree with the scalar rule."""
    x = np.maximum(rng.standard_normal((2, 3, 9, W)), 0.0)  # many zeros: ties
    x[0, 1, 3, 10:14] = np.nan
    x[1, 2, 4, W // 2] = np.nan
    x = x.astype(np.float32 if dtype == ember.float32 else np.float64)
    y, idx = F.max_pool2d(ember.from_numpy(x.copy()), k, s, p, return_indices=True)
    ry, ri = _ref_max_pool_indices(x.astype(np.float64), k, s, p)
    np.testing.assert_array_equal(y.numpy().astype(np.float64), ry)
    np.testing.assert_array_equal(idx.numpy(), ri)


def test_pool_1d_3d_adaptive_values():
    x = rng.standard_normal((2, 3, 10))
    np.testing.assert_array_equal(F.max_pool1d(T(x), 3, 2).numpy(),
                                  np.stack([x[:, :, i * 2:i * 2 + 3].max(-1) for i in range(4)], -1))
    np.testing.assert_allclose(F.adaptive_avg_pool1d(T(x), 4).numpy(),
                               np.stack([x[:, :, (i * 10) // 4:-((-(i + 1) * 10) // 4)].mean(-1) for i in range(4)], -1),
                               rtol=1e-12)
    np.testing.assert_array_equal(F.adaptive_max_pool1d(T(x), 3).numpy(),
                                  np.stack([x[:, :, (i * 10) // 3:-((-(i + 1) * 10) // 3)].max(-1) for i in range(3)], -1))
    v = rng.standard_normal((1, 2, 4, 4, 6))
    np.testing.assert_allclose(F.avg_pool3d(T(v), 2).numpy(), v.reshape(1, 2, 2, 2, 2, 2, 3, 2).mean(axis=(3, 5, 7)),
                               rtol=1e-12)
    np.testing.assert_array_equal(F.max_pool3d(T(v), 2).numpy(), v.reshape(1, 2, 2, 2, 2, 2, 3, 2).max(axis=(3, 5, 7)))
    assert tuple(F.adaptive_avg_pool2d(T(v[:, :, 0]), (None, 3)).shape) == (1, 2, 4, 3)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(T(v[:, :, 0]), 1).numpy(), v[:, :, 0].mean(axis=(2, 3),
                               keepdims=True), rtol=1e-12)


@pytest.mark.parametrize("fn", [
    lambda a: F.max_pool2d(a, 3, 2, 1, ceil_mode=True),
    lambda a: F.avg_pool2d(a, 3, 2, 1, count_include_pad=False),
    lambda a: F.avg_pool2d(a, 2, divisor_override=3),
    lambda a: F.adaptive_avg_pool2d(a, (3, 2)),
    lambda a: F.adaptive_max_pool2d(a, (2, 3)),
    lambda a: F.max_pool1d(a.flatten(2), 4, 3),
])
def test_pool_gradcheck(fn):
    x = T(rng.standard_normal((2, 2, 5, 6)), True)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_pool_errors():
    with pytest.raises(ValueError, match=r"\[max_pool2d\] padding should be at most half of the kernel size"):
        F.max_pool2d(ember.randn(1, 1, 5, 5), 2, padding=2)
    with pytest.raises(ValueError, match=r"\[avg_pool2d\] the output would be empty"):
        F.avg_pool2d(ember.randn(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match=r"\[max_pool2d\] expected a 3-d or 4-d input"):
        F.max_pool2d(ember.randn(4, 4), 2)
    with pytest.raises(TypeError, match="floating point"):
        F.max_pool2d(ember.ones(1, 1, 4, 4, dtype=ember.int64), 2)


# ---- softmax ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_matches_reference(dim):
    x = rng.standard_normal((3, 4, 5)) * 30
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    ref = e / e.sum(axis=dim, keepdims=True)
    np.testing.assert_allclose(F.softmax(T(x), dim).numpy(), ref, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(F.log_softmax(T(x), dim).numpy(), np.log(ref), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(F.softmax(T(x).float(), dim).numpy(), ref, rtol=2e-6, atol=1e-7)
    xs = T(x[:, :3] / 30, True)
    assert gradcheck(lambda a: F.softmax(a, dim), (xs,))
    assert gradgradcheck(lambda a: F.log_softmax(a, dim), (xs,))


def test_softmax_extremes():
    x = ember.tensor([[1000.0, 0.0, -1000.0], [float("-inf"), 0.0, 1.0]])
    s = F.softmax(x, 1).numpy()
    assert s[0, 0] == 1.0 and s[0, 2] == 0.0 and s[1, 0] == 0.0
    assert F.log_softmax(x, 1).numpy()[0, 2] == -2000.0
    assert np.isnan(F.softmax(ember.full((1, 2), float("-inf")), 1).numpy()).all()  # as torch
    assert F.softmax(ember.tensor(3.0), 0).item() == 1.0
    assert tuple(F.softmax(ember.zeros(0, 3), 1).shape) == (0, 3)
    with pytest.raises(IndexError, match=r"\[softmax\] dim out of range"):
        F.softmax(ember.zeros(2, 3), 2)


# ---- normalisation ----------------------------------------------------------------------------
def test_batch_norm_train_updates_running_stats_and_eval():
    x = rng.standard_normal((6, 3, 4, 5))
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    rm, rv = ember.zeros(3, dtype=ember.float64), ember.ones(3, dtype=ember.float64)
    y = F.batch_norm(T(x), rm, rv, T(w), T(b), training=True, momentum=0.2, eps=1e-5).numpy()
    mu, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    ref = (x - mu[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5) * w[None, :, None, None] \
        + b[None, :, None, None]
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rm.numpy(), 0.2 * mu, rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), 0.8 + 0.2 * var * 120 / 119, rtol=1e-12)
    ye = F.batch_norm(T(x), rm, rv, T(w), T(b), training=False).numpy()
    ref_e = (x - rm.numpy()[None, :, None, None]) / np.sqrt(rv.numpy()[None, :, None, None] + 1e-5) \
        * w[None, :, None, None] + b[None, :, None, None]
    np.testing.assert_allclose(ye, ref_e, rtol=1e-10, atol=1e-12)
    xs = T(x[:3, :, :2, :2], True)
    wg, bg = T(w, True), T(b, True)
    assert gradcheck(lambda a, c, d: F.batch_norm(a, None, None, c, d, training=True), (xs, wg, bg))
    assert gradgradcheck(lambda a, c: F.batch_norm(a, None, None, c, None, training=True), (xs, wg))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        F.batch_norm(ember.randn(1, 3), None, None, training=True)


def test_layer_group_rms_norm():
    x = rng.standard_normal((4, 6, 5))
    w, b = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    mu = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(F.layer_norm(T(x), (6, 5), T(w), T(b)).numpy(),
                               (x - mu) / np.sqrt(var + 1e-5) * w + b, rtol=1e-10, atol=1e-12)
    g = x.reshape(4, 3, 10)
    gn = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + 1e-5)).reshape(4, 6, 5)
    wc, bc = rng.standard_normal(6), rng.standard_normal(6)
    np.testing.assert_allclose(F.group_norm(T(x), 3, T(wc), T(bc)).numpy(), gn * wc[:, None] + bc[:, None],
                               rtol=1e-10, atol=1e-12)
    wr = rng.standard_normal(5)
    np.testing.assert_allclose(F.rms_norm(T(x), (5,), T(wr), eps=1e-6).numpy(),
                               x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-6) * wr, rtol=1e-12)
    inn = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(F.instance_norm(T(x)).numpy(), inn, rtol=1e-10, atol=1e-12)
    xs = T(x[:2, :, :3], True)
    assert gradcheck(lambda a, c: F.layer_norm(a, (3,), c), (xs, T(w[0, :3], True)))
    assert gradgradcheck(lambda a: F.group_norm(a, 2), (xs,))
    assert gradgradcheck(lambda a, c: F.rms_norm(a, (3,), c), (xs, T(wr[:3], True)))
    with pytest.raises(ValueError, match=r"\[layer_norm\] expected input with shape \(\*, 4\)"):
        F.layer_norm(ember.randn(2, 3), (4,))
    with pytest.raises(ValueError, match="divisible by num_groups"):
        F.group_norm(ember.randn(2, 6, 3), 4)


# ---- losses ----------------------------------------------------------------------------------
def ref_ce(x, t, w=None, ignore=-100, red="mean", ls=0.0):
    logp = x - x.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    c = x.shape[1]
    w = np.ones(c) if w is None else w
    valid = t != ignore
    ts = np.where(valid, t, 0)
    nll = -logp[np.arange(len(t)), ts] * w[ts] * valid
    smooth = -(logp * w).sum(1) * valid
    if red == "none":
        return (1 - ls) * nll + ls / c * smooth
    if red == "sum":
        return (1 - ls) * nll.sum() + ls / c * smooth.sum()
    den = (w[ts] * valid).sum()
    return (1 - ls) * nll.sum() / den + ls / c * smooth.sum() / den


@pytest.mark.parametrize("red", ["mean", "sum", "none"])
@pytest.mark.parametrize("ls", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_matches_reference(red, ls, weighted):
    x = rng.standard_normal((7, 5)) * 3
    t = rng.integers(0, 5, 7)
    t[3] = -100
    w = rng.random(5) + 0.5 if weighted else None
    y = F.cross_entropy(T(x), ember.tensor(t), None if w is None else T(w), reduction=red, label_smoothing=ls)
    np.testing.assert_allclose(y.numpy(), ref_ce(x, t, w, red=red, ls=ls), rtol=1e-12, atol=1e-14)
    xg = T(x, True)
    assert gradcheck(lambda a: F.cross_entropy(a, ember.tensor(t), None if w is None else T(w), reduction=red,
                                               label_smoothing=ls), (xg,))


def test_cross_entropy_probabilities_spatial_and_errors():
    x = rng.standard_normal((4, 3))
    p = rng.random((4, 3))
    p /= p.sum(1, keepdims=True)
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    np.testing.assert_allclose(F.cross_entropy(T(x), T(p)).item(), -(p * logp).sum(1).mean(), rtol=1e-12)
    xs = rng.standard_normal((2, 3, 4, 2))
    ts = rng.integers(0, 3, (2, 4, 2))
    flat = ref_ce(np.moveaxis(xs, 1, -1).reshape(-1, 3), ts.reshape(-1), red="none").reshape(2, 4, 2)
    np.testing.assert_allclose(F.cross_entropy(T(xs), ember.tensor(ts), reduction="none").numpy(), flat, rtol=1e-12)
    assert math.isclose(F.nll_loss(F.log_softmax(T(x), 1), ember.tensor([0, 1, 2, 0])).item(),
                        ref_ce(x, np.array([0, 1, 2, 0])), rel_tol=1e-12)
    with pytest.raises(IndexError, match=r"\[cross_entropy\] target 5 is out of bounds|\[nll_loss\] target 5 is out of"):
        F.cross_entropy(ember.randn(2, 5), ember.tensor([1, 5]))
    with pytest.raises(ValueError, match=r"\[nll_loss\] expected target of shape"):
        F.cross_entropy(ember.randn(2, 5), ember.tensor([1, 2, 3]))
    with pytest.raises(TypeError, match="integer dtype"):
        F.nll_loss(ember.randn(2, 5), ember.tensor([True, False]))


# ---- embedding, dropout, attention, resampling -------------------------------------------
def test_embedding_padding_idx_gets_no_gradient():
    w = T(rng.standard_normal((5, 3)), True)
    idx = ember.tensor([[0, 2, 2], [4, 0, 1]])
    out = F.embedding(idx, w, padding_idx=0)
    np.testing.assert_array_equal(out.detach().numpy(), w.detach().numpy()[idx.numpy()])
    out.sum().backward()
    g = w.grad.numpy()
    np.testing.assert_array_equal(g[:, 0], [0, 1, 2, 0, 1])
    with pytest.raises(IndexError, match=r"\[embedding\] index 5 is out of range for 5 embeddings"):
        F.embedding(ember.tensor([5]), w)


def test_dropout_statistics_and_scaling():
    ember.manual_seed(0)
    x = ember.ones(20000)
    y = F.dropout(x, 0.3).numpy()
    assert set(np.unique(y).tolist()) == {0.0, float(np.float32(1 / 0.7))}
    assert abs((y == 0).mean() - 0.3) < 0.015
    assert F.dropout(x, 0.3, training=False) is x
    y2 = F.dropout2d(ember.ones(50, 40, 3, 3), 0.5).numpy()
    per_channel = y2.reshape(50, 40, 9)
    assert (per_channel.min(-1) == per_channel.max(-1)).all()  # whole channels kept or dropped
    with pytest.raises(ValueError, match=r"\[dropout\] p must be in \[0, 1\]"):
        F.dropout(x, 1.5)


def test_sdpa_matches_reference_and_gradcheck():
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 2))
    s = q @ k.transpose(0, 2, 1) / 2.0
    mask = np.tril(np.ones((3, 5), bool))
    sm = np.where(mask, s, -np.inf)
    a = np.exp(sm - sm.max(-1, keepdims=True))
    a /= a.sum(-1, keepdims=True)
    np.testing.assert_allclose(F.scaled_dot_product_attention(T(q), T(k), T(v), is_causal=True).numpy(), a @ v,
                               rtol=1e-12)
    qs, ks, vs = T(q, True), T(k, True), T(v, True)
    assert gradcheck(lambda a_, b_, c_: F.scaled_dot_product_attention(a_, b_, c_, attn_mask=ember.tensor(mask)),
                     (qs, ks, vs))


def test_interpolate_modes():
    x = np.arange(12.0).reshape(1, 1, 3, 4)
    y = F.interpolate(T(x), scale_factor=2, mode="nearest").numpy()
    np.testing.assert_array_equal(y, x.repeat(2, 2).repeat(2, 3))
    lin = F.interpolate(T(x), size=(5, 7), mode="bilinear", align_corners=True).numpy()
    # align_corners with a linear ramp input reproduces the ramp exactly
    r = np.linspace(0, 2, 5)[:, None] * 4 + np.linspace(0, 3, 7)[None, :]
    np.testing.assert_allclose(lin[0, 0], r, rtol=1e-12)
    assert tuple(F.interpolate(T(x), size=(6, 8), mode="bicubic").shape) == (1, 1, 6, 8)
    np.testing.assert_allclose(F.interpolate(T(x), size=(1, 2), mode="area").numpy()[0, 0],
                               [[x[0, 0, :, :2].mean(), x[0, 0, :, 2:].mean()]], rtol=1e-12)
    xg = T(rng.standard_normal((1, 2, 3, 3)), True)
    assert gradcheck(lambda a: F.interpolate(a, scale_factor=1.5, mode="bilinear"), (xg,))
    assert gradcheck(lambda a: F.interpolate(a, size=(4, 5), mode="bicubic", align_corners=True), (xg,))
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(T(x))


def test_pixel_shuffle_roundtrip_and_one_hot():
    x = rng.standard_normal((2, 8, 3, 5))
    y = F.pixel_shuffle(T(x), 2)
    ref = x.reshape(2, 2, 2, 2, 3, 5).transpose(0, 1, 4, 2, 5, 3).reshape(2, 2, 6, 10)
    np.testing.assert_array_equal(y.numpy(), ref)
    np.testing.assert_array_equal(F.pixel_unshuffle(y, 2).numpy(), x)
    oh = F.one_hot(ember.tensor([[1, 0], [3, 3]]))
    assert oh.dtype == ember.int64 and tuple(oh.shape) == (2, 2, 4)
    np.testing.assert_array_equal(oh.numpy(), np.eye(4, dtype=np.int64)[[[1, 0], [3, 3]]])
    with pytest.raises(IndexError, match=r"\[one_hot\]"):
        F.one_hot(ember.tensor([3]), 2)


def test_norm_kernels_edge_layouts():
    # group norm without spatial dims (one affine entry per element of a row), 16-bit inputs
    x = T(rng.standard_normal((4, 6)), True)
    w, b = T(rng.standard_normal(6), True), T(rng.standard_normal(6), True)
    assert gradcheck(lambda a, c, d: F.group_norm(a, 3, c, d), (x, w, b))
    xn = x.detach().numpy().reshape(4, 3, 2)
    ref = ((xn - xn.mean(-1, keepdims=True)) / np.sqrt(xn.var(-1, keepdims=True) + 1e-5)).reshape(4, 6)
    np.testing.assert_allclose(F.group_norm(x, 3, w, b).detach().numpy(), ref * w.detach().numpy() +
                               b.detach().numpy(), rtol=1e-10, atol=1e-12)
    xb = T(rng.standard_normal((3, 8))).bfloat16()
    yb = F.layer_norm(xb, (8,))
    assert yb.dtype == ember.bfloat16
    xf = xb.double().numpy()
    np.testing.assert_allclose(yb.double().numpy(), (xf - xf.mean(-1, keepdims=True)) /
                               np.sqrt(xf.var(-1, keepdims=True) + 1e-5), atol=0.05)
    assert gradcheck(lambda a: F.rms_norm(a, (6,)), (x,))
    assert gradcheck(lambda a: F.batch_norm(a, None, None, training=True), (T(rng.standard_normal((5, 3)), True),))
    assert gradcheck(lambda a: F.instance_norm(a), (T(rng.standard_normal((2, 3, 4)), True),))


@pytest.mark.parametrize("red", ["mean", "sum", "none"])
def test_nll_kernel_second_order_and_16bit(red):
    x = T(rng.standard_normal((5, 4, 3)), True)
    t = ember.tensor(rng.integers(0, 4, (5, 3)))
    t[1, 2] = -100
    w = T(rng.random(4) + 0.5)
    assert gradgradcheck(lambda a: F.cross_entropy(a, t, w, reduction=red), (x,))
    xb = x.detach().bfloat16()
    yb = F.nll_loss(F.log_softmax(xb, 1), t, reduction=red)
    assert yb.dtype == ember.bfloat16
    ref = F.nll_loss(F.log_softmax(xb.double(), 1), t, reduction=red)
    np.testing.assert_allclose(yb.double().numpy(), ref.numpy(), rtol=0.02, atol=0.02)
    assert math.isnan(F.nll_loss(ember.zeros(2, 3), ember.tensor([-100, -100])).item())  # 0 / 0, as torch


@pytest.mark.parametrize("dim", [0, 1])
def test_softmax_nan_rows_and_strided_blocks(dim):
    x = rng.standard_normal((300, 300))
    x[5, 7] = np.nan
    for fn in (F.softmax, F.log_softmax):
        y = fn(T(x).float(), dim).numpy()
        bad = np.isnan(y)
        assert (bad[5] if dim == 1 else bad[:, 7]).all()
        assert bad.sum() == 300  # only that row (or column)
    e = np.exp(x - np.nanmax(x, axis=dim, keepdims=True))
    ok = ~np.isnan(e.sum(axis=dim, keepdims=True)).repeat(300, axis=dim)
    ref = e / e.sum(axis=dim, keepdims=True)
    np.testing.assert_allclose(F.softmax(T(x), dim).numpy()[ok], ref[ok], rtol=1e-13)


@pytest.mark.parametrize("kw", [dict(padding=1), dict(stride=2, padding=2, dilation=2, groups=2)])
def test_conv_large_outputs_tiled_paths(kw):
    # outputs of >= 512 positions take the tiled forward and the per-image backward paths
    x, w = rng.standard_normal((2, 4, 33, 41)), rng.standard_normal((6, 4 // kw.get("groups", 1), 3, 3))
    xt, wt = T(x, True), T(w, True)
    y = F.conv2d(xt, wt, **kw)
    assert y.shape[2] * y.shape[3] >= 512 or kw.get("stride") == 2
    np.testing.assert_allclose(y.detach().numpy(), ref_conv(x, w, **kw), rtol=1e-11, atol=1e-11)
    gy = rng.standard_normal(tuple(y.shape))
    y.backward(ember.tensor(gy))
    s = kw.get("stride", 1)
    op = tuple((x.shape[2 + i] + 2 * kw["padding"] - kw.get("dilation", 1) * 2 - 1) % s for i in range(2))
    gx_ref = ref_conv_transpose(gy, w, stride=s, padding=kw["padding"], output_padding=op,
                                dilation=kw.get("dilation", 1), groups=kw.get("groups", 1))
    np.testing.assert_allclose(xt.grad.numpy(), gx_ref, rtol=1e-10, atol=1e-10)
    # weight gradient: d<conv(x, w), gy>/dw, by central differences on a few entries (linear in w)
    for idx in [(0, 0, 0, 0), (5, 1, 2, 1), (3, 0, 1, 2)]:
        e = np.zeros_like(w)
        e[idx] = 1.0
        num = (ref_conv(x, w + e, **kw) * gy).sum() - (ref_conv(x, w - e, **kw) * gy).sum()
        assert math.isclose(wt.grad.numpy()[idx], num / 2, rel_tol=1e-9, abs_tol=1e-9)


def test_layer_norm_with_a_bias_and_no_weight_adds_the_bias():
    # regression: the fused row kernel dropped a bias given without a weight
    x = np.random.default_rng(0).standard_normal((5, 7))
    b = np.random.default_rng(1).standard_normal(7)
    want = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) + b
    got = ember.nn.functional.layer_norm(ember.from_numpy(x), (7,), weight=None, bias=ember.from_numpy(b))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("make", [
    lambda **k: ember.nn.Conv2d(3, 4, 3, **k), lambda **k: ember.nn.BatchNorm2d(4, **k),
    lambda **k: ember.nn.LayerNorm(4, **k), lambda **k: ember.nn.GroupNorm(2, 4, **k),
    lambda **k: ember.nn.RMSNorm(4, **k), lambda **k: ember.nn.Embedding(5, 4, **k),
    lambda **k: ember.nn.EmbeddingBag(5, 4, **k), lambda **k: ember.nn.PReLU(**k), lambda **k: ember.nn.Linear(2, 3, **k),
])
def test_module_factory_kwargs_place_parameters_and_buffers(make):
    # device= and dtype= reach every parameter and buffer (the CPU here; "cuda" on a GPU)
    m = make(device="cpu", dtype=ember.float64)
    tensors = list(m.parameters()) + [b for b in m.buffers() if b.is_floating_point()]
    assert tensors and all(t.device == ember.device("cpu") and t.dtype == ember.float64 for t in tensors)
    if ember.cuda.is_available():
        g = make(device="cuda")
        assert all(t.is_cuda for t in list(g.parameters()) + list(g.buffers()))


@pytest.mark.parametrize("cell", ["rnn_tanh_cell", "lstm_cell"])
@pytest.mark.parametrize("which", ["b_ih", "b_hh"])
def test_rnn_cells_take_either_bias_alone(cell, which):
    # regression: b_ih alone raised (b_ih + None); b_hh alone was dropped
    from ember.nn import _seq_functional as S
    rng = np.random.default_rng(0)
    H, k = 3, 4 if cell == "lstm_cell" else 1
    x, h = ember.from_numpy(rng.standard_normal((2, 5))), ember.from_numpy(rng.standard_normal((2, H)))
    w_ih, w_hh = ember.from_numpy(rng.standard_normal((k * H, 5))), ember.from_numpy(rng.standard_normal((k * H, H)))
    b = ember.from_numpy(rng.standard_normal(k * H))
    hx = (h, h) if cell == "lstm_cell" else h
    got = getattr(S, cell)(x, hx, w_ih, w_hh, **{which: b})
    want = getattr(S, cell)(x, hx, w_ih, w_hh, b_ih=b, b_hh=ember.zeros(k * H, dtype=ember.float64))
    got, want = (got[0], want[0]) if cell == "lstm_cell" else (got, want)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
