// Host-side helpers shared by the CUDA runtime (.cpp) and the kernels (.cu): error checks, the
// device guard and the current stream of a device.
#pragma once
#include <cuda_runtime_api.h>

#include "../ops/cuda_hooks.h"
#include "../tensor/error.h"

namespace ember {
namespace cuda {

// Raises ember's Error "[cuda] <what> failed: <reason>" unless e is cudaSuccess.
void check_cuda(cudaError_t e, const char* what);

// Makes `index` the current device for its scope (no-op when it already is).
class DeviceGuard {
 public:
  explicit DeviceGuard(int index) {
    if (cudaGetDevice(&prev_) != cudaSuccess) {
      cudaGetLastError();
      prev_ = -1;
    }
    if (index >= 0 && index != prev_) check_cuda(cudaSetDevice(index), "cudaSetDevice");
    else prev_ = -1;
  }
  ~DeviceGuard() {
    if (prev_ >= 0) cudaSetDevice(prev_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int prev_ = -1;
};

inline cudaStream_t stream_of(int index) { return reinterpret_cast<cudaStream_t>(current_stream(index)); }
// The current stream of the current device (kernels run there: the stub made the device current).
inline cudaStream_t current_stream_here() {
  int dev = 0;
  check_cuda(cudaGetDevice(&dev), "cudaGetDevice");
  return stream_of(dev);
}

// After a kernel launch: raises if the launch failed (bad configuration, no kernel image for
// this GPU's architecture, ...).
inline void check_launch(const char* op) {
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess)
    throw Error(str("[", op, "] CUDA kernel launch failed: ", cudaGetErrorString(e), " (", cudaGetErrorName(e), ")"));
}

}  // namespace cuda
}  // namespace ember
