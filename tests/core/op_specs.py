"""The elementwise op table: one OpSpec per op (or per op variant, e.g. div's rounding modes).

It drives tests/core/test_elementwise.py (ember against a float64 NumPy reference) and
tests/parity/test_elementwise_parity.py (ember against PyTorch). An entry says how to call the
op (ember name, positional extras, keyword arguments), how to compute it in float64 NumPy, which
inputs it accepts (domain per dtype kind), which dtypes it supports (anything else must raise
TypeError naming the op), how its result dtype follows from the promoted input dtype, and the
tolerance per dtype.

Adding an elementwise op: one row here. Keep the reference independent of ember (NumPy and the
`math` module only) and written in float64/int64/complex128.
"""
import math
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional, Tuple

import numpy as np

# ---- dtypes ---------------------------------------------------------------------------
BOOL = ("bool",)
INTS = ("uint8", "int8", "int16", "int32", "int64")
F16 = ("float16", "bfloat16")
FLOATS = F16 + ("float32", "float64")
COMPLEX = ("complex64",)
REAL = INTS + FLOATS            # kRealMask
ALL_REAL = BOOL + REAL          # kAllRealMask
ALL = ALL_REAL + COMPLEX        # kAllMask
# ops with the Float rule accept bool and integer inputs (they promote to the default float)
FLOAT_RULE = BOOL + INTS + FLOATS

INT_BITS = {"uint8": 8, "int8": 8, "int16": 16, "int32": 32, "int64": 64}
ITEMSIZE = {"bool": 1, "uint8": 1, "int8": 1, "int16": 2, "int32": 4, "int64": 8, "float16": 2,
            "bfloat16": 2, "float32": 4, "float64": 8, "complex64": 8}
INT_RANGE = {t: (int(np.iinfo(t).min), int(np.iinfo(t).max)) for t in INTS}


def kind(dtype):
    """'bool', 'int', 'float' or 'complex' for a dtype name."""
    if dtype == "bool":
        return "bool"
    if dtype in INTS:
        return "int"
    if dtype in FLOATS:
        return "float"
    return "complex"


# ---- PyTorch's promotion, in Python (the tests' independent model of ember.result_type) --


def promote_types(a, b):
    """torch.promote_types for ember's dtypes (complex64 with float64 is unsupported: None)."""
    if a == b:
        return a
    if a == "bool":
        return b
    if b == "bool":
        return a
    ka, kb = kind(a), kind(b)
    if "complex" in (ka, kb):
        other = b if ka == "complex" else a
        return None if other == "float64" else "complex64"
    if ka == "float" and kb == "float":
        if {a, b} == {"float16", "bfloat16"}:
            return "float32"
        return a if ITEMSIZE[a] >= ITEMSIZE[b] else b
    if ka == "float":
        return a
    if kb == "float":
        return b
    if "uint8" in (a, b):
        o = b if a == "uint8" else a
        return "int16" if o == "int8" else o
    return a if INT_BITS[a] >= INT_BITS[b] else b


def result_type(operands, default_float="float32"):
    """Result dtype of operands given as (dtype, category) with category 'tensor' (dim > 0),
    'zerodim' (0-d tensor) or 'scalar' (Python number; its dtype is bool/int64/float/complex).

    PyTorch's rule: dimensioned tensors win over 0-d tensors, which win over Python numbers,
    unless the lower group is of a higher kind (bool < int < float < complex); then the
    result is the default dtype of that kind (floats, complex) or the higher group's type.
    """
    groups = {}
    for dt, cat in operands:
        if cat == "scalar" and kind(dt) == "float":
            dt = default_float
        groups[cat] = dt if cat not in groups else promote_types(groups[cat], dt)

    def combine(higher, lower):
        if higher is None:
            return lower
        if lower is None:
            return higher
        kh, kl = kind(higher), kind(lower)
        if kh == "complex":
            return higher
        if kl == "complex":
            return "complex64" if kh == "float" else lower
        if kh == "float":
            return higher
        if higher == "bool" or kl == "float":
            return promote_types(higher, lower)
        return higher

    return combine(groups.get("tensor"), combine(groups.get("zerodim"), groups.get("scalar")))


