"""Higher-level derivatives of functions: jacobian, hessian, vjp, jvp (PyTorch's
``torch.autograd.functional``)."""
from .._C import Tensor


def _tup(x):
    return (x, False) if isinstance(x, tuple) else ((x,), True)


def _prep(inputs, create_graph):
    return tuple(x.detach().requires_grad_(True) if not create_graph or not x.requires_grad else x
                 for x in inputs)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """Vector-Jacobian product v^T J of func at inputs.

    Args:
        func: callable returning a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        v: the vector(s), shaped like func's outputs (may be None for a single-element output).
        create_graph (bool): make the result differentiable.

    Returns:
        (outputs, vjp): vjp shaped like inputs.

    Example:
        >>> import ember
        >>> out, g = ember.autograd.functional.vjp(lambda x: x ** 2, ember.tensor([1.0, 2.0]), ember.ones(2))
        >>> g
        tensor([2., 4.])
    """
    from . import grad
    import ember

    ins, single_in = _tup(inputs)
    with ember.enable_grad():
        xs = _prep(ins, create_graph)
        outs = func(*xs)
        outs_t, single_out = _tup(outs)
        vs = (None,) * len(outs_t) if v is None else _tup(v)[0]
        gs = grad(list(outs_t), list(xs), list(vs), create_graph=create_graph, allow_unused=True)
    gs = tuple(g if g is not None else ember.zeros_like(x) for g, x in zip(gs, xs))
    outs_r = tuple(o if create_graph else o.detach() for o in outs_t)
    return (outs_r[0] if single_out else outs_r), (gs[0] if single_in else gs)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """Jacobian of func at inputs: for output shape O and input shape I, a tensor of shape
    O + I (nested tuples for several inputs/outputs, as PyTorch).

    Example:
        >>> import ember
        >>> J = ember.autograd.functional.jacobian(lambda x: x * 3, ember.ones(2))
        >>> J
        tensor([[3., 0.],
                [0., 3.]])
    """
    from . import grad
    import ember

    ins, single_in = _tup(inputs)
    with ember.enable_grad():
        xs = _prep(ins, create_graph)
        outs = func(*xs)
        outs_t, single_out = _tup(outs)
        result = []
        for o in outs_t:
            rows = [[] for _ in xs]
            flat = o.reshape(-1)
            for r in range(flat.numel()):
                gs = grad([flat[r]], list(xs), retain_graph=True, create_graph=create_graph, allow_unused=True)
                for k, (g, x) in enumerate(zip(gs, xs)):
                    rows[k].append(g if g is not None else ember.zeros_like(x))
            per_in = []
            for k, x in enumerate(xs):
                if rows[k]:
                    j = ember.stack(rows[k]).reshape(tuple(o.shape) + tuple(x.shape))
                else:
                    j = ember.zeros(tuple(o.shape) + tuple(x.shape), dtype=x.dtype)
                per_in.append(j if create_graph else j.detach())
            result.append(per_in[0] if single_in else tuple(per_in))
    return result[0] if single_out else tuple(result)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """Hessian of a scalar function at inputs: shape I + I (nested tuples for several inputs).

    Example:
        >>> import ember
        >>> H = ember.autograd.functional.hessian(lambda x: (x ** 3).sum(), ember.tensor([1.0, 2.0]))
        >>> H
        tensor([[ 6.,  0.],
                [ 0., 12.]])
    """
    from . import grad

    ins, single_in = _tup(inputs)

    def grad_fn(*xs):
        out = func(*xs)
        if out.numel() != 1:
            raise RuntimeError(f"[hessian] the function must return a single-element tensor, got shape {tuple(out.shape)}")
        gs = grad([out], list(xs), create_graph=True, allow_unused=True)
        import ember
        gs = tuple(g if g is not None else ember.zeros_like(x) for g, x in zip(gs, xs))
        return gs[0] if single_in else gs

    return jacobian(grad_fn, inputs, create_graph=create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """Jacobian-vector product J v of func at inputs (by the double-vjp trick).

    Returns:
        (outputs, jvp): jvp shaped like the outputs.

    Example:
        >>> import ember
        >>> out, t = ember.autograd.functional.jvp(lambda x: x ** 2, ember.tensor([1.0, 2.0]), ember.ones(2))
        >>> t
        tensor([2., 4.])
    """
    from . import grad
    import ember

    ins, single_in = _tup(inputs)
    vs = (ember.ones_like(ins[0]),) if v is None else _tup(v)[0]
    with ember.enable_grad():
        xs = _prep(ins, True)
        outs = func(*xs)
        outs_t, single_out = _tup(outs)
        us = [ember.zeros_like(o).requires_grad_() for o in outs_t]
        gs = grad(list(outs_t), list(xs), us, create_graph=True, allow_unused=True)
        pairs = [(g, vv) for g, vv in zip(gs, vs) if g is not None]
        res = grad([p[0] for p in pairs], us, [p[1] for p in pairs], create_graph=create_graph, allow_unused=True)
    res = tuple(r if r is not None else ember.zeros_like(o) for r, o in zip(res, outs_t))
    res = tuple(r if create_graph else r.detach() for r in res)
    outs_r = tuple(o if create_graph else o.detach() for o in outs_t)
    return (outs_r[0] if single_out else outs_r), (res[0] if single_out else res)
