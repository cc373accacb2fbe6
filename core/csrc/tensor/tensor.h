// TensorImpl (sizes, strides in elements, storage offset, dtype, device, version counter)
// and Tensor, a cheap ref-counted handle to one.
#pragma once
#include <functional>
#include <initializer_list>
#include <atomic>
#include <complex>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "device.h"
#include "dtype.h"
#include "storage.h"

namespace ember {

class Tensor;
// A braced list of tensors passed by reference ({a, b}): no reference-count traffic (a list
// of Tensor values copies each one, two atomic operations apiece, on every op).
using TensorRefList = std::initializer_list<std::reference_wrapper<const Tensor>>;

using Shape = std::vector<int64_t>;

namespace autograd { struct AutogradMeta; }
bool inference_mode_enabled();  // autograd/grad_mode.cpp

// Shared by a tensor and all its views; bumped by every in-place write.
struct VersionCounter {
  std::atomic<uint64_t> version{0};
};

struct TensorImpl {
  Storage storage;
  int64_t offset = 0;  // in elements
  Shape sizes, strides;
  ScalarType dtype = ScalarType::Float32;
  std::shared_ptr<VersionCounter> version;
  bool wrapped_number = false;  // a Python scalar turned into a 0-d tensor (type promotion)
  bool is_contiguous = true;    // cached, refreshed when sizes/strides change
  bool is_inference = inference_mode_enabled();  // made under ember.inference_mode
  int64_t numel = 1;
  // Autograd state (requires_grad, grad, grad_fn, hooks); null for tensors autograd ignores.
  std::shared_ptr<autograd::AutogradMeta> autograd;
  // For a view: the tensor that owns the memory (never itself a view). In-place writes
  // through a view rewrite the base's autograd history.
  std::shared_ptr<TensorImpl> view_base;

  void refresh();  // recompute numel and is_contiguous
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return bool(impl_); }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

  const Shape& sizes() const { return impl_->sizes; }
  const Shape& strides() const { return impl_->strides; }
  int64_t dim() const { return int64_t(impl_->sizes.size()); }
  int64_t size(int64_t d) const;
  int64_t stride(int64_t d) const;
  int64_t numel() const { return impl_->numel; }
  ScalarType dtype() const { return impl_->dtype; }
  Device device() const { return impl_->storage->device; }
  int64_t offset() const { return impl_->offset; }
  int64_t itemsize() const { return ember::itemsize(impl_->dtype); }
  bool is_contiguous() const { return impl_->is_contiguous; }
  bool is_wrapped_number() const { return impl_->wrapped_number; }
  const Storage& storage() const { return impl_->storage; }
  uint64_t version() const { return impl_->version->version.load(std::memory_order_relaxed); }
  void bump_version() const { impl_->version->version.fetch_add(1, std::memory_order_relaxed); }

  char* raw_data() const {
    return static_cast<char*>(impl_->storage->data) + impl_->offset * itemsize();
  }
  template <typename T>
  T* data() const { return reinterpret_cast<T*>(raw_data()); }

  bool is_same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// ---- Scalar: a Python number on its way into an op ----------------------------------
struct Scalar {
  enum Kind { Bool, Int, Float, Complex } kind = Int;
  int64_t i = 0;
  double d = 0;
  std::complex<double> z;
  Scalar() = default;
  Scalar(bool b) : kind(Bool), i(b), d(b) {}
  Scalar(int64_t v) : kind(Int), i(v), d(double(v)) {}
  Scalar(int v) : Scalar(int64_t(v)) {}
  Scalar(double v) : kind(Float), i(int64_t(v)), d(v) {}
  Scalar(std::complex<double> v) : kind(Complex), i(int64_t(v.real())), d(v.real()), z(v) {}
  double to_double() const { return d; }
  int64_t to_int() const { return i; }
  bool is_floating() const { return kind == Float; }
  bool is_integral() const { return kind == Int || kind == Bool; }
  template <typename T>
  T to() const {
    if constexpr (is_complex_v<T>) return T(float(kind == Complex ? z.real() : d), float(kind == Complex ? z.imag() : 0.0));
    else if constexpr (std::is_same_v<T, bool>) return kind == Complex ? z != 0.0 : (kind == Float ? d != 0.0 : i != 0);
    else if constexpr (std::is_integral_v<T>) return kind == Float || kind == Complex ? static_cast<T>(d) : static_cast<T>(i);
    else return T(opmath_t<T>(kind == Int || kind == Bool ? double(i) : d));
  }
  ScalarType natural_dtype() const;  // dtype of a wrapped number: bool, int64, float32 (default), complex64
};
std::ostream& operator<<(std::ostream& os, const Scalar& s);

// ---- shape helpers ------------------------------------------------------------------
int64_t wrap_dim(int64_t d, int64_t ndim, const char* op);
int64_t checked_numel(const Shape& sizes, const char* op);
Shape contiguous_strides(const Shape& sizes);
bool compute_contiguous(const Shape& sizes, const Shape& strides);

// ---- construction -------------------------------------------------------------------
Tensor empty(const Shape& sizes, ScalarType dtype, Device device = Device());
Tensor empty_strided(const Shape& sizes, const Shape& strides, ScalarType dtype, Device device = Device());
// A contiguous CPU tensor whose storage comes from `allocator` (pinned host memory).
Tensor empty_with(const Shape& sizes, ScalarType dtype, Allocator* allocator);
Tensor empty_like(const Tensor& t);                      // contiguous, same dtype/device
Tensor empty_like(const Tensor& t, ScalarType dtype);
Tensor scalar_tensor(const Scalar& s, ScalarType dtype, Device device = Device());
Tensor wrap_scalar(const Scalar& s, Device device = Device());  // 0-d, wrapped_number
// A view sharing storage and version counter with base.
Tensor make_view(const Tensor& base, Shape sizes, Shape strides, int64_t offset);
Tensor from_blob(void* data, const Shape& sizes, const Shape& strides, ScalarType dtype, Device device,
                 std::function<void(void*)> deleter);

Scalar item(const Tensor& t);

}  // namespace ember
