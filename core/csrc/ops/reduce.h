// Reductions (sum, mean, max, var, norm, all, ...) and scans (cumsum, cummax, ...).
//
// One machinery serves every reduction. The front end (ops/reduce.cpp) checks arguments,
// picks the dtypes, allocates the (contiguous) outputs and describes the work as a
// ReducePlan: the input's kept dims and reduced dims, each coalesced, in one of two layouts
//   Row: the innermost reduced dim is contiguous: each output reduces contiguous runs
//        (vectorised across the run; `x.sum(-1)`, full reductions);
//   Col: the innermost kept dim is contiguous: each reduced "row" is added into a strip
//        of outputs (vectorised across outputs; `x.sum(0)` of a row-major matrix).
// Anything else is first copied so that the reduced dims come last (then it is a Row).
// The kernels (cpu/reduce_kernels.cpp over cpu/reduce_loop.h) only supply the op's
// accumulator: identity, reduce, combine, store.
#pragma once
#include <array>
#include <optional>
#include <utility>
#include <vector>

#include "../tensor/tensor.h"
#include "dispatch.h"
#include "iter.h"

namespace ember {

// X(name): one DispatchStub each. Parameters (ReducePlan::p) noted where used.
#define EMBER_REDUCE_OPS(X) \
  X(sum)                    \
  X(nansum)                 \
  X(mean)                   \
  X(nanmean)                \
  X(prod)                   \
  X(amax)                   \
  X(amin)                   \
  X(argmax)         /* nout 1: indices; nout 2: values, indices */ \
  X(argmin)                 \
  X(aminmax)        /* out0 min, out1 max */ \
  X(var)            /* p0 correction, p1 1: std; nout 2: out1 mean */ \
  X(norm)           /* p0 the order p (inf, -inf, 0 and others) */ \
  X(all)                    \
  X(any)                    \
  X(count_nonzero)

#define EMBER_ENUM_ENTRY(name) name,
enum class ReduceOp : int { EMBER_REDUCE_OPS(EMBER_ENUM_ENTRY) Count };
#undef EMBER_ENUM_ENTRY

enum class ReduceLayout : int8_t { Row, Col };

struct ReducePlan {
  const char* in = nullptr;
  ScalarType in_dtype = ScalarType::Float32;
  int nout = 1;
  char* out[2] = {nullptr, nullptr};  // contiguous outputs of the same shape
  ScalarType out_dtype[2] = {ScalarType::Float32, ScalarType::Float32};
  int64_t n_out = 1;  // number of outputs (elements of each output tensor)
  int64_t n_red = 1;  // elements reduced into each output (may be 0)
  ReduceLayout layout = ReduceLayout::Row;
  // Kept dims, outermost first: sizes, input byte strides, output element strides.
  // Col: the last kept dim is the contiguous one.
  int kdim = 0;
  int64_t ksize[kMaxDims], kin[kMaxDims], kout[kMaxDims];
  // Reduced dims, outermost first, input byte strides; rdim >= 1. Row: the last one is
  // contiguous. Arg ops (argmax, ...) keep the logical order so that indices are logical.
  int rdim = 1;
  int64_t rsize[kMaxDims], rin[kMaxDims];
  std::array<double, 4> p{};
};

using ReduceKernel = void (*)(const ReducePlan&);
extern DispatchStub<ReduceKernel> reduce_stubs[int(ReduceOp::Count)];

// Scans along one dim: the input viewed as (outer, n, inner) with arbitrary strides
// (bytes), the output contiguous (outer, n, inner). out1 receives indices (cummax/cummin).
#define EMBER_SCAN_OPS(X) X(cumsum) X(cumprod) X(cummax) X(cummin) X(logcumsumexp)
#define EMBER_ENUM_ENTRY(name) name,
enum class ScanOp : int { EMBER_SCAN_OPS(EMBER_ENUM_ENTRY) Count };
#undef EMBER_ENUM_ENTRY

struct ScanPlan {
  const char* in = nullptr;
  ScalarType in_dtype = ScalarType::Float32;
  char* out[2] = {nullptr, nullptr};
  ScalarType out_dtype = ScalarType::Float32;
  int64_t outer = 1, n = 1, inner = 1;
  int64_t s_outer = 0, s_n = 0, s_inner = 0;  // input byte strides
};
using ScanKernel = void (*)(const ScanPlan&);
extern DispatchStub<ScanKernel> scan_stubs[int(ScanOp::Count)];

// Median along the last dim of a contiguous (outer, n) input: values (input dtype) and
// int64 indices (indices may be null).
using MedianKernel = void (*)(const char* in, ScalarType dtype, int64_t outer, int64_t n, char* values,
                              char* indices, bool ignore_nan);
extern DispatchStub<MedianKernel> median_stub;

// ---- front ends ----------------------------------------------------------------------
// `dims`: nullopt or empty = every dim (PyTorch: dim=None and dim=() both reduce all).
using OptDims = std::optional<std::vector<int64_t>>;
using OptType = std::optional<ScalarType>;
using TensorPair = std::pair<Tensor, Tensor>;

Tensor sum(const Tensor& x, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out = nullptr);
Tensor nansum(const Tensor& x, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out = nullptr);
Tensor mean(const Tensor& x, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out = nullptr);
Tensor nanmean(const Tensor& x, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out = nullptr);
Tensor prod(const Tensor& x, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out = nullptr);
Tensor amax(const Tensor& x, const OptDims& dims, bool keepdim, const Tensor* out = nullptr);
Tensor amin(const Tensor& x, const OptDims& dims, bool keepdim, const Tensor* out = nullptr);
Tensor max_all(const Tensor& x);
Tensor min_all(const Tensor& x);
TensorPair max_dim(const Tensor& x, int64_t dim, bool keepdim);
TensorPair min_dim(const Tensor& x, int64_t dim, bool keepdim);
Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim);
TensorPair aminmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim);
// correction: divisor is max(0, N - correction).
Tensor var(const Tensor& x, const OptDims& dims, double correction, bool keepdim, const Tensor* out = nullptr);
Tensor std_(const Tensor& x, const OptDims& dims, double correction, bool keepdim, const Tensor* out = nullptr);
TensorPair var_mean(const Tensor& x, const OptDims& dims, double correction, bool keepdim);
TensorPair std_mean(const Tensor& x, const OptDims& dims, double correction, bool keepdim);
// Vector p-norm over dims (p = inf, -inf, 0 or any float; 'fro' is p = 2).
Tensor norm(const Tensor& x, double p, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out = nullptr);
Tensor logsumexp(const Tensor& x, const OptDims& dims, bool keepdim, const Tensor* out = nullptr);
Tensor all(const Tensor& x, const OptDims& dims, bool keepdim, const Tensor* out = nullptr);
Tensor any(const Tensor& x, const OptDims& dims, bool keepdim, const Tensor* out = nullptr);
Tensor count_nonzero(const Tensor& x, const OptDims& dims);

Tensor cumsum(const Tensor& x, int64_t dim, OptType dtype, const Tensor* out = nullptr);
Tensor cumprod(const Tensor& x, int64_t dim, OptType dtype, const Tensor* out = nullptr);
Tensor logcumsumexp(const Tensor& x, int64_t dim, const Tensor* out = nullptr);
TensorPair cummax(const Tensor& x, int64_t dim);
TensorPair cummin(const Tensor& x, int64_t dim);

Tensor median_all(const Tensor& x, bool ignore_nan = false);
TensorPair median_dim(const Tensor& x, int64_t dim, bool keepdim, bool ignore_nan = false);

}  // namespace ember
