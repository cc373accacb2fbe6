"""BatchNorm1d/2d/3d and InstanceNorm1d/2d/3d (running statistics as buffers)."""
import ember

from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


class _NormBase(Module):
    _version = 2

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        dt = dtype or ember.get_default_dtype()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(ember.empty(num_features, dtype=dt, device=device))
            if bias:
                self.bias = Parameter(ember.empty(num_features, dtype=dt, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", ember.zeros(num_features, dtype=dt, device=device))
            self.register_buffer("running_var", ember.ones(num_features, dtype=dt, device=device))
            self.register_buffer("num_batches_tracked", ember.tensor(0, dtype=ember.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        """Sets running_mean to 0, running_var to 1 and num_batches_tracked to 0."""
        if self.track_running_stats:
            with ember.no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        """Resets the running statistics, weight to 1 and bias to 0."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs, **kwargs):
        # checkpoints from before num_batches_tracked (as PyTorch accepts them)
        key = prefix + "num_batches_tracked"
        if self.track_running_stats and key not in state_dict and self.num_batches_tracked is not None:
            state_dict[key] = self.num_batches_tracked.detach().clone()
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs, **kwargs)

    def _describe(self):
        return f"{self._get_name()}({self.num_features})"

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    _dims = ()

    def _check_input_dim(self, input):
        if input.ndim not in self._dims:
            raise ValueError(f"{self._describe()}: expected {' or '.join(f'{d}-d' for d in self._dims)} input, "
                             f"got shape {tuple(input.shape)}")
        if input.shape[1] != self.num_features:
            raise ValueError(f"{self._describe()}: expected input with {self.num_features} channels (dim 1), "
                             f"got shape {tuple(input.shape)}")

    def forward(self, input):
        """Normalises with batch statistics in training (updating the running ones), with the
        running statistics in eval mode."""
        self._check_input_dim(input)
        if self.momentum is None:
            factor = 0.0
        else:
            factor = self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with ember.no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.item())
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        if bn_training:
            per_channel = input.numel() // input.shape[1] if input.shape[1] else 0
            if per_channel <= 1:
                raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                                 f"{tuple(input.shape)}")
        use_stats = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if use_stats else None, self.running_var if use_stats else None,
                            self.weight, self.bias, bn_training, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L) inputs, per channel C.

    Args:
        num_features (int): C.
        eps (float): added to the variance (default: 1e-5).
        momentum (float or None): running-stat update factor; None for a cumulative moving
            average (default: 0.1).
        affine (bool): learnable weight and bias (default: True).
        track_running_stats (bool): keep running_mean/running_var buffers, used in eval mode
            (default: True).
        device, dtype: where and how the parameters are created.
        bias (bool, keyword): learn the bias (default: True).

    Example:
        >>> import ember
        >>> ember.nn.BatchNorm1d(100)(ember.randn(20, 100)).shape
        (20, 100)
    """

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W) inputs, per channel C (see BatchNorm1d for the
    arguments).

    Example:
        >>> import ember
        >>> ember.nn.BatchNorm2d(3)(ember.randn(4, 3, 5, 5)).shape
        (4, 3, 5, 5)
    """

    _dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation over (N, C, D, H, W) inputs, per channel C (see BatchNorm1d for the
    arguments).

    Example:
        >>> import ember
        >>> ember.nn.BatchNorm3d(3)(ember.randn(2, 3, 2, 2, 2)).shape
        (2, 3, 2, 2, 2)
    """

    _dims = (5,)


class _InstanceNorm(_NormBase):
    _ndim = 0   # batched input dims

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, device=None,
                 dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input):
        """Normalises each sample and channel over its spatial dims."""
        if input.ndim not in (self._ndim - 1, self._ndim):
            raise ValueError(f"{self._describe()}: expected {self._ndim - 1}-d (unbatched) or {self._ndim}-d input, "
                             f"got shape {tuple(input.shape)}")
        cdim = 0 if input.ndim == self._ndim - 1 else 1
        if input.shape[cdim] != self.num_features:
            if self.affine:
                raise ValueError(f"{self._describe()}: expected input with {self.num_features} channels "
                                 f"(dim {cdim}), got shape {tuple(input.shape)}")
        unbatched = input.ndim == self._ndim - 1
        x = input.unsqueeze(0) if unbatched else input
        spatial = 1
        for s in x.shape[2:]:
            spatial *= s
        if spatial <= 1 and (self.training or not self.track_running_stats):
            raise ValueError(f"Expected more than 1 spatial element when training, got input size {tuple(x.shape)}")
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats,
                              self.momentum if self.momentum is not None else 0.0, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation over (N, C, L) or (C, L) inputs.

    Args:
        num_features (int): C.
        eps (float): added to the variance (default: 1e-5).
        momentum (float): running-stat update factor (default: 0.1).
        affine (bool): learnable weight and bias (default: False).
        track_running_stats (bool): keep running statistics for eval mode (default: False).
        device, dtype: where and how the parameters are created.

    Example:
        >>> import ember
        >>> ember.nn.InstanceNorm1d(3)(ember.randn(2, 3, 8)).shape
        (2, 3, 8)
    """

    _ndim = 3


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation over (N, C, H, W) or (C, H, W) inputs (see InstanceNorm1d).

    Example:
        >>> import ember
        >>> ember.nn.InstanceNorm2d(3)(ember.randn(2, 3, 4, 4)).shape
        (2, 3, 4, 4)
    """

    _ndim = 4


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation over (N, C, D, H, W) or (C, D, H, W) inputs (see InstanceNorm1d).

    Example:
        >>> import ember
        >>> ember.nn.InstanceNorm3d(3)(ember.randn(1, 3, 2, 2, 2)).shape
        (1, 3, 2, 2, 2)
    """

    _ndim = 5
