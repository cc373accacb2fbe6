// CPU kernels of the unary ops: one line each. `x` is the opmath value, `T` its type,
// `p` the op's parameters (see EMBER_UNARY_OPS in ops/elementwise.h).
#include "../ops/elementwise.h"
#include "loop.h"
#include "math.h"
#include "vmath.h"

namespace ember {
namespace {

template <DtypeRule R, typename S> struct OutType { using type = S; };
template <typename S> struct OutType<DtypeRule::Bool, S> { using type = bool; };
template <typename S> struct OutType<DtypeRule::Real, S> { using type = std::conditional_t<is_complex_v<S>, float, S>; };

// Most negative finite value of a storage type (nan_to_num's default for -inf).
template <typename S> opmath_t<S> lowest_of() {
  if constexpr (std::is_same_v<S, Half>) return float(Half::from_bits(0xfbff));
  else if constexpr (std::is_same_v<S, BFloat16>) return float(BFloat16::from_bits(0xff7f));
  else return std::numeric_limits<S>::lowest();
}
template <typename T> T angle_(T x) {
  if constexpr (is_complex_v<T>) return T(std::arg(x));
  else return x != x ? x : (x < T(0) ? T(M_PI) : T(0));
}
template <typename T> T bitwise_not_(T x) {
  if constexpr (std::is_same_v<T, bool>) return !x;
  else return T(~x);
}
// min(max(x, lo), hi) like PyTorch: max wins when lo > hi, nan (in x or a bound) propagates.
template <typename T> T clamp_(T x, const Params& p) {
  if (p[2] != 0) x = math::max_nan(x, T(p[0]));
  if (p[3] != 0) x = math::min_nan(x, T(p[1]));
  return x;
}
template <typename T> T conj_(T x) {
  if constexpr (is_complex_v<T>) return std::conj(x);
  else return x;
}

#define EMBER_UNARY_CAPTURE(name, expr, CAPTURE)                                          \
  EMBER_PARALLEL_KERNEL(name##_kernel, (, const Params& p), (, p), {                          \
    constexpr OpSpec spec = unary_specs[int(UnaryOp::name)];                              \
    dispatch<spec.mask>(it.dtypes[1], #name, [&](auto tag) {                              \
      using S = EMBER_TYPE(tag);                                                          \
      using O = typename OutType<spec.rule, S>::type;                                     \
      cpu_kernel<O, S>(it, [CAPTURE](auto x) {                                            \
        using T = decltype(x);                                                            \
        (void)p;                                                                          \
        return expr;                                                                      \
      }, begin_, end_);                                                                   \
    });                                                                                   \
  })                                                                                      \
  EMBER_REGISTER_CPU(unary_stubs[int(UnaryOp::name)], name##_kernel);
#define EMBER_UNARY(name, expr) EMBER_UNARY_CAPTURE(name, expr, &)

using namespace math;

EMBER_UNARY(exp, vexp(x))
EMBER_UNARY(exp2, std::exp2(x))
EMBER_UNARY(expm1, std::expm1(x))
EMBER_UNARY(log, std::log(x))
EMBER_UNARY(log2, std::log2(x))
EMBER_UNARY(log10, std::log10(x))
EMBER_UNARY(log1p, std::log1p(x))
EMBER_UNARY(sqrt, std::sqrt(x))
EMBER_UNARY(rsqrt, T(1) / std::sqrt(x))
// sin/cos: contiguous float32 runs take the vectorised vsincos, 256 elements at a time, and
// redo the few inputs it does not cover (|x| >= 2^20, inf, nan) with libm; the block's large
// inputs are read before the output is written, so in-place (out == in) works.
#define EMBER_SINCOS(name, COS, libm)                                                      \
  EMBER_PARALLEL_KERNEL(name##_kernel, (, const Params& p), (, p), {                       \
    if (it.dtypes[0] == ScalarType::Float32 && it.dtypes[1] == ScalarType::Float32) {      \
      for_each_run(it, begin_, end_, [&](char** ptrs, const int64_t* st, int64_t n) {      \
        if (st[0] != 4 || st[1] != 4) {                                                    \
          for (int64_t i = 0; i < n; ++i)                                                  \
            *reinterpret_cast<float*>(ptrs[0] + i * st[0]) =                               \
                std::libm(*reinterpret_cast<const float*>(ptrs[1] + i * st[1]));            \
          return;                                                                          \
        }                                                                                  \
        float* o = reinterpret_cast<float*>(ptrs[0]);                                      \
        const float* x = reinterpret_cast<const float*>(ptrs[1]);                          \
        for (int64_t b = 0; b < n; b += 256) {                                             \
          const int64_t m = std::min<int64_t>(256, n - b);                                 \
          int64_t at[256];                                                                 \
          float big[256];                                                                  \
          int nb = 0;                                                                      \
          for (int64_t i = 0; i < m; ++i)                                                  \
            if (!(std::fabs(x[b + i]) < 1048576.0f)) {                                     \
              at[nb] = i;                                                                  \
              big[nb++] = x[b + i];                                                        \
            }                                                                              \
          for (int64_t i = 0; i < m; ++i) o[b + i] = vsincos(x[b + i], COS);               \
          for (int k = 0; k < nb; ++k) o[b + at[k]] = std::libm(big[k]);                   \
        }                                                                                  \
      });                                                                                  \
      return;                                                                              \
    }                                                                                      \
    constexpr OpSpec spec = unary_specs[int(UnaryOp::name)];                               \
    dispatch<spec.mask>(it.dtypes[1], #name, [&](auto tag) {                               \
      using S = EMBER_TYPE(tag);                                                           \
      using O = typename OutType<spec.rule, S>::type;                                      \
      cpu_kernel<O, S>(it, [&](auto x) { return std::libm(x); }, begin_, end_);            \
    });                                                                                    \
  })                                                                                       \
  EMBER_REGISTER_CPU(unary_stubs[int(UnaryOp::name)], name##_kernel);

EMBER_SINCOS(sin, 0, sin)
EMBER_SINCOS(cos, 1, cos)
EMBER_UNARY(tan, std::tan(x))
EMBER_UNARY(asin, std::asin(x))
EMBER_UNARY(acos, std::acos(x))
EMBER_UNARY(atan, std::atan(x))
EMBER_UNARY(sinh, std::sinh(x))
EMBER_UNARY(cosh, std::cosh(x))
EMBER_UNARY(tanh, vtanh(x))
EMBER_UNARY(asinh, std::asinh(x))
EMBER_UNARY(acosh, std::acosh(x))
EMBER_UNARY(atanh, std::atanh(x))
EMBER_UNARY(erf, std::erf(x))
EMBER_UNARY(erfc, std::erfc(x))
EMBER_UNARY(erfinv, erfinv_(x))
EMBER_UNARY(lgamma, std::lgamma(x))
EMBER_UNARY(digamma, T(digamma_d(double(x))))
EMBER_UNARY(trigamma, T(trigamma_d(double(x))))
EMBER_UNARY(sigmoid, T(1) / (T(1) + vexp(-x)))
EMBER_UNARY(logit, (p[0] < 0 ? std::log(x / (T(1) - x))
                             : std::log(std::clamp(x, T(p[0]), T(1 - p[0])) / (T(1) - std::clamp(x, T(p[0]), T(1 - p[0]))))))
EMBER_UNARY(silu, x / (T(1) + vexp(-x)))
EMBER_UNARY(mish, x * std::tanh(softplus_(x, T(1), T(20))))
EMBER_UNARY(gelu, gelu_(x, p[0] != 0))
EMBER_UNARY(softplus, softplus_(x, T(p[0]), T(p[1])))
EMBER_UNARY(reciprocal, T(1) / x)
EMBER_UNARY(frac, x - std::trunc(x))
EMBER_UNARY(neg, T(-x))
EMBER_UNARY(abs, abs_(x))
EMBER_UNARY(angle, angle_(x))
EMBER_UNARY(conj, conj_(x))
EMBER_UNARY(floor, floor_(x))
EMBER_UNARY(ceil, ceil_(x))
EMBER_UNARY(trunc, trunc_(x))
EMBER_UNARY(round, round_(x, p[0]))
EMBER_UNARY(sign, sign_(x))
EMBER_UNARY(relu, (x < T(0) ? T(0) : x))
EMBER_UNARY(square, x * x)
// the bounds by value: read through the reference, they were reloaded and converted for every
// element (the stores might alias them), 30x slower than relu
EMBER_UNARY_CAPTURE(clamp, clamp_(x, p), p)
EMBER_UNARY(pow_scalar, (p[0] == 2 ? x * x : p[0] == 0.5 ? std::sqrt(x) : p[0] == -0.5 ? T(1) / std::sqrt(x)
                                                                    : std::pow(x, T(p[0]))))
EMBER_UNARY(nan_to_num, nan_to_num_(x, p[0], p[1], p[2], T(lowest_of<S>()), T(-lowest_of<S>())))
EMBER_UNARY(bitwise_not, bitwise_not_(x))
EMBER_UNARY(isnan, isnan_(x))
EMBER_UNARY(isinf, isinf_(x))
EMBER_UNARY(isfinite, isfinite_(x))
EMBER_UNARY(signbit, signbit_(x))
EMBER_UNARY(logical_not, !truthy(x))

}  // namespace
}  // namespace ember
