// View ops: results share storage (and the version counter) with their input.
#pragma once
#include <optional>
#include <vector>

#include "../tensor/tensor.h"

namespace ember {

Tensor as_strided(const Tensor& x, const Shape& sizes, const Shape& strides, std::optional<int64_t> offset);
Tensor view(const Tensor& x, Shape sizes);  // raises when the layout does not allow it
Tensor reshape(const Tensor& x, Shape sizes);  // a view when possible, else a copy
Tensor view_dtype(const Tensor& x, ScalarType dtype);
Tensor flatten(const Tensor& x, int64_t start = 0, int64_t end = -1);
Tensor unflatten(const Tensor& x, int64_t dim, const Shape& sizes);
Tensor permute(const Tensor& x, const Shape& dims);
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor t_(const Tensor& x);   // 2-d transpose (<= 2 dims)
Tensor mT(const Tensor& x);   // transpose of the last two dims
Tensor movedim(const Tensor& x, const Shape& src, const Shape& dst);
Tensor expand(const Tensor& x, const Shape& sizes);
Tensor squeeze(const Tensor& x, std::optional<Shape> dims);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
Tensor select(const Tensor& x, int64_t dim, int64_t index);
Tensor slice(const Tensor& x, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step);
Tensor diagonal(const Tensor& x, int64_t offset = 0, int64_t d1 = 0, int64_t d2 = 1);
std::vector<Tensor> unbind(const Tensor& x, int64_t dim);
std::vector<Tensor> split(const Tensor& x, int64_t size, int64_t dim);
std::vector<Tensor> split_sizes(const Tensor& x, const Shape& sizes, int64_t dim);
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim);
Tensor view_as_real(const Tensor& x);
Tensor view_as_complex(const Tensor& x);
Tensor real(const Tensor& x);
Tensor imag(const Tensor& x);

// Infers one -1 entry of `sizes` so that it holds numel elements.
Shape infer_size(const char* op, Shape sizes, int64_t numel);

}  // namespace ember
