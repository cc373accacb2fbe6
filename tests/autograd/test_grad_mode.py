"""Grad modes: no_grad, enable_grad, set_grad_enabled and inference_mode as context managers
and decorators, their nesting and restoration (also on exceptions), thread-locality, and what
they do to the results of ops and to later autograd use."""
import threading

import numpy as np
import pytest

import ember


def leaf(values=(1.0, 2.0, 3.0)):
    return ember.from_numpy(np.array(values, dtype=np.float64)).requires_grad_()


def npv(x):
    return np.asarray(x.detach().numpy(), dtype=np.float64)


@pytest.fixture(autouse=True)
def _restore_grad_mode():
    yield
    ember.set_grad_enabled(True)
    assert ember.is_grad_enabled()


def test_default_enabled():
    assert ember.is_grad_enabled()
    assert not ember.is_inference_mode_enabled()


def test_no_grad_context():
    x = leaf()
    with ember.no_grad():
        assert not ember.is_grad_enabled()
        y = x * 2
        z = x.exp().sum()
    assert ember.is_grad_enabled()
    for r in (y, z):
        assert not r.requires_grad and r.grad_fn is None and r.is_leaf
    np.testing.assert_allclose(npv(y), [2.0, 4.0, 6.0])
    assert (x * 2).requires_grad


def test_no_grad_restores_on_exception():
    with pytest.raises(ValueError, match="inside"):
        with ember.no_grad():
            raise ValueError("inside")
    assert ember.is_grad_enabled()


def test_no_grad_decorator():
    x = leaf()

    @ember.no_grad()
    def f(a):
        """doc"""
        assert not ember.is_grad_enabled()
        return a * 3

    y = f(x)
    assert not y.requires_grad
    assert ember.is_grad_enabled()
    assert f.__name__ == "f" and f.__doc__ == "doc"
    y2 = f(x)  # the decorator works more than once
    assert not y2.requires_grad
    np.testing.assert_allclose(npv(y2), [3.0, 6.0, 9.0])


def test_no_grad_bare_decorator():
    # torch >= 2.1 also accepts @torch.no_grad without parentheses
    @ember.no_grad
    def f(a):
        return a * 2, ember.is_grad_enabled()

    y, enabled = f(leaf())
    assert not enabled and not y.requires_grad
    assert ember.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = leaf()
    with ember.no_grad():
        with ember.enable_grad():
            assert ember.is_grad_enabled()
            y = x * 2
        assert not ember.is_grad_enabled()
        z = x * 2
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(npv(x.grad), [2.0, 2.0, 2.0])


def test_enable_grad_decorator():
    @ember.enable_grad()
    def f(a):
        return a * 2

    with ember.no_grad():
        y = f(leaf())
        assert not ember.is_grad_enabled()
    assert y.requires_grad


def test_set_grad_enabled_as_function():
    x = leaf()
    ember.set_grad_enabled(False)
    assert not ember.is_grad_enabled()
    assert not (x * 2).requires_grad
    ember.set_grad_enabled(True)
    assert ember.is_grad_enabled()
    assert (x * 2).requires_grad


def test_set_grad_enabled_as_context_manager():
    x = leaf()
    with ember.set_grad_enabled(False):
        assert not ember.is_grad_enabled()
        y = x * 2
        with ember.set_grad_enabled(True):
            z = x * 2
        assert not ember.is_grad_enabled()
    assert ember.is_grad_enabled()
    assert not y.requires_grad and z.requires_grad
    with ember.no_grad():
        with ember.set_grad_enabled(True):
            assert ember.is_grad_enabled()
        assert not ember.is_grad_enabled()


def test_set_grad_enabled_decorator():
    @ember.set_grad_enabled(False)
    def f(a):
        return a * 2

    assert not f(leaf()).requires_grad
    assert ember.is_grad_enabled()


def test_requires_grad_of_new_leaves_unaffected_by_no_grad():
    with ember.no_grad():
        w = leaf()
        assert w.requires_grad and w.is_leaf


