// The reduction ops' accumulators for the CPU machinery in reduce_loop.h: one small struct
// per op (identity, reduce, combine, store). Sums of floats accumulate in double (float64
// inputs with a cascade), sums of integers in int64 (wrapping), 16-bit floats in double.
#pragma once
#include <cmath>
#include <complex>
#include <limits>
#include <type_traits>

#include "math.h"
#include "reduce_loop.h"

namespace ember::red {

using cd = std::complex<double>;

template <typename In>
inline opmath_t<In> ld(In x) { return opmath_t<In>(x); }

// Accumulator of sums and products: double for floats, uint64 (wrapping) for integers and
// bool, complex<double> for complex64.
template <typename In>
using sum_acc_t = std::conditional_t<is_complex_v<In>, cd, std::conditional_t<is_floating_v<In>, double, uint64_t>>;

template <typename A, typename In>
inline A to_acc(In x) {
  if constexpr (is_complex_v<In>) return A(double(x.real()), double(x.imag()));
  else if constexpr (std::is_same_v<A, uint64_t>) return uint64_t(int64_t(x));
  else return A(ld(x));
}

// What an accumulator is stored as (the writer converts it to the output dtype).
template <typename A>
inline auto out_value(A a) {
  if constexpr (std::is_same_v<A, cd>) return c64(float(a.real()), float(a.imag()));
  else if constexpr (std::is_same_v<A, uint64_t>) return int64_t(a);
  else return a;
}

template <typename In>
inline bool is_nan(In x) {
  if constexpr (is_floating_v<In>) { auto v = ld(x); return v != v; }
  else if constexpr (is_complex_v<In>) return x.real() != x.real() || x.imag() != x.imag();
  else return false;
}

// Lanes per Row output: 128 bytes of accumulators (4 AVX2 registers), which GCC's SLP
// vectoriser turns into vector code (fewer lanes often stay scalar).
template <typename A>
constexpr int lanes_for() {
  constexpr int n = int(128 / sizeof(A));
  return n < 4 ? 4 : (n > 64 ? 64 : n);
}

// sum, nansum (kNan), mean (scale = 1/n), nansum-mean is NanMeanOp.
template <typename In, bool kNan>
struct SumOp {
  static constexpr bool kHot = true;
  using acc_t = sum_acc_t<In>;
  static constexpr int kLanes = lanes_for<acc_t>();
  static constexpr bool kCascade = std::is_same_v<In, double>;
  double scale = 1;
  bool mean = false;
  acc_t identity() const { return acc_t(0); }
  acc_t reduce(acc_t a, In x, int64_t) const {
    if constexpr (kNan && is_floating_v<In>) {
      auto v = ld(x);
      return a + (v != v ? acc_t(0) : acc_t(v));
    } else if constexpr (kNan && is_complex_v<In>) {
      return a + (is_nan(x) ? acc_t(0) : to_acc<acc_t>(x));
    } else {
      return a + to_acc<acc_t>(x);
    }
  }
  acc_t combine(acc_t a, acc_t b) const { return a + b; }
  void store(const OutWriter& w, int64_t o, acc_t a) const {
    if constexpr (std::is_same_v<acc_t, uint64_t>) {
      w.put(0, o, int64_t(a));
    } else {
      if (mean) a = a * scale;
      w.put(0, o, out_value(a));
    }
  }
};

template <typename In>
struct NanMeanOp {
  struct acc_t { double s = 0, n = 0; };
  static constexpr int kLanes = 8;
  static constexpr bool kCascade = std::is_same_v<In, double>;
  acc_t identity() const { return {0, 0}; }
  acc_t reduce(acc_t a, In x, int64_t) const {
    double v = double(ld(x));
    bool nan = v != v;
    return {a.s + (nan ? 0.0 : v), a.n + (nan ? 0.0 : 1.0)};
  }
  acc_t combine(acc_t a, acc_t b) const { return {a.s + b.s, a.n + b.n}; }
  void store(const OutWriter& w, int64_t o, acc_t a) const { w.put(0, o, a.s / a.n); }
};

template <typename In>
struct ProdOp {
  using acc_t = sum_acc_t<In>;
  static constexpr int kLanes = lanes_for<acc_t>();
  static constexpr bool kCascade = false;
  acc_t identity() const { return acc_t(1); }
  acc_t reduce(acc_t a, In x, int64_t) const { return a * to_acc<acc_t>(x); }
  acc_t combine(acc_t a, acc_t b) const { return a * b; }
  void store(const OutWriter& w, int64_t o, acc_t a) const { w.put(0, o, out_value(a)); }
};

template <typename T>
constexpr T lowest_value() {
  if constexpr (std::is_floating_point_v<T>) return -std::numeric_limits<T>::infinity();
  else return std::numeric_limits<T>::lowest();
}
template <typename T>
constexpr T highest_value() {
  if constexpr (std::is_floating_point_v<T>) return std::numeric_limits<T>::infinity();
  else return std::numeric_limits<T>::max();
}

// max/min with NaN propagation (a NaN wins and sticks). Written as nested selects, the
// form GCC vectorises.
template <typename T>
inline T vmax(T a, T v) {
  if constexpr (std::is_same_v<T, bool>) return a || v;
  else if constexpr (std::is_integral_v<T>) return v > a ? v : a;
  else return (v != v) ? v : (v > a ? v : a);
}
template <typename T>
inline T vmin(T a, T v) {
  if constexpr (std::is_same_v<T, bool>) return a && v;
  else if constexpr (std::is_integral_v<T>) return v < a ? v : a;
  else return (v != v) ? v : (v < a ? v : a);
}

template <typename In, bool kMax>
struct MinMaxOp {  // amax / amin
  static constexpr bool kHot = true;
  using acc_t = opmath_t<In>;
  static constexpr int kLanes = lanes_for<acc_t>();
  static constexpr bool kCascade = false;
  acc_t identity() const { return kMax ? lowest_value<acc_t>() : highest_value<acc_t>(); }
  acc_t reduce(acc_t a, In x, int64_t) const { return kMax ? vmax(a, ld(x)) : vmin(a, ld(x)); }
  acc_t combine(acc_t a, acc_t b) const { return kMax ? vmax(a, b) : vmin(a, b); }
  void store(const OutWriter& w, int64_t o, acc_t a) const { w.put(0, o, a); }
};

template <typename In>
struct AMinMaxOp {
  using T = opmath_t<In>;
  struct acc_t { T mn, mx; };
  static constexpr int kLanes = lanes_for<T>() / 2;
  static constexpr bool kCascade = false;
  acc_t identity() const { return {highest_value<T>(), lowest_value<T>()}; }
  acc_t reduce(acc_t a, In x, int64_t) const {
    T v = ld(x);
    return {vmin(a.mn, v), vmax(a.mx, v)};
  }
  acc_t combine(acc_t a, acc_t b) const { return {vmin(a.mn, b.mn), vmax(a.mx, b.mx)}; }
  void store(const OutWriter& w, int64_t o, acc_t a) const {
    w.put(0, o, a.mn);
    w.put(1, o, a.mx);
  }
};

// argmax / argmin, and max/min with indices: the first extreme wins; a NaN is the extreme.
template <typename In, bool kMax>
struct ArgOp {
  using T = opmath_t<In>;
  struct acc_t { T v; int64_t i; };
  static constexpr int kLanes = 8;
  static constexpr bool kCascade = false;
  int nout = 1;
  static bool better(T a, T b) {  // a strictly beats b
    if constexpr (std::is_same_v<T, bool>) return kMax ? (a && !b) : (!a && b);
    else if constexpr (std::is_integral_v<T>) return kMax ? a > b : a < b;
    else return (kMax ? a > b : a < b) || (a != a && b == b);
  }
  acc_t identity() const { return {T(0), -1}; }
  acc_t reduce(acc_t a, In x, int64_t i) const {
    T v = ld(x);
    return (a.i < 0 || better(v, a.v)) ? acc_t{v, i} : a;
  }
  acc_t combine(acc_t a, acc_t b) const {
    if (a.i < 0) return b;
    if (b.i < 0) return a;
    if (better(b.v, a.v)) return b;
    if (better(a.v, b.v)) return a;
    return b.i < a.i ? b : a;
  }
  void store(const OutWriter& w, int64_t o, acc_t a) const {
    if (nout == 2) {
      w.put(0, o, a.v);
      w.put(1, o, a.i);
    } else {
      w.put(0, o, a.i);
    }
  }
};

// Welford's mean and M2 in double, merged with Chan's formula.
template <typename In>
struct VarOp {
  struct acc_t { double n, mean, m2; };
  static constexpr int kLanes = 4;
  static constexpr bool kCascade = false;
  double correction = 1;
  bool take_sqrt = false;
  int nout = 1;
  acc_t identity() const { return {0, 0, 0}; }
  acc_t reduce(acc_t a, In x, int64_t) const {
    double v = double(ld(x));
    double n = a.n + 1;
    double d = v - a.mean;
    double mean = a.mean + d / n;
    return {n, mean, a.m2 + d * (v - mean)};
  }
  acc_t combine(acc_t a, acc_t b) const {
    if (a.n == 0) return b;
    if (b.n == 0) return a;
    double n = a.n + b.n;
    double d = b.mean - a.mean;
    double f = b.n / n;
    return {n, a.mean + d * f, a.m2 + b.m2 + d * d * a.n * f};
  }
  void store(const OutWriter& w, int64_t o, acc_t a) const {
    double div = std::max(0.0, a.n - correction);
    double v = a.m2 / div;
    w.put(0, o, take_sqrt ? std::sqrt(v) : v);
    if (nout == 2) w.put(1, o, a.n == 0 ? std::numeric_limits<double>::quiet_NaN() : a.mean);
  }
};

// |x| as a real number (complex: modulus).
template <typename In>
inline double absval(In x) {
  if constexpr (is_complex_v<In>) return std::hypot(double(x.real()), double(x.imag()));
  else return std::abs(double(ld(x)));
}

enum class NormKind { Two, One, Inf, NegInf, Zero, P };

template <typename In, NormKind K>
struct NormOp {
  static constexpr bool kHot = K == NormKind::Two;
  using acc_t = double;
  static constexpr int kLanes = 16;
  static constexpr bool kCascade = std::is_same_v<In, double> && (K == NormKind::Two || K == NormKind::One || K == NormKind::P);
  double p = 2;
  acc_t identity() const { return K == NormKind::NegInf ? std::numeric_limits<double>::infinity() : 0.0; }
  acc_t reduce(acc_t a, In x, int64_t) const {
    if constexpr (K == NormKind::Two) {
      if constexpr (is_complex_v<In>) {
        double re = x.real(), im = x.imag();
        return a + (re * re + im * im);
      } else {
        double v = double(ld(x));
        return a + v * v;
      }
    } else if constexpr (K == NormKind::One) {
      return a + absval(x);
    } else if constexpr (K == NormKind::Inf) {
      return vmax(a, absval(x));
    } else if constexpr (K == NormKind::NegInf) {
      return vmin(a, absval(x));
    } else if constexpr (K == NormKind::Zero) {
      return a + (math::truthy(x) ? 1.0 : 0.0);
    } else {
      return a + std::pow(absval(x), p);
    }
  }
  acc_t combine(acc_t a, acc_t b) const {
    if constexpr (K == NormKind::Inf) return vmax(a, b);
    else if constexpr (K == NormKind::NegInf) return vmin(a, b);
    else return a + b;
  }
  void store(const OutWriter& w, int64_t o, acc_t a) const {
    if constexpr (K == NormKind::Two) w.put(0, o, std::sqrt(a));
    else if constexpr (K == NormKind::P) w.put(0, o, std::pow(a, 1.0 / p));
    else w.put(0, o, a);
  }
};

template <typename In, bool kAll>
struct AllAnyOp {
  using acc_t = bool;
  static constexpr int kLanes = 32;
  static constexpr bool kCascade = false;
  acc_t identity() const { return kAll; }
  acc_t reduce(acc_t a, In x, int64_t) const { return kAll ? (a && math::truthy(ld(x))) : (a || math::truthy(ld(x))); }
  acc_t combine(acc_t a, acc_t b) const { return kAll ? (a && b) : (a || b); }
  void store(const OutWriter& w, int64_t o, acc_t a) const { w.put(0, o, a); }
};

template <typename In>
struct CountNonzeroOp {
  using acc_t = int64_t;
  static constexpr int kLanes = 16;
  static constexpr bool kCascade = false;
  acc_t identity() const { return 0; }
  acc_t reduce(acc_t a, In x, int64_t) const { return a + (math::truthy(ld(x)) ? 1 : 0); }
  acc_t combine(acc_t a, acc_t b) const { return a + b; }
  void store(const OutWriter& w, int64_t o, acc_t a) const { w.put(0, o, a); }
};

}  // namespace ember::red
