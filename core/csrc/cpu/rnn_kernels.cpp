// CPU kernels of the fused LSTM pointwise step (ops/nn.h): one pass over (B, H) computes the
// gate activations, the new cell and hidden states; the backward is one pass too.
#include <cmath>

#include "../ops/nn.h"
#include "loop.h"
#include "vmath.h"

namespace ember {
namespace {

constexpr uint32_t kRnnMask = tbit(ScalarType::Float32) | tbit(ScalarType::Float64);

template <typename T>
inline T sigm(T x) { return T(1) / (T(1) + math::vexp(-x)); }

template <typename T>
EMBER_HOT512 void lstm_rows(const T* gates, const T* c, T* h, T* cn, T* acts, int64_t H, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const T* gr = gates + r * 4 * H;
    T* ar = acts + r * 4 * H;
    // omp simd: the outputs never overlap the inputs; without it GCC kept the loop scalar (six
    // pointers of one type), a third of an LSTM forward
#pragma omp simd
    for (int64_t j = 0; j < H; ++j) {
      const T i = sigm(gr[j]), f = sigm(gr[H + j]), g = math::vtanh(gr[2 * H + j]), o = sigm(gr[3 * H + j]);
      const T cv = f * c[r * H + j] + i * g;
      ar[j] = i;
      ar[H + j] = f;
      ar[2 * H + j] = g;
      ar[3 * H + j] = o;
      cn[r * H + j] = cv;
      h[r * H + j] = o * math::vtanh(cv);
    }
  }
}

void lstm_cell_kernel(const Tensor& gates, const Tensor& c, const Tensor& h_out, const Tensor& c_out,
                      const Tensor& acts) {
  const int64_t B = c.sizes()[0], H = c.sizes()[1];
  dispatch<kRnnMask>(c.dtype(), "lstm_cell", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    parallel_for(0, B, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, 16 * H)), [&](int64_t r0, int64_t r1) {
      lstm_rows<T>(gates.data<T>(), c.data<T>(), h_out.data<T>(), c_out.data<T>(), acts.data<T>(), H, r0, r1);
    });
  });
}

template <typename T>
EMBER_HOT512 void lstm_backward_rows(const T* acts, const T* c, const T* cn, const T* gh, const T* gc, T* gg, T* gcp,
                                  int64_t H, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const T* ar = acts + r * 4 * H;
    T* gr = gg + r * 4 * H;
#pragma omp simd
    for (int64_t j = 0; j < H; ++j) {
      const int64_t k = r * H + j;
      const T i = ar[j], f = ar[H + j], g = ar[2 * H + j], o = ar[3 * H + j];
      const T tc = math::vtanh(cn[k]);
      const T dh = gh ? gh[k] : T(0);
      const T dc = (gc ? gc[k] : T(0)) + dh * o * (T(1) - tc * tc);
      gr[j] = dc * g * i * (T(1) - i);
      gr[H + j] = dc * c[k] * f * (T(1) - f);
      gr[2 * H + j] = dc * i * (T(1) - g * g);
      gr[3 * H + j] = dh * tc * o * (T(1) - o);
      gcp[k] = dc * f;
    }
  }
}

void lstm_cell_backward_kernel(const Tensor& acts, const Tensor& c, const Tensor& c_new, const Tensor& gh,
                               const Tensor& gc, const Tensor& ggates, const Tensor& gc_prev) {
  const int64_t B = c.sizes()[0], H = c.sizes()[1];
  dispatch<kRnnMask>(c.dtype(), "lstm_cell_backward", [&](auto tag) {
    using T = EMBER_TYPE(tag);
    parallel_for(0, B, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, 16 * H)), [&](int64_t r0, int64_t r1) {
      lstm_backward_rows<T>(acts.data<T>(), c.data<T>(), c_new.data<T>(), gh.defined() ? gh.data<T>() : nullptr,
                            gc.defined() ? gc.data<T>() : nullptr, ggates.data<T>(), gc_prev.data<T>(), H, r0, r1);
    });
  });
}

}  // namespace

EMBER_REGISTER_CPU(lstm_cell_stub, lstm_cell_kernel);
EMBER_REGISTER_CPU(lstm_cell_backward_stub, lstm_cell_backward_kernel);

}  // namespace ember
