// CUDA kernels of the fused optimizer updates (ops/optim.h): one thread per element of a
// parameter, the CPU kernel's order of operations (cpu/optim_kernels.cpp); one launch per
// parameter.
#include <cmath>

#include "../ops/optim.h"
#include "primitives.cuh"

namespace ember {
namespace cuda {
namespace {

constexpr uint32_t kOptMask = tbit(ScalarType::Float32) | tbit(ScalarType::Float64);
constexpr int kOptThreads = 256;

template <typename T>
struct AdamConsts {
  T beta2, w1, w2, wd, decay, eps, neg_step, bc2_sqrt, sign;
  int wd_mode;  // 0 none, 1 L2 (into the gradient), 2 decoupled (AdamW)
};

template <typename T>
__global__ void adam_kernel(AdamConsts<T> c, int64_t n, T* p, const T* g, T* m, T* v, T* vmax) {
  const int64_t i = int64_t(blockIdx.x) * kOptThreads + threadIdx.x;
  if (i >= n) return;
  T gi = g[i] * c.sign;
  T pi = p[i];
  if (c.wd_mode == 2) pi = pi * c.decay;
  if (c.wd_mode == 1) gi = gi + c.wd * pi;
  const T mi = m[i] + c.w1 * (gi - m[i]);
  const T vi = v[i] * c.beta2 + c.w2 * gi * gi;
  m[i] = mi;
  v[i] = vi;
  T vv = vi;
  if (vmax) {
    vv = vmax[i] > vi ? vmax[i] : vi;
    vmax[i] = vv;
  }
  const T denom = sqrt(vv) / c.bc2_sqrt + c.eps;
  p[i] = pi + c.neg_step * mi / denom;
}

struct AdamBody {
  const AdamArgs& a;
  const Tensor &p, &g, &m, &v, &vmax;
  template <typename T>
  void operator()() const {
    AdamConsts<T> c;
    c.beta2 = T(a.beta2), c.w1 = T(1 - a.beta1), c.w2 = T(1 - a.beta2);
    c.wd = T(a.weight_decay), c.decay = T(1 - a.lr * a.weight_decay), c.eps = T(a.eps);
    const double bc1 = 1 - std::pow(a.beta1, a.step), bc2 = 1 - std::pow(a.beta2, a.step);
    c.neg_step = T(-(a.lr / bc1)), c.bc2_sqrt = T(std::sqrt(bc2)), c.sign = a.maximize ? T(-1) : T(1);
    c.wd_mode = a.weight_decay == 0 ? 0 : a.decoupled ? 2 : 1;
    const int64_t n = p.numel();
    adam_kernel<T><<<blocks_for(n, kOptThreads), kOptThreads, 0, current_stream_here()>>>(
        c, n, p.data<T>(), g.data<T>(), m.data<T>(), v.data<T>(), vmax.defined() ? vmax.data<T>() : nullptr);
    check_launch("fused_adam");
  }
};
void adam_cuda(const AdamArgs& a, const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v,
               const Tensor& vmax) {
  dispatch_cuda<kOptMask>(p.dtype(), "fused_adam", AdamBody{a, p, g, m, v, vmax});
}

template <typename T>
struct SgdConsts {
  T wd, mom, damp, lr, sign;
  bool use_wd;
  int mom_mode;  // 0 none, 1 momentum, 2 Nesterov
};

template <typename T>
__global__ void sgd_kernel(SgdConsts<T> c, int64_t n, T* p, const T* g, T* buf) {
  const int64_t i = int64_t(blockIdx.x) * kOptThreads + threadIdx.x;
  if (i >= n) return;
  T gi = g[i] * c.sign;
  if (c.use_wd) gi = gi + c.wd * p[i];
  if (c.mom_mode != 0) {
    const T bi = buf[i] * c.mom + c.damp * gi;
    buf[i] = bi;
    gi = c.mom_mode == 2 ? gi + c.mom * bi : bi;
  }
  p[i] = p[i] + (-c.lr) * gi;
}

struct SgdBody {
  const SgdArgs& a;
  const Tensor &p, &g, &buf;
  template <typename T>
  void operator()() const {
    SgdConsts<T> c;
    c.wd = T(a.weight_decay), c.mom = T(a.momentum), c.damp = T(1 - a.dampening), c.lr = T(a.lr);
    c.sign = a.maximize ? T(-1) : T(1);
    c.use_wd = a.weight_decay != 0;
    c.mom_mode = !buf.defined() ? 0 : a.nesterov ? 2 : 1;
    const int64_t n = p.numel();
    sgd_kernel<T><<<blocks_for(n, kOptThreads), kOptThreads, 0, current_stream_here()>>>(
        c, n, p.data<T>(), g.data<T>(), buf.defined() ? buf.data<T>() : nullptr);
    check_launch("fused_sgd");
  }
};
void sgd_cuda(const SgdArgs& a, const Tensor& p, const Tensor& g, const Tensor& buf) {
  dispatch_cuda<kOptMask>(p.dtype(), "fused_sgd", SgdBody{a, p, g, buf});
}

}  // namespace
}  // namespace cuda

EMBER_REGISTER_CUDA(fused_adam_stub, cuda::adam_cuda);
EMBER_REGISTER_CUDA(fused_sgd_stub, cuda::sgd_cuda);

}  // namespace ember
