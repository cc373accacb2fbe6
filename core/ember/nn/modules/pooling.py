"""Pooling layers: max, average and adaptive, 1-d and 2-d."""
from .. import functional as F
from .module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
           "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"]


def _check_ndim(module, input, n):
    if input.ndim not in (n + 1, n + 2):
        raise ValueError(f"{module._get_name()}({module.extra_repr()}): expected {n + 1}-d (unbatched) or "
                         f"{n + 2}-d (batched) input, got shape {tuple(input.shape)}")


class _MaxPoolNd(Module):
    _n = 0

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")

    def forward(self, input):
        """Takes the max over each window (and its flat indices with return_indices)."""
        _check_ndim(self, input, self._n)
        fn = getattr(F, f"max_pool{self._n}d")
        return fn(input, self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode,
                  return_indices=self.return_indices)


class MaxPool1d(_MaxPoolNd):
    """Max over sliding windows of (N, C, L) inputs.

    Args:
        kernel_size (int): the window size.
        stride (int, optional): the step (default: kernel_size).
        padding (int): implicit -inf padding on both sides (default: 0).
        dilation (int): spacing between window elements (default: 1).
        return_indices (bool): also return the argmax indices (default: False).
        ceil_mode (bool): round the output size up (default: False).

    Example:
        >>> import ember
        >>> ember.nn.MaxPool1d(3, stride=2)(ember.randn(20, 16, 50)).shape
        (20, 16, 24)
    """

    _n = 1


class MaxPool2d(_MaxPoolNd):
    """Max over sliding windows of (N, C, H, W) inputs (see MaxPool1d; ints or pairs).

    Example:
        >>> import ember
        >>> ember.nn.MaxPool2d(2)(ember.randn(1, 3, 8, 8)).shape
        (1, 3, 4, 4)
    """

    _n = 2


class AvgPool1d(Module):
    """Average over sliding windows of (N, C, L) inputs.

    Args:
        kernel_size (int): the window size.
        stride (int, optional): the step (default: kernel_size).
        padding (int): implicit zero padding on both sides (default: 0).
        ceil_mode (bool): round the output size up (default: False).
        count_include_pad (bool): count the zero padding in the divisor (default: True).

    Example:
        >>> import ember
        >>> ember.nn.AvgPool1d(3, stride=2)(ember.ones(1, 1, 7)).tolist()
        [[[1.0, 1.0, 1.0]]]
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        one = (lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v,))
        self.kernel_size = one(kernel_size)
        self.stride = one(stride if stride is not None else kernel_size)
        self.padding = one(padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input):
        """Averages each window."""
        _check_ndim(self, input, 1)
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class AvgPool2d(Module):
    """Average over sliding windows of (N, C, H, W) inputs.

    Args:
        kernel_size (int or pair): the window size.
        stride (int or pair, optional): the step (default: kernel_size).
        padding (int or pair): implicit zero padding (default: 0).
        ceil_mode (bool): round the output size up (default: False).
        count_include_pad (bool): count the zero padding in the divisor (default: True).
        divisor_override (int, optional): divide by this instead of the window size.

    Example:
        >>> import ember
        >>> ember.nn.AvgPool2d(2)(ember.ones(1, 1, 4, 4)).shape
        (1, 1, 2, 2)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input):
        """Averages each window."""
        _check_ndim(self, input, 2)
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class _AdaptivePool(Module):
    _n = 0
    _kind = ""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size
        if self._kind == "max":
            self.return_indices = return_indices

    def extra_repr(self):
        return f"output_size={self.output_size}"

    def forward(self, input):
        """Pools to output_size whatever the input size."""
        _check_ndim(self, input, self._n)
        fn = getattr(F, f"adaptive_{self._kind}_pool{self._n}d")
        if self._kind == "max":
            return fn(input, self.output_size, self.return_indices)
        return fn(input, self.output_size)


class AdaptiveAvgPool1d(_AdaptivePool):
    """Average pooling of (N, C, L) inputs to a fixed output length.

    Args:
        output_size (int): the output length.

    Example:
        >>> import ember
        >>> ember.nn.AdaptiveAvgPool1d(5)(ember.randn(1, 64, 8)).shape
        (1, 64, 5)
    """

    _n, _kind = 1, "avg"

    def __init__(self, output_size):
        super().__init__(output_size)


class AdaptiveAvgPool2d(_AdaptivePool):
    """Average pooling of (N, C, H, W) inputs to a fixed output size.

    Args:
        output_size (int or pair, None entries keep the input size): the output size.

    Example:
        >>> import ember
        >>> ember.nn.AdaptiveAvgPool2d((1, 1))(ember.randn(2, 64, 7, 7)).shape
        (2, 64, 1, 1)
    """

    _n, _kind = 2, "avg"

    def __init__(self, output_size):
        super().__init__(output_size)


class AdaptiveMaxPool1d(_AdaptivePool):
    """Max pooling of (N, C, L) inputs to a fixed output length.

    Args:
        output_size (int): the output length.
        return_indices (bool): also return the argmax indices (default: False).

    Example:
        >>> import ember
        >>> ember.nn.AdaptiveMaxPool1d(2)(ember.randn(1, 3, 8)).shape
        (1, 3, 2)
    """

    _n, _kind = 1, "max"


class AdaptiveMaxPool2d(_AdaptivePool):
    """Max pooling of (N, C, H, W) inputs to a fixed output size.

    Args:
        output_size (int or pair): the output size.
        return_indices (bool): also return the argmax indices (default: False).

    Example:
        >>> import ember
        >>> ember.nn.AdaptiveMaxPool2d(2)(ember.randn(1, 3, 8, 8)).shape
        (1, 3, 2, 2)
    """

    _n, _kind = 2, "max"
