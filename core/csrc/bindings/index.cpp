// The index ops as ember.<op>(...) and Tensor.<op>(...) / Tensor.<op>_(...), with PyTorch's
// names and arguments. Subscripts (x[idx], x[idx] = v) are bound in bindings/tensor.cpp.
#include "../ops/index.h"
#include "../ops/view.h"
#include "common.h"

namespace ember {

namespace {

using OptT = std::optional<Tensor>;
constexpr const char* kArgwhereDoc = R"doc(argwhere(input) -> Tensor

Coordinates of the nonzero elements of input: an (N, ndim) int64 tensor (nonzero).

Example:
    >>> ember.argwhere(ember.tensor([0.0, 3.0, 0.0, 1.0]))
    tensor([[1],
            [3]]))doc";
constexpr const char* kNonzeroDoc = R"doc(nonzero(input, *, out=None, as_tuple=False) -> Tensor or tuple of Tensor

Coordinates of the nonzero elements of input, in row-major order.

Args:
    input (Tensor): any dtype (NaN counts as nonzero).
    out (Tensor, optional): receives the (N, ndim) result.
    as_tuple (bool, default False): return one 1-d tensor per dim instead (a 0-d input
        counts as 1-d), usable as an index: x[x.nonzero(as_tuple=True)].

Returns:
    Tensor: (N, ndim) int64, or a tuple of ndim int64 tensors of shape (N,).

Example:
    >>> ember.nonzero(ember.tensor([[0, 1], [2, 0]]))
    tensor([[0, 1],
            [1, 0]]))doc";
constexpr const char* kMaskedScatterDoc = R"doc(masked_scatter(input, mask, source) -> Tensor

A copy of input (broadcast with mask) whose positions where mask is True take source's
elements in row-major order. Tensor.masked_scatter_ writes in place (mask must then
broadcast to input's shape).

Args:
    input (Tensor): the tensor to write into.
    mask (Tensor): bool, broadcastable with input.
    source (Tensor): input's dtype, at least as many elements as True values in mask.

Returns:
    Tensor: the broadcast shape, input's dtype.

Example:
    >>> ember.masked_scatter(ember.zeros(4), ember.tensor([True, False, True, False]), ember.tensor([1.0, 2.0]))
    tensor([1., 0., 2., 0.]))doc";
constexpr const char* kMaskedSelectDoc = R"doc(masked_select(input, mask, *, out=None) -> Tensor

The elements of input where mask is True, in row-major order.

Args:
    input (Tensor): the source.
    mask (Tensor): bool, broadcastable with input.
    out (Tensor, optional): receives the result.

Returns:
    Tensor: 1-d, as many elements as True values in the broadcast mask.

Example:
    >>> x = ember.tensor([[1, -2], [-3, 4]])
    >>> ember.masked_select(x, x > 0)
    tensor([1, 4]))doc";
constexpr const char* kIndexFillDoc = R"doc(index_fill(input, dim, index, value) -> Tensor

A copy of input with the entries index along dim set to value. Tensor.index_fill_ fills
in place.

Args:
    input (Tensor): the tensor to fill.
    dim (int): the dim to index.
    index (Tensor): 0-d or 1-d int64; negative values count from the end.
    value (number or 0-d Tensor): cast to input's dtype.

Returns:
    Tensor: input's shape and dtype.

Example:
    >>> ember.index_fill(ember.zeros(2, 3), 1, ember.tensor([0, -1]), 1.0)
    tensor([[1., 0., 1.],
            [1., 0., 1.]]))doc";
constexpr const char* kIndexCopyDoc = R"doc(index_copy(input, dim, index, source) -> Tensor

A copy of input with input.select(dim, index[i]) = source.select(dim, i) (the last
duplicate wins). Tensor.index_copy_ writes in place.

Args:
    input (Tensor), dim (int): as for index_add.
    index (Tensor): 0-d or 1-d int64 in [0, input.size(dim)).
    source (Tensor): input's dtype and shape, with index.numel() at dim.

Returns:
    Tensor: input's shape and dtype.

Example:
    >>> ember.index_copy(ember.zeros(3), 0, ember.tensor([2]), ember.tensor([7.0]))
    tensor([0., 0., 7.]))doc";
constexpr const char* kIndexAddDoc = R"doc(index_add(input, dim, index, source, *, alpha=1) -> Tensor

