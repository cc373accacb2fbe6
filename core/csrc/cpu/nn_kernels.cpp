// CPU kernels of the nn family (ops/nn.h): im2col/col2im for convolutions, window-table
// pooling, softmax. Front ends hand over contiguous float32/float64 tensors; every kernel
// splits independent planes or rows over the thread pool.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "../ops/nn.h"
#include "loop.h"
#include "vmath.h"

namespace ember {
namespace {

constexpr uint32_t kNNMask = tbit(ScalarType::Float32) | tbit(ScalarType::Float64);


// ---- im2col / col2im ----------------------------------------------------------------
// For one (n, c) plane: rows (kd, kh, kw) of col, `row_stride` apart, columns (od, oh, ow).
template <typename T>
EMBER_HOT void im2col_plane(const ConvGeom& g, const T* x, T* col, int64_t row_stride) {
  const int64_t ID = g.in[0], IH = g.in[1], IW = g.in[2];
  const int64_t OD = g.out[0], OH = g.out[1], OW = g.out[2];
  for (int64_t kd = 0; kd < g.k[0]; ++kd)
    for (int64_t kh = 0; kh < g.k[1]; ++kh)
      for (int64_t kw = 0; kw < g.k[2]; ++kw) {
        const int64_t w0 = kw * g.dil[2] - g.pad[2];
        // ow range whose iw = ow * s + w0 lies in [0, IW)
        const int64_t s2 = g.stride[2];
        int64_t lo = w0 >= 0 ? 0 : (-w0 + s2 - 1) / s2;
        int64_t hi = IW - w0 <= 0 ? 0 : (IW - w0 + s2 - 1) / s2;
        lo = std::min(lo, OW);
        hi = std::clamp(hi, lo, OW);
        T* row_start = col;
        for (int64_t od = 0; od < OD; ++od) {
          const int64_t id = od * g.stride[0] - g.pad[0] + kd * g.dil[0];
          for (int64_t oh = 0; oh < OH; ++oh, col += OW) {
            const int64_t ih = oh * g.stride[1] - g.pad[1] + kh * g.dil[1];
            if (id < 0 || id >= ID || ih < 0 || ih >= IH) {
              std::fill(col, col + OW, T(0));
              continue;
            }
            const T* row = x + (id * IH + ih) * IW + w0;
            std::fill(col, col + lo, T(0));
            if (s2 == 1) {
              std::memcpy(col + lo, row + lo, sizeof(T) * (hi - lo));
            } else {
              for (int64_t ow = lo; ow < hi; ++ow) col[ow] = row[ow * s2];
            }
            std::fill(col + hi, col + OW, T(0));
          }
        }
        col = row_start + row_stride;
      }
}

template <typename T>
EMBER_HOT void col2im_plane(const ConvGeom& g, const T* col, T* x, int64_t row_stride) {
  const int64_t ID = g.in[0], IH = g.in[1], IW = g.in[2];
  const int64_t OD = g.out[0], OH = g.out[1], OW = g.out[2];
  std::fill(x, x + ID * IH * IW, T(0));
  for (int64_t kd = 0; kd < g.k[0]; ++kd)
    for (int64_t kh = 0; kh < g.k[1]; ++kh)
      for (int64_t kw = 0; kw < g.k[2]; ++kw) {
        const int64_t w0 = kw * g.dil[2] - g.pad[2];
        const int64_t s2 = g.stride[2];
        int64_t lo = w0 >= 0 ? 0 : (-w0 + s2 - 1) / s2;
        int64_t hi = IW - w0 <= 0 ? 0 : (IW - w0 + s2 - 1) / s2;
        lo = std::min(lo, OW);
        hi = std::clamp(hi, lo, OW);
        const T* row_start = col;
        for (int64_t od = 0; od < OD; ++od) {
          const int64_t id = od * g.stride[0] - g.pad[0] + kd * g.dil[0];
          for (int64_t oh = 0; oh < OH; ++oh, col += OW) {
            const int64_t ih = oh * g.stride[1] - g.pad[1] + kh * g.dil[1];
            if (id < 0 || id >= ID || ih < 0 || ih >= IH) continue;
            T* row = x + (id * IH + ih) * IW + w0;
            if (s2 == 1) {
              for (int64_t ow = lo; ow < hi; ++ow) row[ow] += col[ow];
            } else {
              for (int64_t ow = lo; ow < hi; ++ow) row[ow * s2] += col[ow];
            }
          }
        }
        col = row_start + row_stride;
      }
}

void im2col_kernel(const ConvGeom& g, const Tensor& x, const Tensor& col, bool batch_inner) {
  dispatch<kNNMask>(x.dtype(), "conv", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    const T* xp = x.data<T>();
    T* cp = col.data<T>();
    const int64_t lin = g.lin(), L = g.lout(), kp = g.kprod(), ccol = kp * L;
    parallel_for(0, g.N * g.C, grain_for(ccol), [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) {
        if (batch_inner) {  // col (C * kprod, N, L)
          const int64_t n = p / g.C, c = p % g.C;
          im2col_plane<T>(g, xp + p * lin, cp + (c * kp * g.N + n) * L, g.N * L);
        } else {            // col (N, C * kprod, L)
          im2col_plane<T>(g, xp + p * lin, cp + p * ccol, L);
        }
      }
    });
  });
}

