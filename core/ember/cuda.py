"""ember.cuda: CUDA device queries. The CUDA kernels arrive with the CUDA backend; until then
every op on a CUDA tensor raises "[op] no CUDA kernel"."""
from . import _C


def is_available():
    """True when ember was built with CUDA and a GPU is visible (prints nothing otherwise)."""
    return _C._cuda_available()


def device_count():
    """Number of visible CUDA devices (0 without a GPU or without a CUDA build)."""
    return _C._cuda_device_count()


def is_built():
    """True when this build of ember includes the CUDA backend."""
    return _C._cuda_compiled()
