// Elementwise ops: unary, binary and ternary, with broadcasting and PyTorch's type promotion.
// The op lists below are shared by the front ends (ops/unary.cpp, ops/binary.cpp) and the
// kernels (cpu/unary_kernels.cpp, cpu/binary_kernels.cpp): adding an op is one entry here,
// one kernel line per backend, and one row in the test table.
#pragma once
#include <array>
#include <optional>

#include "../tensor/tensor.h"
#include "dispatch.h"
#include "iter.h"

namespace ember {

// How an op chooses its result dtype from its (promoted) input dtype.
enum class DtypeRule : int8_t {
  Same,       // result has the input dtype
  Float,      // integers and bool go to the default float dtype
  Bool,       // result is bool
  Real,       // complex goes to its real dtype (abs, angle)
};

// X(name, rule, supported dtypes)
#define EMBER_UNARY_OPS(X)                                  \
  X(exp, Float, kFloatMask | kComplexMask)                  \
  X(exp2, Float, kFloatMask)                                \
  X(expm1, Float, kFloatMask)                               \
  X(log, Float, kFloatMask | kComplexMask)                  \
  X(log2, Float, kFloatMask)                                \
  X(log10, Float, kFloatMask)                               \
  X(log1p, Float, kFloatMask)                               \
  X(sqrt, Float, kFloatMask | kComplexMask)                 \
  X(rsqrt, Float, kFloatMask)                               \
  X(sin, Float, kFloatMask | kComplexMask)                  \
  X(cos, Float, kFloatMask | kComplexMask)                  \
  X(tan, Float, kFloatMask | kComplexMask)                  \
  X(asin, Float, kFloatMask)                                \
  X(acos, Float, kFloatMask)                                \
  X(atan, Float, kFloatMask)                                \
  X(sinh, Float, kFloatMask | kComplexMask)                 \
  X(cosh, Float, kFloatMask | kComplexMask)                 \
  X(tanh, Float, kFloatMask | kComplexMask)                 \
  X(asinh, Float, kFloatMask)                               \
  X(acosh, Float, kFloatMask)                               \
  X(atanh, Float, kFloatMask)                               \
  X(erf, Float, kFloatMask)                                 \
  X(erfc, Float, kFloatMask)                                \
  X(erfinv, Float, kFloatMask)                              \
  X(lgamma, Float, kFloatMask)                              \
  X(digamma, Float, kFloatMask)                             \
  X(trigamma, Float, kFloatMask)      /* internal: digamma's derivative */ \
  X(sigmoid, Float, kFloatMask | kComplexMask)              \
  X(logit, Float, kFloatMask)         /* p0: eps (<0: none) */ \
  X(silu, Float, kFloatMask)                                \
  X(mish, Float, kFloatMask)                                \
  X(gelu, Float, kFloatMask)          /* p0: 1 = tanh approximation */ \
  X(softplus, Float, kFloatMask)      /* p0: beta, p1: threshold */ \
  X(reciprocal, Float, kFloatMask | kComplexMask)           \
  X(frac, Same, kFloatMask)                                 \
  X(neg, Same, kRealMask | kComplexMask)                    \
  X(abs, Real, kRealMask | kComplexMask)                    \
  X(angle, Real, kFloatMask | kComplexMask)                 \
  X(conj, Same, kAllMask)                                   \
  X(floor, Same, kRealMask)                                 \
  X(ceil, Same, kRealMask)                                  \
  X(trunc, Same, kRealMask)                                 \
  X(round, Same, kRealMask)           /* p0: decimals */    \
  X(sign, Same, kAllRealMask)                               \
  X(relu, Same, kRealMask)                                  \
  X(square, Same, kRealMask | kComplexMask)                 \
  X(clamp, Same, kRealMask)           /* p0 min, p1 max, p2 has_min, p3 has_max */ \
  X(pow_scalar, Same, kRealMask | kComplexMask)  /* p0: exponent */ \
  X(nan_to_num, Same, kAllRealMask)   /* p0 nan, p1 posinf, p2 neginf (nan: dtype limit) */ \
  X(bitwise_not, Same, kIntMask | kBoolMask)                \
  X(isnan, Bool, kAllMask)                                  \
  X(isinf, Bool, kAllMask)                                  \
  X(isfinite, Bool, kAllMask)                               \
  X(signbit, Bool, kAllRealMask)                            \
  X(logical_not, Bool, kAllMask)

// X(name, rule, supported dtypes); Float-rule ops compute in float (true division).
#define EMBER_BINARY_OPS(X)                                 \
  X(add, Same, kAllMask)              /* p0: alpha */       \
  X(sub, Same, kRealMask | kComplexMask) /* p0: alpha */    \
  X(mul, Same, kAllMask)                                    \
  X(div, Float, kFloatMask | kComplexMask)                  \
  X(div_floor, Same, kRealMask)                             \
  X(div_trunc, Same, kRealMask)                             \
  X(remainder, Same, kRealMask)                             \
  X(fmod, Same, kRealMask)                                  \
  X(pow, Same, kRealMask | kComplexMask)                    \
  X(atan2, Float, kFloatMask)                               \
  X(hypot, Float, kFloatMask)                               \
  X(copysign, Float, kFloatMask)                            \
  X(logaddexp, Float, kFloatMask)                           \
  X(maximum, Same, kAllRealMask)                            \
  X(minimum, Same, kAllRealMask)                            \
  X(fmax, Same, kAllRealMask)                               \
  X(fmin, Same, kAllRealMask)                               \
  X(bitwise_and, Same, kIntMask | kBoolMask)                \
  X(bitwise_or, Same, kIntMask | kBoolMask)                 \
  X(bitwise_xor, Same, kIntMask | kBoolMask)                \
  X(left_shift, Same, kIntMask)                             \
  X(right_shift, Same, kIntMask)                            \
  X(logical_and, Bool, kAllMask)                            \
  X(logical_or, Bool, kAllMask)                             \
  X(logical_xor, Bool, kAllMask)                            \
  X(eq, Bool, kAllMask)                                     \
  X(ne, Bool, kAllMask)                                     \
  X(lt, Bool, kAllRealMask)                                 \
  X(le, Bool, kAllRealMask)                                 \
  X(gt, Bool, kAllRealMask)                                 \
  X(ge, Bool, kAllRealMask)                                 \
  X(threshold_backward, Same, kRealMask)  /* internal: relu's derivative, a where b > 0 */ \
  X(sigmoid_backward, Same, kFloatMask)   /* internal: a * b * (1 - b), b = sigmoid(x) */ \
  X(tanh_backward, Same, kFloatMask)      /* internal: a * (1 - b * b), b = tanh(x) */

#define EMBER_ENUM_ENTRY(name, rule, mask) name,
enum class UnaryOp : int { EMBER_UNARY_OPS(EMBER_ENUM_ENTRY) Count };
enum class BinaryOp : int { EMBER_BINARY_OPS(EMBER_ENUM_ENTRY) Count };
#undef EMBER_ENUM_ENTRY

using Params = std::array<double, 4>;

struct OpSpec {
  const char* name;
  DtypeRule rule;
  uint32_t mask;
};
#define EMBER_SPEC_ENTRY(name, rule, mask) OpSpec{#name, DtypeRule::rule, mask},
constexpr OpSpec unary_specs[] = {EMBER_UNARY_OPS(EMBER_SPEC_ENTRY)};
constexpr OpSpec binary_specs[] = {EMBER_BINARY_OPS(EMBER_SPEC_ENTRY)};
#undef EMBER_SPEC_ENTRY

// Kernels get the plan (out first) and the op's parameters. Integer division and
// negative integer powers report a bad divisor/exponent through `error` instead of trapping.
enum class KernelError : int { None = 0, ZeroDivision = 1, NegativePower = 2 };
using UnaryKernel = void (*)(ElementwiseIter&, const Params&);
using BinaryKernel = void (*)(ElementwiseIter&, const Params&, int* error);
using CopyKernel = void (*)(ElementwiseIter&);
using WhereKernel = void (*)(ElementwiseIter&);
using LerpKernel = void (*)(ElementwiseIter&);

extern DispatchStub<UnaryKernel> unary_stubs[int(UnaryOp::Count)];
extern DispatchStub<BinaryKernel> binary_stubs[int(BinaryOp::Count)];
extern DispatchStub<CopyKernel> copy_stub;
extern DispatchStub<WhereKernel> where_stub;
extern DispatchStub<LerpKernel> lerp_stub;

const char* unary_name(UnaryOp op);
const char* binary_name(BinaryOp op);

// Front ends. `out`, when given, receives the result (cast to its dtype if allowed);
// in-place ops pass the input itself as out.
Tensor unary(UnaryOp op, const Tensor& x, const Params& p = {}, const Tensor* out = nullptr);
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b, const Params& p = {}, const Tensor* out = nullptr);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor* out = nullptr);
Tensor lerp(const Tensor& a, const Tensor& b, const Tensor& w, const Tensor* out = nullptr);
Tensor clamp(const Tensor& x, const std::optional<Tensor>& lo, const std::optional<Tensor>& hi,
             const Tensor* out = nullptr);

