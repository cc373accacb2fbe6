// Direct depthwise convolutions (ops/nn.h: groups == C > 1, Cout = C * multiplier), 1-, 2-
// and 3-d through the same code: no im2col, no GEMM per group.
//
// Every kernel reduces to rows of shifted dot products: a destination row of n elements is the
// sum over its taps t of w[t] * buf[src_t + q], q < n, where buf holds a source plane copied
// into a zero-padded buffer (padded in D, H and W) laid out so that every tap reads contiguous
// memory: no bounds checks in the loops, the borders read the padding.
//   forward and weight gradient: x, its rows split into `stride` phases, so that
//     x[ow * s + kw * d - p] is phase (kw * d) % s at index ow + (kw * d) / s;
//   input gradient: gy; a row of gx is made per W phase r (the columns iw = q * s + r), which
//     sees only the taps kw with (r + p - kw * d) % s == 0 (and the rows kh, kd that the row's
//     own phase allows), as contiguous reads of gy; the phases are interleaved at the end.
// A Plan, made once per call, lists the destination rows in blocks of rows whose taps are the
// same, shifted (a 3x3 stride-1 plane is one block); 3-wide rows (3x3 kernels, stride 1 or 2,
// dilation 1) get loops with one pointer per source row instead of one per tap. Planes run in
// parallel: (n, co) planes of y in memory order for the forward, (n, c) planes of gx for the
// input gradient. The weight gradient sums into vector lanes of T over at least kFlush outputs
// (whole planes), then in double; its tasks are (image chunk, channel group), fixed by the
// shapes, and the chunks' sums are added in order, so its result does not depend on the thread
// count.
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "../ops/nn.h"
#include "loop.h"

namespace ember {
namespace {

constexpr uint32_t kDwMask = tbit(ScalarType::Float32) | tbit(ScalarType::Float64);
constexpr int kMaxTaps = 9;         // taps per pass over a destination row (3x3 in one pass)
constexpr int64_t kMaxChunks = 16;  // image chunks (partial sums) of the weight gradient
constexpr int64_t kChanGroup = 16;  // channels per weight-gradient task
constexpr int64_t kFlush = 1024;    // outputs per partial sum in T of the weight gradient

struct Tap {
  int64_t src;   // offset of the tap's first element in the buffer
  int64_t widx;  // index into the weights of the destination plane
};
// Rows of a block have the same taps, shifted by src_step in the buffer (dst_step in the
// destination) from one row to the next.
struct Row {
  int64_t dst, n;  // first element in the destination plane, element count
  int64_t t0, nt;  // taps [t0, t0 + nt) of the block's first row
  int64_t rows = 1, dst_step = 0, src_step = 0;
  // 1 or 2: the taps come in threes along source rows, at offsets {0, 1, 2} or {0, PWs, 1}
  // from the first of each three (3-wide rows, stride 1 or 2); 0: any other taps.
  int threes = 0;
};
struct Plan {
  std::vector<Row> rows;
  std::vector<Tap> taps;
  // The buffer: `planes` source planes of (sd, sh) rows of sw elements, each as (bd, bh) rows
  // of S phases of PWs elements, source row (id, ih) at buffer row (id + td, ih + th) and its
  // column c at position c + PL (phase (c + PL) % S, index (c + PL) / S). What the source does
  // not cover is zero padding, the same positions for every plane: the buffer is zeroed once.
  int64_t planes = 1, sd = 1, sh = 1, sw = 0, bd = 1, bh = 1, td = 0, th = 0;
  int64_t S = 1, PL = 0, PWs = 0;
  bool direct = false;  // the buffer would be the source itself: no copy
  // With phases > 1 (the input gradient of a W stride), rows write W phase r of destination
  // row (id, ih) to row ((r * ID + id) * s1 + ih % s1) * hs + ih / s1 of tmp, tpitch apart
  // (rows of an H phase follow each other: a block of them is one long row when tpitch is
  // also its rows' distance in the buffer), and interleave() puts them in place.
  int64_t phases = 1, s1 = 1, hs = 0, tpitch = 0, ID = 0, IH = 0, IW = 0;
  int64_t row_len() const { return S * PWs; }
  int64_t buf_size() const { return direct ? 0 : planes * bd * bh * row_len(); }
  int64_t buf_row(int64_t plane, int64_t d, int64_t h) const { return ((plane * bd + d) * bh + h) * row_len(); }
  int64_t tmp_size() const { return phases > 1 ? phases * ID * s1 * hs * tpitch : 0; }
  int64_t tmp_row(int64_t r, int64_t id, int64_t ih) const { return ((r * ID + id) * s1 + ih % s1) * hs + ih / s1; }

