// Device math shared by the CUDA kernels: float arguments call the f-suffixed CUDA function,
// double ones the plain one; warp-wide sums and maxima; and the sign / NaN tests that also take
// integers and bool.
#pragma once
#include <cmath>
#include <type_traits>

namespace ember {
namespace cuda {

#define EMBER_FN1(name, fn)                                 \
  template <typename T>                                     \
  __device__ __forceinline__ T name(T x) {                  \
    if constexpr (std::is_same_v<T, float>) return fn##f(x); \
    else return fn(x);                                      \
  }
EMBER_FN1(d_exp, exp)
EMBER_FN1(d_exp2, exp2)
EMBER_FN1(d_expm1, expm1)
EMBER_FN1(d_log, log)
EMBER_FN1(d_log2, log2)
EMBER_FN1(d_log10, log10)
EMBER_FN1(d_log1p, log1p)
EMBER_FN1(d_sqrt, sqrt)
EMBER_FN1(d_rsqrt, rsqrt)
EMBER_FN1(d_sin, sin)
EMBER_FN1(d_cos, cos)
EMBER_FN1(d_tan, tan)
EMBER_FN1(d_asin, asin)
EMBER_FN1(d_acos, acos)
EMBER_FN1(d_atan, atan)
EMBER_FN1(d_sinh, sinh)
EMBER_FN1(d_cosh, cosh)
EMBER_FN1(d_tanh, tanh)
EMBER_FN1(d_asinh, asinh)
EMBER_FN1(d_acosh, acosh)
EMBER_FN1(d_atanh, atanh)
EMBER_FN1(d_erf, erf)
EMBER_FN1(d_erfc, erfc)
EMBER_FN1(d_erfinv, erfinv)
EMBER_FN1(d_lgamma, lgamma)
EMBER_FN1(d_floor, floor)
EMBER_FN1(d_ceil, ceil)
EMBER_FN1(d_trunc, trunc)
EMBER_FN1(d_rint, rint)
EMBER_FN1(d_fabs, fabs)
#undef EMBER_FN1

#define EMBER_FN2(name, fexpr, dexpr)                                     \
  template <typename T>                                                    \
  __device__ __forceinline__ T name(T a, T b) {                            \
    if constexpr (std::is_same_v<T, float>) return fexpr;                  \
    else return dexpr;                                                     \
  }
EMBER_FN2(d_pow, powf(a, b), pow(a, b))
EMBER_FN2(d_atan2, atan2f(a, b), atan2(a, b))
EMBER_FN2(d_hypot, hypotf(a, b), hypot(a, b))
EMBER_FN2(d_copysign, copysignf(a, b), copysign(a, b))
EMBER_FN2(d_fmod, fmodf(a, b), fmod(a, b))
EMBER_FN2(d_fmax, fmaxf(a, b), fmax(a, b))
EMBER_FN2(d_fmin, fminf(a, b), fmin(a, b))
#undef EMBER_FN2

// Sum / max over the 32 lanes of a warp, returned to every lane (all lanes must call).
template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xFFFFFFFFu, v, o);
  return v;
}
template <typename T>
__device__ __forceinline__ T warp_max(T v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const T w = __shfl_xor_sync(0xFFFFFFFFu, v, o);
    v = w > v ? w : v;
  }
  return v;
}

template <typename T>
__device__ __forceinline__ bool is_neg(T v) {
  if constexpr (std::is_signed_v<T> || std::is_floating_point_v<T>) return v < T(0);
  else return false;
}
template <typename T>
__device__ __forceinline__ bool isnan_(T x) {
  if constexpr (std::is_floating_point_v<T>) return x != x;
  else return false;
}

}  // namespace cuda
}  // namespace ember
