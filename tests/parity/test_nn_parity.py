"""ember.nn against torch.nn: same weights (copied through NumPy) -> same outputs and the same
input and parameter gradients. Layers over the compiled kernels run as the kernels land."""
import numpy as np
import pytest

import ember
import ember.nn as enn
import ember.nn.functional as EF

torch = pytest.importorskip("torch")
tnn = torch.nn
TF = torch.nn.functional

RTOL64, ATOL64 = 1e-10, 1e-12
RTOL32, ATOL32 = 1e-5, 1e-6


def has(*names):
    return pytest.mark.skipif(not all(hasattr(EF, n) for n in names),
                              reason=f"kernels {names} not in ember.nn.functional yet")


def pair(a, dtype=np.float64, requires_grad=True):
    a = np.asarray(a, dtype=dtype)
    e = ember.from_numpy(a.copy())
    t = torch.from_numpy(a.copy())
    if requires_grad and np.issubdtype(dtype, np.floating):
        e.requires_grad_()
        t.requires_grad_()
    return e, t


def close(e, t, rtol=RTOL64, atol=ATOL64):
    if isinstance(t, (tuple, list)):
        for a, b in zip(e, t):
            close(a, b, rtol, atol)
        return
    en = e.detach().numpy()
    tn = t.detach().numpy()
    assert en.shape == tn.shape, (en.shape, tn.shape)
    np.testing.assert_allclose(en, tn, rtol=rtol, atol=atol)


def backward_both(eo, to, seed=0):
    g = np.random.default_rng(seed).standard_normal(tuple(to.shape))
    eo.backward(ember.from_numpy(g.astype(to.detach().numpy().dtype)))
    to.backward(torch.from_numpy(g.astype(to.detach().numpy().dtype)))


rng = np.random.default_rng(1234)

# ---- activations: (name, kwargs) -------------------------------------------------------
ACTS = [("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 1.3}),
        ("selu", {}), ("celu", {"alpha": 0.7}), ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}),
        ("mish", {}), ("hardswish", {}), ("hardsigmoid", {}), ("hardtanh", {"min_val": -0.5, "max_val": 2.0}),
        ("sigmoid", {}), ("tanh", {}), ("softplus", {"beta": 2.0, "threshold": 5.0}), ("softsign", {}),
        ("logsigmoid", {}), ("glu", {"dim": 1}), ("tanhshrink", {}), ("softshrink", {"lambd": 0.3}),
        ("hardshrink", {"lambd": 0.3}), ("threshold", {"threshold": 0.2, "value": -3.0})]


@pytest.mark.parametrize("name,kw", ACTS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ACTS)])
def test_activation_parity(name, kw):
    x = rng.uniform(-5, 5, size=(4, 6, 3))
    e, t = pair(x)
    eo, to = getattr(EF, name)(e, **kw), getattr(TF, name)(t, **kw)
    close(eo, to)
    backward_both(eo, to)
    # torch's celu and hardsigmoid backward carry 1/alpha, 1/6 in single precision (1e-8 relative
    # error); ember's are exact
    close(e.grad, t.grad, rtol=1e-6 if name in ("celu", "hardsigmoid") else RTOL64)


@has("softmax")
def test_softmin_parity():
    e, t = pair(rng.standard_normal((3, 5)))
    eo, to = EF.softmin(e, dim=1), TF.softmin(t, dim=1)
    close(eo, to)
    backward_both(eo, to)
    close(e.grad, t.grad)


@pytest.mark.parametrize("shape,wshape", [((4, 3, 5), (3,)), ((4, 3), (1,)), ((6,), (1,))])
def test_prelu_parity(shape, wshape):
    e, t = pair(rng.standard_normal(shape))
    ew, tw = pair(rng.uniform(0, 0.5, size=wshape))
    eo, to = EF.prelu(e, ew), TF.prelu(t, tw)
    close(eo, to)
    backward_both(eo, to)
    close(e.grad, t.grad)
    close(ew.grad, tw.grad)


