#include "common.h"

namespace ember {

void init_reduce(py::module_& m) { (void)m; }

}  // namespace ember
