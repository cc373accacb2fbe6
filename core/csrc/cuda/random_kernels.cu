// CUDA kernels of the random ops (ops/random.h). uniform_, normal_, bernoulli_, exponential_ and
// random_ use the same Philox4x32-10 stream and the same element -> (block, word) mapping as
// cpu/random_kernels.cpp, one thread per 4-word block. The float math is the CPU's
// (ops/random_math.h), and this file compiles without fused multiply-adds as the CPU file does,
// so one generator state should give the CPU's values.
// randperm and multinomial draw from the same stream but cannot follow the CPU's sequential
// algorithms: randperm sorts random 64-bit keys (ties, at odds of n^2 / 2^65, keep index
// order); multinomial with replacement inverts a per-row CDF summed in 256 chunks, and without
// replacement sorts the CPU's keys log(u) / p. Same seed, same values on the GPU; not the CPU's.
#include "../ops/creation.h"
#include "../ops/random.h"
#include "../ops/random_math.h"  // the CPU's vlogf, vsincos_turns and unit53 (this file: --fmad=false)
#include "primitives.cuh"

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


template <typename T>
__global__ void exponential_kernel_(char* out, int64_t n, uint64_t seed, uint64_t offset, double lambd) {
  const int64_t b = int64_t(blockIdx.x) * kRandThreads + threadIdx.x;
  constexpr int E = std::is_same_v<T, double> ? 2 : 4;
  const Slots s{b / 16, b % 16};
  if (s.elem(E, 0) >= n) return;
  uint32_t x[4];
  philox(seed, offset, uint64_t(b), x);
  const float inv = float(1.0 / lambd);
#pragma unroll
  for (int h = 0; h < E; ++h) {
    const int64_t i = s.elem(E, h);
    if (i >= n) break;
    if constexpr (std::is_same_v<T, double>)
      reinterpret_cast<double*>(out)[i] = -log1p(-unit53(x[2 * h], x[2 * h + 1])) / lambd;
    else
      Dev<T>::store(out + i * int64_t(sizeof(T)), -vlogf(1.0f - float(int32_t(x[h] >> 8)) * 0x1p-24f) * inv);
  }
}

struct ExponentialBody {
  const Tensor& out;
  const PhiloxKey& key;
  double lambd;
  template <typename T>
  void operator()() const {
    const int E = std::is_same_v<T, double> ? 2 : 4;
    exponential_kernel_<T><<<grid_for(out.numel(), E), kRandThreads, 0, stream_of(out.device().index)>>>(
        out.raw_data(), out.numel(), key.seed, key.offset, lambd);
    check_launch("exponential_");
  }
};
void exponential_cuda(const Tensor& out, const PhiloxKey& key, double lambd) {
  dispatch_cuda<kFloatMask>(out.dtype(), "exponential_", ExponentialBody{out, key, lambd});
}

// low + floor(r * range / 2^k), k = 32 (4 per block) when range <= 2^16, else 64 (2 per block).
template <typename T>
__global__ void randint_kernel_(char* out, int64_t n, uint64_t seed, uint64_t offset, int64_t low, uint64_t range,
                                bool four) {
  const int64_t b = int64_t(blockIdx.x) * kRandThreads + threadIdx.x;
  const int E = four ? 4 : 2;
  const Slots s{b / 16, b % 16};
  if (s.elem(E, 0) >= n) return;
  uint32_t x[4];
  philox(seed, offset, uint64_t(b), x);
  using M = opmath_of<T>;
  for (int h = 0; h < E; ++h) {
    const int64_t i = s.elem(E, h);
    if (i >= n) break;
    int64_t v;
    if (four) {
      v = low + int64_t((uint64_t(x[h]) * uint64_t(uint32_t(range))) >> 32);
    } else {
      const uint64_t r = (uint64_t(x[2 * h]) << 32) | x[2 * h + 1];
      v = int64_t(uint64_t(low) + (range == 0 ? r : __umul64hi(r, range)));
    }
    M m;
    if constexpr (std::is_same_v<M, bool>) m = v != 0;
    else if constexpr (std::is_integral_v<M>) m = M(v);
    else m = M(double(v));
    Dev<T>::store(out + i * int64_t(sizeof(T)), m);
  }
}

struct RandintBody {
  const Tensor& out;
  const PhiloxKey& key;
  int64_t low;
  uint64_t range;
  template <typename T>
  void operator()() const {
    const bool four = range != 0 && range <= (uint64_t(1) << 16);
    randint_kernel_<T><<<grid_for(out.numel(), four ? 4 : 2), kRandThreads, 0, stream_of(out.device().index)>>>(
        out.raw_data(), out.numel(), key.seed, key.offset, low, range, four);
    check_launch("random_");
  }
};
void randint_cuda(const Tensor& out, const PhiloxKey& key, int64_t low, uint64_t range) {
  dispatch_cuda<kAllRealMask>(out.dtype(), "random_", RandintBody{out, key, low, range});
}

