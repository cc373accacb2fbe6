// ember._C: the compiled core. Each family binds itself in its own init_xxx.
#include <cstdlib>

#include "../cpu/parallel.h"
#include "../ops/dispatch.h"
#include "common.h"

namespace ember {

void init_types(py::module_& m) {
  // Exceptions: C++ kinds -> Python built-ins of the same name.
  // leaked on purpose: a static py::object would be released after the interpreter finalizes
  static auto* oom = new py::exception<OutOfMemoryError>(m, "OutOfMemoryError", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const OutOfMemoryError& e) {
      PyErr_SetString(oom->ptr(), e.what());
    } catch (const TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const IndexError& e) {
      PyErr_SetString(PyExc_IndexError, e.what());
    } catch (const NotImplementedError& e) {
      PyErr_SetString(PyExc_NotImplementedError, e.what());
    } catch (const ZeroDivisionError& e) {
      PyErr_SetString(PyExc_ZeroDivisionError, e.what());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });

  py::enum_<ScalarType> dt(m, "dtype", "A tensor element type, like ember.float32.");
  for (int i = 0; i < kNumScalarTypes; ++i) dt.value(dtype_name(ScalarType(i)), ScalarType(i));
  dt.def("__repr__", [](ScalarType t) { return std::string("ember.") + dtype_name(t); });
  dt.def("__str__", [](ScalarType t) { return std::string("ember.") + dtype_name(t); });
  dt.def_property_readonly("is_floating_point", [](ScalarType t) { return is_floating(t); });
  dt.def_property_readonly("is_complex", [](ScalarType t) { return is_complex(t); });
  dt.def_property_readonly("is_signed", [](ScalarType t) {
    return t != ScalarType::Bool && t != ScalarType::UInt8;
  });
  dt.def_property_readonly("itemsize", [](ScalarType t) { return itemsize(t); });
  dt.def_property_readonly("name", [](ScalarType t) { return std::string(dtype_name(t)); });

  py::class_<Device>(m, "device", "Where a tensor lives: ember.device('cpu'), ember.device('cuda:0').")
      .def(py::init<const std::string&>(), py::arg("type"))
      .def(py::init([](const std::string& type, int index) {
             Device d(type);
             EMBER_CHECK(d.is_cuda() || index == 0, ValueError, "[device] the CPU has only index 0, got ", index);
             return d.is_cuda() ? Device(DeviceType::CUDA, index) : d;
           }),
           py::arg("type"), py::arg("index"))
      .def(py::init([](const Device& d) { return d; }))
      .def_property_readonly("type", &Device::type_str)
      .def_property_readonly("index", [](const Device& d) -> py::object {
        return d.index < 0 ? py::object(py::none()) : py::object(py::int_(d.index));
      })
      .def("__str__", &Device::str)
      .def("__repr__", [](const Device& d) {
        return d.index < 0 ? "device(type='" + d.type_str() + "')"
                           : "device(type='" + d.type_str() + "', index=" + std::to_string(d.index) + ")";
      })
      .def("__eq__", [](const Device& a, py::object b) {
        if (py::isinstance<Device>(b)) return a == b.cast<Device>();
        if (py::isinstance<py::str>(b)) return a == Device(b.cast<std::string>());
        return false;
      })
      .def("__hash__", [](const Device& d) { return std::hash<std::string>()(d.str()); });
  py::implicitly_convertible<py::str, Device>();

  m.def("get_default_dtype", &default_dtype);
  m.def("set_default_dtype", &set_default_dtype, py::arg("dtype"));
  m.def("promote_types", &promote_types, py::arg("type1"), py::arg("type2"));
  m.def("can_cast", &can_cast, py::arg("from_"), py::arg("to"));
  m.def("get_num_threads", &get_num_threads, "Number of threads of the intra-op pool (BLAS included).");
  m.def("set_num_threads", &set_num_threads, py::arg("n"),
        "Sets the intra-op thread pool size, for ember's kernels and for BLAS.");
  m.def("_cuda_available", &cuda_available);
  m.def("_cuda_device_count", &cuda_device_count);
  m.def("_cuda_compiled", &cuda_compiled);
  m.def("_cpu_cached_bytes", &cpu_allocator_cached_bytes);
  m.def("_cpu_allocated_bytes", &cpu_allocator_allocated_bytes);
  m.def("_cpu_empty_cache", &cpu_allocator_empty_cache);
}

}  // namespace ember

PYBIND11_MODULE(_C, m) {
  using namespace ember;
  m.doc() = "ember's compiled core: tensors, kernels and their dispatch.";
  set_num_threads(get_num_threads());  // align the BLAS pool with ours
  init_types(m);
  init_tensor(m);
  init_autograd(m);
  init_creation(m);
  init_elementwise(m);
  init_views(m);
  init_reduce(m);
  init_index(m);
  init_shape(m);
  init_linalg(m);
  init_random(m);
  init_interop(m);
  init_nn(m);
  init_cuda(m);
}
