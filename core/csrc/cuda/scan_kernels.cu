// CUDA kernels of the scans (ops/reduce.h's ScanPlan: the input as (outer, n, inner), the output
// contiguous): cumsum, cumprod, cummax/cummin (with indices) and logcumsumexp, the CPU's
// formulas and accumulator types, each written once as a policy (a state, its identity, a step
// over one element, how a chunk's state combines after a prefix, and how a state is stored).
//
// Many lines (at least kFewLines, or short ones): one thread per (outer, inner) line walks its
// n elements in order (coalesced across inner), so results are the CPU's sequential ones.
// Few long lines: each line is cut into chunks of kChunk elements; a thread per chunk folds it,
// a thread per line combines the chunk states into exclusive prefixes in order, and a thread per
// chunk rescans from its prefix. Integer sums and the extrema are exact; float sums and
// logcumsumexp are summed in a different order from the CPU's (double accumulators).
#include <cmath>

#include "../ops/reduce.h"
#include "primitives.cuh"

namespace ember {
namespace cuda {
namespace {

constexpr int kScanThreads = 128;
constexpr int64_t kFewLines = 4096;
constexpr int64_t kChunk = 512;

// ---- policies ------------------------------------------------------------------------------------
template <typename In>
using Acc = std::conditional_t<std::is_floating_point_v<opmath_of<In>>, double, uint64_t>;

// cumsum / cumprod: Out is In, or int64 for integer inputs.
template <typename In, typename Out, bool kProd>
struct CumPolicy {
  using State = Acc<In>;
  static __device__ State identity() { return kProd ? State(1) : State(0); }
  static __device__ State op(State a, State b) { return kProd ? State(a * b) : State(a + b); }
  static __device__ State step(State st, const char* p, int64_t) {
    const opmath_of<In> x = Dev<In>::load(p);
    return op(st, std::is_same_v<State, double> ? State(double(x)) : State(int64_t(x)));
  }
  static __device__ State combine(State prefix, State chunk) { return op(prefix, chunk); }
  static __device__ void store(const ScanPlan& pl, int64_t e, State st) {
    using M = opmath_of<Out>;
    M v;
    if constexpr (std::is_same_v<State, double>) v = convert<M>(st);
    else v = convert<M>(int64_t(st));
    Dev<Out>::store(pl.out[0] + e * int64_t(sizeof(Out)), v);
  }
};

// cummax / cummin: the running extreme and its index (the latest among equals; NaN wins and
// then only a later NaN replaces it), as the CPU's.
template <typename In, bool kMax>
struct ExtPolicy {
  using T = opmath_of<In>;
  struct State {
    T best;
    int64_t bi;  // -1: no element yet
  };
  static __device__ State identity() { return State{T(0), -1}; }
  static __device__ State take(State st, T x, int64_t i) {
    bool t;
    if constexpr (std::is_floating_point_v<T>) t = st.bi < 0 || x != x || (st.best == st.best && (kMax ? x >= st.best : x <= st.best));
    else t = st.bi < 0 || (kMax ? x >= st.best : x <= st.best);
    return t ? State{x, i} : st;
  }
  static __device__ State step(State st, const char* p, int64_t i) { return take(st, Dev<In>::load(p), i); }
  static __device__ State combine(State prefix, State chunk) {
    return chunk.bi < 0 ? prefix : take(prefix, chunk.best, chunk.bi);
  }
  static __device__ void store(const ScanPlan& pl, int64_t e, State st) {
    Dev<In>::store(pl.out[0] + e * int64_t(sizeof(In)), st.best);
    reinterpret_cast<int64_t*>(pl.out[1])[e] = st.bi;
  }
};

// logcumsumexp in double with the CPU's handling of infinities and NaN.
template <typename In>
struct LogSumExpPolicy {
  using State = double;
  static __device__ State identity() { return -INFINITY; }
  static __device__ State add(double a, double x) {
    const double m = fmax(a, x);
    if (a != a || x != x) return nan("");
    if (isinf(m) && (a == x || m < 0)) return m;
    return m + log1p(exp(-fabs(a - x)));
  }
  static __device__ State step(State a, const char* p, int64_t) { return add(a, double(Dev<In>::load(p))); }
  static __device__ State combine(State prefix, State chunk) { return add(prefix, chunk); }
  static __device__ void store(const ScanPlan& pl, int64_t e, State st) {
    Dev<In>::store(pl.out[0] + e * int64_t(sizeof(In)), opmath_of<In>(st));
  }
};

// ---- the kernels, any policy ------------------------------------------------------------------------
// Elements [i0, i1) of line `line` from state st; stores them when kStore; returns the state.
template <typename P, bool kStore>
__device__ __forceinline__ typename P::State scan_range(const ScanPlan& pl, int64_t line, int64_t i0, int64_t i1,
                                                        typename P::State st) {
  const int64_t o = line / pl.inner, j = line % pl.inner;
  const char* in = pl.in + o * pl.s_outer + j * pl.s_inner;
  const int64_t base = (o * pl.n) * pl.inner + j;
  for (int64_t i = i0; i < i1; ++i) {
    st = P::step(st, in + i * pl.s_n, i);
    if constexpr (kStore) P::store(pl, base + i * pl.inner, st);
  }
  return st;
}

template <typename P>
__global__ void scan_lines_kernel(ScanPlan pl) {
  const int64_t line = int64_t(blockIdx.x) * kScanThreads + threadIdx.x;
  if (line < pl.outer * pl.inner) scan_range<P, true>(pl, line, 0, pl.n, P::identity());
}

// Thread (line, c) owns elements [c * kChunk, (c + 1) * kChunk) of its line.
template <typename P>
__global__ void scan_chunk_kernel(ScanPlan pl, int64_t chunks, typename P::State* st, bool store) {
  const int64_t t = int64_t(blockIdx.x) * kScanThreads + threadIdx.x;
  if (t >= pl.outer * pl.inner * chunks) return;
  const int64_t line = t / chunks, c = t % chunks;
  const int64_t i1 = (c + 1) * kChunk < pl.n ? (c + 1) * kChunk : pl.n;
  if (store) scan_range<P, true>(pl, line, c * kChunk, i1, st[t]);
  else st[t] = scan_range<P, false>(pl, line, c * kChunk, i1, P::identity());
}

// Per line, in order: each chunk's state becomes the combination of the chunks before it.
template <typename P>
__global__ void scan_prefix_kernel(int64_t lines, int64_t chunks, typename P::State* st) {
  const int64_t line = int64_t(blockIdx.x) * kScanThreads + threadIdx.x;
  if (line >= lines) return;
  typename P::State acc = P::identity();
  for (int64_t c = 0; c < chunks; ++c) {
    const typename P::State v = st[line * chunks + c];
    st[line * chunks + c] = acc;
    acc = P::combine(acc, v);
  }
}

template <typename P>
void run_scan(const ScanPlan& pl, const char* name) {
  if (pl.outer * pl.n * pl.inner == 0) return;
  cudaStream_t s = current_stream_here();
  const int64_t lines = pl.outer * pl.inner;
  if (lines >= kFewLines || pl.n < 4 * kChunk) {
    scan_lines_kernel<P><<<blocks_for(lines, kScanThreads), kScanThreads, 0, s>>>(pl);
    return check_launch(name);
  }
  const int64_t chunks = (pl.n + kChunk - 1) / kChunk;
  Tensor h;
  typename P::State* st = scratch_ptr<typename P::State>(h, lines * chunks);
  const unsigned grid = blocks_for(lines * chunks, kScanThreads);
  scan_chunk_kernel<P><<<grid, kScanThreads, 0, s>>>(pl, chunks, st, false);
  check_launch(name);
  scan_prefix_kernel<P><<<blocks_for(lines, kScanThreads), kScanThreads, 0, s>>>(lines, chunks, st);
  check_launch(name);
  scan_chunk_kernel<P><<<grid, kScanThreads, 0, s>>>(pl, chunks, st, true);
  check_launch(name);
}

template <bool kProd>
struct CumBody {
  const ScanPlan& pl;
  template <typename In>
  void operator()() const {
    const char* name = kProd ? "cumprod" : "cumsum";
    if constexpr (std::is_integral_v<In>) {
      if (pl.out_dtype == ScalarType::Int64) return run_scan<CumPolicy<In, int64_t, kProd>>(pl, name);
    }
    run_scan<CumPolicy<In, In, kProd>>(pl, name);
  }
};
template <bool kProd>
void cum_cuda(const ScanPlan& pl) {
  dispatch_cuda<kAllRealMask>(pl.in_dtype, kProd ? "cumprod" : "cumsum", CumBody<kProd>{pl});
}

template <bool kMax>
struct CumExtBody {
  const ScanPlan& pl;
  template <typename In>
  void operator()() const { run_scan<ExtPolicy<In, kMax>>(pl, kMax ? "cummax" : "cummin"); }
};
template <bool kMax>
void cumext_cuda(const ScanPlan& pl) {
  dispatch_cuda<kAllRealMask>(pl.in_dtype, kMax ? "cummax" : "cummin", CumExtBody<kMax>{pl});
}

struct LogcumsumexpBody {
  const ScanPlan& pl;
  template <typename In>
  void operator()() const { run_scan<LogSumExpPolicy<In>>(pl, "logcumsumexp"); }
};
void logcumsumexp_cuda(const ScanPlan& pl) {
  dispatch_cuda<kFloatMask>(pl.in_dtype, "logcumsumexp", LogcumsumexpBody{pl});
}

}  // namespace
}  // namespace cuda

EMBER_REGISTER_CUDA(scan_stubs[int(ScanOp::cumsum)], cuda::cum_cuda<false>);
EMBER_REGISTER_CUDA(scan_stubs[int(ScanOp::cumprod)], cuda::cum_cuda<true>);
EMBER_REGISTER_CUDA(scan_stubs[int(ScanOp::cummax)], cuda::cumext_cuda<true>);
EMBER_REGISTER_CUDA(scan_stubs[int(ScanOp::cummin)], cuda::cumext_cuda<false>);
EMBER_REGISTER_CUDA(scan_stubs[int(ScanOp::logcumsumexp)], cuda::logcumsumexp_cuda);

}  // namespace ember