// Element e of the stream as 64 bits, in the CPU's E = 2 mapping (fill_u64).
__device__ __forceinline__ uint64_t stream_u64(uint64_t seed, uint64_t offset, int64_t e) {
  const int64_t g = e / 32, r = e % 32, h = r / 16, j = r % 16;
  uint32_t x[4];
  philox(seed, offset, uint64_t(g * 16 + j), x);
  return h == 0 ? (uint64_t(x[0]) << 32) | x[1] : (uint64_t(x[2]) << 32) | x[3];
}

__global__ void random_keys_kernel(uint64_t* keys, int64_t n, uint64_t seed, uint64_t offset) {
  const int64_t e = int64_t(blockIdx.x) * kRandThreads + threadIdx.x;
  if (e < n) keys[e] = stream_u64(seed, offset, e);
}

__global__ void positions_kernel(const int32_t* pos, int64_t n, int64_t* out) {
  const int64_t e = int64_t(blockIdx.x) * kRandThreads + threadIdx.x;
  if (e < n) out[e] = pos[e];
}

void randperm_cuda(const Tensor& out, const PhiloxKey& key) {
  const int64_t n = out.numel();
  cudaStream_t s = current_stream_here();
  Tensor hk, hp;
  uint64_t* keys = scratch_ptr<uint64_t>(hk, n);
  int32_t* pos = scratch_ptr<int32_t>(hp, n);
  random_keys_kernel<<<blocks_for(n, kRandThreads), kRandThreads, 0, s>>>(keys, n, key.seed, key.offset);
  check_launch("randperm");
  segmented_sort<uint64_t>(keys, pos, 1, n);
  positions_kernel<<<blocks_for(n, kRandThreads), kRandThreads, 0, s>>>(pos, n, out.data<int64_t>());
  check_launch("randperm");
}

// ---- multinomial ------------------------------------------------------------------------------
constexpr int kRowThreads = 256;

// One block per row: the CPU's checks (error codes of ops/random.h) and the row's last
// category with a non-zero probability.
__global__ void multinomial_check_kernel(const double* P, int64_t cats, int64_t n, bool replacement, int* err,
                                         int64_t* last) {
  __shared__ double ssum[kRowThreads];
  __shared__ int64_t snz[kRowThreads], slast[kRowThreads];
  __shared__ int sbad[kRowThreads];
  const int t = threadIdx.x;
  const double* w = P + int64_t(blockIdx.x) * cats;
  double sum = 0.0;
  int64_t nz = 0, lst = -1;
  int bad = 0;
  for (int64_t c = t; c < cats; c += kRowThreads) {
    const double v = w[c];
    if (!(v >= 0.0) || isinf(v)) bad = 1;
    sum += v;
    if (v > 0.0) {
      ++nz;
      lst = c;
    }
  }
  ssum[t] = sum, snz[t] = nz, slast[t] = lst, sbad[t] = bad;
  __syncthreads();
  for (int k = kRowThreads / 2; k > 0; k >>= 1) {
    if (t < k) {
      ssum[t] += ssum[t + k];
      snz[t] += snz[t + k];
      slast[t] = slast[t] > slast[t + k] ? slast[t] : slast[t + k];
      sbad[t] |= sbad[t + k];
    }
    __syncthreads();
  }
  if (t == 0) {
    const int code = sbad[0] ? 1 : !(ssum[0] > 0.0) ? 2 : (!replacement && snz[0] < n) ? 3 : 0;
    if (code) atomicMax(err, code);
    last[blockIdx.x] = slast[0];
  }
}

// One block per row: cdf = the running sum of the row (256 chunks, each summed in order).
__global__ void row_cdf_kernel(const double* P, int64_t cats, double* cdf) {
  __shared__ double part[kRowThreads];
  const int t = threadIdx.x;
  const double* w = P + int64_t(blockIdx.x) * cats;
  double* o = cdf + int64_t(blockIdx.x) * cats;
  const int64_t chunk = (cats + kRowThreads - 1) / kRowThreads;
  const int64_t c0 = t * chunk, c1 = c0 + chunk < cats ? c0 + chunk : cats;
  double sum = 0.0;
  for (int64_t c = c0; c < c1; ++c) sum += w[c];
  part[t] = sum;
  __syncthreads();
  if (t == 0) {
    double acc = 0.0;
    for (int k = 0; k < kRowThreads; ++k) {
      const double v = part[k];
      part[k] = acc;
      acc += v;
    }
  }
  __syncthreads();
  double acc = part[t];
  for (int64_t c = c0; c < c1; ++c) o[c] = acc += w[c];
}

