"""In-place ops and views under autograd: graph rewriting of non-leaves, __setitem__, in-place
through views (the base and other views see the change in backward), version counters and the
saved-tensor check, errors on leaves, detach_, and in-place on tensors that did not require grad.
"""
import re

import numpy as np
import pytest

import ember

VERSION_ERR = "a tensor needed for gradient computation was modified by an in-place operation"


def leaf(values):
    return ember.from_numpy(np.array(values, dtype=np.float64)).requires_grad_()


def const(values):
    return ember.from_numpy(np.array(values, dtype=np.float64))


def npv(x):
    return np.asarray(x.detach().numpy(), dtype=np.float64)


# ---- in-place on non-leaves rewrites the graph -----------------------------------------------------------
def test_inplace_add_on_non_leaf():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1
    y.add_(x)
    assert y.grad_fn is not None and not y.is_leaf
    y.sum().backward()
    np.testing.assert_allclose(npv(x.grad), [2.0, 2.0, 2.0])


def test_inplace_chain_values():
    x = leaf([0.5, 1.0])
    y = x.clone()
    y.mul_(x)        # x^2
    y.add_(1)        # x^2 + 1
    y.pow_(2)        # (x^2 + 1)^2
    y.sum().backward()
    xv = np.array([0.5, 1.0])
    np.testing.assert_allclose(npv(y), (xv ** 2 + 1) ** 2)
    np.testing.assert_allclose(npv(x.grad), 4 * xv * (xv ** 2 + 1))


def test_inplace_ops_whose_backward_needs_input():
    x = leaf([0.3, 0.7])
    y = x * 1
    y.sin_()
    y.exp_()
    y.sum().backward()
    xv = np.array([0.3, 0.7])
    np.testing.assert_allclose(npv(x.grad), np.exp(np.sin(xv)) * np.cos(xv))


def test_inplace_binary_with_broadcast():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    r = leaf([10.0, 20.0])
    y = x * 2
    y.mul_(r)
    y.sum().backward()
    np.testing.assert_allclose(npv(x.grad), [[20.0, 40.0], [20.0, 40.0]])
    np.testing.assert_allclose(npv(r.grad), [8.0, 12.0])


def test_setitem_on_clone():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    w = leaf(5.0)
    c = const([1.0, 10.0, 100.0, 1000.0])
    y = x.clone()
    y[0] = w
    (y * c).sum().backward()
    np.testing.assert_allclose(npv(x.grad), [0.0, 10.0, 100.0, 1000.0])
    np.testing.assert_allclose(npv(w.grad), 1.0)
    assert tuple(w.grad.shape) == ()


