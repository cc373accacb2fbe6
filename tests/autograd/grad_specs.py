"""The autograd op table: one GradSpec per op (or op variant) whose gradient is checked.

It drives tests/autograd/test_op_grads.py (ember's gradcheck and gradgradcheck, contiguous and
non-contiguous inputs) and tests/parity/test_autograd_parity.py (values, first and second order
gradients against PyTorch on identical float64 inputs).

An entry says how to call the op as `fn(m, *xs)` where `m` is the module (`ember` or `torch`;
`nnf(m, name)` finds the few functions torch keeps in torch.nn.functional) and `xs` are the
differentiable float64 inputs; index tensors and masks are constants built inside `fn` with
`idx(m, ...)` / `mask(m, ...)`. Inputs are drawn per input from a `Dom` (a range, points to keep
away from, e.g. the kink of abs, or pairwise distinct values, e.g. for max and sort, so that the
op is differentiable at every input), and `cond` rejects a joint draw (e.g. maximum(a, b) needs
|a - b| not small) until it holds.

Adding an op: one row here. Keep the shapes tiny: every entry runs gradcheck twice (contiguous and
non-contiguous) and gradgradcheck once.
"""
import math
import zlib
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import numpy as np


# ---- module helpers (the same fn runs on ember and on torch) ------------------------------------
def is_torch(m):
    return m.__name__ == "torch"


def nnf(m, name):
    """m.<name>, or torch.nn.functional.<name> for torch (gelu, softplus, silu, mish, pad)."""
    if is_torch(m):
        import torch.nn.functional as F
        return getattr(F, name)
    return getattr(m, name)


def idx(m, values):
    """An int64 index tensor of module m."""
    return m.from_numpy(np.array(values, dtype=np.int64))


def mask(m, values):
    """A bool tensor of module m."""
    return m.from_numpy(np.array(values, dtype=np.bool_))


def outputs(r):
    """An op's result as a tuple of tensors (ops like split and unbind return several)."""
    if isinstance(r, (tuple, list)):
        return tuple(r)
    return (r,)


# ---- input domains -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dom:
    """Where one input's float64 values come from.

    Uniform in [lo, hi), then moved at least `gap` away from each point of `avoid` (kinks and
    discontinuities). `distinct`: values pairwise at least `gap` apart (a shuffled grid with a
    little jitter), so max/sort/median have no ties; with `signs`, each value is then negated
    with probability 1/2 (distinct magnitudes, for norm(inf)). `nan_at` / `zero_at`: flat
    positions set to nan / 0 after sampling.
    """
    lo: float = -2.0
    hi: float = 2.0
    avoid: Tuple[float, ...] = ()
    gap: float = 0.1
    distinct: bool = False
    signs: bool = False
    nan_at: Tuple[int, ...] = ()
    zero_at: Tuple[int, ...] = ()

    def sample(self, rng, shape):
        n = int(np.prod(shape, dtype=np.int64))
        if self.distinct:
            step = max((self.hi - self.lo) / max(n - 1, 1), 3 * self.gap)
            grid = self.lo + step * np.arange(n)
            v = rng.permutation(grid) + rng.uniform(-self.gap / 2, self.gap / 2, n)
        else:
            v = rng.uniform(self.lo, self.hi, n)
            for p in self.avoid:
                near = np.abs(v - p) < self.gap
                v[near] = p + np.where(v[near] >= p, 1.5, -1.5) * self.gap
        if self.signs:
            v = v * np.where(rng.random(n) < 0.5, -1.0, 1.0)
        for i in self.nan_at:
            v[i] = math.nan
        for i in self.zero_at:
            v[i] = 0.0
        return v.reshape(shape)


ANY = Dom()
POS = Dom(0.3, 3.0)
UNIT = Dom(-0.9, 0.9)
NONZERO = Dom(-2.0, 2.0, avoid=(0.0,), gap=0.3)
DISTINCT = Dom(-2.0, 2.0, distinct=True, gap=0.1)
NEAR_ONE = Dom(0.5, 1.5)  # prod / cumprod: products stay of order 1


# ---- the spec ------------------------------------------------------------------------------------
@dataclass
class GradSpec:
    """One differentiable op (or variant).

    id       test id
    fn       fn(m, *xs) -> tensor or tuple of tensors; m is ember or torch
    shapes   one shape per differentiable input
    doms     one Dom per input (the last one repeats)
    cond     cond(*arrays) -> bool: a joint draw is redrawn until it holds
    gg       the op claims double backward: gradgradcheck (and second-order parity) run
    nc       the op accepts non-contiguous inputs of these shapes (False: e.g. view, as_strided)
    """
    id: str
    fn: Callable
    shapes: Tuple[tuple, ...]
    doms: Tuple[Dom, ...] = (ANY,)
    cond: Optional[Callable] = None
    gg: bool = True
    nc: bool = True

    def __post_init__(self):
        self.shapes = tuple(tuple(s) for s in self.shapes)
        if len(self.doms) < len(self.shapes):
            self.doms = tuple(self.doms) + (self.doms[-1],) * (len(self.shapes) - len(self.doms))

    def arrays(self, seed=0):
        """The float64 NumPy inputs (deterministic per id and seed)."""
        rng = np.random.default_rng(zlib.crc32(f"{self.id}/{seed}".encode()))
        for _ in range(2000):
            vals = [d.sample(rng, s) for d, s in zip(self.doms, self.shapes)]
            if self.cond is None or self.cond(*vals):
                return vals
        raise AssertionError(f"{self.id}: no draw satisfies cond")

    def call(self, m, *xs):
        return outputs(self.fn(m, *xs))


