// Pooling and softmax front ends with their derivatives. Pool geometries are built in
// bindings/nn.cpp from PyTorch's arguments; here they are checked and run.
#include <algorithm>

#include "../autograd/record.h"
#include "../autograd/sugar.h"
#include "creation.h"
#include "elementwise.h"
#include "index.h"
#include "nn.h"
#include "reduce.h"
#include "view.h"

namespace ember {

std::vector<double> avg_pool_divisors(const PoolGeom& g) {
  std::vector<double> div(size_t(g.out[0] * g.out[1] * g.out[2]));
  auto size = [&](int dim, int64_t o) {
    const int64_t b = g.begin[dim][size_t(o)], e = g.end[dim][size_t(o)];
    if (g.count_include_pad) return e - b;
    return std::max<int64_t>(0, std::min(e, g.in[dim]) - std::max<int64_t>(b, 0));
  };
  size_t i = 0;
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < g.out[1]; ++oh)
      for (int64_t ow = 0; ow < g.out[2]; ++ow)
        div[i++] = g.divisor_override ? double(g.divisor_override) : double(size(0, od) * size(1, oh) * size(2, ow));
  return div;
}

DispatchStub<MaxPoolKernel> max_pool_stub("max_pool");
DispatchStub<AvgPoolKernel> avg_pool_stub("avg_pool");
DispatchStub<SoftmaxKernel> softmax_stub("softmax");
DispatchStub<SoftmaxBackwardKernel> softmax_backward_stub("softmax");

using namespace autograd;

namespace {
bool is16(ScalarType t) { return t == ScalarType::Float16 || t == ScalarType::BFloat16; }

// A contiguous float32/float64 version of x (16-bit floats widen to float32).
Tensor compute_input(const char* op, const Tensor& x) {
  EMBER_CHECK(is_floating(x.dtype()), TypeError, "[", op, "] expected a floating point input, got ", x.dtype());
  return is16(x.dtype()) ? to_dtype(x, ScalarType::Float32) : contiguous(x);
}

void check_pool_input(const char* op, const Tensor& x, const PoolGeom& g) {
  EMBER_CHECK(x.sizes() == g.in_shape, ValueError, "[", op, "] input has the wrong shape: expected ", g.in_shape,
              ", got ", x.sizes());
}
}  // namespace

std::vector<Tensor> max_pool(const Tensor& x, const PoolGeom& g) {
  check_pool_input("max_pool", x, g);
  Recorder rec("max_pool", {x});
  Tensor xc = compute_input("max_pool", x);
  Tensor y = empty(g.out_shape, xc.dtype(), x.device());
  Tensor idx = empty(g.out_shape, ScalarType::Int64, x.device());
  if (y.numel()) max_pool_stub(x.device(), g, xc, y, idx);
  if (is16(x.dtype())) y = to_dtype(y, x.dtype());
  if (rec) {
    rec.set_outputs({y, idx});
    FnNode& n = rec.node();
    n.save(idx);
    const int64_t planes = g.planes, lin = g.in[0] * g.in[1] * g.in[2], lout = g.out[0] * g.out[1] * g.out[2];
    Shape in_shape = g.in_shape;
    n.fn = [planes, lin, lout, in_shape](FnNode& n, variable_list& gr) {
      Tensor gx = zeros({planes, lin}, gr[0].dtype(), gr[0].device());
      scatter_add_(gx, 1, reshape(n.get(0), {planes, lout}), reshape(gr[0], {planes, lout}));
      return variable_list{view(gx, in_shape)};
    };
  }
  return {y, idx};
}

namespace {
Tensor avg_pool_run(const char* op, const Tensor& src, const PoolGeom& g, bool adjoint) {
  Tensor sc_ = compute_input(op, src);
  Tensor dst = empty(adjoint ? g.in_shape : g.out_shape, sc_.dtype(), src.device());
  if (dst.numel()) {
    if (sc_.numel()) avg_pool_stub(src.device(), g, sc_, dst, adjoint);
    else fill_(dst, Scalar(0.0));
  }
  return is16(src.dtype()) ? to_dtype(dst, src.dtype()) : dst;
}
}  // namespace

