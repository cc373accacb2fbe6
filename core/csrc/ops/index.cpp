// Advanced indexing and the index ops: argument checks, output shapes and kernel plans
// (see ops/index.h); kernels in cpu/index_kernels.cpp.
#include "index.h"

#include "../autograd/record.h"
#include "../autograd/sugar.h"

#include <algorithm>
#include <limits>

#include "creation.h"
#include "elementwise.h"
#include "reduce.h"
#include "shape.h"
#include "view.h"

namespace ember {

DispatchStub<IndexCheckKernel> index_check_stub("index");
DispatchStub<IndexOffsetsKernel> index_offsets_stub("index");
DispatchStub<IndexGatherKernel> index_gather_stub("index");
DispatchStub<IndexPutKernel> index_put_stub("index_put_");
DispatchStub<ScatterGatherKernel> scatter_gather_stub("scatter");
DispatchStub<NonzeroKernel> nonzero_stub("nonzero");

DimMap make_dimmap(const Shape& sizes, const Shape& strides) {
  DimMap m;
  m.n = 1;
  for (int64_t s : sizes) m.n *= s;
  if (m.n == 0) return m;
  // collapse: drop size-1 dims, merge an outer dim into the next when they are one run
  Shape sz, st;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 1) continue;
    if (!sz.empty() && st.back() == sizes[d] * strides[d]) {
      sz.back() *= sizes[d];
      st.back() = strides[d];
    } else {
      sz.push_back(sizes[d]);
      st.push_back(strides[d]);
    }
  }
  if (sz.empty()) return m;
  if (sz.size() == 1) {
    m.stride = st[0];
    return m;
  }
  m.table.resize(size_t(m.n));
  const int nd = int(sz.size());
  std::vector<int64_t> c(nd, 0);
  int64_t off = 0;
  for (int64_t i = 0; i < m.n; ++i) {
    m.table[i] = off;
    for (int d = nd - 1; d >= 0; --d) {
      off += st[d];
      if (++c[d] < sz[d]) break;
      off -= st[d] * sz[d];
      c[d] = 0;
    }
  }
  return m;
}

namespace {

// ---- shared checks --------------------------------------------------------------------------

void check_index_dtype(const char* op, const Tensor& index, bool allow_int32) {
  bool ok = index.dtype() == ScalarType::Int64 || (allow_int32 && index.dtype() == ScalarType::Int32);
  EMBER_CHECK(ok, TypeError, "[", op, "] index must be an ", allow_int32 ? "int64 or int32" : "int64",
              " tensor: expected ember.int64, got ", index.dtype());
}

void check_device(const char* op, const Tensor& x, const Tensor& other, const char* what) {
  EMBER_CHECK(x.device() == other.device(), ValueError, "[", op, "] expected ", what, " on the device of the input (",
              x.device(), "), got ", other.device());
}

// Raises IndexError for the first index outside [allow_negative ? -size : 0, size).
void check_bounds(const char* op, const Tensor& index, int64_t dim, int64_t size, bool allow_negative) {
  if (index.numel() == 0) return;
  ElementwiseIter it = make_iter(op, index, {});
  int64_t bad = 0;
  int64_t pos = index_check_stub(index.device(), it, size, allow_negative, &bad);
  if (pos >= 0)
    throw IndexError(str("[", op, "] index ", bad, " is out of bounds for dimension ", dim, " with size ", size));
}

// x is written element by element: no two elements may share memory.
void check_writable(const char* op, const Tensor& x) {
  for (int64_t d = 0; d < x.dim(); ++d)
    EMBER_CHECK(x.strides()[d] != 0 || x.sizes()[d] <= 1, ValueError, "[", op,
                "] cannot write into an expanded tensor: dimension ", d, " has stride 0; call .clone() first");
}

bool broadcastable_to(const Shape& s, const Shape& target) {
  if (s.size() > target.size()) return false;
  size_t lead = target.size() - s.size();
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i] != 1 && s[i] != target[lead + i]) return false;
  return true;
}

Tensor write_out(const char* op, const Tensor* out, const Tensor& r) {
  if (!out) return r;
  EMBER_CHECK(out->sizes() == r.sizes(), ValueError, "[", op, "] out has the wrong shape: expected ", r.sizes(),
              ", got ", out->sizes());
  EMBER_CHECK(out->dtype() == r.dtype(), TypeError, "[", op, "] out has the wrong dtype: expected ", r.dtype(),
              ", got ", out->dtype());
  copy_(*out, r);
  return *out;
}

// A 0-d tensor as shape (1,), others unchanged (a view).
Tensor at_least_1d(const Tensor& t) { return t.dim() == 0 ? make_view(t, {1}, {1}, t.offset()) : t; }

// A writable 1-d view of all of x's elements, if x's layout allows it.
std::optional<Tensor> flat_view(const Tensor& x) {
  if (!x.is_contiguous()) return std::nullopt;
  return make_view(x, {x.numel()}, {1}, x.offset());
}

Shape pick(const Shape& s, const std::vector<int64_t>& dims) {
  Shape r;
  for (int64_t d : dims) r.push_back(s[d]);
  return r;
}

std::vector<int64_t> range(int64_t a, int64_t b) {
  std::vector<int64_t> r;
  for (int64_t i = a; i < b; ++i) r.push_back(i);
  return r;
}

// ---- the (P, J, Q) plan -----------------------------------------------------------------------

// Where index position j lands in x: a table of offsets, or one contiguous index tensor.
struct Offsets {
  Shape B;          // the index positions' shape
  Tensor table;     // int64 of shape B, or undefined
  Tensor idx;       // contiguous int32/int64 of shape B
  int64_t size = 0, stride = 0;
  int64_t max = 0;  // bound of the offsets
};

// One index tensor for dim `dim` of x (checked, negative indices wrap when allowed).
Offsets single_offsets(const char* op, const Tensor& x, int64_t dim, const Tensor& index, bool allow_negative,
                       const Shape& B) {
  Offsets o;
  o.B = B;
  o.size = x.dim() ? x.sizes()[dim] : 1;
  o.stride = x.dim() ? x.strides()[dim] : 0;
  o.idx = contiguous(index);
  check_bounds(op, o.idx, dim, o.size, allow_negative);
  o.max = std::max<int64_t>(o.size - 1, 0) * o.stride;
  return o;
}

