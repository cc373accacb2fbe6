// CPU kernels of the scans (cumsum, cumprod, cummax, cummin, logcumsumexp) and of median.
// A scan walks the input as (outer, n, inner): strips of up to kStrip inner elements are
// carried along n together (vectorised across the strip), strips run in parallel.
#include <algorithm>
#include <utility>
#include <vector>

#include "reduce_ops.h"

namespace ember {
namespace {

using namespace red;

constexpr int64_t kStrip = 256;

// op(acc*, x*, out*, idx*, i, w): advances the running state of w lanes with row i.
template <typename Out, typename State, typename Step, typename Init>
void scan_units(const ScanPlan& pl, int64_t ub, int64_t ue, const Init& init, const Step& step) {
  const int64_t nstrips = (pl.inner + kStrip - 1) / kStrip;
  State st[kStrip];
  for (int64_t u = ub; u < ue; ++u) {
    int64_t o = u / nstrips, s = u % nstrips;
    int64_t j0 = s * kStrip, w = std::min(kStrip, pl.inner - j0);
    const char* in = pl.in + o * pl.s_outer + j0 * pl.s_inner;
    Out* out = reinterpret_cast<Out*>(pl.out[0]) + (o * pl.n) * pl.inner + j0;
    int64_t* idx = pl.out[1] ? reinterpret_cast<int64_t*>(pl.out[1]) + (o * pl.n) * pl.inner + j0 : nullptr;
    for (int64_t j = 0; j < w; ++j) st[j] = init();
    for (int64_t i = 0; i < pl.n; ++i) {
      step(st, in + i * pl.s_n, pl.s_inner, out + i * pl.inner, idx ? idx + i * pl.inner : nullptr, i, w);
    }
  }
}

template <typename Out, typename State, typename Init, typename Step>
void run_scan(const ScanPlan& pl, const Init& init, const Step& step) {
  if (pl.outer * pl.n * pl.inner == 0) return;
  const int64_t nstrips = (pl.inner + kStrip - 1) / kStrip;
  const int64_t units = pl.outer * nstrips;
  const int64_t per_unit = pl.n * std::min(kStrip, pl.inner);
  parallel_for(0, units, std::max<int64_t>(1, kWorkGrain / std::max<int64_t>(1, per_unit)),
               [&](int64_t b, int64_t e) { scan_units<Out, State>(pl, b, e, init, step); });
}

template <typename In, typename Out, bool kProd>
void cum_arith(const ScanPlan& pl) {
  using A = sum_acc_t<In>;
  run_scan<Out, A>(pl, [] { return kProd ? A(1) : A(0); },
                   [](A* st, const char* in, int64_t s, Out* out, int64_t*, int64_t, int64_t w) {
                     for (int64_t j = 0; j < w; ++j) {
                       A x = to_acc<A>(*reinterpret_cast<const In*>(in + j * s));
                       st[j] = kProd ? A(st[j] * x) : A(st[j] + x);
                       out[j] = convert<Out>(out_value(st[j]));
                     }
                   });
}

template <bool kProd>
void cum_kernel(const ScanPlan& pl) {
  dispatch<kAllMask>(pl.in_dtype, kProd ? "cumprod" : "cumsum", [&](auto tag) {
    using In = EMBER_TYPE(tag);
    if constexpr (std::is_integral_v<In>) {
      if (pl.out_dtype == ScalarType::Int64) return cum_arith<In, int64_t, kProd>(pl);
    }
    cum_arith<In, In, kProd>(pl);
  });
}

template <bool kMax>
void cumext_kernel(const ScanPlan& pl) {
  dispatch<kAllRealMask>(pl.in_dtype, kMax ? "cummax" : "cummin", [&](auto tag) {
    using In = EMBER_TYPE(tag);
    using T = opmath_t<In>;
    struct State { T v; int64_t i; };
    run_scan<In, State>(pl, [] { return State{T(0), -1}; },
                        [](State* st, const char* in, int64_t s, In* out, int64_t* idx, int64_t i, int64_t w) {
                          for (int64_t j = 0; j < w; ++j) {
                            T x = ld(*reinterpret_cast<const In*>(in + j * s));
                            State c = st[j];
                            bool take;
                            if constexpr (std::is_floating_point_v<T>)
                              take = c.i < 0 || x != x || (c.v == c.v && (kMax ? x >= c.v : x <= c.v));
                            else
                              take = c.i < 0 || (kMax ? x >= c.v : x <= c.v);
                            if (take) st[j] = State{x, i};
                            out[j] = In(st[j].v);
                            idx[j] = st[j].i;
                          }
                        });
  });
}

void logcumsumexp_kernel(const ScanPlan& pl) {
  dispatch<kFloatMask>(pl.in_dtype, "logcumsumexp", [&](auto tag) {
    using In = EMBER_TYPE(tag);
    run_scan<In, double>(pl, [] { return -std::numeric_limits<double>::infinity(); },
                         [](double* st, const char* in, int64_t s, In* out, int64_t*, int64_t, int64_t w) {
                           for (int64_t j = 0; j < w; ++j) {
                             double x = double(ld(*reinterpret_cast<const In*>(in + j * s)));
                             double a = st[j];
                             double m = std::max(a, x), r;
                             if (a != a || x != x) r = std::numeric_limits<double>::quiet_NaN();
                             else if (std::isinf(m) && (a == x || m < 0)) r = m;
                             else r = m + std::log1p(std::exp(-std::abs(a - x)));
                             st[j] = r;
                             out[j] = In(opmath_t<In>(r));
                           }
                         });
  });
}

// Median of each row: the ((n - 1) / 2)-th smallest; with NaN (unless ignored) the first NaN.
void median_kernel(const char* in, ScalarType dtype, int64_t outer, int64_t n, char* values, char* indices,
                   bool ignore_nan) {
  dispatch<kAllRealMask>(dtype, "median", [&](auto tag) {
    using In = EMBER_TYPE(tag);
    using T = opmath_t<In>;
    parallel_for(0, outer, std::max<int64_t>(1, kWorkGrain / std::max<int64_t>(1, n * 8)), [&](int64_t b, int64_t e) {
      std::vector<std::pair<T, int64_t>> buf(static_cast<size_t>(n));
      for (int64_t o = b; o < e; ++o) {
        const In* row = reinterpret_cast<const In*>(in) + o * n;
        int64_t m = 0, first_nan = -1;
        for (int64_t i = 0; i < n; ++i) {
          T v = ld(row[i]);
          if (is_nan(row[i])) {
            if (first_nan < 0) first_nan = i;
            continue;
          }
          buf[size_t(m++)] = {v, i};
        }
        T val;
        int64_t idx;
        if ((first_nan >= 0 && !ignore_nan) || m == 0) {
          if constexpr (std::is_floating_point_v<T>)
            val = first_nan >= 0 ? ld(row[first_nan]) : std::numeric_limits<T>::quiet_NaN();
          else
            val = T(0);
          idx = first_nan >= 0 ? first_nan : 0;
        } else {
          auto kth = buf.begin() + (m - 1) / 2;
          std::nth_element(buf.begin(), kth, buf.begin() + m);
          val = kth->first;
          idx = kth->second;
        }
        reinterpret_cast<In*>(values)[o] = In(val);
        if (indices) reinterpret_cast<int64_t*>(indices)[o] = idx;
      }
    });
  });
}

EMBER_REGISTER_CPU(scan_stubs[int(ScanOp::cumsum)], cum_kernel<false>);
EMBER_REGISTER_CPU(scan_stubs[int(ScanOp::cumprod)], cum_kernel<true>);
EMBER_REGISTER_CPU(scan_stubs[int(ScanOp::cummax)], cumext_kernel<true>);
EMBER_REGISTER_CPU(scan_stubs[int(ScanOp::cummin)], cumext_kernel<false>);
EMBER_REGISTER_CPU(scan_stubs[int(ScanOp::logcumsumexp)], logcumsumexp_kernel);
EMBER_REGISTER_CPU(median_stub, median_kernel);

}  // namespace
}  // namespace ember
