// Front ends of the reductions and scans: argument checks, dtype rules (PyTorch's), output
// shapes, and the ReducePlan / ScanPlan handed to the kernels (see reduce.h).
#include "reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "creation.h"
#include "elementwise.h"
#include "view.h"

namespace ember {

#define EMBER_STUB_ENTRY(name) DispatchStub<ReduceKernel>(#name),
DispatchStub<ReduceKernel> reduce_stubs[int(ReduceOp::Count)] = {EMBER_REDUCE_OPS(EMBER_STUB_ENTRY)};
#undef EMBER_STUB_ENTRY
#define EMBER_STUB_ENTRY(name) DispatchStub<ScanKernel>(#name),
DispatchStub<ScanKernel> scan_stubs[int(ScanOp::Count)] = {EMBER_SCAN_OPS(EMBER_STUB_ENTRY)};
#undef EMBER_STUB_ENTRY
DispatchStub<MedianKernel> median_stub("median");

namespace {

using Mask = uint64_t;
constexpr Mask bit(int64_t d) { return Mask(1) << d; }

// The set of reduced dims; nullopt or empty = all.
Mask dim_mask(const char* op, const Tensor& x, const OptDims& dims) {
  const int64_t nd = x.dim();
  if (!dims || dims->empty()) return nd == 0 ? 0 : (bit(nd) - 1);
  Mask m = 0;
  for (int64_t d : *dims) {
    int64_t w = wrap_dim(d, nd, op);
    if (nd == 0) continue;
    EMBER_CHECK(!(m & bit(w)), ValueError, "[", op, "] dim ", w, " appears multiple times in the list of dims: got ",
                *dims);
    m |= bit(w);
  }
  return m;
}

Shape reduced_shape(const Tensor& x, Mask m, bool keepdim) {
  Shape s;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (!(m & bit(d))) s.push_back(x.sizes()[d]);
    else if (keepdim) s.push_back(1);
  }
  return s;
}

// Ops without an identity (max, argmax, ...) refuse to reduce an empty dim.
void check_nonempty(const char* op, const Tensor& x, Mask m) {
  if (x.numel() != 0) return;
  if (x.dim() == 0) return;
  for (int64_t d = 0; d < x.dim(); ++d)
    EMBER_CHECK(!((m & bit(d)) && x.sizes()[d] == 0), IndexError, "[", op, "] expected reduction dim ", d,
                " to have non-zero size: got an input of shape ", x.sizes(),
                "; this reduction has no identity to return for an empty dim");
}
void check_nonempty_all(const char* op, const Tensor& x) {
  EMBER_CHECK(x.numel() != 0, IndexError, "[", op, "] expected a non-empty input when no dim is given: got shape ",
              x.sizes(), "; this reduction has no identity: specify dim");
}

// Builds the plan for reducing the dims in `m` of x into `outs` (contiguous, shape of the
// kept dims) and runs op's kernel. `ordered`: reduced elements are visited in logical
// (row-major) order, as the index-returning ops need.
void run_reduce(ReduceOp op, const Tensor& x_in, Mask m, bool ordered, std::initializer_list<Tensor> outs,
                std::array<double, 4> params = {}) {
  Tensor x = x_in;
  const int64_t nd = x.dim();
  const int64_t isz = x.itemsize();
  ReducePlan pl;
  pl.p = params;
  pl.nout = int(outs.size());
  int k = 0;
  for (const Tensor& o : outs) {
    pl.out[k] = o.raw_data();
    pl.out_dtype[k] = o.dtype();
    ++k;
  }
  // Output element strides of the kept dims (outputs are contiguous in logical order).
  int64_t n_out = 1, n_red = 1;
  for (int64_t d = 0; d < nd; ++d) (m & bit(d) ? n_red : n_out) *= x.sizes()[d];
  if (n_out == 0) return;
  pl.n_out = n_out;
  pl.n_red = n_red;

  for (int attempt = 0; attempt < 2; ++attempt) {
    pl.in = x.raw_data();
    pl.in_dtype = x.dtype();
    // kept dims, logical order, size-1 dims dropped, merged where contiguous in both
    pl.kdim = 0;
    int64_t ostride = 1;
    int64_t kin[kMaxDims], ksz[kMaxDims], kout[kMaxDims];
    int nk = 0;
    for (int64_t d = nd - 1; d >= 0; --d) {
      if (m & bit(d)) continue;
      int64_t s = x.sizes()[d];
      if (s != 1) {
        ksz[nk] = s;
        kin[nk] = x.strides()[d] * isz;
        kout[nk] = ostride;
        ++nk;
      }
      ostride *= s;
    }
    // (collected innermost first; reverse into outermost first while merging)
    for (int i = nk - 1; i >= 0; --i) {
      int n = pl.kdim;
      if (n > 0 && pl.kin[n - 1] == kin[i] * ksz[i] && pl.kout[n - 1] == kout[i] * ksz[i]) {
        pl.ksize[n - 1] *= ksz[i];
        pl.kin[n - 1] = kin[i];
        pl.kout[n - 1] = kout[i];
        continue;
      }
      pl.ksize[n] = ksz[i];
      pl.kin[n] = kin[i];
      pl.kout[n] = kout[i];
      ++pl.kdim;
    }
    // reduced dims: logical order for ordered ops, else by decreasing stride (stride-0 dims outermost)
    int64_t rd[kMaxDims];
    int nr = 0;
    for (int64_t d = 0; d < nd; ++d)
      if ((m & bit(d)) && x.sizes()[d] != 1) rd[nr++] = d;
    if (!ordered) {
      auto key = [&](int64_t d) {
        int64_t s = x.strides()[d];
        return s == 0 ? std::numeric_limits<int64_t>::max() : (s < 0 ? -s : s);
      };
      std::stable_sort(rd, rd + nr, [&](int64_t a, int64_t b) { return key(a) > key(b); });
    }
    pl.rdim = 0;
    for (int i = 0; i < nr; ++i) {
      int64_t s = x.sizes()[rd[i]], st = x.strides()[rd[i]] * isz;
      int n = pl.rdim;
      if (n > 0 && pl.rin[n - 1] == st * s) {
        pl.rsize[n - 1] *= s;
        pl.rin[n - 1] = st;
        continue;
      }
      pl.rsize[n] = s;
      pl.rin[n] = st;
      ++pl.rdim;
    }
    if (pl.rdim == 0 || n_red == 0) {
      pl.rdim = 1;
      pl.rsize[0] = n_red;
      pl.rin[0] = isz;
    }
    if (pl.rin[pl.rdim - 1] == isz) {
      pl.layout = ReduceLayout::Row;
      break;
    }
    int inner = -1;
    for (int i = pl.kdim - 1; i >= 0; --i)
      if (pl.kin[i] == isz) { inner = i; break; }
    if (inner >= 0) {
      pl.layout = ReduceLayout::Col;
      std::rotate(pl.ksize + inner, pl.ksize + inner + 1, pl.ksize + pl.kdim);
      std::rotate(pl.kin + inner, pl.kin + inner + 1, pl.kin + pl.kdim);
      std::rotate(pl.kout + inner, pl.kout + inner + 1, pl.kout + pl.kdim);
      break;
    }
    // General case: copy with the reduced dims last (then it is a Row reduction).
    EMBER_CHECK(attempt == 0, Error, "[reduce] internal error: no layout for the reduction");
    Shape perm;
    for (int64_t d = 0; d < nd; ++d)
      if (!(m & bit(d))) perm.push_back(d);
    Mask m2 = 0;
    for (int64_t d = 0; d < nd; ++d)
      if (m & bit(d)) {
        m2 |= bit(int64_t(perm.size()));
        perm.push_back(d);
      }
    x = clone(permute(x, perm));
    m = m2;
  }
  reduce_stubs[int(op)](x.device(), pl);
}

Tensor deliver(const char* op, const Tensor& r, const Tensor* out) {
  if (!out) return r;
  EMBER_CHECK(out->sizes() == r.sizes(), ValueError, "[", op, "] output has the wrong shape: expected ", r.sizes(),
              ", got ", out->sizes());
  EMBER_CHECK(can_cast(r.dtype(), out->dtype()), TypeError, "[", op, "] result type ", r.dtype(),
              " can't be cast to the desired output type ", out->dtype());
  EMBER_CHECK(out->device() == r.device(), ValueError, "[", op, "] expected out on ", r.device(), ", got ",
              out->device());
  copy_(*out, r);
  return *out;
}

bool is_float_or_complex(ScalarType t) { return is_floating(t) || is_complex(t); }

// Input converted for an op that computes in `dtype`, unless the kernel can read the
// input's dtype exactly (its values are exactly representable in dtype).
Tensor input_as(const Tensor& x, ScalarType dtype) {
  ScalarType t = x.dtype();
  if (t == dtype) return x;
  bool exact = (is_integral(t, true) && dtype == ScalarType::Int64) ||
               (t == ScalarType::Bool) ||
               ((t == ScalarType::Float16 || t == ScalarType::BFloat16 || t == ScalarType::Float32) &&
                dtype == ScalarType::Float64) ||
               ((t == ScalarType::Float16 || t == ScalarType::BFloat16) && dtype == ScalarType::Float32);
  if (exact && !is_complex(dtype)) return x;
  return to_dtype(x, dtype);
}

ScalarType sum_dtype(ScalarType t) { return is_integral(t, true) ? ScalarType::Int64 : t; }

Tensor sum_like(ReduceOp op, const char* name, const Tensor& x, const OptDims& dims, bool keepdim, OptType dtype,
                const Tensor* out) {
  Mask m = dim_mask(name, x, dims);
  if (!dtype && out) dtype = out->dtype();
  ScalarType rt = dtype ? *dtype : sum_dtype(x.dtype());
  Tensor xin = input_as(x, rt);
  Tensor r = empty(reduced_shape(x, m, keepdim), rt, x.device());
  run_reduce(op, xin, m, false, {r});
  return deliver(name, r, out);
}

Tensor extreme(ReduceOp op, const char* name, const Tensor& x, const OptDims& dims, bool keepdim, const Tensor* out) {
  EMBER_CHECK(!is_complex(x.dtype()), TypeError, "[", name, "] complex numbers are not ordered: expected a real input, got ",
              x.dtype());
  Mask m = dim_mask(name, x, dims);
  check_nonempty(name, x, m);
  Tensor r = empty(reduced_shape(x, m, keepdim), x.dtype(), x.device());
  run_reduce(op, x, m, false, {r});
  return deliver(name, r, out);
}

TensorPair extreme_dim(ReduceOp op, const char* name, const Tensor& x, int64_t dim, bool keepdim) {
  EMBER_CHECK(!is_complex(x.dtype()), TypeError, "[", name, "] complex numbers are not ordered: expected a real input, got ",
              x.dtype());
  Mask m = dim_mask(name, x, std::vector<int64_t>{dim});
  check_nonempty(name, x, m);
  Shape s = reduced_shape(x, m, keepdim);
  Tensor v = empty(s, x.dtype(), x.device()), i = empty(s, ScalarType::Int64, x.device());
  run_reduce(op, x, m, true, {v, i});
  return {v, i};
}

void check_var_dtype(const char* name, const Tensor& x) {
  EMBER_CHECK(is_floating(x.dtype()), TypeError, "[", name, "] expected a floating point input, got ", x.dtype(),
              is_complex(x.dtype()) ? " (complex var/std are not supported yet)" : "; convert with .float() first");
}

TensorPair var_impl(const char* name, const Tensor& x, const OptDims& dims, double correction, bool keepdim,
                    bool take_sqrt, bool with_mean) {
  check_var_dtype(name, x);
  Mask m = dim_mask(name, x, dims);
  Shape s = reduced_shape(x, m, keepdim);
  Tensor v = empty(s, x.dtype(), x.device());
  Tensor mu = with_mean ? empty(s, x.dtype(), x.device()) : Tensor();
  std::array<double, 4> p = {correction, take_sqrt ? 1.0 : 0.0};
  if (with_mean) run_reduce(ReduceOp::var, x, m, false, {v, mu}, p);
  else run_reduce(ReduceOp::var, x, m, false, {v}, p);
  return {v, mu};
}

// Dim of a scan, and the input as (outer, n, inner).
ScanPlan scan_plan(const char* name, const Tensor& x, int64_t dim, Tensor& c) {
  int64_t d = wrap_dim(dim, x.dim(), name);
  ScanPlan pl;
  pl.in = x.raw_data();
  pl.in_dtype = x.dtype();
  c = x;
  if (x.dim() == 0) return pl;
  // (outer, n, inner) needs the outer and inner dims each to collapse to one stride.
  auto collapsible = [&](int64_t b, int64_t e) {  // dims [b, e) merge into one stride
    int64_t prev = -1;
    for (int64_t i = b; i < e; ++i) {
      if (c.sizes()[i] == 1) continue;
      if (prev >= 0 && c.strides()[prev] != c.strides()[i] * c.sizes()[i]) return false;
      prev = i;
    }
    return true;
  };
  if (!collapsible(0, d) || !collapsible(d + 1, x.dim())) c = clone(x);
  const int64_t isz = c.itemsize();
  pl.in = c.raw_data();
  pl.n = c.sizes()[d];
  pl.s_n = c.strides()[d] * isz;
  for (int64_t i = 0; i < d; ++i) pl.outer *= c.sizes()[i];
  for (int64_t i = d + 1; i < c.dim(); ++i) pl.inner *= c.sizes()[i];
  auto innermost_stride = [&](int64_t b, int64_t e) {
    int64_t s = 0;
    for (int64_t i = e - 1; i >= b; --i)
      if (c.sizes()[i] != 1) return c.strides()[i] * isz;
    return s;
  };
  pl.s_outer = innermost_stride(0, d);
  pl.s_inner = innermost_stride(d + 1, c.dim());
  return pl;
}

Tensor scan_arith(ScanOp op, const char* name, const Tensor& x, int64_t dim, OptType dtype, const Tensor* out) {
  if (!dtype && out) dtype = out->dtype();
  ScalarType rt = dtype ? *dtype : sum_dtype(x.dtype());
  Tensor xin = input_as(x, rt);
  if (!(xin.dtype() == rt || (is_integral(xin.dtype(), true) && rt == ScalarType::Int64))) xin = to_dtype(x, rt);
  Tensor keep;
  ScanPlan pl = scan_plan(name, xin, dim, keep);
  Tensor r = empty(x.sizes(), rt, x.device());
  pl.out[0] = r.raw_data();
  pl.out_dtype = rt;
  if (r.numel() > 0) scan_stubs[int(op)](x.device(), pl);
  return deliver(name, r, out);
}

TensorPair scan_extreme(ScanOp op, const char* name, const Tensor& x, int64_t dim) {
  EMBER_CHECK(!is_complex(x.dtype()), TypeError, "[", name, "] complex numbers are not ordered: expected a real input, got ",
              x.dtype());
  Tensor keep;
  ScanPlan pl = scan_plan(name, x, dim, keep);
  Tensor v = empty(x.sizes(), x.dtype(), x.device()), i = empty(x.sizes(), ScalarType::Int64, x.device());
  pl.out[0] = v.raw_data();
  pl.out[1] = i.raw_data();
  pl.out_dtype = x.dtype();
  if (v.numel() > 0) scan_stubs[int(op)](x.device(), pl);
  return {v, i};
}

}  // namespace

