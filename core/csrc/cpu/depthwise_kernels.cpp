// Direct depthwise convolutions (ops/nn.h: groups == C, Cout = C * multiplier), 1-, 2- and
// 3-d through the same code: no im2col, no GEMM per group.
//
// Every kernel reduces to rows of shifted dot products: a destination row of n elements is the
// sum over its taps t of w[t] * buf[src_t + q], q < n, where buf is a source plane copied into
// a zero-padded buffer laid out so that every tap reads contiguous memory (no bounds checks in
// the loops; the borders read the padding):
//   forward and weight gradient: rows of x padded in W and split into `stride` phases, so that
//     x[ow * s + kw * d - p] is phase (kw * d) % s at index ow + (kw * d) / s;
//   input gradient: rows of gy padded in W; a row of gx is made per W phase r (the columns
//     iw = q * s + r), which sees only the taps kw with (r + p - kw * d) % s == 0, as
//     contiguous reads of gy, and the phases are interleaved at the end.
// Out-of-range rows (D, H) are left out of a row's taps. A Plan, made once per call, lists the
// destination rows in blocks of rows with the same taps shifted; 3-wide rows (3x3 kernels,
// stride 1 or 2, dilation 1) get loops with one pointer per source row instead of one per tap.
// Planes run in parallel (forward: (n, co) planes in memory order; input gradient: (n, c)).
// The weight gradient sums into vector lanes of T over at least kFlush outputs (whole planes),
// then in double; tasks are (image chunk, channel group) fixed by the shapes, and the chunks'
// sums are added in order, so the result does not depend on the thread count.
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
  int64_t S = 1;         // phases of a buffer row
  int64_t PL = 0;        // source column c sits at position c + PL of its buffer row
  int64_t PWs = 0;       // elements per phase of a buffer row
  int64_t src_rows = 0;  // source rows per buffer (of every plane it holds), src_w elements each
  int64_t src_w = 0;
  bool direct = false;   // no padding and no phases: the source plane is the buffer
  // With phases > 1 (the input gradient of a W stride), rows write W phase r of destination
  // row (id, ih) to row ((r * ID + id) * s1 + ih % s1) * hs + ih / s1 of tmp, tpitch apart
  // (rows of an H phase follow each other: a block of them is one long row when tpitch is
  // also its rows' distance in the buffer), and interleave() puts them in place.
  int64_t phases = 1, s1 = 1, hs = 0, tpitch = 0, ID = 0, IH = 0, IW = 0;
  int64_t buf_size() const { return direct ? 0 : src_rows * S * PWs; }
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
Plan forward_plan(const ConvGeom& g) {
  Plan P;
  const int64_t KH = g.k[1], KW = g.k[2], IH = g.in[1], IW = g.in[2], OH = g.out[1], OW = g.out[2];
  const int64_t s2 = g.stride[2], d2 = g.dil[2];
  const int64_t PW = std::max<int64_t>(0, (OW - 1) * s2 + (KW - 1) * d2 + 1);  // positions read per row
  P.S = s2;
  P.PL = g.pad[2];
  P.src_rows = g.in[0] * IH;
  P.src_w = IW;
  P.direct = s2 == 1 && P.PL == 0 && PW <= IW;
  P.PWs = P.direct ? IW : (PW + s2 - 1) / s2;
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < OH; ++oh) {
      Row r{(od * OH + oh) * OW, OW, int64_t(P.taps.size()), 0};
      for (int64_t kd = 0; kd < g.k[0]; ++kd) {
        const int64_t id = od * g.stride[0] - g.pad[0] + kd * g.dil[0];
        if (id < 0 || id >= g.in[0]) continue;
        for (int64_t kh = 0; kh < KH; ++kh) {
          const int64_t ih = oh * g.stride[1] - g.pad[1] + kh * g.dil[1];
          if (ih < 0 || ih >= IH) continue;
          for (int64_t kw = 0; kw < KW; ++kw)
            P.taps.push_back({((id * IH + ih) * P.S + (kw * d2) % P.S) * P.PWs + (kw * d2) / P.S,
                              (kd * KH + kh) * KW + kw});
        }
      }
      r.nt = int64_t(P.taps.size()) - r.t0;
      P.add(r);
    }
  P.find_threes();
  return P;
}

