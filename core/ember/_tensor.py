"""Python-side Tensor methods: conversions (.to, .float, ...), repr and small conveniences.
Kernels live in ember._C; this file only arranges calls to them."""
import builtins

from . import _C
from ._C import Tensor, device as _device, dtype as _dtype


def is_tensor(obj):
    """True if obj is an ember.Tensor."""
    return isinstance(obj, Tensor)


def numel(input):
    """Number of elements of input."""
    return input.numel()


def as_tensor(data, dtype=None, device=None):
    """Converts data to a tensor, sharing memory when possible (a Tensor of the same dtype
    and device, or a NumPy array on the CPU); copies otherwise.

    Example:
        >>> import numpy as np, ember
        >>> a = np.zeros(3, dtype=np.float32); t = ember.as_tensor(a); a[0] = 1; t[0].item()
        1.0
    """
    if isinstance(data, Tensor):
        return data.to(dtype=dtype, device=device) if (dtype or device) else data
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        np = None
    if np is not None and isinstance(data, np.ndarray) and (device is None or _device(device).type == "cpu"):
        try:
            t = _C.from_numpy(data)
        except (TypeError, ValueError):
            return _C.tensor(data, dtype=dtype, device=device)
        return t if dtype is None or t.dtype == dtype else t.to(dtype)
    return _C.tensor(data, dtype=dtype, device=device)


def _to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
    """Returns the tensor converted to dtype and/or moved to device (self if nothing changes).

    Accepts ``.to(dtype)``, ``.to(device)``, ``.to(device, dtype)``, ``.to(other_tensor)``.
    """
    for a in args:
        if isinstance(a, _dtype):
            dtype = a
        elif isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, (str, _device)):
            device = a
        else:
            raise TypeError(f"[to] expected a dtype, device or Tensor, got {type(a).__name__}")
    t = self
    if device is not None and _device(device) != t.device:
        raise NotImplementedError(
            f"[to] moving tensors between {t.device} and {_device(device)} needs the CUDA backend")
    if dtype is not None and dtype != t.dtype:
        return t._to_dtype(dtype)
    return t.clone() if copy else t


Tensor.to = _to
for _name, _dt in [("float", "float32"), ("double", "float64"), ("half", "float16"), ("bfloat16", "bfloat16"),
                   ("int", "int32"), ("long", "int64"), ("short", "int16"), ("char", "int8"), ("byte", "uint8"),
                   ("bool", "bool"), ("cfloat", "complex64")]:
    def _conv(self, _dt=getattr(_dtype, _dt)):
        return self._to_dtype(_dt)
    _conv.__name__ = _name
    _conv.__doc__ = f"Returns the tensor as {_dt} (self if it already is)."
    setattr(Tensor, _name, _conv)


def _type_as(self, other):
    """Returns the tensor converted to other's dtype."""
    return self.to(other.dtype)


def _cpu(self):
    """Returns the tensor on the CPU (self if it already is)."""
    return self.to("cpu")


def _cuda(self, device=None, non_blocking=False):
    """Returns a copy on a CUDA device."""
    return self.to("cuda" if device is None else device)


def _iter(self):
    if self.ndim == 0:
        raise TypeError("[iter] iteration over a 0-d tensor")
    return iter(self.unbind(0))


def _new(fn):
    def method(self, *size, dtype=None, device=None, requires_grad=False):
        return fn(*size, dtype=dtype or self.dtype, device=device or self.device)
    return method


Tensor.type_as = _type_as
Tensor.cpu = _cpu
Tensor.cuda = _cuda
Tensor.__iter__ = _iter
Tensor.__array_priority__ = 1000  # numpy defers to our reflected operators
Tensor.new_zeros = _new(_C.zeros)
Tensor.new_ones = _new(_C.ones)
Tensor.new_empty = _new(_C.empty)
Tensor.new_full = lambda self, size, fill_value, dtype=None, device=None, requires_grad=False: _C.full(
    size, fill_value, dtype=dtype or self.dtype, device=device or self.device)
Tensor.new_tensor = lambda self, data, dtype=None, device=None, requires_grad=False: _C.tensor(
    data, dtype=dtype or self.dtype, device=device or self.device)