// ---- sums and products ------------------------------------------------------------------
Tensor sum_impl(const Tensor& x, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out) {
  return sum_like(ReduceOp::sum, "sum", x, dims, keepdim, dtype, out);
}

Tensor nansum_impl(const Tensor& x, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out) {
  EMBER_CHECK(!is_complex(x.dtype()), TypeError, "[nansum] complex inputs are not supported: got ", x.dtype());
  return sum_like(ReduceOp::nansum, "nansum", x, dims, keepdim, dtype, out);
}

Tensor prod_impl(const Tensor& x, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out) {
  return sum_like(ReduceOp::prod, "prod", x, dims, keepdim, dtype, out);
}

Tensor mean_impl(const Tensor& x, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out) {
  if (!dtype && out) dtype = out->dtype();
  if (dtype) {
    EMBER_CHECK(is_float_or_complex(*dtype), TypeError, "[mean] could not infer output dtype: expected dtype to be a "
                "floating point or complex dtype, got ", *dtype);
  } else {
    EMBER_CHECK(is_float_or_complex(x.dtype()), TypeError, "[mean] could not infer output dtype: expected a floating "
                "point or complex input, got ", x.dtype(), "; convert with .float() or pass dtype=");
  }
  ScalarType rt = dtype ? *dtype : x.dtype();
  Mask m = dim_mask("mean", x, dims);
  Tensor xin = input_as(x, rt);
  Tensor r = empty(reduced_shape(x, m, keepdim), rt, x.device());
  run_reduce(ReduceOp::mean, xin, m, false, {r});
  return deliver("mean", r, out);
}

