// CPU kernels of the random ops (ops/random.h): Philox blocks computed 16 at a time in
// struct-of-arrays form (the rounds vectorise), then turned into the distribution with
// branch-free float math. Which words an element uses depends only on its index (see
// for_groups), so any split over threads gives the same values.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "../ops/random.h"
#include "loop.h"

// No fused multiply-adds: the values must not depend on whether the AVX2 clone runs.
// No trapping math: lets float selects be if-converted, so the Box-Muller loops vectorise.
#pragma GCC optimize("fp-contract=off", "no-trapping-math")

#include "../ops/random_math.h"  // after the pragma: its functions compile (and inline) under it

namespace ember {
namespace {

using namespace rnd;

constexpr int kLanes = 16;
struct Blocks {
  uint32_t x[4][kLanes];
};

// Blocks b0 .. b0 + kLanes - 1 of the stream.
inline void philox_blocks(const PhiloxKey& key, uint64_t b0, Blocks& o) {
  uint32_t c0[kLanes], c1[kLanes], c2[kLanes], c3[kLanes];
  const uint32_t olo = uint32_t(key.offset), ohi = uint32_t(key.offset >> 32);
#pragma omp simd
  for (int j = 0; j < kLanes; ++j) {
    const uint64_t b = b0 + uint64_t(j);
    c0[j] = uint32_t(b);
    c1[j] = uint32_t(b >> 32);
    c2[j] = olo;
    c3[j] = ohi;
  }
  uint32_t k0 = uint32_t(key.seed), k1 = uint32_t(key.seed >> 32);
  for (int r = 0; r < 10; ++r) {
#pragma omp simd
    for (int j = 0; j < kLanes; ++j) {
      const uint64_t p0 = uint64_t(kPhiloxM0) * c0[j];
      const uint64_t p1 = uint64_t(kPhiloxM1) * c2[j];
      const uint32_t n0 = uint32_t(p1 >> 32) ^ c1[j] ^ k0;
      const uint32_t n2 = uint32_t(p0 >> 32) ^ c3[j] ^ k1;
      c1[j] = uint32_t(p1);
      c3[j] = uint32_t(p0);
      c0[j] = n0;
      c2[j] = n2;
    }
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
#pragma omp simd
  for (int j = 0; j < kLanes; ++j) {
    o.x[0][j] = c0[j];
    o.x[1][j] = c1[j];
    o.x[2][j] = c2[j];
    o.x[3][j] = c3[j];
  }
}

// Elements come in groups of G = 16 * E (E elements per 4-word block): element g * G + e
// takes block g * 16 + (e % 16) and, within it, the e / 16-th share of the words. The
// group's 16 blocks are computed together and each share is a contiguous run of 16 outputs,
// so both the rounds and the conversions vectorise. fill(blocks, first_element, count).
template <int E, typename F>
inline void run_groups(int64_t n, const PhiloxKey& key, int64_t g0, int64_t g1, const F& fill) {
  constexpr int64_t G = int64_t(E) * kLanes;
  Blocks blk;
  for (int64_t g = g0; g < g1; ++g) {
    philox_blocks(key, uint64_t(g) * kLanes, blk);
    fill(blk, g * G, std::min<int64_t>(G, n - g * G));
  }
}

// fn(g0, g1) over the groups of n elements, in parallel. fn calls an EMBER_HOT function so
// that every thread runs the same (vectorised) clone: the values must not depend on it.
template <typename F>
inline void parallel_groups(int64_t n, int E, const F& fn) {
  const int64_t G = int64_t(E) * kLanes;
  parallel_for(0, (n + G - 1) / G, std::max<int64_t>(1, kGrainSize / G / 2), fn);
}

// Writes o[h * 16 + j] = v[h][j] for the first cnt outputs of a group.
template <int E, typename T, typename V>
inline void store_group(T* o, int64_t cnt, const V (&v)[E][kLanes]) {
  if (cnt == int64_t(E) * kLanes) {
    for (int h = 0; h < E; ++h)
#pragma omp simd
      for (int j = 0; j < kLanes; ++j) o[h * kLanes + j] = T(v[h][j]);
  } else {
    for (int64_t e = 0; e < cnt; ++e) o[e] = T(v[e / kLanes][e % kLanes]);
  }
}

// Uniform [0, 1) with the type's mantissa bits.
template <typename T>
inline float unit(uint32_t x) {
  if constexpr (std::is_same_v<T, Half>) return float(int32_t(x >> 21)) * 0x1p-11f;
  else if constexpr (std::is_same_v<T, BFloat16>) return float(int32_t(x >> 24)) * 0x1p-8f;
  else return float(int32_t(x >> 8)) * 0x1p-24f;
}
inline uint64_t u64(uint32_t hi, uint32_t lo) { return (uint64_t(hi) << 32) | lo; }

EMBER_HOT void uniform_groups(const Tensor& out, const PhiloxKey& key, double from, double to, int64_t g0, int64_t g1) {
  const int64_t n = out.numel();
  dispatch<kFloatMask>(out.dtype(), "uniform_", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    T* p = out.data<T>();
    if constexpr (std::is_same_v<T, double>) {
      const double span = to - from;
      run_groups<2>(n, key, g0, g1, [&](const Blocks& B, int64_t i, int64_t cnt) {
        double v[2][kLanes];
        for (int h = 0; h < 2; ++h)
#pragma omp simd
          for (int j = 0; j < kLanes; ++j) {
            const double r = from + unit53(B.x[2 * h][j], B.x[2 * h + 1][j]) * span;
            v[h][j] = r < to ? r : from;
          }
        store_group<2>(p + i, cnt, v);
      });
    } else {
      const float lo = float(from), span = float(to - from), hi = float(to);
      run_groups<4>(n, key, g0, g1, [&](const Blocks& B, int64_t i, int64_t cnt) {
        float v[4][kLanes];
        for (int h = 0; h < 4; ++h)
#pragma omp simd
          for (int j = 0; j < kLanes; ++j) {
            const float r = lo + unit<T>(B.x[h][j]) * span;
            v[h][j] = r < hi ? r : lo;
          }
        if constexpr (is_float16_v<T>) {  // rounding to 16 bits may reach `to`
          for (int h = 0; h < 4; ++h)
            for (int j = 0; j < kLanes; ++j)
              if (!(float(T(v[h][j])) < hi)) v[h][j] = lo;
        }
        store_group<4>(p + i, cnt, v);
      });
    }
  });
}
void uniform_kernel(const Tensor& out, const PhiloxKey& key, double from, double to) {
  parallel_groups(out.numel(), out.dtype() == ScalarType::Float64 ? 2 : 4,
                  [&](int64_t g0, int64_t g1) { uniform_groups(out, key, from, to, g0, g1); });
}
EMBER_REGISTER_CPU(uniform_stub, uniform_kernel);

// Box-Muller: a pair of uniforms gives two normals (the cos and the sin share).
EMBER_HOT void normal_groups(const Tensor& out, const PhiloxKey& key, double mean, double std, int64_t g0, int64_t g1) {
  const int64_t n = out.numel();
  dispatch<kFloatMask>(out.dtype(), "normal_", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    T* p = out.data<T>();
    if constexpr (std::is_same_v<T, double>) {
      run_groups<2>(n, key, g0, g1, [&](const Blocks& B, int64_t i, int64_t cnt) {
        double v[2][kLanes];
#pragma omp simd
        for (int j = 0; j < kLanes; ++j) {
          const double u1 = 1.0 - unit53(B.x[0][j], B.x[1][j]);  // (0, 1]
          const double u2 = unit53(B.x[2][j], B.x[3][j]);
          const double r = std::sqrt(-2.0 * std::log(u1));
          const double th = 6.283185307179586 * u2;
          v[0][j] = mean + std * r * std::cos(th);
          v[1][j] = mean + std * r * std::sin(th);
        }
        store_group<2>(p + i, cnt, v);
      });
    } else {
      const float m = float(mean), sd = float(std);
      run_groups<4>(n, key, g0, g1, [&](const Blocks& B, int64_t i, int64_t cnt) {
        float v[4][kLanes];
        for (int h = 0; h < 2; ++h)
#pragma omp simd
          for (int j = 0; j < kLanes; ++j) {
            const float u1 = 1.0f - float(int32_t(B.x[2 * h][j] >> 8)) * 0x1p-24f;  // (0, 1]
            const float u2 = float(int32_t(B.x[2 * h + 1][j] >> 8)) * 0x1p-24f;
            const float r = std::sqrt(-2.0f * vlogf(u1));
            float sn, cs;
            vsincos_turns(u2, sn, cs);
            v[2 * h][j] = m + sd * (r * cs);
            v[2 * h + 1][j] = m + sd * (r * sn);
          }
        store_group<4>(p + i, cnt, v);
      });
    }
  });
}
void normal_kernel(const Tensor& out, const PhiloxKey& key, double mean, double std) {
  parallel_groups(out.numel(), out.dtype() == ScalarType::Float64 ? 2 : 4, [&](int64_t g0, int64_t g1) { normal_groups(out, key, mean, std, g0, g1); });
}
EMBER_REGISTER_CPU(normal_stub, normal_kernel);

EMBER_HOT void exponential_groups(const Tensor& out, const PhiloxKey& key, double lambd, int64_t g0, int64_t g1) {
  const int64_t n = out.numel();
  dispatch<kFloatMask>(out.dtype(), "exponential_", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    T* p = out.data<T>();
    if constexpr (std::is_same_v<T, double>) {
      run_groups<2>(n, key, g0, g1, [&](const Blocks& B, int64_t i, int64_t cnt) {
        double v[2][kLanes];
        for (int h = 0; h < 2; ++h)
#pragma omp simd
          for (int j = 0; j < kLanes; ++j) v[h][j] = -std::log1p(-unit53(B.x[2 * h][j], B.x[2 * h + 1][j])) / lambd;
        store_group<2>(p + i, cnt, v);
      });
    } else {
      const float inv = float(1.0 / lambd);
      run_groups<4>(n, key, g0, g1, [&](const Blocks& B, int64_t i, int64_t cnt) {
        float v[4][kLanes];
        for (int h = 0; h < 4; ++h)
#pragma omp simd
          for (int j = 0; j < kLanes; ++j) v[h][j] = -vlogf(1.0f - float(int32_t(B.x[h][j] >> 8)) * 0x1p-24f) * inv;
        store_group<4>(p + i, cnt, v);
      });
    }
  });
}
void exponential_kernel(const Tensor& out, const PhiloxKey& key, double lambd) {
  parallel_groups(out.numel(), out.dtype() == ScalarType::Float64 ? 2 : 4, [&](int64_t g0, int64_t g1) { exponential_groups(out, key, lambd, g0, g1); });
}
EMBER_REGISTER_CPU(exponential_stub, exponential_kernel);

