// CPU kernels of the fused optimizer updates (ops/optim.h): one vectorisable pass per
// parameter, in the parameter's dtype, with the order of operations of PyTorch's
// single-tensor Adam/AdamW/SGD (lerp for the first moment, then addcmul, sqrt / bias
// correction + eps, addcdiv).
#include <algorithm>
#include <cmath>

#include "../ops/optim.h"
#include "loop.h"

namespace ember {
namespace {

constexpr uint32_t kOptMask = tbit(ScalarType::Float32) | tbit(ScalarType::Float64);

template <typename T>
EMBER_HOT void adam_range(const AdamArgs& a, T* p, const T* g, T* m, T* v, T* vmax, int64_t b, int64_t e) {
  const T beta1 = T(a.beta1), beta2 = T(a.beta2), w1 = T(1 - a.beta1), w2 = T(1 - a.beta2);
  const T wd = T(a.weight_decay), decay = T(1 - a.lr * a.weight_decay), eps = T(a.eps);
  const double bc1 = 1 - std::pow(a.beta1, a.step), bc2 = 1 - std::pow(a.beta2, a.step);
  const T step_size = T(a.lr / bc1), bc2_sqrt = T(std::sqrt(bc2));
  const bool l2 = a.weight_decay != 0 && !a.decoupled, dec = a.weight_decay != 0 && a.decoupled;
  for (int64_t i = b; i < e; ++i) {
    T gi = a.maximize ? -g[i] : g[i];
    T pi = p[i];
    if (dec) pi = pi * decay;
    if (l2) gi = gi + wd * pi;
    const T mi = m[i] + w1 * (gi - m[i]);  // lerp with weight < 0.5
    const T vi = v[i] * beta2 + w2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    T denom;
    if (vmax) {
      const T mx = std::max(vmax[i], vi);
      vmax[i] = mx;
      denom = std::sqrt(mx) / bc2_sqrt + eps;
    } else {
      denom = std::sqrt(vi) / bc2_sqrt + eps;
    }
    p[i] = pi + (-step_size) * mi / denom;
  }
}

void adam_kernel(const AdamArgs& a, const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v,
                 const Tensor& vmax) {
  dispatch<kOptMask>(p.dtype(), "fused_adam", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    T* vm = vmax.defined() ? vmax.data<T>() : nullptr;
    parallel_for(0, p.numel(), kGrainSize / 4, [&](int64_t b, int64_t e) {
      adam_range<T>(a, p.data<T>(), g.data<T>(), m.data<T>(), v.data<T>(), vm, b, e);
    });
  });
}

template <typename T>
EMBER_HOT void sgd_range(const SgdArgs& a, T* p, const T* g, T* buf, int64_t b, int64_t e) {
  const T wd = T(a.weight_decay), mom = T(a.momentum), damp = T(1 - a.dampening), lr = T(a.lr);
  for (int64_t i = b; i < e; ++i) {
    T gi = a.maximize ? -g[i] : g[i];
    if (a.weight_decay != 0) gi = gi + wd * p[i];
    if (buf) {
      const T bi = buf[i] * mom + damp * gi;
      buf[i] = bi;
      gi = a.nesterov ? gi + mom * bi : bi;
    }
    p[i] = p[i] + (-lr) * gi;
  }
}

void sgd_kernel(const SgdArgs& a, const Tensor& p, const Tensor& g, const Tensor& buf) {
  dispatch<kOptMask>(p.dtype(), "fused_sgd", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    T* bp = buf.defined() ? buf.data<T>() : nullptr;
    parallel_for(0, p.numel(), kGrainSize / 4,
                 [&](int64_t b, int64_t e) { sgd_range<T>(a, p.data<T>(), g.data<T>(), bp, b, e); });
  });
}

}  // namespace

EMBER_REGISTER_CPU(fused_adam_stub, adam_kernel);
EMBER_REGISTER_CPU(fused_sgd_stub, sgd_kernel);

}  // namespace ember
