// Front ends of the shape ops (see shape.h): argument checks, dtype rules, output shapes
// and the per-dim index maps that the remap kernel walks.
#include "shape.h"

#include "../autograd/record.h"

#include <algorithm>
#include <limits>

#include "creation.h"
#include "elementwise.h"
#include "index.h"
#include "view.h"

namespace ember {

DispatchStub<RemapKernel> remap_stub("remap");
DispatchStub<CatKernel> cat_stub("cat");
DispatchStub<TriKernel> tri_stub("tril");

namespace {

void check_out_tensor(const char* op, const Tensor& out, const Shape& shape, ScalarType dtype) {
  EMBER_CHECK(out.sizes() == shape, ValueError, "[", op, "] output has the wrong shape: expected ", shape, ", got ",
              out.sizes());
  EMBER_CHECK(can_cast(dtype, out.dtype()), TypeError, "[", op, "] result type ", dtype,
              " can't be cast to the desired output type ", out.dtype());
  for (int64_t d = 0; d < out.dim(); ++d)
    EMBER_CHECK(out.strides()[d] != 0 || out.sizes()[d] <= 1, ValueError, "[", op,
                "] cannot write into an expanded tensor: dimension ", d, " has stride 0; call .clone() first");
}

void check_nonempty(const char* op, const std::vector<Tensor>& ts) {
  EMBER_CHECK(!ts.empty(), ValueError, "[", op, "] expected a non-empty list of tensors, got an empty list");
}

// Reads a small integer tensor (repeats) on the host (one copy back from a GPU).
std::vector<int64_t> host_ints(const Tensor& t) {
  Tensor c = contiguous(t.device().is_cpu() ? to_dtype(t, ScalarType::Int64)
                                            : to_device(t, Device(), ScalarType::Int64));
  const int64_t* p = c.data<int64_t>();
  return std::vector<int64_t>(p, p + c.numel());
}

std::vector<int64_t> iota_map(int64_t n, int64_t (*f)(int64_t, int64_t, int64_t), int64_t n_in, int64_t a) {
  std::vector<int64_t> m(size_t(std::max<int64_t>(n, 0)));
  for (int64_t k = 0; k < n; ++k) m[k] = f(k, n_in, a);
  return m;
}

}  // namespace

Tensor write_out(const char* op, const Tensor& result, const Tensor* out) {
  if (!out) return result;
  check_out_tensor(op, *out, result.sizes(), result.dtype());
  copy_(*out, result);
  return *out;
}

static Tensor remap_impl(const Tensor& x, const Shape& sizes, const DimMaps& maps, const Tensor& fill) {
  Tensor out = empty(sizes, x.dtype(), x.device());
  if (out.numel() == 0) return out;
  remap_stub(x.device(), out, x, maps, fill);
  return out;
}

// ---- cat and the stacks ---------------------------------------------------------------
static Tensor cat_impl(const std::vector<Tensor>& ts, int64_t dim, const Tensor* out) {
  check_nonempty("cat", ts);
  const Tensor* ref = nullptr;
  ScalarType dt = ts[0].dtype();
  for (size_t i = 0; i < ts.size(); ++i) {
    const Tensor& t = ts[i];
    EMBER_CHECK(t.dim() > 0, ValueError, "[cat] zero-dimensional tensor (at position ", i,
                ") cannot be concatenated: expected tensors with at least 1 dimension; use stack or unsqueeze");
    EMBER_CHECK(t.device() == ts[0].device(), ValueError, "[cat] expected all tensors on the same device, got ",
                ts[0].device(), " and ", t.device(), " for tensor ", i);
    if (i) dt = promote_types(dt, t.dtype());
    // legacy rule: 1-d empty tensors are skipped whatever their companions' shapes
    if (!ref && !(t.dim() == 1 && t.numel() == 0)) ref = &t;
  }
  if (!ref) {
    wrap_dim(dim, 1, "cat");
    Tensor r = empty({0}, dt, ts[0].device());
    if (out) check_out_tensor("cat", *out, r.sizes(), dt);
    return out ? *out : r;
  }
  dim = wrap_dim(dim, ref->dim(), "cat");
  Shape shape = ref->sizes();
  shape[dim] = 0;
  for (size_t i = 0; i < ts.size(); ++i) {
    const Tensor& t = ts[i];
    if (t.dim() == 1 && t.numel() == 0) continue;
    EMBER_CHECK(t.dim() == ref->dim(), ValueError, "[cat] tensors must have the same number of dimensions: expected ",
                ref->dim(), ", got ", t.dim(), " for tensor ", i);
    for (int64_t d = 0; d < t.dim(); ++d)
      EMBER_CHECK(d == dim || t.sizes()[d] == ref->sizes()[d], ValueError,
                  "[cat] sizes of tensors must match except in dimension ", dim, ": expected ", ref->sizes()[d],
                  ", got ", t.sizes()[d], " for tensor ", i, " at dimension ", d);
    shape[dim] += t.sizes()[dim];
  }
  checked_numel(shape, "cat");
  Tensor target;
  if (out) {
    check_out_tensor("cat", *out, shape, dt);
    bool alias = false;
    for (const Tensor& t : ts) alias = alias || may_overlap(*out, t);
    if (!alias) target = *out;
  }
  if (!target.defined()) target = empty(shape, out ? out->dtype() : dt, ts[0].device());
  if (target.numel() > 0) {
    std::vector<Tensor> fast;
    std::vector<int64_t> offsets;
    int64_t off = 0;
    for (const Tensor& t : ts) {
      if (t.dim() == 1 && t.numel() == 0) continue;
      int64_t len = t.sizes()[dim];
      if (t.numel() > 0) {
        if (target.is_contiguous() && t.is_contiguous() && t.dtype() == target.dtype()) {
          fast.push_back(t);
          offsets.push_back(off);
        } else {
          copy_(narrow(target, dim, off, len), t);
        }
      }
      off += len;
    }
    if (!fast.empty()) cat_stub(target.device(), target, fast, offsets, dim);
  }
  if (!out) return target;
  if (!target.is_same(*out)) copy_(*out, target);
  out->bump_version();
  return *out;
}

Tensor stack(const std::vector<Tensor>& ts, int64_t dim, const Tensor* out) {
  check_nonempty("stack", ts);
  for (size_t i = 1; i < ts.size(); ++i)
    EMBER_CHECK(ts[i].sizes() == ts[0].sizes(), ValueError, "[stack] expected each tensor to be equal size: got ",
                ts[0].sizes(), " at entry 0 and ", ts[i].sizes(), " at entry ", i);
  dim = wrap_dim(dim, ts[0].dim() + 1, "stack");
  std::vector<Tensor> u;
  u.reserve(ts.size());
  for (const Tensor& t : ts) u.push_back(unsqueeze(t, dim));
  return cat(u, dim, out);
}

Tensor hstack(const std::vector<Tensor>& ts, const Tensor* out) {
  check_nonempty("hstack", ts);
  std::vector<Tensor> u;
  for (const Tensor& t : ts) u.push_back(atleast_1d(t));
  return cat(u, u[0].dim() == 1 ? 0 : 1, out);
}

Tensor vstack(const std::vector<Tensor>& ts, const Tensor* out) {
  check_nonempty("vstack", ts);
  std::vector<Tensor> u;
  for (const Tensor& t : ts) u.push_back(atleast_2d(t));
  return cat(u, 0, out);
}

Tensor dstack(const std::vector<Tensor>& ts, const Tensor* out) {
  check_nonempty("dstack", ts);
  std::vector<Tensor> u;
  for (const Tensor& t : ts) u.push_back(atleast_3d(t));
  return cat(u, 2, out);
}

Tensor column_stack(const std::vector<Tensor>& ts, const Tensor* out) {
  check_nonempty("column_stack", ts);
  std::vector<Tensor> u;
  for (const Tensor& t : ts) u.push_back(t.dim() <= 1 ? reshape(t, {t.numel(), 1}) : t);
  return cat(u, 1, out);
}

// ---- flip, roll, repeat, tile, repeat_interleave ---------------------------------------
Tensor flip(const Tensor& x, const Shape& dims) {
  std::vector<bool> seen(size_t(std::max<int64_t>(x.dim(), 1)), false);
  for (int64_t d : dims) {
    int64_t w = wrap_dim(d, x.dim(), "flip");
    EMBER_CHECK(!seen[w], ValueError, "[flip] dim ", w, " appears multiple times in the list of dims ", dims);
    seen[w] = true;
  }
  if (x.dim() == 0) return clone(x);
  DimMaps maps(x.dim());
  for (int64_t d = 0; d < x.dim(); ++d)
    if (seen[d] && x.sizes()[d] > 1)
      maps[d] = iota_map(x.sizes()[d], [](int64_t k, int64_t n, int64_t) { return n - 1 - k; }, x.sizes()[d], 0);
  return remap(x, x.sizes(), maps);
}

Tensor fliplr(const Tensor& x) {
  EMBER_CHECK(x.dim() >= 2, ValueError, "[fliplr] input must be at least 2-d, got ", x.dim(), "-d");
  return flip(x, {1});
}

Tensor flipud(const Tensor& x) {
  EMBER_CHECK(x.dim() >= 1, ValueError, "[flipud] input must be at least 1-d, got 0-d");
  return flip(x, {0});
}

Tensor roll(const Tensor& x, const Shape& shifts, const Shape& dims) {
  if (dims.empty()) {
    EMBER_CHECK(shifts.size() == 1, ValueError, "[roll] without dims, expected a single shift (the tensor is "
                "flattened), got ", shifts.size(), " shifts");
    if (x.dim() == 0) return clone(x);
    Tensor flat = reshape(x, {-1});
    return view(roll(flat, shifts, {0}), x.sizes());
  }
  EMBER_CHECK(shifts.size() == dims.size(), ValueError, "[roll] shifts and dims must align: got ", shifts.size(),
              " shifts and ", dims.size(), " dims");
  std::vector<int64_t> total(size_t(std::max<int64_t>(x.dim(), 1)), 0);
  for (size_t i = 0; i < dims.size(); ++i) total[wrap_dim(dims[i], x.dim(), "roll")] += shifts[i];
  if (x.dim() == 0) return clone(x);
  DimMaps maps(x.dim());
  for (int64_t d = 0; d < x.dim(); ++d) {
    int64_t n = x.sizes()[d];
    if (n == 0) continue;
    int64_t s = ((total[d] % n) + n) % n;
    if (s == 0) continue;
    maps[d] = iota_map(n, [](int64_t k, int64_t n, int64_t s) { return (k - s + n) % n; }, n, s);
  }
  return remap(x, x.sizes(), maps);
}

Tensor repeat(const Tensor& x, const Shape& repeats) {
  EMBER_CHECK(int64_t(repeats.size()) >= x.dim(), ValueError,
              "[repeat] number of repeat dims can not be smaller than the number of dimensions of the tensor: "
              "expected at least ", x.dim(), ", got ", repeats.size());
  for (int64_t r : repeats)
    EMBER_CHECK(r >= 0, ValueError, "[repeat] repeats must be non-negative, got ", repeats);
  Tensor xv = x;
  while (xv.dim() < int64_t(repeats.size())) xv = unsqueeze(xv, 0);
  Shape sizes(repeats.size());
  for (size_t d = 0; d < repeats.size(); ++d) {
    int64_t s = xv.sizes()[d];
    EMBER_CHECK(s == 0 || repeats[d] <= std::numeric_limits<int64_t>::max() / s, ValueError,
                "[repeat] size overflow: ", s, " x ", repeats[d], " at dimension ", d, " does not fit in int64");
    sizes[d] = s * repeats[d];
  }
  checked_numel(sizes, "repeat");
  DimMaps maps(repeats.size());
  for (size_t d = 0; d < repeats.size(); ++d) {
    int64_t s = xv.sizes()[d];
    if (repeats[d] != 1 && s > 0 && sizes[d] > 0)
      maps[d] = iota_map(sizes[d], [](int64_t k, int64_t s, int64_t) { return k % s; }, s, 0);
  }
  return remap(xv, sizes, maps);
}

Tensor tile(const Tensor& x, const Shape& dims) {
  Shape r = dims;
  while (int64_t(r.size()) < x.dim()) r.insert(r.begin(), 1);
  for (int64_t v : r) EMBER_CHECK(v >= 0, ValueError, "[tile] dims must be non-negative, got ", dims);
  return repeat(x, r);
}

namespace {
// repeat_interleave with per-index counts along dim of x (x already flattened if dim was None)
Tensor repeat_counts(const Tensor& x, int64_t dim, const std::vector<int64_t>& counts,
                     std::optional<int64_t> output_size) {
  int64_t n = x.sizes()[dim];
  EMBER_CHECK(int64_t(counts.size()) == n, ValueError, "[repeat_interleave] repeats must have the same size as "
              "input along dim: expected ", n, ", got ", counts.size());
  int64_t total = 0;
  for (int64_t c : counts) {
    EMBER_CHECK(c >= 0, ValueError, "[repeat_interleave] repeats must be non-negative, got ", c);
    EMBER_CHECK(!__builtin_add_overflow(total, c, &total), ValueError,
                "[repeat_interleave] size overflow: the sum of repeats does not fit in int64");
  }
  EMBER_CHECK(!output_size || *output_size == total, ValueError, "[repeat_interleave] output_size does not match "
              "the sum of repeats: expected ", total, ", got ", *output_size);
  Shape out_sizes = x.sizes();
  out_sizes[dim] = total;
  checked_numel(out_sizes, "repeat_interleave");
  DimMaps maps(x.dim());
  std::vector<int64_t>& m = maps[dim];
  m.reserve(size_t(total));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < counts[i]; ++j) m.push_back(i);
  Shape sizes = x.sizes();
  sizes[dim] = total;
  return remap(x, sizes, maps);
}

Tensor interleave_input(const Tensor& x, std::optional<int64_t>& dim) {
  if (!dim) {
    dim = 0;
    return reshape(x, {-1});
  }
  EMBER_CHECK(x.dim() > 0 || *dim == 0 || *dim == -1, IndexError, "[repeat_interleave] dim out of range for a 0-d "
              "input: got ", *dim);
  Tensor xv = x.dim() == 0 ? reshape(x, {1}) : x;
  dim = wrap_dim(*dim, xv.dim(), "repeat_interleave");
  return xv;
}
}  // namespace

