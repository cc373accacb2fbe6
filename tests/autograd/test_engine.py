"""The autograd engine: graph recording, backward(), autograd.grad, accumulation, retained and
freed graphs, higher-order gradients, broadcasting undone, dtypes, errors and memory.

Values are checked against hand-derived gradients; op-by-op gradients are in test_op_grads.py.
"""
import re

import numpy as np
import pytest

import ember


def t(values, dtype=None, grad=False):
    """A float64 (default) tensor from a list/array, optionally a leaf requiring grad."""
    a = np.array(values, dtype=np.float64 if dtype is None else dtype)
    x = ember.from_numpy(a)
    return x.requires_grad_(True) if grad else x


def npv(x):
    if isinstance(x, np.ndarray):
        return x
    return np.asarray(x.detach().numpy(), dtype=np.float64)


def close(x, expected, rtol=1e-12, atol=1e-12):
    np.testing.assert_allclose(npv(x), np.asarray(expected, dtype=np.float64), rtol=rtol, atol=atol)


# ---- recording ---------------------------------------------------------------------------------------------
def test_leaf_flags():
    a = t([1.0, 2.0])
    assert not a.requires_grad and a.is_leaf and a.grad_fn is None and a.grad is None
    b = t([1.0, 2.0], grad=True)
    assert b.requires_grad and b.is_leaf and b.grad_fn is None and b.grad is None
    c = a * b
    assert c.requires_grad and not c.is_leaf and c.grad_fn is not None
    d = a * 2
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None


def test_requires_grad_setter_and_method():
    a = t([1.0, 2.0])
    assert a.requires_grad_() is a
    assert a.requires_grad
    a.requires_grad = False
    assert not a.requires_grad
    a.requires_grad = True
    assert (a * 2).requires_grad
    assert a.requires_grad_(False) is a and not a.requires_grad


def test_requires_grad_on_integer_tensor_raises():
    with pytest.raises(RuntimeError, match="(?i)float"):
        ember.arange(3).requires_grad_()


def test_requires_grad_false_on_non_leaf_raises():
    y = t([1.0], grad=True) * 2
    with pytest.raises(RuntimeError, match="(?i)leaf"):
        y.requires_grad_(False)


def test_grad_fn_names_and_next_functions():
    a = t([1.0, 2.0], grad=True)
    b = t([3.0, 4.0], grad=True)
    c = t([5.0, 6.0])
    m = a * b
    assert m.grad_fn.name() == "MulBackward0"
    assert (a + b).grad_fn.name() == "AddBackward0"
    s = m.sum()
    assert s.grad_fn.name() == "SumBackward0"
    (nf,) = s.grad_fn.next_functions
    assert nf[0] is not None and nf[0].name() == "MulBackward0" and nf[1] == 0
    nf = m.grad_fn.next_functions
    assert len(nf) == 2
    for (node, nr), leaf in zip(nf, (a, b)):
        assert node.name().endswith("AccumulateGrad") and nr == 0
        v = node.variable
        assert v.data_ptr() == leaf.data_ptr() and tuple(v.shape) == tuple(leaf.shape)
        assert v.is_leaf and v.requires_grad
    # an input that needs no gradient has no edge
    nf = (a * c).grad_fn.next_functions
    assert nf[0][0].name().endswith("AccumulateGrad")
    assert nf[1][0] is None


def test_integer_and_bool_results_do_not_require_grad():
    x = t([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], grad=True)
    for r in (x.argmax(), x.argmin(1), x > 0, x == x, x.lt(1.0), ember.sort(x, 1).indices,
              ember.max(x, 1).indices, ember.topk(x, 2).indices, x.long(), x.isnan(), x.sign().bool()):
        assert not r.requires_grad, r
        assert r.grad_fn is None
    # the float results of the same calls still record
    assert ember.max(x, 1).values.requires_grad and ember.sort(x, 1).values.requires_grad


# ---- backward basics ---------------------------------------------------------------------------------------
def test_backward_simple_values():
    x = t([1.0, -2.0, 3.0], grad=True)
    y = (x * x * 3 + x.sin()).sum()
    y.backward()
    close(x.grad, 6 * npv(x) + np.cos(npv(x)))
    assert x.grad.dtype == ember.float64 and not x.grad.requires_grad


