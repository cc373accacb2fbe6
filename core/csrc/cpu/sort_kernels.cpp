// CPU kernels of the sorting ops. Every value maps to an unsigned integer key whose order
// is the value order (floats: sign-flip transform, all NaNs -> one key above +inf, -0.0 ->
// +0.0), so that one stable LSD radix sort serves every dtype; short rows use
// std::stable_sort on (key, index) pairs. Rows sort in parallel, each on one thread, so
// results never depend on the thread count.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

#include "../ops/sort.h"
#include "loop.h"

namespace ember {
namespace {

// ---- order-preserving keys ------------------------------------------------------------------
template <typename T> struct KeyOf;
template <> struct KeyOf<bool> {
  using K = uint8_t;
  static K key(bool v) { return K(v); }
};
template <> struct KeyOf<uint8_t> {
  using K = uint8_t;
  static K key(uint8_t v) { return v; }
};
template <> struct KeyOf<int8_t> {
  using K = uint8_t;
  static K key(int8_t v) { return K(uint8_t(v) ^ 0x80u); }
};
template <> struct KeyOf<int16_t> {
  using K = uint16_t;
  static K key(int16_t v) { return K(uint16_t(v) ^ 0x8000u); }
};
template <> struct KeyOf<int32_t> {
  using K = uint32_t;
  static K key(int32_t v) { return uint32_t(v) ^ 0x80000000u; }
};
template <> struct KeyOf<int64_t> {
  using K = uint64_t;
  static K key(int64_t v) { return uint64_t(v) ^ (uint64_t(1) << 63); }
};
// IEEE layouts: canonical NaN above +inf, -0 -> +0, negatives bit-inverted.
template <typename K, K Sign, K ExpMask, K QNaN>
inline K float_key(K u) {
  if ((u & K(~Sign)) > ExpMask) u = QNaN;  // rare: predictable branches
  if (u == Sign) u = 0;
  // branchless on the sign (random signs would mispredict half the time)
  const K mask = K(K(0) - K(u >> (8 * sizeof(K) - 1))) | Sign;
  return K(u ^ mask);
}
template <> struct KeyOf<float> {
  using K = uint32_t;
  static K key(float v) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    return float_key<uint32_t, 0x80000000u, 0x7f800000u, 0x7fc00000u>(u);
  }
};
template <> struct KeyOf<double> {
  using K = uint64_t;
  static K key(double v) {
    uint64_t u;
    std::memcpy(&u, &v, 8);
    return float_key<uint64_t, 0x8000000000000000ull, 0x7ff0000000000000ull, 0x7ff8000000000000ull>(u);
  }
};
template <> struct KeyOf<Half> {
  using K = uint16_t;
  static K key(Half v) { return float_key<uint16_t, 0x8000u, 0x7c00u, 0x7e00u>(v.x); }
};
template <> struct KeyOf<BFloat16> {
  using K = uint16_t;
  static K key(BFloat16 v) { return float_key<uint16_t, 0x8000u, 0x7f80u, 0x7fc0u>(v.x); }
};

// ---- rows: every 1-d slice along `dim` ------------------------------------------------------
// Walks the rows in order, giving the offset (in elements) of each row's first element in N
// tensors of the same shape. Copy one per parallel task, seek to the task's first row.
template <int N>
struct RowWalker {
  std::vector<int64_t> osz, ost[N], idx;
  int64_t rows = 1;
  RowWalker(const Shape& sizes, int64_t dim, const Shape* const* strides) {
    for (int64_t d = 0; d < int64_t(sizes.size()); ++d) {
      if (d == dim) continue;
      osz.push_back(sizes[d]);
      rows *= sizes[d];
      for (int k = 0; k < N; ++k) ost[k].push_back((*strides[k])[d]);
    }
    idx.assign(osz.size(), 0);
  }
  void seek(int64_t r) {
    for (int k = int(osz.size()) - 1; k >= 0; --k) {
      idx[k] = r % osz[k];
      r /= osz[k];
    }
  }
  void offsets(int64_t* off) const {
    for (int t = 0; t < N; ++t) off[t] = 0;
    for (size_t k = 0; k < osz.size(); ++k)
      for (int t = 0; t < N; ++t) off[t] += idx[k] * ost[t][k];
  }
  void next() {
    for (int k = int(osz.size()) - 1; k >= 0; --k) {
      if (++idx[k] < osz[k]) break;
      idx[k] = 0;
    }
  }
};

// f(state, off) for every row, rows in parallel; `init()` makes one state per task.
template <int N, typename Init, typename F>
void for_rows(const Shape& sizes, int64_t dim, const Shape* const* strides, int64_t n, const Init& init,
              const F& f) {
  const RowWalker<N> proto(sizes, dim, strides);
  const int64_t grain = std::max<int64_t>(1, kGrainSize / std::max<int64_t>(n, 1) / 4);
  parallel_for(0, proto.rows, grain, [&](int64_t b, int64_t e) {
    RowWalker<N> w = proto;
    w.seek(b);
    auto state = init();
    int64_t off[N];
    for (int64_t r = b; r < e; ++r) {
      w.offsets(off);
      f(state, off);
      w.next();
    }
  });
}

// ---- stable sort of keys with their indices ---------------------------------------------------
template <typename K, typename I>
struct KeyIdx {
  K k;
  I i;
};

template <typename K, typename I>
struct SortBuffers {
  std::vector<K> k0, k1;
  std::vector<I> i0, i1;
  std::vector<uint32_t> n0, n1;  // 64-bit keys whose high halves are all equal sort as 32-bit
  std::vector<KeyIdx<K, I>> pairs;
};

constexpr int64_t kSmallSort = 256;

// Stable LSD radix sort (8-bit digits) of the n keys in ks (scratch kd, id; is receives the
// indices); digits shared by every key are skipped. Returns the sorted indices.
template <typename K, typename I>
const I* radix_sort(K* ks, K* kd, I* is, I* id, int64_t n) {
  constexpr int P = int(sizeof(K));
  int64_t hist[P][256] = {};
  for (int64_t j = 0; j < n; ++j) {
    K k = ks[j];
    for (int p = 0; p < P; ++p) hist[p][(k >> (8 * p)) & 0xff]++;
  }
  bool first = true;  // indices are implicit (j) until the first pass
  for (int p = 0; p < P; ++p) {
    int64_t* h = hist[p];
    if (h[(ks[0] >> (8 * p)) & 0xff] == n) continue;  // every key shares this digit
    int64_t sum = 0;
    for (int d = 0; d < 256; ++d) {
      int64_t c = h[d];
      h[d] = sum;
      sum += c;
    }
    const int shift = 8 * p;
    if (first) {
      for (int64_t j = 0; j < n; ++j) {
        K k = ks[j];
        int64_t pos = h[(k >> shift) & 0xff]++;
        kd[pos] = k;
        id[pos] = I(j);
      }
      first = false;
    } else {
      for (int64_t j = 0; j < n; ++j) {
        K k = ks[j];
        int64_t pos = h[(k >> shift) & 0xff]++;
        kd[pos] = k;
        id[pos] = is[j];
      }
    }
    std::swap(ks, kd);
    std::swap(is, id);
  }
  if (first) std::iota(is, is + n, I(0));  // all keys equal
  return is;
}

// Sorts the n keys in b.k0 (indices 0..n-1); returns the sorted indices.
template <typename K, typename I>
const I* sort_keys(SortBuffers<K, I>& b, int64_t n) {
  if (n <= kSmallSort) {
    b.pairs.resize(size_t(n));
    for (int64_t j = 0; j < n; ++j) b.pairs[j] = {b.k0[j], I(j)};
    if (n <= 32) {  // insertion sort: stable, and no temporary buffer per row
      KeyIdx<K, I>* p = b.pairs.data();
      for (int64_t j = 1; j < n; ++j) {
        KeyIdx<K, I> v = p[j];
        int64_t q = j;
        for (; q > 0 && v.k < p[q - 1].k; --q) p[q] = p[q - 1];
        p[q] = v;
      }
    } else {
      std::stable_sort(b.pairs.begin(), b.pairs.end(), [](const auto& x, const auto& y) { return x.k < y.k; });
    }
    b.i0.resize(size_t(n));
    for (int64_t j = 0; j < n; ++j) b.i0[j] = b.pairs[j].i;
    return b.i0.data();
  }
  b.i0.resize(size_t(n));
  b.i1.resize(size_t(n));
  if constexpr (sizeof(K) == 8) {
    const K hi = b.k0[0] >> 32;
    bool narrow = true;
    for (int64_t j = 0; j < n; ++j) narrow &= (b.k0[j] >> 32) == hi;
    if (narrow) {  // int64 data of a small range (indices, labels): a third less memory traffic
      b.n0.resize(size_t(n));
      b.n1.resize(size_t(n));
      for (int64_t j = 0; j < n; ++j) b.n0[j] = uint32_t(b.k0[j]);
      return radix_sort(b.n0.data(), b.n1.data(), b.i0.data(), b.i1.data(), n);
    }
  }
  b.k1.resize(size_t(n));
  return radix_sort(b.k0.data(), b.k1.data(), b.i0.data(), b.i1.data(), n);
}

template <typename T, typename I>
void sort_rows(const Tensor& values, const Tensor& indices, const Tensor& in, int64_t dim, bool descending) {
  using K = typename KeyOf<T>::K;
  const int64_t n_ = in.sizes()[dim];
  const int64_t is_ = in.strides()[dim], os_ = indices.strides()[dim];
  const T* ib = in.data<T>();
  T* vb = values.defined() ? values.data<T>() : nullptr;
  int64_t* xb = indices.data<int64_t>();
  const K flip_ = descending ? K(~K(0)) : K(0);
  const Shape* strides[2] = {&in.strides(), &indices.strides()};
  for_rows<2>(
      in.sizes(), dim, strides, n_,
      [&] {
        SortBuffers<K, I> buf;
        buf.k0.resize(size_t(n_));
        return buf;
      },
      [&](SortBuffers<K, I>& buf, const int64_t* off) {
        const T* x = ib + off[0];
        const int64_t n = n_, is = is_, os = os_;  // locals: not reloaded in the loops
        const K flip = flip_;
        K* keys = buf.k0.data();
        for (int64_t j = 0; j < n; ++j) keys[j] = K(KeyOf<T>::key(x[j * is]) ^ flip);
        const I* idx = sort_keys(buf, n);
        int64_t* xo = xb + off[1];
        for (int64_t j = 0; j < n; ++j) xo[j * os] = int64_t(idx[j]);
        if (vb) {
          T* vo = vb + off[1];
          for (int64_t j = 0; j < n; ++j) vo[j * os] = x[int64_t(idx[j]) * is];
        }
      });
}

EMBER_HOT void sort_kernel(const Tensor& values, const Tensor& indices, const Tensor& in, int64_t dim,
                           bool descending) {
  dispatch<kAllRealMask>(in.dtype(), "sort", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    if (in.sizes()[dim] <= int64_t(std::numeric_limits<uint32_t>::max()))
      sort_rows<T, uint32_t>(values, indices, in, dim, descending);
    else
      sort_rows<T, uint64_t>(values, indices, in, dim, descending);
  });
}
EMBER_REGISTER_CPU(sort_stub, sort_kernel);

