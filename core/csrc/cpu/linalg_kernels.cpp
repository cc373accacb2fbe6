// CPU kernel of the batched GEMM stub (ops/linalg.h).
//  - float32 / float64 / complex64: OpenBLAS, passing transposed layouts through the
//    trans flags (no copies: the front end made sure each matrix has a unit stride);
//    vector cases go to gemv / dot.
//  - float16 / bfloat16: each matrix converted to float32, sgemm (float accumulation),
//    converted back.
//  - integers: a plain row-by-row loop with wrap-around accumulation (PyTorch's semantics).
// Many small matrices: the batch is split over threads with single-threaded BLAS.
#include <cblas.h>

#include <algorithm>
#include <climits>
#include <vector>

#include "../ops/linalg.h"
#include "loop.h"

namespace ember {
namespace {

struct Mat {
  char* p;
  int64_t rs, cs;  // element strides
  Mat t() const { return {p, cs, rs}; }
};

inline bool fits_int(int64_t v) { return v >= 0 && v <= INT_MAX; }

// Trans flag and leading dimension under which BLAS (row-major) reads a rows x cols matrix.
bool blas_desc(int64_t rows, int64_t cols, int64_t rs, int64_t cs, CBLAS_TRANSPOSE& tr, int& ld) {
  if (!fits_int(rows) || !fits_int(cols)) return false;
  if ((cs == 1 || cols == 1) && (rows == 1 || rs >= std::max<int64_t>(1, cols))) {
    int64_t l = rows == 1 ? std::max<int64_t>(1, cols) : rs;
    if (!fits_int(l)) return false;
    tr = CblasNoTrans;
    ld = int(l);
    return true;
  }
  if ((rs == 1 || rows == 1) && (cols == 1 || cs >= std::max<int64_t>(1, rows))) {
    int64_t l = cols == 1 ? std::max<int64_t>(1, rows) : cs;
    if (!fits_int(l)) return false;
    tr = CblasTrans;
    ld = int(l);
    return true;
  }
  return false;
}

template <typename T>
inline T& at(const Mat& m, int64_t i, int64_t j) {
  return *reinterpret_cast<T*>(m.p + (i * m.rs + j * m.cs) * int64_t(sizeof(T)));
}

// ---- BLAS wrappers ------------------------------------------------------------------
template <typename T> struct Blas;
template <> struct Blas<float> {
  static void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, float al, const float* a, int lda,
                   const float* b, int ldb, float be, float* c, int ldc) {
    scipy_cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, al, a, lda, b, ldb, be, c, ldc);
  }
  static void gemv(CBLAS_TRANSPOSE ta, int m, int n, float al, const float* a, int lda, const float* x, int incx,
                   float be, float* y, int incy) {
    scipy_cblas_sgemv(CblasRowMajor, ta, m, n, al, a, lda, x, incx, be, y, incy);
  }
  static float dot(int n, const float* x, int incx, const float* y, int incy) {
    return scipy_cblas_sdot(n, x, incx, y, incy);
  }
};
template <> struct Blas<double> {
  static void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, double al, const double* a, int lda,
                   const double* b, int ldb, double be, double* c, int ldc) {
    scipy_cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, al, a, lda, b, ldb, be, c, ldc);
  }
  static void gemv(CBLAS_TRANSPOSE ta, int m, int n, double al, const double* a, int lda, const double* x, int incx,
                   double be, double* y, int incy) {
    scipy_cblas_dgemv(CblasRowMajor, ta, m, n, al, a, lda, x, incx, be, y, incy);
  }
  static double dot(int n, const double* x, int incx, const double* y, int incy) {
    return scipy_cblas_ddot(n, x, incx, y, incy);
  }
};
template <> struct Blas<c64> {
  static void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, c64 al, const c64* a, int lda,
                   const c64* b, int ldb, c64 be, c64* c, int ldc) {
    scipy_cblas_cgemm(CblasRowMajor, ta, tb, m, n, k, &al, a, lda, b, ldb, &be, c, ldc);
  }
  static void gemv(CBLAS_TRANSPOSE ta, int m, int n, c64 al, const c64* a, int lda, const c64* x, int incx, c64 be,
                   c64* y, int incy) {
    scipy_cblas_cgemv(CblasRowMajor, ta, m, n, &al, a, lda, x, incx, &be, y, incy);
  }
  static c64 dot(int n, const c64* x, int incx, const c64* y, int incy) {
    c64 r;
    scipy_cblas_cdotu_sub(n, x, incx, y, incy, &r);
    return r;
  }
};

