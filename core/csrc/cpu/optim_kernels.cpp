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

// WD: 0 none, 1 L2 (added to the gradient), 2 decoupled (AdamW). Branch-free loops with
// restrict pointers, so that they vectorise; maximize flips the gradient's sign exactly.
template <typename T, bool AMS, int WD>
EMBER_HOT void adam_range(const AdamArgs& a, T* __restrict p, const T* __restrict g, T* __restrict m,
                          T* __restrict v, T* __restrict vmax, int64_t b, int64_t e) {
  const T beta2 = T(a.beta2), w1 = T(1 - a.beta1), w2 = T(1 - a.beta2);
  const T wd = T(a.weight_decay), decay = T(1 - a.lr * a.weight_decay), eps = T(a.eps);
  const double bc1 = 1 - std::pow(a.beta1, a.step), bc2 = 1 - std::pow(a.beta2, a.step);
  const T neg_step = T(-(a.lr / bc1)), bc2_sqrt = T(std::sqrt(bc2)), sign = a.maximize ? T(-1) : T(1);
  for (int64_t i = b; i < e; ++i) {
    T gi = g[i] * sign;
    T pi = p[i];
    if constexpr (WD == 2) pi = pi * decay;
    if constexpr (WD == 1) gi = gi + wd * pi;
    const T mi = m[i] + w1 * (gi - m[i]);  // lerp with weight < 0.5
    const T vi = v[i] * beta2 + w2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    T vv = vi;
    if constexpr (AMS) {
      vv = vmax[i] > vi ? vmax[i] : vi;
      vmax[i] = vv;
    }
    const T denom = std::sqrt(vv) / bc2_sqrt + eps;
    p[i] = pi + neg_step * mi / denom;
  }
}

template <typename T, bool AMS>
void adam_range_wd(const AdamArgs& a, T* p, const T* g, T* m, T* v, T* vmax, int64_t b, int64_t e) {
  if (a.weight_decay == 0) adam_range<T, AMS, 0>(a, p, g, m, v, vmax, b, e);
  else if (a.decoupled) adam_range<T, AMS, 2>(a, p, g, m, v, vmax, b, e);
  else adam_range<T, AMS, 1>(a, p, g, m, v, vmax, b, e);
}

void adam_kernel(const AdamArgs& a, const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v,
                 const Tensor& vmax) {
  dispatch<kOptMask>(p.dtype(), "fused_adam", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    T* vm = vmax.defined() ? vmax.data<T>() : nullptr;
    parallel_for(0, p.numel(), kGrainSize / 4, [&](int64_t b, int64_t e) {
      if (vm) adam_range_wd<T, true>(a, p.data<T>(), g.data<T>(), m.data<T>(), v.data<T>(), vm, b, e);
      else adam_range_wd<T, false>(a, p.data<T>(), g.data<T>(), m.data<T>(), v.data<T>(), vm, b, e);
    });
  });
}

// MOM: 0 none, 1 momentum, 2 Nesterov momentum.
template <typename T, bool WD, int MOM>
EMBER_HOT void sgd_range(const SgdArgs& a, T* __restrict p, const T* __restrict g, T* __restrict buf, int64_t b,
                         int64_t e) {
  const T wd = T(a.weight_decay), mom = T(a.momentum), damp = T(1 - a.dampening), lr = T(a.lr);
  const T sign = a.maximize ? T(-1) : T(1);
  for (int64_t i = b; i < e; ++i) {
    T gi = g[i] * sign;
    if constexpr (WD) gi = gi + wd * p[i];
    if constexpr (MOM != 0) {
      const T bi = buf[i] * mom + damp * gi;
      buf[i] = bi;
      gi = MOM == 2 ? gi + mom * bi : bi;
    }
    p[i] = p[i] + (-lr) * gi;
  }
}

template <typename T, bool WD>
void sgd_range_mom(const SgdArgs& a, T* p, const T* g, T* buf, int64_t b, int64_t e) {
  if (!buf) sgd_range<T, WD, 0>(a, p, g, buf, b, e);
  else if (a.nesterov) sgd_range<T, WD, 2>(a, p, g, buf, b, e);
  else sgd_range<T, WD, 1>(a, p, g, buf, b, e);
}

void sgd_kernel(const SgdArgs& a, const Tensor& p, const Tensor& g, const Tensor& buf) {
  dispatch<kOptMask>(p.dtype(), "fused_sgd", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    T* bp = buf.defined() ? buf.data<T>() : nullptr;
    parallel_for(0, p.numel(), kGrainSize / 4,
                 [&](int64_t b, int64_t e) {
                   if (a.weight_decay != 0) sgd_range_mom<T, true>(a, p.data<T>(), g.data<T>(), bp, b, e);
                   else sgd_range_mom<T, false>(a, p.data<T>(), g.data<T>(), bp, b, e);
                 });
  });
}

}  // namespace

EMBER_REGISTER_CPU(fused_adam_stub, adam_kernel);
EMBER_REGISTER_CPU(fused_sgd_stub, sgd_kernel);

}  // namespace ember
