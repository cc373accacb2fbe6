// Shape and sorting ops as ember.<op>(...) and Tensor.<op>(...): cat/stack and friends, flip,
// roll, repeat/tile/repeat_interleave, tril/triu, pad, diag, meshgrid, broadcast_tensors,
// atleast_Nd; sort/argsort/msort, topk, kthvalue, unique(_consecutive), searchsorted,
// bucketize. (values, indices) results are namedtuples from ember.return_types.
#include "../ops/shape.h"
#include "../ops/sort.h"
#include "../ops/view.h"
#include "common.h"

namespace ember {

namespace {

using OptT = std::optional<Tensor>;

std::string type_name(py::handle h) { return py::str(py::type::handle_of(h).attr("__name__")); }

std::vector<Tensor> tensor_list(py::handle h, const char* op, const char* arg = "tensors") {
  EMBER_CHECK(!py::isinstance<Tensor>(h) && py::isinstance<py::sequence>(h) && !py::isinstance<py::str>(h),
              TypeError, "[", op, "] expected a sequence of Tensors for `", arg, "`, got ", type_name(h));
  std::vector<Tensor> ts;
  size_t i = 0;
  for (py::object e : py::reinterpret_borrow<py::sequence>(h)) {
    EMBER_CHECK(py::isinstance<Tensor>(e), TypeError, "[", op, "] expected a sequence of Tensors for `", arg,
                "`, got an element of type ", type_name(e), " at position ", i);
    ts.push_back(e.cast<Tensor>());
    ++i;
  }
  return ts;
}

// Varargs of tensors or a single sequence of them: f(a, b) and f([a, b]).
std::vector<Tensor> tensor_args(py::args args, const char* op) {
  if (args.size() == 1 && !py::isinstance<Tensor>(args[0])) return tensor_list(args[0], op);
  return tensor_list(args, op);
}

py::tuple to_tuple(const std::vector<Tensor>& ts) {
  py::tuple t(ts.size());
  for (size_t i = 0; i < ts.size(); ++i) t[i] = py::cast(ts[i]);
  return t;
}

// Dims given as varargs, one sequence, or a keyword: x.flip(0, 1), x.flip((0, 1)), x.flip(dims=(0, 1)).
Shape var_dims(py::args args, py::kwargs kw, const char* op, const char* key) {
  if (kw.contains(key)) {
    EMBER_CHECK(args.size() == 0 && kw.size() == 1, TypeError, "[", op, "] got `", key,
                "` both positionally and as a keyword");
    return py_shape(kw[key], op);
  }
  EMBER_CHECK(kw.size() == 0, TypeError, "[", op, "] unexpected keyword argument: expected only `", key, "`");
  return py_shape_args(args, op);
}

Shape opt_dims(py::handle h, const char* op) { return h.is_none() ? Shape{} : py_shape(h, op); }

// out=(values, indices) for the ops that return a pair
std::optional<std::pair<Tensor, Tensor>> out_pair(py::handle out, const char* op) {
  if (out.is_none()) return std::nullopt;
  auto ts = tensor_list(out, op, "out");
  EMBER_CHECK(ts.size() == 2, ValueError, "[", op, "] expected out=(values, indices), got ", ts.size(), " tensors");
  return std::make_pair(ts[0], ts[1]);
}

// ---- docstrings ---------------------------------------------------------------------------
const char* kCatDoc = R"doc(cat(tensors, dim=0, *, out=None) -> Tensor

Concatenates tensors along an existing dimension (aliases: concat, concatenate).

Args:
    tensors: a non-empty sequence of tensors with equal sizes except in `dim`; dtypes
        promote like PyTorch. 1-d empty tensors are skipped (PyTorch's legacy rule).
    dim (int): the dimension to join along. Default 0.
    out (Tensor, optional): receives the result (same shape, castable dtype).
Returns:
    Tensor: sizes of the inputs with `dim` summed.

Example:
    >>> ember.cat([ember.zeros(2, 3), ember.ones(1, 3)]).shape
    (3, 3))doc";
const char* kStackDoc = R"doc(stack(tensors, dim=0, *, out=None) -> Tensor

Joins equally shaped tensors along a new dimension `dim`.

Example:
    >>> ember.stack([ember.zeros(3), ember.ones(3)], dim=1).shape
    (3, 2))doc";
const char* kHStackDoc = R"doc(Stacks tensors column-wise (hstack), row-wise (vstack/row_stack), depth-wise
(dstack) or as columns (column_stack), like NumPy: inputs are first made 1-d/2-d/3-d.

Args:
    tensors: a non-empty sequence of tensors.
    out (Tensor, optional): receives the result.

Example:
    >>> ember.vstack([ember.zeros(3), ember.ones(3)]).shape
    (2, 3))doc";
