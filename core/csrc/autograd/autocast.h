// Casting the operands of a lower-precision op under ember.autocast (autograd/grad_mode.h):
//
//   if (autocast_needed(out, a, b)) return mm(autocast(a), autocast(b), out);
//
// Float32/float16/bfloat16 operands become the autocast dtype of their device (CPU and CUDA
// have their own switch and dtype) through the recording to_dtype, so gradients flow back to
// float32 parameters in their own dtype.
#pragma once
#include "../ops/elementwise.h"
#include "grad_mode.h"

namespace ember {
namespace autograd {

// A float operand that autocast, enabled for its device, casts to that device's dtype.
inline bool autocast_eligible(const Tensor& t) {
  if (!t.defined()) return false;
  const DeviceType dev = t.device().type;
  if (!AutocastMode::is_enabled(dev) || t.dtype() == AutocastMode::dtype(dev)) return false;
  ScalarType d = t.dtype();
  return d == ScalarType::Float32 || d == ScalarType::Float16 || d == ScalarType::BFloat16;
}

template <typename... Ts>
inline bool autocast_needed(const Tensor* out, const Ts&... ts) {
  return !out && (autocast_eligible(ts) || ...);
}

inline Tensor autocast(const Tensor& t) {
  return autocast_eligible(t) ? to_dtype(t, AutocastMode::dtype(t.device().type)) : t;
}

}  // namespace autograd
}  // namespace ember