// Several index tensors (broadcast to B), one per dim of `dims`.
Offsets table_offsets(const char* op, const Tensor& x, const std::vector<int64_t>& dims,
                      const std::vector<Tensor>& idx, const Shape& B) {
  Offsets o;
  o.B = B;
  o.table = empty(B, ScalarType::Int64, x.device());
  for (size_t k = 0; k < idx.size(); ++k) {
    int64_t size = x.sizes()[dims[k]], stride = x.strides()[dims[k]];
    o.max += std::max<int64_t>(size - 1, 0) * stride;
    if (o.table.numel() == 0) {
      check_bounds(op, idx[k], dims[k], size, true);
      continue;
    }
    Tensor ik = expand(idx[k], B);
    ElementwiseIter it = make_iter(op, o.table, {ik});
    int64_t bad = 0;
    int64_t pos = index_offsets_stub(x.device(), it, size, stride, k > 0, &bad);
    if (pos >= 0)
      throw IndexError(str("[", op, "] index ", bad, " is out of bounds for dimension ", dims[k], " with size ",
                           size));
  }
  return o;
}

void fill_plan_offsets(IndexPlan& pl, const Offsets& o) {
  pl.J = 1;
  for (int64_t s : o.B) pl.J *= s;
  pl.offs_max = o.max;
  if (o.table.defined()) {
    pl.table = o.table.data<int64_t>();
  } else {
    pl.idx = o.idx.raw_data();
    pl.idx_dtype = o.idx.dtype();
    pl.idx_size = o.size;
    pl.idx_stride = o.stride;
  }
}

Shape result_shape(const Tensor& x, const std::vector<int64_t>& pre, const Shape& B,
                   const std::vector<int64_t>& post) {
  Shape r = pick(x.sizes(), pre);
  r.insert(r.end(), B.begin(), B.end());
  Shape q = pick(x.sizes(), post);
  r.insert(r.end(), q.begin(), q.end());
  return r;
}

// v's DimMaps over a tensor of the result shape (pre dims, B dims, post dims).
void fill_plan_v(IndexPlan& pl, const Tensor& v, size_t npre, size_t nb) {
  const Shape &s = v.sizes(), &st = v.strides();
  auto part = [&](size_t a, size_t b) {
    return make_dimmap(Shape(s.begin() + a, s.begin() + b), Shape(st.begin() + a, st.begin() + b));
  };
  pl.vpre = part(0, npre);
  pl.vj = part(npre, npre + nb);
  pl.vpost = part(npre + nb, s.size());
  pl.v = v.raw_data();
}

void fill_plan_x(IndexPlan& pl, const Tensor& x, const std::vector<int64_t>& pre, const std::vector<int64_t>& post) {
  pl.dtype = x.dtype();
  pl.x = x.raw_data();
  pl.xpre = make_dimmap(pick(x.sizes(), pre), pick(x.strides(), pre));
  pl.xpost = make_dimmap(pick(x.sizes(), post), pick(x.strides(), post));
}

// out[pre..., B..., post...] = x[pre..., offsets(B...), post...]
Tensor run_gather(const Tensor& x, const std::vector<int64_t>& pre, const Offsets& o,
                  const std::vector<int64_t>& post) {
  Tensor out = empty(result_shape(x, pre, o.B, post), x.dtype(), x.device());
  if (out.numel() == 0) return out;
  IndexPlan pl;
  fill_plan_x(pl, x, pre, post);
  fill_plan_offsets(pl, o);
  fill_plan_v(pl, out, pre.size(), o.B.size());
  index_gather_stub(x.device(), pl);
  return out;
}

// x[pre..., offsets(B...), post...] (+)= value[pre..., B..., post...]; value has the result
// shape (any strides) and x's dtype, and does not overlap x.
void run_put(const Tensor& x, const std::vector<int64_t>& pre, const Offsets& o, const std::vector<int64_t>& post,
             const Tensor& value, bool accumulate, const Scalar& alpha = Scalar(int64_t(1))) {
  if (value.numel() == 0) return;
  IndexPlan pl;
  fill_plan_x(pl, x, pre, post);
  fill_plan_offsets(pl, o);
  fill_plan_v(pl, value, pre.size(), o.B.size());
  pl.accumulate = accumulate;
  pl.alpha = alpha;
  index_put_stub(x.device(), pl);
  x.bump_version();
}

// value as x's dtype, broadcast to `shape`, not sharing memory with x.
Tensor prepare_value(const char* op, const Tensor& x, const Tensor& value, const Shape& shape) {
  EMBER_CHECK(broadcastable_to(value.sizes(), shape), ValueError, "[", op, "] shape mismatch: value tensor of shape ",
              value.sizes(), " cannot be broadcast to indexing result of shape ", shape);
  if (!value.is_wrapped_number()) check_device(op, x, value, "the values");
  Tensor v = value;
  if (v.device() != x.device()) v = to_device(v, x.device(), x.dtype());  // a Python scalar on a GPU
  else if (v.dtype() != x.dtype()) v = to_dtype(v, x.dtype());
  else if (v.storage() == x.storage()) v = clone(v);
  return expand(v, shape);
}

// ---- advanced indexing ------------------------------------------------------------------------

struct Advanced {
  std::vector<int64_t> dims;  // indexed dims of x, increasing
  std::vector<Tensor> idx;    // int32/int64, one per indexed dim
  Shape B;
  std::vector<int64_t> pre, post;
};

