// DLPack interop: Tensor.__dlpack__ / __dlpack_device__ and ember.from_dlpack, zero-copy
// with NumPy, PyTorch and any other DLPack producer or consumer.
//
// The structs follow dlpack.h (v1.0): the legacy DLManagedTensor in a capsule named
// "dltensor", and DLManagedTensorVersioned in "dltensor_versioned" for consumers that ask
// for max_version >= (1, 0). A consumer renames the capsule to "used_..." and becomes
// responsible for calling the deleter; an unconsumed capsule calls it when collected.
// Exported tensors keep their storage alive through the manager context.
#include <cstring>

#include "../ops/dispatch.h"
#include "../ops/cuda_hooks.h"
#include "../ops/elementwise.h"
#include "common.h"

namespace ember {

namespace {

extern "C" {
enum DLDeviceType : int32_t { kDLCPU = 1, kDLCUDA = 2, kDLCUDAHost = 3 };
struct DLDevice {
  int32_t device_type;
  int32_t device_id;
};
enum DLDataTypeCode : uint8_t { kDLInt = 0, kDLUInt = 1, kDLFloat = 2, kDLBfloat = 4, kDLComplex = 5, kDLBool = 6 };
struct DLDataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor* self);
};
struct DLPackVersion {
  uint32_t major;
  uint32_t minor;
};
constexpr uint64_t kDLFlagReadOnly = 1ull << 0;
struct DLManagedTensorVersioned {
  DLPackVersion version;
  void* manager_ctx;
  void (*deleter)(DLManagedTensorVersioned* self);
  uint64_t flags;
  DLTensor dl_tensor;
};
}

constexpr const char* kCapsule = "dltensor";
constexpr const char* kUsedCapsule = "used_dltensor";
constexpr const char* kCapsuleV = "dltensor_versioned";
constexpr const char* kUsedCapsuleV = "used_dltensor_versioned";

DLDataType to_dl(ScalarType t) {
  switch (t) {
    case ScalarType::Bool: return {kDLBool, 8, 1};
    case ScalarType::UInt8: return {kDLUInt, 8, 1};
    case ScalarType::Int8: return {kDLInt, 8, 1};
    case ScalarType::Int16: return {kDLInt, 16, 1};
    case ScalarType::Int32: return {kDLInt, 32, 1};
    case ScalarType::Int64: return {kDLInt, 64, 1};
    case ScalarType::Float16: return {kDLFloat, 16, 1};
    case ScalarType::BFloat16: return {kDLBfloat, 16, 1};
    case ScalarType::Float32: return {kDLFloat, 32, 1};
    case ScalarType::Float64: return {kDLFloat, 64, 1};
    case ScalarType::Complex64: return {kDLComplex, 64, 1};
    default: throw TypeError(str("[__dlpack__] unsupported dtype ", t));
  }
}

std::optional<ScalarType> from_dl(DLDataType d) {
  if (d.lanes != 1) return std::nullopt;
  switch (d.code) {
    case kDLBool: return d.bits == 8 ? std::optional(ScalarType::Bool) : std::nullopt;
    case kDLUInt: return d.bits == 8 ? std::optional(ScalarType::UInt8) : std::nullopt;
    case kDLInt:
      if (d.bits == 8) return ScalarType::Int8;
      if (d.bits == 16) return ScalarType::Int16;
      if (d.bits == 32) return ScalarType::Int32;
      if (d.bits == 64) return ScalarType::Int64;
      return std::nullopt;
    case kDLFloat:
      if (d.bits == 16) return ScalarType::Float16;
      if (d.bits == 32) return ScalarType::Float32;
      if (d.bits == 64) return ScalarType::Float64;
      return std::nullopt;
    case kDLBfloat: return d.bits == 16 ? std::optional(ScalarType::BFloat16) : std::nullopt;
    case kDLComplex: return d.bits == 64 ? std::optional(ScalarType::Complex64) : std::nullopt;
    default: return std::nullopt;
  }
}

// ---- producer ---------------------------------------------------------------------------

struct ExportCtx {
  Tensor t;  // keeps the storage alive
  std::vector<int64_t> shape, strides;
};

