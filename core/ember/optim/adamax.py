"""``Adamax``: the infinity-norm variant of Adam."""
import ember

from . import _functional as F
from .optimizer import Optimizer, _check_hyper, _check_no_fused_or_differentiable, _get_scalar_dtype

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax (PyTorch's ``torch.optim.Adamax``).

    Per step t, with g the gradient (negated when maximize)::

        g = g + weight_decay * p
        m = lerp(m, g, 1 - beta1);  u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1^t) * m / u

    Args:
        params (iterable): tensors or parameter-group dicts to optimize.
        lr (float): learning rate (default: 2e-3).
        betas (tuple[float, float]): coefficients of the average and of the norm (default: (0.9, 0.999)).
        eps (float): term added to |g| (default: 1e-8).
        weight_decay (float): L2 penalty (default: 0).
        foreach, capturable (bool, optional): accepted for PyTorch compatibility and ignored.
        maximize (bool): maximize the objective instead (default: False).
        differentiable (bool): only False is supported (default: False).

    Returns:
        An optimizer; ``state[p]`` holds ``step``, ``exp_avg`` and ``exp_inf``.

    Example:
        >>> import ember
        >>> w = ember.zeros(1, requires_grad=True)
        >>> opt = ember.optim.Adamax([w], lr=0.1)
        >>> (w - 1).square().sum().backward(); opt.step(); round(w.item(), 4)
        0.1
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_hyper("Adamax", 0.0 <= lr, "learning rate", lr, "lr >= 0")
        _check_hyper("Adamax", 0.0 <= eps, "epsilon value", eps, "eps >= 0")
        _check_hyper("Adamax", 0.0 <= betas[0] < 1.0, "beta parameter at index 0", betas[0], "0 <= beta < 1")
        _check_hyper("Adamax", 0.0 <= betas[1] < 1.0, "beta parameter at index 1", betas[1], "0 <= beta < 1")
        _check_hyper("Adamax", 0.0 <= weight_decay, "weight_decay value", weight_decay, "weight_decay >= 0")
        _check_no_fused_or_differentiable("Adamax", differentiable)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (("foreach", None), ("maximize", False), ("differentiable", False),
                               ("capturable", False)):
                group.setdefault(key, value)

    def step(self, closure=None):
        """Performs one Adamax step over the parameters that have a gradient.

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
                params, grads, exp_avgs, exp_infs, steps = [], [], [], [], []
                for p in group["params"]:
                    g = p.grad
                    if g is None:
                        continue
                    params.append(p)
                    grads.append(g)
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = ember.tensor(0.0, dtype=_get_scalar_dtype())
                        state["exp_avg"] = ember.zeros_like(p)
                        state["exp_inf"] = ember.zeros_like(p)
                    exp_avgs.append(state["exp_avg"])
                    exp_infs.append(state["exp_inf"])
                    steps.append(state["step"])
                beta1, beta2 = group["betas"]
                F.adamax(params, grads, exp_avgs, exp_infs, steps, eps=group["eps"], beta1=beta1, beta2=beta2,
                         lr=group["lr"], weight_decay=group["weight_decay"], maximize=group["maximize"])
        return loss