Advanced prepare_advanced(const char* op, const Tensor& x, const std::vector<std::optional<Tensor>>& indices) {
  Advanced a;
  int64_t d = 0;
  for (const auto& e : indices) {
    if (!e) {
      ++d;
      continue;
    }
    Tensor t = *e;
    // CPU indices (Python lists become CPU tensors) move to x's device, as in PyTorch
    if (t.device().is_cpu() && !x.device().is_cpu()) t = to_device(t, x.device(), t.dtype());
    check_device(op, x, t, "index tensors");
    if (t.dtype() == ScalarType::UInt8) t = to_dtype(t, ScalarType::Bool);
    if (t.dtype() == ScalarType::Bool) {
      Tensor m = at_least_1d(t);
      const int64_t k = m.dim();
      EMBER_CHECK(d + k <= x.dim(), IndexError, "[", op, "] too many indices for tensor of dimension ", x.dim(),
                  ": got ", d + k);
      for (int64_t i = 0; i < k; ++i)
        EMBER_CHECK(m.sizes()[i] == x.sizes()[d + i], IndexError, "[", op, "] the shape of the mask ", m.sizes(),
                    " at index ", i, " does not match the shape of the indexed tensor ", x.sizes(), " at index ",
                    d + i);
      Tensor nz = nonzero_stub(m.device(), contiguous(m), true);  // (k, N)
      for (int64_t i = 0; i < k; ++i) {
        a.idx.push_back(select(nz, 0, i));
        a.dims.push_back(d + i);
      }
      d += k;
    } else {
      EMBER_CHECK(t.dtype() == ScalarType::Int64 || t.dtype() == ScalarType::Int32, IndexError, "[", op,
                  "] tensors used as indices must be long, int, byte or bool tensors, got ", t.dtype());
      EMBER_CHECK(d < x.dim(), IndexError, "[", op, "] too many indices for tensor of dimension ", x.dim(), ": got ",
                  d + 1);
      a.idx.push_back(t);
      a.dims.push_back(d);
      ++d;
    }
  }
  EMBER_CHECK(d <= x.dim(), IndexError, "[", op, "] too many indices for tensor of dimension ", x.dim(), ": got ", d);
  if (a.idx.empty()) return a;
  for (size_t k = 0; k < a.idx.size(); ++k) {
    const Shape& s = a.idx[k].sizes();
    size_t n = std::max(a.B.size(), s.size());
    Shape r(n);
    bool ok = true;
    for (size_t i = 0; i < n; ++i) {
      int64_t sa = i < n - a.B.size() ? 1 : a.B[i - (n - a.B.size())];
      int64_t sb = i < n - s.size() ? 1 : s[i - (n - s.size())];
      ok &= sa == sb || sa == 1 || sb == 1;
      r[i] = sa == 1 ? sb : sa;
    }
    if (!ok) {
      std::string shapes;
      for (size_t j = 0; j < a.idx.size(); ++j) shapes += (j ? ", " : "") + str(a.idx[j].sizes());
      throw IndexError(str("[", op, "] shape mismatch: indexing tensors could not be broadcast together with shapes ",
                           shapes));
    }
    a.B = r;
  }
  const bool adjacent = a.dims.back() - a.dims.front() + 1 == int64_t(a.dims.size());
  for (int64_t i = 0; i < x.dim(); ++i) {
    if (std::find(a.dims.begin(), a.dims.end(), i) != a.dims.end()) continue;
    if (adjacent && i < a.dims.front()) a.pre.push_back(i);
    else a.post.push_back(i);
  }
  return a;
}

// A bool mask over dims of x that are one run in memory indexes them as one merged dim:
// returns the view of x with such groups merged and the masks flattened (x[mask] on a
// contiguous x then takes the single-index path). Only for a mask that is the only index.
std::pair<Tensor, std::vector<std::optional<Tensor>>> merge_mask_dims(const Tensor& x,
                                                                      const std::vector<std::optional<Tensor>>& in) {
  int64_t tensors = 0;
  for (const auto& e : in) tensors += e.has_value();
  if (tensors != 1) return {x, in};  // (other indices keep their dim numbers in messages)
  std::vector<std::optional<Tensor>> out;
  Shape sz, st;
  int64_t d = 0;
  bool merged = false;
  for (const auto& e : in) {
    int64_t k = 1;
    bool bool_idx = e && (e->dtype() == ScalarType::Bool || e->dtype() == ScalarType::UInt8);
    if (bool_idx) k = std::max<int64_t>(e->dim(), 1);
    if (d + k > x.dim()) return {x, in};  // let prepare_advanced report it
    bool run = bool_idx && k > 1 && e->sizes() == Shape(x.sizes().begin() + d, x.sizes().begin() + d + k);
    for (int64_t i = d; run && i + 1 < d + k; ++i) run = x.strides()[i] == x.strides()[i + 1] * x.sizes()[i + 1];
    if (run) {
      int64_t n = 1;
      for (int64_t i = d; i < d + k; ++i) n *= x.sizes()[i];
      sz.push_back(n);
      st.push_back(x.strides()[d + k - 1]);
      out.push_back(reshape(*e, {n}));
      merged = true;
    } else {
      for (int64_t i = d; i < d + k; ++i) {
        sz.push_back(x.sizes()[i]);
        st.push_back(x.strides()[i]);
      }
      out.push_back(e);
    }
    d += k;
  }
  if (!merged) return {x, in};
  for (int64_t i = d; i < x.dim(); ++i) {
    sz.push_back(x.sizes()[i]);
    st.push_back(x.strides()[i]);
  }
  return {make_view(x, sz, st, x.offset()), out};
}

Offsets advanced_offsets(const char* op, const Tensor& x, const Advanced& a) {
  if (a.idx.size() == 1) return single_offsets(op, x, a.dims[0], a.idx[0], true, a.B);
  return table_offsets(op, x, a.dims, a.idx, a.B);
}

// ---- gather / scatter along a dim ---------------------------------------------------------------

const char* reduce_name(ScatterReduce r) {
  switch (r) {
    case ScatterReduce::Sum: return "sum";
    case ScatterReduce::Prod: return "prod";
    case ScatterReduce::Amax: return "amax";
    case ScatterReduce::Amin: return "amin";
    default: return "none";
  }
}

Shape without(const Shape& s, int64_t dim) {
  Shape r = s;
  r.erase(r.begin() + dim);
  return r;
}

// Checks the ranks and sizes shared by gather and scatter; returns the wrapped dim.
int64_t check_scatter_gather(const char* op, const Tensor& x, int64_t dim, const Tensor& index,
                             const Tensor* src) {
  check_device(op, x, index, "index");
  int64_t nd = std::max<int64_t>(x.dim(), 1);
  dim = wrap_dim(dim, x.dim(), op);
  EMBER_CHECK(std::max<int64_t>(index.dim(), 1) == nd, ValueError, "[", op,
              "] index must have as many dimensions as the input: expected ", x.dim(), ", got ", index.dim());
  Tensor x1 = at_least_1d(x), i1 = at_least_1d(index);
  for (int64_t d = 0; d < nd; ++d)
    EMBER_CHECK(d == dim || i1.sizes()[d] <= x1.sizes()[d], ValueError, "[", op, "] index of shape ", index.sizes(),
                " must be no larger than the input ", x.sizes(), " apart from dimension ", dim);
  if (src) {
    check_device(op, x, *src, "src");
    EMBER_CHECK(std::max<int64_t>(src->dim(), 1) == nd, ValueError, "[", op,
                "] src must have as many dimensions as the input: expected ", x.dim(), ", got ", src->dim());
    Tensor s1 = at_least_1d(*src);
    for (int64_t d = 0; d < nd; ++d)
      EMBER_CHECK(i1.sizes()[d] <= s1.sizes()[d], ValueError, "[", op, "] index of shape ", index.sizes(),
                  " must be no larger than src ", src->sizes());
  }
  return dim;
}

