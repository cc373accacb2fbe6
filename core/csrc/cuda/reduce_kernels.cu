// CUDA kernels of the reductions over a ReducePlan (ops/reduce.h): sum, nansum, mean, nanmean,
// prod, amax, amin, argmax, argmin (the first index of the extreme, NaN first), aminmax, all, any,
// count_nonzero, norm and var/std (Welford, merged with Chan's formula).
// Floats accumulate in double and integers in (wrapping) 64 bits, as on the CPU.
//
// Row layout (the reduced run is contiguous): a block of threads per (output, split) strides
// over its share of the reduced elements (coalesced), reduces in shared memory and writes the
// result, or a partial when an output is split over several blocks (large full reductions),
// which a second kernel combines in order. Col layout (the kept run is contiguous): a thread per
// output walks the reduced elements (coalesced across the threads of a warp), split over
// blockIdx.y for short outputs with long reductions. Results do not depend on timing: each
// split's partial is combined in a fixed order.
#include <cfloat>

#include "../ops/reduce.h"
#include "loop.cuh"

namespace ember {
namespace cuda {
namespace {

constexpr int kRedThreads = 256;

struct RedGeom {
  int kdim, rdim;
  int64_t ksize[kCudaDims], kin[kCudaDims], kout[kCudaDims];
  int64_t rsize[kCudaDims], rin[kCudaDims];
  int64_t n_out, n_red;
};

__device__ __forceinline__ void kept_offsets(const RedGeom& g, int64_t o, int64_t& in_off, int64_t& out_off) {
  in_off = 0, out_off = 0;
  for (int d = g.kdim - 1; d >= 0; --d) {
    const int64_t c = o % g.ksize[d];
    o /= g.ksize[d];
    in_off += c * g.kin[d];
    out_off += c * g.kout[d];
  }
}
__device__ __forceinline__ int64_t red_offset(const RedGeom& g, int64_t r) {
  if (g.rdim == 1) return r * g.rin[0];
  int64_t off = 0;
  for (int d = g.rdim - 1; d >= 0; --d) {
    const int64_t c = r % g.rsize[d];
    r /= g.rsize[d];
    off += c * g.rin[d];
  }
  return off;
}

// Stores v (double or 64-bit integer) as element o of an output of dtype t.
template <typename V>
__device__ void put(ScalarType t, char* p, int64_t o, V v) {
  switch (t) {
    case ScalarType::Bool: reinterpret_cast<bool*>(p)[o] = v != V(0); break;
    case ScalarType::UInt8: reinterpret_cast<uint8_t*>(p)[o] = uint8_t(int64_t(v)); break;
    case ScalarType::Int8: reinterpret_cast<int8_t*>(p)[o] = int8_t(int64_t(v)); break;
    case ScalarType::Int16: reinterpret_cast<int16_t*>(p)[o] = int16_t(int64_t(v)); break;
    case ScalarType::Int32: reinterpret_cast<int32_t*>(p)[o] = int32_t(int64_t(v)); break;
    case ScalarType::Int64: reinterpret_cast<int64_t*>(p)[o] = int64_t(v); break;
    case ScalarType::Float16: reinterpret_cast<__half*>(p)[o] = __double2half(double(v)); break;
    case ScalarType::BFloat16: reinterpret_cast<__nv_bfloat16*>(p)[o] = __float2bfloat16_rn(float(double(v))); break;
    case ScalarType::Float32: reinterpret_cast<float*>(p)[o] = float(double(v)); break;
    case ScalarType::Float64: reinterpret_cast<double*>(p)[o] = double(v); break;
    default: break;
  }
}

struct Outs {
  char* p[2];
  ScalarType t[2];
};

template <typename In>
using red_acc_t = std::conditional_t<std::is_floating_point_v<opmath_of<In>>, double, uint64_t>;

template <typename In>
__device__ __forceinline__ red_acc_t<In> to_red(opmath_of<In> x) {
  if constexpr (std::is_same_v<red_acc_t<In>, double>) return double(x);
  else return uint64_t(int64_t(x));
}

// ---- the ops: identity, reduce(acc, opmath value), combine, store ----------------------------
template <typename In, bool kNan>
struct SumR {
  using acc = red_acc_t<In>;
  double scale;
  bool mean;
  __device__ acc identity() const { return acc(0); }
  __device__ acc reduce(acc a, opmath_of<In> x, int64_t) const {
    if constexpr (kNan && std::is_floating_point_v<opmath_of<In>>) {
      if (x != x) return a;
    }
    return a + to_red<In>(x);
  }
  __device__ acc combine(acc a, acc b) const { return a + b; }
  __device__ void store(const Outs& w, int64_t o, acc a) const {
    if constexpr (std::is_same_v<acc, double>) put(w.t[0], w.p[0], o, mean ? a * scale : a);
    else put(w.t[0], w.p[0], o, int64_t(a));
  }
};

struct MeanAcc {
  double s, n;
};
template <typename In>
struct NanMeanR {
  using acc = MeanAcc;
  __device__ acc identity() const { return {0, 0}; }
  __device__ acc reduce(acc a, opmath_of<In> x, int64_t) const {
    const double v = double(x);
    return v != v ? a : acc{a.s + v, a.n + 1};
  }
  __device__ acc combine(acc a, acc b) const { return {a.s + b.s, a.n + b.n}; }
  __device__ void store(const Outs& w, int64_t o, acc a) const { put(w.t[0], w.p[0], o, a.s / a.n); }
};

template <typename In>
struct ProdR {
  using acc = red_acc_t<In>;
  __device__ acc identity() const { return acc(1); }
  __device__ acc reduce(acc a, opmath_of<In> x, int64_t) const { return a * to_red<In>(x); }
  __device__ acc combine(acc a, acc b) const { return a * b; }
  __device__ void store(const Outs& w, int64_t o, acc a) const {
    if constexpr (std::is_same_v<acc, double>) put(w.t[0], w.p[0], o, a);
    else put(w.t[0], w.p[0], o, int64_t(a));
  }
};

template <typename In, bool kMax>
struct MinMaxR {  // NaN propagates (a NaN wins and sticks)
  using acc = opmath_of<In>;
  __device__ acc identity() const {
    if constexpr (std::is_same_v<acc, bool>) return !kMax;
    else if constexpr (std::is_floating_point_v<acc>) return kMax ? acc(-INFINITY) : acc(INFINITY);
    else return kMax ? std::numeric_limits<acc>::lowest() : std::numeric_limits<acc>::max();
  }
  __device__ acc reduce(acc a, acc v, int64_t = 0) const {
    if constexpr (std::is_same_v<acc, bool>) return kMax ? (a || v) : (a && v);
    else if constexpr (std::is_floating_point_v<acc>) {
      if (a != a) return a;
      if (v != v) return v;
    }
    if constexpr (!std::is_same_v<acc, bool>) return kMax ? (v > a ? v : a) : (v < a ? v : a);
  }
  __device__ acc combine(acc a, acc b) const { return reduce(a, b); }
  __device__ void store(const Outs& w, int64_t o, acc a) const {
    if constexpr (std::is_floating_point_v<acc>) put(w.t[0], w.p[0], o, double(a));
    else put(w.t[0], w.p[0], o, int64_t(a));
  }
};

template <typename In, bool kAll>
struct AllAnyR {
  using acc = bool;
  __device__ acc identity() const { return kAll; }
  __device__ acc reduce(acc a, opmath_of<In> x, int64_t) const { return kAll ? (a && x != opmath_of<In>(0)) : (a || x != opmath_of<In>(0)); }
  __device__ acc combine(acc a, acc b) const { return kAll ? (a && b) : (a || b); }
  __device__ void store(const Outs& w, int64_t o, acc a) const { put(w.t[0], w.p[0], o, int64_t(a)); }
};

template <typename In>
struct CountNonzeroR {
  using acc = uint64_t;
  __device__ acc identity() const { return 0; }
  __device__ acc reduce(acc a, opmath_of<In> x, int64_t) const { return a + (x != opmath_of<In>(0)); }
  __device__ acc combine(acc a, acc b) const { return a + b; }
  __device__ void store(const Outs& w, int64_t o, acc a) const { put(w.t[0], w.p[0], o, int64_t(a)); }
};

struct VarAcc {
  double n, mean, m2;
};
template <typename In>
struct VarR {
  using acc = VarAcc;
  double correction;
  bool take_sqrt;
  int nout;
  __device__ acc identity() const { return {0, 0, 0}; }
  __device__ acc reduce(acc a, opmath_of<In> x, int64_t) const {
    const double v = double(x), n = a.n + 1, d = v - a.mean, mean = a.mean + d / n;
    return {n, mean, a.m2 + d * (v - mean)};
  }
  __device__ acc combine(acc a, acc b) const {
    if (a.n == 0) return b;
    if (b.n == 0) return a;
    const double n = a.n + b.n, d = b.mean - a.mean, f = b.n / n;
    return {n, a.mean + d * f, a.m2 + b.m2 + d * d * a.n * f};
  }
  __device__ void store(const Outs& w, int64_t o, acc a) const {
    const double div = fmax(0.0, a.n - correction), v = a.m2 / div;
    put(w.t[0], w.p[0], o, take_sqrt ? sqrt(v) : v);
    if (nout == 2) put(w.t[1], w.p[1], o, a.n == 0 ? nan("") : a.mean);
  }
};

// argmax / argmin: the first index of the extreme; NaN is the extreme (the first NaN wins).
template <typename In, bool kMax>
struct ArgR {
  using T = opmath_of<In>;
  struct acc {
    T v;
    int64_t i;
  };
  int nout;
  static __device__ bool better(T a, T b) {  // a strictly beats b
    if constexpr (std::is_same_v<T, bool>) return kMax ? (a && !b) : (!a && b);
    else if constexpr (std::is_integral_v<T>) return kMax ? a > b : a < b;
    else return (kMax ? a > b : a < b) || (a != a && b == b);
  }
  __device__ acc identity() const { return {T(0), -1}; }
  __device__ acc reduce(acc a, T v, int64_t i) const { return (a.i < 0 || better(v, a.v)) ? acc{v, i} : a; }
  __device__ acc combine(acc a, acc b) const {
    if (a.i < 0) return b;
    if (b.i < 0) return a;
    if (better(b.v, a.v)) return b;
    if (better(a.v, b.v)) return a;
    return b.i < a.i ? b : a;
  }
  __device__ void store(const Outs& w, int64_t o, acc a) const {
    if (nout == 2) {
      if constexpr (std::is_floating_point_v<T>) put(w.t[0], w.p[0], o, double(a.v));
      else put(w.t[0], w.p[0], o, int64_t(a.v));
      put(w.t[1], w.p[1], o, a.i);
    } else {
      put(w.t[0], w.p[0], o, a.i);
    }
  }
};

// aminmax: out0 the minimum, out1 the maximum (NaN propagates to both).
template <typename In>
struct AMinMaxR {
  using T = opmath_of<In>;
  struct acc {
    T lo, hi;
  };
  MinMaxR<In, false> mn;
  MinMaxR<In, true> mx;
  __device__ acc identity() const { return {mn.identity(), mx.identity()}; }
  __device__ acc reduce(acc a, T v, int64_t) const { return {mn.reduce(a.lo, v), mx.reduce(a.hi, v)}; }
  __device__ acc combine(acc a, acc b) const { return {mn.reduce(a.lo, b.lo), mx.reduce(a.hi, b.hi)}; }
  __device__ void store(const Outs& w, int64_t o, acc a) const {
    if constexpr (std::is_floating_point_v<T>) {
      put(w.t[0], w.p[0], o, double(a.lo));
      put(w.t[1], w.p[1], o, double(a.hi));
    } else {
      put(w.t[0], w.p[0], o, int64_t(a.lo));
      put(w.t[1], w.p[1], o, int64_t(a.hi));
    }
  }
};

// norm: p = 2, 1, inf, -inf, 0 (count of non-zeros) or any other p; NaN propagates through
// inf/-inf as in vmax/vmin on the CPU.
template <typename In>
struct NormR {
  using acc = double;
  double p;
  __device__ acc identity() const { return p == -INFINITY ? INFINITY : 0.0; }
  __device__ acc reduce(acc a, opmath_of<In> x, int64_t) const {
    const double v = fabs(double(x));
    if (p == 2) return a + v * v;
    if (p == 1) return a + v;
    if (p == INFINITY) return (v != v) ? v : (v > a ? v : a);
    if (p == -INFINITY) return (v != v) ? v : (v < a ? v : a);
    if (p == 0) return a + (double(x) != 0.0 ? 1.0 : 0.0);
    return a + pow(v, p);
  }
  __device__ acc combine(acc a, acc b) const {
    if (p == INFINITY) return (b != b) ? b : (b > a ? b : a);
    if (p == -INFINITY) return (b != b) ? b : (b < a ? b : a);
    return a + b;
  }
  __device__ void store(const Outs& w, int64_t o, acc a) const {
    const double r = p == 2 ? sqrt(a) : (p == 1 || p == 0 || p == INFINITY || p == -INFINITY) ? a : pow(a, 1.0 / p);
    put(w.t[0], w.p[0], o, r);
  }
};

// ---- kernels ---------------------------------------------------------------------------------
template <typename Op>
__device__ typename Op::acc block_reduce(typename Op::acc a, const Op& op) {
  using A = typename Op::acc;
  __shared__ __align__(16) unsigned char raw[kRedThreads * sizeof(A)];
  A* sh = reinterpret_cast<A*>(raw);
  sh[threadIdx.x] = a;
  __syncthreads();
  for (int w = kRedThreads / 2; w > 0; w >>= 1) {
    if (int(threadIdx.x) < w) sh[threadIdx.x] = op.combine(sh[threadIdx.x], sh[threadIdx.x + w]);
    __syncthreads();
  }
  return sh[0];
}

template <typename Op, typename In>
__global__ void __launch_bounds__(kRedThreads)
    row_reduce_kernel(const char* in, RedGeom g, int splits, int64_t chunk, typename Op::acc* partial, Op op,
                      Outs out) {
  const int64_t o = int64_t(blockIdx.x) / splits;
  const int s = int(blockIdx.x % unsigned(splits));
  int64_t in_off, out_off;
  kept_offsets(g, o, in_off, out_off);
  const int64_t r0 = s * chunk, r1 = min(g.n_red, r0 + chunk);
  typename Op::acc a = op.identity();
  const char* base = in + in_off;
  for (int64_t r = r0 + threadIdx.x; r < r1; r += kRedThreads) a = op.reduce(a, Dev<In>::load(base + red_offset(g, r)), r);
  a = block_reduce(a, op);
  if (threadIdx.x == 0) {
    if (splits == 1) op.store(out, out_off, a);
    else partial[blockIdx.x] = a;
  }
}

template <typename Op>
__global__ void finish_kernel(RedGeom g, int splits, const typename Op::acc* partial, Op op, Outs out) {
  const int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (o >= g.n_out) return;
  int64_t in_off, out_off;
  kept_offsets(g, o, in_off, out_off);
  typename Op::acc a = partial[o * splits];
  for (int s = 1; s < splits; ++s) a = op.combine(a, partial[o * splits + s]);
  op.store(out, out_off, a);
}

// Col: thread per output; blockIdx.y splits the reduced range; partial[(o) * splits + s].
template <typename Op, typename In>
__global__ void __launch_bounds__(kRedThreads)
    col_reduce_kernel(const char* in, RedGeom g, int splits, int64_t chunk, typename Op::acc* partial, Op op, Outs out) {
  const int64_t o = int64_t(blockIdx.x) * kRedThreads + threadIdx.x;
  if (o >= g.n_out) return;
  const int s = int(blockIdx.y);
  int64_t in_off, out_off;
  kept_offsets(g, o, in_off, out_off);
  const int64_t r0 = s * chunk, r1 = min(g.n_red, r0 + chunk);
  typename Op::acc a = op.identity();
  const char* base = in + in_off;
  for (int64_t r = r0; r < r1; ++r) a = op.reduce(a, Dev<In>::load(base + red_offset(g, r)), r);
  if (splits == 1) op.store(out, out_off, a);
  else partial[o * splits + s] = a;
}

int sm_count() {
  static int n = [] {
    int dev = 0, v = 0;
    cudaGetDevice(&dev);
    if (cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess) {
      cudaGetLastError();
      v = 100;
    }
    return v;
  }();
  return n;
}

template <typename In, typename Op>
void run_reduce(const char* name, const ReducePlan& pl, const Op& op) {
  if (pl.n_out == 0) return;
  EMBER_CHECK(pl.kdim <= kCudaDims && pl.rdim <= kCudaDims, NotImplementedError, "[", name,
              "] CUDA reductions take at most ", kCudaDims, " kept and reduced dims");
  RedGeom g;
  g.kdim = pl.kdim, g.rdim = pl.rdim, g.n_out = pl.n_out, g.n_red = pl.n_red;
  for (int d = 0; d < pl.kdim; ++d) g.ksize[d] = pl.ksize[d], g.kin[d] = pl.kin[d], g.kout[d] = pl.kout[d];
  for (int d = 0; d < pl.rdim; ++d) g.rsize[d] = pl.rsize[d], g.rin[d] = pl.rin[d];
  Outs out{{pl.out[0], pl.out[1]}, {pl.out_dtype[0], pl.out_dtype[1]}};
  int dev = 0;
  check_cuda(cudaGetDevice(&dev), "cudaGetDevice");
  cudaStream_t s = current_stream_here();
  using A = typename Op::acc;
  const int64_t target = 4 * int64_t(sm_count());  // blocks to fill the GPU
  const bool col = pl.layout == ReduceLayout::Col && pl.n_out > 1;
  const int64_t out_blocks = col ? (pl.n_out + kRedThreads - 1) / kRedThreads : pl.n_out;
  int64_t splits = 1;
  if (out_blocks < target && pl.n_red > 4096)
    splits = std::min<int64_t>((target + out_blocks - 1) / out_blocks, (pl.n_red + 4095) / 4096);
  splits = std::min<int64_t>(splits, 65535);
  const int64_t chunk = (pl.n_red + splits - 1) / splits;
  Tensor partial;
  A* part = nullptr;
  if (splits > 1) {
    partial = empty({int64_t(pl.n_out * splits * int64_t(sizeof(A)))}, ScalarType::UInt8, Device(DeviceType::CUDA, dev));
    part = reinterpret_cast<A*>(partial.raw_data());
  }
  if (col) {
    col_reduce_kernel<Op, In><<<dim3(unsigned(out_blocks), unsigned(splits)), kRedThreads, 0, s>>>(
        pl.in, g, int(splits), chunk, part, op, out);
  } else {
    EMBER_CHECK(pl.n_out * splits <= INT32_MAX, NotImplementedError, "[", name, "] too many outputs for one CUDA launch");
    row_reduce_kernel<Op, In><<<dim3(unsigned(pl.n_out * splits)), kRedThreads, 0, s>>>(pl.in, g, int(splits), chunk,
                                                                                       part, op, out);
  }
  check_launch(name);
  if (splits > 1) {
    finish_kernel<Op><<<dim3(unsigned((pl.n_out + 255) / 256)), 256, 0, s>>>(g, int(splits), part, op, out);
    check_launch(name);
  }
}

template <template <typename> class OpT>
struct Simple {  // ops without parameters
  const ReducePlan& pl;
  const char* name;
  template <typename In>
  void operator()() const { run_reduce<In>(name, pl, OpT<In>{}); }
};
template <typename In> using NanSumR = SumR<In, true>;
template <typename In> using AmaxR = MinMaxR<In, true>;
template <typename In> using AminR = MinMaxR<In, false>;
template <typename In> using AllR = AllAnyR<In, true>;
template <typename In> using AnyR = AllAnyR<In, false>;

struct SumBody {
  const ReducePlan& pl;
  bool mean;
  template <typename In>
  void operator()() const {
    run_reduce<In>(mean ? "mean" : "sum", pl, SumR<In, false>{1.0 / double(pl.n_red), mean});
  }
};
struct NanSumBody {
  const ReducePlan& pl;
  template <typename In>
  void operator()() const { run_reduce<In>("nansum", pl, SumR<In, true>{1.0, false}); }
};
struct NormBody {
  const ReducePlan& pl;
  template <typename In>
  void operator()() const { run_reduce<In>("norm", pl, NormR<In>{pl.p[0]}); }
};

template <bool kMax>
struct ArgBody {
  const ReducePlan& pl;
  template <typename In>
  void operator()() const { run_reduce<In>(kMax ? "argmax" : "argmin", pl, ArgR<In, kMax>{pl.nout}); }
};

struct VarBody {
  const ReducePlan& pl;
  template <typename In>
  void operator()() const { run_reduce<In>("var", pl, VarR<In>{pl.p[0], pl.p[1] != 0, pl.nout}); }
};

void sum_cuda(const ReducePlan& pl) { dispatch_cuda<kAllRealMask>(pl.in_dtype, "sum", SumBody{pl, false}); }
void nansum_cuda(const ReducePlan& pl) { dispatch_cuda<kAllRealMask>(pl.in_dtype, "nansum", NanSumBody{pl}); }
void mean_cuda(const ReducePlan& pl) { dispatch_cuda<kFloatMask>(pl.in_dtype, "mean", SumBody{pl, true}); }
void nanmean_cuda(const ReducePlan& pl) { dispatch_cuda<kFloatMask>(pl.in_dtype, "nanmean", Simple<NanMeanR>{pl, "nanmean"}); }
void prod_cuda(const ReducePlan& pl) { dispatch_cuda<kAllRealMask>(pl.in_dtype, "prod", Simple<ProdR>{pl, "prod"}); }
void amax_cuda(const ReducePlan& pl) { dispatch_cuda<kAllRealMask>(pl.in_dtype, "amax", Simple<AmaxR>{pl, "amax"}); }
void amin_cuda(const ReducePlan& pl) { dispatch_cuda<kAllRealMask>(pl.in_dtype, "amin", Simple<AminR>{pl, "amin"}); }
void all_cuda(const ReducePlan& pl) { dispatch_cuda<kAllRealMask>(pl.in_dtype, "all", Simple<AllR>{pl, "all"}); }
void any_cuda(const ReducePlan& pl) { dispatch_cuda<kAllRealMask>(pl.in_dtype, "any", Simple<AnyR>{pl, "any"}); }
void count_nonzero_cuda(const ReducePlan& pl) {
  dispatch_cuda<kAllRealMask>(pl.in_dtype, "count_nonzero", Simple<CountNonzeroR>{pl, "count_nonzero"});
}
void argmax_cuda(const ReducePlan& pl) { dispatch_cuda<kAllRealMask>(pl.in_dtype, "argmax", ArgBody<true>{pl}); }
void argmin_cuda(const ReducePlan& pl) { dispatch_cuda<kAllRealMask>(pl.in_dtype, "argmin", ArgBody<false>{pl}); }
void aminmax_cuda(const ReducePlan& pl) {
  dispatch_cuda<kAllRealMask>(pl.in_dtype, "aminmax", Simple<AMinMaxR>{pl, "aminmax"});
}
void norm_cuda(const ReducePlan& pl) { dispatch_cuda<kFloatMask>(pl.in_dtype, "norm", NormBody{pl}); }
void var_cuda(const ReducePlan& pl) { dispatch_cuda<kFloatMask>(pl.in_dtype, "var", VarBody{pl}); }

}  // namespace
}  // namespace cuda

EMBER_REGISTER_CUDA(reduce_stubs[int(ReduceOp::sum)], cuda::sum_cuda);
EMBER_REGISTER_CUDA(reduce_stubs[int(ReduceOp::nansum)], cuda::nansum_cuda);
EMBER_REGISTER_CUDA(reduce_stubs[int(ReduceOp::mean)], cuda::mean_cuda);
EMBER_REGISTER_CUDA(reduce_stubs[int(ReduceOp::nanmean)], cuda::nanmean_cuda);
EMBER_REGISTER_CUDA(reduce_stubs[int(ReduceOp::prod)], cuda::prod_cuda);
EMBER_REGISTER_CUDA(reduce_stubs[int(ReduceOp::amax)], cuda::amax_cuda);
EMBER_REGISTER_CUDA(reduce_stubs[int(ReduceOp::amin)], cuda::amin_cuda);
EMBER_REGISTER_CUDA(reduce_stubs[int(ReduceOp::all)], cuda::all_cuda);
EMBER_REGISTER_CUDA(reduce_stubs[int(ReduceOp::any)], cuda::any_cuda);
EMBER_REGISTER_CUDA(reduce_stubs[int(ReduceOp::count_nonzero)], cuda::count_nonzero_cuda);
EMBER_REGISTER_CUDA(reduce_stubs[int(ReduceOp::var)], cuda::var_cuda);
EMBER_REGISTER_CUDA(reduce_stubs[int(ReduceOp::argmax)], cuda::argmax_cuda);
EMBER_REGISTER_CUDA(reduce_stubs[int(ReduceOp::argmin)], cuda::argmin_cuda);
EMBER_REGISTER_CUDA(reduce_stubs[int(ReduceOp::aminmax)], cuda::aminmax_cuda);
EMBER_REGISTER_CUDA(reduce_stubs[int(ReduceOp::norm)], cuda::norm_cuda);

}  // namespace ember
