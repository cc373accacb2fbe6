// The CUDA runtime (ops/cuda_hooks.h): devices, per-thread current streams, events, the caching
// device allocator, cached pinned host memory and copies between devices.
//
// The device allocator follows PyTorch's design. Requests are rounded to 512 bytes. Requests of
// at most 1 MiB come from 2 MiB segments (the small pool); larger ones from 20 MiB segments below
// 10 MiB, else from segments of their own size rounded to 2 MiB (the large pool). A free block is
// kept per (device, stream) and reused best-fit by allocations on the same stream, split when the
// rest is worth keeping (small: >= 512 B; large: > 1 MiB) and merged with free neighbours of its
// segment when freed. When cudaMalloc fails, the unused cached segments are returned to the
// driver and the call retried once; then ember.OutOfMemoryError says how much was requested,
// allocated and reserved, and what to do.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>
#include <vector>

#include "../ops/cuda_hooks.h"
#include "../ops/dispatch.h"
#include "../ops/elementwise.h"
#include "../ops/random.h"
#include "../tensor/tensor.h"
#include "cuda_common.h"

namespace ember {
namespace cuda {

void check_cuda(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  cudaGetLastError();  // clear the sticky-free error state
  throw Error(str("[cuda] ", what, " failed: ", cudaGetErrorString(e), " (", cudaGetErrorName(e), ")"));
}

namespace {

int count_devices() {
  static int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // no driver or no device: not an error, just none
      n = 0;
    }
    return n;
  }();
  return count;
}

void check_ordinal(int index) {
  EMBER_CHECK(count_devices() > 0, Error, "[cuda] no CUDA device is available: ember.cuda.is_available() is False");
  EMBER_CHECK(index >= 0 && index < count_devices(), ValueError, "[cuda] invalid device ordinal: expected 0..",
              count_devices() - 1, ", got ", index);
}

std::string fmt_bytes(int64_t b) {
  char buf[64];
  const double v = double(b);
  if (v >= double(1ll << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", v / double(1ll << 30));
  else if (v >= double(1 << 20)) std::snprintf(buf, sizeof buf, "%.2f MiB", v / double(1 << 20));
  else if (v >= 1024) std::snprintf(buf, sizeof buf, "%.2f KiB", v / 1024);
  else std::snprintf(buf, sizeof buf, "%lld B", (long long)b);
  return buf;
}

// ---- the device caching allocator ----------------------------------------------------------
constexpr size_t kMinBlock = 512;
constexpr size_t kSmallSize = 1 << 20;        // requests up to this come from the small pool
constexpr size_t kSmallBuffer = 2 << 20;      // small-pool segments
constexpr size_t kLargeBuffer = 20 << 20;     // segments for large requests below kMinLargeAlloc
constexpr size_t kMinLargeAlloc = 10 << 20;
constexpr size_t kRoundLarge = 2 << 20;

size_t round_size(size_t n) { return n < kMinBlock ? kMinBlock : (n + kMinBlock - 1) / kMinBlock * kMinBlock; }
size_t segment_size(size_t n) {
  if (n <= kSmallSize) return kSmallBuffer;
  if (n < kMinLargeAlloc) return kLargeBuffer;
  return (n + kRoundLarge - 1) / kRoundLarge * kRoundLarge;
}

// True once every event has completed (wait: blocks until then), the events then destroyed; the
// caching allocators reuse a block only after the work recorded on other streams is done.
bool events_done(std::vector<cudaEvent_t>& events, bool wait) {
  for (cudaEvent_t ev : events) {
    if (wait) {
      cudaEventSynchronize(ev);
    } else if (cudaEventQuery(ev) != cudaSuccess) {
      cudaGetLastError();
      return false;
    }
  }
  for (cudaEvent_t ev : events) cudaEventDestroy(ev);
  events.clear();
  return true;
}

struct Block {
  uintptr_t stream;
  size_t size;
  char* ptr;
  bool small;
  bool allocated = false;
  size_t requested = 0;
  Block* prev = nullptr;  // neighbours within the segment
  Block* next = nullptr;
  std::vector<uintptr_t> stream_uses;  // other streams that used it (record_stream)
};
struct BlockLess {
  bool operator()(const Block* a, const Block* b) const {
    if (a->stream != b->stream) return a->stream < b->stream;
    if (a->size != b->size) return a->size < b->size;
    return a->ptr < b->ptr;
  }
};
using Pool = std::set<Block*, BlockLess>;

class DeviceCache {
 public:
  explicit DeviceCache(int device) : device_(device) {}

  void* malloc(size_t nbytes, uintptr_t stream) {
    std::lock_guard<std::mutex> g(mu_);
    if (!pending_.empty()) collect_locked(false);
    const size_t size = round_size(nbytes);
    const bool small = size <= kSmallSize;
    Pool& pool = small ? small_ : large_;
    Block key{stream, size, nullptr, small};
    Block* b = nullptr;
    auto it = pool.lower_bound(&key);
    if (it != pool.end() && (*it)->stream == stream) {
      b = *it;
      pool.erase(it);
    } else {
      b = new_segment(size, small, stream, nbytes);
    }
    const size_t rest = b->size - size;
    if ((small && rest >= kMinBlock) || (!small && rest > kSmallSize)) {
      Block* r = new Block{stream, rest, b->ptr + size, small};
      r->prev = b, r->next = b->next;
      if (b->next) b->next->prev = r;
      b->next = r, b->size = size;
      pool.insert(r);
    }
    b->allocated = true;
    b->requested = nbytes;
    live_[b->ptr] = b;
    st_.allocated += int64_t(b->size);
    st_.requested += int64_t(nbytes);
    st_.max_allocated = std::max(st_.max_allocated, st_.allocated);
    ++st_.active_blocks, ++st_.num_allocs;
    return b->ptr;
  }

  void free(void* p) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = live_.find(static_cast<char*>(p));
    if (it == live_.end()) return;  // not ours (cannot happen through Storage)
    Block* b = it->second;
    live_.erase(it);
    st_.allocated -= int64_t(b->size);
    st_.requested -= int64_t(b->requested);
    --st_.active_blocks, ++st_.num_frees;
    b->allocated = false;
    b->requested = 0;
    if (!b->stream_uses.empty()) {  // reusable once the other streams' work queued so far is done
      DeviceGuard guard(device_);
      Pending pd{b, {}};
      for (uintptr_t st : b->stream_uses) {
        cudaEvent_t ev;
        check_cuda(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming), "cudaEventCreate");
        check_cuda(cudaEventRecord(ev, reinterpret_cast<cudaStream_t>(st)), "cudaEventRecord");
        pd.events.push_back(ev);
      }
      b->stream_uses.clear();
      pending_.push_back(std::move(pd));
      return;
    }
    insert_free_locked(b);
  }

  // Tensor.record_stream: the block at `p` is also used by `stream`.
  void record_stream(void* p, uintptr_t stream) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = live_.find(static_cast<char*>(p));
    if (it == live_.end()) return;
    Block* b = it->second;
    if (stream == b->stream) return;
    for (uintptr_t s : b->stream_uses)
      if (s == stream) return;
    b->stream_uses.push_back(stream);
  }

