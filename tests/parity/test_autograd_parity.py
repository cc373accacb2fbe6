"""Autograd against PyTorch: op gradients from tests/autograd/grad_specs.py, and engine behaviour.

For every op entry the same float64 inputs (contiguous, and non-contiguous where the op takes
them) go to ember and torch: values, first-order input gradients for the same random upstream
gradient, and, for ops claiming double backward, second-order gradients (with create_graph=True,
with respect to the inputs and to the upstream gradient) must agree to ~1e-10 relative.

Then scenarios of engine behaviour written once over the module (`m` is ember or torch) and
compared: hook order and replacement, accumulation, retain_grad, autograd.grad with
allow_unused / materialize_grads, custom Functions, higher-order gradients, in-place rewrites.
"""
import os
import sys
import zlib

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "autograd"))
import ember  # noqa: E402
from grad_specs import SPECS, make_input  # noqa: E402

torch = pytest.importorskip("torch")

RTOL = 1e-10


def _np(t):
    if t is None:
        return None
    if isinstance(t, (list, tuple)):
        return [_np(u) for u in t]
    if isinstance(t, torch.Tensor):  # force: torch may hand back a lazy ZeroTensor
        return np.asarray(t.detach().numpy(force=True), dtype=np.float64)
    if hasattr(t, "detach"):
        return np.asarray(t.detach().numpy(), dtype=np.float64)
    return t


# torch's trigamma (polygamma(1, x), the derivative of digamma and the second one of lgamma) is
# accurate to about 5e-10 relative against scipy.special.polygamma; ember's to about 1e-14.
LOOSE = {"digamma": 2e-9, "lgamma": 2e-9, "lgamma[negative]": 2e-9}


def _close(e, t, what, rtol=RTOL):
    """ember's values e against torch's t (NumPy arrays; None is a zero gradient)."""
    if e is None and t is None:
        return
    if e is None or t is None:
        other = t if e is None else e
        assert not np.any(other), f"{what}: {'ember' if e is None else 'torch'} gave None, the other {other}"
        return
    assert np.shape(e) == np.shape(t), f"{what}: shape {np.shape(e)} (ember) != {np.shape(t)} (torch)"
    finite = np.asarray(t)[np.isfinite(t)]
    scale = max(1.0, float(np.max(np.abs(finite)))) if finite.size else 1.0
    np.testing.assert_allclose(e, t, rtol=rtol, atol=1e-12 * scale, equal_nan=True, err_msg=what)


def _upstream(spec, outs, tag):
    rng = np.random.default_rng(zlib.crc32(f"{spec.id}/{tag}".encode()))
    return [rng.uniform(-1, 1, tuple(o.shape)) for o in outs]


def _grads(m, spec, arrays, layout, second_order):
    xs = [make_input(m, a, layout) for a in arrays]
    outs = spec.call(m, *xs)
    vs = [make_input(m, v, "contig", requires_grad=second_order) for v in _upstream(spec, outs, "v")]
    g1 = m.autograd.grad(outs, xs, vs, create_graph=second_order, allow_unused=True)
    res = {"values": [_np(o) for o in outs], "grads": [_np(g) for g in g1]}
    if second_order:
        rng = np.random.default_rng(zlib.crc32(f"{spec.id}/w".encode()))
        terms = [(g * make_input(m, rng.uniform(-1, 1, tuple(g.shape)), "contig", False)).sum()
                 for g in g1 if g is not None and g.requires_grad]
        if not terms:  # constant first-order gradients (pow(x, 0)): all second-order ones are zero
            res["second"] = [None] * (len(xs) + len(vs))
            return res
        s = terms[0]
        for t in terms[1:]:
            s = s + t
        g2 = m.autograd.grad(s, xs + vs, allow_unused=True)
        res["second"] = [_np(g) for g in g2]
    return res


def _cases():
    out = []
    for s in SPECS:
        out.append(pytest.param(s, "contig", id=f"{s.id}-contig"))
        if s.nc:
            out.append(pytest.param(s, "noncontig", id=f"{s.id}-noncontig"))
    return out


@pytest.mark.parametrize("spec,layout", _cases())
def test_op_grad_parity(spec, layout):
    arrays = spec.arrays(seed=3)
    second = spec.gg and layout == "contig"
    e = _grads(ember, spec, arrays, layout, second)
    t = _grads(torch, spec, arrays, layout, second)
    assert len(e["values"]) == len(t["values"]), "number of outputs"
    for i, (a, b) in enumerate(zip(e["values"], t["values"])):
        _close(a, b, f"{spec.id}: output {i}")
    rtol = LOOSE.get(spec.id, RTOL)
    for i, (a, b) in enumerate(zip(e["grads"], t["grads"])):
        _close(a, b, f"{spec.id}: d/d input {i}", rtol)
    if second:
        n = len(arrays)
        for i, (a, b) in enumerate(zip(e["second"], t["second"])):
            what = f"input {i}" if i < n else f"upstream gradient {i - n}"
            _close(a, b, f"{spec.id}: second order, d/d {what}", rtol)


# ---- engine behaviour, written once over the module ---------------------------------------------------------
def _leaf(m, values):
    return m.from_numpy(np.array(values, dtype=np.float64)).requires_grad_(True)


