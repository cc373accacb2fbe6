// Scalar types, their C++ types, promotion rules and the compile-time dispatcher.
#pragma once
#include <complex>
#include <cstdint>
#include <string>
#include <type_traits>

#include "error.h"
#include "half.h"

namespace ember {

using c64 = std::complex<float>;

enum class ScalarType : int8_t {
  Bool, UInt8, Int8, Int16, Int32, Int64, Float16, BFloat16, Float32, Float64, Complex64, NumTypes
};
constexpr int kNumScalarTypes = int(ScalarType::NumTypes);

inline const char* dtype_name(ScalarType t) {
  static const char* names[] = {"bool", "uint8", "int8", "int16", "int32", "int64",
                                "float16", "bfloat16", "float32", "float64", "complex64"};
  return names[int(t)];
}
inline int64_t itemsize(ScalarType t) {
  static const int64_t s[] = {1, 1, 1, 2, 4, 8, 2, 2, 4, 8, 8};
  return s[int(t)];
}
inline bool is_floating(ScalarType t) {
  return t == ScalarType::Float16 || t == ScalarType::BFloat16 || t == ScalarType::Float32 ||
         t == ScalarType::Float64;
}
inline bool is_complex(ScalarType t) { return t == ScalarType::Complex64; }
inline bool is_integral(ScalarType t, bool include_bool = false) {
  return (t >= ScalarType::UInt8 && t <= ScalarType::Int64) || (include_bool && t == ScalarType::Bool);
}
inline std::ostream& operator<<(std::ostream& os, ScalarType t) { return os << "ember." << dtype_name(t); }

// PyTorch's promote_types lattice.
ScalarType promote_types(ScalarType a, ScalarType b);
// Real counterpart of a complex type (complex64 -> float32), identity otherwise.
inline ScalarType to_real(ScalarType t) { return t == ScalarType::Complex64 ? ScalarType::Float32 : t; }

ScalarType default_dtype();
void set_default_dtype(ScalarType t);

// ---- C++ types -------------------------------------------------------------------
template <ScalarType T> struct cpp_type_of;
#define EMBER_FORALL_TYPES(_)                                                         \
  _(Bool, bool) _(UInt8, uint8_t) _(Int8, int8_t) _(Int16, int16_t) _(Int32, int32_t) \
  _(Int64, int64_t) _(Float16, Half) _(BFloat16, BFloat16) _(Float32, float)          \
  _(Float64, double) _(Complex64, c64)
#define EMBER_DEF_CPP_TYPE(E, T) template <> struct cpp_type_of<ScalarType::E> { using type = T; };
EMBER_FORALL_TYPES(EMBER_DEF_CPP_TYPE)
#undef EMBER_DEF_CPP_TYPE

template <typename T> struct scalar_type_of;
#define EMBER_DEF_SCALAR_TYPE(E, T) \
  template <> struct scalar_type_of<T> { static constexpr ScalarType value = ScalarType::E; };
EMBER_FORALL_TYPES(EMBER_DEF_SCALAR_TYPE)
#undef EMBER_DEF_SCALAR_TYPE

// Arithmetic type: 16-bit floats compute in float.
template <typename T> struct opmath { using type = T; };
template <> struct opmath<Half> { using type = float; };
template <> struct opmath<BFloat16> { using type = float; };
template <typename T> using opmath_t = typename opmath<T>::type;

// Accumulation type for reductions: floats accumulate in double, ints in int64.
template <typename T> struct acc { using type = T; };
template <> struct acc<Half> { using type = float; };
template <> struct acc<BFloat16> { using type = float; };
template <> struct acc<float> { using type = double; };
template <> struct acc<bool> { using type = int64_t; };
template <> struct acc<uint8_t> { using type = int64_t; };
template <> struct acc<int8_t> { using type = int64_t; };
template <> struct acc<int16_t> { using type = int64_t; };
template <> struct acc<int32_t> { using type = int64_t; };
template <typename T> using acc_t = typename acc<T>::type;

template <typename T> constexpr bool is_complex_v = std::is_same_v<T, c64>;
template <typename T> constexpr bool is_float16_v = std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;
template <typename T>
constexpr bool is_floating_v = std::is_floating_point_v<T> || is_float16_v<T>;

// Conversion between any two supported C++ types (complex -> real takes the real part,
// float -> bool is x != 0, like PyTorch).
template <typename To, typename From>
inline To convert(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (is_complex_v<From>) {
    if constexpr (std::is_same_v<To, bool>) return v.real() != 0.f || v.imag() != 0.f;
    else return convert<To>(v.real());
  } else if constexpr (is_complex_v<To>) {
    return To(float(opmath_t<From>(v)), 0.f);
  } else if constexpr (std::is_same_v<To, bool>) {
    return opmath_t<From>(v) != opmath_t<From>(0);
  } else if constexpr (is_float16_v<To>) {
    return To(float(opmath_t<From>(v)));
  } else if constexpr (is_float16_v<From>) {
    return static_cast<To>(float(v));
  } else {
    return static_cast<To>(v);
  }
}

// ---- dispatch ----------------------------------------------------------------------
template <typename T> struct Tag { using type = T; };
#define EMBER_TYPE(tag) typename decltype(tag)::type

constexpr uint32_t tbit(ScalarType t) { return 1u << int(t); }
constexpr uint32_t kBoolMask = tbit(ScalarType::Bool);
constexpr uint32_t kIntMask = tbit(ScalarType::UInt8) | tbit(ScalarType::Int8) |
                              tbit(ScalarType::Int16) | tbit(ScalarType::Int32) | tbit(ScalarType::Int64);
constexpr uint32_t kF16Mask = tbit(ScalarType::Float16) | tbit(ScalarType::BFloat16);
constexpr uint32_t kFloatMask = tbit(ScalarType::Float32) | tbit(ScalarType::Float64) | kF16Mask;
constexpr uint32_t kComplexMask = tbit(ScalarType::Complex64);
constexpr uint32_t kRealMask = kIntMask | kFloatMask;
constexpr uint32_t kAllRealMask = kBoolMask | kRealMask;
constexpr uint32_t kAllMask = kAllRealMask | kComplexMask;

// Calls f(Tag<T>{}) for the C++ type T of `t`, instantiating only the types in Mask.
template <uint32_t Mask, typename F>
inline void dispatch(ScalarType t, const char* op, F&& f) {
  switch (t) {
#define EMBER_DISPATCH_CASE(E, T)                                 \
  case ScalarType::E:                                             \
    if constexpr ((Mask & tbit(ScalarType::E)) != 0) {            \
      f(Tag<T>{});                                                \
      return;                                                     \
    }                                                             \
    break;
    EMBER_FORALL_TYPES(EMBER_DISPATCH_CASE)
#undef EMBER_DISPATCH_CASE
    default:
      break;
  }
  throw TypeError(str("[", op, "] unsupported dtype: got ", t));
}

}  // namespace ember
