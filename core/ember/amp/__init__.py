"""ember.amp: automatic mixed precision (PyTorch's torch.amp): ``autocast`` runs the matmul
and convolution family in bfloat16/float16 and the losses in float32; ``GradScaler`` scales
losses so that float16 gradients do not underflow, skipping steps whose gradients overflow."""
from .autocast_mode import FP32_OPS, autocast, get_autocast_dtype, is_autocast_enabled  # noqa: F401
from .grad_scaler import GradScaler  # noqa: F401

__all__ = ["autocast", "GradScaler", "is_autocast_enabled", "get_autocast_dtype", "FP32_OPS"]
