#include "common.h"

namespace ember {

void init_random(py::module_& m) { (void)m; }

}  // namespace ember
