#include "creation.h"

#include "../autograd/record.h"

#include <cmath>

#include "elementwise.h"

namespace ember {

DispatchStub<FillKernel> fill_stub("fill_");
DispatchStub<RangeKernel> range_stub("arange");

Tensor scalar_tensor(const Scalar& s, ScalarType dtype, Device device) {
  Tensor t = empty({}, dtype, device);
  fill_(t, s);
  return t;
}

Tensor wrap_scalar(const Scalar& s, Device device) {
  Tensor t = scalar_tensor(s, s.kind == Scalar::Float ? ScalarType::Float64 : s.natural_dtype(), device);
  t.impl()->wrapped_number = true;
  return t;
}

Scalar item(const Tensor& t) {
  EMBER_CHECK(t.numel() == 1, ValueError, "[item] only one-element tensors can be converted to Python scalars: "
              "expected 1 element, got ", t.numel(), " (shape ", t.sizes(), ")");
  if (!t.device().is_cpu()) {  // one small copy (it waits for the device's stream)
    Tensor c = empty(t.sizes(), t.dtype());
    copy_impl(c, t);
    return item(c);
  }
  Scalar r;
  dispatch<kAllMask>(t.dtype(), "item", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    T v = *t.data<T>();
    if constexpr (std::is_same_v<T, bool>) r = Scalar(bool(v));
    else if constexpr (std::is_integral_v<T>) r = Scalar(int64_t(v));
    else if constexpr (is_complex_v<T>) r = Scalar(std::complex<double>(v.real(), v.imag()));
    else r = Scalar(double(opmath_t<T>(v)));
  });
  return r;
}

void fill_(const Tensor& t, const Scalar& v) {
  autograd::Recorder rec("fill_", {t}, &t);
  if (t.numel() > 0) {
    ElementwiseIter it = make_iter("fill_", t, {});
    fill_stub(t.device(), it, v);
    t.bump_version();
  }
  if (!rec) return;
  rec.set_outputs({t});  // the old values no longer matter: no gradient flows back
  rec.node().fn = [](autograd::FnNode&, autograd::variable_list&) { return autograd::variable_list{Tensor()}; };
}

Tensor full(const Shape& sizes, const Scalar& v, std::optional<ScalarType> dtype, Device device) {
  Tensor t = empty(sizes, dtype ? *dtype : v.natural_dtype(), device);
  fill_(t, v);
  t.impl()->version->version.store(0);  // a new tensor starts at version 0, as in PyTorch
  return t;
}
Tensor zeros(const Shape& sizes, ScalarType dtype, Device device) { return full(sizes, Scalar(int64_t(0)), dtype, device); }
Tensor ones(const Shape& sizes, ScalarType dtype, Device device) { return full(sizes, Scalar(int64_t(1)), dtype, device); }

Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, std::optional<ScalarType> dtype,
              Device device) {
  double s = start.to_double(), e = end.to_double(), st = step.to_double();
  EMBER_CHECK(st != 0, ValueError, "[arange] step must be nonzero, got 0");
  EMBER_CHECK(std::isfinite(s) && std::isfinite(e), ValueError, "[arange] expected finite start and end, got ", s,
              " and ", e);
  EMBER_CHECK((st > 0 && e >= s) || (st < 0 && e <= s), ValueError,
              "[arange] upper bound and step sign are inconsistent: expected (end - start) to have the sign of step, got start=",
              start, ", end=", end, ", step=", step);
  bool all_int = start.is_integral() && end.is_integral() && step.is_integral();
  ScalarType dt = dtype ? *dtype : (all_int ? ScalarType::Int64 : default_dtype());
  double n_d = std::ceil((e - s) / st);
  EMBER_CHECK(n_d < 9.2e18, ValueError, "[arange] size overflow: ", n_d, " elements");
  int64_t n = all_int ? (end.to_int() - start.to_int() + step.to_int() + (step.to_int() > 0 ? -1 : 1)) / step.to_int()
                      : int64_t(n_d);
  Tensor t = empty({n}, dt, device);
  if (n == 0) return t;
  ElementwiseIter it = make_iter("arange", t, {});
  range_stub(device, it, s, st, e, n, 0);
  return t;
}

Tensor linspace(double start, double end, int64_t steps, std::optional<ScalarType> dtype, Device device) {
  EMBER_CHECK(steps >= 0, ValueError, "[linspace] number of steps must be non-negative, got ", steps);
  Tensor t = empty({steps}, dtype ? *dtype : default_dtype(), device);
  if (steps == 0) return t;
  if (steps == 1) {  // the kernel fills the upper half from `end`; one step is `start`
    fill_(t, Scalar(start));
    return t;
  }
  ElementwiseIter it = make_iter("linspace", t, {});
  double step = steps > 1 ? (end - start) / double(steps - 1) : 0.0;
  range_stub(device, it, start, step, end, steps, 1);
  return t;
}

Tensor logspace(double start, double end, int64_t steps, double base, std::optional<ScalarType> dtype, Device device) {
  Tensor exps = linspace(start, end, steps, ScalarType::Float64, device);
  Tensor r = binary(BinaryOp::pow, wrap_scalar(Scalar(base), device), exps);
  return to_dtype(r, dtype ? *dtype : default_dtype());
}

Tensor eye(int64_t n, int64_t m, ScalarType dtype, Device device) {
  EMBER_CHECK(n >= 0 && m >= 0, ValueError, "[eye] expected non-negative sizes, got n=", n, ", m=", m);
  Tensor t = zeros({n, m}, dtype, device);
  int64_t k = std::min(n, m);
  if (k == 0) return t;
  Tensor diag = make_view(t, {k}, {m + 1}, 0);
  fill_(diag, Scalar(int64_t(1)));
  t.impl()->version->version.store(0);
  return t;
}

}  // namespace ember