Tensor repeat_interleave(const Tensor& x, int64_t repeats, std::optional<int64_t> dim,
                         std::optional<int64_t> output_size) {
  EMBER_CHECK(repeats >= 0, ValueError, "[repeat_interleave] repeats must be non-negative, got ", repeats);
  Tensor xv = interleave_input(x, dim);
  int64_t n = xv.sizes()[*dim];
  EMBER_CHECK(n == 0 || repeats <= std::numeric_limits<int64_t>::max() / n, ValueError,
              "[repeat_interleave] size overflow: ", n, " x ", repeats, " does not fit in int64");
  {
    Shape s = xv.sizes();
    s[*dim] = n * repeats;
    checked_numel(s, "repeat_interleave");
  }
  EMBER_CHECK(!output_size || *output_size == n * repeats, ValueError, "[repeat_interleave] output_size does not "
              "match the sum of repeats: expected ", n * repeats, ", got ", *output_size);
  DimMaps maps(xv.dim());
  Shape sizes = xv.sizes();
  sizes[*dim] = n * repeats;
  if (repeats != 1)
    maps[*dim] = iota_map(n * repeats, [](int64_t k, int64_t, int64_t r) { return k / r; }, n, repeats);
  return remap(xv, sizes, maps);
}

Tensor repeat_interleave(const Tensor& x, const Tensor& repeats, std::optional<int64_t> dim,
                         std::optional<int64_t> output_size) {
  EMBER_CHECK(is_integral(repeats.dtype()), TypeError, "[repeat_interleave] repeats must be an integer tensor, got ",
              repeats.dtype());
  EMBER_CHECK(repeats.dim() <= 1, ValueError, "[repeat_interleave] repeats must be 0-d or 1-d, got ", repeats.dim(),
              "-d");
  std::vector<int64_t> counts = host_ints(repeats);
  if (repeats.dim() == 0) return repeat_interleave(x, counts[0], dim, output_size);
  Tensor xv = interleave_input(x, dim);
  if (counts.size() == 1 && xv.sizes()[*dim] != 1) return repeat_interleave(xv, counts[0], dim, output_size);
  return repeat_counts(xv, *dim, counts, output_size);
}

