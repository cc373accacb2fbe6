#include "common.h"

namespace ember {

void init_shape(py::module_& m) { (void)m; }

}  // namespace ember
