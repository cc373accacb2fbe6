// Front end of nll_loss (ops/nn.h) and its derivative: the fused backward kernel, or, when a
// graph of the gradient is wanted, a scatter of -w[t] * g written with recording ops.
#include "../autograd/record.h"
#include "../autograd/sugar.h"
#include "creation.h"
#include "elementwise.h"
#include "index.h"
#include "nn.h"
#include "reduce.h"
#include "view.h"

namespace ember {

DispatchStub<NllKernel> nll_stub("nll_loss");
DispatchStub<NllBackwardKernel> nll_backward_stub("nll_loss");

using namespace autograd;

namespace {
bool is16(ScalarType t) { return t == ScalarType::Float16 || t == ScalarType::BFloat16; }
}  // namespace

Tensor nll_loss(const Tensor& logp, const Tensor& target, const Tensor& weight, int64_t ignore_index, int reduction) {
  const char* op = "nll_loss";
  EMBER_CHECK(logp.dim() >= 2, ValueError, "[", op, "] expected input (N, C, ...), got shape ", logp.sizes());
  EMBER_CHECK(is_floating(logp.dtype()), TypeError, "[", op, "] expected a floating point input, got ", logp.dtype());
  EMBER_CHECK(target.dtype() == ScalarType::Int64, TypeError, "[", op, "] expected int64 class-index targets, got ",
              target.dtype());
  Shape ts{logp.sizes()[0]};
  ts.insert(ts.end(), logp.sizes().begin() + 2, logp.sizes().end());
  EMBER_CHECK(target.sizes() == ts, ValueError, "[", op, "] expected target of shape ", ts, " for input of shape ",
              logp.sizes(), ", got ", target.sizes());
  NllArgs a;
  a.N = logp.sizes()[0];
  a.C = logp.sizes()[1];
  a.K = (a.N * a.C) != 0 ? logp.numel() / (a.N * a.C) : 1;
  a.ignore_index = ignore_index;
  a.reduction = reduction;
  EMBER_CHECK(!weight.defined() || weight.sizes() == Shape{a.C}, ValueError, "[", op, "] expected weight of shape (",
              a.C, "), got ", weight.sizes());
  Recorder rec(op, {logp});
  const ScalarType ct = is16(logp.dtype()) ? ScalarType::Float32 : logp.dtype();
  Tensor lc = contiguous(to_dtype(logp, ct)), tc = contiguous(target);
  Tensor wc = weight.defined() ? contiguous(to_dtype(weight, ct)) : Tensor();
  Tensor out = empty(reduction == 0 ? ts : Shape{}, ct, logp.device());
  Tensor tw = empty({}, ct, logp.device());
  nll_stub(logp.device(), a, lc, tc, wc, out, tw);
  if (is16(logp.dtype())) out = to_dtype(out, logp.dtype());
  if (rec) {
    rec.set_outputs({out});
    FnNode& n = rec.node();
    n.save(tc);
    const bool has_w = wc.defined();
    if (has_w) n.save(wc);
    n.save(tw);
    Shape xs = logp.sizes();
    n.fn = [a, has_w, xs, ct](FnNode& n, variable_list& gr) {
      Tensor t = n.get(0), w = has_w ? n.get(1) : Tensor(), tw = n.get(has_w ? 2 : 1);
      if (GradMode::is_enabled()) {
        // gx = scatter of -w[t] * g (scaled by 1 / total weight for 'mean') at the targets
        Tensor valid = binary(BinaryOp::ne, t, sc(double(a.ignore_index)));
        Tensor safe = where(valid, t, zeros_like(t));
        Tensor wt = has_w ? index_select(w, 0, reshape(safe, {-1})) : ones({a.N * a.K}, ct);
        wt = reshape(wt, t.sizes()) * to_dtype(valid, ct);
        Tensor gi = a.reduction == 0 ? gr[0] : (a.reduction == 1 ? gr[0] / tw : gr[0]);
        Tensor src = reshape(-(wt * gi), {a.N, 1, a.K});
        Tensor gx = zeros({a.N, a.C, a.K}, ct);
        gx = scatter_add_(gx, 1, reshape(safe, {a.N, 1, a.K}), src);
        return variable_list{reshape(gx, xs)};
      }
      Tensor gx = empty(xs, ct);
      nll_backward_stub(gx.device(), a, contiguous(to_dtype(gr[0], ct)), t, w, tw, gx);
      return variable_list{gx};
    };
  }
  return out;
}

}  // namespace ember