def scenario_hook_order(m):
    log = []
    x = _leaf(m, [1.0, -2.0, 3.0])
    y = x * 2
    y.register_hook(lambda g: log.append(("y1", _np(g).tolist())) or g * 3)
    h = y.register_hook(lambda g: log.append(("removed", 0)))
    y.register_hook(lambda g: log.append(("y2", _np(g).tolist())) or g + 1)
    h.remove()
    x.register_hook(lambda g: log.append(("x", _np(g).tolist())))
    x.register_post_accumulate_grad_hook(lambda p: log.append(("post", _np(p.grad).tolist())))
    (y * y).sum().backward()
    return {"log": log, "x.grad": _np(x.grad)}


def scenario_accumulate(m):
    x = _leaf(m, [0.5, 1.5, -1.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    first = _np(x.grad).copy()
    y.backward()
    z = (x.exp() * 2).sum()
    z.backward(inputs=[x])
    return {"first": first, "final": _np(x.grad)}


def scenario_retain_grad(m):
    x = _leaf(m, [1.0, 2.0, 3.0])
    y = x * x
    y.retain_grad()
    y.register_hook(lambda g: g * 10)  # retain_grad stores the gradient after the tensor's hooks
    z = (y * x).sum()
    z.backward()
    w = x * 3
    return {"y.grad": _np(y.grad), "x.grad": _np(x.grad), "y.retains": y.retains_grad,
            "x.retains": x.retains_grad, "w.retains": w.retains_grad}


def scenario_grad_unused(m):
    a = _leaf(m, [1.0, 2.0])
    b = _leaf(m, [3.0, 4.0])
    y = (a * a).sum()
    r1 = m.autograd.grad(y, [a, b], allow_unused=True, retain_graph=True)
    r2 = m.autograd.grad(y, [a, b], allow_unused=True, materialize_grads=True, retain_graph=True)
    try:
        m.autograd.grad(y, [a, b], retain_graph=True)
        raised = False
    except RuntimeError:
        raised = True
    return {"r1": _np(list(r1)), "r2": _np(list(r2)), "raised": raised, "a.grad": a.grad is None}


def scenario_function(m):
    log = {}

    class Split(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, k, w):
            ctx.save_for_backward(x, w)
            ctx.k = k
            log["needs"] = tuple(ctx.needs_input_grad)
            idx = (x > 0).long()
            ctx.mark_non_differentiable(idx)
            return x * w * k, x.sin(), idx

        @staticmethod
        def backward(ctx, g1, g2, g3):
            x, w = ctx.saved_tensors
            log["g2"] = _np(g2)
            return g1 * w * ctx.k + g2 * x.cos(), None, (g1 * x * ctx.k).sum(0)

    x = _leaf(m, [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    w = _leaf(m, [2.0, -3.0, 0.5])
    a, b, i = Split.apply(x, 1.5, w)
    a.sum().backward()  # b unused: its gradient is materialized as zeros
    return {"x.grad": _np(x.grad), "w.grad": _np(w.grad), "needs": log["needs"], "g2": log["g2"],
            "idx.requires_grad": i.requires_grad, "b.requires_grad": b.requires_grad}


def scenario_higher_order(m):
    x = _leaf(m, [0.5, -1.5, 2.0])
    y = (x ** 3 + x.sin() * x).sum()
    (g,) = m.autograd.grad(y, x, create_graph=True)
    (h,) = m.autograd.grad(g.sum(), x, create_graph=True)
    (t,) = m.autograd.grad((h * h).sum(), x)
    return {"g": _np(g), "h": _np(h), "t": _np(t)}


def scenario_inplace(m):
    x = _leaf(m, [1.0, 2.0, 3.0, 4.0])
    w = _leaf(m, 5.0)
    y = x.clone()
    y[1:].mul_(2)
    y[0] = w * w
    v = y[2:]
    y.mul_(y.detach() + 1)
    (v * v).sum().backward()
    return {"x.grad": _np(x.grad), "w.grad": _np(w.grad), "v": _np(v)}


def scenario_node_hooks(m):
    log = []
    x = _leaf(m, [1.0, 2.0])
    y = x.exp()
    node = y.grad_fn
    node.register_prehook(lambda go: log.append(("pre", _np(list(go)))) or (go[0] * 2,))
    node.register_hook(lambda gi, go: log.append(("post", _np(list(gi)), _np(list(go)))))
    y.sum().backward()
    return {"log": log, "x.grad": _np(x.grad), "name": node.name()}


def scenario_mixed_dtypes(m):
    a = m.from_numpy(np.array([1.0, 2.0], dtype=np.float32)).requires_grad_(True)
    b = _leaf(m, [3.0, -4.0])
    (a * b).sum().backward()
    return {"a.dtype": str(a.grad.dtype).split(".")[-1], "b.dtype": str(b.grad.dtype).split(".")[-1],
            "a.grad": _np(a.grad), "b.grad": _np(b.grad)}


SCENARIOS = {name[len("scenario_"):]: fn for name, fn in globals().items() if name.startswith("scenario_")}


def _compare(e, t, path):
    if isinstance(t, dict):
        assert set(e) == set(t), path
        for k in t:
            _compare(e[k], t[k], f"{path}.{k}")
    elif isinstance(t, (list, tuple)) and not isinstance(t, np.ndarray):
        assert isinstance(e, (list, tuple)) and len(e) == len(t), f"{path}: {e!r} vs {t!r}"
        for i, (a, b) in enumerate(zip(e, t)):
            _compare(a, b, f"{path}[{i}]")
    elif isinstance(t, np.ndarray) or isinstance(e, np.ndarray):
        _close(np.asarray(e), np.asarray(t), path)
    else:
        assert e == t, f"{path}: ember {e!r}, torch {t!r}"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_engine_parity(name):
    _compare(SCENARIOS[name](ember), SCENARIOS[name](torch), name)
