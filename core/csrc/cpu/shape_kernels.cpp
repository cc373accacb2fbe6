// CPU kernels of the shape ops: remap (gather through per-dim index maps), cat (block
// copies of contiguous inputs) and tril/triu. All three move bytes only, so they dispatch
// on the element size rather than on the dtype.
#include <algorithm>
#include <cstring>
#include <vector>

#include "../ops/shape.h"
#include "loop.h"

namespace ember {
namespace {

template <typename F>
inline void by_itemsize(int64_t isz, const char* op, F&& f) {
  switch (isz) {
    case 1: f(uint8_t{}); return;
    case 2: f(uint16_t{}); return;
    case 4: f(uint32_t{}); return;
    case 8: f(uint64_t{}); return;
    default: throw TypeError(str("[", op, "] unsupported element size ", isz));
  }
}

// ---- remap ---------------------------------------------------------------------------------
struct MapDim {
  int64_t size, stride;              // output size, input stride (elements)
  const std::vector<int64_t>* map;   // nullptr: identity
};

// A run of the innermost dim: copy consecutive input elements, fill, or gather through the map.
struct Seg {
  enum Kind : int8_t { Run, Reverse, Fill, Gather } kind;
  int64_t start, len, src;  // src: first input index (Run: ascending from it, Reverse: descending)
};

constexpr int64_t kMinRun = 16;  // shorter consecutive runs are cheaper to gather than to memcpy

std::vector<Seg> inner_segments(const MapDim& d) {
  std::vector<Seg> segs;
  if (!d.map) {
    segs.push_back({Seg::Run, 0, d.size, 0});
    return segs;
  }
  const std::vector<int64_t>& m = *d.map;
  int64_t k = 0, n = d.size;
  while (k < n) {
    int64_t e = k + 1;
    if (m[k] < 0) {
      while (e < n && m[e] < 0) ++e;
      segs.push_back({Seg::Fill, k, e - k, 0});
    } else {
      while (e < n && m[e] >= 0 && m[e] == m[e - 1] + 1) ++e;
      if (e == k + 1)
        while (e < n && m[e] >= 0 && m[e] == m[e - 1] - 1) ++e;
      if (e - k >= kMinRun) {
        segs.push_back({e - k > 1 && m[k + 1] < m[k] ? Seg::Reverse : Seg::Run, k, e - k, m[k]});
      } else if (!segs.empty() && segs.back().kind == Seg::Gather && segs.back().start + segs.back().len == k) {
        segs.back().len += e - k;
      } else {
        segs.push_back({Seg::Gather, k, e - k, 0});
      }
    }
    k = e;
  }
  return segs;
}

template <typename U>
void remap_typed(const Tensor& out, const Tensor& in, const DimMaps& maps, const Tensor& fill) {
  U fillv{};
  if (fill.defined()) std::memcpy(&fillv, fill.raw_data(), sizeof(U));
  U* o = out.data<U>();
  const U* ib = reinterpret_cast<const U*>(in.raw_data());
  // Fold size-1 dims into a base offset, then merge trailing identity dims that are
  // contiguous in the input (the output is contiguous), so that inner runs are long.
  int64_t base = 0;
  bool all_fill = false;
  std::vector<MapDim> dims;
  for (int64_t d = 0; d < out.dim(); ++d) {
    const std::vector<int64_t>* m = (size_t(d) < maps.size() && !maps[d].empty()) ? &maps[d] : nullptr;
    int64_t size = out.sizes()[d], stride = in.strides()[d];
    if (size == 1) {
      int64_t j = m ? (*m)[0] : 0;
      if (j < 0) all_fill = true;
      else base += j * stride;
      continue;
    }
    if (!m && !dims.empty() && !dims.back().map && dims.back().stride == stride * size) {
      dims.back().size *= size;
      dims.back().stride = stride;
      continue;
    }
    dims.push_back({size, stride, m});
  }
  const int64_t numel = out.numel();
  if (all_fill) {
    std::fill(o, o + numel, fillv);
    return;
  }
  if (dims.empty()) dims.push_back({1, 0, nullptr});
  const MapDim last = dims.back();
  const int K = int(dims.size()) - 1;  // outer dims
  const int64_t W = last.size, rows = numel / W, st = last.stride;
  const std::vector<Seg> segs = inner_segments(last);
  // Few long rows: split each row into column chunks so that all threads get work.
  int64_t nchunks = 1;
  if (rows < 4 * int64_t(get_num_threads()) && W >= 2 * kGrainSize)
    nchunks = std::min<int64_t>(W / kGrainSize, 64);
  const int64_t cw = (W + nchunks - 1) / nchunks;
  const int64_t units = rows * nchunks;
  const int64_t grain = std::max<int64_t>(1, kGrainSize / std::min(W, cw));

  parallel_for(0, units, grain, [&](int64_t b, int64_t e) {
    std::vector<int64_t> idx(size_t(std::max(K, 1)), 0);
    int64_t row = b / nchunks;
    for (int k = K - 1; k >= 0; --k) {
      idx[k] = row % dims[k].size;
      row /= dims[k].size;
    }
    for (int64_t u = b; u < e; ++u) {
      const int64_t r = u / nchunks, c = u % nchunks;
      const int64_t c0 = c * cw, c1 = std::min(W, c0 + cw);
      int64_t off = base;
      bool filled = false;
      for (int k = 0; k < K; ++k) {
        int64_t j = dims[k].map ? (*dims[k].map)[idx[k]] : idx[k];
        if (j < 0) { filled = true; break; }
        off += j * dims[k].stride;
      }
      U* orow = o + r * W;
      if (filled) {
        std::fill(orow + c0, orow + c1, fillv);
      } else {
        const U* irow = ib + off;
        for (const Seg& s : segs) {
          int64_t a = std::max(s.start, c0), z = std::min(s.start + s.len, c1);
          if (a >= z) continue;
          switch (s.kind) {
            case Seg::Run: {
              const U* src = irow + (s.src + (a - s.start)) * st;
              if (st == 1) std::memcpy(orow + a, src, size_t(z - a) * sizeof(U));
              else for (int64_t t = 0; t < z - a; ++t) orow[a + t] = src[t * st];
              break;
            }
            case Seg::Reverse: {
              const U* src = irow + (s.src - (a - s.start)) * st;
              U* dst = orow + a;
              if (st == 1) for (int64_t t = 0; t < z - a; ++t) dst[t] = src[-t];
              else for (int64_t t = 0; t < z - a; ++t) dst[t] = src[-t * st];
              break;
            }
            case Seg::Fill:
              std::fill(orow + a, orow + z, fillv);
              break;
            case Seg::Gather: {
              const int64_t* m = last.map->data();
              for (int64_t t = a; t < z; ++t) orow[t] = irow[m[t] * st];
              break;
            }
          }
        }
      }
      if (c == nchunks - 1) {  // next row: advance the outer multi-index
        for (int k = K - 1; k >= 0; --k) {
          if (++idx[k] < dims[k].size) break;
          idx[k] = 0;
        }
      }
    }
  });
}

EMBER_HOT void remap_kernel(const Tensor& out, const Tensor& in, const DimMaps& maps, const Tensor& fill) {
  by_itemsize(out.itemsize(), "remap", [&](auto u) { remap_typed<decltype(u)>(out, in, maps, fill); });
}
EMBER_REGISTER_CPU(remap_stub, remap_kernel);

// ---- cat -------------------------------------------------------------------------------------
constexpr int64_t kCopyGrainBytes = 1 << 18;

void parallel_memcpy(char* dst, const char* src, int64_t nbytes) {
  parallel_for(0, nbytes, kCopyGrainBytes, [&](int64_t b, int64_t e) {
    std::memcpy(dst + b, src + b, size_t(e - b));
  });
}

void cat_kernel(const Tensor& out, const std::vector<Tensor>& inputs, const std::vector<int64_t>& offsets,
                int64_t dim) {
  const int64_t isz = out.itemsize();
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= out.sizes()[d];
  for (int64_t d = dim + 1; d < out.dim(); ++d) inner *= out.sizes()[d];
  const int64_t out_row = out.sizes()[dim] * inner * isz;
  char* o = out.raw_data();
  if (outer >= 16) {  // many rows: each task copies whole output rows from every input
    parallel_for(0, outer, std::max<int64_t>(1, kCopyGrainBytes / std::max<int64_t>(out_row, 1)),
                 [&](int64_t b, int64_t e) {
                   for (size_t i = 0; i < inputs.size(); ++i) {
                     const int64_t rb = inputs[i].sizes()[dim] * inner * isz;
                     const char* src = inputs[i].raw_data();
                     char* dst = o + offsets[i] * inner * isz;
                     for (int64_t r = b; r < e; ++r) std::memcpy(dst + r * out_row, src + r * rb, size_t(rb));
                   }
                 });
    return;
  }
  for (int64_t r = 0; r < outer; ++r)
    for (size_t i = 0; i < inputs.size(); ++i) {
      const int64_t rb = inputs[i].sizes()[dim] * inner * isz;
      parallel_memcpy(o + r * out_row + offsets[i] * inner * isz, inputs[i].raw_data() + r * rb, rb);
    }
}
EMBER_REGISTER_CPU(cat_stub, cat_kernel);

// ---- tril / triu -----------------------------------------------------------------------------
template <typename U>
void tri_typed(const Tensor& out, const Tensor& in, int64_t k, bool upper) {
  const int64_t D = out.dim(), R = out.sizes()[D - 2], C = out.sizes()[D - 1];
  const bool inplace = out.raw_data() == in.raw_data() && out.strides() == in.strides();
  const int64_t ors = out.strides()[D - 2], ocs = out.strides()[D - 1];
  const int64_t irs = in.strides()[D - 2], ics = in.strides()[D - 1];
  U* ob = out.data<U>();
  const U* ibase = reinterpret_cast<const U*>(in.raw_data());
  const int64_t rows = out.numel() / C;
  parallel_for(0, rows, std::max<int64_t>(1, kGrainSize / C), [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      int64_t i = row % R, bt = row / R;
      int64_t oo = 0, io = 0;
      for (int64_t d = D - 3; d >= 0; --d) {
        int64_t s = out.sizes()[d], j = bt % s;
        bt /= s;
        oo += j * out.strides()[d];
        io += j * in.strides()[d];
      }
      U* orow = ob + oo + i * ors;
      const U* irow = ibase + io + i * irs;
      // kept columns [lo, hi)
      int64_t lo = upper ? std::clamp<int64_t>(i + k, 0, C) : 0;
      int64_t hi = upper ? C : std::clamp<int64_t>(i + k + 1, 0, C);
      auto zero = [&](int64_t a, int64_t z) {
        if (ocs == 1) std::fill(orow + a, orow + z, U(0));
        else for (int64_t j = a; j < z; ++j) orow[j * ocs] = U(0);
      };
      zero(0, lo);
      zero(hi, C);
      if (!inplace && lo < hi) {
        if (ocs == 1 && ics == 1) std::memcpy(orow + lo, irow + lo, size_t(hi - lo) * sizeof(U));
        else for (int64_t j = lo; j < hi; ++j) orow[j * ocs] = irow[j * ics];
      }
    }
  });
}

EMBER_HOT void tri_kernel(const Tensor& out, const Tensor& in, int64_t k, bool upper) {
  by_itemsize(out.itemsize(), "tril", [&](auto u) { tri_typed<decltype(u)>(out, in, k, upper); });
}
EMBER_REGISTER_CPU(tri_stub, tri_kernel);

}  // namespace
}  // namespace ember
