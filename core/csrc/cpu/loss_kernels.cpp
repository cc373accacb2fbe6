// CPU kernels of nll_loss (ops/nn.h): one pass that checks the targets, picks -w[t] * logp[t]
// and sums (in double, in order, so results do not depend on the thread count), and its
// backward, which writes -w[t] * g at each target and zeros elsewhere.
#include <algorithm>
#include <cstring>

#include "../ops/nn.h"
#include "loop.h"

namespace ember {
namespace {

constexpr uint32_t kLossMask = tbit(ScalarType::Float32) | tbit(ScalarType::Float64);

void check_target(const NllArgs& a, int64_t t) {
  if (t == a.ignore_index) return;
  EMBER_CHECK(t >= 0 && t < a.C, IndexError, "[nll_loss] target ", t, " is out of bounds: expected class indices in [0, ",
              a.C, ") or ignore_index ", a.ignore_index);
}

void nll_kernel(const NllArgs& a, const Tensor& logp, const Tensor& target, const Tensor& weight, const Tensor& out,
                const Tensor& total_weight) {
  const int64_t* tp = target.data<int64_t>();
  for (int64_t i = 0; i < a.N * a.K; ++i) check_target(a, tp[i]);
  dispatch<kLossMask>(logp.dtype(), "nll_loss", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    const T* lp = logp.data<T>();
    const T* wp = weight.defined() ? weight.data<T>() : nullptr;
    double total = 0, wsum = 0;
    T* op = out.data<T>();
    for (int64_t n = 0; n < a.N; ++n)
      for (int64_t k = 0; k < a.K; ++k) {
        const int64_t t = tp[n * a.K + k];
        double loss = 0, w = 0;
        if (t != a.ignore_index) {
          w = wp ? double(wp[t]) : 1.0;
          loss = -w * double(lp[(n * a.C + t) * a.K + k]);
        }
        if (a.reduction == 0) op[n * a.K + k] = T(loss);
        total += loss;
        wsum += w;
      }
    if (a.reduction != 0) op[0] = T(a.reduction == 1 ? total / wsum : total);
    total_weight.data<T>()[0] = T(wsum);
  });
}

void nll_backward_kernel(const NllArgs& a, const Tensor& g, const Tensor& target, const Tensor& weight,
                         const Tensor& total_weight, const Tensor& gx) {
  dispatch<kLossMask>(gx.dtype(), "nll_loss_backward", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    const int64_t* tp = target.data<int64_t>();
    const T* wp = weight.defined() ? weight.data<T>() : nullptr;
    const T* gp = g.data<T>();
    T* xp = gx.data<T>();
    std::memset(xp, 0, size_t(gx.numel()) * sizeof(T));
    const T scale = a.reduction == 1 ? T(1.0 / double(total_weight.data<T>()[0])) : T(1);
    for (int64_t n = 0; n < a.N; ++n)
      for (int64_t k = 0; k < a.K; ++k) {
        const int64_t t = tp[n * a.K + k];
        if (t == a.ignore_index) continue;
        const T gi = a.reduction == 0 ? gp[n * a.K + k] : gp[0] * scale;
        xp[(n * a.C + t) * a.K + k] = -(wp ? wp[t] : T(1)) * gi;
      }
  });
}

}  // namespace

EMBER_REGISTER_CPU(nll_stub, nll_kernel);
EMBER_REGISTER_CPU(nll_backward_stub, nll_backward_kernel);

}  // namespace ember
