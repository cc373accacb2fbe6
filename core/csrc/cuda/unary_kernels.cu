// CUDA kernels of the unary ops (ops/elementwise.h's list): one functor per op over opmath values
// (16-bit floats compute in float), the same formulas as cpu/unary_kernels.cpp (digamma and
// trigamma: the CPU's double code, ops/special_math.h). Complex inputs have no CUDA kernel yet
// (a clear NotImplementedError).
#include <cfloat>
#include <cmath>

#include "../ops/elementwise.h"
#include "../ops/special_math.h"
#include "loop.cuh"
#include "math.cuh"

namespace ember {
namespace cuda {
namespace {

template <typename T>
__device__ __forceinline__ T softplus_(T x, T beta, T threshold) {
  const T bx = x * beta;
  return bx > threshold ? x : d_log1p(d_exp(bx)) / beta;
}

#define EMBER_UF(Name, ...)                                                      \
  struct Name {                                                                  \
    double p0, p1, p2, p3;                                                       \
    template <typename T>                                                        \
    __device__ __forceinline__ auto operator()(T x) const { __VA_ARGS__ }        \
  };

EMBER_UF(ExpF, return d_exp(x);)
EMBER_UF(Exp2F, return d_exp2(x);)
EMBER_UF(Expm1F, return d_expm1(x);)
EMBER_UF(LogF, return d_log(x);)
EMBER_UF(Log2F, return d_log2(x);)
EMBER_UF(Log10F, return d_log10(x);)
EMBER_UF(Log1pF, return d_log1p(x);)
EMBER_UF(SqrtF, return d_sqrt(x);)
EMBER_UF(RsqrtF, return T(1) / d_sqrt(x);)
EMBER_UF(SinF, return d_sin(x);)
EMBER_UF(CosF, return d_cos(x);)
EMBER_UF(TanF, return d_tan(x);)
EMBER_UF(AsinF, return d_asin(x);)
EMBER_UF(AcosF, return d_acos(x);)
EMBER_UF(AtanF, return d_atan(x);)
EMBER_UF(SinhF, return d_sinh(x);)
EMBER_UF(CoshF, return d_cosh(x);)
EMBER_UF(TanhF, return d_tanh(x);)
EMBER_UF(AsinhF, return d_asinh(x);)
EMBER_UF(AcoshF, return d_acosh(x);)
EMBER_UF(AtanhF, return d_atanh(x);)
EMBER_UF(ErfF, return d_erf(x);)
EMBER_UF(ErfcF, return d_erfc(x);)
EMBER_UF(ErfinvF, return d_erfinv(x);)
EMBER_UF(LgammaF, return d_lgamma(x);)
EMBER_UF(DigammaF, return T(digamma_d(double(x)));)
EMBER_UF(TrigammaF, return T(trigamma_d(double(x)));)
EMBER_UF(SigmoidF, return T(1) / (T(1) + d_exp(-x));)
EMBER_UF(LogitF, if (p0 < 0) return d_log(x / (T(1) - x));
         const T lo = T(p0), hi = T(1 - p0);
         const T c = x < lo ? lo : (x > hi ? hi : x);
         return isnan_(x) ? x : d_log(c / (T(1) - c));)
EMBER_UF(SiluF, return x / (T(1) + d_exp(-x));)
EMBER_UF(MishF, return x * d_tanh(softplus_(x, T(1), T(20)));)
EMBER_UF(GeluF, if (p0 != 0) {
           const T k = T(0.7978845608028654);  // sqrt(2/pi)
           return T(0.5) * x * (T(1) + d_tanh(k * (x + T(0.044715) * x * x * x)));
         }
         return T(0.5) * x * (T(1) + d_erf(x * T(0.7071067811865476)));)
EMBER_UF(SoftplusF, return softplus_(x, T(p0), T(p1));)
EMBER_UF(ReciprocalF, return T(1) / x;)
EMBER_UF(FracF, return x - d_trunc(x);)
EMBER_UF(NegF, return T(-x);)
EMBER_UF(AbsF, if constexpr (std::is_same_v<T, bool> || std::is_unsigned_v<T>) return x;
         else if constexpr (std::is_integral_v<T>) return x < T(0) ? T(-x) : x;
         else return d_fabs(x);)
EMBER_UF(AngleF, if constexpr (std::is_floating_point_v<T>) return isnan_(x) ? x : (x < T(0) ? T(M_PI) : T(0));
         else return T(0);)
EMBER_UF(ConjF, return x;)
EMBER_UF(FloorF, if constexpr (std::is_integral_v<T>) return x; else return d_floor(x);)
EMBER_UF(CeilF, if constexpr (std::is_integral_v<T>) return x; else return d_ceil(x);)
EMBER_UF(TruncF, if constexpr (std::is_integral_v<T>) return x; else return d_trunc(x);)
EMBER_UF(RoundF, if constexpr (std::is_integral_v<T>) return x;
         else {
           if (p0 == 0) return d_rint(x);
           const T s = T(pow(10.0, p0));
           return d_rint(x * s) / s;
         })
EMBER_UF(SignF, if constexpr (std::is_same_v<T, bool>) return x; else return T((T(0) < x) - is_neg(x));)
EMBER_UF(ReluF, return is_neg(x) ? T(0) : x;)
EMBER_UF(SquareF, return T(x * x);)
EMBER_UF(ClampF,  // NaN propagates, as max_nan / min_nan on the CPU
         if (isnan_(x)) return x;
         if (p2 != 0 && x < T(p0)) x = T(p0);
         if (p3 != 0 && x > T(p1)) x = T(p1);
         return x;)
EMBER_UF(PowScalarF, if constexpr (std::is_floating_point_v<T>) {
           return p0 == 2 ? x * x : p0 == 0.5 ? d_sqrt(x) : p0 == -0.5 ? T(1) / d_sqrt(x) : d_pow(x, T(p0));
         } else {
           T r = 1, base = x;
           for (int64_t e = int64_t(p0); e > 0; e >>= 1) {
             if (e & 1) r = T(r * base);
             base = T(base * base);
           }
           return r;
         })
EMBER_UF(NanToNumF,  // p3: the dtype's largest finite value
         if constexpr (std::is_integral_v<T>) return x;
         else {
           if (x != x) return T(p0);
           if (x == T(INFINITY)) return isnan(p1) ? T(p3) : T(p1);
           if (x == T(-INFINITY)) return isnan(p2) ? T(-p3) : T(p2);
           return x;
         })
EMBER_UF(BitwiseNotF, if constexpr (std::is_same_v<T, bool>) return !x; else return T(~x);)
EMBER_UF(IsnanF, return isnan_(x);)
EMBER_UF(IsinfF, if constexpr (std::is_floating_point_v<T>) return bool(isinf(x)); else return false;)
EMBER_UF(IsfiniteF, if constexpr (std::is_floating_point_v<T>) return bool(isfinite(x)); else return true;)
EMBER_UF(SignbitF, if constexpr (std::is_floating_point_v<T>) return bool(signbit(x));
         else if constexpr (std::is_signed_v<T>) return x < T(0);
         else return false;)
EMBER_UF(LogicalNotF, return !(x != T(0));)
#undef EMBER_UF

template <DtypeRule R, typename S> struct OutOf { using type = S; };
template <typename S> struct OutOf<DtypeRule::Bool, S> { using type = bool; };
// Real: complex -> real; every CUDA dtype is real already

template <typename S>
double largest_of() {
  if constexpr (std::is_same_v<S, __half>) return 65504.0;
  else if constexpr (std::is_same_v<S, __nv_bfloat16>) return 3.3895313892515355e38;
  else if constexpr (std::is_same_v<S, float>) return double(FLT_MAX);
  else return DBL_MAX;
}

template <typename F, DtypeRule R>
struct UnaryBody {
  const ElementwiseIter& it;
  const Params& p;
  const char* name;
  template <typename S>
  void operator()() const {
    F f{p[0], p[1], p[2], p[3]};
    if constexpr (std::is_same_v<F, NanToNumF>) f.p3 = largest_of<S>();
    launch<typename OutOf<R, S>::type, S>(name, it, f);
  }
};

#define EMBER_CUDA_UNARY(op, Functor, Mask)                                                      \
  void op##_cuda(ElementwiseIter& it, const Params& p) {                                         \
    constexpr OpSpec spec = unary_specs[int(UnaryOp::op)];                                       \
    dispatch_cuda<(Mask) & spec.mask>(it.dtypes[1], #op, UnaryBody<Functor, spec.rule>{it, p, #op}); \
  }                                                                                              \
  EMBER_REGISTER_CUDA(unary_stubs[int(UnaryOp::op)], op##_cuda);

EMBER_CUDA_UNARY(exp, ExpF, kFloatMask)
EMBER_CUDA_UNARY(exp2, Exp2F, kFloatMask)
EMBER_CUDA_UNARY(expm1, Expm1F, kFloatMask)
EMBER_CUDA_UNARY(log, LogF, kFloatMask)
EMBER_CUDA_UNARY(log2, Log2F, kFloatMask)
EMBER_CUDA_UNARY(log10, Log10F, kFloatMask)
EMBER_CUDA_UNARY(log1p, Log1pF, kFloatMask)
EMBER_CUDA_UNARY(sqrt, SqrtF, kFloatMask)
EMBER_CUDA_UNARY(rsqrt, RsqrtF, kFloatMask)
EMBER_CUDA_UNARY(sin, SinF, kFloatMask)
EMBER_CUDA_UNARY(cos, CosF, kFloatMask)
EMBER_CUDA_UNARY(tan, TanF, kFloatMask)
EMBER_CUDA_UNARY(asin, AsinF, kFloatMask)
EMBER_CUDA_UNARY(acos, AcosF, kFloatMask)
EMBER_CUDA_UNARY(atan, AtanF, kFloatMask)
EMBER_CUDA_UNARY(sinh, SinhF, kFloatMask)
EMBER_CUDA_UNARY(cosh, CoshF, kFloatMask)
EMBER_CUDA_UNARY(tanh, TanhF, kFloatMask)
EMBER_CUDA_UNARY(asinh, AsinhF, kFloatMask)
EMBER_CUDA_UNARY(acosh, AcoshF, kFloatMask)
EMBER_CUDA_UNARY(atanh, AtanhF, kFloatMask)
EMBER_CUDA_UNARY(erf, ErfF, kFloatMask)
EMBER_CUDA_UNARY(erfc, ErfcF, kFloatMask)
EMBER_CUDA_UNARY(erfinv, ErfinvF, kFloatMask)
EMBER_CUDA_UNARY(lgamma, LgammaF, kFloatMask)
EMBER_CUDA_UNARY(digamma, DigammaF, kFloatMask)
EMBER_CUDA_UNARY(trigamma, TrigammaF, kFloatMask)
EMBER_CUDA_UNARY(sigmoid, SigmoidF, kFloatMask)
EMBER_CUDA_UNARY(logit, LogitF, kFloatMask)
EMBER_CUDA_UNARY(silu, SiluF, kFloatMask)
EMBER_CUDA_UNARY(mish, MishF, kFloatMask)
EMBER_CUDA_UNARY(gelu, GeluF, kFloatMask)
EMBER_CUDA_UNARY(softplus, SoftplusF, kFloatMask)
EMBER_CUDA_UNARY(reciprocal, ReciprocalF, kFloatMask)
EMBER_CUDA_UNARY(frac, FracF, kFloatMask)
EMBER_CUDA_UNARY(neg, NegF, kAllRealMask)
EMBER_CUDA_UNARY(abs, AbsF, kAllRealMask)
EMBER_CUDA_UNARY(angle, AngleF, kAllRealMask)
EMBER_CUDA_UNARY(conj, ConjF, kAllRealMask)
EMBER_CUDA_UNARY(floor, FloorF, kAllRealMask)
EMBER_CUDA_UNARY(ceil, CeilF, kAllRealMask)
EMBER_CUDA_UNARY(trunc, TruncF, kAllRealMask)
EMBER_CUDA_UNARY(round, RoundF, kAllRealMask)
EMBER_CUDA_UNARY(sign, SignF, kAllRealMask)
EMBER_CUDA_UNARY(relu, ReluF, kAllRealMask)
EMBER_CUDA_UNARY(square, SquareF, kAllRealMask)
EMBER_CUDA_UNARY(clamp, ClampF, kAllRealMask)
EMBER_CUDA_UNARY(pow_scalar, PowScalarF, kAllRealMask)
EMBER_CUDA_UNARY(nan_to_num, NanToNumF, kAllRealMask)
EMBER_CUDA_UNARY(bitwise_not, BitwiseNotF, kAllRealMask)
EMBER_CUDA_UNARY(isnan, IsnanF, kAllRealMask)
EMBER_CUDA_UNARY(isinf, IsinfF, kAllRealMask)
EMBER_CUDA_UNARY(isfinite, IsfiniteF, kAllRealMask)
EMBER_CUDA_UNARY(signbit, SignbitF, kAllRealMask)
EMBER_CUDA_UNARY(logical_not, LogicalNotF, kAllRealMask)

}  // namespace
}  // namespace cuda
}  // namespace ember
