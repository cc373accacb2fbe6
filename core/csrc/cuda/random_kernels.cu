// CUDA kernels of uniform_, normal_ and bernoulli_ (ops/random.h): the same Philox4x32-10 stream
// and the same element -> (block, word) mapping as cpu/random_kernels.cpp, one thread per 4-word
// block. The float math is the CPU's (ops/random_math.h), and this file compiles without fused
// multiply-adds as the CPU file does, so one generator state should give the CPU's values. The
// other random ops (exponential_, random_, randperm, multinomial) have no CUDA kernel yet.
#include "../ops/random.h"
#include "../ops/random_math.h"  // the CPU's vlogf, vsincos_turns and unit53 (this file: --fmad=false)
#include "loop.cuh"

namespace ember {
namespace cuda {
namespace {

using namespace rnd;

constexpr int kRandThreads = 256;

__device__ __forceinline__ void philox(uint64_t seed, uint64_t offset, uint64_t b, uint32_t c[4]) {
  c[0] = uint32_t(b), c[1] = uint32_t(b >> 32), c[2] = uint32_t(offset), c[3] = uint32_t(offset >> 32);
  uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
#pragma unroll
  for (int r = 0; r < 10; ++r) {
    const uint32_t hi0 = __umulhi(kPhiloxM0, c[0]), lo0 = kPhiloxM0 * c[0];
    const uint32_t hi1 = __umulhi(kPhiloxM1, c[2]), lo1 = kPhiloxM1 * c[2];
    const uint32_t n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
    c[0] = n0, c[1] = lo1, c[2] = n2, c[3] = lo0;
    k0 += kPhiloxW0, k1 += kPhiloxW1;
  }
}

template <typename T>
__device__ __forceinline__ float unit(uint32_t x) {
  if constexpr (std::is_same_v<T, __half>) return float(int32_t(x >> 21)) * 0x1p-11f;
  else if constexpr (std::is_same_v<T, __nv_bfloat16>) return float(int32_t(x >> 24)) * 0x1p-8f;
  else return float(int32_t(x >> 8)) * 0x1p-24f;
}
// Thread per block b = g * 16 + j: its E elements are g * 16 E + h * 16 + j, h < E.
struct Slots {
  int64_t g, j;
  __device__ int64_t elem(int E, int h) const { return g * 16 * E + h * 16 + j; }
};

template <typename T>
__global__ void uniform_kernel_(char* out, int64_t n, uint64_t seed, uint64_t offset, double from, double to) {
  const int64_t b = int64_t(blockIdx.x) * kRandThreads + threadIdx.x;
  constexpr int E = std::is_same_v<T, double> ? 2 : 4;
  const Slots s{b / 16, b % 16};
  if (s.elem(E, 0) >= n) return;
  uint32_t x[4];
  philox(seed, offset, uint64_t(b), x);
#pragma unroll
  for (int h = 0; h < E; ++h) {
    const int64_t i = s.elem(E, h);
    if (i >= n) break;
    if constexpr (std::is_same_v<T, double>) {
      const double r = from + unit53(x[2 * h], x[2 * h + 1]) * (to - from);
      reinterpret_cast<double*>(out)[i] = r < to ? r : from;
    } else {
      const float lo = float(from), hi = float(to);
      float r = lo + unit<T>(x[h]) * float(to - from);
      r = r < hi ? r : lo;
      char* p = out + i * int64_t(sizeof(T));
      Dev<T>::store(p, r);
      if constexpr (!std::is_same_v<T, float>) {  // rounding to 16 bits may reach `to`
        if (!(Dev<T>::load(p) < hi)) Dev<T>::store(p, lo);
      }
    }
  }
}

template <typename T>
__global__ void normal_kernel_(char* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double sd) {
  const int64_t b = int64_t(blockIdx.x) * kRandThreads + threadIdx.x;
  constexpr int E = std::is_same_v<T, double> ? 2 : 4;
  const Slots s{b / 16, b % 16};
  if (s.elem(E, 0) >= n) return;
  uint32_t x[4];
  philox(seed, offset, uint64_t(b), x);
  if constexpr (std::is_same_v<T, double>) {
    const double u1 = 1.0 - unit53(x[0], x[1]), u2 = unit53(x[2], x[3]);
    const double r = sqrt(-2.0 * log(u1)), th = 6.283185307179586 * u2;
    const double v[2] = {mean + sd * r * cos(th), mean + sd * r * sin(th)};
    for (int h = 0; h < 2; ++h)
      if (s.elem(2, h) < n) reinterpret_cast<double*>(out)[s.elem(2, h)] = v[h];
  } else {
    const float m = float(mean), sdf = float(sd);
#pragma unroll
    for (int hp = 0; hp < 2; ++hp) {
      const float u1 = 1.0f - float(int32_t(x[2 * hp] >> 8)) * 0x1p-24f;
      const float u2 = float(int32_t(x[2 * hp + 1] >> 8)) * 0x1p-24f;
      const float r = sqrtf(-2.0f * vlogf(u1));
      float sn, cs;
      vsincos_turns(u2, sn, cs);
      const float v[2] = {m + sdf * (r * cs), m + sdf * (r * sn)};
      for (int k = 0; k < 2; ++k) {
        const int64_t i = s.elem(4, 2 * hp + k);
        if (i < n) Dev<T>::store(out + i * int64_t(sizeof(T)), v[k]);
      }
    }
  }
}

template <typename T>
__global__ void bernoulli_kernel_(char* out, int64_t n, uint64_t seed, uint64_t offset, const double* pp, double ps,
                                  int* bad) {
  const int64_t b = int64_t(blockIdx.x) * kRandThreads + threadIdx.x;
  const Slots s{b / 16, b % 16};
  if (s.elem(4, 0) >= n) return;
  uint32_t x[4];
  philox(seed, offset, uint64_t(b), x);
#pragma unroll
  for (int h = 0; h < 4; ++h) {
    const int64_t i = s.elem(4, h);
    if (i >= n) break;
    double p = ps;
    if (pp) {
      p = pp[i];
      if (!(p >= 0.0 && p <= 1.0)) *bad = 1;
    }
    const bool v = double(x[h]) * 0x1p-32 < p;
    Dev<T>::store(out + i * int64_t(sizeof(T)), convert<opmath_of<T>>(v));
  }
}

unsigned grid_for(int64_t n, int E) {
  const int64_t blocks16 = (n + 16 * E - 1) / (16 * E) * 16;  // philox blocks covering n
  return unsigned((blocks16 + kRandThreads - 1) / kRandThreads);
}

struct UniformBody {
  const Tensor& out;
  const PhiloxKey& key;
  double from, to;
  template <typename T>
  void operator()() const {
    const int E = std::is_same_v<T, double> ? 2 : 4;
    uniform_kernel_<T><<<grid_for(out.numel(), E), kRandThreads, 0, stream_of(out.device().index)>>>(
        out.raw_data(), out.numel(), key.seed, key.offset, from, to);
    check_launch("uniform_");
  }
};
void uniform_cuda(const Tensor& out, const PhiloxKey& key, double from, double to) {
  dispatch_cuda<kFloatMask>(out.dtype(), "uniform_", UniformBody{out, key, from, to});
}

struct NormalBody {
  const Tensor& out;
  const PhiloxKey& key;
  double mean, sd;
  template <typename T>
  void operator()() const {
    const int E = std::is_same_v<T, double> ? 2 : 4;
    normal_kernel_<T><<<grid_for(out.numel(), E), kRandThreads, 0, stream_of(out.device().index)>>>(
        out.raw_data(), out.numel(), key.seed, key.offset, mean, sd);
    check_launch("normal_");
  }
};
void normal_cuda(const Tensor& out, const PhiloxKey& key, double mean, double sd) {
  dispatch_cuda<kFloatMask>(out.dtype(), "normal_", NormalBody{out, key, mean, sd});
}

struct BernoulliBody {
  const Tensor& out;
  const PhiloxKey& key;
  const double* pp;
  double ps;
  int* bad;
  template <typename T>
  void operator()() const {
    bernoulli_kernel_<T><<<grid_for(out.numel(), 4), kRandThreads, 0, stream_of(out.device().index)>>>(
        out.raw_data(), out.numel(), key.seed, key.offset, pp, ps, bad);
    check_launch("bernoulli_");
  }
};
int bernoulli_cuda(const Tensor& out, const PhiloxKey& key, const Tensor* p, double ps) {
  if (!p && !(ps >= 0.0 && ps <= 1.0)) return 1;
  Tensor flag;
  int* bad = nullptr;
  if (p) {  // probabilities outside [0, 1] are reported through a device flag (one small copy back)
    flag = empty({1}, ScalarType::Int32, out.device());
    check_cuda(cudaMemsetAsync(flag.raw_data(), 0, sizeof(int), stream_of(out.device().index)), "cudaMemsetAsync");
    bad = flag.data<int>();
  }
  dispatch_cuda<kAllRealMask>(out.dtype(), "bernoulli_",
                              BernoulliBody{out, key, p ? p->data<double>() : nullptr, ps, bad});
  if (!p) return 0;
  int h = 0;
  check_cuda(cudaMemcpyAsync(&h, bad, sizeof(int), cudaMemcpyDeviceToHost, stream_of(out.device().index)),
             "cudaMemcpyAsync");
  check_cuda(cudaStreamSynchronize(stream_of(out.device().index)), "cudaStreamSynchronize");
  return h;
}

}  // namespace
}  // namespace cuda

EMBER_REGISTER_CUDA(uniform_stub, cuda::uniform_cuda);
EMBER_REGISTER_CUDA(normal_stub, cuda::normal_cuda);
EMBER_REGISTER_CUDA(bernoulli_stub, cuda::bernoulli_cuda);

}  // namespace ember
