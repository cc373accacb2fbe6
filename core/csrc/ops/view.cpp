#include "view.h"

#include <algorithm>
#include <numeric>

#include "elementwise.h"
#include "index.h"
#include "shape.h"
#include "../autograd/record.h"
#include "../autograd/sugar.h"

namespace ember {

Shape infer_size(const char* op, Shape sizes, int64_t numel) {
  int64_t infer = -1, prod = 1;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == -1) {
      EMBER_CHECK(infer < 0, ValueError, "[", op, "] only one dimension can be inferred: got ", sizes);
      infer = int64_t(i);
    } else {
      EMBER_CHECK(sizes[i] >= 0, ValueError, "[", op, "] invalid shape dimension ", sizes[i], " in ", sizes);
      prod *= sizes[i];
    }
  }
  if (infer >= 0) {
    EMBER_CHECK(prod != 0 && numel % prod == 0, ValueError, "[", op, "] shape ", sizes,
                " is invalid for input of size ", numel);
    sizes[infer] = numel / prod;
  } else {
    EMBER_CHECK(prod == numel, ValueError, "[", op, "] shape ", sizes, " is invalid for input of size ", numel);
  }
  return sizes;
}

static Tensor as_strided_impl(const Tensor& x, const Shape& sizes, const Shape& strides, std::optional<int64_t> offset) {
  EMBER_CHECK(sizes.size() == strides.size(), ValueError, "[as_strided] expected as many strides as sizes, got ",
              sizes.size(), " sizes and ", strides.size(), " strides");
  int64_t off = offset ? *offset : x.offset();
  int64_t n = checked_numel(sizes, "as_strided");
  if (n > 0) {
    int64_t lo = off, hi = off;
    for (size_t i = 0; i < sizes.size(); ++i) {
      EMBER_CHECK(strides[i] >= 0, ValueError, "[as_strided] negative strides are not supported, got ", strides);
      hi += (sizes[i] - 1) * strides[i];
    }
    int64_t cap = int64_t(x.storage()->nbytes / x.itemsize());
    EMBER_CHECK(lo >= 0 && hi < cap, ValueError, "[as_strided] out of bounds for the storage: size ", sizes,
                ", stride ", strides, ", offset ", off, " needs ", hi + 1, " elements, the storage has ", cap);
  }
  return make_view(x, sizes, strides, off);
}

