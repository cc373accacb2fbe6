"""ember: tensors, autograd and neural networks over a compiled C++ core.

This package holds the tensor API (``ember.Tensor``, creation, elementwise, reduction,
indexing, linear algebra and random ops), implemented in ``ember._C``, and the training
stack over it: ``ember.nn``, ``ember.optim``, ``ember.data``, ``ember.amp`` and
pickle-free ``ember.save``/``ember.load``. Domain packages
(``ember.vision``, ``ember.audio``, ``ember.text``) and the weight hub (``ember.hub``) live
beside it and build on it; nothing here imports them.

Example:
    >>> import ember
    >>> x = ember.arange(6, dtype=ember.float32).reshape(2, 3)
    >>> (x * 2 + 1).sum(dim=1)
    tensor([ 9., 27.])
"""
import ctypes as _ctypes
import os as _os

# BLAS comes from the scipy-openblas32 wheel; load it before _C so that _C's dependency
# resolves whatever the RPATH (editable and in-tree builds included).
import scipy_openblas32 as _openblas

# ember runs BLAS serially inside its own thread pool (big GEMMs are split over it), so
# OpenBLAS must not start worker threads of its own: idle, they spin and take cores from
# ember's pool. The variable is read when the library loads, then restored.
_prev_blas_threads = _os.environ.get("OPENBLAS_NUM_THREADS")
_os.environ["OPENBLAS_NUM_THREADS"] = "1"
try:
    _ctypes.CDLL(_os.path.join(_openblas.get_lib_dir(), _openblas.get_library(fullname=True)),
                 mode=_ctypes.RTLD_GLOBAL)
finally:
    if _prev_blas_threads is None:
        del _os.environ["OPENBLAS_NUM_THREADS"]
    else:
        _os.environ["OPENBLAS_NUM_THREADS"] = _prev_blas_threads

from . import _C  # noqa: E402
from ._C import *  # noqa: E402,F401,F403
from ._C import Tensor, device, dtype  # noqa: E402

# dtypes, with PyTorch's aliases
bool = dtype.bool  # noqa: A001
uint8 = dtype.uint8
int8 = dtype.int8
int16 = short = dtype.int16
int32 = int = dtype.int32  # noqa: A001
int64 = long = dtype.int64
float16 = half = dtype.float16
bfloat16 = dtype.bfloat16
float32 = float = dtype.float32  # noqa: A001
float64 = double = dtype.float64
complex64 = cfloat = dtype.complex64

from . import _tensor  # noqa: E402,F401  (Python-side Tensor methods)
from ._tensor import as_tensor, is_tensor, numel  # noqa: E402,F401
from . import cuda  # noqa: E402,F401
from . import autograd  # noqa: E402,F401
from .autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,  # noqa: E402,F401
                                 is_inference_mode_enabled, no_grad, set_grad_enabled)
from .amp import autocast, get_autocast_dtype, is_autocast_enabled  # noqa: E402,F401
from .serialization import load, save  # noqa: E402,F401
from . import amp, backends, data, nn, optim  # noqa: E402,F401


def set_float32_matmul_precision(precision):
    """As torch.set_float32_matmul_precision: "highest" (float32 products in float32, the
    default) or "high" / "medium" (CUDA float32 products may use TF32 tensor cores)."""
    if precision not in ("highest", "high", "medium"):
        raise ValueError(f"[set_float32_matmul_precision] expected 'highest', 'high' or 'medium', got {precision!r}")
    backends.cuda.matmul.allow_tf32 = precision != "highest"


def get_float32_matmul_precision():
    """"highest" unless TF32 is allowed for float32 products ("high")."""
    return "high" if backends.cuda.matmul.allow_tf32 else "highest"


def _accepts_requires_grad(fn):
    """Adds PyTorch's ``requires_grad=`` keyword to a creation function."""
    import functools

    @functools.wraps(fn)
    def create(*args, requires_grad=False, **kwargs):
        t = fn(*args, **kwargs)
        return t.requires_grad_() if requires_grad else t
    return create


for _name in ("tensor", "zeros", "ones", "empty", "full", "rand", "randn", "arange", "linspace", "logspace", "eye",
              "zeros_like", "ones_like", "empty_like", "full_like", "rand_like", "randn_like"):
    if _name in globals():
        globals()[_name] = _accepts_requires_grad(globals()[_name])
del _name

__version__ = "0.1.0"