Tensor repeat_interleave_index(const Tensor& repeats, std::optional<int64_t> output_size) {
  EMBER_CHECK(is_integral(repeats.dtype()), TypeError, "[repeat_interleave] repeats must be an integer tensor, got ",
              repeats.dtype());
  EMBER_CHECK(repeats.dim() == 1, ValueError, "[repeat_interleave] repeats must be 1-d, got ", repeats.dim(), "-d");
  Tensor idx = arange(Scalar(int64_t(0)), Scalar(repeats.numel()), Scalar(int64_t(1)), repeats.dtype(),
                      repeats.device());
  return repeat_counts(idx, 0, host_ints(repeats), output_size);
}

// ---- tril / triu ------------------------------------------------------------------------
namespace {
Tensor tri(const char* op, const Tensor& x, int64_t k, bool upper, const Tensor* out) {
  EMBER_CHECK(x.dim() >= 2, ValueError, "[", op, "] input must have at least 2 dimensions, got ", x.dim());
  // beyond the matrix the result no longer changes: clamp so that row + k cannot overflow
  const int64_t span = x.sizes()[x.dim() - 2] + x.sizes()[x.dim() - 1] + 1;
  k = std::min(std::max(k, -span), span);
  if (out && (out->is_same(x) || (out->storage() == x.storage() && out->offset() == x.offset() &&
                                  out->sizes() == x.sizes() && out->strides() == x.strides() &&
                                  out->dtype() == x.dtype()))) {
    check_out_tensor(op, *out, x.sizes(), x.dtype());
    if (x.numel() > 0) tri_stub(x.device(), *out, x, k, upper);
    out->bump_version();
    return *out;
  }
  if (out && out->dtype() == x.dtype() && out->sizes() == x.sizes() && !may_overlap(*out, x)) {
    check_out_tensor(op, *out, x.sizes(), x.dtype());
    if (x.numel() > 0) tri_stub(x.device(), *out, x, k, upper);
    out->bump_version();
    return *out;
  }
  Tensor r = empty(x.sizes(), x.dtype(), x.device());
  if (x.numel() > 0) tri_stub(x.device(), r, x, k, upper);
  return write_out(op, r, out);
}
}  // namespace

