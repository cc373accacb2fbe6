"""Hooks: tensor hooks (observe, replace, order, removal, on leaves and intermediates),
post-accumulate-grad hooks, and Node hooks (register_hook / register_prehook on grad_fn)."""
import numpy as np
import pytest

import ember


def leaf(values):
    return ember.from_numpy(np.array(values, dtype=np.float64)).requires_grad_()


def npv(x):
    return np.asarray(x.detach().numpy(), dtype=np.float64)


def test_leaf_hook_observes_gradient():
    seen = []
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: seen.append(npv(g)))
    (x * x).sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [2.0, 4.0])
    np.testing.assert_allclose(npv(x.grad), [2.0, 4.0])


def test_leaf_hook_replaces_accumulated_gradient():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g * 10)
    (x * 3).sum().backward()
    np.testing.assert_allclose(npv(x.grad), [30.0, 30.0])
    (x * 1).sum().backward()  # the hook sees each backward's gradient, not the accumulated one
    np.testing.assert_allclose(npv(x.grad), [40.0, 40.0])


def test_intermediate_hook_replaces_downstream_gradient():
    x = leaf([1.0, 2.0])
    y = x * x
    y.register_hook(lambda g: g * 0 + ember.from_numpy(np.array([1.0, -1.0])))
    (y * 5).sum().backward()
    np.testing.assert_allclose(npv(x.grad), [2.0, -4.0])  # 2x * replaced grad


def test_hooks_run_in_registration_order_and_chain():
    log = []
    x = leaf([1.0, 2.0])
    y = x * 2
    y.register_hook(lambda g: log.append(("a", npv(g).tolist())) or g + 1)
    y.register_hook(lambda g: log.append(("b", npv(g).tolist())) or g * 3)
    y.register_hook(lambda g: log.append(("c", npv(g).tolist())))
    y.sum().backward()
    assert log == [("a", [1.0, 1.0]), ("b", [2.0, 2.0]), ("c", [6.0, 6.0])]
    np.testing.assert_allclose(npv(x.grad), [12.0, 12.0])


def test_removed_hook_does_not_run():
    calls = []
    x = leaf([1.0])
    h = x.register_hook(lambda g: calls.append(1) or g * 100)
    (x * 2).sum().backward()
    assert calls == [1]
    h.remove()
    h.remove()  # removing twice is harmless
    x.grad = None
    (x * 2).sum().backward()
    assert calls == [1]
    np.testing.assert_allclose(npv(x.grad), [2.0])


def test_hook_called_once_with_summed_gradient():
    calls = []
    x = leaf([1.0, 2.0])
    y = x * 2
    y.register_hook(lambda g: calls.append(npv(g)))
    z = y * y + y * 3  # y used three times
    z.sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], 2 * npv(y) + 3)


def test_hooks_fire_for_autograd_grad():
    calls = []
    x = leaf([1.0, 2.0])
    y = x.exp()
    y.register_hook(lambda g: calls.append(1) or g * 2)
    (g,) = ember.autograd.grad(y.sum(), x)
    assert calls == [1]
    np.testing.assert_allclose(npv(g), 2 * np.exp([1.0, 2.0]))
    assert x.grad is None


def test_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError):
        ember.ones(2).register_hook(lambda g: g)


def test_hook_exception_propagates():
    x = leaf([1.0])

    def bad(g):
        raise ValueError("boom from hook")

    (x * 2).register_hook(bad)
    y = x * 3
    y.register_hook(bad)
    with pytest.raises(ValueError, match="boom from hook"):
        y.sum().backward()


def test_hook_wrong_shape_raises():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.register_hook(lambda g: ember.ones(3, dtype=ember.float64))
    with pytest.raises((RuntimeError, ValueError), match="(?i)shape|size"):
        y.sum().backward()


