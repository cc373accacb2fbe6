// CPU kernels of the normalisation layers (ops/nn.h). Statistics are two-pass in double;
// the affine gradients are summed in fixed chunks of rows combined in order, so results do
// not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <vector>

#include "../ops/nn.h"
#include "loop.h"

namespace ember {
namespace {

constexpr uint32_t kNormMask = tbit(ScalarType::Float32) | tbit(ScalarType::Float64);
constexpr int64_t kRowChunk = 32;  // rows per partial-sum chunk of the affine gradients

template <typename T>
const T* opt_data(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// Sums of f(i) over [0, n) in the vector lanes of T (an omp simd reduction keeps them in
// registers; an array of lanes was spilled to the stack), returned as double.
template <typename T, typename F>
inline double lane_sum(int64_t n, F&& f) {
  T acc = 0;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < n; ++i) acc += f(i);
  return double(acc);
}

// ---- rows: layer / group / RMS norm --------------------------------------------------
// Layer/RMS norm rows (one affine entry per element): vectorised.
template <typename T>
EMBER_HOT512 void layer_norm_rows(const RowNormArgs& a, const T* x, const T* w, const T* b, T* y, T* mean, T* rstd,
                               int64_t r0, int64_t r1) {
  const int64_t D = a.D;
  for (int64_t r = r0; r < r1; ++r) {
    const T* xr = x + r * D;
    T* yr = y + r * D;
    const double mu = a.rms ? 0.0 : lane_sum<T>(D, [&](int64_t i) { return xr[i]; }) / double(D);
    const T mt = T(mu);
    const double var = lane_sum<T>(D, [&](int64_t i) { const T d = xr[i] - mt; return d * d; }) / double(D);
    const T st = T(1.0 / std::sqrt(var + a.eps));
    mean[r] = mt;
    rstd[r] = st;
    if (w && b) {
#pragma omp simd
      for (int64_t i = 0; i < D; ++i) yr[i] = (xr[i] - mt) * st * w[i] + b[i];
    } else if (w) {
#pragma omp simd
      for (int64_t i = 0; i < D; ++i) yr[i] = (xr[i] - mt) * st * w[i];
    } else if (b) {
#pragma omp simd
      for (int64_t i = 0; i < D; ++i) yr[i] = (xr[i] - mt) * st + b[i];
    } else {
#pragma omp simd
      for (int64_t i = 0; i < D; ++i) yr[i] = (xr[i] - mt) * st;
    }
  }
}

template <typename T>
EMBER_HOT void row_norm_rows(const RowNormArgs& a, const T* x, const T* w, const T* b, T* y, T* mean, T* rstd,
                             int64_t r0, int64_t r1) {
  const int64_t D = a.D;
  for (int64_t r = r0; r < r1; ++r) {
    const T* xr = x + r * D;
    T* yr = y + r * D;
    double mu = 0;
    if (!a.rms) {
      for (int64_t d = 0; d < D; ++d) mu += double(xr[d]);
      mu /= double(std::max<int64_t>(D, 1));
    }
    double ss = 0;
    for (int64_t d = 0; d < D; ++d) {
      const double c = double(xr[d]) - mu;
      ss += c * c;
    }
    const double rs = 1.0 / std::sqrt(ss / double(std::max<int64_t>(D, 1)) + a.eps);
    mean[r] = T(mu);
    rstd[r] = T(rs);
    const T m = T(mu), s = T(rs);
    const int64_t jbase = (r % a.G) * a.Cg;
    if (a.HW == 1) {  // one affine entry per element
      const T* wr = w ? w + jbase : nullptr;
      const T* br = b ? b + jbase : nullptr;
      for (int64_t d = 0; d < D; ++d) {
        T v = (xr[d] - m) * s;
        if (wr) v = v * wr[d];
        if (br) v = v + br[d];
        yr[d] = v;
      }
    } else {  // group norm: one affine entry per channel of HW positions
      for (int64_t c = 0; c < D / a.HW; ++c) {
        const T sc = w ? s * w[jbase + c] : s;
        const T sh = (b ? b[jbase + c] : T(0)) - m * sc;
        const T* xc = xr + c * a.HW;
        T* yc = yr + c * a.HW;
        for (int64_t i = 0; i < a.HW; ++i) yc[i] = xc[i] * sc + sh;
      }
    }
  }
}

void row_norm_kernel(const RowNormArgs& a, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y,
                     const Tensor& mean, const Tensor& rstd) {
  dispatch<kNormMask>(x.dtype(), a.rms ? "rms_norm" : "layer_norm", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    parallel_for(0, a.R, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, a.D * 4)), [&](int64_t r0, int64_t r1) {
      if (a.HW == 1 && a.G == 1)
        layer_norm_rows<T>(a, x.data<T>(), opt_data<T>(w), opt_data<T>(b), y.data<T>(), mean.data<T>(),
                           rstd.data<T>(), r0, r1);
      else
        row_norm_rows<T>(a, x.data<T>(), opt_data<T>(w), opt_data<T>(b), y.data<T>(), mean.data<T>(),
                         rstd.data<T>(), r0, r1);
    });
  });
}