void fill_dl(DLTensor& dl, ExportCtx* ctx) {
  const Tensor& t = ctx->t;
  dl.data = t.raw_data();
  dl.device = t.device().is_cuda() ? DLDevice{kDLCUDA, int32_t(std::max<int>(t.device().index, 0))}
                                   : DLDevice{kDLCPU, 0};
  dl.ndim = int32_t(t.dim());
  dl.dtype = to_dl(t.dtype());
  dl.shape = ctx->shape.data();
  dl.strides = ctx->strides.data();
  dl.byte_offset = 0;
}

template <typename M>
void delete_managed(M* self) {
  delete static_cast<ExportCtx*>(self->manager_ctx);
  delete self;
}

template <typename M>
void capsule_destructor(PyObject* cap, const char* name, const char* used) {
  if (PyCapsule_IsValid(cap, used)) return;  // a consumer owns it
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  auto* m = static_cast<M*>(PyCapsule_GetPointer(cap, name));
  if (m) {
    if (m->deleter) m->deleter(m);
  } else {
    PyErr_WriteUnraisable(cap);
  }
  PyErr_Restore(type, value, tb);
}

py::capsule export_capsule(const Tensor& t, bool versioned) {
  auto* ctx = new ExportCtx{t, t.sizes(), t.strides()};
  if (versioned) {
    auto* m = new DLManagedTensorVersioned{};
    m->version = {1, 0};
    m->manager_ctx = ctx;
    m->deleter = &delete_managed<DLManagedTensorVersioned>;
    m->flags = 0;
    fill_dl(m->dl_tensor, ctx);
    PyObject* cap = PyCapsule_New(m, kCapsuleV, [](PyObject* c) {
      capsule_destructor<DLManagedTensorVersioned>(c, kCapsuleV, kUsedCapsuleV);
    });
    if (!cap) {
      delete_managed(m);
      throw py::error_already_set();
    }
    return py::reinterpret_steal<py::capsule>(cap);
  }
  auto* m = new DLManagedTensor{};
  m->manager_ctx = ctx;
  m->deleter = &delete_managed<DLManagedTensor>;
  fill_dl(m->dl_tensor, ctx);
  PyObject* cap = PyCapsule_New(m, kCapsule, [](PyObject* c) {
    capsule_destructor<DLManagedTensor>(c, kCapsule, kUsedCapsule);
  });
  if (!cap) {
    delete_managed(m);
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::capsule>(cap);
}

std::pair<int, int> dl_device_of(const Tensor& t) {
  if (t.device().is_cuda()) return {int(kDLCUDA), std::max<int>(t.device().index, 0)};
  return {int(kDLCPU), 0};
}

py::capsule dlpack_method(const Tensor& t, py::object stream, py::object max_version, py::object dl_device,
                          py::object copy) {
  const auto dev = dl_device_of(t);
  if (t.device().is_cpu())
    EMBER_CHECK(stream.is_none() || (py::isinstance<py::int_>(stream) && stream.cast<int64_t>() == -1), ValueError,
                "[__dlpack__] stream must be None for a CPU tensor, got ", std::string(py::str(stream)));
  else  // the consumer's stream waits for what ember queued on the tensor (None: the legacy default, 1)
    cuda::stream_handoff(t.device().index, stream.is_none() ? 1 : stream.cast<int64_t>());
  if (!dl_device.is_none()) {
    auto want = dl_device.cast<std::pair<int, int>>();
    if (want != dev)
      throw py::buffer_error(str("[__dlpack__] cannot export a ", t.device(), " tensor to DLPack device (",
                                 want.first, ", ", want.second, ") without a copy across devices"));
  }
  bool versioned = false;
  if (!max_version.is_none()) {
    auto v = max_version.cast<std::pair<int, int>>();
    versioned = v.first >= 1;
  }
  Tensor e = t;
  if (!copy.is_none() && copy.cast<bool>()) e = nogil([&] { return clone(t); });
  return export_capsule(e, versioned);
}

// ---- consumer ---------------------------------------------------------------------------

Tensor import_capsule(py::handle cap, bool force_copy) {
  PyObject* c = cap.ptr();
  const bool versioned = PyCapsule_IsValid(c, kCapsuleV);
  if (!versioned && !PyCapsule_IsValid(c, kCapsule)) {
    if (PyCapsule_CheckExact(c) && (PyCapsule_IsValid(c, kUsedCapsule) || PyCapsule_IsValid(c, kUsedCapsuleV)))
      throw ValueError("[from_dlpack] this DLPack capsule was already consumed: a capsule can be imported once");
    throw TypeError(str("[from_dlpack] expected an object with __dlpack__ or a DLPack capsule, got ",
                        std::string(py::str(py::type::handle_of(cap).attr("__name__")))));
  }
  DLTensor* dl;
  bool read_only = false;
  void* managed;
  if (versioned) {
    auto* m = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(c, kCapsuleV));
    EMBER_CHECK(m->version.major == 1, ValueError, "[from_dlpack] unsupported DLPack version ", m->version.major, ".",
                m->version.minor, ": expected 1.x");
    dl = &m->dl_tensor;
    read_only = (m->flags & kDLFlagReadOnly) != 0;
    managed = m;
  } else {
    auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(c, kCapsule));
    dl = &m->dl_tensor;
    managed = m;
  }
  // validate before taking ownership (a rejected capsule keeps its own deleter)
  const bool on_gpu = dl->device.device_type == kDLCUDA;
  EMBER_CHECK(dl->device.device_type == kDLCPU || dl->device.device_type == kDLCUDAHost || on_gpu,
              NotImplementedError, "[from_dlpack] only CPU and CUDA tensors can be imported, got DLPack device type ",
              dl->device.device_type);
  EMBER_CHECK(!on_gpu || (dl->device.device_id >= 0 && dl->device.device_id < cuda_device_count()), Error,
              "[from_dlpack] the capsule is on CUDA device ", dl->device.device_id, ", which ember cannot see (",
              cuda_device_count(), " CUDA devices)");
  auto dt = from_dl(dl->dtype);
  EMBER_CHECK(dt, TypeError, "[from_dlpack] unsupported DLPack dtype (code ", int(dl->dtype.code), ", bits ",
              int(dl->dtype.bits), ", lanes ", dl->dtype.lanes,
              "): expected bool, uint8, int8/16/32/64, float16/32/64, bfloat16 or complex64");
  EMBER_CHECK(dl->ndim >= 0, ValueError, "[from_dlpack] negative ndim ", dl->ndim);
  Shape sizes(dl->shape, dl->shape + dl->ndim);
  Shape strides = dl->strides ? Shape(dl->strides, dl->strides + dl->ndim) : contiguous_strides(sizes);
  for (int i = 0; i < dl->ndim; ++i) {
    EMBER_CHECK(sizes[i] >= 0, ValueError, "[from_dlpack] negative size in shape ", sizes);
    EMBER_CHECK(strides[i] >= 0 || sizes[i] <= 1, ValueError, "[from_dlpack] negative strides are not supported: got ",
                strides, "; copy the array first (e.g. arr.copy())");
    if (sizes[i] <= 1) strides[i] = std::max<int64_t>(strides[i], 0);
  }
  char* data = static_cast<char*>(dl->data) + dl->byte_offset;
  // take ownership
  PyCapsule_SetName(c, versioned ? kUsedCapsuleV : kUsedCapsule);
  std::function<void(void*)> release = [managed, versioned](void*) {
    if (!Py_IsInitialized()) return;
    py::gil_scoped_acquire g;
    if (versioned) {
      auto* m = static_cast<DLManagedTensorVersioned*>(managed);
      if (m->deleter) m->deleter(m);
    } else {
      auto* m = static_cast<DLManagedTensor*>(managed);
      if (m->deleter) m->deleter(m);
    }
  };
  const Device where = on_gpu ? Device(DeviceType::CUDA, int(dl->device.device_id)) : Device();
  Tensor t = from_blob(data, sizes, strides, *dt, where, std::move(release));
  if (read_only || force_copy) return nogil([&] { return clone(t); });  // ember tensors are always writable
  return t;
}

