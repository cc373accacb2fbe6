// CUDA kernels of the pooling, normalisation and LSTM-cell stubs (ops/nn.h): max_pool, avg_pool
// (and its adjoint), row_norm (layer / RMS / group norm) with its backward, batch_norm with its
// backward, channel_affine, lstm_cell and lstm_cell_backward. Same semantics, dtypes (float32,
// float64: the front ends widen 16-bit floats to float32) and accumulator types as the CPU
// kernels (cpu/nn_kernels.cpp, cpu/norm_kernels.cpp, cpu/rnn_kernels.cpp).
//
// Pooling: the window tables (PoolGeom begin/end) are uploaded once per call. A thread per
// output scans its window d, h, w in the CPU's order (max: the first maximum wins, a NaN wins;
// avg: sums in double divided by the CPU's divisor table). The average pool's adjoint is a
// gather, not a scatter: a thread per input element adds up, in increasing output order like
// the CPU's scatter, the outputs whose windows hold it, from per-dim lists of those outputs
// built on the host (no atomics; the sums are the CPU's, term for term).
//
// Row norms: a warp (rows of up to kShortRow elements, 8 rows per block) or a block of 256
// threads per row; each thread strides over the row, then warp shuffles (xor butterfly: every
// lane gets the same sum) and a fixed-order pass over the warps' partials. Layer/RMS rows
// (G == HW == 1) accumulate in T like the CPU's lane sums, group-norm rows in double. The
// backward computes gx per row the same way; the affine gradients of layer/RMS norm are column
// sums (a thread per column and share of rows: chunks of 32 rows summed in T, chunks in double,
// like the CPU), those of group norm per-(row, channel) sums in double, then a thread per
// channel over the batch in order.
//
// Batch norm (x as (N, C, HW)): blocks each reduce a fixed share of a channel's N * HW elements
// into double partials, and a thread per channel combines them in order; two passes (mean, then
// squared deviations), then one elementwise pass y = x * scale[c] + shift[c] (the channel_affine
// kernel). The backward sums g and g * (x - mean) the same way, then one elementwise pass for gx.
// Shares depend only on the shapes, so results are run-to-run identical.
//
// LSTM cell: a thread per (row, hidden unit), forward and backward.
#include <algorithm>
#include <cmath>
#include <vector>

#include "../ops/nn.h"
#include "math.cuh"
#include "primitives.cuh"

