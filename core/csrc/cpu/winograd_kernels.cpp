// Winograd F(4x4, 3x3) convolution for 3x3, stride-1, undilated, ungrouped float32 convs
// (Lavin & Gray 2015): each 4x4 output tile is A^T [(G g G^T) . (B^T d B)] A over a 6x6 input
// tile d, so the 36 multiplies of a 4x4 block of a 3x3 conv become 36 GEMMs of a quarter of
// im2col's size. The GEMMs run in OpenBLAS; the transforms are ours, vectorised over tiles.
//
// Three phases per group of images, each split over the thread pool:
//   1. input transform  V[xi][c][t] = (B^T d_{c,t} B)[xi]     (t: tile index in the group)
//   2. 36 GEMMs         M[xi] = U[xi] (K x C) @ V[xi] (C x P)
//   3. output transform y[n, k, tile] = A^T M[.][k][t] A, clipped to the output
// The weight gradient is the transposed algorithm (winograd_weight_kernel).
// U[xi][k][c] = (G g_{k,c} G^T)[xi] is computed once per call (see weight_transform).
//
// The adjoint (conv_transpose / input gradient at stride 1) is the same correlation of gy with
// the weights swapped (in, out) and flipped in both spatial dims, padded by 2 - p.
//
// Stride-2 3x3 convs (forward) run F(4x4, 2x2) over the input's four phases (winograd_s2_kernel,
// at the end of the file).
//
// Accuracy: the transforms use the points 0, +-1, +-2; float32 results stay within about
// 1e-6 x (sum |w| |x|) of the exact sums, like a direct float32 convolution of a few hundred terms.
#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "../ops/nn.h"
#include "loop.h"

// v16 values passed between inline helpers: the ABI note about 64-byte vectors does not apply
// (nothing crosses a library boundary).
#pragma GCC diagnostic ignored "-Wpsabi"