  // Returns every free whole segment to the driver.
  void release_cached() {
    std::lock_guard<std::mutex> g(mu_);
    release_cached_locked();
  }

  MemoryStats stats() {
    std::lock_guard<std::mutex> g(mu_);
    return st_;
  }
  void reset_peaks() {
    std::lock_guard<std::mutex> g(mu_);
    st_.max_allocated = st_.allocated;
    st_.max_reserved = st_.reserved;
  }
  void set_limit(size_t bytes) {
    std::lock_guard<std::mutex> g(mu_);
    limit_ = bytes;
  }
  // (segment size, bytes in use) of every segment, for memory_summary
  std::vector<std::pair<size_t, size_t>> segments() {
    std::lock_guard<std::mutex> g(mu_);
    std::vector<std::pair<size_t, size_t>> out;
    for (const auto& kv : seg_heads_) {
      size_t total = 0, used = 0;
      for (Block* b = kv.second; b; b = b->next) total += b->size, used += b->allocated ? b->size : 0;
      out.emplace_back(total, used);
    }
    return out;
  }

 private:
  Block* merge(Block* a, Block* b, Pool& pool) {  // a directly precedes b; the free one(s) leave the pool
    if (!a->allocated) pool.erase(a);
    if (!b->allocated) pool.erase(b);
    a->size += b->size;
    a->next = b->next;
    if (b->next) b->next->prev = a;
    delete b;
    return a;
  }