def wide(dtype):
    """The float64/int64/complex128/bool NumPy dtype a reference computes in."""
    return {"bool": np.bool_, "int": np.int64, "float": np.float64, "complex": np.complex128}[kind(dtype)]


def scalar_dtype(v):
    """The dtype a Python number enters promotion with."""
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int64"
    if isinstance(v, float):
        return "float64"
    return "complex64"


# ---- input domains ------------------------------------------------------------------------
@dataclass(frozen=True)
class Domain:
    """Where an op's inputs are drawn from.

    Floats uniform in [lo, hi) (quantized to multiples of 1/quant when quant is set, so that
    rounding-sensitive ops see exactly representable values), integers uniform in
    [ilo, ihi] clipped to the dtype's range, complex with real and imaginary parts in [lo, hi).
    nonzero: no zeros (divisors); |x| >= min_abs for floats.
    """
    lo: float = -4.0
    hi: float = 4.0
    ilo: int = -20
    ihi: int = 20
    nonzero: bool = False
    min_abs: float = 0.0
    quant: Optional[int] = None
    bool_value: Optional[bool] = None  # a fixed bool value (e.g. divisors) instead of random

    def sample(self, rng, shape, dtype):
        k = kind(dtype)
        if k == "bool":
            if self.bool_value is not None:
                return np.full(shape, self.bool_value)
            return rng.random(shape) < 0.5
        if k == "int":
            lo, hi = INT_RANGE[dtype]
            lo, hi = max(lo, self.ilo), min(hi, self.ihi)
            v = rng.integers(lo, hi, size=shape, endpoint=True, dtype=np.int64)
            if self.nonzero:
                v[v == 0] = 1 if hi >= 1 else -1
            return v
        v = rng.uniform(self.lo, self.hi, size=shape)
        if k == "complex":
            v = v + 1j * rng.uniform(self.lo, self.hi, size=shape)
        if self.quant:
            v = np.round(v * self.quant) / self.quant
        if self.nonzero or self.min_abs:
            m = max(self.min_abs, 1.0 / (self.quant or 1e6))
            small = np.abs(v) < m
            v = np.where(small, np.where(np.real(v) < 0, -m, m), v)
        return v


ANY = Domain()
POS = Domain(0.05, 10.0, 1, 100)
NONNEG = Domain(0.0, 10.0, 0, 100)
UNIT = Domain(-0.95, 0.95, -1, 1)            # asin, acos, atanh, erfinv
PROB = Domain(0.02, 0.98, 0, 1)              # logit
QUARTERS = Domain(-8.0, 8.0, -50, 50, quant=4)   # rounding-sensitive ops: exact values
DIVISOR = Domain(-6.0, 6.0, -9, 9, nonzero=True, min_abs=0.25, quant=4, bool_value=True)
SMALL = Domain(-2.0, 2.0, -3, 3)
WIDE_INT = Domain(-100.0, 100.0, -(2 ** 62), 2 ** 62)  # integer ops over (almost) full ranges


# ---- tolerances ------------------------------------------------------------------------------
# (rtol, atol) per dtype; 16-bit floats round their result, so they get loose tolerances.
TOL = {
    "float16": (2e-3, 2e-3),
    "bfloat16": (1.6e-2, 1.6e-2),
    "float32": (2e-6, 1e-6),
    "float64": (1e-12, 1e-13),
    "complex64": (5e-6, 2e-6),
}


def _tol(**over):
    t = dict(TOL)
    t.update(over)
    return t