namespace ember {
namespace {

struct Plan {
  int64_t N, C, K, H, W, OH, OW, ph, pw, TH, TW;
};

// T = G (x) G (36 x 9): T[(i, l)][(r, j)] = G[i][r] G[l][j]; with `flip`, the 9 columns reversed.
// The weight gradient's last step, gw (K*C x 9) = GW^T (K*C x 36) @ T, is one GEMM with it.
void kron_g(float* T, bool flip) {
  static const float G[6][3] = {{1.f / 4, 0, 0},          {-1.f / 6, -1.f / 6, -1.f / 6}, {-1.f / 6, 1.f / 6, -1.f / 6},
                                {1.f / 24, 1.f / 12, 1.f / 6}, {1.f / 24, -1.f / 12, 1.f / 6}, {0, 0, 1}};
  for (int i = 0; i < 6; ++i)
    for (int l = 0; l < 6; ++l)
      for (int r = 0; r < 3; ++r)
        for (int j = 0; j < 3; ++j) T[(i * 6 + l) * 9 + (flip ? 8 - (r * 3 + j) : r * 3 + j)] = G[i][r] * G[l][j];
}

// The transforms are vectorised over the tiles of a tile row, 16 at a time (GCC vector extensions:
// one zmm with AVX-512, two ymm with AVX2). An input row is split into its four phases
// (q_u[tx] = row[4 tx + u]), so the six inputs of tile tx, row[4 tx .. 4 tx + 5], are q0[tx],
// q1[tx], q2[tx], q3[tx], q0[tx + 1], q1[tx + 1]; output rows are interleaved back from phases.

using v16 = float __attribute__((vector_size(64)));
using i16 = int __attribute__((vector_size(64)));
constexpr int64_t kV = 16;

inline v16 ld(const float* p) { v16 r; std::memcpy(&r, p, sizeof r); return r; }
inline void st(float* p, v16 v) { std::memcpy(p, &v, sizeof v); }
// The first n (< 16) lanes only.
// (element loops, not memcpy: a call per partial vector cost more than the transform on small planes)
inline v16 ld_part(const float* p, int64_t n) {
  v16 r = {};
  for (int64_t l = 0; l < n; ++l) r[l] = p[l];
  return r;
}
inline void st_part(float* p, v16 v, int64_t n) {
  for (int64_t l = 0; l < n; ++l) p[l] = v[l];
}

inline int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }
inline int64_t lane_blocks(int64_t n) { return (n + kV - 1) / kV; }  // 16-lane blocks covering n

// The four phases of 64 floats: a[t] = p[4 t], b[t] = p[4 t + 1], c[t] = p[4 t + 2], d[t] = p[4 t + 3]
// (vector loads and shuffles: scalar stores of the phases followed by vector loads of them stalled
// on store forwarding, a fifth of the transform).
inline void deinterleave4(const float* p, v16& a, v16& b, v16& c, v16& d) {
  const i16 ev = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
  const i16 od = {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31};
  const v16 x0 = ld(p), x1 = ld(p + 16), x2 = ld(p + 32), x3 = ld(p + 48);
  const v16 e01 = __builtin_shuffle(x0, x1, ev), o01 = __builtin_shuffle(x0, x1, od);
  const v16 e23 = __builtin_shuffle(x2, x3, ev), o23 = __builtin_shuffle(x2, x3, od);
  a = __builtin_shuffle(e01, e23, ev);
  c = __builtin_shuffle(e01, e23, od);
  b = __builtin_shuffle(o01, o23, ev);
  d = __builtin_shuffle(o01, o23, od);
}

// V for planes [b, e) of the group (plane = n * C + c, n relative to the group's first image x).
// The row transforms of all tile rows go to hr[i][j][t] (t = ty * TW + tx, the plane's tiles in
// V's order), so the column transform and the stores to V run over the plane's tiles at once.
EMBER_HOT512 void input_transform(const Plan& p, const float* x, float* V, int64_t P, int64_t b, int64_t e) {
  const int64_t TW = p.TW, TWp = round_up(TW, kV), tiles = p.TH * TW;
  const int64_t RL = 4 * TWp + 4 * kV + 4;      // one padded input row, room for the shifted loads
  const int64_t hs = round_up(tiles, kV) + kV;  // hr: between (i, j) and the next
  std::vector<float> buf(size_t(RL + 36 * hs));
  float* row = buf.data();
  float* hr = row + RL;
  const int64_t vs = 6 * p.C * P;  // V: between xi = a * 6 + j and (a + 1) * 6 + j
  for (int64_t pl = b; pl < e; ++pl) {
    const int64_t n = pl / p.C, c = pl % p.C;
    const float* xp = x + pl * p.H * p.W;
    for (int64_t ty = 0; ty < p.TH; ++ty) {
      for (int i = 0; i < 6; ++i) {
        const int64_t ih = ty * 4 - p.ph + i;
        float* h = hr + i * 6 * hs + ty * TW;
        if (ih < 0 || ih >= p.H) {  // a padding row: its transform is zero
          for (int j = 0; j < 6; ++j) std::fill(h + j * hs, h + j * hs + TW, 0.f);
          continue;
        }
        // the columns the TW tiles read, [0, 4 TW + 2); lanes past TW read stale values of the
        // buffer (initialised once) and are never stored
        const int64_t need = 4 * TW + 2;
        const int64_t lo = std::min(p.pw, need), nw = std::clamp<int64_t>(need - p.pw, 0, p.W);
        std::fill(row, row + lo, 0.f);
        std::memcpy(row + lo, xp + ih * p.W, sizeof(float) * size_t(nw));
        std::fill(row + lo + nw, row + std::max(need, lo + nw), 0.f);
        // lanes past TW spill into the next tile row's slots (rewritten after) or the padding
        for (int64_t tx = 0; tx < TW; tx += kV) {
          v16 d0, d1, d2, d3, d4, d5, u2, u3;
          deinterleave4(row + 4 * tx, d0, d1, d2, d3);
          deinterleave4(row + 4 * tx + 4, d4, d5, u2, u3);
          st(h + 0 * hs + tx, 4.f * d0 - 5.f * d2 + d4);
          st(h + 1 * hs + tx, -4.f * (d1 + d2) + d3 + d4);
          st(h + 2 * hs + tx, 4.f * (d1 - d2) - d3 + d4);
          st(h + 3 * hs + tx, 2.f * (d3 - d1) - d2 + d4);
          st(h + 4 * hs + tx, 2.f * (d1 - d3) - d2 + d4);
          st(h + 5 * hs + tx, 4.f * d1 - 5.f * d3 + d5);
        }
      }
    }
    const int64_t t0 = n * tiles;
    for (int j = 0; j < 6; ++j) {
      const float* h = hr + j * hs;
      float* v0 = V + (j * p.C + c) * P + t0;
      for (int64_t t = 0; t < tiles; t += kV) {
        const v16 d0 = ld(h + t), d1 = ld(h + 6 * hs + t), d2 = ld(h + 12 * hs + t), d3 = ld(h + 18 * hs + t),
                  d4 = ld(h + 24 * hs + t), d5 = ld(h + 30 * hs + t);
        const v16 o[6] = {4.f * d0 - 5.f * d2 + d4,  -4.f * (d1 + d2) + d3 + d4, 4.f * (d1 - d2) - d3 + d4,
                          2.f * (d3 - d1) - d2 + d4, 2.f * (d1 - d3) - d2 + d4,  4.f * d1 - 5.f * d3 + d5};
        const int64_t left = tiles - t;
        for (int a = 0; a < 6; ++a) {
          if (left >= kV) st(v0 + a * vs + t, o[a]);
          else st_part(v0 + a * vs + t, o[a], left);
        }
      }
    }
  }
}

// Interleaves four phase vectors (o_s[t] = output 4 t + s of 16 tiles) into 64 floats at y.
inline void interleave4(float* y, v16 a, v16 b, v16 c, v16 d) {
  const i16 lo = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
  const i16 hi = {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  const i16 q0 = {0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23};
  const i16 q1 = {8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31};
  const v16 ab_lo = __builtin_shuffle(a, b, lo), ab_hi = __builtin_shuffle(a, b, hi);
  const v16 cd_lo = __builtin_shuffle(c, d, lo), cd_hi = __builtin_shuffle(c, d, hi);
  st(y, __builtin_shuffle(ab_lo, cd_lo, q0));
  st(y + 16, __builtin_shuffle(ab_lo, cd_lo, q1));
  st(y + 32, __builtin_shuffle(ab_hi, cd_hi, q0));
  st(y + 48, __builtin_shuffle(ab_hi, cd_hi, q1));
}

// y for planes [b, e) of the group (plane = n * K + k): the column transform over the plane's
// tiles at once into cr[r][j][t], then each output row from its tile row.
EMBER_HOT512 void output_transform(const Plan& p, const float* M, float* y, int64_t P, int64_t b, int64_t e) {
  const int64_t TW = p.TW, tiles = p.TH * TW;
  const int64_t cs = round_up(tiles, kV) + kV;  // cr: between (r, j) and the next
  std::vector<float> buf(size_t(24 * cs + 4 * kV));
  float* cr = buf.data();
  float* orow = cr + 24 * cs;  // 16 tiles of one output row
  const int64_t ms = 6 * p.K * P;  // M: between xi = i * 6 + j and (i + 1) * 6 + j
  for (int64_t pl = b; pl < e; ++pl) {
    const int64_t n = pl / p.K, k = pl % p.K;
    float* yp = y + pl * p.OH * p.OW;
    const int64_t t0 = n * tiles;
    for (int j = 0; j < 6; ++j) {
      const float* m = M + (j * p.K + k) * P + t0;
      float* cj = cr + j * cs;
      for (int64_t t = 0; t < tiles; t += kV) {
        const int64_t left = tiles - t;
        v16 m0, m1, m2, m3, m4, m5;
        if (left >= kV) {
          m0 = ld(m + t), m1 = ld(m + ms + t), m2 = ld(m + 2 * ms + t), m3 = ld(m + 3 * ms + t),
          m4 = ld(m + 4 * ms + t), m5 = ld(m + 5 * ms + t);
        } else {
          m0 = ld_part(m + t, left), m1 = ld_part(m + ms + t, left), m2 = ld_part(m + 2 * ms + t, left),
          m3 = ld_part(m + 3 * ms + t, left), m4 = ld_part(m + 4 * ms + t, left), m5 = ld_part(m + 5 * ms + t, left);
        }
        const v16 s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
        st(cj + 0 * 6 * cs + t, m0 + s12 + s34);
        st(cj + 1 * 6 * cs + t, d12 + 2.f * d34);
        st(cj + 2 * 6 * cs + t, s12 + 4.f * s34);
        st(cj + 3 * 6 * cs + t, d12 + 8.f * d34 + m5);
      }
    }
    for (int64_t ty = 0; ty < p.TH; ++ty)
      for (int r = 0; r < 4; ++r) {
        const int64_t oh = ty * 4 + r;
        if (oh >= p.OH) break;
        const float* c = cr + r * 6 * cs + ty * TW;
        float* yr = yp + oh * p.OW;
        for (int64_t tx = 0; tx < TW; tx += kV) {
          const v16 m0 = ld(c + tx), m1 = ld(c + cs + tx), m2 = ld(c + 2 * cs + tx), m3 = ld(c + 3 * cs + tx),
                    m4 = ld(c + 4 * cs + tx), m5 = ld(c + 5 * cs + tx);
          const v16 s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
          const v16 o0 = m0 + s12 + s34, o1 = d12 + 2.f * d34, o2 = s12 + 4.f * s34, o3 = d12 + 8.f * d34 + m5;
          if (4 * (tx + kV) <= p.OW) {
            interleave4(yr + 4 * tx, o0, o1, o2, o3);
          } else {
            interleave4(orow, o0, o1, o2, o3);
            std::memcpy(yr + 4 * tx, orow, sizeof(float) * size_t(p.OW - 4 * tx));
          }
        }
      }
  }
}

// The weight gradient transposes the forward algorithm (y = A^T [U . V] A, U = G g G^T):
// dL/dg = G^T [V . (A dy A^T)] G summed over tiles. Mg[xi][k][t] = (A e A^T)[xi] for the 4x4
// block e of gy at tile t (zeros past the output's edge), with A (6 x 4) the transpose of A^T.
EMBER_HOT512 void grad_output_transform(const Plan& p, const float* gy, float* Mg, int64_t P, int64_t b, int64_t e) {
  const int64_t TW = p.TW, TWp = round_up(TW, kV), Q = TWp + kV, tiles = p.TH * TW;
  const int64_t hs = round_up(tiles, kV) + kV;  // hr: between (r, j) and the next
  std::vector<float> buf(size_t(4 * Q + 24 * hs));
  float* q = buf.data();   // [s][tx]: the four phases of one output row
  float* hr = q + 4 * Q;   // [r][j][t]: A applied along each of the tile row's 4 rows
  const int64_t ms = 6 * p.K * P;  // Mg: between xi = i * 6 + j and (i + 1) * 6 + j
  for (int64_t pl = b; pl < e; ++pl) {
    const int64_t n = pl / p.K, k = pl % p.K;
    const float* gp = gy + pl * p.OH * p.OW;
    for (int64_t ty = 0; ty < p.TH; ++ty)
      for (int r = 0; r < 4; ++r) {
        const int64_t oh = ty * 4 + r;
        std::fill(q, q + 4 * Q, 0.f);
        if (oh < p.OH) {
          const float* gr = gp + oh * p.OW;
          for (int64_t ow = 0; ow < p.OW; ++ow) q[(ow & 3) * Q + (ow >> 2)] = gr[ow];
        }
        float* h = hr + r * 6 * hs + ty * TW;  // lanes past TW: as in input_transform
        for (int64_t tx = 0; tx < TW; tx += kV) {
          const v16 e0 = ld(q + tx), e1 = ld(q + Q + tx), e2 = ld(q + 2 * Q + tx), e3 = ld(q + 3 * Q + tx);
          const v16 s02 = e0 + e2, s13 = e1 + e3;
          st(h + 0 * hs + tx, e0);
          st(h + 1 * hs + tx, s02 + s13);
          st(h + 2 * hs + tx, s02 - s13);
          st(h + 3 * hs + tx, e0 + 2.f * e1 + 4.f * e2 + 8.f * e3);
          st(h + 4 * hs + tx, e0 - 2.f * e1 + 4.f * e2 - 8.f * e3);
          st(h + 5 * hs + tx, e3);
        }
      }
    const int64_t t0 = n * tiles;
    for (int j = 0; j < 6; ++j) {
      const float* h = hr + j * hs;
      float* m0 = Mg + (j * p.K + k) * P + t0;
      for (int64_t t = 0; t < tiles; t += kV) {
        const v16 e0 = ld(h + t), e1 = ld(h + 6 * hs + t), e2 = ld(h + 12 * hs + t), e3 = ld(h + 18 * hs + t);
        const v16 s02 = e0 + e2, s13 = e1 + e3;
        const v16 o[6] = {e0, s02 + s13, s02 - s13, e0 + 2.f * e1 + 4.f * e2 + 8.f * e3,
                          e0 - 2.f * e1 + 4.f * e2 - 8.f * e3, e3};
        const int64_t left = tiles - t;
        for (int i = 0; i < 6; ++i) {
          if (left >= kV) st(m0 + i * ms + t, o[i]);
          else st_part(m0 + i * ms + t, o[i], left);
        }
      }
    }
  }
}

// Transposes the 16 x 16 matrix whose rows are r[0..15], in four stages: stage k swaps bit k of the
// row index with bit k of the column index (two-vector shuffles between rows i and i | 2^k, with
// constant masks; rows a caller never reads are dead code once inlined).
template <int bit>
inline void transpose_stage(v16* r, i16 lo, i16 hi) {
  for (int i = 0; i < 16; ++i) {
    if (i & bit) continue;
    const v16 a = r[i], b = r[i | bit];
    r[i] = __builtin_shuffle(a, b, lo);
    r[i | bit] = __builtin_shuffle(a, b, hi);
  }
}
inline void transpose16(v16* r) {
  transpose_stage<1>(r, i16{0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30},
                     i16{1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31});
  transpose_stage<2>(r, i16{0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29},
                     i16{2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31});
  transpose_stage<4>(r, i16{0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27},
                     i16{4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31});
  transpose_stage<8>(r, i16{0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23},
                     i16{8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31});
}

// The weight transform U[xi][k][c] = (G g_kc G^T)[xi] for g_kc = w[k][c] (3 x 3): U[xi] is (K x C)
// row-major. For the adjoint, w is (C, K, 3, 3) in the roles of the transposed conv, U[xi] is
// (C x K) (the GEMMs read it transposed) and g is flipped in both spatial dims.
// weight_transform_row writes row i of the 6 x 6 transform, U[(6 i + l) * xs + f] for l < 6, of the
// filters f in [16 b, 16 e) of the n at w (consecutive 3x3 filters), vectorised over 16 filters.
EMBER_HOT512 void weight_transform_row(const float* w, int64_t n, bool flip, int i, float* U, int64_t xs, int64_t b,
                                       int64_t e) {
  // G (6 x 3) = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
  static const float G[6][3] = {{1.f / 4, 0, 0},          {-1.f / 6, -1.f / 6, -1.f / 6}, {-1.f / 6, 1.f / 6, -1.f / 6},
                                {1.f / 24, 1.f / 12, 1.f / 6}, {1.f / 24, -1.f / 12, 1.f / 6}, {0, 0, 1}};
  const float gi0 = G[i][0], gi1 = G[i][1], gi2 = G[i][2];
  alignas(64) float d[9 * kV];
  for (int64_t blk = b; blk < e; ++blk) {
    const int64_t f0 = blk * kV, nl = std::min(kV, n - f0);
    v16 g[9];  // g[3 r + j]: tap (r, j) of the 16 filters (flipped: tap 8 - (3 r + j))
    if (n - f0 > kV) {  // 16 loads of 16 floats from filter f0 + l (in bounds: a filter follows), transposed
      v16 r[16];
      for (int l = 0; l < 16; ++l) r[l] = ld(w + (f0 + l) * 9);
      transpose16(r);
      for (int t = 0; t < 9; ++t) g[t] = r[flip ? 8 - t : t];
    } else {
      std::fill(d, d + 9 * kV, 0.f);
      for (int64_t l = 0; l < nl; ++l)
        for (int t = 0; t < 9; ++t) d[(flip ? 8 - t : t) * kV + l] = w[(f0 + l) * 9 + t];
      for (int t = 0; t < 9; ++t) g[t] = ld(d + t * kV);
    }
    // row i of G g, then G applied along it: u[l] = (G (G g)_i^T)[l]
    v16 t[3];
    for (int j = 0; j < 3; ++j) t[j] = gi0 * g[j] + gi1 * g[3 + j] + gi2 * g[6 + j];
    const v16 ac = t[0] + t[2], q = (1.f / 24) * t[0] + (1.f / 6) * t[2], hb = (1.f / 12) * t[1];
    const v16 u[6] = {0.25f * t[0], (-1.f / 6) * (ac + t[1]), (-1.f / 6) * (ac - t[1]), q + hb, q - hb, t[2]};
    for (int l = 0; l < 6; ++l) {
      float* dst = U + (i * 6 + l) * xs + f0;
      if (nl == kV) st(dst, u[l]);
      else st_part(dst, u[l], nl);
    }
  }
}

// Row i (xi in [6 i, 6 i + 6)) of the GEMM rows [k0, k0 + kn) of U[xi] into Ub[xi] (kn x C, xi
// stride kn C); for the adjoint, of the columns [k0, k0 + kn) of U[xi] (C x K) into Ub[xi] (C x kn).
void weight_transform(const Plan& p, const float* w, bool adjoint, int64_t k0, int64_t kn, int i, float* Ub) {
  const int64_t xs = kn * p.C;
  if (!adjoint) {
    weight_transform_row(w + k0 * p.C * 9, kn * p.C, false, i, Ub, xs, 0, lane_blocks(kn * p.C));
    return;
  }
  for (int64_t c = 0; c < p.C; ++c)  // row c of the adjoint's w: its filters [k0, k0 + kn)
    weight_transform_row(w + (c * p.K + k0) * 9, kn, true, i, Ub + c * kn, xs, 0, lane_blocks(kn));
}

// Small planes (a tile row of at most kLanesTW tiles) leave most lanes of the per-plane transforms
// above idle: a 4x4 plane is a single tile. There the transforms run over 16 consecutive tiles of
// V's order instead (lanes = tile index q in the group, across images), one channel at a time:
// each lane's 6x6 input patch (4x4 output block) is gathered into d[element][lane] with zeros for
// the padding, so every vector load and store of the transform is full and V / M are read and
// written 16 contiguous floats at a time. Item it of [b, e) is channel it / nblk, tiles
// [16 (it % nblk), +16) of the group.
constexpr int64_t kLanesTW = 4;
inline bool use_lanes(const Plan& p) { return p.TW <= kLanesTW; }

// Images per group: as many as keep a group's transformed input and output within `budget` bytes,
// spread evenly over the groups (no small last group: its GEMMs would be narrow).
inline int64_t group_size(int64_t N, int64_t per_image, int64_t budget) {
  const int64_t most = std::clamp<int64_t>(budget / std::max<int64_t>(1, per_image), 1, N);
  const int64_t groups = (N + most - 1) / most;
  return (N + groups - 1) / groups;
}

struct TileAt {  // where tile q of the group sits: image n, top-left corner (h0, w0) of its block
  int64_t n, h0, w0;
};
inline TileAt tile_at(const Plan& p, int64_t q, int64_t ph, int64_t pw) {
  const int64_t tiles = p.TH * p.TW, t = q % tiles;
  return {q / tiles, t / p.TW * 4 - ph, t % p.TW * 4 - pw};
}

EMBER_HOT512 void input_transform_lanes(const Plan& p, const float* x, float* V, int64_t P, int64_t b, int64_t e) {
  const int64_t nblk = lane_blocks(P), HW = p.H * p.W, xs = p.C * P;  // xs: V between xi and xi + 1
  alignas(64) float d[36 * kV];
  for (int64_t it = b; it < e; ++it) {
    const int64_t c = it / nblk, q0 = it % nblk * kV, nl = std::min(kV, P - q0);
    std::fill(d, d + 36 * kV, 0.f);
    for (int64_t l = 0; l < nl; ++l) {
      const TileAt a = tile_at(p, q0 + l, p.ph, p.pw);
      const int64_t i0 = std::max<int64_t>(0, -a.h0), i1 = std::min<int64_t>(6, p.H - a.h0);
      const int64_t j0 = std::max<int64_t>(0, -a.w0), j1 = std::min<int64_t>(6, p.W - a.w0);
      const float* src = x + (a.n * p.C + c) * HW + a.h0 * p.W + a.w0;
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t j = j0; j < j1; ++j) d[(i * 6 + j) * kV + l] = src[i * p.W + j];
    }
    v16 h[6][6];  // h[i][j]: row i of the patch transformed along its columns
    for (int i = 0; i < 6; ++i) {
      const float* r = d + i * 6 * kV;
      const v16 d0 = ld(r), d1 = ld(r + kV), d2 = ld(r + 2 * kV), d3 = ld(r + 3 * kV), d4 = ld(r + 4 * kV),
                d5 = ld(r + 5 * kV);
      h[i][0] = 4.f * d0 - 5.f * d2 + d4, h[i][1] = -4.f * (d1 + d2) + d3 + d4, h[i][2] = 4.f * (d1 - d2) - d3 + d4;
      h[i][3] = 2.f * (d3 - d1) - d2 + d4, h[i][4] = 2.f * (d1 - d3) - d2 + d4, h[i][5] = 4.f * d1 - 5.f * d3 + d5;
    }
    for (int j = 0; j < 6; ++j) {
      const v16 d0 = h[0][j], d1 = h[1][j], d2 = h[2][j], d3 = h[3][j], d4 = h[4][j], d5 = h[5][j];
      const v16 o[6] = {4.f * d0 - 5.f * d2 + d4,  -4.f * (d1 + d2) + d3 + d4, 4.f * (d1 - d2) - d3 + d4,
                        2.f * (d3 - d1) - d2 + d4, 2.f * (d1 - d3) - d2 + d4,  4.f * d1 - 5.f * d3 + d5};
      float* v0 = V + (j * p.C + c) * P + q0;
      for (int a = 0; a < 6; ++a) {
        if (nl == kV) st(v0 + a * 6 * xs, o[a]);
        else st_part(v0 + a * 6 * xs, o[a], nl);
      }
    }
  }
}

EMBER_HOT512 void output_transform_lanes(const Plan& p, const float* M, float* y, int64_t P, int64_t b, int64_t e) {
  const int64_t nblk = lane_blocks(P), OHW = p.OH * p.OW, xs = p.K * P;  // xs: M between xi and xi + 1
  alignas(64) float o[16 * kV];
  for (int64_t it = b; it < e; ++it) {
    const int64_t k = it / nblk, q0 = it % nblk * kV, nl = std::min(kV, P - q0);
    v16 cr[4][6];  // cr[r][j]: column j of the 6x6 block transformed along its rows
    for (int j = 0; j < 6; ++j) {
      const float* m = M + (j * p.K + k) * P + q0;
      v16 mi[6];
      for (int i = 0; i < 6; ++i) mi[i] = nl == kV ? ld(m + i * 6 * xs) : ld_part(m + i * 6 * xs, nl);
      const v16 s12 = mi[1] + mi[2], d12 = mi[1] - mi[2], s34 = mi[3] + mi[4], d34 = mi[3] - mi[4];
      cr[0][j] = mi[0] + s12 + s34, cr[1][j] = d12 + 2.f * d34, cr[2][j] = s12 + 4.f * s34;
      cr[3][j] = d12 + 8.f * d34 + mi[5];
    }
    for (int r = 0; r < 4; ++r) {
      const v16* m = cr[r];
      const v16 s12 = m[1] + m[2], d12 = m[1] - m[2], s34 = m[3] + m[4], d34 = m[3] - m[4];
      st(o + (r * 4 + 0) * kV, m[0] + s12 + s34);
      st(o + (r * 4 + 1) * kV, d12 + 2.f * d34);
      st(o + (r * 4 + 2) * kV, s12 + 4.f * s34);
      st(o + (r * 4 + 3) * kV, d12 + 8.f * d34 + m[5]);
    }
    for (int64_t l = 0; l < nl; ++l) {
      const TileAt a = tile_at(p, q0 + l, 0, 0);
      const int64_t r1 = std::min<int64_t>(4, p.OH - a.h0), s1 = std::min<int64_t>(4, p.OW - a.w0);
      float* dst = y + (a.n * p.K + k) * OHW + a.h0 * p.OW + a.w0;
      for (int64_t r = 0; r < r1; ++r)
        for (int64_t s2 = 0; s2 < s1; ++s2) dst[r * p.OW + s2] = o[(r * 4 + s2) * kV + l];
    }
  }
}

EMBER_HOT512 void grad_output_transform_lanes(const Plan& p, const float* gy, float* Mg, int64_t P, int64_t b,
                                              int64_t e) {
  const int64_t nblk = lane_blocks(P), OHW = p.OH * p.OW, xs = p.K * P;  // xs: Mg between xi and xi + 1
  alignas(64) float d[16 * kV];
  for (int64_t it = b; it < e; ++it) {
    const int64_t k = it / nblk, q0 = it % nblk * kV, nl = std::min(kV, P - q0);
    std::fill(d, d + 16 * kV, 0.f);
    for (int64_t l = 0; l < nl; ++l) {
      const TileAt a = tile_at(p, q0 + l, 0, 0);
      const int64_t r1 = std::min<int64_t>(4, p.OH - a.h0), s1 = std::min<int64_t>(4, p.OW - a.w0);
      const float* src = gy + (a.n * p.K + k) * OHW + a.h0 * p.OW + a.w0;
      for (int64_t r = 0; r < r1; ++r)
        for (int64_t s2 = 0; s2 < s1; ++s2) d[(r * 4 + s2) * kV + l] = src[r * p.OW + s2];
    }
    v16 h[4][6];  // h[r][j]: row r of the block, A applied along it
    for (int r = 0; r < 4; ++r) {
      const float* q = d + r * 4 * kV;
      const v16 e0 = ld(q), e1 = ld(q + kV), e2 = ld(q + 2 * kV), e3 = ld(q + 3 * kV);
      const v16 s02 = e0 + e2, s13 = e1 + e3;
      h[r][0] = e0, h[r][1] = s02 + s13, h[r][2] = s02 - s13;
      h[r][3] = e0 + 2.f * e1 + 4.f * e2 + 8.f * e3, h[r][4] = e0 - 2.f * e1 + 4.f * e2 - 8.f * e3, h[r][5] = e3;
    }
    for (int j = 0; j < 6; ++j) {
      const v16 e0 = h[0][j], e1 = h[1][j], e2 = h[2][j], e3 = h[3][j];
      const v16 s02 = e0 + e2, s13 = e1 + e3;
      const v16 o[6] = {e0, s02 + s13, s02 - s13, e0 + 2.f * e1 + 4.f * e2 + 8.f * e3,
                        e0 - 2.f * e1 + 4.f * e2 - 8.f * e3, e3};
      float* m0 = Mg + (j * p.K + k) * P + q0;
      for (int i = 0; i < 6; ++i) {
        if (nl == kV) st(m0 + i * 6 * xs, o[i]);
        else st_part(m0 + i * 6 * xs, o[i], nl);
      }
    }
  }
}

// Runs one of the two forms of a transform over the thread pool for the `ch` channels of a group
// of nimg images and P tiles: lanes(b, e) over (channel, block of 16 tiles) items, planes(b, e)
// over the group's planes.
template <typename Lanes, typename Planes>
void run_transform(const Plan& p, int64_t ch, int64_t nimg, int64_t P, const Lanes& lanes, const Planes& planes) {
  if (use_lanes(p)) {
    parallel_for(0, ch * lane_blocks(P), std::max<int64_t>(1, kGrainSize / (36 * kV)), lanes);
    return;
  }
  parallel_for(0, nimg * ch, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, 36 * p.TH * p.TW)), planes);
}