  Block* new_segment(size_t size, bool small, uintptr_t stream, size_t nbytes) {
    const size_t seg = segment_size(size);
    void* p = nullptr;
    DeviceGuard guard(device_);
    cudaError_t e = cudaErrorMemoryAllocation;
    if (st_.reserved + int64_t(seg) <= int64_t(limit_)) e = cudaMalloc(&p, seg);
    if (e != cudaSuccess) {
      cudaGetLastError();
      ++st_.alloc_retries;
      release_cached_locked();
      if (st_.reserved + int64_t(seg) <= int64_t(limit_)) e = cudaMalloc(&p, seg);
    }
    if (e != cudaSuccess) {
      cudaGetLastError();
      ++st_.ooms;
      size_t free_b = 0, total_b = 0;
      if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) cudaGetLastError();
      throw OutOfMemoryError(str(
          "[cuda] out of memory: tried to allocate ", fmt_bytes(int64_t(nbytes)), " on cuda:", device_, " (",
          fmt_bytes(int64_t(total_b)), " total, ", fmt_bytes(int64_t(free_b)), " free",
          limit_ != SIZE_MAX ? str(", ember's limit ", fmt_bytes(int64_t(limit_))) : std::string(), "); ember holds ",
          fmt_bytes(st_.allocated), " in tensors and ", fmt_bytes(st_.reserved),
          " reserved in all. Free what you no longer need and call ember.cuda.empty_cache(), or use a "
          "smaller batch size"));
    }
    st_.reserved += int64_t(seg);
    st_.max_reserved = std::max(st_.max_reserved, st_.reserved);
    ++st_.segments;
    Block* b = new Block{stream, seg, static_cast<char*>(p), small};
    seg_heads_[b->ptr] = b;
    return b;
  }

  // Frees the blocks of completed record_stream events (wait: blocks until all complete).
  void collect_locked(bool wait) {
    for (size_t i = 0; i < pending_.size();) {
      if (!events_done(pending_[i].events, wait)) {
        ++i;
        continue;
      }
      insert_free_locked(pending_[i].block);
      pending_[i] = std::move(pending_.back());
      pending_.pop_back();
    }
  }

  void insert_free_locked(Block* b) {
    Pool& pool = b->small ? small_ : large_;
    if (b->prev && !b->prev->allocated && !is_pending(b->prev)) b = merge(b->prev, b, pool);
    if (b->next && !b->next->allocated && !is_pending(b->next)) b = merge(b, b->next, pool);
    pool.insert(b);
  }
  bool is_pending(const Block* b) const {
    for (const Pending& pd : pending_)
      if (pd.block == b) return true;
    return false;
  }

  void release_cached_locked() {
    DeviceGuard guard(device_);
    collect_locked(true);
    for (Pool* pool : {&small_, &large_}) {
      for (auto it = pool->begin(); it != pool->end();) {
        Block* b = *it;
        if (b->prev || b->next) {  // part of a segment still in use
          ++it;
          continue;
        }
        cudaFree(b->ptr);
        seg_heads_.erase(b->ptr);
        st_.reserved -= int64_t(b->size);
        --st_.segments;
        it = pool->erase(it);
        delete b;
      }
    }
  }

  struct Pending {
    Block* block;
    std::vector<cudaEvent_t> events;
  };

  int device_;
  std::mutex mu_;
  Pool small_, large_;
  std::vector<Pending> pending_;  // freed blocks waiting for other streams (record_stream)
  std::unordered_map<char*, Block*> live_;
  std::map<char*, Block*> seg_heads_;  // first block of each segment
  MemoryStats st_;
  size_t limit_ = SIZE_MAX;
};

