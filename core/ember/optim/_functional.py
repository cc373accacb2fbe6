"""Functional forms of the optimizer updates: one function per algorithm over lists of tensors.

These are the seam between the optimizer classes (which gather parameters, gradients and
state) and the arithmetic: each function updates ``params`` and the state tensors in place,
with the same order of operations as PyTorch's single-tensor (``foreach=False``) code, so a
fused multi-tensor kernel can replace one function without touching the classes: sgd, adam and
adamw take ``ember._C._nn.fused_sgd_`` / ``fused_adam_`` (one pass per parameter in C++) when
every tensor is a contiguous float32/float64 CPU tensor, and the ops below otherwise.
They must be called under ``ember.no_grad()``; ``state_steps`` are 0-d float tensors that
are incremented in place.

``addcmul_`` / ``addcdiv_`` do not exist in the core yet; ``_addcmul_`` / ``_addcdiv_`` compose
them with PyTorch's CPU evaluation order (``self + (value * t1) * t2`` and ``self + (value * t1) / t2``).
"""
import ember
from ember import _C

__all__ = ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adamax"]


def _addcmul_(t, t1, t2, value=1.0):
    """t += value * t1 * t2, in place (PyTorch's addcmul_)."""
    return t.add_(t1.mul(value).mul_(t2))


def _addcdiv_(t, t1, t2, value=1.0):
    """t += value * t1 / t2, in place (PyTorch's addcdiv_)."""
    return t.add_(t1.mul(value).div_(t2))


def _as_real(*tensors):
    """Views complex tensors as real (..., 2) tensors, as PyTorch's optimizers do; others unchanged."""
    return [ember.view_as_real(t) if t is not None and t.is_complex() else t for t in tensors]


def _num(x):
    return x.item() if isinstance(x, ember.Tensor) else x


def sgd(params, grads, momentum_buffer_list, *, weight_decay, momentum, lr, dampening, nesterov, maximize):
    """Stochastic gradient descent update (PyTorch's ``torch.optim.sgd`` with foreach=False).

    Args:
        params (list[Tensor]): parameters, updated in place.
        grads (list[Tensor]): their gradients (not modified).
        momentum_buffer_list (list[Tensor | None]): momentum buffers; None entries are created
            (a copy of the first gradient) and written back into the list.
        weight_decay (float): L2 penalty added to the gradient.
        momentum (float): momentum factor (0 disables the buffers).
        lr (float): learning rate.
        dampening (float): dampening of the momentum.
        nesterov (bool): Nesterov momentum.
        maximize (bool): ascend instead of descend.

    Returns:
        None.

    Example:
        >>> import ember
        >>> p, g = ember.ones(2), ember.full((2,), 0.5); bufs = [None]
        >>> sgd([p], [g], bufs, weight_decay=0, momentum=0.9, lr=0.1, dampening=0, nesterov=False, maximize=False)
        >>> p
        tensor([0.9500, 0.9500])
    """
    lr = _num(lr)
    if params and (momentum == 0 or all(b is not None for b in momentum_buffer_list)) and _C._nn.fused_sgd_(
            params, grads, momentum_buffer_list if momentum != 0 else [], float(lr), float(momentum),
            float(dampening), float(weight_decay), bool(nesterov), bool(maximize)):
        return  # one fused pass per parameter (contiguous float32/float64 tensors)
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else grads[i].neg()
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        if momentum != 0:
            buf = momentum_buffer_list[i]
            if buf is None:
                buf = grad.detach().clone()
                momentum_buffer_list[i] = buf
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - dampening)
            grad = grad.add(buf, alpha=momentum) if nesterov else buf
        param.add_(grad, alpha=-lr)


def adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, *, amsgrad, beta1, beta2, lr,
         weight_decay, eps, maximize, decoupled_weight_decay=False):
    """Adam update (PyTorch's ``torch.optim.adam`` with foreach=False); AdamW when
    ``decoupled_weight_decay`` is True.

    Args:
        params (list[Tensor]): parameters, updated in place.
        grads (list[Tensor]): their gradients (not modified).
        exp_avgs (list[Tensor]): first-moment running averages, updated in place.
        exp_avg_sqs (list[Tensor]): second-moment running averages, updated in place.
        max_exp_avg_sqs (list[Tensor]): running maxima of exp_avg_sqs (used when amsgrad).
        state_steps (list[Tensor]): 0-d step counters, incremented in place.
        amsgrad (bool): use the AMSGrad variant.
        beta1 (float): first-moment coefficient.
        beta2 (float): second-moment coefficient.
        lr (float): learning rate.
        weight_decay (float): L2 penalty (added to the gradient, or applied to the parameter
            as ``p *= 1 - lr * weight_decay`` when decoupled).
        eps (float): term added to the denominator.
        maximize (bool): ascend instead of descend.
        decoupled_weight_decay (bool): AdamW's decoupled decay (default: False).

    Returns:
        None.

    Example:
        >>> import ember
        >>> p, g = ember.ones(2), ember.full((2,), 0.5)
        >>> m, v, s = ember.zeros(2), ember.zeros(2), ember.tensor(0.0)
        >>> adam([p], [g], [m], [v], [], [s], amsgrad=False, beta1=0.9, beta2=0.999, lr=0.1,
        ...      weight_decay=0, eps=1e-8, maximize=False)
        >>> p  # the first Adam step moves each coordinate by lr
        tensor([0.9000, 0.9000])
    """
    lr, beta1, beta2 = _num(lr), _num(beta1), _num(beta2)
    if params and _C._nn.fused_adam_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs if amsgrad else [],
                                     state_steps, float(lr), float(beta1), float(beta2), float(weight_decay),
                                     float(eps), bool(amsgrad), bool(maximize), bool(decoupled_weight_decay)):
        return  # one fused pass per parameter (contiguous float32/float64 tensors)
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else grads[i].neg()
        exp_avg, exp_avg_sq, step_t = exp_avgs[i], exp_avg_sqs[i], state_steps[i]
        step_t.add_(1)
        if weight_decay != 0:
            if decoupled_weight_decay:
                param.mul_(1 - lr * weight_decay)
            else:
                grad = grad.add(param, alpha=weight_decay)
        max_sq = max_exp_avg_sqs[i] if amsgrad else None
        param, grad, exp_avg, exp_avg_sq, max_sq = _as_real(param, grad, exp_avg, exp_avg_sq, max_sq)
        exp_avg.lerp_(grad, 1 - beta1)
        _addcmul_(exp_avg_sq.mul_(beta2), grad, grad, 1 - beta2)
        step = step_t.item()
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2 ** 0.5
        if amsgrad:
            max_sq.maximum_(exp_avg_sq)
            denom = (max_sq.sqrt() / bias_correction2_sqrt).add_(eps)
        else:
            denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
        _addcdiv_(param, exp_avg, denom, -step_size)


def adamw(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, *, amsgrad, beta1, beta2, lr,
          weight_decay, eps, maximize):
    """AdamW update: ``adam`` with decoupled weight decay (see ``adam`` for the arguments).

    Returns:
        None.

    Example:
        >>> import ember
        >>> p, g = ember.ones(2), ember.zeros(2)
        >>> adamw([p], [g], [ember.zeros(2)], [ember.zeros(2)], [], [ember.tensor(0.0)], amsgrad=False,
        ...       beta1=0.9, beta2=0.999, lr=0.1, weight_decay=0.5, eps=1e-8, maximize=False)
        >>> p  # only the decay: 1 - 0.1 * 0.5
        tensor([0.9500, 0.9500])
    """
    adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, amsgrad=amsgrad, beta1=beta1,
         beta2=beta2, lr=lr, weight_decay=weight_decay, eps=eps, maximize=maximize, decoupled_weight_decay=True)


def rmsprop(params, grads, square_avgs, grad_avgs, momentum_buffer_list, state_steps, *, lr, alpha, eps,
            weight_decay, momentum, centered, maximize):
    """RMSprop update (PyTorch's ``torch.optim.rmsprop`` with foreach=False).

    Args:
        params (list[Tensor]): parameters, updated in place.
        grads (list[Tensor]): their gradients (not modified).
        square_avgs (list[Tensor]): running averages of the squared gradient.
        grad_avgs (list[Tensor]): running averages of the gradient (used when centered).
        momentum_buffer_list (list[Tensor]): momentum buffers (used when momentum > 0).
        state_steps (list[Tensor]): 0-d step counters, incremented in place.
        lr (float): learning rate.
        alpha (float): smoothing constant.
        eps (float): term added to the denominator.
        weight_decay (float): L2 penalty.
        momentum (float): momentum factor.
        centered (bool): normalise by the estimated variance instead of the second moment.
        maximize (bool): ascend instead of descend.

    Returns:
        None.

    Example:
        >>> import ember
        >>> p, g = ember.ones(1), ember.ones(1)
        >>> rmsprop([p], [g], [ember.zeros(1)], [], [], [ember.tensor(0.0)], lr=0.01, alpha=0.99, eps=1e-8,
        ...         weight_decay=0, momentum=0, centered=False, maximize=False)
        >>> round(p.item(), 4)  # 1 - 0.01 / sqrt(0.01)
        0.9
    """
    lr = _num(lr)
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else grads[i].neg()
        square_avg = square_avgs[i]
        state_steps[i].add_(1)
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        grad_avg = grad_avgs[i] if centered else None
        buf = momentum_buffer_list[i] if momentum > 0 else None
        param, grad, square_avg, grad_avg, buf = _as_real(param, grad, square_avg, grad_avg, buf)
        _addcmul_(square_avg.mul_(alpha), grad, grad, 1 - alpha)
        if centered:
            grad_avg.lerp_(grad, 1 - alpha)
            avg = _addcmul_(square_avg.clone(), grad_avg, grad_avg, -1).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg = avg.add_(eps)
        if momentum > 0:
            _addcdiv_(buf.mul_(momentum), grad, avg)
            param.add_(buf, alpha=-lr)
        else:
            _addcdiv_(param, grad, avg, -lr)


