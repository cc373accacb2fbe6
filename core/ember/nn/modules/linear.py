"""Identity, Linear and Bilinear."""
import math

import ember

from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Identity", "Linear", "Bilinear"]


def _factory(device, dtype):
    return {"dtype": dtype if dtype is not None else ember.get_default_dtype(),
            "device": device if device is not None else "cpu"}


class Identity(Module):
    """Returns its input unchanged (a placeholder; accepts and ignores any arguments).

    Example:
        >>> import ember
        >>> ember.nn.Identity(54, unused="x")(ember.ones(2)).tolist()
        [1.0, 1.0]
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        """Returns input."""
        return input


class Linear(Module):
    """y = x W^T + b.

    Args:
        in_features (int): size of each input's last dim.
        out_features (int): size of each output's last dim.
        bias (bool): learn an additive bias (default: True).
        device, dtype: where and how the parameters are created (default: cpu, default dtype).

    Shape:
        input (*, in_features) -> output (*, out_features).

    Attributes:
        weight (Parameter): (out_features, in_features), U(-1/sqrt(in), 1/sqrt(in)).
        bias (Parameter): (out_features,), same distribution.

    Example:
        >>> import ember
        >>> ember.nn.Linear(20, 30)(ember.randn(128, 20)).shape
        (128, 30)
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        fk = _factory(device, dtype)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(ember.empty(out_features, in_features, **fk))
        if bias:
            self.bias = Parameter(ember.empty(out_features, **fk))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draws weight (kaiming_uniform_ with a = sqrt 5) and bias (U(+-1/sqrt(fan_in)))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        """Applies the layer to input (*, in_features)."""
        shape = input.shape
        if not shape or shape[-1] != self.in_features:
            raise ValueError(f"{self._get_name()}(in_features={self.in_features}, out_features={self.out_features}): "
                             f"expected input with "
                             f"{self.in_features} features in its last dimension, got shape {tuple(shape)}")
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """y = x1^T A x2 + b.

    Args:
        in1_features (int): size of input1's last dim.
        in2_features (int): size of input2's last dim.
        out_features (int): size of the output's last dim.
        bias (bool): learn an additive bias (default: True).
        device, dtype: where and how the parameters are created.

    Shape:
        input1 (*, in1), input2 (*, in2) -> (*, out_features).

    Example:
        >>> import ember
        >>> ember.nn.Bilinear(20, 30, 40)(ember.randn(128, 20), ember.randn(128, 30)).shape
        (128, 40)
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        fk = _factory(device, dtype)
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(ember.empty(out_features, in1_features, in2_features, **fk))
        if bias:
            self.bias = Parameter(ember.empty(out_features, **fk))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draws weight and bias from U(-1/sqrt(in1), 1/sqrt(in1))."""
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        """Applies the layer."""
        if input1.shape[-1:] != (self.in1_features,) or input2.shape[-1:] != (self.in2_features,):
            raise ValueError(f"{self._get_name()}(in1_features={self.in1_features}, in2_features="
                             f"{self.in2_features}, out_features={self.out_features}): expected inputs with "
                             f"{self.in1_features} and {self.in2_features} features in their last dimension, "
                             f"got shapes {tuple(input1.shape)} and {tuple(input2.shape)}")
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
