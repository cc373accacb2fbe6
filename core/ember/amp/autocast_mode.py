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



def _switches(device_type):
    """(get, set) of the thread-local autocast state of device_type in the core."""
    if device_type == "cpu":
        return _C._get_autocast, _C._set_autocast
    return _C._get_autocast_cuda, _C._set_autocast_cuda


def _default_dtype(device_type):
    from .. import bfloat16, float16
    return bfloat16 if device_type == "cpu" else float16


class autocast:
    """Context manager and decorator that runs listed ops in lower precision.

    Args:
        device_type: "cpu" or "cuda".
        dtype: the lower precision, default ember.bfloat16 on the CPU (float16 for CUDA).
            Both devices support bfloat16 and float16; each has its own switch (CPU and CUDA
            autocast can be on together, each casting the ops on its tensors).
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
        if dtype not in (bfloat16, float16):
            raise ValueError(f"[autocast] {device_type.upper()} autocast supports bfloat16 and float16, got {dtype}")
        self.device_type, self.fast_dtype, self._enabled = device_type, dtype, bool(enabled)
        self._prev = []

    def __enter__(self):
        get, put = _switches(self.device_type)
        self._prev.append(get())
        if self._enabled:
            put(True, self.fast_dtype)
        else:
            put(False, self._prev[-1][1])
        return self

    def __exit__(self, *exc):
        _switches(self.device_type)[1](*self._prev.pop())
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
    return bool(_switches(device_type)[0]()[0])


def get_autocast_dtype(device_type="cpu"):
    """The lower-precision dtype autocast uses for device_type (its default when off).

    Example:
        >>> ember.get_autocast_dtype("cpu")
        ember.bfloat16
    """
    return _switches(device_type)[0]()[1]


def _fp32(*tensors):
    """Under autocast (of the tensors' device), float16/bfloat16 tensors widened to float32
    (for the FP32_OPS)."""
    cpu, cuda = _C._get_autocast()[0], _C._get_autocast_cuda()[0]
    if not (cpu or cuda):
        return tensors

    def on(t):
        return cuda if getattr(t, "is_cuda", False) else cpu
    return tuple(t.float() if t is not None and hasattr(t, "is_floating_point") and t.is_floating_point()
                 and t.itemsize == 2 and on(t) else t for t in tensors)
