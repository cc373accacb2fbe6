#include "elementwise.h"

#include "../autograd/node.h"
#include "cuda_hooks.h"
#include "view.h"

#include <cmath>

namespace ember {

#define EMBER_STUB_ENTRY(name, rule, mask) DispatchStub<UnaryKernel>(#name),
DispatchStub<UnaryKernel> unary_stubs[int(UnaryOp::Count)] = {EMBER_UNARY_OPS(EMBER_STUB_ENTRY)};
#undef EMBER_STUB_ENTRY
#define EMBER_STUB_ENTRY(name, rule, mask) DispatchStub<BinaryKernel>(#name),
DispatchStub<BinaryKernel> binary_stubs[int(BinaryOp::Count)] = {EMBER_BINARY_OPS(EMBER_STUB_ENTRY)};
#undef EMBER_STUB_ENTRY
DispatchStub<CopyKernel> copy_stub("copy_");
DispatchStub<WhereKernel> where_stub("where");
DispatchStub<LerpKernel> lerp_stub("lerp");

namespace {
using OpInfo = OpSpec;
constexpr const OpSpec* unary_info = unary_specs;
constexpr const OpSpec* binary_info = binary_specs;

std::string mask_str(uint32_t mask) {
  std::string s;
  for (int t = 0; t < kNumScalarTypes; ++t)
    if (mask & (1u << t)) s += std::string(s.empty() ? "" : ", ") + dtype_name(ScalarType(t));
  return s;
}

void check_dtype(const char* op, uint32_t mask, ScalarType t) {
  EMBER_CHECK(mask & tbit(t), TypeError, "[", op, "] unsupported dtype: expected one of {", mask_str(mask),
              "}, got ", t);
}

// A Python number, or (as in PyTorch) a 0-d CPU tensor without a gradient: usable with tensors
// of any device (CUDA kernels take it by value).
bool scalar_like(const Tensor& t) {
  return t.is_wrapped_number() || (t.dim() == 0 && t.device().is_cpu() && !autograd::requires_grad(t));
}

void check_same_device(const char* op, TensorRefList ts) {
  const Tensor* first = nullptr;
  for (const Tensor& t : ts) {
    if (scalar_like(t)) continue;
    if (!first) {
      first = &t;
    } else if (t.device() != first->device()) {
      throw ValueError(str("[", op, "] expected all tensors on the same device, got ", first->device(), " and ",
                           t.device()));
    }
  }
}

Device common_device(TensorRefList ts) {
  for (const Tensor& t : ts)
    if (!scalar_like(t)) return t.device();
  return ts.begin()->get().device();
}

// PyTorch's combine_categories for result_type.
ScalarType combine_categories(ScalarType higher, ScalarType lower, bool has_higher) {
  if (!has_higher) return lower;
  if (is_complex(higher)) return higher;
  if (is_complex(lower)) return is_floating(higher) ? ScalarType::Complex64 : lower;
  if (is_floating(higher)) return higher;
  if (higher == ScalarType::Bool || is_floating(lower)) return promote_types(higher, lower);
  return higher;
}

// A tensor that may be written as `out`: writable layout and a castable dtype.
void check_out(const char* op, const Tensor& out, const Shape& shape, ScalarType result) {
  EMBER_CHECK(out.sizes() == shape, ValueError, "[", op, "] output has the wrong shape: expected ", shape,
              " (the broadcast shape), got ", out.sizes());
  EMBER_CHECK(can_cast(result, out.dtype()), TypeError, "[", op, "] result type ", result,
              " can't be cast to the desired output type ", out.dtype());
  for (int64_t d = 0; d < out.dim(); ++d)
    EMBER_CHECK(out.strides()[d] != 0 || out.sizes()[d] <= 1, ValueError, "[", op,
                "] cannot write into an expanded tensor: dimension ", d,
                " has stride 0; call .clone() first");
}

bool same_layout(const Tensor& a, const Tensor& b) {
  return a.storage() == b.storage() && a.offset() == b.offset() && a.sizes() == b.sizes() &&
         a.strides() == b.strides() && a.dtype() == b.dtype();
}

// Input for a kernel: the operand in the compute dtype (wrapped numbers convert for free). A
// scalar_like operand used with CUDA tensors stays on the host: CUDA kernels take it by value
// (ElementwiseIter::host).
// t itself when it has the dtype (no copy of the handle), else its conversion kept in `tmp`.
const Tensor& prepare_input(const Tensor& t, ScalarType dtype, Tensor& tmp) {
  if (t.dtype() == dtype) return t;
  tmp = to_dtype(t, dtype);
  return tmp;
}

// Runs `kernel` into `out` (or a fresh tensor of `result_dtype`), handling out dtype
// conversion and out/input aliasing. `compute_dtype` is the kernel's output dtype.
template <typename Run>
Tensor run_into(const char* op, const Shape& shape, ScalarType out_dtype, Device device, const Tensor* out,
                TensorRefList inputs, Run&& run) {
  if (!out) {
    Tensor r = empty(shape, out_dtype, device);
    run(r);
    return r;
  }
  check_out(op, *out, shape, out_dtype);
  bool direct = out->dtype() == out_dtype;
  for (const Tensor& in : inputs)
    if (direct && !same_layout(*out, in) && may_overlap(*out, in)) direct = false;
  if (direct) {
    run(*out);
  } else {
    Tensor tmp = empty(shape, out_dtype, device);
    run(tmp);
    copy_(*out, tmp);
  }
  out->bump_version();
  return *out;
}
}  // namespace

const char* unary_name(UnaryOp op) { return unary_info[int(op)].name; }
const char* binary_name(BinaryOp op) { return binary_info[int(op)].name; }

ScalarType result_type(TensorRefList ts) {
  ScalarType dim_r = ScalarType::Bool, zero_r = ScalarType::Bool, wrap_r = ScalarType::Bool;
  bool has_dim = false, has_zero = false, has_wrap = false;
  for (const Tensor& t : ts) {
    if (t.is_wrapped_number()) {
      ScalarType c = t.dtype();
      if (is_floating(c)) c = default_dtype();
      wrap_r = has_wrap ? promote_types(wrap_r, c) : c;
      has_wrap = true;
    } else if (t.dim() == 0) {
      zero_r = has_zero ? promote_types(zero_r, t.dtype()) : t.dtype();
      has_zero = true;
    } else {
      dim_r = has_dim ? promote_types(dim_r, t.dtype()) : t.dtype();
      has_dim = true;
    }
  }
  ScalarType lower = combine_categories(zero_r, wrap_r, has_zero);
  return combine_categories(dim_r, lower, has_dim);
}

bool can_cast(ScalarType from, ScalarType to) {
  if (is_complex(from) && !is_complex(to)) return false;
  if (is_floating(from) && is_integral(to, true)) return false;
  if (from != ScalarType::Bool && to == ScalarType::Bool) return false;
  return true;
}

Tensor unary_impl(UnaryOp op, const Tensor& x, const Params& p, const Tensor* out) {
  const OpInfo& info = unary_info[int(op)];
  const char* name = op == UnaryOp::pow_scalar ? "pow" : info.name;  // the user called pow
  ScalarType in_dt = x.dtype();
  if (info.rule == DtypeRule::Float && is_integral(in_dt, true)) in_dt = default_dtype();
  check_dtype(name, info.mask, in_dt);
  ScalarType out_dt = info.rule == DtypeRule::Bool ? ScalarType::Bool
                      : info.rule == DtypeRule::Real ? to_real(in_dt)
                                                     : in_dt;
  Tensor xtmp;
  const Tensor& xin = prepare_input(x, in_dt, xtmp);
  const auto& stub = unary_stubs[int(op)];
  return run_into(name, x.sizes(), out_dt, x.device(), out, {x}, [&](const Tensor& o) {
    if (o.numel() == 0) return;
    ElementwiseIter it = make_iter(name, o, {xin});
    stub(o.device(), it, p);
  });
}

Tensor binary_impl(BinaryOp op, const Tensor& a, const Tensor& b, const Params& p, const Tensor* out) {
  const OpInfo& info = binary_info[int(op)];
  check_same_device(info.name, {a, b});
  ScalarType common = result_type({a, b});
  if (info.rule == DtypeRule::Float && is_integral(common, true)) common = default_dtype();
  if ((op == BinaryOp::sub) && common == ScalarType::Bool)
    throw TypeError("[sub] subtracting two bool tensors is not supported: expected a non-bool dtype, got "
                    "ember.bool; use logical_xor or ~ instead");
  check_dtype(info.name, info.mask, common);
  if (is_complex(common) && (op == BinaryOp::lt || op == BinaryOp::le || op == BinaryOp::gt || op == BinaryOp::ge))
    throw TypeError(str("[", info.name, "] complex numbers are not ordered: expected real inputs, got ", common));
  ScalarType out_dt = info.rule == DtypeRule::Bool ? ScalarType::Bool : common;
  Shape bshape;
  const Shape& shape = a.sizes() == b.sizes() ? a.sizes() : (bshape = broadcast_shapes(info.name, a.sizes(), b.sizes()));
  Device dev = common_device({a, b});
  Tensor atmp, btmp;
  const Tensor &ain = prepare_input(a, common, atmp), &bin = prepare_input(b, common, btmp);
  const auto& stub = binary_stubs[int(op)];
  return run_into(info.name, shape, out_dt, dev, out, {a, b}, [&](const Tensor& o) {
    if (o.numel() == 0) return;
    ElementwiseIter it = make_iter(info.name, o, {ain, bin});
    int err = 0;
    stub(o.device(), it, p, &err);
    if (err == int(KernelError::ZeroDivision))
      throw ZeroDivisionError(str("[", info.name, "] integer division by zero: expected a divisor without zeros"));
    if (err == int(KernelError::NegativePower))
      throw ValueError(str("[", info.name, "] integers to negative integer powers are not allowed: expected a "
                           "non-negative exponent, got a negative one; use a floating point base"));
  });
}

Tensor where_impl(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor* out) {
  check_same_device("where", {cond, a, b});
  EMBER_CHECK(cond.dtype() == ScalarType::Bool || cond.dtype() == ScalarType::UInt8, TypeError,
              "[where] condition must be a bool tensor: expected ember.bool, got ", cond.dtype());
  ScalarType common = result_type({a, b});
  Shape shape = broadcast_shapes("where", broadcast_shapes("where", cond.sizes(), a.sizes()), b.sizes());
  Tensor ctmp, atmp, btmp;
  const Device dev = common_device({cond, a, b});
  const Tensor& c = prepare_input(cond, ScalarType::Bool, ctmp);
  const Tensor &ain = prepare_input(a, common, atmp), &bin = prepare_input(b, common, btmp);
  return run_into("where", shape, common, dev, out, {cond, a, b}, [&](const Tensor& o) {
    if (o.numel() == 0) return;
    ElementwiseIter it = make_iter("where", o, {c, ain, bin});
    where_stub(o.device(), it);
  });
}

Tensor lerp_impl(const Tensor& a, const Tensor& b, const Tensor& w, const Tensor* out) {
  check_same_device("lerp", {a, b, w});
  ScalarType common = result_type({a, b});
  EMBER_CHECK(is_floating(common), TypeError, "[lerp] expected floating point inputs, got ", common);
  EMBER_CHECK(w.is_wrapped_number() || w.dtype() == common, TypeError,
              "[lerp] expected weight to have the dtype of the inputs (", common, "), got ", w.dtype());
  Shape shape = broadcast_shapes("lerp", broadcast_shapes("lerp", a.sizes(), b.sizes()), w.sizes());
  Tensor atmp, btmp, wtmp;
  const Device dev = common_device({a, b, w});
  const Tensor &ain = prepare_input(a, common, atmp), &bin = prepare_input(b, common, btmp),
               &win = prepare_input(w, common, wtmp);
  return run_into("lerp", shape, common, dev, out, {a, b, w}, [&](const Tensor& o) {
    if (o.numel() == 0) return;
    ElementwiseIter it = make_iter("lerp", o, {ain, bin, win});
    lerp_stub(o.device(), it);
  });
}

Tensor clamp(const Tensor& x, const std::optional<Tensor>& lo, const std::optional<Tensor>& hi, const Tensor* out) {
  EMBER_CHECK(lo || hi, ValueError, "[clamp] at least one of min and max must be given, got neither");
  bool scalar_bounds = (!lo || (lo->is_wrapped_number())) && (!hi || (hi->is_wrapped_number()));
  if (scalar_bounds) {
    ScalarType common = result_type({x, lo ? *lo : x, hi ? *hi : x});
    Tensor xin = x;
    if (common != x.dtype()) xin = to_dtype(x, common);
    Params p = {lo ? item(*lo).to_double() : 0.0, hi ? item(*hi).to_double() : 0.0, lo ? 1.0 : 0.0, hi ? 1.0 : 0.0};
    return unary(UnaryOp::clamp, xin, p, out);
  }
  // tensor bounds: min(max(x, lo), hi), computed in the promoted dtype; check here so that
  // errors name clamp rather than maximum/minimum
  Shape shape = x.sizes();
  if (lo) shape = broadcast_shapes("clamp", shape, lo->sizes());
  if (hi) shape = broadcast_shapes("clamp", shape, hi->sizes());
  check_dtype("clamp", unary_info[int(UnaryOp::clamp)].mask, result_type({x, lo ? *lo : x, hi ? *hi : x}));
  Tensor r = lo ? binary(BinaryOp::maximum, x, *lo) : x;
  if (hi) r = binary(BinaryOp::minimum, r, *hi);
  if (!out) return r.is_same(x) ? clone(x) : r;
  check_out("clamp", *out, r.sizes(), r.dtype());
  copy_(*out, r);
  return *out;
}

bool may_overlap(const Tensor& a, const Tensor& b) {
  if (a.storage() != b.storage() || a.numel() == 0 || b.numel() == 0) return false;
  auto range = [](const Tensor& t) {  // [first byte, last byte + 1)
    int64_t lo = t.offset(), hi = t.offset();
    for (int64_t d = 0; d < t.dim(); ++d) {
      int64_t e = (t.sizes()[d] - 1) * t.strides()[d];
      if (e < 0) lo += e; else hi += e;
    }
    return std::make_pair(lo * t.itemsize(), (hi + 1) * t.itemsize());
  };
  auto ra = range(a), rb = range(b);
  return ra.first < rb.second && rb.first < ra.second;
}

void copy_impl(const Tensor& dst, const Tensor& src, bool non_blocking) {
  Shape shape = broadcast_shapes("copy_", dst.sizes(), src.sizes());
  EMBER_CHECK(shape == dst.sizes(), ValueError, "[copy_] source shape ", src.sizes(),
              " cannot be broadcast to the destination shape ", dst.sizes());
  if (dst.numel() == 0) return;
  if (dst.device() != src.device() && !src.is_wrapped_number()) {
    cuda::copy_across(dst, src.sizes() == shape ? src : expand(src, shape), non_blocking);
    dst.bump_version();
    return;
  }
  Tensor s = src;
  if (!same_layout(dst, src) && may_overlap(dst, src)) s = clone(src);
  else if (same_layout(dst, src)) return;
  ElementwiseIter it = make_iter("copy_", dst, {s});
  copy_stub(dst.device(), it);
  dst.bump_version();
}

Tensor to_dtype_impl(const Tensor& x, ScalarType dtype, bool copy) {
  if (x.dtype() == dtype && !copy) return x;
  if (x.is_wrapped_number() && x.device().is_cpu()) {
    Tensor r = scalar_tensor(item(x), dtype, x.device());
    r.impl()->wrapped_number = true;
    return r;
  }
  Tensor r = empty(x.sizes(), dtype, x.device());
  if (x.numel() == 0) return r;
  ElementwiseIter it = make_iter("to", r, {x});
  copy_stub(x.device(), it);
  return r;
}

Tensor contiguous(const Tensor& x) { return x.is_contiguous() ? x : clone(x); }


}  // namespace ember
