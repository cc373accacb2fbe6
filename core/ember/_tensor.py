"""Python-side Tensor methods: conversions (.to, .float, ...), repr and small conveniences.
Kernels live in ember._C; this file only arranges calls to them."""
import builtins
import math

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
        return t._to_device(_device(device), t.dtype if dtype is None else dtype, non_blocking, copy)
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
    """Returns the tensor on a CUDA device (default: the current one; self if it already is there).

    Args:
        device: int, "cuda:N" or ember.device. non_blocking: from pinned memory, return before
        the copy ends (it is ordered on the current stream).
    """
    if isinstance(device, int):
        device = f"cuda:{device}"
    return self.to("cuda" if device is None else device, non_blocking=non_blocking)


def _record_stream(self, stream):
    """Marks this CUDA tensor's memory as used by `stream` (an ember.cuda.Stream), as torch's:
    once the tensor is freed, the caching allocator reuses its memory only after the work queued
    on `stream` up to that moment has finished. Needed when a tensor made on one stream is used
    on another and freed before that stream is synchronised."""
    self._record_stream(getattr(stream, "cuda_stream", stream))


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
Tensor.record_stream = _record_stream
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

# ---- repr, like PyTorch's (torch/_tensor_str.py: same options, same layout) -------------
_THRESHOLD = 1000   # summarise above this many elements
_EDGE = 3           # elements kept at each edge of a summarised dim
_LINEWIDTH = 80
_PRECISION = 4


class _Formatter:
    """Width and notation for a set of values: ints as they are; floats fixed (4 decimals),
    integer-valued ('1.') or scientific, chosen from the nonzero finite values."""

    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if not floating:
            for v in values:
                self.max_width = builtins.max(self.max_width, len(f"{v}"))
            return
        nz = [v for v in values if v == v and v not in (float("inf"), float("-inf")) and v != 0]
        if not nz:
            return
        mags = [abs(v) for v in nz]
        lo, hi = builtins.min(mags), builtins.max(mags)
        self.int_mode = all(v == math.ceil(v) for v in nz)
        self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        for v in nz:
            if self.sci_mode:
                w = len(f"{v:.{_PRECISION}e}")
            elif self.int_mode:
                w = len(f"{v:.0f}") + 1
            else:
                w = len(f"{v:.{_PRECISION}f}")
            self.max_width = builtins.max(self.max_width, w)

    def format(self, v):
        if self.floating:
            if self.sci_mode:
                r = f"{v:{self.max_width}.{_PRECISION}e}"
            elif self.int_mode:
                r = f"{v:.0f}"
                if not (math.isinf(v) or math.isnan(v)):
                    r += "."
            else:
                r = f"{v:.{_PRECISION}f}"
        else:
            r = f"{v}"
        return (self.max_width - len(r)) * " " + r


def _summarized(t):
    """The values repr looks at (the edges of each dim when summarising), flat."""
    if t.ndim == 0:
        return [t.item()]
    n = t.shape[0]
    if n > 2 * _EDGE:
        rows = [t[i] for i in range(_EDGE)] + [t[i] for i in range(n - _EDGE, n)]
    else:
        rows = [t[i] for i in range(n)]
    if t.ndim == 1:
        return [r.item() for r in rows]
    out = []
    for r in rows:
        out += _summarized(r)
    return out


def _flat(x):
    if isinstance(x, list):
        r = []
        for e in x:
            r += _flat(e)
        return r
    return [x]


def _tensor_str(t, indent):
    if t.numel() == 0:
        return "[]"
    summarize = t.numel() > _THRESHOLD
    vals = _summarized(t) if summarize else _flat(t.tolist())
    dt = t.dtype
    if dt.is_complex:
        f1 = _Formatter([v.real for v in vals], True)
        f2 = _Formatter([v.imag for v in vals], True)
    else:
        f1, f2 = _Formatter(vals, dt.is_floating_point), None

    def val(v):
        if f2 is None:
            return f1.format(v)
        re, im = f1.format(v.real), (f2.format(v.imag) + "j").lstrip()
        return re + im if im[0] in "+-" else re + "+" + im

    def vector(x, indent):
        element_length = f1.max_width + 2 + (f2.max_width + 1 if f2 is not None else 0)
        per_line = builtins.max(1, math.floor((_LINEWIDTH - indent) / element_length))
        n = x.shape[0]
        if summarize and n > 2 * _EDGE:
            data = [val(x[i].item()) for i in range(_EDGE)] + [" ..."] + \
                   [val(x[i].item()) for i in range(n - _EDGE, n)]
        else:
            data = [val(v) for v in x.tolist()]
        lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"

    def rec(x, indent):
        if x.ndim == 0:
            return val(x.item())
        if x.ndim == 1:
            return vector(x, indent)
        n = x.shape[0]
        if summarize and n > 2 * _EDGE:
            parts = [rec(x[i], indent + 1) for i in range(_EDGE)] + ["..."] + \
                    [rec(x[i], indent + 1) for i in range(n - _EDGE, n)]
        else:
            parts = [rec(x[i], indent + 1) for i in range(n)]
        return "[" + ("," + "\n" * (x.ndim - 1) + " " * (indent + 1)).join(parts) + "]"

    return rec(t, indent)


