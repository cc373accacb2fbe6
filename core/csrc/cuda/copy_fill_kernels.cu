// CUDA kernels of copy_ (with dtype conversion: to(), contiguous(), clone()) and fill_.
#include "../ops/creation.h"
#include "../ops/elementwise.h"
#include "loop.cuh"

namespace ember {
namespace cuda {
namespace {

template <typename O, typename I>
struct Convert {
  __device__ __forceinline__ opmath_of<O> operator()(opmath_of<I> v) const { return convert<opmath_of<O>>(v); }
};

template <typename O>
struct CopyFrom {
  const ElementwiseIter& it;
  template <typename I>
  void operator()() const { launch<O, I>("copy_", it, Convert<O, I>{}); }
};

struct CopyTo {
  const ElementwiseIter& it;
  template <typename O>
  void operator()() const { dispatch_cuda<kAllRealMask>(it.dtypes[1], "copy_", CopyFrom<O>{it}); }
};

void copy_kernel(ElementwiseIter& it) { dispatch_cuda<kAllRealMask>(it.dtypes[0], "copy_", CopyTo{it}); }

template <typename T>
struct Value {
  opmath_of<T> v;
  __device__ __forceinline__ opmath_of<T> operator()() const { return v; }
};

struct FillBody {
  const ElementwiseIter& it;
  const Scalar& value;
  template <typename T>
  void operator()() const {
    using M = opmath_of<T>;
    M v;
    if constexpr (std::is_same_v<M, bool>) v = value.to<bool>();
    else if constexpr (std::is_integral_v<M>) v = value.to<M>();
    else v = M(value.to_double());
    launch<T>("fill_", it, Value<T>{v});
  }
};

void fill_kernel(ElementwiseIter& it, const Scalar& v) { dispatch_cuda<kAllRealMask>(it.dtypes[0], "fill_", FillBody{it, v}); }

}  // namespace
}  // namespace cuda

EMBER_REGISTER_CUDA(copy_stub, cuda::copy_kernel);
EMBER_REGISTER_CUDA(fill_stub, cuda::fill_kernel);

}  // namespace ember
