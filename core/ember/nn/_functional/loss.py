"""Loss functions composed from ember ops (cross_entropy and nll_loss are compiled kernels in
``_kernels``). Each takes ``reduction='mean'|'sum'|'none'`` and PyTorch's legacy
``size_average``/``reduce`` flags."""
import math
import warnings

import ember
from ember import Tensor

from .distance import pairwise_distance

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "kl_div", "cosine_embedding_loss", "margin_ranking_loss",
           "triplet_margin_loss", "soft_margin_loss", "hinge_embedding_loss", "poisson_nll_loss",
           "gaussian_nll_loss", "multilabel_soft_margin_loss"]


def _legacy_reduction(size_average, reduce):
    """PyTorch's mapping of the deprecated size_average/reduce flags to a reduction string."""
    if size_average is None:
        size_average = True
    if reduce is None:
        reduce = True
    if size_average and reduce:
        return "mean"
    return "sum" if reduce else "none"


def _reduction(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    return reduction


def _reduce(loss, reduction, name):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"[{name}] invalid reduction: expected 'mean', 'sum' or 'none', got {reduction!r}")


def _check_pair(input, target, name):
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        bad = input if not isinstance(input, Tensor) else target
        raise TypeError(f"[{name}] input and target must be Tensors: got {type(bad).__name__}")
    if tuple(target.shape) != tuple(input.shape):
        try:
            ember.broadcast_shapes(tuple(input.shape), tuple(target.shape))
        except (ValueError, RuntimeError):
            raise ValueError(f"[{name}] target shape must match input shape: expected {tuple(input.shape)}, "
                             f"got {tuple(target.shape)}") from None
        warnings.warn(f"[{name}] target shape {tuple(target.shape)} differs from input shape "
                      f"{tuple(input.shape)}: they are broadcast, which is likely not what you want", stacklevel=3)


def _weighted(loss, weight, reduction, name, mean_by_weight):
    if weight is None:
        return _reduce(loss, reduction, name)
    if tuple(weight.shape) != tuple(loss.shape):
        raise ValueError(f"[{name}] weight must have the input's shape: expected {tuple(loss.shape)}, "
                         f"got {tuple(weight.shape)}")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction, name)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error: (input - target)^2, reduced.

    Args:
        input (Tensor): any shape.
        target (Tensor): input's shape.
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').
        weight (Tensor, optional): per-element weights of input's shape; 'mean' then divides
            by their sum.

    Returns:
        Tensor: a scalar, or input's shape with 'none'.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.mse_loss(ember.tensor([1.0, 3.0]), ember.tensor([0.0, 0.0])).item()
        5.0
    """
    _check_pair(input, target, "mse_loss")
    reduction = _reduction(size_average, reduce, reduction)
    return _weighted((input - target).square(), weight, reduction, "mse_loss", True)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error: |input - target|, reduced.

    Args:
        input (Tensor): any shape.
        target (Tensor): input's shape.
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').
        weight (Tensor, optional): per-element weights of input's shape; 'mean' then divides
            by their sum.

    Returns:
        Tensor: a scalar, or input's shape with 'none'.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.l1_loss(ember.tensor([1.0, -3.0]), ember.tensor([0.0, 0.0])).item()
        2.0
    """
    _check_pair(input, target, "l1_loss")
    reduction = _reduction(size_average, reduce, reduction)
    return _weighted((input - target).abs(), weight, reduction, "l1_loss", True)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target).

    Args:
        input (Tensor): any shape.
        target (Tensor): input's shape.
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').
        beta (float): where the quadratic part ends, >= 0 (0: plain L1) (default: 1.0).

    Returns:
        Tensor: a scalar, or input's shape with 'none'.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.smooth_l1_loss(ember.tensor([0.5, 3.0]), ember.tensor([0.0, 0.0]), reduction="none").tolist()
        [0.125, 2.5]
    """
    _check_pair(input, target, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"[smooth_l1_loss] beta must be non-negative: got {beta}")
    reduction = _reduction(size_average, reduce, reduction)
    d = (input - target).abs()
    if beta == 0:
        return _reduce(d, reduction, "smooth_l1_loss")
    loss = ember.where(d < beta, 0.5 * d.square() / beta, d - 0.5 * beta)
    return _reduce(loss, reduction, "smooth_l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta) (d = input - target).

    Args:
        input (Tensor): any shape.
        target (Tensor): input's shape.
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').
        delta (float): where the quadratic part ends, > 0 (default: 1.0).
        weight (Tensor, optional): per-element weights of input's shape.

    Returns:
        Tensor: a scalar, or input's shape with 'none'.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.huber_loss(ember.tensor([0.5, 3.0]), ember.tensor([0.0, 0.0]), reduction="none").tolist()
        [0.125, 2.5]
    """
    _check_pair(input, target, "huber_loss")
    if delta <= 0:
        raise ValueError(f"[huber_loss] delta must be positive: got {delta}")
    d = (input - target).abs()
    loss = ember.where(d < delta, 0.5 * d.square(), delta * (d - 0.5 * delta))
    return _weighted(loss, weight, reduction, "huber_loss", False)


