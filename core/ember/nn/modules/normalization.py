"""LayerNorm, GroupNorm and RMSNorm."""
import numbers

import ember

from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["LayerNorm", "GroupNorm", "RMSNorm"]


def _shape_tuple(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


class LayerNorm(Module):
    """Normalises over the trailing normalized_shape dims of each sample.

    Args:
        normalized_shape (int or tuple of int): the trailing shape normalised.
        eps (float): added to the variance (default: 1e-5).
        elementwise_affine (bool): learnable weight (ones) and bias (zeros) (default: True).
        bias (bool): learn the bias (default: True).
        device, dtype: where and how the parameters are created.

    Example:
        >>> import ember
        >>> ember.nn.LayerNorm(10)(ember.randn(20, 5, 10)).shape
        (20, 5, 10)
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dt = dtype or ember.get_default_dtype()
        if elementwise_affine:
            self.weight = Parameter(ember.empty(self.normalized_shape, dtype=dt, device=device))
            if bias:
                self.bias = Parameter(ember.empty(self.normalized_shape, dtype=dt, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """weight to 1, bias to 0."""
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        """Applies F.layer_norm."""
        n = len(self.normalized_shape)
        if tuple(input.shape[-n:]) != self.normalized_shape or input.ndim < n:
            raise ValueError(f"{self._get_name()}({self.normalized_shape}): expected input with trailing shape "
                             f"{self.normalized_shape}, got shape {tuple(input.shape)}")
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalises each sample over groups of channels (and the spatial dims).

    Args:
        num_groups (int): number of groups; divides num_channels.
        num_channels (int): C of the (N, C, *) input.
        eps (float): added to the variance (default: 1e-5).
        affine (bool): learnable per-channel weight and bias (default: True).
        device, dtype: where and how the parameters are created.
        bias (bool, keyword): learn the bias (default: True).

    Example:
        >>> import ember
        >>> ember.nn.GroupNorm(3, 6)(ember.randn(20, 6, 10, 10)).shape
        (20, 6, 10, 10)
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"[GroupNorm] num_channels must be divisible by num_groups: got num_channels="
                             f"{num_channels}, num_groups={num_groups}")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        dt = dtype or ember.get_default_dtype()
        if affine:
            self.weight = Parameter(ember.empty(num_channels, dtype=dt, device=device))
            if bias:
                self.bias = Parameter(ember.empty(num_channels, dtype=dt, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """weight to 1, bias to 0."""
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        """Applies F.group_norm."""
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(f"{self._get_name()}({self.num_groups}, {self.num_channels}): expected input with "
                             f"{self.num_channels} channels (dim 1), got shape {tuple(input.shape)}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, " \
               f"bias={self.bias is not None}"


class RMSNorm(Module):
    """x / sqrt(mean(x^2) + eps) * weight over the trailing normalized_shape dims.

    Args:
        normalized_shape (int or tuple of int): the trailing shape normalised.
        eps (float, optional): added to the mean square (None: the dtype's machine epsilon)
            (default: None).
        elementwise_affine (bool): learnable weight (ones) (default: True).
        device, dtype: where and how the parameters are created.

    Example:
        >>> import ember
        >>> ember.nn.RMSNorm([2, 3])(ember.randn(2, 2, 3)).shape
        (2, 2, 3)
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ember.empty(self.normalized_shape, dtype=dtype or ember.get_default_dtype(),
                                                device=device))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self):
        """weight to 1."""
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, input):
        """Applies F.rms_norm."""
        n = len(self.normalized_shape)
        if tuple(input.shape[-n:]) != self.normalized_shape or input.ndim < n:
            raise ValueError(f"{self._get_name()}({self.normalized_shape}): expected input with trailing shape "
                             f"{self.normalized_shape}, got shape {tuple(input.shape)}")
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
