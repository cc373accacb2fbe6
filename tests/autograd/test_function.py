"""Custom autograd Functions: forward/backward/apply, ctx (save_for_backward, saved_tensors,
needs_input_grad, attributes, mark_dirty, mark_non_differentiable, set_materialize_grads),
non-tensor arguments, several outputs, double backward, once_differentiable, errors."""
import numpy as np
import pytest

import ember
from ember.autograd import Function
from ember.autograd.function import once_differentiable


def leaf(values):
    return ember.from_numpy(np.array(values, dtype=np.float64)).requires_grad_()


def npv(x):
    return np.asarray(x.detach().numpy(), dtype=np.float64)


class MyExp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class Square(Function):
    """Backward written with differentiable ops: double backward works."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g


def test_apply_forward_and_backward():
    x = leaf([0.0, 1.0, -2.0])
    y = MyExp.apply(x)
    assert y.requires_grad and not y.is_leaf
    assert "MyExp" in y.grad_fn.name()
    np.testing.assert_allclose(npv(y), np.exp([0.0, 1.0, -2.0]))
    (y * ember.from_numpy(np.array([1.0, 2.0, 3.0]))).sum().backward()
    np.testing.assert_allclose(npv(x.grad), np.exp([0.0, 1.0, -2.0]) * [1.0, 2.0, 3.0])


def test_function_composes_with_builtin_ops():
    x = leaf([0.5, 1.5])
    z = (MyExp.apply(x * 2) + x).sum()
    z.backward()
    np.testing.assert_allclose(npv(x.grad), 2 * np.exp([1.0, 3.0]) + 1)


def test_forward_runs_without_grad_mode():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            seen["enabled"] = ember.is_grad_enabled()
            y = x * 2
            seen["inner_requires_grad"] = y.requires_grad
            return y

        @staticmethod
        def backward(ctx, g):
            return g * 2

    y = Probe.apply(leaf([1.0]))
    assert seen == {"enabled": False, "inner_requires_grad": False}
    assert y.requires_grad


def test_no_input_requires_grad_gives_plain_output():
    y = MyExp.apply(ember.from_numpy(np.array([1.0])))
    assert not y.requires_grad and y.grad_fn is None


def test_apply_under_no_grad_records_nothing():
    with ember.no_grad():
        y = MyExp.apply(leaf([1.0]))
    assert not y.requires_grad and y.grad_fn is None


def test_non_tensor_arguments_and_needs_input_grad():
    seen = {}

    class Scale(Function):
        @staticmethod
        def forward(ctx, x, k, w, tag):
            seen["needs"] = tuple(ctx.needs_input_grad)
            ctx.k = k
            ctx.tag = tag
            ctx.save_for_backward(x, w)
            return x * w * k

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            seen["tag"] = ctx.tag
            gx = g * w * ctx.k if ctx.needs_input_grad[0] else None
            gw = g * x * ctx.k if ctx.needs_input_grad[2] else None
            return gx, None, gw, None

    x = leaf([1.0, 2.0])
    w = ember.from_numpy(np.array([3.0, 4.0]))  # does not require grad
    Scale.apply(x, 2.5, w, "hello").sum().backward()
    assert seen["needs"] == (True, False, False, False)
    assert seen["tag"] == "hello"
    np.testing.assert_allclose(npv(x.grad), [7.5, 10.0])
    assert w.grad is None


def test_multiple_outputs_and_materialized_grads():
    seen = {}

    class SinCos(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, gs, gc):
            (x,) = ctx.saved_tensors
            seen["gc"] = gc
            return gs * x.cos() - gc * x.sin()

    x = leaf([0.3, 1.2])
    s, c = SinCos.apply(x)
    assert s.requires_grad and c.requires_grad
    s.sum().backward()  # c unused: backward receives zeros for it
    assert seen["gc"] is not None
    np.testing.assert_allclose(npv(seen["gc"]), [0.0, 0.0])
    np.testing.assert_allclose(npv(x.grad), np.cos([0.3, 1.2]))
    x.grad = None
    s, c = SinCos.apply(x)
    (s * 2 + c * 3).sum().backward()
    np.testing.assert_allclose(npv(x.grad), 2 * np.cos([0.3, 1.2]) - 3 * np.sin([0.3, 1.2]))


def test_set_materialize_grads_false_gives_none():
    seen = {}

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            seen["g2"] = g2
            out = None
            if g1 is not None:
                out = g1 * 2
            if g2 is not None:
                out = g2 * 3 if out is None else out + g2 * 3
            return out

    x = leaf([1.0, 2.0])
    a, b = Two.apply(x)
    a.sum().backward()
    assert seen["g2"] is None
    np.testing.assert_allclose(npv(x.grad), [2.0, 2.0])


def test_mark_non_differentiable():
    class SortValues(Function):
        @staticmethod
        def forward(ctx, x):
            values, indices = ember.sort(x)
            ctx.mark_non_differentiable(indices)
            ctx.save_for_backward(indices)
            ctx.n = x.shape[0]
            return values, indices

        @staticmethod
        def backward(ctx, gv, gi):
            (indices,) = ctx.saved_tensors
            g = ember.zeros(ctx.n, dtype=gv.dtype)
            return g.index_add(0, indices, gv)

    x = leaf([3.0, 1.0, 2.0])
    v, i = SortValues.apply(x)
    assert v.requires_grad and not i.requires_grad
    assert i.tolist() == [1, 2, 0]
    (v * ember.from_numpy(np.array([1.0, 10.0, 100.0]))).sum().backward()
    np.testing.assert_allclose(npv(x.grad), [100.0, 1.0, 10.0])


def test_mark_dirty_in_place_forward():
    class AddOneInPlace(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    a = leaf([1.0, 2.0])
    b = a * 2
    v = b._version
    c = AddOneInPlace.apply(b)
    assert c.data_ptr() == b.data_ptr()
    assert b._version > v
    np.testing.assert_allclose(npv(b), [3.0, 5.0])
    assert "AddOneInPlace" in b.grad_fn.name()  # b's history was rewritten
    (c * c).sum().backward()
    np.testing.assert_allclose(npv(a.grad), 2 * 2 * np.array([3.0, 5.0]))


def test_mark_dirty_on_leaf_requiring_grad_raises():
    class AddOneInPlace(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(RuntimeError, match="(?i)leaf"):
        AddOneInPlace.apply(leaf([1.0]))


def test_saved_tensor_modified_in_place_raises():
    x = leaf([1.0, 2.0])
    h = x * 1
    y = Square.apply(h)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_double_backward_through_function():
    x = leaf([1.5, -2.0])
    y = Square.apply(x)
    (g,) = ember.autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(npv(g), [3.0, -4.0])
    (h,) = ember.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(npv(h), [2.0, 2.0])


def test_gradcheck_and_gradgradcheck_of_function():
    x = leaf([0.3, -0.4, 1.1])
    assert ember.autograd.gradcheck(Square.apply, (x,))
    assert ember.autograd.gradgradcheck(Square.apply, (x,))
    assert ember.autograd.gradcheck(MyExp.apply, (x,))


def test_once_differentiable():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            assert not ember.is_grad_enabled()
            return 3 * x * x * g

    x = leaf([1.0, 2.0])
    y = Cube.apply(x)
    y.sum().backward()
    np.testing.assert_allclose(npv(x.grad), [3.0, 12.0])
    y = Cube.apply(x)
    (g,) = ember.autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(npv(g), [3.0, 12.0])
    with pytest.raises(RuntimeError):
        ember.autograd.grad(g.sum(), x)


def test_wrong_number_of_gradients_raises():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, w):
            return x * w

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(RuntimeError, match="(?i)gradient"):
        Bad.apply(leaf([1.0]), leaf([2.0])).sum().backward()


def test_wrong_gradient_shape_raises():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return ember.ones(5, dtype=ember.float64)

    with pytest.raises(RuntimeError, match="(?i)shape"):
        Bad.apply(leaf([1.0, 2.0])).sum().backward()


def test_zero_dim_input_gets_zero_dim_grad():
    class Id(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g * 4

    x = ember.from_numpy(np.array(2.0)).requires_grad_()
    Id.apply(x).backward()
    assert tuple(x.grad.shape) == ()
    assert float(x.grad.item()) == 4.0


def test_backward_exception_propagates():
    class Boom(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            raise KeyError("boom in backward")

    with pytest.raises(KeyError, match="boom in backward"):
        Boom.apply(leaf([1.0])).sum().backward()


def test_saved_tensors_released_after_backward():
    x = leaf([1.0, 2.0])
    y = Square.apply(x)
    s = y.sum()
    s.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        s.backward()


class _SaveInputAndOutput(Function):
    @staticmethod
    def forward(ctx, x):
        y = x * x
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, _ = ctx.saved_tensors
        return 2 * x * g


def test_function_graphs_are_freed_without_backward():
    # the node owns ctx; ctx must not keep the outputs (whose grad_fn is the node), or the
    # node -> ctx -> output -> node cycle, which runs through C++, leaks every call
    import gc
    w = ember.ones(1).requires_grad_()

    def step():
        x = ember.randn(1 << 16) * w  # 256 KiB non-leaf
        _SaveInputAndOutput.apply(x).sum()

    for _ in range(3):
        step()
    gc.collect()
    before = ember._C._cpu_allocated_bytes()
    for _ in range(20):
        step()
    gc.collect()
    assert ember._C._cpu_allocated_bytes() - before < 1 << 18  # 20 leaked calls would hold 10 MiB