// Layer/RMS norm backward rows: gx, and the affine gradients accumulated into pw / pb (in T,
// per chunk of kRowChunk rows).
template <typename T>
EMBER_HOT512 void layer_norm_backward_rows(const RowNormArgs& a, const T* g, const T* x, const T* w, const T* mean,
                                        const T* rstd, T* gx, T* pw, T* pb, int64_t r0, int64_t r1) {
  const int64_t D = a.D;
  const double invD = 1.0 / double(std::max<int64_t>(D, 1));
  for (int64_t r = r0; r < r1; ++r) {
    const T* gr = g + r * D;
    const T* xr = x + r * D;
    const T m = mean[r], s = rstd[r];
    if (pw && pb) {
#pragma omp simd
      for (int64_t i = 0; i < D; ++i) {
        pw[i] += gr[i] * ((xr[i] - m) * s);
        pb[i] += gr[i];
      }
    } else if (pw) {
#pragma omp simd
      for (int64_t i = 0; i < D; ++i) pw[i] += gr[i] * ((xr[i] - m) * s);
    } else if (pb) {
#pragma omp simd
      for (int64_t i = 0; i < D; ++i) pb[i] += gr[i];
    }
    if (!gx) continue;
    T a1 = 0, a2 = 0;  // sums of g w and g w xhat, one pass
    if (w) {
#pragma omp simd reduction(+ : a1, a2)
      for (int64_t i = 0; i < D; ++i) {
        const T gw = gr[i] * w[i];
        a1 += gw;
        a2 += gw * ((xr[i] - m) * s);
      }
    } else {
#pragma omp simd reduction(+ : a1, a2)
      for (int64_t i = 0; i < D; ++i) {
        a1 += gr[i];
        a2 += gr[i] * ((xr[i] - m) * s);
      }
    }
    const double s1 = a.rms ? 0.0 : double(a1), s2 = double(a2);
    const T m1 = T(s1 * invD), m2 = T(s2 * invD);
    T* gxr = gx + r * D;
    if (w) {
#pragma omp simd
      for (int64_t i = 0; i < D; ++i) gxr[i] = s * (gr[i] * w[i] - m1 - (xr[i] - m) * s * m2);
    } else {
#pragma omp simd
      for (int64_t i = 0; i < D; ++i) gxr[i] = s * (gr[i] - m1 - (xr[i] - m) * s * m2);
    }
  }
}

