// CPU kernels of the index family: index checks and offsets, the (P, J, Q) gather and put
// of advanced indexing (ops/index.h, IndexPlan), gather/scatter along a dim
// (ScatterGatherPlan) and nonzero.
//
// Determinism: gathers split any way; writes split only over positions that can never hit
// the same element (other P/Q positions, other destination ranges, other non-`dim`
// coordinates), and each element sees its index positions in ascending order. Results do
// not depend on the thread count.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>

#include "../ops/index.h"
#include "loop.h"
#include "math.h"

namespace ember {
namespace {

constexpr uint32_t kIndexMask = tbit(ScalarType::Int32) | tbit(ScalarType::Int64);

// The first bad index over parallel chunks: the one at the smallest position.
struct FirstBad {
  std::mutex m;
  int64_t pos = -1, value = 0;
  void record(int64_t p, int64_t v) {
    std::lock_guard<std::mutex> g(m);
    if (pos < 0 || p < pos) {
      pos = p;
      value = v;
    }
  }
};

inline bool in_range(int64_t v, int64_t lo, int64_t size) { return uint64_t(v - lo) < uint64_t(size - lo); }

// Walks `it` in parallel chunks, calling body(ptrs, strides, n, pos) with the position of
// the run's first element in the iteration order.
template <typename Body>
inline void for_each_pos(const ElementwiseIter& it, int64_t grain, const Body& body) {
  parallel_for(0, it.numel, grain, [&](int64_t b, int64_t e) {
    int64_t pos = b;
    auto run = [&](char** p, const int64_t* s, int64_t n) {
      body(p, s, n, pos);
      pos += n;
    };
    for_each_run(it, b, e, run);
  });
}

EMBER_HOT int64_t index_check_kernel(ElementwiseIter& it, int64_t size, bool allow_negative, int64_t* bad) {
  const int64_t lo = allow_negative ? -size : 0;
  FirstBad fb;
  dispatch<kIndexMask>(it.dtypes[0], "index", [&](auto tag) {
    using I = EMBER_TYPE(tag);
    for_each_pos(it, kGrainSize, [&](char** p, const int64_t* s, int64_t n, int64_t pos) {
      const char* q = p[0];
      const int64_t st = s[0];
      bool ok = true;
      if (st == int64_t(sizeof(I))) {
        const I* a = reinterpret_cast<const I*>(q);
        for (int64_t i = 0; i < n; ++i) ok &= in_range(int64_t(a[i]), lo, size);
      } else {
        for (int64_t i = 0; i < n; ++i) ok &= in_range(int64_t(*reinterpret_cast<const I*>(q + i * st)), lo, size);
      }
      if (ok) return;
      for (int64_t i = 0; i < n; ++i) {
        int64_t v = *reinterpret_cast<const I*>(q + i * st);
        if (!in_range(v, lo, size)) {
          fb.record(pos + i, v);
          return;
        }
      }
    });
  });
  *bad = fb.value;
  return fb.pos;
}
EMBER_REGISTER_CPU(index_check_stub, index_check_kernel);

EMBER_HOT int64_t index_offsets_kernel(ElementwiseIter& it, int64_t size, int64_t stride, bool add, int64_t* bad) {
  FirstBad fb;
  dispatch<kIndexMask>(it.dtypes[1], "index", [&](auto tag) {
    using I = EMBER_TYPE(tag);
    for_each_pos(it, kGrainSize, [&](char** p, const int64_t* s, int64_t n, int64_t pos) {
      bool ok = true;
      for (int64_t i = 0; i < n; ++i) {
        int64_t v = *reinterpret_cast<const I*>(p[1] + i * s[1]);
        bool good = in_range(v, -size, size);
        ok &= good;
        int64_t w = good ? (v < 0 ? v + size : v) * stride : 0;
        int64_t* o = reinterpret_cast<int64_t*>(p[0] + i * s[0]);
        *o = add ? *o + w : w;
      }
      if (ok) return;
      for (int64_t i = 0; i < n; ++i) {
        int64_t v = *reinterpret_cast<const I*>(p[1] + i * s[1]);
        if (!in_range(v, -size, size)) {
          fb.record(pos + i, v);
          return;
        }
      }
    });
  });
  *bad = fb.value;
  return fb.pos;
}
EMBER_REGISTER_CPU(index_offsets_stub, index_offsets_kernel);

// ---- (P, J, Q) gather and put ------------------------------------------------------------

// Offset of index position j into x: from the table or from one index tensor.
struct TableOff {
  const int64_t* t;
  int64_t operator()(int64_t j) const { return t[j]; }
};
template <typename I>
struct IdxOff {
  const I* idx;
  int64_t size, stride;
  int64_t operator()(int64_t j) const {
    int64_t v = idx[j];
    return (v < 0 ? v + size : v) * stride;
  }
};

template <typename F>
inline void with_offsets(const IndexPlan& pl, const F& f) {
  if (pl.table) return f(TableOff{pl.table});
  if (pl.idx_dtype == ScalarType::Int32)
    return f(IdxOff<int32_t>{reinterpret_cast<const int32_t*>(pl.idx), pl.idx_size, pl.idx_stride});
  f(IdxOff<int64_t>{reinterpret_cast<const int64_t*>(pl.idx), pl.idx_size, pl.idx_stride});
}

// Copies one row of Q elements (x row -> v row for gather, v row -> x row for put).
template <typename T>
struct RowCopy {
  const DimMap *src, *dst;
  int64_t Q;
  int kind;  // 1: both contiguous, 2: both linear, 3: tables
  RowCopy(const DimMap& s, const DimMap& d, int64_t q) : src(&s), dst(&d), Q(q) {
    if (s.linear() && d.linear()) kind = (s.stride == 1 && d.stride == 1) ? 1 : 2;
    else kind = 3;
  }
  inline void operator()(const T* __restrict s, T* __restrict d) const {
    switch (kind) {
      case 1: std::memcpy(d, s, size_t(Q) * sizeof(T)); return;
      case 2: {
        const int64_t ss = src->stride, ds = dst->stride;
        for (int64_t q = 0; q < Q; ++q) d[q * ds] = s[q * ss];
        return;
      }
      default:
        for (int64_t q = 0; q < Q; ++q) d[dst->at(q)] = s[src->at(q)];
    }
  }
};

// Runs seg(p, j0, j1) over the (p, j) pairs [b, e) in runs of one p.
template <typename Seg>
inline void for_each_segment(int64_t b, int64_t e, int64_t J, const Seg& seg) {
  int64_t p = b / J, j = b % J;
  while (b < e) {
    int64_t n = std::min(J - j, e - b);
    seg(p, j, j + n);
    b += n;
    j = 0;
    ++p;
  }
}

template <typename T>
void gather_typed(const IndexPlan& pl) {
  const int64_t P = pl.xpre.n, J = pl.J, Q = pl.xpost.n;
  const T* x = reinterpret_cast<const T*>(pl.x);
  T* v = reinterpret_cast<T*>(pl.v);
  RowCopy<T> row(pl.xpost, pl.vpost, Q);
  const int64_t grain = std::max<int64_t>(1, kGrainSize / std::max<int64_t>(Q, 1));
  constexpr int64_t kAhead = 16;  // rows are random: prefetch the source ahead...
  const bool far = pl.offs_max * int64_t(sizeof(T)) > (int64_t(1) << 20);  // ...unless it fits in cache
  with_offsets(pl, [&](auto off) {
    parallel_for(0, P * J, grain, [&](int64_t b, int64_t e) {
      for_each_segment(b, e, J, [&](int64_t p, int64_t j0, int64_t j1) {
        const T* xp = x + pl.xpre.at(p);
        T* vp = v + pl.vpre.at(p);
        if (Q == 1 && pl.vj.linear()) {
          const int64_t vs = pl.vj.stride;
          int64_t j = j0;
          if (far)
            for (; j + kAhead < j1; ++j) {
              __builtin_prefetch(xp + off(j + kAhead));
              vp[j * vs] = xp[off(j)];
            }
          for (; j < j1; ++j) vp[j * vs] = xp[off(j)];
        } else if (row.kind == 1 && pl.vj.linear()) {
          const int64_t vs = pl.vj.stride;
          const size_t bytes = size_t(Q) * sizeof(T);
          for (int64_t j = j0; j < j1; ++j) {
            if (j + kAhead < j1) __builtin_prefetch(xp + off(j + kAhead));
            std::memcpy(vp + j * vs, xp + off(j), bytes);
          }
        } else {
          for (int64_t j = j0; j < j1; ++j) row(xp + off(j), vp + pl.vj.at(j));
        }
      });
    });
  });
}

EMBER_HOT void index_gather_kernel(const IndexPlan& pl) {
  switch (itemsize(pl.dtype)) {
    case 1: return gather_typed<uint8_t>(pl);
    case 2: return gather_typed<uint16_t>(pl);
    case 4: return gather_typed<uint32_t>(pl);
    default: return gather_typed<uint64_t>(pl);
  }
}
EMBER_REGISTER_CPU(index_gather_stub, index_gather_kernel);

// x[...] (op)= v[...] for one row; Op(x_elem_ptr, v_elem_ptr).
template <typename T, typename Op>
inline void put_row(T* x, const T* v, const DimMap& xpost, const DimMap& vpost, int64_t q0, int64_t q1,
                    const Op& op) {
  if (xpost.linear() && vpost.linear()) {
    const int64_t xs = xpost.stride, vs = vpost.stride;
    if (xs == 1 && vs == 1) {
      for (int64_t q = q0; q < q1; ++q) op(x + q, v + q);
    } else {
      for (int64_t q = q0; q < q1; ++q) op(x + q * xs, v + q * vs);
    }
  } else {
    for (int64_t q = q0; q < q1; ++q) op(x + xpost.at(q), v + vpost.at(q));
  }
}

// For every index position j in order whose offset lies in [lo, hi): the row (op)= at p.
template <typename T, typename Off, typename Op>
inline void put_rows(const IndexPlan& pl, const Off& off, const Op& op, T* xp, const T* vp, int64_t q0, int64_t q1,
                     int64_t lo, int64_t hi) {
  const int64_t J = pl.J, Q = pl.xpost.n;
  const bool all = lo <= 0 && hi > pl.offs_max;
  if (Q == 1 && pl.vj.linear()) {
    const int64_t vs = pl.vj.stride;
    if (all) {
      for (int64_t j = 0; j < J; ++j) op(xp + off(j), vp + j * vs);
    } else {
      for (int64_t j = 0; j < J; ++j) {
        const int64_t o = off(j);
        if (o >= lo && o < hi) op(xp + o, vp + j * vs);
      }
    }
    return;
  }
  for (int64_t j = 0; j < J; ++j) {
    const int64_t o = off(j);
    if (all || (o >= lo && o < hi)) put_row(xp + o, vp + pl.vj.at(j), pl.xpost, pl.vpost, q0, q1, op);
  }
}

template <typename T, typename Op>
void put_typed(const IndexPlan& pl, const Op& op) {
  const int64_t P = pl.xpre.n, J = pl.J, Q = pl.xpost.n;
  T* x = reinterpret_cast<T*>(pl.x);
  const T* v = reinterpret_cast<const T*>(pl.v);
  const int64_t total = P * J * Q;
  const int threads = get_num_threads();
  const int64_t everything = pl.offs_max + 1;
  with_offsets(pl, [&](auto off) {
    if (total < kGrainSize || threads == 1 || in_parallel_region()) {
      for (int64_t p = 0; p < P; ++p) put_rows(pl, off, op, x + pl.xpre.at(p), v + pl.vpre.at(p), 0, Q, 0, everything);
      return;
    }
    // Split over P and over chunks of Q when there are enough of them...
    const int64_t qchunk = std::max<int64_t>(std::min<int64_t>(Q, 4096), kGrainSize / std::max<int64_t>(J, 1));
    const int64_t nq = (Q + qchunk - 1) / qchunk;
    if (P * nq >= 2 * int64_t(threads)) {
      parallel_for(0, P * nq, 1, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) {
          int64_t p = t / nq, qc = t % nq;
          put_rows(pl, off, op, x + pl.xpre.at(p), v + pl.vpre.at(p), qc * qchunk, std::min(Q, (qc + 1) * qchunk),
                   0, everything);
        }
      });
      return;
    }
    // ...else over ranges of destination offsets: each task scans all positions and
    // writes the ones that land in its range (equal offsets are equal destinations).
    const int64_t nb = int64_t(threads);
    const int64_t width = pl.offs_max / nb + 1;
    parallel_for(0, nb, 1, [&](int64_t b, int64_t e) {
      for (int64_t p = 0; p < P; ++p)
        put_rows(pl, off, op, x + pl.xpre.at(p), v + pl.vpre.at(p), 0, Q, b * width, e * width);
    });
  });
}

