"""The nn / training rows of `python -m bench`: layers, whole models, optimizers, DataLoader.

Each factory takes the sizes and returns `make(quick)`, which returns `(ember_fn, torch_fn, bytes
moved or None, flops or None)` like the cases in bench/run.py. Both sides get the same weights (the
torch model is built first and its state_dict copied into the ember one) and the same inputs. Before
a case is timed, its ember side runs once and its result is compared with torch's: an ember error
or a mismatch makes the row `skipped:` with the reason, so the benchmark always runs to the end.

FLOP counts: conv rows count 2*N*Cout*H*W*Cin*k*k per pass (fwd+bwd rows: 3 passes, forward,
input grad, weight grad); the causal attention row counts QK^T and PV halved for the mask, with
backward as 2.5x forward. Model rows count their convolutions and matmuls only (layer_flops,
encoder_flops; the LSTM LM its gate GEMMs and its output layer), a training step as 3 forwards.
Training steps report steps/s or images/s in their name.

The peak-RSS rows (peak_rss) are not timed: their make() returns the row itself, a dict of MB
figures measured in subprocesses by bench/memory.py.

tests/test_bench_cases.py builds every case at a tiny size with the same factories.
"""
import os
import warnings

import numpy as np

from . import run as _bench_run  # first: it puts the in-tree build on sys.path under EMBER_INPLACE
from .models import encoder, lstm_lm, mlp, mobilenet_v2, resnet18  # noqa: F401 (written against an `nn`)

import ember  # noqa: E402

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

# bench.run, for Skip; cases() hands in the calling module (under `python -m bench.run` that is
# __main__, whose Skip is another class than bench.run's)
_run = _bench_run


def _R():
    return _run


def _skip(msg):
    raise _R().Skip(msg)


def _libs():
    """(ember, torch) namespaces: (lib, nn, F, optim)."""
    import ember.nn
    import ember.nn.functional
    import ember.optim
    import torch.nn.functional
    return ((ember, ember.nn, ember.nn.functional, ember.optim),
            (torch, torch.nn, torch.nn.functional, torch.optim))


def _seed(s=0):
    torch.manual_seed(s)
    ember.manual_seed(s)


def _np(t):
    t = t.detach() if hasattr(t, "detach") else t
    return np.asarray(t.numpy(), dtype=np.float64)


def _guard(fn, what):
    """Runs the ember side once; any exception becomes a Skip naming `what`."""
    try:
        return fn()
    except _R().Skip:
        raise
    except Exception as e:  # a broken op should skip its row, not end the benchmark
        msg = " ".join(str(e).split())
        _skip(f"{what}: {type(e).__name__}: {msg[:110]}")


def _check(e, t, what, rtol=2e-3, atol=2e-3):
    """Skips the row when ember's result differs from torch's (a wrong answer is not a timing)."""
    a, b = _np(e), _np(t)
    if a.shape != b.shape:
        _skip(f"{what}: ember shape {a.shape}, torch {b.shape}")
    if not np.allclose(a, b, rtol=rtol, atol=atol * max(1.0, float(np.abs(b).max(initial=0)))):
        _skip(f"{what}: ember differs from torch (max abs err {np.abs(a - b).max():.3g})")