void run_input_transform(const Plan& p, const float* x, float* V, int64_t nimg, int64_t P) {
  run_transform(
      p, p.C, nimg, P, [&](int64_t b, int64_t e) { input_transform_lanes(p, x, V, P, b, e); },
      [&](int64_t b, int64_t e) { input_transform(p, x, V, P, b, e); });
}
void run_output_transform(const Plan& p, const float* M, float* y, int64_t nimg, int64_t P) {
  run_transform(
      p, p.K, nimg, P, [&](int64_t b, int64_t e) { output_transform_lanes(p, M, y, P, b, e); },
      [&](int64_t b, int64_t e) { output_transform(p, M, y, P, b, e); });
}
void run_grad_output_transform(const Plan& p, const float* gy, float* Mg, int64_t nimg, int64_t P) {
  run_transform(
      p, p.K, nimg, P, [&](int64_t b, int64_t e) { grad_output_transform_lanes(p, gy, Mg, P, b, e); },
      [&](int64_t b, int64_t e) { grad_output_transform(p, gy, Mg, P, b, e); });
}

void winograd_kernel(const ConvGeom& g, const Tensor& x, const Tensor& w, const Tensor& y, bool adjoint) {
  Plan p;
  p.N = g.N;
  if (!adjoint) {
    p.C = g.C, p.K = g.Cout, p.H = g.in[1], p.W = g.in[2], p.OH = g.out[1], p.OW = g.out[2];
    p.ph = g.pad[1], p.pw = g.pad[2];
  } else {  // x = gy (N, Cout, out), y = gx (N, C, in)
    p.C = g.Cout, p.K = g.C, p.H = g.out[1], p.W = g.out[2], p.OH = g.in[1], p.OW = g.in[2];
    p.ph = 2 - g.pad[1], p.pw = 2 - g.pad[2];
  }
  p.TH = (p.OH + 3) / 4, p.TW = (p.OW + 3) / 4;
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  const int64_t C = p.C, K = p.K, tiles = p.TH * p.TW;
  // images per group: the transformed input and output of a group within about 8 MB, so that the
  // GEMMs and the output transform read them from the last-level cache (48 MB groups: 64 -> 64
  // channels at 32x32, b32, fwd 6.2 -> 4.8 ms), spread evenly over the groups
  const int64_t per_image = 36 * (C + K) * tiles * int64_t(sizeof(float));
  const int64_t nb = group_size(p.N, per_image, 8 << 20);
  // U is 4x the weights (512 -> 512 channels: 38 MB). With one group of images it is made in
  // blocks of GEMM rows (about 4 MB each), and each of the six tasks of a block transforms the
  // six U[xi] of one row of the 6 x 6 that its own GEMMs read next, from its own cache. With
  // several groups U is transformed once, whole.
  const bool blocked = nb >= p.N;
  const int64_t kb = blocked ? std::min(K, round_up((4 << 20) / (36 * int64_t(sizeof(float)) * C), kV)) : K;
  Tensor Ut = empty({36 * kb * C}, ScalarType::Float32);
  Tensor Vt = empty({36 * C * nb * tiles}, ScalarType::Float32);
  Tensor Mt = empty({36 * K * nb * tiles}, ScalarType::Float32);
  float *U = Ut.data<float>(), *V = Vt.data<float>(), *M = Mt.data<float>();
  const float* wp = w.data<float>();
  BlasSerialGuard serial;
  if (!blocked)
    parallel_for(0, 6, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) weight_transform(p, wp, adjoint, 0, K, int(i), U);
    });
  for (int64_t n0 = 0; n0 < p.N; n0 += nb) {
    const int64_t n1 = std::min(p.N, n0 + nb), P = (n1 - n0) * tiles;
    run_input_transform(p, xp + n0 * C * p.H * p.W, V, n1 - n0, P);
    for (int64_t k0 = 0; k0 < K; k0 += kb) {
      const int64_t kn = std::min(kb, K - k0);
      // U[xi]'s block: (kn x C) at row k0, or for the adjoint (C x kn) at column k0
      const int64_t ldu = adjoint ? kn : C;  // blocked: Ub holds just the block
      parallel_for(0, 6, 1, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          if (blocked) weight_transform(p, wp, adjoint, k0, kn, int(i), U);
          for (int64_t xi = 6 * i; xi < 6 * i + 6; ++xi)
            scipy_cblas_sgemm(CblasRowMajor, adjoint ? CblasTrans : CblasNoTrans, CblasNoTrans, int(kn), int(P),
                              int(C), 1.0f, U + xi * kn * C, int(ldu), V + xi * C * P, int(P), 0.0f,
                              M + xi * K * P + k0 * P, int(P));
        }
      });
    }
    run_output_transform(p, M, yp + n0 * K * p.OH * p.OW, n1 - n0, P);
  }
}