DeviceCache& cache(int device) {
  static std::vector<std::unique_ptr<DeviceCache>>* caches = [] {
    auto* v = new std::vector<std::unique_ptr<DeviceCache>>();  // leaked: outlives static tensors
    for (int i = 0; i < count_devices(); ++i) v->emplace_back(new DeviceCache(i));
    return v;
  }();
  check_ordinal(device);
  return *(*caches)[size_t(device)];
}

struct CudaAllocator final : Allocator {
  int device;
  explicit CudaAllocator(int d) : device(d) {}
  void* allocate(size_t n) override { return cache(device).malloc(n, current_stream(device)); }
  void release(void* p, size_t) override { cache(device).free(p); }
};

// ---- pinned host memory: cudaHostAlloc'd blocks cached by exact size -------------------------
// A block that an asynchronous copy used (record_use: an event on the copy's stream) is reused
// only once that event has completed, as PyTorch's caching host allocator.
struct PinnedAllocator final : Allocator {
  struct Pending {
    char* p;
    size_t n;
    std::vector<cudaEvent_t> events;
  };
  std::mutex mu;
  std::multimap<size_t, void*> free_blocks;
  std::map<char*, size_t> live;  // base -> size (ordered: interior pointers map to their block)
  std::unordered_map<char*, std::vector<cudaEvent_t>> uses;
  std::vector<Pending> pending;

  // Moves released blocks whose copies have finished to the free list (wait: block until they have).
  void collect_locked(bool wait) {
    for (size_t i = 0; i < pending.size();) {
      if (!events_done(pending[i].events, wait)) {
        ++i;
        continue;
      }
      free_blocks.emplace(pending[i].n, pending[i].p);
      pending[i] = pending.back();
      pending.pop_back();
    }
  }
  void* allocate(size_t n) override {
    std::lock_guard<std::mutex> g(mu);
    collect_locked(false);
    auto it = free_blocks.find(n);
    if (it != free_blocks.end()) {
      void* p = it->second;
      free_blocks.erase(it);
      live[static_cast<char*>(p)] = n;
      return p;
    }
    EMBER_CHECK(count_devices() > 0, Error,
                "[pin_memory] page-locked memory needs a CUDA device: ember.cuda.is_available() is False");
    void* p = nullptr;
    cudaError_t e = cudaHostAlloc(&p, n, cudaHostAllocDefault);
    if (e != cudaSuccess) {
      cudaGetLastError();
      collect_locked(true);
      for (auto& kv : free_blocks) cudaFreeHost(kv.second);
      free_blocks.clear();
      e = cudaHostAlloc(&p, n, cudaHostAllocDefault);
    }
    if (e != cudaSuccess) {
      cudaGetLastError();
      throw OutOfMemoryError(str("[pin_memory] could not allocate ", fmt_bytes(int64_t(n)),
                                 " of page-locked host memory: ", cudaGetErrorString(e)));
    }
    live[static_cast<char*>(p)] = n;
    return p;
  }
  void release(void* p, size_t n) override {
    std::lock_guard<std::mutex> g(mu);
    char* c = static_cast<char*>(p);
    live.erase(c);
    auto u = uses.find(c);
    if (u == uses.end()) {
      free_blocks.emplace(n, p);
      return;
    }
    pending.push_back(Pending{c, n, std::move(u->second)});
    uses.erase(u);
  }
  // The block holding p, or null.
  char* block_of_locked(const void* p) {
    const char* c = static_cast<const char*>(p);
    auto it = live.upper_bound(const_cast<char*>(c));
    if (it == live.begin()) return nullptr;
    --it;
    return c < it->first + it->second ? it->first : nullptr;
  }
  bool owns(const void* p) {
    std::lock_guard<std::mutex> g(mu);
    return block_of_locked(p) != nullptr;
  }
  // An asynchronous copy on `stream` of `device` reads or writes the block holding p.
  void record_use(const void* p, int device, cudaStream_t stream) {
    std::lock_guard<std::mutex> g(mu);
    char* b = block_of_locked(p);
    if (!b) return;  // page-locked by someone else: theirs to keep alive
    DeviceGuard guard(device);
    cudaEvent_t ev;
    check_cuda(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming), "cudaEventCreate");
    check_cuda(cudaEventRecord(ev, stream), "cudaEventRecord");
    uses[b].push_back(ev);
  }
};
PinnedAllocator& pinned() {
  static auto* a = new PinnedAllocator();  // leaked on purpose
  return *a;
}