// Destination rows are W phases of the rows of gx (id, ih) reading gy: the input gradient.
Plan backward_plan(const ConvGeom& g) {
  Plan P;
  const int64_t OD = g.out[0], OH = g.out[1], OW = g.out[2], IH = g.in[1], IW = g.in[2];
  const int64_t KH = g.k[1], KW = g.k[2], s2 = g.stride[2], p2 = g.pad[2], d2 = g.dil[2];
  const int64_t mult = g.Cout / g.C, phases = std::min(s2, IW);
  auto count = [&](int64_t r) { return (IW - r + s2 - 1) / s2; };  // columns of phase r
  // Column offset into gy of tap kw for phase r, or false when it never meets gy.
  auto col = [&](int64_t r, int64_t kw, int64_t& e) {
    const int64_t u = r + p2 - kw * d2;
    if (u % s2 != 0) return false;
    e = u / s2;
    return e < OW && e + count(r) > 0;
  };
  int64_t lo = 0, hi = OW;  // positions read, relative to gy's column 0
  for (int64_t r = 0; r < phases; ++r)
    for (int64_t kw = 0, e; kw < KW; ++kw)
      if (col(r, kw, e)) {
        lo = std::min(lo, e);
        hi = std::max(hi, e + count(r));
      }
  P.S = 1;
  P.PL = -lo;
  P.src_rows = mult * OD * OH;
  P.src_w = OW;
  P.direct = lo == 0 && hi == OW;
  P.PWs = hi - lo;
  const int64_t kp = g.kprod(), s0 = g.stride[0], s1 = g.stride[1];
  P.phases = s2 == 1 ? 1 : phases;
  P.s1 = s1;
  P.hs = (IH + s1 - 1) / s1;
  P.tpitch = std::max(P.PWs, count(0));
  P.ID = g.in[0];
  P.IH = IH;
  P.IW = IW;
  // Rows in the order (W phase, D phase, H phase, id, ih), so that rows with the same taps
  // (shifted) follow each other and form blocks.
  for (int64_t r = 0; r < phases; ++r)
    for (int64_t rd = 0; rd < std::min(s0, g.in[0]); ++rd)
      for (int64_t rh = 0; rh < std::min(s1, IH); ++rh)
        for (int64_t id = rd; id < g.in[0]; id += s0)
          for (int64_t ih = rh; ih < IH; ih += s1) {
            const int64_t dst = P.phases > 1 ? P.tmp_row(r, id, ih) * P.tpitch : (id * IH + ih) * IW;
            Row row{dst, count(r), int64_t(P.taps.size()), 0};
            for (int64_t m = 0; m < mult; ++m)
              for (int64_t kd = 0; kd < g.k[0]; ++kd) {
                const int64_t v = id + g.pad[0] - kd * g.dil[0];
                if (v % g.stride[0] != 0 || v < 0 || v / g.stride[0] >= OD) continue;
                const int64_t od = v / g.stride[0];
                for (int64_t kh = 0; kh < KH; ++kh) {
                  const int64_t u = ih + g.pad[1] - kh * g.dil[1];
                  if (u % g.stride[1] != 0 || u < 0 || u / g.stride[1] >= OH) continue;
                  const int64_t oh = u / g.stride[1];
                  for (int64_t kw = KW - 1, e; kw >= 0; --kw)  // ascending offsets into gy
                    if (col(r, kw, e))
                      P.taps.push_back({((m * OD + od) * OH + oh) * P.PWs + P.PL + e,
                                        m * kp + (kd * KH + kh) * KW + kw});
                }
              }
            row.nt = int64_t(P.taps.size()) - row.t0;
            P.add(row);
          }
  P.find_threes();
  return P;
}

// Copies the source rows into the buffer's layout. The positions it does not write (padding)
// are the same for every plane: the caller zeroes the buffer once.
template <typename T>
inline void fill_buffer(const Plan& P, const T* src, T* buf) {
  const int64_t len = P.S * P.PWs, cend = std::min(P.src_w, len - P.PL);
  if (cend <= 0) return;
  if (P.S == 1) {
    for (int64_t rr = 0; rr < P.src_rows; ++rr, src += P.src_w, buf += len)
#pragma omp simd
      for (int64_t c = 0; c < cend; ++c) buf[P.PL + c] = src[c];
    return;
  }
  if (P.S == 2) {  // both phases in one pass: even columns to phase PL % 2, odd ones to the other
    const int64_t e = P.PL % 2, half = cend / 2;
    for (int64_t rr = 0; rr < P.src_rows; ++rr, src += P.src_w, buf += len) {
      T* be = buf + e * P.PWs + P.PL / 2;
      T* bo = buf + (1 - e) * P.PWs + (P.PL + 1) / 2;
#pragma omp simd
      for (int64_t j = 0; j < half; ++j) {
        be[j] = src[2 * j];
        bo[j] = src[2 * j + 1];
      }
      if (cend % 2) be[half] = src[cend - 1];
    }
    return;
  }
  for (int64_t ph = 0; ph < P.S; ++ph) {
    const int64_t c0 = ((ph - P.PL) % P.S + P.S) % P.S;  // first column of this phase
    if (c0 >= cend) continue;
    const int64_t m = (cend - c0 + P.S - 1) / P.S;      // its columns
    T* b = buf + ph * P.PWs + (c0 + P.PL) / P.S;
    const T* s = src + c0;
    for (int64_t rr = 0; rr < P.src_rows; ++rr, s += P.src_w, b += len) {
      for (int64_t j = 0; j < m; ++j) b[j] = s[j * P.S];
    }
  }
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
  for (int64_t i = 0; i < rows; ++i, out += ostep) {
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

// Planes per task: about kGrainSize multiply-adds.
int64_t plane_grain(int64_t work) { return std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, work)); }

void depthwise_forward_kernel(const ConvGeom& g, const Tensor& x, const Tensor& w, const Tensor& y) {
  const Plan P = forward_plan(g);
  dispatch<kDwMask>(x.dtype(), "conv", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    const T* xp = x.data<T>();
    const T* wp = w.data<T>();
    T* yp = y.data<T>();
    parallel_for(0, g.N * g.Cout, plane_grain(g.lout() * g.kprod()), [&](int64_t b, int64_t e) {
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
    parallel_for(0, g.N * g.C, plane_grain(g.lin() * g.kprod()), [&](int64_t b, int64_t e) {
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
    parallel_for(0, chunks * groups, plane_grain(work), [&](int64_t b, int64_t e) {
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