// low + floor(r * range / 2^k): Lemire's multiply-shift with r of k = 64 bits (bias at most
// range / 2^64), or k = 32 bits when range <= 2^16 (bias at most 2^-16, like PyTorch's).
inline int randint_share(uint64_t range) { return range != 0 && range <= (uint64_t(1) << 16) ? 4 : 2; }

template <typename T>
inline T from_int(int64_t v) {
  if constexpr (std::is_same_v<T, bool>) return v != 0;
  else if constexpr (std::is_integral_v<T>) return T(v);
  else return T(opmath_t<T>(double(v)));
}

EMBER_HOT void randint_groups(const Tensor& out, const PhiloxKey& key, int64_t low, uint64_t range, int64_t g0, int64_t g1) {
  const int64_t n = out.numel();
  dispatch<kAllRealMask>(out.dtype(), "random_", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    T* p = out.data<T>();
    if (randint_share(range) == 4) {
      const uint32_t r32 = uint32_t(range);
      run_groups<4>(n, key, g0, g1, [&](const Blocks& B, int64_t i, int64_t cnt) {
        int64_t v[4][kLanes];
        for (int h = 0; h < 4; ++h)
#pragma omp simd
          for (int j = 0; j < kLanes; ++j) v[h][j] = low + int64_t((uint64_t(B.x[h][j]) * r32) >> 32);
        T t[4][kLanes];
        for (int h = 0; h < 4; ++h)
#pragma omp simd
          for (int j = 0; j < kLanes; ++j) t[h][j] = from_int<T>(v[h][j]);
        store_group<4>(p + i, cnt, t);
      });
    } else {
      run_groups<2>(n, key, g0, g1, [&](const Blocks& B, int64_t i, int64_t cnt) {
        T t[2][kLanes];
        for (int h = 0; h < 2; ++h)
#pragma omp simd
          for (int j = 0; j < kLanes; ++j) {
            const uint64_t r = u64(B.x[2 * h][j], B.x[2 * h + 1][j]);
            const uint64_t k = range == 0 ? r : uint64_t((__uint128_t(r) * range) >> 64);
            t[h][j] = from_int<T>(int64_t(uint64_t(low) + k));
          }
        store_group<2>(p + i, cnt, t);
      });
    }
  });
}
void randint_kernel(const Tensor& out, const PhiloxKey& key, int64_t low, uint64_t range) {
  parallel_groups(out.numel(), randint_share(range), [&](int64_t g0, int64_t g1) { randint_groups(out, key, low, range, g0, g1); });
}
EMBER_REGISTER_CPU(randint_stub, randint_kernel);

