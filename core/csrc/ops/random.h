// Random number generation with a counter-based generator (Philox4x32-10).
//
// A Generator holds a 64-bit seed and a 64-bit offset. Every random op takes one stream
// (seed, offset) and then bumps the offset. E elements share a block of four 32-bit words
// (E = 4 for 32-bit draws, 2 for 64-bit ones); element i of the op's (logical, row-major)
// output takes share (i % G) / 16 of block (i / G) * 16 + i % 16, with G = 16 * E (the CPU
// kernel computes 16 blocks at once and stores each share as a contiguous run). So every
// value depends only on (seed, offset, element index): results are the same for any thread
// count and any split of the work, and a CUDA kernel can reproduce them.
//
// Block b of stream (seed, offset): counter (lo(b), hi(b), lo(offset), hi(offset)),
// key (lo(seed), hi(seed)).
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "../tensor/tensor.h"
#include "dispatch.h"

namespace ember {

constexpr uint32_t kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;

// Philox4x32 with 10 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3").
inline void philox4x32_10(uint32_t c[4], uint32_t k0, uint32_t k1) {
  for (int r = 0; r < 10; ++r) {
    if (r) {
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
    const uint64_t p0 = uint64_t(kPhiloxM0) * c[0];
    const uint64_t p1 = uint64_t(kPhiloxM1) * c[2];
    const uint32_t n0 = uint32_t(p1 >> 32) ^ c[1] ^ k0;
    const uint32_t n2 = uint32_t(p0 >> 32) ^ c[3] ^ k1;
    c[0] = n0;
    c[1] = uint32_t(p1);
    c[2] = n2;
    c[3] = uint32_t(p0);
  }
}

// One op's stream.
struct PhiloxKey {
  uint64_t seed = 0, offset = 0;
};

// Block b of a stream.
inline void philox_block(const PhiloxKey& k, uint64_t b, uint32_t out[4]) {
  out[0] = uint32_t(b);
  out[1] = uint32_t(b >> 32);
  out[2] = uint32_t(k.offset);
  out[3] = uint32_t(k.offset >> 32);
  philox4x32_10(out, uint32_t(k.seed), uint32_t(k.seed >> 32));
}

class Generator {
 public:
  explicit Generator(uint64_t seed, Device device = Device()) : seed_(seed), device_(device) {}
  // The device it was made for (ember.Generator(device="cuda")): informational, as one Philox
  // stream serves random ops on any device.
  Device device() const { return device_; }
  void manual_seed(uint64_t seed);
  uint64_t seed();  // reseeds nondeterministically; returns the new seed
  uint64_t initial_seed() const;
  PhiloxKey next();  // the stream for one op (bumps the offset)
  static constexpr size_t kStateBytes = 16;  // seed, offset (little-endian uint64)
  std::vector<uint8_t> get_state() const;
  void set_state(const uint8_t* p, size_t n, const char* op);

 private:
  mutable std::mutex mu_;
  uint64_t seed_ = 0, offset_ = 0;
  Device device_;
};
using GeneratorPtr = std::shared_ptr<Generator>;

// The process-wide default generator (seeded nondeterministically at start-up).
const GeneratorPtr& default_generator();
// The default generator of CUDA device `index` (PyTorch's default seed until manual_seed): random
// ops on that device's tensors draw from it when no generator is given.
const GeneratorPtr& cuda_default_generator(int index);
uint64_t nondeterministic_seed();

// Kernels write a contiguous tensor of `out.dtype()`.
using UniformKernel = void (*)(const Tensor& out, const PhiloxKey& key, double from, double to);
using NormalKernel = void (*)(const Tensor& out, const PhiloxKey& key, double mean, double std);
using ExponentialKernel = void (*)(const Tensor& out, const PhiloxKey& key, double lambd);
// low + uniform integer in [0, range) (range 0: all 2^64 values)
using RandintKernel = void (*)(const Tensor& out, const PhiloxKey& key, int64_t low, uint64_t range);
// p: a contiguous float64 tensor of out's numel, or null for the scalar p; returns 1 when
// some probability lies outside [0, 1].
using BernoulliKernel = int (*)(const Tensor& out, const PhiloxKey& key, const Tensor* p, double p_scalar);
using RandpermKernel = void (*)(const Tensor& out, const PhiloxKey& key);  // out: int64 (n,)
// out: int64 (rows, n); probs: float64 contiguous (rows, categories); returns an error code:
// 1 negative/inf/nan probability, 2 zero sum, 3 fewer non-zero categories than n (without replacement).
using MultinomialKernel = int (*)(const Tensor& out, const Tensor& probs, const PhiloxKey& key, int64_t n,
                                  bool replacement);

extern DispatchStub<UniformKernel> uniform_stub;
extern DispatchStub<NormalKernel> normal_stub;
extern DispatchStub<ExponentialKernel> exponential_stub;
extern DispatchStub<RandintKernel> randint_stub;
extern DispatchStub<BernoulliKernel> bernoulli_stub;
extern DispatchStub<RandpermKernel> randperm_stub;
extern DispatchStub<MultinomialKernel> multinomial_stub;

// Front ends (a null generator means the default one). In-place ops return their input.
Tensor uniform_(const Tensor& t, double from, double to, const GeneratorPtr& gen);
Tensor normal_(const Tensor& t, double mean, double std, const GeneratorPtr& gen);
Tensor exponential_(const Tensor& t, double lambd, const GeneratorPtr& gen);
// random_(): [0, 2^mantissa] for floats, [0, max] for integers; `to` exclusive.
Tensor random_(const Tensor& t, std::optional<int64_t> from, std::optional<int64_t> to, const GeneratorPtr& gen);
Tensor bernoulli_(const Tensor& t, const Tensor* p, double p_scalar, const GeneratorPtr& gen);

Tensor rand(const Shape& size, ScalarType dtype, const GeneratorPtr& gen, Device device = Device());
Tensor randn(const Shape& size, ScalarType dtype, const GeneratorPtr& gen, Device device = Device());
Tensor randint(int64_t low, int64_t high, const Shape& size, ScalarType dtype, const GeneratorPtr& gen,
               Device device = Device());
Tensor randperm(int64_t n, ScalarType dtype, const GeneratorPtr& gen, Device device = Device());
// mean/std broadcast; either may be a wrapped number.
Tensor normal(const Tensor& mean, const Tensor& std, const GeneratorPtr& gen, const Tensor* out = nullptr);
Tensor bernoulli(const Tensor& p, const GeneratorPtr& gen, const Tensor* out = nullptr);
Tensor multinomial(const Tensor& probs, int64_t n, bool replacement, const GeneratorPtr& gen,
                   const Tensor* out = nullptr);

}  // namespace ember
