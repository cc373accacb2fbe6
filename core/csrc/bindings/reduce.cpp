// Reductions and scans as ember.<op>(...) and Tensor.<op>(...), with PyTorch's names,
// arguments and defaults. Ops that return (values, indices) return named tuples from
// ember.return_types (tuple subclasses with .values / .indices, like torch.return_types).
#include "../ops/reduce.h"

#include <cmath>

#include "common.h"

namespace ember {

namespace {

using OptT = std::optional<Tensor>;

std::string type_name(py::handle h) { return std::string(py::str(py::type::handle_of(h).attr("__name__"))); }

int64_t py_int(py::handle h, const char* op, const char* arg) {
  EMBER_CHECK(PyIndex_Check(h.ptr()) && !PyBool_Check(h.ptr()), TypeError, "[", op, "] expected an int for `", arg,
              "`, got ", type_name(h));
  return py_index(h.ptr());
}

// dim: None (all dims), an int, or a tuple/list of ints.
OptDims py_dims(py::handle h, const char* op) {
  if (h.is_none()) return std::nullopt;
  if (PyIndex_Check(h.ptr()) && !PyBool_Check(h.ptr())) return std::vector<int64_t>{py_int(h, op, "dim")};
  EMBER_CHECK((py::isinstance<py::tuple>(h) || py::isinstance<py::list>(h)), TypeError, "[", op,
              "] expected dim to be None, an int or a tuple of ints, got ", type_name(h));
  std::vector<int64_t> d;
  for (py::object e : py::reinterpret_borrow<py::sequence>(h)) d.push_back(py_int(e, op, "dim"));
  return d;
}

std::optional<int64_t> py_opt_dim(py::handle h, const char* op) {
  if (h.is_none()) return std::nullopt;
  return py_int(h, op, "dim");
}

py::handle g_return_types;  // ember._C.return_types (kept alive by the module)

py::object named(const char* type, const TensorPair& p) {
  return g_return_types.attr(type)(py::cast(p.first), py::cast(p.second));
}

// var/std arguments: dim may be the legacy `unbiased` bool (x.var(False)); correction
// defaults to 1, unbiased=False means 0.
double resolve_correction(const char* op, py::handle& dim, py::handle unbiased, py::handle correction) {
  py::handle ub = unbiased;
  if (PyBool_Check(dim.ptr())) {
    EMBER_CHECK(ub.is_none(), TypeError, "[", op, "] got unbiased twice (as dim and as unbiased)");
    ub = dim;
    dim = py::none();
  }
  if (!ub.is_none() && !correction.is_none())
    throw TypeError(str("[", op, "] expected either unbiased or correction, got both"));
  if (!correction.is_none()) {
    auto s = py_scalar(correction);
    EMBER_CHECK(s && s->kind != Scalar::Complex, TypeError, "[", op, "] expected a number for correction, got ",
                type_name(correction));
    return s->to_double();
  }
  if (!ub.is_none()) {
    EMBER_CHECK(PyBool_Check(ub.ptr()), TypeError, "[", op, "] expected a bool for unbiased, got ", type_name(ub));
    return ub.ptr() == Py_True ? 1.0 : 0.0;
  }
  return 1.0;
}

double norm_order(py::handle p) {
  if (p.is_none()) return 2.0;
  if (py::isinstance<py::str>(p)) {
    std::string s = p.cast<std::string>();
    if (s == "fro") return 2.0;
    if (s == "nuc")
      throw NotImplementedError("[norm] the nuclear norm needs singular values: use ember.linalg.matrix_norm(x, 'nuc')");
    throw ValueError(str("[norm] expected p to be a number, 'fro' or 'nuc', got '", s, "'"));
  }
  auto s = py_scalar(p);
  EMBER_CHECK(s && s->kind != Scalar::Complex, TypeError, "[norm] expected p to be a number, 'fro' or 'nuc', got ",
              type_name(p));
  return s->to_double();
}

}  // namespace

void init_reduce(py::module_& m) {
  auto cls = tensor_class(m);

  // ---- return types ----
  {
    py::module_ rt = m.def_submodule("return_types", "Named tuples returned by reductions, like torch.return_types.");
    py::object nt = py::module_::import("collections").attr("namedtuple");
    for (const char* n : {"max", "min", "median", "nanmedian", "cummax", "cummin", "mode", "kthvalue", "sort", "topk"})
      rt.attr(n) = nt(n, py::make_tuple("values", "indices"), py::arg("module") = "ember.return_types");
    rt.attr("aminmax") = nt("aminmax", py::make_tuple("min", "max"), py::arg("module") = "ember.return_types");
    g_return_types = rt;
  }

  // ---- sum-like: (input, dim=None, keepdim=False, *, dtype=None, out=None) ----
  using SumFn = Tensor (*)(const Tensor&, const OptDims&, bool, OptType, const Tensor*);
  struct SumDef { const char* name; SumFn fn; const char* doc; };
  static const SumDef sums[] = {
      {"sum", &sum, "Sum of the elements over dim (all dims if None). Bool and integer inputs sum to int64.\n\n"
                    "Example:\n    >>> ember.tensor([[1., 2.], [3., 4.]]).sum(0)\n    tensor([4., 6.])"},
      {"nansum", &nansum, "Sum treating NaN as zero."},
      {"mean", &mean, "Mean over dim (all dims if None); needs a floating point or complex input (or dtype=)."},
      {"nanmean", &nanmean, "Mean over the non-NaN elements."},
      {"prod", &prod, "Product of the elements over dim. Bool and integer inputs multiply in int64."},
  };
  for (const SumDef& s : sums) {
    SumFn fn = s.fn;
    std::string name = s.name;
    m.def(s.name, [fn, name](const Tensor& x, py::handle dim, bool keepdim, OptType dtype, OptT out) {
            OptDims d = py_dims(dim, name.c_str());
            return nogil([&] { return fn(x, d, keepdim, dtype, out_ptr(out)); });
          }, py::arg("input"), py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(),
          py::arg("dtype") = py::none(), py::arg("out") = py::none(), s.doc);
    cls.def(s.name, [fn, name](const Tensor& x, py::handle dim, bool keepdim, OptType dtype) {
              OptDims d = py_dims(dim, name.c_str());
              return nogil([&] { return fn(x, d, keepdim, dtype, nullptr); });
            }, py::arg("dim") = py::none(), py::arg("keepdim") = false, py::arg("dtype") = py::none(), s.doc);
  }

  // ---- amax/amin, all/any, logsumexp: (input, dim=None, keepdim=False, *, out=None) ----
  using DimFn = Tensor (*)(const Tensor&, const OptDims&, bool, const Tensor*);
  struct DimDef { const char* name; DimFn fn; const char* doc; };
  static const DimDef dimops[] = {
      {"amax", &amax, "Maximum over dim (several dims allowed); NaN propagates."},
      {"amin", &amin, "Minimum over dim (several dims allowed); NaN propagates."},
      {"all", &all, "True where every element over dim is nonzero (uint8 inputs give uint8)."},
      {"any", &any, "True where some element over dim is nonzero (uint8 inputs give uint8)."},
      {"logsumexp", &logsumexp, "log(sum(exp(x))) over dim, computed stably (integers promote to float)."},
  };
  for (const DimDef& s : dimops) {
    DimFn fn = s.fn;
    std::string name = s.name;
    m.def(s.name, [fn, name](const Tensor& x, py::handle dim, bool keepdim, OptT out) {
            OptDims d = py_dims(dim, name.c_str());
            return nogil([&] { return fn(x, d, keepdim, out_ptr(out)); });
          }, py::arg("input"), py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(),
          py::arg("out") = py::none(), s.doc);
    cls.def(s.name, [fn, name](const Tensor& x, py::handle dim, bool keepdim) {
              OptDims d = py_dims(dim, name.c_str());
              return nogil([&] { return fn(x, d, keepdim, nullptr); });
            }, py::arg("dim") = py::none(), py::arg("keepdim") = false, s.doc);
  }

  // ---- max/min: (input) -> value; (input, dim, keepdim) -> (values, indices); (input, other) ----
  for (bool is_max : {true, false}) {
    const char* name = is_max ? "max" : "min";
    auto fn = [is_max, name](const Tensor& x, py::handle dim, bool keepdim, OptT out) -> py::object {
      if (dim.is_none()) {
        EMBER_CHECK(!out, TypeError, "[", name, "] out= needs dim (or other)");
        return py::cast(nogil([&] { return is_max ? max_all(x) : min_all(x); }));
      }
      if (py::isinstance<Tensor>(dim)) {
        Tensor o = dim.cast<Tensor>();
        return py::cast(nogil([&] {
          return binary(is_max ? BinaryOp::maximum : BinaryOp::minimum, x, o, {}, out_ptr(out));
        }));
      }
      int64_t d = py_int(dim, name, "dim");
      TensorPair r = nogil([&] { return is_max ? max_dim(x, d, keepdim) : min_dim(x, d, keepdim); });
      EMBER_CHECK(!out, TypeError, "[", name, "] out= is not supported with dim; use the returned tuple");
      return named(name, r);
    };
    m.def(name, fn, py::arg("input"), py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(),
          py::arg("out") = py::none(),
          is_max ? "max(input) -> the maximum; max(input, dim, keepdim=False) -> (values, indices); "
                   "max(input, other) -> elementwise maximum. NaN propagates."
                 : "min(input) -> the minimum; min(input, dim, keepdim=False) -> (values, indices); "
                   "min(input, other) -> elementwise minimum. NaN propagates.");
    cls.def(name, [fn](const Tensor& x, py::handle dim, bool keepdim) { return fn(x, dim, keepdim, std::nullopt); },
            py::arg("dim") = py::none(), py::arg("keepdim") = false);
  }

  // ---- argmax/argmin ----
  for (bool is_max : {true, false}) {
    const char* name = is_max ? "argmax" : "argmin";
    auto fn = [is_max, name](const Tensor& x, py::handle dim, bool keepdim) {
      auto d = py_opt_dim(dim, name);
      return nogil([&] { return is_max ? argmax(x, d, keepdim) : argmin(x, d, keepdim); });
    };
    m.def(name, fn, py::arg("input"), py::arg("dim") = py::none(), py::arg("keepdim") = false,
          "Index (int64) of the first extreme element over dim; dim=None flattens. A NaN counts as the extreme.");
    cls.def(name, fn, py::arg("dim") = py::none(), py::arg("keepdim") = false);
  }

  auto aminmax_fn = [](const Tensor& x, py::handle dim, bool keepdim) {
    auto d = py_opt_dim(dim, "aminmax");
    return named("aminmax", nogil([&] { return aminmax(x, d, keepdim); }));
  };
  m.def("aminmax", aminmax_fn, py::arg("input"), py::kw_only(), py::arg("dim") = py::none(),
        py::arg("keepdim") = false, "(min, max) over dim (all dims if None).");
  cls.def("aminmax", aminmax_fn, py::kw_only(), py::arg("dim") = py::none(), py::arg("keepdim") = false);

  // ---- var/std ----
  for (int which = 0; which < 2; ++which) {
    bool is_std = which == 1;
    const char* name = is_std ? "std" : "var";
    auto fn = [is_std, name](const Tensor& x, py::handle dim, py::handle unbiased, bool keepdim, py::handle correction,
                             OptT out) {
      py::handle d = dim;
      double c = resolve_correction(name, d, unbiased, correction);
      OptDims dims = py_dims(d, name);
      return nogil([&] { return is_std ? std_(x, dims, c, keepdim, out_ptr(out)) : var(x, dims, c, keepdim, out_ptr(out)); });
    };
    const char* doc = is_std ? "Standard deviation over dim with divisor max(0, N - correction) (correction=1 by "
                               "default; unbiased=False means correction=0)."
                             : "Variance over dim with divisor max(0, N - correction) (correction=1 by default; "
                               "unbiased=False means correction=0).";
    m.def(name, fn, py::arg("input"), py::arg("dim") = py::none(), py::arg("unbiased") = py::none(),
          py::arg("keepdim") = false, py::kw_only(), py::arg("correction") = py::none(), py::arg("out") = py::none(), doc);
    cls.def(name, [fn](const Tensor& x, py::handle dim, py::handle unbiased, bool keepdim, py::handle correction) {
              return fn(x, dim, unbiased, keepdim, correction, std::nullopt);
            }, py::arg("dim") = py::none(), py::arg("unbiased") = py::none(), py::arg("keepdim") = false, py::kw_only(),
            py::arg("correction") = py::none(), doc);
    std::string pname = std::string(name) + "_mean";
    m.def(pname.c_str(), [is_std, pname](const Tensor& x, py::handle dim, py::handle unbiased, bool keepdim,
                                         py::handle correction) {
            py::handle d = dim;
            double c = resolve_correction(pname.c_str(), d, unbiased, correction);
            OptDims dims = py_dims(d, pname.c_str());
            TensorPair r = nogil([&] { return is_std ? std_mean(x, dims, c, keepdim) : var_mean(x, dims, c, keepdim); });
            return py::make_tuple(r.first, r.second);
          }, py::arg("input"), py::arg("dim") = py::none(), py::arg("unbiased") = py::none(), py::arg("keepdim") = false,
          py::kw_only(), py::arg("correction") = py::none(),
          is_std ? "(std, mean) over dim in one pass." : "(var, mean) over dim in one pass.");
  }

  // ---- norm ----
  auto norm_fn = [](const Tensor& x, py::handle p, py::handle dim, bool keepdim, OptType dtype, OptT out) {
    double order = norm_order(p);
    OptDims dims = py_dims(dim, "norm");
    return nogil([&] { return norm(x, order, dims, keepdim, dtype, out_ptr(out)); });
  };
  m.def("norm", norm_fn, py::arg("input"), py::arg("p") = "fro", py::arg("dim") = py::none(),
        py::arg("keepdim") = false, py::arg("dtype") = py::none(), py::kw_only(), py::arg("out") = py::none(),
        "Vector p-norm over dim (all elements if None): p = 2 ('fro'), 1, inf, -inf, 0 (count of nonzeros) or any "
        "float. Complex inputs give real norms.");
  cls.def("norm", [norm_fn](const Tensor& x, py::handle p, py::handle dim, bool keepdim, OptType dtype) {
            return norm_fn(x, p, dim, keepdim, dtype, std::nullopt);
          }, py::arg("p") = "fro", py::arg("dim") = py::none(), py::arg("keepdim") = false, py::arg("dtype") = py::none());

  auto count_fn = [](const Tensor& x, py::handle dim) {
    OptDims d = py_dims(dim, "count_nonzero");
    return nogil([&] { return count_nonzero(x, d); });
  };
  m.def("count_nonzero", count_fn, py::arg("input"), py::arg("dim") = py::none(),
        "Number of nonzero elements over dim (int64).");
  cls.def("count_nonzero", count_fn, py::arg("dim") = py::none());

  // ---- scans ----
  for (bool is_prod : {false, true}) {
    const char* name = is_prod ? "cumprod" : "cumsum";
    auto fn = [is_prod, name](const Tensor& x, py::handle dim, OptType dtype, const Tensor* out) {
      int64_t d = py_int(dim, name, "dim");
      return nogil([&] { return is_prod ? cumprod(x, d, dtype, out) : cumsum(x, d, dtype, out); });
    };
    m.def(name, [fn](const Tensor& x, py::handle dim, OptType dtype, OptT out) { return fn(x, dim, dtype, out_ptr(out)); },
          py::arg("input"), py::arg("dim"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("out") = py::none(),
          is_prod ? "Cumulative product along dim (bool/integers in int64)." : "Cumulative sum along dim (bool/integers in int64).");
    cls.def(name, [fn](const Tensor& x, py::handle dim, OptType dtype) { return fn(x, dim, dtype, nullptr); },
            py::arg("dim"), py::kw_only(), py::arg("dtype") = py::none());
    cls.def((std::string(name) + "_").c_str(), inplace([fn](const Tensor& x, py::handle dim, OptType dtype) {
              return fn(x, dim, dtype ? dtype : OptType(x.dtype()), &x);
            }), py::arg("dim"), py::kw_only(), py::arg("dtype") = py::none());
  }
  auto lcse = [](const Tensor& x, py::handle dim, const Tensor* out) {
    int64_t d = py_int(dim, "logcumsumexp", "dim");
    return nogil([&] { return logcumsumexp(x, d, out); });
  };
  m.def("logcumsumexp", [lcse](const Tensor& x, py::handle dim, OptT out) { return lcse(x, dim, out_ptr(out)); },
        py::arg("input"), py::arg("dim"), py::kw_only(), py::arg("out") = py::none(),
        "log(cumsum(exp(x))) along dim, computed stably.");
  cls.def("logcumsumexp", [lcse](const Tensor& x, py::handle dim) { return lcse(x, dim, nullptr); }, py::arg("dim"));
  for (bool is_max : {true, false}) {
    const char* name = is_max ? "cummax" : "cummin";
    auto fn = [is_max, name](const Tensor& x, py::handle dim) {
      int64_t d = py_int(dim, name, "dim");
      return named(name, nogil([&] { return is_max ? cummax(x, d) : cummin(x, d); }));
    };
    m.def(name, fn, py::arg("input"), py::arg("dim"),
          "(values, indices) of the running extreme along dim; ties take the later index, NaN propagates.");
    cls.def(name, fn, py::arg("dim"));
  }

  // ---- median ----
  for (bool ignore_nan : {false, true}) {
    const char* name = ignore_nan ? "nanmedian" : "median";
    auto fn = [ignore_nan, name](const Tensor& x, py::handle dim, bool keepdim) -> py::object {
      if (dim.is_none()) return py::cast(nogil([&] { return median_all(x, ignore_nan); }));
      int64_t d = py_int(dim, name, "dim");
      return named(name, nogil([&] { return median_dim(x, d, keepdim, ignore_nan); }));
    };
    m.def(name, fn, py::arg("input"), py::arg("dim") = py::none(), py::arg("keepdim") = false,
          ignore_nan ? "Median ignoring NaN: the lower of the two middle values; with dim, (values, indices)."
                     : "Median (the lower of the two middle values; NaN if any); with dim, (values, indices).");
    cls.def(name, fn, py::arg("dim") = py::none(), py::arg("keepdim") = false);
  }
}

}  // namespace ember
