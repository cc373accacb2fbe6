#include "iter.h"

#include <algorithm>

namespace ember {

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t sa = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t sb = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (sa != sb && sa != 1 && sb != 1)
      throw ValueError(str("[", op, "] shapes cannot be broadcast: expected sizes to match or be 1 at dimension ",
                           int64_t(i) - int64_t(n), ", got ", a, " and ", b));
    out[i] = sa == 1 ? sb : sa;
  }
  return out;
}

ElementwiseIter make_iter(const char* op, const Tensor& out, TensorRefList inputs) {
  ElementwiseIter it;
  const Shape& shape = out.sizes();
  const int nd = int(shape.size());
  EMBER_CHECK(nd <= kMaxDims, ValueError, "[", op, "] too many dimensions: expected at most ", kMaxDims,
              ", got ", nd);
  it.nops = 1 + int(inputs.size());
  it.numel = out.numel();

  // Byte strides per operand in the output's dim order (broadcast dims get stride 0).
  int64_t st[kMaxOperands][kMaxDims];
  auto fill = [&](int k, const Tensor& t) {
    it.data[k] = t.raw_data();
    it.dtypes[k] = t.dtype();
    const int td = int(t.dim());
    const int64_t isz = t.itemsize();
    for (int d = 0; d < nd; ++d) {
      int td_i = d - (nd - td);
      st[k][d] = (td_i < 0 || t.sizes()[td_i] == 1) ? 0 : t.strides()[td_i] * isz;
    }
  };
  fill(0, out);
  int k = 1;
  for (const Tensor& t : inputs) {
    it.host[k] = !out.device().is_cpu() && t.device().is_cpu();
    fill(k++, t);
  }

  // Order dims innermost-first: by output stride ascending, then by first input's.
  int perm[kMaxDims];
  for (int d = 0; d < nd; ++d) perm[d] = nd - 1 - d;
  auto less = [&](int a, int b) {
    for (int op_i = 0; op_i < it.nops; ++op_i) {
      int64_t x = st[op_i][a] < 0 ? -st[op_i][a] : st[op_i][a];
      int64_t y = st[op_i][b] < 0 ? -st[op_i][b] : st[op_i][b];
      if (x == 0 || y == 0) continue;  // broadcast dims do not decide
      if (x != y) return x < y;
    }
    return false;
  };
  std::stable_sort(perm, perm + nd, less);

  // Drop size-1 dims and merge dims contiguous in every operand.
  int n = 0;
  for (int i = 0; i < nd; ++i) {
    int d = perm[i];
    if (shape[d] == 1) continue;
    if (n > 0) {
      bool mergeable = true;
      for (int o = 0; o < it.nops && mergeable; ++o)
        mergeable = st[o][d] == it.strides[o][n - 1] * it.shape[n - 1];
      if (mergeable) {
        it.shape[n - 1] *= shape[d];
        continue;
      }
    }
    it.shape[n] = shape[d];
    for (int o = 0; o < it.nops; ++o) it.strides[o][n] = st[o][d];
    ++n;
  }
  it.ndim = n;
  return it;
}

}  // namespace ember
