"""``Adam``: adaptive moment estimation (with AMSGrad, L2 or decoupled weight decay)."""
import ember

from . import _functional as F
from .optimizer import Optimizer, _check_hyper, _check_no_fused_or_differentiable, _get_scalar_dtype, _to_float

__all__ = ["Adam"]


def _check_adam_args(name, lr, betas, eps, weight_decay, differentiable):
    _check_hyper(name, 0.0 <= lr, "learning rate", lr, "lr >= 0")
    _check_hyper(name, 0.0 <= eps, "epsilon value", eps, "eps >= 0")
    b1, b2 = _to_float(betas[0]), _to_float(betas[1])
    _check_hyper(name, 0.0 <= b1 < 1.0, "beta parameter at index 0", b1, "0 <= beta < 1")
    _check_hyper(name, 0.0 <= b2 < 1.0, "beta parameter at index 1", b2, "0 <= beta < 1")
    _check_hyper(name, 0.0 <= weight_decay, "weight_decay value", weight_decay, "weight_decay >= 0")
    _check_no_fused_or_differentiable(name, differentiable)


class Adam(Optimizer):
    """Adam (PyTorch's ``torch.optim.Adam``).

    Per step t, with g the gradient (negated when maximize)::

        g = g + weight_decay * p            (p = p * (1 - lr * weight_decay) if decoupled)
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)               (amsgrad; then v_max replaces v below)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    Args:
        params (iterable): tensors or parameter-group dicts to optimize.
        lr (float): learning rate (default: 1e-3).
        betas (tuple[float, float]): running-average coefficients (default: (0.9, 0.999)).
        eps (float): term added to the denominator (default: 1e-8).
        weight_decay (float): weight decay (default: 0).
        amsgrad (bool): use the AMSGrad variant (default: False).
        maximize (bool): maximize the objective instead (default: False).
        decoupled_weight_decay (bool): decoupled decay, i.e. AdamW (default: False).
        foreach, fused, capturable (bool, optional): accepted for PyTorch compatibility and ignored.
        differentiable (bool): only False is supported (default: False).

    Returns:
        An optimizer; ``state[p]`` holds ``step`` (0-d float32 tensor), ``exp_avg``,
        ``exp_avg_sq`` and with amsgrad ``max_exp_avg_sq``.

    Example:
        >>> import ember
        >>> w = ember.zeros(2, requires_grad=True)
        >>> opt = ember.optim.Adam([w], lr=0.1)
        >>> (w - 1).square().sum().backward(); opt.step(); w
        tensor([0.1000, 0.1000])
    """

    _name = "Adam"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        _check_adam_args(type(self).__name__, lr, betas, eps, weight_decay, differentiable)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (("amsgrad", False), ("maximize", False), ("foreach", None), ("capturable", False),
                               ("differentiable", False), ("decoupled_weight_decay", False), ("fused", None)):
                group.setdefault(key, value)
            for p in group["params"]:
                p_state = self.state.get(p, [])
                if len(p_state) != 0 and not isinstance(p_state["step"], ember.Tensor):
                    p_state["step"] = ember.tensor(float(p_state["step"]), dtype=_get_scalar_dtype())

    def _init_group(self, group, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps):
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
                state["exp_avg_sq"] = ember.zeros_like(p)
                if group["amsgrad"]:
                    state["max_exp_avg_sq"] = ember.zeros_like(p)
            exp_avgs.append(state["exp_avg"])
            exp_avg_sqs.append(state["exp_avg_sq"])
            if group["amsgrad"]:
                max_exp_avg_sqs.append(state["max_exp_avg_sq"])
            state_steps.append(state["step"])

    def step(self, closure=None):
        """Performs one Adam step over the parameters that have a gradient.

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
                params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps = [], [], [], [], [], []
                self._init_group(group, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps)
                beta1, beta2 = group["betas"]
                F.adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, amsgrad=group["amsgrad"],
                       beta1=beta1, beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"], eps=group["eps"],
                       maximize=group["maximize"], decoupled_weight_decay=group["decoupled_weight_decay"])
        return loss