// ---- plain loop (integers, and any problem BLAS cannot take) ------------------------
template <typename T> struct LoopAcc { using type = T; };
template <> struct LoopAcc<float> { using type = double; };
// integers wrap around like PyTorch's: accumulate modulo 2^64 and truncate
template <> struct LoopAcc<uint8_t> { using type = uint64_t; };
template <> struct LoopAcc<int8_t> { using type = uint64_t; };
template <> struct LoopAcc<int16_t> { using type = uint64_t; };
template <> struct LoopAcc<int32_t> { using type = uint64_t; };
template <> struct LoopAcc<int64_t> { using type = uint64_t; };

template <typename T>
inline auto to_acc(T v) {
  using A = typename LoopAcc<T>::type;
  if constexpr (std::is_integral_v<T>) return A(int64_t(v));
  else return A(v);
}

template <typename T>
void loop_gemm_rows(int64_t r0, int64_t r1, int64_t n, int64_t k, const std::complex<double>& alpha, const Mat& a,
                    const Mat& b, const std::complex<double>& beta, const Mat& c) {
  using A = typename LoopAcc<T>::type;
  A al, be;
  if constexpr (std::is_integral_v<T>) {
    al = A(int64_t(alpha.real()));
    be = A(int64_t(beta.real()));
  } else if constexpr (is_complex_v<T>) {
    al = A(float(alpha.real()), float(alpha.imag()));
    be = A(float(beta.real()), float(beta.imag()));
  } else {
    al = A(alpha.real());
    be = A(beta.real());
  }
  const bool use_beta = beta != std::complex<double>(0.0, 0.0);
  std::vector<A> row(static_cast<size_t>(n));
  for (int64_t i = r0; i < r1; ++i) {
    std::fill(row.begin(), row.end(), A(0));
    for (int64_t kk = 0; kk < k; ++kk) {
      const A av = to_acc(at<T>(a, i, kk));
      const char* bp = b.p + kk * b.rs * int64_t(sizeof(T));
      if (b.cs == 1) {
        const T* bb = reinterpret_cast<const T*>(bp);
        for (int64_t j = 0; j < n; ++j) row[j] += av * to_acc(bb[j]);
      } else {
        for (int64_t j = 0; j < n; ++j)
          row[j] += av * to_acc(*reinterpret_cast<const T*>(bp + j * b.cs * int64_t(sizeof(T))));
      }
    }
    for (int64_t j = 0; j < n; ++j) {
      A v = al * row[j];
      if (use_beta) v += be * to_acc(at<T>(c, i, j));
      if constexpr (std::is_integral_v<T>) at<T>(c, i, j) = T(int64_t(v));
      else at<T>(c, i, j) = T(v);
    }
  }
}

// ---- one matrix through BLAS ----------------------------------------------------------
template <typename T>
T blas_scalar(const std::complex<double>& z) {
  if constexpr (is_complex_v<T>) return T(float(z.real()), float(z.imag()));
  else return T(z.real());
}