// Type promotion over operands (tensors, 0-d tensors, wrapped Python numbers), as PyTorch.
ScalarType result_type(TensorRefList ts);
bool can_cast(ScalarType from, ScalarType to);

// Copies src into dst (broadcasting src, converting dtype); dst keeps its layout.
// The memory of a and b may intersect (byte ranges of one storage; conservative: the
// ranges, not the elements, are compared). Views of different dtypes compare correctly.
bool may_overlap(const Tensor& a, const Tensor& b);

// Across devices (cpu <-> cuda, cuda:i <-> cuda:j) through cuda::copy_across; non_blocking only
// matters there (see ops/cuda_hooks.h).
void copy_(const Tensor& dst, const Tensor& src, bool non_blocking = false);
Tensor to_dtype(const Tensor& x, ScalarType dtype, bool copy = false);
// x on `device` in `dtype` (x itself when nothing changes and not copy); differentiable, the
// gradient goes back to x's device.
Tensor to_device(const Tensor& x, Device device, ScalarType dtype, bool non_blocking = false, bool copy = false);
Tensor contiguous(const Tensor& x);
Tensor clone(const Tensor& x);  // same dtype, contiguous, new storage

// The kernels behind the front ends above, without autograd recording (elementwise_grad.cpp
// records and calls these).
Tensor unary_impl(UnaryOp op, const Tensor& x, const Params& p, const Tensor* out);
Tensor binary_impl(BinaryOp op, const Tensor& a, const Tensor& b, const Params& p, const Tensor* out);
Tensor where_impl(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor* out);
Tensor lerp_impl(const Tensor& a, const Tensor& b, const Tensor& w, const Tensor* out);
void copy_impl(const Tensor& dst, const Tensor& src, bool non_blocking = false);
Tensor to_dtype_impl(const Tensor& x, ScalarType dtype, bool copy);

}  // namespace ember
