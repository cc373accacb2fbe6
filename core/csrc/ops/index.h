// Indexing: Python subscripts (basic and advanced) and the index ops
// (index_select, gather, scatter, index_add, masked ops, nonzero, take ...).
#pragma once
#include <optional>
#include <vector>

#include "../tensor/tensor.h"

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
// is replaced by its k nonzero-coordinate vectors); missing trailing entries are full
// slices. Indexed dims broadcast together; the result puts them where the first one was
// if they are adjacent, else first (NumPy's rule). Every index is bounds-checked.
Tensor index_tensor(const Tensor& x, const std::vector<std::optional<Tensor>>& indices);
void index_put_(const Tensor& x, const std::vector<std::optional<Tensor>>& indices, const Tensor& value,
                bool accumulate);

}  // namespace ember
