"""Pooling, normalisation and LSTM kernels on a GPU against the same ops on the CPU: max/avg
pooling (1-3 d, padding, dilation, ceil_mode, count_include_pad, divisor_override, indices),
adaptive pooling, layer/RMS/group norm, batch norm (training with running statistics, eval, the
one-pass channel affine) and the LSTM (module and fused cell), values and gradients in float32
and float64, forwards in float16/bfloat16; plus run-to-run determinism. Skips without a GPU."""
import copy

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember import _C

pytestmark = pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA device")

FLOATS = ["float32", "float64"]
LOWP = ["float16", "bfloat16"]
TOL = {"float32": (2e-5, 2e-5), "float64": (1e-10, 1e-11), "float16": (4e-3, 4e-3), "bfloat16": (3e-2, 3e-2)}


def _arr(shape, seed=0, lo=-2.0, hi=2.0):
    return np.random.default_rng(seed).uniform(lo, hi, shape)


def _t(a, dtype, device="cpu", grad=False):
    """A fresh leaf of array a (dtype, device), requiring grad when asked (None passes through)."""
    if a is None:
        return None
    t = ember.from_numpy(np.asarray(a, dtype=np.float64)).to(getattr(ember, dtype))
    if device == "cuda":
        t = t.cuda()
    else:
        t = t.clone()
    return t.requires_grad_() if grad else t


def _np(t):
    return t.detach().cpu().to(ember.float64).numpy()


def _close(got, want, dtype, scale=1.0):
    rtol, atol = TOL[dtype]
    np.testing.assert_allclose(_np(got), _np(want), rtol=rtol * scale, atol=atol * scale, equal_nan=True)


def _both(fn, arrays, dtype, grad=True, seed=99):
    """Runs fn on CPU and GPU copies of arrays; with grad, backpropagates one random upstream
    gradient per floating output. Returns {device: (outputs, grads)}."""
    res = {}
    for dev in ("cpu", "cuda"):
        ts = [_t(a, dtype, dev, grad) for a in arrays]
        out = fn(*ts)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        grads = []
        if grad:
            fl = [o for o in outs if o.dtype.is_floating_point]
            ups = [_t(_arr(tuple(o.shape), seed + k), dtype, dev) for k, o in enumerate(fl)]
            ember.autograd.backward(fl, ups)
            grads = [t.grad if t is not None else None for t in ts]
        res[dev] = (outs, grads)
    return res


def _check(res, dtype, scale=1.0):
    (oc, gc), (og, gg) = res["cpu"], res["cuda"]
    for w, g in zip(oc, og):
        assert g.is_cuda and g.dtype == w.dtype and tuple(g.shape) == tuple(w.shape)
        if w.dtype.is_floating_point:
            _close(g, w, dtype, scale)
        else:
            np.testing.assert_array_equal(g.cpu().numpy(), w.numpy())
    for w, g in zip(gc, gg):
        assert (w is None) == (g is None)
        if w is not None:
            assert g.is_cuda
            _close(g, w, dtype, scale)


# ---- max pooling ---------------------------------------------------------------------------------
MAX_CASES = [  # (nsp, shape, kwargs)
    (1, (2, 3, 17), dict(kernel_size=3)),
    (1, (2, 3, 17), dict(kernel_size=4, stride=3, padding=2, dilation=2, ceil_mode=True)),
    (2, (2, 3, 11, 13), dict(kernel_size=3, stride=2)),
    (2, (2, 3, 11, 13), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), ceil_mode=True)),
    (2, (3, 10, 9), dict(kernel_size=3, stride=2, padding=1, dilation=2)),  # unbatched
    (3, (1, 2, 7, 8, 9), dict(kernel_size=2)),
    (3, (1, 2, 7, 8, 9), dict(kernel_size=3, stride=2, padding=1, dilation=(1, 2, 1), ceil_mode=True)),
]


