// CUDA kernels of sorting and searching (ops/sort.h) and of median (ops/reduce.h): sort /
// argsort, topk / kthvalue, median, unique (flat and along a dim) and searchsorted, with the
// CPU's semantics: stable, NaN above every number, -0.0 equal to 0.0, each NaN its own value
// in unique.
//
// Each sort turns the values into order-preserving unsigned keys (primitives.cuh, KeyOf;
// descending flips the bits), sorts (key, position) pairs per line with the stable segmented
// sort, and writes values by reading the input at the sorted positions. topk and kthvalue
// sort whole lines and keep the first k (or the k-th): O(n log n), not a selection.
#include "../ops/creation.h"
#include "../ops/elementwise.h"
#include "../ops/reduce.h"
#include "../ops/shape.h"
#include "../ops/sort.h"
#include "../ops/view.h"
#include "primitives.cuh"

namespace ember {
namespace cuda {
namespace {

constexpr int kSortThreads = 256;

// A contiguous (outer, n, inner) input seen as rows = outer * inner lines of n.
struct Lines {
  int64_t outer, n, inner;
  __device__ __forceinline__ int64_t at(int64_t row, int64_t i) const {  // element offset
    return ((row / inner) * n + i) * inner + row % inner;
  }
};

Lines lines_of(const Tensor& c, int64_t dim) {
  Lines l{1, c.sizes()[dim], 1};
  for (int64_t d = 0; d < dim; ++d) l.outer *= c.sizes()[d];
  for (int64_t d = dim + 1; d < c.dim(); ++d) l.inner *= c.sizes()[d];
  return l;
}

template <typename T>
__global__ void keys_kernel(const char* in, Lines l, bool descending, typename KeyOf<T>::K* keys) {
  const int64_t e = int64_t(blockIdx.x) * kSortThreads + threadIdx.x;
  if (e >= l.outer * l.inner * l.n) return;
  const int64_t row = e / l.n, i = e % l.n;
  keys[e] = KeyOf<T>::key(Dev<T>::load(in + l.at(row, i) * int64_t(sizeof(T))), descending);
}

// Sorted line positions [k0, k0 + kout) -> values (may be null) and int64 indices of shape
// (outer, kout, inner).
template <typename T>
__global__ void write_sorted_kernel(const char* in, Lines l, const int32_t* pos, int64_t k0, int64_t kout,
                                    char* values, int64_t* indices) {
  const int64_t e = int64_t(blockIdx.x) * kSortThreads + threadIdx.x;
  const int64_t rows = l.outer * l.inner;
  if (e >= rows * kout) return;
  const int64_t row = e / kout, i = e % kout;
  const int64_t p = pos[row * l.n + k0 + i];
  const int64_t o = ((row / l.inner) * kout + i) * l.inner + row % l.inner;
  if (values)
    *reinterpret_cast<T*>(values + o * int64_t(sizeof(T))) =
        *reinterpret_cast<const T*>(in + l.at(row, p) * int64_t(sizeof(T)));
  indices[o] = p;
}

// Sorts the lines of a contiguous input; returns the positions (rows * n int32) in `hold`.
struct LineSort {
  const char* data;
  Lines l;
  bool descending;
  Tensor& hold;
  int32_t*& pos;
  template <typename T>
  void operator()() const {
    using K = typename KeyOf<T>::K;
    const int64_t total = l.outer * l.inner * l.n;
    Tensor hk;
    K* keys = scratch_ptr<K>(hk, total);
    pos = scratch_ptr<int32_t>(hold, total);
    keys_kernel<T><<<blocks_for(total, kSortThreads), kSortThreads, 0, current_stream_here()>>>(data, l, descending,
                                                                                               keys);
    check_launch("sort");
    segmented_sort<K>(keys, pos, l.outer * l.inner, l.n);
  }
};

struct WriteSorted {
  const Tensor& c;
  Lines l;
  const int32_t* pos;
  int64_t k0, kout;
  const Tensor& values;
  const Tensor& indices;
  template <typename T>
  void operator()() const {
    const int64_t total = l.outer * l.inner * kout;
    write_sorted_kernel<T><<<blocks_for(total, kSortThreads), kSortThreads, 0, current_stream_here()>>>(
        c.raw_data(), l, pos, k0, kout, values.defined() ? values.raw_data() : nullptr, indices.data<int64_t>());
    check_launch("sort");
  }
};

// Sorts x along dim and writes sorted positions [k0, k0 + kout) of every line.
void sort_lines(const Tensor& values, const Tensor& indices, const Tensor& x, int64_t dim, bool descending, int64_t k0,
                int64_t kout) {
  Tensor c = contiguous(x);
  const Lines l = lines_of(c, dim);
  if (l.outer * l.inner * kout == 0) return;
  Tensor hold;
  int32_t* pos = nullptr;
  dispatch_cuda<kAllRealMask>(c.dtype(), "sort", LineSort{c.raw_data(), l, descending, hold, pos});
  dispatch_cuda<kAllRealMask>(c.dtype(), "sort", WriteSorted{c, l, pos, k0, kout, values, indices});
}

void sort_cuda(const Tensor& values, const Tensor& indices, const Tensor& in, int64_t dim, bool descending) {
  sort_lines(values, indices, in, dim, descending, 0, in.sizes()[dim]);
}

void topk_cuda(const Tensor& values, const Tensor& indices, const Tensor& in, int64_t k, int64_t dim, bool largest,
               bool kth_only) {
  if (kth_only) sort_lines(values, indices, in, dim, false, k - 1, 1);
  else sort_lines(values, indices, in, dim, largest, 0, k);
}

// ---- median ---------------------------------------------------------------------------------------
// One thread per row of the sorted positions: NaNs (floats) sort last, so the non-NaN count
// is where the NaN keys start.
template <typename T>
__global__ void median_kernel(const char* in, int64_t outer, int64_t n, const int32_t* pos, bool ignore_nan,
                              char* values, int64_t* indices) {
  const int64_t r = int64_t(blockIdx.x) * kSortThreads + threadIdx.x;
  if (r >= outer) return;
  using M = opmath_of<T>;
  const T* row = reinterpret_cast<const T*>(in) + r * n;
  const int32_t* pr = pos + r * n;
  int64_t m = n;  // non-NaN count
  if constexpr (std::is_floating_point_v<M>) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
      const int64_t mid = (lo + hi) >> 1;
      const M v = Dev<T>::load(reinterpret_cast<const char*>(row + pr[mid]));
      if (v == v) lo = mid + 1;
      else hi = mid;
    }
    m = lo;
  }
  int64_t idx;
  M val;
  if ((m < n && !ignore_nan) || m == 0) {
    idx = m < n ? pr[m] : 0;  // the first NaN (equal keys keep their order)
    if constexpr (std::is_floating_point_v<M>) val = m < n ? Dev<T>::load(reinterpret_cast<const char*>(row + idx)) : M(NAN);
    else val = M(0);
  } else {
    idx = pr[(m - 1) / 2];
    val = Dev<T>::load(reinterpret_cast<const char*>(row + idx));
  }
  Dev<T>::store(values + r * int64_t(sizeof(T)), val);
  if (indices) indices[r] = idx;
}

struct MedianBody {
  const char* in;
  int64_t outer, n;
  bool ignore_nan;
  char* values;
  char* indices;
  template <typename T>
  void operator()() const {
    Tensor hold;
    int32_t* pos = nullptr;
    LineSort{in, Lines{outer, n, 1}, false, hold, pos}.template operator()<T>();
    median_kernel<T><<<blocks_for(outer, kSortThreads), kSortThreads, 0, current_stream_here()>>>(
        in, outer, n, pos, ignore_nan, values, reinterpret_cast<int64_t*>(indices));
    check_launch("median");
  }
};

void median_cuda(const char* in, ScalarType dtype, int64_t outer, int64_t n, char* values, char* indices,
                 bool ignore_nan) {
  if (outer == 0 || n == 0) return;
  dispatch_cuda<kAllRealMask>(dtype, "median", MedianBody{in, outer, n, ignore_nan, values, indices});
}

// ---- unique -----------------------------------------------------------------------------------------
template <typename T>
__device__ __forceinline__ opmath_of<T> load_at(const char* base, int64_t i) {
  return Dev<T>::load(base + i * int64_t(sizeof(T)));
}

// starts[i] = 1 where a new value begins in the (permuted) order; NaN != NaN.
template <typename T>
__global__ void unique_flags_kernel(const char* x, const int32_t* pos, int64_t n, int64_t* flags) {
  const int64_t i = int64_t(blockIdx.x) * kSortThreads + threadIdx.x;
  if (i >= n) return;
  if (i == 0) {
    flags[i] = 1;
    return;
  }
  const int64_t a = pos ? pos[i] : i, b = pos ? pos[i - 1] : i - 1;
  flags[i] = load_at<T>(x, a) == load_at<T>(x, b) ? 0 : 1;
}

// groups: inclusive scan of the flags (group of element i = groups[i] - 1).
template <typename T>
__global__ void unique_write_kernel(const char* x, const int32_t* pos, int64_t n, const int64_t* groups, char* values,
                                    int64_t* inverse, int64_t* starts) {
  const int64_t i = int64_t(blockIdx.x) * kSortThreads + threadIdx.x;
  if (i >= n) return;
  const int64_t g = groups[i] - 1;
  const int64_t src = pos ? pos[i] : i;
  if (i == 0 || groups[i - 1] != groups[i]) {
    reinterpret_cast<T*>(values)[g] = reinterpret_cast<const T*>(x)[src];
    starts[g] = i;
  }
  if (inverse) inverse[src] = g;
}

__global__ void counts_kernel(const int64_t* starts, int64_t m, int64_t n, int64_t* counts) {
  const int64_t g = int64_t(blockIdx.x) * kSortThreads + threadIdx.x;
  if (g < m) counts[g] = (g + 1 < m ? starts[g + 1] : n) - starts[g];
}

struct UniqueBody {
  const Tensor& flat;
  bool sorted, want_inverse, want_counts;
  Tensor &values, &inverse, &counts;
  template <typename T>
  void operator()() const {
    const int64_t n = flat.numel();
    const Device dev = flat.device();
    cudaStream_t s = current_stream_here();
    Tensor hold;
    int32_t* pos = nullptr;
    if (sorted) LineSort{flat.raw_data(), Lines{1, n, 1}, false, hold, pos}.template operator()<T>();
    Tensor hg;
    int64_t* groups = scratch_ptr<int64_t>(hg, n);
    unique_flags_kernel<T><<<blocks_for(n, kSortThreads), kSortThreads, 0, s>>>(flat.raw_data(), pos, n, groups);
    check_launch("unique");
    inclusive_scan(groups, groups, n);
    const int64_t m = read_one(groups + (n - 1));
    values = empty({m}, flat.dtype(), dev);
    if (want_inverse) inverse = empty({n}, ScalarType::Int64, dev);
    Tensor hs;
    int64_t* starts = scratch_ptr<int64_t>(hs, m);
    unique_write_kernel<T><<<blocks_for(n, kSortThreads), kSortThreads, 0, s>>>(
        flat.raw_data(), pos, n, groups, values.raw_data(), want_inverse ? inverse.data<int64_t>() : nullptr, starts);
    check_launch("unique");
    if (want_counts) {
      counts = empty({m}, ScalarType::Int64, dev);
      counts_kernel<<<blocks_for(m, kSortThreads), kSortThreads, 0, s>>>(starts, m, n, counts.data<int64_t>());
      check_launch("unique");
    }
  }
};

void unique_cuda(const Tensor& flat, bool sorted, bool want_inverse, bool want_counts, Tensor& values, Tensor& inverse,
                 Tensor& counts) {
  const int64_t n = flat.numel();
  if (n == 0) {
    values = empty({0}, flat.dtype(), flat.device());
    if (want_inverse) inverse = empty({0}, ScalarType::Int64, flat.device());
    if (want_counts) counts = empty({0}, ScalarType::Int64, flat.device());
    return;
  }
  dispatch_cuda<kAllRealMask>(flat.dtype(), "unique", UniqueBody{flat, sorted, want_inverse, want_counts, values,
                                                                 inverse, counts});
}

// ---- unique along a dim: rows (n, m) ----------------------------------------------------------------
// Rows sort lexicographically by stable sorts on one column at a time, last column first.
template <typename T>
__global__ void column_keys_kernel(const char* rows, int64_t n, int64_t m, int64_t col, const int64_t* perm,
                                   typename KeyOf<T>::K* keys) {
  const int64_t i = int64_t(blockIdx.x) * kSortThreads + threadIdx.x;
  if (i < n) keys[i] = KeyOf<T>::key(load_at<T>(rows, perm[i] * m + col), false);
}

__global__ void permute_kernel(const int64_t* perm, const int32_t* pos, int64_t n, int64_t* out) {
  const int64_t i = int64_t(blockIdx.x) * kSortThreads + threadIdx.x;
  if (i < n) out[i] = perm[pos[i]];
}

__global__ void iota_kernel(int64_t* p, int64_t n) {
  const int64_t i = int64_t(blockIdx.x) * kSortThreads + threadIdx.x;
  if (i < n) p[i] = i;
}

template <typename T>
__global__ void row_flags_kernel(const char* rows, int64_t n, int64_t m, const int64_t* perm, int64_t* flags) {
  const int64_t i = int64_t(blockIdx.x) * kSortThreads + threadIdx.x;
  if (i >= n) return;
  int64_t f = i == 0 ? 1 : 0;
  for (int64_t c = 0; c < m && !f; ++c)
    if (!(load_at<T>(rows, perm[i] * m + c) == load_at<T>(rows, perm[i - 1] * m + c))) f = 1;
  flags[i] = f;
}

__global__ void rows_write_kernel(const int64_t* perm, int64_t n, const int64_t* groups, int64_t* reps,
                                  int64_t* inverse, int64_t* starts) {
  const int64_t i = int64_t(blockIdx.x) * kSortThreads + threadIdx.x;
  if (i >= n) return;
  const int64_t g = groups[i] - 1;
  if (i == 0 || groups[i - 1] != groups[i]) {
    reps[g] = perm[i];
    starts[g] = i;
  }
  inverse[perm[i]] = g;
}

struct UniqueDimBody {
  const Tensor& rows;
  bool sorted;
  Tensor &reps, &inverse, &counts;
  template <typename T>
  void operator()() const {
    using K = typename KeyOf<T>::K;
    const int64_t n = rows.sizes()[0], m = rows.sizes()[1];
    const Device dev = rows.device();
    cudaStream_t s = current_stream_here();
    const unsigned grid = blocks_for(n, kSortThreads);
    Tensor hp, hq;
    int64_t* perm = scratch_ptr<int64_t>(hp, n);
    int64_t* next = scratch_ptr<int64_t>(hq, n);
    iota_kernel<<<grid, kSortThreads, 0, s>>>(perm, n);
    check_launch("unique");
    if (sorted) {
      Tensor hk, hpos;
      K* keys = scratch_ptr<K>(hk, n);
      int32_t* pos = scratch_ptr<int32_t>(hpos, n);
      for (int64_t c = m - 1; c >= 0; --c) {
        column_keys_kernel<T><<<grid, kSortThreads, 0, s>>>(rows.raw_data(), n, m, c, perm, keys);
        check_launch("unique");
        segmented_sort<K>(keys, pos, 1, n);
        permute_kernel<<<grid, kSortThreads, 0, s>>>(perm, pos, n, next);
        check_launch("unique");
        std::swap(perm, next);
      }
    }
    Tensor hg;
    int64_t* groups = scratch_ptr<int64_t>(hg, n);
    row_flags_kernel<T><<<grid, kSortThreads, 0, s>>>(rows.raw_data(), n, m, perm, groups);
    check_launch("unique");
    inclusive_scan(groups, groups, n);
    const int64_t g = read_one(groups + (n - 1));
    reps = empty({g}, ScalarType::Int64, dev);
    inverse = empty({n}, ScalarType::Int64, dev);
    counts = empty({g}, ScalarType::Int64, dev);
    Tensor hs;
    int64_t* starts = scratch_ptr<int64_t>(hs, g);
    rows_write_kernel<<<grid, kSortThreads, 0, s>>>(perm, n, groups, reps.data<int64_t>(), inverse.data<int64_t>(),
                                                    starts);
    check_launch("unique");
    counts_kernel<<<blocks_for(g, kSortThreads), kSortThreads, 0, s>>>(starts, g, n, counts.data<int64_t>());
    check_launch("unique");
  }
};

void unique_dim_cuda(const Tensor& rows, bool sorted, Tensor& reps, Tensor& inverse, Tensor& counts) {
  const int64_t n = rows.sizes()[0];
  if (n == 0) {
    reps = empty({0}, ScalarType::Int64, rows.device());
    inverse = empty({0}, ScalarType::Int64, rows.device());
    counts = empty({0}, ScalarType::Int64, rows.device());
    return;
  }
  dispatch_cuda<kAllRealMask>(rows.dtype(), "unique", UniqueDimBody{rows, sorted, reps, inverse, counts});
}

// ---- searchsorted ------------------------------------------------------------------------------------
// The CPU's comparisons: left finds the first boundary b with b >= v, right the first with
// b > v (a NaN value lands at the end).
__global__ void sorter_check_kernel(const int64_t* sorter, int64_t n, int64_t L, unsigned long long* first) {
  const int64_t i = int64_t(blockIdx.x) * kSortThreads + threadIdx.x;
  if (i < n && (sorter[i] < 0 || sorter[i] >= L)) atomicMin(first, (unsigned long long)i);
}

template <typename T, typename R>
__global__ void searchsorted_kernel(R* out, const char* seq, const char* values, const int64_t* sorter, int64_t nv,
                                    int64_t L, bool one, int64_t vinner, bool right) {
  const int64_t i = int64_t(blockIdx.x) * kSortThreads + threadIdx.x;
  if (i >= nv) return;
  using M = opmath_of<T>;
  const int64_t row = one ? 0 : i / vinner;
  const char* sr = seq + row * L * int64_t(sizeof(T));
  const int64_t* srt = sorter ? sorter + row * L : nullptr;
  const M val = load_at<T>(values, i);
  int64_t lo = 0, hi = L;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    const M mv = load_at<T>(sr, srt ? srt[mid] : mid);
    const bool go_right = right ? !(mv > val) : !(mv >= val);
    if (go_right) lo = mid + 1;
    else hi = mid;
  }
  out[i] = R(lo);
}