// ---- per-thread current streams ----------------------------------------------------------
std::vector<uintptr_t>& thread_streams() {
  thread_local std::vector<uintptr_t> s;
  if (s.empty()) s.assign(size_t(std::max(1, count_devices())), 0);
  return s;
}

}  // namespace

// ---- devices --------------------------------------------------------------------------------
int current_device() {
  EMBER_CHECK(count_devices() > 0, Error, "[cuda] no CUDA device is available: ember.cuda.is_available() is False");
  int d = 0;
  check_cuda(cudaGetDevice(&d), "cudaGetDevice");
  return d;
}
void set_device(int index) {
  check_ordinal(index);
  check_cuda(cudaSetDevice(index), "cudaSetDevice");
}
void synchronize(int index) {
  DeviceGuard g(index < 0 ? current_device() : index);
  check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
}
Device normalize(Device d) {
  if (!d.is_cuda()) return d;
  if (d.index < 0) return Device(DeviceType::CUDA, current_device());
  check_ordinal(d.index);
  return d;
}
DeviceProperties device_properties(int index) {
  check_ordinal(index);
  cudaDeviceProp p;
  check_cuda(cudaGetDeviceProperties(&p, index), "cudaGetDeviceProperties");
  DeviceProperties r;
  r.name = p.name;
  r.major = p.major, r.minor = p.minor;
  r.total_memory = p.totalGlobalMem;
  r.multi_processor_count = p.multiProcessorCount;
  r.max_threads_per_block = p.maxThreadsPerBlock;
  r.warp_size = p.warpSize;
  r.l2_cache_size = size_t(p.l2CacheSize);
  return r;
}
void mem_get_info(int index, size_t* free_bytes, size_t* total_bytes) {
  DeviceGuard g(index < 0 ? current_device() : index);
  check_cuda(cudaMemGetInfo(free_bytes, total_bytes), "cudaMemGetInfo");
}

