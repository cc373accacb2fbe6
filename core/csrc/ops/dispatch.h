// Per-device kernel tables. An op's front end (ops/*.cpp) checks arguments, promotes types,
// shapes the output and then calls its stub, which finds the kernel for the tensors' device.
// CPU kernels pick their instruction set at run time themselves (EMBER_HOT in cpu/loop.h).
#pragma once
#include <utility>

#include "../tensor/device.h"
#include "../tensor/error.h"
#include "../tensor/storage.h"

namespace ember {

[[noreturn]] void no_kernel(const char* op, Device d);

// Makes the tensors' CUDA device current around a CUDA kernel call (no-op for the CPU).
struct KernelDeviceScope {
  int prev = -1;
  explicit KernelDeviceScope(Device d);
  ~KernelDeviceScope();
  KernelDeviceScope(const KernelDeviceScope&) = delete;
  KernelDeviceScope& operator=(const KernelDeviceScope&) = delete;
};

template <typename Fn> struct DispatchStub;
template <typename R, typename... Args>
struct DispatchStub<R (*)(Args...)> {
  using Fn = R (*)(Args...);
  const char* name;
  Fn cpu = nullptr;
  Fn cuda = nullptr;

  constexpr explicit DispatchStub(const char* n) : name(n) {}

  Fn lookup(Device d) const {
    Fn f = d.is_cpu() ? cpu : cuda;
    if (f) return f;
    no_kernel(name, d);
  }
  template <typename... A>
  R operator()(Device d, A&&... a) const {
    if (d.is_cpu()) return lookup(d)(std::forward<A>(a)...);
    Fn f = lookup(d);
    KernelDeviceScope scope(d);
    return f(std::forward<A>(a)...);
  }
};

struct KernelRegistrar {
  template <typename Stub, typename Fn>
  KernelRegistrar(Stub& stub, DeviceType dev, Fn fn) {
    if (dev == DeviceType::CPU) stub.cpu = fn;
    else stub.cuda = fn;
  }
};

#define EMBER_CONCAT_(a, b) a##b
#define EMBER_CONCAT(a, b) EMBER_CONCAT_(a, b)
#define EMBER_REGISTER_CPU(stub, fn) \
  static ::ember::KernelRegistrar EMBER_CONCAT(_ember_reg_, __COUNTER__)(stub, ::ember::DeviceType::CPU, fn)
#define EMBER_REGISTER_CUDA(stub, fn) \
  static ::ember::KernelRegistrar EMBER_CONCAT(_ember_reg_, __COUNTER__)(stub, ::ember::DeviceType::CUDA, fn)

// Device runtime hooks, implemented by cuda/ or by the no_cuda/ stubs.
Allocator* device_allocator(Device d);
bool cuda_available();
int cuda_device_count();
bool cuda_compiled();

}  // namespace ember
