// Convolutions as im2col + batched GEMM, with their derivatives (ops/nn.h explains the
// three closed ops). 16-bit floats compute in float32.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "../autograd/record.h"
#include "creation.h"
#include "elementwise.h"
#include "linalg.h"
#include "nn.h"
#include "view.h"

namespace ember {

DispatchStub<Im2colKernel> im2col_stub("conv");
DispatchStub<Col2imKernel> col2im_stub("conv");
DispatchStub<ConvForwardKernel> conv_forward_stub("conv");
DispatchStub<WinogradKernel> winograd_stub("conv");
DispatchStub<WinogradWeightKernel> winograd_weight_stub("conv_weight_grad");
DispatchStub<WinogradS2Kernel> winograd_s2_stub("conv");
DispatchStub<DepthwiseKernel> depthwise_forward_stub("conv");
DispatchStub<DepthwiseKernel> depthwise_backward_input_stub("conv_transpose");
DispatchStub<DepthwiseKernel> depthwise_backward_weight_stub("conv_weight_grad");

using namespace autograd;

bool ConvGeom::pointwise() const {
  for (int d = 0; d < 3; ++d)
    if (k[d] != 1 || stride[d] != 1 || pad[d] != 0 || in[d] != out[d]) return false;
  return true;
}

namespace {
Shape spatial(int64_t a, int64_t b, const int64_t* s, int nsp) {
  Shape r{a, b};
  for (int d = 3 - nsp; d < 3; ++d) r.push_back(s[d]);
  return r;
}
}  // namespace

Shape ConvGeom::x_shape() const { return spatial(N, C, in, nsp); }
Shape ConvGeom::y_shape() const { return spatial(N, Cout, out, nsp); }
Shape ConvGeom::w_shape() const { return spatial(Cout, C / G, k, nsp); }

namespace {

bool is16(ScalarType t) { return t == ScalarType::Float16 || t == ScalarType::BFloat16; }

// Winograd F(4x4, 3x3) pays for float32 3x3 stride-1 convs with enough channels, outputs of at
// least one 4x4 tile and at least 16 tiles in the batch (fewer: transforming the weights, 36 x
// Cout x C floats, costs more than the multiplies saved; 1 image of 4x4 at 512 channels ran 9x
// slower). EMBER_CONV_WINOGRAD=0 turns it off (im2col + GEMM for every conv).
bool winograd_enabled() {  // read once per process
  static const bool enabled = [] {
    const char* e = std::getenv("EMBER_CONV_WINOGRAD");
    return !(e && std::string(e) == "0");
  }();
  return enabled;
}

bool winograd_ok(const ConvGeom& g, const Tensor& x, bool adjoint) {
  const int64_t* out = adjoint ? g.in : g.out;
  return winograd_enabled() && x.device().is_cpu() && x.dtype() == ScalarType::Float32 && g.nsp == 2 && g.G == 1 &&
         g.k[1] == 3 && g.k[2] == 3 && g.stride[1] == 1 && g.stride[2] == 1 && g.dil[1] == 1 && g.dil[2] == 1 &&
         g.C >= 16 && g.Cout >= 16 && out[1] >= 4 && out[2] >= 4 && g.N * ((out[1] + 3) / 4) * ((out[2] + 3) / 4) >= 16 &&
         (!adjoint || (g.pad[1] <= 2 && g.pad[2] <= 2));
}

// The stride-2 form (space-to-depth + F(4x4, 2x2), forward only) pays with at least 128 output
// tiles in the batch: its 25 GEMMs are (K x 4C) @ (4C x tiles), slower than one im2col GEMM below
// that (256 -> 512 channels at 8x8, b32, 32 tiles: 8 ms against 5.5).
bool winograd_s2_ok(const ConvGeom& g, const Tensor& x) {
  return winograd_enabled() && x.device().is_cpu() && x.dtype() == ScalarType::Float32 && g.nsp == 2 && g.G == 1 &&
         g.k[1] == 3 && g.k[2] == 3 && g.stride[1] == 2 && g.stride[2] == 2 && g.dil[1] == 1 && g.dil[2] == 1 &&
         g.C >= 16 && g.Cout >= 16 && g.N * ((g.out[1] + 3) / 4) * ((g.out[2] + 3) / 4) >= 128;
}

// Runs f on float32 copies of 16-bit CPU inputs and casts the result back (CUDA computes 16-bit
// convolutions natively: 16-bit columns, cuBLAS with float accumulation).
template <typename F>
Tensor in_float(const Tensor& a, const Tensor& b, F&& f) {
  if (!is16(a.dtype()) || !a.device().is_cpu()) return f(contiguous(a), contiguous(b));
  return to_dtype(f(to_dtype(a, ScalarType::Float32), to_dtype(b, ScalarType::Float32)), a.dtype());
}

// Depthwise geometries on the CPU run the direct kernels (cpu/depthwise_kernels.cpp) instead of
// im2col and one tiny GEMM per group.
bool use_depthwise(const ConvGeom& g, const Tensor& t) { return g.depthwise() && t.device().is_cpu(); }
Tensor depthwise(const DispatchStub<DepthwiseKernel>& stub, const ConvGeom& g, const Tensor& a, const Tensor& b,
                 const Shape& shape) {
  Tensor out = empty(shape, a.dtype(), a.device());
  if (out.numel()) stub(a.device(), g, a, b, out);
  return out;
}

void check_operand(const char* op, const char* what, const Tensor& t, const Shape& expected, ScalarType dt) {
  EMBER_CHECK(t.sizes() == expected, ValueError, "[", op, "] ", what, " has the wrong shape: expected ", expected,
              ", got ", t.sizes());
  EMBER_CHECK(t.dtype() == dt, TypeError, "[", op, "] expected ", what, " of dtype ", dt, ", got ", t.dtype());
  EMBER_CHECK(is_floating(t.dtype()), TypeError, "[", op, "] expected a floating point ", what, ", got ", t.dtype());
}

// (N, C*kprod, L) columns of x (x itself for a pointwise geometry).
Tensor columns(const Tensor& x, const ConvGeom& g) {
  if (g.pointwise()) return view(x, {g.N, g.C, g.lout()});
  Tensor col = empty({g.N, g.C * g.kprod(), g.lout()}, x.dtype(), x.device());
  if (col.numel()) im2col_stub(x.device(), g, x, col, false);
  return col;
}

Tensor forward_impl(const Tensor& x0, const Tensor& w0, const ConvGeom& g) {
  return in_float(x0, w0, [&](const Tensor& x, const Tensor& w) {
    if (use_depthwise(g, x)) return depthwise(depthwise_forward_stub, g, x, w, g.y_shape());
    const int64_t cg = g.C / g.G, og = g.Cout / g.G, ckg = cg * g.kprod(), L = g.lout();
    Tensor y = empty(g.y_shape(), x.dtype(), x.device());
    if (y.numel() == 0) return y;
    if (winograd_ok(g, x, false)) {
      winograd_stub(x.device(), g, x, w, y, false);
      return y;
    }
    if (winograd_s2_ok(g, x)) {
      winograd_s2_stub(x.device(), g, x, w, y);
      return y;
    }
    // tiles of im2col + GEMM for large outputs; small ones (a few output rows) multiply the
    // whole batch's columns at once
    if (!g.pointwise() && cg * g.kprod() > 0 && L >= 512 && x.device().is_cpu()) {
      conv_forward_stub(x.device(), g, x, w, y);
      return y;
    }
    if (!g.pointwise()) {
      // small outputs: one GEMM per group over the whole batch, columns laid out (C*k, N, L),
      // then (Cout, N, L) -> (N, Cout, L)
      Tensor col = empty({g.C * g.kprod(), g.N, L}, x.dtype(), x.device());
      im2col_stub(x.device(), g, x, col, true);
      Tensor tmp = empty({g.G, og, g.N * L}, x.dtype(), x.device());
      gemm_out("conv", tmp, view(w, {g.G, og, ckg}), view(col, {g.G, ckg, g.N * L}), Scalar(1.0), Scalar(0.0),
               true);
      copy_(view(y, {g.N, g.Cout, L}), permute(view(tmp, {g.Cout, g.N, L}), {1, 0, 2}));
      return y;
    }
    Tensor col = columns(x, g);
    Tensor yv = view(y, {g.N, g.G, og, L});
    Tensor wv = expand(view(w, {1, g.G, og, ckg}), {g.N, g.G, og, ckg});
    gemm_out("conv", yv, wv, view(col, {g.N, g.G, ckg, L}), Scalar(1.0), Scalar(0.0), true);
    return y;
  });
}

Tensor backward_input_impl(const Tensor& gy0, const Tensor& w0, const ConvGeom& g) {
  return in_float(gy0, w0, [&](const Tensor& gy, const Tensor& w) {
    if (use_depthwise(g, gy)) return depthwise(depthwise_backward_input_stub, g, gy, w, g.x_shape());
    const int64_t cg = g.C / g.G, og = g.Cout / g.G, ckg = cg * g.kprod(), L = g.lout();
    if (g.pointwise()) {
      Tensor gx = empty(g.x_shape(), gy.dtype(), gy.device());
      if (gx.numel() == 0) return gx;
      Tensor wt = expand(mT(view(w, {1, g.G, og, ckg})), {g.N, g.G, ckg, og});
      gemm_out("conv_transpose", view(gx, {g.N, g.G, ckg, L}), wt, view(gy, {g.N, g.G, og, L}), Scalar(1.0),
               Scalar(0.0), true);
      return gx;
    }
    if (L > 0 && winograd_ok(g, gy, true)) {
      Tensor gx = empty(g.x_shape(), gy.dtype(), gy.device());
      if (gx.numel()) winograd_stub(gy.device(), g, gy, w, gx, true);
      return gx;
    }
    Tensor gx = zeros(g.x_shape(), gy.dtype(), gy.device());
    if (gx.numel() == 0 || L == 0) return gx;
    if (L < 512) {  // small outputs: one GEMM per group over the batch, columns (C*k, N, L)
      Tensor gyt = contiguous(permute(view(gy, {g.N, g.Cout, L}), {1, 0, 2}));  // (Cout, N, L)
      Tensor col = empty({g.C * g.kprod(), g.N, L}, gy.dtype(), gy.device());
      gemm_out("conv_transpose", view(col, {g.G, ckg, g.N * L}), mT(view(w, {g.G, og, ckg})),
               view(gyt, {g.G, og, g.N * L}), Scalar(1.0), Scalar(0.0), true);
      col2im_stub(gy.device(), g, col, gx, true);
      return gx;
    }
    Tensor col = empty({g.N, g.G, ckg, L}, gy.dtype(), gy.device());
    Tensor wt = expand(mT(view(w, {1, g.G, og, ckg})), {g.N, g.G, ckg, og});
    gemm_out("conv_transpose", col, wt, view(gy, {g.N, g.G, og, L}), Scalar(1.0), Scalar(0.0), true);
    col2im_stub(gy.device(), g, col, gx, false);
    return gx;
  });
}

Tensor backward_weight_impl(const Tensor& x0, const Tensor& gy0, const ConvGeom& g) {
  return in_float(x0, gy0, [&](const Tensor& x, const Tensor& gy) {
    if (use_depthwise(g, x)) return depthwise(depthwise_backward_weight_stub, g, x, gy, g.w_shape());
    const int64_t cg = g.C / g.G, og = g.Cout / g.G, ckg = cg * g.kprod(), L = g.lout();
    if (L > 0 && winograd_ok(g, x, false)) {
      Tensor gw = empty(g.w_shape(), x.dtype(), x.device());
      winograd_weight_stub(x.device(), g, x, gy, gw);
      return gw;
    }
    Tensor gw = zeros(g.w_shape(), x.dtype(), x.device());
    if (gw.numel() == 0 || g.N == 0 || L == 0) return gw;
    // One GEMM per group over the whole batch: gw (G, og, ckg) = gy (G, og, N*L) @ col^T,
    // with the columns laid out (G, ckg, N*L).
    Tensor col;
    if (g.pointwise()) {
      col = contiguous(permute(view(x, {g.N, g.C, L}), {1, 0, 2}));
    } else {
      col = empty({g.C * g.kprod(), g.N, L}, x.dtype(), x.device());
      im2col_stub(x.device(), g, x, col, true);
    }
    Tensor gyt = contiguous(permute(view(gy, {g.N, g.G, og, L}), {1, 2, 0, 3}));  // (G, og, N, L)
    gemm_out("conv", view(gw, {g.G, og, ckg}), view(gyt, {g.G, og, g.N * L}), mT(view(col, {g.G, ckg, g.N * L})),
             Scalar(1.0), Scalar(0.0), true);
    return gw;
  });
}

}  // namespace

Tensor conv_forward(const Tensor& x, const Tensor& w, const ConvGeom& g) {
  check_operand("conv", "input", x, g.x_shape(), x.dtype());
  check_operand("conv", "weight", w, g.w_shape(), x.dtype());
  Recorder rec("conv", {x, w});
  Tensor y = forward_impl(x, w, g);
  if (rec) {
    rec.set_outputs({y});
    FnNode& n = rec.node();
    n.save(n.needs_input_grad(1) ? x : Tensor());
    n.save(n.needs_input_grad(0) ? w : Tensor());
    n.fn = [g](FnNode& n, variable_list& gr) {
      return variable_list{n.needs_input_grad(0) ? conv_backward_input(gr[0], n.get(1), g) : Tensor(),
                           n.needs_input_grad(1) ? conv_backward_weight(n.get(0), gr[0], g) : Tensor()};
    };
  }
  return y;
}

Tensor conv_backward_input(const Tensor& gy, const Tensor& w, const ConvGeom& g) {
  check_operand("conv_transpose", "input", gy, g.y_shape(), gy.dtype());
  check_operand("conv_transpose", "weight", w, g.w_shape(), gy.dtype());
  Recorder rec("conv_transpose", {gy, w});
  Tensor gx = backward_input_impl(gy, w, g);
  if (rec) {
    rec.set_outputs({gx});
    FnNode& n = rec.node();
    n.save(n.needs_input_grad(1) ? gy : Tensor());
    n.save(n.needs_input_grad(0) ? w : Tensor());
    n.fn = [g](FnNode& n, variable_list& gr) {
      return variable_list{n.needs_input_grad(0) ? conv_forward(gr[0], n.get(1), g) : Tensor(),
                           n.needs_input_grad(1) ? conv_backward_weight(gr[0], n.get(0), g) : Tensor()};
    };
  }
  return gx;
}

Tensor conv_backward_weight(const Tensor& x, const Tensor& gy, const ConvGeom& g) {
  check_operand("conv_weight_grad", "input", x, g.x_shape(), x.dtype());
  check_operand("conv_weight_grad", "output gradient", gy, g.y_shape(), x.dtype());
  Recorder rec("conv_weight_grad", {x, gy});
  Tensor gw = backward_weight_impl(x, gy, g);
  if (rec) {
    rec.set_outputs({gw});
    FnNode& n = rec.node();
    n.save(n.needs_input_grad(1) ? x : Tensor());
    n.save(n.needs_input_grad(0) ? gy : Tensor());
    n.fn = [g](FnNode& n, variable_list& gr) {
      return variable_list{n.needs_input_grad(0) ? conv_backward_input(n.get(1), gr[0], g) : Tensor(),
                           n.needs_input_grad(1) ? conv_forward(n.get(0), gr[0], g) : Tensor()};
    };
  }
  return gw;
}

// ---- im2col / col2im as ops (F.unfold / F.fold) -----------------------------------------
Tensor im2col(const Tensor& x, const ConvGeom& g) {
  check_operand("unfold", "input", x, g.x_shape(), x.dtype());
  Recorder rec("unfold", {x});
  Tensor xc = is16(x.dtype()) ? to_dtype(x, ScalarType::Float32) : contiguous(x);
  Tensor col = empty({g.N, g.C * g.kprod(), g.lout()}, xc.dtype(), x.device());
  if (col.numel()) im2col_stub(x.device(), g, xc, col, false);
  if (is16(x.dtype())) col = to_dtype(col, x.dtype());
  if (rec) {
    rec.set_outputs({col});
    rec.node().fn = [g](FnNode&, variable_list& gr) { return variable_list{col2im(gr[0], g)}; };
  }
  return col;
}

Tensor col2im(const Tensor& col, const ConvGeom& g) {
  check_operand("fold", "input", col, Shape{g.N, g.C * g.kprod(), g.lout()}, col.dtype());
  Recorder rec("fold", {col});
  Tensor cc = is16(col.dtype()) ? to_dtype(col, ScalarType::Float32) : contiguous(col);
  Tensor x = zeros(g.x_shape(), cc.dtype(), col.device());
  if (x.numel() && cc.numel()) col2im_stub(col.device(), g, cc, x, false);
  if (is16(col.dtype())) x = to_dtype(x, col.dtype());
  if (rec) {
    rec.set_outputs({x});
    rec.node().fn = [g](FnNode&, variable_list& gr) { return variable_list{im2col(gr[0], g)}; };
  }
  return x;
}

}  // namespace ember
