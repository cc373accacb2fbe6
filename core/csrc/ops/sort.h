// Sorting and searching: sort/argsort/msort, topk, kthvalue, unique(_consecutive),
// searchsorted/bucketize. Every sort is stable; NaN sorts as the largest value and -0.0
// equals 0.0, like PyTorch. 16-bit floats compare as floats. Complex tensors have no order.
#pragma once
#include <optional>
#include <tuple>

#include "../tensor/tensor.h"
#include "dispatch.h"

namespace ember {

// values (may be undefined: argsort) and indices (int64) are contiguous, of in's shape.
using SortKernel = void (*)(const Tensor& values, const Tensor& indices, const Tensor& in, int64_t dim,
                            bool descending);
// values/indices: in's shape with size k along dim (size 1 when kth_only: the k-th
// smallest element alone). Ties go to the lower index.
using TopkKernel = void (*)(const Tensor& values, const Tensor& indices, const Tensor& in, int64_t k, int64_t dim,
                            bool largest, bool kth_only);
// flat: contiguous 1-d. Allocates values, and inverse/counts when asked (int64).
using UniqueKernel = void (*)(const Tensor& flat, bool sorted, bool want_inverse, bool want_counts, Tensor& values,
                              Tensor& inverse, Tensor& counts);
// rows: contiguous 2-d (n, m). Allocates reps (the row index of each unique row), inverse, counts.
using UniqueDimKernel = void (*)(const Tensor& rows, bool sorted, Tensor& reps, Tensor& inverse, Tensor& counts);
// out (int64 or int32) has values' shape; seq is (..., L) contiguous in values' dtype, its
// leading dims equal values' (or seq is 1-d); sorter (optional, int64) like seq.
// Returns -1, or the position of the first out-of-range sorter entry.
using SearchsortedKernel = int64_t (*)(const Tensor& out, const Tensor& seq, const Tensor& values,
                                       const Tensor& sorter, bool right);

extern DispatchStub<SortKernel> sort_stub;
extern DispatchStub<TopkKernel> topk_stub;
extern DispatchStub<UniqueKernel> unique_stub;
extern DispatchStub<UniqueDimKernel> unique_dim_stub;
extern DispatchStub<SearchsortedKernel> searchsorted_stub;

std::tuple<Tensor, Tensor> sort(const Tensor& x, int64_t dim = -1, bool descending = false);
Tensor argsort(const Tensor& x, int64_t dim = -1, bool descending = false);
Tensor msort(const Tensor& x);
std::tuple<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim = -1, bool largest = true,
                                bool sorted = true);
std::tuple<Tensor, Tensor> kthvalue(const Tensor& x, int64_t k, int64_t dim = -1, bool keepdim = false);

// (values, inverse, counts); inverse/counts undefined unless asked.
std::tuple<Tensor, Tensor, Tensor> unique(const Tensor& x, bool sorted, bool return_inverse, bool return_counts,
                                          std::optional<int64_t> dim);
std::tuple<Tensor, Tensor, Tensor> unique_consecutive(const Tensor& x, bool return_inverse, bool return_counts,
                                                      std::optional<int64_t> dim);

Tensor searchsorted(const Tensor& seq, const Tensor& values, bool out_int32, bool right,
                    const std::optional<Tensor>& sorter, const Tensor* out = nullptr);
Tensor bucketize(const Tensor& values, const Tensor& boundaries, bool out_int32, bool right,
                 const Tensor* out = nullptr);

}  // namespace ember