namespace ember {
namespace cuda {
namespace {

constexpr uint32_t kNNMask = tbit(ScalarType::Float32) | tbit(ScalarType::Float64);
constexpr int kBlock = 256;
constexpr int kWarps = kBlock / 32;
constexpr int64_t kShortRow = 2048;          // rows up to this long take a warp, longer ones a block
constexpr int64_t kRowChunk = 32;            // rows per partial sum of the layer-norm affine gradients
constexpr int64_t kColThreads = 1 << 16;     // threads aimed at by the column sums
constexpr int64_t kChanBlocks = 1024;        // blocks aimed at by the batch-norm channel sums
constexpr int64_t kChanMinShare = 4096;      // fewest elements per block share of a channel

template <typename T>
const T* in_ptr(const Tensor& t) {
  return t.defined() ? reinterpret_cast<const T*>(t.raw_data()) : nullptr;
}
template <typename T>
T* out_ptr(const Tensor& t) {
  return t.defined() ? reinterpret_cast<T*>(t.raw_data()) : nullptr;
}

unsigned grid_of(int64_t blocks, const char* op) {
  EMBER_CHECK(blocks <= INT32_MAX, NotImplementedError, "[", op, "] too many blocks for one CUDA launch (", blocks,
              ")");
  return unsigned(blocks);
}

// Sum of v over the TPR consecutive threads of a row group (TPR: 1, 32 or kBlock), returned to
// each of them. kBlock uses `sh` (kWarps entries) and synchronises the block.
template <int TPR, typename A>
__device__ __forceinline__ A group_sum(A v, A* sh) {
  static_assert(TPR == 1 || TPR == 32 || TPR == kBlock, "group of 1, 32 or kBlock threads");
  if constexpr (TPR > 1) v = warp_sum(v);
  if constexpr (TPR == kBlock) {
    const int warp = int(threadIdx.x) / 32;
    if (threadIdx.x % 32 == 0) sh[warp] = v;
    __syncthreads();
    v = sh[0];
#pragma unroll
    for (int k = 1; k < kWarps; ++k) v += sh[k];
    __syncthreads();
  }
  return v;
}

// ---- pooling ------------------------------------------------------------------------------
struct PoolDev {
  int64_t in[3], out[3], dil[3];
  const int64_t* begin[3];
  const int64_t* end[3];
};

// Uploads the window tables (kept alive by `holder`).
PoolDev pool_dev(const PoolGeom& g, Tensor& holder) {
  std::vector<int64_t> all;
  size_t off[6];
  for (int d = 0; d < 3; ++d) {
    off[2 * d] = all.size();
    all.insert(all.end(), g.begin[d].begin(), g.begin[d].end());
    off[2 * d + 1] = all.size();
    all.insert(all.end(), g.end[d].begin(), g.end[d].end());
  }
  const int64_t* p = upload_vector(holder, all);
  PoolDev r;
  for (int d = 0; d < 3; ++d) {
    r.in[d] = g.in[d], r.out[d] = g.out[d], r.dil[d] = g.dil[d];
    r.begin[d] = p + off[2 * d];
    r.end[d] = p + off[2 * d + 1];
  }
  return r;
}

// First position >= 0 of begin, begin + dil, ...
__device__ __forceinline__ int64_t first_inside(int64_t b, int64_t dil) {
  return b >= 0 ? b : b + ((-b + dil - 1) / dil) * dil;
}

template <typename T>
__global__ void __launch_bounds__(kBlock)
    max_pool_kernel(PoolDev g, const T* x, T* y, int64_t* idx, int64_t n) {
  const int64_t t = int64_t(blockIdx.x) * kBlock + threadIdx.x;
  if (t >= n) return;
  int64_t q = t;
  const int64_t ow = q % g.out[2];
  q /= g.out[2];
  const int64_t oh = q % g.out[1];
  q /= g.out[1];
  const int64_t od = q % g.out[0], p = q / g.out[0];
  const int64_t ID = g.in[0], IH = g.in[1], IW = g.in[2];
  const T* xp = x + p * ID * IH * IW;
  const int64_t d1 = min(g.end[0][od], ID), h1 = min(g.end[1][oh], IH), w1 = min(g.end[2][ow], IW);
  const int64_t h0 = first_inside(g.begin[1][oh], g.dil[1]), w0 = first_inside(g.begin[2][ow], g.dil[2]);
  T best = T(-INFINITY);
  int64_t bi = -1;
  for (int64_t d = first_inside(g.begin[0][od], g.dil[0]); d < d1; d += g.dil[0])
    for (int64_t h = h0; h < h1; h += g.dil[1]) {
      const int64_t base = (d * IH + h) * IW;
      for (int64_t w = w0; w < w1; w += g.dil[2]) {
        const T v = xp[base + w];
        if (bi < 0 || v > best || v != v) {
          best = v;
          bi = base + w;
        }
      }
    }
  y[t] = best;
  idx[t] = bi;
}

struct MaxPoolBody {
  const PoolGeom& g;
  const Tensor &x, &y, &idx;
  template <typename T>
  void operator()() const {
    const int64_t n = y.numel();
    if (n == 0) return;
    Tensor h;
    const PoolDev d = pool_dev(g, h);
    max_pool_kernel<T><<<grid_of((n + kBlock - 1) / kBlock, "max_pool"), kBlock, 0, current_stream_here()>>>(
        d, in_ptr<T>(x), out_ptr<T>(y), out_ptr<int64_t>(idx), n);
    check_launch("max_pool");
  }
};

void max_pool_cuda(const PoolGeom& g, const Tensor& x, const Tensor& y, const Tensor& idx) {
  dispatch_cuda<kNNMask>(x.dtype(), "max_pool", MaxPoolBody{g, x, y, idx});
}

template <typename T>
__global__ void __launch_bounds__(kBlock)
    avg_pool_kernel(PoolDev g, const double* div, const T* src, T* dst, int64_t n) {
  const int64_t t = int64_t(blockIdx.x) * kBlock + threadIdx.x;
  if (t >= n) return;
  const int64_t lout = g.out[0] * g.out[1] * g.out[2];
  int64_t q = t;
  const int64_t ow = q % g.out[2];
  q /= g.out[2];
  const int64_t oh = q % g.out[1];
  q /= g.out[1];
  const int64_t od = q % g.out[0], p = q / g.out[0];
  const int64_t ID = g.in[0], IH = g.in[1], IW = g.in[2];
  const T* sp = src + p * ID * IH * IW;
  const int64_t d0 = max(g.begin[0][od], int64_t(0)), d1 = min(g.end[0][od], ID);
  const int64_t h0 = max(g.begin[1][oh], int64_t(0)), h1 = min(g.end[1][oh], IH);
  const int64_t w0 = max(g.begin[2][ow], int64_t(0)), w1 = min(g.end[2][ow], IW);
  double s = 0;
  for (int64_t d = d0; d < d1; ++d)
    for (int64_t h = h0; h < h1; ++h) {
      const T* row = sp + (d * IH + h) * IW;
      for (int64_t w = w0; w < w1; ++w) s += double(row[w]);
    }
  dst[t] = T(s / div[t % lout]);
}

// Per dim, the outputs whose (clipped) windows hold each input position, in increasing order:
// outs[off[x] .. off[x + 1]) for position x.
struct GatherLists {
  const int64_t* off[3];
  const int64_t* outs[3];
};

GatherLists gather_lists(const PoolGeom& g, Tensor& holder) {
  std::vector<int64_t> all;
  size_t offs[3], outs[3];
  for (int d = 0; d < 3; ++d) {
    const int64_t in = g.in[d];
    std::vector<int64_t> count(size_t(in + 1), 0);
    for (int64_t o = 0; o < g.out[d]; ++o) {
      const int64_t lo = std::max<int64_t>(g.begin[d][size_t(o)], 0), hi = std::min(g.end[d][size_t(o)], in);
      for (int64_t x = lo; x < hi; ++x) ++count[size_t(x + 1)];
    }
    for (int64_t x = 0; x < in; ++x) count[size_t(x + 1)] += count[size_t(x)];
    std::vector<int64_t> pos(count.begin(), count.end() - 1);
    std::vector<int64_t> list(static_cast<size_t>(count[size_t(in)]));
    for (int64_t o = 0; o < g.out[d]; ++o) {  // o increasing: each position's list is sorted
      const int64_t lo = std::max<int64_t>(g.begin[d][size_t(o)], 0), hi = std::min(g.end[d][size_t(o)], in);
      for (int64_t x = lo; x < hi; ++x) list[size_t(pos[size_t(x)]++)] = o;
    }
    offs[d] = all.size();
    all.insert(all.end(), count.begin(), count.end());
    outs[d] = all.size();
    all.insert(all.end(), list.begin(), list.end());
  }
  const int64_t* p = upload_vector(holder, all);
  GatherLists r;
  for (int d = 0; d < 3; ++d) r.off[d] = p + offs[d], r.outs[d] = p + outs[d];
  return r;
}

// dst (in) = the adjoint of the average pool applied to src (out): each input element sums
// T(src[o] / div[o]) over the outputs o whose windows hold it, o increasing (the CPU's order).
template <typename T>
__global__ void __launch_bounds__(kBlock)
    avg_pool_adjoint_kernel(PoolDev g, GatherLists gl, const double* div, const T* src, T* dst, int64_t n) {
  const int64_t t = int64_t(blockIdx.x) * kBlock + threadIdx.x;
  if (t >= n) return;
  int64_t q = t;
  const int64_t w = q % g.in[2];
  q /= g.in[2];
  const int64_t h = q % g.in[1];
  q /= g.in[1];
  const int64_t d = q % g.in[0], p = q / g.in[0];
  const int64_t OH = g.out[1], OW = g.out[2];
  const T* sp = src + p * g.out[0] * OH * OW;
  const int64_t a1 = gl.off[0][d + 1], b0 = gl.off[1][h], b1 = gl.off[1][h + 1], c0 = gl.off[2][w],
                c1 = gl.off[2][w + 1];
  T acc = T(0);
  for (int64_t a = gl.off[0][d]; a < a1; ++a) {
    const int64_t od = gl.outs[0][a];
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t base = (od * OH + gl.outs[1][b]) * OW;
      for (int64_t c = c0; c < c1; ++c) {
        const int64_t i = base + gl.outs[2][c];
        acc += T(double(sp[i]) / div[i]);
      }
    }
  }
  dst[t] = acc;
}

struct AvgPoolBody {
  const PoolGeom& g;
  const Tensor &src, &dst;
  bool adjoint;
  template <typename T>
  void operator()() const {
    const char* op = adjoint ? "avg_pool_backward" : "avg_pool";
    const int64_t n = dst.numel();
    if (n == 0) return;
    Tensor ht, hd, hl;
    const PoolDev d = pool_dev(g, ht);
    const double* div = upload_vector(hd, avg_pool_divisors(g));
    cudaStream_t s = current_stream_here();
    const unsigned grid = grid_of((n + kBlock - 1) / kBlock, op);
    if (!adjoint) {
      avg_pool_kernel<T><<<grid, kBlock, 0, s>>>(d, div, in_ptr<T>(src), out_ptr<T>(dst), n);
    } else {
      const GatherLists gl = gather_lists(g, hl);
      avg_pool_adjoint_kernel<T><<<grid, kBlock, 0, s>>>(d, gl, div, in_ptr<T>(src), out_ptr<T>(dst), n);
    }
    check_launch(op);
  }
};

void avg_pool_cuda(const PoolGeom& g, const Tensor& src, const Tensor& dst, bool adjoint) {
  dispatch_cuda<kNNMask>(src.dtype(), adjoint ? "avg_pool_backward" : "avg_pool", AvgPoolBody{g, src, dst, adjoint});
}

// ---- row norms: layer / RMS / group norm ----------------------------------------------------
struct RowArgs {
  int64_t R, D, G, Cg, HW;
  double eps;
  bool rms;
};
RowArgs row_args(const RowNormArgs& a) { return RowArgs{a.R, a.D, a.G, a.Cg, a.HW, a.eps, a.rms}; }

// Row r of the group of TPR threads this thread belongs to (kBlock / TPR rows per block).
template <int TPR>
__device__ __forceinline__ int64_t row_of_thread() {
  return int64_t(blockIdx.x) * (kBlock / TPR) + int64_t(threadIdx.x) / TPR;
}

// kLayer (G == HW == 1): the CPU's layer_norm_rows, sums in T; else row_norm_rows, sums in double.
template <typename T, int TPR, bool kLayer>
__global__ void __launch_bounds__(kBlock)
    row_norm_kernel(RowArgs a, const T* x, const T* w, const T* b, T* y, T* mean, T* rstd) {
  using A = std::conditional_t<kLayer, T, double>;
  __shared__ A sh[kWarps];
  const int64_t r = row_of_thread<TPR>();
  if (r >= a.R) return;  // whole groups only (TPR == kBlock: one row per block, r < R)
  const int lane = int(threadIdx.x) % TPR;
  const int64_t D = a.D;
  const T* xr = x + r * D;
  T* yr = y + r * D;
  double mu = 0;
  if (!a.rms) {
    A s = 0;
    for (int64_t i = lane; i < D; i += TPR) s += A(xr[i]);
    s = group_sum<TPR>(s, sh);
    mu = double(s) / double(kLayer ? D : max(D, int64_t(1)));
  }
  if constexpr (kLayer) {
    const T mt = T(mu);
    T ss = 0;
    for (int64_t i = lane; i < D; i += TPR) {
      const T d = xr[i] - mt;
      ss += d * d;
    }
    ss = group_sum<TPR>(ss, sh);
    const T st = T(1.0 / sqrt(double(ss) / double(D) + a.eps));
    if (lane == 0) mean[r] = mt, rstd[r] = st;
    if (w && b) {
      for (int64_t i = lane; i < D; i += TPR) yr[i] = (xr[i] - mt) * st * w[i] + b[i];
    } else if (w) {
      for (int64_t i = lane; i < D; i += TPR) yr[i] = (xr[i] - mt) * st * w[i];
    } else if (b) {
      for (int64_t i = lane; i < D; i += TPR) yr[i] = (xr[i] - mt) * st + b[i];
    } else {
      for (int64_t i = lane; i < D; i += TPR) yr[i] = (xr[i] - mt) * st;
    }
  } else {
    double ss = 0;
    for (int64_t i = lane; i < D; i += TPR) {
      const double c = double(xr[i]) - mu;
      ss += c * c;
    }
    ss = group_sum<TPR>(ss, sh);
    const double rs = 1.0 / sqrt(ss / double(max(D, int64_t(1))) + a.eps);
    const T m = T(mu), s = T(rs);
    if (lane == 0) mean[r] = m, rstd[r] = s;
    const int64_t jbase = (r % a.G) * a.Cg;
    if (a.HW == 1) {
      for (int64_t i = lane; i < D; i += TPR) {
        T v = (xr[i] - m) * s;
        if (w) v = v * w[jbase + i];
        if (b) v = v + b[jbase + i];
        yr[i] = v;
      }
    } else {
      for (int64_t i = lane; i < D; i += TPR) {
        const int64_t j = jbase + i / a.HW;
        const T sc = w ? s * w[j] : s;
        const T sh_ = (b ? b[j] : T(0)) - m * sc;
        yr[i] = xr[i] * sc + sh_;
      }
    }
  }
}

template <typename T, bool kLayer>
void run_row_norm(const RowArgs& a, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y,
                  const Tensor& mean, const Tensor& rstd, const char* op) {
  cudaStream_t s = current_stream_here();
  if (a.D <= kShortRow)
    row_norm_kernel<T, 32, kLayer><<<grid_of((a.R + kWarps - 1) / kWarps, op), kBlock, 0, s>>>(
        a, in_ptr<T>(x), in_ptr<T>(w), in_ptr<T>(b), out_ptr<T>(y), out_ptr<T>(mean), out_ptr<T>(rstd));
  else
    row_norm_kernel<T, kBlock, kLayer><<<grid_of(a.R, op), kBlock, 0, s>>>(
        a, in_ptr<T>(x), in_ptr<T>(w), in_ptr<T>(b), out_ptr<T>(y), out_ptr<T>(mean), out_ptr<T>(rstd));
  check_launch(op);
}

struct RowNormBody {
  const RowNormArgs& a;
  const Tensor &x, &w, &b, &y, &mean, &rstd;
  template <typename T>
  void operator()() const {
    if (a.R == 0 || a.D == 0) return;
    const RowArgs ra = row_args(a);
    const char* op = a.rms ? "rms_norm" : "layer_norm";
    if (a.HW == 1 && a.G == 1) run_row_norm<T, true>(ra, x, w, b, y, mean, rstd, op);
    else run_row_norm<T, false>(ra, x, w, b, y, mean, rstd, op);
  }
};

void row_norm_cuda(const RowNormArgs& a, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y,
                   const Tensor& mean, const Tensor& rstd) {
  dispatch_cuda<kNNMask>(x.dtype(), a.rms ? "rms_norm" : "layer_norm", RowNormBody{a, x, w, b, y, mean, rstd});
}

// gx of each row: kLayer as the CPU's layer_norm_backward_rows (sums in T), else as
// row_norm_backward_rows (sums in double).
template <typename T, int TPR, bool kLayer>
__global__ void __launch_bounds__(kBlock)
    row_norm_backward_kernel(RowArgs a, const T* g, const T* x, const T* w, const T* mean, const T* rstd, T* gx) {
  using A = std::conditional_t<kLayer, T, double>;
  __shared__ A sh[kWarps];
  const int64_t r = row_of_thread<TPR>();
  if (r >= a.R) return;
  const int lane = int(threadIdx.x) % TPR;
  const int64_t D = a.D;
  const double invD = 1.0 / double(max(D, int64_t(1)));
  const T* gr = g + r * D;
  const T* xr = x + r * D;
  T* gxr = gx + r * D;
  if constexpr (kLayer) {
    const T m = mean[r], s = rstd[r];
    T a1 = 0, a2 = 0;  // sums of g w and g w xhat
    for (int64_t i = lane; i < D; i += TPR) {
      const T gw = w ? gr[i] * w[i] : gr[i];
      a1 += gw;
      a2 += gw * ((xr[i] - m) * s);
    }
    a1 = group_sum<TPR>(a1, sh);
    a2 = group_sum<TPR>(a2, sh);
    const double s1 = a.rms ? 0.0 : double(a1), s2 = double(a2);
    const T m1 = T(s1 * invD), m2 = T(s2 * invD);
    if (w) {
      for (int64_t i = lane; i < D; i += TPR) gxr[i] = s * (gr[i] * w[i] - m1 - (xr[i] - m) * s * m2);
    } else {
      for (int64_t i = lane; i < D; i += TPR) gxr[i] = s * (gr[i] - m1 - (xr[i] - m) * s * m2);
    }
  } else {
    const double m = double(mean[r]), s = double(rstd[r]);
    const int64_t jbase = (r % a.G) * a.Cg;
    double s1 = 0, s2 = 0;
    for (int64_t i = lane; i < D; i += TPR) {
      const int64_t j = a.HW == 1 ? jbase + i : jbase + i / a.HW;
      const double wi = w ? double(w[j]) : 1.0;
      const double gi = double(gr[i]), xh = (double(xr[i]) - m) * s;
      s1 += gi * wi;
      s2 += gi * wi * xh;
    }
    s1 = group_sum<TPR>(s1, sh);
    s2 = group_sum<TPR>(s2, sh);
    const double mean1 = a.rms ? 0.0 : s1 * invD, mean2 = s2 * invD;
    for (int64_t i = lane; i < D; i += TPR) {
      const int64_t j = a.HW == 1 ? jbase + i : jbase + i / a.HW;
      const double wi = w ? double(w[j]) : 1.0;
      const double xh = (double(xr[i]) - m) * s;
      gxr[i] = T(s * (double(gr[i]) * wi - mean1 - xh * mean2));
    }
  }
}

// Layer/RMS norm affine gradients: thread (column j, share s) sums chunks [s * cps, (s + 1) * cps)
// of kRowChunk rows, each chunk in T, the chunks in double; with one share the result is
// written, else a double partial per (share, column) combined by layer_affine_finish_kernel.
template <typename T>
__global__ void __launch_bounds__(kBlock)
    layer_affine_grad_kernel(int64_t R, int64_t P, int64_t S, int64_t cps, const T* g, const T* x, const T* mean,
                             const T* rstd, T* gw, T* gb, double* partial) {
  const int64_t t = int64_t(blockIdx.x) * kBlock + threadIdx.x;
  if (t >= P * S) return;
  const int64_t j = t % P, sh = t / P;
  const int64_t nchunks = (R + kRowChunk - 1) / kRowChunk;
  const int64_t c1 = min(nchunks, (sh + 1) * cps);
  double aw = 0, ab = 0;
  for (int64_t c = sh * cps; c < c1; ++c) {
    T pw = 0, pb = 0;
    const int64_t r1 = min(R, (c + 1) * kRowChunk);
    for (int64_t r = c * kRowChunk; r < r1; ++r) {
      const T gv = g[r * P + j];
      if (gw) pw += gv * ((x[r * P + j] - mean[r]) * rstd[r]);
      pb += gv;
    }
    aw += double(pw);
    ab += double(pb);
  }
  if (S == 1) {
    if (gw) gw[j] = T(aw);
    if (gb) gb[j] = T(ab);
  } else {
    partial[(sh * P + j) * 2] = aw;
    partial[(sh * P + j) * 2 + 1] = ab;
  }
}

template <typename T>
__global__ void __launch_bounds__(kBlock)
    layer_affine_finish_kernel(int64_t P, int64_t S, const double* partial, T* gw, T* gb) {
  const int64_t j = int64_t(blockIdx.x) * kBlock + threadIdx.x;
  if (j >= P) return;
  double aw = 0, ab = 0;
  for (int64_t s = 0; s < S; ++s) {
    aw += partial[(s * P + j) * 2];
    ab += partial[(s * P + j) * 2 + 1];
  }
  if (gw) gw[j] = T(aw);
  if (gb) gb[j] = T(ab);
}

// Group-norm affine gradients, step 1: per plane q (row q / Cg, its channel q % Cg; HW
// contiguous elements) the double sums of g and g * xhat into cs[2q], cs[2q + 1].
template <typename T, int TPR>
__global__ void __launch_bounds__(kBlock)
    plane_sums_kernel(int64_t Q, int64_t Cg, int64_t HW, const T* g, const T* x, const T* mean, const T* rstd,
                      double* cs) {
  __shared__ double sh[kWarps];
  const int64_t q = row_of_thread<TPR>();
  if (q >= Q) return;
  const int lane = int(threadIdx.x) % TPR;
  const int64_t r = q / Cg;
  const double m = double(mean[r]), s = double(rstd[r]);
  double cg = 0, cgx = 0;
  for (int64_t i = q * HW + lane; i < (q + 1) * HW; i += TPR) {
    const double gi = double(g[i]);
    cg += gi;
    cgx += gi * ((double(x[i]) - m) * s);
  }
  cg = group_sum<TPR>(cg, sh);
  cgx = group_sum<TPR>(cgx, sh);
  if (lane == 0) cs[2 * q] = cg, cs[2 * q + 1] = cgx;
}

// Step 2: channel j of C sums its N planes (q = n * C + j) in order.
template <typename T>
__global__ void __launch_bounds__(kBlock)
    channel_grad_kernel(int64_t N, int64_t C, const double* cs, T* gw, T* gb) {
  const int64_t j = int64_t(blockIdx.x) * kBlock + threadIdx.x;
  if (j >= C) return;
  double aw = 0, ab = 0;
  for (int64_t n = 0; n < N; ++n) {
    ab += cs[2 * (n * C + j)];
    aw += cs[2 * (n * C + j) + 1];
  }
  if (gw) gw[j] = T(aw);
  if (gb) gb[j] = T(ab);
}

template <typename T, bool kLayer>
void run_row_norm_backward(const RowArgs& a, const Tensor& g, const Tensor& x, const Tensor& w, const Tensor& mean,
                           const Tensor& rstd, const Tensor& gx, const char* op) {
  cudaStream_t s = current_stream_here();
  if (a.D <= kShortRow)
    row_norm_backward_kernel<T, 32, kLayer><<<grid_of((a.R + kWarps - 1) / kWarps, op), kBlock, 0, s>>>(
        a, in_ptr<T>(g), in_ptr<T>(x), in_ptr<T>(w), in_ptr<T>(mean), in_ptr<T>(rstd), out_ptr<T>(gx));
  else
    row_norm_backward_kernel<T, kBlock, kLayer><<<grid_of(a.R, op), kBlock, 0, s>>>(
        a, in_ptr<T>(g), in_ptr<T>(x), in_ptr<T>(w), in_ptr<T>(mean), in_ptr<T>(rstd), out_ptr<T>(gx));
  check_launch(op);
}

struct RowNormBackwardBody {
  const RowNormArgs& a;
  const Tensor &g, &x, &w, &mean, &rstd, &gx, &gw, &gb;
  template <typename T>
  void operator()() const {
    const char* op = a.rms ? "rms_norm_backward" : "layer_norm_backward";
    if (a.R == 0 || a.D == 0) return;
    const RowArgs ra = row_args(a);
    const bool layer = a.HW == 1 && a.G == 1;
    if (gx.defined()) {
      if (layer) run_row_norm_backward<T, true>(ra, g, x, w, mean, rstd, gx, op);
      else run_row_norm_backward<T, false>(ra, g, x, w, mean, rstd, gx, op);
    }
    if (!gw.defined() && !gb.defined()) return;
    cudaStream_t s = current_stream_here();
    if (layer) {
      const int64_t P = a.D, nchunks = (a.R + kRowChunk - 1) / kRowChunk;
      int64_t S = std::min(nchunks, std::max<int64_t>(1, (kColThreads + P - 1) / P));
      const int64_t cps = (nchunks + S - 1) / S;
      S = (nchunks + cps - 1) / cps;
      Tensor hp;
      double* part = S > 1 ? scratch_ptr<double>(hp, 2 * S * P) : nullptr;
      layer_affine_grad_kernel<T><<<grid_of((P * S + kBlock - 1) / kBlock, op), kBlock, 0, s>>>(
          a.R, P, S, cps, in_ptr<T>(g), in_ptr<T>(x), in_ptr<T>(mean), in_ptr<T>(rstd), out_ptr<T>(gw),
          out_ptr<T>(gb), part);
      check_launch(op);
      if (S > 1) {
        layer_affine_finish_kernel<T><<<grid_of((P + kBlock - 1) / kBlock, op), kBlock, 0, s>>>(
            P, S, part, out_ptr<T>(gw), out_ptr<T>(gb));
        check_launch(op);
      }
      return;
    }
    const int64_t Q = a.R * a.Cg, C = a.G * a.Cg, N = a.R / a.G;
    Tensor hc;
    double* cs = scratch_ptr<double>(hc, 2 * Q);
    if (a.HW < 32)
      plane_sums_kernel<T, 1><<<grid_of((Q + kBlock - 1) / kBlock, op), kBlock, 0, s>>>(
          Q, a.Cg, a.HW, in_ptr<T>(g), in_ptr<T>(x), in_ptr<T>(mean), in_ptr<T>(rstd), cs);
    else if (a.HW <= kShortRow)
      plane_sums_kernel<T, 32><<<grid_of((Q + kWarps - 1) / kWarps, op), kBlock, 0, s>>>(
          Q, a.Cg, a.HW, in_ptr<T>(g), in_ptr<T>(x), in_ptr<T>(mean), in_ptr<T>(rstd), cs);
    else
      plane_sums_kernel<T, kBlock><<<grid_of(Q, op), kBlock, 0, s>>>(
          Q, a.Cg, a.HW, in_ptr<T>(g), in_ptr<T>(x), in_ptr<T>(mean), in_ptr<T>(rstd), cs);
    check_launch(op);
    channel_grad_kernel<T><<<grid_of((C + kBlock - 1) / kBlock, op), kBlock, 0, s>>>(N, C, cs, out_ptr<T>(gw),
                                                                                    out_ptr<T>(gb));
    check_launch(op);
  }
};

void row_norm_backward_cuda(const RowNormArgs& a, const Tensor& g, const Tensor& x, const Tensor& w,
                            const Tensor& mean, const Tensor& rstd, const Tensor& gx, const Tensor& gw,
                            const Tensor& gb) {
  dispatch_cuda<kNNMask>(x.dtype(), a.rms ? "rms_norm_backward" : "layer_norm_backward",
                         RowNormBackwardBody{a, g, x, w, mean, rstd, gx, gw, gb});
}

// ---- batch norm ---------------------------------------------------------------------------------
// x as (N, C, HW); channel c's M = N * HW elements split into S shares of `chunk`.
struct ChanGeom {
  int64_t N, C, HW, M, S, chunk;
};

ChanGeom chan_geom(const Tensor& x) {
  ChanGeom cg;
  cg.N = x.sizes()[0], cg.C = x.sizes()[1];
  cg.HW = x.numel() / std::max<int64_t>(1, cg.N * cg.C);
  cg.M = cg.N * cg.HW;
  const int64_t want = std::max<int64_t>(1, (kChanBlocks + cg.C - 1) / cg.C);
  cg.S = std::max<int64_t>(1, std::min(want, (cg.M + kChanMinShare - 1) / kChanMinShare));
  cg.chunk = std::max<int64_t>(1, (cg.M + cg.S - 1) / cg.S);
  cg.S = std::max<int64_t>(1, (cg.M + cg.chunk - 1) / cg.chunk);
  return cg;
}

struct Pair {
  double a, b;
};

// Block (channel c, share s) sums f(offset of the element, c) over the share (each thread its
// strided elements in order, then group_sum); partial[2 (c S + s) + {0, 1}].
template <typename F>
__global__ void __launch_bounds__(kBlock) chan_sum_kernel(ChanGeom cg, F f, double* partial) {
  __shared__ double sh[kWarps];
  const int64_t c = int64_t(blockIdx.x) / cg.S, s = int64_t(blockIdx.x) % cg.S;
  const int64_t k1 = min(cg.M, (s + 1) * cg.chunk);
  double a = 0, b = 0;
  int64_t k = s * cg.chunk + threadIdx.x;
  if (k < k1) {
    int64_t n = k / cg.HW, i = k - n * cg.HW;
    const int64_t dn = kBlock / cg.HW, di = kBlock % cg.HW;
    for (; k < k1; k += kBlock) {
      const Pair v = f((n * cg.C + c) * cg.HW + i, c);
      a += v.a;
      b += v.b;
      i += di;
      n += dn;
      if (i >= cg.HW) i -= cg.HW, ++n;
    }
  }
  a = group_sum<kBlock>(a, sh);
  if constexpr (F::kTwo) b = group_sum<kBlock>(b, sh);
  if (threadIdx.x == 0) {
    partial[2 * blockIdx.x] = a;
    partial[2 * blockIdx.x + 1] = b;
  }
}

template <typename T>
struct SumX {
  static constexpr bool kTwo = false;
  const T* x;
  __device__ Pair operator()(int64_t e, int64_t) const { return {double(x[e]), 0.0}; }
};
template <typename T>
struct SumSqDev {
  static constexpr bool kTwo = false;
  const T* x;
  const double* mu;
  __device__ Pair operator()(int64_t e, int64_t c) const {
    const double d = double(x[e]) - mu[c];
    return {d * d, 0.0};
  }
};
template <typename T>
struct SumGrad {
  static constexpr bool kTwo = true;
  const T* g;
  const T* x;
  const T* mean;
  __device__ Pair operator()(int64_t e, int64_t c) const {
    const double gv = double(g[e]);
    return {gv, gv * (double(x[e]) - double(mean[c]))};
  }
};

__device__ __forceinline__ Pair chan_total(const ChanGeom& cg, const double* partial, int64_t c) {
  Pair t{0.0, 0.0};
  for (int64_t s = 0; s < cg.S; ++s) {
    t.a += partial[2 * (c * cg.S + s)];
    t.b += partial[2 * (c * cg.S + s) + 1];
  }
  return t;
}

__global__ void __launch_bounds__(kBlock) bn_mean_kernel(ChanGeom cg, const double* partial, double* mu) {
  const int64_t c = int64_t(blockIdx.x) * kBlock + threadIdx.x;
  if (c >= cg.C) return;
  mu[c] = chan_total(cg, partial, c).a / double(cg.M);
}

// Statistics and the affine of channel c: ss[2c] = scale, ss[2c + 1] = shift (as the CPU's).
template <typename T>
__global__ void __launch_bounds__(kBlock)
    bn_stats_kernel(ChanGeom cg, const double* partial, const double* mu_, double eps, const T* w, const T* b,
                    T* mean, T* var, T* rstd, T* ss) {
  const int64_t c = int64_t(blockIdx.x) * kBlock + threadIdx.x;
  if (c >= cg.C) return;
  const double mu = mu_[c], v = chan_total(cg, partial, c).a / double(cg.M), rs = 1.0 / sqrt(v + eps);
  mean[c] = T(mu);
  var[c] = T(v);
  rstd[c] = T(rs);
  const T sc = T(w ? rs * double(w[c]) : rs);
  ss[2 * c] = sc;
  ss[2 * c + 1] = T((b ? double(b[c]) : 0.0) - mu * double(sc));
}

// y = x * ss[2c] + ss[2c + 1] over (N, C, HW); x and y contiguous.
template <typename T, typename Index>
__global__ void __launch_bounds__(kBlock)
    chan_affine_kernel(Index n, Index C, Index HW, const T* x, const T* ss, T* y) {
  const Index e = Index(blockIdx.x) * kBlock + Index(threadIdx.x);
  if (e >= n) return;
  const Index c = (e / HW) % C;
  y[e] = x[e] * ss[2 * c] + ss[2 * c + 1];
}

template <typename T>
void run_chan_affine(const Tensor& x, const T* ss, const Tensor& y, int64_t C, int64_t HW, const char* op) {
  const int64_t n = x.numel();
  const unsigned grid = grid_of((n + kBlock - 1) / kBlock, op);
  cudaStream_t s = current_stream_here();
  if (n <= INT32_MAX)
    chan_affine_kernel<T, int32_t><<<grid, kBlock, 0, s>>>(int32_t(n), int32_t(C), int32_t(HW), in_ptr<T>(x), ss,
                                                           out_ptr<T>(y));
  else
    chan_affine_kernel<T, int64_t><<<grid, kBlock, 0, s>>>(n, C, HW, in_ptr<T>(x), ss, out_ptr<T>(y));
  check_launch(op);
}

template <typename F>
void run_chan_sum(const ChanGeom& cg, const F& f, double* partial, const char* op) {
  chan_sum_kernel<F><<<grid_of(cg.C * cg.S, op), kBlock, 0, current_stream_here()>>>(cg, f, partial);
  check_launch(op);
}

struct BatchNormBody {
  const Tensor &x, &w, &b;
  double eps;
  const Tensor &y, &mean, &var, &rstd;
  template <typename T>
  void operator()() const {
    const char* op = "batch_norm";
    if (x.numel() == 0) return;
    const ChanGeom cg = chan_geom(x);
    Tensor hp, hm, hs;
    double* part = scratch_ptr<double>(hp, 2 * cg.C * cg.S);
    double* mu = scratch_ptr<double>(hm, cg.C);
    T* ss = scratch_ptr<T>(hs, 2 * cg.C);
    cudaStream_t s = current_stream_here();
    const unsigned cgrid = grid_of((cg.C + kBlock - 1) / kBlock, op);
    run_chan_sum(cg, SumX<T>{in_ptr<T>(x)}, part, op);
    bn_mean_kernel<<<cgrid, kBlock, 0, s>>>(cg, part, mu);
    check_launch(op);
    run_chan_sum(cg, SumSqDev<T>{in_ptr<T>(x), mu}, part, op);
    bn_stats_kernel<T><<<cgrid, kBlock, 0, s>>>(cg, part, mu, eps, in_ptr<T>(w), in_ptr<T>(b), out_ptr<T>(mean),
                                                out_ptr<T>(var), out_ptr<T>(rstd), ss);
    check_launch(op);
    run_chan_affine<T>(x, ss, y, cg.C, cg.HW, op);
  }
};

void batch_norm_cuda(const Tensor& x, const Tensor& w, const Tensor& b, double eps, const Tensor& y,
                     const Tensor& mean, const Tensor& var, const Tensor& rstd) {
  dispatch_cuda<kNNMask>(x.dtype(), "batch_norm", BatchNormBody{x, w, b, eps, y, mean, var, rstd});
}

// gw, gb and the gx coefficients of channel c: k[4c + {0, 1, 2, 3}] = k1, k2, k3, mean.
template <typename T>
__global__ void __launch_bounds__(kBlock)
    bn_backward_stats_kernel(ChanGeom cg, const double* partial, const T* w, const T* mean, const T* rstd, T* gw,
                             T* gb, T* k) {
  const int64_t c = int64_t(blockIdx.x) * kBlock + threadIdx.x;
  if (c >= cg.C) return;
  const Pair t = chan_total(cg, partial, c);
  const double sg = t.a, sgx = t.b, rs = double(rstd[c]), M = double(cg.M);
  if (gw) gw[c] = T(sgx * rs);
  if (gb) gb[c] = T(sg);
  const double wc = w ? double(w[c]) : 1.0;
  k[4 * c] = T(wc * rs);
  k[4 * c + 1] = T(sg / M);
  k[4 * c + 2] = T(sgx * rs * rs / M);
  k[4 * c + 3] = mean[c];
}

template <typename T, typename Index>
__global__ void __launch_bounds__(kBlock)
    bn_grad_input_kernel(Index n, Index C, Index HW, const T* g, const T* x, const T* k, T* gx) {
  const Index e = Index(blockIdx.x) * kBlock + Index(threadIdx.x);
  if (e >= n) return;
  const Index c = (e / HW) % C;
  const T k1 = k[4 * c], k2 = k[4 * c + 1], k3 = k[4 * c + 2], m = k[4 * c + 3];
  gx[e] = k1 * (g[e] - k2 - (x[e] - m) * k3);
}

struct BatchNormBackwardBody {
  const Tensor &g, &x, &w, &mean, &rstd, &gx, &gw, &gb;
  template <typename T>
  void operator()() const {
    const char* op = "batch_norm_backward";
    if (x.numel() == 0) return;
    const ChanGeom cg = chan_geom(x);
    Tensor hp, hk;
    double* part = scratch_ptr<double>(hp, 2 * cg.C * cg.S);
    T* k = scratch_ptr<T>(hk, 4 * cg.C);
    cudaStream_t s = current_stream_here();
    run_chan_sum(cg, SumGrad<T>{in_ptr<T>(g), in_ptr<T>(x), in_ptr<T>(mean)}, part, op);
    bn_backward_stats_kernel<T><<<grid_of((cg.C + kBlock - 1) / kBlock, op), kBlock, 0, s>>>(
        cg, part, in_ptr<T>(w), in_ptr<T>(mean), in_ptr<T>(rstd), out_ptr<T>(gw), out_ptr<T>(gb), k);
    check_launch(op);
    if (!gx.defined()) return;
    const int64_t n = x.numel();
    const unsigned grid = grid_of((n + kBlock - 1) / kBlock, op);
    if (n <= INT32_MAX)
      bn_grad_input_kernel<T, int32_t><<<grid, kBlock, 0, s>>>(int32_t(n), int32_t(cg.C), int32_t(cg.HW),
                                                               in_ptr<T>(g), in_ptr<T>(x), k, out_ptr<T>(gx));
    else
      bn_grad_input_kernel<T, int64_t><<<grid, kBlock, 0, s>>>(n, cg.C, cg.HW, in_ptr<T>(g), in_ptr<T>(x), k,
                                                               out_ptr<T>(gx));
    check_launch(op);
  }
};

void batch_norm_backward_cuda(const Tensor& g, const Tensor& x, const Tensor& w, const Tensor& mean,
                              const Tensor& rstd, const Tensor& gx, const Tensor& gw, const Tensor& gb) {
  dispatch_cuda<kNNMask>(x.dtype(), "batch_norm_backward", BatchNormBackwardBody{g, x, w, mean, rstd, gx, gw, gb});
}

// channel_affine: scale and shift (C,) interleaved into one table for chan_affine_kernel.
template <typename T>
__global__ void __launch_bounds__(kBlock) interleave_kernel(int64_t C, const T* sc, const T* sh, T* ss) {
  const int64_t c = int64_t(blockIdx.x) * kBlock + threadIdx.x;
  if (c >= C) return;
  ss[2 * c] = sc[c];
  ss[2 * c + 1] = sh[c];
}

struct ChannelAffineBody {
  const Tensor &x, &scale, &shift, &y;
  template <typename T>
  void operator()() const {
    const char* op = "batch_norm";
    if (x.numel() == 0) return;
    const int64_t N = x.sizes()[0], C = x.sizes()[1], HW = x.numel() / std::max<int64_t>(1, N * C);
    Tensor hs;
    T* ss = scratch_ptr<T>(hs, 2 * C);
    interleave_kernel<T><<<grid_of((C + kBlock - 1) / kBlock, op), kBlock, 0, current_stream_here()>>>(
        C, in_ptr<T>(scale), in_ptr<T>(shift), ss);
    check_launch(op);
    run_chan_affine<T>(x, ss, y, C, HW, op);
  }
};

void channel_affine_cuda(const Tensor& x, const Tensor& scale, const Tensor& shift, const Tensor& y) {
  dispatch_cuda<kNNMask>(x.dtype(), "batch_norm", ChannelAffineBody{x, scale, shift, y});
}

// ---- LSTM cell ---------------------------------------------------------------------------------
template <typename T>
__device__ __forceinline__ T sigm(T x) {
  return T(1) / (T(1) + d_exp(-x));
}

template <typename T>
__global__ void __launch_bounds__(kBlock)
    lstm_cell_kernel(int64_t n, int64_t H, const T* gates, const T* c, T* h, T* cn, T* acts) {
  const int64_t k = int64_t(blockIdx.x) * kBlock + threadIdx.x;
  if (k >= n) return;
  const int64_t r = k / H, j = k % H;
  const T* gr = gates + r * 4 * H;
  T* ar = acts + r * 4 * H;
  const T i = sigm(gr[j]), f = sigm(gr[H + j]), g = d_tanh(gr[2 * H + j]), o = sigm(gr[3 * H + j]);
  const T cv = f * c[k] + i * g;
  ar[j] = i;
  ar[H + j] = f;
  ar[2 * H + j] = g;
  ar[3 * H + j] = o;
  cn[k] = cv;
  h[k] = o * d_tanh(cv);
}

struct LstmBody {
  const Tensor &gates, &c, &h, &cn, &acts;
  template <typename T>
  void operator()() const {
    const int64_t n = c.numel(), H = c.sizes()[1];
    if (n == 0) return;
    lstm_cell_kernel<T><<<grid_of((n + kBlock - 1) / kBlock, "lstm_cell"), kBlock, 0, current_stream_here()>>>(
        n, H, in_ptr<T>(gates), in_ptr<T>(c), out_ptr<T>(h), out_ptr<T>(cn), out_ptr<T>(acts));
    check_launch("lstm_cell");
  }
};

void lstm_cell_cuda(const Tensor& gates, const Tensor& c, const Tensor& h_out, const Tensor& c_out,
                    const Tensor& acts) {
  dispatch_cuda<kNNMask>(c.dtype(), "lstm_cell", LstmBody{gates, c, h_out, c_out, acts});
}

template <typename T>
__global__ void __launch_bounds__(kBlock)
    lstm_cell_backward_kernel(int64_t n, int64_t H, const T* acts, const T* c, const T* cn, const T* gh,
                              const T* gc, T* gg, T* gcp) {
  const int64_t k = int64_t(blockIdx.x) * kBlock + threadIdx.x;
  if (k >= n) return;
  const int64_t r = k / H, j = k % H;
  const T* ar = acts + r * 4 * H;
  T* gr = gg + r * 4 * H;
  const T i = ar[j], f = ar[H + j], g = ar[2 * H + j], o = ar[3 * H + j];
  const T tc = d_tanh(cn[k]);
  const T dh = gh ? gh[k] : T(0);
  const T dc = (gc ? gc[k] : T(0)) + dh * o * (T(1) - tc * tc);
  gr[j] = dc * g * i * (T(1) - i);
  gr[H + j] = dc * c[k] * f * (T(1) - f);
  gr[2 * H + j] = dc * i * (T(1) - g * g);
  gr[3 * H + j] = dh * tc * o * (T(1) - o);
  gcp[k] = dc * f;
}

struct LstmBackwardBody {
  const Tensor &acts, &c, &c_new, &gh, &gc, &ggates, &gc_prev;
  template <typename T>
  void operator()() const {
    const int64_t n = c.numel(), H = c.sizes()[1];
    if (n == 0) return;
    lstm_cell_backward_kernel<T>
        <<<grid_of((n + kBlock - 1) / kBlock, "lstm_cell_backward"), kBlock, 0, current_stream_here()>>>(
            n, H, in_ptr<T>(acts), in_ptr<T>(c), in_ptr<T>(c_new), in_ptr<T>(gh), in_ptr<T>(gc), out_ptr<T>(ggates),
            out_ptr<T>(gc_prev));
    check_launch("lstm_cell_backward");
  }
};

void lstm_cell_backward_cuda(const Tensor& acts, const Tensor& c, const Tensor& c_new, const Tensor& gh,
                             const Tensor& gc, const Tensor& ggates, const Tensor& gc_prev) {
  dispatch_cuda<kNNMask>(c.dtype(), "lstm_cell_backward",
                         LstmBackwardBody{acts, c, c_new, gh, gc, ggates, gc_prev});
}

}  // namespace
}  // namespace cuda

EMBER_REGISTER_CUDA(max_pool_stub, cuda::max_pool_cuda);
EMBER_REGISTER_CUDA(avg_pool_stub, cuda::avg_pool_cuda);
EMBER_REGISTER_CUDA(row_norm_stub, cuda::row_norm_cuda);
EMBER_REGISTER_CUDA(row_norm_backward_stub, cuda::row_norm_backward_cuda);
EMBER_REGISTER_CUDA(batch_norm_stub, cuda::batch_norm_cuda);
EMBER_REGISTER_CUDA(batch_norm_backward_stub, cuda::batch_norm_backward_cuda);
EMBER_REGISTER_CUDA(channel_affine_stub, cuda::channel_affine_cuda);
EMBER_REGISTER_CUDA(lstm_cell_stub, cuda::lstm_cell_cuda);
EMBER_REGISTER_CUDA(lstm_cell_backward_stub, cuda::lstm_cell_backward_cuda);

}  // namespace ember
