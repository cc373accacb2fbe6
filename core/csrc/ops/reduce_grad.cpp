// Reduction and scan front ends with autograd: each records its node; the derivatives are
// written with ember ops so that they are differentiable again.
#include <algorithm>
#include <cmath>

#include "../autograd/record.h"
#include "../autograd/sugar.h"
#include "creation.h"
#include "index.h"
#include "reduce.h"
#include "shape.h"
#include "view.h"

namespace ember {

// The kernels (reduce.cpp), without recording.
Tensor sum_impl(const Tensor& x, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out);
Tensor nansum_impl(const Tensor& x, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out);
Tensor prod_impl(const Tensor& x, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out);
Tensor mean_impl(const Tensor& x, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out);
Tensor nanmean_impl(const Tensor& x, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out);
Tensor amax_impl(const Tensor& x, const OptDims& dims, bool keepdim, const Tensor* out);
Tensor amin_impl(const Tensor& x, const OptDims& dims, bool keepdim, const Tensor* out);
Tensor max_all_impl(const Tensor& x);
Tensor min_all_impl(const Tensor& x);
TensorPair max_dim_impl(const Tensor& x, int64_t dim, bool keepdim);
TensorPair min_dim_impl(const Tensor& x, int64_t dim, bool keepdim);
TensorPair aminmax_impl(const Tensor& x, std::optional<int64_t> dim, bool keepdim);
Tensor var_red_impl(const Tensor& x, const OptDims& dims, double correction, bool keepdim, const Tensor* out);
Tensor std_impl(const Tensor& x, const OptDims& dims, double correction, bool keepdim, const Tensor* out);
TensorPair var_mean_impl(const Tensor& x, const OptDims& dims, double correction, bool keepdim);
TensorPair std_mean_impl(const Tensor& x, const OptDims& dims, double correction, bool keepdim);
Tensor norm_impl(const Tensor& x, double p, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out);
Tensor logsumexp_impl(const Tensor& x, const OptDims& dims, bool keepdim, const Tensor* out);
Tensor cumsum_impl(const Tensor& x, int64_t dim, OptType dtype, const Tensor* out);
Tensor cumprod_impl(const Tensor& x, int64_t dim, OptType dtype, const Tensor* out);
Tensor logcumsumexp_impl(const Tensor& x, int64_t dim, const Tensor* out);
TensorPair cummax_impl(const Tensor& x, int64_t dim);
TensorPair cummin_impl(const Tensor& x, int64_t dim);
Tensor median_all_impl(const Tensor& x, bool ignore_nan);
TensorPair median_dim_impl(const Tensor& x, int64_t dim, bool keepdim, bool ignore_nan);

using namespace autograd;

namespace {

// The reduced dims, wrapped and sorted; all dims when none are given.
std::vector<int64_t> red_dims(const Shape& xs, const OptDims& dims) {
  std::vector<int64_t> r;
  int64_t nd = int64_t(xs.size());
  if (!dims || dims->empty()) {
    for (int64_t d = 0; d < nd; ++d) r.push_back(d);
  } else if (nd > 0) {
    for (int64_t d : *dims) r.push_back(wrap_quiet(d, nd));
  }
  std::sort(r.begin(), r.end());
  return r;
}

// g (the reduced shape) back to the input shape: unsqueeze the reduced dims, then expand.
Tensor unreduce(const Tensor& g, const Shape& xs, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor r = g;
  if (!keepdim)
    for (int64_t d : dims) r = unsqueeze(r, d);
  return expand(r, xs);
}

int64_t count(const Shape& xs, const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= xs[d];
  return n;
}

// Gradient of a max/min-like reduction: shared evenly among the elements equal to the result.
Tensor even_share(const Tensor& g, const Tensor& x, const Tensor& r, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor rk = unreduce(r, x.sizes(), dims, keepdim);
  Tensor mask = x == rk;
  Tensor cnt = sum(mask, dims, true, x.dtype());
  return keep(mask, unreduce(g, x.sizes(), dims, keepdim) / cnt);
}

// Gradient of an op that picked x's elements at `idx` along dim (values of max(dim), sort, ...).
Tensor scatter_back(const Tensor& g, const Tensor& idx, const Shape& xs, int64_t dim, bool keepdim, bool add) {
  if (xs.empty()) return reshape(g, xs);
  Tensor gk = keepdim ? g : unsqueeze(g, dim);
  Tensor ik = keepdim ? idx : unsqueeze(idx, dim);
  Tensor z = zeros(xs, g.dtype(), g.device());
  return add ? scatter_add_(z, dim, ik, gk) : scatter_(z, dim, ik, gk);
}

Tensor rev_cumsum(const Tensor& g, int64_t dim) { return flip(cumsum(flip(g, {dim}), dim, std::nullopt), {dim}); }

// The product of all other elements along dim, for each element (zeros handled exactly).
Tensor prod_others(const Tensor& x, int64_t dim) {
  int64_t n = x.sizes()[dim];
  if (n == 0) return x;
  Shape os = x.sizes();
  os[dim] = 1;
  Tensor one = ones(os, x.dtype(), x.device());
  Tensor fwd = cat({one, narrow(cumprod(x, dim, std::nullopt), dim, 0, n - 1)}, dim);
  Tensor xr = flip(x, {dim});
  Tensor bwd = flip(cat({one, narrow(cumprod(xr, dim, std::nullopt), dim, 0, n - 1)}, dim), {dim});
  return fwd * bwd;
}

// x with the reduced dims moved last and flattened into one: (kept..., R); and back.
Tensor fold_dims(const Tensor& x, const std::vector<int64_t>& dims, Shape& perm) {
  perm.clear();
  for (int64_t d = 0; d < x.dim(); ++d)
    if (!std::binary_search(dims.begin(), dims.end(), d)) perm.push_back(d);
  size_t kept = perm.size();
  for (int64_t d : dims) perm.push_back(d);
  Tensor p = permute(x, perm);
  Shape s(p.sizes().begin(), p.sizes().begin() + kept);
  s.push_back(-1);
  return reshape(p, s);
}
Tensor unfold_dims(const Tensor& y, const Shape& xs, const Shape& perm) {
  Shape ps;
  for (int64_t d : perm) ps.push_back(xs[d]);
  Shape inv(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inv[perm[i]] = int64_t(i);
  return permute(reshape(y, ps), inv);
}

Tensor prod_backward(const Tensor& g, const Tensor& x, const Tensor& r, const std::vector<int64_t>& dims,
                     bool keepdim) {
  if (x.dim() == 0) return g;  // the product of one element
  Tensor ge = unreduce(g, x.sizes(), dims, keepdim);
  bool has_zero;
  {
    GradModeGuard ng(false);
    has_zero = item(any(x == 0.0, std::nullopt, false)).to<bool>();
  }
  if (!has_zero) return ge * unreduce(r, x.sizes(), dims, keepdim) / x;
  Shape perm;
  Tensor f = fold_dims(x, dims, perm);
  return ge * unfold_dims(prod_others(f, f.dim() - 1), x.sizes(), perm);
}

Tensor cumprod_backward(const Tensor& g, const Tensor& x, const Tensor& r, int64_t dim) {
  if (x.dim() == 0 || x.numel() == 0) return g;
  bool has_zero;
  {
    GradModeGuard ng(false);
    has_zero = item(any(x == 0.0, std::nullopt, false)).to<bool>();
  }
  if (!has_zero) return rev_cumsum(g * r, dim) / x;
  // exact with zeros: d r_j / d x_i = prod_{k<=j, k!=i} x_k, one cumprod per position
  int64_t n = x.sizes()[dim];
  Shape ps(size_t(x.dim()), 1);
  ps[dim] = n;
  Tensor pos = reshape(arange(Scalar(int64_t(0)), Scalar(n), Scalar(int64_t(1)), ScalarType::Int64, x.device()), ps);
  std::vector<Tensor> parts;
  for (int64_t i = 0; i < n; ++i) {
    Tensor cp = cumprod(where(pos == double(i), sc(1.0), x), dim, std::nullopt);
    parts.push_back(sum(narrow(g * cp, dim, i, n - i), std::vector<int64_t>{dim}, true, std::nullopt));
  }
  return cat(parts, dim);
}

Tensor var_backward(const Tensor& g, const Tensor& x, const std::vector<int64_t>& dims, double correction,
                    bool keepdim) {
  double n = double(count(x.sizes(), dims)) - correction;
  Tensor m = mean(x, dims, true, std::nullopt);
  return unreduce(g, x.sizes(), dims, keepdim) * (x - m) * (2.0 / n);
}

Tensor std_backward(const Tensor& g, const Tensor& x, const Tensor& r, const std::vector<int64_t>& dims,
                    double correction, bool keepdim) {
  double n = double(count(x.sizes(), dims)) - correction;
  Tensor m = mean(x, dims, true, std::nullopt);
  return unreduce(g / r, x.sizes(), dims, keepdim) * (x - m) * (1.0 / n);
}

Tensor norm_backward(const Tensor& g, const Tensor& x, const Tensor& r, double p, const std::vector<int64_t>& dims,
                     bool keepdim) {
  Tensor ge = unreduce(g, x.sizes(), dims, keepdim);
  if (p == 0.0) return zeros_like(x);
  if (p == 1.0) return ge * un(UnaryOp::sign, x);
  Tensor re = unreduce(r, x.sizes(), dims, keepdim);
  if (std::isinf(p)) {
    Tensor ax = un(UnaryOp::abs, x);
    Tensor mask = ax == re;
    Tensor cnt = sum(mask, dims, true, x.dtype());
    return keep(mask, ge * un(UnaryOp::sign, x) / cnt);
  }
  if (p == 2.0) return zero_where(re == 0.0, ge * x / re);
  Tensor ax = un(UnaryOp::abs, x);
  Tensor num = x * un(UnaryOp::pow_scalar, ax, {p - 2.0});
  return zero_where(re == 0.0, ge * num / un(UnaryOp::pow_scalar, re, {p - 1.0}));
}

Tensor logcumsumexp_backward(const Tensor& g, const Tensor& x, const Tensor& r, int64_t dim) {
  if (x.dim() == 0) return g;
  auto rev_lcse = [dim](const Tensor& t) { return flip(logcumsumexp(flip(t, {dim}), dim), {dim}); };
  // log of the positive and negative parts; the double where keeps second derivatives finite
  // (the lowest finite value, not -inf, stands for log 0: -inf - -inf would make NaNs)
  double lowest = g.dtype() == ScalarType::Float64 ? -1.7976931348623157e308
                  : g.dtype() == ScalarType::Float16 ? -65504.0 : -3.3895313892515355e38;
  Tensor low = scalar_tensor(Scalar(lowest), g.dtype(), g.device());
  auto log_part = [&low](const Tensor& v) {
    Tensor pos = v > 0.0;
    return where(pos, un(UnaryOp::log, where(pos, v, sc(1.0))), low);
  };
  Tensor lp = log_part(g), ln = log_part(-g);
  return un(UnaryOp::exp, rev_lcse(lp - r) + x) - un(UnaryOp::exp, rev_lcse(ln - r) + x);
}

// Records a single-output reduction whose backward needs x and the result.
template <typename Impl, typename Back>
Tensor record1(const char* op, const Tensor& x, const Tensor* out, Impl impl, Back back) {
  Recorder rec(op, {x}, out);
  Tensor r = impl();
  if (!rec) return r;
  rec.set_outputs({r});
  FnNode& n = rec.node();
  n.save(x);
  n.save_output(r);
  n.fn = [back](FnNode& n, variable_list& g) { return variable_list{back(g[0], n.get(0), n.get(1))}; };
  return r;
}

}  // namespace

namespace {
// sum and mean: the gradient is g spread back over the reduced dims (divided by their size
// for mean); nothing is saved.
template <typename Impl>
Tensor record_spread(const char* op, const Tensor& x, const OptDims& dims, bool keepdim, bool divide,
                     const Tensor* out, Impl impl) {
  Recorder rec(op, {x}, out);
  Tensor r = impl();
  if (!rec) return r;
  rec.set_outputs({r});
  Shape xs = x.sizes();
  auto d = red_dims(xs, dims);
  double n = divide ? double(count(xs, d)) : 1.0;
  rec.node().fn = [xs, d, keepdim, n](FnNode&, variable_list& g) {
    Tensor ge = unreduce(g[0], xs, d, keepdim);
    return variable_list{n == 1.0 ? ge : ge / n};
  };
  return r;
}
}  // namespace

Tensor sum(const Tensor& x, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out) {
  return record_spread("sum", x, dims, keepdim, false, out, [&] { return sum_impl(x, dims, keepdim, dtype, out); });
}

Tensor nansum(const Tensor& x, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out) {
  auto d = red_dims(x.sizes(), dims);
  return record1("nansum", x, out, [&] { return nansum_impl(x, dims, keepdim, dtype, out); },
                 [d, keepdim](const Tensor& g, const Tensor& x, const Tensor&) {
                   return zero_where(un(UnaryOp::isnan, x), unreduce(g, x.sizes(), d, keepdim));
                 });
}

Tensor mean(const Tensor& x, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out) {
  return record_spread("mean", x, dims, keepdim, true, out, [&] { return mean_impl(x, dims, keepdim, dtype, out); });
}

Tensor nanmean(const Tensor& x, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out) {
  auto d = red_dims(x.sizes(), dims);
  return record1("nanmean", x, out, [&] { return nanmean_impl(x, dims, keepdim, dtype, out); },
                 [d, keepdim](const Tensor& g, const Tensor& x, const Tensor&) {
                   Tensor ok = !un(UnaryOp::isnan, x);
                   Tensor cnt = sum(ok, d, true, x.dtype());
                   return keep(ok, unreduce(g, x.sizes(), d, keepdim) / cnt);
                 });
}

Tensor prod(const Tensor& x, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out) {
  auto d = red_dims(x.sizes(), dims);
  return record1("prod", x, out, [&] { return prod_impl(x, dims, keepdim, dtype, out); },
                 [d, keepdim](const Tensor& g, const Tensor& x, const Tensor& r) {
                   return prod_backward(g, x, r, d, keepdim);
                 });
}

Tensor amax(const Tensor& x, const OptDims& dims, bool keepdim, const Tensor* out) {
  auto d = red_dims(x.sizes(), dims);
  return record1("amax", x, out, [&] { return amax_impl(x, dims, keepdim, out); },
                 [d, keepdim](const Tensor& g, const Tensor& x, const Tensor& r) { return even_share(g, x, r, d, keepdim); });
}
Tensor amin(const Tensor& x, const OptDims& dims, bool keepdim, const Tensor* out) {
  auto d = red_dims(x.sizes(), dims);
  return record1("amin", x, out, [&] { return amin_impl(x, dims, keepdim, out); },
                 [d, keepdim](const Tensor& g, const Tensor& x, const Tensor& r) { return even_share(g, x, r, d, keepdim); });
}
Tensor max_all(const Tensor& x) {
  auto d = red_dims(x.sizes(), std::nullopt);
  return record1("max", x, nullptr, [&] { return max_all_impl(x); },
                 [d](const Tensor& g, const Tensor& x, const Tensor& r) { return even_share(g, x, r, d, false); });
}
Tensor min_all(const Tensor& x) {
  auto d = red_dims(x.sizes(), std::nullopt);
  return record1("min", x, nullptr, [&] { return min_all_impl(x); },
                 [d](const Tensor& g, const Tensor& x, const Tensor& r) { return even_share(g, x, r, d, false); });
}
Tensor median_all(const Tensor& x, bool ignore_nan) {
  auto d = red_dims(x.sizes(), std::nullopt);
  return record1(ignore_nan ? "nanmedian" : "median", x, nullptr, [&] { return median_all_impl(x, ignore_nan); },
                 [d](const Tensor& g, const Tensor& x, const Tensor& r) { return even_share(g, x, r, d, false); });
}

namespace {
// (values, indices) reductions over one dim: the gradient goes to the picked elements.
template <typename Impl>
TensorPair record_pick(const char* op, const Tensor& x, int64_t dim, bool keepdim, Impl impl) {
  Recorder rec(op, {x});
  TensorPair r = impl();
  if (!rec) return r;
  rec.set_outputs({r.first, r.second});
  size_t ii = rec.node().save(r.second);
  Shape xs = x.sizes();
  int64_t d = xs.empty() ? 0 : wrap_dim(dim, int64_t(xs.size()), op);
  rec.node().fn = [xs, d, keepdim, ii](FnNode& n, variable_list& g) {
    if (!g[0].defined()) return variable_list{Tensor()};
    return variable_list{scatter_back(g[0], n.get(ii), xs, d, keepdim, false)};
  };
  return r;
}
}  // namespace

TensorPair max_dim(const Tensor& x, int64_t dim, bool keepdim) {
  return record_pick("max", x, dim, keepdim, [&] { return max_dim_impl(x, dim, keepdim); });
}
TensorPair min_dim(const Tensor& x, int64_t dim, bool keepdim) {
  return record_pick("min", x, dim, keepdim, [&] { return min_dim_impl(x, dim, keepdim); });
}
TensorPair median_dim(const Tensor& x, int64_t dim, bool keepdim, bool ignore_nan) {
  return record_pick(ignore_nan ? "nanmedian" : "median", x, dim, keepdim,
                     [&] { return median_dim_impl(x, dim, keepdim, ignore_nan); });
}

TensorPair aminmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  Recorder rec("aminmax", {x});
  TensorPair r = aminmax_impl(x, dim, keepdim);
  if (!rec) return r;
  rec.set_outputs({r.first, r.second});
  FnNode& n = rec.node();
  n.save(x);
  n.save_output(r.first);
  n.save_output(r.second);
  auto d = red_dims(x.sizes(), dim ? OptDims(std::vector<int64_t>{*dim}) : std::nullopt);
  bool kd = keepdim;
  n.fn = [d, kd](FnNode& n, variable_list& g) {
    Tensor x = n.get(0), gx;
    if (g[0].defined()) gx = even_share(g[0], x, n.get(1), d, kd);
    if (g[1].defined()) {
      Tensor h = even_share(g[1], x, n.get(2), d, kd);
      gx = gx.defined() ? gx + h : h;
    }
    return variable_list{gx};
  };
  return r;
}

Tensor var(const Tensor& x, const OptDims& dims, double correction, bool keepdim, const Tensor* out) {
  auto d = red_dims(x.sizes(), dims);
  return record1("var", x, out, [&] { return var_red_impl(x, dims, correction, keepdim, out); },
                 [d, correction, keepdim](const Tensor& g, const Tensor& x, const Tensor&) {
                   return var_backward(g, x, d, correction, keepdim);
                 });
}
Tensor std_(const Tensor& x, const OptDims& dims, double correction, bool keepdim, const Tensor* out) {
  auto d = red_dims(x.sizes(), dims);
  return record1("std", x, out, [&] { return std_impl(x, dims, correction, keepdim, out); },
                 [d, correction, keepdim](const Tensor& g, const Tensor& x, const Tensor& r) {
                   return std_backward(g, x, r, d, correction, keepdim);
                 });
}


TensorPair var_mean(const Tensor& x, const OptDims& dims, double correction, bool keepdim) {
  Recorder rec("var_mean", {x});
  TensorPair r = var_mean_impl(x, dims, correction, keepdim);
  if (!rec) return r;
  rec.set_outputs({r.first, r.second});
  rec.node().save(x);
  auto d = red_dims(x.sizes(), dims);
  rec.node().fn = [d, correction, keepdim](FnNode& n, variable_list& g) {
    Tensor x = n.get(0), gx;
    if (g[0].defined()) gx = var_backward(g[0], x, d, correction, keepdim);
    if (g[1].defined()) {
      Tensor h = unreduce(g[1], x.sizes(), d, keepdim) / double(count(x.sizes(), d));
      gx = gx.defined() ? gx + h : h;
    }
    return variable_list{gx};
  };
  return r;
}

TensorPair std_mean(const Tensor& x, const OptDims& dims, double correction, bool keepdim) {
  Recorder rec("std_mean", {x});
  TensorPair r = std_mean_impl(x, dims, correction, keepdim);
  if (!rec) return r;
  rec.set_outputs({r.first, r.second});
  rec.node().save(x);
  rec.node().save_output(r.first);
  auto d = red_dims(x.sizes(), dims);
  rec.node().fn = [d, correction, keepdim](FnNode& n, variable_list& g) {
    Tensor x = n.get(0), gx;
    if (g[0].defined()) gx = std_backward(g[0], x, n.get(1), d, correction, keepdim);
    if (g[1].defined()) {
      Tensor h = unreduce(g[1], x.sizes(), d, keepdim) / double(count(x.sizes(), d));
      gx = gx.defined() ? gx + h : h;
    }
    return variable_list{gx};
  };
  return r;
}

Tensor norm(const Tensor& x, double p, const OptDims& dims, bool keepdim, OptType dtype, const Tensor* out) {
  auto d = red_dims(x.sizes(), dims);
  return record1("norm", x, out, [&] { return norm_impl(x, p, dims, keepdim, dtype, out); },
                 [d, p, keepdim](const Tensor& g, const Tensor& x, const Tensor& r) {
                   return norm_backward(g, x, r, p, d, keepdim);
                 });
}

Tensor logsumexp(const Tensor& x, const OptDims& dims, bool keepdim, const Tensor* out) {
  auto d = red_dims(x.sizes(), dims);
  return record1("logsumexp", x, out, [&] { return logsumexp_impl(x, dims, keepdim, out); },
                 [d, keepdim](const Tensor& g, const Tensor& x, const Tensor& r) {
                   return unreduce(g, x.sizes(), d, keepdim) * un(UnaryOp::exp, x - unreduce(r, x.sizes(), d, keepdim));
                 });
}

Tensor cumsum(const Tensor& x, int64_t dim, OptType dtype, const Tensor* out) {
  Recorder rec("cumsum", {x}, out);
  Tensor r = cumsum_impl(x, dim, dtype, out);
  if (!rec) return r;
  rec.set_outputs({r});
  int64_t d = x.dim() == 0 ? 0 : wrap_dim(dim, x.dim(), "cumsum");
  bool zero_d = x.dim() == 0;
  rec.node().fn = [d, zero_d](FnNode&, variable_list& g) {
    return variable_list{zero_d ? g[0] : rev_cumsum(g[0], d)};
  };
  return r;
}

Tensor cumprod(const Tensor& x, int64_t dim, OptType dtype, const Tensor* out) {
  int64_t d = x.dim() == 0 ? 0 : wrap_quiet(dim, x.dim());
  return record1("cumprod", x, out, [&] { return cumprod_impl(x, dim, dtype, out); },
                 [d](const Tensor& g, const Tensor& x, const Tensor& r) { return cumprod_backward(g, x, r, d); });
}

Tensor logcumsumexp(const Tensor& x, int64_t dim, const Tensor* out) {
  int64_t d = x.dim() == 0 ? 0 : wrap_quiet(dim, x.dim());
  return record1("logcumsumexp", x, out, [&] { return logcumsumexp_impl(x, dim, out); },
                 [d](const Tensor& g, const Tensor& x, const Tensor& r) { return logcumsumexp_backward(g, x, r, d); });
}

namespace {
template <typename Impl>
TensorPair record_cum_extreme(const char* op, const Tensor& x, int64_t dim, Impl impl) {
  Recorder rec(op, {x});
  TensorPair r = impl();
  if (!rec) return r;
  rec.set_outputs({r.first, r.second});
  size_t ii = rec.node().save(r.second);
  Shape xs = x.sizes();
  int64_t d = xs.empty() ? 0 : wrap_dim(dim, int64_t(xs.size()), op);
  rec.node().fn = [xs, d, ii](FnNode& n, variable_list& g) {
    if (!g[0].defined()) return variable_list{Tensor()};
    if (xs.empty()) return variable_list{g[0]};
    Tensor z = zeros(xs, g[0].dtype(), g[0].device());
    return variable_list{scatter_add_(z, d, n.get(ii), g[0])};
  };
  return r;
}
}  // namespace

TensorPair cummax(const Tensor& x, int64_t dim) {
  return record_cum_extreme("cummax", x, dim, [&] { return cummax_impl(x, dim); });
}
TensorPair cummin(const Tensor& x, int64_t dim) {
  return record_cum_extreme("cummin", x, dim, [&] { return cummin_impl(x, dim); });
}

}  // namespace ember