def test_diamond_and_reuse():
    x = t([0.5, 1.5], grad=True)
    a = x * 2
    b = x * 3
    c = a * b  # 6 x^2
    d = x.exp()
    e = d * d + d  # uses d twice: its gradient must be complete before ExpBackward runs
    (c.sum() + e.sum()).backward()
    xv = npv(x)
    close(x.grad, 12 * xv + (2 * np.exp(xv) + 1) * np.exp(xv))


def test_backward_with_gradient_argument():
    x = t([1.0, 2.0, 3.0], grad=True)
    y = x * x
    y.backward(gradient=t([1.0, 0.5, -2.0]))
    close(x.grad, [2.0, 2.0, -12.0])


def test_backward_scalar_with_0d_gradient():
    x = t([1.0, 2.0], grad=True)
    (x * 4).sum().backward(t(0.5))
    close(x.grad, [2.0, 2.0])


def test_non_scalar_backward_without_gradient_raises():
    x = t([1.0, 2.0], grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()


def test_backward_on_tensor_not_requiring_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        t([1.0, 2.0]).sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.autograd.grad(t([1.0]).sum(), [t([1.0], grad=True)])


def test_gradient_shape_mismatch_raises():
    x = t([1.0, 2.0, 3.0], grad=True)
    with pytest.raises((RuntimeError, ValueError), match="(?i)shape"):  # torch: RuntimeError
        (x * 2).backward(t([1.0, 1.0]))


def test_leaf_grads_accumulate():
    x = t([1.0, 2.0], grad=True)
    (x * x).sum().backward()
    close(x.grad, [2.0, 4.0])
    (x * 3).sum().backward()
    close(x.grad, [5.0, 7.0])
    x.grad = None
    (x * 3).sum().backward()
    close(x.grad, [3.0, 3.0])


def test_grad_setter():
    x = t([1.0, 2.0], grad=True)
    x.grad = t([10.0, 20.0])
    (x * 2).sum().backward()
    close(x.grad, [12.0, 22.0])
    with pytest.raises((RuntimeError, ValueError)):
        x.grad = t([1.0, 2.0, 3.0])


def test_backward_through_leaf_used_directly():
    x = t([1.0, 2.0, 3.0], grad=True)
    (g,) = ember.autograd.grad(x, x, t([4.0, 5.0, 6.0]))
    close(g, [4.0, 5.0, 6.0])


# ---- broadcasting and dtypes ---------------------------------------------------------------------------
def test_broadcasting_undone():
    a = t([[1.0], [2.0], [3.0]], grad=True)        # (3, 1)
    b = t([[1.0, 10.0, 100.0, 1000.0]], grad=True)  # (1, 4)
    s = t(2.0, grad=True)                            # 0-d
    r = t([1.0, -1.0, 2.0, -2.0], grad=True)          # (4,)
    ((a * b) * s + r).sum().backward()
    assert tuple(a.grad.shape) == (3, 1) and tuple(b.grad.shape) == (1, 4)
    assert tuple(s.grad.shape) == () and tuple(r.grad.shape) == (4,)
    close(a.grad, [[2222.0], [2222.0], [2222.0]])
    close(b.grad, [[12.0, 12.0, 12.0, 12.0]])
    close(s.grad, 6.0 * 1111.0)
    close(r.grad, [3.0, 3.0, 3.0, 3.0])


def test_broadcast_in_expand():
    a = t([[1.0], [2.0]], grad=True)
    (a.expand(2, 3) * t([1.0, 2.0, 3.0])).sum().backward()
    close(a.grad, [[6.0], [6.0]])


def test_mixed_dtypes_each_input_gets_its_own_dtype():
    a = ember.from_numpy(np.array([1.0, 2.0], dtype=np.float32)).requires_grad_()
    b = t([3.0, -4.0], grad=True)
    c = a * b
    assert c.dtype == ember.float64
    c.sum().backward()
    assert a.grad.dtype == ember.float32 and b.grad.dtype == ember.float64
    close(a.grad, [3.0, -4.0])
    close(b.grad, [1.0, 2.0])


def test_dtype_conversion_is_differentiable():
    x = t([1.0, 2.0], grad=True)
    y = x.float() * 2
    assert y.dtype == ember.float32 and y.requires_grad
    y.sum().backward()
    assert x.grad.dtype == ember.float64
    close(x.grad, [2.0, 2.0])


def test_float32_grads():
    x = ember.from_numpy(np.array([0.5, 1.0, 2.0], dtype=np.float32)).requires_grad_()
    (x.log() * x).sum().backward()
    assert x.grad.dtype == ember.float32
    np.testing.assert_allclose(x.grad.numpy(), np.log([0.5, 1.0, 2.0]) + 1, rtol=1e-6)


# ---- views --------------------------------------------------------------------------------------------
def test_grads_of_views_flow_to_base():
    a = t([1.0, 2.0, 3.0, 4.0], grad=True)
    b = a[1:]
    b.sum().backward()
    close(a.grad, [0.0, 1.0, 1.0, 1.0])
    a.grad = None
    m = a.view(2, 2)
    (m.t() * t([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    close(a.grad, [1.0, 3.0, 2.0, 4.0])


def test_leaf_view_of_plain_tensor():
    base = ember.from_numpy(np.arange(6.0).reshape(2, 3))
    v = base.t()
    v.requires_grad_()  # a view of a tensor without grad is a leaf
    assert v.is_leaf
    (v * v).sum().backward()
    close(v.grad, 2 * np.arange(6.0).reshape(2, 3).T)
    assert tuple(v.grad.shape) == (3, 2)


# ---- retain_graph / create_graph -------------------------------------------------------------------------
def test_second_backward_through_freed_graph_raises():
    x = t([1.0, 2.0], grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=re.escape("retain_graph=True")):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = t([1.0, 2.0], grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    g1 = npv(x.grad).copy()
    y.backward()
    close(x.grad, 2 * g1)
    xv = np.array([1.0, 2.0])
    close(g1, np.exp(xv) * (xv + 1))


def test_autograd_grad_freed_graph_raises():
    x = t([1.0, 2.0], grad=True)
    y = (x * x).sum()
    ember.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match=re.escape("retain_graph=True")):
        ember.autograd.grad(y, x)


def test_create_graph_higher_order():
    x = t([0.5, -1.0, 2.0], grad=True)
    y = (x ** 3).sum()
    (g,) = ember.autograd.grad(y, x, create_graph=True)
    assert g.requires_grad
    close(g, 3 * npv(x) ** 2)
    (h,) = ember.autograd.grad(g.sum(), x, create_graph=True)
    close(h, 6 * npv(x))
    (k,) = ember.autograd.grad(h.sum(), x)
    close(k, [6.0, 6.0, 6.0])


def test_backward_create_graph_makes_grad_differentiable():
    x = t([1.0, 2.0], grad=True)
    y = (x ** 3).sum()
    y.backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and g.grad_fn is not None
    close(g, [3.0, 12.0])
    x.grad = None
    g.sum().backward()  # d/dx of 3x^2
    close(x.grad, [6.0, 12.0])


def test_create_graph_retains_graph_by_default():
    x = t([1.0, 2.0], grad=True)
    y = (x.sin() * x).sum()
    ember.autograd.grad(y, x, create_graph=True)
    (g,) = ember.autograd.grad(y, x)  # retain_graph defaulted to create_graph
    xv = np.array([1.0, 2.0])
    close(g, np.cos(xv) * xv + np.sin(xv))


def test_grad_without_create_graph_is_not_differentiable():
    x = t([1.0, 2.0], grad=True)
    (g,) = ember.autograd.grad((x ** 3).sum(), x)
    assert not g.requires_grad and g.grad_fn is None


def test_hessian_vector_product_by_double_backward():
    x = t([0.3, -0.7, 1.1], grad=True)
    v = t([1.0, 2.0, -1.0])
    y = (x.exp() * x.sin()).sum() + (x[0] * x[1] * x[2])
    (g,) = ember.autograd.grad(y, x, create_graph=True)
    (hv,) = ember.autograd.grad((g * v).sum(), x)
    xv, vv = npv(x), npv(v)
    diag = 2 * np.exp(xv) * np.cos(xv)  # (e^x sin x)'' = 2 e^x cos x
    H = np.diag(diag)
    H[0, 1] = H[1, 0] = xv[2]
    H[0, 2] = H[2, 0] = xv[1]
    H[1, 2] = H[2, 1] = xv[0]
    close(hv, H @ vv, rtol=1e-10)


# ---- inputs= and autograd.grad -----------------------------------------------------------------------------
def test_backward_inputs_only_accumulates_into_them():
    a = t([1.0, 2.0], grad=True)
    b = t([3.0, 4.0], grad=True)
    y = (a * b).sum()
    y.backward(inputs=[a])
    close(a.grad, [3.0, 4.0])
    assert b.grad is None


def test_backward_inputs_non_leaf():
    a = t([1.0, 2.0], grad=True)
    h = a * 2
    (h * h).sum().backward(inputs=[h])
    close(h.grad, [4.0, 8.0])
    assert a.grad is None


def test_autograd_grad_does_not_touch_grad_attributes():
    a = t([1.0, 2.0], grad=True)
    b = t([3.0, 4.0], grad=True)
    ga, gb = ember.autograd.grad((a * b * b).sum(), [a, b])
    close(ga, [9.0, 16.0])
    close(gb, [6.0, 16.0])
    assert a.grad is None and b.grad is None


def test_autograd_grad_returns_tuple_and_grad_outputs():
    x = t([1.0, 2.0], grad=True)
    y1 = x * 2
    y2 = x * x
    res = ember.autograd.grad([y1, y2], x, grad_outputs=[t([1.0, 1.0]), t([0.5, -1.0])])
    assert isinstance(res, tuple) and len(res) == 1
    close(res[0], [3.0, -2.0])


def test_autograd_grad_non_leaf_input():
    x = t([1.0, 2.0], grad=True)
    h = x.exp()
    (gh,) = ember.autograd.grad((h * h).sum(), h)
    close(gh, 2 * np.exp([1.0, 2.0]))


def test_autograd_grad_unused_input():
    a = t([1.0, 2.0], grad=True)
    b = t([3.0, 4.0], grad=True)
    y = (a * a).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        ember.autograd.grad(y, [a, b], retain_graph=True)
    ga, gb = ember.autograd.grad(y, [a, b], allow_unused=True, retain_graph=True)
    close(ga, [2.0, 4.0])
    assert gb is None
    ga, gb = ember.autograd.grad(y, [a, b], materialize_grads=True)
    close(gb, [0.0, 0.0])
    assert tuple(gb.shape) == (2,) and gb.dtype == ember.float64


def test_autograd_backward_function():
    a = t([1.0, 2.0], grad=True)
    y1 = a * 3
    y2 = (a * a).sum()
    ember.autograd.backward([y1, y2], grad_tensors=[t([1.0, -1.0]), None])
    close(a.grad, [3.0 + 2.0, -3.0 + 4.0])
    b = t([1.0], grad=True)
    ember.autograd.backward((b * 5).sum())
    close(b.grad, [5.0])


# ---- retain_grad / non-leaf .grad ------------------------------------------------------------------------------
def test_non_leaf_grad_is_none_unless_retained():
    x = t([1.0, 2.0], grad=True)
    y = x * 2
    z = y * y
    assert not y.retains_grad and not x.retains_grad
    y.retain_grad()
    assert y.retains_grad
    z.sum().backward()
    close(y.grad, [4.0, 8.0])
    assert z.grad is None
    close(x.grad, [8.0, 16.0])


def test_retain_grad_accumulates_and_leaf_noop():
    x = t([1.0, 2.0], grad=True)
    x.retain_grad()  # a no-op on leaves
    assert not x.retains_grad
    y = x * 3
    y.retain_grad()
    (y * y).sum().backward(retain_graph=True)
    (y * y).sum().backward()
    close(y.grad, 4 * npv(y))


# ---- detach -------------------------------------------------------------------------------------------------
def test_detach_shares_storage_and_version():
    x = t([1.0, 2.0, 3.0], grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    assert d.data_ptr() == y.data_ptr()
    v = y._version
    d.add_(1)
    close(y, [3.0, 5.0, 7.0])
    assert y._version == v + 1  # the version counter is shared


def test_detach_blocks_gradient():
    x = t([1.0, 2.0], grad=True)
    y = x * x.detach()
    y.sum().backward()
    close(x.grad, [1.0, 2.0])


def test_detach_in_place():
    x = t([1.0, 2.0], grad=True)
    y = x * 2
    assert y.detach_() is y
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    close(y, [2.0, 4.0])


def test_detach_in_place_on_view_raises():
    x = t([1.0, 2.0, 3.0], grad=True)
    v = (x * 2)[1:]
    with pytest.raises(RuntimeError, match="(?i)view"):
        v.detach_()


# ---- long graphs -----------------------------------------------------------------------------------------------
def test_long_chain_backward():
    x = t([1.0, 2.0], grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.sum().backward()
    close(x.grad, [1.0, 1.0])
    del y  # destroying a deep graph must not overflow the stack


def test_wide_fan_in():
    x = t([1.0, 2.0], grad=True)
    total = x * 0
    for i in range(200):
        total = total + x * float(i)
    total.sum().backward()
    close(x.grad, [19900.0, 19900.0])


# ---- memory: saved tensors are released ------------------------------------------------------------------------
def _allocated():
    f = getattr(ember._C, "_cpu_allocated_bytes", None)
    if f is None:
        pytest.skip("no allocator statistics")
    return f()


def _block_bytes(x):
    """Allocator bytes held by one tensor like x (the allocator rounds sizes up)."""
    b0 = _allocated()
    with ember.no_grad():
        tmp = x * 1
    size = _allocated() - b0
    del tmp
    assert size >= x.numel() * 8
    return size


def test_backward_releases_saved_tensors():
    x = ember.from_numpy(np.linspace(-1, 1, 100_000)).requires_grad_()
    xb = _block_bytes(x)
    before = _allocated()
    loss = (x.exp().exp() * x.sin()).sum()  # saves exp(x), exp(exp(x)), sin(x) (and x)
    after_forward = _allocated()
    assert after_forward - before >= 3 * xb
    loss.backward()
    after_backward = _allocated()  # `loss` (and its graph) is still alive: only x.grad remains
    assert after_backward - before <= xb + 64 * 1024
    assert x.grad is not None and tuple(x.grad.shape) == (100_000,)


def test_retained_graph_keeps_then_frees_saved_tensors():
    x = ember.from_numpy(np.linspace(-1, 1, 100_000)).requires_grad_()
    xb = _block_bytes(x)
    before = _allocated()
    loss = (x.exp().exp() * x.sin()).sum()
    loss.backward(retain_graph=True)
    assert _allocated() - before >= 4 * xb  # saved tensors + x.grad
    del loss
    assert _allocated() - before <= xb + 64 * 1024


def test_training_loop_memory_is_flat():
    rng = np.random.default_rng(0)
    X = ember.from_numpy(rng.normal(size=(32, 8)))
    Y = ember.from_numpy(rng.normal(size=(32, 1)))
    w1 = ember.from_numpy(rng.normal(size=(8, 16)) * 0.3).requires_grad_()
    b1 = ember.zeros(16, dtype=ember.float64).requires_grad_()
    w2 = ember.from_numpy(rng.normal(size=(16, 1)) * 0.3).requires_grad_()
    params = [w1, b1, w2]

    def step(lr=0.05):
        h = (X @ w1 + b1).relu()
        loss = ((h @ w2 - Y) ** 2).mean()
        loss.backward()
        with ember.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
        return loss.item()

    losses = [step() for _ in range(5)]
    base = _allocated()
    levels = []
    for _ in range(45):
        losses.append(step())
        levels.append(_allocated())
    assert all(lv == base for lv in levels), f"allocated bytes drift: {base} -> {levels[:5]} ... {levels[-5:]}"
    assert losses[-1] < 0.8 * losses[0]  # and it trains
    assert all(p.is_leaf and p.requires_grad for p in params)