static Tensor record_tri(const char* op, const Tensor& x, int64_t k, bool upper, const Tensor* out) {
  autograd::Recorder rec(op, {x}, out);
  Tensor r = tri(op, x, k, upper, out);
  if (!rec) return r;
  rec.set_outputs({r});
  rec.node().fn = [k, upper](autograd::FnNode&, autograd::variable_list& g) {
    return autograd::variable_list{upper ? triu(g[0], k) : tril(g[0], k)};
  };
  return r;
}
Tensor tril(const Tensor& x, int64_t diagonal, const Tensor* out) { return record_tri("tril", x, diagonal, false, out); }
Tensor triu(const Tensor& x, int64_t diagonal, const Tensor* out) { return record_tri("triu", x, diagonal, true, out); }

// ---- pad ----------------------------------------------------------------------------------
PadMode pad_mode(const std::string& mode) {
  if (mode == "constant") return PadMode::Constant;
  if (mode == "reflect") return PadMode::Reflect;
  if (mode == "replicate") return PadMode::Replicate;
  if (mode == "circular") return PadMode::Circular;
  throw ValueError(str("[pad] unknown padding mode: expected one of 'constant', 'reflect', 'replicate', 'circular', "
                       "got '", mode, "'"));
}

Tensor pad(const Tensor& x, const Shape& p, PadMode mode, std::optional<Scalar> value) {
  static const char* names[] = {"constant", "reflect", "replicate", "circular"};
  const char* mname = names[int(mode)];
  EMBER_CHECK(p.size() % 2 == 0, ValueError, "[pad] padding length must be divisible by 2: got ", p.size(),
              " values ", p);
  int64_t npad = int64_t(p.size() / 2);
  EMBER_CHECK(npad <= x.dim(), ValueError, "[pad] padding length must be at most twice the number of dimensions: "
              "got ", p.size(), " values for a ", x.dim(), "-d input");
  EMBER_CHECK(mode == PadMode::Constant || !value || value->to_double() == 0, ValueError, "[pad] padding mode '",
              mname, "' takes no value argument: got value=", *value);
  Shape sizes = x.sizes();
  DimMaps maps(x.dim());
  bool any_fill = false;
  for (int64_t i = 0; i < npad; ++i) {
    int64_t d = x.dim() - 1 - i, l = p[2 * i], r = p[2 * i + 1], n = x.sizes()[d];
    int64_t o = 0;
    EMBER_CHECK(!__builtin_add_overflow(n, l, &o) && !__builtin_add_overflow(o, r, &o), ValueError,
                "[pad] size overflow: padding (", l, ", ", r, ") at dimension ", d, " does not fit in int64");
    EMBER_CHECK(o >= 0, ValueError, "[pad] padding (", l, ", ", r, ") at dimension ", d, " of input ", x.sizes(),
                " gives a negative output size ", o);
    sizes[d] = o;
  }
  checked_numel(sizes, "pad");
  for (int64_t i = 0; i < npad; ++i) {
    int64_t d = x.dim() - 1 - i, l = p[2 * i], r = p[2 * i + 1], n = x.sizes()[d];
    int64_t o = sizes[d];
    if (l == 0 && r == 0) continue;
    switch (mode) {
      case PadMode::Reflect:
        EMBER_CHECK(l < n && r < n, ValueError, "[pad] reflect padding must be less than the input size: got padding (",
                    l, ", ", r, ") at dimension ", d, " of input ", x.sizes());
        break;
      case PadMode::Replicate:
        EMBER_CHECK(n > 0 || (l <= 0 && r <= 0), ValueError, "[pad] replicate padding needs a non-empty dimension: "
                    "got size 0 at dimension ", d, " of input ", x.sizes());
        break;
      case PadMode::Circular:
        EMBER_CHECK(l <= n && r <= n, ValueError, "[pad] circular padding wraps around more than once: expected "
                    "padding <= ", n, " (the input size) at dimension ", d, ", got (", l, ", ", r, ")");
        break;
      default:
        break;
    }
    std::vector<int64_t>& m = maps[d];
    m.resize(size_t(o));
    int64_t keep = n + std::min<int64_t>(l, 0) + std::min<int64_t>(r, 0);  // circular: the cropped input
    int64_t start = std::max<int64_t>(-l, 0);
    EMBER_CHECK(mode != PadMode::Circular || keep > 0 || o == 0, ValueError, "[pad] circular padding of an empty "
                "dimension: got size ", keep, " after cropping at dimension ", d);
    for (int64_t k = 0; k < o; ++k) {
      int64_t j = k - l;
      switch (mode) {
        case PadMode::Constant:
          m[k] = (j >= 0 && j < n) ? j : -1;
          any_fill = any_fill || m[k] < 0;
          break;
        case PadMode::Reflect:
          m[k] = j < 0 ? -j : (j >= n ? 2 * (n - 1) - j : j);
          break;
        case PadMode::Replicate:
          m[k] = std::min(std::max<int64_t>(j, 0), n - 1);
          break;
        case PadMode::Circular: {
          int64_t c = k - std::max<int64_t>(l, 0);
          m[k] = start + ((c % keep) + keep) % keep;
          break;
        }
      }
    }
  }
  Tensor fill;
  if (any_fill) fill = scalar_tensor(value ? *value : Scalar(int64_t(0)), x.dtype(), x.device());
  if (x.dim() == 0) return clone(x);
  return remap(x, sizes, maps, fill);
}

