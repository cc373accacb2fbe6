// Branch-free float math that GCC auto-vectorises inside EMBER_HOT loops (the libm calls
// do not vectorise). Other types fall back to <cmath>.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "../tensor/dtype.h"

namespace ember::math {

inline float bitcast_f32(int32_t i) { float f; std::memcpy(&f, &i, 4); return f; }

// exp(x) for float: Cody-Waite reduction x = n ln2 + r, degree-6 polynomial for e^r,
// and 2^n applied in two halves so that subnormal results and overflow come out right.
// Max error about 1 ulp; nan propagates; exp(-inf) = 0, exp(+inf) = inf.
inline float vexp(float x) {
  float xc = x < -104.0f ? -104.0f : x;
  xc = xc > 89.0f ? 89.0f : xc;
  const float magic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  float n = (xc * 1.44269504088896341f + magic) - magic;
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t ni = int32_t(n);
  int32_t n1 = ni >> 1;
  int32_t n2 = ni - n1;
  float s1 = bitcast_f32((n1 + 127) << 23);
  float s2 = bitcast_f32((n2 + 127) << 23);
  float res = p * s1 * s2;
  return x != x ? x : res;
}
inline double vexp(double x) { return std::exp(x); }
inline c64 vexp(c64 x) { return std::exp(x); }

// sin (cosine = 0) or cos (cosine = 1) of a float, branch-free so that GCC vectorises it.
// The reduction runs in double: n = round(x * 2/pi), r = x - n pi/2 with pi/2 in two parts
// (fdlibm's pio2_1 and pio2_1t: exact products for |x| < 2^20), so r is right to float
// precision even next to the zeros of sin and cos; then Cephes' float minimax polynomials on
// |r| <= pi/4 (about 1 ulp) and the quadrant picks +-sin or +-cos. Callers redo |x| >= 2^20,
// inf and nan with libm.
inline float vsincos(float x, int cosine) {
  double xd = x;
  double n = (xd * 0.63661977236758134308 + 6755399441055744.0) - 6755399441055744.0;  // round to nearest
  float r = float((xd - n * 1.57079632673412561417) - n * 6.07710050650619224932e-11);
  int32_t q = int32_t(n) + cosine;  // cos(x) = sin(x + pi/2)
  float z = r * r;
  float s = ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f) * z * r + r;
  float c = ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z + 4.166664568298827e-2f) * z * z - 0.5f * z + 1.0f;
  float v = (q & 1) ? c : s;
  v = (q & 2) ? -v : v;
  return (cosine == 0 && x == 0.0f) ? x : v;  // sin(-0) = -0
}

// tanh(x) for float, branch-free: Cephes' odd polynomial for |x| < 0.625 (no cancellation near
// 0), 1 - 2 / (exp(2|x|) + 1) with the sign of x above (exp overflows to inf: +-1). About 2 ulp;
// nan propagates.
inline float vtanh(float x) {
  const float z = std::fabs(x), s = x * x;
  const float p =
      ((((-5.70498872745e-3f * s + 2.06390887954e-2f) * s - 5.37397155531e-2f) * s + 1.33314422036e-1f) * s -
       3.33332819422e-1f) * s * x + x;
  const float l = std::copysign(1.0f - 2.0f / (vexp(2.0f * z) + 1.0f), x);
  return z < 0.625f ? p : l;
}
inline double vtanh(double x) { return std::tanh(x); }
inline c64 vtanh(c64 x) { return std::tanh(x); }

}  // namespace ember::math
