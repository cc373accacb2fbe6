"""``SGD``: stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
import ember

from . import _functional as F
from .optimizer import Optimizer, _check_hyper, _check_no_fused_or_differentiable

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (PyTorch's ``torch.optim.SGD``).

    Per step, with g the gradient (negated when maximize)::

        g = g + weight_decay * p
        buf = g (first step) or momentum * buf + (1 - dampening) * g
        g = g + momentum * buf (nesterov) or buf
        p = p - lr * g

    Args:
        params (iterable): tensors or parameter-group dicts to optimize.
        lr (float): learning rate (default: 1e-3).
        momentum (float): momentum factor (default: 0).
        dampening (float): dampening of the momentum (default: 0).
        weight_decay (float): L2 penalty (default: 0).
        nesterov (bool): Nesterov momentum; needs momentum > 0 and dampening 0 (default: False).
        maximize (bool): maximize the objective instead (default: False).
        foreach, fused (bool, optional): accepted for PyTorch compatibility and ignored.
        differentiable (bool): only False is supported (default: False).

    Returns:
        An optimizer; ``state[p]["momentum_buffer"]`` holds the buffers when momentum != 0.

    Example:
        >>> import ember
        >>> w = ember.zeros(2, requires_grad=True)
        >>> opt = ember.optim.SGD([w], lr=0.5, momentum=0.9)
        >>> (w - 1).square().sum().backward(); opt.step(); w
        tensor([1., 1.])
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
                 foreach=None, differentiable=False, fused=None):
        _check_hyper("SGD", lr >= 0.0, "learning rate", lr, "lr >= 0")
        _check_hyper("SGD", momentum >= 0.0, "momentum value", momentum, "momentum >= 0")
        _check_hyper("SGD", weight_decay >= 0.0, "weight_decay value", weight_decay, "weight_decay >= 0")
        _check_no_fused_or_differentiable("SGD", differentiable)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize, foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"[SGD] Nesterov momentum requires a momentum and zero dampening: expected momentum > 0 "
                             f"and dampening == 0, got momentum={momentum}, dampening={dampening}")
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (("nesterov", False), ("maximize", False), ("foreach", None),
                               ("differentiable", False), ("fused", False)):
                group.setdefault(key, value)

    def step(self, closure=None):
        """Performs one SGD step over the parameters that have a gradient.

        Args:
            closure (Callable, optional): re-evaluates the model and returns the loss.

        Returns:
            The closure's loss, or None.

        Example:
            >>> opt.step()  # doctest: +SKIP
        """
        loss = self._closure_loss(closure)
        with ember.no_grad():
            for group in self.param_groups:
                params, grads, bufs = [], [], []
                for p in group["params"]:
                    g = p.grad
                    if g is None:
                        continue
                    params.append(p)
                    grads.append(g)
                    if group["momentum"] != 0:
                        bufs.append(self.state[p].get("momentum_buffer"))
                F.sgd(params, grads, bufs, weight_decay=group["weight_decay"], momentum=group["momentum"],
                      lr=group["lr"], dampening=group["dampening"], nesterov=group["nesterov"],
                      maximize=group["maximize"])
                if group["momentum"] != 0:
                    for p, buf in zip(params, bufs):
                        self.state[p]["momentum_buffer"] = buf
        return loss
