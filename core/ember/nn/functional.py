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

__all__ = (list(getattr(_k, "__all__", [])) + _a.__all__ + _d.__all__ + _l.__all__ + _s.__all__ +
           ["ctc_loss", "multi_head_attention_forward"])
del _k, _a, _d, _l, _s


def _autocast_fp32(fn):
    """Under CPU autocast, runs a loss on float32 copies of 16-bit float tensor arguments
    (PyTorch's float32 op list)."""
    import functools

    from ember import _C, Tensor

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _C._get_autocast()[0]:
            def up(v):
                return v.float() if isinstance(v, Tensor) and v.is_floating_point() and v.itemsize == 2 else v
            args = tuple(up(a) for a in args)
            kwargs = {k: up(v) for k, v in kwargs.items()}
        return fn(*args, **kwargs)
    return wrapper


def _wrap_fp32_losses():
    from ember.amp.autocast_mode import FP32_OPS
    g = globals()
    for name in FP32_OPS:
        if name in g and name not in ("cross_entropy", "nll_loss"):  # those two cast inside
            g[name] = _autocast_fp32(g[name])


_wrap_fp32_losses()