// gx for rows [r0, r1); the affine gradients of the rows go to pw / pb (double, one entry
// per affine index, accumulated).
template <typename T>
EMBER_HOT void row_norm_backward_rows(const RowNormArgs& a, const T* g, const T* x, const T* w, const T* mean,
                                      const T* rstd, T* gx, double* pw, double* pb, int64_t r0, int64_t r1) {
  const int64_t D = a.D;
  const int64_t nc = D / a.HW;
  for (int64_t r = r0; r < r1; ++r) {
    const T* gr = g + r * D;
    const T* xr = x + r * D;
    const double m = double(mean[r]), s = double(rstd[r]);
    const int64_t jbase = (r % a.G) * a.Cg;
    // sums over the row of gxhat = g * w and gxhat * xhat
    double s1 = 0, s2 = 0;
    for (int64_t c = 0; c < nc; ++c) {
      const double wc_ = a.HW == 1 ? 1.0 : (w ? double(w[jbase + c]) : 1.0);
      double cg = 0, cgx = 0;
      for (int64_t i = c * a.HW; i < (c + 1) * a.HW; ++i) {
        const double gi = double(gr[i]);
        const double xh = (double(xr[i]) - m) * s;
        const double wi = a.HW == 1 ? (w ? double(w[jbase + i]) : 1.0) : wc_;
        s1 += gi * wi;
        s2 += gi * wi * xh;
        cg += gi;
        cgx += gi * xh;
        if (a.HW == 1) {
          if (pw) pw[jbase + i] += gi * xh;
          if (pb) pb[jbase + i] += gi;
        }
      }
      if (a.HW != 1) {
        if (pw) pw[jbase + c] += cgx;
        if (pb) pb[jbase + c] += cg;
      }
    }
    if (!gx) continue;
    const double invD = 1.0 / double(std::max<int64_t>(D, 1));
    const double mean1 = a.rms ? 0.0 : s1 * invD, mean2 = s2 * invD;
    T* gxr = gx + r * D;
    for (int64_t i = 0; i < D; ++i) {
      const int64_t j = a.HW == 1 ? jbase + i : jbase + i / a.HW;
      const double wi = w ? double(w[j]) : 1.0;
      const double xh = (double(xr[i]) - m) * s;
      gxr[i] = T(s * (double(gr[i]) * wi - mean1 - xh * mean2));
    }
  }
}

void row_norm_backward_kernel(const RowNormArgs& a, const Tensor& g, const Tensor& x, const Tensor& w,
                              const Tensor& mean, const Tensor& rstd, const Tensor& gx, const Tensor& gw,
                              const Tensor& gb) {
  dispatch<kNormMask>(x.dtype(), a.rms ? "rms_norm_backward" : "layer_norm_backward", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    const int64_t P = a.G * a.Cg;  // affine entries
    const bool want_w = gw.defined(), want_b = gb.defined();
    const int64_t nchunks = (a.R + kRowChunk - 1) / kRowChunk;
    if (a.HW == 1 && a.G == 1) {  // layer / RMS norm
      std::vector<T> part;
      if (want_w || want_b) part.assign(size_t(nchunks * 2 * P), T(0));
      parallel_for(0, nchunks, 1, [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c)
          layer_norm_backward_rows<T>(a, g.data<T>(), x.data<T>(), opt_data<T>(w), mean.data<T>(), rstd.data<T>(),
                                      gx.defined() ? gx.data<T>() : nullptr,
                                      want_w ? part.data() + c * 2 * P : nullptr,
                                      want_b ? part.data() + c * 2 * P + P : nullptr, c * kRowChunk,
                                      std::min(a.R, (c + 1) * kRowChunk));
      });
      for (int which = 0; which < 2; ++which) {
        const Tensor& out = which ? gb : gw;
        if (!out.defined()) continue;
        T* o = out.data<T>();
        std::vector<double> acc(size_t(P), 0.0);
        for (int64_t c = 0; c < nchunks; ++c) {
          const T* pc = part.data() + c * 2 * P + which * P;
          for (int64_t j = 0; j < P; ++j) acc[size_t(j)] += double(pc[j]);
        }
        for (int64_t j = 0; j < P; ++j) o[j] = T(acc[size_t(j)]);
      }
      return;
    }
    std::vector<double> partial;
    if (want_w || want_b) partial.assign(size_t(nchunks * 2 * P), 0.0);
    parallel_for(0, nchunks, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        double* pw = want_w ? partial.data() + c * 2 * P : nullptr;
        double* pb = want_b ? partial.data() + c * 2 * P + P : nullptr;
        row_norm_backward_rows<T>(a, g.data<T>(), x.data<T>(), opt_data<T>(w), mean.data<T>(), rstd.data<T>(),
                                  gx.defined() ? gx.data<T>() : nullptr, pw, pb, c * kRowChunk,
                                  std::min(a.R, (c + 1) * kRowChunk));
      }
    });
    for (int which = 0; which < 2; ++which) {
      const Tensor& out = which ? gb : gw;
      if (!out.defined()) continue;
      T* o = out.data<T>();
      for (int64_t j = 0; j < P; ++j) {
        double acc = 0;
        for (int64_t c = 0; c < nchunks; ++c) acc += partial[size_t(c * 2 * P + which * P + j)];
        o[j] = T(acc);
      }
    }
  });
}

