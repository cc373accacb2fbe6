// 16-bit floating types stored as bits; arithmetic happens in float (opmath).
#pragma once
#include <cstdint>
#include <cstring>
#include <limits>

namespace ember {

inline uint32_t f32_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
inline float bits_f32(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

struct Half {
  uint16_t x = 0;
  Half() = default;
  static Half from_bits(uint16_t b) { Half h; h.x = b; return h; }
  Half(float f) : x(from_float(f)) {}
  operator float() const { return to_float(x); }

  static uint16_t from_float(float f) {
    // round-to-nearest-even, handles subnormals, inf and nan
    uint32_t u = f32_bits(f);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t a = u & 0x7fffffffu;
    if (a >= 0x7f800000u) return uint16_t(sign | (a > 0x7f800000u ? 0x7e00u : 0x7c00u));
    if (a >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // overflow -> inf
    if (a < 0x38800000u) {                                  // subnormal half or zero
      // use float arithmetic: scale so that the half subnormal lsb is 1.0 in float
      float v = bits_f32(a) * 16777216.0f;  // 2^24
      // round to nearest even integer
      uint32_t r = uint32_t(v);
      float frac = v - float(r);
      if (frac > 0.5f || (frac == 0.5f && (r & 1u))) ++r;
      return uint16_t(sign | r);
    }
    uint32_t mant_odd = (a >> 13) & 1u;
    a += 0xc8000fffu + mant_odd;  // rebias exponent (-112 << 23) and round
    return uint16_t(sign | (a >> 13));
  }
  static float to_float(uint16_t h) {
    uint32_t sign = uint32_t(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0) {
      float v = float(mant) * 5.9604644775390625e-08f;  // 2^-24
      return sign ? -v : v;
    }
    if (exp == 31) return bits_f32(sign | 0x7f800000u | (mant << 13));
    return bits_f32(sign | ((exp + 112) << 23) | (mant << 13));
  }
};

struct BFloat16 {
  uint16_t x = 0;
  BFloat16() = default;
  static BFloat16 from_bits(uint16_t b) { BFloat16 h; h.x = b; return h; }
  BFloat16(float f) : x(from_float(f)) {}
  operator float() const { return bits_f32(uint32_t(x) << 16); }
  static uint16_t from_float(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40u);  // quiet nan
    u += 0x7fffu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
  }
};

}  // namespace ember