def make_input(m, values, layout="contig", requires_grad=True):
    """A float64 leaf tensor of module m holding `values` in a layout: 'contig', or 'noncontig'
    (dims reversed in memory: a permuted view; 1-d: every other element of a longer buffer)."""
    v = np.asarray(values, dtype=np.float64)
    if layout == "contig" or v.ndim == 0:
        t = m.from_numpy(np.array(v, copy=True))
    elif v.ndim == 1:
        buf = np.zeros(2 * v.shape[0] + 1)
        buf[1::2] = v
        t = m.from_numpy(buf)[1::2]
    else:
        order = tuple(range(v.ndim))[::-1]
        t = m.from_numpy(np.ascontiguousarray(v.transpose(order))).permute(*order)
    if requires_grad:
        t.requires_grad_(True)
    return t


SPECS = []


def spec(id, fn, shapes, doms=(ANY,), **kw):
    s = GradSpec(id=id, fn=fn, shapes=shapes, doms=doms, **kw)
    SPECS.append(s)
    return s


S = (3, 4)
S3 = (2, 3, 4)


# ---- conditions ----------------------------------------------------------------------------------
def _apart(gap=0.15):
    """a and b (broadcast) are nowhere closer than gap: maximum/minimum/fmax/fmin."""
    return lambda a, b: np.abs(a - b).min() > gap


def _rem_ok(a, b):
    """a / b is not close to an integer and |b| is not small: remainder/fmod are smooth there."""
    q = a / b
    return np.abs(b).min() > 0.3 and np.abs(q - np.round(q)).min() > 0.1


def _clamp_ok(x, lo, hi):
    return (np.abs(x - lo).min() > 0.1 and np.abs(x - hi).min() > 0.1 and (lo < hi).all())


# ---- unary ops -------------------------------------------------------------------------------------
U = (S,)
spec("exp", lambda m, x: m.exp(x), U)
spec("exp2", lambda m, x: m.exp2(x), U)
spec("expm1", lambda m, x: m.expm1(x), U)
spec("log", lambda m, x: m.log(x), U, (POS,))
spec("log2", lambda m, x: m.log2(x), U, (POS,))
spec("log10", lambda m, x: m.log10(x), U, (POS,))
spec("log1p", lambda m, x: m.log1p(x), U, (Dom(-0.6, 2.0),))
spec("sqrt", lambda m, x: m.sqrt(x), U, (POS,))
spec("rsqrt", lambda m, x: m.rsqrt(x), U, (POS,))
spec("sin", lambda m, x: m.sin(x), U, (Dom(-3, 3),))
spec("cos", lambda m, x: m.cos(x), U, (Dom(-3, 3),))
spec("tan", lambda m, x: m.tan(x), U, (Dom(-1.2, 1.2),))
spec("asin", lambda m, x: m.asin(x), U, (UNIT,))
spec("acos", lambda m, x: m.acos(x), U, (UNIT,))
spec("atan", lambda m, x: m.atan(x), U)
spec("sinh", lambda m, x: m.sinh(x), U)
spec("cosh", lambda m, x: m.cosh(x), U)
spec("tanh", lambda m, x: m.tanh(x), U)
spec("asinh", lambda m, x: m.asinh(x), U)
spec("acosh", lambda m, x: m.acosh(x), U, (Dom(1.2, 3.0),))
spec("atanh", lambda m, x: m.atanh(x), U, (UNIT,))
spec("erf", lambda m, x: m.erf(x), U)
spec("erfc", lambda m, x: m.erfc(x), U)
spec("erfinv", lambda m, x: m.erfinv(x), U, (UNIT,))
spec("lgamma", lambda m, x: m.lgamma(x), U, (Dom(0.3, 4.0),))
spec("digamma", lambda m, x: m.digamma(x), U, (Dom(0.3, 4.0),), gg=False)  # trigamma's derivative: not implemented
spec("lgamma[negative]", lambda m, x: m.lgamma(x), U, (Dom(-2.8, -2.2),))
spec("sigmoid", lambda m, x: m.sigmoid(x), U, (Dom(-4, 4),))
spec("logit", lambda m, x: m.logit(x), U, (Dom(0.05, 0.95),))
spec("logit[eps]", lambda m, x: m.logit(x, eps=0.2), U, (Dom(-0.1, 1.1, avoid=(0.2, 0.8), gap=0.05),))
spec("silu", lambda m, x: nnf(m, "silu")(x), U, (Dom(-4, 4),))
spec("mish", lambda m, x: nnf(m, "mish")(x), U, (Dom(-4, 4),))
spec("gelu", lambda m, x: nnf(m, "gelu")(x), U, (Dom(-4, 4),))
spec("gelu[tanh]", lambda m, x: nnf(m, "gelu")(x, approximate="tanh"), U, (Dom(-4, 4),))
spec("softplus", lambda m, x: nnf(m, "softplus")(x), U, (Dom(-4, 4),))
spec("softplus[beta]", lambda m, x: nnf(m, "softplus")(x, beta=2.0, threshold=3.0), U,
     (Dom(-3, 3, avoid=(1.5,), gap=0.1),))