def test_activation_modules_parity():
    x = rng.uniform(-4, 4, size=(3, 4))
    for name in ["ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Hardswish",
                 "Hardsigmoid", "Hardtanh", "Sigmoid", "Tanh", "Softplus", "Softsign", "LogSigmoid", "GLU",
                 "Tanhshrink", "Softshrink", "Hardshrink"]:
        e, t = pair(x)
        close(getattr(enn, name)()(e), getattr(tnn, name)()(t))
        assert repr(getattr(enn, name)()) == repr(getattr(tnn, name)())


def test_inplace_activations_parity():
    for name in ["relu", "elu", "leaky_relu", "hardtanh", "selu", "silu"]:
        x = rng.uniform(-3, 3, size=(5,))
        e, t = pair(x)
        e2, t2 = e * 1.0, t * 1.0
        eo = getattr(EF, name)(e2, inplace=True)
        to = getattr(TF, name)(t2, inplace=True)
        assert eo is e2
        close(e2, t2)
        backward_both(eo, to)
        close(e.grad, t.grad)


# ---- distances and linear maps -----------------------------------------------------------
def test_linear_bilinear_parity():
    e, t = pair(rng.standard_normal((2, 5, 4)))
    ew, tw = pair(rng.standard_normal((3, 4)))
    eb, tb = pair(rng.standard_normal(3))
    eo, to = EF.linear(e, ew, eb), TF.linear(t, tw, tb)
    close(eo, to)
    backward_both(eo, to)
    close((e.grad, ew.grad, eb.grad), (t.grad, tw.grad, tb.grad))
    e1, t1 = pair(rng.standard_normal((2, 3, 4)))
    e2, t2 = pair(rng.standard_normal((2, 3, 5)))
    ew, tw = pair(rng.standard_normal((6, 4, 5)))
    eb, tb = pair(rng.standard_normal(6))
    eo, to = EF.bilinear(e1, e2, ew, eb), TF.bilinear(t1, t2, tw, tb)
    close(eo, to)
    backward_both(eo, to)
    close((e1.grad, e2.grad, ew.grad, eb.grad), (t1.grad, t2.grad, tw.grad, tb.grad))


@pytest.mark.parametrize("fn,kw", [("normalize", {"p": 2.0, "dim": 1}), ("normalize", {"p": 1.0, "dim": 0}),
                                   ("cosine_similarity", {"dim": 1}), ("pairwise_distance", {"p": 2.0}),
                                   ("pairwise_distance", {"p": 3.0, "keepdim": True})])
def test_distance_parity(fn, kw):
    e1, t1 = pair(rng.standard_normal((4, 5)))
    if fn == "normalize":
        eo, to = EF.normalize(e1, **kw), TF.normalize(t1, **kw)
        close(eo, to)
        backward_both(eo, to)
        close(e1.grad, t1.grad)
        return
    e2, t2 = pair(rng.standard_normal((4, 5)))
    eo, to = getattr(EF, fn)(e1, e2, **kw), getattr(TF, fn)(t1, t2, **kw)
    close(eo, to)
    backward_both(eo, to)
    close((e1.grad, e2.grad), (t1.grad, t2.grad))


# ---- losses ---------------------------------------------------------------------------------
def _loss_case(name):
    n = (6, 4)
    x = rng.standard_normal(n)
    if name in ("binary_cross_entropy",):
        return [rng.uniform(0.05, 0.95, n), rng.uniform(0, 1, n)], {"weight": None}
    if name == "binary_cross_entropy_with_logits":
        return [x * 3, rng.uniform(0, 1, n)], {}
    if name == "kl_div":
        return [np.log(rng.uniform(0.1, 1, n)), rng.uniform(0.0, 1, n)], {}
    if name in ("soft_margin_loss", "hinge_embedding_loss"):
        return [x, np.where(rng.uniform(size=n) > 0.5, 1.0, -1.0)], {}
    if name == "poisson_nll_loss":
        return [x, rng.poisson(2.0, n).astype(np.float64)], {}
    return [x, rng.standard_normal(n)], {}


LOSSES = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
          "binary_cross_entropy_with_logits", "kl_div", "soft_margin_loss", "hinge_embedding_loss",
          "poisson_nll_loss", "multilabel_soft_margin_loss"]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", LOSSES)
