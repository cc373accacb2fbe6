"""The compiled nn kernels as ``ember.nn.functional`` functions: convolution, pooling, softmax,
normalisation, classification losses, embedding, dropout, attention and resampling.

Convolution, pooling, unfold/fold and softmax run in ``ember._C._nn`` (C++, with their
derivatives there). Normalisation layers, losses, embedding, dropout, attention and
interpolation are short compositions of compiled ember ops, so autograd (double backward
included) comes from those ops; fused kernels for them are planned with the performance work.
Argument normalisation and error messages live here.
"""
import math
import numbers

import ember
from ember import _C
from ember.amp.autocast_mode import _fp32

_nn = _C._nn

__all__ = [
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
    "softmax", "log_softmax", "batch_norm", "layer_norm", "group_norm", "rms_norm", "instance_norm",
    "nll_loss", "cross_entropy", "embedding", "dropout", "dropout1d", "dropout2d", "dropout3d",
    "scaled_dot_product_attention", "interpolate", "unfold", "fold", "pixel_shuffle", "pixel_unshuffle",
    "one_hot",
]


def _ints(v, n, name, op):
    """An int or a sequence of ints, as a list (checked)."""
    if isinstance(v, numbers.Integral):
        return [int(v)]
    try:
        out = [int(a) for a in v]
    except TypeError:
        raise TypeError(f"[{op}] {name} must be an int or a tuple of {n} ints, got {type(v).__name__}") from None
    if len(out) not in (1, n):
        raise ValueError(f"[{op}] {name} must be an int or a tuple of {n} ints, got {tuple(out)}")
    return out


def _batched(op, input, nsp):
    """(input with a batch dim, whether one was added). Accepts (C, *sp) and (N, C, *sp)."""
    if not isinstance(input, ember.Tensor):
        raise TypeError(f"[{op}] expected input to be a Tensor, got {type(input).__name__}")
    if input.dim() == nsp + 2:
        return input, False
    if input.dim() == nsp + 1:
        return input.unsqueeze(0), True
    raise ValueError(f"[{op}] expected a {nsp + 1}-d (unbatched) or {nsp + 2}-d (batched) input, "
                     f"got shape {tuple(input.shape)}")


def _bias_view(bias, nsp, like):
    if bias.dtype != like.dtype and _C._get_autocast()[0]:  # autocast casts the bias too
        bias = bias.to(like.dtype)
    return bias.view(1, -1, *([1] * nsp))