spec("reciprocal", lambda m, x: m.reciprocal(x), U, (NONZERO,))
spec("neg", lambda m, x: m.neg(x), U)
spec("abs", lambda m, x: m.abs(x), U, (NONZERO,))
spec("square", lambda m, x: m.square(x), U)
spec("relu", lambda m, x: m.relu(x), U, (NONZERO,))
spec("clamp", lambda m, x: m.clamp(x, -0.5, 0.7), U, (Dom(-2, 2, avoid=(-0.5, 0.7)),))
spec("clamp[min]", lambda m, x: m.clamp(x, min=-0.5), U, (Dom(-2, 2, avoid=(-0.5,)),))
spec("clamp[max]", lambda m, x: m.clamp(x, max=0.7), U, (Dom(-2, 2, avoid=(0.7,)),))
spec("pow[2]", lambda m, x: m.pow(x, 2), U)
spec("pow[3]", lambda m, x: m.pow(x, 3), U)
spec("pow[0.5]", lambda m, x: m.pow(x, 0.5), U, (POS,))
spec("pow[-1.5]", lambda m, x: m.pow(x, -1.5), U, (POS,))
spec("pow[0]", lambda m, x: m.pow(x, 0), U)
spec("__pow__[2.5]", lambda m, x: x ** 2.5, U, (POS,))
spec("__rpow__", lambda m, x: 2.0 ** x, U)
spec("frac", lambda m, x: m.frac(x), U, (Dom(-2.9, 2.9, avoid=(-2.0, -1.0, 0.0, 1.0, 2.0)),))
spec("__mul__[scalar]", lambda m, x: x * 2.5, U)
spec("__rsub__", lambda m, x: 3.0 - x, U)
spec("__rtruediv__", lambda m, x: 3.0 / x, U, (NONZERO,))
spec("__truediv__[scalar]", lambda m, x: x / 4.0, U)
spec("exp[0d]", lambda m, x: m.exp(x), ((),))
spec("tanh[3d]", lambda m, x: m.tanh(x), (S3,))

# ---- binary ops ---------------------------------------------------------------------------------------
BC = ((3, 1), (1, 4))  # broadcasting both ways
spec("add", lambda m, a, b: m.add(a, b), (S, S))
spec("add[bcast]", lambda m, a, b: a + b, BC)
spec("add[alpha]", lambda m, a, b: m.add(a, b, alpha=2.5), BC)
spec("add[0d]", lambda m, a, b: a + b, (S, ()))
spec("sub", lambda m, a, b: m.sub(a, b), (S, (4,)))
spec("sub[alpha]", lambda m, a, b: m.sub(a, b, alpha=-1.5), BC)
spec("mul", lambda m, a, b: m.mul(a, b), (S, S))
spec("mul[bcast]", lambda m, a, b: a * b, BC)
spec("mul[same]", lambda m, a: a * a, (S,))
spec("div", lambda m, a, b: m.div(a, b), (S, S), (ANY, NONZERO))
spec("div[bcast]", lambda m, a, b: a / b, BC, (ANY, NONZERO))
spec("pow[tensor]", lambda m, a, b: m.pow(a, b), BC, (POS, Dom(-1.5, 1.5)))
spec("atan2", lambda m, a, b: m.atan2(a, b), BC, (NONZERO, ANY))
spec("hypot", lambda m, a, b: m.hypot(a, b), BC, (NONZERO, ANY))
spec("logaddexp", lambda m, a, b: m.logaddexp(a, b), BC)
spec("maximum", lambda m, a, b: m.maximum(a, b), BC, cond=_apart())
spec("minimum", lambda m, a, b: m.minimum(a, b), BC, cond=_apart())
spec("fmax", lambda m, a, b: m.fmax(a, b), (S, S), cond=_apart())
spec("fmin", lambda m, a, b: m.fmin(a, b), BC, cond=_apart())
spec("remainder", lambda m, a, b: m.remainder(a, b), (S, S), (Dom(-4, 4), NONZERO), cond=_rem_ok)
spec("fmod", lambda m, a, b: m.fmod(a, b), BC, (Dom(-4, 4), NONZERO), cond=_rem_ok)
spec("copysign", lambda m, a, b: m.copysign(a, b), BC, (NONZERO, NONZERO))