Tensor nanmean_impl(const Tensor& x, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out) {
  if (!dtype && out) dtype = out->dtype();
  EMBER_CHECK(is_floating(x.dtype()), TypeError, "[nanmean] expected a floating point input, got ", x.dtype());
  if (dtype)
    EMBER_CHECK(is_floating(*dtype), TypeError, "[nanmean] expected dtype to be a floating point dtype, got ", *dtype);
  ScalarType rt = dtype ? *dtype : x.dtype();
  Mask m = dim_mask("nanmean", x, dims);
  Tensor xin = input_as(x, rt);
  Tensor r = empty(reduced_shape(x, m, keepdim), rt, x.device());
  run_reduce(ReduceOp::nanmean, xin, m, false, {r});
  return deliver("nanmean", r, out);
}

// ---- extremes -----------------------------------------------------------------------------
Tensor amax_impl(const Tensor& x, const OptDims& dims, bool keepdim, const Tensor* out) {
  return extreme(ReduceOp::amax, "amax", x, dims, keepdim, out);
}
Tensor amin_impl(const Tensor& x, const OptDims& dims, bool keepdim, const Tensor* out) {
  return extreme(ReduceOp::amin, "amin", x, dims, keepdim, out);
}
Tensor max_all_impl(const Tensor& x) {
  check_nonempty_all("max", x);
  return extreme(ReduceOp::amax, "max", x, std::nullopt, false, nullptr);
}
Tensor min_all_impl(const Tensor& x) {
  check_nonempty_all("min", x);
  return extreme(ReduceOp::amin, "min", x, std::nullopt, false, nullptr);
}
TensorPair max_dim_impl(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_dim(ReduceOp::argmax, "max", x, dim, keepdim);
}
TensorPair min_dim_impl(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_dim(ReduceOp::argmin, "min", x, dim, keepdim);
}

