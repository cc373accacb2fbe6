"""CTCLoss (PyTorch's torch.nn.CTCLoss): a module over ``ctc_loss``."""
from .._seq_functional import ctc_loss
from .module import Module

__all__ = ["CTCLoss"]


class CTCLoss(Module):
    """Connectionist Temporal Classification loss: -log p(target | input) summed over all
    alignments of the target to the input (with blanks and repeats).

    Args:
        blank (int): the blank label (default: 0).
        reduction (str): 'none' | 'mean' (each loss divided by its target length, then the
            batch mean) | 'sum' (default: 'mean').
        zero_infinity (bool): replace infinite losses (targets too long for their input) and
            their gradients by zero (default: False).

    Inputs (forward):
        log_probs (T, N, C) or (T, C) log-probabilities (e.g. from log_softmax); targets (N, S)
        padded or 1-d concatenated; input_lengths (N,); target_lengths (N,).

    Returns:
        Tensor: scalar, or (N,) with reduction='none'.

    Example:
        >>> import ember
        >>> import ember.nn.functional as F
        >>> lp = F.log_softmax(ember.randn(20, 2, 6), 2)
        >>> CTCLoss()(lp, ember.tensor([[1, 2, 3], [3, 4, 0]]), [20, 18], [3, 2]).shape
        ()
    """

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__()
        if reduction not in ("none", "mean", "sum"):
            raise ValueError(f"[CTCLoss] reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
        self.blank, self.reduction, self.zero_infinity = blank, reduction, zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        """Computes ctc_loss with the module's settings."""
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                        self.zero_infinity)

    def extra_repr(self):
        return f"blank={self.blank}, reduction={self.reduction!r}, zero_infinity={self.zero_infinity}"