// gw (Cout, C, 3, 3) = the weight gradient of y = conv(x, w) for gy: per image group, the input
// transform V of x, the transform Mg of gy, and per xi GW[xi] (K x C) += Mg[xi] (K x P) @ V[xi]^T;
// then gw (K*C x 9) = GW^T (K*C x 36) @ T. GEMMs run one per task in a fixed order of groups,
// so the result does not depend on the thread count.
void winograd_weight_kernel(const ConvGeom& g, const Tensor& x, const Tensor& gy, const Tensor& gw) {
  Plan p;
  p.N = g.N, p.C = g.C, p.K = g.Cout, p.H = g.in[1], p.W = g.in[2], p.OH = g.out[1], p.OW = g.out[2];
  p.ph = g.pad[1], p.pw = g.pad[2];
  p.TH = (p.OH + 3) / 4, p.TW = (p.OW + 3) / 4;
  const float* xp = x.data<float>();
  const float* gp = gy.data<float>();
  const int64_t C = p.C, K = p.K, tiles = p.TH * p.TW, KC = K * C;
  const int64_t per_image = 36 * (C + K) * tiles * int64_t(sizeof(float));
  const int64_t nb = group_size(p.N, per_image, 8 << 20);
  Tensor GWt = empty({36 * KC}, ScalarType::Float32);
  Tensor Vt = empty({36 * C * nb * tiles}, ScalarType::Float32);
  Tensor Mt = empty({36 * K * nb * tiles}, ScalarType::Float32);
  float *GW = GWt.data<float>(), *V = Vt.data<float>(), *M = Mt.data<float>();
  BlasSerialGuard serial;
  for (int64_t n0 = 0; n0 < p.N; n0 += nb) {
    const int64_t n1 = std::min(p.N, n0 + nb), P = (n1 - n0) * tiles;
    run_input_transform(p, xp + n0 * C * p.H * p.W, V, n1 - n0, P);
    run_grad_output_transform(p, gp + n0 * K * p.OH * p.OW, M, n1 - n0, P);
    const float beta = n0 == 0 ? 0.0f : 1.0f;
    parallel_for(0, 36, 1, [&](int64_t b, int64_t e) {
      for (int64_t xi = b; xi < e; ++xi)
        scipy_cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(K), int(C), int(P), 1.0f, M + xi * K * P,
                          int(P), V + xi * C * P, int(P), beta, GW + xi * KC, int(C));
    });
  }
  float T[36 * 9];
  kron_g(T, false);
  float* out = gw.data<float>();
  parallel_for(0, KC, 4096, [&](int64_t b, int64_t e) {
    scipy_cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(e - b), 9, 36, 1.0f, GW + b, int(KC), T, 9, 0.0f,
                      out + b * 9, 9);
  });
}


