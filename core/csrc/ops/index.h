// Indexing: Python subscripts (basic and advanced) and the index ops
// (index_select, gather, scatter, index_add, masked ops, nonzero, take ...).
//
// Two kernel plans cover the family:
//  * IndexPlan, for ops that index whole sub-tensors along some dims (advanced indexing,
//    index_select/add/copy/fill, take, put_, masked ops): the indexed tensor x is seen as
//    (P, J, Q) where P runs over the kept dims before the indexed ones, J over the
//    (broadcast) index positions and Q over the kept dims after them. Each index position
//    j names one element offset into the indexed dims of x.
//  * ScatterGatherPlan, for gather/scatter*: an index tensor of x's rank picks, along one
//    dim, an element per index element.
// Writes with duplicate indices are deterministic: the kernels never split the positions
// that may hit one element among threads, so the last write wins and sums run in index
// order, whatever the thread count.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "../tensor/tensor.h"
#include "dispatch.h"
#include "iter.h"

namespace ember {

struct TensorIndex {
  enum Kind { Int, Slice, None, Ellipsis, Bool, Tensor } kind = None;
  int64_t i = 0;
  std::optional<int64_t> start, stop;
  int64_t step = 1;
  bool b = false;
  ember::Tensor t;
};

// x[idx] and x[idx] = value, with NumPy/PyTorch semantics.
Tensor subscript(const Tensor& x, const std::vector<TensorIndex>& idx);
void subscript_assign(const Tensor& x, const std::vector<TensorIndex>& idx, const Tensor& value);

// Advanced indexing (PyTorch's aten::index): one entry per leading dim of x, nullopt for a
// full slice; an integer tensor indexes one dim, a bool tensor of k dims covers k dims (it
// is replaced by its k nonzero-coordinate vectors; a 0-d bool covers one dim of size 1);
// missing trailing entries are full slices. Indexed dims broadcast together; the result puts
// them where the first one was if they are adjacent, else first (NumPy's rule). Every index
// is bounds-checked. index_put_ casts `value` to x's dtype and broadcasts it to the shape
// of x[indices]; with accumulate, duplicates are summed in index order.
Tensor index_tensor(const Tensor& x, const std::vector<std::optional<Tensor>>& indices);
void index_put_(const Tensor& x, const std::vector<std::optional<Tensor>>& indices, const Tensor& value,
                bool accumulate);

// ---- the index ops (PyTorch semantics; `out`, when given, receives the result) ----------
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index, const Tensor* out = nullptr);
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor* out = nullptr);
// reduce: "" (assign), or the legacy "add" / "multiply".
// In-place ops write into x (a handle) and return it.
Tensor scatter_(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src, const std::string& reduce = "");
Tensor scatter_value_(const Tensor& x, int64_t dim, const Tensor& index, const Scalar& value,
                      const std::string& reduce = "");