// ---- streams and events ----------------------------------------------------------------------
uintptr_t current_stream(int index) {
  auto& s = thread_streams();
  return index >= 0 && size_t(index) < s.size() ? s[size_t(index)] : 0;
}
void set_current_stream(int index, uintptr_t stream) {
  check_ordinal(index);
  thread_streams()[size_t(index)] = stream;
}
uintptr_t stream_create(int index, int priority) {
  DeviceGuard g(index);
  cudaStream_t s = nullptr;
  check_cuda(cudaStreamCreateWithPriority(&s, cudaStreamNonBlocking, priority), "cudaStreamCreateWithPriority");
  return reinterpret_cast<uintptr_t>(s);
}
void stream_destroy(int index, uintptr_t stream) {
  if (!stream) return;
  DeviceGuard g(index);
  cudaStreamDestroy(reinterpret_cast<cudaStream_t>(stream));
}
void stream_synchronize(int index, uintptr_t stream) {
  DeviceGuard g(index);
  check_cuda(cudaStreamSynchronize(reinterpret_cast<cudaStream_t>(stream)), "cudaStreamSynchronize");
}
// A query's answer: done (true), not yet (false), or an error.
bool ready(cudaError_t e, const char* what) {
  if (e == cudaErrorNotReady) {
    cudaGetLastError();
    return false;
  }
  check_cuda(e, what);
  return true;
}
bool stream_query(int index, uintptr_t stream) {
  DeviceGuard g(index);
  return ready(cudaStreamQuery(reinterpret_cast<cudaStream_t>(stream)), "cudaStreamQuery");
}
void stream_wait_event(int index, uintptr_t stream, uintptr_t event) {
  DeviceGuard g(index);
  check_cuda(cudaStreamWaitEvent(reinterpret_cast<cudaStream_t>(stream), reinterpret_cast<cudaEvent_t>(event), 0),
             "cudaStreamWaitEvent");
}
void stream_handoff(int index, int64_t consumer_stream) {
  if (consumer_stream == -1) return;
  cudaStream_t consumer = consumer_stream == 1   ? cudaStreamLegacy
                          : consumer_stream == 2 ? cudaStreamPerThread
                                                 : reinterpret_cast<cudaStream_t>(uintptr_t(consumer_stream));
  cudaStream_t ours = stream_of(index);
  if (ours == consumer || (ours == nullptr && consumer == cudaStreamLegacy)) return;
  DeviceGuard g(index);
  cudaEvent_t e = nullptr;
  check_cuda(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "cudaEventCreateWithFlags");
  check_cuda(cudaEventRecord(e, ours), "cudaEventRecord");
  check_cuda(cudaStreamWaitEvent(consumer, e, 0), "cudaStreamWaitEvent");
  cudaEventDestroy(e);  // released once the wait is done
}

uintptr_t event_create(int index, bool enable_timing, bool blocking) {
  DeviceGuard g(index);
  unsigned flags = (enable_timing ? 0u : unsigned(cudaEventDisableTiming)) | (blocking ? unsigned(cudaEventBlockingSync) : 0u);
  cudaEvent_t e = nullptr;
  check_cuda(cudaEventCreateWithFlags(&e, flags), "cudaEventCreateWithFlags");
  return reinterpret_cast<uintptr_t>(e);
}
void event_destroy(int index, uintptr_t event) {
  if (!event) return;
  DeviceGuard g(index);
  cudaEventDestroy(reinterpret_cast<cudaEvent_t>(event));
}
void event_record(int index, uintptr_t event, uintptr_t stream) {
  DeviceGuard g(index);
  check_cuda(cudaEventRecord(reinterpret_cast<cudaEvent_t>(event), reinterpret_cast<cudaStream_t>(stream)),
             "cudaEventRecord");
}
void event_synchronize(uintptr_t event) {
  check_cuda(cudaEventSynchronize(reinterpret_cast<cudaEvent_t>(event)), "cudaEventSynchronize");
}
bool event_query(uintptr_t event) { return ready(cudaEventQuery(reinterpret_cast<cudaEvent_t>(event)), "cudaEventQuery"); }
float event_elapsed_ms(uintptr_t start, uintptr_t end) {
  float ms = 0;
  check_cuda(cudaEventElapsedTime(&ms, reinterpret_cast<cudaEvent_t>(start), reinterpret_cast<cudaEvent_t>(end)),
             "cudaEventElapsedTime (both events recorded with enable_timing=True, and the end one completed?)");
  return ms;
}