// ---- batch norm: statistics per channel of (N, C, HW) -----------------------------------
// Per channel, the planes of its N images. The sums run in double in vector lanes (omp simd
// reductions: a single double accumulator was a 4-cycle chain per element, the whole cost of
// the kernel); the lanes follow the vector width of the clone, not the thread count.
template <typename T>
EMBER_HOT512 void bn_forward_channel(const T* xp, T* yp, int64_t N, int64_t C, int64_t HW, int64_t c, double eps,
                                     const T* wp, const T* bp, T* mean, T* var, T* rstd) {
  const double M = double(N * HW);
  double mu = 0;
  for (int64_t n = 0; n < N; ++n) {
    const T* xc = xp + (n * C + c) * HW;
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < HW; ++i) s += double(xc[i]);
    mu += s;
  }
  mu /= M;
  double ss = 0;
  for (int64_t n = 0; n < N; ++n) {
    const T* xc = xp + (n * C + c) * HW;
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < HW; ++i) {
      const double d = double(xc[i]) - mu;
      s += d * d;
    }
    ss += s;
  }
  const double v = ss / M, rs = 1.0 / std::sqrt(v + eps);
  mean[c] = T(mu);
  var[c] = T(v);
  rstd[c] = T(rs);
  const T sc = T(wp ? rs * double(wp[c]) : rs);
  const T sh = T((bp ? double(bp[c]) : 0.0) - mu * double(sc));
  for (int64_t n = 0; n < N; ++n) {
    const T* xc = xp + (n * C + c) * HW;
    T* yc = yp + (n * C + c) * HW;
#pragma omp simd
    for (int64_t i = 0; i < HW; ++i) yc[i] = xc[i] * sc + sh;
  }
}

void batch_norm_kernel(const Tensor& x, const Tensor& w, const Tensor& b, double eps, const Tensor& y,
                       const Tensor& mean, const Tensor& var, const Tensor& rstd) {
  const int64_t N = x.sizes()[0], C = x.sizes()[1], HW = x.numel() / std::max<int64_t>(1, N * C);
  dispatch<kNormMask>(x.dtype(), "batch_norm", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    const T* xp = x.data<T>();
    const T* wp = opt_data<T>(w);
    const T* bp = opt_data<T>(b);
    T* yp = y.data<T>();
    parallel_for(0, C, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, N * HW * 3)), [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c)
        bn_forward_channel<T>(xp, yp, N, C, HW, c, eps, wp, bp, mean.data<T>(), var.data<T>(), rstd.data<T>());
    });
  });
}

