// CUDA kernels of the binary ops (ops/elementwise.h's list): one functor per op over opmath
// values (16-bit floats compute in float). Integer division, remainder, fmod and pow report a
// zero divisor or a negative power through a device flag, read back after the launch (integer
// dtypes only), so they raise the CPU's Python errors. Complex has no CUDA kernels yet.
#include <cmath>

#include "../ops/elementwise.h"
#include "loop.cuh"
#include "math.cuh"
#include "primitives.cuh"

namespace ember {
namespace cuda {
namespace {

template <typename T>
__device__ __forceinline__ T d_log1p_exp(T x) { return d_log1p(d_exp(x)); }  // log(1 + exp(x)), x <= 0

// One functor per op: p = the op's parameters (alpha of add/sub).
#define EMBER_BF(Name, ...)                                                        \
  struct Name {                                                                    \
    double p0;                                                                     \
    template <typename T>                                                          \
    __device__ __forceinline__ auto operator()(T a, T b) const { __VA_ARGS__ }     \
  };

EMBER_BF(AddF, if constexpr (std::is_same_v<T, bool>) return bool(a || (b && p0 != 0));
         else if constexpr (std::is_integral_v<T>) return T(a + T(int64_t(p0)) * b);
         else return p0 == 1 ? T(a + b) : T(a + T(p0) * b);)
EMBER_BF(SubF, if constexpr (std::is_integral_v<T>) return T(a - T(int64_t(p0)) * b);
         else return p0 == 1 ? T(a - b) : T(a - T(p0) * b);)
EMBER_BF(MulF, if constexpr (std::is_same_v<T, bool>) return bool(a && b); else return T(a * b);)
EMBER_BF(DivF, return T(a / b);)
EMBER_BF(DivFloorF,  // torch's floor division of floats: exact where a / b rounds up to an integer
         if (b == T(0)) return T(a / b);
         const T mod = d_fmod(a, b);
         T div = (a - mod) / b;
         if (mod != T(0) && ((b < T(0)) != (mod < T(0)))) div -= T(1);
         if (div == T(0)) return d_copysign(T(0), T(a / b));
         T fl = d_floor(div);
         if (div - fl > T(0.5)) fl += T(1);
         return fl;)
EMBER_BF(DivTruncF, return d_trunc(T(a / b));)
EMBER_BF(RemainderF, T r = d_fmod(a, b); if (r != T(0) && ((r < T(0)) != (b < T(0)))) r += b; return r;)
EMBER_BF(FmodF, return d_fmod(a, b);)
EMBER_BF(Atan2F, return d_atan2(a, b);)
EMBER_BF(HypotF, return d_hypot(a, b);)
EMBER_BF(CopysignF, return d_copysign(a, b);)
EMBER_BF(LogaddexpF, T m = a > b ? a : b; if (m == -INFINITY || isnan_(m)) return isnan_(a) ? a : (isnan_(b) ? b : m);
         T d = a > b ? b - a : a - b; return T(m + d_log1p_exp(d));)
EMBER_BF(MaximumF, if (isnan_(a)) return a; if (isnan_(b)) return b; return a > b ? a : b;)
EMBER_BF(MinimumF, if (isnan_(a)) return a; if (isnan_(b)) return b; return a < b ? a : b;)
EMBER_BF(FmaxF, if constexpr (std::is_floating_point_v<T>) return d_fmax(a, b); else return a > b ? a : b;)
EMBER_BF(FminF, if constexpr (std::is_floating_point_v<T>) return d_fmin(a, b); else return a < b ? a : b;)
EMBER_BF(BitAndF, return T(a & b);)
EMBER_BF(BitOrF, return T(a | b);)
EMBER_BF(BitXorF, return T(a ^ b);)
EMBER_BF(LshiftF, using U = std::make_unsigned_t<T>; return (is_neg(b) || b >= T(sizeof(T) * 8)) ? T(0) : T(U(a) << b);)
EMBER_BF(RshiftF, if (is_neg(b) || b >= T(sizeof(T) * 8)) return T(is_neg(a) ? -1 : 0); return T(a >> b);)
EMBER_BF(LogicalAndF, return bool(a != T(0) && b != T(0));)
EMBER_BF(LogicalOrF, return bool(a != T(0) || b != T(0));)
EMBER_BF(LogicalXorF, return bool((a != T(0)) != (b != T(0)));)
EMBER_BF(EqF, return bool(a == b);)
EMBER_BF(NeF, return bool(a != b);)
EMBER_BF(LtF, return bool(a < b);)
EMBER_BF(LeF, return bool(a <= b);)
EMBER_BF(GtF, return bool(a > b);)
EMBER_BF(GeF, return bool(a >= b);)
EMBER_BF(ThresholdBackwardF, return b > T(0) ? a : T(0);)
EMBER_BF(SigmoidBackwardF, return T(a * b * (T(1) - b));)
EMBER_BF(TanhBackwardF, return T(a * (T(1) - b * b));)
#undef EMBER_BF

// Integer ops that can fail: `err` (device, integer dtypes only) receives the KernelError; a
// zero divisor divides by 1 instead, as on the CPU.
template <typename T>
__device__ __forceinline__ T guard(T b, int* err) {
  if (b == T(0)) {
    *err = int(KernelError::ZeroDivision);
    return T(1);
  }
  return b;
}
#define EMBER_BF_INT(Name, FloatF, int_expr)                                   \
  struct Name {                                                                \
    double p0;                                                                 \
    int* err;                                                                  \
    template <typename T>                                                      \
    __device__ __forceinline__ T operator()(T a, T b) const {                  \
      if constexpr (std::is_floating_point_v<T>) return FloatF{p0}(a, b);      \
      else { int_expr }                                                        \
    }                                                                          \
  };
EMBER_BF_INT(DivFloorIF, DivFloorF, b = guard(b, err); T q = T(a / b);
             if ((a % b != 0) && (is_neg(a) != is_neg(b))) q = T(q - 1); return q;)
EMBER_BF_INT(DivTruncIF, DivTruncF, return T(a / guard(b, err));)
EMBER_BF_INT(RemainderIF, RemainderF, b = guard(b, err); T r = T(a % b);
             if (r != 0 && (is_neg(r) != is_neg(b))) r = T(r + b); return r;)
EMBER_BF_INT(FmodIF, FmodF, return T(a % guard(b, err));)
struct PowF {
  double p0;
  int* err;
  template <typename T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) return d_pow(a, b);
    else if constexpr (std::is_same_v<T, bool>) return bool(a || !b);
    else {
      if (is_neg(b)) {
        if (a == T(1)) return T(1);
        if (a == T(-1)) return T((b & 1) ? -1 : 1);
        *err = int(KernelError::NegativePower);
        return T(0);
      }
      T r = 1, base = a;
      auto e = b;
      while (e) {
        if (e & 1) r = T(r * base);
        base = T(base * base);
        e >>= 1;
      }
      return r;
    }
  }
};
#undef EMBER_BF_INT

template <typename F, bool BoolOut>
struct BinaryBody {
  const ElementwiseIter& it;
  F f;
  const char* name;
  template <typename S>
  void operator()() const {
    if constexpr (BoolOut) launch<bool, S, S>(name, it, f);
    else launch<S, S, S>(name, it, f);
  }
};

// Registers op's CUDA kernel over the dtypes of Mask (its CPU mask without complex, narrowed
// where the CUDA kernel covers less).
#define EMBER_CUDA_BINARY(op, Functor, Mask)                                                          \
  void op##_cuda(ElementwiseIter& it, const Params& p, int*) {                                        \
    constexpr OpSpec spec = binary_specs[int(BinaryOp::op)];                                          \
    constexpr bool kBool = spec.rule == DtypeRule::Bool;                                              \
    dispatch_cuda<(Mask) & spec.mask>(it.dtypes[1], #op, BinaryBody<Functor, kBool>{it, Functor{p[0]}, #op}); \
  }                                                                                                   \
  EMBER_REGISTER_CUDA(binary_stubs[int(BinaryOp::op)], op##_cuda);

// The same for ops whose integer kernels can fail (functor {p0, err}).
template <bool BoolOut, typename F>
struct CheckedBody {
  const ElementwiseIter& it;
  double p0;
  const char* name;
  int* error;
  template <typename S>
  void operator()() const {
    if constexpr (std::is_floating_point_v<opmath_of<S>>) {
      BinaryBody<F, BoolOut>{it, F{p0, nullptr}, name}.template operator()<S>();
    } else {
      Tensor h;
      int* flag = scratch_ptr<int>(h, 1);
      memset_async(flag, 0, sizeof(int));
      BinaryBody<F, BoolOut>{it, F{p0, flag}, name}.template operator()<S>();
      *error = read_one(flag);
    }
  }
};
#define EMBER_CUDA_BINARY_CHECKED(op, Functor, Mask)                                                       \
  void op##_cuda(ElementwiseIter& it, const Params& p, int* error) {                                       \
    constexpr OpSpec spec = binary_specs[int(BinaryOp::op)];                                               \
    constexpr bool kBool = spec.rule == DtypeRule::Bool;                                                   \
    dispatch_cuda<(Mask) & spec.mask>(it.dtypes[1], #op, CheckedBody<kBool, Functor>{it, p[0], #op, error}); \
  }                                                                                                        \
  EMBER_REGISTER_CUDA(binary_stubs[int(BinaryOp::op)], op##_cuda);

EMBER_CUDA_BINARY(add, AddF, kAllRealMask)
EMBER_CUDA_BINARY(sub, SubF, kAllRealMask)
EMBER_CUDA_BINARY(mul, MulF, kAllRealMask)
EMBER_CUDA_BINARY(div, DivF, kFloatMask)
EMBER_CUDA_BINARY_CHECKED(div_floor, DivFloorIF, kRealMask)
EMBER_CUDA_BINARY_CHECKED(div_trunc, DivTruncIF, kRealMask)
EMBER_CUDA_BINARY_CHECKED(remainder, RemainderIF, kRealMask)
EMBER_CUDA_BINARY_CHECKED(fmod, FmodIF, kRealMask)
EMBER_CUDA_BINARY_CHECKED(pow, PowF, kAllRealMask)
EMBER_CUDA_BINARY(atan2, Atan2F, kFloatMask)
EMBER_CUDA_BINARY(hypot, HypotF, kFloatMask)
EMBER_CUDA_BINARY(copysign, CopysignF, kFloatMask)
EMBER_CUDA_BINARY(logaddexp, LogaddexpF, kFloatMask)
EMBER_CUDA_BINARY(maximum, MaximumF, kAllRealMask)
EMBER_CUDA_BINARY(minimum, MinimumF, kAllRealMask)
EMBER_CUDA_BINARY(fmax, FmaxF, kAllRealMask)
EMBER_CUDA_BINARY(fmin, FminF, kAllRealMask)
EMBER_CUDA_BINARY(bitwise_and, BitAndF, kIntMask | kBoolMask)
EMBER_CUDA_BINARY(bitwise_or, BitOrF, kIntMask | kBoolMask)
EMBER_CUDA_BINARY(bitwise_xor, BitXorF, kIntMask | kBoolMask)
EMBER_CUDA_BINARY(left_shift, LshiftF, kIntMask)
EMBER_CUDA_BINARY(right_shift, RshiftF, kIntMask)
EMBER_CUDA_BINARY(logical_and, LogicalAndF, kAllRealMask)
EMBER_CUDA_BINARY(logical_or, LogicalOrF, kAllRealMask)
EMBER_CUDA_BINARY(logical_xor, LogicalXorF, kAllRealMask)
EMBER_CUDA_BINARY(eq, EqF, kAllRealMask)
EMBER_CUDA_BINARY(ne, NeF, kAllRealMask)
EMBER_CUDA_BINARY(lt, LtF, kAllRealMask)
EMBER_CUDA_BINARY(le, LeF, kAllRealMask)
EMBER_CUDA_BINARY(gt, GtF, kAllRealMask)
EMBER_CUDA_BINARY(ge, GeF, kAllRealMask)
EMBER_CUDA_BINARY(threshold_backward, ThresholdBackwardF, kRealMask)
EMBER_CUDA_BINARY(sigmoid_backward, SigmoidBackwardF, kFloatMask)
EMBER_CUDA_BINARY(tanh_backward, TanhBackwardF, kFloatMask)

// ---- ternary: where(cond, a, b), lerp(a, b, w) ----------------------------------------------
struct WhereF {
  template <typename T>
  __device__ __forceinline__ T operator()(bool c, T a, T b) const { return c ? a : b; }
};
struct WhereBody {
  const ElementwiseIter& it;
  template <typename S>
  void operator()() const { launch<S, bool, S, S>("where", it, WhereF{}); }
};
void where_cuda(ElementwiseIter& it) { dispatch_cuda<kAllRealMask>(it.dtypes[0], "where", WhereBody{it}); }
EMBER_REGISTER_CUDA(where_stub, where_cuda);

struct LerpF {
  template <typename T>
  __device__ __forceinline__ T operator()(T a, T b, T w) const {
    const T aw = w < T(0) ? -w : w;
    return aw < T(0.5) ? a + w * (b - a) : b - (b - a) * (T(1) - w);
  }
};
struct LerpBody {
  const ElementwiseIter& it;
  template <typename S>
  void operator()() const { launch<S, S, S, S>("lerp", it, LerpF{}); }
};
void lerp_cuda(ElementwiseIter& it) { dispatch_cuda<kFloatMask>(it.dtypes[0], "lerp", LerpBody{it}); }
EMBER_REGISTER_CUDA(lerp_stub, lerp_cuda);

}  // namespace
}  // namespace cuda
}  // namespace ember
