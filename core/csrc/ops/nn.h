// Neural-network kernels: convolution (im2col + GEMM), pooling, softmax.
//
// Convolutions are three closed ops over one geometry (ConvGeom: x is the convolution's
// input, y its output):
//   conv_forward(x, w)      y  = A_w x                 (conv1d/2d/3d)
//   conv_backward_input(gy, w)  gx = A_w^T gy          (conv_transpose1d/2d/3d)
//   conv_backward_weight(x, gy) gw = d<gy, A_w x>/dw
// Each one's derivatives are the other two, so every order of derivative works.
// Pooling uses per-dimension window tables (begin/end of each output's window), which
// cover fixed windows (stride, padding, dilation, ceil_mode) and adaptive ones alike.
#pragma once
#include <optional>
#include <vector>

#include "../tensor/tensor.h"
#include "dispatch.h"

namespace ember {

// Spatial dims are stored in the last `nsp` of three slots; the others are 1.
struct ConvGeom {
  int nsp = 2;
  int64_t N = 0, C = 0, Cout = 0, G = 1;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1};
  int64_t stride[3] = {1, 1, 1}, pad[3] = {0, 0, 0}, dil[3] = {1, 1, 1};
  int64_t kprod() const { return k[0] * k[1] * k[2]; }
  int64_t lin() const { return in[0] * in[1] * in[2]; }
  int64_t lout() const { return out[0] * out[1] * out[2]; }
  // 1x1 kernel, unit stride, no padding: im2col is the identity.
  bool pointwise() const;
  // groups == C > 1 (Cout = C * multiplier): the direct depthwise kernels, no im2col (a single
  // input channel, C == G == 1, stays an ordinary conv: one GEMM over all its outputs wins).
  bool depthwise() const { return G == C && C > 1; }
  Shape x_shape() const;
  Shape y_shape() const;
  Shape w_shape() const;
};

// col: (N, C * kprod, Lout) contiguous, or (C * kprod, N, Lout) with batch_inner (one GEMM
// over the whole batch for the weight gradient); x: (N, C, *in) contiguous.
using Im2colKernel = void (*)(const ConvGeom&, const Tensor& x, const Tensor& col, bool batch_inner);
using Col2imKernel = void (*)(const ConvGeom&, const Tensor& col, const Tensor& x, bool batch_inner);  // x overwritten
extern DispatchStub<Im2colKernel> im2col_stub;
// y (N, Cout, *out) = conv(x, w) with im2col done per tile of output rows into a per-thread
// buffer, each tile multiplied right away (the columns never leave the cache).
using ConvForwardKernel = void (*)(const ConvGeom&, const Tensor& x, const Tensor& w, const Tensor& y);
extern DispatchStub<ConvForwardKernel> conv_forward_stub;
extern DispatchStub<Col2imKernel> col2im_stub;
// Winograd F(4x4, 3x3) for float32 3x3 stride-1 undilated ungrouped 2-d convs (cpu/winograd_kernels.cpp):
// y = conv(x, w), or with adjoint, y (N, C, *in) = conv_transpose(x = gy (N, Cout, *out), w) (needs pad <= 2).
using WinogradKernel = void (*)(const ConvGeom&, const Tensor& x, const Tensor& w, const Tensor& y, bool adjoint);
extern DispatchStub<WinogradKernel> winograd_stub;
// gw (Cout, C, 3, 3) = the weight gradient of the same convs from x and gy.
using WinogradWeightKernel = void (*)(const ConvGeom&, const Tensor& x, const Tensor& gy, const Tensor& gw);
extern DispatchStub<WinogradWeightKernel> winograd_weight_stub;
// y = conv(x, w) for the float32 3x3 stride-2 undilated ungrouped 2-d convs: the four phases of x
// as 4C channels of a 2x2 stride-1 conv, in Winograd F(4x4, 2x2) (cpu/winograd_kernels.cpp).
using WinogradS2Kernel = void (*)(const ConvGeom&, const Tensor& x, const Tensor& w, const Tensor& y);
extern DispatchStub<WinogradS2Kernel> winograd_s2_stub;

// Depthwise convolutions computed directly (cpu/depthwise_kernels.cpp), operands contiguous,
// out overwritten: forward (x, w) -> y, backward_input (gy, w) -> gx (the adjoint, also
// conv_transpose), backward_weight (x, gy) -> gw (independent of the thread count).
using DepthwiseKernel = void (*)(const ConvGeom&, const Tensor& a, const Tensor& b, const Tensor& out);
extern DispatchStub<DepthwiseKernel> depthwise_forward_stub;
extern DispatchStub<DepthwiseKernel> depthwise_backward_input_stub;
extern DispatchStub<DepthwiseKernel> depthwise_backward_weight_stub;

