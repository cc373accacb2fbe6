// CPU kernels of the statistical reductions: var/std (Welford, optionally with the mean),
// vector norms.
#include "reduce_ops.h"

namespace ember {
namespace {

using namespace red;

void var_kernel(const ReducePlan& pl) {
  dispatch<kFloatMask>(pl.in_dtype, "var", [&](auto tag) {
    using In = EMBER_TYPE(tag);
    VarOp<In> op;
    op.correction = pl.p[0];
    op.take_sqrt = pl.p[1] != 0;
    op.nout = pl.nout;
    reduce<In>(pl, op);
  });
}

void norm_kernel(const ReducePlan& pl) {
  const double p = pl.p[0];
  dispatch<kFloatMask | kComplexMask>(pl.in_dtype, "norm", [&](auto tag) {
    using In = EMBER_TYPE(tag);
    if (p == 2) {
      reduce<In>(pl, NormOp<In, NormKind::Two>{});
    } else if (p == 1) {
      reduce<In>(pl, NormOp<In, NormKind::One>{});
    } else if (p == std::numeric_limits<double>::infinity()) {
      reduce<In>(pl, NormOp<In, NormKind::Inf>{});
    } else if (p == -std::numeric_limits<double>::infinity()) {
      reduce<In>(pl, NormOp<In, NormKind::NegInf>{});
    } else if (p == 0) {
      reduce<In>(pl, NormOp<In, NormKind::Zero>{});
    } else {
      NormOp<In, NormKind::P> op;
      op.p = p;
      reduce<In>(pl, op);
    }
  });
}

EMBER_REGISTER_CPU(reduce_stubs[int(ReduceOp::var)], var_kernel);
EMBER_REGISTER_CPU(reduce_stubs[int(ReduceOp::norm)], norm_kernel);

}  // namespace
}  // namespace ember