def _max_pool(nsp):
    return {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[nsp]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", range(len(MAX_CASES)))
def test_max_pool_values_indices_grads(case, dtype):
    nsp, shape, kw = MAX_CASES[case]
    res = _both(lambda x: _max_pool(nsp)(x, return_indices=True, **kw), [_arr(shape)], dtype)
    _check(res, dtype)
    np.testing.assert_array_equal(res["cuda"][0][1].cpu().numpy(), res["cpu"][0][1].numpy())


@pytest.mark.parametrize("dtype", FLOATS)
def test_max_pool_ties_and_nan_pick_the_cpu_index(dtype):
    a = np.round(_arr((2, 2, 9, 9), seed=3))  # many ties
    a[0, 0, 2, 3] = np.nan
    a[1, 1, 4, 4] = a[1, 1, 4, 6] = np.nan
    a[1, 0, :, :] = -np.inf  # all-inf windows keep the first position
    for kw in (dict(kernel_size=3, stride=1, padding=1), dict(kernel_size=3, stride=2, dilation=2, ceil_mode=True)):
        yc, ic = F.max_pool2d(_t(a, dtype), return_indices=True, **kw)
        yg, ig = F.max_pool2d(_t(a, dtype, "cuda"), return_indices=True, **kw)
        np.testing.assert_array_equal(ig.cpu().numpy(), ic.numpy())
        np.testing.assert_array_equal(_np(yg), _np(yc))


@pytest.mark.parametrize("dtype", LOWP)
def test_max_pool_low_precision_forward(dtype):
    for nsp, shape, kw in MAX_CASES:
        _check(_both(lambda x: _max_pool(nsp)(x, return_indices=True, **kw), [_arr(shape)], dtype, grad=False), dtype)


# ---- average pooling -------------------------------------------------------------------------------
AVG_CASES = [  # (nsp, shape, kwargs)
    (1, (2, 3, 17), dict(kernel_size=3)),
    (1, (2, 3, 17), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True, count_include_pad=False)),
    (1, (2, 3, 17), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True, count_include_pad=True)),
    (2, (2, 3, 11, 13), dict(kernel_size=3, stride=2)),
    (2, (2, 3, 11, 13), dict(kernel_size=(3, 4), stride=(2, 3), padding=(1, 2), ceil_mode=True)),
    (2, (2, 3, 11, 13), dict(kernel_size=(3, 4), stride=(2, 3), padding=(1, 2), ceil_mode=True,
                             count_include_pad=False)),
    (2, (3, 10, 9), dict(kernel_size=3, stride=1, padding=1, divisor_override=5)),  # unbatched, overlapping
    (3, (1, 2, 7, 8, 9), dict(kernel_size=2)),
    (3, (1, 2, 7, 8, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    (3, (1, 2, 7, 8, 9), dict(kernel_size=3, stride=(1, 2, 2), padding=1, divisor_override=7)),
]


def _avg_pool(nsp):
    return {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[nsp]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", range(len(AVG_CASES)))
def test_avg_pool_values_and_grads(case, dtype):
    nsp, shape, kw = AVG_CASES[case]
    _check(_both(lambda x: _avg_pool(nsp)(x, **kw), [_arr(shape)], dtype), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_avg_pool_double_backward(dtype):
    # the adjoint's own backward is the forward pool: grad of grad through both kernels
    def f(x, gy):
        y = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
        (gx,) = ember.autograd.grad(y, x, gy, create_graph=True)
        return gx * gx
    res = {}
    for dev in ("cpu", "cuda"):
        x = _t(_arr((2, 2, 9, 8)), dtype, dev, True)
        gy = _t(_arr((2, 2, 5, 4), 5), dtype, dev, True)
        out = f(x, gy)
        out.backward(_t(_arr(tuple(out.shape), 6), dtype, dev))
        res[dev] = ([out], [gy.grad])
    _check(res, dtype)


@pytest.mark.parametrize("dtype", LOWP)
def test_avg_pool_low_precision_forward(dtype):
    for nsp, shape, kw in AVG_CASES:
        _check(_both(lambda x: _avg_pool(nsp)(x, **kw), [_arr(shape)], dtype, grad=False), dtype)


# ---- adaptive pooling ------------------------------------------------------------------------------
ADAPTIVE = [  # (nsp, shape, output_size)
    (1, (2, 3, 13), 5),
    (2, (2, 3, 7, 9), (3, 4)),
    (2, (2, 3, 7, 9), (9, 11)),  # larger than the input: overlapping windows
    (2, (3, 8, 8), (None, 3)),
    (3, (1, 2, 5, 6, 7), (2, 3, 4)),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", range(len(ADAPTIVE)))
def test_adaptive_pools(case, dtype):
    nsp, shape, size = ADAPTIVE[case]
    avg = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}[nsp]
    mx = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}[nsp]
    _check(_both(lambda x: avg(x, size), [_arr(shape)], dtype), dtype)
    res = _both(lambda x: mx(x, size, return_indices=True), [_arr(shape)], dtype)
    _check(res, dtype)
    np.testing.assert_array_equal(res["cuda"][0][1].cpu().numpy(), res["cpu"][0][1].numpy())


@pytest.mark.parametrize("dtype", LOWP)
def test_adaptive_pools_low_precision_forward(dtype):
    x = _arr((2, 3, 7, 9))
    _check(_both(lambda t: F.adaptive_avg_pool2d(t, (3, 4)), [x], dtype, grad=False), dtype)
    _check(_both(lambda t: F.adaptive_max_pool2d(t, (3, 4)), [x], dtype, grad=False), dtype)


# ---- layer / RMS norm --------------------------------------------------------------------------------
LN_SHAPES = [  # (input shape, number of normalised dims)
    ((4, 7, 33), 1),     # short rows: a warp per row
    ((3, 5, 4, 6), 2),
    ((6, 3000), 1),      # long rows: a block per row
    ((2000, 64), 1),     # many rows: the affine gradients split over shares of rows
    ((9, 2), 1),         # tiny rows
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("affine", ["wb", "w", "none"])
@pytest.mark.parametrize("case", range(len(LN_SHAPES)))
def test_layer_norm(case, affine, dtype):
    shape, k = LN_SHAPES[case]
    ns = shape[len(shape) - k:]
    arrays = [_arr(shape), _arr(ns, 1) if affine != "none" else None, _arr(ns, 2) if affine == "wb" else None]
    res = _both(lambda x, w, b: F.layer_norm(x, ns, w, b, eps=1e-5), arrays, dtype)
    _check(res, dtype, scale=5.0 if shape[0] >= 2000 else 1.0)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("weight", [True, False])
@pytest.mark.parametrize("case", range(len(LN_SHAPES)))
def test_rms_norm(case, weight, dtype):
    shape, k = LN_SHAPES[case]
    ns = shape[len(shape) - k:]
    arrays = [_arr(shape), _arr(ns, 1) if weight else None]
    res = _both(lambda x, w: F.rms_norm(x, ns, w, eps=1e-6), arrays, dtype)
    _check(res, dtype, scale=5.0 if shape[0] >= 2000 else 1.0)


@pytest.mark.parametrize("dtype", LOWP)
def test_layer_and_rms_norm_low_precision_forward(dtype):
    for shape, k in LN_SHAPES[:3]:
        ns = shape[len(shape) - k:]
        arrays = [_arr(shape), _arr(ns, 1), _arr(ns, 2)]
        _check(_both(lambda x, w, b: F.layer_norm(x, ns, w, b), arrays, dtype, grad=False), dtype)
        _check(_both(lambda x, w, b: F.rms_norm(x, ns, w), arrays, dtype, grad=False), dtype)


# ---- group norm ------------------------------------------------------------------------------------
GN_CASES = [  # (shape, groups)
    ((4, 6, 5, 5), 3),      # HW 25: a thread per plane in the affine gradients
    ((3, 8, 40), 2),        # HW 40: a warp per plane
    ((2, 4, 50, 50), 2),    # HW 2500: a block per plane, rows of 5000: a block per row
    ((5, 6), 3),            # HW 1
    ((2, 6, 7), 1),
    ((2, 6, 7), 6),         # instance-norm-like
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("affine", ["wb", "w", "b", "none"])
@pytest.mark.parametrize("case", range(len(GN_CASES)))
def test_group_norm(case, affine, dtype):
    shape, groups = GN_CASES[case]
    c = shape[1]
    arrays = [_arr(shape), _arr((c,), 1) if "w" in affine else None, _arr((c,), 2) if "b" in affine else None]
    _check(_both(lambda x, w, b: F.group_norm(x, groups, w, b, eps=1e-5), arrays, dtype), dtype)


@pytest.mark.parametrize("dtype", LOWP)
def test_group_norm_low_precision_forward(dtype):
    for shape, groups in GN_CASES:
        c = shape[1]
        arrays = [_arr(shape), _arr((c,), 1), _arr((c,), 2)]
        _check(_both(lambda x, w, b: F.group_norm(x, groups, w, b), arrays, dtype, grad=False), dtype)


# ---- batch norm ----------------------------------------------------------------------------------
BN_SHAPES = [(16, 5), (4, 3, 10), (8, 3, 40, 40), (2, 4, 3, 5, 6), (3000, 2)]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", BN_SHAPES, ids=str)
def test_batch_norm_training_updates_running_stats(shape, affine, dtype):
    c = shape[1]
    rm0, rv0 = _arr((c,), 7), _arr((c,), 8, 0.5, 2.0)
    running = []  # (running_mean, running_var) of the CPU run, then of the GPU run

    def f(x, w, b):
        dev = "cuda" if running else "cpu"
        rm, rv = _t(rm0, dtype, dev), _t(rv0, dtype, dev)
        y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.3, eps=1e-5)
        running.append((rm, rv))
        return y

    arrays = [_arr(shape, 0, -1.0, 3.0), _arr((c,), 1) if affine else None, _arr((c,), 2) if affine else None]
    res = _both(f, arrays, dtype)
    _check(res, dtype, scale=5.0)
    for g, w in zip(running[1], running[0]):
        assert g.is_cuda
        _close(g, w, dtype, scale=5.0)


@pytest.mark.parametrize("dtype", FLOATS)
def test_batch_norm_eval_and_channel_affine(dtype):
    shape, c = (4, 3, 6, 5), 3
    rm, rv, w, b = _arr((c,), 7), _arr((c,), 8, 0.5, 2.0), _arr((c,), 1), _arr((c,), 2)

    def f(x, w_, b_):
        dev = "cuda" if x.is_cuda else "cpu"
        return F.batch_norm(x, _t(rm, dtype, dev), _t(rv, dtype, dev), w_, b_, training=False)

    _check(_both(f, [_arr(shape), w, b], dtype), dtype)
    x, sc, sh = _arr(shape), _arr((c,), 3), _arr((c,), 4)
    want = _C._nn.channel_affine(_t(x, dtype), _t(sc, dtype), _t(sh, dtype))
    got = _C._nn.channel_affine(_t(x, dtype, "cuda"), _t(sc, dtype, "cuda"), _t(sh, dtype, "cuda"))
    assert got.is_cuda
    _close(got, want, dtype)
    with ember.no_grad():
        got = f(_t(x, dtype, "cuda"), _t(w, dtype, "cuda"), _t(b, dtype, "cuda"))
        want = f(_t(x, dtype), _t(w, dtype), _t(b, dtype))
    _close(got, want, dtype)


@pytest.mark.parametrize("dtype", LOWP)
def test_batch_norm_low_precision_forward(dtype):
    for shape in BN_SHAPES:
        c = shape[1]
        arrays = [_arr(shape), _arr((c,), 1), _arr((c,), 2)]
        res = _both(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), arrays, dtype, grad=False)
        _check(res, dtype)


# ---- LSTM --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kw", [dict(num_layers=2, bidirectional=True), dict(num_layers=1, proj_size=3),
                                dict(num_layers=1, batch_first=True)], ids=["bi2", "proj", "batch_first"])
