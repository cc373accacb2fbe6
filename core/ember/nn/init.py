"""ember.nn.init: in-place weight initialisers (PyTorch's torch.nn.init).

Every function fills its tensor under no_grad with ember's random generator (reproducible
under ``ember.manual_seed``, or with ``generator=``) and returns the tensor.

Example:
    >>> import ember
    >>> w = ember.empty(64, 32)
    >>> _ = ember.nn.init.kaiming_uniform_(w, nonlinearity="relu")
    >>> abs(w).max().item() <= (6 / 32) ** 0.5
    True
"""
import math
import warnings

import ember
from ember import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
           "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
           "sparse_"]


def _check(tensor, name):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"[init.{name}] expected a Tensor, got {type(tensor).__name__}")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for an activation (the std scale that keeps variances steady).

    Args:
        nonlinearity (str): 'linear', 'conv1d'/'conv2d'/'conv3d', 'conv_transpose1d/2d/3d',
            'sigmoid' (1), 'tanh' (5/3), 'relu' (sqrt 2), 'leaky_relu' (sqrt(2 / (1 + slope^2))),
            'selu' (3/4).
        param (float, optional): leaky_relu's negative slope (default: 0.01).

    Returns:
        float

    Example:
        >>> import ember
        >>> round(ember.nn.init.calculate_gain("relu"), 4)
        1.4142
    """
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError(f"[init.calculate_gain] negative_slope must be a number: got {param!r}")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"[init.calculate_gain] unsupported nonlinearity: expected one of {linear_fns + ['sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu']}, "
                     f"got {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.ndim < 2:
        raise ValueError(f"[init] fan in and fan out can not be computed for a tensor with fewer than 2 dims: "
                         f"got shape {tuple(tensor.shape)}")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"[init] mode {mode!r} not supported: expected 'fan_in' or 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fills tensor with samples of U(a, b).

    Args:
        tensor (Tensor): filled in place.
        a (float): lower bound (default: 0).
        b (float): upper bound (default: 1).
        generator (ember.Generator, optional): the random source.

    Returns:
        tensor

    Example:
        >>> import ember
        >>> ember.nn.init.uniform_(ember.empty(3), -1, 1).shape
        (3,)
    """
    _check(tensor, "uniform_")
    with ember.no_grad():
        tensor.detach().uniform_(a, b, generator=generator)
    return tensor


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fills tensor with samples of N(mean, std^2).

    Args:
        tensor (Tensor): filled in place.
        mean (float): the mean (default: 0).
        std (float): the standard deviation (default: 1).
        generator (ember.Generator, optional): the random source.

    Returns:
        tensor

    Example:
        >>> import ember
        >>> ember.nn.init.normal_(ember.empty(3), 0.0, 0.02).shape
        (3,)
    """
    _check(tensor, "normal_")
    with ember.no_grad():
        tensor.detach().normal_(mean, std, generator=generator)
    return tensor


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fills tensor with samples of N(mean, std^2) truncated to [a, b] (inverse-CDF sampling,
    as PyTorch's).

    Args:
        tensor (Tensor): filled in place.
        mean (float): the mean (default: 0).
        std (float): the standard deviation (default: 1).
        a (float): lower cut-off (default: -2).
        b (float): upper cut-off (default: 2).
        generator (ember.Generator, optional): the random source.

    Returns:
        tensor

    Example:
        >>> import ember
        >>> t = ember.nn.init.trunc_normal_(ember.empty(1000), std=0.02, a=-0.04, b=0.04)
        >>> bool((t.abs() <= 0.04).all())
        True
    """
    _check(tensor, "trunc_normal_")

    def norm_cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("[init.trunc_normal_] mean is more than 2 std from [a, b]: the distribution of values "
                      "may be incorrect", stacklevel=2)
    with ember.no_grad():
        t = tensor.detach()
        lo, hi = norm_cdf((a - mean) / std), norm_cdf((b - mean) / std)
        t.uniform_(2 * lo - 1, 2 * hi - 1, generator=generator)
        t.erfinv_()
        t.mul_(std * math.sqrt(2.0))
        t.add_(mean)
        t.clamp_(min=a, max=b)
    return tensor


