// Linear algebra: matrix products (mm, bmm, matmul, addmm, ...), einsum, tensordot, kron.
// Every product goes through one batched strided GEMM stub: C = beta*C + alpha*A@B over
// (broadcast) batch dims. The front end guarantees that each matrix of A and B has a layout
// BLAS accepts (one of its two strides is 1), and that C has one too; the CPU kernel calls
// OpenBLAS (float32/float64/complex64), converts 16-bit floats to float32 blocks, and runs
// a plain loop for integers.
#pragma once
#include <complex>
#include <optional>
#include <string>
#include <vector>

#include "../tensor/tensor.h"
#include "dispatch.h"
#include "iter.h"

namespace ember {

constexpr int kMaxBatchDims = kMaxDims;

// One operand of a batched product: element (b, i, j) lives at
// data + (sum_d idx_d * bstride[d] + i * rs + j * cs) * itemsize.
struct MatOperand {
  char* data = nullptr;
  int64_t rs = 0, cs = 0;
  int64_t bstride[kMaxBatchDims] = {};
};

struct GemmArgs {
  ScalarType dtype = ScalarType::Float32;
  int64_t m = 0, n = 0, k = 0;    // C is m x n, A m x k, B k x n
  int nbatch = 0;                 // number of batch dims
  int64_t batch[kMaxBatchDims] = {};
  MatOperand a, b, c;
  std::complex<double> alpha{1.0, 0.0}, beta{0.0, 0.0};  // beta == 0: C is not read
  bool allow_tf32 = false;  // float32 on CUDA may use TF32 tensor cores
  int64_t batch_count() const {
    int64_t n_ = 1;
    for (int d = 0; d < nbatch; ++d) n_ *= batch[d];
    return n_;
  }
};

using GemmKernel = void (*)(const GemmArgs&);
// float32 products on CUDA may use TF32 tensor cores: matrix products when
// torch.backends.cuda.matmul.allow_tf32 (off by default), convolutions' GEMMs when
// torch.backends.cudnn.allow_tf32 (on by default), as in PyTorch.
bool matmul_allow_tf32();
void set_matmul_allow_tf32(bool allow);
bool conv_allow_tf32();
void set_conv_allow_tf32(bool allow);
extern DispatchStub<GemmKernel> gemm_stub;

// True when a rows x cols matrix with these element strides can be handed to BLAS as is.
bool blas_layout_ok(int64_t rows, int64_t cols, int64_t rs, int64_t cs);

// c[..., m, n] = beta * c + alpha * a[..., m, k] @ b[..., k, n]; the batch dims of a and b
// broadcast to those of c. Copies a or b only when their matrices have no BLAS layout. conv:
// a convolution's GEMM, whose float32 TF32 switch is conv_allow_tf32() (else matmul_allow_tf32()).
void gemm_out(const char* op, const Tensor& c, const Tensor& a, const Tensor& b, const Scalar& alpha,
              const Scalar& beta, bool conv = false);

Tensor matmul(const Tensor& a, const Tensor& b, const Tensor* out = nullptr);
Tensor mm(const Tensor& a, const Tensor& b, const Tensor* out = nullptr);
Tensor bmm(const Tensor& a, const Tensor& b, const Tensor* out = nullptr);
Tensor mv(const Tensor& a, const Tensor& v, const Tensor* out = nullptr);
Tensor dot(const Tensor& a, const Tensor& b, const Tensor* out = nullptr);
Tensor vdot(const Tensor& a, const Tensor& b, const Tensor* out = nullptr);
// input may be `out` itself (the in-place variants); beta == 0 ignores input (nan included).
Tensor addmm(const Tensor& input, const Tensor& m1, const Tensor& m2, const Scalar& beta, const Scalar& alpha,
             const Tensor* out = nullptr);
Tensor baddbmm(const Tensor& input, const Tensor& b1, const Tensor& b2, const Scalar& beta, const Scalar& alpha,
               const Tensor* out = nullptr);
Tensor addmv(const Tensor& input, const Tensor& mat, const Tensor& vec, const Scalar& beta, const Scalar& alpha,
             const Tensor* out = nullptr);
Tensor addr(const Tensor& input, const Tensor& v1, const Tensor& v2, const Scalar& beta, const Scalar& alpha,
            const Tensor* out = nullptr);
Tensor outer(const Tensor& a, const Tensor& b, const Tensor* out = nullptr);
Tensor kron(const Tensor& a, const Tensor& b, const Tensor* out = nullptr);
Tensor tensordot(const Tensor& a, const Tensor& b, Shape dims_a, Shape dims_b, const Tensor* out = nullptr);
Tensor tensordot(const Tensor& a, const Tensor& b, int64_t dims, const Tensor* out = nullptr);

// einsum: labels are letters (a-z, A-Z); '...' broadcasts; "->" gives the output, implicit
// output otherwise (ellipsis dims, then labels used once, in alphabetical order).
Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands);

// Sums x over its last `ndims` dims (through BLAS: x viewed (rows, r) @ ones(r)).
Tensor sum_trailing(const Tensor& x, int64_t ndims);

}  // namespace ember