// Runs the scatter/gather kernel: `w` is written, `r` read; the indexed one of them is
// `x`-shaped, the other index-shaped (sub-views of any strides).
bool run_scatter_gather(const char* op, bool gather, ScatterReduce reduce, const Tensor& w, int64_t dim,
                        const Tensor& index, const Tensor& r, int64_t check_size = -1) {
  if (index.numel() == 0) return true;
  Tensor w1 = at_least_1d(w), i1 = at_least_1d(index), r1 = at_least_1d(r);
  const Shape sizes = without(i1.sizes(), dim);
  auto sub = [&](const Tensor& t) { return make_view(t, sizes, without(t.strides(), dim), t.offset()); };
  ScatterGatherPlan pl;
  pl.gather = gather;
  pl.reduce = reduce;
  Tensor wv = sub(w1), iv = sub(i1), rv = sub(r1);
  pl.it = make_iter(op, wv, {iv, rv});
  pl.n = i1.sizes()[dim];
  pl.idx_stride = i1.strides()[dim] * i1.itemsize();
  pl.w_stride = w1.strides()[dim] * w1.itemsize();
  pl.r_stride = r1.strides()[dim] * r1.itemsize();
  pl.dim_stride = gather ? pl.r_stride : pl.w_stride;
  pl.dtype = w.dtype();
  pl.idx_dtype = index.dtype();
  pl.check_size = check_size;
  return scatter_gather_stub(w.device(), pl);
}

Tensor gather_impl(const char* op, const Tensor& x, int64_t dim, const Tensor& index) {
  check_index_dtype(op, index, true);
  dim = check_scatter_gather(op, x, dim, index, nullptr);
  const int64_t size = x.dim() ? x.sizes()[dim] : 1;
  Tensor out = empty(index.sizes(), x.dtype(), x.device());
  // the kernel checks as it reads; on a bad index, find the first one for the message
  if (!run_scatter_gather(op, true, ScatterReduce::None, out, dim, index, x, size))
    check_bounds(op, index, dim, size, false);
  return out;
}

// A 0-d value as a tensor of `shape` (all strides 0) in x's dtype.
Tensor value_view(const Tensor& x, const Scalar& v, const Shape& shape) {
  Tensor s = scalar_tensor(v, x.dtype(), x.device());
  return make_view(s, shape, Shape(shape.size(), 0), 0);
}

// The identity of a reduction in dtype t (lowest / highest value for amax / amin).
Scalar identity(ScatterReduce r, ScalarType t) {
  if (r == ScatterReduce::Prod) return Scalar(int64_t(1));
  if (r != ScatterReduce::Amax && r != ScatterReduce::Amin) return Scalar(int64_t(0));
  const bool max = r == ScatterReduce::Amax;
  Scalar s;
  dispatch<kAllRealMask>(t, "scatter_reduce", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    if constexpr (std::is_same_v<T, bool>) s = Scalar(!max);
    else if constexpr (std::is_integral_v<T>)
      s = Scalar(int64_t(max ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max()));
    else s = Scalar(max ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity());
  });
  return s;
}

// The common front end of the in-place scatters: checks, then the kernel.
void scatter_impl(const char* op, const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src,
                  bool src_is_value, ScatterReduce reduce, bool include_self) {
  check_index_dtype(op, index, true);
  dim = check_scatter_gather(op, x, dim, index, src_is_value ? nullptr : &src);
  EMBER_CHECK(src.dtype() == x.dtype(), TypeError, "[", op, "] src must have the dtype of self: expected ", x.dtype(),
              ", got ", src.dtype());
  check_writable(op, x);
  if ((reduce == ScatterReduce::Amax || reduce == ScatterReduce::Amin) && is_complex(x.dtype()))
    throw TypeError(str("[", op, "] reduce='", reduce_name(reduce), "' does not support complex inputs, got ",
                        x.dtype()));
  check_bounds(op, index, dim, x.dim() ? x.sizes()[dim] : 1, false);
  Tensor s = src.storage() == x.storage() ? clone(src) : src;
  Tensor i = index.storage() == x.storage() ? clone(index) : index;
  if (!include_self)  // the positions written start from the reduction's identity
    run_scatter_gather(op, false, ScatterReduce::None, x, dim, i, value_view(x, identity(reduce, x.dtype()), i.sizes()));
  run_scatter_gather(op, false, reduce, x, dim, i, s);
  x.bump_version();
}

// ---- ops along one dim with a 1-d index (index_select/add/copy/fill) ------------------------------

struct DimIndex {
  int64_t dim;
  Tensor x1;  // x, at least 1-d
  std::vector<int64_t> pre, post;
  Offsets off;
};

DimIndex dim_index(const char* op, const Tensor& x, int64_t dim, const Tensor& index, bool allow_int32,
                   bool allow_negative) {
  check_device(op, x, index, "index");
  check_index_dtype(op, index, allow_int32);
  EMBER_CHECK(index.dim() <= 1, ValueError, "[", op, "] index must be a vector (0-d or 1-d): got shape ",
              index.sizes());
  DimIndex r;
  r.dim = wrap_dim(dim, x.dim(), op);
  r.x1 = at_least_1d(x);
  r.pre = range(0, r.dim);
  r.post = range(r.dim + 1, r.x1.dim());
  Tensor flat = at_least_1d(index);
  if (flat.storage() == x.storage()) flat = clone(flat);  // x may be written
  r.off = single_offsets(op, r.x1, r.dim, flat, allow_negative, {flat.numel()});
  return r;
}

// Checks source's shape against x's with `dim` holding n indices; returns source at least 1-d.
Tensor check_source(const char* op, const Tensor& x, int64_t dim, int64_t n, const Tensor& source) {
  check_device(op, x, source, "source");
  EMBER_CHECK(source.dtype() == x.dtype(), TypeError, "[", op, "] source must have the dtype of self: expected ",
              x.dtype(), ", got ", source.dtype());
  Tensor s1 = at_least_1d(source);
  Tensor x1 = at_least_1d(x);
  EMBER_CHECK(s1.dim() == x1.dim(), ValueError, "[", op, "] source must have as many dimensions as self: expected ",
              x.dim(), ", got ", source.dim());
  EMBER_CHECK(s1.sizes()[dim] == n, ValueError, "[", op, "] the number of indices (", n,
              ") must equal source.size(dim) (", s1.sizes()[dim], ") for dim ", dim);
  for (int64_t d = 0; d < x1.dim(); ++d)
    EMBER_CHECK(d == dim || s1.sizes()[d] == x1.sizes()[d], ValueError, "[", op,
                "] source shape must match self shape apart from dimension ", dim, ": self.shape = ", x.sizes(),
                ", source.shape = ", source.sizes());
  return source.storage() == x.storage() ? clone(s1) : s1;
}

}  // namespace