static Tensor arg_impl(ReduceOp op, const char* name, const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  EMBER_CHECK(!is_complex(x.dtype()), TypeError, "[", name, "] complex numbers are not ordered: expected a real input, got ",
              x.dtype());
  if (!dim) {
    check_nonempty_all(name, x);
    Mask m = dim_mask(name, x, std::nullopt);
    Tensor r = empty(keepdim ? Shape(size_t(x.dim()), 1) : Shape{}, ScalarType::Int64, x.device());
    run_reduce(op, x, m, true, {r});
    return r;
  }
  Mask m = dim_mask(name, x, std::vector<int64_t>{*dim});
  check_nonempty(name, x, m);
  Tensor r = empty(reduced_shape(x, m, keepdim), ScalarType::Int64, x.device());
  run_reduce(op, x, m, true, {r});
  return r;
}
Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return arg_impl(ReduceOp::argmax, "argmax", x, dim, keepdim);
}
Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return arg_impl(ReduceOp::argmin, "argmin", x, dim, keepdim);
}

TensorPair aminmax_impl(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  EMBER_CHECK(!is_complex(x.dtype()), TypeError, "[aminmax] complex numbers are not ordered: expected a real input, got ",
              x.dtype());
  Mask m;
  if (dim) {
    m = dim_mask("aminmax", x, std::vector<int64_t>{*dim});
    check_nonempty("aminmax", x, m);
  } else {
    check_nonempty_all("aminmax", x);
    m = dim_mask("aminmax", x, std::nullopt);
  }
  Shape s = dim ? reduced_shape(x, m, keepdim) : (keepdim ? Shape(size_t(x.dim()), 1) : Shape{});
  Tensor lo = empty(s, x.dtype(), x.device()), hi = empty(s, x.dtype(), x.device());
  run_reduce(ReduceOp::aminmax, x, m, false, {lo, hi});
  return {lo, hi};
}

