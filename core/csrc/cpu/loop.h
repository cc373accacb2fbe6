// CPU strided-loop machinery over an ElementwiseIter: split the elements among threads,
// walk the outer dims with a counter and hand each inner run to a loop body. Kernels are
// written as scalar functors on opmath values (float for 16-bit floats).
//
// Instruction sets: the function that contains the loops is built twice, for x86-64-v2 and
// x86-64-v3 (AVX2+FMA), and picked at run time (EMBER_HOT = target_clones + flatten). The
// loops must be inside that function, not behind the thread pool's function pointer, so a
// kernel is a range function (EMBER_HOT, serial over [begin, end)) plus a parallel driver:
//
//   EMBER_HOT void exp_range(ElementwiseIter& it, int64_t b, int64_t e) {
//     dispatch<kFloatMask>(it.dtypes[0], "exp", [&](auto tag) {
//       using T = EMBER_TYPE(tag);
//       cpu_kernel<T, T>(it, [](auto x) { return std::exp(x); }, b, e);
//     });
//   }
//   void exp_kernel(ElementwiseIter& it) { parallel_ranges(it, [&](int64_t b, int64_t e) { exp_range(it, b, e); }); }
#pragma once
#include <cstring>
#include <tuple>
#include <utility>

#include "../ops/iter.h"
#include "parallel.h"

#if defined(__x86_64__) && !defined(__clang__)
#define EMBER_HOT __attribute__((target_clones("arch=x86-64-v3", "default"), flatten))
// Compute-bound kernels (transcendental functions per element, transforms) add an AVX-512
// (x86-64-v4) clone: on CPUs with full-width AVX-512 units it doubles their throughput, where
// memory-bound loops gain nothing from it but build time.
#define EMBER_HOT512 __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), flatten))
#else
#define EMBER_HOT __attribute__((flatten))
#define EMBER_HOT512 __attribute__((flatten))
#endif

namespace ember {

// body(char** ptrs, const int64_t* inner_strides, int64_t n) over every inner run.
template <typename Body>
inline void for_each_run(const ElementwiseIter& it, int64_t begin, int64_t end, Body&& body) {
  const int nops = it.nops;
  char* ptrs[kMaxOperands];
  int64_t inner[kMaxOperands];
  if (it.ndim == 0) {  // a single element
    for (int k = 0; k < nops; ++k) { ptrs[k] = it.data[k]; inner[k] = 0; }
    if (begin < end) body(ptrs, inner, 1);
    return;
  }
  const int64_t n0 = it.shape[0];
  it.inner_strides(inner);
  // multi-index of `begin` in the outer dims
  int64_t idx[kMaxDims];
  int64_t lin = begin / n0;
  int64_t i0 = begin % n0;
  for (int d = 1; d < it.ndim; ++d) {
    idx[d] = lin % it.shape[d];
    lin /= it.shape[d];
  }
  int64_t pos = begin;
  while (pos < end) {
    for (int k = 0; k < nops; ++k) {
      char* p = it.data[k] + i0 * inner[k];
      for (int d = 1; d < it.ndim; ++d) p += idx[d] * it.strides[k][d];
      ptrs[k] = p;
    }
    int64_t n = std::min(n0 - i0, end - pos);
    body(ptrs, inner, n);
    pos += n;
    i0 = 0;
    for (int d = 1; d < it.ndim; ++d) {
      if (++idx[d] < it.shape[d]) break;
      idx[d] = 0;
    }
  }
}

// Splits the iterator's elements among the pool's threads; range(b, e) runs one part.
template <typename Range>
inline void parallel_ranges(const ElementwiseIter& it, const Range& range, int64_t grain = kGrainSize) {
  parallel_for(0, it.numel, grain, range);
}

// Parallel walk of all elements. Note: runs the baseline build of `body`; hot kernels use
// EMBER_PARALLEL_KERNEL so that the loop is inside the per-instruction-set function.
template <typename Body>
inline void for_each(const ElementwiseIter& it, Body body, int64_t grain = kGrainSize) {
  parallel_for(0, it.numel, grain, [&](int64_t b, int64_t e) { for_each_run(it, b, e, body); });
}

// Serial walk of elements [begin, end) (use inside a range function).
template <typename Body>
inline void for_each(const ElementwiseIter& it, Body body, int64_t begin, int64_t end) {
  for_each_run(it, begin, end, body);
}

namespace detail {
template <typename T>
inline opmath_t<T> load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return opmath_t<T>(v);
}

template <typename Out, typename... In, typename F, size_t... I>
inline void strided_run(char** p, const int64_t* s, int64_t n, const F& f, std::index_sequence<I...>) {
  for (int64_t i = 0; i < n; ++i)
    *reinterpret_cast<Out*>(p[0] + i * s[0]) =
        convert<Out>(f(opmath_t<In>(*reinterpret_cast<const In*>(p[I + 1] + i * s[I + 1]))...));
}

template <typename Out, typename... In, typename F, size_t... I>
inline void contiguous_run(char** p, int64_t n, const F& f, std::index_sequence<I...>) {
  Out* out = reinterpret_cast<Out*>(p[0]);
  std::tuple<const In*...> in{reinterpret_cast<const In*>(p[I + 1])...};
  for (int64_t i = 0; i < n; ++i) out[i] = convert<Out>(f(opmath_t<In>(std::get<I>(in)[i])...));
}

// Binary op with one operand a broadcast scalar (stride 0): hoist its load.
template <typename Out, typename A, typename B, typename F>
inline void scalar_b_run(char** p, int64_t n, const F& f) {
  Out* out = reinterpret_cast<Out*>(p[0]);
  const A* a = reinterpret_cast<const A*>(p[1]);
  const opmath_t<B> b = opmath_t<B>(*reinterpret_cast<const B*>(p[2]));
  for (int64_t i = 0; i < n; ++i) out[i] = convert<Out>(f(opmath_t<A>(a[i]), b));
}
template <typename Out, typename A, typename B, typename F>
inline void scalar_a_run(char** p, int64_t n, const F& f) {
  Out* out = reinterpret_cast<Out*>(p[0]);
  const opmath_t<A> a = opmath_t<A>(*reinterpret_cast<const A*>(p[1]));
  const B* b = reinterpret_cast<const B*>(p[2]);
  for (int64_t i = 0; i < n; ++i) out[i] = convert<Out>(f(a, opmath_t<B>(b[i])));
}
}  // namespace detail