// ---- advanced indexing ----------------------------------------------------------------------------

static Tensor index_tensor_impl(const Tensor& x_in, const std::vector<std::optional<Tensor>>& indices_in) {
  auto [x, indices] = merge_mask_dims(x_in, indices_in);
  Advanced a = prepare_advanced("index", x, indices);
  if (a.idx.empty()) return clone(x);
  Offsets o = advanced_offsets("index", x, a);
  return run_gather(x, a.pre, o, a.post);
}

static void index_put__impl(const Tensor& x_in, const std::vector<std::optional<Tensor>>& indices_in, const Tensor& value,
                bool accumulate) {
  const char* op = "index_put_";
  check_writable(op, x_in);
  auto [x, indices] = merge_mask_dims(x_in, indices_in);
  Advanced a = prepare_advanced(op, x, indices);
  if (a.idx.empty()) {
    Tensor v = prepare_value(op, x, value, x.sizes());
    if (accumulate) binary(BinaryOp::add, x, v, {1.0}, &x);
    else copy_(x, v);
    return;
  }
  for (Tensor& t : a.idx)
    if (t.storage() == x.storage()) t = clone(t);
  Offsets o = advanced_offsets(op, x, a);
  Shape shape = result_shape(x, a.pre, a.B, a.post);
  Tensor v = prepare_value(op, x, value, shape);
  run_put(x, a.pre, o, a.post, v, accumulate);
}

// ---- index_select / index_add_ / index_copy_ / index_fill_ -------------------------------------------

static Tensor index_select_impl(const Tensor& x, int64_t dim, const Tensor& index, const Tensor* out) {
  const char* op = "index_select";
  DimIndex di = dim_index(op, x, dim, index, true, false);
  Tensor r = run_gather(di.x1, di.pre, di.off, di.post);
  if (x.dim() == 0) {
    EMBER_CHECK(r.numel() == 1, ValueError, "[", op, "] a 0-d input takes a single index, got ", r.numel());
    r = make_view(r, {}, {}, r.offset());
  }
  return write_out(op, out, r);
}

static Tensor index_add__impl(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha) {
  const char* op = "index_add_";
  DimIndex di = dim_index(op, x, dim, index, true, false);
  check_writable(op, x);
  Tensor s = check_source(op, x, di.dim, di.off.idx.numel(), source);
  run_put(di.x1, di.pre, di.off, di.post, s, true, alpha);
  return x;
}

static Tensor index_copy__impl(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source) {
  const char* op = "index_copy_";
  DimIndex di = dim_index(op, x, dim, index, false, false);
  check_writable(op, x);
  Tensor s = check_source(op, x, di.dim, di.off.idx.numel(), source);
  run_put(di.x1, di.pre, di.off, di.post, s, false);
  return x;
}

static Tensor index_fill__impl(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& value) {
  const char* op = "index_fill_";
  EMBER_CHECK(value.dim() == 0, ValueError, "[", op, "] value must be a number or a 0-d tensor, got shape ",
              value.sizes());
  DimIndex di = dim_index(op, x, dim, index, false, true);
  check_writable(op, x);
  Shape shape = di.x1.sizes();
  shape[di.dim] = di.off.idx.numel();
  run_put(di.x1, di.pre, di.off, di.post, value_view(x, item(value), shape), false);
  return x;
}

// ---- gather / scatter ------------------------------------------------------------------------------

static Tensor gather_impl(const Tensor& x, int64_t dim, const Tensor& index, const Tensor* out) {
  return write_out("gather", out, gather_impl("gather", x, dim, index));
}

static ScatterReduce legacy_reduce(const std::string& reduce) {
  if (reduce.empty()) return ScatterReduce::None;
  if (reduce == "add") return ScatterReduce::Sum;
  if (reduce == "multiply") return ScatterReduce::Prod;
  throw ValueError(str("[scatter] reduce must be 'add' or 'multiply', got '", reduce, "'"));
}

static Tensor scatter__impl(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src, const std::string& reduce) {
  scatter_impl("scatter", x, dim, index, src, false, legacy_reduce(reduce), true);
  return x;
}

static Tensor scatter_value__impl(const Tensor& x, int64_t dim, const Tensor& index, const Scalar& value,
                      const std::string& reduce) {
  ScatterReduce r = legacy_reduce(reduce);
  scatter_impl("scatter", x, dim, index, value_view(x, value, index.sizes()), true, r, true);
  return x;
}

static Tensor scatter_add__impl(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  scatter_impl("scatter_add", x, dim, index, src, false, ScatterReduce::Sum, true);
  return x;
}

static Tensor scatter_reduce__impl(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src, const std::string& reduce,
                       bool include_self) {
  const char* op = "scatter_reduce";
  ScatterReduce r;
  bool mean = reduce == "mean";
  if (reduce == "sum" || mean) r = ScatterReduce::Sum;
  else if (reduce == "prod") r = ScatterReduce::Prod;
  else if (reduce == "amax") r = ScatterReduce::Amax;
  else if (reduce == "amin") r = ScatterReduce::Amin;
  else
    throw ValueError(str("[", op, "] reduce must be one of 'sum', 'prod', 'mean', 'amax' or 'amin', got '", reduce,
                         "'"));
  EMBER_CHECK(!(mean && x.dtype() == ScalarType::Bool), TypeError, "[", op,
              "] reduce='mean' does not support bool inputs, got ember.bool");
  scatter_impl(op, x, dim, index, src, false, r, include_self);
  if (mean && index.numel() > 0) {
    Tensor count = full(x.sizes(), Scalar(int64_t(include_self ? 1 : 0)), x.dtype(), x.device());
    run_scatter_gather(op, false, ScatterReduce::Sum, count, wrap_dim(dim, x.dim(), op), index,
                       value_view(x, Scalar(int64_t(1)), index.sizes()));
    Tensor zero = binary(BinaryOp::eq, count, wrap_scalar(Scalar(int64_t(0))));
    Tensor one = scalar_tensor(Scalar(int64_t(1)), x.dtype(), x.device());
    count = where(zero, one, count);
    bool exact = is_floating(x.dtype()) || is_complex(x.dtype());
    binary(exact ? BinaryOp::div : BinaryOp::div_floor, x, count, {}, &x);
  }
  return x;
}