  // Appends row r (its taps already pushed from r.t0 on): into the last block when it is that
  // block's next row, as a new block otherwise.
  void add(Row r) {
    if (!rows.empty()) {
      Row& b = rows.back();
      const int64_t ds = r.dst - (b.dst + (b.rows - 1) * b.dst_step);
      const int64_t ss = r.nt ? taps[size_t(r.t0)].src - (taps[size_t(b.t0)].src + (b.rows - 1) * b.src_step) : 0;
      bool same = b.nt == r.nt && b.n == r.n && (b.rows == 1 || (ds == b.dst_step && ss == b.src_step));
      for (int64_t t = 0; same && t < r.nt; ++t) {
        const Tap &x = taps[size_t(b.t0 + t)], &y = taps[size_t(r.t0 + t)];
        same = x.widx == y.widx && y.src - x.src == b.rows * ss;
      }
      if (same) {
        b.dst_step = ds;
        b.src_step = ss;
        ++b.rows;
        taps.resize(size_t(r.t0));
        return;
      }
    }
    rows.push_back(r);
  }

  // Marks the blocks whose taps come in (at most three) threes (Row::threes).
  void find_threes() {
    for (Row& r : rows) {
      if (r.nt == 0 || r.nt % 3 != 0 || r.nt > 9) continue;
      for (int pat = 1; pat <= 2 && !r.threes; ++pat) {
        const int64_t o1 = pat == 1 ? 1 : PWs, o2 = pat == 1 ? 2 : 1;
        bool ok = pat == 1 || S == 2;
        for (int64_t t = r.t0; ok && t < r.t0 + r.nt; t += 3) {
          const int64_t s0 = taps[size_t(t)].src;
          ok = taps[size_t(t + 1)].src == s0 + o1 && taps[size_t(t + 2)].src == s0 + o2;
        }
        if (ok) r.threes = pat;
      }
    }
  }
};

// Destination rows are output rows of y (od, oh) reading x: the forward and the weight gradient.
// The buffer pads x in D and H too, so that every row has all the taps (one block per plane
// in 2-d).
Plan forward_plan(const ConvGeom& g) {
  Plan P;
  const int64_t KD = g.k[0], KH = g.k[1], KW = g.k[2], OD = g.out[0], OH = g.out[1], OW = g.out[2];
  const int64_t s2 = g.stride[2], d2 = g.dil[2];
  const int64_t PW = std::max<int64_t>(0, (OW - 1) * s2 + (KW - 1) * d2 + 1);  // positions read per row
  P.sd = g.in[0];
  P.sh = g.in[1];
  P.sw = g.in[2];
  P.direct = s2 == 1 && g.pad[0] == 0 && g.pad[1] == 0 && g.pad[2] == 0 && PW <= P.sw;
  P.S = s2;
  P.PL = g.pad[2];
  P.PWs = P.direct ? P.sw : (PW + s2 - 1) / s2;
  P.td = g.pad[0];
  P.th = g.pad[1];
  P.bd = P.direct ? P.sd : std::max((OD - 1) * g.stride[0] + (KD - 1) * g.dil[0] + 1, P.td + P.sd);
  P.bh = P.direct ? P.sh : std::max((OH - 1) * g.stride[1] + (KH - 1) * g.dil[1] + 1, P.th + P.sh);
  for (int64_t od = 0; od < OD; ++od)
    for (int64_t oh = 0; oh < OH; ++oh) {
      Row r{(od * OH + oh) * OW, OW, int64_t(P.taps.size()), 0};
      for (int64_t kd = 0; kd < KD; ++kd)
        for (int64_t kh = 0; kh < KH; ++kh) {
          const int64_t row = P.buf_row(0, od * g.stride[0] + kd * g.dil[0], oh * g.stride[1] + kh * g.dil[1]);
          for (int64_t kw = 0; kw < KW; ++kw)
            P.taps.push_back({row + (kw * d2) % s2 * P.PWs + (kw * d2) / s2, (kd * KH + kh) * KW + kw});
        }
      r.nt = int64_t(P.taps.size()) - r.t0;
      P.add(r);
    }
  P.find_threes();
  return P;
}

// Destination rows are W phases of the rows of gx (id, ih) reading gy: the input gradient.
// The buffer pads gy in D and H so that every tap a row's divisibility allows is in it.
Plan backward_plan(const ConvGeom& g) {
  Plan P;
  const int64_t OD = g.out[0], OH = g.out[1], OW = g.out[2], ID = g.in[0], IH = g.in[1], IW = g.in[2];
  const int64_t KD = g.k[0], KH = g.k[1], KW = g.k[2], s0 = g.stride[0], s1 = g.stride[1], s2 = g.stride[2];
  const int64_t mult = g.Cout / g.C, phases = std::min(s2, IW), kp = g.kprod();
  auto count = [&](int64_t r) { return (IW - r + s2 - 1) / s2; };  // columns of phase r
  // Column offset into gy of tap kw for phase r, or false when it never meets gy.
  auto col = [&](int64_t r, int64_t kw, int64_t& e) {
    const int64_t u = r + g.pad[2] - kw * g.dil[2];
    if (u % s2 != 0) return false;
    e = u / s2;
    return e < OW && e + count(r) > 0;
  };
  // The output row (od or oh) tap k of input row i reads, or false when i's stride phase
  // excludes it.
  auto row = [&](int dim, int64_t i, int64_t k, int64_t& o) {
    const int64_t u = i + g.pad[dim] - k * g.dil[dim];
    if (u % g.stride[dim] != 0) return false;
    o = u / g.stride[dim];
    return true;
  };
  int64_t lo = 0, hi = OW, lod = 0, hid = OD, loh = 0, hih = OH;  // ranges read, gy's own included
  for (int64_t r = 0; r < phases; ++r)
    for (int64_t kw = 0, e; kw < KW; ++kw)
      if (col(r, kw, e)) {
        lo = std::min(lo, e);
        hi = std::max(hi, e + count(r));
      }
  for (int64_t i = 0; i < ID; ++i)
    for (int64_t k = 0, o; k < KD; ++k)
      if (row(0, i, k, o)) lod = std::min(lod, o), hid = std::max(hid, o + 1);
  for (int64_t i = 0; i < IH; ++i)
    for (int64_t k = 0, o; k < KH; ++k)
      if (row(1, i, k, o)) loh = std::min(loh, o), hih = std::max(hih, o + 1);
  P.planes = mult;
  P.sd = OD;
  P.sh = OH;
  P.sw = OW;
  P.direct = lo == 0 && hi == OW && lod == 0 && hid == OD && loh == 0 && hih == OH;
  P.S = 1;
  P.PL = -lo;
  P.PWs = hi - lo;
  P.td = -lod;
  P.th = -loh;
  P.bd = hid - lod;
  P.bh = hih - loh;
  P.phases = s2 == 1 ? 1 : phases;
  P.s1 = s1;
  P.hs = (IH + s1 - 1) / s1;
  P.tpitch = std::max(P.PWs, count(0));
  P.ID = ID;
  P.IH = IH;
  P.IW = IW;
  // Rows in the order (W phase, D phase, H phase, id, ih), so that rows with the same taps
  // (shifted) follow each other and form blocks.
  for (int64_t r = 0; r < phases; ++r)
    for (int64_t rd = 0; rd < std::min(s0, ID); ++rd)
      for (int64_t rh = 0; rh < std::min(s1, IH); ++rh)
        for (int64_t id = rd; id < ID; id += s0)
          for (int64_t ih = rh; ih < IH; ih += s1) {
            const int64_t dst = P.phases > 1 ? P.tmp_row(r, id, ih) * P.tpitch : (id * IH + ih) * IW;
            Row rw{dst, count(r), int64_t(P.taps.size()), 0};
            for (int64_t m = 0; m < mult; ++m)
              for (int64_t kd = 0, od; kd < KD; ++kd) {
                if (!row(0, id, kd, od)) continue;
                for (int64_t kh = 0, oh; kh < KH; ++kh) {
                  if (!row(1, ih, kh, oh)) continue;
                  const int64_t base = P.buf_row(m, od + P.td, oh + P.th) + P.PL;
                  for (int64_t kw = KW - 1, e; kw >= 0; --kw)  // ascending offsets into gy
                    if (col(r, kw, e)) P.taps.push_back({base + e, m * kp + (kd * KH + kh) * KW + kw});
                }
              }
            rw.nt = int64_t(P.taps.size()) - rw.t0;
            P.add(rw);
          }
  P.find_threes();
  return P;
}

// Copies the source rows [0, nrows) of width w into buffer rows len apart (the loops per
// number of phases; the source column c goes to position c + PL).
template <typename T>
inline void fill_rows(const Plan& P, const T* src, T* b, int64_t nrows, int64_t w, int64_t len) {
  if (P.S == 1) {
    for (int64_t i = 0; i < nrows; ++i, src += P.sw, b += len)
#pragma omp simd
      for (int64_t c = 0; c < w; ++c) b[P.PL + c] = src[c];
  } else if (P.S == 2) {  // even columns to phase PL % 2, odd ones to the other
    const int64_t e = P.PL % 2, half = w / 2;
    for (int64_t i = 0; i < nrows; ++i, src += P.sw, b += len) {
      T* be = b + e * P.PWs + P.PL / 2;
      T* bo = b + (1 - e) * P.PWs + (P.PL + 1) / 2;
#pragma omp simd
      for (int64_t j = 0; j < half; ++j) {
        be[j] = src[2 * j];
        bo[j] = src[2 * j + 1];
      }
      if (w % 2) be[half] = src[w - 1];
    }
  } else {
    for (int64_t i = 0; i < nrows; ++i, src += P.sw, b += len)
      for (int64_t c = 0; c < w; ++c) b[(c + P.PL) % P.S * P.PWs + (c + P.PL) / P.S] = src[c];
  }
}

// Copies the source planes into the buffer's layout (Plan).
template <typename T>
inline void fill_buffer(const Plan& P, const T* src, T* buf) {
  const int64_t len = P.row_len(), w = std::min(P.sw, len - P.PL);  // columns that fit
  if (w <= 0) return;
  for (int64_t pl = 0; pl < P.planes; ++pl)
    for (int64_t id = 0; id < P.sd; ++id, src += P.sh * P.sw)
      fill_rows(P, src, buf + P.buf_row(pl, id + P.td, P.th), P.sh, w, len);
}

// Pointers to the taps of a block's row: one per tap (PAT 0), or with the taps in threes
// (Row::threes == PAT) one per source row (and phase) and constant offsets, so that the loops
// keep everything in registers.
template <typename T, int NT, int PAT>
struct TapPtrs {
  static constexpr int N = PAT ? NT / 3 : NT;
  const T* s[N];
  int64_t o1;
  TapPtrs(const T* const* src, int64_t pws) : o1(PAT == 1 ? 1 : pws) {
    for (int i = 0; i < N; ++i) s[i] = src[PAT ? 3 * i : i];
  }
  const T* at(int t) const {  // t is a constant once the loops over taps are unrolled
    if constexpr (PAT == 0) return s[t];
    return s[t / 3] + (t % 3 == 0 ? 0 : t % 3 == 1 ? o1 : PAT == 1 ? 2 : 1);
  }
  void advance(int64_t step) {
    for (int i = 0; i < N; ++i) s[i] += step;
  }
};

// For each of `rows` rows (out + i * ostep, taps + i * sstep):
// out[q] (+)= sum over NT taps of w[t] * src[t][q], q < n.
template <typename T, int NT, int PAT>
inline void taps_block(T* out, int64_t ostep, const T* const* src, int64_t pws, int64_t sstep, const T* w, int64_t n,
                       int64_t rows, bool acc) {
  TapPtrs<T, NT, PAT> s(src, pws);
  T c[NT];
  for (int t = 0; t < NT; ++t) c[t] = w[t];
  // omp simd: out never overlaps the sources (no run-time alias checks per row)
  int64_t i = 0;
  if (PAT && !acc)  // two rows at a time: half the loop overhead of short rows
    for (; i + 2 <= rows; i += 2, out += 2 * ostep) {
      T* out1 = out + ostep;
#pragma omp simd
      for (int64_t q = 0; q < n; ++q) {
        T a = c[0] * s.at(0)[q], b = c[0] * s.at(0)[q + sstep];
        for (int t = 1; t < NT; ++t) {
          a += c[t] * s.at(t)[q];
          b += c[t] * s.at(t)[q + sstep];
        }
        out[q] = a;
        out1[q] = b;
      }
      s.advance(2 * sstep);
    }
  for (; i < rows; ++i, out += ostep) {
    if (acc) {
#pragma omp simd
      for (int64_t q = 0; q < n; ++q) {
        T a = out[q];
        for (int t = 0; t < NT; ++t) a += c[t] * s.at(t)[q];
        out[q] = a;
      }
    } else {
#pragma omp simd
      for (int64_t q = 0; q < n; ++q) {
        T a = c[0] * s.at(0)[q];
        for (int t = 1; t < NT; ++t) a += c[t] * s.at(t)[q];
        out[q] = a;
      }
    }
    s.advance(sstep);
  }
}

// The weight gradient's dot products keep one vector accumulator per tap in registers, which
// GCC does not find by itself in the loops' scalar form: its vector extension, one AVX2
// register (two SSE ones in the baseline build).
typedef float F32x8 __attribute__((vector_size(32)));
typedef double F64x4 __attribute__((vector_size(32)));
template <typename T> struct VecOf;
template <> struct VecOf<float> { using type = F32x8; };
template <> struct VecOf<double> { using type = F64x4; };
// Partial sums per weight of the weight gradient: a vector's lanes and one for the row tails.
template <typename T>
constexpr int kAcc = int(sizeof(typename VecOf<T>::type) / sizeof(T)) + 1;

// (by reference: a vector returned by value would change the baseline build's ABI)
template <typename V, typename T>
inline void load_vec(V& v, const T* p) {
  std::memcpy(&v, p, sizeof(V));
}

// acc[t] (kAcc<T> partial sums each: the vector's lanes, then one for the tails) += the dot
// product of g and src[t] over n elements of each of `rows` rows (g + i * gstep, src + i * sstep).
template <typename T, int NT, int PAT>
inline void dots_block(const T* g, int64_t gstep, const T* const* src, int64_t pws, int64_t sstep, T* const* acc,
                       int64_t n, int64_t rows) {
  using V = typename VecOf<T>::type;
  constexpr int W = int(sizeof(V) / sizeof(T));
  TapPtrs<T, NT, PAT> s(src, pws);
  V a[NT];
  for (int t = 0; t < NT; ++t) load_vec(a[t], acc[t]);
  for (int64_t i = 0; i < rows; ++i, g += gstep) {
    int64_t q = 0;
    for (; q + W <= n; q += W) {
      V gv, sv;
      load_vec(gv, g + q);
      for (int t = 0; t < NT; ++t) {
        load_vec(sv, s.at(t) + q);
        a[t] += gv * sv;
      }
    }
    for (; q < n; ++q)  // row tails: in memory, so that the vector sums keep the registers
      for (int t = 0; t < NT; ++t) acc[t][W] += g[q] * s.at(t)[q];
    s.advance(sstep);
  }
  for (int t = 0; t < NT; ++t) std::memcpy(acc[t], &a[t], sizeof(V));
}

template <typename F>
inline void by_count(int nt, F&& f) {
  switch (nt) {
    case 1: return f(std::integral_constant<int, 1>{});
    case 2: return f(std::integral_constant<int, 2>{});
    case 3: return f(std::integral_constant<int, 3>{});
    case 4: return f(std::integral_constant<int, 4>{});
    case 5: return f(std::integral_constant<int, 5>{});
    case 6: return f(std::integral_constant<int, 6>{});
    case 7: return f(std::integral_constant<int, 7>{});
    case 8: return f(std::integral_constant<int, 8>{});
    default: return f(std::integral_constant<int, 9>{});
  }
}

// f(NT, PAT) as constants for a chunk of k taps of block r.
template <typename F>
inline void by_taps(const Row& r, int k, F&& f) {
  using std::integral_constant;
  if (r.threes == 1 && k == r.nt) {
    if (k == 3) return f(integral_constant<int, 3>{}, integral_constant<int, 1>{});
    if (k == 6) return f(integral_constant<int, 6>{}, integral_constant<int, 1>{});
    return f(integral_constant<int, 9>{}, integral_constant<int, 1>{});
  }
  if (r.threes == 2 && k == r.nt) {
    if (k == 3) return f(integral_constant<int, 3>{}, integral_constant<int, 2>{});
    if (k == 6) return f(integral_constant<int, 6>{}, integral_constant<int, 2>{});
    return f(integral_constant<int, 9>{}, integral_constant<int, 2>{});
  }
  by_count(k, [&](auto nt) { f(nt, integral_constant<int, 0>{}); });
}

// Puts the W phases of every destination row (tmp, see Plan) in place.
template <typename T>
inline void interleave(const Plan& P, const T* tmp, T* dst) {
  const int64_t S = P.phases, W = P.IW, phase = P.ID * P.s1 * P.hs * P.tpitch;  // tmp per W phase
  for (int64_t id = 0; id < P.ID; ++id)
    for (int64_t rh = 0; rh < P.s1; ++rh)
      for (int64_t k = 0, ih = rh; ih < P.IH; ++k, ih += P.s1) {
        T* d = dst + (id * P.IH + ih) * W;
        const T* a = tmp + ((id * P.s1 + rh) * P.hs + k) * P.tpitch;
        if (S == 2) {
          const T* b = a + phase;
#pragma omp simd
          for (int64_t q = 0; q < W / 2; ++q) {
            d[2 * q] = a[q];
            d[2 * q + 1] = b[q];
          }
          if (W % 2) d[W - 1] = a[W / 2];
          continue;
        }
        for (int64_t r = 0; r < S; ++r, a += phase)
          for (int64_t q = 0; q * S + r < W; ++q) d[q * S + r] = a[q];
      }
}

// Every destination row of one plane from its buffer (through tmp when P.phases > 1).
template <typename T>
inline void plane_rows(const Plan& P, const T* buf, const T* w, T* dst, T* tmp) {
  const T* src[kMaxTaps];
  T wt[kMaxTaps];
  for (const Row& r : P.rows) {
    T* out = (P.phases > 1 ? tmp : dst) + r.dst;
    const int64_t ostep = r.dst_step;
    // rows as far apart in the destination as in the buffer make one long row, when what it
    // writes between them is scratch (tmp) or nothing
    int64_t n = r.n, rows = r.rows;
    if (rows > 1 && ostep == r.src_step && (ostep == n || P.phases > 1)) {
      n += (rows - 1) * ostep;
      rows = 1;
    }
    if (r.nt == 0)
      for (int64_t i = 0; i < rows; ++i) std::fill(out + i * ostep, out + i * ostep + n, T(0));
    for (int64_t t0 = 0; t0 < r.nt; t0 += kMaxTaps) {
      const int k = int(std::min<int64_t>(kMaxTaps, r.nt - t0));
      for (int t = 0; t < k; ++t) {
        const Tap& tp = P.taps[size_t(r.t0 + t0 + t)];
        src[t] = buf + tp.src;
        wt[t] = w[tp.widx];
      }
      by_taps(r, k, [&](auto nt, auto pat) {
        taps_block<T, decltype(nt)::value, decltype(pat)::value>(out, ostep, src, P.PWs, r.src_step, wt, n, rows,
                                                                 t0 > 0);
      });
    }
  }
  if (P.phases > 1) interleave(P, tmp, dst);
}

// y planes [b, e) of (N, Cout): plane p reads x plane (n, co / mult).
template <typename T>
EMBER_HOT void forward_range(const Plan& P, const ConvGeom& g, const T* x, const T* w, T* y, T* buf, int64_t b,
                             int64_t e) {
  const int64_t mult = g.Cout / g.C, lin = g.lin(), L = g.lout(), kp = g.kprod();
  int64_t last = -1;
  for (int64_t p = b, co = b % g.Cout; p < e; ++p, co = co + 1 == g.Cout ? 0 : co + 1) {
    const int64_t src = mult == 1 ? p : p / mult;  // (n, co / mult)
    const T* xb = x + src * lin;
    if (!P.direct) {
      if (src != last) fill_buffer(P, xb, buf);
      xb = buf;
    }
    last = src;
    plane_rows<T>(P, xb, w + co * kp, y + p * L, nullptr);
  }
}

// gx planes [b, e) of (N, C): plane p reads the mult gy planes (n, c * mult + m).
template <typename T>
EMBER_HOT void backward_input_range(const Plan& P, const ConvGeom& g, const T* gy, const T* w, T* gx, T* buf,
                                    T* tmp, int64_t b, int64_t e) {
  const int64_t mult = g.Cout / g.C, lin = g.lin(), L = g.lout(), kp = g.kprod();
  for (int64_t p = b, c = b % g.C; p < e; ++p, c = c + 1 == g.C ? 0 : c + 1) {
    const T* src = gy + p * mult * L;  // (n * Cout + c * mult) * L
    if (!P.direct) {
      fill_buffer(P, src, buf);
      src = buf;
    }
    plane_rows(P, src, w + c * mult * kp, gx + p * lin, tmp);
  }
}

// Weight-gradient sums of one task: output channels [c0, c1) over images [n0, n1), in the
// planes' memory order (image by image), into sum[(co - c0) * kp + j] in double. lanes and
// dlanes hold kp * kAcc<T> partial sums per channel.
template <typename T>
EMBER_HOT void backward_weight_task(const Plan& P, const ConvGeom& g, const T* x, const T* gy, int64_t n0,
                                    int64_t n1, int64_t c0, int64_t c1, T* buf, T* lanes, double* dlanes,
                                    double* sum) {
  const int64_t mult = g.Cout / g.C, lin = g.lin(), L = g.lout(), kp = g.kprod(), per = kp * kAcc<T>;
  const T* src[kMaxTaps];
  T* acc[kMaxTaps];
  std::fill(dlanes, dlanes + (c1 - c0) * per, 0.0);
  std::fill(lanes, lanes + (c1 - c0) * per, T(0));
  int64_t pending = 0;  // outputs per channel summed in `lanes` since they were last added to `dlanes`
  for (int64_t n = n0; n < n1; ++n) {
    int64_t last = -1;
    for (int64_t co = c0; co < c1; ++co) {
      const int64_t xs = n * g.C + co / mult;
      const T* xb = x + xs * lin;
      const T* gp = gy + (n * g.Cout + co) * L;
      if (!P.direct) {
        if (xs != last) fill_buffer(P, xb, buf);
        xb = buf;
      }
      last = xs;
      T* la = lanes + (co - c0) * per;
      for (const Row& r : P.rows)
        for (int64_t t0 = 0; t0 < r.nt; t0 += kMaxTaps) {
          const int k = int(std::min<int64_t>(kMaxTaps, r.nt - t0));
          for (int t = 0; t < k; ++t) {
            const Tap& tp = P.taps[size_t(r.t0 + t0 + t)];
            src[t] = xb + tp.src;
            acc[t] = la + tp.widx * kAcc<T>;
          }
          by_taps(r, k, [&](auto nt, auto pat) {
            dots_block<T, decltype(nt)::value, decltype(pat)::value>(gp + r.dst, r.dst_step, src, P.PWs,
                                                                     r.src_step, acc, r.n, r.rows);
          });
        }
    }
    // T partial sums over at least kFlush outputs (whole planes), then double, lane by lane
    pending += L;
    if (pending >= kFlush || n + 1 == n1) {
      for (int64_t i = 0; i < (c1 - c0) * per; ++i) dlanes[i] += double(lanes[i]);
      std::fill(lanes, lanes + (c1 - c0) * per, T(0));
      pending = 0;
    }
  }
  for (int64_t i = 0; i < (c1 - c0) * kp; ++i) {
    double s = 0;
    for (int l = 0; l < kAcc<T>; ++l) s += dlanes[i * kAcc<T> + l];
    sum[i] = s;
  }
}


void depthwise_forward_kernel(const ConvGeom& g, const Tensor& x, const Tensor& w, const Tensor& y) {
  const Plan P = forward_plan(g);
  dispatch<kDwMask>(x.dtype(), "conv", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    const T* xp = x.data<T>();
    const T* wp = w.data<T>();
    T* yp = y.data<T>();
    parallel_for(0, g.N * g.Cout, grain_for(g.lout() * g.kprod()), [&](int64_t b, int64_t e) {
      std::vector<T> buf(size_t(P.buf_size()), T(0));
      forward_range<T>(P, g, xp, wp, yp, buf.data(), b, e);
    });
  });
}

void depthwise_backward_input_kernel(const ConvGeom& g, const Tensor& gy, const Tensor& w, const Tensor& gx) {
  const Plan P = backward_plan(g);
  dispatch<kDwMask>(gy.dtype(), "conv_transpose", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    const T* gp = gy.data<T>();
    const T* wp = w.data<T>();
    T* op = gx.data<T>();
    parallel_for(0, g.N * g.C, grain_for(g.lin() * g.kprod()), [&](int64_t b, int64_t e) {
      std::vector<T> buf(size_t(P.buf_size()), T(0)), tmp(size_t(P.tmp_size()));
      backward_input_range<T>(P, g, gp, wp, op, buf.data(), tmp.data(), b, e);
    });
  });
}

