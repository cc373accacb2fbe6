"""Gradient clipping: by total norm and by value."""
import math

import ember
from ember import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _params(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the norms of tensors (as if concatenated into one vector).

    Args:
        tensors (Tensor or iterable of Tensors): e.g. gradients.
        norm_type (float or 'inf'): the p of the p-norm (default: 2.0).
        error_if_nonfinite (bool): raise if the norm is nan or inf (default: False).
        foreach (bool, optional): ignored.

    Returns:
        Tensor: a 0-d float tensor.

    Example:
        >>> import ember
        >>> ember.nn.utils.get_total_norm([ember.tensor([3.0]), ember.tensor([4.0])]).item()
        5.0
    """
    tensors = [t for t in _params(tensors) if t is not None]
    norm_type = float(norm_type)
    if not tensors:
        return ember.tensor(0.0)
    with ember.no_grad():
        dev = tensors[0].device  # (gradients on several devices: their norms gather there)
        norms = ember.stack([ember.norm(t.detach().reshape(-1), norm_type).to(tensors[0].dtype).to(dev)
                             if t.numel() else ember.zeros((), dtype=tensors[0].dtype, device=dev) for t in tensors])
        if norm_type == math.inf:
            total = norms.max()
        else:
            total = ember.norm(norms, norm_type)
    if error_if_nonfinite and not bool(ember.isfinite(total).item()):
        raise RuntimeError(f"[clip_grad_norm_] the total norm of order {norm_type} for gradients from `parameters` "
                           "is non-finite, so it cannot be clipped. To disable this error and scale the gradients "
                           "by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scales the gradients in place by max_norm / (total_norm + 1e-6) when that is below 1.

    Args:
        parameters (Tensor or iterable of Tensors): whose .grad is scaled.
        max_norm (float): the largest allowed norm.
        total_norm (Tensor): the gradients' total norm (see get_total_norm).
        foreach (bool, optional): ignored.

    Returns:
        None

    Example:
        >>> import ember
        >>> p = ember.ones(1, requires_grad=True); (p * 10).sum().backward()
        >>> ember.nn.utils.clip_grads_with_norm_([p], 1.0, ember.tensor(10.0)); round(p.grad.item(), 4)
        1.0
    """
    params = [p for p in _params(parameters) if p.grad is not None]
    if not params:
        return
    with ember.no_grad():
        coef = float(max_norm) / (float(total_norm.item()) + 1e-6)
        if coef < 1.0:
            for p in params:
                p.grad.mul_(coef)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scales the gradients in place so that their total norm is at most max_norm.

    Args:
        parameters (Tensor or iterable of Tensors): whose .grad is clipped.
        max_norm (float): the largest allowed norm.
        norm_type (float or 'inf'): the p of the p-norm (default: 2.0).
        error_if_nonfinite (bool): raise if the total norm is nan or inf (default: False).
        foreach (bool, optional): ignored.

    Returns:
        Tensor: the total norm before clipping (0-d).

    Example:
        >>> import ember
        >>> p = ember.ones(4, requires_grad=True); (p * 3).sum().backward()
        >>> ember.nn.utils.clip_grad_norm_([p], 1.0).item(), round(p.grad.norm().item(), 4)
        (6.0, 1.0)
    """
    params = _params(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated alias of clip_grad_norm_."""
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient element in place to [-clip_value, clip_value].

    Args:
        parameters (Tensor or iterable of Tensors): whose .grad is clipped.
        clip_value (float): the bound.
        foreach (bool, optional): ignored.

    Returns:
        None

    Example:
        >>> import ember
        >>> p = ember.ones(2, requires_grad=True); (p * ember.tensor([3.0, -0.5])).sum().backward()
        >>> ember.nn.utils.clip_grad_value_(p, 1.0); p.grad.tolist()
        [1.0, -0.5]
    """
    clip_value = float(clip_value)
    with ember.no_grad():
        for p in _params(parameters):
            g = p.grad
            if g is not None:
                g.clamp_(min=-clip_value, max=clip_value)