// ---- masks and nonzero ------------------------------------------------------------------------------

Tensor nonzero(const Tensor& x, const Tensor* out) {
  return write_out("nonzero", out, nonzero_stub(x.device(), contiguous(x), false));
}

std::vector<Tensor> nonzero_tuple(const Tensor& x) {
  Tensor nz = nonzero_stub(x.device(), contiguous(at_least_1d(x)), true);
  return unbind(nz, 0);
}

static void check_mask(const char* op, const Tensor& x, const Tensor& mask) {
  check_device(op, x, mask, "mask");
  EMBER_CHECK(mask.dtype() == ScalarType::Bool, TypeError, "[", op, "] mask must be a bool tensor: expected ember.bool, got ",
              mask.dtype());
}

static Tensor masked_select_impl(const Tensor& x, const Tensor& mask, const Tensor* out) {
  const char* op = "masked_select";
  check_mask(op, x, mask);
  Shape shape = broadcast_shapes(op, x.sizes(), mask.sizes());
  Tensor xb = expand(x, shape), mb = expand(mask, shape);
  Tensor r;
  if (xb.is_contiguous() && mb.is_contiguous()) {
    Tensor xf = make_view(xb, {xb.numel()}, {1}, xb.offset());
    Tensor mf = make_view(mb, {mb.numel()}, {1}, mb.offset());
    r = index_tensor(xf, {mf});
  } else {
    r = index_tensor(at_least_1d(xb), {at_least_1d(mb)});
  }
  return write_out(op, out, r);
}

static Tensor masked_scatter__impl(const Tensor& x, const Tensor& mask, const Tensor& source) {
  const char* op = "masked_scatter_";
  check_mask(op, x, mask);
  check_device(op, x, source, "source");
  EMBER_CHECK(source.dtype() == x.dtype(), TypeError, "[", op, "] source must have the dtype of self: expected ",
              x.dtype(), ", got ", source.dtype());
  EMBER_CHECK(broadcastable_to(mask.sizes(), x.sizes()), ValueError, "[", op, "] mask of shape ", mask.sizes(),
              " cannot be broadcast to the tensor's shape ", x.sizes());
  check_writable(op, x);
  Tensor m = contiguous(expand(mask, x.sizes()));
  Tensor x1 = at_least_1d(x);
  Tensor nz = nonzero_stub(m.device(), flat_view(m).value(), true);  // (1, N)
  const int64_t n = nz.sizes()[1];
  EMBER_CHECK(source.numel() >= n, ValueError, "[", op, "] source has fewer elements (", source.numel(),
              ") than mask has True values (", n, "): expected at least ", n);
  if (n == 0) return x;
  Tensor src = reshape(source, {-1});
  if (src.storage() == x.storage()) src = clone(src);
  src = narrow(src, 0, 0, n);
  Offsets o;
  if (auto xf = flat_view(x1)) {
    o = single_offsets(op, *xf, 0, select(nz, 0, 0), false, {n});
    run_put(*xf, {}, o, {}, src, false);
  } else {
    Tensor nzc = nonzero_stub(m.device(), at_least_1d(m), true);  // (ndim, N)
    std::vector<int64_t> dims = range(0, x1.dim());
    std::vector<Tensor> idx;
    for (int64_t d = 0; d < x1.dim(); ++d) idx.push_back(select(nzc, 0, d));
    o = table_offsets(op, x1, dims, idx, {n});
    run_put(x1, {}, o, {}, src, false);
  }
  return x;
}

Tensor masked_scatter(const Tensor& x, const Tensor& mask, const Tensor& source) {
  Shape shape = broadcast_shapes("masked_scatter", x.sizes(), mask.sizes());
  Tensor r = clone(expand(x, shape));
  return masked_scatter_(r, mask, source);
}

// ---- take / take_along_dim / put_ ---------------------------------------------------------------------

static Tensor take_impl(const Tensor& x, const Tensor& index, const Tensor* out) {
  const char* op = "take";
  check_device(op, x, index, "index");
  check_index_dtype(op, index, false);
  Tensor xf = reshape(x, {-1});
  Offsets o = single_offsets(op, xf, 0, index, true, index.sizes());
  return write_out(op, out, run_gather(xf, {}, o, {}));
}

Tensor take_along_dim(const Tensor& x, const Tensor& indices, std::optional<int64_t> dim, const Tensor* out) {
  const char* op = "take_along_dim";
  check_device(op, x, indices, "indices");
  check_index_dtype(op, indices, false);
  auto gat = [&](const Tensor& a, int64_t d, const Tensor& i) {
    return autograd::any_requires_grad({a}) ? gather(a, d, i) : gather_impl(op, a, d, i);
  };
  if (!dim) return write_out(op, out, gat(reshape(x, {-1}), 0, reshape(indices, {-1})));
  EMBER_CHECK(x.dim() == indices.dim(), ValueError, "[", op,
              "] input and indices must have the same number of dimensions: expected ", x.dim(), ", got ",
              indices.dim());
  int64_t d = wrap_dim(*dim, x.dim(), op);
  Tensor x1 = at_least_1d(x), i1 = at_least_1d(indices);
  Shape sx = x1.sizes(), si = i1.sizes();
  sx[d] = 1;
  si[d] = 1;
  Shape b = broadcast_shapes(op, sx, si);
  Shape bx = b, bi = b;
  bx[d] = x1.sizes()[d];
  bi[d] = i1.sizes()[d];
  Tensor r = gat(expand(x1, bx), d, expand(i1, bi));
  if (x.dim() == 0) r = reshape(r, {});
  return write_out(op, out, r);
}

