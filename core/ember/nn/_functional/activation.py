"""Activation functions composed from ember ops (autograd comes through them)."""

import ember
from ember import Tensor

__all__ = ["threshold", "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_",
           "celu", "celu_", "gelu", "silu", "mish", "hardswish", "hardsigmoid", "hardtanh", "hardtanh_", "sigmoid",
           "tanh", "softplus", "softsign", "logsigmoid", "prelu", "glu", "softmin", "tanhshrink", "softshrink",
           "hardshrink"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _check(input, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"[{name}] input must be a Tensor: expected ember.Tensor, got {type(input).__name__}")


def _inplace(input, out):
    """Writes out into input and returns input (autograd records the copy)."""
    input.copy_(out)
    return input


def _apply(input, fn, inplace, name):
    _check(input, name)
    if not inplace:
        return fn(input)
    src = input.clone() if (input.requires_grad and ember.is_grad_enabled()) else input
    return _inplace(input, fn(src))


def threshold(input, threshold, value, inplace=False):
    """Replaces the elements not greater than ``threshold`` by ``value``.

    Args:
        input (Tensor): any shape.
        threshold (float): elements <= threshold are replaced.
        value (float): the replacement.
        inplace (bool): write into input (default: False).

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.threshold(ember.tensor([-1.0, 0.5, 2.0]), 1.0, 0.0).tolist()
        [0.0, 0.0, 2.0]
    """
    return _apply(input, lambda x: ember.where(x > threshold, x, value), inplace, "threshold")


def relu(input, inplace=False):
    """max(0, x) elementwise.

    Args:
        input (Tensor): any shape.
        inplace (bool): write into input (default: False).

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.relu(ember.tensor([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """
    _check(input, "relu")
    return input.relu_() if inplace else ember.relu(input)


def relu_(input):
    """In-place relu; returns input."""
    return relu(input, inplace=True)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """Clamps to [min_val, max_val]; the gradient is zero at and beyond the bounds (as
    PyTorch's).

    Args:
        input (Tensor): any shape.
        min_val (float): lower bound (default: -1.0).
        max_val (float): upper bound (default: 1.0).
        inplace (bool): write into input (default: False).

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.hardtanh(ember.tensor([-3.0, 0.5, 3.0])).tolist()
        [-1.0, 0.5, 1.0]
    """
    if min_val > max_val:
        raise ValueError(f"[hardtanh] min_val cannot be greater than max_val: got min_val={min_val}, "
                         f"max_val={max_val}")
    def fn(x):
        if not (x.requires_grad and ember.is_grad_enabled()):
            return x.clamp(min_val, max_val)  # one pass; the gradient's boundary rule does not matter here
        # the gradient is zero at the bounds too (clamp's passes there)
        return ember.where(x <= min_val, min_val, ember.where(x >= max_val, max_val, x))
    return _apply(input, fn, inplace, "hardtanh")


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place hardtanh; returns input."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """min(max(0, x), 6) elementwise.

    Args:
        input (Tensor): any shape.
        inplace (bool): write into input (default: False).

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.relu6(ember.tensor([-1.0, 3.0, 9.0])).tolist()
        [0.0, 3.0, 6.0]
    """
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x.

    Args:
        input (Tensor): any shape.
        negative_slope (float): slope for x <= 0 (default: 0.01).
        inplace (bool): write into input (default: False).

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.leaky_relu(ember.tensor([-2.0, 2.0]), 0.5).tolist()
        [-1.0, 2.0]
    """
    return _apply(input, lambda x: ember.where(x > 0, x, x * negative_slope), inplace, "leaky_relu")


def leaky_relu_(input, negative_slope=0.01):
    """In-place leaky_relu; returns input."""
    return leaky_relu(input, negative_slope, inplace=True)


def _neg_expm1(x, scale=1.0):
    # expm1 of the non-positive part only, so the unused branch never overflows (its gradient
    # would be 0 * inf = nan through where)
    return ember.expm1(ember.clamp(x, max=0.0) if scale == 1.0 else ember.clamp(x, max=0.0) / scale)


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha * (exp(x) - 1).

    Args:
        input (Tensor): any shape.
        alpha (float): scale of the negative part (default: 1.0).
        inplace (bool): write into input (default: False).

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> round(F.elu(ember.tensor([-1.0])).item(), 4)
        -0.6321
    """
    return _apply(input, lambda x: ember.where(x > 0, x, alpha * _neg_expm1(x)), inplace, "elu")


def elu_(input, alpha=1.0):
    """In-place elu; returns input."""
    return elu(input, alpha, inplace=True)


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants (alpha ~ 1.6733,
    scale ~ 1.0507).

    Args:
        input (Tensor): any shape.
        inplace (bool): write into input (default: False).

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> round(F.selu(ember.tensor([1.0])).item(), 4)
        1.0507
    """
    return _apply(input, lambda x: _SELU_SCALE * ember.where(x > 0, x, _SELU_ALPHA * _neg_expm1(x)),
                  inplace, "selu")


def selu_(input):
    """In-place selu; returns input."""
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).

    Args:
        input (Tensor): any shape.
        alpha (float): the scale (default: 1.0).
        inplace (bool): write into input (default: False).

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> round(F.celu(ember.tensor([-2.0]), alpha=2.0).item(), 4)
        -1.2642
    """
    if alpha == 0:
        raise ValueError("[celu] alpha must be nonzero: expected alpha != 0, got 0")
    return _apply(input, lambda x: ember.where(x > 0, x, alpha * _neg_expm1(x, alpha)), inplace, "celu")


def celu_(input, alpha=1.0):
    """In-place celu; returns input."""
    return celu(input, alpha, inplace=True)


def gelu(input, approximate="none"):
    """Gaussian error linear unit, x * Phi(x) (``approximate='tanh'``: the tanh form).

    Args:
        input (Tensor): any shape.
        approximate (str): 'none' or 'tanh' (default: 'none').

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> round(F.gelu(ember.tensor([1.0])).item(), 4)
        0.8413
    """
    _check(input, "gelu")
    if approximate not in ("none", "tanh"):
        raise ValueError(f"[gelu] approximate must be 'none' or 'tanh': got {approximate!r}")
    return ember.gelu(input, approximate=approximate)


def silu(input, inplace=False):
    """x * sigmoid(x) (swish).

    Args:
        input (Tensor): any shape.
        inplace (bool): write into input (default: False).

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> round(F.silu(ember.tensor([1.0])).item(), 4)
        0.7311
    """
    return _apply(input, ember.silu, inplace, "silu")


def mish(input, inplace=False):
    """x * tanh(softplus(x)).

    Args:
        input (Tensor): any shape.
        inplace (bool): write into input (default: False).

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> round(F.mish(ember.tensor([1.0])).item(), 4)
        0.8651
    """
    return _apply(input, ember.mish, inplace, "mish")


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6, a piecewise-linear sigmoid.

    Args:
        input (Tensor): any shape.
        inplace (bool): write into input (default: False).

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.hardsigmoid(ember.tensor([-4.0, 0.0, 4.0])).tolist()
        [0.0, 0.5, 1.0]
    """
    return _apply(input, lambda x: hardtanh(x + 3.0, 0.0, 6.0) / 6.0, inplace, "hardsigmoid")


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6.

    Args:
        input (Tensor): any shape.
        inplace (bool): write into input (default: False).

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.hardswish(ember.tensor([-4.0, 0.0, 4.0])).tolist()
        [0.0, 0.0, 4.0]
    """
    def fn(x):
        # PyTorch's gradient: 0 below -3, (2x + 3) / 6 up to 3 inclusive, 1 above
        return ember.where(x < -3.0, 0.0, ember.where(x > 3.0, x, x * (x + 3.0) / 6.0))
    return _apply(input, fn, inplace, "hardswish")


def sigmoid(input):
    """1 / (1 + exp(-x)).

    Args:
        input (Tensor): any shape.

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.sigmoid(ember.tensor([0.0])).item()
        0.5
    """
    _check(input, "sigmoid")
    return ember.sigmoid(input)


def tanh(input):
    """Hyperbolic tangent.

    Args:
        input (Tensor): any shape.

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.tanh(ember.tensor([0.0])).item()
        0.0
    """
    _check(input, "tanh")
    return ember.tanh(input)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, linear where beta * x > threshold.

    Args:
        input (Tensor): any shape.
        beta (float): sharpness (default: 1).
        threshold (float): above it the function is x (default: 20).

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> round(F.softplus(ember.tensor([0.0])).item(), 4)
        0.6931
    """
    _check(input, "softplus")
    return ember.softplus(input, beta, threshold)


