// CPU reduction machinery over a ReducePlan (see ops/reduce.h). An op is a small struct:
//
//   struct SumOp {
//     using acc_t = double;
//     static constexpr int kLanes = 16;        // independent accumulators per output (Row)
//     static constexpr bool kCascade = true;   // fold accumulators in levels (pairwise-like sums)
//     acc_t identity() const;
//     acc_t reduce(acc_t a, In x, int64_t i) const;   // x: one input element, i: its index
//     acc_t combine(acc_t a, acc_t b) const;          // merge two partial results
//     void store(const OutWriter& w, int64_t o, acc_t a) const;  // write output element o
//   };
//
// Results do not depend on the thread count: an output's reduced range is cut into fixed
// chunks (Row: kChunk elements, Col: a fixed number of rows), each chunk is reduced from
// the identity, and the chunk results are combined pairwise in order (PairStream). Threads
// only decide who computes which chunk. Within a chunk, Row reductions keep kLanes
// accumulators (vectorised by the compiler) and, for kCascade ops, fold them into levels
// every kFold steps, so float64 sums grow their error like a pairwise sum.
#pragma once
#include <algorithm>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include "../ops/reduce.h"
#include "loop.h"

// GCC cannot see that PairStream's width-1 results stay in bounds.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"

namespace ember::red {

constexpr int64_t kChunk = 32768;  // elements per Row chunk of one output
constexpr int kFold = 16;          // cascade fan-in
constexpr int kLevels = 4;
constexpr int64_t kWorkGrain = 32768;  // elements of work per parallel task, at least

// A heap array (std::vector<bool> has no data()).
template <typename T>
struct Buf {
  std::unique_ptr<T[]> p;
  explicit Buf(size_t n = 0) : p(new T[n > 0 ? n : 1]) {}
  T* data() const { return p.get(); }
  T& operator[](size_t i) const { return p[i]; }
};

// Writes output values, converting to each output's dtype.
struct OutWriter {
  char* p[2];
  ScalarType t[2];
  explicit OutWriter(const ReducePlan& pl) : p{pl.out[0], pl.out[1]}, t{pl.out_dtype[0], pl.out_dtype[1]} {}
  template <typename V>
  __attribute__((noinline)) void put(int k, int64_t o, V v) const {
    dispatch<kAllMask>(t[k], "reduce", [&](auto tag) {
      using O = EMBER_TYPE(tag);
      reinterpret_cast<O*>(p[k])[o] = convert<O>(v);
    });
  }
};

// Pairwise combination of a sequence of w-wide partial results, streamed in order
// (a binary counter: equal-level neighbours merge). The same sequence always gives the
// same result, whoever computed its items.
template <typename Op>
struct PairStream {
  using acc_t = typename Op::acc_t;
  const Op& op;
  int64_t w;
  Buf<acc_t> buf;
  std::vector<int> lvl;
  int depth = 0;
  PairStream(const Op& o, int64_t width, int64_t max_items) : op(o), w(width) {
    int levels = 2;
    while ((int64_t(1) << levels) < max_items + 1) ++levels;
    buf = Buf<acc_t>(size_t(levels + 1) * size_t(w));
    lvl.resize(size_t(levels + 1));
  }
  acc_t* slot() { return buf.data() + size_t(depth) * size_t(w); }
  void commit() {
    lvl[depth++] = 0;
    while (depth >= 2 && lvl[depth - 1] == lvl[depth - 2]) {
      acc_t* a = &buf[size_t(depth - 2) * size_t(w)];
      const acc_t* b = &buf[size_t(depth - 1) * size_t(w)];
      for (int64_t j = 0; j < w; ++j) a[j] = op.combine(a[j], b[j]);
      ++lvl[depth - 2];
      --depth;
    }
  }
  void push(const acc_t* v) {
    std::copy(v, v + w, slot());
    commit();
  }
  // Folds what is left, top down, into out (w values); resets the stream.
  void result(acc_t* out) {
    if (depth == 0) {
      for (int64_t j = 0; j < w; ++j) out[j] = op.identity();
      return;
    }
    const acc_t* top = &buf[size_t(depth - 1) * size_t(w)];
    for (int64_t j = 0; j < w; ++j) out[j] = top[j];
    for (int d = depth - 2; d >= 0; --d) {
      const acc_t* a = &buf[size_t(d) * size_t(w)];
      for (int64_t j = 0; j < w; ++j) out[j] = op.combine(a[j], out[j]);
    }
    depth = 0;
  }
};

// Walks the multi-index of dims [0, nd) (outermost first) from a linear position,
// tracking up to two offsets (input bytes, output elements).
struct DimWalker {
  int nd;
  const int64_t* size;
  const int64_t* s0;
  const int64_t* s1;
  int64_t idx[kMaxDims];
  int64_t off0 = 0, off1 = 0;
  DimWalker(int n, const int64_t* sz, const int64_t* st0, const int64_t* st1, int64_t pos)
      : nd(n), size(sz), s0(st0), s1(st1) {
    for (int d = nd - 1; d >= 0; --d) {
      idx[d] = pos % size[d];
      pos /= size[d];
      off0 += idx[d] * s0[d];
      if (s1) off1 += idx[d] * s1[d];
    }
  }
  void next() {
    for (int d = nd - 1; d >= 0; --d) {
      off0 += s0[d];
      if (s1) off1 += s1[d];
      if (++idx[d] < size[d]) return;
      off0 -= idx[d] * s0[d];
      if (s1) off1 -= idx[d] * s1[d];
      idx[d] = 0;
    }
  }
};

// ---- Row: each output reduces contiguous runs ------------------------------------------
template <typename In, typename Op>
struct RowDriver {
  using acc_t = typename Op::acc_t;
  static constexpr int L = Op::kLanes;
  const ReducePlan& pl;
  const Op& op;