// ---- Stride 2: space-to-depth + Winograd F(4x4, 2x2) ---------------------------------------
// A 3x3 stride-2 conv is a stride-1 2x2 conv over the four phases of its input: along one dim,
// y[o] = sum_t w[t] x[2 o + t - p] = sum_{a, u} w'_a[u] s_a[o + u] with s_a[m] = x[2 m + a - p],
// w'_a[u] = w[2 u + a] (zero for 2 u + a = 3). In 2-d the phases (a, b) make 4C channels of
// 2x2 filters, and F(4x4, 2x2) (points 0, 1, -1, 2, inf) turns each 4x4 output tile into 25
// GEMMs of (K x 4C) @ (4C x P): 6.25 C multiplies per output instead of 9 C. The tile of phase
// (a, b) is every other element of the 10x10 input patch from (8 ty - ph + a, 8 tx - pw + b).
//   B^T = [2 -1 -2 1 0; 0 -2 -1 1 0; 0 2 -3 1 0; 0 -1 0 1 0; 0 2 -1 -2 1]
//   G   = [1/2 0; -1/2 -1/2; -1/6 1/6; 1/6 1/3; 0 1]
//   A^T = [1 1 1 1 0; 0 1 -1 2 0; 0 1 1 4 0; 0 1 -1 8 1]
// V[xi][ph C + c][q] and U[xi][k][ph C + c] (ph = 2 a + b, xi = 5 row + col); lanes over 16 tiles
// q (transforms) or 16 channels c (weights), as in the stride-1 lanes path.
inline void bt5(v16 d0, v16 d1, v16 d2, v16 d3, v16 d4, v16* o) {
  o[0] = 2.f * (d0 - d2) - d1 + d3;
  o[1] = d3 - 2.f * d1 - d2;
  o[2] = 2.f * d1 - 3.f * d2 + d3;
  o[3] = d3 - d1;
  o[4] = 2.f * (d1 - d3) - d2 + d4;
}
inline void g5(v16 a0, v16 a1, v16* o) {
  o[0] = 0.5f * a0;
  o[1] = -0.5f * (a0 + a1);
  o[2] = (1.f / 6) * (a1 - a0);
  o[3] = (1.f / 6) * a0 + (1.f / 3) * a1;
  o[4] = a1;
}
inline void at5(const v16* m, v16* o) {
  const v16 s12 = m[1] + m[2], d12 = m[1] - m[2];
  o[0] = m[0] + s12 + m[3];
  o[1] = d12 + 2.f * m[3];
  o[2] = s12 + 4.f * m[3];
  o[3] = d12 + 8.f * m[3] + m[4];
}

