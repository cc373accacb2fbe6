// Blocked scaled dot-product attention on the CPU (ops/nn.h): the forward keeps a running
// max and sum per query row (online softmax) over key blocks and saves each row's
// log-sum-exp; the backward recomputes each score tile from it. Each task owns one
// (batch*head, query block) in the forward and one batch*head in the backward; tiles go
// through serial BLAS.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "../ops/nn.h"
#include "loop.h"
#include "vmath.h"

namespace ember {
namespace {

constexpr int64_t kBq = 64, kBk = 64;

template <typename T> struct Gemm;
template <> struct Gemm<float> {
  static void run(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, float al, const float* a, int lda,
                  const float* b, int ldb, float be, float* c, int ldc) {
    scipy_cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, al, a, lda, b, ldb, be, c, ldc);
  }
};
template <> struct Gemm<double> {
  static void run(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, double al, const double* a, int lda,
                  const double* b, int ldb, double be, double* c, int ldc) {
    scipy_cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, al, a, lda, b, ldb, be, c, ldc);
  }
};

// Scores of query rows [i0, i0+bq) against keys [j0, j0+bk) into s (bq x bk, row stride bk):
// scale * q k^T + mask, -inf above the diagonal when causal.
template <typename T>
void score_tile(const AttnArgs& a, int64_t bh, const T* q, const T* k, int64_t i0, int64_t bq, int64_t j0, int64_t bk,
                T* s) {
  Gemm<T>::run(CblasNoTrans, CblasTrans, int(bq), int(bk), int(a.E), T(a.scale), q + i0 * a.E, int(a.E),
               k + j0 * a.E, int(a.E), T(0), s, int(bk));
  if (a.mask) {
    const T* mp = a.mask->data<T>() + a.mask_off[size_t(bh)];
    for (int64_t r = 0; r < bq; ++r)
      for (int64_t c = 0; c < bk; ++c) s[r * bk + c] += mp[(i0 + r) * a.mask_ls + (j0 + c) * a.mask_ss];
  }
  if (a.causal)
    for (int64_t r = 0; r < bq; ++r)
      for (int64_t c = std::max<int64_t>(0, i0 + r - j0 + 1); c < bk; ++c)
        s[r * bk + c] = -std::numeric_limits<T>::infinity();
}

// Last key block a causal query block [i0, i0+bq) needs.
inline int64_t key_end(const AttnArgs& a, int64_t i0, int64_t bq) {
  return a.causal ? std::min(a.S, i0 + bq) : a.S;
}

// Key blocks of the forward: 64 keys for causal attention (whole blocks above the diagonal are
// skipped), 256 otherwise (fewer, larger GEMMs and fewer rescales of the output rows).
inline int64_t fwd_key_block(const AttnArgs& a) { return a.causal ? kBk : 4 * kBk; }

template <typename T>
EMBER_HOT512 void forward_block(const AttnArgs& a, int64_t bh, int64_t i0, const T* q, const T* k, const T* v, T* o,
                                T* lse, std::vector<T>& buf) {
  const int64_t bq = std::min(kBq, a.L - i0), kb = fwd_key_block(a);
  buf.resize(size_t(bq * kb + 2 * bq));
  T* s = buf.data();
  T* m = s + bq * kb;
  T* l = m + bq;
  T* ob = o + i0 * a.Ev;
  std::fill(ob, ob + bq * a.Ev, T(0));
  std::fill(m, m + bq, -std::numeric_limits<T>::infinity());
  std::fill(l, l + bq, T(0));
  const int64_t jend = key_end(a, i0, bq);
  for (int64_t j0 = 0; j0 < jend; j0 += kb) {
    const int64_t bk = std::min(kb, jend - j0);
    score_tile<T>(a, bh, q, k, i0, bq, j0, bk, s);
    for (int64_t r = 0; r < bq; ++r) {
      T* row = s + r * bk;
      T mx = m[r];
#pragma omp simd reduction(max : mx)
      for (int64_t c = 0; c < bk; ++c) mx = row[c] > mx ? row[c] : mx;
      // a nan score: the max may drop it, its exp makes the row's sum nan (as the math path)
      // a row that is all -inf so far keeps m = -inf; exp(-inf - -inf) is nan, as the math path
      const T base = std::isinf(mx) && mx < 0 ? T(0) : mx;
      T sum = 0;
#pragma omp simd reduction(+ : sum)
      for (int64_t c = 0; c < bk; ++c) {
        row[c] = math::vexp(T(row[c] - base));
        sum += row[c];
      }
      const T corr = std::isinf(m[r]) && m[r] < 0 ? T(0) : math::vexp(T(m[r] - base));
      l[r] = l[r] * corr + sum;
      m[r] = mx;
      if (corr != T(1)) {
        T* orow = ob + r * a.Ev;
        for (int64_t c = 0; c < a.Ev; ++c) orow[c] *= corr;
      }
    }
    Gemm<T>::run(CblasNoTrans, CblasNoTrans, int(bq), int(a.Ev), int(bk), T(1), s, int(bk), v + j0 * a.Ev, int(a.Ev),
                 T(1), ob, int(a.Ev));
  }
  for (int64_t r = 0; r < bq; ++r) {
    const T inv = T(1) / l[r];  // l == 0 (a fully masked row): nan, as the math path
    T* orow = ob + r * a.Ev;
    for (int64_t c = 0; c < a.Ev; ++c) orow[c] = l[r] == T(0) ? std::numeric_limits<T>::quiet_NaN() : orow[c] * inv;
    lse[i0 + r] = (std::isinf(m[r]) && m[r] < 0) ? m[r] : m[r] + std::log(l[r]);
  }
}

