"""Loss modules: thin wrappers over ember.nn.functional, with PyTorch's constructor arguments."""
from .. import functional as F
from ember import Tensor
from .module import Module

__all__ = ["L1Loss", "MSELoss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss",
           "CosineEmbeddingLoss", "MarginRankingLoss", "TripletMarginLoss", "SoftMarginLoss", "HingeEmbeddingLoss",
           "PoissonNLLLoss", "GaussianNLLLoss", "CrossEntropyLoss", "NLLLoss", "MultiLabelSoftMarginLoss"]


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = F._legacy_reduction(size_average, reduce)
        if reduction not in ("mean", "sum", "none", "batchmean"):
            raise ValueError(f"[{type(self).__name__}] invalid reduction: expected 'mean', 'sum' or 'none', "
                             f"got {reduction!r}")
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if weight is not None and not isinstance(weight, Tensor):
            raise TypeError(f"[{type(self).__name__}] weight must be a Tensor: got {type(weight).__name__}")
        self.register_buffer("weight", weight)


def _pair_loss(name, fn_name, doc, extra=()):
    """A loss module for fn(input, target, ..., reduction=) with extra keyword settings."""
    extra = tuple(extra)

    def __init__(self, *args, **kwargs):
        settings = dict(extra)
        names = [k for k, _ in extra] + ["size_average", "reduce", "reduction"]
        if len(args) > len(names):
            raise TypeError(f"[{name}] takes at most {len(names)} positional arguments: got {len(args)}")
        given = dict(zip(names, args))
        given.update(kwargs)
        base = {k: given.pop(k) for k in ("size_average", "reduce", "reduction") if k in given}
        for k in given:
            if k not in settings:
                raise TypeError(f"[{name}] unexpected argument {k!r}")
        settings.update(given)
        _Loss.__init__(self, **base)
        for k, v in settings.items():
            setattr(self, k, v)

    def forward(self, input, target):
        kw = {k: getattr(self, k) for k, _ in extra}
        return getattr(F, fn_name)(input, target, reduction=self.reduction, **kw)

    forward.__doc__ = f"Computes F.{fn_name}."
    return type(name, (_Loss,), {"__init__": __init__, "forward": forward, "__module__": __name__,
                                 "__doc__": doc})


L1Loss = _pair_loss("L1Loss", "l1_loss", """Mean absolute error |input - target|.

    Args:
        size_average, reduce: deprecated (use reduction).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').

    Example:
        >>> import ember
        >>> ember.nn.L1Loss()(ember.tensor([1.0, -1.0]), ember.zeros(2)).item()
        1.0
    """)
MSELoss = _pair_loss("MSELoss", "mse_loss", """Mean squared error (input - target)^2.

    Args:
        size_average, reduce: deprecated (use reduction).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').

    Example:
        >>> import ember
        >>> ember.nn.MSELoss()(ember.tensor([2.0]), ember.zeros(1)).item()
        4.0
    """)
SmoothL1Loss = _pair_loss("SmoothL1Loss", "smooth_l1_loss", """Quadratic below beta, L1 above.

    Args:
        size_average, reduce: deprecated (use reduction).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').
        beta (float): the switch point (default: 1.0).

    Example:
        >>> import ember
        >>> ember.nn.SmoothL1Loss()(ember.tensor([3.0]), ember.zeros(1)).item()
        2.5
    """, [("beta", 1.0)])
SoftMarginLoss = _pair_loss("SoftMarginLoss", "soft_margin_loss", """log(1 + exp(-y x)), targets 1 / -1.

    Args:
        size_average, reduce: deprecated (use reduction).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').

    Example:
        >>> import ember
        >>> round(ember.nn.SoftMarginLoss()(ember.zeros(1), ember.ones(1)).item(), 4)
        0.6931
    """)
HingeEmbeddingLoss = _pair_loss("HingeEmbeddingLoss", "hinge_embedding_loss", """x for target 1,
    max(0, margin - x) for target -1.

    Args:
        margin (float): the margin (default: 1.0).
        size_average, reduce: deprecated (use reduction).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').

    Example:
        >>> import ember
        >>> ember.nn.HingeEmbeddingLoss()(ember.zeros(1), -ember.ones(1)).item()
        1.0
    """, [("margin", 1.0)])
KLDivLoss = _pair_loss("KLDivLoss", "kl_div", """Kullback-Leibler divergence; input is log-probabilities.

    Args:
        size_average, reduce: deprecated (use reduction).
        reduction (str): 'mean', 'batchmean', 'sum' or 'none' (default: 'mean').
        log_target (bool): target is in log space (default: False).

    Example:
        >>> import ember
        >>> p = ember.tensor([[0.25, 0.75]])
        >>> ember.nn.KLDivLoss(reduction="batchmean")(p.log(), p).item()
        0.0
    """, [("log_target", False)])
MultiLabelSoftMarginLoss = _pair_loss("MultiLabelSoftMarginLoss", "multilabel_soft_margin_loss",
                                      """One-versus-all logistic loss over C labels.

    Args:
        size_average, reduce: deprecated (use reduction).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').

    Example:
        >>> import ember
        >>> round(ember.nn.MultiLabelSoftMarginLoss()(ember.zeros(1, 2), ember.ones(1, 2)).item(), 4)
        0.6931
    """)