def test_setitem_with_tensor_slice_and_mask():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    v = leaf([7.0, 8.0])
    y = x * 1
    y[1:3] = v * 2
    y[y > 7.5] = 0.0  # y = [1, 0, 0, 4]: positions 1 and 2 are overwritten again
    (y * const([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_allclose(npv(y), [1.0, 0.0, 0.0, 4.0])
    np.testing.assert_allclose(npv(x.grad), [1.0, 0.0, 0.0, 4.0])
    np.testing.assert_allclose(npv(v.grad), [0.0, 0.0])


def test_setitem_into_plain_tensor_makes_it_require_grad():
    w = leaf(3.0)
    c = ember.zeros(3, dtype=ember.float64)
    assert not c.requires_grad
    c[1] = w * w
    assert c.requires_grad and c.grad_fn is not None
    (c * const([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(npv(w.grad), 2 * 2 * 3.0)


def test_inplace_with_grad_input_on_plain_tensor():
    x = leaf([1.0, 2.0])
    y = ember.zeros(2, dtype=ember.float64)
    y.add_(x * 3)
    assert y.requires_grad and not y.is_leaf
    y.sum().backward()
    np.testing.assert_allclose(npv(x.grad), [3.0, 3.0])


# ---- in-place through views ----------------------------------------------------------------------------
def test_inplace_on_view_of_non_leaf():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    y = x.clone()
    y[1:].mul_(2)
    y.sum().backward()
    np.testing.assert_allclose(npv(y), [1.0, 4.0, 6.0, 8.0])
    np.testing.assert_allclose(npv(x.grad), [1.0, 2.0, 2.0, 2.0])


def test_inplace_on_view_with_grad_source():
    x = leaf([1.0, 2.0, 3.0])
    w = leaf([10.0, 20.0])
    y = x * 1
    y[:2].add_(w * w)
    (y * const([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(npv(x.grad), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(npv(w.grad), [20.0, 80.0])


def test_view_sees_inplace_change_of_base():
    x = leaf([1.0, 2.0, 3.0])
    base = x * 1
    v = base[1:]  # created before the in-place op
    base.mul_(2)
    np.testing.assert_allclose(npv(v), [4.0, 6.0])
    (v * v).sum().backward()
    np.testing.assert_allclose(npv(x.grad), [0.0, 2 * 4.0 * 2, 2 * 6.0 * 2])


def test_view_sees_inplace_change_through_other_view():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    base = x.clone()
    v1 = base[:2]
    v2 = base[1:]
    v1.mul_(3)  # changes base[0], base[1]; v2[0] is base[1]
    np.testing.assert_allclose(npv(v2), [6.0, 3.0, 4.0])
    (v2 * v2).sum().backward()
    # d/dx of (3 x1)^2 + x2^2 + x3^2
    np.testing.assert_allclose(npv(x.grad), [0.0, 18.0 * 2.0, 6.0, 8.0])


def test_base_sees_inplace_change_through_view():
    x = leaf([1.0, 2.0, 3.0])
    base = x * 1
    base[1:].exp_()
    (base * const([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(npv(x.grad), [1.0, 2.0 * np.exp(2.0), 3.0 * np.exp(3.0)])


def test_inplace_through_transposed_view():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * 1
    yt = y.t()
    yt[0].mul_(10)  # scales column 0 of y
    (y * const([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    np.testing.assert_allclose(npv(y), [[10.0, 2.0], [30.0, 4.0]])
    np.testing.assert_allclose(npv(x.grad), [[10.0, 2.0], [30.0, 4.0]])


def test_chained_views_inplace():
    x = leaf(np.arange(6.0).tolist())
    y = x * 1
    z = y.view(2, 3)[:, 1:][1]  # y[4], y[5]
    z.add_(100)
    z2 = y.view(3, 2)
    (z2 * z2).sum().backward()
    expected = 2 * (np.arange(6.0) + np.array([0, 0, 0, 0, 100, 100]))
    np.testing.assert_allclose(npv(x.grad), expected)


# ---- version counter and the saved-tensor check -------------------------------------------------------------
def test_version_counter():
    x = const([1.0, 2.0])
    v0 = x._version
    x.add_(1)
    assert x._version == v0 + 1
    x[0] = 5.0
    assert x._version == v0 + 2
    view = x[1:]
    view.mul_(2)
    assert x._version == v0 + 3 and view._version == x._version
    y = x * 2  # out-of-place ops don't bump
    assert x._version == v0 + 3 and y._version == 0


def test_new_tensors_start_at_version_zero():
    made = [ember.zeros(3), ember.ones(3), ember.full((2,), 3.0), ember.randn(3), ember.rand(3), ember.empty(3),
            ember.arange(3), ember.from_numpy(np.zeros(3)), ember.zeros(3) * 2, ember.zeros(3).clone()]
    assert [t._version for t in made] == [0] * len(made)


def test_modified_saved_output_raises():
    a = leaf([0.1, 0.2, 0.3])
    b = a.exp()  # exp saves its result
    b.add_(1)
    with pytest.raises(RuntimeError, match=re.escape(VERSION_ERR) + r".*version 1, expected 0"):
        b.sum().backward()


def test_modified_saved_input_raises():
    a = leaf([0.1, 0.2, 0.3])
    h = a * 1
    s = h.sin()  # sin saves its input
    h.mul_(2)
    h.mul_(2)
    with pytest.raises(RuntimeError, match=re.escape(VERSION_ERR) + r".*version 2, expected 0"):
        s.sum().backward()


def test_modified_saved_through_view_raises():
    a = leaf([0.1, 0.2, 0.3])
    h = a * 1
    s = h * h
    h[0:1].zero_()
    with pytest.raises(RuntimeError, match=re.escape(VERSION_ERR)):
        s.sum().backward()


def test_modified_tensor_not_saved_is_fine():
    a = leaf([0.1, 0.2, 0.3])
    h = a * 1
    s = h + 2  # add saves nothing
    h.mul_(5)
    s.sum().backward()
    np.testing.assert_allclose(npv(a.grad), [1.0, 1.0, 1.0])


def test_inplace_after_backward_is_fine():
    a = leaf([0.1, 0.2])
    b = a.exp()
    b.sum().backward()
    b.add_(1)  # the graph is already freed
    np.testing.assert_allclose(npv(a.grad), np.exp([0.1, 0.2]))


# ---- leaves --------------------------------------------------------------------------------------------------
def _leaf_inplace_pattern():
    return r"(?is)(leaf.*in-place|in-place.*leaf)"


def test_inplace_on_leaf_requiring_grad_raises():
    a = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=_leaf_inplace_pattern()):
        a.add_(1)
    with pytest.raises(RuntimeError, match=_leaf_inplace_pattern()):
        a.mul_(const([2.0, 2.0]))
    np.testing.assert_allclose(npv(a), [1.0, 2.0])


def test_inplace_on_view_of_leaf_raises():
    a = leaf([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="(?i)leaf"):
        a[1:].mul_(2)
    with pytest.raises(RuntimeError, match="(?i)leaf"):
        a[0] = 5.0


def test_inplace_on_leaf_under_no_grad_allowed():
    a = leaf([1.0, 2.0])
    with ember.no_grad():
        a.mul_(3)
        a[0] = 0.5
    np.testing.assert_allclose(npv(a), [0.5, 6.0])
    assert a.is_leaf and a.requires_grad
    (a * a).sum().backward()
    np.testing.assert_allclose(npv(a.grad), [1.0, 12.0])


def test_inplace_on_detached_leaf_allowed_and_shared():
    a = leaf([1.0, 2.0])
    d = a.detach()
    d.mul_(2)
    np.testing.assert_allclose(npv(a), [2.0, 4.0])
    (a * 1).sum().backward()
    np.testing.assert_allclose(npv(a.grad), [1.0, 1.0])


# ---- detach_ and views ----------------------------------------------------------------------------------------
def test_detach_inplace_cuts_history():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.detach_()
    z = y * x
    z.sum().backward()
    np.testing.assert_allclose(npv(x.grad), [2.0, 4.0])


def test_detach_inplace_on_view_raises():
    x = leaf([1.0, 2.0, 3.0])
    v = (x * 2)[:2]
    with pytest.raises(RuntimeError, match="(?i)view"):
        v.detach_()


def test_view_of_leaf_shares_grad_flow():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    v = x.view(4)
    assert v.requires_grad and not v.is_leaf and v.grad_fn is not None
    (v * const([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_allclose(npv(x.grad), [[1.0, 2.0], [3.0, 4.0]])


def test_unbind_outputs_inplace_forbidden_or_correct():
    # torch forbids in-place on outputs of multi-output view ops (unbind/split) that require grad;
    # an engine that allows it must still get the gradient right
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * 1
    a, b = y.unbind(0)
    try:
        a.mul_(2)
    except RuntimeError:
        return
    np.testing.assert_allclose(npv(y), [[2.0, 4.0], [3.0, 4.0]])
    (y * const([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    np.testing.assert_allclose(npv(x.grad), [[2.0, 4.0], [3.0, 4.0]])


@pytest.mark.parametrize("refill", [lambda t: t.uniform_(), lambda t: t.normal_(), lambda t: t.exponential_(),
                                    lambda t: t.bernoulli_(0.5), lambda t: t.random_(0, 3), lambda t: t.fill_(2.0),
                                    lambda t: t.zero_()])
def test_refilling_in_place_cuts_the_history(refill):
    # the old values no longer matter: no gradient may flow back through them
    x = ember.tensor([1.0, 2.0, 3.0], dtype=ember.float64).requires_grad_()
    y = x * 2
    refill(y)
    z = (y * x).sum()
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy())  # only the direct use of x
    with pytest.raises(RuntimeError, match="leaf"):
        refill(x)


def test_no_derivative_ops_raise_at_backward():
    x = ember.tensor([3.0, 1.0, 3.0], dtype=ember.float64).requires_grad_()
    u = ember.unique(x * 1)
    assert u.requires_grad
    with pytest.raises(NotImplementedError, match=r"\[unique\] the derivative is not implemented"):
        u.sum().backward()


def test_split_and_unbind_record_one_node_for_all_pieces():
    import numpy as np
    x = ember.randn(6, 3, requires_grad=True)
    parts = ember.split(x, [1, 2, 3])
    assert len({id(p.grad_fn) for p in parts}) == 1 and parts[0].grad_fn is parts[2].grad_fn
    assert [p._is_view for p in parts] == [True] * 3
    (parts[0] * 3).sum().backward()  # unused pieces get zero gradient
    np.testing.assert_array_equal(x.grad.numpy()[:, 0], [3, 0, 0, 0, 0, 0])
    y = x.clone()
    rows = y.unbind(0)
    rows[4].mul_(5)  # an in-place op on one piece rewrites the base's history
    x.grad = None
    (rows[4].sum() + rows[1].sum() + y[4].sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy()[:, 0], [0, 1, 0, 0, 10, 0])
    a, b = ember.randn(4, 2, requires_grad=True).chunk(2, 1)
    assert a.grad_fn is b.grad_fn