# ---- convolution ------------------------------------------------------------------------
def _conv(op, nsp, input, weight, bias, stride, padding, dilation, groups):
    x, squeeze = _batched(op, input, nsp)
    if weight.dim() != nsp + 2:
        raise ValueError(f"[{op}] expected a {nsp + 2}-d weight, got shape {tuple(weight.shape)}")
    k = list(weight.shape[2:])
    d = _ints(dilation, nsp, "dilation", op)
    d = d * nsp if len(d) == 1 else d
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        elif padding == "same":
            s = _ints(stride, nsp, "stride", op)
            if any(v != 1 for v in s):
                raise ValueError(f"[{op}] padding='same' is not supported for strided convolutions, got stride {stride}")
            total = [d[i] * (k[i] - 1) for i in range(nsp)]
            left = [t // 2 for t in total]
            if any(t % 2 for t in total):  # asymmetric: pad the extra element on the right first
                pads = []
                for i in reversed(range(nsp)):
                    pads += [0, total[i] - 2 * left[i]]
                x = ember.pad(x, pads)
            padding = left
        else:
            raise ValueError(f"[{op}] padding must be 'valid', 'same' or ints, got {padding!r}")
    y = _nn.conv(x, weight, nsp, _ints(stride, nsp, "stride", op), _ints(padding, nsp, "padding", op), d, int(groups))
    if bias is not None:
        y = y + _bias_view(bias, nsp, y)
    return y.squeeze(0) if squeeze else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution over (N, C_in, L) or (C_in, L), as torch.nn.functional.conv1d.

    Args:
        input: (N, C_in, L) or (C_in, L). weight: (C_out, C_in / groups, k). bias: (C_out,) or None.
        stride, padding (int, tuple, 'valid' or 'same'), dilation: default 1, 0, 1. groups: default 1.

    Returns:
        (N, C_out, L_out).

    Example:
        >>> F.conv1d(ember.randn(2, 3, 10), ember.randn(4, 3, 3)).shape
        (2, 4, 8)
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution over (N, C_in, H, W) or (C_in, H, W), as torch.nn.functional.conv2d.

    Algorithms (CPU): depthwise convolutions (groups == C_in > 1) run direct kernels; float32 3x3
    stride-1 convolutions with at least 16 channels in and out and 16 tiles of 4x4 outputs in the
    batch run Winograd F(4x4, 3x3) (4x fewer multiplies; the gradients too), and the stride-2 ones
    with at least 128 output tiles run Winograd F(4x4, 2x2) over the four phases of the input
    (1.44x fewer multiplies; forward only). Their float32 results differ from a direct sum by
    about 1e-5 of the output's scale instead of 1e-7 (float64 is always direct); the environment
    variable EMBER_CONV_WINOGRAD=0, set before the process's first convolution, turns both off.
    Everything else is im2col + GEMM.

    Args:
        input: (N, C_in, H, W). weight: (C_out, C_in / groups, kH, kW). bias: (C_out,) or None.
        stride, padding (int, pair, 'valid' or 'same'), dilation: default 1, 0, 1. groups: default 1.

    Returns:
        (N, C_out, H_out, W_out).

    Example:
        >>> F.conv2d(ember.randn(1, 3, 8, 8), ember.randn(16, 3, 3, 3), padding=1).shape
        (1, 16, 8, 8)
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d convolution over (N, C_in, D, H, W), as torch.nn.functional.conv3d.

    Example:
        >>> F.conv3d(ember.randn(1, 2, 4, 4, 4), ember.randn(3, 2, 3, 3, 3)).shape
        (1, 3, 2, 2, 2)
    """
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_t(op, nsp, input, weight, bias, stride, padding, output_padding, groups, dilation):
    x, squeeze = _batched(op, input, nsp)
    if weight.dim() != nsp + 2:
        raise ValueError(f"[{op}] expected a {nsp + 2}-d weight, got shape {tuple(weight.shape)}")
    y = _nn.conv_transpose(x, weight, nsp, _ints(stride, nsp, "stride", op), _ints(padding, nsp, "padding", op),
                           _ints(output_padding, nsp, "output_padding", op), _ints(dilation, nsp, "dilation", op),
                           int(groups))
    if bias is not None:
        y = y + _bias_view(bias, nsp, y)
    return y.squeeze(0) if squeeze else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-d convolution (the gradient of conv1d), as torch's.

    Args:
        input: (N, C_in, L). weight: (C_in, C_out / groups, k). bias: (C_out,) or None.

    Returns:
        (N, C_out, (L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1).

    Example:
        >>> F.conv_transpose1d(ember.randn(1, 4, 5), ember.randn(4, 2, 3), stride=2).shape
        (1, 2, 11)
    """
    return _conv_t("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-d convolution (the gradient of conv2d), as torch's.

    Example:
        >>> F.conv_transpose2d(ember.randn(1, 4, 5, 5), ember.randn(4, 2, 3, 3), stride=2, padding=1).shape
        (1, 2, 9, 9)
    """
    return _conv_t("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 3-d convolution (the gradient of conv3d), as torch's.

    Example:
        >>> F.conv_transpose3d(ember.randn(1, 2, 3, 3, 3), ember.randn(2, 1, 2, 2, 2)).shape
        (1, 1, 4, 4, 4)
    """
    return _conv_t("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups, dilation)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of a (N, C, H, W) batch as columns (im2col), as torch's F.unfold.

    Returns:
        (N, C * kH * kW, L) where L is the number of block positions.

    Example:
        >>> F.unfold(ember.randn(1, 2, 4, 4), 2).shape
        (1, 8, 9)
    """
    return _nn.unfold(input, _ints(kernel_size, 2, "kernel_size", "unfold"), _ints(dilation, 2, "dilation", "unfold"),
                      _ints(padding, 2, "padding", "unfold"), _ints(stride, 2, "stride", "unfold"))


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums columns of blocks back into a (N, C, H, W) batch (col2im; the adjoint of unfold).

    Example:
        >>> F.fold(ember.ones(1, 8, 9), (4, 4), 2)[0, 0]
        tensor([[1., 2., 2., 1.], ...
    """
    return _nn.fold(input, _ints(output_size, 2, "output_size", "fold"), _ints(kernel_size, 2, "kernel_size", "fold"),
                    _ints(dilation, 2, "dilation", "fold"), _ints(padding, 2, "padding", "fold"),
                    _ints(stride, 2, "stride", "fold"))


# ---- pooling ------------------------------------------------------------------------------
def _max_pool(op, nsp, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    k = _ints(kernel_size, nsp, "kernel_size", op)
    s = [] if stride is None or (not isinstance(stride, numbers.Integral) and len(stride) == 0) else \
        _ints(stride, nsp, "stride", op)
    y, idx = _nn.max_pool(input, nsp, k, s, _ints(padding, nsp, "padding", op), _ints(dilation, nsp, "dilation", op),
                          bool(ceil_mode))
    return (y, idx) if return_indices else y


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-d max pooling over (N, C, L) or (C, L), as torch's (indices index each L plane).

    Example:
        >>> F.max_pool1d(ember.tensor([[[1., 3., 2., 5.]]]), 2)
        tensor([[[3., 5.]]])
    """
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-d max pooling over (N, C, H, W) or (C, H, W), as torch's.

    Args:
        kernel_size, stride (default kernel_size), padding (<= kernel_size / 2), dilation: int or pair.
        ceil_mode: round the output size up. return_indices: also return the argmax positions,
            flat indices into each H x W plane.

    Example:
        >>> F.max_pool2d(ember.arange(16.).view(1, 1, 4, 4), 2)
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-d max pooling over (N, C, D, H, W) or (C, D, H, W), as torch's.

    Example:
        >>> F.max_pool3d(ember.randn(1, 1, 4, 4, 4), 2).shape
        (1, 1, 2, 2, 2)
    """
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _avg_pool(op, nsp, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    k = _ints(kernel_size, nsp, "kernel_size", op)
    s = [] if stride is None or (not isinstance(stride, numbers.Integral) and len(stride) == 0) else \
        _ints(stride, nsp, "stride", op)
    return _nn.avg_pool(input, nsp, k, s, _ints(padding, nsp, "padding", op), bool(ceil_mode), bool(count_include_pad),
                        divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-d average pooling over (N, C, L) or (C, L), as torch's.

    Example:
        >>> F.avg_pool1d(ember.tensor([[[1., 3., 2., 6.]]]), 2)
        tensor([[[2., 4.]]])
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-d average pooling over (N, C, H, W) or (C, H, W), as torch's.

    Args:
        count_include_pad: count padded zeros in the divisor (default True).
        divisor_override: divide every window by this instead.

    Example:
        >>> F.avg_pool2d(ember.ones(1, 1, 4, 4), 2).shape
        (1, 1, 2, 2)
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """3-d average pooling over (N, C, D, H, W) or (C, D, H, W), as torch's.

    Example:
        >>> F.avg_pool3d(ember.ones(1, 1, 4, 4, 4), 2).shape
        (1, 1, 2, 2, 2)
    """
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _out_size(output_size, nsp):
    if output_size is None or isinstance(output_size, numbers.Integral):
        return [output_size]
    return [None if v is None else int(v) for v in output_size]


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a fixed output length, as torch's.

    Example:
        >>> F.adaptive_avg_pool1d(ember.arange(6.).view(1, 1, 6), 3)
        tensor([[[0.5000, 2.5000, 4.5000]]])
    """
    return _nn.adaptive_avg_pool(input, 1, _out_size(output_size, 1))


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed (H, W) output (None keeps that input size), as torch's.

    Example:
        >>> F.adaptive_avg_pool2d(ember.randn(2, 8, 7, 7), 1).shape
        (2, 8, 1, 1)
    """
    return _nn.adaptive_avg_pool(input, 2, _out_size(output_size, 2))


def adaptive_avg_pool3d(input, output_size):
    """Average pooling to a fixed (D, H, W) output, as torch's.

    Example:
        >>> F.adaptive_avg_pool3d(ember.randn(1, 2, 4, 4, 4), 2).shape
        (1, 2, 2, 2, 2)
    """
    return _nn.adaptive_avg_pool(input, 3, _out_size(output_size, 3))


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to a fixed output length, as torch's.

    Example:
        >>> F.adaptive_max_pool1d(ember.tensor([[[1., 5., 2., 0.]]]), 2)
        tensor([[[5., 2.]]])
    """
    y, idx = _nn.adaptive_max_pool(input, 1, _out_size(output_size, 1))
    return (y, idx) if return_indices else y


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed (H, W) output, as torch's.

    Example:
        >>> F.adaptive_max_pool2d(ember.randn(1, 3, 9, 9), (2, 3)).shape
        (1, 3, 2, 3)
    """
    y, idx = _nn.adaptive_max_pool(input, 2, _out_size(output_size, 2))
    return (y, idx) if return_indices else y


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling to a fixed (D, H, W) output, as torch's.

    Example:
        >>> F.adaptive_max_pool3d(ember.randn(1, 1, 4, 4, 4), 2).shape
        (1, 1, 2, 2, 2)
    """
    y, idx = _nn.adaptive_max_pool(input, 3, _out_size(output_size, 3))
    return (y, idx) if return_indices else y


# ---- softmax --------------------------------------------------------------------------------
def _softmax_dim(input, dim, op):
    if dim is None:  # PyTorch's legacy implicit choice
        dim = 0 if input.dim() in (0, 1, 3) else 1
    return dim


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """Softmax along dim, computed in one stable fused pass (max-subtracted), as torch's.

    Args:
        dim: the dimension that sums to 1. dtype: cast the input to this dtype first.

    Example:
        >>> F.softmax(ember.tensor([1., 2., 3.]), dim=0)
        tensor([0.0900, 0.2447, 0.6652])
    """
    if dtype is not None:
        input = input.to(dtype)
    return _nn.softmax(input, _softmax_dim(input, dim, "softmax"))


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along dim, computed stably in one fused pass, as torch's.

    Example:
        >>> F.log_softmax(ember.tensor([0., 0.]), dim=0)
        tensor([-0.6931, -0.6931])
    """
    if dtype is not None:
        input = input.to(dtype)
    return _nn.log_softmax(input, _softmax_dim(input, dim, "log_softmax"))


# ---- normalisation -------------------------------------------------------------------------
def _channel_view(t, nd):
    return t.view(1, -1, *([1] * (nd - 2)))


def _check_channels(op, t, name, c):
    if t is not None and tuple(t.shape) != (c,):
        raise ValueError(f"[{op}] expected {name} of shape ({c},), got {tuple(t.shape)}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation over (N, C, *) per channel, as torch's F.batch_norm.

    In training, normalises with the batch's statistics and, when running_mean/running_var
    are given, updates them in place (running = (1 - momentum) * running + momentum * batch,
    with the unbiased batch variance); in eval, normalises with the running statistics.

    Example:
        >>> x = ember.randn(8, 3, 4, 4)
        >>> F.batch_norm(x, None, None, training=True).mean(dim=(0, 2, 3)).abs().max() < 1e-5
        tensor(True)
    """
    if input.dim() < 2:
        raise ValueError(f"[batch_norm] expected an input of at least 2 dims (N, C, ...), got shape {tuple(input.shape)}")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        _check_channels("batch_norm", t, name, c)
    nd = input.dim()
    if training:
        count = input.numel() // c if c else 0
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {tuple(input.shape)}")
        y, mean, var = _nn.batch_norm_train(input, weight, bias, float(eps))
        if running_mean is not None or running_var is not None:
            with ember.no_grad():
                m = 0.1 if momentum is None else momentum
                if running_mean is not None:
                    running_mean.mul_(1 - m).add_(mean.to(running_mean.dtype), alpha=m)
                if running_var is not None:
                    running_var.mul_(1 - m).add_((var * (count / (count - 1))).to(running_var.dtype), alpha=m)
        return y
    if running_mean is None or running_var is None:
        raise ValueError("[batch_norm] running_mean and running_var are needed in eval mode (training=False)")
    invstd = ember.rsqrt(running_var + eps)
    scale = invstd if weight is None else invstd * weight
    shift = -running_mean * scale if bias is None else bias - running_mean * scale
    needs_grad = ember.is_grad_enabled() and any(t is not None and t.requires_grad for t in
                                                 (input, running_mean, running_var, weight, bias))
    if not needs_grad and input.dtype in (ember.float32, ember.float64):
        # inference: one pass over the input instead of a multiply and an add
        return _nn.channel_affine(input, scale.to(input.dtype).contiguous(), shift.to(input.dtype).contiguous())
    return input * _channel_view(scale.to(input.dtype), nd) + _channel_view(shift.to(input.dtype), nd)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the last len(normalized_shape) dims, as torch's.

    Example:
        >>> F.layer_norm(ember.tensor([[1., 2., 3.]]), (3,))
        tensor([[-1.2247,  0.0000,  1.2247]])
    """
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(s) for s in normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.dim() - k:]) != normalized_shape or input.dim() < k:
        raise ValueError(f"[layer_norm] expected input with shape (*, {', '.join(map(str, normalized_shape))}), "
                         f"got {tuple(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != normalized_shape:
            raise ValueError(f"[layer_norm] expected {name} of shape {normalized_shape}, got {tuple(t.shape)}")
    return _nn.layer_norm(input, k, weight, bias, float(eps), False)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation: channels split into num_groups groups, each normalised over its
    channels and spatial positions, per sample; as torch's.

    Example:
        >>> F.group_norm(ember.randn(2, 6, 4), 3).shape
        (2, 6, 4)
    """
    if input.dim() < 2:
        raise ValueError(f"[group_norm] expected an input of at least 2 dims (N, C, ...), got shape {tuple(input.shape)}")
    c = input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise ValueError(f"[group_norm] expected num_channels ({c}) to be divisible by num_groups ({num_groups})")
    _check_channels("group_norm", weight, "weight", c)
    _check_channels("group_norm", bias, "bias", c)
    return _nn.group_norm(input, int(num_groups), weight, bias, float(eps))


_EPS = {}


def _finfo_eps(dtype):
    if dtype not in _EPS:
        _EPS[dtype] = {ember.float16: 0.0009765625, ember.bfloat16: 0.0078125, ember.float32: 1.1920928955078125e-07,
                       ember.float64: 2.220446049250313e-16}.get(dtype, 1.1920928955078125e-07)
    return _EPS[dtype]


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalisation over the last dims: x / sqrt(mean(x^2) + eps) * weight,
    as torch's (eps defaults to the dtype's machine epsilon).

    Example:
        >>> F.rms_norm(ember.tensor([[3., 4.]]), (2,))
        tensor([[0.8485, 1.1314]])
    """
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(s) for s in normalized_shape)
    k = len(normalized_shape)
    if input.dim() < k or tuple(input.shape[input.dim() - k:]) != normalized_shape:
        raise ValueError(f"[rms_norm] expected input with shape (*, {', '.join(map(str, normalized_shape))}), "
                         f"got {tuple(input.shape)}")
    if eps is None:
        eps = _finfo_eps(input.dtype)
    return _nn.layer_norm(input, k, weight, None, float(eps), True)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Instance normalisation: each (sample, channel) plane normalised over its positions, as torch's.

    Example:
        >>> F.instance_norm(ember.randn(2, 3, 5, 5)).shape
        (2, 3, 5, 5)
    """
    if input.dim() < 3:
        raise ValueError(f"[instance_norm] expected an input of at least 3 dims (N, C, *), got shape {tuple(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    nd = input.dim()
    if use_input_stats:
        if input.numel() // (n * c) <= 1 if n * c else False:
            raise ValueError(f"Expected more than 1 spatial element when training, got input size {tuple(input.shape)}")
        if running_mean is not None or running_var is not None:
            count = input.numel() // (n * c)
            with ember.no_grad():
                var, mean = ember.var_mean(input, dim=tuple(range(2, nd)), correction=0, keepdim=True)
                if running_mean is not None:
                    running_mean.mul_(1 - momentum).add_(mean.reshape(n, c).mean(dim=0), alpha=momentum)
                if running_var is not None:
                    running_var.mul_(1 - momentum).add_((var * (count / max(count - 1, 1))).reshape(n, c).mean(dim=0),
                                                        alpha=momentum)
        return _nn.group_norm(input, c, weight, bias, float(eps))  # one group per channel
    else:
        y = (input - _channel_view(running_mean, nd)) * ember.rsqrt(_channel_view(running_var, nd) + eps)
    if weight is not None:
        y = y * _channel_view(weight, nd)
    if bias is not None:
        y = y + _channel_view(bias, nd)
    return y


# ---- classification losses -----------------------------------------------------------------
def _reduction(size_average, reduce, reduction):
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return ("mean" if size_average else "sum") if reduce else "none"


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of class-index targets, given log-probabilities, as torch's.

    Args:
        input: (N, C), (N, C, d1, ...) or (C,) log-probabilities.
        target: (N,), (N, d1, ...) or () class indices in [0, C) or ignore_index.
        weight: (C,) class weights. ignore_index: targets to skip (default -100).
        reduction: 'mean' (weighted mean over non-ignored targets), 'sum' or 'none'.

    Example:
        >>> F.nll_loss(ember.tensor([[-0.5, -1.0]]), ember.tensor([1]))
        tensor(1.)
    """
    reduction = _reduction(size_average, reduce, reduction)
    input, weight = _fp32(input, weight)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"[nll_loss] reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if input.dim() == 1:
        if target.dim() != 0:
            raise ValueError(f"[nll_loss] expected a 0-d target for a 1-d input, got target shape {tuple(target.shape)}")
        input, target = input.unsqueeze(0), target.unsqueeze(0)
    if input.dim() < 1 or target.shape != input.shape[:1] + input.shape[2:]:
        raise ValueError(f"[nll_loss] expected target of shape {input.shape[:1] + input.shape[2:]} for input of "
                         f"shape {tuple(input.shape)}, got {tuple(target.shape)}")
    if target.is_floating_point() or target.dtype == ember.bool:
        raise TypeError(f"[nll_loss] expected class-index targets of an integer dtype (int64), got {target.dtype}")
    return _nn.nll_loss(input, target if target.dtype == ember.int64 else target.long(), weight, int(ignore_index),
                        _REDUCTIONS[reduction])


_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """Cross-entropy between logits and targets (log_softmax then nll_loss), as torch's.

    Args:
        input: (N, C), (N, C, d1, ...) or (C,) unnormalised logits.
        target: class indices (N,), (N, d1, ...) — or class probabilities of input's shape.
        weight: (C,) class weights. ignore_index: skipped targets (indices only).
        reduction: 'mean', 'sum' or 'none'. label_smoothing: in [0, 1], mixes the target with
            the uniform distribution.

    Returns:
        A 0-d tensor, or per-element losses for reduction='none'.

    Example:
        >>> F.cross_entropy(ember.tensor([[2.0, 0.5, -1.0]]), ember.tensor([0]))
        tensor(0.2413)
    """
    reduction = _reduction(size_average, reduce, reduction)
    input, target, weight = _fp32(input, target, weight)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"[cross_entropy] label_smoothing must be in [0, 1], got {label_smoothing}")
    class_dim = 0 if input.dim() == 1 else 1
    logp = log_softmax(input, class_dim)
    c = input.shape[class_dim]
    if target.is_floating_point():
        if target.shape != input.shape:
            raise ValueError(f"[cross_entropy] expected probability targets of the input's shape {tuple(input.shape)}, "
                             f"got {tuple(target.shape)}")
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / c
        prod = logp * target
        if weight is not None:
            prod = prod * weight.view(-1, *([1] * (input.dim() - class_dim - 1)))
        losses = -prod.sum(dim=class_dim)
        if reduction == "none":
            return losses
        if reduction == "sum":
            return losses.sum()
        return losses.sum() / (input.numel() // c if input.dim() > 1 else 1)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0:
        return nll
    ignore = target == ignore_index
    w = logp if weight is None else logp * weight.view(-1, *([1] * (input.dim() - class_dim - 1)))
    smooth = (-w.sum(dim=class_dim)).masked_fill(ignore, 0.0)
    if reduction == "mean":
        if weight is not None:
            smooth = smooth.sum() / weight[target.masked_select(~ignore).flatten().long()].sum()
        else:
            smooth = smooth.sum() / (~ignore).sum()
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / c)


# ---- embedding, dropout ----------------------------------------------------------------------
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """Rows of weight picked by integer indices, as torch's F.embedding.

    Args:
        input: integer indices of any shape. weight: (num_embeddings, dim).
        padding_idx: rows at this index get no gradient. max_norm: renormalise the picked rows
            in place to at most this norm first.

    Returns:
        (*input.shape, dim).

    Example:
        >>> F.embedding(ember.tensor([[0, 2]]), ember.arange(6.).view(3, 2))
        tensor([[[0., 1.],
                 [4., 5.]]])
    """
    if weight.dim() != 2:
        raise ValueError(f"[embedding] expected a 2-d weight (num_embeddings, dim), got shape {tuple(weight.shape)}")
    if input.is_floating_point() or input.dtype == ember.bool:
        raise TypeError(f"[embedding] expected integer indices, got {input.dtype}")
    num = weight.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"[embedding] padding_idx must be within [-{num}, {num}), got {padding_idx}")
        padding_idx = padding_idx % num
    if input.numel():
        lo, hi = int(input.min()), int(input.max())
        if lo < 0 or hi >= num:
            raise IndexError(f"[embedding] index {lo if lo < 0 else hi} is out of range for {num} embeddings")
    flat = input.reshape(-1).long()
    if max_norm is not None:
        with ember.no_grad():
            rows = ember.unique(flat)
            w = weight[rows]
            norms = w.norm(p=norm_type, dim=1, keepdim=True)
            scale = ember.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
            weight[rows] = w * scale
    out = weight.index_select(0, flat)
    if padding_idx is not None and out.requires_grad:
        out = ember.where((flat == padding_idx).unsqueeze(1), out.detach(), out)
    return out.view(*input.shape, weight.shape[1])


def _dropout_mask(shape, p, like):
    return ember.empty(shape, dtype=like.dtype, device=like.device).bernoulli_(1 - p) * (1.0 / (1 - p))


def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes each element with probability p and scales the rest by 1/(1-p), in training only.

    Example:
        >>> ember.manual_seed(0); (F.dropout(ember.ones(1000), 0.5) == 0).float().mean().item() < 0.6
        True
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"[dropout] p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input.mul_(0.0) if inplace else input * 0.0
    mask = _dropout_mask(input.shape, p, input)
    return input.mul_(mask) if inplace else input * mask


def _feature_dropout(op, nsp, input, p, training, inplace):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"[{op}] p must be in [0, 1], got {p}")
    if input.dim() not in (nsp + 1, nsp + 2):
        raise ValueError(f"[{op}] expected a {nsp + 1}-d or {nsp + 2}-d input, got shape {tuple(input.shape)}")
    if not training or p == 0.0:
        return input
    shape = tuple(input.shape[:input.dim() - nsp]) + (1,) * nsp
    mask = _dropout_mask(shape, p, input) if p < 1 else ember.zeros(shape, dtype=input.dtype, device=input.device)
    return input.mul_(mask) if inplace else input * mask


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, L) with probability p, as torch's.

    Example:
        >>> F.dropout1d(ember.ones(2, 4, 3), 0.5).shape
        (2, 4, 3)
    """
    return _feature_dropout("dropout1d", 1, input, p, training, inplace)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, H, W) with probability p, as torch's.

    Example:
        >>> F.dropout2d(ember.ones(2, 4, 3, 3), 0.5).shape
        (2, 4, 3, 3)
    """
    return _feature_dropout("dropout2d", 2, input, p, training, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, D, H, W) with probability p, as torch's.

    Example:
        >>> F.dropout3d(ember.ones(1, 2, 2, 2, 2), 0.5).shape
        (1, 2, 2, 2, 2)
    """
    return _feature_dropout("dropout3d", 3, input, p, training, inplace)


# ---- attention ------------------------------------------------------------------------------
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(q @ k^T * scale + mask) @ v, as torch's F.scaled_dot_product_attention.

    Args:
        query: (..., L, E). key: (..., S, E). value: (..., S, Ev).
        attn_mask: boolean (True = attend) or additive float mask broadcastable to (..., L, S).
        is_causal: mask out keys after each query (top-left aligned). scale: default 1/sqrt(E).
        enable_gqa: let key/value have fewer heads (dim -3) than query.

    Returns:
        (..., L, Ev).

    The compiled kernel works on (query block x key block) tiles with an online softmax and
    never holds the (L, S) score matrix: memory is O(L) beyond the inputs, forward and
    backward. Dropout (dropout_p > 0) and a mask that requires grad take the composed path
    (softmax of the full score matrix).

    Example:
        >>> q = ember.randn(2, 4, 8, 16)
        >>> F.scaled_dot_product_attention(q, q, q, is_causal=True).shape
        (2, 4, 8, 16)
    """
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise ValueError("[scaled_dot_product_attention] expected query, key and value of at least 2 dims")
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"[scaled_dot_product_attention] query and key must have the same last dim, got "
                         f"{tuple(query.shape)} and {tuple(key.shape)}")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"[scaled_dot_product_attention] key and value must have the same length (dim -2), got "
                         f"{tuple(key.shape)} and {tuple(value.shape)}")
    if is_causal and attn_mask is not None:
        raise ValueError("[scaled_dot_product_attention] pass either attn_mask or is_causal=True, not both")
    if enable_gqa and query.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        rep = query.shape[-3] // key.shape[-3]
        key = key.repeat_interleave(rep, dim=-3)
        value = value.repeat_interleave(rep, dim=-3)
    s = (1.0 / math.sqrt(query.shape[-1])) if scale is None else scale
    if dropout_p == 0.0 and (attn_mask is None or not attn_mask.requires_grad):
        lead = ember.broadcast_shapes(tuple(query.shape[:-2]), tuple(key.shape[:-2]), tuple(value.shape[:-2]))
        q, k, v = (t if tuple(t.shape[:-2]) == lead else t.expand(*lead, *t.shape[-2:])
                   for t in (query, key, value))
        on, low = (_C._get_autocast_cuda if q.is_cuda else _C._get_autocast)()
        if on:  # on autocast's lower-precision list (of q's device), as in PyTorch
            q, k, v = (t.to(low) if t.is_floating_point() else t for t in (q, k, v))
        mask = attn_mask
        if mask is not None and mask.dtype == ember.bool:
            mask = ember.zeros(mask.shape, dtype=q.dtype, device=q.device).masked_fill(~mask, float("-inf"))
        return _nn.scaled_dot_product_attention(q, k, v, mask, bool(is_causal), float(s))
    return _sdpa_composed(query, key, value, attn_mask, dropout_p, is_causal, s)