# ---- the spec ----------------------------------------------------------------------------------
@dataclass
class OpSpec:
    """One elementwise op (or one variant of it).

    name       the ember function (ember.<name>), also the Tensor method name
    ref        float64 NumPy reference on the wide inputs (then cast to the result dtype)
    dtypes     input dtypes that must work (every other dtype must raise TypeError with [op])
    nargs      number of tensor inputs
    args       extra positional arguments after the tensors (numbers)
    kwargs     keyword arguments
    rule       result dtype from the promoted input dtype: same | float | bool | real
    domains    one Domain per tensor input
    tol        {dtype: (rtol, atol)}
    method     Tensor.<name> exists; inplace: Tensor.<name>_ exists; out: out= exists
    torch      PyTorch function path (for parity), default torch.<name>
    arg_kinds  per tensor input: 'x' (the tested dtype) or a fixed dtype name (e.g. 'bool')
    err_name   the [op] name in error messages, default name
    specials   also check nan/inf/-0 inputs against the reference (float ops)
    promote_args  the positional number args take part in type promotion (pow, clamp bounds)
    ref_dtype  the reference takes the result dtype name as keyword `dtype` (nan_to_num)
    """
    id: str
    name: str
    ref: Callable
    dtypes: Tuple[str, ...]
    nargs: int = 1
    args: tuple = ()
    kwargs: Dict = field(default_factory=dict)
    rule: str = "same"
    domains: Tuple[Domain, ...] = (ANY,)
    tol: Dict = field(default_factory=lambda: dict(TOL))
    method: bool = True
    inplace: bool = True
    out: bool = True
    torch: Optional[str] = None
    arg_kinds: Optional[Tuple[str, ...]] = None
    err_name: Optional[str] = None
    specials: bool = False
    promote_args: bool = False
    ref_dtype: bool = False

    def __post_init__(self):
        if len(self.domains) < self.nargs:
            self.domains = tuple(self.domains) + (self.domains[-1],) * (self.nargs - len(self.domains))
        if self.arg_kinds is None:
            self.arg_kinds = ("x",) * self.nargs
        self.err_name = self.err_name or self.name
        self.torch = self.torch or self.name

    def input_dtypes(self, dtype):
        return [dtype if k == "x" else k for k in self.arg_kinds]

    def compute_dtype(self, dtype, default_float="float32"):
        """Promoted input dtype the op computes in (before the result rule)."""
        ops = [(d, "tensor") for d, k in zip(self.input_dtypes(dtype), self.arg_kinds) if k == "x"]
        if self.promote_args:
            ops += [(scalar_dtype(a), "scalar") for a in self.args]
            ops += [(scalar_dtype(a), "scalar") for a in self.kwargs.values() if a is not None]
        c = result_type(ops, default_float)
        if self.rule == "float" and kind(c) in ("bool", "int"):
            c = default_float
        return c

    def result_dtype(self, dtype, default_float="float32"):
        c = self.compute_dtype(dtype, default_float)
        if self.rule == "bool":
            return "bool"
        if self.rule == "real" and c == "complex64":
            return "float32"
        return c

    def call(self, mod, *tensors, **extra):
        """mod.<name>(*tensors, *args, **kwargs, **extra): mod is ember or torch."""
        fn = mod
        for part in (self.name if mod.__name__ == "ember" else self.torch).split("."):
            fn = getattr(fn, part)
        return fn(*tensors, *self.args, **self.kwargs, **extra)


SPECS = []


def op(id, ref, dtypes, **kw):
    kw.setdefault("name", id)
    s = OpSpec(id=id, ref=ref, dtypes=tuple(dtypes), **kw)
    SPECS.append(s)
    return s


# ---- reference helpers ------------------------------------------------------------------------
def _vec(f, otype=np.float64):
    v = np.vectorize(f, otypes=[otype])
    return lambda x: v(x) if np.size(x) else np.zeros(np.shape(x), otype)


_erf = None


def _erfinv(y):
    """float64 erfinv: Winitzki's approximation refined by Newton steps on math.erf."""
    global _erf
    if _erf is None:
        _erf = np.vectorize(math.erf, otypes=[np.float64])
    y = np.asarray(y, dtype=np.float64)
    inside = np.abs(y) < 1
    z = np.where(inside, y, 0.0)
    a = 0.147
    ln = np.log1p(-z * z)
    t = 2 / (math.pi * a) + ln / 2
    r = np.sign(z) * np.sqrt(np.sqrt(t * t - ln / a) - t)
    for _ in range(5):
        if r.size:
            r = r - (_erf(r) - z) / (2 / math.sqrt(math.pi) * np.exp(-r * r))
    out = np.where(np.abs(y) == 1, np.copysign(np.inf, y), np.nan)
    return np.where(inside, r, out)


def _lgamma_scalar(x):
    try:
        return math.lgamma(x)
    except ValueError:  # poles
        return math.inf