def adagrad(params, grads, state_sums, state_steps, *, lr, weight_decay, lr_decay, eps, maximize):
    """Adagrad update (PyTorch's ``torch.optim.adagrad`` with foreach=False, dense gradients).

    Args:
        params (list[Tensor]): parameters, updated in place.
        grads (list[Tensor]): their gradients (not modified).
        state_sums (list[Tensor]): accumulated squared gradients, updated in place.
        state_steps (list[Tensor]): 0-d step counters, incremented in place.
        lr (float): learning rate.
        weight_decay (float): L2 penalty.
        lr_decay (float): learning-rate decay: ``clr = lr / (1 + (step - 1) * lr_decay)``.
        eps (float): term added to the denominator.
        maximize (bool): ascend instead of descend.

    Returns:
        None.

    Example:
        >>> import ember
        >>> p, g = ember.ones(1), ember.full((1,), 2.0)
        >>> adagrad([p], [g], [ember.zeros(1)], [ember.tensor(0.0)], lr=0.1, weight_decay=0, lr_decay=0,
        ...         eps=1e-10, maximize=False)
        >>> round(p.item(), 4)  # 1 - 0.1 * 2 / 2
        0.9
    """
    lr = _num(lr)
    for param, grad, state_sum, step_t in zip(params, grads, state_sums, state_steps):
        step_t.add_(1)
        step = step_t.item()
        grad = grad if not maximize else grad.neg()
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        clr = lr / (1 + (step - 1) * lr_decay)
        param, grad, state_sum = _as_real(param, grad, state_sum)
        _addcmul_(state_sum, grad, grad, 1)
        std = state_sum.sqrt().add_(eps)
        _addcdiv_(param, grad, std, -clr)


def adamax(params, grads, exp_avgs, exp_infs, state_steps, *, eps, beta1, beta2, lr, weight_decay, maximize):
    """Adamax update (PyTorch's ``torch.optim.adamax`` with foreach=False).

    Args:
        params (list[Tensor]): parameters, updated in place.
        grads (list[Tensor]): their gradients (not modified).
        exp_avgs (list[Tensor]): first-moment running averages.
        exp_infs (list[Tensor]): exponentially weighted infinity norms.
        state_steps (list[Tensor]): 0-d step counters, incremented in place.
        eps (float): term added to the infinity norm.
        beta1 (float): first-moment coefficient.
        beta2 (float): infinity-norm decay.
        lr (float): learning rate.
        weight_decay (float): L2 penalty.
        maximize (bool): ascend instead of descend.

    Returns:
        None.

    Example:
        >>> import ember
        >>> p, g = ember.ones(1), ember.full((1,), 0.5)
        >>> adamax([p], [g], [ember.zeros(1)], [ember.zeros(1)], [ember.tensor(0.0)], eps=1e-8, beta1=0.9,
        ...        beta2=0.999, lr=0.1, weight_decay=0, maximize=False)
        >>> round(p.item(), 4)
        0.9
    """
    lr, beta1, beta2 = _num(lr), _num(beta1), _num(beta2)
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else grads[i].neg()
        exp_avg, exp_inf, step_t = exp_avgs[i], exp_infs[i], state_steps[i]
        step_t.add_(1)
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        param, grad, exp_avg, exp_inf = _as_real(param, grad, exp_avg, exp_inf)
        exp_avg.lerp_(grad, 1 - beta1)
        exp_inf.mul_(beta2).maximum_(grad.abs().add_(eps))
        clr = lr / (1 - beta1 ** step_t.item())
        _addcdiv_(param, exp_avg, exp_inf, -clr)
