"""Convolutions: Conv1d/2d/3d and ConvTranspose1d/2d/3d over the compiled kernels."""
import math

import ember

from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(x, n, name, what):
    if isinstance(x, (tuple, list)):
        if len(x) != n:
            raise ValueError(f"[{name}] {what} must be an int or a tuple of {n} ints: got {tuple(x)}")
        return tuple(int(v) for v in x)
    return (int(x),) * n


class _ConvNd(Module):
    _n = 0
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding, groups,
                 bias, padding_mode, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        n = self._n
        if groups <= 0:
            raise ValueError(f"[{name}] groups must be a positive integer: got {groups}")
        if in_channels % groups != 0:
            raise ValueError(f"[{name}] in_channels must be divisible by groups: got in_channels={in_channels}, "
                             f"groups={groups}")
        if out_channels % groups != 0:
            raise ValueError(f"[{name}] out_channels must be divisible by groups: got out_channels={out_channels}, "
                             f"groups={groups}")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"[{name}] padding_mode must be one of {list(_PADDING_MODES)}: got {padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _ntuple(kernel_size, n, name, "kernel_size")
        self.stride = _ntuple(stride, n, name, "stride")
        self.dilation = _ntuple(dilation, n, name, "dilation")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"[{name}] padding must be 'valid', 'same' or ints: got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"[{name}] padding='same' is not supported for strided convolutions: got stride "
                                 f"{self.stride}")
            if self._transposed:
                raise ValueError(f"[{name}] padding must be ints for transposed convolutions: got {padding!r}")
            self.padding = padding
        else:
            self.padding = _ntuple(padding, n, name, "padding")
        self.output_padding = _ntuple(output_padding, n, name, "output_padding")
        self.groups, self.padding_mode, self.transposed = groups, padding_mode, self._transposed
        # (left, right) pads from the last dim backwards, for F.pad with a non-zeros mode
        if self.padding == "valid":
            self._reversed_padding_repeated_twice = [0, 0] * n
        elif self.padding == "same":
            pads = []
            for d, k in zip(reversed(self.dilation), reversed(self.kernel_size)):
                total = d * (k - 1)
                left = total // 2
                pads += [left, total - left]
            self._reversed_padding_repeated_twice = pads
        else:
            pads = []
            for p in reversed(self.padding):
                pads += [p, p]
            self._reversed_padding_repeated_twice = pads
        dt = dtype or ember.get_default_dtype()
        if self._transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(ember.empty(shape, dtype=dt, device=device))
        if bias:
            self.bias = Parameter(ember.empty(out_channels, dtype=dt, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """weight: kaiming_uniform_ with a = sqrt 5; bias: U(+-1/sqrt(fan_in))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if isinstance(self.padding, str) or self.padding != (0,) * self._n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _check_input(self, input):
        n = self._n
        if input.ndim not in (n + 1, n + 2):
            raise ValueError(f"{self._get_name()}({self.extra_repr()}): expected {n + 1}-d (unbatched) or "
                             f"{n + 2}-d (batched) input, got shape {tuple(input.shape)}")
        c = input.shape[1] if input.ndim == n + 2 else input.shape[0]
        if c != self.in_channels:
            raise ValueError(f"{self._get_name()}({self.extra_repr()}): expected input with {self.in_channels} "
                             f"channels (in_channels={self.in_channels}), got shape {tuple(input.shape)}")


class _Conv(_ConvNd):
    def _conv_forward(self, input, weight, bias):
        conv = getattr(F, f"conv{self._n}d")
        if self.padding_mode != "zeros":
            x = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(x, weight, bias, self.stride, 0, self.dilation, self.groups)
        if self.padding == "valid":
            return conv(input, weight, bias, self.stride, 0, self.dilation, self.groups)
        if self.padding == "same":
            pads = self._reversed_padding_repeated_twice
            if all(pads[i] == pads[i + 1] for i in range(0, len(pads), 2)):
                return conv(input, weight, bias, self.stride, tuple(reversed(pads[::2])), self.dilation, self.groups)
            return conv(F.pad(input, pads), weight, bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        """Convolves input ((N, C_in, *spatial) or unbatched (C_in, *spatial))."""
        self._check_input(input)
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-d convolution over (N, C_in, L) inputs.

    Args:
        in_channels (int): C_in.
        out_channels (int): C_out.
        kernel_size (int or tuple): the kernel size.
        stride (int or tuple): the stride (default: 1).
        padding (int, tuple or str): zero padding on both sides, or 'valid' / 'same' (default: 0).
        dilation (int or tuple): spacing between kernel taps (default: 1).
        groups (int): blocked connections; divides both channel counts (default: 1).
        bias (bool): learn a bias (default: True).
        padding_mode (str): 'zeros', 'reflect', 'replicate' or 'circular' (default: 'zeros').
        device, dtype: where and how the parameters are created.

    Attributes:
        weight (Parameter): (C_out, C_in / groups, k).
        bias (Parameter): (C_out,).

    Example:
        >>> import ember
        >>> ember.nn.Conv1d(16, 33, 3, stride=2)(ember.randn(20, 16, 50)).shape
        (20, 33, 24)
    """

    _n = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups, bias,
                         padding_mode, device, dtype)


class Conv2d(_Conv):
    """2-d convolution over (N, C_in, H, W) inputs (see Conv1d for the arguments).

    Attributes:
        weight (Parameter): (C_out, C_in / groups, kH, kW).
        bias (Parameter): (C_out,).

    Example:
        >>> import ember
        >>> ember.nn.Conv2d(16, 33, 3, stride=2)(ember.randn(2, 16, 10, 10)).shape
        (2, 33, 4, 4)
    """

    _n = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups, bias,
                         padding_mode, device, dtype)