def _digamma_scalar(x):
    """float64 digamma as the derivative of math.lgamma (4-point central difference, about
    1e-10 relative here): independent of ember's series."""
    if x == 0:
        return -math.inf if math.copysign(1.0, x) > 0 else math.inf
    if x < 0 and x == math.floor(x):
        return math.nan
    h = 1e-3 * max(1.0, abs(x))
    f = math.lgamma
    return (8 * (f(x + h) - f(x - h)) - (f(x + 2 * h) - f(x - 2 * h))) / (12 * h)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softplus(x, beta=1.0, threshold=20.0):
    bx = x * beta
    return np.where(bx > threshold, x, np.log1p(np.exp(np.minimum(bx, threshold))) / beta)


def _gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + _vec(math.erf)(x / math.sqrt(2)))


def _logit(x, eps=None):
    if eps is not None:
        x = np.clip(x, eps, 1 - eps)
    return np.log(x / (1 - x))


def _sign(x):  # sign(nan) is 0, like PyTorch
    return np.nan_to_num(np.sign(x)) if x.dtype != np.bool_ else x.copy()


def _div_trunc(a, b):
    if a.dtype.kind in "iu":
        q = np.abs(a) // np.abs(b)
        return np.where((a < 0) != (b < 0), -q, q)
    return np.trunc(a / b)


def _remainder(a, b):
    return np.remainder(a, b)


def _pow(a, b):
    if a.dtype.kind in "iu":
        return np.power(a, b)
    if a.dtype == np.bool_:
        return a | ~b
    return np.power(a, b)


def _lshift(a, b):
    return np.left_shift(a, b)


def _rshift(a, b):
    return np.right_shift(a, b)


def _angle(x):
    if np.iscomplexobj(x):
        return np.angle(x)
    return np.where(np.isnan(x), x, np.where(x < 0, math.pi, 0.0))


def _nan_to_num(x, nan=0.0, posinf=None, neginf=None, dtype=None):
    if kind(dtype) != "float":
        return x.copy()
    big = 3.3895313892515355e38 if dtype == "bfloat16" else float(np.finfo(dtype).max)
    return np.nan_to_num(x, nan=nan, posinf=big if posinf is None else posinf,
                         neginf=-big if neginf is None else neginf)


def _frac(x):
    return x - np.trunc(x)


def _abs(x):
    return np.abs(x)


def _where(c, a, b):
    return np.where(c, a, b)


def _lerp(a, b, w):
    return a + w * (b - a)


def _clamp_t(x, lo, hi):
    return np.minimum(np.maximum(x, lo), hi)


def _masked_fill(x, m, value):
    return np.where(m, value, x)


def _logaddexp(a, b):
    return np.logaddexp(a, b)


def _copysign(a, b):
    return np.copysign(a, b)


def _fmax(a, b):
    return np.fmax(a, b)


# ---- unary ops: Float rule -----------------------------------------------------------------------
F_C = FLOAT_RULE + COMPLEX
op("exp", np.exp, F_C, rule="float", domains=(Domain(-5, 5, -8, 8),), specials=True)
op("exp2", np.exp2, FLOAT_RULE, rule="float", domains=(Domain(-10, 10, -10, 10),), specials=True)
op("expm1", np.expm1, FLOAT_RULE, rule="float", domains=(Domain(-3, 3, -5, 5),), specials=True)
op("log", np.log, F_C, rule="float", domains=(POS,), specials=True)
op("log2", np.log2, FLOAT_RULE, rule="float", domains=(POS,), specials=True)
op("log10", np.log10, FLOAT_RULE, rule="float", domains=(POS,), specials=True)
op("log1p", np.log1p, FLOAT_RULE, rule="float", domains=(Domain(-0.9, 10, 0, 100),), specials=True)
op("sqrt", np.sqrt, F_C, rule="float", domains=(NONNEG,), specials=True)
op("rsqrt", lambda x: 1 / np.sqrt(x), FLOAT_RULE, rule="float", domains=(POS,), specials=True)
op("sin", np.sin, F_C, rule="float", specials=True, tol=_tol(float32=(2e-6, 2e-6)))
op("cos", np.cos, F_C, rule="float", specials=True, tol=_tol(float32=(2e-6, 2e-6)))
op("tan", np.tan, F_C, rule="float", domains=(Domain(-1.3, 1.3, -20, 20),), specials=True,
   tol=_tol(float32=(1e-5, 1e-6), float16=(4e-3, 4e-3), bfloat16=(3e-2, 3e-2)))
