"""ember.autocast: mixed precision by op lists, as torch.autocast.

Inside ``autocast(device_type="cpu", dtype=ember.bfloat16)`` the lower-precision ops (matmul,
mm, bmm, addmm, baddbmm, linear, conv1d/2d/3d and their transposes, scaled dot-product
attention) cast their float operands to ``dtype`` in the compiled core; the float32 ops
(the losses: cross_entropy, nll_loss, mse_loss, ... see ``FP32_OPS``) cast lower-precision
inputs back up to float32. Other ops run in their inputs' dtype. Casts are recorded, so
gradients reach float32 parameters in float32. Backward never runs under autocast.
"""
import functools

from .. import _C

# The float32 list: ember.nn.functional applies it (see _fp32 below).
FP32_OPS = ("cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
            "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "cosine_embedding_loss",
            "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss", "triplet_margin_loss",
            "poisson_nll_loss", "ctc_loss")

_cuda_state = [False, None]  # the CUDA backend reads this once it exists


def _default_dtype(device_type):
    from .. import bfloat16, float16
    return bfloat16 if device_type == "cpu" else float16


class autocast:
    """Context manager and decorator that runs listed ops in lower precision.

    Args:
        device_type: "cpu" or "cuda".
        dtype: the lower precision, default ember.bfloat16 on the CPU (float16 for CUDA).
            CPU autocast supports bfloat16 and float16.
        enabled: False makes it a no-op (handy for a flag).
        cache_enabled: accepted for PyTorch compatibility.

    Example:
        >>> import ember
        >>> a, b = ember.randn(4, 8), ember.randn(8, 2)
        >>> with ember.autocast(device_type="cpu", dtype=ember.bfloat16):
        ...     (a @ b).dtype
        ember.bfloat16
    """

    def __init__(self, device_type="cpu", dtype=None, enabled=True, cache_enabled=None):
        if device_type not in ("cpu", "cuda"):
            raise ValueError(f"[autocast] device_type must be 'cpu' or 'cuda', got {device_type!r}")
        from .. import bfloat16, float16
        dtype = _default_dtype(device_type) if dtype is None else dtype
        if device_type == "cpu" and dtype not in (bfloat16, float16):
            raise ValueError(f"[autocast] CPU autocast supports bfloat16 and float16, got {dtype}")
        self.device_type, self.fast_dtype, self._enabled = device_type, dtype, bool(enabled)
        self._prev = []

    def __enter__(self):
        if self.device_type == "cpu":
            self._prev.append(_C._get_autocast())
            if self._enabled:
                _C._set_autocast(True, self.fast_dtype)
            else:
                _C._set_autocast(False, self._prev[-1][1])
        else:
            self._prev.append(tuple(_cuda_state))
            _cuda_state[:] = [self._enabled, self.fast_dtype]
        return self

    def __exit__(self, *exc):
        prev = self._prev.pop()
        if self.device_type == "cpu":
            _C._set_autocast(*prev)
        else:
            _cuda_state[:] = list(prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with autocast(self.device_type, self.fast_dtype, self._enabled):
                return fn(*args, **kwargs)
        return wrapper


def is_autocast_enabled(device_type="cpu"):
    """Whether autocast is on for device_type on this thread.

    Example:
        >>> ember.is_autocast_enabled("cpu")
        False
    """
    return _C._get_autocast()[0] if device_type == "cpu" else bool(_cuda_state[0])


def get_autocast_dtype(device_type="cpu"):
    """The lower-precision dtype autocast uses for device_type (its default when off).

    Example:
        >>> ember.get_autocast_dtype("cpu")
        ember.bfloat16
    """
    if device_type == "cpu":
        return _C._get_autocast()[1]
    return _cuda_state[1] or _default_dtype(device_type)


def _fp32(*tensors):
    """Under CPU autocast, float16/bfloat16 tensors widened to float32 (for the FP32_OPS)."""
    if not _C._get_autocast()[0]:
        return tensors
    return tuple(t.float() if t is not None and hasattr(t, "is_floating_point") and t.is_floating_point()
                 and t.itemsize == 2 else t for t in tensors)
