// The CUDA GEMM stub (ops/linalg.h): floats through cuBLAS's strided-batched GEMM (float32 in
// TF32 when the product allows it: GemmArgs::allow_tf32, from ember.backends.cuda.matmul /
// ember.backends.cudnn; 16-bit floats with float accumulation; float64), integers and bool
// through a plain kernel that wraps around like the CPU's loop.
//
// Layouts: cuBLAS is column-major. Each matrix arrives with one unit stride (the front end
// copies others); a row-major matrix is the column-major transpose, so C = A @ B runs as
// C^T = B^T A^T when C is row-major. Batch dims that collapse to one stride for all three
// operands (broadcast dims have stride 0) go into one strided-batched call; the rest loop here.
#include "../ops/linalg.h"
#include "cublas.h"
#include "primitives.cuh"

namespace ember {
namespace cuda {
namespace {

struct Layout {
  bool col;    // column-major: (i, j) at i + j * ld
  int64_t ld;  // else row-major: (i, j) at i * ld + j
};
Layout layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
  if ((rs == 1 || rows == 1) && (cols == 1 || cs >= std::max<int64_t>(1, rows)))
    return {true, cols == 1 ? std::max<int64_t>(1, rows) : std::max<int64_t>(cs, std::max<int64_t>(1, rows))};
  return {false, rows == 1 ? std::max<int64_t>(1, cols) : rs};
}

// ---- integers and bool: one thread per output element ------------------------------------------
struct IntGemm {
  int64_t m, n, k;
  int nb;
  int64_t batch[kMaxBatchDims];
  int64_t sa[kMaxBatchDims], sb[kMaxBatchDims], sc[kMaxBatchDims];
  int64_t ars, acs, brs, bcs, crs, ccs;
  int64_t alpha, beta;
  bool use_beta;
};

template <typename T>
__global__ void int_gemm_kernel(const T* a, const T* b, T* c, IntGemm g, int64_t total) {
  const int64_t t = int64_t(blockIdx.x) * 256 + threadIdx.x;
  if (t >= total) return;
  const int64_t j = t % g.n, i = (t / g.n) % g.m;
  int64_t r = t / (g.n * g.m), oa = 0, ob = 0, oc = 0;
  for (int d = g.nb - 1; d >= 0; --d) {
    const int64_t x = r % g.batch[d];
    r /= g.batch[d];
    oa += x * g.sa[d], ob += x * g.sb[d], oc += x * g.sc[d];
  }
  uint64_t acc = 0;
  for (int64_t q = 0; q < g.k; ++q)
    acc += uint64_t(int64_t(a[oa + i * g.ars + q * g.acs])) * uint64_t(int64_t(b[ob + q * g.brs + j * g.bcs]));
  uint64_t v = uint64_t(g.alpha) * acc;
  T* cp = c + oc + i * g.crs + j * g.ccs;
  if (g.use_beta) v += uint64_t(g.beta) * uint64_t(int64_t(*cp));
  if constexpr (std::is_same_v<T, bool>) *cp = v != 0;
  else *cp = T(int64_t(v));
}

struct IntBody {
  const GemmArgs& g;
  template <typename T>
  void operator()() const {
    IntGemm p;
    p.m = g.m, p.n = g.n, p.k = g.k, p.nb = g.nbatch;
    for (int d = 0; d < g.nbatch; ++d) {
      p.batch[d] = g.batch[d];
      p.sa[d] = g.a.bstride[d], p.sb[d] = g.b.bstride[d], p.sc[d] = g.c.bstride[d];
    }
    p.ars = g.a.rs, p.acs = g.a.cs, p.brs = g.b.rs, p.bcs = g.b.cs, p.crs = g.c.rs, p.ccs = g.c.cs;
    p.alpha = int64_t(g.alpha.real());
    p.beta = int64_t(g.beta.real());
    p.use_beta = g.beta != std::complex<double>(0.0, 0.0);
    const int64_t total = g.batch_count() * g.m * g.n;
    int_gemm_kernel<T><<<blocks_for(total, 256), 256, 0, current_stream_here()>>>(
        reinterpret_cast<const T*>(g.a.data), reinterpret_cast<const T*>(g.b.data), reinterpret_cast<T*>(g.c.data), p,
        total);
    check_launch("matmul");
  }
};

// ---- floats: cuBLAS ---------------------------------------------------------------------------------
struct FloatType {
  cudaDataType data;
  cublas::ComputeType compute;
  bool f64;
};

FloatType float_type(ScalarType t, bool tf32) {
  switch (t) {
    case ScalarType::Float32:
      return {CUDA_R_32F, tf32 ? cublas::COMPUTE_32F_FAST_TF32 : cublas::COMPUTE_32F, false};
    case ScalarType::Float64: return {CUDA_R_64F, cublas::COMPUTE_64F, true};
    case ScalarType::Float16: return {CUDA_R_16F, cublas::COMPUTE_32F, false};
    case ScalarType::BFloat16: return {CUDA_R_16BF, cublas::COMPUTE_32F, false};
    default: throw NotImplementedError(str("[matmul] no CUDA kernel for ", t, " tensors yet"));
  }
}

void float_gemm(const GemmArgs& g) {
  const FloatType ft = float_type(g.dtype, g.allow_tf32);
  const int64_t isz = itemsize(g.dtype);
  // the innermost batch dims that collapse to one stride per operand
  const int nb = g.nbatch;
  int inner = nb;  // dims [inner, nb) collapse
  int64_t count = 1, s[3] = {0, 0, 0};
  const MatOperand* ops[3] = {&g.a, &g.b, &g.c};
  if (nb > 0) {
    inner = nb - 1;
    count = g.batch[nb - 1];
    for (int o = 0; o < 3; ++o) s[o] = ops[o]->bstride[nb - 1];
    while (inner > 0) {
      const int d = inner - 1;
      bool ok = count * g.batch[d] <= INT32_MAX;
      for (int o = 0; o < 3 && ok; ++o) ok = ops[o]->bstride[d] == s[o] * count || g.batch[d] == 1;
      if (!ok) break;
      count *= g.batch[d];
      inner = d;
    }
    EMBER_CHECK(count <= INT32_MAX, NotImplementedError, "[matmul] more than 2^31 matrices in one CUDA batch");
  }
  const Layout la = layout(g.m, g.k, g.a.rs, g.a.cs), lb = layout(g.k, g.n, g.b.rs, g.b.cs),
               lc = layout(g.m, g.n, g.c.rs, g.c.cs);
  const float af = float(g.alpha.real()), bf = float(g.beta.real());
  const double ad = g.alpha.real(), bd = g.beta.real();
  const void* alpha = ft.f64 ? static_cast<const void*>(&ad) : static_cast<const void*>(&af);
  const void* beta = ft.f64 ? static_cast<const void*>(&bd) : static_cast<const void*>(&bf);
  cublas::Handle h = cublas::handle("matmul");
  // the outer (non-collapsing) batch dims, one call each
  int64_t outer = 1;
  for (int d = 0; d < inner; ++d) outer *= g.batch[d];
  for (int64_t ob = 0; ob < outer; ++ob) {
    int64_t r = ob, off[3] = {0, 0, 0};
    for (int d = inner - 1; d >= 0; --d) {
      const int64_t x = r % g.batch[d];
      r /= g.batch[d];
      for (int o = 0; o < 3; ++o) off[o] += x * ops[o]->bstride[d];
    }
    const char* A = g.a.data + off[0] * isz;
    const char* B = g.b.data + off[1] * isz;
    char* C = g.c.data + off[2] * isz;
    if (lc.col) {  // C = op(A) op(B)
      cublas::gemm_strided_batched("matmul", h, la.col ? cublas::OP_N : cublas::OP_T,
                                   lb.col ? cublas::OP_N : cublas::OP_T, int(g.m), int(g.n), int(g.k), alpha, A,
                                   ft.data, int(la.ld), s[0], B, ft.data, int(lb.ld), s[1], beta, C, ft.data,
                                   int(lc.ld), s[2], int(count), ft.compute);
    } else {  // C^T = op(B^T) op(A^T)
      cublas::gemm_strided_batched("matmul", h, lb.col ? cublas::OP_T : cublas::OP_N,
                                   la.col ? cublas::OP_T : cublas::OP_N, int(g.n), int(g.m), int(g.k), alpha, B,
                                   ft.data, int(lb.ld), s[1], A, ft.data, int(la.ld), s[0], beta, C, ft.data,
                                   int(lc.ld), s[2], int(count), ft.compute);
    }
  }
}

void gemm_cuda(const GemmArgs& g) {
  if (g.m == 0 || g.n == 0 || g.batch_count() == 0) return;
  if (is_floating(g.dtype)) return float_gemm(g);
  dispatch_cuda<kIntMask | kBoolMask>(g.dtype, "matmul", IntBody{g});
}

}  // namespace
}  // namespace cuda

EMBER_REGISTER_CUDA(gemm_stub, cuda::gemm_cuda);

}  // namespace ember