def _sdpa_composed(query, key, value, attn_mask, dropout_p, is_causal, s):
    """softmax(q k^T s + mask) v through ordinary ops (the full score matrix): for dropout."""
    L, S = query.shape[-2], key.shape[-2]
    scores = ember.matmul(query * s, key.transpose(-2, -1))
    if is_causal:
        keep = ember.ones(L, S, dtype=ember.bool, device=query.device).tril()
        scores = scores.masked_fill(~keep, float("-inf"))
    elif attn_mask is not None:
        if attn_mask.dtype == ember.bool:
            scores = scores.masked_fill(~attn_mask, float("-inf"))
        else:
            scores = scores + attn_mask
    attn = softmax(scores, dim=-1)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, True)
    return ember.matmul(attn, value)


# ---- resampling -------------------------------------------------------------------------------
def _src_index(out, inp, scale, align_corners, mode, device=None):
    """Source coordinates (float64 tensor on `device`) of each output position along one dim."""
    dst = ember.arange(out, dtype=ember.float64, device=device)
    if mode in ("nearest", "nearest-exact"):
        s = (inp / out) if scale is None else 1.0 / scale
        src = ((dst + 0.5) * s).floor() if mode == "nearest-exact" else (dst * s).floor()
        return src.clamp(max=inp - 1).long()
    if align_corners:
        s = (inp - 1) / (out - 1) if out > 1 else 0.0
        return dst * s
    s = (inp / out) if scale is None else 1.0 / scale
    src = (dst + 0.5) * s - 0.5
    return src.clamp(min=0.0) if mode == "linear" else src