const char* kFlipDoc = R"doc(flip(input, dims) -> Tensor

Reverses the order of elements along each dimension in `dims` (a copy, like PyTorch).

Example:
    >>> ember.flip(ember.arange(3), (0,)).tolist()
    [2, 1, 0])doc";
const char* kFlipLRDoc = R"doc(Flips a tensor left/right (dim 1, fliplr) or up/down (dim 0, flipud).

Example:
    >>> ember.flipud(ember.arange(3)).tolist()
    [2, 1, 0])doc";
const char* kRollDoc = R"doc(roll(input, shifts, dims=None) -> Tensor

Rolls elements along `dims` by `shifts` (ints or equally long tuples); elements leaving
one end come back at the other. Without dims the tensor is flattened, rolled and reshaped.

Example:
    >>> ember.roll(ember.arange(4), 1).tolist()
    [3, 0, 1, 2])doc";
const char* kTileDoc = R"doc(tile(input, dims) -> Tensor

Repeats input `dims[i]` times along each dimension; missing leading entries of dims are 1,
extra ones add leading dimensions (Tensor.repeat requires len(repeats) >= input.dim()).

Example:
    >>> ember.tile(ember.arange(2), (2,)).tolist()
    [0, 1, 0, 1])doc";
const char* kRepeatInterleaveDoc = R"doc(repeat_interleave(input, repeats=None, dim=None, *, output_size=None) -> Tensor

Repeats each element (or each slice along `dim`) `repeats` times. repeats is an int or
an integer tensor with one count per slice (or a single count). Without dim, input is
flattened. repeat_interleave(counts) alone returns each index i repeated counts[i] times.

Example:
    >>> ember.repeat_interleave(ember.tensor([1, 2]), 2).tolist()
    [1, 1, 2, 2])doc";
const char* kTrilDoc = R"doc(tril(input, diagonal=0, *, out=None) / triu(...) -> Tensor

Lower (tril) or upper (triu) triangle of the last two dimensions, the rest set to 0.
`diagonal` shifts the kept triangle (positive: above the main diagonal).

Example:
    >>> ember.tril(ember.ones(2, 2)).tolist()
    [[1.0, 0.0], [1.0, 1.0]])doc";
const char* kDiagDoc = R"doc(diag(input, diagonal=0, *, out=None) -> Tensor

A 1-d input becomes a square matrix with it on the `diagonal`-th diagonal; a 2-d input
gives a 1-d copy of its `diagonal`-th diagonal.

Example:
    >>> ember.diag(ember.tensor([1, 2])).tolist()
    [[1, 0], [0, 2]])doc";
const char* kDiagEmbedDoc = R"doc(diag_embed(input, offset=0, dim1=-2, dim2=-1) -> Tensor

Places the last dimension of input on a diagonal of new (dim1, dim2) planes, zeros elsewhere.

Example:
    >>> ember.diag_embed(ember.ones(2, 3)).shape
    (2, 3, 3))doc";
const char* kMeshgridDoc = R"doc(meshgrid(*tensors, indexing='ij') -> tuple of Tensors

Coordinate grids from 0-d/1-d tensors, as expanded views. indexing='xy' swaps the first
two output dimensions (NumPy's default); ember defaults to 'ij' like PyTorch.

Example:
    >>> [g.shape for g in ember.meshgrid(ember.arange(2), ember.arange(3))]
    [(2, 3), (2, 3)])doc";
const char* kBroadcastDoc = R"doc(broadcast_tensors(*tensors) -> tuple of Tensors

Expanded views of the tensors to their common broadcast shape.

Example:
    >>> [t.shape for t in ember.broadcast_tensors(ember.ones(3, 1), ember.ones(4))]
    [(3, 4), (3, 4)])doc";
