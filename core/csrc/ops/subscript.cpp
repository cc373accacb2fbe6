// Python subscripts: ints, slices, None, Ellipsis and bools make a view; tensor indices
// then go through advanced indexing (index_tensor / index_put_ in ops/index.cpp).
#include "elementwise.h"
#include "index.h"
#include "view.h"

namespace ember {

namespace {
struct Parsed {
  Tensor view;                                   // after basic indexing
  std::vector<std::optional<Tensor>> advanced;   // index_tensor's list for view
  bool has_advanced = false;
};

Parsed parse(const Tensor& x, const std::vector<TensorIndex>& idx) {
  // Count dims the index consumes to place the Ellipsis.
  int64_t consumed = 0, ellipses = 0;
  for (const auto& ix : idx) {
    if (ix.kind == TensorIndex::Int || ix.kind == TensorIndex::Slice) ++consumed;
    else if (ix.kind == TensorIndex::Tensor)  // a k-d mask covers k dims (a 0-d one adds its own dim)
      consumed += (ix.t.dtype() == ScalarType::Bool || ix.t.dtype() == ScalarType::UInt8) ? ix.t.dim() : 1;
    else if (ix.kind == TensorIndex::Ellipsis) ++ellipses;
  }
  EMBER_CHECK(ellipses <= 1, IndexError, "[index] an index can only have a single ellipsis ('...'), got ", ellipses);
  EMBER_CHECK(consumed <= x.dim(), IndexError, "[index] too many indices for tensor of dimension ", x.dim(),
              ": got ", consumed);
  Parsed p;
  Tensor v = x;
  int64_t d = 0;  // current dim in v
  std::vector<std::optional<Tensor>> adv;
  for (const auto& ix : idx) {
    switch (ix.kind) {
      case TensorIndex::Int: {
        int64_t n = v.sizes()[d];
        EMBER_CHECK(ix.i >= -n && ix.i < n, IndexError, "[index] index ", ix.i, " is out of bounds for dimension ",
                    d, " with size ", n);
        v = select(v, d, ix.i);
        break;
      }
      case TensorIndex::Slice:
        v = slice(v, d, ix.start, ix.stop, ix.step);
        adv.push_back(std::nullopt);
        ++d;
        break;
      case TensorIndex::None:
        v = unsqueeze(v, d);
        adv.push_back(std::nullopt);
        ++d;
        break;
      case TensorIndex::Ellipsis: {
        int64_t skip = x.dim() - consumed;
        for (int64_t k = 0; k < skip; ++k) adv.push_back(std::nullopt);
        d += skip;
        break;
      }
      case TensorIndex::Bool: {
        // x[True] adds a dim of size 1, x[False] one of size 0
        v = unsqueeze(v, d);
        if (!ix.b) v = slice(v, d, 0, 0, 1);
        adv.push_back(std::nullopt);
        ++d;
        break;
      }
      case TensorIndex::Tensor: {
        const Tensor& t = ix.t;
        EMBER_CHECK(t.dtype() == ScalarType::Bool || t.dtype() == ScalarType::UInt8 || is_integral(t.dtype()),
                    IndexError, "[index] tensors used as indices must be long, int, byte or bool tensors, got ",
                    t.dtype());
        Tensor ti = t.dtype() == ScalarType::UInt8 ? to_dtype(t, ScalarType::Bool) : t;
        int64_t span = ti.dtype() == ScalarType::Bool ? ti.dim() : 1;
        if (ti.dtype() == ScalarType::Bool && ti.dim() == 0) {
          v = unsqueeze(v, d);
          span = 1;
        }
        adv.push_back(ti);  // a bool tensor covers `span` dims with one entry
        p.has_advanced = true;
        d += span;
        break;
      }
    }
  }
  p.view = v;
  p.advanced = std::move(adv);
  return p;
}
}  // namespace

Tensor subscript(const Tensor& x, const std::vector<TensorIndex>& idx) {
  Parsed p = parse(x, idx);
  if (!p.has_advanced) return p.view.is_same(x) ? view(x, x.sizes()) : p.view;
  return index_tensor(p.view, p.advanced);
}

void subscript_assign(const Tensor& x, const std::vector<TensorIndex>& idx, const Tensor& value) {
  Parsed p = parse(x, idx);
  if (!p.has_advanced) {
    uint64_t v = x.version();
    copy_(p.view, value);
    if (x.version() == v) x.bump_version();  // copy_ skips empty and self copies; a write still counts once
    return;
  }
  index_put_(p.view, p.advanced, value, false);
}

}  // namespace ember