op("asin", np.arcsin, FLOAT_RULE, rule="float", domains=(UNIT,), specials=True)
op("acos", np.arccos, FLOAT_RULE, rule="float", domains=(UNIT,), specials=True)
op("atan", np.arctan, FLOAT_RULE, rule="float", specials=True)
op("sinh", np.sinh, F_C, rule="float", specials=True)
op("cosh", np.cosh, F_C, rule="float", specials=True)
op("tanh", np.tanh, F_C, rule="float", specials=True)
op("asinh", np.arcsinh, FLOAT_RULE, rule="float", specials=True)
op("acosh", np.arccosh, FLOAT_RULE, rule="float", domains=(Domain(1, 10, 1, 20),), specials=True)
op("atanh", np.arctanh, FLOAT_RULE, rule="float", domains=(UNIT,), specials=True)
op("erf", _vec(math.erf), FLOAT_RULE, rule="float", domains=(Domain(-3, 3),), specials=True)
op("erfc", _vec(math.erfc), FLOAT_RULE, rule="float", domains=(Domain(-3, 3),), specials=True,
   tol=_tol(float32=(1e-5, 1e-6)))
op("erfinv", _erfinv, FLOAT_RULE, rule="float", domains=(Domain(-0.99, 0.99, -1, 1),),
   specials=True, tol=_tol(float32=(1e-5, 1e-6), float64=(1e-11, 1e-13)))
op("lgamma", _vec(_lgamma_scalar), FLOAT_RULE, rule="float", domains=(Domain(0.1, 8, 1, 20),),
   tol=_tol(float32=(1e-5, 1e-5)))
op("digamma", _vec(_digamma_scalar), FLOAT_RULE, rule="float", domains=(Domain(0.2, 8, 1, 20),),
   tol=_tol(float32=(1e-5, 1e-5), float64=(1e-8, 1e-9)))
op("sigmoid", _sigmoid, F_C, rule="float", domains=(Domain(-8, 8, -8, 8),), specials=True,
   tol=_tol(complex64=(2e-5, 5e-6)))
op("logit", _logit, FLOAT_RULE, rule="float", domains=(PROB,), inplace=False, specials=True,
   tol=_tol(float32=(1e-5, 2e-6)))
op("logit[eps]", lambda x: _logit(x, 0.1), FLOAT_RULE, name="logit", kwargs={"eps": 0.1}, rule="float",
   domains=(Domain(-0.2, 1.2, -1, 2),), inplace=False, tol=_tol(float32=(1e-5, 2e-6)))
op("silu", lambda x: x * _sigmoid(x), FLOAT_RULE, rule="float", domains=(Domain(-6, 6),),
   torch="nn.functional.silu", specials=True)
op("mish", lambda x: x * np.tanh(_softplus(x)), FLOAT_RULE, rule="float", domains=(Domain(-6, 6),),
   torch="nn.functional.mish", tol=_tol(float32=(1e-5, 1e-6)))
op("gelu", _gelu, FLOAT_RULE, rule="float", domains=(Domain(-5, 5),), inplace=False, method=False,
   torch="nn.functional.gelu", specials=True)
op("gelu[tanh]", lambda x: _gelu(x, "tanh"), FLOAT_RULE, name="gelu", kwargs={"approximate": "tanh"},
   rule="float", domains=(Domain(-5, 5),), inplace=False, method=False, torch="nn.functional.gelu",
   tol=_tol(float32=(1e-5, 1e-6)))
op("softplus", _softplus, FLOAT_RULE, rule="float", domains=(Domain(-10, 10),), inplace=False,
   method=False, torch="nn.functional.softplus", specials=True)
op("softplus[beta]", lambda x: _softplus(x, 2.0, 3.0), FLOAT_RULE, name="softplus",
   kwargs={"beta": 2.0, "threshold": 3.0}, rule="float", domains=(Domain(-4, 4),), inplace=False,
   method=False, torch="nn.functional.softplus")