def _add_suffixes(s, suffixes, indent):
    out = [s]
    last = len(s) - s.rfind("\n") + 1
    for suf in suffixes:
        if last + len(suf) + 2 > _LINEWIDTH:
            out.append(",\n" + " " * indent + suf)
            last = indent + len(suf)
        else:
            out.append(", " + suf)
            last += len(suf) + 2
    out.append(")")
    return "".join(out)


def _repr(self):
    t, dt = self, self.dtype
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    default = _C.get_default_dtype()
    if t.numel() == 0:
        if t.ndim != 1:
            suffixes.append(f"size={tuple(t.shape)}")
        if dt != default:
            suffixes.append(f"dtype={dt!r}")
    elif dt not in (default, _dtype.complex64, _dtype.int64, _dtype.bool):
        suffixes.append(f"dtype={dt!r}")
    return _add_suffixes(prefix + _tensor_str(t, indent), suffixes, indent)


Tensor.__repr__ = _repr
Tensor.__str__ = _repr
Tensor.__format__ = lambda self, spec: self.item().__format__(spec) if self.ndim == 0 else _repr(self)


def _backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Computes the gradient of this tensor with respect to the graph's leaves and accumulates
    it into their ``.grad``.

    Args:
        gradient (Tensor, optional): the gradient of some scalar with respect to this tensor
            (same shape); may be omitted when this tensor has one element.
        retain_graph (bool, optional): keep the saved tensors for another backward
            (default: create_graph).
        create_graph (bool): record the backward pass too, for higher-order gradients.
        inputs (sequence of Tensors, optional): accumulate only into these.

    Example:
        >>> import ember
        >>> x = ember.tensor([1.0, 2.0]).requires_grad_()
        >>> (x * x).sum().backward(); x.grad
        tensor([2., 4.])
    """
    from . import autograd
    autograd.backward(self, gradient, retain_graph, create_graph, inputs)


Tensor.backward = _backward


def _data(self):
    """This tensor's values outside the graph (like ``detach()``; writes are not tracked)."""
    return self.detach()


def _set_data(self, value):
    """``x.data = v``: x now uses v's memory, shape and dtype (as PyTorch), keeping its identity
    and autograd state."""
    if not isinstance(value, Tensor):
        raise TypeError(f"[data] expected a Tensor, got {type(value).__name__}")
    self._set_data(value)


Tensor.data = property(_data, _set_data)


def _deepcopy(self, memo):
    """A deep copy: a new leaf with copied values and the same requires_grad (leaves only, as PyTorch)."""
    if id(self) in memo:
        return memo[id(self)]
    if not self.is_leaf:
        raise RuntimeError("[deepcopy] only tensors created explicitly by the user (graph leaves) support "
                           "deepcopy; call .detach() first")
    new = self.detach().clone()
    if type(self) is not Tensor:  # a subclass (nn.Parameter, ...): same class, aliasing the copy
        new = type(self).__new__(type(self))
        Tensor.__init__(new, self.detach().clone())
        new.__dict__.update(__import__("copy").deepcopy(self.__dict__, memo))
    new.requires_grad_(self.requires_grad)
    if self.grad is not None:
        new.grad = self.grad.clone()
    memo[id(self)] = new
    return new


Tensor.__deepcopy__ = _deepcopy


def _softmax(self, dim, dtype=None):
    """Softmax along dim (the fused kernel of ember.nn.functional.softmax)."""
    return _C._nn.softmax(self if dtype is None else self.to(dtype), dim)


def _log_softmax(self, dim, dtype=None):
    """log(softmax) along dim (the fused kernel of ember.nn.functional.log_softmax)."""
    return _C._nn.log_softmax(self if dtype is None else self.to(dtype), dim)


Tensor.softmax = _softmax
Tensor.log_softmax = _log_softmax