def softsign(input):
    """x / (1 + |x|).

    Args:
        input (Tensor): any shape.

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.softsign(ember.tensor([1.0, -3.0])).tolist()
        [0.5, -0.75]
    """
    _check(input, "softsign")
    return input / (1 + input.abs())


def logsigmoid(input):
    """log(sigmoid(x)), computed stably as -log(1 + exp(-x)).

    Args:
        input (Tensor): any shape.

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> round(F.logsigmoid(ember.tensor([0.0])).item(), 4)
        -0.6931
    """
    _check(input, "logsigmoid")
    return -ember.logaddexp(ember.zeros_like(input), -input)


def prelu(input, weight):
    """x if x > 0 else weight * x, with one learnable slope per channel (dim 1) or one shared.

    Args:
        input (Tensor): (N, C, ...) or any shape when weight has one element.
        weight (Tensor): (C,) or (1,).

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.prelu(ember.tensor([[-1.0, 1.0]]), ember.tensor([0.25])).tolist()
        [[-0.25, 1.0]]
    """
    _check(input, "prelu")
    n = weight.numel()
    if n != 1:
        if input.ndim < 2 and not (input.ndim == 1 and input.shape[0] == n):
            raise ValueError(f"[prelu] weight with {n} elements needs an input with a channel dim (dim 1): "
                             f"got input shape {tuple(input.shape)}")
        c = input.shape[1] if input.ndim >= 2 else input.shape[0]
        if c != n:
            raise ValueError(f"[prelu] the number of weights must match the channels (dim 1) of input: "
                             f"expected {c}, got {n}")
        if input.ndim >= 2:
            weight = weight.reshape((n,) + (1,) * (input.ndim - 2))
    elif weight.ndim > 0:
        weight = weight.reshape(())
    return ember.where(input > 0, input, weight * input)