// ---- statistics -----------------------------------------------------------------------------
Tensor var_red_impl(const Tensor& x, const OptDims& dims, double correction, bool keepdim, const Tensor* out) {
  return deliver("var", var_impl("var", x, dims, correction, keepdim, false, false).first, out);
}
Tensor std_impl(const Tensor& x, const OptDims& dims, double correction, bool keepdim, const Tensor* out) {
  return deliver("std", var_impl("std", x, dims, correction, keepdim, true, false).first, out);
}
TensorPair var_mean_impl(const Tensor& x, const OptDims& dims, double correction, bool keepdim) {
  return var_impl("var_mean", x, dims, correction, keepdim, false, true);
}
TensorPair std_mean_impl(const Tensor& x, const OptDims& dims, double correction, bool keepdim) {
  return var_impl("std_mean", x, dims, correction, keepdim, true, true);
}

Tensor norm_impl(const Tensor& x, double p, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out) {
  EMBER_CHECK(is_float_or_complex(x.dtype()), TypeError, "[norm] expected a floating point or complex input, got ",
              x.dtype(), "; convert with .float() first");
  if (dtype)
    EMBER_CHECK(is_float_or_complex(*dtype), TypeError, "[norm] expected dtype to be a floating point or complex "
                "dtype, got ", *dtype);
  Tensor xin = dtype ? input_as(x, *dtype) : x;
  Mask m = dim_mask("norm", x, dims);
  if (p < 0 || std::isinf(p)) {
    if (x.numel() == 0) {
      EMBER_CHECK(x.dim() > 0 && (dims && !dims->empty()), IndexError, "[norm] cannot compute the ", p,
                  "-norm of an empty tensor: the operation has no identity; got shape ", x.sizes());
      check_nonempty("norm", x, m);
    }
  }
  ScalarType rt = to_real(dtype ? *dtype : x.dtype());
  Tensor r = empty(reduced_shape(x, m, keepdim), rt, x.device());
  run_reduce(ReduceOp::norm, xin, m, false, {r}, {p});
  return deliver("norm", r, out);
}

