"""ember.cuda: CUDA devices, streams, events and the caching allocator, as torch.cuda.

Everything here works on a machine without a GPU in the sense that it says so: is_available()
is False (and prints nothing), device_count() is 0, and the calls that need a device raise
RuntimeError "[cuda] no CUDA device is available". Kernels run on the current stream of their
tensors' device; the caching allocator keeps freed blocks per stream for reuse
(memory_allocated counts live tensors, memory_reserved what is held from the driver).

Example:
    >>> import ember
    >>> if ember.cuda.is_available():
    ...     x = ember.ones(1024, device="cuda")
    ...     s = ember.cuda.Stream()
    ...     with ember.cuda.stream(s):
    ...         y = x * 2
    ...     s.synchronize()
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

from . import _C
from ._C import OutOfMemoryError  # noqa: F401 (ember.cuda.OutOfMemoryError, as torch.cuda's)

_rt = _C._cuda

__all__ = [
    "is_available", "is_built", "device_count", "current_device", "set_device", "device", "device_of",
    "get_device_name", "get_device_capability", "get_device_properties", "synchronize", "Stream", "Event",
    "current_stream", "default_stream", "set_stream", "stream", "memory_allocated", "max_memory_allocated",
    "memory_reserved", "max_memory_reserved", "reset_peak_memory_stats", "reset_max_memory_allocated",
    "empty_cache", "memory_stats", "memory_summary", "mem_get_info", "set_per_process_memory_fraction",
    "manual_seed", "manual_seed_all", "initial_seed", "OutOfMemoryError", "get_rng_state", "set_rng_state",
    "get_rng_state_all", "set_rng_state_all", "seed", "seed_all", "is_bf16_supported", "get_arch_list",
    "is_initialized", "init", "amp",
]


def is_available():
    """True when ember was built with CUDA and a GPU is visible (prints nothing otherwise)."""
    return _rt.is_available()


def is_built():
    """True when this build of ember includes the CUDA backend."""
    return _rt.is_compiled()


def device_count():
    """Number of visible CUDA devices (0 without a GPU or without a CUDA build)."""
    return _rt.device_count()


def _index(dev, optional=True):
    """Device ordinal of dev: None (the current device), an int, "cuda", "cuda:1" or ember.device."""
    if dev is None:
        return _rt.current_device() if optional else -1
    if isinstance(dev, int):
        return dev
    d = _C.device(dev) if isinstance(dev, str) else dev
    if getattr(d, "type", None) != "cuda":
        raise ValueError(f"[cuda] expected a CUDA device, got {dev!r}")
    return d.index if d.index is not None and d.index >= 0 else _rt.current_device()


def current_device():
    """Index of the current CUDA device."""
    return _rt.current_device()


def set_device(device):
    """Makes device (int, "cuda:1" or ember.device) the current CUDA device."""
    _rt.set_device(_index(device))


class device:
    """Context manager that makes a device current inside its block: ``with ember.cuda.device(1):``."""

    def __init__(self, device):
        self.idx = _index(device) if device is not None else -1
        self.prev = -1

    def __enter__(self):
        if self.idx >= 0:
            self.prev = _rt.current_device()
            _rt.set_device(self.idx)
        return self

    def __exit__(self, *exc):
        if self.prev >= 0:
            _rt.set_device(self.prev)
        return False


class device_of(device):
    """Context manager that makes the device of a tensor current (no-op for CPU tensors)."""

    def __init__(self, obj):
        super().__init__(obj.device.index if obj.is_cuda else None)


@dataclass(frozen=True)
class _CudaDeviceProperties:
    name: str
    major: int
    minor: int
    total_memory: int
    multi_processor_count: int
    max_threads_per_block: int
    warp_size: int
    L2_cache_size: int


def get_device_properties(device=None):
    """Name, compute capability (major, minor), total_memory in bytes, multi_processor_count, ..."""
    return _CudaDeviceProperties(**_rt.device_properties(_index(device)))


def get_device_name(device=None):
    """Marketing name of the device, e.g. 'NVIDIA H100 80GB HBM3'."""
    return get_device_properties(device).name


def get_device_capability(device=None):
    """(major, minor) compute capability, e.g. (9, 0) for Hopper."""
    p = get_device_properties(device)
    return p.major, p.minor


def synchronize(device=None):
    """Waits for every kernel and copy queued on the device (default: the current one)."""
    _rt.synchronize(_index(device))


# ---- streams and events ---------------------------------------------------------------------
class Stream:
    """A CUDA stream: kernels queued on different streams may run concurrently.

    Args:
        device: the stream's device (default: current). priority: lower is more urgent (default 0).
    Example:
        >>> s = ember.cuda.Stream()            # doctest: +SKIP
        >>> with ember.cuda.stream(s): y = x @ x  # doctest: +SKIP
    """

    def __init__(self, device=None, priority=0, *, _handle=None):
        self.device_index = _index(device)
        self._owned = _handle is None
        self.cuda_stream = _rt.stream_create(self.device_index, priority) if _handle is None else _handle

    @property
    def device(self):
        return _C.device(f"cuda:{self.device_index}")

    def synchronize(self):
        """Waits until everything queued on this stream has finished."""
        _rt.stream_synchronize(self.device_index, self.cuda_stream)

    def query(self):
        """True when everything queued on this stream has finished."""
        return _rt.stream_query(self.device_index, self.cuda_stream)

    def wait_event(self, event):
        """Work queued on this stream after this call waits for `event`."""
        _rt.stream_wait_event(self.device_index, self.cuda_stream, event._handle())

    def wait_stream(self, stream):
        """Work queued on this stream after this call waits for what is queued on `stream` now."""
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        """Records an event (a new one by default) on this stream and returns it."""
        event = Event() if event is None else event
        event.record(self)
        return event

    def __eq__(self, other):
        return isinstance(other, Stream) and (self.device_index, self.cuda_stream) == (other.device_index,
                                                                                       other.cuda_stream)

    def __hash__(self):
        return hash((self.device_index, self.cuda_stream))

    def __repr__(self):
        return f"<ember.cuda.Stream device=cuda:{self.device_index} cuda_stream={self.cuda_stream:#x}>"

    def __del__(self):
        if getattr(self, "_owned", False) and self.cuda_stream:
            try:
                _rt.stream_destroy(self.device_index, self.cuda_stream)
            except Exception:  # interpreter shutdown
                pass


class Event:
    """A CUDA event: a marker in a stream, for synchronisation and timing.

    Args:
        enable_timing: elapsed_time() works (default False). blocking: synchronize() sleeps
        instead of spinning (default False).
    """

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        if interprocess:
            raise NotImplementedError("[Event] interprocess events are not supported")
        self.enable_timing = enable_timing
        self.blocking = blocking
        self._ev = None
        self._device = None

    def _handle(self):
        if self._ev is None:
            raise RuntimeError("[Event] the event has not been recorded yet")
        return self._ev

    def record(self, stream=None):
        """Records the event on `stream` (default: the current stream)."""
        stream = current_stream() if stream is None else stream
        if self._ev is None:
            self._device = stream.device_index
            self._ev = _rt.event_create(self._device, self.enable_timing, self.blocking)
        elif self._device != stream.device_index:
            raise ValueError(f"[Event.record] the event belongs to cuda:{self._device}, "
                             f"got a stream on cuda:{stream.device_index}")
        _rt.event_record(self._device, self._ev, stream.cuda_stream)

    def wait(self, stream=None):
        """Work queued on `stream` (default: current) after this call waits for the event."""
        (current_stream() if stream is None else stream).wait_event(self)

    def query(self):
        """True when the work recorded before the event has finished (True if never recorded)."""
        return True if self._ev is None else _rt.event_query(self._ev)

    def synchronize(self):
        """Waits until the work recorded before the event has finished."""
        if self._ev is not None:
            _rt.event_synchronize(self._ev)

    def elapsed_time(self, end_event):
        """Milliseconds between this event and end_event (both recorded, enable_timing=True)."""
        if not (self.enable_timing and end_event.enable_timing):
            raise ValueError("[Event.elapsed_time] both events need enable_timing=True")
        return _rt.event_elapsed_ms(self._handle(), end_event._handle())

    def __del__(self):
        if getattr(self, "_ev", None):
            try:
                _rt.event_destroy(self._device, self._ev)
            except Exception:
                pass


def current_stream(device=None):
    """The stream kernels on `device` are queued on in this thread (default: the default stream)."""
    i = _index(device)
    return Stream(i, _handle=_rt.current_stream(i))


def default_stream(device=None):
    """The device's default (legacy) stream."""
    return Stream(_index(device), _handle=0)


