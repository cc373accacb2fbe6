// The CUDA side of the elementwise machinery (the counterpart of cpu/loop.h): an ElementwiseIter
// (out first, byte strides, dims coalesced by make_iter) runs a device functor per element.
//
//   launch<Out, In...>(op, it, f)   f(opmath(In)...) -> opmath(Out), one thread per element
//
// Three kernels per op and dtype: every operand contiguous (linear index * itemsize), strided
// with 32-bit index arithmetic (numel and every byte offset below 2^31), and strided with 64-bit
// arithmetic. 16-bit floats load to float and store rounded to nearest even; bool stores 0/1.
// Host scalars (ElementwiseIter::host: a Python number with CUDA tensors) travel by value in the
// kernel's arguments, so `x * 2` needs no copy to the device.
// Kernels run on the current stream of the current device (the stub's KernelDeviceScope made
// the tensors' device current).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <cstring>
#include <utility>

#include "../ops/iter.h"
#include "cuda_common.h"

namespace ember {
namespace cuda {

// ---- device types --------------------------------------------------------------------------
template <typename T>
struct Dev {  // storage type T computes as T
  using opmath = T;
  static __device__ __forceinline__ T load(const char* p) { return *reinterpret_cast<const T*>(p); }
  static __device__ __forceinline__ void store(char* p, T v) { *reinterpret_cast<T*>(p) = v; }
};
template <>
struct Dev<__half> {
  using opmath = float;
  static __device__ __forceinline__ float load(const char* p) { return __half2float(*reinterpret_cast<const __half*>(p)); }
  static __device__ __forceinline__ void store(char* p, float v) { *reinterpret_cast<__half*>(p) = __float2half_rn(v); }
};
template <>
struct Dev<__nv_bfloat16> {
  using opmath = float;
  static __device__ __forceinline__ float load(const char* p) {
    return __bfloat162float(*reinterpret_cast<const __nv_bfloat16*>(p));
  }
  static __device__ __forceinline__ void store(char* p, float v) {
    *reinterpret_cast<__nv_bfloat16*>(p) = __float2bfloat16_rn(v);
  }
};
template <typename T>
using opmath_of = typename Dev<T>::opmath;

// Converts between opmath values (bool: != 0; float -> int truncates, saturating on the GPU).
template <typename To, typename From>
__device__ __forceinline__ To convert(From v) {
  if constexpr (std::is_same_v<To, bool>) return v != From(0);
  else return static_cast<To>(v);
}

// Host-side dtype switch: body is a template functor called as body.template operator()<T>()
// with T the device storage type. Dtypes outside Mask (and complex, which has no CUDA kernels
// yet) raise "[op] no CUDA kernel for <dtype>".
#define EMBER_CUDA_CASE(E, T)                                \
  case ScalarType::E:                                        \
    if constexpr ((Mask & tbit(ScalarType::E)) != 0) {       \
      body.template operator()<T>();                         \
      return;                                                \
    }                                                        \
    break;

template <uint32_t Mask, typename Body>
void dispatch_cuda(ScalarType t, const char* op, Body&& body) {
  switch (t) {
    EMBER_CUDA_CASE(Bool, bool)
    EMBER_CUDA_CASE(UInt8, uint8_t)
    EMBER_CUDA_CASE(Int8, int8_t)
    EMBER_CUDA_CASE(Int16, int16_t)
    EMBER_CUDA_CASE(Int32, int32_t)
    EMBER_CUDA_CASE(Int64, int64_t)
    EMBER_CUDA_CASE(Float16, __half)
    EMBER_CUDA_CASE(BFloat16, __nv_bfloat16)
    EMBER_CUDA_CASE(Float32, float)
    EMBER_CUDA_CASE(Float64, double)
    default:
      break;
  }
  throw NotImplementedError(str("[", op, "] no CUDA kernel for ", t, " tensors yet"));
}
#undef EMBER_CUDA_CASE

// ---- offsets -------------------------------------------------------------------------------------
constexpr int kCudaDims = 10;   // dims after coalescing; more raise a clear error
constexpr int kThreads = 128;
constexpr int kUnroll = 4;      // elements per thread

// Operand pointers; a null p[k] marks an operand passed by value (a host scalar): its bytes
// are in scalar[k].
template <int N>
struct Ptrs {
  char* p[N];
  uint64_t scalar[N];
};

template <typename T>
__device__ __forceinline__ opmath_of<T> load_operand(const char* p, uint64_t bits) {
  if (p) return Dev<T>::load(p);
  T v;
  memcpy(&v, &bits, sizeof(T));
  return Dev<T>::load(reinterpret_cast<const char*>(&v));
}

template <int N, typename Index>
struct OffsetCalc {
  int ndim;
  Index shape[kCudaDims];
  Index strides[N][kCudaDims];  // bytes
  __device__ __forceinline__ void get(Index linear, Index* off) const {
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] = 0;
    for (int d = 0; d < ndim; ++d) {
      const Index c = linear % shape[d];
      linear /= shape[d];
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] += c * strides[k][d];
    }
  }
};