def test_in_place_update_of_leaf_under_no_grad():
    w = leaf()
    (w * w).sum().backward()
    v = w._version
    with ember.no_grad():
        w -= 0.5 * w.grad
        w.mul_(2)
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    assert w._version >= v + 2
    np.testing.assert_allclose(npv(w), [0.0, 0.0, 0.0])
    w.grad = None
    (w + 1).pow(2).sum().backward()
    np.testing.assert_allclose(npv(w.grad), [2.0, 2.0, 2.0])


def test_no_grad_graph_built_before_still_backprops():
    x = leaf()
    s = (x * x).sum()
    with ember.no_grad():
        s.backward()  # backward itself may run under no_grad
    np.testing.assert_allclose(npv(x.grad), [2.0, 4.0, 6.0])


# ---- threads -------------------------------------------------------------------------------------------
def _in_thread(fn):
    box = {}

    def run():
        try:
            box["result"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised in the main thread
            box["error"] = e

    th = threading.Thread(target=run)
    th.start()
    th.join()
    if "error" in box:
        raise box["error"]
    return box["result"]


def test_new_thread_starts_with_grad_enabled():
    x = leaf()
    with ember.no_grad():
        enabled, req = _in_thread(lambda: (ember.is_grad_enabled(), (x * 2).requires_grad))
        assert not ember.is_grad_enabled()
    assert enabled and req


def test_thread_mode_does_not_leak_into_main():
    def f():
        ember.set_grad_enabled(False)
        return ember.is_grad_enabled()

    assert _in_thread(f) is False
    assert ember.is_grad_enabled()


def test_backward_in_thread():
    def f():
        x = leaf()
        (x * x).sum().backward()
        return npv(x.grad)

    np.testing.assert_allclose(_in_thread(f), [2.0, 4.0, 6.0])


def test_concurrent_backward_in_threads():
    results = [None] * 4

    def work(i):
        x = leaf([float(i), 1.0])
        for _ in range(50):
            x.grad = None
            (x * x * x).sum().backward()
        results[i] = npv(x.grad)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for i, r in enumerate(results):
        np.testing.assert_allclose(r, [3.0 * i * i, 3.0])


# ---- inference mode ----------------------------------------------------------------------------------------
def test_inference_mode_context():
    x = leaf()
    with ember.inference_mode():
        assert ember.is_inference_mode_enabled()
        assert not ember.is_grad_enabled()
        y = x * 2
        c = ember.ones(3)
    assert not ember.is_inference_mode_enabled() and ember.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert y.is_inference() and c.is_inference()
    assert not x.is_inference() and not (x * 2).is_inference()
    np.testing.assert_allclose(npv(y), [2.0, 4.0, 6.0])


def test_inference_mode_false_is_a_noop():
    x = leaf()
    with ember.inference_mode(False):
        assert not ember.is_inference_mode_enabled()
        y = x * 2
    assert y.requires_grad and not y.is_inference()
    with ember.inference_mode():
        with ember.inference_mode(False):
            assert not ember.is_inference_mode_enabled()
        assert ember.is_inference_mode_enabled()


def test_inference_mode_decorator():
    @ember.inference_mode()
    def f(a):
        return a * 2

    y = f(leaf())
    assert y.is_inference() and not y.requires_grad
    assert not ember.is_inference_mode_enabled()


def test_no_grad_results_are_not_inference_tensors():
    with ember.no_grad():
        y = leaf() * 2
    assert not y.is_inference()


def test_inference_tensor_saved_for_backward_raises():
    with ember.inference_mode():
        c = ember.ones(3, dtype=ember.float64)
    w = leaf()
    with pytest.raises(RuntimeError, match="(?i)inference"):
        (w * c).sum().backward()


def test_inference_tensor_inplace_outside_raises():
    with ember.inference_mode():
        c = ember.ones(3, dtype=ember.float64)
    with pytest.raises(RuntimeError, match="(?i)inference"):
        c.add_(1)
    # a clone is a normal tensor
    d = c.clone()
    assert not d.is_inference()
    d.add_(1)
    np.testing.assert_allclose(npv(d), npv(c) + 1)


def test_inference_tensor_not_saved_is_fine():
    with ember.inference_mode():
        c = ember.ones(3, dtype=ember.float64)
    w = leaf()
    (w + c).sum().backward()  # add saves nothing
    np.testing.assert_allclose(npv(w.grad), [1.0, 1.0, 1.0])