// Elementwise kernel: out[i] = f(in0[i], in1[i], ...) with In/Out the storage types of the
// operands (as the front end arranged them) and f taking/returning opmath values.
template <typename Out, typename... In, typename F>
inline void cpu_kernel(const ElementwiseIter& it, const F& f, int64_t begin, int64_t end) {
  constexpr size_t N = sizeof...(In);
  constexpr int64_t sizes[N + 1] = {int64_t(sizeof(Out)), int64_t(sizeof(In))...};
  for_each_run(it, begin, end, [&](char** p, const int64_t* s, int64_t n) {
    bool contiguous = true;
    for (size_t k = 0; k <= N; ++k) contiguous &= s[k] == sizes[k];
    if (contiguous) return detail::contiguous_run<Out, In...>(p, n, f, std::index_sequence_for<In...>{});
    if constexpr (N == 2) {
      if (s[0] == sizes[0] && s[1] == sizes[1] && s[2] == 0)
        return detail::scalar_b_run<Out, In...>(p, n, f);
      if (s[0] == sizes[0] && s[1] == 0 && s[2] == sizes[2])
        return detail::scalar_a_run<Out, In...>(p, n, f);
    }
    detail::strided_run<Out, In...>(p, s, n, f, std::index_sequence_for<In...>{});
  });
}

// Parallel form for non-hot callers.
template <typename Out, typename... In, typename F>
inline void cpu_kernel(const ElementwiseIter& it, const F& f) {
  parallel_ranges(it, [&](int64_t b, int64_t e) { cpu_kernel<Out, In...>(it, f, b, e); });
}

// Defines `void NAME(ElementwiseIter& it PARAMS)` whose range function (built per
// instruction set) runs BODY with `it`, the parameters and the range [begin_, end_).
// PARAMS and ARGS start with a comma when not empty: (, const Params& p) and (, p).
#define EMBER_PARALLEL_KERNEL(NAME, PARAMS, ARGS, BODY)                                       \
  EMBER_HOT void NAME##_range(ElementwiseIter& it EMBER_UNPAREN PARAMS, int64_t begin_, int64_t end_) BODY \
  void NAME(ElementwiseIter& it EMBER_UNPAREN PARAMS) {                                       \
    ::ember::parallel_ranges(it, [&](int64_t b_, int64_t e_) { NAME##_range(it EMBER_UNPAREN ARGS, b_, e_); }); \
  }
#define EMBER_UNPAREN(...) __VA_ARGS__

}  // namespace ember