Tensor scatter_add_(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
// reduce: "sum", "prod", "mean", "amax", "amin".
Tensor scatter_reduce_(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src,
                       const std::string& reduce, bool include_self = true);
Tensor index_add_(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha);
Tensor index_copy_(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source);
Tensor index_fill_(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& value);  // value: 0-d
Tensor masked_select(const Tensor& x, const Tensor& mask, const Tensor* out = nullptr);
Tensor masked_scatter_(const Tensor& x, const Tensor& mask, const Tensor& source);
Tensor masked_scatter(const Tensor& x, const Tensor& mask, const Tensor& source);
Tensor nonzero(const Tensor& x, const Tensor* out = nullptr);  // (N, ndim) int64
std::vector<Tensor> nonzero_tuple(const Tensor& x);              // ndim tensors of shape (N,)
Tensor take(const Tensor& x, const Tensor& index, const Tensor* out = nullptr);
Tensor take_along_dim(const Tensor& x, const Tensor& indices, std::optional<int64_t> dim,
                      const Tensor* out = nullptr);
Tensor put_(const Tensor& x, const Tensor& index, const Tensor& source, bool accumulate);

// ---- kernel plans ----------------------------------------------------------------------

// Element offsets of the positions of a set of dims, in row-major order.
struct DimMap {
  int64_t n = 1;               // number of positions
  int64_t stride = 0;          // offset(i) = i * stride when `table` is empty
  std::vector<int64_t> table;  // else the offsets
  bool linear() const { return table.empty(); }
  int64_t at(int64_t i) const { return table.empty() ? i * stride : table[i]; }
};
DimMap make_dimmap(const Shape& sizes, const Shape& strides);

struct IndexPlan {
  ScalarType dtype = ScalarType::Float32;  // of x and v
  char* x = nullptr;                       // the indexed tensor (first element)
  char* v = nullptr;                       // gather: the output; put: the values
  DimMap xpre, xpost, vpre, vj, vpost;     // offsets in elements
  int64_t J = 0;
  // Offset (elements) of index position j into x: table[j] when set, else the single
  // contiguous index tensor `idx` (int32/int64, checked in [-idx_size, idx_size)),
  // wrapped and times idx_stride.
  const int64_t* table = nullptr;
  const char* idx = nullptr;
  ScalarType idx_dtype = ScalarType::Int64;
  int64_t idx_size = 0, idx_stride = 0;
  int64_t offs_max = 0;  // an upper bound of the offsets (x's strides are non-negative)
  bool accumulate = false;
  Scalar alpha = Scalar(int64_t(1));  // put with accumulate: x += alpha * v
};

enum class ScatterReduce : int8_t { None, Sum, Prod, Amax, Amin };
struct ScatterGatherPlan {
  bool gather = false;  // gather: w[t] = r[idx[t]]; scatter: w[idx[t]] (op)= r[t]
  ScatterReduce reduce = ScatterReduce::None;
  ElementwiseIter it;   // over the index shape without `dim`: operands w, idx, r
  int64_t n = 1;        // index.size(dim)
  int64_t w_stride = 0, idx_stride = 0, r_stride = 0;  // bytes along dim
  int64_t dim_stride = 0;  // bytes between elements along dim of the indexed operand
  int64_t check_size = -1;  // gather: indices outside [0, check_size) are skipped and reported
  ScalarType dtype = ScalarType::Float32, idx_dtype = ScalarType::Int64;
};

// Returns the position (in the iteration order) of the first index outside
// [allow_negative ? -size : 0, size), or -1, writing its value to *bad. it: one operand.
using IndexCheckKernel = int64_t (*)(ElementwiseIter& it, int64_t size, bool allow_negative, int64_t* bad);
// offs (operand 0, int64) = [offs +] wrap(idx) * stride, with the same checks.
using IndexOffsetsKernel = int64_t (*)(ElementwiseIter& it, int64_t size, int64_t stride, bool add, int64_t* bad);
using IndexGatherKernel = void (*)(const IndexPlan& plan);
using IndexPutKernel = void (*)(const IndexPlan& plan);
// Returns false if a gather met an index outside [0, check_size) (scatters are checked first).
using ScatterGatherKernel = bool (*)(const ScatterGatherPlan& plan);
// Coordinates of the nonzero elements of a contiguous tensor: (N, ndim), or (ndim, N)
// when coord_major.
using NonzeroKernel = Tensor (*)(const Tensor& x, bool coord_major);

extern DispatchStub<IndexCheckKernel> index_check_stub;
extern DispatchStub<IndexOffsetsKernel> index_offsets_stub;
extern DispatchStub<IndexGatherKernel> index_gather_stub;
extern DispatchStub<IndexPutKernel> index_put_stub;
extern DispatchStub<ScatterGatherKernel> scatter_gather_stub;
extern DispatchStub<NonzeroKernel> nonzero_stub;

}  // namespace ember