// Returns 1 when a probability lies outside [0, 1].
EMBER_HOT int bernoulli_groups(const Tensor& out, const PhiloxKey& key, const Tensor* pt, double ps, int64_t g0,
                               int64_t g1) {
  const int64_t n = out.numel();
  const double* pp = pt ? pt->data<double>() : nullptr;
  int bad = 0;
  dispatch<kAllRealMask>(out.dtype(), "bernoulli", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    T* o = out.data<T>();
    run_groups<4>(n, key, g0, g1, [&](const Blocks& B, int64_t i, int64_t cnt) {
      T v[4][kLanes];
      if (pp) {
        for (int64_t e = 0; e < cnt; ++e)
          if (!(pp[i + e] >= 0.0 && pp[i + e] <= 1.0)) bad = 1;
        for (int h = 0; h < 4; ++h)
#pragma omp simd
          for (int j = 0; j < kLanes; ++j) {
            const int64_t e = std::min<int64_t>(h * kLanes + j, cnt - 1);
            v[h][j] = from_int<T>(double(B.x[h][j]) * 0x1p-32 < pp[i + e]);
          }
      } else {
        for (int h = 0; h < 4; ++h)
#pragma omp simd
          for (int j = 0; j < kLanes; ++j) v[h][j] = from_int<T>(double(B.x[h][j]) * 0x1p-32 < ps);
      }
      store_group<4>(o + i, cnt, v);
    });
  });
  return bad;
}
int bernoulli_kernel(const Tensor& out, const PhiloxKey& key, const Tensor* pt, double ps) {
  if (!pt && !(ps >= 0.0 && ps <= 1.0)) return 1;
  std::atomic<int> bad{0};
  parallel_groups(out.numel(), 4, [&](int64_t g0, int64_t g1) {
    if (bernoulli_groups(out, key, pt, ps, g0, g1)) bad.store(1, std::memory_order_relaxed);
  });
  return bad.load();
}
EMBER_REGISTER_CPU(bernoulli_stub, bernoulli_kernel);