  struct Lanes {
    acc_t lane[L];
    acc_t lv[kLevels][L];
    int cnt[kLevels];
    int64_t since = 0;
  };

  void init(Lanes& s) const {
    for (int k = 0; k < L; ++k) s.lane[k] = op.identity();
    if constexpr (Op::kCascade) {
      for (int l = 0; l < kLevels; ++l) {
        s.cnt[l] = 0;
        for (int k = 0; k < L; ++k) s.lv[l][k] = op.identity();
      }
    }
    s.since = 0;
  }
  void fold(Lanes& s) const {
    if constexpr (Op::kCascade) {
      for (int k = 0; k < L; ++k) {
        s.lv[0][k] = op.combine(s.lv[0][k], s.lane[k]);
        s.lane[k] = op.identity();
      }
      ++s.cnt[0];
      for (int l = 0; l + 1 < kLevels && s.cnt[l] == kFold; ++l) {
        for (int k = 0; k < L; ++k) {
          s.lv[l + 1][k] = op.combine(s.lv[l + 1][k], s.lv[l][k]);
          s.lv[l][k] = op.identity();
        }
        s.cnt[l] = 0;
        ++s.cnt[l + 1];
      }
      s.since = 0;
    }
  }
  acc_t finish(Lanes& s) const {
    acc_t r[L];
    if constexpr (Op::kCascade) {
      fold(s);
      for (int k = 0; k < L; ++k) {
        acc_t a = s.lv[0][k];
        for (int l = 1; l < kLevels; ++l) a = op.combine(a, s.lv[l][k]);
        r[k] = a;
      }
    } else {
      for (int k = 0; k < L; ++k) r[k] = s.lane[k];
    }
    for (int w = L / 2; w >= 1; w /= 2)
      for (int k = 0; k < w; ++k) r[k] = op.combine(r[k], r[k + w]);
    return r[0];
  }

  // One contiguous run of n elements starting at index i0 into the lanes.
  void run(Lanes& s, const In* p, int64_t i0, int64_t n) const {
    acc_t a[L];
    for (int k = 0; k < L; ++k) a[k] = s.lane[k];
    int64_t i = 0;
    while (n - i >= L) {
      int64_t steps = (n - i) / L;
      if constexpr (Op::kCascade) steps = std::min<int64_t>(steps, std::max<int64_t>(1, (kFold * L - s.since) / L));
      for (int64_t t = 0; t < steps; ++t, i += L)
        for (int k = 0; k < L; ++k) a[k] = op.reduce(a[k], p[i + k], i0 + i + k);
      if constexpr (Op::kCascade) {
        s.since += steps * L;
        if (s.since >= kFold * L) {
          for (int k = 0; k < L; ++k) s.lane[k] = a[k];
          fold(s);
          for (int k = 0; k < L; ++k) a[k] = s.lane[k];
        }
      }
    }
    for (int k = 0; i < n; ++i, ++k) a[k] = op.reduce(a[k], p[i], i0 + i);
    for (int k = 0; k < L; ++k) s.lane[k] = a[k];
    if constexpr (Op::kCascade) {
      s.since += n % L;
      if (s.since >= kFold * L) fold(s);
    }
  }

