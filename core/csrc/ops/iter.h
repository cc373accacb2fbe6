// ElementwiseIter: the shared strided-loop plan (the TensorIterator idea). The front end
// broadcasts the operands to the output shape and gives them one dtype each; the plan
// orders dims innermost-first by the output's strides and merges dims that are contiguous
// in every operand, so that kernels see as few, as long inner loops as possible.
// Backends (cpu/loop.h, cuda/) walk the same plan.
#pragma once
#include <cstdint>
#include <initializer_list>

#include "../tensor/tensor.h"

namespace ember {

constexpr int kMaxOperands = 5;  // output + up to 4 inputs
constexpr int kMaxDims = 25;

struct ElementwiseIter {
  int nops = 0;
  int ndim = 0;
  int64_t numel = 0;
  int64_t shape[kMaxDims];                 // dim 0 is the innermost
  int64_t strides[kMaxOperands][kMaxDims];  // in bytes
  char* data[kMaxOperands];
  ScalarType dtypes[kMaxOperands];
  // Inputs in host memory with a device output: a wrapped number (Python scalar) that CUDA
  // kernels take by value (every stride of such an operand is 0).
  bool host[kMaxOperands] = {};

  // Inner-dim byte strides of every operand.
  void inner_strides(int64_t* out) const {
    for (int k = 0; k < nops; ++k) out[k] = ndim ? strides[k][0] : 0;
  }
  bool is_contiguous_operand(int k) const {
    return ndim <= 1 && (ndim == 0 || strides[k][0] == itemsize(dtypes[k]));
  }
};

// out first, then inputs; inputs must broadcast to out's shape (the front end checked it).
ElementwiseIter make_iter(const char* op, const Tensor& out, TensorRefList inputs);

// Shape of broadcasting a and b; raises "[op] shapes cannot be broadcast" otherwise.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

}  // namespace ember