// ---- topk / kthvalue ------------------------------------------------------------------------
template <typename T>
void topk_rows(const Tensor& values, const Tensor& indices, const Tensor& in, int64_t k, int64_t dim, bool largest,
               bool kth_only) {
  using K = typename KeyOf<T>::K;
  using P = KeyIdx<K, int64_t>;
  const int64_t n_ = in.sizes()[dim], k_ = k;
  const int64_t is_ = in.strides()[dim], os = values.strides()[dim];
  const T* ib = in.data<T>();
  T* vb = values.data<T>();
  int64_t* xb = indices.data<int64_t>();
  const K flip_ = largest ? K(~K(0)) : K(0);
  const Shape* strides[2] = {&in.strides(), &values.strides()};
  auto less = [](const P& a, const P& b) { return a.k < b.k || (a.k == b.k && a.i < b.i); };
  for_rows<2>(
      in.sizes(), dim, strides, n_, [] { return std::vector<P>(); },
      [&](std::vector<P>& v, const int64_t* off) {
        const T* x = ib + off[0];
        const int64_t is = is_, n = n_, k = k_;  // locals: the loops below must not reload them
        const K flip = flip_;
        if (!kth_only && k * 4 <= n) {
          // small k: one pass keeping the best k in a max-heap whose top is the worst kept;
          // later indices never win ties, so a key >= the worst key is rejected at once
          v.resize(size_t(k));
          for (int64_t j = 0; j < k; ++j) v[j] = {K(KeyOf<T>::key(x[j * is]) ^ flip), j};
          std::make_heap(v.begin(), v.end(), less);
          K worst = v.front().k;
          for (int64_t j = k; j < n; ++j) {
            const K key = K(KeyOf<T>::key(x[j * is]) ^ flip);
            if (key >= worst) continue;
            std::pop_heap(v.begin(), v.end(), less);
            v.back() = P{key, j};
            std::push_heap(v.begin(), v.end(), less);
            worst = v.front().k;
          }
          std::sort_heap(v.begin(), v.end(), less);
          for (int64_t j = 0; j < k; ++j) {
            vb[off[1] + j * os] = x[v[j].i * is];
            xb[off[1] + j * os] = v[j].i;
          }
          return;
        }
        v.resize(size_t(n));
        for (int64_t j = 0; j < n; ++j) v[j] = {K(KeyOf<T>::key(x[j * is]) ^ flip), j};
        if (kth_only) {
          std::nth_element(v.begin(), v.begin() + (k - 1), v.end(), less);
          vb[off[1]] = x[v[k - 1].i * is];
          xb[off[1]] = v[k - 1].i;
          return;
        }
        if (k < n) {
          if (k * 8 <= n) {
            std::partial_sort(v.begin(), v.begin() + k, v.end(), less);
          } else {
            std::nth_element(v.begin(), v.begin() + (k - 1), v.end(), less);
            std::sort(v.begin(), v.begin() + k, less);
          }
        } else {
          std::sort(v.begin(), v.end(), less);
        }
        for (int64_t j = 0; j < k; ++j) {
          vb[off[1] + j * os] = x[v[j].i * is];
          xb[off[1] + j * os] = v[j].i;
        }
      });
}