// ---- diag, diag_embed -------------------------------------------------------------------
Tensor diag(const Tensor& x, int64_t k, const Tensor* out) {
  EMBER_CHECK(x.dim() == 1 || x.dim() == 2, ValueError, "[diag] expected a 1-d or 2-d tensor, got ", x.dim(), "-d");
  Tensor r;
  if (x.dim() == 1) {
    int64_t n = x.sizes()[0] + (k < 0 ? -k : k);
    r = zeros({n, n}, x.dtype(), x.device());
    if (x.numel() > 0) copy_(diagonal(r, k, 0, 1), x);
  } else {
    r = clone(diagonal(x, k, 0, 1));
  }
  return write_out("diag", r, out);
}

Tensor diag_embed(const Tensor& x, int64_t offset, int64_t dim1, int64_t dim2) {
  EMBER_CHECK(x.dim() >= 1, ValueError, "[diag_embed] expected a tensor with at least 1 dimension, got 0-d");
  int64_t nd = x.dim() + 1;
  int64_t d1 = wrap_dim(dim1, nd, "diag_embed"), d2 = wrap_dim(dim2, nd, "diag_embed");
  EMBER_CHECK(d1 != d2, ValueError, "[diag_embed] dim1 and dim2 cannot be identical, got ", d1, " and ", d2);
  int64_t n = x.sizes().back() + (offset < 0 ? -offset : offset);
  Shape sizes(x.sizes().begin(), x.sizes().end() - 1);
  int64_t lo = std::min(d1, d2), hi = std::max(d1, d2);
  sizes.insert(sizes.begin() + lo, n);
  sizes.insert(sizes.begin() + hi, n);
  Tensor r = zeros(sizes, x.dtype(), x.device());
  if (x.numel() > 0) copy_(diagonal(r, offset, d1, d2), x);
  return r;
}

