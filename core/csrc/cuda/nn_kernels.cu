// CUDA kernels of the convolution columns (im2col / col2im: float32, float64 and, unlike the
// CPU, 16-bit floats, which CUDA convolutions keep), softmax / log_softmax and nll_loss (ops/nn.h,
// float32 and float64 like the CPU's: the front ends compute 16-bit floats in float32).
//
//  - im2col: one thread per column element, in the column's memory order. col2im is a gather:
//    one thread per input element sums, in kernel-position order, the columns that read it
//    (no atomics, so results are run-to-run identical).
//  - softmax over (outer, n, inner): with inner == 1 one warp per row (max, sum of exp, then
//    the outputs); otherwise one thread per (outer, inner) column, coalesced across inner.
//  - nll_loss: one block sums the losses and weights in double in a fixed order; targets are
//    checked on the device and a bad one raises the CPU's IndexError.
#include <cmath>

#include "../ops/nn.h"
#include "math.cuh"
#include "primitives.cuh"

namespace ember {
namespace cuda {
namespace {

constexpr uint32_t kNNMask = tbit(ScalarType::Float32) | tbit(ScalarType::Float64);
constexpr int kThreads256 = 256;

// ---- im2col / col2im --------------------------------------------------------------------------
struct Geom {
  int64_t N, C;
  int64_t in[3], out[3], k[3], stride[3], pad[3], dil[3];
  int64_t kp, L, lin;
  bool batch_inner;
};
Geom geom_of(const ConvGeom& g, bool batch_inner) {
  Geom d;
  d.N = g.N, d.C = g.C;
  for (int i = 0; i < 3; ++i) {
    d.in[i] = g.in[i], d.out[i] = g.out[i], d.k[i] = g.k[i];
    d.stride[i] = g.stride[i], d.pad[i] = g.pad[i], d.dil[i] = g.dil[i];
  }
  d.kp = g.kprod(), d.L = g.lout(), d.lin = g.lin();
  d.batch_inner = batch_inner;
  return d;
}

template <typename T>
__global__ void im2col_kernel(const T* x, T* col, Geom g, int64_t total) {
  const int64_t t = int64_t(blockIdx.x) * kThreads256 + threadIdx.x;
  if (t >= total) return;
  const int64_t l = t % g.L;
  int64_t n, c, kk;
  if (g.batch_inner) {  // col (C * kp, N, L)
    n = (t / g.L) % g.N;
    const int64_t ck = t / (g.L * g.N);
    c = ck / g.kp, kk = ck % g.kp;
  } else {  // col (N, C * kp, L)
    const int64_t ck = (t / g.L) % (g.C * g.kp);
    n = t / (g.L * g.C * g.kp);
    c = ck / g.kp, kk = ck % g.kp;
  }
  const int64_t kd[3] = {kk / (g.k[1] * g.k[2]), (kk / g.k[2]) % g.k[1], kk % g.k[2]};
  const int64_t od[3] = {l / (g.out[1] * g.out[2]), (l / g.out[2]) % g.out[1], l % g.out[2]};
  int64_t off = 0;
  for (int d = 0; d < 3; ++d) {
    const int64_t i = od[d] * g.stride[d] - g.pad[d] + kd[d] * g.dil[d];
    if (i < 0 || i >= g.in[d]) {
      col[t] = T(0.0f);
      return;
    }
    off = off * g.in[d] + i;
  }
  col[t] = x[(n * g.C + c) * g.lin + off];
}

template <typename T>
__global__ void col2im_kernel(const T* col, T* x, Geom g, int64_t total) {
  const int64_t t = int64_t(blockIdx.x) * kThreads256 + threadIdx.x;
  if (t >= total) return;
  const int64_t p = t / g.lin, r = t % g.lin;  // p = n * C + c
  const int64_t n = p / g.C, c = p % g.C;
  const int64_t id[3] = {r / (g.in[1] * g.in[2]), (r / g.in[2]) % g.in[1], r % g.in[2]};
  opmath_of<T> acc = 0;
  for (int64_t k0 = 0; k0 < g.k[0]; ++k0) {
    const int64_t t0 = id[0] + g.pad[0] - k0 * g.dil[0];
    if (t0 < 0 || t0 % g.stride[0]) continue;
    const int64_t o0 = t0 / g.stride[0];
    if (o0 >= g.out[0]) continue;
    for (int64_t k1 = 0; k1 < g.k[1]; ++k1) {
      const int64_t t1 = id[1] + g.pad[1] - k1 * g.dil[1];
      if (t1 < 0 || t1 % g.stride[1]) continue;
      const int64_t o1 = t1 / g.stride[1];
      if (o1 >= g.out[1]) continue;
      for (int64_t k2 = 0; k2 < g.k[2]; ++k2) {
        const int64_t t2 = id[2] + g.pad[2] - k2 * g.dil[2];
        if (t2 < 0 || t2 % g.stride[2]) continue;
        const int64_t o2 = t2 / g.stride[2];
        if (o2 >= g.out[2]) continue;
        const int64_t kk = (k0 * g.k[1] + k1) * g.k[2] + k2, l = (o0 * g.out[1] + o1) * g.out[2] + o2;
        const int64_t ci = g.batch_inner ? ((c * g.kp + kk) * g.N + n) * g.L + l : (p * g.kp + kk) * g.L + l;
        acc += opmath_of<T>(col[ci]);
      }
    }
  }
  x[t] = T(acc);
}

struct ColBody {
  const Geom& g;
  const Tensor& x;
  const Tensor& col;
  bool to_col;
  template <typename T>
  void operator()() const {
    cudaStream_t s = current_stream_here();
    if (to_col) {
      const int64_t total = col.numel();
      im2col_kernel<T><<<blocks_for(total, kThreads256), kThreads256, 0, s>>>(x.data<T>(), col.data<T>(), g, total);
    } else {
      const int64_t total = x.numel();
      col2im_kernel<T><<<blocks_for(total, kThreads256), kThreads256, 0, s>>>(col.data<T>(), x.data<T>(), g, total);
    }
    check_launch("conv");
  }
};

void im2col_cuda(const ConvGeom& cg, const Tensor& x, const Tensor& col, bool batch_inner) {
  if (col.numel() == 0) return;
  const Geom g = geom_of(cg, batch_inner);
  dispatch_cuda<kNNMask | kF16Mask>(x.dtype(), "conv", ColBody{g, x, col, true});
}

void col2im_cuda(const ConvGeom& cg, const Tensor& col, const Tensor& x, bool batch_inner) {
  if (x.numel() == 0) return;
  const Geom g = geom_of(cg, batch_inner);
  dispatch_cuda<kNNMask | kF16Mask>(x.dtype(), "conv", ColBody{g, x, col, false});
}

// ---- softmax ------------------------------------------------------------------------------------
// One warp per row of n contiguous elements (inner == 1).
template <typename T>
__global__ void softmax_rows_kernel(const T* x, T* y, int64_t rows, int64_t n, bool log) {
  const int64_t row = int64_t(blockIdx.x) * (kThreads256 / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x & 31;
  if (row >= rows) return;
  const T* xr = x + row * n;
  T* yr = y + row * n;
  T m = -INFINITY;
  bool nan = false;
  for (int64_t i = lane; i < n; i += 32) {
    const T v = xr[i];
    nan |= v != v;
    m = v > m ? v : m;
  }
  m = warp_max(m);
  if (isinf(m) && m < 0) m = 0;  // an all -inf row: exp(-inf) = 0, the sum 0, the row nan as torch
  T s = 0;
  for (int64_t i = lane; i < n; i += 32) s += d_exp(T(xr[i] - m));
  s = warp_sum(s);
  if (__any_sync(0xFFFFFFFFu, nan)) s = T(NAN);  // a nan anywhere makes the row nan
  if (log) {
    const T c = T(double(m) + ::log(double(s)));
    for (int64_t i = lane; i < n; i += 32) yr[i] = xr[i] - c;
  } else {
    const T r = T(1.0 / double(s));
    for (int64_t i = lane; i < n; i += 32) yr[i] = d_exp(T(xr[i] - m)) * r;
  }
}

// One thread per (outer, inner) column of n elements `inner` apart.
template <typename T>
__global__ void softmax_cols_kernel(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool log) {
  const int64_t t = int64_t(blockIdx.x) * kThreads256 + threadIdx.x;
  if (t >= outer * inner) return;
  const int64_t off = (t / inner) * n * inner + t % inner;
  const T* xc = x + off;
  T* yc = y + off;
  T m = -INFINITY;
  bool nan = false;
  for (int64_t i = 0; i < n; ++i) {
    const T v = xc[i * inner];
    nan |= v != v;
    m = v > m ? v : m;
  }
  if (isinf(m) && m < 0) m = 0;
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(d_exp(T(xc[i * inner] - m)));
  if (nan) s = NAN;
  if (log) {
    const T c = T(double(m) + ::log(s));
    for (int64_t i = 0; i < n; ++i) yc[i * inner] = xc[i * inner] - c;
  } else {
    const T r = T(1.0 / s);
    for (int64_t i = 0; i < n; ++i) yc[i * inner] = d_exp(T(xc[i * inner] - m)) * r;
  }
}

template <typename T>
__global__ void softmax_backward_rows_kernel(const T* g, const T* y, T* gx, int64_t rows, int64_t n, bool log) {
  const int64_t row = int64_t(blockIdx.x) * (kThreads256 / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x & 31;
  if (row >= rows) return;
  const int64_t off = row * n;
  T s = 0;
  for (int64_t i = lane; i < n; i += 32) s += log ? g[off + i] : g[off + i] * y[off + i];
  s = warp_sum(s);
  for (int64_t i = lane; i < n; i += 32)
    gx[off + i] = log ? g[off + i] - d_exp(y[off + i]) * s : y[off + i] * (g[off + i] - s);
}

template <typename T>
__global__ void softmax_backward_cols_kernel(const T* g, const T* y, T* gx, int64_t outer, int64_t n, int64_t inner,
                                             bool log) {
  const int64_t t = int64_t(blockIdx.x) * kThreads256 + threadIdx.x;
  if (t >= outer * inner) return;
  const int64_t off = (t / inner) * n * inner + t % inner;
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t e = off + i * inner;
    s += log ? double(g[e]) : double(g[e]) * double(y[e]);
  }
  const T c = T(s);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t e = off + i * inner;
    gx[e] = log ? g[e] - d_exp(y[e]) * c : y[e] * (g[e] - c);
  }
}

struct SoftmaxBody {
  const Tensor& x;
  const Tensor& y;
  int64_t outer, n, inner;
  bool log;
  template <typename T>
  void operator()() const {
    cudaStream_t s = current_stream_here();
    if (inner == 1)
      softmax_rows_kernel<T><<<blocks_for(outer, kThreads256 / 32), kThreads256, 0, s>>>(x.data<T>(), y.data<T>(),
                                                                                         outer, n, log);
    else
      softmax_cols_kernel<T><<<blocks_for(outer * inner, kThreads256), kThreads256, 0, s>>>(
          x.data<T>(), y.data<T>(), outer, n, inner, log);
    check_launch(log ? "log_softmax" : "softmax");
  }
};
void softmax_cuda(const Tensor& x, const Tensor& y, int64_t outer, int64_t n, int64_t inner, bool log) {
  if (outer * n * inner == 0) return;
  dispatch_cuda<kNNMask>(x.dtype(), log ? "log_softmax" : "softmax", SoftmaxBody{x, y, outer, n, inner, log});
}

struct SoftmaxBackwardBody {
  const Tensor& g;
  const Tensor& y;
  const Tensor& gx;
  int64_t outer, n, inner;
  bool log;
  template <typename T>
  void operator()() const {
    cudaStream_t s = current_stream_here();
    if (inner == 1)
      softmax_backward_rows_kernel<T><<<blocks_for(outer, kThreads256 / 32), kThreads256, 0, s>>>(
          g.data<T>(), y.data<T>(), gx.data<T>(), outer, n, log);
    else
      softmax_backward_cols_kernel<T><<<blocks_for(outer * inner, kThreads256), kThreads256, 0, s>>>(
          g.data<T>(), y.data<T>(), gx.data<T>(), outer, n, inner, log);
    check_launch(log ? "log_softmax_backward" : "softmax_backward");
  }
};
void softmax_backward_cuda(const Tensor& g, const Tensor& y, const Tensor& gx, int64_t outer, int64_t n, int64_t inner,
                           bool log) {
  if (outer * n * inner == 0) return;
  dispatch_cuda<kNNMask>(y.dtype(), log ? "log_softmax_backward" : "softmax_backward",
                         SoftmaxBackwardBody{g, y, gx, outer, n, inner, log});
}

// ---- nll_loss -----------------------------------------------------------------------------------
constexpr int kNllThreads = 1024;

__global__ void nll_check_kernel(const int64_t* target, int64_t total, int64_t C, int64_t ignore,
                                 unsigned long long* first) {
  const int64_t i = int64_t(blockIdx.x) * kThreads256 + threadIdx.x;
  if (i >= total) return;
  const int64_t t = target[i];
  if (t != ignore && (t < 0 || t >= C)) atomicMin(first, (unsigned long long)i);
}

// One block: thread j takes elements j, j + 1024, ... in order, then a fixed tree.
template <typename T>
__global__ void __launch_bounds__(kNllThreads)
    nll_kernel(const T* logp, const int64_t* target, const T* weight, NllArgs a, T* out, T* total_weight) {
  __shared__ double st[kNllThreads], sw[kNllThreads];
  const int64_t total = a.N * a.K;
  double tot = 0, ws = 0;
  for (int64_t i = threadIdx.x; i < total; i += kNllThreads) {
    const int64_t n = i / a.K, k = i % a.K, t = target[i];
    double loss = 0, w = 0;
    if (t != a.ignore_index) {
      w = weight ? double(weight[t]) : 1.0;
      loss = -w * double(logp[(n * a.C + t) * a.K + k]);
    }
    if (a.reduction == 0) out[i] = T(loss);
    tot += loss;
    ws += w;
  }
  st[threadIdx.x] = tot, sw[threadIdx.x] = ws;
  __syncthreads();
  for (int k = kNllThreads / 2; k > 0; k >>= 1) {
    if (threadIdx.x < k) st[threadIdx.x] += st[threadIdx.x + k], sw[threadIdx.x] += sw[threadIdx.x + k];
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    if (a.reduction != 0) out[0] = T(a.reduction == 1 ? st[0] / sw[0] : st[0]);
    total_weight[0] = T(sw[0]);
  }
}

template <typename T>
__global__ void nll_backward_kernel(const T* g, const int64_t* target, const T* weight, const T* total_weight,
                                    NllArgs a, T* gx) {
  const int64_t i = int64_t(blockIdx.x) * kThreads256 + threadIdx.x;
  if (i >= a.N * a.K) return;
  const int64_t t = target[i];
  if (t == a.ignore_index) return;
  const int64_t n = i / a.K, k = i % a.K;
  const T scale = a.reduction == 1 ? T(1.0 / double(total_weight[0])) : T(1);
  const T gi = a.reduction == 0 ? g[i] : g[0] * scale;
  gx[(n * a.C + t) * a.K + k] = -(weight ? weight[t] : T(1)) * gi;
}

struct NllBody {
  const NllArgs& a;
  const Tensor &logp, &target, &weight, &out, &total_weight;
  template <typename T>
  void operator()() const {
    nll_kernel<T><<<1, kNllThreads, 0, current_stream_here()>>>(logp.data<T>(), target.data<int64_t>(),
                                                                 weight.defined() ? weight.data<T>() : nullptr, a,
                                                                 out.data<T>(), total_weight.data<T>());
    check_launch("nll_loss");
  }
};

void nll_cuda(const NllArgs& a, const Tensor& logp, const Tensor& target, const Tensor& weight, const Tensor& out,
              const Tensor& total_weight) {
  const int64_t total = a.N * a.K;
  if (total > 0) {
    Tensor h;
    auto* first = scratch_ptr<unsigned long long>(h, 1);
    memset_async(first, 0xFF, sizeof(unsigned long long));
    nll_check_kernel<<<blocks_for(total, kThreads256), kThreads256, 0, current_stream_here()>>>(
        target.data<int64_t>(), total, a.C, a.ignore_index, first);
    check_launch("nll_loss");
    const unsigned long long pos = read_one(first);
    if (pos != ~0ull) {
      const int64_t t = read_one(target.data<int64_t>() + pos);
      throw IndexError(str("[nll_loss] target ", t, " is out of bounds: expected class indices in [0, ", a.C,
                           ") or ignore_index ", a.ignore_index));
    }
  }
  dispatch_cuda<kNNMask>(logp.dtype(), "nll_loss", NllBody{a, logp, target, weight, out, total_weight});
}

struct NllBackwardBody {
  const NllArgs& a;
  const Tensor &g, &target, &weight, &total_weight, &gx;
  template <typename T>
  void operator()() const {
    memset_async(gx.raw_data(), 0, size_t(gx.numel()) * sizeof(T));
    const int64_t total = a.N * a.K;
    if (total == 0) return;
    nll_backward_kernel<T><<<blocks_for(total, kThreads256), kThreads256, 0, current_stream_here()>>>(
        g.data<T>(), target.data<int64_t>(), weight.defined() ? weight.data<T>() : nullptr, total_weight.data<T>(), a,
        gx.data<T>());
    check_launch("nll_loss_backward");
  }
};

void nll_backward_cuda(const NllArgs& a, const Tensor& g, const Tensor& target, const Tensor& weight,
                       const Tensor& total_weight, const Tensor& gx) {
  dispatch_cuda<kNNMask>(gx.dtype(), "nll_loss_backward", NllBackwardBody{a, g, target, weight, total_weight, gx});
}

}  // namespace
}  // namespace cuda

EMBER_REGISTER_CUDA(im2col_stub, cuda::im2col_cuda);
EMBER_REGISTER_CUDA(col2im_stub, cuda::col2im_cuda);
EMBER_REGISTER_CUDA(softmax_stub, cuda::softmax_cuda);
EMBER_REGISTER_CUDA(softmax_backward_stub, cuda::softmax_backward_cuda);
EMBER_REGISTER_CUDA(nll_stub, cuda::nll_cuda);
EMBER_REGISTER_CUDA(nll_backward_stub, cuda::nll_backward_cuda);

}  // namespace ember
