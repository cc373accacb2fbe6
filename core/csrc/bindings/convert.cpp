// Python values <-> tensors: numbers, nested sequences, NumPy arrays (copy), tolist().
#include <pybind11/numpy.h>

#include <complex>

#include "../ops/creation.h"
#include "../ops/elementwise.h"
#include "common.h"

namespace ember {

std::optional<Scalar> py_scalar(py::handle h) {
  PyObject* o = h.ptr();
  if (PyBool_Check(o)) return Scalar(o == Py_True);
  if (PyLong_Check(o)) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow) throw ValueError(str("[tensor] Python integer out of range for int64: got ", std::string(py::str(h))));
    return Scalar(int64_t(v));
  }
  if (PyFloat_Check(o)) return Scalar(PyFloat_AS_DOUBLE(o));
  if (PyComplex_Check(o)) return Scalar(std::complex<double>(PyComplex_RealAsDouble(o), PyComplex_ImagAsDouble(o)));
  // NumPy scalars (np.float32(1), np.int64(2), np.bool_(True))
  if (py::hasattr(h, "dtype") && py::hasattr(h, "item") && !py::isinstance<Tensor>(h) &&
      py::getattr(h, "ndim", py::int_(1)).cast<int>() == 0 && !py::isinstance<py::array>(h)) {
    py::object v = h.attr("item")();
    if (PyBool_Check(v.ptr()) || PyLong_Check(v.ptr()) || PyFloat_Check(v.ptr()) || PyComplex_Check(v.ptr()))
      return py_scalar(v);
  }
  return std::nullopt;
}

std::optional<Tensor> py_operand(py::handle h) {
  if (py::isinstance<Tensor>(h)) return h.cast<Tensor>();
  if (auto s = py_scalar(h)) return wrap_scalar(*s);
  // NumPy arrays take part as tensors (as in PyTorch), so that t + arr and t += arr stay
  // ember tensors instead of falling back to NumPy's operators.
  if (py::isinstance<py::array>(h)) return tensor_from_numpy(py::reinterpret_borrow<py::array>(h), "operand");
  return std::nullopt;
}

Tensor operand(py::handle h, const char* op, const char* arg) {
  if (auto t = py_operand(h)) return *t;
  throw TypeError(str("[", op, "] expected a Tensor or a number for `", arg, "`, got ",
                      std::string(py::str(py::type::handle_of(h).attr("__name__")))));
}

Shape py_shape(py::handle h, const char* op) {
  if (py::isinstance<py::int_>(h) && !PyBool_Check(h.ptr())) return {h.cast<int64_t>()};
  if (py::isinstance<Tensor>(h)) {
    Tensor t = h.cast<Tensor>();
    EMBER_CHECK(t.numel() == 1 && is_integral(t.dtype()), TypeError, "[", op, "] expected a sequence of ints for the shape, got a Tensor");
    return {item(t).to_int()};
  }
  EMBER_CHECK(py::isinstance<py::sequence>(h) && !py::isinstance<py::str>(h), TypeError, "[", op,
              "] expected a sequence of ints for the shape, got ",
              std::string(py::str(py::type::handle_of(h).attr("__name__"))));
  Shape s;
  for (py::object e : py::reinterpret_borrow<py::sequence>(h)) {
    if (py::isinstance<Tensor>(e)) {
      s.push_back(item(e.cast<Tensor>()).to_int());
      continue;
    }
    EMBER_CHECK(PyIndex_Check(e.ptr()) && !PyBool_Check(e.ptr()), TypeError, "[", op,
                "] expected a sequence of ints for the shape, got an element of type ",
                std::string(py::str(py::type::handle_of(e).attr("__name__"))));
    s.push_back(py_index(e.ptr()));
  }
  return s;
}

Shape py_shape_args(py::args args, const char* op) {
  if (args.size() == 1 && !py::isinstance<py::int_>(args[0])) return py_shape(args[0], op);
  return py_shape(args, op);
}

namespace {
ScalarType numpy_to_dtype(const py::dtype& dt, const char* op) {
  char kind = dt.kind();
  int64_t sz = dt.itemsize();
  EMBER_CHECK(dt.byteorder() != '>', TypeError, "[", op, "] big-endian NumPy arrays are not supported: call "
              "arr.astype(arr.dtype.newbyteorder('='))");
  if (kind == 'b') return ScalarType::Bool;
  if (kind == 'u' && sz == 1) return ScalarType::UInt8;
  if (kind == 'i') {
    if (sz == 1) return ScalarType::Int8;
    if (sz == 2) return ScalarType::Int16;
    if (sz == 4) return ScalarType::Int32;
    if (sz == 8) return ScalarType::Int64;
  }
  if (kind == 'f') {
    if (sz == 2) return ScalarType::Float16;
    if (sz == 4) return ScalarType::Float32;
    if (sz == 8) return ScalarType::Float64;
  }
  if (kind == 'c' && sz == 8) return ScalarType::Complex64;
  throw TypeError(str("[", op, "] unsupported NumPy dtype: expected bool, uint8, int8/16/32/64, float16/32/64 or "
                      "complex64, got ", std::string(py::str(dt))));
}
}  // namespace