EMBER_HOT void topk_kernel(const Tensor& values, const Tensor& indices, const Tensor& in, int64_t k, int64_t dim,
                           bool largest, bool kth_only) {
  dispatch<kAllRealMask>(in.dtype(), "topk", [&](auto tag) {
    topk_rows<EMBER_TYPE(tag)>(values, indices, in, k, dim, largest, kth_only);
  });
}
EMBER_REGISTER_CPU(topk_stub, topk_kernel);

// ---- unique -----------------------------------------------------------------------------------
template <typename T>
inline bool same_value(T a, T b) {
  return opmath_t<T>(a) == opmath_t<T>(b);  // NaN != NaN: every NaN is its own value, like PyTorch
}

// Stable ascending argsort of a contiguous 1-d array.
template <typename T>
std::vector<int64_t> argsort_flat(const T* x, int64_t n) {
  using K = typename KeyOf<T>::K;
  std::vector<int64_t> perm(static_cast<size_t>(n));
  if (n == 0) return perm;
  auto run = [&](auto idx_tag) {
    using I = decltype(idx_tag);
    SortBuffers<K, I> buf;
    buf.k0.resize(size_t(n));
    for (int64_t j = 0; j < n; ++j) buf.k0[j] = KeyOf<T>::key(x[j]);
    const I* idx = sort_keys(buf, n);
    for (int64_t j = 0; j < n; ++j) perm[j] = int64_t(idx[j]);
  };
  if (n <= int64_t(std::numeric_limits<uint32_t>::max())) run(uint32_t{});
  else run(uint64_t{});
  return perm;
}

