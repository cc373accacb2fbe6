"""Gradients of the ops, generated from tests/autograd/grad_specs.py.

For every entry: ember.autograd.gradcheck on contiguous float64 inputs and on non-contiguous ones
(permuted / strided views), gradgradcheck where the op claims double backward, and the basic
contract of a recorded op (outputs require grad and have a grad_fn, inputs are left untouched,
every input gradient has the input's shape and dtype).

Then an independent check that does not use ember's gradcheck at all: for a dozen representative
ops, the gradient from backward() against central differences of a NumPy reference of the op, so
that a broken gradcheck cannot hide broken gradients.
"""
import numpy as np
import pytest

import ember
from grad_specs import BY_ID, SPECS, make_input

GC = dict(eps=1e-6, atol=1e-5, rtol=1e-3)


def _inputs(spec, layout="contig"):
    return [make_input(ember, a, layout) for a in spec.arrays()]


def _fn(spec):
    return lambda *xs: spec.call(ember, *xs)


def _ids(specs):
    return [pytest.param(s, id=s.id) for s in specs]


def _np(t):
    return np.asarray(t.detach().numpy(), dtype=np.float64)


@pytest.mark.parametrize("spec", _ids(SPECS))
def test_records_and_grad_shapes(spec):
    xs = _inputs(spec)
    before = [_np(x).copy() for x in xs]
    outs = spec.call(ember, *xs)
    for o in outs:
        assert o.requires_grad, f"{spec.id}: output does not require grad"
        assert o.grad_fn is not None, f"{spec.id}: output has no grad_fn"
        assert o.dtype == ember.float64
    for b, x in zip(before, xs):
        np.testing.assert_array_equal(_np(x), b, err_msg="the op modified an input")
    total = sum((o * 1.0).sum() for o in outs)
    total.backward()
    for i, x in enumerate(xs):
        assert x.grad is not None, f"{spec.id}: input {i} got no gradient"
        assert tuple(x.grad.shape) == tuple(x.shape), f"{spec.id}: grad shape {x.grad.shape} != {x.shape}"
        assert x.grad.dtype == ember.float64
        assert not x.grad.requires_grad


@pytest.mark.parametrize("spec", _ids(SPECS))
def test_gradcheck(spec):
    xs = _inputs(spec)
    assert ember.autograd.gradcheck(_fn(spec), xs, **GC) is True


@pytest.mark.parametrize("spec", _ids([s for s in SPECS if s.nc]))
def test_gradcheck_noncontiguous(spec):
    xs = _inputs(spec, "noncontig")
    for x in xs:  # the layout really is strided where it can be
        if x.dim() == 1 and x.numel() > 1 or x.dim() >= 2 and sum(d > 1 for d in x.shape) >= 2:
            assert not x.is_contiguous()
    assert ember.autograd.gradcheck(_fn(spec), xs, **GC) is True


@pytest.mark.parametrize("spec", _ids([s for s in SPECS if s.gg]))
def test_gradgradcheck(spec):
    xs = _inputs(spec)
    assert ember.autograd.gradgradcheck(_fn(spec), xs, **GC) is True


# ---- independent of ember.autograd.gradcheck ------------------------------------------------------------
def _np_logsumexp(x, axis):
    mx = x.max(axis=axis, keepdims=True)
    return (mx + np.log(np.exp(x - mx).sum(axis=axis, keepdims=True))).squeeze(axis)


NP_REF = {
    "exp": np.exp,
    "log": np.log,
    "tanh": np.tanh,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "div[bcast]": lambda a, b: a / b,
    "pow[tensor]": np.power,
    "mm": lambda a, b: a @ b,
    "sum[dim]": lambda x: x.sum(1),
    "max[dim]": lambda x: x.max(1),
    "logsumexp": lambda x: _np_logsumexp(x, 1),
    "getitem[list-dup]": lambda x: x[[0, 2, 0, 0]],
    "cumprod": lambda x: np.cumprod(x, 1),
    "var[dim-c0]": lambda x: x.var(1),
    "norm[p3-dim-keepdim]": lambda x: (np.abs(x) ** 3).sum(1, keepdims=True) ** (1 / 3),
    "gather": lambda x: np.take_along_axis(x, np.array([[0, 0], [1, 3], [2, 2]]), 1),
    "softmax-by-hand": lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True),
    "mlp": lambda x, w, b: np.tanh(x @ w + b).sum(1),
    "maximum": np.maximum,
    "expand": lambda x: np.broadcast_to(x, (2, 3, 4)),
}


