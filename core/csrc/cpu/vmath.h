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

inline float vtanh(float x) { return std::tanh(x); }
inline double vtanh(double x) { return std::tanh(x); }
inline c64 vtanh(c64 x) { return std::tanh(x); }

}  // namespace ember::math