# ---- ternary and friends --------------------------------------------------------------------------------
_W = [[True, False, True, False], [False, False, True, True], [True, True, False, False]]
spec("where", lambda m, a, b: m.where(mask(m, _W), a, b), (S, (1, 4)))
spec("where[scalar]", lambda m, a: m.where(mask(m, _W), a, 0.5), (S,))
spec("lerp", lambda m, a, b, w: m.lerp(a, b, w), (S, S, S))
spec("lerp[bcast]", lambda m, a, b, w: m.lerp(a, b, w), ((3, 1), (1, 4), (4,)))
spec("lerp[scalar]", lambda m, a, b: m.lerp(a, b, 0.3), (S, S))
spec("clamp[tensor]", lambda m, x, lo, hi: m.clamp(x, lo, hi), (S, (1, 4), (3, 1)),
     (Dom(-2, 2), Dom(-1.2, -0.2), Dom(0.2, 1.2)), cond=_clamp_ok)
spec("clamp[tensor-min]", lambda m, x, lo: m.clamp(x, min=lo), (S, (4,)), cond=_apart())

# ---- reductions -------------------------------------------------------------------------------------------
spec("sum", lambda m, x: m.sum(x), U)
spec("sum[dim]", lambda m, x: m.sum(x, 1), U)
spec("sum[dims-keepdim]", lambda m, x: m.sum(x, (0, 2), keepdim=True), (S3,))
spec("sum[neg-dim]", lambda m, x: x.sum(-1), (S3,))
spec("mean", lambda m, x: m.mean(x), U)
spec("mean[dim-keepdim]", lambda m, x: m.mean(x, -1, keepdim=True), U)
spec("mean[dims]", lambda m, x: m.mean(x, (0, 1)), (S3,))
spec("prod", lambda m, x: m.prod(x), U, (NEAR_ONE,))
spec("prod[dim]", lambda m, x: m.prod(x, 1), U, (NEAR_ONE,))
spec("prod[dim-keepdim]", lambda m, x: m.prod(x, 0, keepdim=True), U, (NEAR_ONE,))
spec("prod[zero]", lambda m, x: m.prod(x), U, (Dom(0.5, 1.5, zero_at=(5,)),))
spec("prod[two-zeros]", lambda m, x: m.prod(x), U, (Dom(0.5, 1.5, zero_at=(2, 9)),))
spec("prod[dim-zero]", lambda m, x: m.prod(x, 1), U, (Dom(0.5, 1.5, zero_at=(1, 4, 5)),))
spec("amax", lambda m, x: m.amax(x), U, (DISTINCT,))
spec("amax[dim]", lambda m, x: m.amax(x, 1), U, (DISTINCT,))
spec("amax[dims-keepdim]", lambda m, x: m.amax(x, (0, 2), keepdim=True), (S3,), (DISTINCT,))
spec("amin", lambda m, x: m.amin(x), U, (DISTINCT,))
spec("amin[dim-keepdim]", lambda m, x: m.amin(x, 0, keepdim=True), U, (DISTINCT,))
spec("max", lambda m, x: m.max(x), U, (DISTINCT,))
spec("max[dim]", lambda m, x: m.max(x, 1).values, U, (DISTINCT,))
spec("max[dim-keepdim]", lambda m, x: m.max(x, 0, keepdim=True).values, U, (DISTINCT,))
spec("min", lambda m, x: m.min(x), U, (DISTINCT,))
spec("min[dim]", lambda m, x: m.min(x, -1).values, (S3,), (DISTINCT,))
spec("var", lambda m, x: m.var(x), U)
spec("var[dim-c0]", lambda m, x: m.var(x, 1, correction=0), U)
spec("var[dims-keepdim]", lambda m, x: m.var(x, (0, 2), keepdim=True, correction=1), (S3,))
spec("std", lambda m, x: m.std(x), U)
spec("std[dim-c0-keepdim]", lambda m, x: m.std(x, 0, keepdim=True, correction=0), U)
spec("std[dim-c1]", lambda m, x: m.std(x, 1, correction=1), U)
spec("var_mean", lambda m, x: m.var_mean(x, 1, correction=1), U)
spec("std_mean[keepdim]", lambda m, x: m.std_mean(x, 0, correction=0, keepdim=True), U)
spec("norm", lambda m, x: m.norm(x), U)
spec("norm[p2-dim]", lambda m, x: m.norm(x, 2, dim=1), U)
spec("norm[p1]", lambda m, x: m.norm(x, 1), U, (NONZERO,))
spec("norm[p1-dim]", lambda m, x: m.norm(x, 1, dim=0), U, (NONZERO,))
spec("norm[p3-dim-keepdim]", lambda m, x: m.norm(x, 3, dim=1, keepdim=True), U, (NONZERO,))
spec("norm[inf]", lambda m, x: m.norm(x, float("inf")), U, (Dom(0.3, 2.0, distinct=True, signs=True),))
spec("norm[inf-dim]", lambda m, x: m.norm(x, float("inf"), dim=1), U,
     (Dom(0.3, 2.0, distinct=True, signs=True),))
