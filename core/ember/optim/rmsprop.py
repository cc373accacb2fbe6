"""``RMSprop``: gradient scaled by a running root-mean-square (optionally centered, with momentum)."""
import ember

from . import _functional as F
from .optimizer import Optimizer, _check_hyper, _check_no_fused_or_differentiable, _get_scalar_dtype

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (PyTorch's ``torch.optim.RMSprop``).

    Per step, with g the gradient (negated when maximize)::

        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v - gavg^2) with gavg = lerp(gavg, g, 1 - alpha) (centered) or sqrt(v);  avg += eps
        buf = momentum * buf + g / avg;  p = p - lr * buf      (momentum > 0)
        p = p - lr * g / avg                                    (otherwise)

    Args:
        params (iterable): tensors or parameter-group dicts to optimize.
        lr (float): learning rate (default: 1e-2).
        alpha (float): smoothing constant (default: 0.99).
        eps (float): term added to the denominator (default: 1e-8).
        weight_decay (float): L2 penalty (default: 0).
        momentum (float): momentum factor (default: 0).
        centered (bool): normalise by the estimated variance (default: False).
        capturable, foreach (bool, optional): accepted for PyTorch compatibility and ignored.
        maximize (bool): maximize the objective instead (default: False).
        differentiable (bool): only False is supported (default: False).

    Returns:
        An optimizer; ``state[p]`` holds ``step``, ``square_avg`` and, when used,
        ``momentum_buffer`` and ``grad_avg``.

    Example:
        >>> import ember
        >>> w = ember.zeros(1, requires_grad=True)
        >>> opt = ember.optim.RMSprop([w], lr=0.01)
        >>> (w - 1).square().sum().backward(); opt.step(); round(w.item(), 4)  # 0.01 * 2 / sqrt(0.04)
        0.1
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_hyper("RMSprop", 0.0 <= lr, "learning rate", lr, "lr >= 0")
        _check_hyper("RMSprop", 0.0 <= eps, "epsilon value", eps, "eps >= 0")
        _check_hyper("RMSprop", 0.0 <= momentum, "momentum value", momentum, "momentum >= 0")
        _check_hyper("RMSprop", 0.0 <= weight_decay, "weight_decay value", weight_decay, "weight_decay >= 0")
        _check_hyper("RMSprop", 0.0 <= alpha, "alpha value", alpha, "alpha >= 0")
        _check_no_fused_or_differentiable("RMSprop", differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
                        capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (("momentum", 0), ("centered", False), ("foreach", None), ("maximize", False),
                               ("differentiable", False), ("capturable", False)):
                group.setdefault(key, value)

    def step(self, closure=None):
        """Performs one RMSprop step over the parameters that have a gradient.

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
                params, grads, square_avgs, grad_avgs, bufs, steps = [], [], [], [], [], []
                for p in group["params"]:
                    g = p.grad
                    if g is None:
                        continue
                    params.append(p)
                    grads.append(g)
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = ember.zeros((), dtype=_get_scalar_dtype())
                        state["square_avg"] = ember.zeros_like(p)
                        if group["momentum"] > 0:
                            state["momentum_buffer"] = ember.zeros_like(p)
                        if group["centered"]:
                            state["grad_avg"] = ember.zeros_like(p)
                    square_avgs.append(state["square_avg"])
                    steps.append(state["step"])
                    if group["momentum"] > 0:
                        bufs.append(state["momentum_buffer"])
                    if group["centered"]:
                        grad_avgs.append(state["grad_avg"])
                F.rmsprop(params, grads, square_avgs, grad_avgs, bufs, steps, lr=group["lr"], alpha=group["alpha"],
                          eps=group["eps"], weight_decay=group["weight_decay"], momentum=group["momentum"],
                          centered=group["centered"], maximize=group["maximize"])
        return loss
