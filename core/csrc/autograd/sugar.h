// Arithmetic on Tensors for backward formulas: g * b / a reads like the math. Every
// operator is an ordinary (recording) ember op, so formulas are differentiable.
#pragma once
#include "../ops/creation.h"
#include "../ops/elementwise.h"
#include "node.h"

namespace ember {
namespace autograd {

inline Tensor sc(double v) { return wrap_scalar(Scalar(v)); }
inline Tensor operator+(const Tensor& a, const Tensor& b) { return binary(BinaryOp::add, a, b, {1.0}); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return binary(BinaryOp::sub, a, b, {1.0}); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return binary(BinaryOp::mul, a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return binary(BinaryOp::div, a, b); }
inline Tensor operator+(const Tensor& a, double b) { return a + sc(b); }
inline Tensor operator-(const Tensor& a, double b) { return a - sc(b); }
inline Tensor operator*(const Tensor& a, double b) { return a * sc(b); }
inline Tensor operator/(const Tensor& a, double b) { return a / sc(b); }
inline Tensor operator+(double a, const Tensor& b) { return sc(a) + b; }
inline Tensor operator-(double a, const Tensor& b) { return sc(a) - b; }
inline Tensor operator*(double a, const Tensor& b) { return sc(a) * b; }
inline Tensor operator/(double a, const Tensor& b) { return sc(a) / b; }
inline Tensor operator-(const Tensor& a) { return unary(UnaryOp::neg, a); }
inline Tensor operator>(const Tensor& a, double b) { return binary(BinaryOp::gt, a, sc(b)); }
inline Tensor operator<(const Tensor& a, double b) { return binary(BinaryOp::lt, a, sc(b)); }
inline Tensor operator>=(const Tensor& a, double b) { return binary(BinaryOp::ge, a, sc(b)); }
inline Tensor operator<=(const Tensor& a, double b) { return binary(BinaryOp::le, a, sc(b)); }
inline Tensor operator==(const Tensor& a, double b) { return binary(BinaryOp::eq, a, sc(b)); }
inline Tensor operator>(const Tensor& a, const Tensor& b) { return binary(BinaryOp::gt, a, b); }
inline Tensor operator<(const Tensor& a, const Tensor& b) { return binary(BinaryOp::lt, a, b); }
inline Tensor operator>=(const Tensor& a, const Tensor& b) { return binary(BinaryOp::ge, a, b); }
inline Tensor operator<=(const Tensor& a, const Tensor& b) { return binary(BinaryOp::le, a, b); }
inline Tensor operator==(const Tensor& a, const Tensor& b) { return binary(BinaryOp::eq, a, b); }
inline Tensor operator&(const Tensor& a, const Tensor& b) { return binary(BinaryOp::logical_and, a, b); }
inline Tensor operator|(const Tensor& a, const Tensor& b) { return binary(BinaryOp::logical_or, a, b); }
inline Tensor operator!(const Tensor& a) { return unary(UnaryOp::logical_not, a); }
inline Tensor un(UnaryOp op, const Tensor& x, const Params& p = {}) { return unary(op, x, p); }
// g where mask is true, zero elsewhere (and the converse).
inline Tensor keep(const Tensor& mask, const Tensor& g) { return where(mask, g, sc(0.0)); }
inline Tensor zero_where(const Tensor& mask, const Tensor& g) { return where(mask, sc(0.0), g); }
inline Tensor zeros_like(const Tensor& t) { return zeros(t.sizes(), t.dtype(), t.device()); }

}  // namespace autograd
}  // namespace ember