// Shares memory with the array (kept alive by the storage).
Tensor tensor_from_numpy(py::array arr, const char* op) {
  ScalarType dt = numpy_to_dtype(arr.dtype(), op);
  int64_t isz = itemsize(dt);
  Shape sizes(arr.ndim()), strides(arr.ndim());
  for (py::ssize_t i = 0; i < arr.ndim(); ++i) {
    sizes[i] = arr.shape(i);
    EMBER_CHECK(arr.strides(i) >= 0, ValueError, "[", op, "] at least one stride in the given NumPy array is negative: "
                "expected non-negative strides, got ", std::vector<int64_t>(arr.strides(), arr.strides() + arr.ndim()),
                "; call arr.copy() first");
    EMBER_CHECK(arr.strides(i) % isz == 0, ValueError, "[", op, "] NumPy strides must be multiples of the element size (",
                isz, "), got ", arr.strides(i));
    strides[i] = arr.strides(i) / isz;
  }
  auto* keep = new py::object(arr);
  return from_blob(const_cast<void*>(arr.data()), sizes, strides, dt, Device(), [keep](void*) {
    if (!Py_IsInitialized()) return;
    py::gil_scoped_acquire g;
    delete keep;
  });
}

namespace {
struct Leaves {
  std::vector<Scalar> values;
  Shape shape;
  int kind = 0;  // 0 bool, 1 int, 2 float, 3 complex
};

void collect(py::handle h, size_t depth, Leaves& L, bool& shape_done) {
  if (auto s = py_scalar(h)) {
    if (!shape_done) shape_done = true;
    EMBER_CHECK(depth == L.shape.size(), ValueError, "[tensor] expected a sequence of length ",
                depth < L.shape.size() ? L.shape[depth] : 0, " at dim ", depth, ", got a number");
    int k = s->kind == Scalar::Bool ? 0 : s->kind == Scalar::Int ? 1 : s->kind == Scalar::Float ? 2 : 3;
    L.kind = std::max(L.kind, k);
    L.values.push_back(*s);
    return;
  }
  if (py::isinstance<Tensor>(h)) {
    Tensor t = h.cast<Tensor>();
    EMBER_CHECK(t.numel() == 1 && t.dim() == 0, ValueError,
                "[tensor] only 0-d tensors can be elements of a nested sequence: got a tensor of shape ", t.sizes(),
                "; use ember.stack(...) to combine tensors");
    collect(scalar_to_py(item(t)), depth, L, shape_done);
    return;
  }
  if (py::isinstance<py::array>(h)) {
    collect(h.attr("tolist")(), depth, L, shape_done);
    return;
  }
  EMBER_CHECK(py::isinstance<py::sequence>(h) && !py::isinstance<py::str>(h) && !py::isinstance<py::bytes>(h),
              TypeError, "[tensor] could not infer dtype of ",
              std::string(py::str(py::type::handle_of(h).attr("__name__"))),
              ": expected numbers or nested sequences of numbers");
  auto seq = py::reinterpret_borrow<py::sequence>(h);
  int64_t n = int64_t(py::len(seq));
  if (!shape_done) {
    L.shape.push_back(n);
    if (n == 0) shape_done = true;
  } else {
    EMBER_CHECK(depth < L.shape.size() && L.shape[depth] == n, ValueError,
                "[tensor] expected a sequence of length ", depth < L.shape.size() ? L.shape[depth] : 0, " at dim ",
                depth, ", got ", n, " (ragged nested sequence)");
  }
  for (int64_t i = 0; i < n; ++i) collect(seq[i], depth + 1, L, shape_done);
}
}  // namespace

