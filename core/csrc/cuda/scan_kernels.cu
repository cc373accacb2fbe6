// CUDA kernels of the scans (ops/reduce.h's ScanPlan: the input as (outer, n, inner), the output
// contiguous): cumsum, cumprod, cummax/cummin (with indices) and logcumsumexp, the CPU's
// formulas and accumulator types. One thread per (outer, inner) line walks its n elements in
// order (coalesced across inner), so results are sequential sums like the CPU's. A single long
// line (inner = outer = 1) runs on one thread: correct, not fast; a parallel (decoupled
// look-back) scan is the next step for those.
#include <cmath>

#include "../ops/reduce.h"
#include "loop.cuh"

namespace ember {
namespace cuda {
namespace {

constexpr int kScanThreads = 128;

struct Line {
  int64_t o, j;
};
__device__ __forceinline__ bool line_of(const ScanPlan& pl, Line& l) {
  const int64_t t = int64_t(blockIdx.x) * kScanThreads + threadIdx.x;
  if (t >= pl.outer * pl.inner) return false;
  l.o = t / pl.inner, l.j = t % pl.inner;
  return true;
}

template <typename In, typename Out, bool kProd>
__global__ void cum_arith_kernel(ScanPlan pl) {
  Line l;
  if (!line_of(pl, l)) return;
  using A = std::conditional_t<std::is_floating_point_v<opmath_of<In>>, double, uint64_t>;
  A st = kProd ? A(1) : A(0);
  const char* in = pl.in + l.o * pl.s_outer + l.j * pl.s_inner;
  char* out = pl.out[0] + ((l.o * pl.n) * pl.inner + l.j) * int64_t(sizeof(Out));
  for (int64_t i = 0; i < pl.n; ++i) {
    const opmath_of<In> x = Dev<In>::load(in + i * pl.s_n);
    const A xa = std::is_same_v<A, double> ? A(double(x)) : A(int64_t(x));
    st = kProd ? A(st * xa) : A(st + xa);
    using M = opmath_of<Out>;
    M v;
    if constexpr (std::is_same_v<A, double>) v = convert<M>(st);
    else v = convert<M>(int64_t(st));
    Dev<Out>::store(out + i * pl.inner * int64_t(sizeof(Out)), v);
  }
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
      if (pl.out_dtype == ScalarType::Int64) {
        cum_arith_kernel<In, int64_t, kProd><<<scan_grid(pl), kScanThreads, 0, current_stream_here()>>>(pl);
        return check_launch(kProd ? "cumprod" : "cumsum");
      }
    }
    cum_arith_kernel<In, In, kProd><<<scan_grid(pl), kScanThreads, 0, current_stream_here()>>>(pl);
    check_launch(kProd ? "cumprod" : "cumsum");
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