class Conv3d(_Conv):
    """3-d convolution over (N, C_in, D, H, W) inputs (see Conv1d for the arguments).

    Example:
        >>> import ember
        >>> ember.nn.Conv3d(2, 4, 3)(ember.randn(1, 2, 5, 5, 5)).shape
        (1, 4, 3, 3, 3)
    """

    _n = 3

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups, bias,
                         padding_mode, device, dtype)


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f"[{type(self).__name__}] only 'zeros' padding mode is supported: got {padding_mode!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding, groups,
                         bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size):
        if output_size is None:
            return self.output_padding
        n = self._n
        non_spatial = 2 if input.ndim == n + 2 else 1
        output_size = tuple(output_size)
        if len(output_size) == non_spatial + n:
            output_size = output_size[non_spatial:]
        if len(output_size) != n:
            raise ValueError(f"{self._get_name()}: for {input.ndim}-d input, output_size must have {n} or "
                             f"{non_spatial + n} elements: got {len(output_size)}")
        mins, maxs = [], []
        for d in range(n):
            size = ((input.shape[d + non_spatial] - 1) * self.stride[d] - 2 * self.padding[d]
                    + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            mins.append(size)
            maxs.append(size + self.stride[d] - 1)
        for d in range(n):
            if not mins[d] <= output_size[d] <= maxs[d]:
                raise ValueError(f"{self._get_name()}: requested an output size of {list(output_size)}, but valid "
                                 f"sizes range from {mins} to {maxs} (for an input of "
                                 f"{tuple(input.shape[non_spatial:])})")
        return tuple(output_size[d] - mins[d] for d in range(n))

    def forward(self, input, output_size=None):
        """Applies the transposed convolution; output_size picks among the possible output
        shapes of a strided layer."""
        self._check_input(input)
        op = self._output_padding(input, output_size)
        fn = getattr(F, f"conv_transpose{self._n}d")
        return fn(input, self.weight, self.bias, self.stride, self.padding, op, self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """1-d transposed convolution (the gradient of Conv1d with respect to its input).

    Args:
        in_channels (int): C_in.
        out_channels (int): C_out.
        kernel_size (int or tuple): the kernel size.
        stride (int or tuple): the stride (default: 1).
        padding (int or tuple): dilation * (k - 1) - padding zeros added on both sides of the
            input (default: 0).
        output_padding (int or tuple): extra size on one side of the output (default: 0).
        groups (int): blocked connections (default: 1).
        bias (bool): learn a bias (default: True).
        dilation (int or tuple): spacing between kernel taps (default: 1).
        padding_mode (str): only 'zeros'.
        device, dtype: where and how the parameters are created.

    Attributes:
        weight (Parameter): (C_in, C_out / groups, k).

    Example:
        >>> import ember
        >>> ember.nn.ConvTranspose1d(4, 2, 3, stride=2)(ember.randn(1, 4, 5)).shape
        (1, 2, 11)
    """

    _n = 1


class ConvTranspose2d(_ConvTranspose):
    """2-d transposed convolution (see ConvTranspose1d for the arguments).

    Example:
        >>> import ember
        >>> ember.nn.ConvTranspose2d(16, 33, 3, stride=2)(ember.randn(2, 16, 5, 5)).shape
        (2, 33, 11, 11)
    """

    _n = 2


class ConvTranspose3d(_ConvTranspose):
    """3-d transposed convolution (see ConvTranspose1d for the arguments).

    Example:
        >>> import ember
        >>> ember.nn.ConvTranspose3d(2, 2, 2, stride=2)(ember.randn(1, 2, 2, 2, 2)).shape
        (1, 2, 4, 4, 4)
    """

    _n = 3