void col2im_kernel(const ConvGeom& g, const Tensor& col, const Tensor& x, bool batch_inner) {
  dispatch<kNNMask>(x.dtype(), "conv", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    T* xp = x.data<T>();
    const T* cp = col.data<T>();
    const int64_t lin = g.lin(), L = g.lout(), kp = g.kprod(), ccol = kp * L;
    parallel_for(0, g.N * g.C, grain_for(ccol), [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) {
        if (batch_inner) {  // col (C * kprod, N, L)
          const int64_t n = p / g.C, c = p % g.C;
          col2im_plane<T>(g, cp + (c * kp * g.N + n) * L, xp + p * lin, g.N * L);
        } else {
          col2im_plane<T>(g, cp + p * ccol, xp + p * lin, L);
        }
      }
    });
  });
}

// ---- convolution forward by tiles ------------------------------------------------------
template <typename T> struct ConvGemm;
template <> struct ConvGemm<float> {
  static void run(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc) {
    scipy_cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
  }
};
template <> struct ConvGemm<double> {
  static void run(int m, int n, int k, const double* a, int lda, const double* b, int ldb, double* c, int ldc) {
    scipy_cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
  }
};

// Columns of output rows [r0, r1) (rows = (od, oh) pairs, OW positions each) of one image,
// into buf (C * kprod, (r1 - r0) * OW).
template <typename T>
EMBER_HOT void im2col_rows(const ConvGeom& g, const T* x, T* buf, int64_t r0, int64_t r1) {
  const int64_t ID = g.in[0], IH = g.in[1], IW = g.in[2], OH = g.out[1], OW = g.out[2];
  const int64_t tl = (r1 - r0) * OW, s2 = g.stride[2];
  T* out = buf;
  for (int64_t c = 0; c < g.C; ++c) {
    const T* xc = x + c * ID * IH * IW;
    for (int64_t kd = 0; kd < g.k[0]; ++kd)
      for (int64_t kh = 0; kh < g.k[1]; ++kh)
        for (int64_t kw = 0; kw < g.k[2]; ++kw, out += tl) {
          const int64_t w0 = kw * g.dil[2] - g.pad[2];
          int64_t lo = w0 >= 0 ? 0 : (-w0 + s2 - 1) / s2;
          int64_t hi = IW - w0 <= 0 ? 0 : (IW - w0 + s2 - 1) / s2;
          lo = std::min(lo, OW);
          hi = std::clamp(hi, lo, OW);
          T* col = out;
          for (int64_t r = r0; r < r1; ++r, col += OW) {
            const int64_t od = r / OH, oh = r % OH;
            const int64_t id = od * g.stride[0] - g.pad[0] + kd * g.dil[0];
            const int64_t ih = oh * g.stride[1] - g.pad[1] + kh * g.dil[1];
            if (id < 0 || id >= ID || ih < 0 || ih >= IH) {
              std::fill(col, col + OW, T(0));
              continue;
            }
            const T* row = xc + (id * IH + ih) * IW + w0;
            std::fill(col, col + lo, T(0));
            if (s2 == 1) std::memcpy(col + lo, row + lo, sizeof(T) * (hi - lo));
            else for (int64_t ow = lo; ow < hi; ++ow) col[ow] = row[ow * s2];
            std::fill(col + hi, col + OW, T(0));
          }
        }
  }
}

