"""Matrix products (cuBLAS), convolutions (im2col + GEMM on the GPU), softmax, nll / cross
entropy, fused attention and the fused optimizers on a GPU against the CPU: values and gradients.
Skips without a GPU (and the product tests without cuBLAS)."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F

pytestmark = pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA device")
TOL = {"float32": 1e-4, "float64": 1e-10, "float16": 1e-2, "bfloat16": 6e-2}


def _r(shape, dtype="float32", seed=0):
    a = np.random.default_rng(seed).standard_normal(shape)
    return ember.from_numpy(a).to(getattr(ember, dtype))


def _close(got, want, tol):
    g, w = got.cpu().double().numpy(), want.double().numpy()
    np.testing.assert_allclose(g, w, rtol=tol, atol=tol * max(1.0, float(np.abs(w).max(initial=0))))


@pytest.fixture(autouse=True)
def _no_tf32():  # exact float32 products for the comparisons (convolutions default to TF32, as torch's)
    old = ember.backends.cuda.matmul.allow_tf32, ember.backends.cudnn.allow_tf32
    ember.backends.cuda.matmul.allow_tf32 = ember.backends.cudnn.allow_tf32 = False
    yield
    ember.backends.cuda.matmul.allow_tf32, ember.backends.cudnn.allow_tf32 = old


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("case", ["mm", "mm_tn", "mm_nt", "bmm", "broadcast", "matvec", "sliced_batch"])
def test_matmul_matches_cpu(dtype, case):
    a, b = {
        "mm": (_r((33, 17), dtype), _r((17, 9), dtype, 1)),
        "mm_tn": (_r((17, 33), dtype).t(), _r((17, 9), dtype, 1)),
        "mm_nt": (_r((33, 17), dtype), _r((9, 17), dtype, 1).t()),
        "bmm": (_r((4, 33, 17), dtype), _r((4, 17, 9), dtype, 1)),
        "broadcast": (_r((2, 3, 33, 17), dtype), _r((17, 9), dtype, 1)),
        "matvec": (_r((33, 17), dtype), _r((17,), dtype, 1)),
        "sliced_batch": (_r((6, 33, 17), dtype)[::2], _r((3, 17, 9), dtype, 1)),
    }[case]
    want = ember.matmul(a.float() if dtype in ("float16", "bfloat16") else a,
                        b.float() if dtype in ("float16", "bfloat16") else b)
    got = ember.matmul(a.cuda(), b.cuda())
    assert got.is_cuda and got.dtype == a.dtype and got.shape == want.shape
    _close(got, want, TOL[dtype])


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_integer_matmul_wraps_like_cpu(dtype):
    a = (_r((5, 7, 6), "float64") * 50).to(getattr(ember, dtype))
    b = (_r((6, 4), "float64", 1) * 50).to(getattr(ember, dtype))
    np.testing.assert_array_equal(ember.matmul(a.cuda(), b.cuda()).cpu().numpy(), ember.matmul(a, b).numpy())


def test_tf32_switch_changes_float32_products_only_slightly():
    a, b = _r((256, 512)), _r((512, 128), seed=1)
    exact = ember.matmul(a.cuda(), b.cuda())
    ember.backends.cuda.matmul.allow_tf32 = True
    fast = ember.matmul(a.cuda(), b.cuda())
    _close(fast, exact.cpu(), 5e-3)


def test_addmm_and_linear_backward():
    x, w, bias = _r((8, 16)), _r((4, 16), seed=1), _r((4,), seed=2)
    outs = []
    for dev in ("cpu", "cuda"):
        xs, ws, bs = (t.to(dev).requires_grad_() for t in (x, w, bias))
        y = F.linear(xs, ws, bs)
        (y * y).sum().backward()
        outs.append((y, xs.grad, ws.grad, bs.grad))
    for g, c in zip(outs[1], outs[0]):
        _close(g, c.detach(), 1e-4)


@pytest.mark.parametrize("dims,kw", [
    (1, dict(stride=2, padding=1)), (2, dict(padding=1)), (2, dict(stride=2, dilation=2, padding=2)),
    (2, dict(groups=2)), (2, dict(groups=8)), (3, dict(padding=1)), (2, dict(padding=0, kernel=1)),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv_forward_backward_match_cpu(dims, kw, dtype):
    kw = dict(kw)
    k = kw.pop("kernel", 3)
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[dims]
    x = _r((2, 8) + (9,) * dims, dtype)
    w = _r((16, 8 // kw.get("groups", 1)) + (k,) * dims, dtype, 1)
    res = []
    for dev in ("cpu", "cuda"):
        xs, ws = x.to(dev).requires_grad_(), w.to(dev).requires_grad_()
        y = conv(xs, ws, **kw)
        (y * y).sum().backward()
        res.append((y, xs.grad, ws.grad))
    for g, c in zip(res[1], res[0]):
        _close(g, c.detach(), TOL[dtype] * 10)


def test_conv_transpose2d_matches_cpu():
    x, w = _r((2, 6, 7, 7)), _r((6, 4, 3, 3), seed=1)
    want = F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
    _close(F.conv_transpose2d(x.cuda(), w.cuda(), stride=2, padding=1, output_padding=1), want, 1e-4)


@pytest.mark.parametrize("dim", [-1, 0, 1])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_forward_backward(dim, log):
    x = _r((5, 300, 7))
    x[0, 3, 1] = float("-inf")
    f = F.log_softmax if log else F.softmax
    res = []
    for dev in ("cpu", "cuda"):
        xs = x.to(dev).requires_grad_()
        y = f(xs, dim=dim)
        (y * _r((5, 300, 7), seed=3).to(dev)).sum().backward()
        res.append((y, xs.grad))
    for g, c in zip(res[1], res[0]):
        _close(g, c.detach(), 1e-5)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_matches_cpu(reduction):
    logits, t = _r((32, 10)), ember.from_numpy(np.random.default_rng(4).integers(0, 10, 32))
    t[3] = -100
    w = _r((10,), seed=5).abs()
    res = []
    for dev in ("cpu", "cuda"):
        ls = logits.to(dev).requires_grad_()
        loss = F.cross_entropy(ls, t.to(dev), weight=w.to(dev), reduction=reduction, ignore_index=-100)
        loss.sum().backward()
        res.append((loss, ls.grad))
    for g, c in zip(res[1], res[0]):
        _close(g, c.detach(), 1e-5)


def test_nll_bad_target_raises_index_error():
    with pytest.raises(IndexError, match=r"\[nll_loss\] target 12 is out of bounds"):
        F.nll_loss(_r((4, 10)).cuda(), ember.tensor([1, 2, 12, 3], device="cuda"))
    _close(F.nll_loss(_r((4, 10)).cuda(), ember.tensor([1, 2, 9, 3], device="cuda")),
           F.nll_loss(_r((4, 10)), ember.tensor([1, 2, 9, 3])), 1e-6)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("shape", [(2, 3, 37, 37, 16, 16), (1, 2, 70, 45, 64, 32), (1, 1, 130, 130, 128, 128)])
def test_sdpa_forward_backward_match_cpu(causal, shape):
    B, H, L, S, E, Ev = shape
    q, k, v = _r((B, H, L, E)), _r((B, H, S, E), seed=1), _r((B, H, S, Ev), seed=2)
    go = _r((B, H, L, Ev), seed=3)
    res = []
    for dev in ("cpu", "cuda"):
        qs, ks, vs = (t.to(dev).requires_grad_() for t in (q, k, v))
        o = F.scaled_dot_product_attention(qs, ks, vs, is_causal=causal)
        (o * go.to(dev)).sum().backward()
        res.append((o, qs.grad, ks.grad, vs.grad))
    for g, c in zip(res[1], res[0]):
        _close(g, c.detach(), 2e-4)


def test_sdpa_with_additive_mask():
    q, k, v = _r((2, 2, 20, 8)), _r((2, 2, 24, 8), seed=1), _r((2, 2, 24, 8), seed=2)
    mask = _r((20, 24), seed=4)
    want = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    _close(F.scaled_dot_product_attention(q.cuda(), k.cuda(), v.cuda(), attn_mask=mask.cuda()), want, 1e-4)


@pytest.mark.parametrize("opt", ["SGD", "Adam", "AdamW"])
def test_fused_optimizers_match_cpu(opt):
    kw = {"SGD": dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2), "Adam": dict(lr=1e-2, weight_decay=1e-2),
          "AdamW": dict(lr=1e-2, amsgrad=True)}[opt]
    res = []
    for dev in ("cpu", "cuda"):
        p = _r((40, 30)).to(dev).requires_grad_()
        o = getattr(ember.optim, opt)([p], **kw)
        for s in range(3):
            o.zero_grad()
            ((p - s) ** 2).sum().backward()
            o.step()
        res.append(p.detach())
    _close(res[1], res[0], 1e-5)


def test_small_mlp_trains_the_same_on_both_devices():
    ember.manual_seed(0)
    net = ember.nn.Sequential(ember.nn.Linear(20, 64), ember.nn.ReLU(), ember.nn.Linear(64, 5))
    gnet = ember.nn.Sequential(ember.nn.Linear(20, 64), ember.nn.ReLU(), ember.nn.Linear(64, 5)).cuda()
    gnet.load_state_dict({k: v.cuda() for k, v in net.state_dict().items()})
    x, y = _r((64, 20)), ember.from_numpy(np.random.default_rng(1).integers(0, 5, 64))
    for model, dev in ((net, "cpu"), (gnet, "cuda")):
        opt = ember.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(5):
            opt.zero_grad()
            F.cross_entropy(model(x.to(dev)), y.to(dev)).backward()
            opt.step()
    for (n, a), (_, b) in zip(net.state_dict().items(), gnet.state_dict().items()):
        _close(b, a, 1e-4)


# ---- autocast and GradScaler on CUDA ---------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_autocast_cuda_op_lists(dtype):
    dt = getattr(ember, dtype)
    a, b = _r((8, 16)).cuda(), _r((16, 4), seed=1).cuda()
    w = _r((6, 3, 3, 3), seed=2).cuda()
    with ember.autocast("cuda", dtype=dt):
        assert (a @ b).dtype == dt and F.linear(a, b.t()).dtype == dt
        assert F.conv2d(_r((1, 3, 8, 8)).cuda(), w).dtype == dt
        assert (a + 1).dtype == ember.float32                     # not on the list: inputs' dtype
        assert F.cross_entropy(a @ b, ember.tensor([0, 1, 2, 3, 0, 1, 2, 3], device="cuda")).dtype == ember.float32
        assert (_r((2, 2)) @ _r((2, 2))).dtype == ember.float32   # CPU tensors: the CPU switch is off
    _close((a @ b), (a.cpu() @ b.cpu()), 1e-5)


def test_autocast_training_step_keeps_float32_gradients():
    lin = ember.nn.Linear(16, 4).cuda()
    x = _r((8, 16)).cuda()
    with ember.autocast("cuda"):
        loss = lin(x).float().pow(2).mean()
    loss.backward()
    assert lin.weight.grad.dtype == ember.float32 and lin.weight.grad.is_cuda


def test_grad_scaler_skips_steps_with_inf_and_backs_off():
    p = ember.nn.Parameter(ember.ones(4, device="cuda"))
    opt = ember.optim.SGD([p], lr=0.1)
    scaler = ember.amp.GradScaler(device="cuda", init_scale=1024.0)
    (scaler.scale((p * float("inf")).sum())).backward()
    scaler.step(opt)
    scaler.update()
    np.testing.assert_array_equal(p.detach().cpu().numpy(), np.ones(4))  # skipped
    assert scaler.get_scale() == 512.0
    opt.zero_grad()
    scaler.scale((p * 2).sum()).backward()
    scaler.step(opt)
    scaler.update()
    np.testing.assert_allclose(p.detach().cpu().numpy(), np.full(4, 0.8), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_conv2d_in_16_bit_stays_16_bit_on_the_gpu(dtype):
    x, w = _r((2, 8, 9, 9), dtype), _r((16, 8, 3, 3), dtype, 1)
    want = F.conv2d(x.float(), w.float(), padding=1)
    xs, ws = x.cuda().requires_grad_(), w.cuda().requires_grad_()
    got = F.conv2d(xs, ws, padding=1)
    assert got.dtype == getattr(ember, dtype)
    _close(got.float(), want, TOL[dtype] * 4)
    got.float().sum().backward()
    assert xs.grad.dtype == xs.dtype and ws.grad.dtype == ws.dtype


# ---- functional helpers that build their own tensors must build them on the input's device ----------
def test_functional_helpers_stay_on_the_gpu():
    x = _r((2, 3, 8, 8)).cuda()
    assert F.dropout(x, 0.5).is_cuda and F.dropout2d(x, 0.5).is_cuda
    for mode in ("nearest", "bilinear", "bicubic"):
        got = F.interpolate(x, scale_factor=2, mode=mode)
        _close(got, F.interpolate(x.cpu(), scale_factor=2, mode=mode), 1e-5)
    oh = F.one_hot(ember.tensor([0, 2, 1], device="cuda"), 3)
    assert oh.is_cuda and oh.cpu().tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    q = _r((1, 2, 5, 4)).cuda()
    _close(F.scaled_dot_product_attention(q, q, q, is_causal=True, dropout_p=0.0),
           F.scaled_dot_product_attention(q.cpu(), q.cpu(), q.cpu(), is_causal=True), 1e-5)
    g = [p.cuda() for p in (_r((3,)), _r((0,)))]
    assert ember.nn.utils.get_total_norm(g).is_cuda


def test_ctc_and_packed_sequences_on_the_gpu():
    lp = F.log_softmax(_r((12, 2, 5)), -1)
    targets, in_lens, tg_lens = ember.tensor([[1, 2, 2], [3, 4, 0]]), [12, 10], [3, 2]
    want = F.ctc_loss(lp, targets, in_lens, tg_lens)
    _close(F.ctc_loss(lp.cuda(), targets, in_lens, tg_lens), want, 1e-5)  # CPU targets, as PyTorch allows
    seq = _r((5, 3, 4)).cuda()
    packed = ember.nn.utils.rnn.pack_padded_sequence(seq, [5, 3, 2], enforce_sorted=False)
    assert packed.data.is_cuda and not packed.batch_sizes.is_cuda
    out, lens = ember.nn.utils.rnn.pad_packed_sequence(packed)
    assert out.is_cuda and lens.tolist() == [5, 3, 2]
