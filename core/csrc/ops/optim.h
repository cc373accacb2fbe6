// Fused multi-tensor optimizer updates (ember.optim's fast path): one pass over each
// parameter updates it and its state in place, with PyTorch's single-tensor order of
// operations. The front end checks that every tensor is a contiguous float32/float64 tensor of
// its parameter's dtype, shape and device (CPU or CUDA; the step counters stay on the CPU, as in
// PyTorch), and returns false (touching nothing) otherwise, when ember.optim falls back to
// ordinary ops.
#pragma once
#include <vector>

#include "../tensor/tensor.h"
#include "dispatch.h"

namespace ember {

struct AdamArgs {
  double lr, beta1, beta2, weight_decay, eps;
  bool amsgrad, maximize, decoupled;
  double step;  // after the increment
};

struct SgdArgs {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, maximize;
};

using AdamKernel = void (*)(const AdamArgs&, const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v,
                            const Tensor& vmax);
using SgdKernel = void (*)(const SgdArgs&, const Tensor& p, const Tensor& g, const Tensor& buf);
extern DispatchStub<AdamKernel> fused_adam_stub;
extern DispatchStub<SgdKernel> fused_sgd_stub;

// steps: 0-d float32 step counters, each incremented in place before its update.
bool fused_adam_(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const std::vector<Tensor>& m,
                 const std::vector<Tensor>& v, const std::vector<Tensor>& vmax, const std::vector<Tensor>& steps,
                 AdamArgs args);
// bufs: momentum buffers (all defined when momentum != 0; empty list otherwise).
bool fused_sgd_(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const std::vector<Tensor>& bufs,
                const SgdArgs& args);

}  // namespace ember
