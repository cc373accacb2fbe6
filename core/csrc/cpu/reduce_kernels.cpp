// CPU kernels of the sum-like reductions: sum, nansum, mean, nanmean, prod, all, any,
// count_nonzero. The machinery is in reduce_loop.h, the accumulators in reduce_ops.h.
#include "reduce_ops.h"

namespace ember {
namespace {

using namespace red;

void sum_kernel(const ReducePlan& pl) {
  dispatch<kAllMask>(pl.in_dtype, "sum", [&](auto tag) {
    using In = EMBER_TYPE(tag);
    reduce<In>(pl, SumOp<In, false>{});
  });
}

void nansum_kernel(const ReducePlan& pl) {
  dispatch<kAllMask>(pl.in_dtype, "nansum", [&](auto tag) {
    using In = EMBER_TYPE(tag);
    reduce<In>(pl, SumOp<In, true>{});
  });
}

void mean_kernel(const ReducePlan& pl) {
  dispatch<kFloatMask | kComplexMask>(pl.in_dtype, "mean", [&](auto tag) {
    using In = EMBER_TYPE(tag);
    SumOp<In, false> op;
    op.mean = true;
    op.scale = 1.0 / double(pl.n_red);
    reduce<In>(pl, op);
  });
}

void nanmean_kernel(const ReducePlan& pl) {
  dispatch<kFloatMask>(pl.in_dtype, "nanmean", [&](auto tag) {
    using In = EMBER_TYPE(tag);
    reduce<In>(pl, NanMeanOp<In>{});
  });
}

void prod_kernel(const ReducePlan& pl) {
  dispatch<kAllMask>(pl.in_dtype, "prod", [&](auto tag) {
    using In = EMBER_TYPE(tag);
    reduce<In>(pl, ProdOp<In>{});
  });
}

void all_kernel(const ReducePlan& pl) {
  dispatch<kAllMask>(pl.in_dtype, "all", [&](auto tag) {
    using In = EMBER_TYPE(tag);
    reduce<In>(pl, AllAnyOp<In, true>{});
  });
}

void any_kernel(const ReducePlan& pl) {
  dispatch<kAllMask>(pl.in_dtype, "any", [&](auto tag) {
    using In = EMBER_TYPE(tag);
    reduce<In>(pl, AllAnyOp<In, false>{});
  });
}

void count_nonzero_kernel(const ReducePlan& pl) {
  dispatch<kAllMask>(pl.in_dtype, "count_nonzero", [&](auto tag) {
    using In = EMBER_TYPE(tag);
    reduce<In>(pl, CountNonzeroOp<In>{});
  });
}

EMBER_REGISTER_CPU(reduce_stubs[int(ReduceOp::sum)], sum_kernel);
EMBER_REGISTER_CPU(reduce_stubs[int(ReduceOp::nansum)], nansum_kernel);
EMBER_REGISTER_CPU(reduce_stubs[int(ReduceOp::mean)], mean_kernel);
EMBER_REGISTER_CPU(reduce_stubs[int(ReduceOp::nanmean)], nanmean_kernel);
EMBER_REGISTER_CPU(reduce_stubs[int(ReduceOp::prod)], prod_kernel);
EMBER_REGISTER_CPU(reduce_stubs[int(ReduceOp::all)], all_kernel);
EMBER_REGISTER_CPU(reduce_stubs[int(ReduceOp::any)], any_kernel);
EMBER_REGISTER_CPU(reduce_stubs[int(ReduceOp::count_nonzero)], count_nonzero_kernel);

}  // namespace
}  // namespace ember
