"""ember.nn.functional: the stateless functions behind the nn layers (PyTorch's
torch.nn.functional).

Convolution, pooling, normalisation, softmax, cross-entropy/nll, embedding, dropout, attention
and resampling are compiled kernels (``ember.nn._kernels``); activations, the other losses,
distances, linear/bilinear, pad and embedding_bag are composed here from ember ops, so autograd
comes through them.

Example:
    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.relu(ember.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
"""
from ._kernels import *  # noqa: F401,F403
from ._functional.activation import *  # noqa: F401,F403
from ._functional.distance import *  # noqa: F401,F403
from ._functional.loss import *  # noqa: F401,F403
from ._functional.sparse import *  # noqa: F401,F403
from ._seq_functional import ctc_loss, multi_head_attention_forward  # noqa: F401
from ._functional.loss import _legacy_reduction, _reduction  # noqa: F401
from . import _kernels as _k
from ._functional import activation as _a, distance as _d, loss as _l, sparse as _s

__all__ = list(getattr(_k, "__all__", [])) + _a.__all__ + _d.__all__ + _l.__all__ + _s.__all__ + ["ctc_loss", "multi_head_attention_forward"]
del _k, _a, _d, _l, _s
