// CUDA runtime hooks (device count, allocator). Kernels arrive with the CUDA backend issue;
// until then every op on a CUDA tensor raises "[op] no CUDA kernel".
#include <cuda_runtime_api.h>

#include <mutex>

#include "../ops/dispatch.h"

namespace ember {

namespace {
struct CudaAllocator final : Allocator {
  void* allocate(size_t n) override {
    void* p = nullptr;
    cudaError_t e = cudaMalloc(&p, n);
    if (e != cudaSuccess) {
      cudaGetLastError();
      throw Error(str("[cuda] out of memory: tried to allocate ", n, " bytes (", cudaGetErrorString(e), ")"));
    }
    return p;
  }
  void release(void* p, size_t) override { cudaFree(p); }
};
}  // namespace

int cuda_device_count() {
  static int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // no driver or no device: not an error, just none
      n = 0;
    }
    return n;
  }();
  return count;
}
bool cuda_available() { return cuda_device_count() > 0; }
bool cuda_compiled() { return true; }

Allocator* device_allocator(Device d) {
  EMBER_CHECK(cuda_available(), Error, "[", d, "] no CUDA device is available: ember.cuda.is_available() is False");
  int n = cuda_device_count();
  int idx = d.index < 0 ? 0 : d.index;
  EMBER_CHECK(idx < n, ValueError, "[", d, "] invalid device ordinal: expected an index below ", n, ", got ", idx);
  static CudaAllocator a;
  return &a;
}

}  // namespace ember
