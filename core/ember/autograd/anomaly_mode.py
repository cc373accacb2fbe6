"""Anomaly detection: NaNs produced in backward are reported with the forward op's stack."""
from .. import _C


class detect_anomaly:
    """Context manager (and decorator) turning on anomaly detection: each recorded op keeps
    the Python stack that created it, and a backward node returning NaN raises a
    RuntimeError naming the node and showing that stack. Slow; for debugging.

    Args:
        check_nan (bool): raise on NaN gradients (default True).

    Example:
        >>> import ember
        >>> x = ember.zeros(1).requires_grad_()
        >>> with ember.autograd.detect_anomaly():
        ...     y = (x / x).sum()
        ...     try:
        ...         y.backward()
        ...     except RuntimeError as e:
        ...         print("DivBackward0" in str(e))
        True
    """

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = (_C.is_anomaly_enabled(), _C.is_anomaly_check_nan_enabled())
        _C._set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *exc):
        _C._set_anomaly_enabled(*self._prev)
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*a, **k):
            with detect_anomaly(self.check_nan):
                return fn(*a, **k)
        return wrapper


class set_detect_anomaly:
    """Turns anomaly detection on or off (immediately, and back on exit when used with `with`).

    Args:
        mode (bool): on or off.
        check_nan (bool): raise on NaN gradients (default True).
    """

    def __init__(self, mode, check_nan=True):
        self._prev = (_C.is_anomaly_enabled(), _C.is_anomaly_check_nan_enabled())
        _C._set_anomaly_enabled(bool(mode), check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _C._set_anomaly_enabled(*self._prev)
        return False


is_anomaly_enabled = _C.is_anomaly_enabled
