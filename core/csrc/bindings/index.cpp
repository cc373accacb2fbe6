#include "common.h"

namespace ember {

void init_index(py::module_& m) { (void)m; }

}  // namespace ember