spec("logsumexp", lambda m, x: m.logsumexp(x, 1), U)
spec("logsumexp[dims-keepdim]", lambda m, x: m.logsumexp(x, (0, 1), keepdim=True), (S3,))
spec("nansum", lambda m, x: m.nansum(x), U, (Dom(nan_at=(3, 7)),))
spec("nansum[dim]", lambda m, x: m.nansum(x, 1), U, (Dom(nan_at=(0, 6)),))
spec("nanmean", lambda m, x: m.nanmean(x), U, (Dom(nan_at=(2,)),))
spec("nanmean[dim]", lambda m, x: m.nanmean(x, 1), U, (Dom(nan_at=(1, 5, 6)),))
spec("median", lambda m, x: m.median(x), ((3, 5),), (DISTINCT,))
spec("median[dim]", lambda m, x: m.median(x, 1).values, ((3, 5),), (DISTINCT,))
spec("aminmax[dim]", lambda m, x: tuple(m.aminmax(x, dim=1)), U, (DISTINCT,))
spec("nanmedian[dim]", lambda m, x: m.nanmedian(x, 1).values, ((3, 5),), (DISTINCT,))
spec("median[dim-keepdim]", lambda m, x: m.median(x, 0, keepdim=True).values, U, (DISTINCT,))
spec("cumsum", lambda m, x: m.cumsum(x, 0), U)
spec("cumsum[dim1]", lambda m, x: m.cumsum(x, 1), U)
spec("cumprod", lambda m, x: m.cumprod(x, 1), U, (Dom(0.5, 1.5, signs=True),))
spec("cumprod[zero]", lambda m, x: m.cumprod(x, 1), U, (Dom(0.5, 1.5, zero_at=(1, 6, 7)),))
spec("logcumsumexp", lambda m, x: m.logcumsumexp(x, 1), U)
spec("cummax", lambda m, x: m.cummax(x, 1).values, U, (DISTINCT,))
spec("cummin", lambda m, x: m.cummin(x, 0).values, U, (DISTINCT,))

