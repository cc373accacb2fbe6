#include "storage.h"

#include "../ops/cuda_hooks.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <vector>

#include "../ops/dispatch.h"

namespace ember {

namespace {

// Size classes: 64-byte multiples up to 4 KiB, then four steps per power of two,
// so that reuse is likely and waste stays under 25%.
size_t round_size(size_t n) {
  if (n <= 4096) return (n + 63) & ~size_t(63);
  size_t p = size_t(1) << (63 - __builtin_clzll(n));
  size_t step = p / 4;
  return (n + step - 1) / step * step;
}

class CachingCPUAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes) override {
    size_t sz = round_size(nbytes);
    {
      std::lock_guard<std::mutex> g(mu_);
      auto it = free_.find(sz);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_ -= sz;
        allocated_ += sz;
        return p;
      }
    }
    void* p = std::aligned_alloc(64, sz);
    if (!p) {
      empty_cache();
      p = std::aligned_alloc(64, sz);
    }
    if (!p) throw Error(str("[allocator] out of memory: could not allocate ", nbytes, " bytes on the CPU"));
    std::lock_guard<std::mutex> g(mu_);
    allocated_ += sz;
    return p;
  }
  void release(void* p, size_t nbytes) override {
    size_t sz = round_size(nbytes);
    std::lock_guard<std::mutex> g(mu_);
    allocated_ -= sz;
    if (cached_ + sz > kMaxCached) {
      std::free(p);
      return;
    }
    free_[sz].push_back(p);
    cached_ += sz;
  }
  void empty_cache() {
    std::lock_guard<std::mutex> g(mu_);
    for (auto& kv : free_)
      for (void* p : kv.second) std::free(p);
    free_.clear();
    cached_ = 0;
  }
  size_t cached() { std::lock_guard<std::mutex> g(mu_); return cached_; }
  size_t allocated() { std::lock_guard<std::mutex> g(mu_); return allocated_; }

 private:
  static constexpr size_t kMaxCached = size_t(2) << 30;  // 2 GiB
  std::mutex mu_;
  std::map<size_t, std::vector<void*>> free_;
  size_t cached_ = 0, allocated_ = 0;
};

CachingCPUAllocator* the_cpu_allocator() {
  static auto* a = new CachingCPUAllocator();  // leaked on purpose: outlives static tensors
  return a;
}

}  // namespace

Allocator* cpu_allocator() { return the_cpu_allocator(); }
size_t cpu_allocator_cached_bytes() { return the_cpu_allocator()->cached(); }
size_t cpu_allocator_allocated_bytes() { return the_cpu_allocator()->allocated(); }
void cpu_allocator_empty_cache() { the_cpu_allocator()->empty_cache(); }

Storage new_storage(size_t nbytes, Device device) {
  if (device.is_cpu()) return std::make_shared<StorageImpl>(nbytes, device, cpu_allocator());
  Allocator* a = device_allocator(device);  // raises without CUDA or a GPU
  return std::make_shared<StorageImpl>(nbytes, cuda::normalize(device), a);  // "cuda" -> "cuda:<current>"
}

}  // namespace ember
