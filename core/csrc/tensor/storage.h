// Storage: a ref-counted, 64-byte aligned buffer on one device.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>

#include "device.h"

namespace ember {

// Caching allocator interface; one per device type.
struct Allocator {
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes) = 0;
  virtual void release(void* p, size_t nbytes) = 0;
};
Allocator* cpu_allocator();
// Bytes held by the CPU cache and live bytes (for tests and memory stats).
size_t cpu_allocator_cached_bytes();
size_t cpu_allocator_allocated_bytes();
void cpu_allocator_empty_cache();

struct StorageImpl {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device;
  Allocator* allocator = nullptr;             // owns data when set
  std::function<void(void*)> external_free;   // external memory (numpy, DLPack) otherwise

  StorageImpl(size_t n, Device d, Allocator* a) : nbytes(n), device(d), allocator(a) {
    data = n ? a->allocate(n) : nullptr;
  }
  StorageImpl(void* p, size_t n, Device d, std::function<void(void*)> f)
      : data(p), nbytes(n), device(d), external_free(std::move(f)) {}
  ~StorageImpl() {
    if (allocator) {
      if (data) allocator->release(data, nbytes);
    } else if (external_free) {
      external_free(data);
    }
  }
  StorageImpl(const StorageImpl&) = delete;
  StorageImpl& operator=(const StorageImpl&) = delete;
};
using Storage = std::shared_ptr<StorageImpl>;

Storage new_storage(size_t nbytes, Device device);

}  // namespace ember
