// Shared helpers for the pybind11 bindings: Python values -> tensors, dtypes, devices, shapes.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "../ops/elementwise.h"

namespace py = pybind11;

namespace ember {

// A Python number as a Scalar; nullopt if h is not a number (bool, int, float, complex,
// or a NumPy scalar of those kinds).
std::optional<Scalar> py_scalar(py::handle h);

// A tensor, or a Python number wrapped as a 0-d "wrapped number" tensor; nullopt otherwise.
std::optional<Tensor> py_operand(py::handle h);
// Same, raising "[op] expected a Tensor or a number for `arg`, got <type>".
Tensor operand(py::handle h, const char* op, const char* arg = "other");

// Shape from a tuple/list of ints or from varargs (x.view(2, 3) and x.view((2, 3))).
Shape py_shape(py::handle h, const char* op);
Shape py_shape_args(py::args args, const char* op);

// operator.index(h) as int64; a Python error from __index__ (a multi-element tensor, ...)
// propagates as that exception instead of a null dereference.
inline int64_t py_index(py::handle h) {
  PyObject* r = PyNumber_Index(h.ptr());
  if (!r) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(r).cast<int64_t>();
}

// Optional `out=` tensor.
inline const Tensor* out_ptr(const std::optional<Tensor>& out) { return out ? &*out : nullptr; }

// Runs f with the GIL released (every kernel goes through here).
template <typename F>
inline auto nogil(F&& f) {
  py::gil_scoped_release release;
  return f();
}

// In-place methods return `self`, the same Python object (`x.add_(1) is x`, and `x += 1`
// keeps x's identity), as PyTorch's do. Wraps a lambda whose first parameter is the tensor
// modified: its result is dropped, except NotImplemented (from a py::object result), which
// is passed on. pybind11 finds the existing Python instance from the C++ address of `self`.
template <typename F, typename R, typename... A>
auto inplace_impl(F f, R (F::*)(const Tensor&, A...) const) {
  return [f](const Tensor& self, A... a) -> py::object {
    if constexpr (std::is_same_v<R, py::object>) {
      py::object r = f(self, std::forward<A>(a)...);
      if (r.is(py::handle(Py_NotImplemented))) return r;
    } else {
      f(self, std::forward<A>(a)...);
    }
    return py::cast(self);
  };
}
template <typename F>
auto inplace(F f) {
  return inplace_impl(f, &F::operator());
}

// Tensor from nested Python sequences / NumPy arrays / numbers (copies).
Tensor tensor_from_py(py::handle data, std::optional<ScalarType> dtype, std::optional<Device> device);
py::object tensor_tolist(const Tensor& t);
Tensor tensor_from_numpy(py::array arr, const char* op);  // shares memory
py::array tensor_to_numpy(const Tensor& t);               // shares memory
py::object scalar_to_py(const Scalar& s);

// The bound Tensor class, for families that add methods to it.
inline py::class_<Tensor> tensor_class(py::module_& m) {
  return py::reinterpret_borrow<py::class_<Tensor>>(m.attr("Tensor"));
}

void init_types(py::module_& m);
void init_tensor(py::module_& m);
void init_nn(py::module_& m);
void init_creation(py::module_& m);
void init_elementwise(py::module_& m);
void init_views(py::module_& m);
void init_reduce(py::module_& m);
void init_index(py::module_& m);
void init_shape(py::module_& m);
void init_linalg(py::module_& m);
void init_random(py::module_& m);
void init_interop(py::module_& m);
void init_autograd(py::module_& m);
void init_cuda(py::module_& m);

}  // namespace ember