constexpr int64_t kTileCols = 512;

void conv_forward_kernel(const ConvGeom& g, const Tensor& x, const Tensor& w, const Tensor& y) {
  dispatch<kNNMask>(x.dtype(), "conv", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    const int64_t rows = g.out[0] * g.out[1], OW = g.out[2], L = rows * OW;
    const int64_t ck = g.C * g.kprod(), cg = g.C / g.G, og = g.Cout / g.G, ckg = cg * g.kprod();
    // tile: at least kTileCols output positions (GEMMs wide enough to run at full speed),
    // whole output rows, at most the image
    const int64_t tile_rows = std::clamp<int64_t>((kTileCols + OW - 1) / OW, 1, rows);
    const int64_t ntiles = (rows + tile_rows - 1) / tile_rows;
    const T* xp = x.data<T>();
    const T* wp = w.data<T>();
    T* yp = y.data<T>();
    BlasSerialGuard serial;
    parallel_for(0, g.N * ntiles, 1, [&](int64_t t0, int64_t t1) {
      std::vector<T> buf;
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t n = t / ntiles, r0 = (t % ntiles) * tile_rows, r1 = std::min(rows, r0 + tile_rows);
        const int64_t tl = (r1 - r0) * OW;
        buf.resize(size_t(ck * tl));
        im2col_rows<T>(g, xp + n * g.C * g.lin(), buf.data(), r0, r1);
        for (int64_t gi = 0; gi < g.G; ++gi)
          ConvGemm<T>::run(int(og), int(tl), int(ckg), wp + gi * og * ckg, int(ckg), buf.data() + gi * ckg * tl,
                           int(tl), yp + (n * g.Cout + gi * og) * L + r0 * OW, int(L));
      }
    });
  });
}

// ---- pooling ------------------------------------------------------------------------
// The outputs [lo, hi) of a row whose windows along W are all inside the input, K wide and
// `s` apart (begin = b0 + (ow - lo) * s): those run vectorised over ow.
struct PoolRowSpan {
  int64_t lo = 0, hi = 0, b0 = 0, s = 1, K = 0;
};

PoolRowSpan pool_row_span(const PoolGeom& g) {
  PoolRowSpan r;
  const auto &bg = g.begin[2], &en = g.end[2];
  const int64_t OW = g.out[2], IW = g.in[2];
  if (g.dil[2] != 1 || OW < 4 || g.in[0] * g.in[1] * IW >= (int64_t(1) << 31)) return r;  // int32 offsets
  int64_t lo = 0;
  while (lo < OW && (bg[lo] < 0 || en[lo] > IW)) ++lo;
  if (lo + 1 >= OW) return r;
  const int64_t K = en[lo] - bg[lo], st = bg[lo + 1] - bg[lo];
  if (K <= 0 || st <= 0) return r;
  int64_t hi = lo;
  while (hi < OW && bg[hi] == bg[lo] + (hi - lo) * st && en[hi] - bg[hi] == K && en[hi] <= IW) ++hi;
  r.lo = lo, r.hi = hi, r.b0 = bg[lo], r.s = st, r.K = K;
  return r;
}

