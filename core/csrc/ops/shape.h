// Shape-manipulation ops that copy: cat/stack and friends, flip, roll, repeat/tile,
// repeat_interleave, tril/triu, pad, diag/diag_embed; and the view-returning helpers
// meshgrid, broadcast_tensors, atleast_{1,2,3}d.
//
// Most of them are one kernel: `remap` writes a contiguous output whose element at
// (o0, o1, ...) is input[map0[o0], map1[o1], ...] (an index of -1 in any map means "the fill
// value"). flip, roll, repeat, tile, repeat_interleave, pad (every mode) and row gathers
// only differ by the per-dim maps, which the front ends compute on the host.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "../tensor/tensor.h"
#include "dispatch.h"

namespace ember {

// One map per output dim; an empty map is the identity (output size == input size there).
using DimMaps = std::vector<std::vector<int64_t>>;

// out: contiguous; in: any strides, in.dim() == out.dim(), same dtype; fill: a 0-d tensor of
// out's dtype (undefined when no map holds -1).
using RemapKernel = void (*)(const Tensor& out, const Tensor& in, const DimMaps& maps, const Tensor& fill);
// Copies contiguous inputs of out's dtype into the contiguous out along dim; offsets[i] is
// where input i starts along dim.
using CatKernel = void (*)(const Tensor& out, const std::vector<Tensor>& inputs, const std::vector<int64_t>& offsets,
                           int64_t dim);
// out[..., i, j] = in[..., i, j] where kept, else 0. Kept: j - i <= k (lower) or j - i >= k
// (upper). out and in may be the same tensor (in-place); any strides.
using TriKernel = void (*)(const Tensor& out, const Tensor& in, int64_t k, bool upper);

extern DispatchStub<RemapKernel> remap_stub;
extern DispatchStub<CatKernel> cat_stub;
extern DispatchStub<TriKernel> tri_stub;

// A new contiguous tensor of `sizes` gathered from x through the per-dim maps (entries
// must lie in [0, x.size(d)) or be -1 with `fill` given).
Tensor remap(const Tensor& x, const Shape& sizes, const DimMaps& maps, const Tensor& fill = Tensor());

Tensor cat(const std::vector<Tensor>& ts, int64_t dim, const Tensor* out = nullptr);
Tensor stack(const std::vector<Tensor>& ts, int64_t dim, const Tensor* out = nullptr);
Tensor hstack(const std::vector<Tensor>& ts, const Tensor* out = nullptr);
Tensor vstack(const std::vector<Tensor>& ts, const Tensor* out = nullptr);
Tensor dstack(const std::vector<Tensor>& ts, const Tensor* out = nullptr);
Tensor column_stack(const std::vector<Tensor>& ts, const Tensor* out = nullptr);

Tensor flip(const Tensor& x, const Shape& dims);
Tensor fliplr(const Tensor& x);
Tensor flipud(const Tensor& x);
Tensor roll(const Tensor& x, const Shape& shifts, const Shape& dims);
Tensor repeat(const Tensor& x, const Shape& repeats);
Tensor tile(const Tensor& x, const Shape& dims);
Tensor repeat_interleave(const Tensor& x, int64_t repeats, std::optional<int64_t> dim,
                         std::optional<int64_t> output_size);
Tensor repeat_interleave(const Tensor& x, const Tensor& repeats, std::optional<int64_t> dim,
                         std::optional<int64_t> output_size);
// repeat_interleave(repeats): each index i repeated repeats[i] times.
Tensor repeat_interleave_index(const Tensor& repeats, std::optional<int64_t> output_size);

Tensor tril(const Tensor& x, int64_t diagonal, const Tensor* out = nullptr);
Tensor triu(const Tensor& x, int64_t diagonal, const Tensor* out = nullptr);

enum class PadMode { Constant, Reflect, Replicate, Circular };
PadMode pad_mode(const std::string& mode);
// pad: (left, right) pairs from the last dim backwards, like PyTorch; negative = crop.
Tensor pad(const Tensor& x, const Shape& pad, PadMode mode, std::optional<Scalar> value);

Tensor diag(const Tensor& x, int64_t diagonal, const Tensor* out = nullptr);
Tensor diag_embed(const Tensor& x, int64_t offset, int64_t dim1, int64_t dim2);

// Views.
std::vector<Tensor> meshgrid(const std::vector<Tensor>& ts, const std::string& indexing);
std::vector<Tensor> broadcast_tensors(const std::vector<Tensor>& ts);
Tensor atleast_1d(const Tensor& x);
Tensor atleast_2d(const Tensor& x);
Tensor atleast_3d(const Tensor& x);

// Writes `result` into *out (same shape, castable dtype) and returns *out; returns result
// when out is null. For ops whose out= is a plain copy of the result.
Tensor write_out(const char* op, const Tensor& result, const Tensor* out);

}  // namespace ember
