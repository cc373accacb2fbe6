// Front end of the fused LSTM pointwise step (ops/nn.h) and its derivative: the fused
// backward kernel, or the same formulas with recording ops when create_graph=True.
#include "../autograd/record.h"
#include "../autograd/sugar.h"
#include "creation.h"
#include "elementwise.h"
#include "nn.h"
#include "shape.h"
#include "view.h"

namespace ember {

DispatchStub<LstmCellKernel> lstm_cell_stub("lstm_cell");
DispatchStub<LstmCellBackwardKernel> lstm_cell_backward_stub("lstm_cell");

using namespace autograd;

std::vector<Tensor> lstm_cell(const Tensor& gates, const Tensor& c) {
  const char* op = "lstm_cell";
  EMBER_CHECK(c.dim() == 2 && gates.dim() == 2 && gates.sizes()[0] == c.sizes()[0] &&
                  gates.sizes()[1] == 4 * c.sizes()[1],
              ValueError, "[", op, "] expected gates (B, 4H) and cell (B, H), got ", gates.sizes(), " and ", c.sizes());
  EMBER_CHECK(gates.dtype() == c.dtype() && (c.dtype() == ScalarType::Float32 || c.dtype() == ScalarType::Float64),
              TypeError, "[", op, "] expected float32 or float64 gates and cell of one dtype, got ", gates.dtype(),
              " and ", c.dtype());
  Recorder rec(op, {gates, c});
  std::vector<Tensor> r = lstm_cell_raw(gates, c);
  Tensor h = r[0], cn = r[1], acts = r[2];
  if (rec) {
    rec.set_outputs({h, cn});
    FnNode& n = rec.node();
    n.save(gates);
    n.save(c);
    n.save(acts);
    n.save_output(cn);
    n.fn = [](FnNode& n, variable_list& g) {
      Tensor gates = n.get(0), c = n.get(1);
      const int64_t H = c.sizes()[1];
      if (GradMode::is_enabled()) {
        Tensor i = un(UnaryOp::sigmoid, narrow(gates, 1, 0, H)), f = un(UnaryOp::sigmoid, narrow(gates, 1, H, H));
        Tensor gg = un(UnaryOp::tanh, narrow(gates, 1, 2 * H, H)), o = un(UnaryOp::sigmoid, narrow(gates, 1, 3 * H, H));
        Tensor cn = f * c + i * gg, tc = un(UnaryOp::tanh, cn);
        Tensor dh = g[0].defined() ? g[0] : zeros_like(c);
        Tensor dc = dh * o * (1.0 - tc * tc);
        if (g[1].defined()) dc = dc + g[1];
        Tensor dg = cat({dc * gg * i * (1.0 - i), dc * c * f * (1.0 - f), dc * i * (1.0 - gg * gg),
                         dh * tc * o * (1.0 - o)},
                        1);
        return variable_list{dg, dc * f};
      }
      auto r = lstm_cell_backward_raw(n.get(2), c, n.get(3), g[0], g[1]);
      return variable_list{r[0], r[1]};
    };
  }
  return {h, cn};
}

std::vector<Tensor> lstm_cell_raw(const Tensor& gates, const Tensor& c) {
  EMBER_CHECK(c.dim() == 2 && gates.dim() == 2 && gates.sizes()[0] == c.sizes()[0] &&
                  gates.sizes()[1] == 4 * c.sizes()[1] && gates.dtype() == c.dtype() &&
                  (c.dtype() == ScalarType::Float32 || c.dtype() == ScalarType::Float64),
              ValueError, "[lstm_cell] expected float32/float64 gates (B, 4H) and cell (B, H), got ", gates.sizes(),
              " and ", c.sizes());
  Tensor gc = contiguous(gates), cc = contiguous(c);
  Tensor h = empty(c.sizes(), c.dtype(), c.device()), cn = empty(c.sizes(), c.dtype(), c.device());
  Tensor acts = empty(gates.sizes(), c.dtype(), c.device());
  if (c.numel()) lstm_cell_stub(c.device(), gc, cc, h, cn, acts);
  return {h, cn, acts};
}

std::vector<Tensor> lstm_cell_backward_raw(const Tensor& acts, const Tensor& c, const Tensor& c_new, const Tensor& gh,
                                           const Tensor& gc) {
  EMBER_CHECK(acts.dim() == 2 && c.dim() == 2 && acts.sizes()[1] == 4 * c.sizes()[1] && c_new.sizes() == c.sizes() &&
                  acts.dtype() == c.dtype() && c_new.dtype() == c.dtype() &&
                  (!gh.defined() || (gh.sizes() == c.sizes() && gh.dtype() == c.dtype())) &&
                  (!gc.defined() || (gc.sizes() == c.sizes() && gc.dtype() == c.dtype())),
              ValueError, "[lstm_cell_backward] expected acts (B, 4H) and cell states and gradients (B, H) of one "
              "dtype, got ", acts.sizes(), " and ", c.sizes());
  Tensor ggates = empty(acts.sizes(), c.dtype(), c.device()), gcp = empty(c.sizes(), c.dtype(), c.device());
  if (c.numel())
    lstm_cell_backward_stub(c.device(), contiguous(acts), contiguous(c), contiguous(c_new),
                            gh.defined() ? contiguous(gh) : Tensor(), gc.defined() ? contiguous(gc) : Tensor(), ggates,
                            gcp);
  return {ggates, gcp};
}

}  // namespace ember