template <typename T>
EMBER_HOT512 void max_pool_plane(const PoolGeom& g, const PoolRowSpan& sp, const T* x, T* y, int64_t* idx) {
  const int64_t IH = g.in[1], IW = g.in[2], OW = g.out[2];
  const bool unit = g.dil[0] == 1 && g.dil[1] == 1 && g.dil[2] == 1;
  // one output: the window scanned d, h, w in order; the first maximum wins, a nan wins (torch)
  auto one = [&](int64_t od, int64_t oh, int64_t ow, T& best, int64_t& bi) {
    best = -std::numeric_limits<T>::infinity();
    bi = -1;
    if (unit) {  // windows clamped to the input once: no per-element bounds checks
      const int64_t d0 = std::max<int64_t>(g.begin[0][od], 0), d1 = std::min(g.end[0][od], g.in[0]);
      const int64_t h0 = std::max<int64_t>(g.begin[1][oh], 0), h1 = std::min(g.end[1][oh], IH);
      const int64_t w0 = std::max<int64_t>(g.begin[2][ow], 0), w1 = std::min(g.end[2][ow], IW);
      for (int64_t d = d0; d < d1; ++d)
        for (int64_t h = h0; h < h1; ++h) {
          const int64_t base = (d * IH + h) * IW;
          for (int64_t w = w0; w < w1; ++w) {
            const T v = x[base + w];
            if (bi < 0 || v > best || v != v) {
              best = v;
              bi = base + w;
            }
          }
        }
      return;
    }
    for (int64_t d = g.begin[0][od]; d < g.end[0][od]; d += g.dil[0]) {
      if (d < 0 || d >= g.in[0]) continue;
      for (int64_t h = g.begin[1][oh]; h < g.end[1][oh]; h += g.dil[1]) {
        if (h < 0 || h >= IH) continue;
        const T* row = x + (d * IH + h) * IW;
        for (int64_t w = g.begin[2][ow]; w < g.end[2][ow]; w += g.dil[2]) {
          if (w < 0 || w >= IW) continue;
          T v = row[w];
          if (bi < 0 || v > best || std::isnan(v)) {
            best = v;
            bi = (d * IH + h) * IW + w;
          }
        }
      }
    }
  };
  const bool vec = unit && sp.hi > sp.lo;
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < g.out[1]; ++oh, y += OW, idx += OW) {
      int64_t ow = 0;
      if (vec) {
        for (; ow < sp.lo; ++ow) one(od, oh, ow, y[ow], idx[ow]);
        // the interior, 16 outputs at a time in registers (running best value and plane offset):
        // the same order of comparisons per output as `one`
        const int64_t d0 = std::max<int64_t>(g.begin[0][od], 0), d1 = std::min(g.end[0][od], g.in[0]);
        const int64_t h0 = std::max<int64_t>(g.begin[1][oh], 0), h1 = std::min(g.end[1][oh], IH);
        constexpr int kL = 16;
        for (; ow + kL <= sp.hi; ow += kL) {
          T bv[kL];
          int32_t bi[kL];
          for (int l = 0; l < kL; ++l) {
            bv[l] = -std::numeric_limits<T>::infinity();
            bi[l] = -1;
          }
          const int64_t w_first = sp.b0 + (ow - sp.lo) * sp.s;
          for (int64_t d = d0; d < d1; ++d)
            for (int64_t h = h0; h < h1; ++h) {
              const int32_t base = int32_t((d * IH + h) * IW + w_first);
              const T* row = x + base;
              for (int64_t kw = 0; kw < sp.K; ++kw)
                for (int l = 0; l < kL; ++l) {
                  const int32_t w = int32_t(l * sp.s + kw);
                  const T v = row[w];
                  const bool up = bi[l] < 0 || v > bv[l] || v != v;
                  bv[l] = up ? v : bv[l];
                  bi[l] = up ? base + w : bi[l];
                }
            }
          for (int l = 0; l < kL; ++l) {
            y[ow + l] = bv[l];
            idx[ow + l] = bi[l];
          }
        }
      }
      for (; ow < OW; ++ow) one(od, oh, ow, y[ow], idx[ow]);
    }
}