  // Calls f(ptr, first index, length) for each contiguous run of reduced elements [rb, re).
  template <typename F>
  void walk(const char* base, int64_t rb, int64_t re, F&& f) const {
    const int nd = pl.rdim;
    const int64_t n0 = pl.rsize[nd - 1];
    if (nd == 1) {
      f(reinterpret_cast<const In*>(base) + rb, rb, re - rb);
      return;
    }
    DimWalker w(nd - 1, pl.rsize, pl.rin, nullptr, rb / n0);
    int64_t i0 = rb % n0, pos = rb;
    while (pos < re) {
      int64_t n = std::min(n0 - i0, re - pos);
      f(reinterpret_cast<const In*>(base + w.off0) + i0, pos, n);
      pos += n;
      i0 = 0;
      w.next();
    }
  }

  // The reduction of elements [rb, re) of the output whose input starts at base.
  acc_t chunk(const char* base, int64_t rb, int64_t re) const {
    if (re - rb < 2 * L) {  // short: one accumulator
      acc_t a = op.identity();
      walk(base, rb, re, [&](const In* p, int64_t i0, int64_t n) {
        for (int64_t i = 0; i < n; ++i) a = op.reduce(a, p[i], i0 + i);
      });
      return a;
    }
    Lanes s;
    init(s);
    walk(base, rb, re, [&](const In* p, int64_t i0, int64_t n) { run(s, p, i0, n); });
    return finish(s);
  }
};

// Row tasks [tb, te). Without `partial`: task = output, reduced chunk by chunk and stored.
// With `partial`: task = (output, chunk), its result goes to partial[task].
template <typename In, typename Op>
inline void row_task(const RowDriver<In, Op>& d, int64_t nchunks, int64_t tb, int64_t te,
                     typename Op::acc_t* partial) {
  using acc_t = typename Op::acc_t;
  const ReducePlan& pl = d.pl;
  if (partial) {
    for (int64_t t = tb; t < te; ++t) {
      int64_t o = t / nchunks, c = t % nchunks;
      DimWalker kw(pl.kdim, pl.ksize, pl.kin, nullptr, o);
      partial[t] = d.chunk(pl.in + kw.off0, c * kChunk, std::min(pl.n_red, (c + 1) * kChunk));
    }
    return;
  }
  OutWriter w(pl);
  DimWalker kw(pl.kdim, pl.ksize, pl.kin, pl.kout, tb);
  if (nchunks <= 1) {
    for (int64_t o = tb; o < te; ++o, kw.next()) d.op.store(w, kw.off1, d.chunk(pl.in + kw.off0, 0, pl.n_red));
    return;
  }
  PairStream<Op> ps(d.op, 1, nchunks);
  for (int64_t o = tb; o < te; ++o, kw.next()) {
    for (int64_t c = 0; c < nchunks; ++c) {
      *ps.slot() = d.chunk(pl.in + kw.off0, c * kChunk, std::min(pl.n_red, (c + 1) * kChunk));
      ps.commit();
    }
    acc_t r;
    ps.result(&r);
    d.op.store(w, kw.off1, r);
  }
}

// Hot ops get AVX2 clones with everything inlined; the others compile once (smaller, faster builds).
template <typename In, typename Op>
EMBER_HOT512 void row_task_hot(const RowDriver<In, Op>& d, int64_t nchunks, int64_t tb, int64_t te,
                            typename Op::acc_t* partial) {
  row_task(d, nchunks, tb, te, partial);
}
template <typename In, typename Op>
void row_task_cold(const RowDriver<In, Op>& d, int64_t nchunks, int64_t tb, int64_t te, typename Op::acc_t* partial) {
  row_task(d, nchunks, tb, te, partial);
}

// ---- Col: each reduced row is accumulated into a strip of contiguous outputs -------------
template <typename In, typename Op>
struct ColDriver {
  using acc_t = typename Op::acc_t;
  const ReducePlan& pl;
  const Op& op;
  int64_t inner, width, nstrips, n_outer, rows_per_chunk, nchunks;

  ColDriver(const ReducePlan& p, const Op& o) : pl(p), op(o) {
    inner = pl.ksize[pl.kdim - 1];
    // strips of about 8 KiB of each input row (long runs for the prefetcher), at most 32 KiB of accumulators
    width = std::min<int64_t>(inner, std::max<int64_t>(64, std::min<int64_t>(8192 / sizeof(In), 32768 / sizeof(acc_t))));
    nstrips = (inner + width - 1) / width;
    n_outer = pl.n_out / inner;
    rows_per_chunk = std::max<int64_t>(64, 4 * kChunk / width);
    nchunks = (pl.n_red + rows_per_chunk - 1) / rows_per_chunk;
  }
  int64_t units() const { return n_outer * nstrips; }

