// Elementwise front ends with autograd: each records its node and keeps its derivative here,
// written with ember ops (so that double backward works).
#include <cmath>

#include "../autograd/record.h"
#include "../autograd/sugar.h"
#include "creation.h"
#include "elementwise.h"
#include "cuda_hooks.h"
#include "reduce.h"

namespace ember {

using namespace autograd;

namespace {

constexpr double kLn2 = 0.6931471805599453, kLn10 = 2.302585092994046;
constexpr double kTwoOverSqrtPi = 1.1283791670955126, kSqrtPiOverTwo = 0.8862269254527580;
constexpr double kInvSqrt2 = 0.7071067811865476, kInvSqrt2Pi = 0.3989422804014327, kSqrt2OverPi = 0.7978845608028654;

// Which saved values a unary derivative reads.
enum Needs { kNone = 0, kInput = 1, kResult = 2 };

int unary_needs(UnaryOp op) {
  switch (op) {
    case UnaryOp::exp: case UnaryOp::exp2: case UnaryOp::expm1: case UnaryOp::sqrt: case UnaryOp::rsqrt:
    case UnaryOp::tan: case UnaryOp::tanh: case UnaryOp::erfinv: case UnaryOp::sigmoid: case UnaryOp::reciprocal:
    case UnaryOp::relu:
      return kResult;
    case UnaryOp::frac: case UnaryOp::neg: case UnaryOp::conj: case UnaryOp::floor: case UnaryOp::ceil:
    case UnaryOp::trunc: case UnaryOp::round: case UnaryOp::sign: case UnaryOp::angle:
      return kNone;
    default:
      return kInput;
  }
}

Tensor unary_backward(UnaryOp op, const Params& p, const Tensor& g, const Tensor& x, const Tensor& r) {
  switch (op) {
    case UnaryOp::exp: return g * r;
    case UnaryOp::exp2: return g * r * kLn2;
    case UnaryOp::expm1: return g * (r + 1.0);
    case UnaryOp::log: return g / x;
    case UnaryOp::log2: return g / (x * kLn2);
    case UnaryOp::log10: return g / (x * kLn10);
    case UnaryOp::log1p: return g / (x + 1.0);
    case UnaryOp::sqrt: return g / (r * 2.0);
    case UnaryOp::rsqrt: return g * (r * r * r) * -0.5;
    case UnaryOp::sin: return g * un(UnaryOp::cos, x);
    case UnaryOp::cos: return -(g * un(UnaryOp::sin, x));
    case UnaryOp::tan: return g * (r * r + 1.0);
    case UnaryOp::asin: return g * un(UnaryOp::rsqrt, 1.0 - x * x);
    case UnaryOp::acos: return -(g * un(UnaryOp::rsqrt, 1.0 - x * x));
    case UnaryOp::atan: return g / (x * x + 1.0);
    case UnaryOp::sinh: return g * un(UnaryOp::cosh, x);
    case UnaryOp::cosh: return g * un(UnaryOp::sinh, x);
    case UnaryOp::tanh: return is_complex(g.dtype()) ? g * (1.0 - r * r) : binary(BinaryOp::tanh_backward, g, r);
    case UnaryOp::asinh: return g * un(UnaryOp::rsqrt, x * x + 1.0);
    case UnaryOp::acosh: return g * un(UnaryOp::rsqrt, x * x - 1.0);
    case UnaryOp::atanh: return g / (1.0 - x * x);
    case UnaryOp::erf: return g * un(UnaryOp::exp, -(x * x)) * kTwoOverSqrtPi;
    case UnaryOp::erfc: return g * un(UnaryOp::exp, -(x * x)) * -kTwoOverSqrtPi;
    case UnaryOp::erfinv: return g * un(UnaryOp::exp, r * r) * kSqrtPiOverTwo;
    case UnaryOp::lgamma: return g * un(UnaryOp::digamma, x);
    case UnaryOp::digamma: return g * un(UnaryOp::trigamma, x);
    case UnaryOp::sigmoid: return is_complex(g.dtype()) ? g * r * (1.0 - r) : binary(BinaryOp::sigmoid_backward, g, r);
    case UnaryOp::logit: {
      Tensor d = g / (x * (1.0 - x));
      if (p[0] < 0) return d;
      return zero_where((x < p[0]) | (x > 1.0 - p[0]), d);
    }
    case UnaryOp::silu: {
      Tensor s = un(UnaryOp::sigmoid, x);
      return g * s * (x * (1.0 - s) + 1.0);
    }
    case UnaryOp::mish: {
      Tensor t = un(UnaryOp::tanh, un(UnaryOp::softplus, x, {1.0, 20.0}));
      return g * (t + x * un(UnaryOp::sigmoid, x) * (1.0 - t * t));
    }
    case UnaryOp::gelu: {
      if (p[0] == 0.0) {
        Tensor cdf = (un(UnaryOp::erf, x * kInvSqrt2) + 1.0) * 0.5;
        Tensor pdf = un(UnaryOp::exp, x * x * -0.5) * kInvSqrt2Pi;
        return g * (cdf + x * pdf);
      }
      Tensor x2 = x * x;
      Tensor t = un(UnaryOp::tanh, (x + x2 * x * 0.044715) * kSqrt2OverPi);
      Tensor d = (t + 1.0) * 0.5 + x * (1.0 - t * t) * (x2 * (3 * 0.044715) + 1.0) * (0.5 * kSqrt2OverPi);
      return g * d;
    }
    case UnaryOp::softplus: {
      Tensor z = x * p[0];
      return where(z > p[1], g, g * un(UnaryOp::sigmoid, z));
    }
    case UnaryOp::reciprocal: return -(g * r * r);
    case UnaryOp::frac: case UnaryOp::conj: return g;
    case UnaryOp::neg: return -g;
    case UnaryOp::abs: return g * un(UnaryOp::sign, x);
    case UnaryOp::floor: case UnaryOp::ceil: case UnaryOp::trunc: case UnaryOp::round: case UnaryOp::sign:
    case UnaryOp::angle:
      return zeros_like(g);
    case UnaryOp::relu: return binary(BinaryOp::threshold_backward, g, r);
    case UnaryOp::square: return g * x * 2.0;
    case UnaryOp::clamp: {
      Tensor mask;
      if (p[2] != 0) mask = x >= p[0];
      if (p[3] != 0) mask = mask.defined() ? (mask & (x <= p[1])) : (x <= p[1]);
      return keep(mask, g);
    }
    case UnaryOp::pow_scalar: {
      if (p[0] == 0.0) return zeros_like(g);
      if (p[0] == 1.0) return g;
      if (p[0] == 2.0) return g * x * 2.0;
      return g * un(UnaryOp::pow_scalar, x, {p[0] - 1.0}) * p[0];
    }
    case UnaryOp::nan_to_num: return keep(un(UnaryOp::isfinite, x), g);
    default:
      throw NotImplementedError(str("[", unary_name(op), "] the derivative is not implemented"));
  }
}

// Which saved values a binary derivative reads: bit 0 a, bit 1 b, bit 2 the result.
int binary_needs(BinaryOp op) {
  switch (op) {
    case BinaryOp::add: case BinaryOp::sub: case BinaryOp::div_floor: case BinaryOp::div_trunc: return 0;
    case BinaryOp::pow: case BinaryOp::hypot: case BinaryOp::copysign: return 7;
    case BinaryOp::threshold_backward: return 2;
    default: return 3;
  }
}

variable_list binary_backward(BinaryOp op, const Params& p, FnNode& n, const Tensor& g, const Tensor& a,
                              const Tensor& b, const Tensor& r) {
  bool na = n.needs_input_grad(0), nb = n.needs_input_grad(1);
  Tensor ga, gb;
  switch (op) {
    case BinaryOp::add:
      ga = g;
      if (nb) gb = p[0] == 1.0 ? g : g * p[0];
      break;
    case BinaryOp::sub:
      ga = g;
      if (nb) gb = p[0] == 1.0 ? -g : g * -p[0];
      break;
    case BinaryOp::mul:
      if (na) ga = g * b;
      if (nb) gb = g * a;
      break;
    case BinaryOp::div:
      if (na) ga = g / b;
      if (nb) gb = -(g * a) / (b * b);
      break;
    case BinaryOp::div_floor: case BinaryOp::div_trunc:
      if (na) ga = zeros_like(g);
      if (nb) gb = zeros_like(g);
      break;
    case BinaryOp::remainder:
      ga = g;
      if (nb) gb = -(g * binary(BinaryOp::div_floor, a, b));
      break;
    case BinaryOp::fmod:
      ga = g;
      if (nb) gb = -(g * binary(BinaryOp::div_trunc, a, b));
      break;
    case BinaryOp::pow:
      if (na) ga = zero_where(b == 0.0, g * b * binary(BinaryOp::pow, a, b - 1.0));
      if (nb) gb = zero_where((a == 0.0) & (b >= 0.0), g * r * un(UnaryOp::log, a));
      break;
    case BinaryOp::atan2: {
      Tensor d = a * a + b * b;
      if (na) ga = g * b / d;
      if (nb) gb = -(g * a) / d;
      break;
    }
    case BinaryOp::hypot:
      if (na) ga = g * a / r;
      if (nb) gb = g * b / r;
      break;
    case BinaryOp::copysign:
      if (na) ga = zero_where(a == 0.0, g * (r / a));
      if (nb) gb = zeros_like(g);
      break;
    case BinaryOp::logaddexp:
      if (na) ga = g / (un(UnaryOp::exp, b - a) + 1.0);
      if (nb) gb = g / (un(UnaryOp::exp, a - b) + 1.0);
      break;
    case BinaryOp::threshold_backward:  // linear in a; b only selects
      if (na) ga = binary(BinaryOp::threshold_backward, g, b);
      break;
    case BinaryOp::sigmoid_backward:  // a * b * (1 - b)
      if (na) ga = binary(BinaryOp::sigmoid_backward, g, b);
      if (nb) gb = g * a * (1.0 - b * 2.0);
      break;
    case BinaryOp::tanh_backward:  // a * (1 - b^2)
      if (na) ga = binary(BinaryOp::tanh_backward, g, b);
      if (nb) gb = g * a * b * -2.0;
      break;
    case BinaryOp::maximum: case BinaryOp::minimum: {
      Tensor tie = a == b;
      Tensor half = where(tie, g * 0.5, g);
      bool mx = op == BinaryOp::maximum;
      if (na) ga = zero_where(mx ? a < b : a > b, half);
      if (nb) gb = zero_where(mx ? a > b : a < b, half);
      break;
    }
    case BinaryOp::fmax: case BinaryOp::fmin: {
      Tensor pick_a = (op == BinaryOp::fmax ? a >= b : a <= b) | un(UnaryOp::isnan, b);
      if (na) ga = keep(pick_a, g);
      if (nb) gb = zero_where(pick_a, g);
      break;
    }
    default:
      throw NotImplementedError(str("[", binary_name(op), "] the derivative is not implemented"));
  }
  return {na ? ga : Tensor(), nb ? gb : Tensor()};
}

}  // namespace

Tensor unary(UnaryOp op, const Tensor& x, const Params& p, const Tensor* out) {
  Recorder rec(op == UnaryOp::pow_scalar ? "pow" : unary_name(op), {x}, out);
  if (!rec) return unary_impl(op, x, p, out);
  if (op == UnaryOp::trigamma)
    throw NotImplementedError("[polygamma] the derivative of trigamma (polygamma(2, x)) is not implemented");
  int needs = unary_needs(op);
  Tensor xs = (needs & kInput) ? (rec.inplace() ? clone(x) : x) : Tensor();
  Tensor r = unary_impl(op, x, p, out);
  rec.set_outputs({r});
  FnNode& n = rec.node();
  n.code = int32_t(op);
  n.flags = needs;
  n.params = p;
  if (needs & kInput) n.slot[0] = uint16_t(n.save(xs));
  if (needs & kResult) n.slot[1] = uint16_t(n.save_output(r));
  n.fn = [](FnNode& n, variable_list& g) {  // captureless: no allocation
    Tensor xv = (n.flags & kInput) ? n.get(n.slot[0]) : Tensor();
    Tensor rv = (n.flags & kResult) ? n.get(n.slot[1]) : Tensor();
    return variable_list{unary_backward(UnaryOp(n.code), n.params, g[0], xv, rv)};
  };
  return r;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b, const Params& p, const Tensor* out) {
  Recorder rec(binary_name(op), {a, b}, out);
  if (!rec) return binary_impl(op, a, b, p, out);
  int needs = binary_needs(op);
  // keep only what the needed gradients read: x * 2 saves nothing of x (as PyTorch)
  bool na = rec.node().needs_input_grad(0), nb = rec.node().needs_input_grad(1);
  if (op == BinaryOp::mul) needs = (nb ? 1 : 0) | (na ? 2 : 0);
  if (op == BinaryOp::div) needs = (nb ? 1 : 0) | 2;
  Tensor as = (needs & 1) ? (rec.inplace() ? clone(a) : a) : Tensor();
  Tensor r = binary_impl(op, a, b, p, out);
  rec.set_outputs({r});
  FnNode& n = rec.node();
  n.code = int32_t(op);
  n.flags = needs;
  n.params = p;
  if (needs & 1) n.slot[0] = uint16_t(n.save(as));
  if (needs & 2) n.slot[1] = uint16_t(n.save(b));
  if (needs & 4) n.slot[2] = uint16_t(n.save_output(r));
  n.fn = [](FnNode& n, variable_list& g) {  // captureless: no allocation
    int f = n.flags;
    return binary_backward(BinaryOp(n.code), n.params, n, g[0], (f & 1) ? n.get(n.slot[0]) : Tensor(),
                           (f & 2) ? n.get(n.slot[1]) : Tensor(), (f & 4) ? n.get(n.slot[2]) : Tensor());
  };
  return r;
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor* out) {
  Recorder rec("where", {a, b}, out);
  Tensor r = where_impl(cond, a, b, out);
  if (!rec) return r;
  rec.set_outputs({r});
  size_t ic = rec.node().save(cond);
  rec.node().fn = [ic](FnNode& n, variable_list& g) {
    Tensor c = n.get(ic);
    return variable_list{n.needs_input_grad(0) ? keep(c, g[0]) : Tensor(),
                         n.needs_input_grad(1) ? zero_where(c, g[0]) : Tensor()};
  };
  return r;
}

Tensor lerp(const Tensor& a, const Tensor& b, const Tensor& w, const Tensor* out) {
  Recorder rec("lerp", {a, b, w}, out);
  if (!rec) return lerp_impl(a, b, w, out);
  Tensor as = rec.inplace() ? clone(a) : a;
  Tensor r = lerp_impl(a, b, w, out);
  rec.set_outputs({r});
  FnNode& n = rec.node();
  n.save(as);
  n.save(b);
  n.save(w);
  n.fn = [](FnNode& n, variable_list& g) {
    Tensor w = n.get(2);
    // a Python-number weight stays a double (1 - w of two wrapped numbers would round to float32)
    Tensor one_minus_w = w.is_wrapped_number() ? sc(1.0 - item(w).to_double()) : 1.0 - w;
    return variable_list{n.needs_input_grad(0) ? g[0] * one_minus_w : Tensor(),
                         n.needs_input_grad(1) ? g[0] * w : Tensor(),
                         n.needs_input_grad(2) ? g[0] * (n.get(1) - n.get(0)) : Tensor()};
  };
  return r;
}

void copy_(const Tensor& dst, const Tensor& src, bool non_blocking) {
  Recorder rec("copy_", {dst, src}, &dst);
  copy_impl(dst, src, non_blocking);
  if (!rec) return;
  rec.set_outputs({dst});
  const Device sd = src.device();
  rec.node().fn = [sd](FnNode& n, variable_list& g) {
    Tensor gs = g[0].defined() && g[0].device() != sd ? to_device(g[0], sd, g[0].dtype()) : g[0];
    return variable_list{Tensor(), gs};
  };
}

Tensor to_device(const Tensor& x, Device device, ScalarType dtype, bool non_blocking, bool copy) {
  const Device d = cuda::normalize(device);
  if (d == x.device()) return to_dtype(x, dtype, copy);
  Recorder rec("to", {x});
  Tensor r = empty(x.sizes(), dtype, d);
  copy_impl(r, x, non_blocking);
  if (!rec) return r;
  rec.set_outputs({r});
  const Device sd = x.device();
  rec.node().fn = [sd](FnNode&, variable_list& g) { return variable_list{to_device(g[0], sd, g[0].dtype())}; };
  return r;
}

Tensor to_dtype(const Tensor& x, ScalarType dtype, bool copy) {
  if (x.dtype() == dtype && !copy) return x;
  Recorder rec(copy ? "clone" : "to", {x});
  Tensor r = to_dtype_impl(x, dtype, copy);
  if (!rec) return r;
  rec.set_outputs({r});
  rec.node().fn = [](FnNode&, variable_list& g) { return variable_list{g[0]}; };
  return r;
}

// x.masked_fill_(mask, v): x is the tensor modified (input 0), v a 0-d value of x's dtype.
Tensor masked_fill_(const Tensor& x, const Tensor& mask, const Tensor& v) {
  Recorder rec("masked_fill", {x, v}, &x);
  where_impl(mask, v, x, &x);
  if (!rec) return x;
  rec.set_outputs({x});
  size_t im = rec.node().save(mask);
  rec.node().fn = [im](FnNode& n, variable_list& g) {
    Tensor m = n.get(im);
    return variable_list{n.needs_input_grad(0) ? zero_where(m, g[0]) : Tensor(),
                         n.needs_input_grad(1) ? sum(keep(m, g[0]), std::nullopt, false, std::nullopt) : Tensor()};
  };
  return x;
}

Tensor clone(const Tensor& x) { return to_dtype(x, x.dtype(), /*copy=*/true); }

}  // namespace ember