// ---- allocator statistics ------------------------------------------------------------------
MemoryStats memory_stats(int index) { return cache(index < 0 ? current_device() : index).stats(); }
void reset_peak_memory_stats(int index) { cache(index < 0 ? current_device() : index).reset_peaks(); }
void empty_cache() {
  for (int i = 0; i < count_devices(); ++i) cache(i).release_cached();
}
void set_per_process_memory_fraction(double fraction, int index) {
  EMBER_CHECK(fraction >= 0 && fraction <= 1, ValueError,
              "[set_per_process_memory_fraction] expected a fraction in [0, 1], got ", fraction);
  const int d = index < 0 ? current_device() : index;
  cache(d).set_limit(size_t(fraction * double(device_properties(d).total_memory)));
}
std::string memory_summary(int index) {
  const int d = index < 0 ? current_device() : index;
  const MemoryStats s = memory_stats(d);
  std::string out = str("ember CUDA memory summary, device ", d, "\n");
  out += str("  allocated (in tensors): ", fmt_bytes(s.allocated), "   peak ", fmt_bytes(s.max_allocated), "\n");
  out += str("  requested by tensors:   ", fmt_bytes(s.requested), "\n");
  out += str("  reserved (segments):    ", fmt_bytes(s.reserved), "   peak ", fmt_bytes(s.max_reserved), "\n");
  out += str("  cached, unused:         ", fmt_bytes(s.reserved - s.allocated), "\n");
  out += str("  active blocks ", s.active_blocks, ", segments ", s.segments, ", allocations ", s.num_allocs,
             ", frees ", s.num_frees, ", cache flushes ", s.alloc_retries, ", out-of-memory errors ", s.ooms, "\n");
  auto segs = cache(d).segments();
  std::sort(segs.begin(), segs.end(), [](auto& a, auto& b) { return a.first > b.first; });
  for (size_t i = 0; i < segs.size() && i < 16; ++i)
    out += str("  segment ", fmt_bytes(int64_t(segs[i].first)), ": ", fmt_bytes(int64_t(segs[i].second)), " in use\n");
  if (segs.size() > 16) out += str("  ... and ", segs.size() - 16, " more segments\n");
  return out;
}

void record_stream(const Tensor& t, uintptr_t stream) {
  EMBER_CHECK(t.device().is_cuda(), ValueError, "[record_stream] expected a CUDA tensor, got one on ", t.device());
  const StorageImpl* st = t.storage().get();
  if (!st || !st->data) return;
  EMBER_CHECK(st->allocator == device_allocator(t.device()), ValueError,
              "[record_stream] the tensor's memory does not come from ember's allocator (e.g. DLPack import)");
  cache(t.device().index).record_stream(st->data, stream);
}

// ---- host memory ---------------------------------------------------------------------------
Allocator* pinned_allocator() { return &pinned(); }
bool is_pinned(const void* p) {
  if (!p || count_devices() == 0) return false;
  if (pinned().owns(p)) return true;
  cudaPointerAttributes a;
  if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return a.type == cudaMemoryTypeHost;
}

// ---- random numbers ----------------------------------------------------------------------------
void manual_seed(uint64_t seed) {
  for (int i = 0; i < std::max(1, count_devices()); ++i) cuda_default_generator(i)->manual_seed(seed);
}
void manual_seed_device(uint64_t seed, int index) {
  check_ordinal(index);
  cuda_default_generator(index)->manual_seed(seed);
}
uint64_t initial_seed(int index) {
  const int d = index < 0 ? current_device() : index;
  check_ordinal(d);
  return cuda_default_generator(d)->initial_seed();
}