def set_stream(stream):
    """Makes `stream` the current stream of its device in this thread."""
    _rt.set_current_stream(stream.device_index, stream.cuda_stream)


@contextlib.contextmanager
def stream(s):
    """Context manager: kernels of the block (on s's device) are queued on stream s."""
    if s is None:
        yield
        return
    prev = _rt.current_stream(s.device_index)
    prev_dev = _rt.current_device()
    _rt.set_current_stream(s.device_index, s.cuda_stream)
    if prev_dev != s.device_index:
        _rt.set_device(s.device_index)
    try:
        yield s
    finally:
        _rt.set_current_stream(s.device_index, prev)
        if prev_dev != s.device_index:
            _rt.set_device(prev_dev)


# ---- memory -------------------------------------------------------------------------------------
def memory_stats(device=None):
    """The caching allocator's counters for device, as a dict (keys as torch.cuda.memory_stats)."""
    return dict(_rt.memory_stats(_index(device)))


def memory_allocated(device=None):
    """Bytes held by live tensors on device (block sizes, rounded to 512 B)."""
    return memory_stats(device)["allocated_bytes.all.current"]


def max_memory_allocated(device=None):
    """Peak of memory_allocated since the start or the last reset_peak_memory_stats."""
    return memory_stats(device)["allocated_bytes.all.peak"]


