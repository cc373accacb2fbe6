// Grad modes: thread-local switches read by every op front end.
#pragma once
#include "../tensor/device.h"
#include "../tensor/dtype.h"

namespace ember {
namespace autograd {

struct GradMode {
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

struct InferenceMode {
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

struct AnomalyMode {
  static bool is_enabled();
  static bool check_nan();
  static void set_enabled(bool enabled, bool check_nan = true);
};

// ember.autocast, per device type (thread-local, as PyTorch's): while enabled for a tensor's
// device, the lower-precision ops (the matmul family and convolutions) cast float operands to
// that device's `dtype` first. Off during backward. The one-argument forms are the CPU's.
struct AutocastMode {
  static bool is_enabled(DeviceType d = DeviceType::CPU);
  static ScalarType dtype(DeviceType d = DeviceType::CPU);
  static void set(bool enabled, ScalarType dtype, DeviceType d = DeviceType::CPU);
};

// Turns autocast off for every device type in its scope.
class AutocastOff {
 public:
  AutocastOff() {
    for (int d = 0; d < kNumDeviceTypes; ++d) {
      prev_[d] = AutocastMode::is_enabled(DeviceType(d));
      dtype_[d] = AutocastMode::dtype(DeviceType(d));
      AutocastMode::set(false, dtype_[d], DeviceType(d));
    }
  }
  ~AutocastOff() {
    for (int d = 0; d < kNumDeviceTypes; ++d) AutocastMode::set(prev_[d], dtype_[d], DeviceType(d));
  }
  AutocastOff(const AutocastOff&) = delete;
  AutocastOff& operator=(const AutocastOff&) = delete;

 private:
  bool prev_[kNumDeviceTypes];
  ScalarType dtype_[kNumDeviceTypes];
};

// Scoped grad mode (ember.no_grad / enable_grad in C++).
class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled) : prev_(GradMode::is_enabled()) { GradMode::set_enabled(enabled); }
  ~GradModeGuard() { GradMode::set_enabled(prev_); }
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool prev_;
};

}  // namespace autograd
}  // namespace ember