EMBER_HOT512 void s2_input_transform(const Plan& p, const float* x, float* V, int64_t P, int64_t b, int64_t e) {
  const int64_t nblk = lane_blocks(P), HW = p.H * p.W, tiles = p.TH * p.TW, xs = 4 * p.C * P;
  alignas(64) float d[100 * kV];  // the 10x10 input patch of each of the 16 tiles
  for (int64_t it = b; it < e; ++it) {
    const int64_t c = it / nblk, q0 = it % nblk * kV, nl = std::min(kV, P - q0);
    std::fill(d, d + 100 * kV, 0.f);
    for (int64_t l = 0; l < nl; ++l) {
      const int64_t q = q0 + l, n = q / tiles, t = q % tiles;
      const int64_t h0 = t / p.TW * 8 - p.ph, w0 = t % p.TW * 8 - p.pw;
      const int64_t i0 = std::max<int64_t>(0, -h0), i1 = std::min<int64_t>(10, p.H - h0);
      const int64_t j0 = std::max<int64_t>(0, -w0), j1 = std::min<int64_t>(10, p.W - w0);
      const float* src = x + (n * p.C + c) * HW + h0 * p.W + w0;
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t j = j0; j < j1; ++j) d[(i * 10 + j) * kV + l] = src[i * p.W + j];
    }
    for (int ph = 0; ph < 4; ++ph) {
      const int a = ph >> 1, bb = ph & 1;
      v16 h[5][5];  // h[i][k]: row i of the phase's 5x5 tile, B^T applied along it
      for (int i = 0; i < 5; ++i) {
        const float* r = d + ((2 * i + a) * 10 + bb) * kV;
        bt5(ld(r), ld(r + 2 * kV), ld(r + 4 * kV), ld(r + 6 * kV), ld(r + 8 * kV), h[i]);
      }
      float* v0 = V + (ph * p.C + c) * P + q0;
      for (int k = 0; k < 5; ++k) {
        v16 o[5];
        bt5(h[0][k], h[1][k], h[2][k], h[3][k], h[4][k], o);
        for (int r = 0; r < 5; ++r) {
          float* dst = v0 + (r * 5 + k) * xs;
          if (nl == kV) st(dst, o[r]);
          else st_part(dst, o[r], nl);
        }
      }
    }
  }
}