# ---- views and shape ops ----------------------------------------------------------------------------------
spec("view", lambda m, x: x.view(2, 6), U, nc=False)
spec("view[-1]", lambda m, x: x.view(-1), U, nc=False)
spec("reshape", lambda m, x: x.reshape(4, 3), U)
spec("reshape[3d]", lambda m, x: m.reshape(x, (6, -1)), (S3,))
spec("permute", lambda m, x: x.permute(2, 0, 1), (S3,))
spec("transpose", lambda m, x: m.transpose(x, 0, 2), (S3,))
spec("t", lambda m, x: x.t(), U)
spec("mT", lambda m, x: x.mT, (S3,))
spec("expand", lambda m, x: x.expand(2, 3, 4), ((3, 1),))
spec("expand[-1]", lambda m, x: x.expand(-1, 4), ((3, 1),))
spec("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 3, 4)), ((4,),))
spec("expand_as", lambda m, x: x.expand_as(m.zeros(3, 4, dtype=m.float64)), ((1, 4),))
spec("squeeze", lambda m, x: x.squeeze(), ((3, 1, 4),))
spec("squeeze[dim]", lambda m, x: m.squeeze(x, 1), ((3, 1, 4),))
spec("unsqueeze", lambda m, x: m.unsqueeze(x, 1), U)
spec("narrow", lambda m, x: m.narrow(x, 1, 1, 2), U)
spec("select", lambda m, x: m.select(x, 1, 2), U)
spec("getitem[slice]", lambda m, x: x[1:, ::2], U)
spec("getitem[int]", lambda m, x: x[1], U)
spec("getitem[ellipsis]", lambda m, x: x[..., 1], (S3,))
spec("getitem[none-neg]", lambda m, x: x[None, -2:, 1:3], U)
spec("diagonal", lambda m, x: m.diagonal(x), U)
spec("diagonal[offset]", lambda m, x: m.diagonal(x, 1), U)
spec("diagonal[3d]", lambda m, x: m.diagonal(x, -1, 1, 2), (S3,))
spec("as_strided", lambda m, x: m.as_strided(x, (3, 3), (2, 1)), ((9,),), nc=False)
spec("as_strided[overlap]", lambda m, x: m.as_strided(x, (4, 3), (1, 1), 1), ((8,),), nc=False)
spec("unbind", lambda m, x: m.unbind(x, 1), U)
spec("split", lambda m, x: m.split(x, 2, dim=1), ((3, 5),))
spec("split[sizes]", lambda m, x: m.split(x, [1, 3], dim=1), U)
spec("chunk", lambda m, x: m.chunk(x, 2, 0), U)
spec("flatten", lambda m, x: m.flatten(x), (S3,))
spec("flatten[range]", lambda m, x: m.flatten(x, 1, 2), (S3,))
spec("unflatten", lambda m, x: m.unflatten(x, 1, (2, 2)), U)
spec("movedim", lambda m, x: m.movedim(x, 0, -1), (S3,))
spec("cat", lambda m, a, b: m.cat([a, b], 0), (S, (2, 4)))
spec("cat[dim1]", lambda m, a, b, c: m.cat([a, b, c], 1), (S, (3, 1), (3, 2)))
spec("stack", lambda m, a, b: m.stack([a, b], 1), (S, S))
spec("flip", lambda m, x: m.flip(x, (0,)), U)
spec("flip[dims]", lambda m, x: m.flip(x, (0, 2)), (S3,))
spec("roll", lambda m, x: m.roll(x, 1, 0), U)
spec("roll[dims]", lambda m, x: m.roll(x, (2, -1), (1, 0)), U)
spec("roll[flat]", lambda m, x: m.roll(x, 5), U)
spec("repeat", lambda m, x: x.repeat(2, 1, 3), U)
spec("tile", lambda m, x: m.tile(x, (2, 1)), U)
spec("repeat_interleave", lambda m, x: m.repeat_interleave(x, 2, dim=0), U)
spec("repeat_interleave[tensor]", lambda m, x: m.repeat_interleave(x, idx(m, [1, 0, 2, 3]), dim=1), U)
spec("repeat_interleave[flat]", lambda m, x: m.repeat_interleave(x, 2), U)
spec("tril", lambda m, x: m.tril(x), U)
spec("triu[1]", lambda m, x: m.triu(x, 1), U)
spec("tril[-1]", lambda m, x: m.tril(x, -1), (S3,))
spec("pad[constant]", lambda m, x: nnf(m, "pad")(x, (1, 2), value=1.5), U)
spec("pad[constant-2d]", lambda m, x: nnf(m, "pad")(x, (1, 0, 2, 1)), U)
spec("pad[constant-neg]", lambda m, x: nnf(m, "pad")(x, (-1, 2)), U)
spec("pad[reflect]", lambda m, x: nnf(m, "pad")(x, (1, 2, 2, 1), mode="reflect"), (S3,))
spec("pad[reflect-1d]", lambda m, x: nnf(m, "pad")(x, (2, 1), mode="reflect"), U)
spec("pad[replicate]", lambda m, x: nnf(m, "pad")(x, (1, 2, 2, 1), mode="replicate"), (S3,))
spec("pad[circular]", lambda m, x: nnf(m, "pad")(x, (1, 2, 2, 1), mode="circular"), (S3,))
spec("diag[1d]", lambda m, x: m.diag(x), ((4,),))
spec("diag[1d-offset]", lambda m, x: m.diag(x, -1), ((3,),))
spec("diag[2d]", lambda m, x: m.diag(x), U)
spec("diag[2d-offset]", lambda m, x: m.diag(x, 1), U)
spec("diag_embed", lambda m, x: m.diag_embed(x), U)
spec("diag_embed[offset]", lambda m, x: m.diag_embed(x, 1, 0, 2), U)
spec("contiguous", lambda m, x: x.contiguous() * 1.0, U)
spec("clone", lambda m, x: m.clone(x), U)
spec("to[same-dtype]", lambda m, x: (x * 1.5).to(m.float64), U)

# ---- indexing ---------------------------------------------------------------------------------------------
_M = [[True, False, True, True], [False, False, True, False], [True, True, False, True]]
spec("getitem[list]", lambda m, x: x[[0, 2]], U)
spec("getitem[list-dup]", lambda m, x: x[[0, 2, 0, 0]], U)
spec("getitem[tensor-dim1]", lambda m, x: x[:, idx(m, [3, 1, 3])], U)
spec("getitem[two-lists]", lambda m, x: x[idx(m, [0, 1, 2, 0]), idx(m, [3, 0, 1, 3])], U)
spec("getitem[mask]", lambda m, x: x[mask(m, _M)], U)
spec("getitem[mask-row]", lambda m, x: x[mask(m, [True, False, True])], U)
spec("index_select", lambda m, x: m.index_select(x, 1, idx(m, [2, 0, 2])), U)
spec("gather", lambda m, x: m.gather(x, 1, idx(m, [[0, 0], [1, 3], [2, 2]])), U)
spec("gather[dim0]", lambda m, x: m.gather(x, 0, idx(m, [[0, 1, 2, 0], [2, 2, 1, 0]])), U)
_SI = [[0, 3], [1, 2], [2, 0]]  # unique per row: scatter without overwrite races
spec("scatter", lambda m, x, s: m.scatter(x, 1, idx(m, _SI), s), (S, (3, 2)))
spec("scatter[value]", lambda m, x: m.scatter(x, 1, idx(m, _SI), value=2.0), U)
spec("scatter_add", lambda m, x, s: m.scatter_add(x, 1, idx(m, [[0, 0], [1, 1], [3, 3]]), s), (S, (3, 2)))
spec("scatter_reduce[sum]", lambda m, x, s: m.scatter_reduce(x, 1, idx(m, [[0, 0], [1, 2], [3, 3]]), s, "sum"), (S, (3, 2)))
spec("scatter_reduce[sum-no-self]", lambda m, x, s: m.scatter_reduce(x, 1, idx(m, [[0, 0], [1, 2], [3, 3]]), s, "sum", include_self=False), (S, (3, 2)))
spec("scatter_reduce[mean]", lambda m, x, s: m.scatter_reduce(x, 1, idx(m, [[0, 0], [1, 2], [3, 3]]), s, "mean", include_self=True), (S, (3, 2)))
spec("scatter_reduce[mean-no-self]", lambda m, x, s: m.scatter_reduce(x, 1, idx(m, [[0, 0], [1, 2], [3, 3]]), s, "mean", include_self=False), (S, (3, 2)))
spec("scatter_reduce[amax]", lambda m, x, s: m.scatter_reduce(x, 1, idx(m, [[0, 0], [1, 2], [3, 3]]), s, "amax", include_self=True), (S, (3, 2)))
spec("scatter_reduce[amax-no-self]", lambda m, x, s: m.scatter_reduce(x, 1, idx(m, [[0, 0], [1, 2], [3, 3]]), s, "amax", include_self=False), (S, (3, 2)))
spec("scatter_reduce[amin]", lambda m, x, s: m.scatter_reduce(x, 1, idx(m, [[0, 0], [1, 2], [3, 3]]), s, "amin", include_self=True), (S, (3, 2)))
spec("scatter_reduce[amin-no-self]", lambda m, x, s: m.scatter_reduce(x, 1, idx(m, [[0, 0], [1, 2], [3, 3]]), s, "amin", include_self=False), (S, (3, 2)))
spec("index_add", lambda m, x, s: m.index_add(x, 0, idx(m, [0, 2, 0]), s), (S, (3, 4)))
spec("index_add[alpha]", lambda m, x, s: m.index_add(x, 1, idx(m, [1, 1]), s, alpha=-2.0), (S, (3, 2)))
spec("index_copy", lambda m, x, s: m.index_copy(x, 0, idx(m, [2, 0]), s), (S, (2, 4)))
spec("index_fill", lambda m, x: m.index_fill(x, 1, idx(m, [0, 2]), -1.0), U)
spec("masked_fill", lambda m, x: m.masked_fill(x, mask(m, _M), 0.5), U)
spec("masked_fill[bcast]", lambda m, x: x.masked_fill(mask(m, [[True, False, False, True]]), -1.0), U)
spec("masked_select", lambda m, x: m.masked_select(x, mask(m, _M)), U)
spec("masked_scatter", lambda m, x, s: x.masked_scatter(mask(m, _M), s), (S, (10,)))
spec("take", lambda m, x: m.take(x, idx(m, [0, 5, 11, 5])), U)
spec("take_along_dim", lambda m, x: m.take_along_dim(x, idx(m, [[0], [3], [1]]), 1), U)
spec("put", lambda m, x, s: x.put(idx(m, [1, 7, 10]), s), (S, (3,)))
spec("put[accumulate]", lambda m, x, s: x.put(idx(m, [1, 7, 1]), s, accumulate=True), (S, (3,)))
spec("index_put", lambda m, x, v: m.index_put(x, (idx(m, [0, 2]), idx(m, [1, 3])), v), (S, (2,)))
spec("index_put[accumulate]", lambda m, x, v: m.index_put(x, (idx(m, [0, 2, 0]), idx(m, [1, 3, 1])), v,
                                                          accumulate=True), (S, (3,)))
spec("index_put[bcast-value]", lambda m, x, v: m.index_put(x, (idx(m, [1]),), v), (S, (4,)))

# ---- sort / selection -------------------------------------------------------------------------------------
spec("sort", lambda m, x: m.sort(x, 1).values, U, (DISTINCT,))
spec("sort[desc-dim0]", lambda m, x: m.sort(x, 0, descending=True).values, U, (DISTINCT,))
spec("topk", lambda m, x: m.topk(x, 2).values, U, (DISTINCT,))
spec("topk[smallest-dim0]", lambda m, x: m.topk(x, 2, dim=0, largest=False).values, U, (DISTINCT,))
spec("kthvalue", lambda m, x: m.kthvalue(x, 2, 1).values, U, (DISTINCT,))
spec("kthvalue[keepdim]", lambda m, x: m.kthvalue(x, 3, 0, keepdim=True).values, U, (DISTINCT,))
spec("msort", lambda m, x: m.msort(x), U, (DISTINCT,))

# ---- linear algebra ---------------------------------------------------------------------------------------
spec("mm", lambda m, a, b: m.mm(a, b), ((3, 4), (4, 2)))
spec("bmm", lambda m, a, b: m.bmm(a, b), ((2, 3, 4), (2, 4, 2)))
spec("matmul[1d-1d]", lambda m, a, b: m.matmul(a, b), ((4,), (4,)))
spec("matmul[1d-2d]", lambda m, a, b: m.matmul(a, b), ((3,), (3, 4)))
spec("matmul[2d-1d]", lambda m, a, b: a @ b, ((3, 4), (4,)))
spec("matmul[2d-2d]", lambda m, a, b: a @ b, ((3, 4), (4, 2)))
spec("matmul[3d-2d]", lambda m, a, b: m.matmul(a, b), ((2, 3, 4), (4, 2)))
spec("matmul[2d-3d]", lambda m, a, b: m.matmul(a, b), ((3, 4), (2, 4, 2)))
spec("matmul[1d-3d]", lambda m, a, b: m.matmul(a, b), ((4,), (2, 4, 3)))
spec("matmul[bcast-batch]", lambda m, a, b: m.matmul(a, b), ((2, 1, 3, 4), (3, 4, 2)))
spec("mv", lambda m, a, b: m.mv(a, b), ((3, 4), (4,)))
spec("dot", lambda m, a, b: m.dot(a, b), ((5,), (5,)))
spec("vdot", lambda m, a, b: m.vdot(a, b), ((5,), (5,)))
spec("outer", lambda m, a, b: m.outer(a, b), ((3,), (4,)))
spec("addmm", lambda m, c, a, b: m.addmm(c, a, b), ((3, 2), (3, 4), (4, 2)))
spec("addmm[bcast-scaled]", lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=-2.0), ((2,), (3, 4), (4, 2)))
spec("baddbmm", lambda m, c, a, b: m.baddbmm(c, a, b, beta=1.5, alpha=0.5), ((2, 3, 2), (2, 3, 4), (2, 4, 2)))
spec("addmv", lambda m, c, a, b: m.addmv(c, a, b, beta=2.0, alpha=0.5), ((3,), (3, 4), (4,)))
spec("addr", lambda m, c, a, b: m.addr(c, a, b, beta=-1.0, alpha=3.0), ((3, 4), (3,), (4,)))
spec("einsum[mm]", lambda m, a, b: m.einsum("ij,jk->ik", a, b), ((3, 4), (4, 2)))
spec("einsum[batch]", lambda m, a, b: m.einsum("bij,bjk->bik", a, b), ((2, 3, 4), (2, 4, 2)))
spec("einsum[trace-sum]", lambda m, a, b: m.einsum("ii,j->j", a, b), ((3, 3), (4,)))
spec("einsum[outer-reduce]", lambda m, a, b: m.einsum("ij,kj->ki", a, b), ((3, 4), (2, 4)))
spec("einsum[diag]", lambda m, a: m.einsum("ii->i", a), ((3, 3),))
spec("einsum[sum]", lambda m, a: m.einsum("ijk->j", a), (S3,))
spec("tensordot", lambda m, a, b: m.tensordot(a, b, dims=1), ((3, 4), (4, 2)))
spec("tensordot[2]", lambda m, a, b: m.tensordot(a, b, dims=2), ((2, 3, 4), (3, 4, 2)))
spec("tensordot[lists]", lambda m, a, b: m.tensordot(a, b, dims=([1, 0], [0, 2])), ((3, 2, 4), (2, 4, 3)))
spec("kron", lambda m, a, b: m.kron(a, b), ((2, 3), (3, 2)))
spec("inner", lambda m, a, b: m.inner(a, b), ((3, 4), (2, 4)))

# ---- compositions (several nodes, shared inputs) ------------------------------------------------------------
spec("softmax-by-hand", lambda m, x: m.exp(x - m.logsumexp(x, 1, keepdim=True)), U)
spec("mlp", lambda m, x, w, b: m.tanh(x @ w + b).sum(1), ((3, 4), (4, 2), (2,)))
spec("shared-input", lambda m, x: m.sin(x) * m.exp(x) + x * x.sum(), U)

BY_ID = {s.id: s for s in SPECS}
assert len(BY_ID) == len(SPECS), "duplicate spec ids"