def _copy_weights(tm, em):
    sd = {k: ember.from_numpy(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    _guard(lambda: em.load_state_dict(sd), "load_state_dict from torch's weights")


def _pair(a, grad=False):
    e, t = ember.from_numpy(a.copy()), torch.from_numpy(a.copy())
    if grad:
        e.requires_grad_()
        t.requires_grad_()
    return e, t


def _rand(shape, seed=0, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape, dtype=np.float32) * scale).astype(np.float32)


def _clear(*ts):
    for t in ts:
        t.grad = None


# ---- one model in both libraries (the models themselves: bench/models.py) -----------------------
def _models(build, **kw):
    """The same model in torch and ember, ember holding torch's weights."""
    (_, En, _, _), (_, Tn, _, _) = _libs()
    _seed()
    tm = build(Tn, **kw)
    em = _guard(lambda: build(En, **kw), f"building {build.__name__} with ember.nn")
    _copy_weights(tm, em)
    return em, tm


# ---- layer rows -----------------------------------------------------------------------------
def conv2d(N=8, C=64, H=56, backward=False):
    def make(quick):
        (E, _, EF, _), (T, _, TF, _) = _libs()
        ex, tx = _pair(_rand((N, C, H, H)), grad=backward)
        ew, tw = _pair(_rand((C, C, 3, 3), seed=1, scale=(1 / (9 * C)) ** 0.5), grad=backward)
        flops = 2.0 * N * C * H * H * C * 9
        if not backward:
            def run(lib, F, x, w):
                with lib.no_grad():
                    return F.conv2d(x, w, padding=1)
            fe, ft = (lambda: run(E, EF, ex, ew)), (lambda: run(T, TF, tx, tw))
            _check(_guard(fe, "conv2d"), ft(), "conv2d")
            return fe, ft, None, flops
        eg, tg = _pair(_rand((N, C, H, H), seed=2))

        def run(F, x, w, g):
            y = F.conv2d(x, w, padding=1)
            y.backward(g)
            gx, gw = x.grad, w.grad
            _clear(x, w)
            return gx, gw
        fe, ft = (lambda: run(EF, ex, ew, eg)), (lambda: run(TF, tx, tw, tg))
        (egx, egw), (tgx, tgw) = _guard(fe, "conv2d backward"), ft()
        _check(egx, tgx, "conv2d input grad")
        _check(egw, tgw, "conv2d weight grad")
        return fe, ft, None, 3 * flops
    return make


def lstm(I=128, H=256, T=50, B=32):
    def make(quick):
        (_, En, _, _), (_, Tn, _, _) = _libs()
        _seed()
        tm = Tn.LSTM(I, H)
        em = _guard(lambda: En.LSTM(I, H), "ember.nn.LSTM")
        _copy_weights(tm, em)
        ex, tx = _pair(_rand((T, B, I)))
        eg, tg = _pair(_rand((T, B, H), seed=1))

        def run(m, x, g):
            out, _ = m(x)  # (T, B, H)
            out.backward(g)
            gw = m.weight_hh_l0.grad
            m.zero_grad()
            return out, gw
        fe, ft = (lambda: run(em, ex, eg)), (lambda: run(tm, tx, tg))
        (eo, egw), (to, tgw) = _guard(fe, "LSTM fwd+bwd"), ft()
        _check(eo, to, "LSTM output")
        _check(egw, tgw, "LSTM weight_hh grad")
        return fe, ft, None, None
    return make


def _train_step(model, opt, x, y, loss_fn):
    def step():
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss
    return step


def layer_flops(tm, tx):
    """FLOPs of one forward of torch model tm on tx, counting its Conv2d and Linear layers (2 per
    multiply-add; a depthwise conv counts its groups) through forward hooks, in eval mode."""
    Tn = torch.nn
    total = [0]

    def hook(m, inp, out):
        if isinstance(m, Tn.Conv2d):
            total[0] += 2 * out.numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
        else:
            total[0] += 2 * out.numel() * m.in_features
    was_training = tm.training
    tm.eval()
    hooks = [m.register_forward_hook(hook) for m in tm.modules() if isinstance(m, (Tn.Conv2d, Tn.Linear))]
    try:
        with torch.no_grad():
            tm(tx)
    finally:
        for h in hooks:
            h.remove()
        tm.train(was_training)
    return float(total[0])


def encoder_flops(tm, tx):
    """FLOPs of one forward of a batch-first torch TransformerEncoder on tx (B, T, d): per layer the
    q/k/v and output projections, QK^T and PV, and the two MLP matmuls."""
    B, T, d = tx.shape
    ff = tm.layers[0].linear1.out_features
    return float(len(tm.layers) * (2 * B * T * d * (4 * d + 2 * ff) + 4 * B * T * T * d))


def train(build, N, in_shape, num_classes=None, opt="sgd", flops=None, **kw):
    """One training step of build(nn) at batch N: forward, loss, backward, optimizer step, zero_grad.
    With num_classes: cross_entropy against random labels, SGD(lr=0.01, momentum=0.9); without:
    mean-square of the output, AdamW(lr=1e-4). flops(torch_model, torch_input), when given, counts
    one forward; the step counts 3 of them (forward, input grads, weight grads)."""
    def make(quick):
        (_, _, EF, Eo), (_, _, TF, To) = _libs()
        em, tm = _models(build, **kw)
        em.train()
        tm.train()
        ex, tx = _pair(_rand((N,) + tuple(in_shape)))
        if num_classes:
            ey, ty = _pair(np.random.default_rng(1).integers(0, num_classes, N))
            eloss, tloss = EF.cross_entropy, TF.cross_entropy
        else:
            ey = ty = None
            eloss, tloss = (lambda out, _: (out * out).mean()), (lambda out, _: (out * out).mean())
        if opt == "sgd":
            eopt = _guard(lambda: Eo.SGD(em.parameters(), lr=0.01, momentum=0.9), "optim.SGD")
            topt = To.SGD(tm.parameters(), lr=0.01, momentum=0.9)
        else:
            eopt = _guard(lambda: Eo.AdamW(em.parameters(), lr=1e-4), "optim.AdamW")
            topt = To.AdamW(tm.parameters(), lr=1e-4)
        fe, ft = _train_step(em, eopt, ex, ey, eloss), _train_step(tm, topt, tx, ty, tloss)
        _check(_guard(fe, f"{build.__name__} training step"), ft(), f"{build.__name__} loss")
        return fe, ft, None, 3 * flops(tm, tx) if flops else None
    return make


def infer(build, N, in_shape, flops=None, **kw):
    """build(nn)'s forward at batch N in eval mode under no_grad; flops as for train()."""
    def make(quick):
        (E, _, _, _), (T, _, _, _) = _libs()
        em, tm = _models(build, **kw)
        em.eval()
        tm.eval()
        ex, tx = _pair(_rand((N,) + tuple(in_shape)))

        def run(lib, m, x):
            with lib.no_grad():
                return m(x)
        fe, ft = (lambda: run(E, em, ex)), (lambda: run(T, tm, tx))
        _check(_guard(fe, f"{build.__name__} eval forward"), ft(), f"{build.__name__} output")
        return fe, ft, None, flops(tm, tx) if flops else None
    return make


def lm_train(T=35, B=32, vocab=10000, dim=256, layers=2, clip=0.25):
    """One training step of the LSTM language model on (T, B) tokens: forward, cross_entropy against
    the next tokens, backward, clip_grad_norm_(clip), SGD(lr=1) step, zero_grad. The check compares
    the loss and the gradient norm that clipping returns (so the gradients are checked too)."""
    def make(quick):
        (_, En, EF, Eo), (_, Tn, TF, To) = _libs()
        em, tm = _models(lstm_lm, vocab=vocab, dim=dim, layers=layers)
        em.train()
        tm.train()
        tokens = np.random.default_rng(1).integers(0, vocab, (T + 1, B))
        ex, tx = _pair(tokens[:-1])  # (T, B)
        ey, ty = _pair(tokens[1:].reshape(-1))  # (T * B,): the next token at every position
        eopt = _guard(lambda: Eo.SGD(em.parameters(), lr=1.0), "optim.SGD")
        topt = To.SGD(tm.parameters(), lr=1.0)

        def step(model, opt, F, nn, x, y):
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            opt.zero_grad()
            return loss, norm
        fe, ft = (lambda: step(em, eopt, EF, En, ex, ey)), (lambda: step(tm, topt, TF, Tn, tx, ty))
        (el, en), (tl, tn) = _guard(fe, "LSTM LM training step"), ft()
        _check(el, tl, "LSTM LM loss")
        _check(en, tn, "LSTM LM gradient norm (clip_grad_norm_)")
        fwd = T * B * (layers * 2 * 4 * dim * 2 * dim + 2 * dim * vocab)  # gates (input and hidden GEMMs), head
        return fe, ft, None, 3.0 * fwd
    return make


# ---- peak memory ------------------------------------------------------------------------------
def peak_rss(config, steps=3, overrides=None):
    """Peak RSS of `steps` training steps of bench.memory.CONFIGS[config], ember and torch each in a
    fresh subprocess with this process's thread counts. make() returns a row dict (ember_mb,
    torch_mb: the peaks; ratio; ember_base_mb, torch_base_mb: RSS after import and construction;
    ember_loop_mb, torch_loop_mb: what the loop added to it) instead of the callables of a timed
    case. The two sides are not compared: each process draws its own weights."""
    def make(quick):
        from . import memory
        path = os.path.dirname(os.path.dirname(os.path.abspath(ember.__file__)))
        res = {}
        for name, lib in (("ember", ember), ("torch", torch)):
            try:
                res[name] = memory.measure(name, config, steps, lib.get_num_threads(), path, overrides)
            except Exception as e:  # a failed child skips the row
                _skip(" ".join(str(e).split())[:200])
            if not np.isfinite(res[name]["loss"]):
                _skip(f"{name}'s training loss is {res[name]['loss']}")
        e, t = res["ember"], res["torch"]
        return {"ember_mb": e["peak_mb"], "torch_mb": t["peak_mb"], "ratio": e["peak_mb"] / t["peak_mb"],
                "ember_base_mb": e["base_mb"], "torch_base_mb": t["base_mb"],
                "ember_loop_mb": e["peak_mb"] - e["base_mb"], "torch_loop_mb": t["peak_mb"] - t["base_mb"],
                "steps": steps}
    return make


# ---- DataLoader -----------------------------------------------------------------------------
def dataloader(n=20000, batch=64, workers=0):
    def make(quick):
        import torch.utils.data as tud
        # torch warns when workers outnumber the cores; the row measures exactly that on 2 cores
        warnings.filterwarnings("ignore", message="This DataLoader will create", category=UserWarning)
        ED = _guard(lambda: __import__("ember.data").data, "import ember.data")
        imgs = _rand((n, 1, 28, 28))
        labels = np.random.default_rng(1).integers(0, 10, n)
        kw = dict(batch_size=batch, shuffle=True, num_workers=workers)
        if workers:
            kw["persistent_workers"] = True
        _seed()
        eds = ED.TensorDataset(ember.from_numpy(imgs.copy()), ember.from_numpy(labels.copy()))
        el = _guard(lambda: ED.DataLoader(eds, **kw), "ember.data.DataLoader")
        tl = tud.DataLoader(tud.TensorDataset(torch.from_numpy(imgs.copy()), torch.from_numpy(labels.copy())), **kw)

        def epoch(loader):
            k = 0
            for x, _ in loader:
                k += x.shape[0]
            return k
        fe, ft = (lambda: epoch(el)), (lambda: epoch(tl))
        got = _guard(fe, f"DataLoader(num_workers={workers}) epoch")
        if got != n:
            _skip(f"DataLoader(num_workers={workers}): an epoch gave {got} samples, expected {n}")
        return fe, ft, n * (28 * 28 * 4 + 8), None
    return make


# ---- kernel rows ----------------------------------------------------------------------------
def softmax(shape=(64, 128, 512)):
    def make(quick):
        (_, _, EF, _), (_, _, TF, _) = _libs()
        ex, tx = _pair(_rand(shape))
        fe, ft = (lambda: EF.softmax(ex, dim=-1)), (lambda: TF.softmax(tx, dim=-1))
        _check(_guard(fe, "softmax"), ft(), "softmax")
        return fe, ft, 2 * 4 * int(np.prod(shape)), None
    return make


def _fwd_bwd(name, f_e, f_t, inputs, g_shape=None):
    """Forward f(*inputs) and backward (of a fixed grad, or of the scalar); returns the grads."""
    def run(f, xs, g):
        y = f(*xs)
        y.backward(g) if g is not None else y.backward()
        gs = [x.grad for x in xs if x.requires_grad]
        _clear(*xs)
        return y, gs
    eg = tg = None
    if g_shape is not None:
        eg, tg = _pair(_rand(g_shape, seed=9))
    exs = [i[0] for i in inputs]
    txs = [i[1] for i in inputs]
    fe, ft = (lambda: run(f_e, exs, eg)), (lambda: run(f_t, txs, tg))
    (ey, egs), (ty, tgs) = _guard(fe, f"{name} fwd+bwd"), ft()
    _check(ey, ty, f"{name} output")
    for k, (a, b) in enumerate(zip(egs, tgs)):
        _check(a, b, f"{name} grad of input {k}")
    return fe, ft


def cross_entropy(N=4096, C=1000):
    def make(quick):
        (_, _, EF, _), (_, _, TF, _) = _libs()
        x = _pair(_rand((N, C)), grad=True)
        t = _pair(np.random.default_rng(1).integers(0, C, N))
        fe, ft = _fwd_bwd("cross_entropy", EF.cross_entropy, TF.cross_entropy, [x, t])
        return fe, ft, 3 * 4 * N * C, None
    return make


def layer_norm(N=64 * 128, D=512):
    def make(quick):
        (_, _, EF, _), (_, _, TF, _) = _libs()
        ins = [_pair(_rand((N, D)), grad=True), _pair(1 + 0.1 * _rand(D, seed=1), grad=True),
               _pair(0.1 * _rand(D, seed=2), grad=True)]
        fe, ft = _fwd_bwd("layer_norm", lambda x, w, b: EF.layer_norm(x, (D,), w, b),
                          lambda x, w, b: TF.layer_norm(x, (D,), w, b), ins, g_shape=(N, D))
        return fe, ft, 5 * 4 * N * D, None  # fwd: read x, write y; bwd: read x, g, write dx
    return make


def batch_norm(shape=(32, 64, 32, 32)):
    def make(quick):
        (_, _, EF, _), (_, _, TF, _) = _libs()
        C = shape[1]
        erm, trm = _pair(np.zeros(C, np.float32))
        erv, trv = _pair(np.ones(C, np.float32))
        ins = [_pair(_rand(shape), grad=True), _pair(1 + 0.1 * _rand(C, seed=1), grad=True),
               _pair(0.1 * _rand(C, seed=2), grad=True)]
        fe, ft = _fwd_bwd("batch_norm", lambda x, w, b: EF.batch_norm(x, erm, erv, w, b, training=True),
                          lambda x, w, b: TF.batch_norm(x, trm, trv, w, b, training=True), ins, g_shape=shape)
        return fe, ft, 5 * 4 * int(np.prod(shape)), None
    return make


def sdpa(B=4, H=8, T=512, D=64):
    def make(quick):
        (_, _, EF, _), (_, _, TF, _) = _libs()
        ins = [_pair(_rand((B, H, T, D), seed=s), grad=True) for s in range(3)]
        fe, ft = _fwd_bwd("scaled_dot_product_attention",
                          lambda q, k, v: EF.scaled_dot_product_attention(q, k, v, is_causal=True),
                          lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True),
                          ins, g_shape=(B, H, T, D))
        return fe, ft, None, 3.5 * (4.0 * B * H * T * T * D / 2)
    return make


