// Device-wide building blocks shared by the CUDA index, sort, unique and random kernels:
// scratch memory from the caching allocator, small host <-> device transfers on the current
// stream, order-preserving sort keys, a stable segmented sort and an inclusive int64 scan.
//
// Everything runs on the current stream of the current device (the stubs made the tensors'
// device current). Reading a value back (read_back) waits for that stream.
#pragma once
#include <cstdint>
#include <type_traits>
#include <vector>

#include "../tensor/tensor.h"
#include "loop.cuh"

namespace ember {
namespace cuda {

// ---- host helpers ---------------------------------------------------------------------------

int current_device_here();
// `bytes` of uninitialised memory on the current device (keep the tensor alive while used).
Tensor scratch(int64_t bytes);
template <typename T>
T* scratch_ptr(Tensor& holder, int64_t count) {
  holder = scratch(count * int64_t(sizeof(T)));
  return reinterpret_cast<T*>(holder.raw_data());
}
// Copies host memory to the device (queued on the current stream; the source may be freed
// on return).
void upload(void* dst, const void* src, size_t bytes);
// A device vector of host values, in `holder`.
template <typename T>
const T* upload_vector(Tensor& holder, const std::vector<T>& v) {
  T* p = scratch_ptr<T>(holder, int64_t(v.size()));
  if (!v.empty()) upload(p, v.data(), v.size() * sizeof(T));
  return p;
}
// Copies `bytes` from the device and waits for the current stream.
void read_back(void* dst, const void* src, size_t bytes);
template <typename T>
T read_one(const T* device_ptr) {
  T v;
  read_back(&v, device_ptr, sizeof(T));
  return v;
}
void memset_async(void* dst, int value, size_t bytes);

inline unsigned blocks_for(int64_t n, int threads) { return unsigned((n + threads - 1) / threads); }

// ---- sort keys ---------------------------------------------------------------------------------
// KeyOf<T>::key(v, descending) maps a value to an unsigned integer whose order is the sort
// order: NaN above +inf (PyTorch's order), -0.0 equal to 0.0; descending flips every bit.
// 16-bit floats and ints of up to 32 bits use 32-bit keys, double and int64 64-bit ones.
template <typename T>
struct KeyOf {
  using M = opmath_of<T>;
  using K = std::conditional_t<sizeof(M) == 8, uint64_t, uint32_t>;
  static __device__ __forceinline__ K key(M v, bool descending) {
    K u;
    if constexpr (std::is_same_v<M, float>) {
      if (v != v) u = 0xFFFFFFFFu;
      else {
        u = __float_as_uint(v == 0.0f ? 0.0f : v);
        u = (u >> 31) ? ~u : (u | 0x80000000u);
      }
    } else if constexpr (std::is_same_v<M, double>) {
      if (v != v) u = ~uint64_t(0);
      else {
        u = uint64_t(__double_as_longlong(v == 0.0 ? 0.0 : v));
        u = (u >> 63) ? ~u : (u | (uint64_t(1) << 63));
      }
    } else if constexpr (std::is_same_v<M, bool> || std::is_same_v<M, uint8_t>) {
      u = K(v);
    } else if constexpr (sizeof(M) == 8) {
      u = uint64_t(v) ^ (uint64_t(1) << 63);
    } else {
      u = uint32_t(int32_t(v)) ^ 0x80000000u;
    }
    return descending ? K(~u) : u;
  }
};

// Stable sort of each of `rows` rows of n keys (rows * n contiguous): on return keys[r*n + i]
// is the i-th smallest key of row r and pos[r*n + i] its position in the row before the sort
// (equal keys keep their order). n must be below 2^31. K: uint32_t or uint64_t.
template <typename K>
void segmented_sort(K* keys, int32_t* pos, int64_t rows, int64_t n);

// out[i] = in[0] + ... + in[i] (n elements; in and out may be the same).
void inclusive_scan(const int64_t* in, int64_t* out, int64_t n);

}  // namespace cuda
}  // namespace ember