// Not EMBER_HOT (memory-bound, and see scatter_gather_kernel on build time).
void index_put_kernel(const IndexPlan& pl) {
  if (!pl.accumulate) {
    auto assign = [](auto* d, const auto* s) { *d = *s; };
    switch (itemsize(pl.dtype)) {
      case 1: return put_typed<uint8_t>(pl, assign);
      case 2: return put_typed<uint16_t>(pl, assign);
      case 4: return put_typed<uint32_t>(pl, assign);
      default: return put_typed<uint64_t>(pl, assign);
    }
  }
  dispatch<kAllMask>(pl.dtype, "index_put_", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    using O = opmath_t<T>;
    const O alpha = pl.alpha.to<T>();
    const bool unit = pl.alpha.kind != Scalar::Complex && pl.alpha.to_double() == 1.0;
    if constexpr (std::is_same_v<T, bool>) {
      put_typed<T>(pl, [alpha](T* d, const T* s) { *d = *d || (*s && alpha); });
    } else if (unit) {
      put_typed<T>(pl, [](T* d, const T* s) { *d = T(O(*d) + O(*s)); });
    } else {
      put_typed<T>(pl, [alpha](T* d, const T* s) { *d = T(O(*d) + alpha * O(*s)); });
    }
  });
}
EMBER_REGISTER_CPU(index_put_stub, index_put_kernel);