def max_pool2d(shape=(32, 64, 56, 56)):
    def make(quick):
        (_, _, EF, _), (_, _, TF, _) = _libs()
        n, c, h, w = shape
        oh, ow = (h + 2 - 3) // 2 + 1, (w + 2 - 3) // 2 + 1
        fe, ft = _fwd_bwd("max_pool2d", lambda x: EF.max_pool2d(x, 3, 2, 1), lambda x: TF.max_pool2d(x, 3, 2, 1),
                          [_pair(_rand(shape), grad=True)], g_shape=(n, c, oh, ow))
        return fe, ft, None, None
    return make


def adamw_step(tensors=10, numel=1 << 20):
    def make(quick):
        (_, En, _, Eo), (_, Tn, _, To) = _libs()
        eps, tps = [], []
        for i in range(tensors):
            ep = En.Parameter(ember.from_numpy(_rand(numel, seed=i)))
            tp = Tn.Parameter(torch.from_numpy(_rand(numel, seed=i)))
            eg, tg = _pair(_rand(numel, seed=100 + i))
            ep.grad, tp.grad = eg, tg
            eps.append(ep)
            tps.append(tp)
        eopt = _guard(lambda: Eo.AdamW(eps, lr=1e-3), "optim.AdamW")
        topt = To.AdamW(tps, lr=1e-3)
        _guard(eopt.step, "AdamW.step")
        topt.step()
        _check(eps[0], tps[0], "AdamW parameter after one step")
        # per element: read p, g, m, v; write p, m, v
        return eopt.step, topt.step, 7 * 4 * tensors * numel, None
    return make


