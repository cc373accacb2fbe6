// Branch-free float math of the random kernels, shared by cpu/random_kernels.cpp and
// cuda/random_kernels.cu so that both turn one Philox stream into the same values. Include it
// after the file's `#pragma GCC optimize("fp-contract=off", ...)` (the CPU file) / compile with
// --fmad=false (the CUDA file): the values must not depend on fused multiply-adds.
#pragma once
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define EMBER_HD __host__ __device__ __forceinline__
#else
#define EMBER_HD inline
#endif

namespace ember {
namespace rnd {

// ---- branch-free float math (vectorises; inputs are in the ranges noted) ------------------
EMBER_HD float bits_to_f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
EMBER_HD uint32_t f_to_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

// log(x) for normal positive x (Cephes logf: ~1 ulp). Selects are arithmetic so that the
// loop stays branch-free (if-conversion would not speculate trapping float ops).
EMBER_HD float vlogf(float x) {
  const uint32_t i = f_to_bits(x);
  float m = bits_to_f((i & 0x7fffffu) | 0x3f000000u);  // [0.5, 1)
  const float small = m < 0.70710678118654752f ? 1.0f : 0.0f;
  const float e = float(int32_t(i >> 23) - 126) - small;
  m = m + m * small - 1.0f;
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  y += -2.12194440e-4f * e;
  y += -0.5f * z;
  return m + y + 0.693359375f * e;
}

// sin and cos of 2*pi*t for t in [0, 1]: quadrant from t, Cephes polynomials on [-pi/4, pi/4].
EMBER_HD void vsincos_turns(float t, float& s, float& c) {
  const float q = (t * 4.0f + 12582912.0f) - 12582912.0f;  // round to nearest (1.5 * 2^23 trick)
  const float a = (t - q * 0.25f) * 6.2831853071795865f;
  const float z = a * a;
  const float sp = ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f) * z * a + a;
  const float cp = ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z + 4.166664568298827e-2f) * z * z -
                   0.5f * z + 1.0f;
  const int k = int(q);
  const float odd = float(k & 1);  // quadrants 1, 3 swap sin and cos
  const float sv = sp + (cp - sp) * odd, cv = cp + (sp - cp) * odd;
  s = sv * float(1 - (k & 2));        // quadrants 2, 3: -sin
  c = cv * float(1 - ((k + 1) & 2));  // quadrants 1, 2: -cos
}

// [0, 1) with 52 random bits, built from the bits of a double in [1, 2) (vectorises).
EMBER_HD double unit53(uint32_t hi, uint32_t lo) {
  const uint64_t b = 0x3FF0000000000000ull | (((uint64_t(hi) << 32) | lo) >> 12);
  double d;
  memcpy(&d, &b, 8);
  return d - 1.0;
}

}  // namespace rnd
}  // namespace ember