void unique_kernel(const Tensor& flat, bool sorted, bool want_inverse, bool want_counts, Tensor& values,
                   Tensor& inverse, Tensor& counts) {
  const int64_t n = flat.numel();
  dispatch<kAllRealMask>(flat.dtype(), "unique", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    const T* x = flat.data<T>();
    std::vector<int64_t> perm;
    if (sorted) {
      perm = argsort_flat(x, n);
    } else {
      perm.resize(size_t(n));
      std::iota(perm.begin(), perm.end(), int64_t(0));
    }
    std::vector<int64_t> starts;
    for (int64_t j = 0; j < n; ++j)
      if (j == 0 || !same_value(x[perm[j]], x[perm[j - 1]])) starts.push_back(j);
    const int64_t m = int64_t(starts.size());
    values = empty({m}, flat.dtype(), flat.device());
    T* vo = values.data<T>();
    for (int64_t g = 0; g < m; ++g) vo[g] = x[perm[starts[g]]];
    if (want_inverse) {
      inverse = empty({n}, ScalarType::Int64, flat.device());
      int64_t* inv = inverse.data<int64_t>();
      for (int64_t g = 0; g < m; ++g) {
        int64_t end = g + 1 < m ? starts[g + 1] : n;
        for (int64_t j = starts[g]; j < end; ++j) inv[perm[j]] = g;
      }
    }
    if (want_counts) {
      counts = empty({m}, ScalarType::Int64, flat.device());
      int64_t* c = counts.data<int64_t>();
      for (int64_t g = 0; g < m; ++g) c[g] = (g + 1 < m ? starts[g + 1] : n) - starts[g];
    }
  });
}
EMBER_REGISTER_CPU(unique_stub, unique_kernel);