EMBER_HOT512 void s2_output_transform(const Plan& p, const float* M, float* y, int64_t P, int64_t b, int64_t e) {
  const int64_t nblk = lane_blocks(P), OHW = p.OH * p.OW, xs = p.K * P;
  alignas(64) float o[16 * kV];
  for (int64_t it = b; it < e; ++it) {
    const int64_t k = it / nblk, q0 = it % nblk * kV, nl = std::min(kV, P - q0);
    v16 cr[4][5];  // cr[i][j]: column j of the 5x5 block, A^T applied down it
    for (int j = 0; j < 5; ++j) {
      const float* m = M + (j * p.K + k) * P + q0;
      v16 mi[5], oi[4];
      for (int r = 0; r < 5; ++r) mi[r] = nl == kV ? ld(m + r * 5 * xs) : ld_part(m + r * 5 * xs, nl);
      at5(mi, oi);
      for (int i = 0; i < 4; ++i) cr[i][j] = oi[i];
    }
    for (int i = 0; i < 4; ++i) {
      v16 oi[4];
      at5(cr[i], oi);
      for (int s2 = 0; s2 < 4; ++s2) st(o + (i * 4 + s2) * kV, oi[s2]);
    }
    for (int64_t l = 0; l < nl; ++l) {
      const TileAt a = tile_at(p, q0 + l, 0, 0);
      const int64_t r1 = std::min<int64_t>(4, p.OH - a.h0), s1 = std::min<int64_t>(4, p.OW - a.w0);
      float* dst = y + (a.n * p.K + k) * OHW + a.h0 * p.OW + a.w0;
      for (int64_t r = 0; r < r1; ++r)
        for (int64_t s2 = 0; s2 < s1; ++s2) dst[r * p.OW + s2] = o[(r * 4 + s2) * kV + l];
    }
  }
}

