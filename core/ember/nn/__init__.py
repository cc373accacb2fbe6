"""ember.nn: modules, layers, losses and initialisers (PyTorch's torch.nn).

Here: ``Module`` and ``Parameter``, the containers (Sequential, ModuleList, ModuleDict,
ParameterList, ParameterDict), the layers (linear, convolution, pooling, normalisation,
dropout, embedding, activations, resampling), the loss modules, and the submodules
``functional`` (stateless functions), ``init`` (initialisers) and ``utils`` (gradient
clipping, parameter/vector conversion). Not here: recurrent layers and attention modules
(to come), optimisers (``ember.optim``).

Example:
    >>> import ember
    >>> from ember import nn
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> loss = nn.functional.cross_entropy(model(ember.randn(3, 4)), ember.tensor([0, 1, 1]))
    >>> loss.backward()
"""
from .parameter import Buffer, Parameter
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from . import functional, init, utils  # noqa: F401

__all__ = ["Parameter", "Buffer", "functional", "init", "utils"] + list(_modules_all)
