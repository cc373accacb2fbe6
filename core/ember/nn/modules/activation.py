"""Activation modules: thin wrappers over ember.nn.functional."""
import ember

from .. import functional as F
from ..parameter import Parameter
from .module import Module

__all__ = ["Threshold", "ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Hardswish",
           "Hardsigmoid", "Hardtanh", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Softmin", "Softplus", "Softsign",
           "LogSigmoid", "PReLU", "GLU", "Tanhshrink", "Softshrink", "Hardshrink", "Softmax2d"]


def _inplace_repr(inplace):
    return "inplace=True" if inplace else ""


class Threshold(Module):
    """y = x if x > threshold else value.

    Args:
        threshold (float): the threshold.
        value (float): the replacement.
        inplace (bool): write into the input (default: False).

    Example:
        >>> import ember
        >>> ember.nn.Threshold(0.1, 20)(ember.tensor([0.0, 1.0])).tolist()
        [20.0, 1.0]
    """

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        """Applies F.threshold."""
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class ReLU(Module):
    """max(0, x).

    Args:
        inplace (bool): write into the input (default: False).

    Example:
        >>> import ember
        >>> ember.nn.ReLU()(ember.tensor([-1.0, 1.0])).tolist()
        [0.0, 1.0]
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """Applies F.relu."""
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class Hardtanh(Module):
    """Clamps to [min_val, max_val].

    Args:
        min_val (float): lower bound (default: -1).
        max_val (float): upper bound (default: 1).
        inplace (bool): write into the input (default: False).

    Example:
        >>> import ember
        >>> ember.nn.Hardtanh()(ember.tensor([-2.0, 2.0])).tolist()
        [-1.0, 1.0]
    """

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if max_val <= min_val:
            raise ValueError(f"[Hardtanh] max_val must be greater than min_val: got min_val={min_val}, "
                             f"max_val={max_val}")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        """Applies F.hardtanh."""
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """min(max(0, x), 6).

    Args:
        inplace (bool): write into the input (default: False).

    Example:
        >>> import ember
        >>> ember.nn.ReLU6()(ember.tensor([-1.0, 7.0])).tolist()
        [0.0, 6.0]
    """

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x.

    Args:
        negative_slope (float): slope for x <= 0 (default: 0.01).
        inplace (bool): write into the input (default: False).

    Example:
        >>> import ember
        >>> ember.nn.LeakyReLU(0.5)(ember.tensor([-2.0])).tolist()
        [-1.0]
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        """Applies F.leaky_relu."""
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x if x > 0 else alpha * (exp(x) - 1).

    Args:
        alpha (float): scale of the negative part (default: 1.0).
        inplace (bool): write into the input (default: False).

    Example:
        >>> import ember
        >>> ember.nn.ELU()(ember.tensor([1.0])).tolist()
        [1.0]
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        """Applies F.elu."""
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(Module):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).

    Args:
        alpha (float): the scale (default: 1.0).
        inplace (bool): write into the input (default: False).

    Example:
        >>> import ember
        >>> ember.nn.CELU()(ember.tensor([1.0])).tolist()
        [1.0]
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        """Applies F.celu."""
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class SELU(Module):
    """Scaled ELU with the self-normalising constants.

    Args:
        inplace (bool): write into the input (default: False).

    Example:
        >>> import ember
        >>> ember.nn.SELU()(ember.tensor([0.0])).tolist()
        [0.0]
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """Applies F.selu."""
        return F.selu(input, self.inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class GELU(Module):
    """Gaussian error linear unit.

    Args:
        approximate (str): 'none' or 'tanh' (default: 'none').

    Example:
        >>> import ember
        >>> ember.nn.GELU()(ember.tensor([0.0])).tolist()
        [0.0]
    """

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        """Applies F.gelu."""
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


def _simple(name, fn_name, doc, example_in, example_out):
    def __init__(self, inplace=False):
        Module.__init__(self)
        self.inplace = inplace

    def forward(self, input):
        return getattr(F, fn_name)(input, inplace=self.inplace)

    forward.__doc__ = f"Applies F.{fn_name}."
    cls = type(name, (Module,), {
        "__init__": __init__, "forward": forward, "extra_repr": lambda self: _inplace_repr(self.inplace),
        "__doc__": f"""{doc}

    Args:
        inplace (bool): write into the input (default: False).

    Example:
        >>> import ember
        >>> ember.nn.{name}()(ember.tensor({example_in})).tolist()
        {example_out}
    """, "__module__": __name__})
    return cls


SiLU = _simple("SiLU", "silu", "x * sigmoid(x).", "[0.0]", "[0.0]")
Mish = _simple("Mish", "mish", "x * tanh(softplus(x)).", "[0.0]", "[0.0]")
Hardswish = _simple("Hardswish", "hardswish", "x * relu6(x + 3) / 6.", "[4.0]", "[4.0]")
Hardsigmoid = _simple("Hardsigmoid", "hardsigmoid", "relu6(x + 3) / 6.", "[0.0]", "[0.5]")


def _stateless(name, fn, doc, example_in, example_out):
    def forward(self, input):
        return fn(input)

    forward.__doc__ = f"Applies {name}."
    return type(name, (Module,), {"forward": forward, "__module__": __name__, "__doc__": f"""{doc}

    Example:
        >>> import ember
        >>> ember.nn.{name}()(ember.tensor({example_in})).tolist()
        {example_out}
    """})


Sigmoid = _stateless("Sigmoid", ember.sigmoid, "1 / (1 + exp(-x)).", "[0.0]", "[0.5]")
Tanh = _stateless("Tanh", ember.tanh, "Hyperbolic tangent.", "[0.0]", "[0.0]")
Softsign = _stateless("Softsign", lambda x: F.softsign(x), "x / (1 + |x|).", "[1.0]", "[0.5]")
LogSigmoid = _stateless("LogSigmoid", lambda x: F.logsigmoid(x), "log(sigmoid(x)).", "[-100.0]", "[-100.0]")
Tanhshrink = _stateless("Tanhshrink", lambda x: F.tanhshrink(x), "x - tanh(x).", "[0.0]", "[0.0]")


class Softshrink(Module):
    """x - lambd if x > lambd, x + lambd if x < -lambd, else 0.

    Args:
        lambd (float): the threshold (default: 0.5).

    Example:
        >>> import ember
        >>> ember.nn.Softshrink()(ember.tensor([1.0])).tolist()
        [0.5]
    """

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        """Applies F.softshrink."""
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Softshrink):
    """x where |x| > lambd, else 0.

    Args:
        lambd (float): the threshold (default: 0.5).

    Example:
        >>> import ember
        >>> ember.nn.Hardshrink()(ember.tensor([1.0, 0.1])).tolist()
        [1.0, 0.0]
    """

    def forward(self, input):
        """Applies F.hardshrink."""
        return F.hardshrink(input, self.lambd)


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, linear above threshold.

    Args:
        beta (float): sharpness (default: 1.0).
        threshold (float): above it the function is x (default: 20.0).

    Example:
        >>> import ember
        >>> ember.nn.Softplus()(ember.tensor([30.0])).tolist()
        [30.0]
    """

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        """Applies F.softplus."""
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={float(self.beta)}, threshold={float(self.threshold)}"


class _DimModule(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, "dim"):
            self.dim = None

    def extra_repr(self):
        return f"dim={self.dim}"


def _legacy_dim(ndim):
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(_DimModule):
    """exp(x) / sum(exp(x)) along dim.

    Args:
        dim (int): the dim that sums to one (None: PyTorch's legacy choice) (default: None).

    Example:
        >>> import ember
        >>> ember.nn.Softmax(dim=0)(ember.tensor([0.0, 0.0])).tolist()
        [0.5, 0.5]
    """

    def forward(self, input):
        """Applies F.softmax."""
        return F.softmax(input, self.dim if self.dim is not None else _legacy_dim(input.ndim))


class LogSoftmax(_DimModule):
    """log(softmax(x)) along dim, computed stably.

    Args:
        dim (int): the dim (None: PyTorch's legacy choice) (default: None).

    Example:
        >>> import ember
        >>> round(ember.nn.LogSoftmax(dim=0)(ember.tensor([0.0, 0.0]))[0].item(), 4)
        -0.6931
    """

    def forward(self, input):
        """Applies F.log_softmax."""
        return F.log_softmax(input, self.dim if self.dim is not None else _legacy_dim(input.ndim))


class Softmin(_DimModule):
    """softmax(-x) along dim.

    Args:
        dim (int): the dim (None: PyTorch's legacy choice) (default: None).

    Example:
        >>> import ember
        >>> ember.nn.Softmin(dim=0)(ember.tensor([0.0, 0.0])).tolist()
        [0.5, 0.5]
    """

    def forward(self, input):
        """Applies F.softmin."""
        return F.softmin(input, self.dim)


class Softmax2d(Module):
    """Softmax over the channels (dim -3) of (N, C, H, W) or (C, H, W) inputs.

    Example:
        >>> import ember
        >>> ember.nn.Softmax2d()(ember.zeros(2, 1, 1)).reshape(-1).tolist()
        [0.5, 0.5]
    """

    def forward(self, input):
        """Applies F.softmax over dim -3."""
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d(): expected a 3-d or 4-d input, got shape {tuple(input.shape)}")
        return F.softmax(input, -3)


class PReLU(Module):
    """x if x > 0 else a * x, with a learnable slope a (one shared, or one per channel).

    Args:
        num_parameters (int): 1 or the number of channels (dim 1) (default: 1).
        init (float): initial slope (default: 0.25).
        device, dtype: where and how the parameter is created.

    Attributes:
        weight (Parameter): (num_parameters,).

    Example:
        >>> import ember
        >>> ember.nn.PReLU()(ember.tensor([-4.0])).tolist()
        [-1.0]
    """

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(ember.empty(num_parameters, dtype=dtype or ember.get_default_dtype(), device=device))
        self.reset_parameters()

    def reset_parameters(self):
        """Fills weight with init."""
        from .. import init as _init
        _init.constant_(self.weight, self.init)

    def forward(self, input):
        """Applies F.prelu."""
        if self.num_parameters != 1:
            c = input.shape[1] if input.ndim >= 2 else (input.shape[0] if input.ndim == 1 else None)
            if c != self.num_parameters:
                raise ValueError(f"{self._get_name()}(num_parameters={self.num_parameters}): expected input with "
                                 f"{self.num_parameters} channels in dim 1, got shape {tuple(input.shape)}")
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class GLU(Module):
    """a * sigmoid(b) for the two halves a, b of the input along dim.

    Args:
        dim (int): the dim to split (default: -1).

    Example:
        >>> import ember
        >>> ember.nn.GLU()(ember.randn(4, 2)).shape
        (4, 1)
    """

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        """Applies F.glu."""
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