A copy of input with alpha * source.select(dim, i) added to input.select(dim, index[i]);
duplicates are summed in index order. Tensor.index_add_ adds in place.

Args:
    input (Tensor): the tensor to add into.
    dim (int): the dim to index.
    index (Tensor): 0-d or 1-d int64/int32 in [0, input.size(dim)).
    source (Tensor): input's dtype and shape, with index.numel() at dim.
    alpha (number, default 1): scale of source.

Returns:
    Tensor: input's shape and dtype.

Example:
    >>> ember.index_add(ember.zeros(3, 2), 0, ember.tensor([0, 0]), ember.ones(2, 2))
    tensor([[2., 2.],
            [0., 0.],
            [0., 0.]]))doc";
constexpr const char* kScatterReduceDoc = R"doc(scatter_reduce(input, dim, index, src, reduce, *, include_self=True) -> Tensor

A copy of input with src reduced into it at index along dim (see scatter).

Args:
    input (Tensor), dim (int), index (Tensor), src (Tensor): as for scatter_add.
    reduce (str): 'sum', 'prod', 'mean' (integers: floor division), 'amax' or 'amin'
        (NaN propagates).
    include_self (bool, default True): whether input's values at the written positions
        take part in the reduction.

Returns:
    Tensor: input's shape and dtype.

Example:
    >>> ember.scatter_reduce(ember.tensor([1.0, 2.0]), 0, ember.tensor([0, 0]), ember.tensor([5.0, 3.0]), "amax")
    tensor([5., 2.]))doc";
constexpr const char* kScatterAddDoc = R"doc(scatter_add(input, dim, index, src) -> Tensor

A copy of input with src added at index along dim (see scatter); duplicates are summed in
index order, so results are deterministic. Tensor.scatter_add_ adds in place.

Args:
    input (Tensor), dim (int), index (Tensor): as for scatter.
    src (Tensor): input's dtype.

Returns:
    Tensor: input's shape and dtype.

Example:
    >>> ember.scatter_add(ember.zeros(3), 0, ember.tensor([0, 0, 2]), ember.tensor([1.0, 2.0, 3.0]))
    tensor([3., 0., 3.]))doc";
constexpr const char* kScatterDoc = R"doc(scatter(input, dim, index, src=None, *, value=None, reduce=None) -> Tensor

A copy of input with src (or the number value) written at index along dim:
out[index[i][j]][j] = src[i][j] for dim=0. Tensor.scatter_ writes in place.

Args:
    input (Tensor): the tensor to write into.
    dim (int): the dim to scatter along.
    index (Tensor): int64/int32 with input's number of dims; index.size(d) <= src.size(d)
        and <= input.size(d) for d != dim; values in [0, input.size(dim)).
    src (Tensor or number): input's dtype (a number is taken as value).
    value (number): written everywhere index points.
    reduce (str, optional): 'add' or 'multiply' combines instead of writing.

Returns:
    Tensor: input's shape and dtype. Duplicate positions: the last in index order wins.

Example:
    >>> ember.scatter(ember.zeros(2, 3), 1, ember.tensor([[2], [0]]), value=5.0)
    tensor([[0., 0., 5.],
            [5., 0., 0.]]))doc";
constexpr const char* kTakeAlongDimDoc = R"doc(take_along_dim(input, indices, dim=None, *, out=None) -> Tensor

gather along dim after broadcasting input and indices in the other dims; with dim=None,
gathers from the flattened input at the flattened indices.

Args:
    input (Tensor): the source.
    indices (Tensor): int64 with input's number of dims (any shape when dim is None).
    dim (int, optional): the dim to take along.
    out (Tensor, optional): receives the result.

Returns:
    Tensor: the broadcast shape with indices.size(dim) at dim (1-d when dim is None).

Example:
    >>> x = ember.tensor([[10, 30, 20], [60, 40, 50]])
    >>> ember.take_along_dim(x, ember.tensor([[1], [0]]), dim=1)
    tensor([[30],
            [60]]))doc";
constexpr const char* kTakeDoc = R"doc(take(input, index, *, out=None) -> Tensor

Elements of input seen as 1-d (row-major) at positions index.

Args:
    input (Tensor): the source.
    index (Tensor): int64, any shape; negative values count from the end.
    out (Tensor, optional): receives the result.

