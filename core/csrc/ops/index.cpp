// Advanced indexing and the index ops. (In progress: see ops/index.h.)
#include "index.h"

namespace ember {

Tensor index_tensor(const Tensor&, const std::vector<std::optional<Tensor>>&) {
  throw NotImplementedError("[index] advanced indexing with tensors is not implemented yet");
}
void index_put_(const Tensor&, const std::vector<std::optional<Tensor>>&, const Tensor&, bool) {
  throw NotImplementedError("[index_put_] advanced indexing with tensors is not implemented yet");
}

}  // namespace ember
