"""Finite-difference checks of gradients: gradcheck and gradgradcheck."""
from .. import _C
from .._C import Tensor


class GradcheckError(RuntimeError):
    """Raised by gradcheck/gradgradcheck when analytic and numeric gradients disagree."""


def _as_tuple(x):
    return x if isinstance(x, tuple) else (tuple(x) if isinstance(x, list) else (x,))


def _flat_outputs(fn, inputs):
    out = fn(*inputs)
    return [o for o in _as_tuple(out) if isinstance(o, Tensor) and o.is_floating_point()]


def _numeric_jacobian(fn, inputs, diff_idx, eps):
    """J[o][i]: numpy array (numel(out), numel(in)) by central differences in float64."""
    import numpy as np

    # grad mode stays on: gradgradcheck's function differentiates inside
    outs0 = _flat_outputs(fn, inputs)
    jac = [[np.zeros((o.numel(), inputs[i].numel())) for i in diff_idx] for o in outs0]
    for k, i in enumerate(diff_idx):
        x = inputs[i]
        for j in range(x.numel()):
            idx = _unravel(j, x.shape)
            orig = x[idx].item()
            x.detach()[idx] = orig + eps
            plus = [o.detach().numpy().astype(np.float64).reshape(-1).copy() for o in _flat_outputs(fn, inputs)]
            x.detach()[idx] = orig - eps
            minus = [o.detach().numpy().astype(np.float64).reshape(-1).copy() for o in _flat_outputs(fn, inputs)]
            x.detach()[idx] = orig
            for oi in range(len(outs0)):
                jac[oi][k][:, j] = (plus[oi] - minus[oi]) / (2 * eps)
    return jac


def _unravel(j, shape):
    idx = []
    for s in reversed(shape):
        idx.append(j % s)
        j //= s
    return tuple(reversed(idx))


def _analytic_jacobian(fn, inputs, diff_idx):
    """Row by row: backward of each output element (one-hot grad_outputs)."""
    import numpy as np
    from . import grad as _grad
    import ember

    outs = _flat_outputs(fn, inputs)
    jac = [[np.zeros((o.numel(), inputs[i].numel())) for i in diff_idx] for o in outs]
    dins = [inputs[i] for i in diff_idx]
    for oi, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for r in range(o.numel()):
            g = ember.zeros(o.shape, dtype=o.dtype)
            g.reshape(-1)[r] = 1.0
            gs = _grad([o], dins, [g], retain_graph=True, allow_unused=True)
            for k, gi in enumerate(gs):
                if gi is not None:
                    jac[oi][k][r, :] = gi.detach().numpy().astype(np.float64).reshape(-1)
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, **_ignored):
    """Checks the gradients of `func` at `inputs` against central finite differences.

    Inputs that require grad should be float64 (float32 differences are too coarse). Every
    output element is back-propagated with a one-hot gradient and compared with the
    numerical Jacobian.

    Args:
        func: callable taking the inputs and returning a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of arguments; Tensors with requires_grad are checked.
        eps (float): finite-difference step. Default 1e-6.
        atol, rtol (float): tolerances |analytic - numeric| <= atol + rtol * |numeric|.
        raise_exception (bool): raise GradcheckError on failure (default) or return False.

    Returns:
        bool: True when all gradients match.

    Example:
        >>> import ember
        >>> x = ember.tensor([0.5, 1.5], dtype=ember.float64).requires_grad_()
        >>> ember.autograd.gradcheck(lambda t: (t * t).sin(), (x,))
        True
    """
    import numpy as np

    inputs = _as_tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff_idx:
        raise ValueError("[gradcheck] expected at least one input tensor with requires_grad=True")
    for i in diff_idx:
        if inputs[i].dtype != _C.dtype.float64:
            import warnings
            warnings.warn(f"[gradcheck] input {i} is {inputs[i].dtype}, not float64: the check may fail "
                          "from rounding alone", stacklevel=2)
    analytic = _analytic_jacobian(func, inputs, diff_idx)
    numeric = _numeric_jacobian(func, inputs, diff_idx, eps)
    worst = None
    for oi in range(len(numeric)):
        for k in range(len(diff_idx)):
            a, n = analytic[oi][k], numeric[oi][k]
            if a.size == 0:
                continue
            err = np.abs(a - n) - (atol + rtol * np.abs(n))
            j = np.unravel_index(np.argmax(err), err.shape)
            if err[j] > 0 and (worst is None or err[j] > worst[0]):
                worst = (err[j], oi, diff_idx[k], j, a[j], n[j])
    if worst is None:
        return True
    _, oi, i, (r, c), a, n = worst
    msg = (f"[gradcheck] Jacobian mismatch for output {oi} with respect to input {i}: worst element "
           f"(output element {r}, input element {c}): analytic {a:.10g}, numeric {n:.10g} "
           f"(difference {abs(a - n):.3g}, tolerance atol={atol} rtol={rtol})")
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
                  gen_non_contig_grad_outputs=False, **_ignored):
    """Checks second derivatives: gradcheck of the map (inputs, grad_outputs) -> gradients of
    func's outputs, computed with create_graph=True.

    Args:
        func, inputs, eps, atol, rtol, raise_exception: as for gradcheck.
        grad_outputs: gradients for func's outputs (random float64 by default, requiring grad).

    Returns:
        bool: True when the second derivatives match.
    """
    import numpy as np
    import ember
    from . import grad as _grad

    inputs = _as_tuple(inputs)
    outs = _flat_outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(ember.from_numpy(rng.standard_normal(tuple(o.shape))).to(o.dtype).requires_grad_()
                             for o in outs)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_grads(*args):
        xs, gos = args[:n_in], args[n_in:]
        os = [o for o in _flat_outputs(func, xs) if o.requires_grad]
        gos = list(gos)[:len(os)]
        dins = [xs[i] for i in diff_idx]
        gs = _grad(os, dins, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grads, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