void depthwise_backward_weight_kernel(const ConvGeom& g, const Tensor& x, const Tensor& gy, const Tensor& gw) {
  const Plan P = forward_plan(g);
  // Tasks: (image chunk, channel group), fixed by the shapes alone; each channel's sum over a
  // chunk is made by one task, and the chunks' sums are added in order.
  // Chunks of at least N / kMaxChunks images and, where the images allow, kFlush outputs.
  const int64_t kp = g.kprod(), L = std::max<int64_t>(1, g.lout());
  const int64_t B = std::clamp(std::max((g.N + kMaxChunks - 1) / kMaxChunks, (kFlush + L - 1) / L), int64_t(1),
                               std::max<int64_t>(g.N, 1));
  const int64_t chunks = (g.N + B - 1) / B;
  const int64_t groups = (g.Cout + kChanGroup - 1) / kChanGroup;
  std::vector<double> part(size_t(chunks * g.Cout * kp));  // (chunks, Cout, kprod)
  dispatch<kDwMask>(x.dtype(), "conv_weight_grad", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    const T* xp = x.data<T>();
    const T* gp = gy.data<T>();
    const int64_t work = B * std::min(g.Cout, kChanGroup) * g.lout() * kp;
    parallel_for(0, chunks * groups, grain_for(work), [&](int64_t b, int64_t e) {
      const int64_t per = kp * kAcc<T>;
      std::vector<T> buf(size_t(P.buf_size()), T(0)), lanes(size_t(kChanGroup * per));
      std::vector<double> dlanes(size_t(kChanGroup * per));
      for (int64_t u = b; u < e; ++u) {
        const int64_t ch = u / groups, c0 = (u % groups) * kChanGroup, c1 = std::min(g.Cout, c0 + kChanGroup);
        backward_weight_task<T>(P, g, xp, gp, ch * B, std::min(g.N, (ch + 1) * B), c0, c1, buf.data(),
                                lanes.data(), dlanes.data(), part.data() + (ch * g.Cout + c0) * kp);
      }
    });
    T* out = gw.data<T>();
    for (int64_t i = 0; i < g.Cout * kp; ++i) {
      double s = 0;
      for (int64_t c = 0; c < chunks; ++c) s += part[size_t(c * g.Cout * kp + i)];
      out[i] = T(s);
    }
  });
}

}  // namespace

EMBER_REGISTER_CPU(depthwise_forward_stub, depthwise_forward_kernel);
EMBER_REGISTER_CPU(depthwise_backward_input_stub, depthwise_backward_input_kernel);
EMBER_REGISTER_CPU(depthwise_backward_weight_stub, depthwise_backward_weight_kernel);

}  // namespace ember
