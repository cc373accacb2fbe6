// CPU kernels of the extreme-value reductions: amax, amin, argmax/argmin (also max/min
// with indices) and aminmax. NaN propagates (and is the extreme for the arg ops).
#include "reduce_ops.h"

namespace ember {
namespace {

using namespace red;

template <bool kMax>
void minmax_kernel(const ReducePlan& pl) {
  dispatch<kAllRealMask>(pl.in_dtype, kMax ? "amax" : "amin", [&](auto tag) {
    using In = EMBER_TYPE(tag);
    reduce<In>(pl, MinMaxOp<In, kMax>{});
  });
}

template <bool kMax>
void arg_kernel(const ReducePlan& pl) {
  dispatch<kAllRealMask>(pl.in_dtype, kMax ? "argmax" : "argmin", [&](auto tag) {
    using In = EMBER_TYPE(tag);
    ArgOp<In, kMax> op;
    op.nout = pl.nout;
    reduce<In>(pl, op);
  });
}

void aminmax_kernel(const ReducePlan& pl) {
  dispatch<kAllRealMask>(pl.in_dtype, "aminmax", [&](auto tag) {
    using In = EMBER_TYPE(tag);
    reduce<In>(pl, AMinMaxOp<In>{});
  });
}

EMBER_REGISTER_CPU(reduce_stubs[int(ReduceOp::amax)], minmax_kernel<true>);
EMBER_REGISTER_CPU(reduce_stubs[int(ReduceOp::amin)], minmax_kernel<false>);
EMBER_REGISTER_CPU(reduce_stubs[int(ReduceOp::argmax)], arg_kernel<true>);
EMBER_REGISTER_CPU(reduce_stubs[int(ReduceOp::argmin)], arg_kernel<false>);
EMBER_REGISTER_CPU(reduce_stubs[int(ReduceOp::aminmax)], aminmax_kernel);

}  // namespace
}  // namespace ember
