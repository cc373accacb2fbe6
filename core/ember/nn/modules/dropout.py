"""Dropout layers (active in training mode only)."""
from .. import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout"]


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"[{type(self).__name__}] dropout probability has to be between 0 and 1: got {p}")
        self.p, self.inplace = p, inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zeroes each element with probability p in training, scaling the rest by 1 / (1 - p);
    the identity in eval mode.

    Args:
        p (float): the drop probability (default: 0.5).
        inplace (bool): write into the input (default: False).

    Example:
        >>> import ember
        >>> ember.nn.Dropout(0.5).eval()(ember.ones(3)).tolist()
        [1.0, 1.0, 1.0]
    """

    def forward(self, input):
        """Applies F.dropout."""
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Zeroes whole channels of (N, C, L) or (C, L) inputs with probability p in training.

    Args:
        p (float): the drop probability (default: 0.5).
        inplace (bool): write into the input (default: False).

    Example:
        >>> import ember
        >>> ember.nn.Dropout1d().eval()(ember.ones(1, 2, 3)).shape
        (1, 2, 3)
    """

    def forward(self, input):
        """Applies channel dropout through F.dropout2d on a trailing unit dim."""
        if input.ndim not in (2, 3):
            raise ValueError(f"{self._get_name()}(p={self.p}): expected a 2-d or 3-d input, got shape "
                             f"{tuple(input.shape)}")
        if hasattr(F, "dropout1d"):
            return F.dropout1d(input, self.p, self.training, self.inplace)
        if not self.training or self.p == 0:
            return input
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(0)
        out = F.dropout2d(x.unsqueeze(-1), self.p, True, False).squeeze(-1)
        out = out if batched else out.squeeze(0)
        if self.inplace:
            input.copy_(out)
            return input
        return out


class Dropout2d(_DropoutNd):
    """Zeroes whole channels of (N, C, H, W) or (C, H, W) inputs with probability p in training.

    Args:
        p (float): the drop probability (default: 0.5).
        inplace (bool): write into the input (default: False).

    Example:
        >>> import ember
        >>> ember.nn.Dropout2d().eval()(ember.ones(1, 2, 3, 3)).shape
        (1, 2, 3, 3)
    """

    def forward(self, input):
        """Applies F.dropout2d."""
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zeroes whole channels of (N, C, D, H, W) inputs with probability p in training.

    Args:
        p (float): the drop probability (default: 0.5).
        inplace (bool): write into the input (default: False).

    Example:
        >>> import ember
        >>> ember.nn.Dropout3d().eval()(ember.ones(1, 2, 2, 2, 2)).shape
        (1, 2, 2, 2, 2)
    """

    def forward(self, input):
        """Applies channel dropout (F.dropout2d on the flattened spatial dims)."""
        if hasattr(F, "dropout3d"):
            return F.dropout3d(input, self.p, self.training, self.inplace)
        if not self.training or self.p == 0:
            return input
        shape = input.shape
        out = F.dropout2d(input.flatten(-3, -1).unsqueeze(-1), self.p, True, False).reshape(shape)
        if self.inplace:
            input.copy_(out)
            return input
        return out


class AlphaDropout(_DropoutNd):
    """Dropout that keeps the self-normalising mean and variance (for SELU networks).

    Args:
        p (float): the drop probability (default: 0.5).
        inplace (bool): ignored.

    Example:
        >>> import ember
        >>> ember.nn.AlphaDropout(0.2).eval()(ember.ones(2)).tolist()
        [1.0, 1.0]
    """

    def forward(self, input):
        """Applies alpha dropout in training."""
        if not self.training or self.p == 0:
            return input
        import ember
        alpha_p = -1.7580993408473766
        keep = 1 - self.p
        a = (keep + alpha_p ** 2 * keep * self.p) ** -0.5
        b = -a * alpha_p * self.p
        mask = ember.bernoulli(ember.full_like(input, keep))
        return a * (input * mask + alpha_p * (1 - mask)) + b