template <typename T>
void gemm_one(int64_t m, int64_t n, int64_t k, const std::complex<double>& alpha_z, Mat a, Mat b,
              const std::complex<double>& beta_z, Mat c) {
  const T alpha = blas_scalar<T>(alpha_z), beta = blas_scalar<T>(beta_z);
  const bool use_beta = beta_z != std::complex<double>(0.0, 0.0);
  // a row vector result: solve the transposed problem, so that vectors are columns
  if (m == 1 && n > 1) {
    std::swap(m, n);
    Mat at_ = b.t(), bt_ = a.t();
    a = at_;
    b = bt_;
    c = c.t();
  }
  if (n == 1 && fits_int(k) && fits_int(m)) {
    const int64_t incx = k == 1 ? 1 : b.rs;
    if (m == 1) {  // dot
      const int64_t inca = k == 1 ? 1 : a.cs;
      if (fits_int(incx) && fits_int(inca) && incx > 0 && inca > 0) {
        T r = Blas<T>::dot(int(k), reinterpret_cast<const T*>(a.p), int(inca), reinterpret_cast<const T*>(b.p),
                           int(incx));
        T& out = at<T>(c, 0, 0);
        out = use_beta ? T(alpha * r + beta * out) : T(alpha * r);
        return;
      }
    } else {
      CBLAS_TRANSPOSE ta;
      int lda;
      const int64_t incy = c.rs;
      if (fits_int(incx) && incx > 0 && fits_int(incy) && incy > 0 && blas_desc(m, k, a.rs, a.cs, ta, lda)) {
        if (!use_beta)  // BLAS scales y by beta; make sure no nan/garbage survives
          for (int64_t i = 0; i < m; ++i) at<T>(c, i, 0) = T(0);
        const T* x = reinterpret_cast<const T*>(b.p);
        T* y = reinterpret_cast<T*>(c.p);
        if (ta == CblasNoTrans)
          Blas<T>::gemv(CblasNoTrans, int(m), int(k), alpha, reinterpret_cast<const T*>(a.p), lda, x, int(incx),
                        beta, y, int(incy));
        else
          Blas<T>::gemv(CblasTrans, int(k), int(m), alpha, reinterpret_cast<const T*>(a.p), lda, x, int(incx), beta,
                        y, int(incy));
        return;
      }
    }
  }
  // general: the row-major interface writes C row by row; a column-major C solves for C^T
  CBLAS_TRANSPOSE tc;
  int ldc;
  if (fits_int(k) && blas_desc(m, n, c.rs, c.cs, tc, ldc)) {
    if (tc == CblasTrans) {
      std::swap(m, n);
      Mat at_ = b.t(), bt_ = a.t();
      a = at_;
      b = bt_;
      c = c.t();
    }
    CBLAS_TRANSPOSE ta, tb;
    int lda, ldb;
    if (blas_desc(m, k, a.rs, a.cs, ta, lda) && blas_desc(k, n, b.rs, b.cs, tb, ldb)) {
      Blas<T>::gemm(ta, tb, int(m), int(n), int(k), alpha, reinterpret_cast<const T*>(a.p), lda,
                    reinterpret_cast<const T*>(b.p), ldb, beta, reinterpret_cast<T*>(c.p), ldc);
      return;
    }
  }
  loop_gemm_rows<T>(0, m, n, k, alpha_z, a, b, beta_z, c);
}

// One matrix on ember's thread pool: C split into row (or column) blocks, one serial BLAS
// call per thread. OpenBLAS's own threads stay off (parallel.cpp): two pools on the same
// cores make each one spin while the other waits for a core, which cost milliseconds per
// switch between a GEMM and an elementwise op.
constexpr int64_t kSplitGemm = int64_t(1) << 18;  // multiply-adds below which one thread does it

template <typename T>
void gemm_split(int64_t m, int64_t n, int64_t k, const std::complex<double>& alpha, const Mat& a, const Mat& b,
                const std::complex<double>& beta, const Mat& c) {
  const int nt = get_num_threads();
  if (nt == 1 || in_parallel_region() || m * n * k < kSplitGemm || (m < 32 && n < 32)) {
    gemm_one<T>(m, n, k, alpha, a, b, beta, c);
    return;
  }
  const int64_t isz = int64_t(sizeof(T));
  const bool rows = m >= n;
  const int64_t len = rows ? m : n;
  const int64_t block = std::max<int64_t>(16, ((len + nt - 1) / nt + 15) / 16 * 16);
  parallel_for(0, (len + block - 1) / block, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t s = t * block, e = std::min(len, s + block);
      if (rows) {
        Mat as{a.p + s * a.rs * isz, a.rs, a.cs}, cs{c.p + s * c.rs * isz, c.rs, c.cs};
        gemm_one<T>(e - s, n, k, alpha, as, b, beta, cs);
      } else {
        Mat bs{b.p + s * b.cs * isz, b.rs, b.cs}, cs{c.p + s * c.cs * isz, c.rs, c.cs};
        gemm_one<T>(m, e - s, k, alpha, a, bs, beta, cs);
      }
    }
  });
}

// 16-bit floats: convert the matrices to float32, multiply with sgemm, convert back.
template <typename T>
void gemm_one_half(int64_t m, int64_t n, int64_t k, const std::complex<double>& alpha, const Mat& a, const Mat& b,
                   const std::complex<double>& beta, const Mat& c, std::vector<float>& buf) {
  const bool use_beta = beta != std::complex<double>(0.0, 0.0);
  buf.resize(size_t(m * k + k * n + m * n));
  float* fa = buf.data();
  float* fb = fa + m * k;
  float* fc = fb + k * n;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < k; ++j) fa[i * k + j] = float(at<T>(a, i, j));
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < n; ++j) fb[i * n + j] = float(at<T>(b, i, j));
  if (use_beta)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) fc[i * n + j] = float(at<T>(c, i, j));
  Mat A{reinterpret_cast<char*>(fa), k, 1}, B{reinterpret_cast<char*>(fb), n, 1}, C{reinterpret_cast<char*>(fc), n, 1};
  gemm_split<float>(m, n, k, alpha, A, B, beta, C);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) at<T>(c, i, j) = T(fc[i * n + j]);
}

