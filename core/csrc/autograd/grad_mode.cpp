#include "grad_mode.h"

namespace ember {

namespace {
thread_local bool t_grad_enabled = true;
thread_local bool t_inference = false;
thread_local bool t_autocast = false;
thread_local ScalarType t_autocast_dtype = ScalarType::BFloat16;
bool g_anomaly = false;  // process-wide, as PyTorch's
bool g_anomaly_nan = true;
}  // namespace

// Declared in tensor/tensor.h: new tensors remember whether inference mode made them.
bool inference_mode_enabled() { return t_inference; }

namespace autograd {
bool GradMode::is_enabled() { return t_grad_enabled; }
bool AutocastMode::is_enabled() { return t_autocast; }
ScalarType AutocastMode::dtype() { return t_autocast_dtype; }
void AutocastMode::set(bool enabled, ScalarType dtype) {
  t_autocast = enabled;
  t_autocast_dtype = dtype;
}
void GradMode::set_enabled(bool enabled) { t_grad_enabled = enabled; }
bool InferenceMode::is_enabled() { return t_inference; }
void InferenceMode::set_enabled(bool enabled) { t_inference = enabled; }
bool AnomalyMode::is_enabled() { return g_anomaly; }
bool AnomalyMode::check_nan() { return g_anomaly_nan; }
void AnomalyMode::set_enabled(bool enabled, bool check_nan) {
  g_anomaly = enabled;
  g_anomaly_nan = check_nan;
}
}  // namespace autograd
}  // namespace ember