def test_pair_loss_parity(name, reduction):
    arrays, kw = _loss_case(name)
    if name == "multilabel_soft_margin_loss":
        arrays[1] = (arrays[1] > 0).astype(np.float64)
    nondiff_target = name in ("binary_cross_entropy", "hinge_embedding_loss", "soft_margin_loss")
    (e, t), (et, tt) = pair(arrays[0]), pair(arrays[1], requires_grad=not nondiff_target)
    eo = getattr(EF, name)(e, et, reduction=reduction, **kw)
    to = getattr(TF, name)(t, tt, reduction=reduction, **kw)
    close(eo, to)
    backward_both(eo, to)
    close(e.grad, t.grad)
    if not nondiff_target:
        close(et.grad, tt.grad)


def test_loss_options_parity():
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    cases = [("smooth_l1_loss", {"beta": 0.5}), ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {"delta": 0.3}),
             ("poisson_nll_loss", {"log_input": False, "full": True}), ("poisson_nll_loss", {"full": True}),
             ("kl_div", {"log_target": True, "reduction": "batchmean"})]
    for name, kw in cases:
        xa, ya = x, y
        if name == "poisson_nll_loss":
            xa, ya = np.abs(x) + 0.1, rng.poisson(3.0, x.shape).astype(np.float64)
        (e, t), (et, tt) = pair(xa), pair(ya)
        eo, to = getattr(EF, name)(e, et, **kw), getattr(TF, name)(t, tt, **kw)
        close(eo, to)
        backward_both(eo, to)
        close(e.grad, t.grad)
    # weights
    w = rng.uniform(0.1, 2.0, (5, 3))
    for name in ["mse_loss", "l1_loss", "huber_loss"]:
        for red in ["mean", "sum", "none"]:
            (e, t), (et, tt), (ew, tw) = pair(x), pair(y), pair(w, requires_grad=False)
            eo, to = getattr(EF, name)(e, et, reduction=red, weight=ew), getattr(TF, name)(t, tt, reduction=red,
                                                                                           weight=tw)
            close(eo, to)
    p, tg = rng.uniform(0.05, 0.95, (5, 3)), rng.uniform(0, 1, (5, 3))
    (e, t), (et, tt), (ew, tw) = pair(p), pair(tg), pair(rng.uniform(0.5, 2, (3,)), requires_grad=False)
    eo, to = EF.binary_cross_entropy(e, et, weight=ew), TF.binary_cross_entropy(t, tt, weight=tw)
    close(eo, to)
    backward_both(eo, to)
    close(e.grad, t.grad)
    (e, t), (et, tt) = pair(x * 30), pair(tg)
    (ew, tw), (ep, tp) = pair(rng.uniform(0.5, 2, (3,)), requires_grad=False), pair(rng.uniform(0.5, 3, (3,)),
                                                                                  requires_grad=False)
    eo = EF.binary_cross_entropy_with_logits(e, et, weight=ew, pos_weight=ep)
    to = TF.binary_cross_entropy_with_logits(t, tt, weight=tw, pos_weight=tp)
    close(eo, to)
    backward_both(eo, to)
    close((e.grad, et.grad), (t.grad, tt.grad))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_three_input_losses_parity(reduction):
    x1, x2 = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    y = np.where(rng.uniform(size=6) > 0.5, 1.0, -1.0)
    for name, kw in [("cosine_embedding_loss", {"margin": 0.2}), ("margin_ranking_loss", {"margin": 0.3})]:
        a, b = (x1, x2) if name == "cosine_embedding_loss" else (x1[:, 0], x2[:, 0])
        (e1, t1), (e2, t2), (ey, ty) = pair(a), pair(b), pair(y, requires_grad=False)
        eo = getattr(EF, name)(e1, e2, ey, reduction=reduction, **kw)
        to = getattr(TF, name)(t1, t2, ty, reduction=reduction, **kw)
        close(eo, to)
        backward_both(eo, to)
        close((e1.grad, e2.grad), (t1.grad, t2.grad))
    for kw in [{}, {"swap": True, "p": 1.0, "margin": 2.0}]:
        (ea, ta), (ep, tp), (en, tn) = pair(x1), pair(x2), pair(rng.standard_normal((6, 4)))
        eo = EF.triplet_margin_loss(ea, ep, en, reduction=reduction, **kw)
        to = TF.triplet_margin_loss(ta, tp, tn, reduction=reduction, **kw)
        close(eo, to)
        backward_both(eo, to)
        close((ea.grad, ep.grad, en.grad), (ta.grad, tp.grad, tn.grad))