Tensor conv_forward(const Tensor& x, const Tensor& w, const ConvGeom& g);
Tensor conv_backward_input(const Tensor& gy, const Tensor& w, const ConvGeom& g);
Tensor conv_backward_weight(const Tensor& x, const Tensor& gy, const ConvGeom& g);
Tensor im2col(const Tensor& x, const ConvGeom& g);    // (N, C, *in) -> (N, C*kprod, Lout)
Tensor col2im(const Tensor& col, const ConvGeom& g);  // its adjoint

// ---- pooling ----------------------------------------------------------------------
struct PoolGeom {
  int nsp = 2;
  int64_t planes = 0;                       // N * C
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  int64_t dil[3] = {1, 1, 1};
  std::vector<int64_t> begin[3], end[3];    // window of output o in dim d: [begin, end) step dil
  // avg: divide by the window's size clipped to [-pad, in + pad) (count_include_pad), by the
  // number of in-bounds elements, or by divisor_override.
  int64_t pad[3] = {0, 0, 0};
  bool count_include_pad = true;
  int64_t divisor_override = 0;
  Shape in_shape, out_shape;                // full shapes (batch and channel dims included)
};

// The divisor of each output of an average pool, in output order (shared by the CPU and CUDA
// kernels).
std::vector<double> avg_pool_divisors(const PoolGeom& g);

using MaxPoolKernel = void (*)(const PoolGeom&, const Tensor& x, const Tensor& y, const Tensor& idx);
using AvgPoolKernel = void (*)(const PoolGeom&, const Tensor& src, const Tensor& dst, bool adjoint);
extern DispatchStub<MaxPoolKernel> max_pool_stub;
extern DispatchStub<AvgPoolKernel> avg_pool_stub;

std::vector<Tensor> max_pool(const Tensor& x, const PoolGeom& g);  // {values, indices into each plane}
Tensor avg_pool(const Tensor& x, const PoolGeom& g);
Tensor avg_pool_adjoint(const Tensor& gy, const PoolGeom& g);

// ---- softmax ----------------------------------------------------------------------
// x viewed as (outer, n, inner) contiguous.
using SoftmaxKernel = void (*)(const Tensor& x, const Tensor& y, int64_t outer, int64_t n, int64_t inner, bool log);
using SoftmaxBackwardKernel = void (*)(const Tensor& g, const Tensor& y, const Tensor& gx, int64_t outer, int64_t n,
                                       int64_t inner, bool log);
extern DispatchStub<SoftmaxKernel> softmax_stub;
extern DispatchStub<SoftmaxBackwardKernel> softmax_backward_stub;

Tensor softmax(const Tensor& x, int64_t dim, bool log);
Tensor softmax_backward(const Tensor& g, const Tensor& y, int64_t dim, bool log);

// ---- normalisation ------------------------------------------------------------------
// Rows of D contiguous elements normalised by their own statistics (layer, group and RMS
// norm): y = (x - mean) * rstd * w[j] + b[j] with j = (row % G) * Cg + d / HW (layer/RMS
// norm: G = HW = 1, Cg = D; group norm: G groups of Cg channels of HW positions).
struct RowNormArgs {
  int64_t R = 0, D = 0, G = 1, Cg = 0, HW = 1;
  double eps = 1e-5;
  bool rms = false;  // no mean subtraction
};
using RowNormKernel = void (*)(const RowNormArgs&, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y,
                               const Tensor& mean, const Tensor& rstd);
using RowNormBackwardKernel = void (*)(const RowNormArgs&, const Tensor& g, const Tensor& x, const Tensor& w,
                                       const Tensor& mean, const Tensor& rstd, const Tensor& gx, const Tensor& gw,
                                       const Tensor& gb);
// Batch norm over x (N, C, HW): statistics per channel.
using BatchNormKernel = void (*)(const Tensor& x, const Tensor& w, const Tensor& b, double eps, const Tensor& y,
                                 const Tensor& mean, const Tensor& var, const Tensor& rstd);
using BatchNormBackwardKernel = void (*)(const Tensor& g, const Tensor& x, const Tensor& w, const Tensor& mean,
                                         const Tensor& rstd, const Tensor& gx, const Tensor& gw, const Tensor& gb);
extern DispatchStub<RowNormKernel> row_norm_stub;
extern DispatchStub<RowNormBackwardKernel> row_norm_backward_stub;
extern DispatchStub<BatchNormKernel> batch_norm_stub;
extern DispatchStub<BatchNormBackwardKernel> batch_norm_backward_stub;

