// Built when ember is compiled without CUDA: the device hooks say so clearly, and the queries
// that make sense without a GPU (is_pinned, seeds) answer quietly.
#include "../ops/cuda_hooks.h"
#include "../ops/dispatch.h"

namespace ember {

namespace {
[[noreturn]] void no_cuda(const char* what) {
  throw NotImplementedError(str("[", what, "] ember was built without CUDA: rebuild with nvcc available "
                                "(EMBER_WITH_CUDA=ON) to use CUDA devices"));
}
}  // namespace

Allocator* device_allocator(Device d) {
  throw NotImplementedError(str("[", d, "] ember was built without CUDA: rebuild with nvcc available "
                                "(EMBER_WITH_CUDA=ON) to use CUDA tensors"));
}
KernelDeviceScope::KernelDeviceScope(Device) {}
KernelDeviceScope::~KernelDeviceScope() {}
bool cuda_available() { return false; }
int cuda_device_count() { return 0; }
bool cuda_compiled() { return false; }

namespace cuda {
void set_library_path(const std::string&, const std::string&) {}
std::string load_cublas() { no_cuda("matmul"); }
void record_stream(const Tensor&, uintptr_t) { no_cuda("record_stream"); }
int current_device() { no_cuda("current_device"); }
void set_device(int) { no_cuda("set_device"); }
void synchronize(int) { no_cuda("synchronize"); }
Device normalize(Device d) {
  if (d.is_cuda()) no_cuda("device");
  return d;
}
DeviceProperties device_properties(int) { no_cuda("get_device_properties"); }
void mem_get_info(int, size_t*, size_t*) { no_cuda("mem_get_info"); }
uintptr_t current_stream(int) { return 0; }
void set_current_stream(int, uintptr_t) { no_cuda("set_stream"); }
uintptr_t stream_create(int, int) { no_cuda("Stream"); }
void stream_destroy(int, uintptr_t) {}
void stream_synchronize(int, uintptr_t) { no_cuda("Stream.synchronize"); }
bool stream_query(int, uintptr_t) { no_cuda("Stream.query"); }
void stream_wait_event(int, uintptr_t, uintptr_t) { no_cuda("Stream.wait_event"); }
void stream_handoff(int, int64_t) { no_cuda("__dlpack__"); }
uintptr_t event_create(int, bool, bool) { no_cuda("Event"); }
void event_destroy(int, uintptr_t) {}
void event_record(int, uintptr_t, uintptr_t) { no_cuda("Event.record"); }
void event_synchronize(uintptr_t) { no_cuda("Event.synchronize"); }
bool event_query(uintptr_t) { no_cuda("Event.query"); }
float event_elapsed_ms(uintptr_t, uintptr_t) { no_cuda("Event.elapsed_time"); }
MemoryStats memory_stats(int) { no_cuda("memory_stats"); }
void reset_peak_memory_stats(int) { no_cuda("reset_peak_memory_stats"); }
void empty_cache() {}
std::string memory_summary(int) { no_cuda("memory_summary"); }
void set_per_process_memory_fraction(double, int) { no_cuda("set_per_process_memory_fraction"); }
Allocator* pinned_allocator() { no_cuda("pin_memory"); }
bool is_pinned(const void*) { return false; }
void copy_across(const Tensor&, const Tensor&, bool) { no_cuda("copy_"); }
void manual_seed(uint64_t) {}
void manual_seed_device(uint64_t, int) { no_cuda("manual_seed"); }
uint64_t initial_seed(int) { no_cuda("initial_seed"); }
}  // namespace cuda

}  // namespace ember
