// The Tensor class: metadata, conversions, subscripts and Python protocols.
// Ops add their own methods in their family's binding file.
#include "../autograd/node.h"
#include "../ops/creation.h"
#include "../ops/index.h"
#include "../ops/view.h"
#include "common.h"

namespace ember {

namespace {
std::vector<TensorIndex> parse_key(py::handle key) {
  std::vector<TensorIndex> items;
  auto one = [&](py::handle h) {
    TensorIndex ix;
    PyObject* o = h.ptr();
    if (PyBool_Check(o)) {
      ix.kind = TensorIndex::Bool;
      ix.b = o == Py_True;
    } else if (PyLong_Check(o)) {
      ix.kind = TensorIndex::Int;
      ix.i = h.cast<int64_t>();
    } else if (o == Py_None) {
      ix.kind = TensorIndex::None;
    } else if (o == Py_Ellipsis) {
      ix.kind = TensorIndex::Ellipsis;
    } else if (PySlice_Check(o)) {
      ix.kind = TensorIndex::Slice;
      auto sl = py::reinterpret_borrow<py::slice>(h);
      auto get = [](py::object v, const char* what) -> std::optional<int64_t> {
        if (v.is_none()) return std::nullopt;
        if (py::isinstance<Tensor>(v)) return item(v.cast<Tensor>()).to_int();
        EMBER_CHECK(PyIndex_Check(v.ptr()), TypeError, "[index] slice ", what, " must be an integer or None, got ",
                    std::string(py::str(py::type::handle_of(v).attr("__name__"))));
        return py_index(v.ptr());
      };
      ix.start = get(sl.attr("start"), "start");
      ix.stop = get(sl.attr("stop"), "stop");
      auto step = get(sl.attr("step"), "step");
      ix.step = step ? *step : 1;
      EMBER_CHECK(ix.step > 0, ValueError, "[index] slice step must be positive, got ", ix.step,
                  "; use .flip(dims) to reverse");
    } else if (py::isinstance<Tensor>(h)) {
      Tensor t = h.cast<Tensor>();
      ix.kind = TensorIndex::Tensor;
      ix.t = t;
    } else if (PyIndex_Check(o) && !py::isinstance<py::array>(h)) {  // NumPy integer scalars
      ix.kind = TensorIndex::Int;
      ix.i = py_index(o);
    } else if ((py::isinstance<py::sequence>(h) && !py::isinstance<py::str>(h) && !py::isinstance<py::bytes>(h)) ||
               py::isinstance<py::array>(h)) {
      ix.kind = TensorIndex::Tensor;
      ix.t = tensor_from_py(h, std::nullopt, std::nullopt);
      if (ix.t.numel() == 0 && ix.t.dtype() != ScalarType::Bool) ix.t = to_dtype(ix.t, ScalarType::Int64);
    } else {
      throw IndexError(str("[index] only integers, slices (`:`), ellipsis (`...`), None and long or bool tensors are "
                           "valid indices, got ", std::string(py::str(py::type::handle_of(h).attr("__name__")))));
    }
    items.push_back(std::move(ix));
  };
  if (py::isinstance<py::tuple>(key)) {
    for (py::handle h : py::reinterpret_borrow<py::tuple>(key)) one(h);
  } else {
    one(key);
  }
  return items;
}

py::tuple to_tuple(const Shape& s) {
  py::tuple t(s.size());
  for (size_t i = 0; i < s.size(); ++i) t[i] = py::int_(s[i]);
  return t;
}
}  // namespace

void init_tensor(py::module_& m) {
  py::class_<Tensor> cls(m, "Tensor", "A multi-dimensional array of one dtype on one device.");
  // Tensor(other): a detached alias of other (same storage and version counter, no history),
  // what Python subclasses such as nn.Parameter build on.
  cls.def(py::init([](const Tensor& t) { return autograd::alias_detached(t); }), py::arg("data"));
  cls.def_property_readonly("shape", [](const Tensor& t) { return to_tuple(t.sizes()); })
      .def_property_readonly("dtype", &Tensor::dtype)
      .def_property_readonly("device", &Tensor::device)
      .def_property_readonly("ndim", &Tensor::dim)
      .def_property_readonly("is_cuda", [](const Tensor& t) { return t.device().is_cuda(); })
      .def_property_readonly("is_cpu", [](const Tensor& t) { return t.device().is_cpu(); })
      .def_property_readonly("_version", &Tensor::version)
      .def_property_readonly("_is_wrapped_number", &Tensor::is_wrapped_number)
      .def("dim", &Tensor::dim)
      .def("ndimension", &Tensor::dim)
      .def("numel", &Tensor::numel)
      .def("nelement", &Tensor::numel)
      .def("element_size", &Tensor::itemsize)
      .def_property_readonly("itemsize", &Tensor::itemsize)
      .def_property_readonly("nbytes", [](const Tensor& t) { return t.numel() * t.itemsize(); })
      .def("size", [](const Tensor& t, py::object dim) -> py::object {
             if (dim.is_none()) return to_tuple(t.sizes());
             return py::int_(t.size(dim.cast<int64_t>()));
           }, py::arg("dim") = py::none())
      .def("stride", [](const Tensor& t, py::object dim) -> py::object {
             if (dim.is_none()) return to_tuple(t.strides());
             return py::int_(t.stride(dim.cast<int64_t>()));
           }, py::arg("dim") = py::none())
      .def("storage_offset", &Tensor::offset)
      .def("data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.raw_data()); })
      .def("_storage_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.storage()->data); })
      .def("_storage_nbytes", [](const Tensor& t) { return t.storage()->nbytes; })
      .def("is_contiguous", [](const Tensor& t) { return t.is_contiguous(); })
      .def("is_floating_point", [](const Tensor& t) { return is_floating(t.dtype()); })
      .def("is_complex", [](const Tensor& t) { return is_complex(t.dtype()); })
      .def("get_device", [](const Tensor& t) { return t.device().is_cpu() ? -1 : t.device().index; })
      .def("item", [](const Tensor& t) { return scalar_to_py(item(t)); })
      .def("tolist", &tensor_tolist)
      .def("numpy", [](const Tensor& t, bool force) {
             return force ? tensor_to_numpy(nogil([&] { return clone(t); })) : tensor_to_numpy(t);
           }, py::arg("force") = false)
      .def("__array__", [](const Tensor& t, py::object dtype, py::object copy) -> py::object {
             py::array a = tensor_to_numpy(t);
             if (!dtype.is_none()) return a.attr("astype")(dtype);
             return std::move(a);
           }, py::arg("dtype") = py::none(), py::arg("copy") = py::none())
      .def("__len__", [](const Tensor& t) {
             EMBER_CHECK(t.dim() > 0, TypeError, "[len] len() of a 0-d tensor");
             return t.sizes()[0];
           })
      .def("__hash__", [](py::handle self) { return reinterpret_cast<intptr_t>(self.ptr()) >> 4; })
      .def("__bool__", [](const Tensor& t) {
             EMBER_CHECK(t.numel() == 1, ValueError, "[bool] the truth value of a tensor with ", t.numel(),
                         " elements is ambiguous: use .any() or .all()");
             return item(t).to<bool>();
           })
      .def("__float__", [](const Tensor& t) {
             EMBER_CHECK(t.numel() == 1, TypeError, "[float] only one-element tensors can be converted to Python "
                         "scalars, got ", t.numel(), " elements");
             return item(t).to_double();
           })
      .def("__int__", [](const Tensor& t) {
             EMBER_CHECK(t.numel() == 1, TypeError, "[int] only one-element tensors can be converted to Python "
                         "scalars, got ", t.numel(), " elements");
             return item(t).to_int();
           })
      .def("__index__", [](const Tensor& t) {
             EMBER_CHECK(t.numel() == 1 && is_integral(t.dtype(), true), TypeError,
                         "[index] only integer tensors of a single element can be converted to an index, got ",
                         t.dtype(), " with ", t.numel(), " elements");
             return item(t).to_int();
           })
      .def("__getitem__", [](const Tensor& t, py::handle key) {
             auto items = parse_key(key);
             return nogil([&] { return subscript(t, items); });
           })
      .def("__setitem__", [](const Tensor& t, py::handle key, py::handle value) {
             auto items = parse_key(key);
             Tensor v = py::isinstance<Tensor>(value) ? value.cast<Tensor>()
                        : py_scalar(value) ? wrap_scalar(*py_scalar(value))
                                           : tensor_from_py(value, t.dtype(), std::nullopt);
             nogil([&] { subscript_assign(t, items, v); return 0; });
           })
      .def("_is_same", [](const Tensor& a, const Tensor& b) { return a.is_same(b); })
      .def("_shares_storage", [](const Tensor& a, const Tensor& b) { return a.storage() == b.storage(); });

  m.def("tensor", [](py::handle data, std::optional<ScalarType> dtype, std::optional<Device> device) {
          return tensor_from_py(data, dtype, device);
        }, py::arg("data"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none());
  m.def("from_numpy", [](py::array arr) { return tensor_from_numpy(arr, "from_numpy"); }, py::arg("ndarray"));
}

}  // namespace ember