void attn_forward_kernel(const AttnArgs& a, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                         const Tensor& lse) {
  dispatch<tbit(ScalarType::Float32) | tbit(ScalarType::Float64)>(q.dtype(), "scaled_dot_product_attention",
                                                                     [&](auto tag) {
    using T = EMBER_TYPE(tag);
    const int64_t nqb = (a.L + kBq - 1) / kBq;
    parallel_for(0, a.BH * nqb, 1, [&](int64_t t0, int64_t t1) {
      std::vector<T> buf;
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t bh = t / nqb, i0 = (t % nqb) * kBq;
        forward_block<T>(a, bh, i0, q.data<T>() + bh * a.L * a.E, k.data<T>() + bh * a.S * a.E,
                         v.data<T>() + bh * a.S * a.Ev, out.data<T>() + bh * a.L * a.Ev, lse.data<T>() + bh * a.L,
                         buf);
      }
    });
  });
}

template <typename T>
EMBER_HOT512 void backward_head(const AttnArgs& a, int64_t bh, const T* q, const T* k, const T* v, const T* o,
                                const T* lse, const T* go, T* gq, T* gk, T* gv, std::vector<T>& buf) {
  const int64_t kb = fwd_key_block(a);
  buf.resize(size_t(a.L + 2 * kBq * kb));
  T* D = buf.data();
  T* p = D + a.L;
  T* dp = p + kBq * kb;
  for (int64_t i = 0; i < a.L; ++i) {
    T d = 0;
    for (int64_t c = 0; c < a.Ev; ++c) d += go[i * a.Ev + c] * o[i * a.Ev + c];
    D[i] = d;
  }
  std::fill(gq, gq + a.L * a.E, T(0));
  std::fill(gk, gk + a.S * a.E, T(0));
  std::fill(gv, gv + a.S * a.Ev, T(0));
  for (int64_t i0 = 0; i0 < a.L; i0 += kBq) {
    const int64_t bq = std::min(kBq, a.L - i0), jend = key_end(a, i0, bq);
    for (int64_t j0 = 0; j0 < jend; j0 += kb) {
      const int64_t bk = std::min(kb, jend - j0);
      score_tile<T>(a, bh, q, k, i0, bq, j0, bk, p);
      for (int64_t r = 0; r < bq; ++r) {
        const T lr = lse[i0 + r];
        T* pr = p + r * bk;
#pragma omp simd
        for (int64_t c = 0; c < bk; ++c) pr[c] = math::vexp(T(pr[c] - lr));
      }
      // gv[j] += p^T go[i];  dp = go[i] v[j]^T
      Gemm<T>::run(CblasTrans, CblasNoTrans, int(bk), int(a.Ev), int(bq), T(1), p, int(bk), go + i0 * a.Ev,
                   int(a.Ev), T(1), gv + j0 * a.Ev, int(a.Ev));
      Gemm<T>::run(CblasNoTrans, CblasTrans, int(bq), int(bk), int(a.Ev), T(1), go + i0 * a.Ev, int(a.Ev),
                   v + j0 * a.Ev, int(a.Ev), T(0), dp, int(bk));
      for (int64_t r = 0; r < bq; ++r) {
        const T dr = D[i0 + r];
        const T* pr = p + r * bk;
        T* dpr = dp + r * bk;
#pragma omp simd
        for (int64_t c = 0; c < bk; ++c) dpr[c] = pr[c] == T(0) ? T(0) : pr[c] * (dpr[c] - dr);
      }
      // gq[i] += scale * ds k[j];  gk[j] += scale * ds^T q[i]
      Gemm<T>::run(CblasNoTrans, CblasNoTrans, int(bq), int(a.E), int(bk), T(a.scale), dp, int(bk), k + j0 * a.E,
                   int(a.E), T(1), gq + i0 * a.E, int(a.E));
      Gemm<T>::run(CblasTrans, CblasNoTrans, int(bk), int(a.E), int(bq), T(a.scale), dp, int(bk), q + i0 * a.E,
                   int(a.E), T(1), gk + j0 * a.E, int(a.E));
    }
  }
}

void attn_backward_kernel(const AttnArgs& a, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                          const Tensor& lse, const Tensor& gout, const Tensor& gq, const Tensor& gk, const Tensor& gv) {
  dispatch<tbit(ScalarType::Float32) | tbit(ScalarType::Float64)>(q.dtype(), "scaled_dot_product_attention",
                                                                     [&](auto tag) {
    using T = EMBER_TYPE(tag);
    parallel_for(0, a.BH, 1, [&](int64_t b0, int64_t b1) {
      std::vector<T> buf;
      for (int64_t bh = b0; bh < b1; ++bh)
        backward_head<T>(a, bh, q.data<T>() + bh * a.L * a.E, k.data<T>() + bh * a.S * a.E,
                         v.data<T>() + bh * a.S * a.Ev, out.data<T>() + bh * a.L * a.Ev, lse.data<T>() + bh * a.L,
                         gout.data<T>() + bh * a.L * a.Ev, gq.data<T>() + bh * a.L * a.E,
                         gk.data<T>() + bh * a.S * a.E, gv.data<T>() + bh * a.S * a.Ev, buf);
    });
  });
}

}  // namespace

EMBER_REGISTER_CPU(attn_forward_stub, attn_forward_kernel);
EMBER_REGISTER_CPU(attn_backward_stub, attn_backward_kernel);

}  // namespace ember