// Sample s of row r uses element r * n + s of the stream: the first category whose running
// sum exceeds u * total.
__global__ void multinomial_draw_kernel(const double* cdf, const int64_t* last, int64_t rows, int64_t cats, int64_t n,
                                        uint64_t seed, uint64_t offset, int64_t* out) {
  const int64_t e = int64_t(blockIdx.x) * kRandThreads + threadIdx.x;
  if (e >= rows * n) return;
  const int64_t r = e / n;
  const double* c = cdf + r * cats;
  const double target = double(stream_u64(seed, offset, e) >> 11) * 0x1p-53 * c[cats - 1];
  int64_t lo = 0, hi = cats;
  while (lo < hi) {
    const int64_t mid = (lo + hi) >> 1;
    if (c[mid] <= target) lo = mid + 1;
    else hi = mid;
  }
  out[e] = lo >= cats ? last[r] : lo;
}

// Without replacement: category c of row r gets the key log(u) / p from element r * cats + c
// (Efraimidis-Spirakis); the n largest keys win, ties to the lower index.
__global__ void multinomial_keys_kernel(const double* P, int64_t total, uint64_t seed, uint64_t offset, uint64_t* keys) {
  const int64_t e = int64_t(blockIdx.x) * kRandThreads + threadIdx.x;
  if (e >= total) return;
  const double u = 1.0 - double(stream_u64(seed, offset, e) >> 11) * 0x1p-53;  // (0, 1]
  const double w = P[e];
  keys[e] = KeyOf<double>::key(w > 0.0 ? log(u) / w : -INFINITY, true);
}

__global__ void first_n_kernel(const int32_t* pos, int64_t rows, int64_t cats, int64_t n, int64_t* out) {
  const int64_t e = int64_t(blockIdx.x) * kRandThreads + threadIdx.x;
  if (e < rows * n) out[e] = pos[(e / n) * cats + e % n];
}

int multinomial_cuda(const Tensor& out, const Tensor& probs, const PhiloxKey& key, int64_t n, bool replacement) {
  const int64_t rows = probs.sizes()[0], cats = probs.sizes()[1];
  EMBER_CHECK(rows <= INT32_MAX, NotImplementedError, "[multinomial] too many rows for one CUDA launch");
  const double* P = probs.data<double>();
  cudaStream_t s = current_stream_here();
  Tensor he, hl;
  int* err = scratch_ptr<int>(he, 1);
  int64_t* last = scratch_ptr<int64_t>(hl, rows);
  memset_async(err, 0, sizeof(int));
  multinomial_check_kernel<<<unsigned(rows), kRowThreads, 0, s>>>(P, cats, n, replacement, err, last);
  check_launch("multinomial");
  const int code = read_one(err);
  if (code) return code;
  int64_t* o = out.data<int64_t>();
  if (replacement) {
    Tensor hc;
    double* cdf = scratch_ptr<double>(hc, rows * cats);
    row_cdf_kernel<<<unsigned(rows), kRowThreads, 0, s>>>(P, cats, cdf);
    check_launch("multinomial");
    multinomial_draw_kernel<<<blocks_for(rows * n, kRandThreads), kRandThreads, 0, s>>>(cdf, last, rows, cats, n,
                                                                                         key.seed, key.offset, o);
    check_launch("multinomial");
    return 0;
  }
  Tensor hk, hp;
  uint64_t* keys = scratch_ptr<uint64_t>(hk, rows * cats);
  int32_t* pos = scratch_ptr<int32_t>(hp, rows * cats);
  multinomial_keys_kernel<<<blocks_for(rows * cats, kRandThreads), kRandThreads, 0, s>>>(P, rows * cats, key.seed,
                                                                                         key.offset, keys);
  check_launch("multinomial");
  segmented_sort<uint64_t>(keys, pos, rows, cats);
  first_n_kernel<<<blocks_for(rows * n, kRandThreads), kRandThreads, 0, s>>>(pos, rows, cats, n, o);
  check_launch("multinomial");
  return 0;
}

}  // namespace
}  // namespace cuda

EMBER_REGISTER_CUDA(uniform_stub, cuda::uniform_cuda);
EMBER_REGISTER_CUDA(normal_stub, cuda::normal_cuda);
EMBER_REGISTER_CUDA(bernoulli_stub, cuda::bernoulli_cuda);
EMBER_REGISTER_CUDA(exponential_stub, cuda::exponential_cuda);
EMBER_REGISTER_CUDA(randint_stub, cuda::randint_cuda);
EMBER_REGISTER_CUDA(randperm_stub, cuda::randperm_cuda);
EMBER_REGISTER_CUDA(multinomial_stub, cuda::multinomial_cuda);

}  // namespace ember