def _cubic_weights(t, A=-0.75):
    def near(x):  # |x| <= 1
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _resample_dim(x, dim, out, scale, mode, align_corners):
    inp = x.shape[dim]
    if mode in ("nearest", "nearest-exact"):
        return x.index_select(dim, _src_index(out, inp, scale, align_corners, mode, x.device))
    src = _src_index(out, inp, scale, align_corners, "linear" if mode == "linear" else "cubic", x.device)
    shape = [1] * x.dim()
    shape[dim] = out
    if mode == "linear":
        i0 = src.floor().clamp(max=inp - 1).long()
        i1 = (i0 + 1).clamp(max=inp - 1)
        lam = (src - i0.double()).to(x.dtype).view(shape)
        return x.index_select(dim, i0) * (1 - lam) + x.index_select(dim, i1) * lam
    f = src.floor()
    t = (src - f).to(x.dtype).view(shape)
    i = f.long()
    y = None
    for k, w in zip(range(-1, 3), _cubic_weights(t)):
        term = x.index_select(dim, (i + k).clamp(0, inp - 1)) * w
        y = term if y is None else y + term
    return y


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resizes (N, C, *spatial) by nearest, (bi/tri)linear, bicubic or area resampling, as
    torch's F.interpolate (separable, one dimension at a time).

    Args:
        size: output spatial size (int or tuple), or scale_factor (float or tuple).
        mode: 'nearest', 'nearest-exact', 'linear', 'bilinear', 'trilinear', 'bicubic', 'area'.
        align_corners: for the linear and cubic modes (default False).

    Example:
        >>> F.interpolate(ember.arange(4.).view(1, 1, 2, 2), scale_factor=2, mode="bilinear").shape
        (1, 1, 4, 4)
    """
    if antialias:
        raise NotImplementedError("[interpolate] antialias=True is not implemented")
    nsp = input.dim() - 2
    if nsp < 1:
        raise ValueError(f"[interpolate] expected a (N, C, *spatial) input, got shape {tuple(input.shape)}")
    expected = {"linear": 1, "bilinear": 2, "trilinear": 3, "bicubic": 2}
    if mode in expected and expected[mode] != nsp:
        raise ValueError(f"[interpolate] mode '{mode}' expects a {expected[mode] + 2}-d input, got shape "
                         f"{tuple(input.shape)}")
    if mode not in ("nearest", "nearest-exact", "area") and mode not in expected:
        raise ValueError(f"[interpolate] unknown mode {mode!r}")
    if align_corners is not None and mode in ("nearest", "nearest-exact", "area"):
        raise ValueError("[interpolate] align_corners can only be set with the linear and cubic modes")
    if (size is None) == (scale_factor is None):
        raise ValueError("[interpolate] pass exactly one of size and scale_factor")
    in_sp = input.shape[2:]
    if size is not None:
        sizes = [int(size)] * nsp if isinstance(size, numbers.Integral) else [int(s) for s in size]
        scales = [None] * nsp
    else:
        scales = [float(scale_factor)] * nsp if isinstance(scale_factor, numbers.Number) else \
            [float(s) for s in scale_factor]
        sizes = [int(math.floor(i * s)) for i, s in zip(in_sp, scales)]
        if recompute_scale_factor:
            scales = [None] * nsp
    if len(sizes) != nsp:
        raise ValueError(f"[interpolate] expected {nsp} output sizes, got {sizes}")
    if mode == "area":
        return [adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d][nsp - 1](input, sizes)
    m = "nearest" if mode == "nearest" else "nearest-exact" if mode == "nearest-exact" else \
        "cubic" if mode == "bicubic" else "linear"
    y = input
    for i in range(nsp):
        y = _resample_dim(y, 2 + i, sizes[i], scales[i], m, bool(align_corners))
    return y


def pixel_shuffle(input, upscale_factor):
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r), as torch's.

    Example:
        >>> F.pixel_shuffle(ember.randn(1, 8, 3, 3), 2).shape
        (1, 2, 6, 6)
    """
    r = int(upscale_factor)
    if input.dim() < 3 or input.shape[-3] % (r * r):
        raise ValueError(f"[pixel_shuffle] expected an input (*, C * {r * r}, H, W), got shape {tuple(input.shape)}")
    *b, c, h, w = input.shape
    nb = len(b)
    x = input.reshape(*b, c // (r * r), r, r, h, w)
    x = x.permute(*range(nb), nb, nb + 3, nb + 1, nb + 4, nb + 2)
    return x.reshape(*b, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W), the inverse of pixel_shuffle.

    Example:
        >>> F.pixel_unshuffle(ember.randn(1, 2, 6, 6), 2).shape
        (1, 8, 3, 3)
    """
    r = int(downscale_factor)
    if input.dim() < 3 or input.shape[-1] % r or input.shape[-2] % r:
        raise ValueError(f"[pixel_unshuffle] expected spatial sizes divisible by {r}, got shape {tuple(input.shape)}")
    *b, c, h, w = input.shape
    nb = len(b)
    x = input.reshape(*b, c, h // r, r, w // r, r)
    x = x.permute(*range(nb), nb, nb + 2, nb + 4, nb + 1, nb + 3)
    return x.reshape(*b, c * r * r, h // r, w // r)


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding: (*) class indices -> (*, num_classes), as torch's.

    Example:
        >>> F.one_hot(ember.tensor([0, 2]), 3)
        tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    if tensor.is_floating_point() or tensor.dtype == ember.bool:
        raise TypeError(f"[one_hot] expected integer class indices, got {tensor.dtype}")
    t = tensor.long()
    if num_classes < 0:
        num_classes = int(t.max()) + 1 if t.numel() else 0
    if t.numel() and (int(t.min()) < 0 or int(t.max()) >= num_classes):
        raise IndexError(f"[one_hot] class values must be in [0, {num_classes}), got {int(t.min())}..{int(t.max())}")
    out = ember.zeros(*t.shape, num_classes, dtype=ember.int64, device=t.device)
    return out.scatter_(-1, t.unsqueeze(-1), 1)