// ---- gather / scatter along a dim ---------------------------------------------------------

template <typename T, typename I, typename Op>
bool scatter_gather_typed(const ScatterGatherPlan& pl, const Op& op) {
  const int64_t n = pl.n, ws = pl.w_stride, is = pl.idx_stride, rs = pl.r_stride, ds = pl.dim_stride;
  const bool gather = pl.gather;
  const uint64_t limit = uint64_t(pl.check_size);  // -1: no check (all indices pass)
  std::atomic<bool> ok{true};
  // gathers check each index as they read it: a bad one reads element 0 and is reported
  auto at = [&](int64_t k) -> int64_t {
    if (uint64_t(k) >= limit) {
      ok.store(false, std::memory_order_relaxed);
      return 0;
    }
    return k;
  };
  const int64_t grain = std::max<int64_t>(1, kGrainSize / std::max<int64_t>(n, 1));
  // one line along dim at (w, ix, r)
  const bool unit = is == int64_t(sizeof(I)) && (gather ? ws : rs) == int64_t(sizeof(T));
  auto line = [&](char* w, const char* ix, const char* r) {
    if (unit) {  // contiguous index and direct operand along dim
      const I* id = reinterpret_cast<const I*>(ix);
      if (gather) {
        T* out = reinterpret_cast<T*>(w);
        for (int64_t t = 0; t < n; ++t) out[t] = *reinterpret_cast<const T*>(r + at(id[t]) * ds);
      } else {
        const T* src = reinterpret_cast<const T*>(r);
        int64_t t = 0;
        if (n > 4096)  // long lines: destinations are random, prefetch them
          for (; t + 16 < n; ++t) {
            __builtin_prefetch(w + int64_t(id[t + 16]) * ds, 1);
            op(reinterpret_cast<T*>(w + int64_t(id[t]) * ds), src + t);
          }
        for (; t < n; ++t) op(reinterpret_cast<T*>(w + int64_t(id[t]) * ds), src + t);
      }
      return;
    }
    if (gather) {
      for (int64_t t = 0; t < n; ++t)
        *reinterpret_cast<T*>(w + t * ws) = *reinterpret_cast<const T*>(r + at(*reinterpret_cast<const I*>(ix + t * is)) * ds);
    } else {
      for (int64_t t = 0; t < n; ++t)
        op(reinterpret_cast<T*>(w + int64_t(*reinterpret_cast<const I*>(ix + t * is)) * ds),
           reinterpret_cast<const T*>(r + t * rs));
    }
  };
  for_each(pl.it, [&](char** p, const int64_t* s, int64_t m) {
    // Lines are independent (they never share an element), so a run of m lines may be
    // walked dim-outer when that is the closer order in memory; each line still sees
    // its positions in order.
    const bool dim_outer = m > 1 && std::abs(s[1]) < std::abs(is);
    if (!dim_outer) {
      for (int64_t i = 0; i < m; ++i) line(p[0] + i * s[0], p[1] + i * s[1], p[2] + i * s[2]);
      return;
    }
    for (int64_t t = 0; t < n; ++t) {
      char* w = p[0];
      const char* ix = p[1] + t * is;
      const char* r = p[2];
      if (gather) {
        w += t * ws;
        for (int64_t i = 0; i < m; ++i)
          *reinterpret_cast<T*>(w + i * s[0]) =
              *reinterpret_cast<const T*>(r + i * s[2] + at(*reinterpret_cast<const I*>(ix + i * s[1])) * ds);
      } else {
        r += t * rs;
        for (int64_t i = 0; i < m; ++i)
          op(reinterpret_cast<T*>(w + i * s[0] + int64_t(*reinterpret_cast<const I*>(ix + i * s[1])) * ds),
             reinterpret_cast<const T*>(r + i * s[2]));
      }
    }
  }, grain);
  return ok.load();
}