static Tensor put__impl(const Tensor& x, const Tensor& index, const Tensor& source, bool accumulate) {
  const char* op = "put_";
  check_device(op, x, index, "index");
  check_device(op, x, source, "source");
  check_index_dtype(op, index, false);
  EMBER_CHECK(source.dtype() == x.dtype(), TypeError, "[", op, "] source must have the dtype of self: expected ",
              x.dtype(), ", got ", source.dtype());
  EMBER_CHECK(source.numel() == index.numel(), ValueError, "[", op,
              "] source and index must have the same number of elements: got source.numel() = ", source.numel(),
              " and index.numel() = ", index.numel());
  check_writable(op, x);
  auto xf = flat_view(x);
  Tensor target = xf ? *xf : reshape(clone(x), {-1});
  Tensor idx = reshape(index, {-1});
  if (idx.storage() == x.storage()) idx = clone(idx);
  Offsets o = single_offsets(op, target, 0, idx, true, {idx.numel()});
  Tensor src = reshape(source, {-1});
  if (src.storage() == x.storage()) src = clone(src);
  run_put(target, {}, o, {}, src, accumulate);
  if (!xf) copy_(x, make_view(target, x.sizes(), contiguous_strides(x.sizes()), target.offset()));
  return x;
}

// ---- autograd: the index ops record their nodes; gradients scatter or gather back ----------

using namespace autograd;

namespace {
using Indices = std::vector<std::optional<Tensor>>;
Tensor zero_scalar(const Tensor& like) { return scalar_tensor(Scalar(0.0), like.dtype(), like.device()); }
}  // namespace

Tensor index_tensor(const Tensor& x, const Indices& indices) {
  Recorder rec("index", {x});
  Tensor r = index_tensor_impl(x, indices);
  if (!rec) return r;
  rec.set_outputs({r});
  Shape xs = x.sizes();
  rec.node().fn = [xs, indices](FnNode&, variable_list& g) {
    Tensor z = zeros(xs, g[0].dtype(), g[0].device());
    index_put_(z, indices, g[0], true);
    return variable_list{z};
  };
  return r;
}

void index_put_(const Tensor& x, const Indices& indices, const Tensor& value, bool accumulate) {
  Recorder rec("index_put_", {x, value}, &x);
  index_put__impl(x, indices, value, accumulate);
  if (!rec) return;
  rec.set_outputs({x});
  rec.node().fn = [indices, accumulate](FnNode& n, variable_list& g) {
    Tensor gx, gv;
    if (n.needs_input_grad(0)) {
      gx = g[0];
      if (!accumulate) {
        gx = clone(g[0]);
        index_put_(gx, indices, zero_scalar(gx), false);
      }
    }
    if (n.needs_input_grad(1)) gv = index_tensor(g[0], indices);
    return variable_list{gx, gv};
  };
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index, const Tensor* out) {
  Recorder rec("index_select", {x}, out);
  Tensor r = index_select_impl(x, dim, index, out);
  if (!rec) return r;
  rec.set_outputs({r});
  Shape xs = x.sizes();
  int64_t d = xs.empty() ? 0 : wrap_dim(dim, int64_t(xs.size()), "index_select");
  rec.node().fn = [xs, d, index](FnNode&, variable_list& g) {
    if (xs.empty()) return variable_list{reshape(g[0], xs)};
    Tensor z = zeros(xs, g[0].dtype(), g[0].device());
    return variable_list{index_add_(z, d, index, g[0], Scalar(int64_t(1)))};
  };
  return r;
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor* out) {
  Recorder rec("gather", {x}, out);
  Tensor r = gather_impl(x, dim, index, out);
  if (!rec) return r;
  rec.set_outputs({r});
  Shape xs = x.sizes();
  int64_t d = xs.empty() ? 0 : wrap_dim(dim, int64_t(xs.size()), "gather");
  rec.node().fn = [xs, d, index](FnNode&, variable_list& g) {
    if (xs.empty()) return variable_list{reshape(g[0], xs)};
    Tensor z = zeros(xs, g[0].dtype(), g[0].device());
    return variable_list{scatter_add_(z, d, index, g[0])};
  };
  return r;
}

Tensor scatter_(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src, const std::string& reduce) {
  Recorder rec("scatter", {x, src}, &x);
  scatter__impl(x, dim, index, src, reduce);
  if (!rec) return x;
  rec.set_outputs({x});
  if (!reduce.empty()) return x;  // no derivative: backward raises "[scatter] the derivative is not implemented"
  rec.node().fn = [dim, index](FnNode& n, variable_list& g) {
    return variable_list{n.needs_input_grad(0) ? scatter_value_(clone(g[0]), dim, index, Scalar(0.0), "") : Tensor(),
                         n.needs_input_grad(1) ? gather(g[0], dim, index) : Tensor()};
  };
  return x;
}

Tensor scatter_value_(const Tensor& x, int64_t dim, const Tensor& index, const Scalar& value, const std::string& reduce) {
  Recorder rec("scatter", {x}, &x);
  scatter_value__impl(x, dim, index, value, reduce);
  if (!rec) return x;
  rec.set_outputs({x});
  if (!reduce.empty()) return x;  // no derivative: backward raises
  rec.node().fn = [dim, index](FnNode&, variable_list& g) {
    return variable_list{scatter_value_(clone(g[0]), dim, index, Scalar(0.0), "")};
  };
  return x;
}

Tensor scatter_add_(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  Recorder rec("scatter_add", {x, src}, &x);
  scatter_add__impl(x, dim, index, src);
  if (!rec) return x;
  rec.set_outputs({x});
  rec.node().fn = [dim, index](FnNode& n, variable_list& g) {
    return variable_list{g[0], n.needs_input_grad(1) ? gather(g[0], dim, index) : Tensor()};
  };
  return x;
}