def constant_(tensor, val):
    """Fills tensor with val.

    Args:
        tensor (Tensor): filled in place.
        val (float): the value.

    Returns:
        tensor

    Example:
        >>> import ember
        >>> ember.nn.init.constant_(ember.empty(2), 0.5).tolist()
        [0.5, 0.5]
    """
    _check(tensor, "constant_")
    with ember.no_grad():
        tensor.detach().fill_(val)
    return tensor


def ones_(tensor):
    """Fills tensor with ones; returns it.

    Example:
        >>> import ember
        >>> ember.nn.init.ones_(ember.empty(2)).tolist()
        [1.0, 1.0]
    """
    return constant_(tensor, 1.0)


def zeros_(tensor):
    """Fills tensor with zeros; returns it.

    Example:
        >>> import ember
        >>> ember.nn.init.zeros_(ember.empty(2)).tolist()
        [0.0, 0.0]
    """
    return constant_(tensor, 0.0)


def eye_(tensor):
    """Fills a 2-d tensor with the identity (ones on the diagonal); returns it.

    Example:
        >>> import ember
        >>> ember.nn.init.eye_(ember.empty(2, 3)).tolist()
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    _check(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError(f"[init.eye_] only tensors with 2 dims are supported: got shape {tuple(tensor.shape)}")
    with ember.no_grad():
        tensor.detach().copy_(ember.eye(tensor.shape[0], tensor.shape[1], dtype=tensor.dtype))
    return tensor


def dirac_(tensor, groups=1):
    """Fills a 3-, 4- or 5-d conv weight with the Dirac delta: the conv preserves the identity
    of its first input channels (in each of ``groups`` groups).

    Args:
        tensor (Tensor): (out_channels, in_channels, *kernel).
        groups (int): the conv's groups (default: 1).

    Returns:
        tensor

    Example:
        >>> import ember
        >>> ember.nn.init.dirac_(ember.empty(2, 2, 3))[1, 1].tolist()
        [0.0, 1.0, 0.0]
    """
    _check(tensor, "dirac_")
    d = tensor.ndim
    if d not in (3, 4, 5):
        raise ValueError(f"[init.dirac_] only tensors with 3, 4, or 5 dims are supported: got shape "
                         f"{tuple(tensor.shape)}")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError(f"[init.dirac_] dim 0 must be divisible by groups: got {sizes[0]} and groups={groups}")
    out_per_group = sizes[0] // groups
    min_dim = min(out_per_group, sizes[1])
    with ember.no_grad():
        t = tensor.detach()
        t.zero_()
        centre = tuple(s // 2 for s in sizes[2:])
        for g in range(groups):
            for k in range(min_dim):
                t[(g * out_per_group + k, k) + centre] = 1
    return tensor


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).

    Args:
        tensor (Tensor): at least 2-d, filled in place.
        gain (float): scale (default: 1).
        generator (ember.Generator, optional): the random source.

    Returns:
        tensor

    Example:
        >>> import ember
        >>> w = ember.nn.init.xavier_uniform_(ember.empty(30, 20))
        >>> w.abs().max().item() <= (6 / 50) ** 0.5
        True
    """
    _check(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).

    Args:
        tensor (Tensor): at least 2-d, filled in place.
        gain (float): scale (default: 1).
        generator (ember.Generator, optional): the random source.

    Returns:
        tensor

    Example:
        >>> import ember
        >>> ember.nn.init.xavier_normal_(ember.empty(30, 20)).shape
        (30, 20)
    """
    _check(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan).

    Args:
        tensor (Tensor): at least 2-d, filled in place.
        a (float): negative slope of the following leaky_relu (default: 0).
        mode (str): 'fan_in' (keeps forward variances) or 'fan_out' (backward) (default: 'fan_in').
        nonlinearity (str): 'relu' or 'leaky_relu' (see calculate_gain) (default: 'leaky_relu').
        generator (ember.Generator, optional): the random source.

    Returns:
        tensor

    Example:
        >>> import ember
        >>> ember.nn.init.kaiming_uniform_(ember.empty(8, 4), a=5 ** 0.5).abs().max().item() <= 0.5
        True
    """
    _check(tensor, "kaiming_uniform_")
    if 0 in tuple(tensor.shape):
        warnings.warn("[init.kaiming_uniform_] initializing a zero-element tensor is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    bound = math.sqrt(3.0) * gain / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std^2) with std = gain / sqrt(fan).

    Args:
        tensor (Tensor): at least 2-d, filled in place.
        a (float): negative slope of the following leaky_relu (default: 0).
        mode (str): 'fan_in' or 'fan_out' (default: 'fan_in').
        nonlinearity (str): 'relu' or 'leaky_relu' (default: 'leaky_relu').
        generator (ember.Generator, optional): the random source.

    Returns:
        tensor

    Example:
        >>> import ember
        >>> ember.nn.init.kaiming_normal_(ember.empty(8, 4), mode="fan_out", nonlinearity="relu").shape
        (8, 4)
    """
    _check(tensor, "kaiming_normal_")
    if 0 in tuple(tensor.shape):
        warnings.warn("[init.kaiming_normal_] initializing a zero-element tensor is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    return normal_(tensor, 0.0, gain / math.sqrt(fan), generator)


def _orthonormal_columns(a):
    """Q of the thin QR of a (m, n), m >= n, with R's diagonal positive: Gram-Schmidt with
    one reorthogonalisation pass per column (numerically orthogonal in float64)."""
    m, n = a.shape
    q = ember.zeros(m, n, dtype=a.dtype)
    for j in range(n):
        v = a[:, j].clone()
        if j:
            qj = q[:, :j]
            for _ in range(2):
                v = v - ember.mv(qj, ember.mv(qj.t(), v))
        nrm = ember.norm(v).item()
        if nrm == 0.0:
            raise ValueError("[init.orthogonal_] the random matrix is rank deficient; draw again")
        q[:, j] = v / nrm
    return q


def orthogonal_(tensor, gain=1.0, generator=None):
    """Fills tensor with a (semi-)orthogonal matrix (the tensor flattened to
    (size(0), numel / size(0))): Q of the QR decomposition of a Gaussian matrix, times gain.

    Args:
        tensor (Tensor): at least 2-d, filled in place.
        gain (float): scale (default: 1).
        generator (ember.Generator, optional): the random source.

    Returns:
        tensor

    Example:
        >>> import ember
        >>> w = ember.nn.init.orthogonal_(ember.empty(3, 5))
        >>> ((w @ w.T) - ember.eye(3)).abs().max().item() < 1e-5
        True
    """
    _check(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError(f"[init.orthogonal_] only tensors with 2 or more dims are supported: got shape "
                         f"{tuple(tensor.shape)}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    with ember.no_grad():
        flat = ember.empty(rows, cols, dtype=ember.float64).normal_(0.0, 1.0, generator=generator)
        if rows < cols:
            flat = flat.t()
        q = _orthonormal_columns(flat.contiguous())
        if rows < cols:
            q = q.t()
        tensor.detach().copy_((q * gain).reshape(tuple(tensor.shape)).to(tensor.dtype))
    return tensor


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Fills a 2-d tensor with N(0, std^2) values, then zeroes a fraction ``sparsity`` of each
    column (at random rows).

    Args:
        tensor (Tensor): 2-d, filled in place.
        sparsity (float): fraction of each column set to zero.
        std (float): the standard deviation (default: 0.01).
        generator (ember.Generator, optional): the random source.

    Returns:
        tensor

    Example:
        >>> import ember
        >>> w = ember.nn.init.sparse_(ember.empty(10, 3), sparsity=0.5)
        >>> int((w == 0).sum().item())
        15
    """
    _check(tensor, "sparse_")
    if tensor.ndim != 2:
        raise ValueError(f"[init.sparse_] only tensors with 2 dims are supported: got shape {tuple(tensor.shape)}")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    with ember.no_grad():
        t = tensor.detach()
        t.normal_(0.0, std, generator=generator)
        for c in range(cols):
            perm = ember.randperm(rows, generator=generator) if generator is not None else ember.randperm(rows)
            zero_idx = perm[:num_zeros]
            col = t[:, c]
            col.index_fill_(0, zero_idx, 0.0)
    return tensor
