// Device: every tensor carries one; kernels are looked up per device type.
#pragma once
#include <string>

#include "error.h"

namespace ember {

enum class DeviceType : int8_t { CPU = 0, CUDA = 1 };
constexpr int kNumDeviceTypes = 2;

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = -1;  // -1: the current device of that type (always 0 for CPU)
  Device() = default;
  Device(DeviceType t, int i = -1) : type(t), index(t == DeviceType::CPU ? -1 : i) {}
  explicit Device(const std::string& s);
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string type_str() const { return type == DeviceType::CPU ? "cpu" : "cuda"; }
  std::string str() const { return index < 0 ? type_str() : type_str() + ":" + std::to_string(index); }
};
inline std::ostream& operator<<(std::ostream& os, const Device& d) { return os << d.str(); }

}  // namespace ember
