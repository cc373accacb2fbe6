// CUDA kernels of the index family (ops/index.h): index checks and offsets, the (P, J, Q)
// gather and put of advanced indexing, gather/scatter along a dim, and nonzero.
//
// Bounds: index tensors are checked on the device; the first bad index (in the iteration
// order, as on the CPU) is found with an atomicMin on its position and read back, so a bad
// index is a Python IndexError with the CPU's message, not a device assert that loses the
// context. That read-back waits for the stream once per checked op.
//
// Determinism, as on the CPU: gathers run one thread per element. Writes that may hit one
// element with several index positions never split those positions among threads: either
// a thread owns a whole destination line (all (p, q) or scatter lines) and walks its index
// positions in order, or, when there are too few such lines to fill the GPU, the positions
// are stably sorted by destination and one thread walks each run of equal destinations in
// index order. The last write wins and sums run in index order, whatever the launch shape.
#include "../ops/creation.h"
#include "../ops/index.h"
#include "primitives.cuh"

namespace ember {
namespace cuda {
namespace {

constexpr int kIdxThreads = 256;
// Below this many independent destination lines, writes go through the sorted path.
constexpr int64_t kEnoughLines = 1 << 15;

__device__ __forceinline__ int64_t load_idx(const char* p, bool is32) {
  return is32 ? int64_t(*reinterpret_cast<const int32_t*>(p)) : *reinterpret_cast<const int64_t*>(p);
}

// Host mirror of OffsetCalc::get for reporting one element.
int64_t host_offset(const ElementwiseIter& it, int k, int64_t linear) {
  int64_t off = 0;
  for (int d = 0; d < it.ndim; ++d) {
    off += (linear % it.shape[d]) * it.strides[k][d];
    linear /= it.shape[d];
  }
  return off;
}

void check_dims(const char* op, const ElementwiseIter& it) {
  EMBER_CHECK(it.ndim <= kCudaDims, NotImplementedError, "[", op, "] CUDA kernels take at most ", kCudaDims,
              " non-contiguous dims, got ", it.ndim, ": make the index contiguous first");
}

// The first bad position (atomicMin target) back on the host; -1 when none, else the value
// of operand k there in *bad.
int64_t report_first(const unsigned long long* first, const ElementwiseIter& it, int k, int64_t* bad) {
  const unsigned long long pos = read_one(first);
  if (pos == ~0ull) return -1;
  const char* at = it.data[k] + host_offset(it, k, int64_t(pos));
  if (it.dtypes[k] == ScalarType::Int32) *bad = read_one(reinterpret_cast<const int32_t*>(at));
  else *bad = read_one(reinterpret_cast<const int64_t*>(at));
  return int64_t(pos);
}

__global__ void index_check_kernel(const char* base, OffsetCalc<1, int64_t> oc, int64_t n, bool is32, int64_t lo,
                                   int64_t size, unsigned long long* first) {
  const int64_t i = int64_t(blockIdx.x) * kIdxThreads + threadIdx.x;
  if (i >= n) return;
  int64_t off;
  oc.get(i, &off);
  const int64_t v = load_idx(base + off, is32);
  if (v < lo || v >= size) atomicMin(first, (unsigned long long)i);
}

int64_t index_check_cuda(ElementwiseIter& it, int64_t size, bool allow_negative, int64_t* bad) {
  if (it.numel == 0) return -1;
  check_dims("index", it);
  Tensor h;
  auto* first = scratch_ptr<unsigned long long>(h, 1);
  memset_async(first, 0xFF, sizeof(unsigned long long));
  index_check_kernel<<<blocks_for(it.numel, kIdxThreads), kIdxThreads, 0, current_stream_here()>>>(
      it.data[0], make_offsets<1, int64_t>(it), it.numel, it.dtypes[0] == ScalarType::Int32,
      allow_negative ? -size : 0, size, first);
  check_launch("index");
  return report_first(first, it, 0, bad);
}

__global__ void index_offsets_kernel(char* offs, const char* idx, OffsetCalc<2, int64_t> oc, int64_t n, bool is32,
                                     int64_t size, int64_t stride, bool add, unsigned long long* first) {
  const int64_t i = int64_t(blockIdx.x) * kIdxThreads + threadIdx.x;
  if (i >= n) return;
  int64_t off[2];
  oc.get(i, off);
  const int64_t v = load_idx(idx + off[1], is32);
  const bool good = v >= -size && v < size;
  if (!good) atomicMin(first, (unsigned long long)i);
  const int64_t w = good ? (v < 0 ? v + size : v) * stride : 0;
  int64_t* o = reinterpret_cast<int64_t*>(offs + off[0]);
  *o = add ? *o + w : w;
}

int64_t index_offsets_cuda(ElementwiseIter& it, int64_t size, int64_t stride, bool add, int64_t* bad) {
  if (it.numel == 0) return -1;
  check_dims("index", it);
  Tensor h;
  auto* first = scratch_ptr<unsigned long long>(h, 1);
  memset_async(first, 0xFF, sizeof(unsigned long long));
  index_offsets_kernel<<<blocks_for(it.numel, kIdxThreads), kIdxThreads, 0, current_stream_here()>>>(
      it.data[0], it.data[1], make_offsets<2, int64_t>(it), it.numel, it.dtypes[1] == ScalarType::Int32, size, stride,
      add, first);
  check_launch("index");
  return report_first(first, it, 1, bad);
}

// ---- (P, J, Q) gather and put ---------------------------------------------------------------

// A DimMap on the device: i * stride, or table[i].
struct DMap {
  int64_t n = 1, stride = 0;
  const int64_t* table = nullptr;
  __device__ __forceinline__ int64_t at(int64_t i) const { return table ? table[i] : i * stride; }
};

// Index position j -> element offset into x.
struct DOff {
  const int64_t* table = nullptr;
  const char* idx = nullptr;
  bool is32 = false;
  int64_t size = 0, stride = 0;
  __device__ __forceinline__ int64_t operator()(int64_t j) const {
    if (table) return table[j];
    const int64_t v = is32 ? int64_t(reinterpret_cast<const int32_t*>(idx)[j]) : reinterpret_cast<const int64_t*>(idx)[j];
    return (v < 0 ? v + size : v) * stride;
  }
};

struct DPlan {
  char* x;
  char* v;
  DMap xpre, xpost, vpre, vj, vpost;
  DOff off;
  int64_t P, J, Q;
};

// Uploads the plan's offset tables; `keep` holds the device copies.
DPlan device_plan(const IndexPlan& pl, std::vector<Tensor>& keep) {
  auto dm = [&](const DimMap& m) {
    DMap d;
    d.n = m.n;
    d.stride = m.stride;
    if (!m.linear()) {
      keep.emplace_back();
      d.table = upload_vector(keep.back(), m.table);
    }
    return d;
  };
  DPlan d;
  d.x = pl.x;
  d.v = pl.v;
  d.xpre = dm(pl.xpre);
  d.xpost = dm(pl.xpost);
  d.vpre = dm(pl.vpre);
  d.vj = dm(pl.vj);
  d.vpost = dm(pl.vpost);
  d.off.table = pl.table;
  d.off.idx = pl.idx;
  d.off.is32 = pl.idx_dtype == ScalarType::Int32;
  d.off.size = pl.idx_size;
  d.off.stride = pl.idx_stride;
  d.P = pl.xpre.n;
  d.J = pl.J;
  d.Q = pl.xpost.n;
  return d;
}

template <typename E>  // an unsigned type of the element size
__global__ void pjq_gather_kernel(DPlan d) {
  const int64_t t = int64_t(blockIdx.x) * kIdxThreads + threadIdx.x;
  if (t >= d.P * d.J * d.Q) return;
  const int64_t q = t % d.Q, r = t / d.Q, j = r % d.J, p = r / d.J;
  const E* x = reinterpret_cast<const E*>(d.x);
  E* v = reinterpret_cast<E*>(d.v);
  v[d.vpre.at(p) + d.vj.at(j) + d.vpost.at(q)] = x[d.xpre.at(p) + d.off(j) + d.xpost.at(q)];
}

void index_gather_cuda(const IndexPlan& pl) {
  std::vector<Tensor> keep;
  const DPlan d = device_plan(pl, keep);
  const int64_t total = d.P * d.J * d.Q;
  if (total == 0) return;
  const unsigned grid = blocks_for(total, kIdxThreads);
  cudaStream_t s = current_stream_here();
  switch (itemsize(pl.dtype)) {
    case 1: pjq_gather_kernel<uint8_t><<<grid, kIdxThreads, 0, s>>>(d); break;
    case 2: pjq_gather_kernel<uint16_t><<<grid, kIdxThreads, 0, s>>>(d); break;
    case 4: pjq_gather_kernel<uint32_t><<<grid, kIdxThreads, 0, s>>>(d); break;
    default: pjq_gather_kernel<uint64_t><<<grid, kIdxThreads, 0, s>>>(d); break;
  }
  check_launch("index");
}

// x (op)= v for one element pair: assign, or x += alpha * v.
template <typename T, bool kAcc>
struct PutOp {
  opmath_of<T> alpha;
  __device__ __forceinline__ void operator()(char* x, const char* v) const {
    if constexpr (!kAcc) {
      *reinterpret_cast<T*>(x) = *reinterpret_cast<const T*>(v);
    } else if constexpr (std::is_same_v<T, bool>) {
      *reinterpret_cast<bool*>(x) = *reinterpret_cast<const bool*>(x) || (*reinterpret_cast<const bool*>(v) && alpha);
    } else {
      using M = opmath_of<T>;
      Dev<T>::store(x, M(Dev<T>::load(x) + alpha * Dev<T>::load(v)));
    }
  }
};

// One thread per (p, q): walks every index position in order.
template <typename T, typename Op>
__global__ void pjq_put_lines_kernel(DPlan d, Op op) {
  const int64_t t = int64_t(blockIdx.x) * kIdxThreads + threadIdx.x;
  if (t >= d.P * d.Q) return;
  const int64_t q = t % d.Q, p = t / d.Q;
  char* xb = d.x + (d.xpre.at(p) + d.xpost.at(q)) * int64_t(sizeof(T));
  const char* vb = d.v + (d.vpre.at(p) + d.vpost.at(q)) * int64_t(sizeof(T));
  for (int64_t j = 0; j < d.J; ++j) op(xb + d.off(j) * int64_t(sizeof(T)), vb + d.vj.at(j) * int64_t(sizeof(T)));
}

__global__ void offsets_kernel(DOff off, int64_t J, uint64_t* keys) {
  const int64_t j = int64_t(blockIdx.x) * kIdxThreads + threadIdx.x;
  if (j < J) keys[j] = uint64_t(off(j));
}

// One thread per (p, run of equal destinations, q): keys/pos are the positions sorted by
// destination offset (stable), so a run is walked in index order.
template <typename T, typename Op>
__global__ void pjq_put_sorted_kernel(DPlan d, const uint64_t* keys, const int32_t* pos, Op op) {
  const int64_t t = int64_t(blockIdx.x) * kIdxThreads + threadIdx.x;
  if (t >= d.P * d.J * d.Q) return;
  const int64_t q = t % d.Q, r = t / d.Q, s = r % d.J, p = r / d.J;
  if (s > 0 && keys[s] == keys[s - 1]) return;  // not the start of a run
  char* xb = d.x + (d.xpre.at(p) + int64_t(keys[s]) + d.xpost.at(q)) * int64_t(sizeof(T));
  const char* vb = d.v + (d.vpre.at(p) + d.vpost.at(q)) * int64_t(sizeof(T));
  for (int64_t e = s; e < d.J && keys[e] == keys[s]; ++e) op(xb, vb + d.vj.at(pos[e]) * int64_t(sizeof(T)));
}

template <typename T, typename Op>
void run_put(const DPlan& d, const Op& op) {
  cudaStream_t s = current_stream_here();
  if (d.J <= 32 || d.P * d.Q >= kEnoughLines) {
    pjq_put_lines_kernel<T, Op><<<blocks_for(d.P * d.Q, kIdxThreads), kIdxThreads, 0, s>>>(d, op);
    check_launch("index_put_");
    return;
  }
  Tensor hk, hp;
  uint64_t* keys = scratch_ptr<uint64_t>(hk, d.J);
  int32_t* pos = scratch_ptr<int32_t>(hp, d.J);
  offsets_kernel<<<blocks_for(d.J, kIdxThreads), kIdxThreads, 0, s>>>(d.off, d.J, keys);
  check_launch("index_put_");
  segmented_sort<uint64_t>(keys, pos, 1, d.J);
  pjq_put_sorted_kernel<T, Op><<<blocks_for(d.P * d.J * d.Q, kIdxThreads), kIdxThreads, 0, s>>>(d, keys, pos, op);
  check_launch("index_put_");
}

struct PutBody {
  const DPlan& d;
  const Scalar& alpha;
  template <typename T>
  void operator()() const {
    using M = opmath_of<T>;
    M a;
    if constexpr (std::is_same_v<M, bool>) a = alpha.to<bool>();
    else if constexpr (std::is_integral_v<M>) a = alpha.to<M>();
    else a = M(alpha.to_double());
    run_put<T>(d, PutOp<T, true>{a});
  }
};

void index_put_cuda(const IndexPlan& pl) {
  std::vector<Tensor> keep;
  const DPlan d = device_plan(pl, keep);
  if (d.P * d.J * d.Q == 0) return;
  if (pl.accumulate) {
    dispatch_cuda<kAllRealMask>(pl.dtype, "index_put_", PutBody{d, pl.alpha});
    return;
  }
  switch (itemsize(pl.dtype)) {
    case 1: return run_put<uint8_t>(d, PutOp<uint8_t, false>{0});
    case 2: return run_put<uint16_t>(d, PutOp<uint16_t, false>{0});
    case 4: return run_put<uint32_t>(d, PutOp<uint32_t, false>{0});
    default: return run_put<uint64_t>(d, PutOp<uint64_t, false>{0});
  }
}

// ---- gather / scatter along a dim -------------------------------------------------------------

struct SGPlan {
  char* w;
  const char* idx;
  const char* r;
  OffsetCalc<3, int64_t> oc;  // over the lines (the index shape without dim)
  int64_t lines, n;
  int64_t ws, is, rs, ds;  // bytes
  bool is32;
};

template <typename T>
__device__ __forceinline__ T max_nan(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (a != a || b != b) return a != a ? a : b;
  }
  return a > b ? a : b;
}
template <typename T>
__device__ __forceinline__ T min_nan(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (a != a || b != b) return a != a ? a : b;
  }
  return a < b ? a : b;
}

template <typename T, ScatterReduce R>
struct ScatterOp {
  __device__ __forceinline__ void operator()(char* d, const char* s) const {
    using M = opmath_of<T>;
    if constexpr (R == ScatterReduce::None) {
      *reinterpret_cast<T*>(d) = *reinterpret_cast<const T*>(s);
    } else if constexpr (std::is_same_v<T, bool>) {
      const bool a = *reinterpret_cast<const bool*>(d), b = *reinterpret_cast<const bool*>(s);
      *reinterpret_cast<bool*>(d) = R == ScatterReduce::Sum    ? (a || b)
                                    : R == ScatterReduce::Prod ? (a && b)
                                    : R == ScatterReduce::Amax ? (a || b)
                                                               : (a && b);
    } else {
      const M a = Dev<T>::load(d), b = Dev<T>::load(s);
      M r;
      if constexpr (R == ScatterReduce::Sum) r = M(a + b);
      else if constexpr (R == ScatterReduce::Prod) r = M(a * b);
      else if constexpr (R == ScatterReduce::Amax) r = max_nan(a, b);
      else r = min_nan(a, b);
      Dev<T>::store(d, r);
    }
  }
};

// Gather: one thread per element; with `bad`, an index outside [0, limit) reads element 0 and
// raises *bad.
template <typename E>
__global__ void sg_gather_kernel(SGPlan pl, uint64_t limit, int* bad) {
  const int64_t t = int64_t(blockIdx.x) * kIdxThreads + threadIdx.x;
  if (t >= pl.lines * pl.n) return;
  const int64_t line = t / pl.n, k = t % pl.n;
  int64_t off[3];
  pl.oc.get(line, off);
  int64_t v = load_idx(pl.idx + off[1] + k * pl.is, pl.is32);
  if (bad && uint64_t(v) >= limit) {
    *bad = 1;
    v = 0;
  }
  *reinterpret_cast<E*>(pl.w + off[0] + k * pl.ws) = *reinterpret_cast<const E*>(pl.r + off[2] + v * pl.ds);
}

// Scatter, one thread per line (its positions in order).
template <typename Op>
__global__ void sg_scatter_lines_kernel(SGPlan pl, Op op) {
  const int64_t line = int64_t(blockIdx.x) * kIdxThreads + threadIdx.x;
  if (line >= pl.lines) return;
  int64_t off[3];
  pl.oc.get(line, off);
  for (int64_t k = 0; k < pl.n; ++k)
    op(pl.w + off[0] + load_idx(pl.idx + off[1] + k * pl.is, pl.is32) * pl.ds, pl.r + off[2] + k * pl.rs);
}

__global__ void sg_keys_kernel(SGPlan pl, uint64_t* keys) {
  const int64_t t = int64_t(blockIdx.x) * kIdxThreads + threadIdx.x;
  if (t >= pl.lines * pl.n) return;
  const int64_t line = t / pl.n, k = t % pl.n;
  int64_t off[3];
  pl.oc.get(line, off);
  keys[t] = uint64_t(load_idx(pl.idx + off[1] + k * pl.is, pl.is32));
}

// Scatter through sorted destinations: one thread per run of equal indices in a line.
template <typename Op>
__global__ void sg_scatter_sorted_kernel(SGPlan pl, const uint64_t* keys, const int32_t* pos, Op op) {
  const int64_t t = int64_t(blockIdx.x) * kIdxThreads + threadIdx.x;
  if (t >= pl.lines * pl.n) return;
  const int64_t line = t / pl.n, k = t % pl.n;
  if (k > 0 && keys[t] == keys[t - 1]) return;
  int64_t off[3];
  pl.oc.get(line, off);
  char* dst = pl.w + off[0] + int64_t(keys[t]) * pl.ds;
  for (int64_t e = k; e < pl.n && keys[line * pl.n + e] == keys[t]; ++e) op(dst, pl.r + off[2] + pos[line * pl.n + e] * pl.rs);
}

template <typename Op>
void run_scatter(const SGPlan& pl, const Op& op) {
  cudaStream_t s = current_stream_here();
  if (pl.n <= 32 || pl.lines >= kEnoughLines) {
    sg_scatter_lines_kernel<Op><<<blocks_for(pl.lines, kIdxThreads), kIdxThreads, 0, s>>>(pl, op);
    check_launch("scatter");
    return;
  }
  Tensor hk, hp;
  uint64_t* keys = scratch_ptr<uint64_t>(hk, pl.lines * pl.n);
  int32_t* pos = scratch_ptr<int32_t>(hp, pl.lines * pl.n);
  sg_keys_kernel<<<blocks_for(pl.lines * pl.n, kIdxThreads), kIdxThreads, 0, s>>>(pl, keys);
  check_launch("scatter");
  segmented_sort<uint64_t>(keys, pos, pl.lines, pl.n);
  sg_scatter_sorted_kernel<Op><<<blocks_for(pl.lines * pl.n, kIdxThreads), kIdxThreads, 0, s>>>(pl, keys, pos, op);
  check_launch("scatter");
}

template <ScatterReduce R>
struct ScatterBody {
  const SGPlan& pl;
  template <typename T>
  void operator()() const { run_scatter(pl, ScatterOp<T, R>{}); }
};

bool scatter_gather_cuda(const ScatterGatherPlan& p) {
  const ElementwiseIter& it = p.it;
  if (it.numel == 0 || p.n == 0) return true;
  check_dims(p.gather ? "gather" : "scatter", it);
  SGPlan pl;
  pl.w = it.data[0];
  pl.idx = it.data[1];
  pl.r = it.data[2];
  pl.oc = make_offsets<3, int64_t>(it);
  pl.lines = it.numel;
  pl.n = p.n;
  pl.ws = p.w_stride;
  pl.is = p.idx_stride;
  pl.rs = p.r_stride;
  pl.ds = p.dim_stride;
  pl.is32 = p.idx_dtype == ScalarType::Int32;
  cudaStream_t s = current_stream_here();
  if (p.gather) {
    Tensor h;
    int* bad = nullptr;
    if (p.check_size >= 0) {
      bad = scratch_ptr<int>(h, 1);
      memset_async(bad, 0, sizeof(int));
    }
    const uint64_t limit = uint64_t(p.check_size);
    const unsigned grid = blocks_for(pl.lines * pl.n, kIdxThreads);
    int* flag = bad;
    switch (itemsize(p.dtype)) {
      case 1: sg_gather_kernel<uint8_t><<<grid, kIdxThreads, 0, s>>>(pl, limit, flag); break;
      case 2: sg_gather_kernel<uint16_t><<<grid, kIdxThreads, 0, s>>>(pl, limit, flag); break;
      case 4: sg_gather_kernel<uint32_t><<<grid, kIdxThreads, 0, s>>>(pl, limit, flag); break;
      default: sg_gather_kernel<uint64_t><<<grid, kIdxThreads, 0, s>>>(pl, limit, flag); break;
    }
    check_launch("gather");
    return bad ? read_one(bad) == 0 : true;
  }
  switch (p.reduce) {
    case ScatterReduce::None:
      switch (itemsize(p.dtype)) {
        case 1: run_scatter(pl, ScatterOp<uint8_t, ScatterReduce::None>{}); break;
        case 2: run_scatter(pl, ScatterOp<uint16_t, ScatterReduce::None>{}); break;
        case 4: run_scatter(pl, ScatterOp<uint32_t, ScatterReduce::None>{}); break;
        default: run_scatter(pl, ScatterOp<uint64_t, ScatterReduce::None>{}); break;
      }
      break;
    case ScatterReduce::Sum: dispatch_cuda<kAllRealMask>(p.dtype, "scatter_reduce", ScatterBody<ScatterReduce::Sum>{pl}); break;
    case ScatterReduce::Prod: dispatch_cuda<kAllRealMask>(p.dtype, "scatter_reduce", ScatterBody<ScatterReduce::Prod>{pl}); break;
    case ScatterReduce::Amax: dispatch_cuda<kAllRealMask>(p.dtype, "scatter_reduce", ScatterBody<ScatterReduce::Amax>{pl}); break;
    case ScatterReduce::Amin: dispatch_cuda<kAllRealMask>(p.dtype, "scatter_reduce", ScatterBody<ScatterReduce::Amin>{pl}); break;
  }
  return true;
}

// ---- nonzero ---------------------------------------------------------------------------------

template <typename T>
__global__ void nonzero_flags_kernel(const char* x, int64_t n, int64_t* flags) {
  const int64_t i = int64_t(blockIdx.x) * kIdxThreads + threadIdx.x;
  if (i < n) flags[i] = convert<bool>(Dev<T>::load(x + i * int64_t(sizeof(T)))) ? 1 : 0;
}

struct Sizes {
  int nd;
  int64_t s[kMaxDims];
};

// flags holds the inclusive count: element i is nonzero when it rises at i.
__global__ void nonzero_write_kernel(const int64_t* counts, int64_t n, Sizes sz, int64_t N, bool coord_major,
                                     int64_t* out) {
  const int64_t i = int64_t(blockIdx.x) * kIdxThreads + threadIdx.x;
  if (i >= n) return;
  const int64_t c = counts[i];
  if (c == (i > 0 ? counts[i - 1] : 0)) return;
  const int64_t p = c - 1;
  int64_t r = i;
  for (int d = sz.nd - 1; d >= 0; --d) {
    const int64_t coord = r % sz.s[d];
    r /= sz.s[d];
    if (coord_major) out[d * N + p] = coord;
    else out[p * sz.nd + d] = coord;
  }
}

struct FlagsBody {
  const Tensor& x;
  int64_t* flags;
  template <typename T>
  void operator()() const {
    nonzero_flags_kernel<T><<<blocks_for(x.numel(), kIdxThreads), kIdxThreads, 0, current_stream_here()>>>(
        x.raw_data(), x.numel(), flags);
    check_launch("nonzero");
  }
};

Tensor nonzero_cuda(const Tensor& x, bool coord_major) {
  const int64_t n = x.numel(), nd = x.dim();
  auto result = [&](int64_t N) {
    return coord_major ? empty({nd, N}, ScalarType::Int64, x.device()) : empty({N, nd}, ScalarType::Int64, x.device());
  };
  if (n == 0) return result(0);
  EMBER_CHECK(nd <= kMaxDims, NotImplementedError, "[nonzero] at most ", kMaxDims, " dims");
  Tensor hf;
  int64_t* counts = scratch_ptr<int64_t>(hf, n);
  dispatch_cuda<kAllRealMask>(x.dtype(), "nonzero", FlagsBody{x, counts});
  inclusive_scan(counts, counts, n);
  const int64_t N = read_one(counts + (n - 1));
  Tensor out = result(N);
  if (N == 0 || nd == 0) return out;
  Sizes sz;
  sz.nd = int(nd);
  for (int64_t d = 0; d < nd; ++d) sz.s[d] = x.sizes()[d];
  nonzero_write_kernel<<<blocks_for(n, kIdxThreads), kIdxThreads, 0, current_stream_here()>>>(
      counts, n, sz, N, coord_major, out.data<int64_t>());
  check_launch("nonzero");
  return out;
}

}  // namespace
}  // namespace cuda

EMBER_REGISTER_CUDA(index_check_stub, cuda::index_check_cuda);
EMBER_REGISTER_CUDA(index_offsets_stub, cuda::index_offsets_cuda);
EMBER_REGISTER_CUDA(index_gather_stub, cuda::index_gather_cuda);
EMBER_REGISTER_CUDA(index_put_stub, cuda::index_put_cuda);
EMBER_REGISTER_CUDA(scatter_gather_stub, cuda::scatter_gather_cuda);
EMBER_REGISTER_CUDA(nonzero_stub, cuda::nonzero_cuda);

}  // namespace ember