// U for the GEMM rows [k0, k0 + kn): Ub[xi] (kn x 4C); items it = (k - k0) * nblk + block of 16 c.
EMBER_HOT512 void s2_weight_transform(const Plan& p, const float* w, int64_t k0, int64_t kn, float* Ub, int64_t b,
                                      int64_t e) {
  const int64_t C = p.C, nblk = lane_blocks(C), xs = kn * 4 * C, nf = p.K * C;
  alignas(64) float d[9 * kV];
  for (int64_t it = b; it < e; ++it) {
    const int64_t kr = it / nblk, c0 = it % nblk * kV, nl = std::min(kV, C - c0);
    const int64_t f0 = (k0 + kr) * C + c0;  // first filter of the block in w (K*C filters)
    v16 g[9];
    if (nl == kV && nf - f0 > kV) {  // 16 loads of 16 floats (in bounds: a filter follows), transposed
      v16 r[16];
      for (int l = 0; l < 16; ++l) r[l] = ld(w + (f0 + l) * 9);
      transpose16(r);
      for (int t = 0; t < 9; ++t) g[t] = r[t];
    } else {
      std::fill(d, d + 9 * kV, 0.f);
      for (int64_t l = 0; l < nl; ++l)
        for (int t = 0; t < 9; ++t) d[t * kV + l] = w[(f0 + l) * 9 + t];
      for (int t = 0; t < 9; ++t) g[t] = ld(d + t * kV);
    }
    const v16 zero = {};
    for (int ph = 0; ph < 4; ++ph) {
      const int a = ph >> 1, bb = ph & 1;
      // the phase's 2x2 filter: w'[u][v] = g[2u + a][2v + b], zero past the 3x3
      auto tap = [&](int u, int v) { return (2 * u + a < 3 && 2 * v + bb < 3) ? g[(2 * u + a) * 3 + 2 * v + bb] : zero; };
      v16 t0[5], t1[5];  // t_v = G (column v of w')
      g5(tap(0, 0), tap(1, 0), t0);
      g5(tap(0, 1), tap(1, 1), t1);
      float* u0 = Ub + kr * 4 * C + ph * C + c0;
      for (int i = 0; i < 5; ++i) {
        v16 u[5];
        g5(t0[i], t1[i], u);
        for (int l = 0; l < 5; ++l) {
          float* dst = u0 + (i * 5 + l) * xs;
          if (nl == kV) st(dst, u[l]);
          else st_part(dst, u[l], nl);
        }
      }
    }
  }
}

void winograd_s2_kernel(const ConvGeom& g, const Tensor& x, const Tensor& w, const Tensor& y) {
  Plan p;
  p.N = g.N, p.C = g.C, p.K = g.Cout, p.H = g.in[1], p.W = g.in[2], p.OH = g.out[1], p.OW = g.out[2];
  p.ph = g.pad[1], p.pw = g.pad[2];
  p.TH = (p.OH + 3) / 4, p.TW = (p.OW + 3) / 4;
  const float* xp = x.data<float>();
  const float* wp = w.data<float>();
  float* yp = y.data<float>();
  const int64_t C4 = 4 * p.C, K = p.K, tiles = p.TH * p.TW;
  // image groups and blocks of U as in winograd_kernel
  const int64_t per_image = 25 * (C4 + K) * tiles * int64_t(sizeof(float));
  const int64_t nb = group_size(p.N, per_image, 8 << 20);
  const bool blocked = nb >= p.N;
  const int64_t kb = blocked ? std::min(K, round_up((4 << 20) / (25 * int64_t(sizeof(float)) * C4), kV)) : K;
  Tensor Ut = empty({25 * kb * C4}, ScalarType::Float32);
  Tensor Vt = empty({25 * C4 * nb * tiles}, ScalarType::Float32);
  Tensor Mt = empty({25 * K * nb * tiles}, ScalarType::Float32);
  float *U = Ut.data<float>(), *V = Vt.data<float>(), *M = Mt.data<float>();
  const int64_t wgrain = std::max<int64_t>(1, kGrainSize / (100 * kV));
  auto transform_u = [&](int64_t k0, int64_t kn) {
    parallel_for(0, kn * lane_blocks(p.C), wgrain,
                 [&](int64_t b, int64_t e) { s2_weight_transform(p, wp, k0, kn, U, b, e); });
  };
  BlasSerialGuard serial;
  if (!blocked) transform_u(0, K);
  for (int64_t n0 = 0; n0 < p.N; n0 += nb) {
    const int64_t n1 = std::min(p.N, n0 + nb), P = (n1 - n0) * tiles;
    parallel_for(0, p.C * lane_blocks(P), std::max<int64_t>(1, kGrainSize / (100 * kV)), [&](int64_t b, int64_t e) {
      s2_input_transform(p, xp + n0 * p.C * p.H * p.W, V, P, b, e);
    });
    for (int64_t k0 = 0; k0 < K; k0 += kb) {
      const int64_t kn = std::min(kb, K - k0);
      if (blocked) transform_u(k0, kn);
      parallel_for(0, 25, 1, [&](int64_t b, int64_t e) {
        for (int64_t xi = b; xi < e; ++xi)
          scipy_cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(kn), int(P), int(C4), 1.0f,
                            U + xi * kn * C4, int(C4), V + xi * C4 * P, int(P), 0.0f, M + xi * K * P + k0 * P,
                            int(P));
      });
    }
    parallel_for(0, K * lane_blocks(P), std::max<int64_t>(1, kGrainSize / (25 * kV)), [&](int64_t b, int64_t e) {
      s2_output_transform(p, M, yp + n0 * K * p.OH * p.OW, P, b, e);
    });
  }
}

}  // namespace

EMBER_REGISTER_CPU(winograd_stub, winograd_kernel);
EMBER_REGISTER_CPU(winograd_weight_stub, winograd_weight_kernel);
EMBER_REGISTER_CPU(winograd_s2_stub, winograd_s2_kernel);

}  // namespace ember