def cases(quick, run=None):
    global _run
    if run is not None:
        _run = run
    return [
        ("conv2d 3x3 64->64 56x56 b8 fwd (no grad)", conv2d()),
        ("conv2d 3x3 64->64 56x56 b8 fwd+bwd", conv2d(backward=True)),
        ("LSTM 128->256 T=50 b32 fwd+bwd", lstm()),
        ("LSTM LM 2x256 vocab 10k T35 b32 train step", lm_train()),
        ("MLP 784-512-512-10 b128 train step (steps/s=1/t)", train(mlp, 128, (784,), num_classes=10)),
        ("ResNet-18 CIFAR b32 train step (images/s=32/t)",
         train(resnet18, 32, (3, 32, 32), num_classes=10, flops=layer_flops)),
        ("ResNet-18 CIFAR b32 eval fwd (images/s=32/t)", infer(resnet18, 32, (3, 32, 32), flops=layer_flops)),
        ("ResNet-18 CIFAR b1 eval fwd (images/s=1/t)", infer(resnet18, 1, (3, 32, 32), flops=layer_flops)),
        ("MobileNetV2-style CIFAR b32 train step (images/s=32/t)",
         train(mobilenet_v2, 32, (3, 32, 32), num_classes=10, flops=layer_flops)),
        ("MobileNetV2-style CIFAR b32 eval fwd (images/s=32/t)",
         infer(mobilenet_v2, 32, (3, 32, 32), flops=layer_flops)),
        ("Transformer enc 4x256 T128 b16 AdamW train step",
         train(encoder, 16, (128, 256), opt="adamw", flops=encoder_flops)),
        ("Transformer enc 4x256 T128 b16 eval fwd (no grad)", infer(encoder, 16, (128, 256), flops=encoder_flops)),
        ("DataLoader 20k 1x28x28 b64 epoch, 0 workers", dataloader(workers=0)),
        ("DataLoader 20k 1x28x28 b64 epoch, 2 workers", dataloader(workers=2)),
        ("DataLoader 20k 1x28x28 b64 epoch, 4 workers", dataloader(workers=4)),
        ("softmax (64,128,512) last dim fwd", softmax()),
        ("cross_entropy (4096,1000) fwd+bwd", cross_entropy()),
        ("layer_norm (8192,512) fwd+bwd", layer_norm()),
        ("batch_norm train (32,64,32,32) fwd+bwd", batch_norm()),
        ("sdpa causal B4 H8 T512 D64 fwd+bwd", sdpa()),
        ("max_pool2d 3x3 s2 p1 (32,64,56,56) fwd+bwd", max_pool2d()),
        ("AdamW step, 10 x 1M params", adamw_step()),
        ("peak RSS, ResNet-18 CIFAR b32 train, 3 steps", peak_rss("resnet18")),
        ("peak RSS, Transformer enc 4x256 T128 b16 AdamW train, 3 steps", peak_rss("encoder")),
    ]