void max_pool_kernel(const PoolGeom& g, const Tensor& x, const Tensor& y, const Tensor& idx) {
  dispatch<kNNMask>(x.dtype(), "max_pool", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    const int64_t lin = g.in[0] * g.in[1] * g.in[2], lout = g.out[0] * g.out[1] * g.out[2];
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    int64_t* ip = idx.data<int64_t>();
    const PoolRowSpan sp = pool_row_span(g);
    parallel_for(0, g.planes, grain_for(lin + lout), [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) max_pool_plane<T>(g, sp, xp + p * lin, yp + p * lout, ip + p * lout);
    });
  });
}

// adjoint == false: dst (out) = window means of src (in); true: dst (in) = the transpose.
template <typename T>
EMBER_HOT void avg_pool_plane(const PoolGeom& g, const double* div, const T* src, T* dst, bool adjoint) {
  const int64_t IH = g.in[1], IW = g.in[2];
  if (adjoint) std::fill(dst, dst + g.in[0] * IH * IW, T(0));
  size_t i = 0;
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < g.out[1]; ++oh)
      for (int64_t ow = 0; ow < g.out[2]; ++ow, ++i) {
        const int64_t d0 = std::max<int64_t>(g.begin[0][od], 0), d1 = std::min(g.end[0][od], g.in[0]);
        const int64_t h0 = std::max<int64_t>(g.begin[1][oh], 0), h1 = std::min(g.end[1][oh], IH);
        const int64_t w0 = std::max<int64_t>(g.begin[2][ow], 0), w1 = std::min(g.end[2][ow], IW);
        if (!adjoint) {
          double s = 0;
          for (int64_t d = d0; d < d1; ++d)
            for (int64_t h = h0; h < h1; ++h) {
              const T* row = src + (d * IH + h) * IW;
              for (int64_t w = w0; w < w1; ++w) s += double(row[w]);
            }
          dst[i] = T(s / div[i]);
        } else {
          const T v = T(double(src[i]) / div[i]);
          for (int64_t d = d0; d < d1; ++d)
            for (int64_t h = h0; h < h1; ++h) {
              T* row = dst + (d * IH + h) * IW;
              for (int64_t w = w0; w < w1; ++w) row[w] += v;
            }
        }
      }
}

void avg_pool_kernel(const PoolGeom& g, const Tensor& src, const Tensor& dst, bool adjoint) {
  std::vector<double> div = avg_pool_divisors(g);
  dispatch<kNNMask>(src.dtype(), "avg_pool", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    const int64_t lin = g.in[0] * g.in[1] * g.in[2], lout = g.out[0] * g.out[1] * g.out[2];
    const int64_t ls = adjoint ? lout : lin, ld = adjoint ? lin : lout;
    const T* sp = src.data<T>();
    T* dp = dst.data<T>();
    parallel_for(0, g.planes, grain_for(lin + lout), [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) avg_pool_plane<T>(g, div.data(), sp + p * ls, dp + p * ld, adjoint);
    });
  });
}

// ---- softmax ------------------------------------------------------------------------
// One row of n elements with stride `inner`. Contiguous rows run as omp simd reductions (max,
// then exp and sum, in the vector lanes of T); strided rows sum in double.

template <typename T>
EMBER_HOT512 void softmax_row(const T* x, T* y, int64_t n, int64_t st, bool log) {
  T m = -std::numeric_limits<T>::infinity();
  double s = 0;
  if (st == 1) {
    // omp simd reductions keep the lanes' max and sum in registers (an array of lanes was
    // spilled to the stack, a store-forwarding chain per vector)
    T mv = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : mv)
    for (int64_t i = 0; i < n; ++i) mv = x[i] > mv ? x[i] : mv;
    m = mv;
    // a nan may be dropped from the max, but its exp makes the sum nan: the row is nan, as torch
    if (std::isinf(m) && m < 0) m = 0;  // an all -inf row: exp(-inf) = 0, sum 0 -> nan as torch
    T sv = 0;
    if (log) {
#pragma omp simd reduction(+ : sv)
      for (int64_t i = 0; i < n; ++i) sv += math::vexp(T(x[i] - m));
      const T c = T(double(m) + std::log(double(sv)));
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] - c;
    } else {
#pragma omp simd reduction(+ : sv)
      for (int64_t i = 0; i < n; ++i) {
        const T e = math::vexp(T(x[i] - m));
        y[i] = e;
        sv += e;
      }
      const T r = T(1.0 / double(sv));
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] *= r;
    }
    return;
  } else {
    for (int64_t i = 0; i < n; ++i) m = std::max(m, x[i * st]);
    if (std::isinf(m) && m < 0) m = 0;
    for (int64_t i = 0; i < n; ++i) {
      T e = math::vexp(T(x[i * st] - m));
      if (!log) y[i * st] = e;
      s += double(e);
    }
  }
  if (log) {
    const T c = T(double(m) + std::log(s));
    for (int64_t i = 0; i < n; ++i) y[i * st] = x[i * st] - c;
  } else {
    const T r = T(1.0 / s);
    for (int64_t i = 0; i < n; ++i) y[i * st] *= r;
  }
}