def memory_reserved(device=None):
    """Bytes the caching allocator holds from the driver on device (in use or cached)."""
    return memory_stats(device)["reserved_bytes.all.current"]


def max_memory_reserved(device=None):
    """Peak of memory_reserved since the start or the last reset_peak_memory_stats."""
    return memory_stats(device)["reserved_bytes.all.peak"]


def reset_peak_memory_stats(device=None):
    """Resets the peaks of max_memory_allocated and max_memory_reserved to the current values."""
    _rt.reset_peak_memory_stats(_index(device))


reset_max_memory_allocated = reset_peak_memory_stats


def empty_cache():
    """Returns the cached blocks that no tensor uses to the driver (no-op without CUDA)."""
    _rt.empty_cache()


def memory_summary(device=None, abbreviated=False):
    """A readable report of the caching allocator's state on device."""
    return _rt.memory_summary(_index(device))


def mem_get_info(device=None):
    """(free, total) bytes of the device, as the driver sees them."""
    return tuple(_rt.mem_get_info(_index(device)))


def set_per_process_memory_fraction(fraction, device=None):
    """Caps what ember's allocator may reserve on device at fraction x its total memory."""
    _rt.set_per_process_memory_fraction(float(fraction), _index(device))


# ---- random numbers ---------------------------------------------------------------------------
def manual_seed(seed):
    """Seeds the random number generator of the current device."""
    if is_available():
        _rt.manual_seed_device(int(seed), _rt.current_device())


def manual_seed_all(seed):
    """Seeds the random number generators of every device (no-op without CUDA)."""
    _rt.manual_seed(int(seed))


def initial_seed():
    """The seed of the current device's generator."""
    return _rt.initial_seed(-1)


def _generator(device=None):
    """The default generator of a CUDA device (None: the current one)."""
    return _rt.default_generator(_index(device))


