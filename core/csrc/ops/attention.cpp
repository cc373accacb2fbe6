// Front end of the blocked scaled dot-product attention (ops/nn.h) and its derivative: the
// fused backward kernel, or, when a graph of the gradient is wanted (create_graph=True), the
// same formulas written with recording ops.
#include <cmath>
#include <limits>

#include "../autograd/record.h"
#include "../autograd/sugar.h"
#include "creation.h"
#include "elementwise.h"
#include "linalg.h"
#include "nn.h"
#include "reduce.h"
#include "shape.h"
#include "view.h"

namespace ember {

DispatchStub<AttnForwardKernel> attn_forward_stub("scaled_dot_product_attention");
DispatchStub<AttnBackwardKernel> attn_backward_stub("scaled_dot_product_attention");

using namespace autograd;

namespace {
const char* kOp = "scaled_dot_product_attention";

bool is16(ScalarType t) { return t == ScalarType::Float16 || t == ScalarType::BFloat16; }

// The additive mask of a causal (top-left aligned) L x S attention: 0 on and below the diagonal.
Tensor causal_mask(int64_t L, int64_t S, ScalarType dt, Device dev) {
  Tensor m = full({L, S}, Scalar(-std::numeric_limits<double>::infinity()), dt, dev);
  return triu(m, 1);
}

// Gradients of softmax(q k^T * scale + mask) v by recording ops (differentiable again).
variable_list attention_grads_graph(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, bool causal,
                                    double scale, const Tensor& go) {
  Tensor s = matmul(q, mT(k)) * scale;
  if (mask.defined()) s = s + mask;
  if (causal) s = s + causal_mask(q.sizes()[q.dim() - 2], k.sizes()[k.dim() - 2], s.dtype(), s.device());
  Tensor p = softmax(s, -1, false);
  Tensor gv = matmul(mT(p), go);
  Tensor dp = matmul(go, mT(v));
  Tensor ds = p * (dp - sum(dp * p, OptDims(Shape{-1}), true, std::nullopt));
  return {matmul(ds, k) * scale, matmul(mT(ds), q) * scale, gv};
}
// Sizes of an attention over q (*lead, L, E), k (*lead, S, E), v (*lead, S, Ev).
AttnArgs attn_args(const Tensor& q, const Tensor& k, const Tensor& v, bool causal, double scale) {
  const int64_t nd = q.dim();
  AttnArgs a;
  a.BH = 1;
  for (int64_t d = 0; d < nd - 2; ++d) a.BH *= q.sizes()[d];
  a.L = q.sizes()[nd - 2];
  a.E = q.sizes()[nd - 1];
  a.S = k.sizes()[nd - 2];
  a.Ev = v.sizes()[nd - 1];
  a.scale = scale;
  a.causal = causal;
  return a;
}

// Points a.mask at `mask` (additive, broadcastable to (*lead, L, S)) as a broadcast view in
// the compute dtype, with the element offset of each flattened batch index. `holder` keeps
// the view alive.
void attach_mask(AttnArgs& a, const Tensor& mask, const Shape& lead, ScalarType ct, Tensor& holder) {
  if (!mask.defined()) return;
  const int64_t nb = int64_t(lead.size());
  Shape full_shape = lead;
  full_shape.push_back(a.L);
  full_shape.push_back(a.S);
  Tensor mc = to_dtype(mask, ct);
  if (mc.dim() < nb + 2) {
    Shape ms(size_t(nb + 2 - mc.dim()), 1);
    ms.insert(ms.end(), mc.sizes().begin(), mc.sizes().end());
    mc = reshape(mc, ms);
  }
  holder = expand(mc, full_shape);  // a view: broadcast dims have stride 0
  a.mask = &holder;
  a.mask_ls = holder.strides()[nb];
  a.mask_ss = holder.strides()[nb + 1];
  a.mask_off.assign(size_t(a.BH), 0);
  for (int64_t bh = 0; bh < a.BH; ++bh) {
    int64_t rem = bh, off = 0;
    for (int64_t d = nb - 1; d >= 0; --d) {
      off += (rem % lead[size_t(d)]) * holder.strides()[d];
      rem /= lead[size_t(d)];
    }
    a.mask_off[size_t(bh)] = off;
  }
}
}  // namespace

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                                    bool causal, double scale) {
  EMBER_CHECK(q.dim() >= 2 && k.dim() == q.dim() && v.dim() == q.dim(), ValueError, "[", kOp,
              "] expected query, key and value with the same number (>= 2) of dims, got ", q.sizes(), ", ",
              k.sizes(), " and ", v.sizes());
  const int64_t nd = q.dim(), L = q.sizes()[nd - 2], E = q.sizes()[nd - 1], S = k.sizes()[nd - 2],
                Ev = v.sizes()[nd - 1];
  Shape lead(q.sizes().begin(), q.sizes().end() - 2);
  EMBER_CHECK(Shape(k.sizes().begin(), k.sizes().end() - 2) == lead &&
                  Shape(v.sizes().begin(), v.sizes().end() - 2) == lead,
              ValueError, "[", kOp, "] expected query, key and value with the same batch dims, got ", q.sizes(), ", ",
              k.sizes(), " and ", v.sizes());
  EMBER_CHECK(k.sizes()[nd - 1] == E, ValueError, "[", kOp, "] query and key must have the same last dim, got ",
              q.sizes(), " and ", k.sizes());
  EMBER_CHECK(v.sizes()[nd - 2] == S, ValueError, "[", kOp, "] key and value must have the same length, got ",
              k.sizes(), " and ", v.sizes());
  EMBER_CHECK(q.dtype() == k.dtype() && q.dtype() == v.dtype() && is_floating(q.dtype()), TypeError, "[", kOp,
              "] expected floating point query, key and value of one dtype, got ", q.dtype(), ", ", k.dtype(), ", ",
              v.dtype());
  EMBER_CHECK(!mask.defined() || !requires_grad(mask), ValueError, "[", kOp,
              "] the fused kernel does not differentiate the mask");
  Recorder rec(kOp, {q, k, v});
  const ScalarType ct = is16(q.dtype()) ? ScalarType::Float32 : q.dtype();
  Tensor qc = contiguous(to_dtype(q, ct)), kc = contiguous(to_dtype(k, ct)), vc = contiguous(to_dtype(v, ct));
  AttnArgs a = attn_args(q, k, v, causal, scale);
  Tensor mc;
  attach_mask(a, mask, lead, ct, mc);
  Shape oshape = lead;
  oshape.push_back(L);
  oshape.push_back(Ev);
  Tensor out = empty(oshape, ct, q.device());
  Tensor lse = empty({a.BH, L}, ct, q.device());
  if (out.numel()) {
    if (S == 0) fill_(out, Scalar(std::numeric_limits<double>::quiet_NaN()));
    else attn_forward_stub(q.device(), a, qc, kc, vc, out, lse);
  }
  Tensor result = is16(q.dtype()) ? to_dtype(out, q.dtype()) : out;
  if (rec) {
    rec.set_outputs({result});
    FnNode& n = rec.node();
    n.save(q);
    n.save(k);
    n.save(v);
    const bool has_mask = mask.defined();
    if (has_mask) n.save(mask);
    // the compute-dtype output, for D = rowsum(dO * O): the result itself unless 16-bit
    if (result.is_same(out)) n.save_output(result);
    else n.save(out);
    n.save(lse);
    const size_t io = has_mask ? 4 : 3;  // index of the saved output
    n.fn = [causal, scale, has_mask, io](FnNode& n, variable_list& g) {
      Tensor q = n.get(0), k = n.get(1), v = n.get(2), mask = has_mask ? n.get(3) : Tensor();
      if (GradMode::is_enabled()) return attention_grads_graph(q, k, v, mask, causal, scale, g[0]);
      Tensor out = n.get(io), lse = n.get(io + 1);
      const ScalarType ct = out.dtype();
      Tensor qc = contiguous(to_dtype(q, ct)), kc = contiguous(to_dtype(k, ct)), vc = contiguous(to_dtype(v, ct));
      Tensor go = contiguous(to_dtype(g[0], ct));
      AttnArgs a = attn_args(q, k, v, causal, scale);
      Tensor mc;
      attach_mask(a, mask, Shape(q.sizes().begin(), q.sizes().end() - 2), ct, mc);  // as the forward
      Tensor gq = empty(qc.sizes(), ct, q.device()), gk = empty(kc.sizes(), ct, q.device()),
             gv = empty(vc.sizes(), ct, q.device());
      if (a.L && a.S && a.BH) {
        attn_backward_stub(q.device(), a, qc, kc, vc, out, lse, go, gq, gk, gv);
      } else {
        fill_(gq, Scalar(0.0));
        fill_(gk, Scalar(0.0));
        fill_(gv, Scalar(0.0));
      }
      return variable_list{gq, gk, gv};
    };
  }
  return result;
}

}  // namespace ember