Returns:
    Tensor: index's shape, input's dtype.

Example:
    >>> ember.take(ember.tensor([[4, 3], [5, 7]]), ember.tensor([0, 3, -2]))
    tensor([4, 7, 5]))doc";
constexpr const char* kGatherDoc = R"doc(gather(input, dim, index, *, sparse_grad=False, out=None) -> Tensor

Values of input along dim at index: out[i][j] = input[index[i][j]][j] for dim=0,
input[i][index[i][j]] for dim=1.

Args:
    input (Tensor): the source.
    dim (int): the dim to gather along.
    index (Tensor): int64/int32 with input's number of dims; index.size(d) <= input.size(d)
        for d != dim; values in [0, input.size(dim)).
    sparse_grad (bool): accepted for compatibility, ignored.
    out (Tensor, optional): receives the result.

Returns:
    Tensor: index's shape, input's dtype.

Example:
    >>> ember.gather(ember.tensor([[1, 2], [3, 4]]), 1, ember.tensor([[0, 0], [1, 0]]))
    tensor([[1, 1],
            [4, 3]]))doc";
constexpr const char* kIndexSelectDoc = R"doc(index_select(input, dim, index, *, out=None) -> Tensor

The entries index of input along dim.

Args:
    input (Tensor): the source.
    dim (int): the dim to select along.
    index (Tensor): 0-d or 1-d int64/int32 tensor of positions in [0, input.size(dim)).
    out (Tensor, optional): receives the result (same shape and dtype).

Returns:
    Tensor: input's shape with size index.numel() at dim.

Example:
    >>> ember.index_select(ember.arange(6).reshape(2, 3), 1, ember.tensor([2, 0]))
    tensor([[2, 0],
            [5, 3]]))doc";
constexpr const char* kPutDoc = R"doc(put(input, index, source, accumulate=False) -> Tensor

A copy of input with source written at the positions index of input seen as 1-d
(Tensor.put_ writes in place).

Args:
    input (Tensor): the tensor to write into.
    index (Tensor): int64, any shape; negative values count from the end.
    source (Tensor): input's dtype, as many elements as index.
    accumulate (bool, default False): add instead of write (duplicates summed in order).

Returns:
    Tensor: input's shape and dtype.

Example:
    >>> ember.put(ember.zeros(2, 2), ember.tensor([0, -1]), ember.tensor([1.0, 2.0]))
    tensor([[1., 0.],
            [0., 2.]]))doc";
constexpr const char* kIndexPutDoc = R"doc(index_put(input, indices, values, accumulate=False) -> Tensor

A copy of input with values written at input[indices] (Tensor.index_put_ writes in place).

Args:
    input (Tensor): the tensor to index.
    indices (tuple of Tensor or None): one entry per leading dim; int64/int32 tensors index
        one dim each and broadcast together, bool tensors are masks over as many dims,
        None keeps a dim whole.
    values (Tensor or number): broadcast to the shape of input[indices], cast to input's dtype.
    accumulate (bool, default False): add instead of write; duplicate indices are summed in
        index order (deterministic). Without it, the last duplicate wins.

Returns:
    Tensor: input's shape and dtype.

Example:
    >>> ember.index_put(ember.zeros(3), (ember.tensor([0, 0, 2]),), ember.tensor(1.0), accumulate=True)
    tensor([2., 0., 1.]))doc";

// index_put's indices: a tuple/list of tensors (or None for a full slice). A 0-d bool index
// adds a dim of size 1 as in x[True]; returns the view to index.
std::pair<Tensor, std::vector<OptT>> put_indices(const Tensor& x, py::handle indices, const char* op) {
  EMBER_CHECK(py::isinstance<py::tuple>(indices) || py::isinstance<py::list>(indices), TypeError, "[", op,
              "] indices must be a tuple or list of tensors, got ",
              std::string(py::str(py::type::handle_of(indices).attr("__name__"))));
  std::vector<OptT> idx;
  Tensor view = x;
  int64_t d = 0;
  for (py::handle h : indices) {
    if (h.is_none()) {
      idx.push_back(std::nullopt);
      ++d;
      continue;
    }
    EMBER_CHECK(py::isinstance<Tensor>(h), TypeError, "[", op, "] indices must be tensors or None, got ",
                std::string(py::str(py::type::handle_of(h).attr("__name__"))));
    Tensor t = h.cast<Tensor>();
    bool mask = t.dtype() == ScalarType::Bool || t.dtype() == ScalarType::UInt8;
    if (mask && t.dim() == 0) {
      EMBER_CHECK(d <= view.dim(), IndexError, "[", op, "] too many indices for tensor of dimension ", x.dim());
      view = unsqueeze(view, d);
    }
    d += mask ? std::max<int64_t>(t.dim(), 1) : 1;
    idx.push_back(t);
  }
  return {view, idx};
}