def test_retain_grad_sees_hooked_gradient():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 3)  # registered after retain_grad, still applied to y.grad
    y.sum().backward()
    np.testing.assert_allclose(npv(y.grad), [3.0, 3.0])
    np.testing.assert_allclose(npv(x.grad), [6.0, 6.0])


# ---- post-accumulate-grad hooks --------------------------------------------------------------------------
def test_post_accumulate_grad_hook_sees_grad():
    seen = []
    x = leaf([1.0, 2.0])
    x.grad = ember.from_numpy(np.array([10.0, 10.0]))
    x.register_post_accumulate_grad_hook(lambda p: seen.append((p.data_ptr() == x.data_ptr(), npv(p.grad))))
    (x * x).sum().backward()
    assert len(seen) == 1
    assert seen[0][0]
    np.testing.assert_allclose(seen[0][1], [12.0, 14.0])


def test_post_accumulate_grad_hook_runs_after_tensor_hooks():
    log = []
    x = leaf([1.0])
    x.register_post_accumulate_grad_hook(lambda p: log.append(("post", npv(p.grad).tolist())))
    x.register_hook(lambda g: log.append(("pre", npv(g).tolist())) or g * 2)
    (x * 5).sum().backward()
    assert log == [("pre", [5.0]), ("post", [10.0])]


def test_post_accumulate_grad_hook_can_update_parameter():
    x = leaf([1.0, 2.0])

    def sgd(p):
        with ember.no_grad():
            p.sub_(0.5 * p.grad)
        p.grad = None

    h = x.register_post_accumulate_grad_hook(sgd)
    (x * x).sum().backward()
    np.testing.assert_allclose(npv(x), [0.0, 0.0])
    assert x.grad is None
    h.remove()
    (x + 1).sum().backward()
    np.testing.assert_allclose(npv(x.grad), [1.0, 1.0])


def test_post_accumulate_grad_hook_on_non_leaf_raises():
    y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="(?i)leaf"):
        y.register_post_accumulate_grad_hook(lambda p: None)


# ---- node hooks ------------------------------------------------------------------------------------------
def test_node_post_hook_sees_inputs_and_outputs():
    log = []
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0])
    y = a * b
    y.grad_fn.register_hook(lambda gi, go: log.append(([npv(g) for g in gi], [npv(g) for g in go])))
    (y * 2).sum().backward()
    assert len(log) == 1
    gi, go = log[0]
    assert len(gi) == 2 and len(go) == 1
    np.testing.assert_allclose(go[0], [2.0, 2.0])
    np.testing.assert_allclose(gi[0], [6.0, 8.0])
    np.testing.assert_allclose(gi[1], [2.0, 4.0])


def test_node_post_hook_replaces_grad_inputs():
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0])
    y = a * b
    y.grad_fn.register_hook(lambda gi, go: (gi[0] * 0, gi[1] * 10))
    y.sum().backward()
    np.testing.assert_allclose(npv(a.grad), [0.0, 0.0])
    np.testing.assert_allclose(npv(b.grad), [10.0, 20.0])


def test_node_prehook_replaces_grad_outputs():
    calls = []
    x = leaf([1.0, 2.0])
    y = x.exp()

    def pre(go):
        calls.append(npv(go[0]))
        return (go[0] * 3,)

    h = y.grad_fn.register_prehook(pre)
    y.sum().backward(retain_graph=True)
    np.testing.assert_allclose(calls[0], [1.0, 1.0])
    np.testing.assert_allclose(npv(x.grad), 3 * np.exp([1.0, 2.0]))
    h.remove()
    x.grad = None
    y.sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(npv(x.grad), np.exp([1.0, 2.0]))


def test_node_hooks_order_prehook_then_posthook():
    log = []
    x = leaf([1.0])
    y = x * 2
    y.grad_fn.register_hook(lambda gi, go: log.append("post"))
    y.grad_fn.register_prehook(lambda go: log.append("pre"))
    y.register_hook(lambda g: log.append("tensor"))
    y.sum().backward()
    assert log == ["tensor", "pre", "post"]
