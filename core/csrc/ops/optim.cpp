// Front ends of the fused optimizer updates (ops/optim.h).
#include "optim.h"

#include <cmath>

#include "creation.h"

namespace ember {

DispatchStub<AdamKernel> fused_adam_stub("fused_adam");
DispatchStub<SgdKernel> fused_sgd_stub("fused_sgd");

namespace {
bool like(const Tensor& p, const Tensor& t) {
  return t.defined() && t.sizes() == p.sizes() && t.dtype() == p.dtype() && t.device() == p.device() &&
         t.is_contiguous() && !t.impl()->is_inference;
}
bool param_ok(const Tensor& p) {  // CPU or CUDA (the state shares the parameter's device)
  return (p.dtype() == ScalarType::Float32 || p.dtype() == ScalarType::Float64) && p.is_contiguous();
}
}  // namespace

bool fused_adam_(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const std::vector<Tensor>& m,
                 const std::vector<Tensor>& v, const std::vector<Tensor>& vmax, const std::vector<Tensor>& steps,
                 AdamArgs args) {
  const size_t n = params.size();
  if (grads.size() != n || m.size() != n || v.size() != n || steps.size() != n || (args.amsgrad && vmax.size() != n))
    return false;
  for (size_t i = 0; i < n; ++i) {
    if (!param_ok(params[i]) || !like(params[i], grads[i]) || !like(params[i], m[i]) || !like(params[i], v[i]) ||
        (args.amsgrad && !like(params[i], vmax[i])) || steps[i].numel() != 1 ||
        steps[i].dtype() != ScalarType::Float32 || !steps[i].is_contiguous() || !steps[i].device().is_cpu())
      return false;
  }
  for (size_t i = 0; i < n; ++i) {
    float& step = *steps[i].data<float>();
    step += 1.0f;
    args.step = double(step);
    params[i].impl()->version->version++;
    m[i].impl()->version->version++;
    v[i].impl()->version->version++;
    if (params[i].numel())
      fused_adam_stub(params[i].device(), args, params[i], grads[i], m[i], v[i], args.amsgrad ? vmax[i] : Tensor());
  }
  return true;
}

bool fused_sgd_(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const std::vector<Tensor>& bufs,
                const SgdArgs& args) {
  const size_t n = params.size();
  if (grads.size() != n || (args.momentum != 0 && bufs.size() != n)) return false;
  for (size_t i = 0; i < n; ++i)
    if (!param_ok(params[i]) || !like(params[i], grads[i]) || (args.momentum != 0 && !like(params[i], bufs[i])))
      return false;
  for (size_t i = 0; i < n; ++i) {
    params[i].impl()->version->version++;
    if (args.momentum != 0) bufs[i].impl()->version->version++;
    if (params[i].numel())
      fused_sgd_stub(params[i].device(), args, params[i], grads[i], args.momentum != 0 ? bufs[i] : Tensor());
  }
  return true;
}

}  // namespace ember