std::string reduce_arg(const std::optional<std::string>& r) { return r ? *r : std::string(); }

// scatter's fourth argument: a tensor (src) or a number (value).
Tensor scatter_any(const Tensor& x, int64_t dim, const Tensor& index, py::handle src, py::handle value,
                   const std::optional<std::string>& reduce, bool inplace) {
  py::handle h = src.is_none() ? value : src;
  EMBER_CHECK(!h.is_none(), TypeError, "[scatter] expected src (a tensor) or value (a number), got neither");
  std::string r = reduce_arg(reduce);
  if (py::isinstance<Tensor>(h)) {
    Tensor s = h.cast<Tensor>();
    return nogil([&] {
      Tensor t = inplace ? x : clone(x);
      return scatter_(t, dim, index, s, r);
    });
  }
  auto sv = py_scalar(h);
  EMBER_CHECK(sv.has_value(), TypeError, "[scatter] expected src to be a tensor or value a number, got ",
              std::string(py::str(py::type::handle_of(h).attr("__name__"))));
  return nogil([&] {
    Tensor t = inplace ? x : clone(x);
    return scatter_value_(t, dim, index, *sv, r);
  });
}

}  // namespace

void init_index(py::module_& m) {
  auto cls = tensor_class(m);

  // ---- index_put / put ----
  auto index_put_fn = [](const Tensor& x, py::handle indices, py::handle values, bool accumulate, bool inplace) {
    Tensor result = inplace ? x : nogil([&] { return clone(x); });
    auto [view, idx] = put_indices(result, indices, "index_put_");
    Tensor v = operand(values, "index_put_", "values");
    nogil([&, view = view, idx = idx] {
      index_put_(view, idx, v, accumulate);
      return 0;
    });
    return result;
  };
  cls.def("index_put_", inplace([index_put_fn](const Tensor& x, py::handle indices, py::handle values, bool accumulate) {
            return index_put_fn(x, indices, values, accumulate, true);
          }), py::arg("indices"), py::arg("values"), py::arg("accumulate") = false, kIndexPutDoc);
  cls.def("index_put", [index_put_fn](const Tensor& x, py::handle indices, py::handle values, bool accumulate) {
            return index_put_fn(x, indices, values, accumulate, false);
          }, py::arg("indices"), py::arg("values"), py::arg("accumulate") = false, kIndexPutDoc);
  m.def("index_put", [index_put_fn](const Tensor& x, py::handle indices, py::handle values, bool accumulate) {
          return index_put_fn(x, indices, values, accumulate, false);
        }, py::arg("input"), py::arg("indices"), py::arg("values"), py::arg("accumulate") = false, kIndexPutDoc);

  auto put_fn = [](const Tensor& x, const Tensor& index, const Tensor& source, bool accumulate, bool inplace) {
    return nogil([&] { return put_(inplace ? x : clone(x), index, source, accumulate); });
  };
  cls.def("put_", inplace([put_fn](const Tensor& x, const Tensor& i, const Tensor& s, bool acc) { return put_fn(x, i, s, acc, true); }),
          py::arg("index"), py::arg("source"), py::arg("accumulate") = false, kPutDoc);
  cls.def("put", [put_fn](const Tensor& x, const Tensor& i, const Tensor& s, bool acc) { return put_fn(x, i, s, acc, false); },
          py::arg("index"), py::arg("source"), py::arg("accumulate") = false, kPutDoc);
  m.def("put", [put_fn](const Tensor& x, const Tensor& i, const Tensor& s, bool acc) { return put_fn(x, i, s, acc, false); },
        py::arg("input"), py::arg("index"), py::arg("source"), py::arg("accumulate") = false, kPutDoc);

  // ---- index_select / gather / take ----
  m.def("index_select", [](const Tensor& x, int64_t dim, const Tensor& index, OptT out) {
          return nogil([&] { return index_select(x, dim, index, out_ptr(out)); });
        }, py::arg("input"), py::arg("dim"), py::arg("index"), py::kw_only(), py::arg("out") = py::none(), kIndexSelectDoc);
  cls.def("index_select", [](const Tensor& x, int64_t dim, const Tensor& index) {
            return nogil([&] { return index_select(x, dim, index); });
          }, py::arg("dim"), py::arg("index"), kIndexSelectDoc);
  m.def("gather", [](const Tensor& x, int64_t dim, const Tensor& index, bool, OptT out) {
          return nogil([&] { return gather(x, dim, index, out_ptr(out)); });
        }, py::arg("input"), py::arg("dim"), py::arg("index"), py::kw_only(), py::arg("sparse_grad") = false,
        py::arg("out") = py::none(), kGatherDoc);
  cls.def("gather", [](const Tensor& x, int64_t dim, const Tensor& index, bool) {
            return nogil([&] { return gather(x, dim, index); });
          }, py::arg("dim"), py::arg("index"), py::kw_only(), py::arg("sparse_grad") = false, kGatherDoc);
  m.def("take", [](const Tensor& x, const Tensor& index, OptT out) {
          return nogil([&] { return take(x, index, out_ptr(out)); });
        }, py::arg("input"), py::arg("index"), py::kw_only(), py::arg("out") = py::none(), kTakeDoc);
  cls.def("take", [](const Tensor& x, const Tensor& index) { return nogil([&] { return take(x, index); }); },
          py::arg("index"), kTakeDoc);
  m.def("take_along_dim", [](const Tensor& x, const Tensor& indices, std::optional<int64_t> dim, OptT out) {
          return nogil([&] { return take_along_dim(x, indices, dim, out_ptr(out)); });
        }, py::arg("input"), py::arg("indices"), py::arg("dim") = py::none(), py::kw_only(), py::arg("out") = py::none(), kTakeAlongDimDoc);
  cls.def("take_along_dim", [](const Tensor& x, const Tensor& indices, std::optional<int64_t> dim) {
            return nogil([&] { return take_along_dim(x, indices, dim); });
          }, py::arg("indices"), py::arg("dim") = py::none(), kTakeAlongDimDoc);

  // ---- scatter family ----
  m.def("scatter", [](const Tensor& x, int64_t dim, const Tensor& index, py::handle src, py::handle value,
                      std::optional<std::string> reduce) {
          return scatter_any(x, dim, index, src, value, reduce, false);
        }, py::arg("input"), py::arg("dim"), py::arg("index"), py::arg("src") = py::none(), py::kw_only(),
        py::arg("value") = py::none(), py::arg("reduce") = py::none(), kScatterDoc);
  cls.def("scatter", [](const Tensor& x, int64_t dim, const Tensor& index, py::handle src, py::handle value,
                        std::optional<std::string> reduce) {
            return scatter_any(x, dim, index, src, value, reduce, false);
          }, py::arg("dim"), py::arg("index"), py::arg("src") = py::none(), py::kw_only(),
          py::arg("value") = py::none(), py::arg("reduce") = py::none(), kScatterDoc);
  cls.def("scatter_", inplace([](const Tensor& x, int64_t dim, const Tensor& index, py::handle src, py::handle value,
                         std::optional<std::string> reduce) {
            return scatter_any(x, dim, index, src, value, reduce, true);
          }), py::arg("dim"), py::arg("index"), py::arg("src") = py::none(), py::kw_only(),
          py::arg("value") = py::none(), py::arg("reduce") = py::none(), kScatterDoc);
  auto scatter_add_fn = [](const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src, bool inplace) {
    return nogil([&] { return scatter_add_(inplace ? x : clone(x), dim, index, src); });
  };
  m.def("scatter_add", [scatter_add_fn](const Tensor& x, int64_t dim, const Tensor& i, const Tensor& s) {
          return scatter_add_fn(x, dim, i, s, false);
        }, py::arg("input"), py::arg("dim"), py::arg("index"), py::arg("src"), kScatterAddDoc);
  cls.def("scatter_add", [scatter_add_fn](const Tensor& x, int64_t dim, const Tensor& i, const Tensor& s) {
            return scatter_add_fn(x, dim, i, s, false);
          }, py::arg("dim"), py::arg("index"), py::arg("src"), kScatterAddDoc);
  cls.def("scatter_add_", inplace([scatter_add_fn](const Tensor& x, int64_t dim, const Tensor& i, const Tensor& s) {
            return scatter_add_fn(x, dim, i, s, true);
          }), py::arg("dim"), py::arg("index"), py::arg("src"), kScatterAddDoc);
  auto scatter_reduce_fn = [](const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src,
                              const std::string& reduce, bool include_self, bool inplace) {
    return nogil([&] { return scatter_reduce_(inplace ? x : clone(x), dim, index, src, reduce, include_self); });
  };
  m.def("scatter_reduce", [scatter_reduce_fn](const Tensor& x, int64_t dim, const Tensor& i, const Tensor& s,
                                              const std::string& reduce, bool include_self) {
          return scatter_reduce_fn(x, dim, i, s, reduce, include_self, false);
        }, py::arg("input"), py::arg("dim"), py::arg("index"), py::arg("src"), py::arg("reduce"), py::kw_only(),
        py::arg("include_self") = true, kScatterReduceDoc);
  cls.def("scatter_reduce", [scatter_reduce_fn](const Tensor& x, int64_t dim, const Tensor& i, const Tensor& s,
                                                const std::string& reduce, bool include_self) {
            return scatter_reduce_fn(x, dim, i, s, reduce, include_self, false);
          }, py::arg("dim"), py::arg("index"), py::arg("src"), py::arg("reduce"), py::kw_only(),
          py::arg("include_self") = true, kScatterReduceDoc);
  cls.def("scatter_reduce_", inplace([scatter_reduce_fn](const Tensor& x, int64_t dim, const Tensor& i, const Tensor& s,
                                                 const std::string& reduce, bool include_self) {
            return scatter_reduce_fn(x, dim, i, s, reduce, include_self, true);
          }), py::arg("dim"), py::arg("index"), py::arg("src"), py::arg("reduce"), py::kw_only(),
          py::arg("include_self") = true, kScatterReduceDoc);

  // ---- index_add / index_copy / index_fill ----
  auto index_add_fn = [](const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source, py::handle alpha,
                         bool inplace) {
    auto a = py_scalar(alpha);
    EMBER_CHECK(a.has_value(), TypeError, "[index_add] alpha must be a number, got ",
                std::string(py::str(py::type::handle_of(alpha).attr("__name__"))));
    return nogil([&] { return index_add_(inplace ? x : clone(x), dim, index, source, *a); });
  };
  m.def("index_add", [index_add_fn](const Tensor& x, int64_t dim, const Tensor& i, const Tensor& s, py::handle alpha) {
          return index_add_fn(x, dim, i, s, alpha, false);
        }, py::arg("input"), py::arg("dim"), py::arg("index"), py::arg("source"), py::kw_only(), py::arg("alpha") = 1, kIndexAddDoc);
  cls.def("index_add", [index_add_fn](const Tensor& x, int64_t dim, const Tensor& i, const Tensor& s, py::handle alpha) {
            return index_add_fn(x, dim, i, s, alpha, false);
          }, py::arg("dim"), py::arg("index"), py::arg("source"), py::kw_only(), py::arg("alpha") = 1, kIndexAddDoc);
  cls.def("index_add_", inplace([index_add_fn](const Tensor& x, int64_t dim, const Tensor& i, const Tensor& s, py::handle alpha) {
            return index_add_fn(x, dim, i, s, alpha, true);
          }), py::arg("dim"), py::arg("index"), py::arg("source"), py::kw_only(), py::arg("alpha") = 1, kIndexAddDoc);
  auto index_copy_fn = [](const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source, bool inplace) {
    return nogil([&] { return index_copy_(inplace ? x : clone(x), dim, index, source); });
  };
  m.def("index_copy", [index_copy_fn](const Tensor& x, int64_t dim, const Tensor& i, const Tensor& s) {
          return index_copy_fn(x, dim, i, s, false);
        }, py::arg("input"), py::arg("dim"), py::arg("index"), py::arg("source"), kIndexCopyDoc);
  cls.def("index_copy", [index_copy_fn](const Tensor& x, int64_t dim, const Tensor& i, const Tensor& s) {
            return index_copy_fn(x, dim, i, s, false);
          }, py::arg("dim"), py::arg("index"), py::arg("source"), kIndexCopyDoc);
  cls.def("index_copy_", inplace([index_copy_fn](const Tensor& x, int64_t dim, const Tensor& i, const Tensor& s) {
            return index_copy_fn(x, dim, i, s, true);
          }), py::arg("dim"), py::arg("index"), py::arg("source"), kIndexCopyDoc);
  auto index_fill_fn = [](const Tensor& x, int64_t dim, const Tensor& index, py::handle value, bool inplace) {
    Tensor v = operand(value, "index_fill_", "value");
    return nogil([&] { return index_fill_(inplace ? x : clone(x), dim, index, v); });
  };
  m.def("index_fill", [index_fill_fn](const Tensor& x, int64_t dim, const Tensor& i, py::handle v) {
          return index_fill_fn(x, dim, i, v, false);
        }, py::arg("input"), py::arg("dim"), py::arg("index"), py::arg("value"), kIndexFillDoc);
  cls.def("index_fill", [index_fill_fn](const Tensor& x, int64_t dim, const Tensor& i, py::handle v) {
            return index_fill_fn(x, dim, i, v, false);
          }, py::arg("dim"), py::arg("index"), py::arg("value"), kIndexFillDoc);
  cls.def("index_fill_", inplace([index_fill_fn](const Tensor& x, int64_t dim, const Tensor& i, py::handle v) {
            return index_fill_fn(x, dim, i, v, true);
          }), py::arg("dim"), py::arg("index"), py::arg("value"), kIndexFillDoc);

  // ---- masks and nonzero ----
  m.def("masked_select", [](const Tensor& x, const Tensor& mask, OptT out) {
          return nogil([&] { return masked_select(x, mask, out_ptr(out)); });
        }, py::arg("input"), py::arg("mask"), py::kw_only(), py::arg("out") = py::none(), kMaskedSelectDoc);
  cls.def("masked_select", [](const Tensor& x, const Tensor& mask) { return nogil([&] { return masked_select(x, mask); }); },
          py::arg("mask"), kMaskedSelectDoc);
  m.def("masked_scatter", [](const Tensor& x, const Tensor& mask, const Tensor& source) {
          return nogil([&] { return masked_scatter(x, mask, source); });
        }, py::arg("input"), py::arg("mask"), py::arg("source"), kMaskedScatterDoc);
  cls.def("masked_scatter", [](const Tensor& x, const Tensor& mask, const Tensor& source) {
            return nogil([&] { return masked_scatter(x, mask, source); });
          }, py::arg("mask"), py::arg("source"), kMaskedScatterDoc);
  cls.def("masked_scatter_", inplace([](const Tensor& x, const Tensor& mask, const Tensor& source) {
            return nogil([&] { return masked_scatter_(x, mask, source); });
          }), py::arg("mask"), py::arg("source"), kMaskedScatterDoc);
  auto nonzero_fn = [](const Tensor& x, const Tensor* out, bool as_tuple) -> py::object {
    if (as_tuple) {
      EMBER_CHECK(!out, ValueError, "[nonzero] out= is not supported with as_tuple=True");
      auto parts = nogil([&] { return nonzero_tuple(x); });
      py::tuple t(parts.size());
      for (size_t i = 0; i < parts.size(); ++i) t[i] = py::cast(parts[i]);
      return t;
    }
    return py::cast(nogil([&] { return nonzero(x, out); }));
  };
  m.def("nonzero", [nonzero_fn](const Tensor& x, OptT out, bool as_tuple) { return nonzero_fn(x, out_ptr(out), as_tuple); },
        py::arg("input"), py::kw_only(), py::arg("out") = py::none(), py::arg("as_tuple") = false, kNonzeroDoc);
  cls.def("nonzero", [nonzero_fn](const Tensor& x, bool as_tuple) { return nonzero_fn(x, nullptr, as_tuple); },
          py::kw_only(), py::arg("as_tuple") = false, kNonzeroDoc);
  m.def("argwhere", [](const Tensor& x) { return nogil([&] { return nonzero(x); }); }, py::arg("input"), kArgwhereDoc);
  cls.def("argwhere", [](const Tensor& x) { return nogil([&] { return nonzero(x); }); }, kArgwhereDoc);
}

}  // namespace ember