def test_lstm_module_values_and_grads(kw, dtype):
    ember.manual_seed(0)
    cpu = nn.LSTM(5, 6, **kw).to(getattr(ember, dtype))
    gpu = copy.deepcopy(cpu).cuda()
    D = 2 if kw.get("bidirectional") else 1
    L, hout = kw.get("num_layers", 1), kw.get("proj_size", 0) or 6
    x = _arr((4, 7, 5) if kw.get("batch_first") else (7, 4, 5))
    h0, c0 = _arr((L * D, 4, hout), 1), _arr((L * D, 4, 6), 2)
    res = {}
    for dev, m in (("cpu", cpu), ("cuda", gpu)):
        xs = [_t(a, dtype, dev, True) for a in (x, h0, c0)]
        out, (hn, cn) = m(xs[0], (xs[1], xs[2]))
        ups = [_t(_arr(tuple(o.shape), 10 + k), dtype, dev) for k, o in enumerate((out, hn, cn))]
        ember.autograd.backward([out, hn, cn], ups)
        res[dev] = ([out, hn, cn], [t.grad for t in xs] + [p.grad for p in m.parameters()])
    _check(res, dtype, scale=5.0)


@pytest.mark.parametrize("dtype", FLOATS)
def test_lstm_cell_raw_and_backward_with_missing_gradients(dtype):
    B, H = 5, 7
    gates, c = _arr((B, 4 * H), 0, -3.0, 3.0), _arr((B, H), 1)
    gh, gc = _arr((B, H), 2), _arr((B, H), 3)
    outs = {}
    for dev in ("cpu", "cuda"):
        h, cn, acts = _C._nn.lstm_cell_raw(_t(gates, dtype, dev), _t(c, dtype, dev))
        r = [h, cn, acts]
        for a, b in ((gh, gc), (gh, None), (None, gc)):
            r += list(_C._nn.lstm_cell_backward_raw(acts, _t(c, dtype, dev), cn, _t(a, dtype, dev),
                                                    _t(b, dtype, dev)))
        outs[dev] = r
    for g, w in zip(outs["cuda"], outs["cpu"]):
        assert g.is_cuda
        _close(g, w, dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_lstm_cell_function_grads(dtype):
    from ember.nn._seq_functional import lstm_cell
    arrays = [_arr((3, 4)), _arr((3, 5), 1), _arr((3, 5), 2), _arr((20, 4), 3), _arr((20, 5), 4), _arr((20,), 5),
              _arr((20,), 6)]
    res = _both(lambda x, h, c, wi, wh, bi, bh: lstm_cell(x, (h, c), wi, wh, bi, bh), arrays, dtype)
    _check(res, dtype)


# ---- determinism -------------------------------------------------------------------------------------
def test_gpu_results_are_run_to_run_identical():
    def run():
        x = _t(_arr((2000, 64)), "float32", "cuda", True)
        w = _t(_arr((64,), 1), "float32", "cuda", True)
        b = _t(_arr((64,), 2), "float32", "cuda", True)
        y = F.layer_norm(x, (64,), w, b)
        z = _t(_arr((8, 3, 40, 40)), "float32", "cuda", True)
        v = F.batch_norm(z, None, None, w[:3], b[:3], training=True)
        p = _t(_arr((2, 3, 31, 29)), "float32", "cuda", True)
        q = F.avg_pool2d(p, 5, stride=2, padding=2)
        ember.autograd.backward([y, v, q], [_t(_arr(tuple(t.shape), 9), "float32", "cuda") for t in (y, v, q)])
        return [_np(t) for t in (y, v, q, x.grad, w.grad, b.grad, z.grad, p.grad)]

    first, second = run(), run()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
