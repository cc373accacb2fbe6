#include "dispatch.h"

namespace ember {

void no_kernel(const char* op, Device d) {
  if (d.is_cuda() && !cuda_compiled())
    throw NotImplementedError(str("[", op, "] no CUDA kernel: ember was built without CUDA"));
  throw NotImplementedError(str("[", op, "] no ", d.is_cuda() ? "CUDA" : "CPU", " kernel for tensors on ", d,
                                " yet: move the tensor to the CPU with .cpu()"));
}

Device::Device(const std::string& s) {
  std::string t = s;
  int idx = -1;
  auto colon = s.find(':');
  if (colon != std::string::npos) {
    t = s.substr(0, colon);
    std::string num = s.substr(colon + 1);
    bool ok = !num.empty() && num.size() < 6;
    for (char c : num) ok &= (c >= '0' && c <= '9');
    EMBER_CHECK(ok, ValueError, "[device] invalid device string: expected 'cpu', 'cuda' or 'cuda:N', got '", s, "'");
    idx = std::stoi(num);
  }
  if (t == "cpu") {
    EMBER_CHECK(idx <= 0, ValueError, "[device] invalid device string: the CPU has only index 0, got '", s, "'");
    type = DeviceType::CPU;
    index = -1;
  } else if (t == "cuda") {
    type = DeviceType::CUDA;
    index = idx;  // -1: the current CUDA device, resolved when a tensor is made (cuda::normalize)
  } else {
    throw ValueError(ember::str("[device] invalid device string: expected 'cpu', 'cuda' or 'cuda:N', got '", s, "'"));
  }
}

}  // namespace ember
