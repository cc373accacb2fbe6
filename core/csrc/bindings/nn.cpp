// ember._C._nn: the nn kernels (ops/nn.h), with PyTorch's arguments turned into
// geometries here. ember/nn/_kernels.py wraps these with docstrings and defaults.
#include <cmath>

#include "../autograd/autocast.h"
#include "../ops/nn.h"
#include "../ops/optim.h"
#include "../ops/view.h"
#include "common.h"

namespace ember {
namespace {

using Ints = std::vector<int64_t>;

// An int or a sequence of n ints (PyTorch's _pair/_triple).
Ints expand_arg(const char* op, const char* name, const Ints& v, int n) {
  if (v.size() == 1) return Ints(size_t(n), v[0]);
  EMBER_CHECK(int(v.size()) == n, ValueError, "[", op, "] ", name, " must be an int or ", n, " ints, got ", v.size(),
              " values");
  return v;
}

void check_rank(const char* op, const char* what, const Tensor& t, int64_t nd) {
  EMBER_CHECK(t.dim() == nd, ValueError, "[", op, "] expected a ", nd, "-d ", what, ", got shape ", t.sizes());
}

// Geometry of a convolution whose input is x (N, C, *in) and weight w (Cout, C/groups, *k).
ConvGeom conv_geom(const char* op, int nsp, const Shape& xs, const Shape& ws, const Ints& stride, const Ints& padding,
                   const Ints& dilation, int64_t groups) {
  ConvGeom g;
  g.nsp = nsp;
  Ints s = expand_arg(op, "stride", stride, nsp), p = expand_arg(op, "padding", padding, nsp),
       d = expand_arg(op, "dilation", dilation, nsp);
  EMBER_CHECK(groups > 0, ValueError, "[", op, "] groups must be positive, got ", groups);
  g.N = xs[0];
  g.C = xs[1];
  g.Cout = ws[0];
  g.G = groups;
  EMBER_CHECK(g.C == ws[1] * groups, ValueError, "[", op, "] expected input with ", ws[1] * groups,
              " channels (weight of shape ", ws, ", groups=", groups, "), got input of shape ", xs);
  EMBER_CHECK(g.Cout % groups == 0, ValueError, "[", op, "] the weight's out channels (", g.Cout,
              ") must be divisible by groups (", groups, ")");
  for (int i = 0; i < nsp; ++i) {
    const int slot = 3 - nsp + i;
    EMBER_CHECK(s[i] > 0 && d[i] > 0 && p[i] >= 0, ValueError, "[", op,
                "] expected positive stride and dilation and non-negative padding, got stride ", s[i], ", dilation ",
                d[i], ", padding ", p[i]);
    g.stride[slot] = s[i];
    g.pad[slot] = p[i];
    g.dil[slot] = d[i];
    g.in[slot] = xs[2 + i];
    g.k[slot] = ws[2 + i];
    EMBER_CHECK(g.k[slot] > 0, ValueError, "[", op, "] expected a kernel of positive size, got weight shape ", ws);
  }
  return g;
}

void set_conv_out(const char* op, ConvGeom& g, const Shape& xs) {
  for (int slot = 3 - g.nsp; slot < 3; ++slot) {
    const int64_t eff = g.dil[slot] * (g.k[slot] - 1) + 1, padded = g.in[slot] + 2 * g.pad[slot];
    EMBER_CHECK(padded >= eff, ValueError, "[", op, "] the kernel (effective size ", eff,
                ") is larger than the padded input (size ", padded, ") in spatial dimension ", slot - (3 - g.nsp),
                "; input shape ", xs);
    g.out[slot] = (padded - eff) / g.stride[slot] + 1;
  }
}

Tensor conv(const Tensor& x, const Tensor& w, int nsp, const Ints& stride, const Ints& padding, const Ints& dilation,
            int64_t groups, const char* op) {
  check_rank(op, "input (batched)", x, nsp + 2);
  check_rank(op, "weight", w, nsp + 2);
  ConvGeom g = conv_geom(op, nsp, x.sizes(), w.sizes(), stride, padding, dilation, groups);
  set_conv_out(op, g, x.sizes());
  if (autograd::autocast_needed(nullptr, x, w)) return conv_forward(autograd::autocast(x), autograd::autocast(w), g);
  return conv_forward(x, w, g);
}

Tensor conv_transpose(const Tensor& x, const Tensor& w, int nsp, const Ints& stride, const Ints& padding,
                      const Ints& output_padding, const Ints& dilation, int64_t groups, const char* op) {
  check_rank(op, "input (batched)", x, nsp + 2);
  check_rank(op, "weight", w, nsp + 2);
  // The adjoint of a convolution whose input has the transposed conv's output shape.
  EMBER_CHECK(groups > 0, ValueError, "[", op, "] groups must be positive, got ", groups);
  EMBER_CHECK(x.sizes()[1] == w.sizes()[0], ValueError, "[", op, "] expected input with ", w.sizes()[0],
              " channels (weight of shape ", w.sizes(), "), got input of shape ", x.sizes());
  EMBER_CHECK(x.sizes()[1] % groups == 0, ValueError, "[", op, "] the input channels (", x.sizes()[1],
              ") must be divisible by groups (", groups, ")");
  Ints op_ = expand_arg(op, "output_padding", output_padding, nsp);
  Shape ys{x.sizes()[0], w.sizes()[1] * groups};
  Ints s = expand_arg(op, "stride", stride, nsp), p = expand_arg(op, "padding", padding, nsp),
       d = expand_arg(op, "dilation", dilation, nsp);
  for (int i = 0; i < nsp; ++i) {
    EMBER_CHECK(s[i] > 0 && d[i] > 0 && p[i] >= 0, ValueError, "[", op,
                "] expected positive stride and dilation and non-negative padding, got stride ", s[i], ", dilation ",
                d[i], ", padding ", p[i]);
    EMBER_CHECK(op_[i] >= 0 && (op_[i] < s[i] || op_[i] < d[i]), ValueError, "[", op,
                "] output padding must be smaller than either stride or dilation, got output_padding ", op_[i],
                ", stride ", s[i], ", dilation ", d[i]);
    int64_t o = (x.sizes()[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (w.sizes()[2 + i] - 1) + op_[i] + 1;
    EMBER_CHECK(o > 0, ValueError, "[", op, "] the output would be empty: size ", o, " in spatial dimension ", i,
                " for input shape ", x.sizes());
    ys.push_back(o);
  }
  Shape ws{w.sizes()[0], w.sizes()[1]};  // as a conv weight: (Cin, Cout/groups, *k)
  for (int i = 0; i < nsp; ++i) ws.push_back(w.sizes()[2 + i]);
  ConvGeom g = conv_geom(op, nsp, ys, ws, stride, padding, dilation, groups);
  for (int i = 0; i < nsp; ++i) g.out[3 - nsp + i] = x.sizes()[2 + i];
  if (autograd::autocast_needed(nullptr, x, w))
    return conv_backward_input(autograd::autocast(x), autograd::autocast(w), g);
  return conv_backward_input(x, w, g);
}

// unfold/fold geometry: 2-d windows over (N, C, H, W).
ConvGeom window_geom(const char* op, const Shape& xs, const Ints& kernel, const Ints& dilation, const Ints& padding,
                     const Ints& stride) {
  Ints k = expand_arg(op, "kernel_size", kernel, 2);
  Shape ws{1, xs[1], k[0], k[1]};
  ConvGeom g = conv_geom(op, 2, xs, ws, stride, padding, dilation, 1);
  set_conv_out(op, g, xs);
  return g;
}

// ---- pooling ------------------------------------------------------------------------
PoolGeom pool_base(const char* op, const Tensor& x, int nsp) {
  EMBER_CHECK(x.dim() == nsp + 1 || x.dim() == nsp + 2, ValueError, "[", op, "] expected a ", nsp + 1, "-d or ",
              nsp + 2, "-d input, got shape ", x.sizes());
  PoolGeom g;
  g.nsp = nsp;
  g.in_shape = x.sizes();
  int64_t lin = 1;
  for (int i = 0; i < nsp; ++i) {
    g.in[3 - nsp + i] = x.sizes()[x.dim() - nsp + i];
    lin *= g.in[3 - nsp + i];
  }
  for (int i = 0; i < nsp; ++i)
    EMBER_CHECK(x.sizes()[x.dim() - nsp + i] > 0, ValueError, "[", op,
                "] expected non-zero spatial sizes, got input of shape ", x.sizes());
  g.planes = lin ? x.numel() / lin : 0;
  for (int slot = 0; slot < 3 - nsp; ++slot) {
    g.begin[slot] = {0};
    g.end[slot] = {1};
  }
  return g;
}

void finish_pool(PoolGeom& g) {
  g.out_shape = Shape(g.in_shape.begin(), g.in_shape.end() - g.nsp);
  for (int i = 0; i < g.nsp; ++i) g.out_shape.push_back(g.out[3 - g.nsp + i]);
}

PoolGeom fixed_pool(const char* op, const Tensor& x, int nsp, const Ints& kernel, const Ints& stride,
                    const Ints& padding, const Ints& dilation, bool ceil_mode, bool avg) {
  PoolGeom g = pool_base(op, x, nsp);
  Ints k = expand_arg(op, "kernel_size", kernel, nsp);
  Ints s = stride.empty() ? k : expand_arg(op, "stride", stride, nsp);
  Ints p = expand_arg(op, "padding", padding, nsp), d = expand_arg(op, "dilation", dilation, nsp);
  for (int i = 0; i < nsp; ++i) {
    const int slot = 3 - nsp + i;
    EMBER_CHECK(k[i] > 0 && s[i] > 0 && d[i] > 0, ValueError, "[", op,
                "] expected positive kernel_size, stride and dilation, got kernel_size ", k[i], ", stride ", s[i],
                ", dilation ", d[i]);
    EMBER_CHECK(p[i] >= 0 && p[i] <= k[i] / 2, ValueError, "[", op,
                "] padding should be at most half of the kernel size: got padding ", p[i], " for kernel size ", k[i]);
    const int64_t in = g.in[slot], eff = d[i] * (k[i] - 1) + 1;
    int64_t num = in + 2 * p[i] - eff + (ceil_mode ? s[i] - 1 : 0);
    int64_t out = (num >= 0 ? num / s[i] : -((-num + s[i] - 1) / s[i])) + 1;
    if (ceil_mode && out > 0 && (out - 1) * s[i] >= in + p[i]) --out;
    EMBER_CHECK(out >= 1, ValueError, "[", op, "] the output would be empty: input size ", in, " with kernel ", k[i],
                ", stride ", s[i], ", padding ", p[i], ", dilation ", d[i], " (input shape ", x.sizes(), ")");
    g.out[slot] = out;
    g.dil[slot] = avg ? 1 : d[i];
    g.pad[slot] = p[i];
    g.begin[slot].resize(size_t(out));
    g.end[slot].resize(size_t(out));
    for (int64_t o = 0; o < out; ++o) {
      const int64_t b = o * s[i] - p[i];
      g.begin[slot][size_t(o)] = b;
      g.end[slot][size_t(o)] = avg ? std::min(b + k[i], in + p[i]) : b + eff;
    }
  }
  finish_pool(g);
  return g;
}

PoolGeom adaptive_pool(const char* op, const Tensor& x, int nsp, const std::vector<std::optional<int64_t>>& size) {
  PoolGeom g = pool_base(op, x, nsp);
  EMBER_CHECK(int(size.size()) == nsp || size.size() == 1, ValueError, "[", op, "] output_size must be an int or ",
              nsp, " ints, got ", size.size(), " values");
  for (int i = 0; i < nsp; ++i) {
    const int slot = 3 - nsp + i;
    const int64_t in = g.in[slot];
    auto req = size.size() == 1 ? size[0] : size[size_t(i)];
    const int64_t out = req ? *req : in;
    EMBER_CHECK(out >= 0, ValueError, "[", op, "] output_size must be non-negative, got ", out);
    g.out[slot] = out;
    g.begin[slot].resize(size_t(out));
    g.end[slot].resize(size_t(out));
    for (int64_t o = 0; o < out; ++o) {
      g.begin[slot][size_t(o)] = (o * in) / out;
      g.end[slot][size_t(o)] = ((o + 1) * in + out - 1) / out;
    }
  }
  g.count_include_pad = false;
  finish_pool(g);
  return g;
}

const char* pool_name(const char* base, int nsp) {
  static const std::string names[] = {"max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
                                      "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
                                      "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d"};
  std::string b(base);
  int row = b == "max" ? 0 : b == "avg" ? 1 : b == "adaptive_max" ? 2 : 3;
  return names[row * 3 + nsp - 1].c_str();
}

void check_nsp(int nsp) {
  EMBER_CHECK(nsp >= 1 && nsp <= 3, ValueError, "[nn] expected 1 to 3 spatial dims, got ", nsp);
}

}  // namespace

void init_nn(py::module_& parent) {
  py::module_ m = parent.def_submodule("_nn", "Compiled nn kernels (wrapped by ember.nn.functional).");
  m.def("conv", [](const Tensor& x, const Tensor& w, int nsp, const Ints& stride, const Ints& padding,
                   const Ints& dilation, int64_t groups) {
          check_nsp(nsp);
          static const char* names[] = {"conv1d", "conv2d", "conv3d"};
          return nogil([&] { return conv(x, w, nsp, stride, padding, dilation, groups, names[nsp - 1]); });
        });
  m.def("conv_transpose", [](const Tensor& x, const Tensor& w, int nsp, const Ints& stride, const Ints& padding,
                             const Ints& output_padding, const Ints& dilation, int64_t groups) {
          check_nsp(nsp);
          static const char* names[] = {"conv_transpose1d", "conv_transpose2d", "conv_transpose3d"};
          return nogil([&] {
            return conv_transpose(x, w, nsp, stride, padding, output_padding, dilation, groups, names[nsp - 1]);
          });
        });
  m.def("unfold", [](const Tensor& x, const Ints& kernel, const Ints& dilation, const Ints& padding,
                     const Ints& stride) {
    check_rank("unfold", "input (batched)", x, 4);
    ConvGeom g = window_geom("unfold", x.sizes(), kernel, dilation, padding, stride);
    return nogil([&] { return im2col(x, g); });
  });
  m.def("fold", [](const Tensor& col, const Ints& output_size, const Ints& kernel, const Ints& dilation,
                   const Ints& padding, const Ints& stride) {
    check_rank("fold", "input (batched)", col, 3);
    Ints k = expand_arg("fold", "kernel_size", kernel, 2), os = expand_arg("fold", "output_size", output_size, 2);
    EMBER_CHECK(col.sizes()[1] % (k[0] * k[1]) == 0, ValueError,
                "[fold] expected the input's size 1 to be divisible by the product of kernel_size (", k[0] * k[1],
                "), got shape ", col.sizes());
    Shape xs{col.sizes()[0], col.sizes()[1] / (k[0] * k[1]), os[0], os[1]};
    ConvGeom g = window_geom("fold", xs, kernel, dilation, padding, stride);
    EMBER_CHECK(g.lout() == col.sizes()[2], ValueError, "[fold] expected ", g.lout(),
                " blocks in the input's last dimension for output_size ", Shape(os.begin(), os.end()), ", got ",
                col.sizes()[2]);
    return nogil([&] { return col2im(col, g); });
  });
  m.def("max_pool", [](const Tensor& x, int nsp, const Ints& kernel, const Ints& stride, const Ints& padding,
                       const Ints& dilation, bool ceil_mode) {
    check_nsp(nsp);
    PoolGeom g = fixed_pool(pool_name("max", nsp), x, nsp, kernel, stride, padding, dilation, ceil_mode, false);
    auto r = nogil([&] { return max_pool(x, g); });
    return py::make_tuple(r[0], r[1]);
  });
  m.def("avg_pool", [](const Tensor& x, int nsp, const Ints& kernel, const Ints& stride, const Ints& padding,
                       bool ceil_mode, bool count_include_pad, std::optional<int64_t> divisor_override) {
    check_nsp(nsp);
    const char* op = pool_name("avg", nsp);
    PoolGeom g = fixed_pool(op, x, nsp, kernel, stride, padding, {1}, ceil_mode, true);
    g.count_include_pad = count_include_pad;
    if (divisor_override) {
      EMBER_CHECK(*divisor_override != 0, ValueError, "[", op, "] divisor_override must be non-zero");
      g.divisor_override = *divisor_override;
    }
    return nogil([&] { return avg_pool(x, g); });
  });
  m.def("adaptive_max_pool", [](const Tensor& x, int nsp, const std::vector<std::optional<int64_t>>& size) {
    check_nsp(nsp);
    PoolGeom g = adaptive_pool(pool_name("adaptive_max", nsp), x, nsp, size);
    auto r = nogil([&] { return max_pool(x, g); });
    return py::make_tuple(r[0], r[1]);
  });
  m.def("adaptive_avg_pool", [](const Tensor& x, int nsp, const std::vector<std::optional<int64_t>>& size) {
    check_nsp(nsp);
    PoolGeom g = adaptive_pool(pool_name("adaptive_avg", nsp), x, nsp, size);
    return nogil([&] { return avg_pool(x, g); });
  });
  m.def("fused_adam_", [](const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                          const std::vector<Tensor>& exp_avgs, const std::vector<Tensor>& exp_avg_sqs,
                          const std::vector<Tensor>& max_exp_avg_sqs, const std::vector<Tensor>& steps, double lr,
                          double beta1, double beta2, double weight_decay, double eps, bool amsgrad, bool maximize,
                          bool decoupled) {
    AdamArgs a{lr, beta1, beta2, weight_decay, eps, amsgrad, maximize, decoupled, 0.0};
    return nogil([&] { return fused_adam_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, a); });
  });
  m.def("fused_sgd_", [](const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                         const std::vector<Tensor>& bufs, double lr, double momentum, double dampening,
                         double weight_decay, bool nesterov, bool maximize) {
    SgdArgs a{lr, momentum, dampening, weight_decay, nesterov, maximize};
    return nogil([&] { return fused_sgd_(params, grads, bufs, a); });
  });
  m.def("scaled_dot_product_attention", [](const Tensor& q, const Tensor& k, const Tensor& v,
                                           std::optional<Tensor> mask, bool causal, double scale) {
    return nogil([&] { return scaled_dot_product_attention(q, k, v, mask ? *mask : Tensor(), causal, scale); });
  });
  m.def("layer_norm", [](const Tensor& x, int64_t k, std::optional<Tensor> w, std::optional<Tensor> b, double eps,
                         bool rms) {
    return nogil([&] { return layer_norm(x, k, w ? *w : Tensor(), b ? *b : Tensor(), eps, rms); });
  });
  m.def("group_norm", [](const Tensor& x, int64_t groups, std::optional<Tensor> w, std::optional<Tensor> b,
                         double eps) {
    return nogil([&] { return group_norm(x, groups, w ? *w : Tensor(), b ? *b : Tensor(), eps); });
  });
  m.def("batch_norm_train", [](const Tensor& x, std::optional<Tensor> w, std::optional<Tensor> b, double eps) {
    auto r = nogil([&] { return batch_norm_train(x, w ? *w : Tensor(), b ? *b : Tensor(), eps); });
    return py::make_tuple(r[0], r[1], r[2]);
  });
  m.def("nll_loss", [](const Tensor& logp, const Tensor& target, std::optional<Tensor> weight, int64_t ignore_index,
                       int reduction) {
    return nogil([&] { return nll_loss(logp, target, weight ? *weight : Tensor(), ignore_index, reduction); });
  });
  m.def("channel_affine", [](const Tensor& x, const Tensor& scale, const Tensor& shift) {
    return nogil([&] { return channel_affine(x, scale, shift); });
  });
  m.def("lstm_cell_raw", [](const Tensor& gates, const Tensor& c) {
    auto r = nogil([&] { return lstm_cell_raw(gates, c); });
    return py::make_tuple(r[0], r[1], r[2]);
  });
  m.def("lstm_cell_backward_raw", [](const Tensor& acts, const Tensor& c, const Tensor& c_new, std::optional<Tensor> gh,
                                     std::optional<Tensor> gc) {
    auto r = nogil([&] { return lstm_cell_backward_raw(acts, c, c_new, gh ? *gh : Tensor(), gc ? *gc : Tensor()); });
    return py::make_tuple(r[0], r[1]);
  });
  m.def("lstm_cell", [](const Tensor& gates, const Tensor& c) {
    auto r = nogil([&] { return lstm_cell(gates, c); });
    return py::make_tuple(r[0], r[1]);
  });
  m.def("softmax", [](const Tensor& x, int64_t dim) { return nogil([&] { return softmax(x, dim, false); }); });
  m.def("log_softmax", [](const Tensor& x, int64_t dim) { return nogil([&] { return softmax(x, dim, true); }); });
}

}  // namespace ember
