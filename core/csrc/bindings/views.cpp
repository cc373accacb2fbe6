// View ops: view/reshape/permute/transpose/expand/squeeze/... (share storage).
#include "../ops/view.h"
#include "common.h"

namespace ember {

void init_views(py::module_& m) {
  auto cls = tensor_class(m);
  cls.def("view", [](const Tensor& x, py::args shape) -> Tensor {
            if (shape.size() == 1 && py::isinstance<ScalarType>(shape[0])) return view_dtype(x, shape[0].cast<ScalarType>());
            return view(x, py_shape_args(shape, "view"));
          });
  cls.def("reshape", [](const Tensor& x, py::args shape) {
            Shape s = py_shape_args(shape, "reshape");
            return nogil([&] { return reshape(x, s); });
          });
  m.def("reshape", [](const Tensor& x, py::handle shape) {
          Shape s = py_shape(shape, "reshape");
          return nogil([&] { return reshape(x, s); });
        }, py::arg("input"), py::arg("shape"));
  cls.def("view_as", [](const Tensor& x, const Tensor& o) { return view(x, o.sizes()); }, py::arg("other"));
  cls.def("reshape_as", [](const Tensor& x, const Tensor& o) { return nogil([&] { return reshape(x, o.sizes()); }); },
          py::arg("other"));
  cls.def("as_strided", [](const Tensor& x, py::handle size, py::handle stride, std::optional<int64_t> off) {
            return as_strided(x, py_shape(size, "as_strided"), py_shape(stride, "as_strided"), off);
          }, py::arg("size"), py::arg("stride"), py::arg("storage_offset") = py::none());
  m.def("as_strided", [](const Tensor& x, py::handle size, py::handle stride, std::optional<int64_t> off) {
          return as_strided(x, py_shape(size, "as_strided"), py_shape(stride, "as_strided"), off);
        }, py::arg("input"), py::arg("size"), py::arg("stride"), py::arg("storage_offset") = py::none());
  auto flat = [](const Tensor& x, int64_t s, int64_t e) { return nogil([&] { return flatten(x, s, e); }); };
  cls.def("flatten", flat, py::arg("start_dim") = 0, py::arg("end_dim") = -1);
  m.def("flatten", flat, py::arg("input"), py::arg("start_dim") = 0, py::arg("end_dim") = -1);
  cls.def("ravel", [](const Tensor& x) { return nogil([&] { return reshape(x, {-1}); }); });
  m.def("ravel", [](const Tensor& x) { return nogil([&] { return reshape(x, {-1}); }); }, py::arg("input"));
  auto unflat = [](const Tensor& x, int64_t d, py::handle sizes) { return unflatten(x, d, py_shape(sizes, "unflatten")); };
  cls.def("unflatten", unflat, py::arg("dim"), py::arg("sizes"));
  m.def("unflatten", unflat, py::arg("input"), py::arg("dim"), py::arg("sizes"));
  cls.def("permute", [](const Tensor& x, py::args dims) { return permute(x, py_shape_args(dims, "permute")); });
  m.def("permute", [](const Tensor& x, py::handle dims) { return permute(x, py_shape(dims, "permute")); },
        py::arg("input"), py::arg("dims"));
  for (const char* n : {"transpose", "swapaxes", "swapdims"}) {
    cls.def(n, &transpose, py::arg("dim0"), py::arg("dim1"));
    m.def(n, &transpose, py::arg("input"), py::arg("dim0"), py::arg("dim1"));
  }
  cls.def("t", &t_);
  m.def("t", &t_, py::arg("input"));
  cls.def_property_readonly("T", [](const Tensor& x) {
    Shape d(x.dim());
    for (int64_t i = 0; i < x.dim(); ++i) d[i] = x.dim() - 1 - i;
    return permute(x, d);
  });
  cls.def_property_readonly("mT", &mT);
  auto mv = [](const Tensor& x, py::handle s, py::handle d) {
    return movedim(x, py_shape(s, "movedim"), py_shape(d, "movedim"));
  };
  for (const char* n : {"movedim", "moveaxis"}) {
    cls.def(n, mv, py::arg("source"), py::arg("destination"));
    m.def(n, mv, py::arg("input"), py::arg("source"), py::arg("destination"));
  }
  cls.def("expand", [](const Tensor& x, py::args sizes) { return expand(x, py_shape_args(sizes, "expand")); });
  cls.def("expand_as", [](const Tensor& x, const Tensor& o) { return expand(x, o.sizes()); }, py::arg("other"));
  m.def("broadcast_to", [](const Tensor& x, py::handle s) { return expand(x, py_shape(s, "broadcast_to")); },
        py::arg("input"), py::arg("size"));
  cls.def("broadcast_to", [](const Tensor& x, py::handle s) { return expand(x, py_shape(s, "broadcast_to")); },
          py::arg("size"));
  m.def("broadcast_shapes", [](py::args shapes) {
    Shape r;
    for (py::handle h : shapes) r = broadcast_shapes("broadcast_shapes", r, py_shape(h, "broadcast_shapes"));
    py::tuple t(r.size());
    for (size_t i = 0; i < r.size(); ++i) t[i] = r[i];
    return t;
  });
  auto sq = [](const Tensor& x, py::handle dim) {
    if (dim.is_none()) return squeeze(x, std::nullopt);
    return squeeze(x, py_shape(dim, "squeeze"));
  };
  cls.def("squeeze", sq, py::arg("dim") = py::none());
  m.def("squeeze", sq, py::arg("input"), py::arg("dim") = py::none());
  cls.def("unsqueeze", &unsqueeze, py::arg("dim"));
  m.def("unsqueeze", &unsqueeze, py::arg("input"), py::arg("dim"));
  cls.def("narrow", &narrow, py::arg("dim"), py::arg("start"), py::arg("length"));
  m.def("narrow", &narrow, py::arg("input"), py::arg("dim"), py::arg("start"), py::arg("length"));
  cls.def("select", &select, py::arg("dim"), py::arg("index"));
  m.def("select", &select, py::arg("input"), py::arg("dim"), py::arg("index"));
  cls.def("diagonal", &diagonal, py::arg("offset") = 0, py::arg("dim1") = 0, py::arg("dim2") = 1);
  m.def("diagonal", &diagonal, py::arg("input"), py::arg("offset") = 0, py::arg("dim1") = 0, py::arg("dim2") = 1);
  cls.def("unbind", &unbind, py::arg("dim") = 0);
  m.def("unbind", &unbind, py::arg("input"), py::arg("dim") = 0);
  auto split_fn = [](const Tensor& x, py::handle s, int64_t dim) {
    if (py::isinstance<py::int_>(s)) return split(x, s.cast<int64_t>(), dim);
    return split_sizes(x, py_shape(s, "split"), dim);
  };
  cls.def("split", split_fn, py::arg("split_size_or_sections"), py::arg("dim") = 0);
  m.def("split", split_fn, py::arg("tensor"), py::arg("split_size_or_sections"), py::arg("dim") = 0);
  cls.def("chunk", &chunk, py::arg("chunks"), py::arg("dim") = 0);
  m.def("chunk", &chunk, py::arg("input"), py::arg("chunks"), py::arg("dim") = 0);
  m.def("view_as_real", &view_as_real, py::arg("input"));
  m.def("view_as_complex", &view_as_complex, py::arg("input"));
  m.def("real", &real, py::arg("input"));
  m.def("imag", &imag, py::arg("input"));
  cls.def_property_readonly("real", &real);
  cls.def_property_readonly("imag", &imag);
}

}  // namespace ember