// The 64-bit values of elements [first, first + count) of a stream (E = 2 mapping).
void fill_u64(const PhiloxKey& key, int64_t first, int64_t count, uint64_t* out) {
  constexpr int64_t G = 2 * kLanes;
  Blocks B;
  int64_t e = first;
  const int64_t end = first + count;
  while (e < end) {
    const int64_t g = e / G;
    philox_blocks(key, uint64_t(g) * kLanes, B);
    const int64_t stop = std::min(end, (g + 1) * G);
    for (; e < stop; ++e) {
      const int64_t r = e - g * G, h = r / kLanes, j = r % kLanes;
      out[e - first] = u64(B.x[2 * h][j], B.x[2 * h + 1][j]);
    }
  }
}

// Fisher-Yates, step i (from n-1 down) swapping position i with a uniform j in [0, i]
// drawn from element i of the stream; the random words are generated in parallel first.
void randperm_kernel(const Tensor& out, const PhiloxKey& key) {
  const int64_t n = out.numel();
  int64_t* p = out.data<int64_t>();
  std::vector<uint64_t> r(static_cast<size_t>(n));
  parallel_for(0, n, kGrainSize, [&](int64_t b, int64_t e) { fill_u64(key, b, e - b, r.data() + b); });
  std::iota(p, p + n, int64_t(0));
  for (int64_t i = n - 1; i > 0; --i) {
    const uint64_t j = uint64_t((__uint128_t(r[i]) * uint64_t(i + 1)) >> 64);
    std::swap(p[i], p[j]);
  }
}
EMBER_REGISTER_CPU(randperm_stub, randperm_kernel);