  // Input base (bytes) and output offset of strip `u`, and its width.
  void unit(int64_t u, const char*& base, int64_t& out_off, int64_t& w) const {
    int64_t o = u / nstrips, s = u % nstrips;
    DimWalker kw(pl.kdim - 1, pl.ksize, pl.kin, pl.kout, o);
    base = pl.in + kw.off0 + s * width * int64_t(sizeof(In));
    out_off = kw.off1 + s * width * pl.kout[pl.kdim - 1];
    w = std::min(width, inner - s * width);
  }

  // Rows [rb, re) of a strip of w columns into acc (w values, reset to the identity first).
  void chunk(const char* base, int64_t w, int64_t rb, int64_t re, acc_t* acc, acc_t* lv) const {
    for (int64_t j = 0; j < w; ++j) acc[j] = op.identity();
    int cnt[kLevels] = {0};
    if constexpr (Op::kCascade)
      for (int64_t j = 0; j < kLevels * w; ++j) lv[j] = op.identity();
    DimWalker rw(pl.rdim, pl.rsize, pl.rin, nullptr, rb);
    int64_t r = rb;
    auto fold = [&] {
      if constexpr (Op::kCascade) {
        for (int64_t j = 0; j < w; ++j) {
          lv[j] = op.combine(lv[j], acc[j]);
          acc[j] = op.identity();
        }
        ++cnt[0];
        for (int l = 0; l + 1 < kLevels && cnt[l] == kFold; ++l) {
          acc_t* a = lv + l * w;
          acc_t* b = lv + (l + 1) * w;
          for (int64_t j = 0; j < w; ++j) {
            b[j] = op.combine(b[j], a[j]);
            a[j] = op.identity();
          }
          cnt[l] = 0;
          ++cnt[l + 1];
        }
      }
    };
    int since = 0;
    while (r < re) {
      if (re - r >= 4) {
        const In* p0 = reinterpret_cast<const In*>(base + rw.off0);
        rw.next();
        const In* p1 = reinterpret_cast<const In*>(base + rw.off0);
        rw.next();
        const In* p2 = reinterpret_cast<const In*>(base + rw.off0);
        rw.next();
        const In* p3 = reinterpret_cast<const In*>(base + rw.off0);
        rw.next();
        for (int64_t j = 0; j < w; ++j)
          acc[j] = op.reduce(op.reduce(op.reduce(op.reduce(acc[j], p0[j], r), p1[j], r + 1), p2[j], r + 2), p3[j], r + 3);
        r += 4;
        since += 4;
      } else {
        const In* p0 = reinterpret_cast<const In*>(base + rw.off0);
        rw.next();
        for (int64_t j = 0; j < w; ++j) acc[j] = op.reduce(acc[j], p0[j], r);
        r += 1;
        since += 1;
      }
      if constexpr (Op::kCascade) {
        if (since >= kFold) {
          fold();
          since = 0;
        }
      }
    }
    if constexpr (Op::kCascade) {
      fold();
      for (int64_t j = 0; j < w; ++j) {
        acc_t a = lv[j];
        for (int l = 1; l < kLevels; ++l) a = op.combine(a, lv[l * w + j]);
        acc[j] = a;
      }
    }
  }
  void store(int64_t out_off, int64_t w, const acc_t* acc) const {
    OutWriter wr(pl);
    const int64_t so = pl.kout[pl.kdim - 1];
    for (int64_t j = 0; j < w; ++j) op.store(wr, out_off + j * so, acc[j]);
  }
};

// Col tasks [tb, te). Without `partial`: task = strip, reduced chunk by chunk and stored.
// With `partial`: task = (strip, chunk), its width results go to partial[task * width].
template <typename In, typename Op>
inline void col_task(const ColDriver<In, Op>& d, int64_t tb, int64_t te, typename Op::acc_t* partial) {
  using acc_t = typename Op::acc_t;
  Buf<acc_t> acc(size_t(d.width) * (1 + kLevels));
  acc_t* lv = acc.data() + d.width;
  if (partial) {
    for (int64_t t = tb; t < te; ++t) {
      int64_t u = t / d.nchunks, c = t % d.nchunks;
      const char* base;
      int64_t out_off, w;
      d.unit(u, base, out_off, w);
      d.chunk(base, w, c * d.rows_per_chunk, std::min(d.pl.n_red, (c + 1) * d.rows_per_chunk), partial + t * d.width, lv);
    }
    return;
  }
  PairStream<Op> ps(d.op, d.width, d.nchunks);
  for (int64_t u = tb; u < te; ++u) {
    const char* base;
    int64_t out_off, w;
    d.unit(u, base, out_off, w);
    if (d.nchunks <= 1) {
      d.chunk(base, w, 0, d.pl.n_red, acc.data(), lv);
    } else {
      ps.w = w;
      for (int64_t c = 0; c < d.nchunks; ++c) {
        d.chunk(base, w, c * d.rows_per_chunk, std::min(d.pl.n_red, (c + 1) * d.rows_per_chunk), ps.slot(), lv);
        ps.commit();
      }
      ps.result(acc.data());
    }
    d.store(out_off, w, acc.data());
  }
}

template <typename In, typename Op>
EMBER_HOT void col_task_hot(const ColDriver<In, Op>& d, int64_t tb, int64_t te, typename Op::acc_t* partial) {
  col_task(d, tb, te, partial);
}
template <typename In, typename Op>
void col_task_cold(const ColDriver<In, Op>& d, int64_t tb, int64_t te, typename Op::acc_t* partial) {
  col_task(d, tb, te, partial);
}

// ---- entry point ----------------------------------------------------------------------
template <typename Op, typename = void> struct is_hot { static constexpr bool value = false; };
template <typename Op> struct is_hot<Op, std::void_t<decltype(Op::kHot)>> { static constexpr bool value = Op::kHot; };

template <typename In, typename Op>
void reduce(const ReducePlan& pl, const Op& op) {
  using acc_t = typename Op::acc_t;
  constexpr bool hot = is_hot<Op>::value;
  const int nt = get_num_threads();
  if (pl.n_out == 0) return;
  if (pl.n_red == 0) {
    OutWriter w(pl);
    for (int64_t o = 0; o < pl.n_out; ++o) op.store(w, o, op.identity());
    return;
  }
  if (pl.layout == ReduceLayout::Row) {
    RowDriver<In, Op> d{pl, op};
    auto task = [&](int64_t nch, int64_t b, int64_t e, acc_t* partial) {
      if constexpr (hot) row_task_hot<In, Op>(d, nch, b, e, partial);
      else row_task_cold<In, Op>(d, nch, b, e, partial);
    };
    const int64_t nchunks = (pl.n_red + kChunk - 1) / kChunk;
    if (nchunks <= 1 || pl.n_out >= 4 * nt || (pl.n_out >= nt && pl.n_out % nt == 0)) {
      int64_t grain = std::max<int64_t>(1, kWorkGrain / pl.n_red);
      parallel_for(0, pl.n_out, grain, [&](int64_t b, int64_t e) { task(nchunks, b, e, nullptr); });
      return;
    }
    Buf<acc_t> partial(size_t(pl.n_out * nchunks));
    parallel_for(0, pl.n_out * nchunks, 1, [&](int64_t b, int64_t e) { task(nchunks, b, e, partial.data()); });
    PairStream<Op> ps(op, 1, nchunks);
    OutWriter w(pl);
    DimWalker kw(pl.kdim, pl.ksize, pl.kin, pl.kout, 0);
    for (int64_t o = 0; o < pl.n_out; ++o, kw.next()) {
      for (int64_t c = 0; c < nchunks; ++c) ps.push(&partial[size_t(o * nchunks + c)]);
      acc_t r;
      ps.result(&r);
      op.store(w, kw.off1, r);
    }
    return;
  }
  ColDriver<In, Op> d(pl, op);
  auto task = [&](int64_t b, int64_t e, acc_t* partial) {
    if constexpr (hot) col_task_hot<In, Op>(d, b, e, partial);
    else col_task_cold<In, Op>(d, b, e, partial);
  };
  const int64_t units = d.units();
  if (d.nchunks <= 1 || units >= 4 * nt || (units >= nt && units % nt == 0)) {
    int64_t grain = std::max<int64_t>(1, kWorkGrain / std::max<int64_t>(1, d.width * pl.n_red));
    parallel_for(0, units, grain, [&](int64_t b, int64_t e) { task(b, e, nullptr); });
    return;
  }
  Buf<acc_t> partial(size_t(units * d.nchunks * d.width));
  parallel_for(0, units * d.nchunks, 1, [&](int64_t b, int64_t e) { task(b, e, partial.data()); });
  PairStream<Op> ps(op, d.width, d.nchunks);
  Buf<acc_t> acc(size_t(d.width));
  for (int64_t u = 0; u < units; ++u) {
    const char* base;
    int64_t out_off, w;
    d.unit(u, base, out_off, w);
    ps.w = w;
    for (int64_t c = 0; c < d.nchunks; ++c) ps.push(&partial[size_t((u * d.nchunks + c) * d.width)]);
    ps.result(acc.data());
    d.store(out_off, w, acc.data());
  }
}

}  // namespace ember::red

#pragma GCC diagnostic pop