op("reciprocal", lambda x: 1 / x, F_C, rule="float", domains=(Domain(-5, 5, -9, 9, nonzero=True, min_abs=0.2),),
   specials=True)

# ---- unary ops: same dtype ------------------------------------------------------------------------
op("frac", _frac, FLOATS, domains=(Domain(-10, 10),), specials=True)
op("neg", np.negative, REAL + COMPLEX, domains=(WIDE_INT,), specials=True)
op("abs", _abs, REAL + COMPLEX, rule="real", domains=(WIDE_INT,), specials=True)
op("angle", _angle, FLOATS + COMPLEX, rule="real", inplace=False, specials=True)
op("conj", np.conj, ALL, inplace=False, out=False)
op("floor", np.floor, REAL, domains=(QUARTERS,), specials=True)
op("ceil", np.ceil, REAL, domains=(QUARTERS,), specials=True)
op("trunc", np.trunc, REAL, domains=(QUARTERS,), specials=True)
op("round", np.round, REAL, domains=(Domain(-8, 8, -50, 50, quant=2),), specials=True)
op("round[decimals]", lambda x: np.round(x, 2), REAL, name="round", kwargs={"decimals": 2},
   domains=(Domain(-8, 8, quant=16),), tol=_tol(float32=(1e-6, 1e-6)))
op("sign", _sign, ALL_REAL, domains=(Domain(-3, 3, -3, 3, quant=2),), specials=True)
op("relu", lambda x: np.maximum(x, 0), REAL, torch="relu", specials=True)
op("square", np.square, REAL + COMPLEX, domains=(Domain(-6, 6, -11, 11),), specials=True)
op("nan_to_num", _nan_to_num, ALL_REAL, specials=True, ref_dtype=True)
op("nan_to_num[args]", lambda x, dtype: _nan_to_num(x, 1.5, 100.0, -100.0, dtype), ALL_REAL, name="nan_to_num",
   kwargs={"nan": 1.5, "posinf": 100.0, "neginf": -100.0}, specials=True, ref_dtype=True)
op("bitwise_not", np.invert, BOOL + INTS, domains=(WIDE_INT,))
op("isnan", np.isnan, ALL, rule="bool", inplace=False, specials=True)
op("isinf", np.isinf, ALL, rule="bool", inplace=False, specials=True)
op("isfinite", np.isfinite, ALL, rule="bool", inplace=False, specials=True)
op("signbit", np.signbit, ALL_REAL, rule="bool", inplace=False, specials=True)
op("logical_not", np.logical_not, ALL, rule="bool", inplace=False)

# clamp / clip with number bounds (one input), both, min only, max only
# number bounds promote like Python scalars: an int tensor clamped to 1.5 gives float32
CL = dict(promote_args=True)
op("clamp", lambda x: np.clip(x, -1.5, 2.0), ALL_REAL, args=(-1.5, 2.0), domains=(Domain(-4, 4, -5, 5),),
   specials=True, **CL)
op("clamp[min]", lambda x: np.maximum(x, -1.5), ALL_REAL, name="clamp", kwargs={"min": -1.5}, specials=True, **CL)
op("clamp[max]", lambda x: np.minimum(x, 2), ALL_REAL, name="clamp", kwargs={"max": 2}, specials=True, **CL)
op("clamp[int]", lambda x: np.clip(x, 1, 3), ALL_REAL, name="clamp", args=(1, 3), **CL)
op("clip", lambda x: np.clip(x, -1.5, 2.0), ALL_REAL, args=(-1.5, 2.0), err_name="clamp", **CL)
# pow with a number exponent (the exponent takes part in promotion: int ** 0.5 is float32)
op("pow[2]", np.square, ALL_REAL + COMPLEX, name="pow", args=(2,), domains=(Domain(-6, 6, -11, 11),),
   promote_args=True)
op("pow[0.5]", np.sqrt, ALL_REAL + COMPLEX, name="pow", args=(0.5,), domains=(NONNEG,), specials=True,
   promote_args=True)
op("pow[-1.5]", lambda x: np.power(x, -1.5), ALL_REAL + COMPLEX, name="pow", args=(-1.5,), domains=(POS,),
   tol=_tol(float32=(1e-5, 1e-6)), promote_args=True)
