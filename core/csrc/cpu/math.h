// Scalar math used by the CPU kernels, defined for every type an op's mask admits.
// Branch-light so that contiguous loops vectorise.
#pragma once
#include <cmath>
#include <complex>
#include <cstring>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "../ops/special_math.h"
#include "../tensor/dtype.h"

namespace ember::math {

template <typename T> constexpr bool is_cplx = is_complex_v<T>;

template <typename T>
inline T floor_(T x) { if constexpr (std::is_integral_v<T>) return x; else return std::floor(x); }
template <typename T>
inline T ceil_(T x) { if constexpr (std::is_integral_v<T>) return x; else return std::ceil(x); }
template <typename T>
inline T trunc_(T x) { if constexpr (std::is_integral_v<T>) return x; else return std::trunc(x); }
template <typename T>
inline T round_(T x, double decimals) {
  if constexpr (std::is_integral_v<T>) {
    return x;
  } else {
    if (decimals == 0) return std::nearbyint(x);
    T s = T(std::pow(10.0, decimals));
    return std::nearbyint(x * s) / s;
  }
}
template <typename T>
inline T abs_(T x) {
  if constexpr (std::is_same_v<T, bool> || std::is_unsigned_v<T>) return x;
  else if constexpr (std::is_integral_v<T>) return x < 0 ? T(-x) : x;
  else return std::abs(x);
}
template <typename T>
inline T sign_(T x) {
  if constexpr (std::is_same_v<T, bool>) return x;
  else return T((T(0) < x) - (x < T(0)));
}
template <typename T>
inline bool isnan_(T x) {
  if constexpr (is_cplx<T>) return std::isnan(x.real()) || std::isnan(x.imag());
  else if constexpr (std::is_integral_v<T>) return false;
  else return x != x;
}
template <typename T>
inline bool isinf_(T x) {
  if constexpr (is_cplx<T>) return std::isinf(x.real()) || std::isinf(x.imag());
  else if constexpr (std::is_integral_v<T>) return false;
  else return std::isinf(x);
}
template <typename T>
inline bool isfinite_(T x) {
  if constexpr (is_cplx<T>) return std::isfinite(x.real()) && std::isfinite(x.imag());
  else if constexpr (std::is_integral_v<T>) return true;
  else return std::isfinite(x);
}
template <typename T>
inline bool signbit_(T x) {
  if constexpr (std::is_same_v<T, bool> || std::is_unsigned_v<T>) return false;
  else if constexpr (std::is_integral_v<T>) return x < 0;
  else if constexpr (sizeof(T) == 4) { uint32_t u; std::memcpy(&u, &x, 4); return (u >> 31) != 0; }
  else { uint64_t u; std::memcpy(&u, &x, 8); return (u >> 63) != 0; }  // std::signbit ICEs GCC 12 here
}
template <typename T>
inline bool truthy(T x) {
  if constexpr (is_cplx<T>) return x.real() != 0 || x.imag() != 0;
  else return x != T(0);
}

// digamma_d / trigamma_d: ops/special_math.h (shared with the CUDA kernels).

// Inverse error function: Giles' single/double precision approximation plus two
// Newton steps, exact to a few ulp over (-1, 1); +-1 -> +-inf, |x| > 1 -> nan.
template <typename T>
inline T erfinv_(T y) {
  double x = double(y);
  if (x <= -1.0 || x >= 1.0) {
    if (x == 1.0) return std::numeric_limits<T>::infinity();
    if (x == -1.0) return -std::numeric_limits<T>::infinity();
    return std::numeric_limits<T>::quiet_NaN();
  }
  double w = -std::log((1.0 - x) * (1.0 + x)), p;
  if (w < 6.25) {
    w -= 3.125;
    p = -3.6444120640178196996e-21; p = -1.685059138182016589e-19 + p * w;
    p = 1.2858480715256400167e-18 + p * w; p = 1.115787767802518096e-17 + p * w;
    p = -1.333171662854620906e-16 + p * w; p = 2.0972767875968561637e-17 + p * w;
    p = 6.6376381343583238325e-15 + p * w; p = -4.0545662729752068639e-14 + p * w;
    p = -8.1519341976054721522e-14 + p * w; p = 2.6335093153082322977e-12 + p * w;
    p = -1.2975133253453532498e-11 + p * w; p = -5.4154120542946279317e-11 + p * w;
    p = 1.051212273321532285e-09 + p * w; p = -4.1126339803469836976e-09 + p * w;
    p = -2.9070369957882005086e-08 + p * w; p = 4.2347877827932403518e-07 + p * w;
    p = -1.3654692000834678645e-06 + p * w; p = -1.3882523362786468719e-05 + p * w;
    p = 0.0001867342080340571352 + p * w; p = -0.00074070253416626697512 + p * w;
    p = -0.0060336708714301490533 + p * w; p = 0.24015818242558961693 + p * w;
    p = 1.6536545626831027356 + p * w;
  } else if (w < 16.0) {
    w = std::sqrt(w) - 3.25;
    p = 2.2137376921775787049e-09; p = 9.0756561938885390979e-08 + p * w;
    p = -2.7517406297064545428e-07 + p * w; p = 1.8239629214389227755e-08 + p * w;
    p = 1.5027403968909827627e-06 + p * w; p = -4.013867526981545969e-06 + p * w;
    p = 2.9234449089955446044e-06 + p * w; p = 1.2475304481671778723e-05 + p * w;
    p = -4.7318229009055733981e-05 + p * w; p = 6.8284851459573175448e-05 + p * w;
    p = 2.4031110387097893999e-05 + p * w; p = -0.0003550375203628474796 + p * w;
    p = 0.00095328937973738049703 + p * w; p = -0.0016882755560235047313 + p * w;
    p = 0.0024914420961078508066 + p * w; p = -0.0037512085075692412107 + p * w;
    p = 0.005370914553590063617 + p * w; p = 1.0052589676941592334 + p * w;
    p = 3.0838856104922207635 + p * w;
  } else {
    w = std::sqrt(w) - 5.0;
    p = -2.7109920616438573243e-11; p = -2.5556418169965252055e-10 + p * w;
    p = 1.5076572693500548083e-09 + p * w; p = -3.7894654401267369937e-09 + p * w;
    p = 7.6157012080783393804e-09 + p * w; p = -1.4960026627149240478e-08 + p * w;
    p = 2.9147953450901080826e-08 + p * w; p = -6.7711997758452339498e-08 + p * w;
    p = 2.2900482228026654717e-07 + p * w; p = -9.9298272942317002539e-07 + p * w;
    p = 4.5260625972231537039e-06 + p * w; p = -1.9681778105531670567e-05 + p * w;
    p = 7.5995277030017761139e-05 + p * w; p = -0.00021503011930044477347 + p * w;
    p = -0.00013871931833623122026 + p * w; p = 1.0103004648645343977 + p * w;
    p = 4.8499064014085844221 + p * w;
  }
  double r = p * x;
  // Newton refinement on erf(r) = x
  for (int i = 0; i < 2; ++i) {
    double err = std::erf(r) - x;
    r -= err / (1.1283791670955126 * std::exp(-r * r));
  }
  return T(r);
}

template <typename T>
inline T sigmoid_(T x) { return T(1) / (T(1) + std::exp(-x)); }

template <typename T>
inline T softplus_(T x, T beta, T threshold) {
  T bx = x * beta;
  return bx > threshold ? x : std::log1p(std::exp(bx)) / beta;
}

template <typename T>
inline T gelu_(T x, bool tanh_approx) {
  if (tanh_approx) {
    const T k = T(0.7978845608028654);  // sqrt(2/pi)
    return T(0.5) * x * (T(1) + std::tanh(k * (x + T(0.044715) * x * x * x)));
  }
  return T(0.5) * x * (T(1) + std::erf(x * T(0.7071067811865476)));
}

template <typename T>
inline T nan_to_num_(T x, double nan, double posinf, double neginf, T lowest, T highest) {
  if constexpr (std::is_integral_v<T>) {
    return x;
  } else {
    if (x != x) return T(nan);
    if (x == std::numeric_limits<T>::infinity()) return std::isnan(posinf) ? highest : T(posinf);
    if (x == -std::numeric_limits<T>::infinity()) return std::isnan(neginf) ? lowest : T(neginf);
    return x;
  }
}

template <typename T>
inline T ipow(T base, T exp) {  // integer power by squaring, exp >= 0
  T result = 1;
  while (exp) {
    if (exp & 1) result *= base;
    exp >>= 1;
    base *= base;
  }
  return result;
}

// Python-style modulus (sign of the divisor).
template <typename T>
inline T remainder_(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    T r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
  } else {
    T r = std::fmod(a, b);
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
  }
}

// Floor division like PyTorch's div(rounding_mode="floor") for floats.
template <typename T>
inline T div_floor_(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    T q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
  } else {
    if (b == 0) return a / b;
    T mod = std::fmod(a, b);
    T div = (a - mod) / b;
    if (mod != 0 && ((b < 0) != (mod < 0))) div -= T(1);
    T floordiv;
    if (div != 0) {
      floordiv = std::floor(div);
      if (div - floordiv > T(0.5)) floordiv += T(1);
    } else {
      floordiv = std::copysign(T(0), a / b);
    }
    return floordiv;
  }
}

template <typename T>
inline T max_nan(T a, T b) {
  if constexpr (std::is_same_v<T, bool>) return a || b;
  else if constexpr (std::is_integral_v<T>) return a > b ? a : b;
  else return (a != a) ? a : ((b != b) ? b : (a > b ? a : b));
}
template <typename T>
inline T min_nan(T a, T b) {
  if constexpr (std::is_same_v<T, bool>) return a && b;
  else if constexpr (std::is_integral_v<T>) return a < b ? a : b;
  else return (a != a) ? a : ((b != b) ? b : (a < b ? a : b));
}

}  // namespace ember::math
