// Creation ops: full/zeros/ones, ranges, eye, and element access.
#pragma once
#include "../tensor/tensor.h"
#include "dispatch.h"
#include "iter.h"

namespace ember {

using FillKernel = void (*)(ElementwiseIter&, const Scalar&);
using RangeKernel = void (*)(ElementwiseIter&, double start, double step, double end, int64_t n, int mode);
extern DispatchStub<FillKernel> fill_stub;
extern DispatchStub<RangeKernel> range_stub;  // mode 0: start + i*step, 1: linspace, 2: logspace (base=end)

void fill_(const Tensor& t, const Scalar& v);
Tensor full(const Shape& sizes, const Scalar& v, std::optional<ScalarType> dtype, Device device = Device());
Tensor zeros(const Shape& sizes, ScalarType dtype, Device device = Device());
Tensor ones(const Shape& sizes, ScalarType dtype, Device device = Device());
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, std::optional<ScalarType> dtype,
              Device device = Device());
Tensor linspace(double start, double end, int64_t steps, std::optional<ScalarType> dtype, Device device = Device());
Tensor logspace(double start, double end, int64_t steps, double base, std::optional<ScalarType> dtype,
                Device device = Device());
Tensor eye(int64_t n, int64_t m, ScalarType dtype, Device device = Device());

}  // namespace ember