op("pow[3]", lambda x: np.power(x, 3), ALL_REAL + COMPLEX, name="pow", args=(3,), domains=(Domain(-4, 4, -5, 5),),
   tol=_tol(float32=(1e-5, 1e-6)), promote_args=True)

# ---- binary ops -----------------------------------------------------------------------------------
B = dict(nargs=2)
op("add", np.add, ALL, domains=(WIDE_INT,), **B)
op("add[alpha]", lambda a, b: a + 2 * b if a.dtype != np.bool_ else a | b, ALL, name="add", kwargs={"alpha": 2}, **B)
op("sub", np.subtract, REAL + COMPLEX, domains=(WIDE_INT,), **B)
op("sub[alpha]", lambda a, b: a - 3 * b, REAL + COMPLEX, name="sub", kwargs={"alpha": 3}, **B)
op("mul", np.multiply, ALL, domains=(WIDE_INT,), **B)
op("div", np.true_divide, FLOAT_RULE + COMPLEX, rule="float", domains=(ANY, DIVISOR), specials=True, **B)
op("div[floor]", np.floor_divide, REAL, name="div", kwargs={"rounding_mode": "floor"},
   domains=(QUARTERS, DIVISOR), err_name="div_floor", **B)
op("div[trunc]", _div_trunc, REAL, name="div", kwargs={"rounding_mode": "trunc"},
   domains=(QUARTERS, DIVISOR), err_name="div_trunc", **B)
op("floor_divide", np.floor_divide, REAL, domains=(QUARTERS, DIVISOR), err_name="div_floor", **B)
op("remainder", _remainder, REAL, domains=(QUARTERS, DIVISOR), **B)
op("fmod", np.fmod, REAL, domains=(QUARTERS, DIVISOR), **B)
op("pow", _pow, REAL + COMPLEX, domains=(Domain(0.2, 3, -4, 4), Domain(-2, 2, 0, 5)),
   tol=_tol(float32=(1e-5, 1e-6), complex64=(2e-5, 2e-6)), **B)
op("atan2", np.arctan2, FLOAT_RULE, rule="float", specials=True, **B)
op("hypot", np.hypot, FLOAT_RULE, rule="float", specials=True, **B)
op("copysign", _copysign, FLOAT_RULE, rule="float", specials=True, **B)
op("logaddexp", _logaddexp, FLOAT_RULE, rule="float", specials=True, **B)
op("maximum", np.maximum, ALL_REAL, domains=(WIDE_INT,), specials=True, **B)
op("minimum", np.minimum, ALL_REAL, domains=(WIDE_INT,), specials=True, **B)
op("fmax", _fmax, ALL_REAL, domains=(WIDE_INT,), specials=True, **B)
op("fmin", np.fmin, ALL_REAL, domains=(WIDE_INT,), specials=True, **B)
op("bitwise_and", np.bitwise_and, BOOL + INTS, domains=(WIDE_INT,), **B)
op("bitwise_or", np.bitwise_or, BOOL + INTS, domains=(WIDE_INT,), **B)
op("bitwise_xor", np.bitwise_xor, BOOL + INTS, domains=(WIDE_INT,), **B)
op("bitwise_left_shift", _lshift, INTS, domains=(Domain(ilo=-100, ihi=100), Domain(ilo=0, ihi=7)),
   err_name="left_shift", **B)
op("bitwise_right_shift", _rshift, INTS, domains=(WIDE_INT, Domain(ilo=0, ihi=7)), err_name="right_shift", **B)
op("logical_and", np.logical_and, ALL, rule="bool", inplace=True, **B)
op("logical_or", np.logical_or, ALL, rule="bool", inplace=True, **B)
op("logical_xor", np.logical_xor, ALL, rule="bool", inplace=True, **B)
_CMP = dict(rule="bool", domains=(Domain(-2, 2, -2, 2, quant=2),), specials=True, **B)
op("eq", np.equal, ALL, **_CMP)
op("ne", np.not_equal, ALL, **_CMP)
op("lt", np.less, ALL_REAL, **_CMP)
op("le", np.less_equal, ALL_REAL, **_CMP)
op("gt", np.greater, ALL_REAL, **_CMP)
op("ge", np.greater_equal, ALL_REAL, **_CMP)