@pytest.mark.parametrize("var_shape", [(5, 3), (5,), (5, 1)])
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_parity(var_shape, full):
    (e, t), (et, tt) = pair(rng.standard_normal((5, 3))), pair(rng.standard_normal((5, 3)))
    v = rng.uniform(0, 2, var_shape)
    v.flat[0] = 1e-9   # below eps: clamped, gradient still flows
    ev, tv = pair(v)
    eo = EF.gaussian_nll_loss(e, et, ev, full=full)
    to = TF.gaussian_nll_loss(t, tt, tv, full=full)
    close(eo, to)
    backward_both(eo, to)
    close((e.grad, ev.grad), (t.grad, tv.grad), rtol=1e-9)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_parity(mode):
    w = rng.standard_normal((10, 3))
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 0])
    offsets = np.array([0, 4, 4, 8])
    for padding_idx in [None, 2]:
        ew, tw = pair(w)
        psw = rng.uniform(size=idx.shape) if mode == "sum" else None
        eo = EF.embedding_bag(ember.from_numpy(idx), ew, ember.from_numpy(offsets), mode=mode,
                              per_sample_weights=None if psw is None else ember.from_numpy(psw),
                              padding_idx=padding_idx)
        to = TF.embedding_bag(torch.from_numpy(idx), tw, torch.from_numpy(offsets), mode=mode,
                              per_sample_weights=None if psw is None else torch.from_numpy(psw),
                              padding_idx=padding_idx)
        close(eo, to)
        backward_both(eo, to)
        close(ew.grad, tw.grad)
    ew, tw = pair(w)
    idx2 = rng.integers(0, 10, (3, 4))
    eo = EF.embedding_bag(ember.from_numpy(idx2), ew, mode=mode)
    to = TF.embedding_bag(torch.from_numpy(idx2), tw, mode=mode)
    close(eo, to)
    ew, tw = pair(w)
    eo = EF.embedding_bag(ember.from_numpy(idx), ew, ember.from_numpy(np.array([0, 3, 7, 10])), mode=mode,
                          include_last_offset=True)
    to = TF.embedding_bag(torch.from_numpy(idx), tw, torch.from_numpy(np.array([0, 3, 7, 10])), mode=mode,
                          include_last_offset=True)
    close(eo, to)