Tensor from_dlpack_any(py::handle obj, py::object copy);

Tensor from_dlpack_py(py::handle obj, py::object device, py::object copy) {
  std::optional<Device> want;
  if (!device.is_none()) want = py::isinstance<Device>(device) ? device.cast<Device>() : Device(device.cast<std::string>());
  Tensor r = from_dlpack_any(obj, copy);
  if (want && cuda::normalize(*want) != r.device()) return nogil([&] { return to_device(r, *want, r.dtype()); });
  return r;
}

Tensor from_dlpack_any(py::handle obj, py::object copy) {
  const bool force_copy = !copy.is_none() && copy.cast<bool>();
  if (py::isinstance<Tensor>(obj)) {
    Tensor t = obj.cast<Tensor>();
    return force_copy ? nogil([&] { return clone(t); }) : t;
  }
  if (PyCapsule_CheckExact(obj.ptr())) return import_capsule(obj, force_copy);
  EMBER_CHECK(py::hasattr(obj, "__dlpack__"), TypeError,
              "[from_dlpack] expected an object with __dlpack__ or a DLPack capsule, got ",
              std::string(py::str(py::type::handle_of(obj).attr("__name__"))));
  py::object stream = py::none();  // a CUDA producer syncs its work with our current stream
  if (py::hasattr(obj, "__dlpack_device__")) {
    auto dev = obj.attr("__dlpack_device__")().cast<std::pair<int, int>>();
    EMBER_CHECK(dev.first == kDLCPU || dev.first == kDLCUDAHost || dev.first == kDLCUDA, NotImplementedError,
                "[from_dlpack] only CPU and CUDA tensors can be imported, got DLPack device (", dev.first, ", ",
                dev.second, ")");
    EMBER_CHECK(dev.first != kDLCUDA || (dev.second >= 0 && dev.second < cuda_device_count()), Error,
                "[from_dlpack] the object is on CUDA device ", dev.second, ", which ember cannot see (",
                cuda_device_count(), " CUDA devices", cuda_compiled() ? "" : "; ember was built without CUDA", ")");
    if (dev.first == kDLCUDA) {
      const uintptr_t s = cuda::current_stream(dev.second);
      stream = py::int_(s == 0 ? int64_t(1) : int64_t(s));  // 1: the legacy default stream
    }
  }
  py::object cap;
  try {
    cap = obj.attr("__dlpack__")(py::arg("stream") = stream, py::arg("max_version") = py::make_tuple(1, 0));
  } catch (py::error_already_set& e) {
    if (!e.matches(PyExc_TypeError)) throw;
    cap = stream.is_none() ? obj.attr("__dlpack__")() : obj.attr("__dlpack__")(py::arg("stream") = stream);
  }
  return import_capsule(cap, force_copy);
}

}  // namespace

