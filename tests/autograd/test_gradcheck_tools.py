"""The checking and analysis tools: gradcheck / gradgradcheck (they pass correct gradients, catch
wrong ones and report the worst element), autograd.functional (jacobian, hessian, vjp, jvp), and
anomaly detection (NaN in backward names the node and shows the forward stack)."""
import os
import re
import warnings

import numpy as np
import pytest

import ember
from ember.autograd import Function


def leaf(values, dtype=np.float64):
    return ember.from_numpy(np.array(values, dtype=dtype)).requires_grad_()


def const(values):
    return ember.from_numpy(np.array(values, dtype=np.float64))


def npv(x):
    return np.asarray(x.detach().numpy(), dtype=np.float64)


def _numbers(text):
    return {float(s) for s in re.findall(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?", text)}


class WrongScale(Function):
    """f(x) = 3.5 x with a backward claiming 7.25."""

    @staticmethod
    def forward(ctx, x):
        return x * 3.5

    @staticmethod
    def backward(ctx, g):
        return g * 7.25


class FirstOrderOnly(Function):
    """x^2 with a backward that is right to first order but detaches x, so its own derivative
    with respect to x is wrong (missing): gradgradcheck must notice."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x.detach()


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x


# ---- gradcheck -------------------------------------------------------------------------------------------
def test_gradcheck_passes_correct_function():
    a = leaf([[0.1, -0.5], [1.2, 0.7]])
    b = leaf([0.3, -1.1])
    assert ember.autograd.gradcheck(lambda a, b: (a * b).exp() + a.sin(), (a, b)) is True


def test_gradcheck_multiple_outputs_and_constant_inputs():
    a = leaf([0.1, -0.5, 2.0])
    c = const([1.0, 2.0, 3.0])  # does not require grad: not checked
    assert ember.autograd.gradcheck(lambda a, c: (a * c, a.tanh(), (a * a).sum()), (a, c)) is True


def test_gradcheck_detects_wrong_gradient_and_reports_values():
    x = leaf([1.0])
    with pytest.raises(RuntimeError) as info:
        ember.autograd.gradcheck(WrongScale.apply, (x,), eps=2.0 ** -20)
    nums = _numbers(str(info.value))
    assert 3.5 in nums, f"numeric value 3.5 not reported: {info.value}"
    assert 7.25 in nums, f"analytic value 7.25 not reported: {info.value}"


def test_gradcheck_reports_worst_element():
    class OneWrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.25

        @staticmethod
        def backward(ctx, g):
            fix = ember.from_numpy(np.array([0.0, 0.5, 1.25]))
            return g * 2.25 + g * fix  # claims 2.75 for element 1 and 3.5 for element 2 (the worst)

    x = leaf([1.0, 2.0, 4.0])
    with pytest.raises(RuntimeError) as info:
        ember.autograd.gradcheck(OneWrong.apply, (x,), eps=2.0 ** -20)
    nums = _numbers(str(info.value))
    assert 3.5 in nums and 2.25 in nums, str(info.value)


def test_gradcheck_raise_exception_false_returns_false():
    x = leaf([1.0, 2.0])
    assert ember.autograd.gradcheck(WrongScale.apply, (x,), raise_exception=False) is False
    assert ember.autograd.gradcheck(Square.apply, (x,), raise_exception=False) is True


def test_gradcheck_tolerances_matter():
    class SlightlyWrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2.01

    x = leaf([1.0, 2.0])
    assert ember.autograd.gradcheck(SlightlyWrong.apply, (x,), raise_exception=False) is False
    assert ember.autograd.gradcheck(SlightlyWrong.apply, (x,), atol=1e-2, rtol=1e-2) is True


def test_gradcheck_does_not_leave_inputs_changed():
    x = leaf([0.25, -0.75])
    ember.autograd.gradcheck(lambda x: x.exp(), (x,))
    np.testing.assert_array_equal(npv(x), [0.25, -0.75])
    assert x.grad is None


# ---- gradgradcheck -----------------------------------------------------------------------------------------
def test_gradgradcheck_passes_correct_function():
    x = leaf([0.3, -0.6, 1.4])
    assert ember.autograd.gradgradcheck(lambda x: x.sin() * x.exp(), (x,)) is True
    assert ember.autograd.gradgradcheck(Square.apply, (x,)) is True


def test_gradgradcheck_with_given_grad_outputs():
    x = leaf([0.3, -0.6])
    y = leaf([1.5, 0.5])
    go = const([0.7, -1.3])
    assert ember.autograd.gradgradcheck(lambda x, y: x * y * x, (x, y), grad_outputs=(go,)) is True


def test_gradgradcheck_detects_wrong_double_backward():
    x = leaf([0.5, -1.5, 2.0])
    assert ember.autograd.gradcheck(FirstOrderOnly.apply, (x,)) is True  # first order is right
    with pytest.raises(RuntimeError):
        ember.autograd.gradgradcheck(FirstOrderOnly.apply, (x,))
    assert ember.autograd.gradgradcheck(FirstOrderOnly.apply, (x,), raise_exception=False) is False


# ---- functional ---------------------------------------------------------------------------------------------
from ember.autograd import functional as AF  # noqa: E402


def test_jacobian_single_input():
    x = const([0.5, -1.0, 2.0])
    J = AF.jacobian(lambda x: x ** 2 * const([1.0, 2.0, 3.0]), x)
    assert tuple(J.shape) == (3, 3)
    np.testing.assert_allclose(npv(J), np.diag(2 * np.array([0.5, -1.0, 2.0]) * [1.0, 2.0, 3.0]))
    assert not J.requires_grad


def test_jacobian_shapes_and_multiple_inputs():
    a = const([[1.0, 2.0], [3.0, 4.0]])
    b = const([0.5, -0.5])
    Ja, Jb = AF.jacobian(lambda a, b: a @ b, (a, b))
    assert tuple(Ja.shape) == (2, 2, 2) and tuple(Jb.shape) == (2, 2)
    expected_a = np.zeros((2, 2, 2))
    for i in range(2):
        expected_a[i, i, :] = [0.5, -0.5]
    np.testing.assert_allclose(npv(Ja), expected_a)
    np.testing.assert_allclose(npv(Jb), [[1.0, 2.0], [3.0, 4.0]])


def test_jacobian_scalar_output():
    x = const([1.0, 2.0])
    J = AF.jacobian(lambda x: (x.exp()).sum(), x)
    assert tuple(J.shape) == (2,)
    np.testing.assert_allclose(npv(J), np.exp([1.0, 2.0]))


def test_jacobian_create_graph():
    x = leaf([1.0, 2.0])
    J = AF.jacobian(lambda x: x ** 3, x, create_graph=True)
    assert J.requires_grad
    J.sum().backward()
    np.testing.assert_allclose(npv(x.grad), [6.0, 12.0])


def test_hessian():
    x = const([0.5, -1.0, 2.0])
    H = AF.hessian(lambda x: (x ** 3).sum(), x)
    np.testing.assert_allclose(npv(H), np.diag(6 * np.array([0.5, -1.0, 2.0])))
    A = np.array([[1.0, 2.0, 0.0], [0.5, -1.0, 3.0], [4.0, 0.0, 2.0]])
    H = AF.hessian(lambda x: (x * (const(A) @ x)).sum(), x)
    np.testing.assert_allclose(npv(H), A + A.T)


def test_vjp():
    x = const([0.5, -1.0, 2.0])
    v = const([1.0, 2.0, 3.0])
    out, g = AF.vjp(lambda x: x.sin() * 2, x, v)
    np.testing.assert_allclose(npv(out), 2 * np.sin([0.5, -1.0, 2.0]))
    np.testing.assert_allclose(npv(g), 2 * np.cos([0.5, -1.0, 2.0]) * [1.0, 2.0, 3.0])


def test_vjp_non_square():
    A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    x = const([1.0, 0.0, -1.0])
    out, g = AF.vjp(lambda x: const(A) @ x, x, const([1.0, -1.0]))
    np.testing.assert_allclose(npv(out), A @ [1.0, 0.0, -1.0])
    np.testing.assert_allclose(npv(g), [1.0, -1.0] @ A)


def test_jvp():
    A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    x = const([1.0, 0.0, -1.0])
    v = const([0.5, 1.0, 2.0])
    out, jv = AF.jvp(lambda x: (const(A) @ x) ** 2, x, v)
    y = A @ np.array([1.0, 0.0, -1.0])
    np.testing.assert_allclose(npv(out), y ** 2)
    np.testing.assert_allclose(npv(jv), 2 * y * (A @ np.array([0.5, 1.0, 2.0])))


# ---- anomaly detection ---------------------------------------------------------------------------------------
def _nan_backward():
    x = leaf([0.0, 1.0])
    w = leaf([0.0, 2.0])
    y = x / w  # 0/0: DivBackward0 produces nan for w
    return x, w, y.sum()


def test_nan_in_backward_without_anomaly_mode_is_silent():
    x, w, loss = _nan_backward()
    loss.backward()
    assert np.isnan(npv(w.grad)[0])


def test_detect_anomaly_names_node_and_forward_trace():
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        with ember.autograd.detect_anomaly():
            x, w, loss = _nan_backward()
            with pytest.raises(RuntimeError) as info:
                loss.backward()
    text = str(info.value) + "\n" + "\n".join(str(r.message) for r in rec)
    assert "DivBackward0" in str(info.value)
    assert "nan" in str(info.value).lower()
    assert os.path.basename(__file__) in text, text
    assert "_nan_backward" in text  # the forward frame that created the node


def test_set_detect_anomaly_function_form():
    ember.autograd.set_detect_anomaly(True)
    try:
        x, w, loss = _nan_backward()
        with pytest.raises(RuntimeError, match="DivBackward0"):
            loss.backward()
    finally:
        ember.autograd.set_detect_anomaly(False)
    x, w, loss = _nan_backward()
    loss.backward()  # off again
    assert np.isnan(npv(w.grad)[0])


def test_detect_anomaly_restores_state_and_passes_clean_backward():
    with ember.autograd.detect_anomaly():
        x = leaf([1.0, 2.0])
        (x.exp() * x).sum().backward()
    np.testing.assert_allclose(npv(x.grad), np.exp([1.0, 2.0]) * (np.array([1.0, 2.0]) + 1))
    x, w, loss = _nan_backward()
    loss.backward()
    assert np.isnan(npv(w.grad)[0])


def test_detect_anomaly_sqrt_at_zero():
    with ember.autograd.detect_anomaly():
        a = leaf([0.0, 4.0])
        y = (a.sqrt() * 0).sum()
        with pytest.raises(RuntimeError, match="SqrtBackward0"):
            y.backward()
