"""ember.backends.cudnn, as torch.backends.cudnn, so training scripts that set its switches run
unchanged. ember has no cuDNN: its CUDA convolutions are im2col + cuBLAS GEMMs.

- allow_tf32 (default True, as PyTorch): float32 convolutions may use TF32 tensor cores.
- benchmark, deterministic, enabled: accepted and remembered. ember's convolution kernels are
  deterministic (no atomics) and there are no algorithms to search, so they change nothing.
"""
import sys
import types

from .. import _C


class _CudnnModule(types.ModuleType):
    benchmark = False
    deterministic = False
    enabled = True

    @property
    def allow_tf32(self):
        return _C._cuda.conv_allow_tf32()

    @allow_tf32.setter
    def allow_tf32(self, value):
        _C._cuda.set_conv_allow_tf32(bool(value))

    @staticmethod
    def is_available():
        """False: ember does not use cuDNN (its convolutions run on cuBLAS)."""
        return False

    @staticmethod
    def version():
        """None: no cuDNN is loaded."""
        return None


sys.modules[__name__].__class__ = _CudnnModule
