// cuBLAS, loaded at run time from the nvidia-cublas wheel (pip install "ember[cuda]") or the
// system: CPU-only installs neither need nor download it. Only the few declarations ember calls
// are repeated here (from cublas_api.h of CUDA 13; the C ABI is stable), so the build needs no
// cuBLAS headers either.
#pragma once
#include <cuda_runtime_api.h>
#include <library_types.h>

#include <cstdint>
#include <string>

namespace ember {
namespace cuda {
namespace cublas {

using Handle = struct cublasContext*;
enum Operation : int { OP_N = 0, OP_T = 1 };
enum ComputeType : int { COMPUTE_32F = 68, COMPUTE_32F_FAST_TF32 = 77, COMPUTE_64F = 70 };
constexpr int kGemmDefault = -1;

// The handle of the current device for this thread, bound to the current stream. Raises a
// RuntimeError naming the install command when cuBLAS cannot be loaded.
Handle handle(const char* op);

// cublasGemmStridedBatchedEx (column-major), raising "[op] cuBLAS ... failed: <status>".
void gemm_strided_batched(const char* op, Handle h, Operation ta, Operation tb, int m, int n, int k,
                          const void* alpha, const void* A, cudaDataType at, int lda, long long sa, const void* B,
                          cudaDataType bt, int ldb, long long sb, const void* beta, void* C, cudaDataType ct, int ldc,
                          long long sc, int batch, ComputeType compute);

}  // namespace cublas
}  // namespace cuda
}  // namespace ember
