// Special functions shared by the CPU kernels (cpu/math.h) and the CUDA kernels
// (cuda/unary_kernels.cu), so both compute the same values: digamma (psi) and trigamma (psi'),
// in double.
#pragma once
#include <math.h>

#ifndef EMBER_HD
#if defined(__CUDACC__)
#define EMBER_HD __host__ __device__ __forceinline__
#else
#define EMBER_HD inline
#endif
#endif

namespace ember {

// Reflection for x < 0.5, recurrence up to x >= 10, then the asymptotic series (about 1e-15
// relative). Poles (0, negative integers): digamma gives -inf at 0 and nan at negative
// integers, trigamma gives inf, as PyTorch.
EMBER_HD double digamma_d(double x) {
  if (x != x) return x;
  if (x == 0) return ::copysign(double(INFINITY), -x);
  double r = 0;
  if (x < 0.5) {
    if (x == ::floor(x)) return double(NAN);
    const double pi = 3.14159265358979323846;
    r = -pi / ::tan(pi * x);
    x = 1 - x;
  }
  while (x < 10) {
    r -= 1 / x;
    x += 1;
  }
  double f = 1 / (x * x);
  double t = f * (-1.0 / 12 + f * (1.0 / 120 + f * (-1.0 / 252 + f * (1.0 / 240 + f * (-1.0 / 132 +
             f * (691.0 / 32760 + f * (-1.0 / 12)))))));
  return r + ::log(x) - 0.5 / x + t;
}

EMBER_HD double trigamma_d(double x) {
  if (x != x) return x;
  double r = 0, sign = 1;
  if (x < 0.5) {
    if (x == ::floor(x)) return double(INFINITY);
    const double pi = 3.14159265358979323846;
    double s = ::sin(pi * x);
    r = pi * pi / (s * s);
    sign = -1;
    x = 1 - x;
  }
  double acc = 0;
  while (x < 10) {
    acc += 1 / (x * x);
    x += 1;
  }
  double ix = 1 / x, f = ix * ix;
  acc += ix + 0.5 * f + ix * f * (1.0 / 6 + f * (-1.0 / 30 + f * (1.0 / 42 + f * (-1.0 / 30 + f * (5.0 / 66)))));
  return r + sign * acc;
}

}  // namespace ember