// log(sum(exp(x - m))) + m with m the (finite) maximum, from the vectorised ops, like PyTorch.
Tensor logsumexp_impl(const Tensor& x, const OptDims& dims, bool keepdim, const Tensor* out) {
  EMBER_CHECK(!is_complex(x.dtype()), TypeError, "[logsumexp] complex inputs are not supported: got ", x.dtype());
  ScalarType rt = is_integral(x.dtype(), true) ? default_dtype() : x.dtype();
  Tensor xin = to_dtype(x, rt);
  Mask m = dim_mask("logsumexp", x, dims);
  Shape shape = reduced_shape(x, m, keepdim);
  int64_t n_red = 1;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (m & bit(d)) n_red *= x.sizes()[d];
  if (n_red == 0 || x.numel() == 0) {
    Tensor r = full(shape, Scalar(-std::numeric_limits<double>::infinity()), rt, x.device());
    return deliver("logsumexp", r, out);
  }
  Tensor mx = empty(reduced_shape(x, m, true), rt, x.device());
  run_reduce(ReduceOp::amax, xin, m, false, {mx});
  Tensor finite = unary(UnaryOp::isfinite, mx);
  Tensor shift = where(finite, mx, scalar_tensor(Scalar(0.0), rt, x.device()));
  Tensor e = binary(BinaryOp::sub, xin, shift, {1.0});
  unary(UnaryOp::exp, e, {}, &e);
  Tensor s = empty(shape, rt, x.device());
  run_reduce(ReduceOp::sum, e, m, false, {s});
  unary(UnaryOp::log, s, {}, &s);
  Tensor r = binary(BinaryOp::add, s, keepdim ? shift : reshape(shift, shape), {1.0});
  return deliver("logsumexp", r, out);
}

static Tensor allany(ReduceOp op, const char* name, const Tensor& x, const OptDims& dims, bool keepdim,
                     const Tensor* out) {
  Mask m = dim_mask(name, x, dims);
  ScalarType rt = x.dtype() == ScalarType::UInt8 ? ScalarType::UInt8 : ScalarType::Bool;
  Tensor r = empty(reduced_shape(x, m, keepdim), rt, x.device());
  run_reduce(op, x, m, false, {r});
  return deliver(name, r, out);
}
Tensor all(const Tensor& x, const OptDims& dims, bool keepdim, const Tensor* out) {
  return allany(ReduceOp::all, "all", x, dims, keepdim, out);
}
Tensor any(const Tensor& x, const OptDims& dims, bool keepdim, const Tensor* out) {
  return allany(ReduceOp::any, "any", x, dims, keepdim, out);
}