// ---- copies between devices ---------------------------------------------------------------------
// The host side is made contiguous in the destination's dtype on the CPU, the device side is made
// contiguous on its device; then one cudaMemcpyAsync on the current stream of the CUDA side's
// device. It waits for the stream unless non_blocking and the host side is pinned (pageable
// memory: cudaMemcpyAsync is synchronous with respect to the host anyway).
void copy_across(const Tensor& dst, const Tensor& src, bool non_blocking) {
  const Device dd = dst.device(), sd = src.device();
  if (dd.is_cuda() && sd.is_cuda()) {  // GPU -> GPU: peer copy of a contiguous image, then on-device
    Tensor s = contiguous(src);
    Tensor tmp = dst.is_contiguous() && dst.dtype() == src.dtype() ? dst : empty(src.sizes(), src.dtype(), dd);
    {  // the source's pending work is ordered on its own device's stream, not on the destination's
      DeviceGuard gs(sd.index);
      check_cuda(cudaStreamSynchronize(stream_of(sd.index)), "cudaStreamSynchronize");
    }
    DeviceGuard g(dd.index);
    const uintptr_t stream = current_stream(dd.index);
    check_cuda(cudaMemcpyPeerAsync(tmp.raw_data(), dd.index, s.raw_data(), sd.index, size_t(s.numel() * s.itemsize()),
                                   reinterpret_cast<cudaStream_t>(stream)),
               "cudaMemcpyPeerAsync");
    if (!non_blocking) check_cuda(cudaStreamSynchronize(reinterpret_cast<cudaStream_t>(stream)), "cudaStreamSynchronize");
    if (tmp.raw_data() != dst.raw_data()) copy_(dst, tmp);
    return;
  }
  const bool to_device = dd.is_cuda();
  const int dev = to_device ? dd.index : sd.index;
  DeviceGuard g(dev);
  const uintptr_t stream = current_stream(dev);
  auto cs = reinterpret_cast<cudaStream_t>(stream);
  if (to_device) {
    Tensor h = contiguous(to_dtype(src, dst.dtype()));  // on the CPU, dst's dtype
    Tensor d = dst.is_contiguous() ? dst : empty(dst.sizes(), dst.dtype(), dd);
    check_cuda(cudaMemcpyAsync(d.raw_data(), h.raw_data(), size_t(h.numel() * h.itemsize()), cudaMemcpyHostToDevice, cs),
               "cudaMemcpyAsync (host to device)");
    const bool async = non_blocking && is_pinned(h.raw_data());
    if (async) pinned().record_use(h.raw_data(), dev, cs);  // not reused before the copy ends
    else check_cuda(cudaStreamSynchronize(cs), "cudaStreamSynchronize");
    if (d.raw_data() != dst.raw_data()) copy_(dst, d);
  } else {
    Tensor d = contiguous(to_dtype(src, dst.dtype()));  // on the device, dst's dtype
    Tensor h = dst.is_contiguous() ? dst : empty(dst.sizes(), dst.dtype(), dd);
    check_cuda(cudaMemcpyAsync(h.raw_data(), d.raw_data(), size_t(d.numel() * d.itemsize()), cudaMemcpyDeviceToHost, cs),
               "cudaMemcpyAsync (device to host)");
    const bool async = non_blocking && is_pinned(h.raw_data()) && h.raw_data() == dst.raw_data();
    if (async) pinned().record_use(h.raw_data(), dev, cs);
    else check_cuda(cudaStreamSynchronize(cs), "cudaStreamSynchronize");
    if (h.raw_data() != dst.raw_data()) copy_(dst, h);
  }
}

}  // namespace cuda

// ---- the device hooks of ops/dispatch.h ------------------------------------------------------
KernelDeviceScope::KernelDeviceScope(Device d) {
  if (!d.is_cuda() || d.index < 0) return;
  int cur = 0;
  cuda::check_cuda(cudaGetDevice(&cur), "cudaGetDevice");
  if (cur != d.index) {
    cuda::check_cuda(cudaSetDevice(d.index), "cudaSetDevice");
    prev = cur;
  }
}
KernelDeviceScope::~KernelDeviceScope() {
  if (prev >= 0) cudaSetDevice(prev);
}

int cuda_device_count() { return cuda::count_devices(); }
bool cuda_available() { return cuda::count_devices() > 0; }
bool cuda_compiled() { return true; }

Allocator* device_allocator(Device d) {
  const int idx = d.index < 0 ? cuda::current_device() : d.index;
  cuda::check_ordinal(idx);
  static std::vector<std::unique_ptr<cuda::CudaAllocator>>* allocs = [] {
    auto* v = new std::vector<std::unique_ptr<cuda::CudaAllocator>>();
    for (int i = 0; i < cuda::count_devices(); ++i) v->emplace_back(new cuda::CudaAllocator(i));
    return v;
  }();
  return (*allocs)[size_t(idx)].get();
}

}  // namespace ember