template <typename Out, typename... In, typename F, typename Index, size_t... I>
__device__ __forceinline__ void apply_at(const F& f, const Ptrs<1 + sizeof...(In)>& ptrs, const Index* off,
                                         std::index_sequence<I...>) {
  Dev<Out>::store(ptrs.p[0] + off[0],
                  f(load_operand<In>(ptrs.p[I + 1] ? ptrs.p[I + 1] + off[I + 1] : nullptr, ptrs.scalar[I + 1])...));
}

template <typename F, typename Out, typename... In>  // (a __global__ template's pack comes last)
__global__ void __launch_bounds__(kThreads) contiguous_kernel(int64_t n, Ptrs<1 + sizeof...(In)> ptrs, F f) {
  constexpr int N = 1 + sizeof...(In);
  constexpr int64_t sizes[N] = {int64_t(sizeof(Out)), int64_t(sizeof(In))...};
  const int64_t base = int64_t(blockIdx.x) * (kThreads * kUnroll) + threadIdx.x;
#pragma unroll
  for (int u = 0; u < kUnroll; ++u) {
    const int64_t i = base + u * kThreads;
    if (i < n) {
      int64_t off[N];
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] = i * sizes[k];
      apply_at<Out, In...>(f, ptrs, off, std::index_sequence_for<In...>{});
    }
  }
}

template <typename F, typename Index, typename Out, typename... In>
__global__ void __launch_bounds__(kThreads)
    strided_kernel(Index n, Ptrs<1 + sizeof...(In)> ptrs, OffsetCalc<1 + sizeof...(In), Index> oc, F f) {
  constexpr int N = 1 + sizeof...(In);
  const Index base = Index(blockIdx.x) * (kThreads * kUnroll) + Index(threadIdx.x);
#pragma unroll
  for (int u = 0; u < kUnroll; ++u) {
    const Index i = base + u * kThreads;
    if (i < n) {
      Index off[N];
      oc.get(i, off);
      apply_at<Out, In...>(f, ptrs, off, std::index_sequence_for<In...>{});
    }
  }
}

template <int N, typename Index>
OffsetCalc<N, Index> make_offsets(const ElementwiseIter& it) {
  OffsetCalc<N, Index> oc;
  oc.ndim = it.ndim;
  for (int d = 0; d < it.ndim; ++d) {
    oc.shape[d] = Index(it.shape[d]);
    for (int k = 0; k < N; ++k) oc.strides[k][d] = Index(it.strides[k][d]);
  }
  return oc;
}

// True when every byte offset the iter can reach (and numel) fits in a signed 32-bit index.
inline bool fits_32(const ElementwiseIter& it) {
  if (it.numel > INT32_MAX) return false;
  for (int k = 0; k < it.nops; ++k) {
    int64_t span = 0;
    for (int d = 0; d < it.ndim; ++d) span += (it.shape[d] - 1) * (it.strides[k][d] < 0 ? -it.strides[k][d] : it.strides[k][d]);
    if (span > INT32_MAX) return false;
  }
  return true;
}

template <typename Out, typename... In, typename F>
void launch(const char* op, const ElementwiseIter& it, const F& f) {
  constexpr int N = 1 + sizeof...(In);
  if (it.numel == 0) return;
  EMBER_CHECK(it.nops == N, Error, "[", op, "] internal: expected ", N, " operands, got ", it.nops);
  EMBER_CHECK(it.ndim <= kCudaDims, NotImplementedError, "[", op, "] CUDA kernels take at most ", kCudaDims,
              " non-contiguous dims, got ", it.ndim, ": make the operands contiguous first");
  Ptrs<N> ptrs;
  const int64_t sizes[N] = {int64_t(sizeof(Out)), int64_t(sizeof(In))...};
  for (int k = 0; k < N; ++k) {
    ptrs.p[k] = it.data[k];
    ptrs.scalar[k] = 0;
    if (!it.host[k]) continue;
    for (int d = 0; d < it.ndim; ++d)
      EMBER_CHECK(it.strides[k][d] == 0, Error, "[", op, "] internal: a host operand that is not a scalar");
    std::memcpy(&ptrs.scalar[k], it.data[k], size_t(sizes[k]));  // by value: read on the host now
    ptrs.p[k] = nullptr;
  }
  bool contiguous = it.ndim <= 1;
  for (int k = 0; k < N && contiguous; ++k)
    contiguous = it.ndim == 0 || it.host[k] || it.strides[k][0] == sizes[k];
  const int64_t blocks = (it.numel + kThreads * kUnroll - 1) / (kThreads * kUnroll);
  cudaStream_t s = current_stream_here();
  if (contiguous) {
    contiguous_kernel<F, Out, In...><<<dim3(unsigned(blocks)), kThreads, 0, s>>>(it.numel, ptrs, f);
  } else if (fits_32(it)) {
    strided_kernel<F, int32_t, Out, In...><<<dim3(unsigned(blocks)), kThreads, 0, s>>>(int32_t(it.numel), ptrs,
                                                                           make_offsets<N, int32_t>(it), f);
  } else {
    strided_kernel<F, int64_t, Out, In...><<<dim3(unsigned(blocks)), kThreads, 0, s>>>(it.numel, ptrs,
                                                                           make_offsets<N, int64_t>(it), f);
  }
  check_launch(op);
}

}  // namespace cuda
}  // namespace ember
