// Front ends of layer/RMS/group/batch norm (ops/nn.h) with their derivatives: the fused
// backward kernels, or, when a graph of the gradient is wanted (create_graph=True), the same
// formulas written with recording ops (statistics recomputed from x, so they are
// differentiated too). 16-bit floats compute in float32.
#include <algorithm>
#include <functional>
#include <limits>

#include "../autograd/record.h"
#include "../autograd/sugar.h"
#include "creation.h"
#include "elementwise.h"
#include "nn.h"
#include "reduce.h"
#include "view.h"

namespace ember {

DispatchStub<RowNormKernel> row_norm_stub("layer_norm");
DispatchStub<RowNormBackwardKernel> row_norm_backward_stub("layer_norm");
DispatchStub<BatchNormKernel> batch_norm_stub("batch_norm");
DispatchStub<ChannelAffineKernel> channel_affine_stub("batch_norm");
DispatchStub<BatchNormBackwardKernel> batch_norm_backward_stub("batch_norm");

using namespace autograd;

namespace {
bool is16(ScalarType t) { return t == ScalarType::Float16 || t == ScalarType::BFloat16; }
ScalarType compute_type(const Tensor& x) { return is16(x.dtype()) ? ScalarType::Float32 : x.dtype(); }
Tensor prep(const Tensor& t, ScalarType ct) { return t.defined() ? contiguous(to_dtype(t, ct)) : Tensor(); }
Tensor rsqrt(const Tensor& t) { return unary(UnaryOp::rsqrt, t); }
Tensor mean_keep(const Tensor& t, const Shape& dims) { return mean(t, OptDims(dims), true, std::nullopt); }

void check_float(const char* op, const Tensor& x) {
  EMBER_CHECK(is_floating(x.dtype()), TypeError, "[", op, "] expected a floating point input, got ", x.dtype());
}

// Dims of an n-d tensor other than `keep`.
Shape other_dims(int64_t nd, const Shape& keep) {
  Shape r;
  for (int64_t d = 0; d < nd; ++d)
    if (std::find(keep.begin(), keep.end(), d) == keep.end()) r.push_back(d);
  return r;
}

// The gradient formulas of a normalisation with recording ops. x is viewed so that `dims`
// are the normalised ones; wv/bv are the affine tensors broadcast against x (or undefined);
// `affine_sum` are the dims summed for the affine gradients.
variable_list norm_grads_graph(const Tensor& g, const Tensor& x, const Tensor& wv, const Shape& dims,
                               const Shape& affine_sum, double eps, bool rms, bool want_w, bool want_b) {
  Tensor xc = rms ? x : x - mean_keep(x, dims);
  Tensor rs = rsqrt(mean_keep(xc * xc, dims) + eps);
  Tensor xh = xc * rs;
  Tensor gw = wv.defined() ? g * wv : g;
  Tensor inner = rms ? gw - xh * mean_keep(gw * xh, dims) : gw - mean_keep(gw, dims) - xh * mean_keep(gw * xh, dims);
  Tensor gx = rs * inner;
  Tensor dw = want_w ? sum(g * xh, OptDims(affine_sum), false, std::nullopt) : Tensor();
  Tensor db = want_b ? sum(g, OptDims(affine_sum), false, std::nullopt) : Tensor();
  return {gx, dw, db};
}
}  // namespace

// ---- layer / RMS / group norm: rows normalised by their own statistics ---------------------
namespace {
// Differentiable gradient formulas for create_graph=True: {gx, gw, gb} from (g, x, w).
using GraphGrads = std::function<variable_list(const Tensor& g, const Tensor& x, const Tensor& w, bool gw, bool gb)>;

// The shared front end: forward kernel, saved state, and a backward that runs the fused
// kernel (or `graph` under create_graph). `affine` is the shape of the weight and bias.
Tensor row_norm(const char* op, const Tensor& x, const Tensor& w, const Tensor& b, const RowNormArgs& a,
                const Shape& affine, GraphGrads graph) {
  for (const Tensor* t : {&w, &b})
    EMBER_CHECK(!t->defined() || t->sizes() == affine, ValueError, "[", op, "] expected weight and bias of shape ",
                affine, ", got ", t->sizes());
  Recorder rec(op, {x, w, b});
  const ScalarType ct = compute_type(x);
  Tensor xc = prep(x, ct), wc = prep(w, ct), bc = prep(b, ct);
  Tensor y = empty(x.sizes(), ct, x.device());
  Tensor mean_ = empty({a.R}, ct, x.device()), rstd = empty({a.R}, ct, x.device());
  if (y.numel()) row_norm_stub(x.device(), a, xc, wc, bc, y, mean_, rstd);
  if (is16(x.dtype())) y = to_dtype(y, x.dtype());
  if (rec) {
    rec.set_outputs({y});
    FnNode& n = rec.node();
    n.save(x);
    const bool has_w = w.defined();
    if (has_w) n.save(w);
    n.save(mean_);
    n.save(rstd);
    n.fn = [a, affine, has_w, graph](FnNode& n, variable_list& gr) {
      Tensor x = n.get(0), w = has_w ? n.get(1) : Tensor();
      const bool gw_ = n.needs_input_grad(1), gb_ = n.needs_input_grad(2);
      if (GradMode::is_enabled()) return graph(gr[0], x, w, gw_, gb_);
      const ScalarType ct = compute_type(x);
      Tensor g = prep(gr[0], ct), xc = prep(x, ct), wc = prep(w, ct);
      Tensor gx = n.needs_input_grad(0) ? empty(x.sizes(), ct, x.device()) : Tensor();
      Tensor gw = gw_ ? empty(affine, ct, x.device()) : Tensor();
      Tensor gb = gb_ ? empty(affine, ct, x.device()) : Tensor();
      if (x.numel()) {
        row_norm_backward_stub(x.device(), a, g, xc, wc, n.get(has_w ? 2 : 1), n.get(has_w ? 3 : 2), gx, gw, gb);
      } else {
        if (gw.defined()) fill_(gw, Scalar(0.0));
        if (gb.defined()) fill_(gb, Scalar(0.0));
      }
      return variable_list{gx, gw, gb};
    };
  }
  return y;
}
}  // namespace

Tensor layer_norm(const Tensor& x, int64_t k, const Tensor& w, const Tensor& b, double eps, bool rms) {
  const char* op = rms ? "rms_norm" : "layer_norm";
  check_float(op, x);
  EMBER_CHECK(k >= 0 && k <= x.dim(), ValueError, "[", op, "] cannot normalise ", k, " dims of a ", x.dim(),
              "-d input");
  Shape nshape(x.sizes().end() - k, x.sizes().end());
  RowNormArgs a;
  a.D = 1;
  for (int64_t s : nshape) a.D *= s;
  a.R = a.D ? x.numel() / a.D : 0;
  a.Cg = a.D;
  a.eps = eps;
  a.rms = rms;
  return row_norm(op, x, w, b, a, nshape, [k, eps, rms](const Tensor& g, const Tensor& x, const Tensor& w, bool gw,
                                                         bool gb) {
    Shape dims, batch;
    for (int64_t d = 0; d < x.dim(); ++d) (d >= x.dim() - k ? dims : batch).push_back(d);
    return norm_grads_graph(g, x, w, dims, batch, eps, rms, gw, gb);
  });
}

Tensor group_norm(const Tensor& x, int64_t groups, const Tensor& w, const Tensor& b, double eps) {
  const char* op = "group_norm";
  check_float(op, x);
  EMBER_CHECK(x.dim() >= 2, ValueError, "[", op, "] expected an input of at least 2 dims (N, C, ...), got shape ",
              x.sizes());
  const int64_t N = x.sizes()[0], C = x.sizes()[1];
  EMBER_CHECK(groups > 0 && C % groups == 0, ValueError, "[", op, "] expected num_channels (", C,
              ") to be divisible by num_groups (", groups, ")");
  RowNormArgs a;
  a.HW = (N * C) != 0 ? x.numel() / (N * C) : 0;
  a.G = groups;
  a.Cg = C / groups;
  a.D = a.Cg * a.HW;
  a.R = N * groups;
  a.eps = eps;
  return row_norm(op, x, w, b, a, {C}, [a](const Tensor& g, const Tensor& x, const Tensor& w, bool gw, bool gb) {
    // normalise (N, G, Cg, HW) over its last two dims; the affine tensors act per channel
    const int64_t N = x.sizes()[0], C = x.sizes()[1];
    Tensor wv = w.defined() ? reshape(w, {1, a.G, a.Cg, 1}) : Tensor();
    variable_list r = norm_grads_graph(reshape(g, {N, a.G, a.Cg, a.HW}), reshape(x, {N, a.G, a.Cg, a.HW}), wv,
                                       {2, 3}, {0, 3}, a.eps, false, gw, gb);
    return variable_list{reshape(r[0], x.sizes()), r[1].defined() ? reshape(r[1], {C}) : Tensor(),
                         r[2].defined() ? reshape(r[2], {C}) : Tensor()};
  });
}

// ---- batch norm (eval, no gradient): one pass ------------------------------------------------
Tensor channel_affine(const Tensor& x, const Tensor& scale, const Tensor& shift) {
  const char* op = "batch_norm";
  EMBER_CHECK(x.dim() >= 2, ValueError, "[", op, "] expected an input of at least 2 dims (N, C, ...), got shape ",
              x.sizes());
  EMBER_CHECK(x.dtype() == ScalarType::Float32 || x.dtype() == ScalarType::Float64, TypeError, "[", op,
              "] expected a float32 or float64 input, got ", x.dtype());
  const Shape cs{x.sizes()[1]};
  EMBER_CHECK(scale.sizes() == cs && shift.sizes() == cs && scale.dtype() == x.dtype() && shift.dtype() == x.dtype(),
              ValueError, "[", op, "] expected scale and shift of shape ", cs, " and dtype ", x.dtype(), ", got ",
              scale.sizes(), " and ", shift.sizes());
  EMBER_CHECK(scale.device() == x.device() && shift.device() == x.device(), ValueError, "[", op,
              "] expected all tensors on the same device, got ", x.device(), " and ",
              scale.device() != x.device() ? scale.device() : shift.device());
  Tensor xc = contiguous(x);
  Tensor y = empty(x.sizes(), x.dtype(), x.device());
  if (y.numel()) channel_affine_stub(x.device(), xc, contiguous(scale), contiguous(shift), y);
  return y;
}

// ---- batch norm (training) -----------------------------------------------------------------
std::vector<Tensor> batch_norm_train(const Tensor& x, const Tensor& w, const Tensor& b, double eps) {
  const char* op = "batch_norm";
  check_float(op, x);
  EMBER_CHECK(x.dim() >= 2, ValueError, "[", op, "] expected an input of at least 2 dims (N, C, ...), got shape ",
              x.sizes());
  const int64_t C = x.sizes()[1];
  for (const Tensor* t : {&w, &b})
    EMBER_CHECK(!t->defined() || t->sizes() == Shape{C}, ValueError, "[", op, "] expected weight and bias of shape (",
                C, "), got ", t->sizes());
  Recorder rec(op, {x, w, b});
  const ScalarType ct = compute_type(x);
  Tensor xc = prep(x, ct), wc = prep(w, ct), bc = prep(b, ct);
  Tensor y = empty(x.sizes(), ct, x.device());
  Tensor mean_ = empty({C}, ct, x.device()), var = empty({C}, ct, x.device()), rstd = empty({C}, ct, x.device());
  if (x.numel()) {
    batch_norm_stub(x.device(), xc, wc, bc, eps, y, mean_, var, rstd);
  } else {
    fill_(mean_, Scalar(std::numeric_limits<double>::quiet_NaN()));
    fill_(var, Scalar(std::numeric_limits<double>::quiet_NaN()));
  }
  if (is16(x.dtype())) y = to_dtype(y, x.dtype());
  if (rec) {
    rec.set_outputs({y});
    FnNode& n = rec.node();
    n.save(x);
    const bool has_w = w.defined();
    if (has_w) n.save(w);
    n.save(mean_);
    n.save(rstd);
    n.fn = [eps, has_w](FnNode& n, variable_list& gr) {
      Tensor x = n.get(0), w = has_w ? n.get(1) : Tensor();
      const bool gw_ = n.needs_input_grad(1), gb_ = n.needs_input_grad(2);
      const int64_t C = x.sizes()[1];
      if (GradMode::is_enabled()) {
        Shape dims = other_dims(x.dim(), {1});
        Shape wshape(size_t(x.dim()), 1);
        wshape[1] = C;
        return norm_grads_graph(gr[0], x, w.defined() ? reshape(w, wshape) : Tensor(), dims, dims, eps, false, gw_,
                                gb_);
      }
      const ScalarType ct = compute_type(x);
      Tensor g = prep(gr[0], ct), xc = prep(x, ct), wc = prep(w, ct);
      Tensor gx = n.needs_input_grad(0) ? empty(x.sizes(), ct, x.device()) : Tensor();
      Tensor gw = gw_ ? empty({C}, ct, x.device()) : Tensor();
      Tensor gb = gb_ ? empty({C}, ct, x.device()) : Tensor();
      if (x.numel()) {
        batch_norm_backward_stub(x.device(), g, xc, wc, n.get(has_w ? 2 : 1), n.get(has_w ? 3 : 2), gx, gw, gb);
      } else {
        if (gw.defined()) fill_(gw, Scalar(0.0));
        if (gb.defined()) fill_(gb, Scalar(0.0));
      }
      return variable_list{gx, gw, gb};
    };
  }
  return {y, mean_, var};
}

}  // namespace ember