def _bce_shape(input, target, name):
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"[{name}] input and target must be Tensors")
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"[{name}] target size must match input size: expected {tuple(input.shape)}, "
                         f"got {tuple(target.shape)}")


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-w (t log(p) + (1 - t) log(1 - p)) with the logs clamped at -100 (as PyTorch's).

    Args:
        input (Tensor): probabilities in [0, 1], any shape.
        target (Tensor): input's shape, values in [0, 1].
        weight (Tensor, optional): broadcastable to input; rescales each element.
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').

    Returns:
        Tensor: a scalar, or input's shape with 'none'.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> round(F.binary_cross_entropy(ember.tensor([0.5]), ember.tensor([1.0])).item(), 4)
        0.6931
    """
    _bce_shape(input, target, "binary_cross_entropy")
    reduction = _reduction(size_average, reduce, reduction)
    with ember.no_grad():
        bad = ((input < 0) | (input > 1)).any().item()
    if bad:
        raise ValueError("[binary_cross_entropy] input values must be probabilities: expected all elements "
                         "between 0 and 1 (use binary_cross_entropy_with_logits for logits)")
    log_p = ember.clamp(ember.log(input), min=-100.0)
    log_q = ember.clamp(ember.log(1 - input), min=-100.0)
    loss = -(target * log_p + (1 - target) * log_q)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Binary cross-entropy on logits, in the numerically stable form
    (1 - t) x + lw * log(1 + exp(-x)) with lw = 1 + (pos_weight - 1) t.

    Args:
        input (Tensor): logits, any shape.
        target (Tensor): input's shape, values in [0, 1].
        weight (Tensor, optional): broadcastable to input; rescales each element.
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').
        pos_weight (Tensor, optional): weight of the positive term, broadcast along the last
            dim (one per class).

    Returns:
        Tensor: a scalar, or input's shape with 'none'.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> round(F.binary_cross_entropy_with_logits(ember.tensor([0.0]), ember.tensor([1.0])).item(), 4)
        0.6931
    """
    _bce_shape(input, target, "binary_cross_entropy_with_logits")
    reduction = _reduction(size_average, reduce, reduction)
    softplus_neg = ember.logaddexp(ember.zeros_like(input), -input)   # log(1 + exp(-x)), stable
    if pos_weight is not None:
        log_weight = (pos_weight - 1) * target + 1
        loss = (1 - target) * input + log_weight * softplus_neg
    else:
        loss = (1 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def _logsig(x):
    return -ember.logaddexp(ember.zeros_like(x), -x)


def _xlogy_self(t):
    """t * log(t) with 0 where t == 0 (finite gradients)."""
    pos = t > 0
    return ember.where(pos, t * ember.log(ember.where(pos, t, 1.0)), 0.0)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence, pointwise: target * (log(target) - input), with input
    given as log-probabilities.

    Args:
        input (Tensor): log-probabilities, any shape.
        target (Tensor): probabilities (log-probabilities with log_target), input's shape.
        reduction (str): 'mean' (over elements), 'batchmean' (sum / batch size, the true KL),
            'sum' or 'none' (default: 'mean').
        log_target (bool): target is given in log space (default: False).

    Returns:
        Tensor: a scalar, or input's shape with 'none'.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> p = ember.tensor([[0.5, 0.5]])
        >>> F.kl_div(p.log(), p, reduction="batchmean").item()
        0.0
    """
    _check_pair(input, target, "kl_div")
    reduction = _reduction(size_average, reduce, reduction)
    if log_target:
        loss = ember.exp(target) * (target - input)
    else:
        loss = _xlogy_self(target) - target * input
    if reduction == "batchmean":
        if input.ndim == 0:
            return loss.sum()
        return loss.sum() / input.shape[0]
    return _reduce(loss, reduction, "kl_div")


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1.

    Args:
        input1 (Tensor): (N, D) or (D,).
        input2 (Tensor): input1's shape.
        target (Tensor): (N,) or () of 1 / -1.
        margin (float): in [-1, 1] (default: 0).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').

    Returns:
        Tensor: a scalar, or (N,) with 'none'.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> x = ember.tensor([[1.0, 0.0]])
        >>> F.cosine_embedding_loss(x, x, ember.tensor([1.0])).item()
        0.0
    """
    reduction = _reduction(size_average, reduce, reduction)
    if input1.ndim not in (1, 2) or tuple(input1.shape) != tuple(input2.shape):
        raise ValueError(f"[cosine_embedding_loss] inputs must be (N, D) or (D,) of the same shape: "
                         f"got {tuple(input1.shape)} and {tuple(input2.shape)}")
    if target.ndim != input1.ndim - 1:
        raise ValueError(f"[cosine_embedding_loss] target must have {input1.ndim - 1} dims for "
                         f"{input1.ndim}-d inputs: got shape {tuple(target.shape)}")
    dim = input1.ndim - 1
    eps = 1e-12
    prod = (input1 * input2).sum(dim)
    mag1 = (input1 * input1).sum(dim) + eps
    mag2 = (input2 * input2).sum(dim) + eps
    cos = prod / ember.sqrt(mag1 * mag2)
    pos = ember.where(target == 1, 1 - cos, 0.0)
    neg = ember.where(target == -1, ember.clamp(cos - margin, min=0.0), 0.0)
    return _reduce(pos + neg, reduction, "cosine_embedding_loss")


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target * (input1 - input2) + margin).

    Args:
        input1 (Tensor): (N,) or ().
        input2 (Tensor): input1's shape.
        target (Tensor): input1's shape, 1 or -1 (which input should rank higher).
        margin (float): the margin (default: 0).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').

    Returns:
        Tensor: a scalar, or (N,) with 'none'.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.margin_ranking_loss(ember.tensor([1.0]), ember.tensor([2.0]), ember.tensor([1.0])).item()
        1.0
    """
    reduction = _reduction(size_average, reduce, reduction)
    if not (input1.ndim == input2.ndim == target.ndim):
        raise ValueError(f"[margin_ranking_loss] all inputs must have the same number of dims: got "
                         f"{input1.ndim}, {input2.ndim} and {target.ndim}")
    loss = ember.clamp(-target * (input1 - input2) + margin, min=0.0)
    return _reduce(loss, reduction, "margin_ranking_loss")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with d the pairwise p-norm distance.

    Args:
        anchor (Tensor): (N, D) or (D,).
        positive (Tensor): anchor's shape.
        negative (Tensor): anchor's shape.
        margin (float): the margin (default: 1.0).
        p (float): the norm degree (default: 2).
        eps (float): added to the differences (default: 1e-6).
        swap (bool): use min(d(a, n), d(p, n)) as the negative distance (default: False).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').

    Returns:
        Tensor: a scalar, or (N,) with 'none'.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> a = ember.tensor([[0.0, 0.0]])
        >>> F.triplet_margin_loss(a, a, ember.tensor([[3.0, 4.0]])).item()
        0.0
    """
    reduction = _reduction(size_average, reduce, reduction)
    if not (anchor.ndim == positive.ndim == negative.ndim) or anchor.ndim not in (1, 2):
        raise ValueError(f"[triplet_margin_loss] anchor, positive and negative must all be (N, D) or (D,): got "
                         f"{tuple(anchor.shape)}, {tuple(positive.shape)} and {tuple(negative.shape)}")
    if margin <= 0:
        raise ValueError(f"[triplet_margin_loss] margin must be greater than 0: got {margin}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = ember.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    loss = ember.clamp(margin + d_pos - d_neg, min=0.0)
    return _reduce(loss, reduction, "triplet_margin_loss")


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)), the two-class logistic loss with targets 1 / -1.

    Args:
        input (Tensor): any shape.
        target (Tensor): input's shape, 1 or -1.
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').

    Returns:
        Tensor: a scalar, or input's shape with 'none'.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> round(F.soft_margin_loss(ember.tensor([0.0]), ember.tensor([1.0])).item(), 4)
        0.6931
    """
    _check_pair(input, target, "soft_margin_loss")
    reduction = _reduction(size_average, reduce, reduction)
    z = -target * input
    loss = ember.logaddexp(ember.zeros_like(z), z)
    return _reduce(loss, reduction, "soft_margin_loss")


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Multi-label one-versus-all logistic loss, averaged over the C classes.

    Args:
        input (Tensor): (N, C) or (C,).
        target (Tensor): input's shape, 0 or 1.
        weight (Tensor, optional): (C,) class weights.
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').

    Returns:
        Tensor: a scalar, or (N,) with 'none'.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> round(F.multilabel_soft_margin_loss(ember.tensor([[0.0]]), ember.tensor([[1.0]])).item(), 4)
        0.6931
    """
    reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * _logsig(input) + (1 - target) * _logsig(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(-1) / input.shape[-1]
    return _reduce(loss, reduction, "multilabel_soft_margin_loss")


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """x where target is 1, max(0, margin - x) where target is -1.

    Args:
        input (Tensor): any shape (typically distances).
        target (Tensor): input's shape, 1 or -1.
        margin (float): the margin (default: 1.0).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').

    Returns:
        Tensor: a scalar, or input's shape with 'none'.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.hinge_embedding_loss(ember.tensor([0.3, 0.3]), ember.tensor([1.0, -1.0]), reduction="none").tolist()
        [0.30000001192092896, 0.699999988079071]
    """
    reduction = _reduction(size_average, reduce, reduction)
    margin_part = ember.where(target != 1, ember.clamp(margin - input, min=0.0), 0.0)
    self_part = ember.where(target != -1, input, 0.0)
    return _reduce(margin_part + self_part, reduction, "hinge_embedding_loss")


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Negative log-likelihood of target ~ Poisson(rate): exp(input) - target * input with
    log_input, else input - target * log(input + eps).

    Args:
        input (Tensor): log-rates (log_input) or rates, any shape.
        target (Tensor): counts, input's shape.
        log_input (bool): input is the log of the rate (default: True).
        full (bool): add Stirling's approximation of log(target!) (targets > 1) (default: False).
        eps (float): added inside the log when log_input is False (default: 1e-8).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').

    Returns:
        Tensor: a scalar, or input's shape with 'none'.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.poisson_nll_loss(ember.tensor([0.0]), ember.tensor([2.0])).item()
        1.0
    """
    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = ember.exp(input) - target * input
    else:
        loss = input - target * ember.log(input + eps)
    if full:
        big = target > 1
        t = ember.where(big, target, 2.0)
        stirling = t * ember.log(t) - t + 0.5 * ember.log(2 * math.pi * t)
        loss = loss + ember.where(big, stirling, 0.0)
    return _reduce(loss, reduction, "poisson_nll_loss")


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian negative log-likelihood: 0.5 (log(var) + (input - target)^2 / var), with var
    clamped below at eps (the clamp does not stop its gradient, as PyTorch's).

    Args:
        input (Tensor): predicted means, (N, *) or (*).
        target (Tensor): input's shape.
        var (Tensor or float): variances: input's shape, input's shape without its last dim, or
            with one dim of size 1 (heteroscedastic); or one number.
        full (bool): add the constant 0.5 log(2 pi) (default: False).
        eps (float): lower clamp of var (default: 1e-6).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').

    Returns:
        Tensor: a scalar, or input's shape with 'none'.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.gaussian_nll_loss(ember.tensor([1.0]), ember.tensor([1.0]), ember.tensor([1.0])).item()
        0.0
    """
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("[gaussian_nll_loss] var has negative entry/entries: expected var >= 0")
        var = ember.full_like(input, float(var))
    else:
        with ember.no_grad():
            neg = (var < 0).any().item()
        if neg:
            raise ValueError("[gaussian_nll_loss] var has negative entry/entries: expected var >= 0")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif input.ndim == var.ndim and sum(y for x, y in zip(input.shape, var.shape) if x != y) == 1:
            pass
        else:
            raise ValueError(f"[gaussian_nll_loss] var is of incorrect size: expected {tuple(input.shape)}, "
                             f"{tuple(input.shape[:-1])} or one dim of size 1, got {tuple(var.shape)}")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"[gaussian_nll_loss] invalid reduction: expected 'mean', 'sum' or 'none', "
                         f"got {reduction!r}")
    var = var + (ember.clamp(var, min=eps) - var).detach()
    loss = 0.5 * (ember.log(var) + (input - target).square() / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")
