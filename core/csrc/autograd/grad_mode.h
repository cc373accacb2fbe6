// Grad modes: thread-local switches read by every op front end.
#pragma once

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
