#include "common.h"

namespace ember {

void init_interop(py::module_& m) { (void)m; }

}  // namespace ember
