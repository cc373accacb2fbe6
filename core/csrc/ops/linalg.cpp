// Front ends of the matrix products: argument checks, result shapes, layouts BLAS accepts,
// then the batched GEMM stub. einsum/tensordot/kron are in ops/einsum.cpp.
#include "linalg.h"

#include <atomic>

#include <algorithm>

#include "creation.h"
#include "elementwise.h"
#include "view.h"

namespace ember {

DispatchStub<GemmKernel> gemm_stub("matmul");

namespace {
std::atomic<bool> g_allow_tf32{false};
std::atomic<bool> g_conv_tf32{true};
}  // namespace
bool matmul_allow_tf32() { return g_allow_tf32.load(std::memory_order_relaxed); }
void set_matmul_allow_tf32(bool allow) { g_allow_tf32.store(allow, std::memory_order_relaxed); }
bool conv_allow_tf32() { return g_conv_tf32.load(std::memory_order_relaxed); }
void set_conv_allow_tf32(bool allow) { g_conv_tf32.store(allow, std::memory_order_relaxed); }

namespace {

bool is_zero(const Scalar& s) {
  if (s.kind == Scalar::Complex) return s.z == std::complex<double>(0.0, 0.0);
  if (s.kind == Scalar::Float) return s.d == 0.0;
  return s.i == 0;
}

std::complex<double> to_complex(const Scalar& s) {
  if (s.kind == Scalar::Complex) return s.z;
  if (s.kind == Scalar::Float) return {s.d, 0.0};
  return {double(s.i), 0.0};
}

void check_device(const char* op, std::initializer_list<Tensor> ts) {
  const Tensor& first = *ts.begin();
  for (const Tensor& t : ts)
    EMBER_CHECK(t.device() == first.device(), ValueError, "[", op, "] expected all tensors on the same device, got ",
                first.device(), " and ", t.device());
}

void check_dtype(const char* op, ScalarType t) {
  EMBER_CHECK(t != ScalarType::Bool, TypeError, "[", op,
              "] unsupported dtype: expected a floating point, complex or integer dtype, got ", t);
}

void check_same_dtype(const char* op, const Tensor& a, const Tensor& b, const char* what = "m1 and m2") {
  EMBER_CHECK(a.dtype() == b.dtype(), TypeError, "[", op, "] expected ", what, " to have the same dtype, got ",
              a.dtype(), " and ", b.dtype());
  check_dtype(op, a.dtype());
}

void check_scalars(const char* op, ScalarType dt, const Scalar& alpha, const Scalar& beta) {
  for (auto [s, name] : {std::pair<const Scalar*, const char*>{&alpha, "alpha"}, {&beta, "beta"}}) {
    if (is_integral(dt, true))
      EMBER_CHECK(s->is_integral(), TypeError, "[", op, "] for integer inputs, ", name,
                  " must be an integer, got ", *s);
    if (!is_complex(dt))
      EMBER_CHECK(s->kind != Scalar::Complex, TypeError, "[", op, "] for real inputs, ", name,
                  " must not be a complex number, got ", *s);
  }
}

// A tensor that may receive a product's result.
void check_out(const char* op, const Tensor& out, const Shape& shape, ScalarType dt, Device dev) {
  EMBER_CHECK(out.sizes() == shape, ValueError, "[", op, "] output has the wrong shape: expected ", shape, ", got ",
              out.sizes());
  EMBER_CHECK(out.dtype() == dt, TypeError, "[", op, "] expected out to have dtype ", dt, ", got ", out.dtype());
  EMBER_CHECK(out.device() == dev, ValueError, "[", op, "] expected out on ", dev, ", got ", out.device());
  for (int64_t d = 0; d < out.dim(); ++d)
    EMBER_CHECK(out.strides()[d] != 0 || out.sizes()[d] <= 1, ValueError, "[", op,
                "] cannot write into an expanded tensor: dimension ", d, " has stride 0; call .clone() first");
}

[[noreturn]] void shape_error(const char* op, const Shape& a, const Shape& b, int64_t ka, int64_t kb) {
  throw ValueError(str("[", op, "] shapes cannot be multiplied: ", a, " @ ", b, "; the inner sizes ", ka, " and ", kb,
                       " must match"));
}

// Stride of dims [s, e] of t flattened into one, if that is a view.
std::optional<int64_t> merged_stride(const Tensor& t, int64_t s, int64_t e) {
  int64_t st = -1, expected = 0;
  for (int64_t d = e; d >= s; --d) {
    int64_t n = t.sizes()[d];
    if (n == 1) continue;
    if (st < 0) {
      st = t.strides()[d];
      expected = st * n;
    } else {
      if (t.strides()[d] != expected) return std::nullopt;
      expected *= n;
    }
  }
  return st < 0 ? 1 : st;
}

// (..., m, k) -> (prod(...) * m, k) as a view, if possible.
std::optional<Tensor> fold_rows(const Tensor& t) {
  int64_t nd = t.dim();
  auto st = merged_stride(t, 0, nd - 2);
  if (!st) return std::nullopt;
  int64_t rows = 1;
  for (int64_t d = 0; d < nd - 1; ++d) rows *= t.sizes()[d];
  return make_view(t, {rows, t.sizes()[nd - 1]}, {*st, t.strides()[nd - 1]}, t.offset());
}

Tensor result_or_out(const char* op, const Tensor* out, const Shape& shape, ScalarType dt, Device dev) {
  if (!out) return empty(shape, dt, dev);
  check_out(op, *out, shape, dt, dev);
  return *out;
}

// Runs f(c) into `out`, or into a fresh tensor when out overlaps an input (BLAS must not
// read what it writes).
template <typename F>
Tensor into(const char* op, const Tensor* out, const Shape& shape, ScalarType dt, Device dev,
            std::initializer_list<Tensor> inputs, F&& f) {
  Tensor c = result_or_out(op, out, shape, dt, dev);
  bool alias = false;
  if (out)
    for (const Tensor& t : inputs) alias = alias || may_overlap(*out, t);
  if (!alias) {
    f(c);
    return c;
  }
  Tensor tmp = empty(shape, dt, dev);
  f(tmp);
  copy_(*out, tmp);
  return *out;
}

}  // namespace

bool blas_layout_ok(int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
  constexpr int64_t kMax = 2147483647;
  if (rows > kMax || cols > kMax) return false;
  bool nt = (cs == 1 || cols == 1) && (rows == 1 || (rs >= std::max<int64_t>(1, cols) && rs <= kMax));
  bool t = (rs == 1 || rows == 1) && (cols == 1 || (cs >= std::max<int64_t>(1, rows) && cs <= kMax));
  return nt || t;
}

void gemm_out(const char* op, const Tensor& c, const Tensor& a, const Tensor& b, const Scalar& alpha,
              const Scalar& beta, bool conv) {
  const int64_t nb = c.dim() - 2;
  const int64_t m = c.sizes()[nb], n = c.sizes()[nb + 1], k = a.sizes()[a.dim() - 1];
  if (c.numel() == 0) return;
  const bool beta_zero = is_zero(beta);
  if (k == 0) {  // empty sum: C = beta * C
    if (beta_zero) fill_(c, Scalar(int64_t(0)));
    else if (!(beta.kind != Scalar::Complex && beta.d == 1.0)) binary(BinaryOp::mul, c, wrap_scalar(beta), {}, &c);
    return;
  }
  // C: a BLAS layout that does not overlap the inputs, else a temporary
  bool c_ok = blas_layout_ok(m, n, c.strides()[nb], c.strides()[nb + 1]) && !may_overlap(c, a) && !may_overlap(c, b);
  for (int64_t d = 0; d < nb && c_ok; ++d) c_ok = c.strides()[d] != 0 || c.sizes()[d] <= 1;
  if (!c_ok) {
    Tensor tmp = empty(c.sizes(), c.dtype(), c.device());
    if (!beta_zero) copy_(tmp, c);
    gemm_out(op, tmp, a, b, alpha, beta, conv);
    copy_(c, tmp);
    return;
  }
  Tensor A = a, B = b;
  if (!blas_layout_ok(m, k, A.strides()[A.dim() - 2], A.strides()[A.dim() - 1])) A = clone(A);
  if (!blas_layout_ok(k, n, B.strides()[B.dim() - 2], B.strides()[B.dim() - 1])) B = clone(B);
  EMBER_CHECK(nb <= kMaxBatchDims, ValueError, "[", op, "] too many batch dimensions: expected at most ",
              kMaxBatchDims, ", got ", nb);
  GemmArgs g;
  g.dtype = c.dtype();
  g.m = m;
  g.n = n;
  g.k = k;
  g.nbatch = int(nb);
  auto operand = [&](const Tensor& t, MatOperand& o) {
    const int64_t tb = t.dim() - 2;
    o.data = t.raw_data();
    o.rs = t.strides()[tb];
    o.cs = t.strides()[tb + 1];
    for (int64_t d = 0; d < nb; ++d) {
      int64_t td = d - (nb - tb);
      o.bstride[d] = (td < 0 || t.sizes()[td] == 1) ? 0 : t.strides()[td];
    }
  };
  for (int64_t d = 0; d < nb; ++d) g.batch[d] = c.sizes()[d];
  operand(A, g.a);
  operand(B, g.b);
  operand(c, g.c);
  g.alpha = to_complex(alpha);
  g.beta = beta_zero ? std::complex<double>(0.0, 0.0) : to_complex(beta);
  g.allow_tf32 = conv ? conv_allow_tf32() : matmul_allow_tf32();
  gemm_stub(c.device(), g);
  c.bump_version();
}

// ---- matmul and friends -----------------------------------------------------------------

Tensor matmul_impl(const Tensor& a, const Tensor& b, const Tensor* out) {
  const char* op = "matmul";
  const int64_t da = a.dim(), db = b.dim();
  EMBER_CHECK(da >= 1 && db >= 1, ValueError, "[matmul] both arguments need to be at least 1-D, got ", da, "-D and ",
              db, "-D");
  check_device(op, {a, b});
  check_same_dtype(op, a, b);
  const int64_t ka = a.sizes()[da - 1], kb = db == 1 ? b.sizes()[0] : b.sizes()[db - 2];
  if (ka != kb) shape_error(op, a.sizes(), b.sizes(), ka, kb);
  Shape ba(a.sizes().begin(), a.sizes().end() - std::min<int64_t>(da, 2));
  Shape bb(b.sizes().begin(), b.sizes().end() - std::min<int64_t>(db, 2));
  Shape batch;
  {
    size_t n = std::max(ba.size(), bb.size());
    batch.resize(n);
    for (size_t i = 0; i < n; ++i) {
      int64_t sa = i < n - ba.size() ? 1 : ba[i - (n - ba.size())];
      int64_t sb = i < n - bb.size() ? 1 : bb[i - (n - bb.size())];
      EMBER_CHECK(sa == sb || sa == 1 || sb == 1, ValueError, "[matmul] batch dimensions cannot be broadcast: ",
                  a.sizes(), " @ ", b.sizes(), "; batch sizes ", sa, " and ", sb, " differ at batch dimension ", i);
      batch[i] = sa == 1 ? sb : sa;
    }
  }
  Shape shape = batch;
  if (da > 1) shape.push_back(a.sizes()[da - 2]);
  if (db > 1) shape.push_back(b.sizes()[db - 1]);
  const Tensor A = da == 1 ? unsqueeze(a, 0) : a;  // (..., m, k)
  const Tensor B = db == 1 ? unsqueeze(b, 1) : b;  // (..., k, n)
  return into(op, out, shape, a.dtype(), a.device(), {a, b}, [&](const Tensor& r) {
    // r as (batch..., m, n) with unit dims for 1-D operands
    Tensor C = r;
    if (da == 1) C = unsqueeze(C, C.dim() - (db > 1 ? 1 : 0));
    if (db == 1) C = unsqueeze(C, C.dim());
    const int64_t nbatch = C.dim() - 2;
    const Scalar one(int64_t(1)), zero(int64_t(0));
    if (nbatch > 0 && B.dim() == 2) {  // (..., m, k) @ (k, n): one big product
      auto af = fold_rows(A), cf = fold_rows(C);
      if (af && cf && A.dim() - 2 == nbatch) return gemm_out(op, *cf, *af, B, one, zero);
    }
    if (nbatch > 0 && A.dim() == 2) {  // (m, k) @ (..., k, n) with B transposed-contiguous
      auto bf = fold_rows(mT(B)), cf = fold_rows(mT(C));
      if (bf && cf && B.dim() - 2 == nbatch) return gemm_out(op, *cf, *bf, mT(A), one, zero);
    }
    gemm_out(op, C, A, B, one, zero);
  });
}

Tensor mm_impl(const Tensor& a, const Tensor& b, const Tensor* out) {
  EMBER_CHECK(a.dim() == 2 && b.dim() == 2, ValueError, "[mm] expected 2-D tensors, got ", a.dim(), "-D and ",
              b.dim(), "-D");
  check_device("mm", {a, b});
  check_same_dtype("mm", a, b);
  if (a.sizes()[1] != b.sizes()[0]) shape_error("mm", a.sizes(), b.sizes(), a.sizes()[1], b.sizes()[0]);
  return into("mm", out, {a.sizes()[0], b.sizes()[1]}, a.dtype(), a.device(), {a, b},
              [&](const Tensor& c) { gemm_out("mm", c, a, b, Scalar(int64_t(1)), Scalar(int64_t(0))); });
}

namespace {
void check_bmm(const char* op, const Tensor& a, const Tensor& b) {
  EMBER_CHECK(a.dim() == 3 && b.dim() == 3, ValueError, "[", op, "] expected 3-D tensors, got ", a.dim(), "-D and ",
              b.dim(), "-D");
  check_device(op, {a, b});
  check_same_dtype(op, a, b, "batch1 and batch2");
  EMBER_CHECK(a.sizes()[0] == b.sizes()[0], ValueError, "[", op, "] expected equal batch sizes, got ", a.sizes()[0],
              " and ", b.sizes()[0], " (shapes ", a.sizes(), " and ", b.sizes(), ")");
  if (a.sizes()[2] != b.sizes()[1]) shape_error(op, a.sizes(), b.sizes(), a.sizes()[2], b.sizes()[1]);
}
}  // namespace

Tensor bmm_impl(const Tensor& a, const Tensor& b, const Tensor* out) {
  check_bmm("bmm", a, b);
  return into("bmm", out, {a.sizes()[0], a.sizes()[1], b.sizes()[2]}, a.dtype(), a.device(), {a, b},
              [&](const Tensor& c) { gemm_out("bmm", c, a, b, Scalar(int64_t(1)), Scalar(int64_t(0))); });
}

Tensor mv_impl(const Tensor& a, const Tensor& v, const Tensor* out) {
  EMBER_CHECK(a.dim() == 2 && v.dim() == 1, ValueError, "[mv] expected a 2-D matrix and a 1-D vector, got ", a.dim(),
              "-D and ", v.dim(), "-D");
  check_device("mv", {a, v});
  check_same_dtype("mv", a, v, "mat and vec");
  if (a.sizes()[1] != v.sizes()[0]) shape_error("mv", a.sizes(), v.sizes(), a.sizes()[1], v.sizes()[0]);
  return into("mv", out, {a.sizes()[0]}, a.dtype(), a.device(), {a, v}, [&](const Tensor& c) {
    gemm_out("mv", unsqueeze(c, 1), a, unsqueeze(v, 1), Scalar(int64_t(1)), Scalar(int64_t(0)));
  });
}

namespace {
Tensor dot_impl(const char* op, const Tensor& a, const Tensor& b, const Tensor* out) {
  EMBER_CHECK(a.dim() == 1 && b.dim() == 1, ValueError, "[", op, "] expected 1-D tensors, got ", a.dim(), "-D and ",
              b.dim(), "-D");
  check_device(op, {a, b});
  check_same_dtype(op, a, b, "both vectors");
  EMBER_CHECK(a.sizes()[0] == b.sizes()[0], ValueError, "[", op,
              "] expected both vectors to have the same number of elements, got ", a.sizes()[0], " and ", b.sizes()[0]);
  return into(op, out, {}, a.dtype(), a.device(), {a, b}, [&](const Tensor& c) {
    Tensor C = make_view(c, {1, 1}, {1, 1}, c.offset());
    gemm_out(op, C, unsqueeze(a, 0), unsqueeze(b, 1), Scalar(int64_t(1)), Scalar(int64_t(0)));
  });
}
}  // namespace

Tensor dot_nograd(const Tensor& a, const Tensor& b, const Tensor* out) { return dot_impl("dot", a, b, out); }

Tensor vdot_impl(const Tensor& a, const Tensor& b, const Tensor* out) {
  if (!is_complex(a.dtype())) return dot_impl("vdot", a, b, out);
  return dot_impl("vdot", unary(UnaryOp::conj, a), b, out);
}

namespace {
// beta * input + alpha * product, input broadcast to `shape`; `gemm(c)` adds the product.
template <typename F>
Tensor add_product(const char* op, const Tensor& input, const Shape& shape, ScalarType dt, const Scalar& beta,
                   const Scalar& alpha, const Tensor* out, std::initializer_list<Tensor> factors, F&& gemm) {
  check_dtype(op, dt);
  EMBER_CHECK(input.dtype() == dt, TypeError, "[", op, "] expected input to have the dtype of the factors (", dt,
              "), got ", input.dtype());
  check_scalars(op, dt, alpha, beta);
  Shape bs = broadcast_shapes(op, input.sizes(), shape);
  EMBER_CHECK(bs == shape, ValueError, "[", op, "] input of shape ", input.sizes(),
              " cannot be broadcast to the result shape ", shape);
  const bool in_place = out && out->is_same(input);
  Tensor c = result_or_out(op, out, shape, dt, input.device());
  bool alias = false;
  if (out)
    for (const Tensor& t : factors) alias = alias || may_overlap(*out, t);
  Tensor target = alias ? empty(shape, dt, input.device()) : c;
  const bool beta_zero = is_zero(beta);
  if (!beta_zero && !(in_place && !alias)) copy_(target, input);
  gemm(target, beta_zero ? Scalar(int64_t(0)) : beta);
  if (alias) copy_(c, target);
  return c;
}
}  // namespace

Tensor addmm_impl(const Tensor& input, const Tensor& m1, const Tensor& m2, const Scalar& beta, const Scalar& alpha,
             const Tensor* out) {
  EMBER_CHECK(m1.dim() == 2 && m2.dim() == 2, ValueError, "[addmm] expected 2-D matrices, got ", m1.dim(), "-D and ",
              m2.dim(), "-D");
  check_device("addmm", {input, m1, m2});
  check_same_dtype("addmm", m1, m2);
  if (m1.sizes()[1] != m2.sizes()[0]) shape_error("addmm", m1.sizes(), m2.sizes(), m1.sizes()[1], m2.sizes()[0]);
  return add_product("addmm", input, {m1.sizes()[0], m2.sizes()[1]}, m1.dtype(), beta, alpha, out, {m1, m2},
                     [&](const Tensor& c, const Scalar& be) { gemm_out("addmm", c, m1, m2, alpha, be); });
}

Tensor baddbmm_impl(const Tensor& input, const Tensor& b1, const Tensor& b2, const Scalar& beta, const Scalar& alpha,
               const Tensor* out) {
  check_bmm("baddbmm", b1, b2);
  check_device("baddbmm", {input, b1});
  return add_product("baddbmm", input, {b1.sizes()[0], b1.sizes()[1], b2.sizes()[2]}, b1.dtype(), beta, alpha, out,
                     {b1, b2}, [&](const Tensor& c, const Scalar& be) { gemm_out("baddbmm", c, b1, b2, alpha, be); });
}

Tensor addmv_impl(const Tensor& input, const Tensor& mat, const Tensor& vec, const Scalar& beta, const Scalar& alpha,
             const Tensor* out) {
  EMBER_CHECK(mat.dim() == 2 && vec.dim() == 1, ValueError, "[addmv] expected a 2-D matrix and a 1-D vector, got ",
              mat.dim(), "-D and ", vec.dim(), "-D");
  check_device("addmv", {input, mat, vec});
  check_same_dtype("addmv", mat, vec, "mat and vec");
  if (mat.sizes()[1] != vec.sizes()[0]) shape_error("addmv", mat.sizes(), vec.sizes(), mat.sizes()[1], vec.sizes()[0]);
  return add_product("addmv", input, {mat.sizes()[0]}, mat.dtype(), beta, alpha, out, {mat, vec},
                     [&](const Tensor& c, const Scalar& be) {
                       gemm_out("addmv", unsqueeze(c, 1), mat, unsqueeze(vec, 1), alpha, be);
                     });
}

Tensor addr_impl(const Tensor& input, const Tensor& v1, const Tensor& v2, const Scalar& beta, const Scalar& alpha,
            const Tensor* out) {
  EMBER_CHECK(v1.dim() == 1 && v2.dim() == 1, ValueError, "[addr] expected 1-D vectors, got ", v1.dim(), "-D and ",
              v2.dim(), "-D");
  check_device("addr", {input, v1, v2});
  check_same_dtype("addr", v1, v2, "vec1 and vec2");
  return add_product("addr", input, {v1.sizes()[0], v2.sizes()[0]}, v1.dtype(), beta, alpha, out, {v1, v2},
                     [&](const Tensor& c, const Scalar& be) {
                       gemm_out("addr", c, unsqueeze(v1, 1), unsqueeze(v2, 0), alpha, be);
                     });
}

Tensor outer(const Tensor& a, const Tensor& b, const Tensor* out) {
  EMBER_CHECK(a.dim() == 1 && b.dim() == 1, ValueError, "[outer] expected 1-D vectors, got ", a.dim(), "-D and ",
              b.dim(), "-D");
  return binary(BinaryOp::mul, unsqueeze(a, 1), b, {}, out);
}

}  // namespace ember