template <typename T>
EMBER_HOT512 void softmax_backward_row(const T* g, const T* y, T* gx, int64_t n, int64_t st, bool log) {
  if (st == 1) {
    T sv = 0;
    if (log) {
#pragma omp simd reduction(+ : sv)
      for (int64_t i = 0; i < n; ++i) sv += g[i];
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) gx[i] = g[i] - math::vexp(y[i]) * sv;
    } else {
#pragma omp simd reduction(+ : sv)
      for (int64_t i = 0; i < n; ++i) sv += g[i] * y[i];
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) gx[i] = y[i] * (g[i] - sv);
    }
    return;
  }
  double s = 0;
  if (log) {
    for (int64_t i = 0; i < n; ++i) s += double(g[i * st]);
    const T c = T(s);
    for (int64_t i = 0; i < n; ++i) gx[i * st] = g[i * st] - math::vexp(y[i * st]) * c;
  } else {
    for (int64_t i = 0; i < n; ++i) s += double(g[i * st]) * double(y[i * st]);
    const T c = T(s);
    for (int64_t i = 0; i < n; ++i) gx[i * st] = y[i * st] * (g[i * st] - c);
  }
}

// Softmax along a strided dim: a block of `w` contiguous columns of one outer index at a time,
// so every loop runs along contiguous memory. x, y point at column 0 of the block; rows are
// `inner` apart.
constexpr int64_t kColBlock = 256;

template <typename T>
EMBER_HOT512 void softmax_cols(const T* x, T* y, int64_t n, int64_t inner, int64_t w, bool log) {
  T mx[kColBlock], sm[kColBlock];
  for (int64_t j = 0; j < w; ++j) {
    mx[j] = -std::numeric_limits<T>::infinity();
    sm[j] = 0;
  }
  for (int64_t i = 0; i < n; ++i) {
    const T* xr = x + i * inner;
    for (int64_t j = 0; j < w; ++j) mx[j] = (mx[j] > xr[j] || mx[j] != mx[j]) ? mx[j] : xr[j];
  }
  for (int64_t j = 0; j < w; ++j)
    if (std::isinf(mx[j]) && mx[j] < 0) mx[j] = 0;
  for (int64_t i = 0; i < n; ++i) {
    const T* xr = x + i * inner;
    T* yr = y + i * inner;
    for (int64_t j = 0; j < w; ++j) {
      const T e = math::vexp(T(xr[j] - mx[j]));
      if (!log) yr[j] = e;
      sm[j] += e;
    }
  }
  if (log) {
    for (int64_t j = 0; j < w; ++j) mx[j] += std::log(sm[j]);
    for (int64_t i = 0; i < n; ++i) {
      const T* xr = x + i * inner;
      T* yr = y + i * inner;
      for (int64_t j = 0; j < w; ++j) yr[j] = xr[j] - mx[j];
    }
  } else {
    for (int64_t j = 0; j < w; ++j) sm[j] = T(1) / sm[j];
    for (int64_t i = 0; i < n; ++i) {
      T* yr = y + i * inner;
      for (int64_t j = 0; j < w; ++j) yr[j] *= sm[j];
    }
  }
}