Tensor scatter_reduce_(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src, const std::string& reduce,
                       bool include_self) {
  Recorder rec("scatter_reduce", {x, src}, &x);
  const bool extreme = reduce == "amax" || reduce == "amin";
  Tensor x0 = rec && extreme ? clone(x) : Tensor();  // the values before the in-place reduction
  scatter_reduce__impl(x, dim, index, src, reduce, include_self);
  if (!rec) return x;
  rec.set_outputs({x});
  // positions that received src elements (they lose self's value when include_self is false)
  Tensor hit;
  if (!include_self || reduce == "mean") {
    Tensor cnt = zeros(x.sizes(), x.dtype(), x.device());
    scatter_add_(cnt, dim, index, ones(src.sizes(), x.dtype(), x.device()));
    hit = cnt;
  }
  FnNode& n = rec.node();
  if (reduce == "sum") {
    n.fn = [dim, index, include_self, hit](FnNode& n, variable_list& g) {
      Tensor gx;
      if (n.needs_input_grad(0)) gx = include_self ? g[0] : autograd::zero_where(hit > 0.0, g[0]);
      return variable_list{gx, n.needs_input_grad(1) ? gather(g[0], dim, index) : Tensor()};
    };
  } else if (reduce == "mean") {
    // each output is the mean of its contributors: N of them (self included or not)
    Tensor N = include_self ? hit + 1.0 : hit;
    N = where(N == 0.0, autograd::sc(1.0), N);
    n.fn = [dim, index, include_self, hit, N](FnNode& n, variable_list& g) {
      Tensor gn = g[0] / N, gx;
      if (n.needs_input_grad(0)) gx = include_self ? gn : autograd::zero_where(hit > 0.0, gn);
      return variable_list{gx, n.needs_input_grad(1) ? gather(gn, dim, index) : Tensor()};
    };
  } else if (extreme) {
    // the gradient is shared evenly by the contributors equal to the result
    n.slot[0] = uint16_t(n.save(x0));
    n.slot[1] = uint16_t(n.save(src));
    n.slot[2] = uint16_t(n.save_output(x));
    n.fn = [dim, index, include_self, hit](FnNode& n, variable_list& g) {
      Tensor x0 = n.get(n.slot[0]), s = n.get(n.slot[1]), r = n.get(n.slot[2]);
      Tensor self_is = x0 == r;
      if (!include_self) self_is = self_is & !(hit > 0.0);
      Tensor src_is = s == gather(r, dim, index);
      Tensor cnt = to_dtype(self_is, g[0].dtype());
      cnt = scatter_add_(cnt, dim, index, to_dtype(src_is, g[0].dtype()));
      Tensor share = g[0] / where(cnt == 0.0, autograd::sc(1.0), cnt);
      return variable_list{n.needs_input_grad(0) ? autograd::keep(self_is, share) : Tensor(),
                           n.needs_input_grad(1) ? autograd::keep(src_is, gather(share, dim, index)) : Tensor()};
    };
  }
  // prod: no derivative yet; backward raises "[scatter_reduce] the derivative is not implemented"
  return x;
}

Tensor index_add_(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha) {
  Recorder rec("index_add", {x, source}, &x);
  index_add__impl(x, dim, index, source, alpha);
  if (!rec) return x;
  rec.set_outputs({x});
  double a = alpha.to_double();
  bool zero_d = x.dim() == 0;
  rec.node().fn = [dim, index, a, zero_d](FnNode& n, variable_list& g) {
    Tensor gs;
    if (n.needs_input_grad(1)) {
      gs = zero_d ? g[0] : index_select(g[0], dim, index);
      if (a != 1.0) gs = autograd::operator*(gs, a);
    }
    return variable_list{g[0], gs};
  };
  return x;
}

Tensor index_copy_(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source) {
  Recorder rec("index_copy", {x, source}, &x);
  index_copy__impl(x, dim, index, source);
  if (!rec) return x;
  rec.set_outputs({x});
  rec.node().fn = [dim, index](FnNode& n, variable_list& g) {
    return variable_list{n.needs_input_grad(0) ? index_fill_(clone(g[0]), dim, index, zero_scalar(g[0])) : Tensor(),
                         n.needs_input_grad(1) ? index_select(g[0], dim, index) : Tensor()};
  };
  return x;
}

Tensor index_fill_(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& value) {
  Recorder rec("index_fill", {x, value}, &x);
  index_fill__impl(x, dim, index, value);
  if (!rec) return x;
  rec.set_outputs({x});
  rec.node().fn = [dim, index](FnNode& n, variable_list& g) {
    return variable_list{n.needs_input_grad(0) ? index_fill_(clone(g[0]), dim, index, zero_scalar(g[0])) : Tensor(),
                         n.needs_input_grad(1) ? sum(index_select(g[0], dim, index), std::nullopt, false, std::nullopt)
                                               : Tensor()};
  };
  return x;
}

Tensor masked_select(const Tensor& x, const Tensor& mask, const Tensor* out) {
  Recorder rec("masked_select", {x}, out);
  Tensor r = masked_select_impl(x, mask, out);
  if (!rec) return r;
  rec.set_outputs({r});
  Shape shape = broadcast_shapes("masked_select", x.sizes(), mask.sizes());
  rec.node().fn = [shape, mask](FnNode&, variable_list& g) {
    Tensor z = zeros(shape, g[0].dtype(), g[0].device());
    return variable_list{masked_scatter_(z, expand(mask, shape), g[0])};
  };
  return r;
}

Tensor masked_scatter_(const Tensor& x, const Tensor& mask, const Tensor& source) {
  Recorder rec("masked_scatter", {x, source}, &x);
  masked_scatter__impl(x, mask, source);
  if (!rec) return x;
  rec.set_outputs({x});
  Shape ss = source.sizes();
  rec.node().fn = [mask, ss](FnNode& n, variable_list& g) {
    Tensor gx, gs;
    Tensor mb = expand(mask, g[0].sizes());
    if (n.needs_input_grad(0)) gx = autograd::zero_where(mb, g[0]);
    if (n.needs_input_grad(1)) {
      Tensor picked = masked_select(g[0], mb);
      int64_t total = 1;
      for (int64_t s : ss) total *= s;
      Tensor rest = zeros({total - picked.numel()}, g[0].dtype(), g[0].device());
      gs = reshape(cat({picked, rest}, 0), ss);
    }
    return variable_list{gx, gs};
  };
  return x;
}

Tensor take(const Tensor& x, const Tensor& index, const Tensor* out) {
  Recorder rec("take", {x}, out);
  Tensor r = take_impl(x, index, out);
  if (!rec) return r;
  rec.set_outputs({r});
  Shape xs = x.sizes();
  rec.node().fn = [xs, index](FnNode&, variable_list& g) {
    Tensor z = zeros(xs, g[0].dtype(), g[0].device());
    return variable_list{put_(z, index, g[0], true)};
  };
  return r;
}

Tensor put_(const Tensor& x, const Tensor& index, const Tensor& source, bool accumulate) {
  Recorder rec("put", {x, source}, &x);
  put__impl(x, index, source, accumulate);
  if (!rec) return x;
  rec.set_outputs({x});
  rec.node().fn = [index, accumulate](FnNode& n, variable_list& g) {
    Tensor gx, gs;
    if (n.needs_input_grad(0)) {
      gx = g[0];
      if (!accumulate) gx = put_(clone(g[0]), index, zeros(index.sizes(), g[0].dtype(), g[0].device()), false);
    }
    if (n.needs_input_grad(1)) gs = take(g[0], index);
    return variable_list{gx, gs};
  };
  return x;
}

}  // namespace ember