const char* kAtLeastDoc = R"doc(Returns input viewed with at least 1, 2 or 3 dimensions (NumPy's rules); several
tensors (or one sequence) give a tuple.

Example:
    >>> ember.atleast_2d(ember.tensor(1.0)).shape
    (1, 1))doc";
const char* kSortDoc = R"doc(sort(input, dim=-1, descending=False, *, stable=None, out=None) -> (values, indices)

Sorts along dim. Every ember sort is stable (equal elements keep their order, also when
descending); NaN sorts as the largest value and -0.0 equals 0.0, like PyTorch. Returns an
ember.return_types.sort namedtuple; out=(values, indices) receives the results.

Example:
    >>> ember.sort(ember.tensor([3, 1, 2])).indices.tolist()
    [1, 2, 0])doc";
const char* kArgsortDoc = R"doc(argsort(input, dim=-1, descending=False, *, stable=None) -> Tensor

The int64 indices that sort input along dim (stably; see sort).

Example:
    >>> ember.argsort(ember.tensor([3, 1, 2]), descending=True).tolist()
    [0, 2, 1])doc";
const char* kMsortDoc = R"doc(msort(input, *, out=None) -> Tensor

The values of input sorted along dimension 0.)doc";
const char* kTopkDoc = R"doc(topk(input, k, dim=-1, largest=True, sorted=True, *, out=None) -> (values, indices)

The k largest (or smallest) elements along dim, always in sorted order; ties go to the
lower index; NaN counts as the largest value.

Example:
    >>> ember.topk(ember.tensor([1, 5, 3]), 2).values.tolist()
    [5, 3])doc";
const char* kKthDoc = R"doc(kthvalue(input, k, dim=-1, keepdim=False, *, out=None) -> (values, indices)

The k-th smallest element along dim (k counts from 1) and its index.

Example:
    >>> ember.kthvalue(ember.tensor([4, 1, 3]), 2).values.item()
    3)doc";
const char* kUniqueDoc = R"doc(unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None)

The sorted unique elements of input (or unique slices along dim), plus, when asked, the
inverse indices (input's shape, or (input.size(dim),)) and the counts. The result is
always sorted (sorted=False is accepted). Every NaN is its own unique value, like PyTorch.

Example:
    >>> ember.unique(ember.tensor([2, 1, 2]), return_counts=True)[1].tolist()
    [1, 2])doc";
const char* kUniqueConsecutiveDoc = R"doc(unique_consecutive(input, return_inverse=False, return_counts=False, dim=None)

Collapses runs of equal consecutive elements (or slices along dim).

Example:
    >>> ember.unique_consecutive(ember.tensor([1, 1, 2, 1])).tolist()
    [1, 2, 1])doc";
const char* kSearchsortedDoc = R"doc(searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None, out=None)

For each value of input, the index where it would be inserted into the last dimension of
sorted_sequence to keep it sorted: the first position with boundary >= value (left) or >
value (right / side='right'). sorted_sequence is 1-d or matches input in all but the last
dimension; sorter (int64) gives the order of an unsorted sequence. input may be a number.

Example:
    >>> ember.searchsorted(ember.tensor([1, 3, 5]), ember.tensor([3, 4])).tolist()
    [1, 2])doc";
const char* kBucketizeDoc = R"doc(bucketize(input, boundaries, *, out_int32=False, right=False, out=None) -> Tensor

The index of the bucket of each value: i with boundaries[i-1] < x <= boundaries[i]
(right=False) or boundaries[i-1] <= x < boundaries[i] (right=True); boundaries is 1-d.

Example:
    >>> ember.bucketize(ember.tensor([0.5, 2.0]), ember.tensor([1.0, 2.0])).tolist()
    [0, 1])doc";

struct ReturnTypes {
  py::object sort, topk, kthvalue;
};

py::object pair_result(const py::object& type, const char* op, const std::tuple<Tensor, Tensor>& r, py::handle out) {
  auto o = out_pair(out, op);
  Tensor v = std::get<0>(r), i = std::get<1>(r);
  if (o) {
    EMBER_CHECK(o->second.dtype() == ScalarType::Int64, TypeError, "[", op,
                "] expected an int64 tensor for the indices in out, got ", o->second.dtype());
    nogil([&] {
      v = write_out(op, v, &o->first);
      i = write_out(op, i, &o->second);
      return 0;
    });
  }
  return type(v, i);
}

