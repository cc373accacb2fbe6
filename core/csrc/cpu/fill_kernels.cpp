// CPU kernels for fill_ and the range ops (arange, linspace).
#include "../ops/creation.h"
#include "loop.h"

namespace ember {
namespace {

EMBER_PARALLEL_KERNEL(fill_kernel, (, const Scalar& v), (, v), {
  dispatch<kAllMask>(it.dtypes[0], "fill_", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    const T value = v.to<T>();
    for_each(it, [&](char** p, const int64_t* s, int64_t n) {
      if (s[0] == sizeof(T)) {
        T* out = reinterpret_cast<T*>(p[0]);
        for (int64_t i = 0; i < n; ++i) out[i] = value;
      } else {
        for (int64_t i = 0; i < n; ++i) *reinterpret_cast<T*>(p[0] + i * s[0]) = value;
      }
    }, begin_, end_);
  });
})
EMBER_REGISTER_CPU(fill_stub, fill_kernel);

// The output is 1-d and contiguous, so the element index is the byte offset / itemsize.
void range_kernel(ElementwiseIter& it, double start, double step, double end, int64_t n, int mode) {
  dispatch<kRealMask>(it.dtypes[0], "arange", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    T* base = reinterpret_cast<T*>(it.data[0]);
    parallel_for(0, n, kGrainSize, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        double v;
        if (mode == 0) v = start + double(i) * step;
        else v = i < n / 2 ? start + step * double(i) : end - step * double(n - i - 1);
        if constexpr (std::is_integral_v<T>) base[i] = T(mode == 0 ? v : std::trunc(v));
        else base[i] = T(opmath_t<T>(v));
      }
    });
  });
}
EMBER_REGISTER_CPU(range_stub, range_kernel);

}  // namespace
}  // namespace ember
