// CUDA kernels of the copying shape ops (ops/shape.h: remap, cat, tril/triu) and of arange /
// linspace (ops/creation.h), with the CPU kernels' semantics. Data movement goes by element
// size (an unsigned type of 1, 2, 4 or 8 bytes); one thread per output element.
#include "../ops/creation.h"
#include "../ops/shape.h"
#include "primitives.cuh"

namespace ember {
namespace cuda {
namespace {

constexpr int kShapeThreads = 256;

template <typename Body>
void by_size(int64_t size, const char* op, Body&& body) {
  switch (size) {
    case 1: return body.template operator()<uint8_t>();
    case 2: return body.template operator()<uint16_t>();
    case 4: return body.template operator()<uint32_t>();
    case 8: return body.template operator()<uint64_t>();
    default: throw NotImplementedError(str("[", op, "] no CUDA kernel for elements of ", size, " bytes"));
  }
}

// ---- remap ---------------------------------------------------------------------------------------
struct RemapArgs {
  int nd;
  int64_t sizes[kMaxDims];       // of out (row-major, contiguous)
  int64_t in_strides[kMaxDims];  // elements
  const int64_t* maps[kMaxDims];  // null: identity
};

template <typename E>
__global__ void remap_kernel(E* out, const E* in, RemapArgs a, int64_t n, const E* fill) {
  const int64_t t = int64_t(blockIdx.x) * kShapeThreads + threadIdx.x;
  if (t >= n) return;
  int64_t r = t, off = 0;
  bool filled = false;
  for (int d = a.nd - 1; d >= 0; --d) {
    const int64_t c = r % a.sizes[d];
    r /= a.sizes[d];
    const int64_t m = a.maps[d] ? a.maps[d][c] : c;
    if (m < 0) filled = true;
    else off += m * a.in_strides[d];
  }
  out[t] = filled ? *fill : in[off];
}

struct RemapBody {
  const Tensor& out;
  const Tensor& in;
  const RemapArgs& a;
  const Tensor& fill;
  template <typename E>
  void operator()() const {
    remap_kernel<E><<<blocks_for(out.numel(), kShapeThreads), kShapeThreads, 0, current_stream_here()>>>(
        reinterpret_cast<E*>(out.raw_data()), reinterpret_cast<const E*>(in.raw_data()), a, out.numel(),
        fill.defined() ? reinterpret_cast<const E*>(fill.raw_data()) : nullptr);
    check_launch("remap");
  }
};

void remap_cuda(const Tensor& out, const Tensor& in, const DimMaps& maps, const Tensor& fill) {
  if (out.numel() == 0) return;
  EMBER_CHECK(out.dim() <= kMaxDims, NotImplementedError, "[remap] at most ", kMaxDims, " dims");
  RemapArgs a;
  a.nd = int(out.dim());
  std::vector<Tensor> keep(size_t(out.dim()));
  for (int64_t d = 0; d < out.dim(); ++d) {
    a.sizes[d] = out.sizes()[d];
    a.in_strides[d] = in.strides()[d];
    a.maps[d] = d < int64_t(maps.size()) && !maps[d].empty() ? upload_vector(keep[d], maps[d]) : nullptr;
  }
  by_size(out.itemsize(), "remap", RemapBody{out, in, a, fill});
}

// ---- cat -------------------------------------------------------------------------------------------
template <typename E>
__global__ void cat_kernel(E* out, const E* in, int64_t outer, int64_t in_row, int64_t out_row, int64_t at) {
  const int64_t t = int64_t(blockIdx.x) * kShapeThreads + threadIdx.x;
  if (t >= outer * in_row) return;
  const int64_t r = t / in_row, c = t % in_row;
  out[r * out_row + at + c] = in[t];
}

struct CatBody {
  const Tensor& out;
  const std::vector<Tensor>& inputs;
  const std::vector<int64_t>& offsets;
  int64_t dim;
  template <typename E>
  void operator()() const {
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < dim; ++d) outer *= out.sizes()[d];
    for (int64_t d = dim + 1; d < out.dim(); ++d) inner *= out.sizes()[d];
    const int64_t out_row = out.sizes()[dim] * inner;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const int64_t in_row = inputs[i].sizes()[dim] * inner;
      if (outer * in_row == 0) continue;
      cat_kernel<E><<<blocks_for(outer * in_row, kShapeThreads), kShapeThreads, 0, current_stream_here()>>>(
          reinterpret_cast<E*>(out.raw_data()), reinterpret_cast<const E*>(inputs[i].raw_data()), outer, in_row,
          out_row, offsets[i] * inner);
      check_launch("cat");
    }
  }
};

void cat_cuda(const Tensor& out, const std::vector<Tensor>& inputs, const std::vector<int64_t>& offsets, int64_t dim) {
  if (out.numel() == 0) return;
  by_size(out.itemsize(), "cat", CatBody{out, inputs, offsets, dim});
}

// ---- tril / triu -------------------------------------------------------------------------------------
struct TriArgs {
  int nd;
  int64_t sizes[kMaxDims];
  int64_t out_strides[kMaxDims], in_strides[kMaxDims];
};

template <typename E>
__global__ void tri_kernel(E* out, const E* in, TriArgs a, int64_t n, int64_t k, bool upper) {
  const int64_t t = int64_t(blockIdx.x) * kShapeThreads + threadIdx.x;
  if (t >= n) return;
  int64_t r = t, oo = 0, io = 0, i = 0, j = 0;
  for (int d = a.nd - 1; d >= 0; --d) {
    const int64_t c = r % a.sizes[d];
    r /= a.sizes[d];
    oo += c * a.out_strides[d];
    io += c * a.in_strides[d];
    if (d == a.nd - 1) j = c;
    if (d == a.nd - 2) i = c;
  }
  const bool keep = upper ? j - i >= k : j - i <= k;
  out[oo] = keep ? in[io] : E(0);
}

struct TriBody {
  const Tensor& out;
  const Tensor& in;
  const TriArgs& a;
  int64_t k;
  bool upper;
  template <typename E>
  void operator()() const {
    tri_kernel<E><<<blocks_for(out.numel(), kShapeThreads), kShapeThreads, 0, current_stream_here()>>>(
        reinterpret_cast<E*>(out.raw_data()), reinterpret_cast<const E*>(in.raw_data()), a, out.numel(), k, upper);
    check_launch(upper ? "triu" : "tril");
  }
};

void tri_cuda(const Tensor& out, const Tensor& in, int64_t k, bool upper) {
  if (out.numel() == 0) return;
  EMBER_CHECK(out.dim() <= kMaxDims, NotImplementedError, "[tril] at most ", kMaxDims, " dims");
  TriArgs a;
  a.nd = int(out.dim());
  for (int64_t d = 0; d < out.dim(); ++d) {
    a.sizes[d] = out.sizes()[d];
    a.out_strides[d] = out.strides()[d];
    a.in_strides[d] = in.strides()[d];
  }
  by_size(out.itemsize(), upper ? "triu" : "tril", TriBody{out, in, a, k, upper});
}

// ---- arange / linspace ------------------------------------------------------------------------------
// The CPU's formulas, with the products and sums rounded separately (no fused multiply-add),
// so the values match the CPU's bit for bit.
template <typename T>
__global__ void range_kernel(char* out, int64_t n, double start, double step, double end, int mode) {
  const int64_t i = int64_t(blockIdx.x) * kShapeThreads + threadIdx.x;
  if (i >= n) return;
  double v;
  if (mode == 0) v = __dadd_rn(start, __dmul_rn(double(i), step));
  else if (i < n / 2) v = __dadd_rn(start, __dmul_rn(step, double(i)));
  else v = __dsub_rn(end, __dmul_rn(step, double(n - i - 1)));
  using M = opmath_of<T>;
  if constexpr (std::is_integral_v<M>) Dev<T>::store(out + i * int64_t(sizeof(T)), M(mode == 0 ? v : trunc(v)));
  else Dev<T>::store(out + i * int64_t(sizeof(T)), M(v));
}

struct RangeBody {
  ElementwiseIter& it;
  double start, step, end;
  int64_t n;
  int mode;
  template <typename T>
  void operator()() const {
    range_kernel<T><<<blocks_for(n, kShapeThreads), kShapeThreads, 0, current_stream_here()>>>(it.data[0], n, start,
                                                                                               step, end, mode);
    check_launch("arange");
  }
};

void range_cuda(ElementwiseIter& it, double start, double step, double end, int64_t n, int mode) {
  if (n == 0) return;
  dispatch_cuda<kRealMask>(it.dtypes[0], "arange", RangeBody{it, start, step, end, n, mode});
}

}  // namespace
}  // namespace cuda

EMBER_REGISTER_CUDA(remap_stub, cuda::remap_cuda);
EMBER_REGISTER_CUDA(cat_stub, cuda::cat_cuda);
EMBER_REGISTER_CUDA(tri_stub, cuda::tri_cuda);
EMBER_REGISTER_CUDA(range_stub, cuda::range_cuda);

}  // namespace ember