// Not EMBER_HOT: these loops are bound by memory, not arithmetic, and flattening every
// dtype x index dtype x reduction into two clones made this file take many minutes to build.
bool scatter_gather_kernel(const ScatterGatherPlan& pl) {
  bool ok = true;
  if (pl.reduce == ScatterReduce::None) {  // plain copies: by element size
    auto run = [&](auto size_tag) {
      using T = EMBER_TYPE(size_tag);
      dispatch<kIndexMask>(pl.idx_dtype, "scatter", [&](auto itag) {
        ok = scatter_gather_typed<T, EMBER_TYPE(itag)>(pl, [](T* d, const T* s) { *d = *s; });
      });
      return ok;
    };
    switch (itemsize(pl.dtype)) {
      case 1: return run(Tag<uint8_t>{});
      case 2: return run(Tag<uint16_t>{});
      case 4: return run(Tag<uint32_t>{});
      default: return run(Tag<uint64_t>{});
    }
  }
  dispatch<kAllMask>(pl.dtype, "scatter_reduce", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    using O = opmath_t<T>;
    dispatch<kIndexMask>(pl.idx_dtype, "scatter_reduce", [&](auto itag) {
      using I = EMBER_TYPE(itag);
      switch (pl.reduce) {
        case ScatterReduce::Sum:
          if constexpr (std::is_same_v<T, bool>)
            return (void)scatter_gather_typed<T, I>(pl, [](T* d, const T* s) { *d = *d || *s; });
          else
            return (void)scatter_gather_typed<T, I>(pl, [](T* d, const T* s) { *d = T(O(*d) + O(*s)); });
        case ScatterReduce::Prod:
          if constexpr (std::is_same_v<T, bool>)
            return (void)scatter_gather_typed<T, I>(pl, [](T* d, const T* s) { *d = *d && *s; });
          else
            return (void)scatter_gather_typed<T, I>(pl, [](T* d, const T* s) { *d = T(O(*d) * O(*s)); });
        case ScatterReduce::Amax:
          if constexpr (!is_complex_v<T>)
            return (void)scatter_gather_typed<T, I>(pl, [](T* d, const T* s) { *d = T(math::max_nan(O(*d), O(*s))); });
          break;
        case ScatterReduce::Amin:
          if constexpr (!is_complex_v<T>)
            return (void)scatter_gather_typed<T, I>(pl, [](T* d, const T* s) { *d = T(math::min_nan(O(*d), O(*s))); });
          break;
        default:
          break;
      }
      throw TypeError(str("[scatter_reduce] unsupported reduction for dtype ", pl.dtype));
    });
  });
  return true;
}
EMBER_REGISTER_CPU(scatter_gather_stub, scatter_gather_kernel);