// With replacement: inverse CDF, sample s of row r uses element r * n + s.
// Without: the n largest keys log(u_c) / p_c (Efraimidis-Spirakis), category c of row r
// using element r * categories + c; ties go to the lower index.
int multinomial_kernel(const Tensor& out, const Tensor& probs, const PhiloxKey& key, int64_t n, bool replacement) {
  const int64_t rows = probs.sizes()[0], cats = probs.sizes()[1];
  const double* P = probs.data<double>();
  int64_t* O = out.data<int64_t>();
  std::atomic<int> err{0};
  const int64_t grain = std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, cats + n) / 4);
  parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    std::vector<double> buf(static_cast<size_t>(cats));
    std::vector<uint64_t> bits(static_cast<size_t>(std::max(cats, n)));
    std::vector<int64_t> idx;
    for (int64_t r = r0; r < r1; ++r) {
      const double* w = P + r * cats;
      int64_t* o = O + r * n;
      double total = 0.0;
      int64_t nonzero = 0, last = -1;
      for (int64_t c = 0; c < cats; ++c) {
        const double v = w[c];
        if (!(v >= 0.0) || std::isinf(v)) {
          err.store(1);
          return;
        }
        total += v;
        if (v > 0.0) {
          ++nonzero;
          last = c;
        }
      }
      if (!(total > 0.0)) {
        err.store(2);
        return;
      }
      if (replacement) {
        double acc = 0.0;
        for (int64_t c = 0; c < cats; ++c) buf[c] = acc += w[c];
        fill_u64(key, r * n, n, bits.data());
        for (int64_t s = 0; s < n; ++s) {
          const double target = double(bits[s] >> 11) * 0x1p-53 * acc;
          int64_t c = int64_t(std::upper_bound(buf.begin(), buf.end(), target) - buf.begin());
          o[s] = c >= cats ? last : c;
        }
      } else {
        if (nonzero < n) {
          err.store(3);
          return;
        }
        fill_u64(key, r * cats, cats, bits.data());
        for (int64_t c = 0; c < cats; ++c) {
          const double u = 1.0 - double(bits[c] >> 11) * 0x1p-53;  // (0, 1]
          buf[c] = w[c] > 0.0 ? std::log(u) / w[c] : -INFINITY;
        }
        idx.resize(size_t(cats));
        std::iota(idx.begin(), idx.end(), int64_t(0));
        std::partial_sort(idx.begin(), idx.begin() + n, idx.end(), [&](int64_t a, int64_t b) {
          return buf[a] > buf[b] || (buf[a] == buf[b] && a < b);
        });
        std::copy(idx.begin(), idx.begin() + n, o);
      }
    }
  });
  return err.load();
}
EMBER_REGISTER_CPU(multinomial_stub, multinomial_kernel);

}  // namespace
}  // namespace ember