// ---- views --------------------------------------------------------------------------------
std::vector<Tensor> meshgrid(const std::vector<Tensor>& ts, const std::string& indexing) {
  check_nonempty("meshgrid", ts);
  EMBER_CHECK(indexing == "ij" || indexing == "xy", ValueError, "[meshgrid] indexing must be 'ij' or 'xy', got '",
              indexing, "'");
  Shape sizes;
  for (size_t i = 0; i < ts.size(); ++i) {
    EMBER_CHECK(ts[i].dim() <= 1, ValueError, "[meshgrid] expected 0-d or 1-d tensors, got a ", ts[i].dim(),
                "-d tensor at position ", i);
    EMBER_CHECK(ts[i].dtype() == ts[0].dtype(), TypeError, "[meshgrid] expected all tensors to have the same dtype, "
                "got ", ts[0].dtype(), " and ", ts[i].dtype(), " at position ", i);
    EMBER_CHECK(ts[i].device() == ts[0].device(), ValueError, "[meshgrid] expected all tensors on the same device, "
                "got ", ts[0].device(), " and ", ts[i].device(), " at position ", i);
    sizes.push_back(ts[i].numel());
  }
  bool swap = indexing == "xy" && ts.size() >= 2;
  if (swap) std::swap(sizes[0], sizes[1]);
  std::vector<Tensor> r;
  for (size_t i = 0; i < ts.size(); ++i) {
    size_t d = swap && i < 2 ? 1 - i : i;
    Shape vs(ts.size(), 1);
    vs[d] = ts[i].numel();
    r.push_back(expand(reshape(ts[i], vs), sizes));
  }
  return r;
}