# ---- layers: weights copied from torch --------------------------------------------------
def copy_weights(tm, em):
    sd = {k: ember.from_numpy(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    em.load_state_dict(sd)


def layer_check(em, tm, x, rtol=RTOL64, atol=ATOL64, train=True, grads=True):
    tm = tm.double()
    em = em.double()
    copy_weights(tm, em)
    em.train(train)
    tm.train(train)
    e, t = pair(x)
    eo, to = em(e), tm(t)
    close(eo, to, rtol, atol)
    if grads:
        backward_both(eo, to)
        close(e.grad, t.grad, rtol, atol)
        tp = dict(tm.named_parameters())
        for n, p in em.named_parameters():
            close(p.grad, tp[n].grad, rtol, atol)
    return em, tm


def test_linear_layers_parity():
    layer_check(enn.Linear(5, 3), tnn.Linear(5, 3), rng.standard_normal((4, 5)))
    layer_check(enn.Linear(5, 3, bias=False), tnn.Linear(5, 3, bias=False), rng.standard_normal((2, 4, 5)))
    em, tm = enn.Bilinear(3, 4, 2).double(), tnn.Bilinear(3, 4, 2).double()
    copy_weights(tm, em)
    (e1, t1), (e2, t2) = pair(rng.standard_normal((5, 3))), pair(rng.standard_normal((5, 4)))
    close(em(e1, e2), tm(t1, t2))
    layer_check(enn.PReLU(3), tnn.PReLU(3), rng.standard_normal((2, 3, 4)))


def test_linear_float32_parity():
    em, tm = enn.Linear(7, 5), tnn.Linear(7, 5)
    copy_weights(tm, em)
    x = rng.standard_normal((3, 7)).astype(np.float32)
    e, t = pair(x, dtype=np.float32)
    eo, to = em(e), tm(t)
    close(eo, to, RTOL32, ATOL32)
    backward_both(eo, to)
    close(em.weight.grad, tm.weight.grad, RTOL32, ATOL32)


def test_loss_modules_parity():
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    for name, kw in [("MSELoss", {}), ("L1Loss", {"reduction": "sum"}), ("SmoothL1Loss", {"beta": 0.5}),
                     ("HuberLoss", {"delta": 0.5}), ("SoftMarginLoss", {}), ("KLDivLoss", {"log_target": True})]:
        (e, t), (et, tt) = pair(x), pair(y, requires_grad=False)
        close(getattr(enn, name)(**kw)(e, et), getattr(tnn, name)(**kw)(t, tt))
        assert repr(getattr(enn, name)(**kw)) == repr(getattr(tnn, name)(**kw))


@has("cross_entropy", "nll_loss", "log_softmax")
def test_cross_entropy_module_parity():
    x = rng.standard_normal((6, 4))
    target = np.array([0, 3, 1, -100, 2, 2])
    w = rng.uniform(0.5, 2, 4)
    for kw in [{}, {"ignore_index": -100, "reduction": "sum"}, {"label_smoothing": 0.1}]:
        e, t = pair(x)
        em = enn.CrossEntropyLoss(weight=ember.from_numpy(w), **kw)
        tm = tnn.CrossEntropyLoss(weight=torch.from_numpy(w), **kw)
        eo, to = em(e, ember.from_numpy(target)), tm(t, torch.from_numpy(target))
        close(eo, to)
        backward_both(eo, to)
        close(e.grad, t.grad)
    e, t = pair(np.log(rng.uniform(0.1, 1, (6, 4))))
    tgt = np.array([0, 3, 1, 1, 2, 2])
    close(enn.NLLLoss()(e, ember.from_numpy(tgt)), tnn.NLLLoss()(t, torch.from_numpy(tgt)))


@has("conv1d", "conv2d")
@pytest.mark.parametrize("kw", [{}, {"stride": 2, "padding": 1}, {"padding": "same", "dilation": 2},
                                {"padding": "valid", "groups": 2, "bias": False},
                                {"padding": 1, "padding_mode": "reflect"}, {"padding": 2, "padding_mode": "circular"},
                                {"padding": "same", "padding_mode": "replicate"}])
def test_conv_parity(kw):
    layer_check(enn.Conv1d(4, 6, 3, **kw), tnn.Conv1d(4, 6, 3, **kw), rng.standard_normal((2, 4, 9)))
    layer_check(enn.Conv2d(4, 6, (3, 2), **kw), tnn.Conv2d(4, 6, (3, 2), **kw), rng.standard_normal((2, 4, 7, 6)))
    assert repr(enn.Conv2d(4, 6, (3, 2), **kw)) == repr(tnn.Conv2d(4, 6, (3, 2), **kw))


@has("conv3d")
def test_conv3d_parity():
    layer_check(enn.Conv3d(2, 4, 3, padding=1), tnn.Conv3d(2, 4, 3, padding=1), rng.standard_normal((1, 2, 4, 4, 4)))


@has("conv_transpose1d", "conv_transpose2d")
@pytest.mark.parametrize("kw", [{}, {"stride": 2, "padding": 1, "output_padding": 1}, {"groups": 2, "dilation": 2}])
def test_conv_transpose_parity(kw):
    layer_check(enn.ConvTranspose1d(4, 6, 3, **kw), tnn.ConvTranspose1d(4, 6, 3, **kw),
                rng.standard_normal((2, 4, 5)))
    layer_check(enn.ConvTranspose2d(4, 6, 3, **kw), tnn.ConvTranspose2d(4, 6, 3, **kw),
                rng.standard_normal((2, 4, 5, 4)))
    assert repr(enn.ConvTranspose2d(4, 6, 3, **kw)) == repr(tnn.ConvTranspose2d(4, 6, 3, **kw))


@has("conv_transpose2d")
def test_conv_transpose_output_size_parity():
    em, tm = enn.ConvTranspose2d(2, 3, 3, stride=2).double(), tnn.ConvTranspose2d(2, 3, 3, stride=2).double()
    copy_weights(tm, em)
    e, t = pair(rng.standard_normal((1, 2, 4, 4)))
    close(em(e, output_size=(10, 9)), tm(t, output_size=(10, 9)))


@has("max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
     "adaptive_max_pool1d", "adaptive_max_pool2d")
def test_pooling_parity():
    x2, x1 = rng.standard_normal((2, 3, 9, 8)), rng.standard_normal((2, 3, 11))
    for name, args, kw in [("MaxPool2d", (3,), {"stride": 2, "padding": 1}), ("MaxPool2d", (2,), {"ceil_mode": True}),
                           ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}),
                           ("AdaptiveAvgPool2d", ((3, 2),), {}), ("AdaptiveMaxPool2d", (3,), {})]:
        layer_check(getattr(enn, name)(*args, **kw), getattr(tnn, name)(*args, **kw), x2)
        assert repr(getattr(enn, name)(*args, **kw)) == repr(getattr(tnn, name)(*args, **kw))
    for name, args, kw in [("MaxPool1d", (3,), {"stride": 2}), ("AvgPool1d", (3,), {"stride": 2, "padding": 1}),
                           ("AdaptiveAvgPool1d", (4,), {}), ("AdaptiveMaxPool1d", (4,), {})]:
        layer_check(getattr(enn, name)(*args, **kw), getattr(tnn, name)(*args, **kw), x1)
        assert repr(getattr(enn, name)(*args, **kw)) == repr(getattr(tnn, name)(*args, **kw))


