// The CUDA runtime as the rest of the core sees it: devices, streams, events, the caching
// allocator's statistics, pinned host memory and cross-device copies. Implemented by
// cuda/cuda_runtime.cpp in a CUDA build, by no_cuda/cuda_stubs.cpp otherwise (where every call
// that needs a GPU raises "[op] ember was built without CUDA"). No CUDA types appear here:
// streams and events are opaque handles (0 is a device's default stream).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "../tensor/device.h"
#include "../tensor/storage.h"

namespace ember {
class Tensor;

namespace cuda {

// ---- devices -------------------------------------------------------------------------------
int current_device();              // raises without a GPU
void set_device(int index);        // raises on an invalid ordinal
void synchronize(int index);       // index < 0: the current device
Device normalize(Device d);        // "cuda" -> "cuda:<current>"; checks the ordinal

struct DeviceProperties {
  std::string name;
  int major = 0, minor = 0;
  size_t total_memory = 0;
  int multi_processor_count = 0;
  int max_threads_per_block = 0;
  int warp_size = 0;
  size_t l2_cache_size = 0;
};
DeviceProperties device_properties(int index);
void mem_get_info(int index, size_t* free_bytes, size_t* total_bytes);

// ---- streams and events ----------------------------------------------------------------------
// The current stream is per thread and per device, as in PyTorch.
uintptr_t current_stream(int index);
void set_current_stream(int index, uintptr_t stream);
uintptr_t stream_create(int index, int priority);
void stream_destroy(int index, uintptr_t stream);
void stream_synchronize(int index, uintptr_t stream);
bool stream_query(int index, uintptr_t stream);
void stream_wait_event(int index, uintptr_t stream, uintptr_t event);

// DLPack's stream handoff: work queued so far on this thread's current stream of `index` is made
// to come before what the consumer queues on its stream (DLPack's codes: 1 the legacy default
// stream, 2 the per-thread default, -1 no synchronisation, others a cudaStream_t).
void stream_handoff(int index, int64_t consumer_stream);

uintptr_t event_create(int index, bool enable_timing, bool blocking);
void event_destroy(int index, uintptr_t event);
void event_record(int index, uintptr_t event, uintptr_t stream);
void event_synchronize(uintptr_t event);
bool event_query(uintptr_t event);
float event_elapsed_ms(uintptr_t start, uintptr_t end);

// ---- the caching allocator -------------------------------------------------------------------
struct MemoryStats {
  int64_t allocated = 0, max_allocated = 0;  // bytes in live tensors (rounded block sizes)
  int64_t reserved = 0, max_reserved = 0;    // bytes held from cudaMalloc (segments)
  int64_t requested = 0;                     // bytes asked for by live tensors
  int64_t active_blocks = 0, segments = 0;
  int64_t alloc_retries = 0, ooms = 0;       // cache flushes before a retry; failed allocations
  int64_t num_allocs = 0, num_frees = 0;
};
MemoryStats memory_stats(int index);
void reset_peak_memory_stats(int index);
void empty_cache();                // returns every unused cached block to the driver
std::string memory_summary(int index);
void set_per_process_memory_fraction(double fraction, int index);

// Tensor.record_stream: t's memory is also used by `stream` (of t's device); when t's storage is
// freed, the caching allocator reuses it only after the work queued on that stream so far.
void record_stream(const Tensor& t, uintptr_t stream);

// ---- host memory -----------------------------------------------------------------------------
Allocator* pinned_allocator();     // page-locked host memory (cudaHostAlloc), cached
bool is_pinned(const void* p);

// ---- copies between devices ------------------------------------------------------------------
// dst = src (shapes equal, dtypes may differ) where dst and src are on different devices, at
// least one of them CUDA. non_blocking: returns before the copy ends when the host side is pinned.
void copy_across(const Tensor& dst, const Tensor& src, bool non_blocking);

// ---- random numbers --------------------------------------------------------------------------
void manual_seed(uint64_t seed);   // every device
void manual_seed_device(uint64_t seed, int index);
uint64_t initial_seed(int index);

// ---- math libraries, loaded at run time -------------------------------------------------------
// Where ember/cuda.py found a library of an installed nvidia wheel ("cublas": the path of
// libcublas.so.13); tried before EMBER_CUBLAS_PATH's absence falls back to the system search.
void set_library_path(const std::string& name, const std::string& path);
// Loads cuBLAS once; returns the path it came from. Raises with the install hint.
std::string load_cublas();

}  // namespace cuda
}  // namespace ember
