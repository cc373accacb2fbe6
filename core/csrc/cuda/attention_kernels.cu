// Fused scaled-dot-product attention on CUDA (ops/nn.h, AttnArgs), float32 and float64 (the
// front end computes 16-bit inputs in float32), head dims up to 256. Flash-attention's scheme
// in a simple form: O(L + S) memory, no score matrix.
//
//  - forward: one warp per query row; lane t holds elements t, t + 32, ... of the row's q and
//    output (V = ceil(head dim / 32) each). Key/value tiles of up to kMaxTile rows are staged in
//    shared memory for the block's kWarps rows; a score is a warp-shuffle sum of the lanes'
//    partial dot products, and every lane runs the CPU kernel's online softmax (running max,
//    rescaled sum and output), then the row's output and log-sum-exp are written.
//  - backward, without atomics (run-to-run identical): D = rowsum(dO * O); one kernel gives dQ
//    (a warp per query row over key tiles), another dK and dV (a warp per key row over query
//    tiles), each recomputing the probabilities from the saved log-sum-exp.
// Causal masks keep keys j <= i (top-left), as the CPU; an additive mask is read at
// mask_off[bh] + i * mask_ls + j * mask_ss. Fully masked rows give NaN, as the CPU.
#include <cmath>

#include "../ops/nn.h"
#include "math.cuh"
#include "primitives.cuh"