std::vector<Tensor> broadcast_tensors(const std::vector<Tensor>& ts) {
  Shape shape;
  for (const Tensor& t : ts) shape = broadcast_shapes("broadcast_tensors", shape, t.sizes());
  std::vector<Tensor> r;
  for (const Tensor& t : ts) r.push_back(expand(t, shape));
  return r;
}

Tensor atleast_1d(const Tensor& x) { return x.dim() >= 1 ? x : reshape(x, {1}); }
Tensor atleast_2d(const Tensor& x) {
  if (x.dim() >= 2) return x;
  return x.dim() == 0 ? reshape(x, {1, 1}) : unsqueeze(x, 0);
}
Tensor atleast_3d(const Tensor& x) {
  if (x.dim() >= 3) return x;
  if (x.dim() == 0) return reshape(x, {1, 1, 1});
  if (x.dim() == 1) return unsqueeze(unsqueeze(x, 0), 2);
  return unsqueeze(x, 2);
}

// ---- autograd for remap (flip, roll, repeat, tile, repeat_interleave, pad) and cat ---------

Tensor remap(const Tensor& x, const Shape& sizes, const DimMaps& maps, const Tensor& fill) {
  autograd::Recorder rec("remap", {x});
  Tensor r = remap_impl(x, sizes, maps, fill);
  if (!rec) return r;
  rec.set_outputs({r});
  Shape xs = x.sizes();
  bool has_fill = fill.defined();
  rec.node().fn = [xs, sizes, maps, has_fill](autograd::FnNode&, autograd::variable_list& g) {
    // where each output element came from: the same remap of the input's flat indices
    int64_t n = 1;
    for (int64_t s : xs) n *= s;
    Tensor src = reshape(arange(Scalar(int64_t(0)), Scalar(n), Scalar(int64_t(1)), ScalarType::Int64, g[0].device()), xs);
    Tensor fill_idx = has_fill ? scalar_tensor(Scalar(int64_t(-1)), ScalarType::Int64, g[0].device()) : Tensor();
    Tensor idx = remap_impl(src, sizes, maps, fill_idx);
    Tensor gi = reshape(g[0], {-1}), ii = reshape(idx, {-1});
    if (has_fill) {
      Tensor valid = binary(BinaryOp::ge, ii, wrap_scalar(Scalar(int64_t(0))));
      gi = masked_select(gi, valid);
      ii = masked_select(ii, valid);
    }
    Tensor buf = zeros({n}, g[0].dtype(), g[0].device());
    index_put_(buf, {ii}, gi, true);
    return autograd::variable_list{reshape(buf, xs)};
  };
  return r;
}

Tensor cat(const std::vector<Tensor>& ts, int64_t dim, const Tensor* out) {
  autograd::Recorder rec("cat", ts, out);
  Tensor r = cat_impl(ts, dim, out);
  if (!rec) return r;
  rec.set_outputs({r});
  auto node = rec.node_ptr();
  std::vector<Shape> shapes;
  for (const Tensor& t : ts) shapes.push_back(t.sizes());
  int64_t d = wrap_dim(dim, r.dim(), "cat");
  node->fn = [shapes, d](autograd::FnNode& n, autograd::variable_list& g) {
    autograd::variable_list out;
    int64_t off = 0;
    for (size_t i = 0; i < shapes.size(); ++i) {
      const Shape& s = shapes[i];
      if (s.size() == 1 && s[0] == 0 && g[0].dim() != 1) {  // legacy empty inputs take no part
        out.push_back(n.needs_input_grad(i) ? zeros(s, g[0].dtype(), g[0].device()) : Tensor());
        continue;
      }
      int64_t len = s[d];
      out.push_back(n.needs_input_grad(i) ? narrow(g[0], d, off, len) : Tensor());
      off += len;
    }
    return out;
  };
  return r;
}

}  // namespace ember