@has("batch_norm")
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_parity(momentum):
    em, tm = enn.BatchNorm2d(3, momentum=momentum).double(), tnn.BatchNorm2d(3, momentum=momentum).double()
    for step in range(3):
        x = rng.standard_normal((4, 3, 5, 5)) * (step + 1) + step
        e, t = pair(x)
        eo, to = em(e), tm(t)
        close(eo, to)
        backward_both(eo, to)
        close(e.grad, t.grad)
    close(em.running_mean, tm.running_mean)
    close(em.running_var, tm.running_var)
    assert em.num_batches_tracked.item() == tm.num_batches_tracked.item() == 3
    em.eval()
    tm.eval()
    x = rng.standard_normal((2, 3, 5, 5))
    close(em(ember.from_numpy(x)), tm(torch.from_numpy(x)))
    layer_check(enn.BatchNorm1d(4), tnn.BatchNorm1d(4), rng.standard_normal((8, 4)))
    layer_check(enn.BatchNorm1d(4, affine=False, track_running_stats=False),
                tnn.BatchNorm1d(4, affine=False, track_running_stats=False), rng.standard_normal((8, 4, 3)))
    assert repr(enn.BatchNorm1d(4, momentum=None)) == repr(tnn.BatchNorm1d(4, momentum=None))


@has("layer_norm", "group_norm", "rms_norm")
def test_norm_layers_parity():
    x = rng.standard_normal((2, 6, 4, 3))
    layer_check(enn.LayerNorm((4, 3)), tnn.LayerNorm((4, 3)), x)
    layer_check(enn.LayerNorm(3, bias=False), tnn.LayerNorm(3, bias=False), x)
    layer_check(enn.GroupNorm(3, 6), tnn.GroupNorm(3, 6), x)
    layer_check(enn.RMSNorm([3]), tnn.RMSNorm([3]), x)
    layer_check(enn.RMSNorm(3, eps=1e-3), tnn.RMSNorm(3, eps=1e-3), x)
    for m in [("LayerNorm", (4,)), ("GroupNorm", (3, 6)), ("RMSNorm", (4,))]:
        assert repr(getattr(enn, m[0])(*m[1])) == repr(getattr(tnn, m[0])(*m[1]))


