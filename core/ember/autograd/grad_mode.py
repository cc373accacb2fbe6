"""Grad modes: thread-local switches for recording the autograd graph.

``no_grad``, ``enable_grad``, ``set_grad_enabled`` and ``inference_mode`` work as context
managers and as decorators, like PyTorch's.
"""
import functools

from .. import _C


class _Mode:
    """Base: a context manager that is also a decorator (a fresh instance per call)."""

    def __new__(cls, *args, **kwargs):
        # bare decorator use, `@ember.no_grad` without parentheses, as PyTorch allows
        if cls in (no_grad, enable_grad) and len(args) == 1 and callable(args[0]) and not kwargs:
            return cls()(args[0])
        if cls is inference_mode and len(args) == 1 and callable(args[0]) and not kwargs:
            return cls()(args[0])
        return super().__new__(cls)

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._clone():
                return fn(*args, **kwargs)
        return wrapper

    def _clone(self):
        return type(self)()


class no_grad(_Mode):
    """Ops inside do not record gradients (results have requires_grad False).

    Example:
        >>> import ember
        >>> w = ember.ones(3).requires_grad_()
        >>> with ember.no_grad():
        ...     y = w * 2
        >>> y.requires_grad
        False
    """

    def __enter__(self):
        self._prev = _C.is_grad_enabled()
        _C._set_grad_enabled(False)

    def __exit__(self, *exc):
        _C._set_grad_enabled(self._prev)
        return False


class enable_grad(_Mode):
    """Ops inside record gradients, even within no_grad.

    Example:
        >>> import ember
        >>> with ember.no_grad(), ember.enable_grad():
        ...     ember.is_grad_enabled()
        True
    """

    def __enter__(self):
        self._prev = _C.is_grad_enabled()
        _C._set_grad_enabled(True)

    def __exit__(self, *exc):
        _C._set_grad_enabled(self._prev)
        return False


class set_grad_enabled(_Mode):
    """Sets grad mode to `mode`: immediately when called, and back when used as a context
    manager exits.

    Args:
        mode (bool): record gradients or not.

    Example:
        >>> import ember
        >>> _ = ember.set_grad_enabled(False); ember.is_grad_enabled()
        False
        >>> _ = ember.set_grad_enabled(True)
    """

    def __init__(self, mode):
        self._prev = _C.is_grad_enabled()
        self.mode = bool(mode)
        _C._set_grad_enabled(self.mode)

    def _clone(self):
        return set_grad_enabled(self.mode)

    def __call__(self, fn):
        _C._set_grad_enabled(self._prev)  # used as a decorator: the call above must not stick
        return super().__call__(fn)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _C._set_grad_enabled(self._prev)
        return False


class inference_mode(_Mode):
    """No recording, and tensors made inside are marked as inference tensors: they can never
    be used in a recorded op later (a clear error says to clone them).

    Args:
        mode (bool): True (default) to enable; False leaves the modes as they are.

    Example:
        >>> import ember
        >>> with ember.inference_mode():
        ...     y = ember.ones(2) * 2
        >>> y.is_inference()
        True
    """

    def __init__(self, mode=True):
        self.mode = bool(mode) if not callable(mode) else True

    def _clone(self):
        return inference_mode(self.mode)

    def __enter__(self):
        self._prev = (_C.is_grad_enabled(), _C.is_inference_mode_enabled())
        if self.mode:
            _C._set_grad_enabled(False)
        _C._set_inference_mode(self.mode)

    def __exit__(self, *exc):
        _C._set_grad_enabled(self._prev[0])
        _C._set_inference_mode(self._prev[1])
        return False


is_grad_enabled = _C.is_grad_enabled
is_inference_mode_enabled = _C.is_inference_mode_enabled