_dtype.__repr__ = lambda self: "ember." + self.name
_dtype.__str__ = _dtype.__repr__

# ---- repr, like PyTorch's -------------------------------------------------------------
_THRESHOLD = 1000
_EDGE = 3


def _fmt_floats(vals):
    finite = [abs(v) for v in vals if v == v and v not in (float("inf"), float("-inf"))]
    if not finite:
        return lambda v: _special(v) or f"{v}"
    if all(v == int(v) for v in finite):
        big = max(finite)
        if big >= 1e8:
            return lambda v: _special(v) or f"{v:.4e}"
        return lambda v: _special(v) or f"{v:.0f}."
    nz = [v for v in finite if v != 0]
    lo, hi = (min(nz), max(nz)) if nz else (0.0, 0.0)
    if hi >= 1e8 or (lo and lo < 1e-4) or (lo and hi / lo > 1000.0):
        return lambda v: _special(v) or f"{v:.4e}"
    return lambda v: _special(v) or f"{v:.4f}"


def _special(v):
    if v != v:
        return "nan"
    if v == float("inf"):
        return "inf"
    if v == float("-inf"):
        return "-inf"
    return None


def _summarized(t):
    """The elements that repr shows (edges of each dim when summarising)."""
    if t.ndim == 0:
        return [t.item()]
    if t.numel() <= _THRESHOLD:
        return _flat(t.tolist())
    out = []
    n = t.shape[0]
    idx = list(range(n)) if n <= 2 * _EDGE else list(range(_EDGE)) + list(range(n - _EDGE, n))
    for i in idx:
        out += _summarized(t[i])
    return out


def _flat(x):
    if isinstance(x, list):
        r = []
        for e in x:
            r += _flat(e)
        return r
    return [x]


def _repr(self):
    t = self
    dt = t.dtype
    summarize = t.numel() > _THRESHOLD
    vals = _summarized(t)
    if dt.is_floating_point:
        f = _fmt_floats(vals)
    elif dt.is_complex:
        fr = _fmt_floats([v.real for v in vals])
        fi = _fmt_floats([abs(v.imag) for v in vals])
        f = lambda v: f"{fr(v.real)}{'+' if v.imag >= 0 or v.imag != v.imag else '-'}{fi(abs(v.imag))}j"  # noqa: E731
    elif dt == _dtype.bool:
        f = lambda v: "True" if v else "False"  # noqa: E731
    else:
        f = str
    width = builtins.max((len(f(v)) for v in vals), default=0)

    def rec(x, depth, indent):
        if x.ndim == 0:
            return f(x.item()).rjust(width)
        n = x.shape[0]
        if summarize and n > 2 * _EDGE:
            parts = [rec(x[i], depth + 1, indent + 1) for i in range(_EDGE)] + ["..."] + \
                    [rec(x[i], depth + 1, indent + 1) for i in range(n - _EDGE, n)]
        else:
            parts = [rec(x[i], depth + 1, indent + 1) for i in range(n)]
        if x.ndim == 1:
            return "[" + ", ".join(parts) + "]"
        sep = "," + "\n" * (x.ndim - 1) + " " * (indent + 1)
        return "[" + sep.join(parts) + "]"

    prefix = "tensor("
    body = rec(t, 0, len(prefix)) if t.numel() or t.ndim == 0 else "[]"
    extras = []
    if t.numel() == 0 and t.ndim != 1:
        extras.append(f"size={tuple(t.shape)}")
    if dt not in (_C.get_default_dtype(), _dtype.int64, _dtype.bool, _dtype.complex64) or \
            (t.numel() == 0 and dt != _C.get_default_dtype() and dt != _dtype.int64):
        extras.append(f"dtype={dt!r}")
    if t.device.type != "cpu":
        extras.insert(0, f"device='{t.device}'")
    return prefix + body + "".join(", " + e for e in extras) + ")"


Tensor.__repr__ = _repr
Tensor.__str__ = _repr
Tensor.__format__ = lambda self, spec: self.item().__format__(spec) if self.ndim == 0 else _repr(self)