py::object unique_result(const std::tuple<Tensor, Tensor, Tensor>& r, bool inv, bool counts) {
  if (!inv && !counts) return py::cast(std::get<0>(r));
  py::list l;
  l.append(py::cast(std::get<0>(r)));
  if (inv) l.append(py::cast(std::get<1>(r)));
  if (counts) l.append(py::cast(std::get<2>(r)));
  return py::tuple(l);
}

void bind_shape_ops(py::module_& m, py::class_<Tensor>& cls) {
  // ---- cat and stacks ----
  auto cat_fn = [](py::handle tensors, int64_t dim, OptT out) {
    auto ts = tensor_list(tensors, "cat");
    return nogil([&] { return cat(ts, dim, out_ptr(out)); });
  };
  for (const char* n : {"cat", "concat", "concatenate"})
    m.def(n, cat_fn, py::arg("tensors"), py::arg("dim") = 0, py::kw_only(), py::arg("out") = py::none(), kCatDoc);
  m.def("stack", [](py::handle tensors, int64_t dim, OptT out) {
          auto ts = tensor_list(tensors, "stack");
          return nogil([&] { return stack(ts, dim, out_ptr(out)); });
        }, py::arg("tensors"), py::arg("dim") = 0, py::kw_only(), py::arg("out") = py::none(), kStackDoc);
  using StackFn = Tensor (*)(const std::vector<Tensor>&, const Tensor*);
  for (auto [name, fn] : {std::pair<const char*, StackFn>{"hstack", &hstack}, {"vstack", &vstack},
                          {"row_stack", &vstack}, {"dstack", &dstack}, {"column_stack", &column_stack}}) {
    StackFn f = fn;
    std::string n = name;
    m.def(name, [f, n](py::handle tensors, OptT out) {
            auto ts = tensor_list(tensors, n.c_str());
            return nogil([&] { return f(ts, out_ptr(out)); });
          }, py::arg("tensors"), py::kw_only(), py::arg("out") = py::none(), kHStackDoc);
  }

  // ---- flip / roll ----
  m.def("flip", [](const Tensor& x, py::handle dims) {
          Shape d = py_shape(dims, "flip");
          return nogil([&] { return flip(x, d); });
        }, py::arg("input"), py::arg("dims"), kFlipDoc);
  cls.def("flip", [](const Tensor& x, py::args args, py::kwargs kw) {
    Shape d = var_dims(args, kw, "flip", "dims");
    return nogil([&] { return flip(x, d); });
  });
  for (auto [name, fn] : {std::pair<const char*, Tensor (*)(const Tensor&)>{"fliplr", &fliplr}, {"flipud", &flipud}}) {
    auto f = fn;
    m.def(name, [f](const Tensor& x) { return nogil([&] { return f(x); }); }, py::arg("input"), kFlipLRDoc);
    cls.def(name, [f](const Tensor& x) { return nogil([&] { return f(x); }); });
  }
  auto roll_fn = [](const Tensor& x, py::handle shifts, py::handle dims) {
    Shape s = py_shape(shifts, "roll"), d = opt_dims(dims, "roll");
    return nogil([&] { return roll(x, s, d); });
  };
  m.def("roll", roll_fn, py::arg("input"), py::arg("shifts"), py::arg("dims") = py::none(), kRollDoc);
  cls.def("roll", roll_fn, py::arg("shifts"), py::arg("dims") = py::none());

  // ---- repeat / tile / repeat_interleave ----
  cls.def("repeat", [](const Tensor& x, py::args args, py::kwargs kw) {
    Shape r = var_dims(args, kw, "repeat", "repeats");
    return nogil([&] { return repeat(x, r); });
  });
  m.def("tile", [](const Tensor& x, py::handle dims) {
          Shape d = py_shape(dims, "tile");
          return nogil([&] { return tile(x, d); });
        }, py::arg("input"), py::arg("dims"), kTileDoc);
  cls.def("tile", [](const Tensor& x, py::args args, py::kwargs kw) {
    Shape d = var_dims(args, kw, "tile", "dims");
    return nogil([&] { return tile(x, d); });
  });
  auto interleave = [](const Tensor& x, py::handle repeats, std::optional<int64_t> dim,
                       std::optional<int64_t> output_size) {
    if (py::isinstance<Tensor>(repeats)) {
      Tensor r = repeats.cast<Tensor>();
      return nogil([&] { return repeat_interleave(x, r, dim, output_size); });
    }
    EMBER_CHECK(PyIndex_Check(repeats.ptr()) && !PyBool_Check(repeats.ptr()), TypeError,
                "[repeat_interleave] expected an int or an integer Tensor for `repeats`, got ", type_name(repeats));
    int64_t r = py_index(repeats.ptr());
    return nogil([&] { return repeat_interleave(x, r, dim, output_size); });
  };
  m.def("repeat_interleave", [interleave](const Tensor& x, py::handle repeats, std::optional<int64_t> dim,
                                          std::optional<int64_t> output_size) {
          if (repeats.is_none()) {
            EMBER_CHECK(!dim, ValueError, "[repeat_interleave] dim needs repeats: got dim without repeats");
            return nogil([&] { return repeat_interleave_index(x, output_size); });
          }
          return interleave(x, repeats, dim, output_size);
        }, py::arg("input"), py::arg("repeats") = py::none(), py::arg("dim") = py::none(), py::kw_only(),
        py::arg("output_size") = py::none(), kRepeatInterleaveDoc);
  cls.def("repeat_interleave", interleave, py::arg("repeats"), py::arg("dim") = py::none(), py::kw_only(),
          py::arg("output_size") = py::none());

  // ---- tril / triu ----
  using TriFn = Tensor (*)(const Tensor&, int64_t, const Tensor*);
  for (auto [name, fn] : {std::pair<const char*, TriFn>{"tril", &tril}, {"triu", &triu}}) {
    TriFn f = fn;
    m.def(name, [f](const Tensor& x, int64_t k, OptT out) { return nogil([&] { return f(x, k, out_ptr(out)); }); },
          py::arg("input"), py::arg("diagonal") = 0, py::kw_only(), py::arg("out") = py::none(), kTrilDoc);
    cls.def(name, [f](const Tensor& x, int64_t k) { return nogil([&] { return f(x, k, nullptr); }); },
            py::arg("diagonal") = 0);
    cls.def((std::string(name) + "_").c_str(), inplace([f](const Tensor& x, int64_t k) {
              return nogil([&] { return f(x, k, &x); });
            }), py::arg("diagonal") = 0);
  }

  // ---- pad ----
  m.def("pad", [](const Tensor& x, py::handle p, const std::string& mode, py::handle value) {
          Shape ps = py_shape(p, "pad");
          PadMode pm = pad_mode(mode);
          std::optional<Scalar> v;
          if (!value.is_none()) {
            v = py_scalar(value);
            EMBER_CHECK(v, TypeError, "[pad] expected a number for `value`, got ", type_name(value));
          }
          return nogil([&] { return pad(x, ps, pm, v); });
        }, py::arg("input"), py::arg("pad"), py::arg("mode") = "constant", py::arg("value") = py::none(),
        R"doc(Pads input. pad = (left, right) pairs from the last dimension backwards, like PyTorch;
negative values crop. mode: 'constant' (with value, default 0), 'reflect', 'replicate' or
'circular'. Unlike torch.nn.functional.pad, the non-constant modes pad any number of trailing
dimensions of any input (no batch/channel dimensions required).

Example:
    >>> ember.pad(ember.arange(3.), (1, 2), mode='reflect').tolist()
    [1.0, 0.0, 1.0, 2.0, 1.0, 0.0])doc");

  // ---- diag / diag_embed ----
  m.def("diag", [](const Tensor& x, int64_t k, OptT out) { return nogil([&] { return diag(x, k, out_ptr(out)); }); },
        py::arg("input"), py::arg("diagonal") = 0, py::kw_only(), py::arg("out") = py::none(), kDiagDoc);
  cls.def("diag", [](const Tensor& x, int64_t k) { return nogil([&] { return diag(x, k, nullptr); }); },
          py::arg("diagonal") = 0);
  auto embed = [](const Tensor& x, int64_t off, int64_t d1, int64_t d2) {
    return nogil([&] { return diag_embed(x, off, d1, d2); });
  };
  m.def("diag_embed", embed, py::arg("input"), py::arg("offset") = 0, py::arg("dim1") = -2, py::arg("dim2") = -1,
        kDiagEmbedDoc);
  cls.def("diag_embed", embed, py::arg("offset") = 0, py::arg("dim1") = -2, py::arg("dim2") = -1);

  // ---- views ----
  m.def("meshgrid", [](py::args tensors, std::optional<std::string> indexing) {
          return to_tuple(meshgrid(tensor_args(tensors, "meshgrid"), indexing ? *indexing : "ij"));
        }, py::arg("indexing") = py::none(), kMeshgridDoc);
  m.def("broadcast_tensors", [](py::args tensors) {
    return to_tuple(broadcast_tensors(tensor_args(tensors, "broadcast_tensors")));
  }, kBroadcastDoc);
  using AtLeast = Tensor (*)(const Tensor&);
  for (auto [name, fn] : {std::pair<const char*, AtLeast>{"atleast_1d", &atleast_1d}, {"atleast_2d", &atleast_2d},
                          {"atleast_3d", &atleast_3d}}) {
    AtLeast f = fn;
    std::string n = name;
    m.def(name, [f, n](py::args args) -> py::object {
      if (args.size() == 1 && py::isinstance<Tensor>(args[0])) return py::cast(f(args[0].cast<Tensor>()));
      std::vector<Tensor> r;
      for (const Tensor& t : tensor_args(args, n.c_str())) r.push_back(f(t));
      return to_tuple(r);
    }, kAtLeastDoc);
  }
}