// Strides for viewing x as `sizes` without copying, if possible (PyTorch's computeStride).
static std::optional<Shape> view_strides(const Shape& old_sizes, const Shape& old_strides, const Shape& sizes) {
  Shape st(sizes.size());
  if (old_sizes.empty()) {
    std::fill(st.begin(), st.end(), 1);
    return st;
  }
  int64_t numel = 1;
  for (int64_t s : old_sizes) numel *= s;
  if (numel == 0) return contiguous_strides(sizes);
  int64_t view_d = int64_t(sizes.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t td = int64_t(old_sizes.size()) - 1; td >= 0; --td) {
    tensor_numel *= old_sizes[td];
    if (td == 0 || (old_sizes[td - 1] != 1 && old_strides[td - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || sizes[view_d] == 1)) {
        st[view_d] = view_numel * chunk_base_stride;
        view_numel *= sizes[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (td > 0) {
        chunk_base_stride = old_strides[td - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return st;
}

static Tensor view_impl(const Tensor& x, Shape sizes) {
  sizes = infer_size("view", sizes, x.numel());
  auto st = view_strides(x.sizes(), x.strides(), sizes);
  EMBER_CHECK(st, ValueError, "[view] size ", sizes, " is not compatible with the input's size ", x.sizes(),
              " and stride ", x.strides(), ": at least one dimension spans across two contiguous subspaces; use "
              ".reshape(...) instead");
  return make_view(x, sizes, *st, x.offset());
}

static Tensor reshape_impl(const Tensor& x, Shape sizes) {
  sizes = infer_size("reshape", sizes, x.numel());
  auto st = view_strides(x.sizes(), x.strides(), sizes);
  if (st) return make_view(x, sizes, *st, x.offset());
  Tensor c = clone(x);
  return make_view(c, sizes, contiguous_strides(sizes), 0);
}

Tensor view_dtype(const Tensor& x, ScalarType dtype) {
  if (dtype == x.dtype()) return view(x, x.sizes());
  autograd::check_no_grad("view", {x});
  int64_t a = x.itemsize(), b = itemsize(dtype);
  EMBER_CHECK(a == b, ValueError, "[view] viewing as a dtype of another element size is not supported: ", x.dtype(),
              " has ", a, " bytes, ", dtype, " has ", b);
  Tensor v = make_view(x, x.sizes(), x.strides(), x.offset());
  v.impl()->dtype = dtype;
  return v;
}

Tensor flatten(const Tensor& x, int64_t start, int64_t end) {
  if (x.dim() == 0) return reshape(x, {1});
  start = wrap_dim(start, x.dim(), "flatten");
  end = wrap_dim(end, x.dim(), "flatten");
  EMBER_CHECK(start <= end, ValueError, "[flatten] start_dim cannot come after end_dim: got ", start, " and ", end);
  Shape s(x.sizes().begin(), x.sizes().begin() + start);
  int64_t m = 1;
  for (int64_t d = start; d <= end; ++d) m *= x.sizes()[d];
  s.push_back(m);
  s.insert(s.end(), x.sizes().begin() + end + 1, x.sizes().end());
  return reshape(x, s);
}

Tensor unflatten(const Tensor& x, int64_t dim, const Shape& sizes) {
  dim = wrap_dim(dim, x.dim(), "unflatten");
  EMBER_CHECK(!sizes.empty(), ValueError, "[unflatten] sizes must be non-empty");
  Shape inner = infer_size("unflatten", sizes, x.sizes()[dim]);
  Shape s(x.sizes().begin(), x.sizes().begin() + dim);
  s.insert(s.end(), inner.begin(), inner.end());
  s.insert(s.end(), x.sizes().begin() + dim + 1, x.sizes().end());
  return view(x, s);
}

static Tensor permute_impl(const Tensor& x, const Shape& dims) {
  EMBER_CHECK(int64_t(dims.size()) == x.dim(), ValueError, "[permute] number of dims don't match: expected ",
              x.dim(), ", got ", dims.size());
  Shape sz(dims.size()), st(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = wrap_dim(dims[i], x.dim(), "permute");
    EMBER_CHECK(!seen[d], ValueError, "[permute] repeated dim ", d, " in ", dims);
    seen[d] = true;
    sz[i] = x.sizes()[d];
    st[i] = x.strides()[d];
  }
  return make_view(x, sz, st, x.offset());
}

static Tensor transpose_impl(const Tensor& x, int64_t d0, int64_t d1) {
  if (x.dim() == 0) return make_view(x, {}, {}, x.offset());
  d0 = wrap_dim(d0, x.dim(), "transpose");
  d1 = wrap_dim(d1, x.dim(), "transpose");
  Shape sz = x.sizes(), st = x.strides();
  std::swap(sz[d0], sz[d1]);
  std::swap(st[d0], st[d1]);
  return make_view(x, sz, st, x.offset());
}

Tensor t_(const Tensor& x) {
  EMBER_CHECK(x.dim() <= 2, ValueError, "[t] expects a tensor with <= 2 dimensions, got ", x.dim(),
              "; use .mT or .transpose(d0, d1)");
  return x.dim() < 2 ? view(x, x.sizes()) : transpose(x, 0, 1);
}

Tensor mT(const Tensor& x) {
  EMBER_CHECK(x.dim() >= 2, ValueError, "[mT] expected a tensor with at least 2 dimensions, got ", x.dim());
  return transpose(x, -2, -1);
}

Tensor movedim(const Tensor& x, const Shape& src, const Shape& dst) {
  EMBER_CHECK(src.size() == dst.size(), ValueError, "[movedim] expected source and destination of equal length, got ",
              src.size(), " and ", dst.size());
  int64_t n = x.dim();
  Shape order(n, -1);
  std::vector<bool> used(n, false), taken(n, false);
  for (size_t i = 0; i < src.size(); ++i) {
    int64_t s = wrap_dim(src[i], n, "movedim"), d = wrap_dim(dst[i], n, "movedim");
    EMBER_CHECK(!used[s], ValueError, "[movedim] repeated dim in source: ", src);
    EMBER_CHECK(order[d] < 0, ValueError, "[movedim] repeated dim in destination: ", dst);
    order[d] = s;
    used[s] = true;
  }
  int64_t next = 0;
  for (int64_t d = 0; d < n; ++d) {
    if (order[d] >= 0) continue;
    while (used[next]) ++next;
    order[d] = next++;
  }
  return permute(x, order);
}

static Tensor expand_impl(const Tensor& x, const Shape& sizes) {
  EMBER_CHECK(int64_t(sizes.size()) >= x.dim(), ValueError, "[expand] the number of sizes provided (", sizes.size(),
              ") must be greater or equal to the number of dimensions in the tensor (", x.dim(), ")");
  size_t n = sizes.size(), lead = n - size_t(x.dim());
  Shape sz(n), st(n);
  for (size_t i = 0; i < n; ++i) {
    if (i < lead) {
      EMBER_CHECK(sizes[i] >= 0, ValueError, "[expand] the expanded size ", sizes[i],
                  " is not allowed in a leading, non-existing dimension ", i);
      sz[i] = sizes[i];
      st[i] = 0;
    } else {
      int64_t xs = x.sizes()[i - lead], want = sizes[i];
      if (want == -1) want = xs;
      EMBER_CHECK(xs == want || xs == 1, ValueError, "[expand] the expanded size of the tensor (", want,
                  ") must match the existing size (", xs, ") at non-singleton dimension ", i, ": target sizes ",
                  sizes, ", tensor sizes ", x.sizes());
      sz[i] = want;
      st[i] = xs == want ? x.strides()[i - lead] : 0;
    }
  }
  return make_view(x, sz, st, x.offset());
}

static Tensor squeeze_impl(const Tensor& x, std::optional<Shape> dims) {
  std::vector<bool> drop(x.dim(), false);
  if (!dims) {
    for (int64_t d = 0; d < x.dim(); ++d) drop[d] = x.sizes()[d] == 1;
  } else {
    for (int64_t d : *dims) {
      if (x.dim() == 0) { wrap_dim(d, 0, "squeeze"); continue; }
      int64_t w = wrap_dim(d, x.dim(), "squeeze");
      drop[w] = x.sizes()[w] == 1;
    }
  }
  Shape sz, st;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (!drop[d]) { sz.push_back(x.sizes()[d]); st.push_back(x.strides()[d]); }
  return make_view(x, sz, st, x.offset());
}

static Tensor unsqueeze_impl(const Tensor& x, int64_t dim) {
  dim = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape sz = x.sizes(), st = x.strides();
  int64_t s = dim < x.dim() ? sz[dim] * st[dim] : 1;
  sz.insert(sz.begin() + dim, 1);
  st.insert(st.begin() + dim, s);
  return make_view(x, sz, st, x.offset());
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  EMBER_CHECK(x.dim() > 0, ValueError, "[narrow] cannot be applied to a 0-dim tensor");
  dim = wrap_dim(dim, x.dim(), "narrow");
  int64_t n = x.sizes()[dim];
  if (start < 0) start += n;
  EMBER_CHECK(start >= 0 && start <= n, IndexError, "[narrow] start (", start, ") out of range for dimension ", dim,
              " of size ", n);
  EMBER_CHECK(length >= 0 && start + length <= n, IndexError, "[narrow] start (", start, ") + length (", length,
              ") exceeds dimension size (", n, ")");
  return slice(x, dim, start, start + length, 1);
}

static Tensor select_impl(const Tensor& x, int64_t dim, int64_t index) {
  EMBER_CHECK(x.dim() > 0, IndexError, "[select] invalid index of a 0-dim tensor: use .item() to read its value");
  dim = wrap_dim(dim, x.dim(), "select");
  int64_t n = x.sizes()[dim];
  EMBER_CHECK(index >= -n && index < n, IndexError, "[select] index ", index, " is out of bounds for dimension ", dim,
              " with size ", n);
  if (index < 0) index += n;
  Shape sz = x.sizes(), st = x.strides();
  int64_t off = x.offset() + index * st[dim];
  sz.erase(sz.begin() + dim);
  st.erase(st.begin() + dim);
  return make_view(x, sz, st, off);
}

static Tensor slice_impl(const Tensor& x, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step) {
  dim = wrap_dim(dim, x.dim(), "slice");
  EMBER_CHECK(step > 0, ValueError, "[slice] step must be greater than zero, got ", step,
              "; use .flip(dims) to reverse a tensor");
  int64_t n = x.sizes()[dim];
  int64_t s = start ? *start : 0, e = stop ? *stop : n;
  if (s < 0) s += n;
  if (e < 0) e += n;
  s = std::clamp<int64_t>(s, 0, n);
  e = std::clamp<int64_t>(e, s, n);
  Shape sz = x.sizes(), st = x.strides();
  int64_t off = x.offset() + s * st[dim];
  sz[dim] = (e - s + step - 1) / step;
  st[dim] *= step;
  return make_view(x, sz, st, off);
}

static Tensor diagonal_impl(const Tensor& x, int64_t offset, int64_t d1, int64_t d2) {
  EMBER_CHECK(x.dim() >= 2, ValueError, "[diagonal] expected a tensor with at least 2 dimensions, got ", x.dim());
  d1 = wrap_dim(d1, x.dim(), "diagonal");
  d2 = wrap_dim(d2, x.dim(), "diagonal");
  EMBER_CHECK(d1 != d2, ValueError, "[diagonal] dim1 and dim2 cannot be identical, got ", d1, " and ", d2);
  int64_t off = x.offset(), len;
  if (offset >= 0) {
    len = std::max<int64_t>(std::min(x.sizes()[d1], x.sizes()[d2] - offset), 0);
    if (len > 0) off += offset * x.strides()[d2];
  } else {
    len = std::max<int64_t>(std::min(x.sizes()[d1] + offset, x.sizes()[d2]), 0);
    if (len > 0) off -= offset * x.strides()[d1];
  }
  Shape sz, st;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (d != d1 && d != d2) { sz.push_back(x.sizes()[d]); st.push_back(x.strides()[d]); }
  sz.push_back(len);
  st.push_back(x.strides()[d1] + x.strides()[d2]);
  return make_view(x, sz, st, off);
}

std::vector<Tensor> unbind_impl(const Tensor& x, int64_t dim) {
  EMBER_CHECK(x.dim() > 0, ValueError, "[unbind] dimension specified as ", dim, " but tensor has no dimensions");
  dim = wrap_dim(dim, x.dim(), "unbind");
  std::vector<Tensor> r;
  for (int64_t i = 0; i < x.sizes()[dim]; ++i) r.push_back(select(x, dim, i));
  return r;
}

std::vector<Tensor> split_impl(const Tensor& x, int64_t size, int64_t dim) {
  EMBER_CHECK(x.dim() > 0, ValueError, "[split] expected at least a 1-dimensional tensor");
  dim = wrap_dim(dim, x.dim(), "split");
  EMBER_CHECK(size > 0 || (size == 0 && x.sizes()[dim] == 0), ValueError,
              "[split] split_size must be positive, got ", size);
  std::vector<Tensor> r;
  int64_t n = x.sizes()[dim];
  if (n == 0) return {view(x, x.sizes())};
  for (int64_t s = 0; s < n; s += size) r.push_back(slice(x, dim, s, std::min(n, s + size), 1));
  return r;
}

std::vector<Tensor> split_sizes_impl(const Tensor& x, const Shape& sizes, int64_t dim) {
  dim = wrap_dim(dim, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    EMBER_CHECK(s >= 0, ValueError, "[split] split sizes must be non-negative, got ", sizes);
    total += s;
  }
  EMBER_CHECK(total == x.sizes()[dim], ValueError, "[split] split sizes must sum to the dimension size: expected ",
              x.sizes()[dim], ", got ", sizes, " (sum ", total, ")");
  std::vector<Tensor> r;
  int64_t s = 0;
  for (int64_t len : sizes) {
    r.push_back(slice(x, dim, s, s + len, 1));
    s += len;
  }
  return r;
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  EMBER_CHECK(chunks > 0, ValueError, "[chunk] number of chunks must be positive, got ", chunks);
  EMBER_CHECK(x.dim() > 0, ValueError, "[chunk] expected at least a 1-dimensional tensor");
  dim = wrap_dim(dim, x.dim(), "chunk");
  int64_t n = x.sizes()[dim];
  int64_t size = (n + chunks - 1) / chunks;
  if (size == 0) size = 1;
  if (n == 0) {
    std::vector<Tensor> r;
    for (int64_t i = 0; i < chunks; ++i) r.push_back(view(x, x.sizes()));
    return r;
  }
  return split(x, size, dim);  // records one node for all chunks
}

Tensor view_as_real(const Tensor& x) {
  EMBER_CHECK(x.dtype() == ScalarType::Complex64, TypeError, "[view_as_real] expected a complex tensor, got ",
              x.dtype());
  Shape sz = x.sizes(), st = x.strides();
  for (auto& s : st) s *= 2;
  sz.push_back(2);
  st.push_back(1);
  Tensor v = make_view(x, sz, st, x.offset() * 2);
  v.impl()->dtype = ScalarType::Float32;
  return v;
}

Tensor view_as_complex(const Tensor& x) {
  EMBER_CHECK(x.dtype() == ScalarType::Float32, TypeError,
              "[view_as_complex] expected a float32 tensor (complex64 is supported), got ", x.dtype());
  EMBER_CHECK(x.dim() >= 1 && x.sizes().back() == 2, ValueError,
              "[view_as_complex] expected the last dimension to have size 2, got shape ", x.sizes());
  EMBER_CHECK(x.strides().back() == 1, ValueError, "[view_as_complex] expected the last dimension to have stride 1, got ",
              x.strides().back());
  EMBER_CHECK(x.offset() % 2 == 0, ValueError, "[view_as_complex] expected an even storage offset, got ", x.offset());
  Shape sz(x.sizes().begin(), x.sizes().end() - 1), st(x.strides().begin(), x.strides().end() - 1);
  for (auto& s : st) {
    EMBER_CHECK(s % 2 == 0, ValueError, "[view_as_complex] expected all strides but the last to be even, got ",
                x.strides());
    s /= 2;
  }
  Tensor v = make_view(x, sz, st, x.offset() / 2);
  v.impl()->dtype = ScalarType::Complex64;
  return v;
}

Tensor real(const Tensor& x) {
  if (!is_complex(x.dtype())) return view(x, x.sizes());
  return select(view_as_real(x), -1, 0);
}
Tensor imag(const Tensor& x) {
  EMBER_CHECK(is_complex(x.dtype()), TypeError, "[imag] expected a complex tensor, got ", x.dtype());
  return select(view_as_real(x), -1, 1);
}

// ---- autograd: every view op records a node whose backward maps the gradient back ----------

using namespace autograd;

namespace {
enum class ViewGrad { Reshape, Permute, Transpose, Expand, Strided };

template <typename F>
Tensor record_view(const char* op, const Tensor& x, F compute, ViewGrad kind, Shape aux = {}) {
  Recorder rec(op, {x});
  Tensor v = compute();
  if (!rec) return v;
  bool is_view = v.storage() == x.storage();
  if (v.is_same(x)) v = make_view(x, x.sizes(), x.strides(), x.offset());
  rec.set_outputs({v}, is_view);
  Shape xs = x.sizes(), xst = x.strides(), vs = v.sizes(), vst = v.strides();
  int64_t xoff = x.offset(), voff = v.offset();
  rec.node().fn = [=](FnNode&, variable_list& g) -> variable_list {
    switch (kind) {
      case ViewGrad::Reshape: return {reshape(g[0], xs)};
      case ViewGrad::Permute: {
        Shape inv(aux.size());
        for (size_t i = 0; i < aux.size(); ++i) inv[aux[i]] = int64_t(i);
        return {permute(g[0], inv)};
      }
      case ViewGrad::Transpose: return {transpose(g[0], aux[0], aux[1])};
      case ViewGrad::Expand: return {sum_to(g[0], xs)};
      case ViewGrad::Strided: return {as_strided_backward(g[0], xs, xst, xoff, vs, vst, voff)};
    }
    return {Tensor()};
  };
  return v;
}
}  // namespace

Tensor as_strided(const Tensor& x, const Shape& sizes, const Shape& strides, std::optional<int64_t> offset) {
  return record_view("as_strided", x, [&] { return as_strided_impl(x, sizes, strides, offset); }, ViewGrad::Strided);
}
Tensor view(const Tensor& x, Shape sizes) {
  return record_view("view", x, [&] { return view_impl(x, sizes); }, ViewGrad::Reshape);
}
Tensor reshape(const Tensor& x, Shape sizes) {
  return record_view("reshape", x, [&] { return reshape_impl(x, sizes); }, ViewGrad::Reshape);
}
Tensor permute(const Tensor& x, const Shape& dims) {
  Tensor v;
  Shape d(dims);
  for (auto& e : d) e = wrap_quiet(e, x.dim());
  return record_view("permute", x, [&] { return permute_impl(x, dims); }, ViewGrad::Permute, d);
}
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  if (x.dim() == 0) return record_view("transpose", x, [&] { return transpose_impl(x, d0, d1); }, ViewGrad::Reshape);
  Shape aux{wrap_quiet(d0, x.dim()), wrap_quiet(d1, x.dim())};
  return record_view("transpose", x, [&] { return transpose_impl(x, d0, d1); }, ViewGrad::Transpose, aux);
}
Tensor expand(const Tensor& x, const Shape& sizes) {
  return record_view("expand", x, [&] { return expand_impl(x, sizes); }, ViewGrad::Expand);
}
Tensor squeeze(const Tensor& x, std::optional<Shape> dims) {
  return record_view("squeeze", x, [&] { return squeeze_impl(x, dims); }, ViewGrad::Reshape);
}
Tensor unsqueeze(const Tensor& x, int64_t dim) {
  return record_view("unsqueeze", x, [&] { return unsqueeze_impl(x, dim); }, ViewGrad::Reshape);
}
Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  return record_view("select", x, [&] { return select_impl(x, dim, index); }, ViewGrad::Strided);
}
Tensor slice(const Tensor& x, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step) {
  return record_view("slice", x, [&] { return slice_impl(x, dim, start, stop, step); }, ViewGrad::Strided);
}
Tensor diagonal(const Tensor& x, int64_t offset, int64_t d1, int64_t d2) {
  return record_view("diagonal", x, [&] { return diagonal_impl(x, offset, d1, d2); }, ViewGrad::Strided);
}

// Pieces of x along dim (views), recorded as one node whose backward concatenates the pieces'
// gradients (zeros for unused ones): O(x.numel()) however many pieces are used, where one node
// per piece would build a full-size gradient per piece. `stacked`: the pieces dropped dim.
namespace {
template <typename F>
std::vector<Tensor> record_pieces(const char* op, const Tensor& x, int64_t dim, bool stacked, F compute) {
  Recorder rec(op, {x});
  std::vector<Tensor> r = compute();
  if (!rec || r.empty()) return r;
  for (auto& v : r)
    if (v.is_same(x)) v = make_view(x, x.sizes(), x.strides(), x.offset());
  rec.set_outputs(r, true);
  std::vector<Shape> shapes;
  for (const auto& v : r) shapes.push_back(v.sizes());
  const ScalarType dt = x.dtype();
  const Device dev = x.device();
  const int64_t d = wrap_quiet(dim, x.dim());
  rec.node().fn = [shapes, dt, dev, d, stacked](FnNode&, variable_list& g) -> variable_list {
    std::vector<Tensor> parts;
    for (size_t i = 0; i < shapes.size(); ++i) {
      Tensor gi = i < g.size() && g[i].defined() ? g[i] : zeros(shapes[i], dt, dev);
      parts.push_back(stacked ? unsqueeze(gi, d) : gi);
    }
    return {cat(parts, d)};
  };
  return r;
}
}  // namespace

std::vector<Tensor> unbind(const Tensor& x, int64_t dim) {
  return record_pieces("unbind", x, dim, true, [&] { return unbind_impl(x, dim); });
}
std::vector<Tensor> split(const Tensor& x, int64_t size, int64_t dim) {
  if (x.dim() > 0 && x.sizes()[wrap_quiet(dim, x.dim())] == 0) return split_impl(x, size, dim);
  return record_pieces("split", x, dim, false, [&] { return split_impl(x, size, dim); });
}
std::vector<Tensor> split_sizes(const Tensor& x, const Shape& sizes, int64_t dim) {
  return record_pieces("split_with_sizes", x, dim, false, [&] { return split_sizes_impl(x, sizes, dim); });
}

}  // namespace ember
