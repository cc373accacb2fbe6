"""ember.backends.cuda, as torch.backends.cuda: `matmul.allow_tf32` lets float32 matrix products
on CUDA use TF32 tensor cores (10-bit mantissa inputs, float32 accumulation). Off by default, as
in PyTorch; ember.set_float32_matmul_precision("high") turns it on."""
from .. import _C

__all__ = ["matmul"]


class _Matmul:
    @property
    def allow_tf32(self):
        return _C._cuda.matmul_allow_tf32()

    @allow_tf32.setter
    def allow_tf32(self, value):
        _C._cuda.set_matmul_allow_tf32(bool(value))

    def __repr__(self):
        return f"ember.backends.cuda.matmul(allow_tf32={self.allow_tf32})"


matmul = _Matmul()