template <typename T>
EMBER_HOT512 void bn_backward_channel(const T* gp, const T* xp, T* gxp, int64_t N, int64_t C, int64_t HW, int64_t c,
                                      double mu, double rs, const T* wp, T* gw, T* gb) {
  const double M = double(N * HW);
  double sg = 0, sgx = 0;
  for (int64_t n = 0; n < N; ++n) {
    const T* gc = gp + (n * C + c) * HW;
    const T* xc = xp + (n * C + c) * HW;
    double a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
    for (int64_t i = 0; i < HW; ++i) {
      a += double(gc[i]);
      b += double(gc[i]) * (double(xc[i]) - mu);
    }
    sg += a;
    sgx += b;
  }
  if (gw) gw[c] = T(sgx * rs);
  if (gb) gb[c] = T(sg);
  if (!gxp) return;
  const double wc = wp ? double(wp[c]) : 1.0;
  const T k1 = T(wc * rs), k2 = T(sg / M), k3 = T(sgx * rs * rs / M), m = T(mu);
  for (int64_t n = 0; n < N; ++n) {
    const T* gc = gp + (n * C + c) * HW;
    const T* xc = xp + (n * C + c) * HW;
    T* oc = gxp + (n * C + c) * HW;
#pragma omp simd
    for (int64_t i = 0; i < HW; ++i) oc[i] = k1 * (gc[i] - k2 - (xc[i] - m) * k3);
  }
}

void batch_norm_backward_kernel(const Tensor& g, const Tensor& x, const Tensor& w, const Tensor& mean,
                                const Tensor& rstd, const Tensor& gx, const Tensor& gw, const Tensor& gb) {
  const int64_t N = x.sizes()[0], C = x.sizes()[1], HW = x.numel() / std::max<int64_t>(1, N * C);
  dispatch<kNormMask>(x.dtype(), "batch_norm_backward", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    const T* gp = g.data<T>();
    const T* xp = x.data<T>();
    const T* wp = opt_data<T>(w);
    T* gxp = gx.defined() ? gx.data<T>() : nullptr;
    T* gwp = gw.defined() ? gw.data<T>() : nullptr;
    T* gbp = gb.defined() ? gb.data<T>() : nullptr;
    parallel_for(0, C, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, N * HW * 3)), [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c)
        bn_backward_channel<T>(gp, xp, gxp, N, C, HW, c, double(mean.data<T>()[c]), double(rstd.data<T>()[c]), wp,
                               gwp, gbp);
    });
  });
}

template <typename T>
EMBER_HOT void channel_affine_planes(const T* x, const T* sc, const T* sh, T* y, int64_t C, int64_t HW, int64_t p0,
                                     int64_t p1) {
  for (int64_t p = p0; p < p1; ++p) {
    const T a = sc[p % C], b = sh[p % C];
    const T* xp = x + p * HW;
    T* yp = y + p * HW;
#pragma omp simd
    for (int64_t i = 0; i < HW; ++i) yp[i] = xp[i] * a + b;
  }
}

void channel_affine_kernel(const Tensor& x, const Tensor& scale, const Tensor& shift, const Tensor& y) {
  const int64_t N = x.sizes()[0], C = x.sizes()[1], HW = x.numel() / std::max<int64_t>(1, N * C);
  dispatch<kNormMask>(x.dtype(), "batch_norm", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    parallel_for(0, N * C, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, HW)), [&](int64_t p0, int64_t p1) {
      channel_affine_planes<T>(x.data<T>(), scale.data<T>(), shift.data<T>(), y.data<T>(), C, HW, p0, p1);
    });
  });
}

}  // namespace

EMBER_REGISTER_CPU(channel_affine_stub, channel_affine_kernel);
EMBER_REGISTER_CPU(row_norm_stub, row_norm_kernel);
EMBER_REGISTER_CPU(row_norm_backward_stub, row_norm_backward_kernel);
EMBER_REGISTER_CPU(batch_norm_stub, batch_norm_kernel);
EMBER_REGISTER_CPU(batch_norm_backward_stub, batch_norm_backward_kernel);

}  // namespace ember
