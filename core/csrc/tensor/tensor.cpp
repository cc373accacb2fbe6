#include "tensor.h"

#include <limits>
#include <ostream>

namespace ember {

namespace {
ScalarType g_default_dtype = ScalarType::Float32;
}
ScalarType default_dtype() { return g_default_dtype; }
void set_default_dtype(ScalarType t) {
  EMBER_CHECK(is_floating(t), TypeError, "[set_default_dtype] expected a floating point dtype, got ", t);
  g_default_dtype = t;
}

// promote_types: bool < integers < floats < complex; u8+i8 -> i16; f16+bf16 -> f32.
ScalarType promote_types(ScalarType a, ScalarType b) {
  using S = ScalarType;
  if (a == b) return a;
  if (a == S::Bool) return b;
  if (b == S::Bool) return a;
  if (is_complex(a) || is_complex(b)) {
    ScalarType other = is_complex(a) ? b : a;
    EMBER_CHECK(other != S::Float64, TypeError,
                "[promote_types] complex128 is not supported: float64 and complex64 would promote to it");
    return S::Complex64;
  }
  bool fa = is_floating(a), fb = is_floating(b);
  if (fa && fb) {
    if ((a == S::Float16 && b == S::BFloat16) || (a == S::BFloat16 && b == S::Float16)) return S::Float32;
    return itemsize(a) >= itemsize(b) ? a : b;
  }
  if (fa) return a;
  if (fb) return b;
  // both integers
  if (a == S::UInt8 || b == S::UInt8) {
    ScalarType o = a == S::UInt8 ? b : a;
    return o == S::Int8 ? S::Int16 : o;
  }
  return itemsize(a) >= itemsize(b) ? a : b;
}

ScalarType Scalar::natural_dtype() const {
  switch (kind) {
    case Bool: return ScalarType::Bool;
    case Int: return ScalarType::Int64;
    case Float: return default_dtype();
    default: return ScalarType::Complex64;
  }
}
std::ostream& operator<<(std::ostream& os, const Scalar& s) {
  switch (s.kind) {
    case Scalar::Bool: return os << (s.i ? "True" : "False");
    case Scalar::Int: return os << s.i;
    case Scalar::Float: return os << s.d;
    default: return os << "(" << s.z.real() << (s.z.imag() >= 0 ? "+" : "") << s.z.imag() << "j)";
  }
}

int64_t Tensor::size(int64_t d) const { return impl_->sizes[wrap_dim(d, dim(), "size")]; }
int64_t Tensor::stride(int64_t d) const { return impl_->strides[wrap_dim(d, dim(), "stride")]; }

int64_t wrap_dim(int64_t d, int64_t ndim, const char* op) {
  int64_t n = ndim == 0 ? 1 : ndim;  // a 0-d tensor accepts dim 0 and -1, like PyTorch
  if (d < -n || d >= n)
    throw IndexError(str("[", op, "] dimension out of range: expected to be in range of [", -n, ", ",
                         n - 1, "], got ", d));
  return d < 0 ? d + n : d;
}

int64_t checked_numel(const Shape& sizes, const char* op) {
  int64_t n = 1;
  bool overflow = false;
  for (int64_t s : sizes) {
    EMBER_CHECK(s >= 0, ValueError, "[", op, "] negative dimension: expected sizes >= 0, got ", sizes);
    if (!overflow && s != 0 && n > std::numeric_limits<int64_t>::max() / s) overflow = true;
    else n *= s;
  }
  for (int64_t s : sizes)
    if (s == 0) return 0;
  EMBER_CHECK(!overflow, ValueError, "[", op, "] size overflow: the number of elements of ", sizes,
              " does not fit in int64");
  return n;
}

Shape contiguous_strides(const Shape& sizes) {
  Shape st(sizes.size());
  int64_t s = 1;
  for (int64_t i = int64_t(sizes.size()) - 1; i >= 0; --i) {
    st[i] = s;
    s *= std::max<int64_t>(sizes[i], 1);
  }
  return st;
}

bool compute_contiguous(const Shape& sizes, const Shape& strides) {
  for (int64_t s : sizes)
    if (s == 0) return true;  // an empty tensor is contiguous whatever its strides
  int64_t expected = 1;
  for (int64_t i = int64_t(sizes.size()) - 1; i >= 0; --i) {
    if (sizes[i] != 1 && strides[i] != expected) return false;
    expected *= sizes[i];
  }
  return true;
}

void TensorImpl::refresh() {
  numel = 1;
  for (int64_t s : sizes) numel *= s;
  is_contiguous = compute_contiguous(sizes, strides);
}

namespace {
// n: the checked number of elements of sizes; strides are moved into the new tensor.
Tensor new_tensor(const Shape& sizes, Shape&& strides, int64_t n, ScalarType dtype, Device device) {
  int64_t span = 0;  // elements the storage must hold
  if (n > 0) {
    span = 1;
    for (size_t i = 0; i < sizes.size(); ++i) span += (sizes[i] - 1) * strides[i];
  }
  EMBER_CHECK(span <= std::numeric_limits<int64_t>::max() / 8, ValueError,
              "[empty] size overflow: ", sizes, " is too large");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = new_storage(size_t(span) * size_t(itemsize(dtype)), device);
  impl->sizes = sizes;
  impl->strides = std::move(strides);
  impl->dtype = dtype;
  impl->version = std::make_shared<VersionCounter>();
  impl->refresh();
  return Tensor(std::move(impl));
}
}  // namespace

Tensor empty_strided(const Shape& sizes, const Shape& strides, ScalarType dtype, Device device) {
  return new_tensor(sizes, Shape(strides), checked_numel(sizes, "empty"), dtype, device);
}

Tensor empty(const Shape& sizes, ScalarType dtype, Device device) {
  const int64_t n = checked_numel(sizes, "empty");
  return new_tensor(sizes, contiguous_strides(sizes), n, dtype, device);
}
Tensor empty_with(const Shape& sizes, ScalarType dtype, Allocator* allocator) {
  const int64_t n = checked_numel(sizes, "empty");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<StorageImpl>(size_t(n) * size_t(itemsize(dtype)), Device(), allocator);
  impl->sizes = sizes;
  impl->strides = contiguous_strides(sizes);
  impl->dtype = dtype;
  impl->version = std::make_shared<VersionCounter>();
  impl->refresh();
  return Tensor(impl);
}
Tensor empty_like(const Tensor& t) { return empty(t.sizes(), t.dtype(), t.device()); }
Tensor empty_like(const Tensor& t, ScalarType dtype) { return empty(t.sizes(), dtype, t.device()); }

Tensor make_view(const Tensor& base, Shape sizes, Shape strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->offset = offset;
  impl->sizes = std::move(sizes);
  impl->strides = std::move(strides);
  impl->dtype = base.dtype();
  impl->version = base.impl()->version;
  impl->is_inference = base.impl()->is_inference;
  impl->view_base = base.impl()->view_base ? base.impl()->view_base : base.impl_ptr();
  impl->refresh();
  return Tensor(std::move(impl));
}

Tensor from_blob(void* data, const Shape& sizes, const Shape& strides, ScalarType dtype, Device device,
                 std::function<void(void*)> deleter) {
  auto impl = std::make_shared<TensorImpl>();
  int64_t n = checked_numel(sizes, "from_blob");
  int64_t span = 0;
  if (n > 0) {
    span = 1;
    for (size_t i = 0; i < sizes.size(); ++i) span += (sizes[i] - 1) * strides[i];
  }
  impl->storage = std::make_shared<StorageImpl>(data, size_t(span) * itemsize(dtype), device, std::move(deleter));
  impl->sizes = sizes;
  impl->strides = strides;
  impl->dtype = dtype;
  impl->version = std::make_shared<VersionCounter>();
  impl->refresh();
  return Tensor(std::move(impl));
}

}  // namespace ember
