#include "common.h"

namespace ember {

void init_linalg(py::module_& m) { (void)m; }

}  // namespace ember