Tensor tensor_from_py(py::handle data, std::optional<ScalarType> dtype, std::optional<Device> device) {
  Device dev = device ? *device : Device();
  if (py::isinstance<Tensor>(data)) {
    Tensor t = data.cast<Tensor>();
    return nogil([&] { return to_dtype(t, dtype ? *dtype : t.dtype(), true); });
  }
  if (py::isinstance<py::array>(data)) {
    py::array arr = py::reinterpret_borrow<py::array>(data);
    if (arr.dtype().kind() == 'u' && arr.dtype().itemsize() > 1)
      arr = py::array(arr.attr("astype")("int64"));
    if (arr.dtype().kind() == 'c' && arr.dtype().itemsize() == 16) arr = py::array(arr.attr("astype")("complex64"));
    // tensor() copies anyway, so layouts from_numpy cannot share (negative strides) are fine
    for (py::ssize_t i = 0; i < arr.ndim(); ++i)
      if (arr.strides(i) < 0) {
        arr = py::array(py::module_::import("numpy").attr("ascontiguousarray")(arr));
        break;
      }
    Tensor src = tensor_from_numpy(arr, "tensor");
    return nogil([&] { return to_dtype(src, dtype ? *dtype : src.dtype(), true); });
  }
  Leaves L;
  bool shape_done = false;
  collect(data, 0, L, shape_done);
  ScalarType dt = dtype ? *dtype
                        : L.values.empty() ? default_dtype()  // tensor([]) is float, as in PyTorch
                        : (L.kind == 0 ? ScalarType::Bool
                                       : L.kind == 1 ? ScalarType::Int64
                                                     : L.kind == 2 ? default_dtype() : ScalarType::Complex64);
  Tensor t = empty(L.shape, dt, Device());
  dispatch<kAllMask>(dt, "tensor", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    T* p = t.data<T>();
    for (size_t i = 0; i < L.values.size(); ++i) p[i] = L.values[i].to<T>();
  });
  if (!dev.is_cpu()) return to_device(t, dev, dt);  // built on the CPU, then one copy
  return t;
}

py::object scalar_to_py(const Scalar& s) {
  switch (s.kind) {
    case Scalar::Bool: return py::bool_(s.i != 0);
    case Scalar::Int: return py::int_(s.i);
    case Scalar::Float: return py::float_(s.d);
    default: return py::reinterpret_steal<py::object>(PyComplex_FromDoubles(s.z.real(), s.z.imag()));
  }
}

py::object tensor_tolist(const Tensor& t0) {
  const Tensor t = t0.device().is_cpu() ? t0 : to_device(t0, Device(), t0.dtype());
  py::object result;
  dispatch<kAllMask>(t.dtype(), "tolist", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    const int64_t nd = t.dim();
    std::function<py::object(const char*, int64_t)> rec = [&](const char* p, int64_t d) -> py::object {
      if (d == nd) {
        T v;
        std::memcpy(&v, p, sizeof(T));
        if constexpr (std::is_same_v<T, bool>) return py::bool_(v);
        else if constexpr (std::is_integral_v<T>) return py::int_(int64_t(v));
        else if constexpr (is_complex_v<T>) return py::reinterpret_steal<py::object>(PyComplex_FromDoubles(v.real(), v.imag()));
        else return py::float_(double(opmath_t<T>(v)));
      }
      int64_t n = t.sizes()[d];
      py::list l(n);
      for (int64_t i = 0; i < n; ++i) l[i] = rec(p + i * t.strides()[d] * int64_t(sizeof(T)), d + 1);
      return std::move(l);
    };
    result = rec(t.raw_data(), 0);
  });
  return result;
}

py::array tensor_to_numpy(const Tensor& t) {
  EMBER_CHECK(t.device().is_cpu(), TypeError, "[numpy] can't convert a ", t.device(),
              " tensor to NumPy: call .cpu() first");
  std::string fmt;
  switch (t.dtype()) {
    case ScalarType::Bool: fmt = "?"; break;
    case ScalarType::UInt8: fmt = "u1"; break;
    case ScalarType::Int8: fmt = "i1"; break;
    case ScalarType::Int16: fmt = "i2"; break;
    case ScalarType::Int32: fmt = "i4"; break;
    case ScalarType::Int64: fmt = "i8"; break;
    case ScalarType::Float16: fmt = "f2"; break;
    case ScalarType::Float32: fmt = "f4"; break;
    case ScalarType::Float64: fmt = "f8"; break;
    case ScalarType::Complex64: fmt = "c8"; break;
    default:
      throw TypeError(str("[numpy] ", t.dtype(), " has no NumPy counterpart: call .float() first"));
  }
  std::vector<py::ssize_t> shape(t.sizes().begin(), t.sizes().end()), strides;
  for (int64_t s : t.strides()) strides.push_back(s * t.itemsize());
  auto* keep = new Tensor(t);
  py::capsule base(keep, [](void* p) { delete static_cast<Tensor*>(p); });
  return py::array(py::dtype(fmt), shape, strides, t.raw_data(), base);
}

}  // namespace ember