// ---- nonzero -------------------------------------------------------------------------------

constexpr int64_t kNonzeroChunk = 1 << 16;

Tensor nonzero_kernel(const Tensor& x, bool coord_major) {
  const int64_t n = x.numel(), nd = x.dim();
  const int64_t nchunks = (n + kNonzeroChunk - 1) / kNonzeroChunk;
  std::vector<int64_t> start(nchunks + 1, 0);
  Tensor out;
  dispatch<kAllMask>(x.dtype(), "nonzero", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    const T* a = x.data<T>();
    parallel_for(0, nchunks, 1, [&](int64_t b, int64_t e) {
      for (int64_t c = b; c < e; ++c) {
        int64_t lo = c * kNonzeroChunk, hi = std::min(n, lo + kNonzeroChunk), cnt = 0;
        for (int64_t i = lo; i < hi; ++i) cnt += convert<bool>(a[i]) ? 1 : 0;
        start[c + 1] = cnt;
      }
    });
    for (int64_t c = 0; c < nchunks; ++c) start[c + 1] += start[c];
    const int64_t N = start[nchunks];
    out = coord_major ? empty({nd, N}, ScalarType::Int64) : empty({N, nd}, ScalarType::Int64);
    if (N == 0 || nd == 0) return;
    int64_t* o = out.data<int64_t>();
    const Shape& sizes = x.sizes();
    parallel_for(0, nchunks, 1, [&](int64_t b, int64_t e) {
      std::vector<int64_t> coord(nd);
      for (int64_t c = b; c < e; ++c) {
        int64_t lo = c * kNonzeroChunk, hi = std::min(n, lo + kNonzeroChunk), pos = start[c];
        if (start[c + 1] == pos) continue;
        if (nd == 1) {
          for (int64_t i = lo; i < hi; ++i)
            if (convert<bool>(a[i])) o[pos++] = i;
          continue;
        }
        int64_t r = lo;
        for (int64_t d = nd - 1; d >= 0; --d) {
          coord[d] = r % sizes[d];
          r /= sizes[d];
        }
        for (int64_t i = lo; i < hi; ++i) {
          if (convert<bool>(a[i])) {
            if (coord_major)
              for (int64_t d = 0; d < nd; ++d) o[d * N + pos] = coord[d];
            else
              for (int64_t d = 0; d < nd; ++d) o[pos * nd + d] = coord[d];
            ++pos;
          }
          for (int64_t d = nd - 1; d >= 0; --d) {
            if (++coord[d] < sizes[d]) break;
            coord[d] = 0;
          }
        }
      }
    });
  });
  return out;
}
EMBER_REGISTER_CPU(nonzero_stub, nonzero_kernel);

}  // namespace
}  // namespace ember