// Byte offsets of batch `lin` (last batch dim fastest).
inline void batch_offsets(const GemmArgs& g, int64_t lin, int64_t isz, int64_t& oa, int64_t& ob, int64_t& oc) {
  oa = ob = oc = 0;
  for (int d = g.nbatch - 1; d >= 0; --d) {
    int64_t i = lin % g.batch[d];
    lin /= g.batch[d];
    oa += i * g.a.bstride[d];
    ob += i * g.b.bstride[d];
    oc += i * g.c.bstride[d];
  }
  oa *= isz;
  ob *= isz;
  oc *= isz;
}

// Matrices of at most this many multiply-adds run one per thread when there are enough of
// them; larger ones are split across the threads one at a time (gemm_split).
constexpr int64_t kSmallGemm = int64_t(1) << 22;

EMBER_HOT void gemm_kernel(const GemmArgs& g) {
  const int64_t nb = g.batch_count();
  const int64_t m = g.m, n = g.n, k = g.k;
  if (nb == 0 || m == 0 || n == 0) return;
  const int64_t isz = itemsize(g.dtype);
  auto mats = [&](int64_t lin, Mat& a, Mat& b, Mat& c) {
    int64_t oa, ob, oc;
    batch_offsets(g, lin, isz, oa, ob, oc);
    a = {g.a.data + oa, g.a.rs, g.a.cs};
    b = {g.b.data + ob, g.b.rs, g.b.cs};
    c = {g.c.data + oc, g.c.rs, g.c.cs};
  };
  const int nthreads = get_num_threads();
  const bool batch_parallel = nb > 1 && nthreads > 1 && !in_parallel_region() &&
                              (m * n * k <= kSmallGemm || nb >= 4 * nthreads) && nb >= nthreads;
  dispatch<kFloatMask | kComplexMask | kIntMask>(g.dtype, "matmul", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    if constexpr (std::is_integral_v<T>) {
      // rows of all batches form one parallel loop
      const int64_t rows = nb * m;
      const int64_t grain = std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, n * k));
      parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
        while (r0 < r1) {
          int64_t bi = r0 / m, i0 = r0 % m;
          int64_t i1 = std::min(m, i0 + (r1 - r0));
          Mat a, b, c;
          mats(bi, a, b, c);
          loop_gemm_rows<T>(i0, i1, n, k, g.alpha, a, b, g.beta, c);
          r0 += i1 - i0;
        }
      });
    } else if constexpr (is_float16_v<T>) {
      if (batch_parallel) {
        BlasSerialGuard serial;
        parallel_for(0, nb, 1, [&](int64_t b0, int64_t b1) {
          std::vector<float> buf;
          for (int64_t i = b0; i < b1; ++i) {
            Mat a, b, c;
            mats(i, a, b, c);
            gemm_one_half<T>(m, n, k, g.alpha, a, b, g.beta, c, buf);
          }
        });
      } else {
        std::vector<float> buf;
        for (int64_t i = 0; i < nb; ++i) {
          Mat a, b, c;
          mats(i, a, b, c);
          gemm_one_half<T>(m, n, k, g.alpha, a, b, g.beta, c, buf);
        }
      }
    } else {
      if (batch_parallel) {
        BlasSerialGuard serial;
        parallel_for(0, nb, 1, [&](int64_t b0, int64_t b1) {
          for (int64_t i = b0; i < b1; ++i) {
            Mat a, b, c;
            mats(i, a, b, c);
            gemm_one<T>(m, n, k, g.alpha, a, b, g.beta, c);
          }
        });
      } else {
        for (int64_t i = 0; i < nb; ++i) {
          Mat a, b, c;
          mats(i, a, b, c);
          gemm_split<T>(m, n, k, g.alpha, a, b, g.beta, c);
        }
      }
    }
  });
}
EMBER_REGISTER_CPU(gemm_stub, gemm_kernel);

}  // namespace
}  // namespace ember
