"""``Adagrad``: per-coordinate learning rates from the accumulated squared gradients."""
import ember

from . import _functional as F
from .optimizer import Optimizer, _check_hyper, _check_no_fused_or_differentiable, _get_scalar_dtype

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (PyTorch's ``torch.optim.Adagrad``).

    Per step t, with g the gradient (negated when maximize)::

        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        p = p - clr * g / (sqrt(s) + eps)

    The accumulators are created for every parameter at construction (as in PyTorch), filled
    with the group's ``initial_accumulator_value`` (PyTorch uses the constructor's value for
    every group; ember honours a per-group value).

    Args:
        params (iterable): tensors or parameter-group dicts to optimize.
        lr (float): learning rate (default: 1e-2).
        lr_decay (float): learning-rate decay (default: 0).
        weight_decay (float): L2 penalty (default: 0).
        initial_accumulator_value (float): starting value of the sums (default: 0).
        eps (float): term added to the denominator (default: 1e-10).
        foreach, fused (bool, optional): accepted for PyTorch compatibility and ignored.
        maximize (bool): maximize the objective instead (default: False).
        differentiable (bool): only False is supported (default: False).

    Returns:
        An optimizer; ``state[p]`` holds ``step`` and ``sum``.

    Example:
        >>> import ember
        >>> w = ember.zeros(1, requires_grad=True)
        >>> opt = ember.optim.Adagrad([w], lr=0.1)
        >>> (w - 1).square().sum().backward(); opt.step(); round(w.item(), 4)
        0.1
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_hyper("Adagrad", 0.0 <= lr, "learning rate", lr, "lr >= 0")
        _check_hyper("Adagrad", 0.0 <= lr_decay, "lr_decay value", lr_decay, "lr_decay >= 0")
        _check_hyper("Adagrad", 0.0 <= weight_decay, "weight_decay value", weight_decay, "weight_decay >= 0")
        _check_hyper("Adagrad", 0.0 <= initial_accumulator_value, "initial_accumulator_value value",
                     initial_accumulator_value, "initial_accumulator_value >= 0")
        _check_hyper("Adagrad", 0.0 <= eps, "epsilon value", eps, "eps >= 0")
        _check_no_fused_or_differentiable("Adagrad", differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(group, p)

    def _init_state(self, group, p):
        state = self.state[p]
        state["step"] = ember.tensor(0.0, dtype=_get_scalar_dtype())
        state["sum"] = ember.full_like(p, group["initial_accumulator_value"])

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (("foreach", None), ("maximize", False), ("differentiable", False), ("fused", None)):
                group.setdefault(key, value)
        for p_state in self.state.values():
            if "step" in p_state and not isinstance(p_state["step"], ember.Tensor):
                p_state["step"] = ember.tensor(float(p_state["step"]), dtype=_get_scalar_dtype())

    def step(self, closure=None):
        """Performs one Adagrad step over the parameters that have a gradient.

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
                params, grads, sums, steps = [], [], [], []
                for p in group["params"]:
                    g = p.grad
                    if g is None:
                        continue
                    params.append(p)
                    grads.append(g)
                    if len(self.state[p]) == 0:
                        self._init_state(group, p)
                    sums.append(self.state[p]["sum"])
                    steps.append(self.state[p]["step"])
                F.adagrad(params, grads, sums, steps, lr=group["lr"], weight_decay=group["weight_decay"],
                          lr_decay=group["lr_decay"], eps=group["eps"], maximize=group["maximize"])
        return loss
