// Grad modes: thread-local switches read by every op front end.
#pragma once
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

// ember.autocast on the CPU: while enabled, the lower-precision ops (the matmul family and
// convolutions) cast float operands to `dtype` first. Off during backward.
struct AutocastMode {
  static bool is_enabled();
  static ScalarType dtype();
  static void set(bool enabled, ScalarType dtype);
};

class AutocastOff {
 public:
  AutocastOff() : prev_(AutocastMode::is_enabled()), dtype_(AutocastMode::dtype()) { AutocastMode::set(false, dtype_); }
  ~AutocastOff() { AutocastMode::set(prev_, dtype_); }
  AutocastOff(const AutocastOff&) = delete;
  AutocastOff& operator=(const AutocastOff&) = delete;

 private:
  bool prev_;
  ScalarType dtype_;
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