namespace ember {
namespace cuda {
namespace {

constexpr int kWarps = 8;  // rows per block
constexpr int kMaxTile = 32;
constexpr int kSmemBytes = 40 * 1024;

template <typename T>
struct TypeTag {
  using type = T;
};

struct DArgs {
  int64_t L, S, E, Ev;
  double scale;
  bool causal;
  const void* mask;  // T*
  const int64_t* mask_off;
  int64_t mask_ls, mask_ss;
  int tile;  // key (or query) rows per shared tile
};

template <typename T>
__device__ __forceinline__ T score_extra(const DArgs& a, int64_t bh, int64_t i, int64_t j) {
  if (a.causal && j > i) return T(-INFINITY);
  if (a.mask) return reinterpret_cast<const T*>(a.mask)[a.mask_off[bh] + i * a.mask_ls + j * a.mask_ss];
  return T(0);
}

// Lane `lane`'s V elements of a row of n (zeros past n).
template <typename T, int V>
__device__ __forceinline__ void load_row(T (&r)[V], const T* row, int64_t n, int lane) {
#pragma unroll
  for (int u = 0; u < V; ++u) {
    const int64_t d = lane + 32 * u;
    r[u] = d < n ? row[d] : T(0);
  }
}
template <typename T, int V>
__device__ __forceinline__ T dot_row(const T (&r)[V], const T* row, int64_t n, int lane) {
  T s = 0;
#pragma unroll
  for (int u = 0; u < V; ++u) {
    const int64_t d = lane + 32 * u;
    if (d < n) s += r[u] * row[d];
  }
  return warp_sum(s);
}
template <typename T, int V>
__device__ __forceinline__ void axpy_row(T (&acc)[V], T w, const T* row, int64_t n, int lane) {
#pragma unroll
  for (int u = 0; u < V; ++u) {
    const int64_t d = lane + 32 * u;
    if (d < n) acc[u] += w * row[d];
  }
}
template <typename T, int V>
__device__ __forceinline__ void store_row(const T (&r)[V], T* row, int64_t n, int lane) {
#pragma unroll
  for (int u = 0; u < V; ++u) {
    const int64_t d = lane + 32 * u;
    if (d < n) row[d] = r[u];
  }
}

// Stages rows [r0, r0 + cnt) of a (rows, width) matrix into shared memory.
template <typename T>
__device__ __forceinline__ void stage(T* dst, const T* src, int64_t r0, int cnt, int64_t width) {
  for (int64_t e = threadIdx.x; e < int64_t(cnt) * width; e += kWarps * 32) dst[e] = src[r0 * width + e];
}

template <typename T, int V>
__global__ void __launch_bounds__(kWarps * 32)
    attn_forward_kernel(DArgs a, const T* q, const T* k, const T* v, T* o, T* lse) {
  extern __shared__ unsigned char smem_raw[];
  T* sk = reinterpret_cast<T*>(smem_raw);
  T* sv = sk + a.tile * a.E;
  const int lane = threadIdx.x & 31;
  const int64_t bh = blockIdx.y;
  const int64_t i = int64_t(blockIdx.x) * kWarps + threadIdx.x / 32;
  const bool live = i < a.L;
  T qr[V], acc[V];
  load_row(qr, q + (bh * a.L + (live ? i : 0)) * a.E, live ? a.E : 0, lane);
#pragma unroll
  for (int u = 0; u < V; ++u) acc[u] = T(0);
  T m = T(-INFINITY), l = T(0);
  const int64_t last = std::min<int64_t>(a.L, int64_t(blockIdx.x + 1) * kWarps) - 1;
  const int64_t jend = a.causal ? std::min<int64_t>(a.S, last + 1) : a.S;
  for (int64_t j0 = 0; j0 < jend; j0 += a.tile) {
    const int bk = int(std::min<int64_t>(a.tile, jend - j0));
    __syncthreads();
    stage(sk, k + bh * a.S * a.E, j0, bk, a.E);
    stage(sv, v + bh * a.S * a.Ev, j0, bk, a.Ev);
    __syncthreads();
    if (!live) continue;
    T sc[kMaxTile];
    T mx = m;
#pragma unroll
    for (int c = 0; c < kMaxTile; ++c) {
      if (c >= bk) break;
      const T s = dot_row(qr, sk + c * a.E, a.E, lane) * T(a.scale) + score_extra<T>(a, bh, i, j0 + c);
      sc[c] = s;
      mx = s > mx ? s : mx;
    }
    const T base = isinf(mx) && mx < 0 ? T(0) : mx;
    const T corr = isinf(m) && m < 0 ? T(0) : d_exp(T(m - base));
#pragma unroll
    for (int u = 0; u < V; ++u) acc[u] *= corr;
    T sum = 0;
#pragma unroll
    for (int c = 0; c < kMaxTile; ++c) {
      if (c >= bk) break;
      const T p = d_exp(T(sc[c] - base));
      sum += p;
      axpy_row(acc, p, sv + c * a.Ev, a.Ev, lane);
    }
    l = l * corr + sum;
    m = mx;
  }
  if (!live) return;
  const T inv = T(1) / l;
#pragma unroll
  for (int u = 0; u < V; ++u) acc[u] = l == T(0) ? T(NAN) : acc[u] * inv;
  store_row(acc, o + (bh * a.L + i) * a.Ev, a.Ev, lane);
  if (lane == 0) lse[bh * a.L + i] = isinf(m) && m < 0 ? m : m + T(::log(double(l)));
}

// D[r] = sum_c dO[r, c] * O[r, c]
template <typename T>
__global__ void attn_rowdot_kernel(const T* go, const T* o, int64_t rows, int64_t Ev, T* D) {
  const int64_t r = int64_t(blockIdx.x) * 256 + threadIdx.x;
  if (r >= rows) return;
  T d = 0;
  for (int64_t c = 0; c < Ev; ++c) d += go[r * Ev + c] * o[r * Ev + c];
  D[r] = d;
}

// dQ: a warp per query row, over key tiles.
template <typename T, int V>
__global__ void __launch_bounds__(kWarps * 32)
    attn_dq_kernel(DArgs a, const T* q, const T* k, const T* v, const T* lse, const T* Dv, const T* go, T* gq) {
  extern __shared__ unsigned char smem_raw[];
  T* sk = reinterpret_cast<T*>(smem_raw);
  T* sv = sk + a.tile * a.E;
  const int lane = threadIdx.x & 31;
  const int64_t bh = blockIdx.y;
  const int64_t i = int64_t(blockIdx.x) * kWarps + threadIdx.x / 32;
  const bool live = i < a.L;
  const int64_t ri = bh * a.L + (live ? i : 0);
  T qr[V], gr[V], dq[V];
  load_row(qr, q + ri * a.E, live ? a.E : 0, lane);
  load_row(gr, go + ri * a.Ev, live ? a.Ev : 0, lane);
#pragma unroll
  for (int u = 0; u < V; ++u) dq[u] = T(0);
  const T lr = lse[ri], dr = Dv[ri];
  const int64_t last = std::min<int64_t>(a.L, int64_t(blockIdx.x + 1) * kWarps) - 1;
  const int64_t jend = a.causal ? std::min<int64_t>(a.S, last + 1) : a.S;
  for (int64_t j0 = 0; j0 < jend; j0 += a.tile) {
    const int bk = int(std::min<int64_t>(a.tile, jend - j0));
    __syncthreads();
    stage(sk, k + bh * a.S * a.E, j0, bk, a.E);
    stage(sv, v + bh * a.S * a.Ev, j0, bk, a.Ev);
    __syncthreads();
    if (!live) continue;
    for (int c = 0; c < bk; ++c) {
      const T s = dot_row(qr, sk + c * a.E, a.E, lane) * T(a.scale) + score_extra<T>(a, bh, i, j0 + c);
      const T dp = dot_row(gr, sv + c * a.Ev, a.Ev, lane);
      const T p = d_exp(T(s - lr));
      const T ds = p == T(0) ? T(0) : p * (dp - dr) * T(a.scale);
      axpy_row(dq, ds, sk + c * a.E, a.E, lane);
    }
  }
  if (live) store_row(dq, gq + ri * a.E, a.E, lane);
}

// dK, dV: a warp per key row, over query tiles (q, dO, lse and D staged in shared memory).
template <typename T, int V>
__global__ void __launch_bounds__(kWarps * 32) attn_dkdv_kernel(DArgs a, const T* q, const T* k, const T* v,
                                                                const T* lse, const T* Dv, const T* go, T* gk, T* gv) {
  extern __shared__ unsigned char smem_raw[];
  T* sq = reinterpret_cast<T*>(smem_raw);
  T* sg = sq + a.tile * a.E;
  T* sl = sg + a.tile * a.Ev;
  T* sd = sl + a.tile;
  const int lane = threadIdx.x & 31;
  const int64_t bh = blockIdx.y;
  const int64_t j = int64_t(blockIdx.x) * kWarps + threadIdx.x / 32;
  const bool live = j < a.S;
  const int64_t rj = bh * a.S + (live ? j : 0);
  T kr[V], vr[V], dk[V], dv[V];
  load_row(kr, k + rj * a.E, live ? a.E : 0, lane);
  load_row(vr, v + rj * a.Ev, live ? a.Ev : 0, lane);
#pragma unroll
  for (int u = 0; u < V; ++u) dk[u] = dv[u] = T(0);
  // causal: queries before this block's first key see none of its keys
  const int64_t i_begin = a.causal ? std::min<int64_t>(a.L, int64_t(blockIdx.x) * kWarps) : 0;
  for (int64_t i0 = i_begin; i0 < a.L; i0 += a.tile) {
    const int bq = int(std::min<int64_t>(a.tile, a.L - i0));
    __syncthreads();
    stage(sq, q + bh * a.L * a.E, i0, bq, a.E);
    stage(sg, go + bh * a.L * a.Ev, i0, bq, a.Ev);
    for (int64_t e = threadIdx.x; e < bq; e += kWarps * 32) {
      sl[e] = lse[bh * a.L + i0 + e];
      sd[e] = Dv[bh * a.L + i0 + e];
    }
    __syncthreads();
    if (!live) continue;
    for (int r = 0; r < bq; ++r) {
      const int64_t i = i0 + r;
      if (a.causal && j > i) continue;
      const T s = dot_row(kr, sq + r * a.E, a.E, lane) * T(a.scale) + score_extra<T>(a, bh, i, j);
      const T dp = dot_row(vr, sg + r * a.Ev, a.Ev, lane);
      const T p = d_exp(T(s - sl[r]));
      const T ds = p == T(0) ? T(0) : p * (dp - sd[r]) * T(a.scale);
      axpy_row(dv, p, sg + r * a.Ev, a.Ev, lane);
      axpy_row(dk, ds, sq + r * a.E, a.E, lane);
    }
  }
  if (!live) return;
  store_row(dk, gk + rj * a.E, a.E, lane);
  store_row(dv, gv + rj * a.Ev, a.Ev, lane);
}

DArgs device_args(const AttnArgs& a, int64_t elem, int64_t extra_per_row, Tensor& keep) {
  DArgs d;
  d.L = a.L, d.S = a.S, d.E = a.E, d.Ev = a.Ev;
  d.scale = a.scale;
  d.causal = a.causal;
  d.mask = a.mask ? a.mask->raw_data() : nullptr;
  d.mask_off = a.mask ? upload_vector(keep, a.mask_off) : nullptr;
  d.mask_ls = a.mask_ls, d.mask_ss = a.mask_ss;
  const int64_t row_bytes = (a.E + a.Ev + extra_per_row) * elem;
  d.tile = int(std::max<int64_t>(1, std::min<int64_t>(kMaxTile, kSmemBytes / row_bytes)));
  return d;
}

// Runs body.template operator()<T, V>() with V = elements per lane of the head-dim bucket
// (32, 64, 128 or 256) that holds max(E, Ev).
template <typename Body>
void by_head_dim(const AttnArgs& a, ScalarType t, Body&& body) {
  const int64_t e = std::max(a.E, a.Ev);
  EMBER_CHECK(e <= 256, NotImplementedError, "[scaled_dot_product_attention] CUDA kernels take head dims up to 256, got ",
              e);
  auto run = [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (e <= 32) body.template operator()<T, 1>();
    else if (e <= 64) body.template operator()<T, 2>();
    else if (e <= 128) body.template operator()<T, 4>();
    else body.template operator()<T, 8>();
  };
  if (t == ScalarType::Float32) run(TypeTag<float>{});
  else if (t == ScalarType::Float64) run(TypeTag<double>{});
  else throw NotImplementedError(str("[scaled_dot_product_attention] no CUDA kernel for ", t, " tensors yet"));
}

struct ForwardBody {
  const AttnArgs& a;
  const Tensor &q, &k, &v, &out, &lse;
  template <typename T, int V>
  void operator()() const {
    Tensor keep;
    const DArgs d = device_args(a, sizeof(T), 0, keep);
    const size_t smem = size_t(d.tile) * size_t(a.E + a.Ev) * sizeof(T);
    const dim3 grid(unsigned((a.L + kWarps - 1) / kWarps), unsigned(a.BH));
    attn_forward_kernel<T, V><<<grid, kWarps * 32, smem, current_stream_here()>>>(d, q.data<T>(), k.data<T>(), v.data<T>(),
                                                                           out.data<T>(), lse.data<T>());
    check_launch("scaled_dot_product_attention");
  }
};

void attn_forward_cuda(const AttnArgs& a, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                       const Tensor& lse) {
  if (a.BH == 0 || a.L == 0) return;
  EMBER_CHECK(a.BH <= 65535, NotImplementedError, "[scaled_dot_product_attention] at most 65535 batch*heads on CUDA");
  by_head_dim(a, q.dtype(), ForwardBody{a, q, k, v, out, lse});
}

struct BackwardBody {
  const AttnArgs& a;
  const Tensor &q, &k, &v, &out, &lse, &go, &gq, &gk, &gv;
  template <typename T, int V>
  void operator()() const {
    cudaStream_t s = current_stream_here();
    Tensor hd;
    T* Dv = scratch_ptr<T>(hd, a.BH * a.L);
    attn_rowdot_kernel<T><<<blocks_for(a.BH * a.L, 256), 256, 0, s>>>(go.data<T>(), out.data<T>(), a.BH * a.L, a.Ev,
                                                                       Dv);
    check_launch("scaled_dot_product_attention");
    Tensor keep1, keep2;
    const DArgs dq = device_args(a, sizeof(T), 0, keep1);
    attn_dq_kernel<T, V><<<dim3(unsigned((a.L + kWarps - 1) / kWarps), unsigned(a.BH)), kWarps * 32,
                           size_t(dq.tile) * size_t(a.E + a.Ev) * sizeof(T), s>>>(
        dq, q.data<T>(), k.data<T>(), v.data<T>(), lse.data<T>(), Dv, go.data<T>(), gq.data<T>());
    check_launch("scaled_dot_product_attention");
    const DArgs dkv = device_args(a, sizeof(T), 2, keep2);
    attn_dkdv_kernel<T, V><<<dim3(unsigned((a.S + kWarps - 1) / kWarps), unsigned(a.BH)), kWarps * 32,
                             size_t(dkv.tile) * size_t(a.E + a.Ev + 2) * sizeof(T), s>>>(
        dkv, q.data<T>(), k.data<T>(), v.data<T>(), lse.data<T>(), Dv, go.data<T>(), gk.data<T>(), gv.data<T>());
    check_launch("scaled_dot_product_attention");
  }
};

void attn_backward_cuda(const AttnArgs& a, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                        const Tensor& lse, const Tensor& gout, const Tensor& gq, const Tensor& gk, const Tensor& gv) {
  EMBER_CHECK(a.BH <= 65535, NotImplementedError, "[scaled_dot_product_attention] at most 65535 batch*heads on CUDA");
  by_head_dim(a, q.dtype(), BackwardBody{a, q, k, v, out, lse, gout, gq, gk, gv});
}

}  // namespace
}  // namespace cuda

EMBER_REGISTER_CUDA(attn_forward_stub, cuda::attn_forward_cuda);
EMBER_REGISTER_CUDA(attn_backward_stub, cuda::attn_backward_cuda);

}  // namespace ember