struct SearchBody {
  const Tensor& out;
  const Tensor& seq;
  const Tensor& values;
  const int64_t* sorter;
  bool right;
  template <typename T>
  void operator()() const {
    const int64_t L = seq.sizes().back(), nv = values.numel();
    const bool one = seq.dim() == 1;
    const int64_t vinner = values.dim() ? values.sizes().back() : 1;
    const unsigned grid = blocks_for(nv, kSortThreads);
    cudaStream_t s = current_stream_here();
    if (out.dtype() == ScalarType::Int32)
      searchsorted_kernel<T, int32_t><<<grid, kSortThreads, 0, s>>>(out.data<int32_t>(), seq.raw_data(),
                                                                     values.raw_data(), sorter, nv, L, one, vinner, right);
    else
      searchsorted_kernel<T, int64_t><<<grid, kSortThreads, 0, s>>>(out.data<int64_t>(), seq.raw_data(),
                                                                     values.raw_data(), sorter, nv, L, one, vinner, right);
    check_launch("searchsorted");
  }
};

int64_t searchsorted_cuda(const Tensor& out, const Tensor& seq, const Tensor& values, const Tensor& sorter, bool right) {
  const int64_t L = seq.sizes().back();
  const int64_t* so = sorter.defined() ? sorter.data<int64_t>() : nullptr;
  if (so && sorter.numel() > 0) {
    Tensor h;
    auto* first = scratch_ptr<unsigned long long>(h, 1);
    memset_async(first, 0xFF, sizeof(unsigned long long));
    sorter_check_kernel<<<blocks_for(sorter.numel(), kSortThreads), kSortThreads, 0, current_stream_here()>>>(
        so, sorter.numel(), L, first);
    check_launch("searchsorted");
    const unsigned long long bad = read_one(first);
    if (bad != ~0ull) return int64_t(bad);
  }
  if (values.numel() == 0) return -1;
  dispatch_cuda<kAllRealMask>(values.dtype(), "searchsorted", SearchBody{out, seq, values, so, right});
  return -1;
}

}  // namespace
}  // namespace cuda

EMBER_REGISTER_CUDA(sort_stub, cuda::sort_cuda);
EMBER_REGISTER_CUDA(topk_stub, cuda::topk_cuda);
EMBER_REGISTER_CUDA(median_stub, cuda::median_cuda);
EMBER_REGISTER_CUDA(unique_stub, cuda::unique_cuda);
EMBER_REGISTER_CUDA(unique_dim_stub, cuda::unique_dim_cuda);
EMBER_REGISTER_CUDA(searchsorted_stub, cuda::searchsorted_cuda);

}  // namespace ember