Tensor count_nonzero(const Tensor& x, const OptDims& dims) {
  Mask m = dim_mask("count_nonzero", x, dims);
  Tensor r = empty(reduced_shape(x, m, false), ScalarType::Int64, x.device());
  run_reduce(ReduceOp::count_nonzero, x, m, false, {r});
  return r;
}

// ---- scans ----------------------------------------------------------------------------------
Tensor cumsum_impl(const Tensor& x, int64_t dim, OptType dtype, const Tensor* out) {
  return scan_arith(ScanOp::cumsum, "cumsum", x, dim, dtype, out);
}
Tensor cumprod_impl(const Tensor& x, int64_t dim, OptType dtype, const Tensor* out) {
  return scan_arith(ScanOp::cumprod, "cumprod", x, dim, dtype, out);
}
Tensor logcumsumexp_impl(const Tensor& x, int64_t dim, const Tensor* out) {
  EMBER_CHECK(is_floating(x.dtype()), TypeError, "[logcumsumexp] expected a floating point input, got ", x.dtype());
  Tensor keep;
  ScanPlan pl = scan_plan("logcumsumexp", x, dim, keep);
  Tensor r = empty(x.sizes(), x.dtype(), x.device());
  pl.out[0] = r.raw_data();
  pl.out_dtype = x.dtype();
  if (r.numel() > 0) scan_stubs[int(ScanOp::logcumsumexp)](x.device(), pl);
  return deliver("logcumsumexp", r, out);
}
TensorPair cummax_impl(const Tensor& x, int64_t dim) { return scan_extreme(ScanOp::cummax, "cummax", x, dim); }
TensorPair cummin_impl(const Tensor& x, int64_t dim) { return scan_extreme(ScanOp::cummin, "cummin", x, dim); }

// ---- median -----------------------------------------------------------------------------------
Tensor median_all_impl(const Tensor& x, bool ignore_nan) {
  const char* name = ignore_nan ? "nanmedian" : "median";
  EMBER_CHECK(!is_complex(x.dtype()) && x.dtype() != ScalarType::Bool, TypeError, "[", name,
              "] expected a real, non-bool input, got ", x.dtype());
  Tensor r = empty({}, x.dtype(), x.device());
  if (x.numel() == 0) {
    EMBER_CHECK(is_floating(x.dtype()), IndexError, "[", name, "] expected a non-empty input: got shape ", x.sizes(),
                " (the median of an empty integer tensor is undefined)");
    fill_(r, Scalar(std::numeric_limits<double>::quiet_NaN()));
    return r;
  }
  Tensor c = contiguous(x);
  median_stub(x.device(), c.raw_data(), c.dtype(), 1, c.numel(), r.raw_data(), nullptr, ignore_nan);
  return r;
}

TensorPair median_dim_impl(const Tensor& x, int64_t dim, bool keepdim, bool ignore_nan) {
  const char* name = ignore_nan ? "nanmedian" : "median";
  EMBER_CHECK(!is_complex(x.dtype()) && x.dtype() != ScalarType::Bool, TypeError, "[", name,
              "] expected a real, non-bool input, got ", x.dtype());
  Mask m = dim_mask(name, x, std::vector<int64_t>{dim});
  check_nonempty(name, x, m);
  Shape s = reduced_shape(x, m, keepdim);
  Tensor v = empty(s, x.dtype(), x.device()), i = empty(s, ScalarType::Int64, x.device());
  if (v.numel() == 0) return {v, i};
  int64_t d = x.dim() == 0 ? 0 : wrap_dim(dim, x.dim(), name);
  Tensor c = x.dim() == 0 ? contiguous(x) : contiguous(movedim(x, {d}, {-1}));
  int64_t n = x.dim() == 0 ? 1 : x.sizes()[d];
  median_stub(x.device(), c.raw_data(), c.dtype(), c.numel() / n, n, v.raw_data(), i.raw_data(), ignore_nan);
  return {v, i};
}

}  // namespace ember