def get_rng_state(device="cuda"):
    """The RNG state of a CUDA device's default generator, as a uint8 CPU tensor (seed, offset),
    for set_rng_state (checkpointing, activation recomputation)."""
    return _generator(None if device == "cuda" else device).get_state()


def set_rng_state(new_state, device="cuda"):
    """Restores a state from get_rng_state on a CUDA device's default generator."""
    _generator(None if device == "cuda" else device).set_state(new_state)


def get_rng_state_all():
    """get_rng_state of every device, in device order."""
    return [_rt.default_generator(i).get_state() for i in range(device_count())]


def set_rng_state_all(new_states):
    """set_rng_state for every device, from get_rng_state_all's list."""
    for i, state in enumerate(new_states):
        _rt.default_generator(i).set_state(state)


def seed():
    """Seeds the current device's generator nondeterministically (no-op without CUDA)."""
    if is_available():
        _generator().seed()


def seed_all():
    """Seeds every device's generator nondeterministically (no-op without CUDA)."""
    for i in range(device_count()):
        _rt.default_generator(i).seed()


def __getattr__(name):
    if name == "default_generators":  # as torch.cuda.default_generators: one per device
        return tuple(_rt.default_generator(i) for i in range(device_count()))
    raise AttributeError(f"module 'ember.cuda' has no attribute {name!r}")


# ---- capabilities ---------------------------------------------------------------------------------
def is_bf16_supported(including_emulation=True):
    """True when the current GPU computes bfloat16 natively (compute capability 8.0 and up: the
    Ampere and Hopper GPUs ember builds for)."""
    return is_available() and get_device_capability()[0] >= 8


def get_arch_list():
    """The GPU architectures this build of ember holds code for, as torch's ("sm_80" machine
    code, "compute_90" PTX; [] without CUDA)."""
    out = []
    for a in filter(None, _rt.arch_list().split(",")):
        num, _, kind = a.partition("-")
        if kind in ("", "real"):
            out.append(f"sm_{num}")
        if kind in ("", "virtual"):
            out.append(f"compute_{num}")
    return out


def is_initialized():
    """Whether the CUDA runtime is up (ember starts it at the first device query)."""
    return is_available()


def init():
    """Starts the CUDA runtime now, as torch.cuda.init (raises without a GPU)."""
    current_device()


# ---- math libraries ------------------------------------------------------------------------------
def _wheel_library(soname):
    """Path of `soname` in an installed nvidia wheel for CUDA 13 (nvidia/cu13/lib), or None."""
    import importlib.util
    import os

    try:
        spec = importlib.util.find_spec("nvidia")
    except (ImportError, ValueError):
        return None
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(root, "cu13", "lib", soname)
        if os.path.isfile(path):
            return path
    return None


def _register_libraries():
    """Tells the core where pip put cuBLAS; it is loaded at the first GPU matmul, not here."""
    if not is_built():
        return
    path = _wheel_library("libcublas.so.13")
    if path:
        _rt.set_library_path("cublas", path)


def _load_cublas():
    """Loads cuBLAS now; returns the path it came from. Raises RuntimeError, with the command
    that installs it, when it cannot be found (pip install "ember[cuda]")."""
    return _rt.load_cublas()


_register_libraries()


class _Amp:
    """ember.cuda.amp: torch.cuda.amp's deprecated spellings, for scripts that still use them:
    ember.cuda.amp.autocast(...) is ember.autocast("cuda", ...), and
    ember.cuda.amp.GradScaler(...) is ember.amp.GradScaler("cuda", ...)."""

    @staticmethod
    def autocast(enabled=True, dtype=None, cache_enabled=True):
        from . import float16
        from .amp import autocast
        return autocast("cuda", dtype=float16 if dtype is None else dtype, enabled=enabled, cache_enabled=cache_enabled)

    @staticmethod
    def GradScaler(init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000, enabled=True):
        from .amp import GradScaler
        return GradScaler("cuda", init_scale=init_scale, growth_factor=growth_factor, backoff_factor=backoff_factor,
                          growth_interval=growth_interval, enabled=enabled)


amp = _Amp()