void unique_dim_kernel(const Tensor& rows, bool sorted, Tensor& reps, Tensor& inverse, Tensor& counts) {
  const int64_t n = rows.sizes()[0], m = rows.sizes()[1];
  dispatch<kAllRealMask>(rows.dtype(), "unique", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    using K = typename KeyOf<T>::K;
    const T* x = rows.data<T>();
    std::vector<int64_t> perm(static_cast<size_t>(n));
    std::iota(perm.begin(), perm.end(), int64_t(0));
    if (sorted) {
      std::vector<K> keys(size_t(n * m));
      for (int64_t j = 0; j < n * m; ++j) keys[j] = KeyOf<T>::key(x[j]);
      std::stable_sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) {
        const K* ka = keys.data() + a * m;
        const K* kb = keys.data() + b * m;
        for (int64_t c = 0; c < m; ++c)
          if (ka[c] != kb[c]) return ka[c] < kb[c];
        return false;
      });
    }
    auto same_row = [&](int64_t a, int64_t b) {
      for (int64_t c = 0; c < m; ++c)
        if (!same_value(x[a * m + c], x[b * m + c])) return false;
      return true;
    };
    std::vector<int64_t> starts;
    for (int64_t j = 0; j < n; ++j)
      if (j == 0 || !same_row(perm[j], perm[j - 1])) starts.push_back(j);
    const int64_t g = int64_t(starts.size());
    reps = empty({g}, ScalarType::Int64, rows.device());
    inverse = empty({n}, ScalarType::Int64, rows.device());
    counts = empty({g}, ScalarType::Int64, rows.device());
    int64_t *rp = reps.data<int64_t>(), *inv = inverse.data<int64_t>(), *cp = counts.data<int64_t>();
    for (int64_t q = 0; q < g; ++q) {
      int64_t end = q + 1 < g ? starts[q + 1] : n;
      rp[q] = perm[starts[q]];
      cp[q] = end - starts[q];
      for (int64_t j = starts[q]; j < end; ++j) inv[perm[j]] = q;
    }
  });
}
EMBER_REGISTER_CPU(unique_dim_stub, unique_dim_kernel);

// ---- searchsorted ---------------------------------------------------------------------------
// PyTorch's comparisons: left finds the first boundary b with !(b < v) written as b >= v,
// right the first with b > v; a NaN value therefore lands at the end.
int64_t searchsorted_kernel(const Tensor& out, const Tensor& seq, const Tensor& values, const Tensor& sorter,
                            bool right) {
  const int64_t L = seq.sizes().back();
  const bool one = seq.dim() == 1;
  const int64_t vinner = values.dim() ? values.sizes().back() : 1;
  const int64_t* so = sorter.defined() ? sorter.data<int64_t>() : nullptr;
  if (so)
    for (int64_t i = 0; i < sorter.numel(); ++i)
      if (so[i] < 0 || so[i] >= L) return i;
  const int64_t nv = values.numel();
  dispatch<kAllRealMask>(values.dtype(), "searchsorted", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    using O = opmath_t<T>;
    const T* s = seq.data<T>();
    const T* v = values.data<T>();
    auto run = [&](auto* outp) {
      using R = std::remove_pointer_t<decltype(outp)>;
      parallel_for(0, nv, 2048, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          const int64_t row = one ? 0 : i / vinner;
          const T* sr = s + row * L;
          const int64_t* srt = so ? so + row * L : nullptr;
          const O val = O(v[i]);
          int64_t lo = 0, hi = L;
          while (lo < hi) {
            const int64_t mid = lo + (hi - lo) / 2;
            const O mv = O(srt ? sr[srt[mid]] : sr[mid]);
            const bool go_right = right ? !(mv > val) : !(mv >= val);
            if (go_right) lo = mid + 1;
            else hi = mid;
          }
          outp[i] = R(lo);
        }
      });
    };
    if (out.dtype() == ScalarType::Int32) run(out.data<int32_t>());
    else run(out.data<int64_t>());
  });
  return -1;
}
EMBER_REGISTER_CPU(searchsorted_stub, searchsorted_kernel);

}  // namespace
}  // namespace ember
