// ember._C._cuda: the runtime hooks of ops/cuda_hooks.h for ember/cuda.py (which wraps them in
// PyTorch's torch.cuda API). Streams and events travel as integer handles.
#include "../ops/cuda_hooks.h"
#include "../ops/linalg.h"
#include "../ops/random.h"
#include "../ops/dispatch.h"
#include "../ops/elementwise.h"
#include "../tensor/tensor.h"
#include "common.h"

namespace ember {

void init_cuda(py::module_& root) {
  py::module_ m = root.def_submodule("_cuda", "CUDA runtime hooks (see ember.cuda)");
  m.def("is_compiled", &cuda_compiled);
  m.def("device_count", &cuda_device_count);
  m.def("is_available", &cuda_available);
  m.def("current_device", &cuda::current_device);
  m.def("set_device", &cuda::set_device, py::arg("index"));
  m.def("synchronize", [](int i) { nogil([&] { cuda::synchronize(i); return 0; }); }, py::arg("index") = -1);
  m.def("device_properties", [](int i) {
    cuda::DeviceProperties p = cuda::device_properties(i);
    py::dict d;
    d["name"] = p.name;
    d["major"] = p.major;
    d["minor"] = p.minor;
    d["total_memory"] = p.total_memory;
    d["multi_processor_count"] = p.multi_processor_count;
    d["max_threads_per_block"] = p.max_threads_per_block;
    d["warp_size"] = p.warp_size;
    d["L2_cache_size"] = p.l2_cache_size;
    return d;
  }, py::arg("index"));
  m.def("mem_get_info", [](int i) {
    size_t f = 0, t = 0;
    cuda::mem_get_info(i, &f, &t);
    return py::make_tuple(f, t);
  }, py::arg("index") = -1);

  m.def("current_stream", &cuda::current_stream, py::arg("index"));
  m.def("set_current_stream", &cuda::set_current_stream, py::arg("index"), py::arg("stream"));
  m.def("stream_create", &cuda::stream_create, py::arg("index"), py::arg("priority") = 0);
  m.def("stream_destroy", &cuda::stream_destroy, py::arg("index"), py::arg("stream"));
  m.def("stream_synchronize", [](int i, uintptr_t s) { nogil([&] { cuda::stream_synchronize(i, s); return 0; }); },
        py::arg("index"), py::arg("stream"));
  m.def("stream_query", &cuda::stream_query, py::arg("index"), py::arg("stream"));
  m.def("stream_wait_event", &cuda::stream_wait_event, py::arg("index"), py::arg("stream"), py::arg("event"));
  m.def("event_create", &cuda::event_create, py::arg("index"), py::arg("enable_timing") = false,
        py::arg("blocking") = false);
  m.def("event_destroy", &cuda::event_destroy, py::arg("index"), py::arg("event"));
  m.def("event_record", &cuda::event_record, py::arg("index"), py::arg("event"), py::arg("stream"));
  m.def("event_synchronize", [](uintptr_t e) { nogil([&] { cuda::event_synchronize(e); return 0; }); },
        py::arg("event"));
  m.def("event_query", &cuda::event_query, py::arg("event"));
  m.def("event_elapsed_ms", &cuda::event_elapsed_ms, py::arg("start"), py::arg("end"));

  m.def("memory_stats", [](int i) {
    cuda::MemoryStats s = cuda::memory_stats(i);
    py::dict d;
    d["allocated_bytes.all.current"] = s.allocated;
    d["allocated_bytes.all.peak"] = s.max_allocated;
    d["reserved_bytes.all.current"] = s.reserved;
    d["reserved_bytes.all.peak"] = s.max_reserved;
    d["requested_bytes.all.current"] = s.requested;
    d["active.all.current"] = s.active_blocks;
    d["segment.all.current"] = s.segments;
    d["num_alloc_retries"] = s.alloc_retries;
    d["num_ooms"] = s.ooms;
    d["allocation.all.allocated"] = s.num_allocs;
    d["allocation.all.freed"] = s.num_frees;
    return d;
  }, py::arg("index") = -1);
  m.def("reset_peak_memory_stats", &cuda::reset_peak_memory_stats, py::arg("index") = -1);
  m.def("empty_cache", &cuda::empty_cache);
  m.def("memory_summary", &cuda::memory_summary, py::arg("index") = -1);
  m.def("set_per_process_memory_fraction", &cuda::set_per_process_memory_fraction, py::arg("fraction"),
        py::arg("index") = -1);

  m.def("manual_seed", &cuda::manual_seed, py::arg("seed"));
  m.def("manual_seed_device", &cuda::manual_seed_device, py::arg("seed"), py::arg("index"));
  m.def("initial_seed", &cuda::initial_seed, py::arg("index") = -1);
  m.def("default_generator", [](int index) { return cuda_default_generator(index); }, py::arg("index"));
#ifdef EMBER_CUDA_ARCHS
  m.def("arch_list", [] { return std::string(EMBER_CUDA_ARCHS); });  // CMake's list, ',' for ';'
#else
  m.def("arch_list", [] { return std::string(); });
#endif

  // math libraries loaded at run time, and their settings
  m.def("set_library_path", &cuda::set_library_path, py::arg("name"), py::arg("path"));
  m.def("load_cublas", &cuda::load_cublas);
  m.def("matmul_allow_tf32", &matmul_allow_tf32);
  m.def("set_matmul_allow_tf32", &set_matmul_allow_tf32, py::arg("allow"));
  m.def("conv_allow_tf32", &conv_allow_tf32);
  m.def("set_conv_allow_tf32", &set_conv_allow_tf32, py::arg("allow"));

  // pinned host memory
  auto cls = tensor_class(root);
  cls.def("_record_stream", [](const Tensor& t, uintptr_t stream) { cuda::record_stream(t, stream); },
          py::arg("stream"));
  cls.def("is_pinned", [](const Tensor& t) { return t.device().is_cpu() && cuda::is_pinned(t.raw_data()); });
  cls.def("pin_memory", [](const Tensor& t) {
    EMBER_CHECK(t.device().is_cpu(), ValueError, "[pin_memory] expected a CPU tensor, got one on ", t.device());
    if (cuda::is_pinned(t.raw_data())) return t;
    Tensor r = empty_with(t.sizes(), t.dtype(), cuda::pinned_allocator());
    nogil([&] { copy_(r, t); return 0; });
    return r;
  });
}

}  // namespace ember
