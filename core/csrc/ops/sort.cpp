// Front ends of the sorting and searching ops (see sort.h).
#include "sort.h"

#include "../autograd/record.h"
#include "creation.h"
#include "index.h"
#include "elementwise.h"
#include "shape.h"
#include "view.h"

namespace ember {

DispatchStub<SortKernel> sort_stub("sort");
DispatchStub<TopkKernel> topk_stub("topk");
DispatchStub<UniqueKernel> unique_stub("unique");
DispatchStub<UniqueDimKernel> unique_dim_stub("unique");
DispatchStub<SearchsortedKernel> searchsorted_stub("searchsorted");

namespace {

void check_sortable(const char* op, const Tensor& x) {
  EMBER_CHECK(!is_complex(x.dtype()), TypeError, "[", op, "] complex tensors have no order: expected a real dtype, got ",
              x.dtype());
}

// Size of dim d (1 for a 0-d tensor, which has one element along its only dim).
int64_t dim_size(const Tensor& x, int64_t d) { return x.dim() == 0 ? 1 : x.sizes()[d]; }

}  // namespace

static std::tuple<Tensor, Tensor> sort_impl(const Tensor& x, int64_t dim, bool descending) {
  check_sortable("sort", x);
  int64_t d = wrap_dim(dim, x.dim(), "sort");
  Tensor v = empty(x.sizes(), x.dtype(), x.device());
  Tensor i = empty(x.sizes(), ScalarType::Int64, x.device());
  if (x.numel() == 0) return {v, i};
  if (x.dim() == 0) {
    copy_(v, x);
    fill_(i, Scalar(int64_t(0)));
    return {v, i};
  }
  sort_stub(x.device(), v, i, x, d, descending);
  return {v, i};
}

Tensor argsort(const Tensor& x, int64_t dim, bool descending) {
  check_sortable("argsort", x);
  int64_t d = wrap_dim(dim, x.dim(), "argsort");
  Tensor i = empty(x.sizes(), ScalarType::Int64, x.device());
  if (x.numel() == 0) return i;
  if (x.dim() == 0) {
    fill_(i, Scalar(int64_t(0)));
    return i;
  }
  sort_stub(x.device(), Tensor(), i, x, d, descending);
  return i;
}

Tensor msort(const Tensor& x) {
  check_sortable("msort", x);
  return std::get<0>(sort(x, 0, false));
}

static std::tuple<Tensor, Tensor> topk_impl(const Tensor& x, int64_t k, int64_t dim, bool largest, bool sorted) {
  (void)sorted;  // the result is always sorted (a valid choice for sorted=False)
  check_sortable("topk", x);
  int64_t d = wrap_dim(dim, x.dim(), "topk");
  int64_t n = dim_size(x, d);
  EMBER_CHECK(k >= 0 && k <= n, IndexError, "[topk] k out of range: expected 0 <= k <= ", n,
              " (the size of dimension ", d, "), got ", k);
  Shape s = x.sizes();
  if (x.dim()) s[d] = k;
  Tensor v = empty(s, x.dtype(), x.device());
  Tensor i = empty(s, ScalarType::Int64, x.device());
  if (v.numel() == 0) return {v, i};
  if (x.dim() == 0) {
    copy_(v, x);
    fill_(i, Scalar(int64_t(0)));
    return {v, i};
  }
  topk_stub(x.device(), v, i, x, k, d, largest, false);
  return {v, i};
}

static std::tuple<Tensor, Tensor> kthvalue_impl(const Tensor& x, int64_t k, int64_t dim, bool keepdim) {
  check_sortable("kthvalue", x);
  int64_t d = wrap_dim(dim, x.dim(), "kthvalue");
  int64_t n = dim_size(x, d);
  EMBER_CHECK(k >= 1 && k <= n, IndexError, "[kthvalue] k out of range: expected 1 <= k <= ", n,
              " (the size of dimension ", d, "), got ", k);
  if (x.dim() == 0) {
    Tensor i = empty({}, ScalarType::Int64, x.device());
    fill_(i, Scalar(int64_t(0)));
    return {clone(x), i};
  }
  Shape s = x.sizes();
  s[d] = 1;
  Tensor v = empty(s, x.dtype(), x.device());
  Tensor i = empty(s, ScalarType::Int64, x.device());
  if (v.numel() > 0) topk_stub(x.device(), v, i, x, k, d, false, true);
  if (!keepdim) {
    v = squeeze(v, Shape{d});
    i = squeeze(i, Shape{d});
  }
  return {v, i};
}

// ---- unique -----------------------------------------------------------------------------
namespace {
std::tuple<Tensor, Tensor, Tensor> unique_impl(const char* op, const Tensor& x, bool sorted, bool return_inverse,
                                               bool return_counts, std::optional<int64_t> dim) {
  check_sortable(op, x);
  Tensor values, inverse, counts;
  if (!dim) {
    Tensor flat = contiguous(reshape(x, {-1}));
    unique_stub(x.device(), flat, sorted, return_inverse, return_counts, values, inverse, counts);
    if (return_inverse) inverse = view(inverse, x.sizes());
    return {values, inverse, counts};
  }
  EMBER_CHECK(x.dim() > 0, IndexError, "[", op, "] dim out of range for a 0-d input: got ", *dim);
  int64_t d = wrap_dim(*dim, x.dim(), op);
  int64_t n = x.sizes()[d];
  int64_t m = n == 0 ? 0 : x.numel() / n;
  if (n > 0 && m == 0) {
    // rows without elements are all equal: one unique (empty) row
    Shape s = x.sizes();
    s[d] = 1;
    values = empty(s, x.dtype(), x.device());
    if (return_inverse) inverse = zeros({n}, ScalarType::Int64, x.device());
    if (return_counts) counts = full({1}, Scalar(n), ScalarType::Int64, x.device());
    return {values, inverse, counts};
  }
  Tensor rows = reshape(contiguous(movedim(x, {d}, {0})), {n, m});
  Tensor reps;
  unique_dim_stub(x.device(), rows, sorted, reps, inverse, counts);
  Shape s = x.sizes();
  s[d] = reps.numel();
  DimMaps maps(x.dim());
  const int64_t* rp = reps.data<int64_t>();
  maps[d].assign(rp, rp + reps.numel());
  values = remap(x, s, maps);
  if (!return_inverse) inverse = Tensor();
  if (!return_counts) counts = Tensor();
  return {values, inverse, counts};
}
}  // namespace

std::tuple<Tensor, Tensor, Tensor> unique(const Tensor& x, bool sorted, bool return_inverse, bool return_counts,
                                          std::optional<int64_t> dim) {
  (void)sorted;  // always sorted, like PyTorch's CPU implementation
  autograd::Recorder rec("unique", {x});
  auto r = unique_impl("unique", x, true, return_inverse, return_counts, dim);
  if (rec) rec.set_outputs({std::get<0>(r)});  // no derivative (as PyTorch): backward raises a clear error
  return r;
}

std::tuple<Tensor, Tensor, Tensor> unique_consecutive(const Tensor& x, bool return_inverse, bool return_counts,
                                                      std::optional<int64_t> dim) {
  autograd::Recorder rec("unique_consecutive", {x});
  auto r = unique_impl("unique_consecutive", x, false, return_inverse, return_counts, dim);
  if (rec) rec.set_outputs({std::get<0>(r)});  // no derivative: backward raises a clear error
  return r;
}

// ---- searchsorted / bucketize ---------------------------------------------------------------
namespace {
Tensor search_impl(const char* op, const Tensor& seq, const Tensor& values, bool out_int32, bool right,
                   const std::optional<Tensor>& sorter, const Tensor* out) {
  EMBER_CHECK(seq.dim() >= 1, ValueError, "[", op, "] boundaries must have at least 1 dimension, got 0-d");
  EMBER_CHECK(seq.device() == values.device() || values.is_wrapped_number(), ValueError, "[", op,
              "] expected boundaries and input on the same device, got ", seq.device(), " and ", values.device());
  if (seq.dim() > 1) {
    bool ok = values.dim() == seq.dim();
    for (int64_t d = 0; ok && d + 1 < seq.dim(); ++d) ok = values.sizes()[d] == seq.sizes()[d];
    EMBER_CHECK(ok, ValueError, "[", op, "] boundaries must be 1-d or match the input in all but the last dimension: "
                "got boundaries of shape ", seq.sizes(), " and input of shape ", values.sizes());
  }
  ScalarType common = result_type({seq, values});
  EMBER_CHECK(!is_complex(common), TypeError, "[", op, "] complex tensors have no order: expected real dtypes, got ",
              common);
  Tensor sorter_c;
  if (sorter) {
    EMBER_CHECK(sorter->dtype() == ScalarType::Int64, TypeError, "[", op, "] sorter must be an int64 tensor, got ",
                sorter->dtype());
    EMBER_CHECK(sorter->sizes() == seq.sizes(), ValueError, "[", op, "] sorter must have the shape of the "
                "boundaries: expected ", seq.sizes(), ", got ", sorter->sizes());
    sorter_c = contiguous(*sorter);
  }
  Tensor seq_c = contiguous(to_dtype(seq, common));
  Tensor val_c = contiguous(values.device() == seq.device() ? to_dtype(values, common)
                                                          : to_device(values, seq.device(), common));
  Tensor r = empty(values.sizes(), out_int32 ? ScalarType::Int32 : ScalarType::Int64, seq.device());
  if (r.numel() > 0) {
    int64_t bad = searchsorted_stub(seq.device(), r, seq_c, val_c, sorter_c, right);
    if (bad >= 0) {
      const int64_t v = item(select(reshape(sorter_c, {-1}), 0, bad)).to<int64_t>();  // (read back from a GPU)
      throw IndexError(str("[", op, "] sorter index out of range: expected values in [0, ", seq.sizes().back(),
                           "), got ", v, " at position ", bad));
    }
  }
  return write_out(op, r, out);
}
}  // namespace

Tensor searchsorted(const Tensor& seq, const Tensor& values, bool out_int32, bool right,
                    const std::optional<Tensor>& sorter, const Tensor* out) {
  return search_impl("searchsorted", seq, values, out_int32, right, sorter, out);
}

Tensor bucketize(const Tensor& values, const Tensor& boundaries, bool out_int32, bool right, const Tensor* out) {
  EMBER_CHECK(boundaries.dim() == 1, ValueError, "[bucketize] boundaries must be 1-d, got ", boundaries.dim(), "-d");
  return search_impl("bucketize", boundaries, values, out_int32, right, std::nullopt, out);
}

// ---- autograd: the values of sort/topk/kthvalue send their gradient back to the picked places

namespace {
template <typename Impl>
std::tuple<Tensor, Tensor> record_pick(const char* op, const Tensor& x, int64_t dim, bool keepdim, Impl impl) {
  autograd::Recorder rec(op, {x});
  auto r = impl();
  if (!rec) return r;
  rec.set_outputs({std::get<0>(r), std::get<1>(r)});
  Tensor idx = std::get<1>(r);
  Shape xs = x.sizes();
  int64_t d = xs.empty() ? 0 : wrap_dim(dim, int64_t(xs.size()), op);
  rec.node().fn = [xs, d, keepdim, idx](autograd::FnNode&, autograd::variable_list& g) {
    if (!g[0].defined()) return autograd::variable_list{Tensor()};
    if (xs.empty()) return autograd::variable_list{reshape(g[0], xs)};
    Tensor gk = keepdim ? g[0] : unsqueeze(g[0], d), ik = keepdim ? idx : unsqueeze(idx, d);
    Tensor z = zeros(xs, g[0].dtype(), g[0].device());
    return autograd::variable_list{scatter_(z, d, ik, gk)};
  };
  return r;
}
}  // namespace

std::tuple<Tensor, Tensor> sort(const Tensor& x, int64_t dim, bool descending) {
  return record_pick("sort", x, dim, true, [&] { return sort_impl(x, dim, descending); });
}
std::tuple<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim, bool largest, bool sorted) {
  return record_pick("topk", x, dim, true, [&] { return topk_impl(x, k, dim, largest, sorted); });
}
std::tuple<Tensor, Tensor> kthvalue(const Tensor& x, int64_t k, int64_t dim, bool keepdim) {
  return record_pick("kthvalue", x, dim, keepdim, [&] { return kthvalue_impl(x, k, dim, keepdim); });
}

}  // namespace ember