void bind_sort_ops(py::module_& m, py::class_<Tensor>& cls) {
  py::module_ rt = m.def_submodule("return_types", "(values, indices) namedtuples returned by sort, topk, kthvalue.");
  auto nt = py::module_::import("collections").attr("namedtuple");
  ReturnTypes types;
  for (const char* name : {"sort", "topk", "kthvalue"}) {
    py::object t = nt(name, py::make_tuple("values", "indices"));
    t.attr("__module__") = "ember.return_types";
    rt.attr(name) = t;
  }
  types.sort = rt.attr("sort");
  types.topk = rt.attr("topk");
  types.kthvalue = rt.attr("kthvalue");

  auto sort_fn = [types](const Tensor& x, int64_t dim, bool descending, std::optional<bool> stable, py::handle out) {
    (void)stable;  // every sort is stable
    auto r = nogil([&] { return sort(x, dim, descending); });
    return pair_result(types.sort, "sort", r, out);
  };
  m.def("sort", sort_fn, py::arg("input"), py::arg("dim") = -1, py::arg("descending") = false, py::kw_only(),
        py::arg("stable") = py::none(), py::arg("out") = py::none(), kSortDoc);
  cls.def("sort", [sort_fn](const Tensor& x, int64_t dim, bool descending, std::optional<bool> stable) {
            return sort_fn(x, dim, descending, stable, py::none());
          }, py::arg("dim") = -1, py::arg("descending") = false, py::kw_only(), py::arg("stable") = py::none());
  auto argsort_fn = [](const Tensor& x, int64_t dim, bool descending, std::optional<bool>) {
    return nogil([&] { return argsort(x, dim, descending); });
  };
  m.def("argsort", argsort_fn, py::arg("input"), py::arg("dim") = -1, py::arg("descending") = false, py::kw_only(),
        py::arg("stable") = py::none(), kArgsortDoc);
  cls.def("argsort", argsort_fn, py::arg("dim") = -1, py::arg("descending") = false, py::kw_only(),
          py::arg("stable") = py::none());
  m.def("msort", [](const Tensor& x, OptT out) {
          return nogil([&] { return write_out("msort", msort(x), out_ptr(out)); });
        }, py::arg("input"), py::kw_only(), py::arg("out") = py::none(), kMsortDoc);
  cls.def("msort", [](const Tensor& x) { return nogil([&] { return msort(x); }); });

  auto topk_fn = [types](const Tensor& x, int64_t k, int64_t dim, bool largest, bool sorted, py::handle out) {
    auto r = nogil([&] { return topk(x, k, dim, largest, sorted); });
    return pair_result(types.topk, "topk", r, out);
  };
  m.def("topk", topk_fn, py::arg("input"), py::arg("k"), py::arg("dim") = -1, py::arg("largest") = true,
        py::arg("sorted") = true, py::kw_only(), py::arg("out") = py::none(), kTopkDoc);
  cls.def("topk", [topk_fn](const Tensor& x, int64_t k, int64_t dim, bool largest, bool sorted) {
            return topk_fn(x, k, dim, largest, sorted, py::none());
          }, py::arg("k"), py::arg("dim") = -1, py::arg("largest") = true, py::arg("sorted") = true);
  auto kth_fn = [types](const Tensor& x, int64_t k, int64_t dim, bool keepdim, py::handle out) {
    auto r = nogil([&] { return kthvalue(x, k, dim, keepdim); });
    return pair_result(types.kthvalue, "kthvalue", r, out);
  };
  m.def("kthvalue", kth_fn, py::arg("input"), py::arg("k"), py::arg("dim") = -1, py::arg("keepdim") = false,
        py::kw_only(), py::arg("out") = py::none(), kKthDoc);
  cls.def("kthvalue", [kth_fn](const Tensor& x, int64_t k, int64_t dim, bool keepdim) {
            return kth_fn(x, k, dim, keepdim, py::none());
          }, py::arg("k"), py::arg("dim") = -1, py::arg("keepdim") = false);

  auto unique_fn = [](const Tensor& x, bool sorted, bool inv, bool counts, std::optional<int64_t> dim) {
    auto r = nogil([&] { return unique(x, sorted, inv, counts, dim); });
    return unique_result(r, inv, counts);
  };
  m.def("unique", unique_fn, py::arg("input"), py::arg("sorted") = true, py::arg("return_inverse") = false,
        py::arg("return_counts") = false, py::arg("dim") = py::none(), kUniqueDoc);
  cls.def("unique", unique_fn, py::arg("sorted") = true, py::arg("return_inverse") = false,
          py::arg("return_counts") = false, py::arg("dim") = py::none());
  auto consecutive_fn = [](const Tensor& x, bool inv, bool counts, std::optional<int64_t> dim) {
    auto r = nogil([&] { return unique_consecutive(x, inv, counts, dim); });
    return unique_result(r, inv, counts);
  };
  m.def("unique_consecutive", consecutive_fn, py::arg("input"), py::arg("return_inverse") = false,
        py::arg("return_counts") = false, py::arg("dim") = py::none(), kUniqueConsecutiveDoc);
  cls.def("unique_consecutive", consecutive_fn, py::arg("return_inverse") = false, py::arg("return_counts") = false,
          py::arg("dim") = py::none());

  m.def("searchsorted", [](const Tensor& seq, py::handle input, bool out_int32, bool right,
                           std::optional<std::string> side, OptT sorter, OptT out) {
          Tensor v = operand(input, "searchsorted", "input");
          if (side) {
            EMBER_CHECK(*side == "left" || *side == "right", ValueError,
                        "[searchsorted] side must be 'left' or 'right', got '", *side, "'");
            EMBER_CHECK(!(right && *side == "left"), ValueError,
                        "[searchsorted] side and right can't be set to opposites: got side='left' and right=True");
            right = *side == "right";
          }
          return nogil([&] { return searchsorted(seq, v, out_int32, right, sorter, out_ptr(out)); });
        }, py::arg("sorted_sequence"), py::arg("input"), py::kw_only(), py::arg("out_int32") = false,
        py::arg("right") = false, py::arg("side") = py::none(), py::arg("sorter") = py::none(),
        py::arg("out") = py::none(), kSearchsortedDoc);
  m.def("bucketize", [](py::handle input, const Tensor& boundaries, bool out_int32, bool right, OptT out) {
          Tensor v = operand(input, "bucketize", "input");
          return nogil([&] { return bucketize(v, boundaries, out_int32, right, out_ptr(out)); });
        }, py::arg("input"), py::arg("boundaries"), py::kw_only(), py::arg("out_int32") = false,
        py::arg("right") = false, py::arg("out") = py::none(), kBucketizeDoc);
}

}  // namespace

void init_shape(py::module_& m) {
  auto cls = tensor_class(m);
  bind_shape_ops(m, cls);
  bind_sort_ops(m, cls);
}

}  // namespace ember