def glu(input, dim=-1):
    """Gated linear unit: a * sigmoid(b), where a and b are the two halves of input along dim.

    Args:
        input (Tensor): size along dim must be even.
        dim (int): the dim to split (default: -1).

    Returns:
        Tensor with half the size along dim.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.glu(ember.tensor([2.0, 0.0])).tolist()
        [1.0]
    """
    _check(input, "glu")
    if input.ndim == 0:
        raise ValueError("[glu] input must have at least one dim: got a 0-d tensor")
    size = input.shape[dim]
    if size % 2:
        raise ValueError(f"[glu] halving dimension must be even: expected an even size at dim {dim}, got {size}")
    a, b = input.chunk(2, dim)
    return a * ember.sigmoid(b)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along dim.

    Args:
        input (Tensor): any shape.
        dim (int): the dim that sums to one (None: PyTorch's legacy choice, 0 for 0-, 1- and
            3-d inputs, else 1).
        dtype (ember.dtype, optional): cast input to it first.

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.softmin(ember.tensor([0.0, 0.0]), dim=0).tolist()
        [0.5, 0.5]
    """
    _check(input, "softmin")
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1
    if dtype is not None:
        input = input.to(dtype)
    from .. import _kernels
    if hasattr(_kernels, "softmax"):
        return _kernels.softmax(-input, dim)
    x = -input
    return ember.exp(x - ember.logsumexp(x, dim, keepdim=True))


def tanhshrink(input):
    """x - tanh(x).

    Args:
        input (Tensor): any shape.

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.tanhshrink(ember.tensor([0.0])).item()
        0.0
    """
    _check(input, "tanhshrink")
    return input - ember.tanh(input)


def softshrink(input, lambd=0.5):
    """x - lambd if x > lambd, x + lambd if x < -lambd, else 0.

    Args:
        input (Tensor): any shape.
        lambd (float): the threshold, >= 0 (default: 0.5).

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.softshrink(ember.tensor([-1.0, 0.2, 1.0])).tolist()
        [-0.5, 0.0, 0.5]
    """
    _check(input, "softshrink")
    if lambd < 0:
        raise ValueError(f"[softshrink] lambd must be non-negative: got {lambd}")
    return ember.where(input > lambd, input - lambd, ember.where(input < -lambd, input + lambd, 0.0))


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0.

    Args:
        input (Tensor): any shape.
        lambd (float): the threshold (default: 0.5).

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.hardshrink(ember.tensor([-1.0, 0.2, 1.0])).tolist()
        [-1.0, 0.0, 1.0]
    """
    _check(input, "hardshrink")
    return ember.where((input > lambd) | (input < -lambd), input, 0.0)


