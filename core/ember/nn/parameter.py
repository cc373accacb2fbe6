"""``nn.Parameter``: a Tensor that a Module registers as a learnable weight."""
import copy

import ember
from ember import Tensor


class Parameter(Tensor):
    """A Tensor that is a module parameter: assigning one as a Module attribute registers it
    (it then shows in ``parameters()`` and ``state_dict()``).

    The Parameter is a detached alias of ``data`` (same storage, fresh autograd state).
    Ops on a Parameter return plain Tensors.

    Args:
        data (Tensor, optional): the values (default: an empty tensor).
        requires_grad (bool): whether the parameter needs a gradient (default: True).

    Example:
        >>> import ember
        >>> p = ember.nn.Parameter(ember.zeros(2))
        >>> p.requires_grad
        True
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = ember.empty(0)
        elif not isinstance(data, Tensor):
            raise TypeError(f"[Parameter] data must be a Tensor: expected ember.Tensor, got {type(data).__name__}")
        super().__init__(data)
        self.requires_grad_(requires_grad)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        with ember.no_grad():
            result = type(self)(self.detach().clone(), self.requires_grad)
        memo[id(self)] = result
        extra = {k: v for k, v in self.__dict__.items()}
        if extra:
            result.__dict__.update(copy.deepcopy(extra, memo))
        return result

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, proto):
        raise TypeError("[Parameter] pickling is not supported: save a state_dict with ember.save instead")


class Buffer(Tensor):
    """A Tensor that a Module registers as a buffer when assigned as an attribute (like
    ``torch.nn.Buffer``).

    Args:
        data (Tensor): the values.
        persistent (bool): whether the buffer is saved in ``state_dict()`` (default: True).

    Example:
        >>> import ember
        >>> m = ember.nn.Module(); m.steps = ember.nn.Buffer(ember.zeros(1))
        >>> list(dict(m.named_buffers()))
        ['steps']
    """

    def __init__(self, data=None, *, persistent=True):
        if data is None:
            data = ember.empty(0)
        elif not isinstance(data, Tensor):
            raise TypeError(f"[Buffer] data must be a Tensor: expected ember.Tensor, got {type(data).__name__}")
        super().__init__(data)
        self.persistent = persistent