def _numeric_grads(ref, arrays, v, h=1e-6):
    """Central differences of sum(v * ref(*arrays)) with respect to every element of every input."""
    grads = []
    for i, a in enumerate(arrays):
        g = np.zeros_like(a)
        for j in np.ndindex(a.shape):
            plus = [x.copy() for x in arrays]
            minus = [x.copy() for x in arrays]
            plus[i][j] += h
            minus[i][j] -= h
            g[j] = (np.sum(v * ref(*plus)) - np.sum(v * ref(*minus))) / (2 * h)
        grads.append(g)
    return grads


@pytest.mark.parametrize("op_id", sorted(NP_REF))
@pytest.mark.parametrize("layout", ["contig", "noncontig"])
def test_backward_matches_numpy_differences(op_id, layout):
    spec = BY_ID[op_id]
    arrays = spec.arrays(seed=1)
    ref = NP_REF[op_id]
    expected_out = ref(*arrays)
    v = np.random.default_rng(7).uniform(-1, 1, np.shape(expected_out))
    xs = [make_input(ember, a, layout) for a in arrays]
    (out,) = spec.call(ember, *xs)
    np.testing.assert_allclose(_np(out), expected_out, rtol=1e-12, atol=1e-12)  # the reference is right
    out.backward(ember.from_numpy(v.copy()))
    for i, (x, g) in enumerate(zip(xs, _numeric_grads(ref, arrays, v))):
        assert x.grad is not None, f"{op_id}: input {i} got no gradient"
        np.testing.assert_allclose(_np(x.grad), g, rtol=1e-6, atol=1e-7,
                                   err_msg=f"{op_id} input {i}: backward vs NumPy central differences")


# ---- second order, independent of ember.autograd.gradgradcheck ----------------------------------------------
def _phi(spec, arrays, varrs, warrs):
    """sum(w * grad(op, inputs, v)) without create_graph: the function whose gradient is the
    second-order quantity below."""
    xs = [make_input(ember, a) for a in arrays]
    outs = spec.call(ember, *xs)
    vs = [make_input(ember, v, requires_grad=False) for v in varrs]
    gs = ember.autograd.grad(outs, xs, vs, allow_unused=True)
    return sum(float((_np(g) * w).sum()) for g, w in zip(gs, warrs) if g is not None)


@pytest.mark.parametrize("spec", _ids([s for s in SPECS if s.gg]))
def test_second_order_by_differences(spec):
    """d/d(inputs, v) of sum(w * vjp(op, inputs, v)) from a create_graph=True double backward,
    against central differences of the first-order vjp (which test_gradcheck verifies)."""
    arrays = spec.arrays(seed=2)
    rng = np.random.default_rng(11)
    with ember.no_grad():
        shapes = [tuple(o.shape) for o in spec.call(ember, *[make_input(ember, a, requires_grad=False)
                                                              for a in arrays])]
    varrs = [rng.uniform(-1, 1, s) for s in shapes]
    warrs = [rng.uniform(-1, 1, np.shape(a)) for a in arrays]

    xs = [make_input(ember, a) for a in arrays]
    outs = spec.call(ember, *xs)
    vs = [make_input(ember, v) for v in varrs]
    gs = ember.autograd.grad(outs, xs, vs, create_graph=True, allow_unused=True)
    terms = [(g * ember.from_numpy(w.copy())).sum() for g, w in zip(gs, warrs) if g is not None and g.requires_grad]
    analytic = [np.zeros(np.shape(a)) for a in arrays + varrs]
    if terms:
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        for k, g in enumerate(ember.autograd.grad(total, xs + vs, allow_unused=True)):
            if g is not None:
                analytic[k] = _np(g)

    h = 1e-6
    args = arrays + varrs
    for k, a in enumerate(args):
        numeric = np.zeros(np.shape(a))
        for j in np.ndindex(np.shape(a)):
            plus = [x.copy() for x in args]
            minus = [x.copy() for x in args]
            plus[k][j] += h
            minus[k][j] -= h
            n = len(arrays)
            numeric[j] = (_phi(spec, plus[:n], plus[n:], warrs) - _phi(spec, minus[:n], minus[n:], warrs)) / (2 * h)
        what = f"input {k}" if k < len(arrays) else f"upstream gradient {k - len(arrays)}"
        np.testing.assert_allclose(analytic[k], numeric, rtol=1e-3, atol=1e-5,
                                   err_msg=f"{spec.id}: second order with respect to {what}")