template <typename T>
EMBER_HOT512 void softmax_backward_cols(const T* g, const T* y, T* gx, int64_t n, int64_t inner, int64_t w, bool log) {
  T sm[kColBlock];
  for (int64_t j = 0; j < w; ++j) sm[j] = 0;
  for (int64_t i = 0; i < n; ++i) {
    const T* gr = g + i * inner;
    const T* yr = y + i * inner;
    if (log)
      for (int64_t j = 0; j < w; ++j) sm[j] += gr[j];
    else
      for (int64_t j = 0; j < w; ++j) sm[j] += gr[j] * yr[j];
  }
  for (int64_t i = 0; i < n; ++i) {
    const T* gr = g + i * inner;
    const T* yr = y + i * inner;
    T* or_ = gx + i * inner;
    if (log)
      for (int64_t j = 0; j < w; ++j) or_[j] = gr[j] - math::vexp(yr[j]) * sm[j];
    else
      for (int64_t j = 0; j < w; ++j) or_[j] = yr[j] * (gr[j] - sm[j]);
  }
}

void softmax_kernel(const Tensor& x, const Tensor& y, int64_t outer, int64_t n, int64_t inner, bool log) {
  dispatch<kNNMask>(x.dtype(), log ? "log_softmax" : "softmax", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    if (inner > 1) {
      const int64_t nb = (inner + kColBlock - 1) / kColBlock;
      parallel_for(0, outer * nb, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, n * kColBlock * 4)),
                   [&](int64_t b, int64_t e) {
                     for (int64_t t = b; t < e; ++t) {
                       const int64_t o = t / nb, j0 = (t % nb) * kColBlock, off = o * n * inner + j0;
                       softmax_cols<T>(xp + off, yp + off, n, inner, std::min(kColBlock, inner - j0), log);
                     }
                   });
      return;
    }
    parallel_for(0, outer * inner, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, n * 8)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t r = b; r < e; ++r) {
                     const int64_t o = r / inner, i = r % inner, off = o * n * inner + i;
                     softmax_row<T>(xp + off, yp + off, n, inner, log);
                   }
                 });
  });
}

void softmax_backward_kernel(const Tensor& g, const Tensor& y, const Tensor& gx, int64_t outer, int64_t n,
                             int64_t inner, bool log) {
  dispatch<kNNMask>(y.dtype(), log ? "log_softmax_backward" : "softmax_backward", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    const T* gp = g.data<T>();
    const T* yp = y.data<T>();
    T* op = gx.data<T>();
    if (inner > 1) {
      const int64_t nb = (inner + kColBlock - 1) / kColBlock;
      parallel_for(0, outer * nb, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, n * kColBlock * 4)),
                   [&](int64_t b, int64_t e) {
                     for (int64_t t = b; t < e; ++t) {
                       const int64_t o = t / nb, j0 = (t % nb) * kColBlock, off = o * n * inner + j0;
                       softmax_backward_cols<T>(gp + off, yp + off, op + off, n, inner, std::min(kColBlock, inner - j0),
                                                log);
                     }
                   });
      return;
    }
    parallel_for(0, outer * inner, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, n * 4)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t r = b; r < e; ++r) {
                     const int64_t o = r / inner, i = r % inner, off = o * n * inner + i;
                     softmax_backward_row<T>(gp + off, yp + off, op + off, n, inner, log);
                   }
                 });
  });
}

}  // namespace

EMBER_REGISTER_CPU(im2col_stub, im2col_kernel);
EMBER_REGISTER_CPU(conv_forward_stub, conv_forward_kernel);
EMBER_REGISTER_CPU(col2im_stub, col2im_kernel);
EMBER_REGISTER_CPU(max_pool_stub, max_pool_kernel);
EMBER_REGISTER_CPU(avg_pool_stub, avg_pool_kernel);
EMBER_REGISTER_CPU(softmax_stub, softmax_kernel);
EMBER_REGISTER_CPU(softmax_backward_stub, softmax_backward_kernel);

}  // namespace ember
