#include "grad_mode.h"

namespace ember {

namespace {
thread_local bool t_grad_enabled = true;
thread_local bool t_inference = false;
thread_local bool t_autocast[kNumDeviceTypes] = {false, false};
thread_local ScalarType t_autocast_dtype[kNumDeviceTypes] = {ScalarType::BFloat16, ScalarType::Float16};
bool g_anomaly = false;  // process-wide, as PyTorch's
bool g_anomaly_nan = true;
}  // namespace

// Declared in tensor/tensor.h: new tensors remember whether inference mode made them.
bool inference_mode_enabled() { return t_inference; }

namespace autograd {
bool GradMode::is_enabled() { return t_grad_enabled; }
bool AutocastMode::is_enabled(DeviceType d) { return t_autocast[int(d)]; }
ScalarType AutocastMode::dtype(DeviceType d) { return t_autocast_dtype[int(d)]; }
void AutocastMode::set(bool enabled, ScalarType dtype, DeviceType d) {
  t_autocast[int(d)] = enabled;
  t_autocast_dtype[int(d)] = dtype;
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