// layer_norm over the last `k` dims (w, b of those dims' shape or undefined); rms: RMSNorm.
Tensor layer_norm(const Tensor& x, int64_t k, const Tensor& w, const Tensor& b, double eps, bool rms);
Tensor group_norm(const Tensor& x, int64_t groups, const Tensor& w, const Tensor& b, double eps);
// Training-mode batch norm: {y, batch mean, biased batch variance} (the last two without history).
std::vector<Tensor> batch_norm_train(const Tensor& x, const Tensor& w, const Tensor& b, double eps);
// y = x * scale[c] + shift[c] over (N, C, *) in one pass, without autograd (eval-mode batch norm
// when nothing needs a gradient); scale and shift are (C,) of x's dtype.
using ChannelAffineKernel = void (*)(const Tensor& x, const Tensor& scale, const Tensor& shift, const Tensor& y);
extern DispatchStub<ChannelAffineKernel> channel_affine_stub;
Tensor channel_affine(const Tensor& x, const Tensor& scale, const Tensor& shift);

// ---- nll_loss ----------------------------------------------------------------------------
// logp (N, C, K) contiguous, target (N, K) int64, weight (C) or undefined.
struct NllArgs {
  int64_t N = 0, C = 0, K = 0, ignore_index = -100;
  int reduction = 1;  // 0 none, 1 mean, 2 sum
};
// out: (N, K) losses for none, else a 0-d total; total_weight: 0-d sum of the weights used.
using NllKernel = void (*)(const NllArgs&, const Tensor& logp, const Tensor& target, const Tensor& weight,
                           const Tensor& out, const Tensor& total_weight);
using NllBackwardKernel = void (*)(const NllArgs&, const Tensor& g, const Tensor& target, const Tensor& weight,
                                   const Tensor& total_weight, const Tensor& gx);
extern DispatchStub<NllKernel> nll_stub;
extern DispatchStub<NllBackwardKernel> nll_backward_stub;
Tensor nll_loss(const Tensor& logp, const Tensor& target, const Tensor& weight, int64_t ignore_index, int reduction);

// ---- recurrent cells ----------------------------------------------------------------------
// LSTM pointwise step: gates (B, 4H) pre-activations in torch's order (i, f, g, o), c (B, H):
// c' = sigmoid(f) * c + sigmoid(i) * tanh(g), h' = sigmoid(o) * tanh(c'). acts (B, 4H)
// receives the activated gates (saved for the backward).
using LstmCellKernel = void (*)(const Tensor& gates, const Tensor& c, const Tensor& h_out, const Tensor& c_out,
                                const Tensor& acts);
using LstmCellBackwardKernel = void (*)(const Tensor& acts, const Tensor& c, const Tensor& c_new, const Tensor& gh,
                                        const Tensor& gc, const Tensor& ggates, const Tensor& gc_prev);
extern DispatchStub<LstmCellKernel> lstm_cell_stub;
extern DispatchStub<LstmCellBackwardKernel> lstm_cell_backward_stub;
std::vector<Tensor> lstm_cell(const Tensor& gates, const Tensor& c);  // {h', c'}
// The fused step without autograd, for sequence-level functions that do their own backward:
// {h', c', acts} (acts: the gate activations i, f, g, o, (B, 4H)), and from the step's saved
// values and the gradients of h' and c' (either may be undefined), {d gates, d c}.
std::vector<Tensor> lstm_cell_raw(const Tensor& gates, const Tensor& c);
std::vector<Tensor> lstm_cell_backward_raw(const Tensor& acts, const Tensor& c, const Tensor& c_new, const Tensor& gh,
                                           const Tensor& gc);

// ---- attention --------------------------------------------------------------------
// Memory-efficient scaled dot-product attention: q (BH, L, E), k (BH, S, E), v (BH, S, Ev)
// contiguous; never holds more than one (block x block) tile of the score matrix per thread.
// mask: an additive float mask read at mask_off[bh] + l * mask_ls + s * mask_ss (or none).
struct AttnArgs {
  int64_t BH = 0, L = 0, S = 0, E = 0, Ev = 0;
  double scale = 1.0;
  bool causal = false;
  const Tensor* mask = nullptr;
  std::vector<int64_t> mask_off;
  int64_t mask_ls = 0, mask_ss = 0;
};
using AttnForwardKernel = void (*)(const AttnArgs&, const Tensor& q, const Tensor& k, const Tensor& v,
                                   const Tensor& out, const Tensor& lse);
using AttnBackwardKernel = void (*)(const AttnArgs&, const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& out, const Tensor& lse, const Tensor& gout, const Tensor& gq,
                                    const Tensor& gk, const Tensor& gv);
extern DispatchStub<AttnForwardKernel> attn_forward_stub;
extern DispatchStub<AttnBackwardKernel> attn_backward_stub;

// q (..., L, E), k (..., S, E), v (..., S, Ev) with equal leading dims; mask additive float
// broadcastable to (..., L, S) or undefined.
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                                    bool causal, double scale);

}  // namespace ember