void init_interop(py::module_& m) {
  auto cls = tensor_class(m);
  cls.def("__dlpack__", &dlpack_method, py::kw_only(), py::arg("stream") = py::none(),
          py::arg("max_version") = py::none(), py::arg("dl_device") = py::none(), py::arg("copy") = py::none(),
          "Exports the tensor as a DLPack capsule (zero-copy unless copy=True).");
  cls.def("__dlpack_device__", [](const Tensor& t) { return py::make_tuple(dl_device_of(t).first, dl_device_of(t).second); },
          "(device type, device index) in DLPack's codes: (1, 0) for the CPU.");
  m.def("from_dlpack", &from_dlpack_py, py::arg("ext_tensor"), py::kw_only(), py::arg("device") = py::none(),
        py::arg("copy") = py::none(),
        "A tensor sharing memory with a DLPack producer (a NumPy array, a PyTorch tensor, any object with "
        "__dlpack__) or a DLPack capsule.\n\nExample:\n    >>> import numpy as np\n"
        "    >>> a = np.arange(3.0); t = ember.from_dlpack(a); t[0] = 5; float(a[0])\n    5.0");
  m.def("to_dlpack", [](const Tensor& t) { return export_capsule(t, false); }, py::arg("tensor"),
        "A legacy DLPack capsule of the tensor (for consumers that take capsules, like torch.utils.dlpack).");
}

}  // namespace ember