Tensor avg_pool(const Tensor& x, const PoolGeom& g) {
  check_pool_input("avg_pool", x, g);
  Recorder rec("avg_pool", {x});
  Tensor y = avg_pool_run("avg_pool", x, g, false);
  if (rec) {
    rec.set_outputs({y});
    rec.node().fn = [g](FnNode&, variable_list& gr) { return variable_list{avg_pool_adjoint(gr[0], g)}; };
  }
  return y;
}

Tensor avg_pool_adjoint(const Tensor& gy, const PoolGeom& g) {
  EMBER_CHECK(gy.sizes() == g.out_shape, ValueError, "[avg_pool_backward] gradient has the wrong shape: expected ",
              g.out_shape, ", got ", gy.sizes());
  Recorder rec("avg_pool_backward", {gy});
  Tensor gx = avg_pool_run("avg_pool_backward", gy, g, true);
  if (rec) {
    rec.set_outputs({gx});
    rec.node().fn = [g](FnNode&, variable_list& gr) { return variable_list{avg_pool(gr[0], g)}; };
  }
  return gx;
}

// ---- softmax ------------------------------------------------------------------------
namespace {
struct Rows {
  int64_t outer = 1, n = 1, inner = 1;
};
Rows rows_of(const Shape& s, int64_t dim) {
  Rows r;
  for (int64_t d = 0; d < int64_t(s.size()); ++d) {
    if (d < dim) r.outer *= s[d];
    else if (d == dim) r.n = s[d];
    else r.inner *= s[d];
  }
  return r;
}
int64_t wrap_dim(const char* op, int64_t dim, int64_t nd) {
  int64_t n = std::max<int64_t>(nd, 1);
  EMBER_CHECK(dim >= -n && dim < n, IndexError, "[", op, "] dim out of range: expected one in [", -n, ", ", n - 1,
              "], got ", dim);
  return dim < 0 ? dim + n : dim;
}
}  // namespace

Tensor softmax_backward(const Tensor& g, const Tensor& y, int64_t dim, bool log) {
  const char* op = log ? "log_softmax_backward" : "softmax_backward";
  if (GradMode::is_enabled() && (requires_grad(g) || requires_grad(y))) {
    // Differentiable form (create_graph=True): ordinary recording ops.
    OptDims d = Shape{dim};
    if (log) return g - unary(UnaryOp::exp, y) * sum(g, d, true, std::nullopt);
    return y * (g - sum(g * y, d, true, std::nullopt));
  }
  Tensor gc = compute_input(op, g), yc = compute_input(op, y);
  if (gc.dtype() != yc.dtype()) gc = to_dtype(gc, yc.dtype());
  Tensor gx = empty(y.sizes(), yc.dtype(), y.device());
  Rows r = rows_of(y.sizes(), y.dim() ? dim : 0);
  if (gx.numel()) softmax_backward_stub(y.device(), gc, yc, gx, r.outer, r.n, r.inner, log);
  return is16(y.dtype()) ? to_dtype(gx, y.dtype()) : gx;
}

Tensor softmax(const Tensor& x, int64_t dim, bool log) {
  const char* op = log ? "log_softmax" : "softmax";
  dim = wrap_dim(op, dim, x.dim());
  Recorder rec(op, {x});
  Tensor xc = compute_input(op, x);
  Tensor y = empty(x.sizes(), xc.dtype(), x.device());
  Rows r = rows_of(x.sizes(), x.dim() ? dim : 0);
  if (y.numel()) softmax_stub(x.device(), xc, y, r.outer, r.n, r.inner, log);
  if (is16(x.dtype())) y = to_dtype(y, x.dtype());
  if (rec) {
    rec.set_outputs({y});
    rec.node().save_output(y);
    rec.node().fn = [dim, log](FnNode& n, variable_list& gr) {
      return variable_list{softmax_backward(gr[0], n.get(0), dim, log)};
    };
  }
  return y;
}

}  // namespace ember