class HuberLoss(_Loss):
    """Quadratic below delta, delta-scaled L1 above.

    Args:
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').
        delta (float): the switch point (default: 1.0).

    Example:
        >>> import ember
        >>> ember.nn.HuberLoss(delta=2.0)(ember.tensor([3.0]), ember.zeros(1)).item()
        4.0
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        """Computes F.huber_loss."""
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities.

    Args:
        weight (Tensor, optional): rescales each element (broadcast).
        size_average, reduce: deprecated (use reduction).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').

    Example:
        >>> import ember
        >>> round(ember.nn.BCELoss()(ember.tensor([0.5]), ember.ones(1)).item(), 4)
        0.6931
    """

    def forward(self, input, target):
        """Computes F.binary_cross_entropy."""
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one numerically stable function.

    Args:
        weight (Tensor, optional): rescales each element (broadcast).
        size_average, reduce: deprecated (use reduction).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').
        pos_weight (Tensor, optional): weight of positive examples, one per class (last dim).

    Example:
        >>> import ember
        >>> round(ember.nn.BCEWithLogitsLoss()(ember.zeros(1), ember.ones(1)).item(), 4)
        0.6931
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        """Computes F.binary_cross_entropy_with_logits."""
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class _MarginLoss3(_Loss):
    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin


class CosineEmbeddingLoss(_MarginLoss3):
    """1 - cos(x1, x2) for target 1, max(0, cos(x1, x2) - margin) for target -1.

    Args:
        margin (float): in [-1, 1] (default: 0).
        size_average, reduce: deprecated (use reduction).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').

    Example:
        >>> import ember
        >>> x = ember.ones(2, 3)
        >>> ember.nn.CosineEmbeddingLoss()(x, x, ember.ones(2)).item() < 1e-6
        True
    """

    def forward(self, input1, input2, target):
        """Computes F.cosine_embedding_loss."""
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class MarginRankingLoss(_MarginLoss3):
    """max(0, -y (x1 - x2) + margin).

    Args:
        margin (float): the margin (default: 0).
        size_average, reduce: deprecated (use reduction).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').

    Example:
        >>> import ember
        >>> ember.nn.MarginRankingLoss()(ember.zeros(1), ember.ones(1), ember.ones(1)).item()
        1.0
    """

    def forward(self, input1, input2, target):
        """Computes F.margin_ranking_loss."""
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """max(d(a, p) - d(a, n) + margin, 0).

    Args:
        margin (float): the margin (default: 1.0).
        p (float): the norm degree (default: 2).
        eps (float): added to differences (default: 1e-6).
        swap (bool): the distance swap of Balntas et al. (default: False).
        size_average, reduce: deprecated (use reduction).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').

    Example:
        >>> import ember
        >>> a = ember.zeros(1, 2)
        >>> ember.nn.TripletMarginLoss()(a, a, a + 5).item()
        0.0
    """

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"[TripletMarginLoss] margin must be greater than 0: got {margin}")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        """Computes F.triplet_margin_loss."""
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps,
                                     swap=self.swap, reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood.

    Args:
        log_input (bool): input is the log-rate (default: True).
        full (bool): add the Stirling term (default: False).
        size_average, reduce: deprecated (use reduction).
        eps (float): inside the log when log_input is False (default: 1e-8).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').

    Example:
        >>> import ember
        >>> ember.nn.PoissonNLLLoss()(ember.zeros(1), ember.ones(1)).item()
        1.0
    """

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        """Computes F.poisson_nll_loss."""
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full, eps=self.eps,
                                  reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood with predicted variances.

    Args:
        full (bool): add 0.5 log(2 pi) (default: False).
        eps (float): lower clamp of var (default: 1e-6).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').

    Example:
        >>> import ember
        >>> ember.nn.GaussianNLLLoss()(ember.zeros(2), ember.zeros(2), ember.ones(2)).item()
        0.0
    """

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(None, None, reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        """Computes F.gaussian_nll_loss."""
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class targets given log-probabilities.

    Args:
        weight (Tensor, optional): (C,) class weights.
        size_average, reduce: deprecated (use reduction).
        ignore_index (int): target value that contributes nothing (default: -100).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').

    Example:
        >>> import ember
        >>> ember.nn.NLLLoss()(ember.tensor([[-1.0, -2.0]]), ember.tensor([1])).item()
        2.0
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        """Computes F.nll_loss."""
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy between logits and class targets (indices or probabilities).

    Args:
        weight (Tensor, optional): (C,) class weights.
        size_average, reduce: deprecated (use reduction).
        ignore_index (int): target value that contributes nothing (default: -100).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').
        label_smoothing (float): in [0, 1], mixes the target with the uniform distribution
            (default: 0.0).

    Example:
        >>> import ember
        >>> round(ember.nn.CrossEntropyLoss()(ember.zeros(1, 2), ember.tensor([0])).item(), 4)
        0.6931
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        """Computes F.cross_entropy."""
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)
