// Creation ops: zeros/ones/full/empty(+_like), arange, linspace, logspace, eye.
#include "../ops/creation.h"
#include "common.h"

namespace ember {

namespace {
using OptDT = std::optional<ScalarType>;
using OptDev = std::optional<Device>;
Device dev_or_cpu(const OptDev& d) { return d ? *d : Device(); }
}  // namespace

void init_creation(py::module_& m) {
  auto cls = tensor_class(m);
  // zeros(2, 3) and zeros((2, 3)); dtype/device keyword-only as in PyTorch
  auto def_sized = [&](const char* name, auto make) {
    m.def(name, [make, name](py::args size, OptDT dtype, OptDev device, bool requires_grad) {
            Shape s = py_shape_args(size, name);
            (void)requires_grad;
            return nogil([&] { return make(s, dtype ? *dtype : default_dtype(), dev_or_cpu(device)); });
          }, py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
          py::arg("requires_grad") = false);
  };
  def_sized("zeros", [](const Shape& s, ScalarType dt, Device d) { return zeros(s, dt, d); });
  def_sized("ones", [](const Shape& s, ScalarType dt, Device d) { return ones(s, dt, d); });
  def_sized("empty", [](const Shape& s, ScalarType dt, Device d) { return empty(s, dt, d); });
  m.def("full", [](py::handle size, py::handle value, OptDT dtype, OptDev device, bool) {
          Shape s = py_shape(size, "full");
          auto v = py_scalar(value);
          if (!v && py::isinstance<Tensor>(value)) v = item(value.cast<Tensor>());
          EMBER_CHECK(v, TypeError, "[full] expected a number for fill_value");
          return nogil([&] { return full(s, *v, dtype, dev_or_cpu(device)); });
        }, py::arg("size"), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false);
  auto def_like = [&](const char* name, auto make) {
    m.def(name, [make](const Tensor& x, OptDT dtype, OptDev device, bool) {
            return nogil([&] { return make(x.sizes(), dtype ? *dtype : x.dtype(), device ? *device : x.device()); });
          }, py::arg("input"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
          py::arg("requires_grad") = false);
  };
  def_like("zeros_like", [](const Shape& s, ScalarType dt, Device d) { return zeros(s, dt, d); });
  def_like("ones_like", [](const Shape& s, ScalarType dt, Device d) { return ones(s, dt, d); });
  def_like("empty_like", [](const Shape& s, ScalarType dt, Device d) { return empty(s, dt, d); });
  m.def("full_like", [](const Tensor& x, py::handle value, OptDT dtype, OptDev device, bool) {
          auto v = py_scalar(value);
          EMBER_CHECK(v, TypeError, "[full_like] expected a number for fill_value");
          return nogil([&] { return full(x.sizes(), *v, dtype ? *dtype : x.dtype(), device ? *device : x.device()); });
        }, py::arg("input"), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false);
  m.def("empty_strided", [](py::handle size, py::handle stride, OptDT dtype, OptDev device) {
          Shape sz = py_shape(size, "empty_strided"), st = py_shape(stride, "empty_strided");
          EMBER_CHECK(sz.size() == st.size(), ValueError, "[empty_strided] expected as many strides as sizes, got ",
                      sz.size(), " and ", st.size());
          for (int64_t v : st) EMBER_CHECK(v >= 0, ValueError, "[empty_strided] negative strides are not supported, got ", st);
          return empty_strided(sz, st, dtype ? *dtype : default_dtype(), dev_or_cpu(device));
        }, py::arg("size"), py::arg("stride"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none());

  m.def("arange", [](py::handle a, py::handle b, py::handle step, OptDT dtype, OptDev device, bool) {
          auto num = [](py::handle h, const char* what) {
            auto s = py_scalar(h);
            if (!s && py::isinstance<Tensor>(h)) s = item(h.cast<Tensor>());
            EMBER_CHECK(s, TypeError, "[arange] expected a number for ", what, ", got ",
                        std::string(py::str(py::type::handle_of(h).attr("__name__"))));
            return *s;
          };
          Scalar start(int64_t(0)), end, st = num(step, "step");
          if (b.is_none()) end = num(a, "end");
          else { start = num(a, "start"); end = num(b, "end"); }
          return nogil([&] { return arange(start, end, st, dtype, dev_or_cpu(device)); });
        }, py::arg("start"), py::arg("end") = py::none(), py::arg("step") = 1, py::kw_only(),
        py::arg("dtype") = py::none(), py::arg("device") = py::none(), py::arg("requires_grad") = false);
  m.def("linspace", [](double start, double end, int64_t steps, OptDT dtype, OptDev device, bool) {
          return nogil([&] { return linspace(start, end, steps, dtype, dev_or_cpu(device)); });
        }, py::arg("start"), py::arg("end"), py::arg("steps"), py::kw_only(), py::arg("dtype") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false);
  m.def("logspace", [](double start, double end, int64_t steps, double base, OptDT dtype, OptDev device, bool) {
          return nogil([&] { return logspace(start, end, steps, base, dtype, dev_or_cpu(device)); });
        }, py::arg("start"), py::arg("end"), py::arg("steps"), py::arg("base") = 10.0, py::kw_only(),
        py::arg("dtype") = py::none(), py::arg("device") = py::none(), py::arg("requires_grad") = false);
  m.def("eye", [](int64_t n, std::optional<int64_t> mcols, OptDT dtype, OptDev device, bool) {
          return nogil([&] { return eye(n, mcols ? *mcols : n, dtype ? *dtype : default_dtype(), dev_or_cpu(device)); });
        }, py::arg("n"), py::arg("m") = py::none(), py::kw_only(), py::arg("dtype") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false);

  cls.def("fill_", inplace([](const Tensor& x, py::handle value) {
            auto v = py_scalar(value);
            if (!v && py::isinstance<Tensor>(value)) v = item(value.cast<Tensor>());
            EMBER_CHECK(v, TypeError, "[fill_] expected a number as value");
            nogil([&] { fill_(x, *v); return 0; });
            return x;
          }), py::arg("value"));
  cls.def("zero_", inplace([](const Tensor& x) {
            nogil([&] { fill_(x, Scalar(int64_t(0))); return 0; });
            return x;
          }));
}

}  // namespace ember
