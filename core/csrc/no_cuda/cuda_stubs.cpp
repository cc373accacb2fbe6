// Built when ember is compiled without CUDA: the device hooks say so clearly.
#include "../ops/dispatch.h"

namespace ember {

Allocator* device_allocator(Device d) {
  throw NotImplementedError(str("[", d, "] ember was built without CUDA: rebuild with nvcc available "
                                "(EMBER_WITH_CUDA=ON) to use CUDA tensors"));
}
bool cuda_available() { return false; }
int cuda_device_count() { return 0; }
bool cuda_compiled() { return false; }

}  // namespace ember
