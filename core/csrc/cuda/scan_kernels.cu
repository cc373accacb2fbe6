// CUDA kernels of the scans (ops/reduce.h's ScanPlan: the input as (outer, n, inner), the output
// contiguous): cumsum, cumprod, cummax/cummin (with indices) and logcumsumexp, the CPU's
// formulas and accumulator types. One thread per (outer, inner) line walks its n elements in
// order (coalesced across inner), so results are sequential sums like the CPU's.
// cumsum and cumprod over few long lines (fewer than kFewLines lines of at least kChunk * 4
// elements) split each line into chunks: chunk totals, a scan of the totals per line, then
// each chunk rescans from its prefix (integers exact; floats summed in double, in a different
// order from the CPU's). The other scans still take one thread per line.
#include <cmath>

#include "../ops/reduce.h"
#include "primitives.cuh"

namespace ember {
namespace cuda {
namespace {

constexpr int kScanThreads = 128;
constexpr int64_t kFewLines = 4096;
constexpr int64_t kChunk = 512;

struct Line {
  int64_t o, j;
};
__device__ __forceinline__ bool line_of(const ScanPlan& pl, Line& l) {
  const int64_t t = int64_t(blockIdx.x) * kScanThreads + threadIdx.x;
  if (t >= pl.outer * pl.inner) return false;
  l.o = t / pl.inner, l.j = t % pl.inner;
  return true;
}

template <typename In>
using Acc = std::conditional_t<std::is_floating_point_v<opmath_of<In>>, double, uint64_t>;

template <typename In, bool kProd>
__device__ __forceinline__ Acc<In> step(Acc<In> st, const char* p) {
  using A = Acc<In>;
  const opmath_of<In> x = Dev<In>::load(p);
  const A xa = std::is_same_v<A, double> ? A(double(x)) : A(int64_t(x));
  return kProd ? A(st * xa) : A(st + xa);
}

// Elements [i0, i1) of line (o, j) from state st; writes them when kWrite; returns the state.
template <typename In, typename Out, bool kProd, bool kWrite>
__device__ __forceinline__ Acc<In> scan_range(const ScanPlan& pl, int64_t o, int64_t j, int64_t i0, int64_t i1,
                                              Acc<In> st) {
  const char* in = pl.in + o * pl.s_outer + j * pl.s_inner;
  char* out = pl.out[0] + ((o * pl.n) * pl.inner + j) * int64_t(sizeof(Out));
  for (int64_t i = i0; i < i1; ++i) {
    st = step<In, kProd>(st, in + i * pl.s_n);
    if constexpr (kWrite) {
      using M = opmath_of<Out>;
      M v;
      if constexpr (std::is_same_v<Acc<In>, double>) v = convert<M>(st);
      else v = convert<M>(int64_t(st));
      Dev<Out>::store(out + i * pl.inner * int64_t(sizeof(Out)), v);
    }
  }
  return st;
}

template <typename In, typename Out, bool kProd>
__global__ void cum_arith_kernel(ScanPlan pl) {
  Line l;
  if (!line_of(pl, l)) return;
  scan_range<In, Out, kProd, true>(pl, l.o, l.j, 0, pl.n, kProd ? Acc<In>(1) : Acc<In>(0));
}

// Chunked form: thread (line, c) owns elements [c * kChunk, (c + 1) * kChunk) of its line.
template <typename In, bool kProd>
__global__ void cum_chunk_total_kernel(ScanPlan pl, int64_t chunks, Acc<In>* tot) {
  const int64_t t = int64_t(blockIdx.x) * kScanThreads + threadIdx.x;
  if (t >= pl.outer * pl.inner * chunks) return;
  const int64_t line = t / chunks, c = t % chunks;
  const int64_t i1 = (c + 1) * kChunk < pl.n ? (c + 1) * kChunk : pl.n;
  tot[t] = scan_range<In, In, kProd, false>(pl, line / pl.inner, line % pl.inner, c * kChunk, i1,
                                            kProd ? Acc<In>(1) : Acc<In>(0));
}

// Per line: tot becomes the exclusive prefix of the chunk totals.
template <typename A, bool kProd>
__global__ void cum_chunk_prefix_kernel(int64_t lines, int64_t chunks, A* tot) {
  const int64_t line = int64_t(blockIdx.x) * kScanThreads + threadIdx.x;
  if (line >= lines) return;
  A acc = kProd ? A(1) : A(0);
  for (int64_t c = 0; c < chunks; ++c) {
    const A v = tot[line * chunks + c];
    tot[line * chunks + c] = acc;
    acc = kProd ? A(acc * v) : A(acc + v);
  }
}

template <typename In, typename Out, bool kProd>
__global__ void cum_chunk_write_kernel(ScanPlan pl, int64_t chunks, const Acc<In>* prefix) {
  const int64_t t = int64_t(blockIdx.x) * kScanThreads + threadIdx.x;
  if (t >= pl.outer * pl.inner * chunks) return;
  const int64_t line = t / chunks, c = t % chunks;
  const int64_t i1 = (c + 1) * kChunk < pl.n ? (c + 1) * kChunk : pl.n;
  scan_range<In, Out, kProd, true>(pl, line / pl.inner, line % pl.inner, c * kChunk, i1, prefix[t]);
}

template <typename In, typename Out, bool kProd>
void run_cum(const ScanPlan& pl) {
  const char* name = kProd ? "cumprod" : "cumsum";
  cudaStream_t s = current_stream_here();
  const int64_t lines = pl.outer * pl.inner;
  if (lines >= kFewLines || pl.n < 4 * kChunk) {
    cum_arith_kernel<In, Out, kProd><<<blocks_for(lines, kScanThreads), kScanThreads, 0, s>>>(pl);
    return check_launch(name);
  }
  const int64_t chunks = (pl.n + kChunk - 1) / kChunk;
  Tensor h;
  Acc<In>* tot = scratch_ptr<Acc<In>>(h, lines * chunks);
  const unsigned grid = blocks_for(lines * chunks, kScanThreads);
  cum_chunk_total_kernel<In, kProd><<<grid, kScanThreads, 0, s>>>(pl, chunks, tot);
  check_launch(name);
  cum_chunk_prefix_kernel<Acc<In>, kProd><<<blocks_for(lines, kScanThreads), kScanThreads, 0, s>>>(lines, chunks, tot);
  check_launch(name);
  cum_chunk_write_kernel<In, Out, kProd><<<grid, kScanThreads, 0, s>>>(pl, chunks, tot);
  check_launch(name);
}

template <typename In, bool kMax>
__global__ void cumext_kernel(ScanPlan pl) {
  Line l;
  if (!line_of(pl, l)) return;
  using T = opmath_of<In>;
  T best = T(0);
  int64_t bi = -1;
  const char* in = pl.in + l.o * pl.s_outer + l.j * pl.s_inner;
  const int64_t base = (l.o * pl.n) * pl.inner + l.j;
  for (int64_t i = 0; i < pl.n; ++i) {
    const T x = Dev<In>::load(in + i * pl.s_n);
    bool take;
    if constexpr (std::is_floating_point_v<T>) take = bi < 0 || x != x || (best == best && (kMax ? x >= best : x <= best));
    else take = bi < 0 || (kMax ? x >= best : x <= best);
    if (take) best = x, bi = i;
    const int64_t e = base + i * pl.inner;
    Dev<In>::store(pl.out[0] + e * int64_t(sizeof(In)), best);
    reinterpret_cast<int64_t*>(pl.out[1])[e] = bi;
  }
}

template <typename In>
__global__ void logcumsumexp_kernel(ScanPlan pl) {
  Line l;
  if (!line_of(pl, l)) return;
  double a = -INFINITY;
  const char* in = pl.in + l.o * pl.s_outer + l.j * pl.s_inner;
  const int64_t base = (l.o * pl.n) * pl.inner + l.j;
  for (int64_t i = 0; i < pl.n; ++i) {
    const double x = double(Dev<In>::load(in + i * pl.s_n));
    const double m = fmax(a, x);
    double r;
    if (a != a || x != x) r = nan("");
    else if (isinf(m) && (a == x || m < 0)) r = m;
    else r = m + log1p(exp(-fabs(a - x)));
    a = r;
    Dev<In>::store(pl.out[0] + (base + i * pl.inner) * int64_t(sizeof(In)), opmath_of<In>(r));
  }
}

unsigned scan_grid(const ScanPlan& pl) { return unsigned((pl.outer * pl.inner + kScanThreads - 1) / kScanThreads); }
bool empty_plan(const ScanPlan& pl) { return pl.outer * pl.n * pl.inner == 0; }

template <bool kProd>
struct CumBody {
  const ScanPlan& pl;
  template <typename In>
  void operator()() const {
    if constexpr (std::is_integral_v<In>) {
      if (pl.out_dtype == ScalarType::Int64) return run_cum<In, int64_t, kProd>(pl);
    }
    run_cum<In, In, kProd>(pl);
  }
};
template <bool kProd>
void cum_cuda(const ScanPlan& pl) {
  if (!empty_plan(pl)) dispatch_cuda<kAllRealMask>(pl.in_dtype, kProd ? "cumprod" : "cumsum", CumBody<kProd>{pl});
}

template <bool kMax>
struct CumExtBody {
  const ScanPlan& pl;
  template <typename In>
  void operator()() const {
    cumext_kernel<In, kMax><<<scan_grid(pl), kScanThreads, 0, current_stream_here()>>>(pl);
    check_launch(kMax ? "cummax" : "cummin");
  }
};
template <bool kMax>
void cumext_cuda(const ScanPlan& pl) {
  if (!empty_plan(pl)) dispatch_cuda<kAllRealMask>(pl.in_dtype, kMax ? "cummax" : "cummin", CumExtBody<kMax>{pl});
}

struct LogcumsumexpBody {
  const ScanPlan& pl;
  template <typename In>
  void operator()() const {
    logcumsumexp_kernel<In><<<scan_grid(pl), kScanThreads, 0, current_stream_here()>>>(pl);
    check_launch("logcumsumexp");
  }
};
void logcumsumexp_cuda(const ScanPlan& pl) {
  if (!empty_plan(pl)) dispatch_cuda<kFloatMask>(pl.in_dtype, "logcumsumexp", LogcumsumexpBody{pl});
}

}  // namespace
}  // namespace cuda

EMBER_REGISTER_CUDA(scan_stubs[int(ScanOp::cumsum)], cuda::cum_cuda<false>);
EMBER_REGISTER_CUDA(scan_stubs[int(ScanOp::cumprod)], cuda::cum_cuda<true>);
EMBER_REGISTER_CUDA(scan_stubs[int(ScanOp::cummax)], cuda::cumext_cuda<true>);
EMBER_REGISTER_CUDA(scan_stubs[int(ScanOp::cummin)], cuda::cumext_cuda<false>);
EMBER_REGISTER_CUDA(scan_stubs[int(ScanOp::logcumsumexp)], cuda::logcumsumexp_cuda);

}  // namespace ember