# ---- ternary and friends ---------------------------------------------------------------------------
op("where", _where, ALL, nargs=3, arg_kinds=("bool", "x", "x"), method=False, inplace=False)
op("lerp", _lerp, FLOATS, nargs=3, tol=_tol(float32=(1e-5, 1e-6)))
op("lerp[scalar]", lambda a, b: a + 0.3 * (b - a), FLOATS, name="lerp", nargs=2, args=(0.3,),
   tol=_tol(float32=(1e-5, 1e-6)))
op("clamp[tensor]", _clamp_t, REAL, name="clamp", nargs=3,
   domains=(ANY, Domain(-3, 0, -10, 0), Domain(0, 3, 0, 10)))
op("masked_fill", lambda x, m: _masked_fill(x, m, 1), ALL, nargs=2, args=(1,),
   arg_kinds=("x", "bool"), out=False)

BY_ID = {s.id: s for s in SPECS}
UNARY = [s for s in SPECS if s.nargs == 1]
BINARY = [s for s in SPECS if s.nargs == 2 and s.arg_kinds == ("x", "x") and not s.args]


def specials_for(dtype):
    """nan/inf/-0/extremes of a float dtype, as float64."""
    big = {"float16": 60000.0, "bfloat16": 1e38, "float32": 3e38, "float64": 1e300}[dtype]
    tiny = {"float16": 1e-7, "bfloat16": 1e-39, "float32": 1e-40, "float64": 1e-310}[dtype]
    return np.array([math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, tiny, -tiny,
                     big, -big, 1.0 / 3.0])


# ---- tensors <-> NumPy for the tests ------------------------------------------------------------
NP_STORAGE = {"bool": np.bool_, "uint8": np.uint8, "int8": np.int8, "int16": np.int16, "int32": np.int32,
              "int64": np.int64, "float16": np.float16, "float32": np.float32, "float64": np.float64,
              "complex64": np.complex64}


def round_bf16(x):
    """float64 values rounded to bfloat16 (round to nearest even), returned as float64."""
    f = np.asarray(x, dtype=np.float32)
    u = f.view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
    out = r.astype(np.uint32).view(np.float32).astype(np.float64)
    return np.where(np.isnan(f), np.nan, out)


def cast(values, dtype):
    """NumPy values converted to an ember dtype's value set (wrapping ints, rounding floats),
    returned in the wide NumPy dtype."""
    v = np.asarray(values)
    if dtype == "bfloat16":
        return round_bf16(np.real(v) if np.iscomplexobj(v) else v)
    if kind(dtype) != "complex" and np.iscomplexobj(v):
        v = v.real
    if kind(dtype) == "int" and v.dtype.kind == "f":
        v = np.nan_to_num(v)  # NumPy warns on nan -> int; ember's value is unspecified there
    with np.errstate(all="ignore"):
        return v.astype(NP_STORAGE[dtype]).astype(wide(dtype))


def make(ember, values, dtype):
    """An ember tensor of `dtype` holding `values` (a NumPy array or number), own storage."""
    v = np.asarray(values)
    with np.errstate(all="ignore"):  # (np.ascontiguousarray would turn 0-d into 1-d)
        a = np.array(v.astype(np.float32 if dtype == "bfloat16" else NP_STORAGE[dtype]), order="C")
    t = ember.from_numpy(a)
    return t.to(ember.bfloat16) if dtype == "bfloat16" else t.clone()


def to_np(t):
    """The values of an ember tensor as a wide NumPy array (float64/int64/complex128/bool)."""
    name = t.dtype.name
    if name == "bfloat16":
        return t.float().numpy().astype(np.float64)
    return np.asarray(t.numpy()).astype(wide(name))


def assert_close(actual, expected, dtype, tol, msg=""):
    """Compares an ember tensor with expected wide NumPy values (already cast to dtype)."""
    got = to_np(actual)
    assert got.shape == np.shape(expected), f"{msg}: shape {got.shape} != {np.shape(expected)}"
    if kind(dtype) in ("float", "complex"):
        rtol, atol = tol[dtype]
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True, err_msg=msg)
    else:
        np.testing.assert_array_equal(got, expected, err_msg=msg)