@has("instance_norm")
def test_instance_norm_parity():
    layer_check(enn.InstanceNorm2d(3, affine=True), tnn.InstanceNorm2d(3, affine=True),
                rng.standard_normal((2, 3, 4, 4)))
    layer_check(enn.InstanceNorm1d(3), tnn.InstanceNorm1d(3), rng.standard_normal((3, 7)))
    assert repr(enn.InstanceNorm2d(3)) == repr(tnn.InstanceNorm2d(3))


@has("embedding")
def test_embedding_parity():
    idx = np.array([[1, 2, 0], [4, 0, 9]])
    em, tm = enn.Embedding(10, 3, padding_idx=0).double(), tnn.Embedding(10, 3, padding_idx=0).double()
    copy_weights(tm, em)
    eo, to = em(ember.from_numpy(idx)), tm(torch.from_numpy(idx))
    close(eo, to)
    backward_both(eo, to)
    close(em.weight.grad, tm.weight.grad)
    assert repr(em) == repr(tm)


def test_embedding_bag_module_parity():
    em, tm = enn.EmbeddingBag(10, 3, mode="sum").double(), tnn.EmbeddingBag(10, 3, mode="sum").double()
    copy_weights(tm, em)
    idx, off = np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 4])
    close(em(ember.from_numpy(idx), ember.from_numpy(off)), tm(torch.from_numpy(idx), torch.from_numpy(off)))
    assert repr(em) == repr(tm)


@has("pixel_shuffle", "pixel_unshuffle", "interpolate")
def test_resampling_parity():
    x = rng.standard_normal((1, 8, 3, 3))
    layer_check(enn.PixelShuffle(2), tnn.PixelShuffle(2), x)
    layer_check(enn.PixelUnshuffle(3), tnn.PixelUnshuffle(3), x)
    layer_check(enn.Upsample(scale_factor=2), tnn.Upsample(scale_factor=2), x)
    layer_check(enn.Upsample(size=(5, 4), mode="bilinear", align_corners=False),
                tnn.Upsample(size=(5, 4), mode="bilinear", align_corners=False), x)
    assert repr(enn.Upsample(scale_factor=2)) == repr(tnn.Upsample(scale_factor=2))


def test_repr_matches_torch():
    def build(nn):
        return nn.Sequential(nn.Linear(2, 3), nn.ReLU(inplace=True),
                             nn.ModuleList([nn.Linear(3, 3) for _ in range(3)] + [nn.Tanh()]),
                             nn.ModuleDict({"a": nn.Conv2d(1, 2, 3), "b": nn.BatchNorm2d(3)}),
                             nn.Sequential(nn.Dropout(0.1), nn.Flatten(), nn.Unflatten(1, (2, 3))),
                             nn.LayerNorm(4), nn.Embedding(5, 2), nn.CrossEntropyLoss(), nn.Identity())
    assert repr(build(enn)) == repr(build(tnn))


def test_init_fan_and_bounds_match_torch():
    for shape in [(5, 3), (4, 2, 3, 3), (6, 1, 5)]:
        a = np.empty(shape)
        e = ember.from_numpy(a.copy())
        t = torch.from_numpy(a.copy())
        assert enn.init._calculate_fan_in_and_fan_out(e) == tnn.init._calculate_fan_in_and_fan_out(t)
    for nl, p in [("relu", None), ("leaky_relu", 0.2), ("tanh", None), ("selu", None), ("conv2d", None)]:
        assert enn.init.calculate_gain(nl, p) == tnn.init.calculate_gain(nl, p)


def test_clip_grad_norm_matches_torch():
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    for norm_type in [2.0, 1.0, float("inf"), 3.0]:
        eps, tps = [], []
        for g in grads:
            e, t = pair(np.zeros_like(g))
            (e * ember.from_numpy(g)).sum().backward()
            (t * torch.from_numpy(g)).sum().backward()
            eps.append(e)
            tps.append(t)
        en = enn.utils.clip_grad_norm_(eps, 0.5, norm_type=norm_type)
        tn = torch.nn.utils.clip_grad_norm_(tps, 0.5, norm_type=norm_type)
        close(en, tn)
        for e, t in zip(eps, tps):
            close(e.grad, t.grad)
