// einsum, tensordot and kron, built on views (permute, diagonal strides, reshape) and the
// batched GEMM of ops/linalg.cpp: each pairwise contraction becomes one (batched) product.
#include <algorithm>
#include <cctype>

#include "../autograd/record.h"
#include "creation.h"
#include "reduce.h"
#include "elementwise.h"
#include "linalg.h"
#include "view.h"

namespace ember {

namespace {
int64_t prod(const Shape& s, size_t b = 0, size_t e = size_t(-1)) {
  int64_t p = 1;
  for (size_t i = b; i < std::min(e, s.size()); ++i) p *= s[i];
  return p;
}

// Whether autograd records through these (then the products go through recording ops).
bool recording(autograd::TensorRefs ts) { return autograd::any_requires_grad(ts); }

void check_sum_dtype(const char* op, ScalarType t) {
  EMBER_CHECK(t != ScalarType::Bool, TypeError, "[", op,
              "] unsupported dtype: expected a floating point, complex or integer dtype, got ", t);
}
}  // namespace

Tensor sum_trailing(const Tensor& x, int64_t nd) {
  if (nd == 0) return x;
  check_sum_dtype("einsum", x.dtype());
  if (recording({x})) {
    std::vector<int64_t> dims;
    for (int64_t d = x.dim() - nd; d < x.dim(); ++d) dims.push_back(d);
    return sum(x, dims, false, std::nullopt);
  }
  const size_t split = x.sizes().size() - size_t(nd);
  Shape keep(x.sizes().begin(), x.sizes().begin() + split);
  const int64_t rows = prod(keep), r = prod(x.sizes(), split);
  Tensor c = empty({rows, 1}, x.dtype(), x.device());
  if (rows > 0) {
    Tensor xr = reshape(x, {rows, r});
    Tensor ones_ = ones({r, 1}, x.dtype(), x.device());
    gemm_out("einsum", c, xr, ones_, Scalar(int64_t(1)), Scalar(int64_t(0)));
  }
  return view(c, keep);
}

namespace {

constexpr int kEll = 52;  // label ids: A-Z 0..25, a-z 26..51, ellipsis dims 52..

std::string label_name(int l) {
  if (l >= kEll) return "...";
  return std::string(1, l < 26 ? char('A' + l) : char('a' + l - 26));
}

void parse_term(const std::string& t, std::vector<int>& labels, int& ell_pos) {
  ell_pos = -1;
  for (size_t i = 0; i < t.size();) {
    char ch = t[i];
    if (ch == '.') {
      EMBER_CHECK(t.compare(i, 3, "...") == 0, ValueError, "[einsum] invalid '.' in term '", t,
                  "': expected an ellipsis '...'");
      EMBER_CHECK(ell_pos < 0, ValueError, "[einsum] more than one ellipsis in term '", t, "'");
      ell_pos = int(labels.size());
      i += 3;
      continue;
    }
    if (ch >= 'A' && ch <= 'Z') labels.push_back(ch - 'A');
    else if (ch >= 'a' && ch <= 'z') labels.push_back(26 + ch - 'a');
    else
      throw ValueError(str("[einsum] invalid character '", ch,
                           "' in the equation: expected letters, '...', ',' and '->'"));
    ++i;
  }
}

bool has(const std::vector<int>& v, int l) { return std::find(v.begin(), v.end(), l) != v.end(); }

// A size-1 dim broadcast to n (stride 0).
Tensor expand_dim(const Tensor& t, size_t d, int64_t n) {
  Shape sz = t.sizes();
  sz[d] = n;
  return expand(t, sz);
}


// Sums the dims of t whose labels `drop` says.
Tensor sum_labels(const Tensor& t, std::vector<int>& labels, const std::vector<bool>& drop) {
  Shape perm;
  std::vector<int> kept;
  int64_t nsum = 0;
  for (size_t i = 0; i < labels.size(); ++i)
    if (!drop[i]) {
      perm.push_back(int64_t(i));
      kept.push_back(labels[i]);
    }
  for (size_t i = 0; i < labels.size(); ++i)
    if (drop[i]) {
      perm.push_back(int64_t(i));
      ++nsum;
    }
  if (nsum == 0) return t;
  labels = kept;
  return sum_trailing(permute(t, perm), nsum);
}

// Contracts A (labels la) with B (labels lb), keeping the labels in `keep`.
Tensor contract(Tensor A, std::vector<int> la, Tensor B, std::vector<int> lb, const std::vector<int>& keep,
                std::vector<int>& out_labels) {
  // labels of one operand that nothing else needs
  {
    std::vector<bool> da(la.size()), db(lb.size());
    for (size_t i = 0; i < la.size(); ++i) da[i] = !has(lb, la[i]) && !has(keep, la[i]);
    for (size_t i = 0; i < lb.size(); ++i) db[i] = !has(la, lb[i]) && !has(keep, lb[i]);
    A = sum_labels(A, la, da);
    B = sum_labels(B, lb, db);
  }
  auto pos = [](const std::vector<int>& v, int l) { return int64_t(std::find(v.begin(), v.end(), l) - v.begin()); };
  std::vector<int> batch, con, ml, nl;
  for (int l : la) {
    if (has(lb, l)) (has(keep, l) ? batch : con).push_back(l);
    else ml.push_back(l);
  }
  for (int l : lb)
    if (!has(la, l)) nl.push_back(l);
  // contracted labels of size 1 on one side broadcast to the other's size
  for (int l : con) {
    int64_t ia = pos(la, l), ib = pos(lb, l);
    int64_t sa = A.sizes()[ia], sb = B.sizes()[ib];
    if (sa != sb) {
      if (sa == 1) A = expand_dim(A, size_t(ia), sb);
      else B = expand_dim(B, size_t(ib), sa);
    }
  }
  Shape pa, pb, bsa, bsb, bso, msz, nsz;
  int64_t K = 1, M = 1, N = 1;
  for (int l : batch) {
    pa.push_back(pos(la, l));
    pb.push_back(pos(lb, l));
    int64_t sa = A.sizes()[pos(la, l)], sb = B.sizes()[pos(lb, l)];
    bsa.push_back(sa);
    bsb.push_back(sb);
    bso.push_back(sa == 1 ? sb : sa);
  }
  for (int l : ml) {
    pa.push_back(pos(la, l));
    msz.push_back(A.sizes()[pos(la, l)]);
    M *= msz.back();
  }
  for (int l : con) {
    pa.push_back(pos(la, l));
    pb.push_back(pos(lb, l));
    K *= A.sizes()[pos(la, l)];
  }
  for (int l : nl) {
    pb.push_back(pos(lb, l));
    nsz.push_back(B.sizes()[pos(lb, l)]);
    N *= nsz.back();
  }
  Shape sa3 = bsa, sb3 = bsb, sc = bso;
  sa3.insert(sa3.end(), {M, K});
  sb3.insert(sb3.end(), {K, N});
  sc.insert(sc.end(), {M, N});
  Tensor A3 = reshape(permute(A, pa), sa3);
  Tensor B3 = reshape(permute(B, pb), sb3);
  Tensor C;
  if (recording({A3, B3})) {
    C = matmul(A3, B3);
  } else {
    C = empty(sc, A.dtype(), A.device());
    gemm_out("einsum", C, A3, B3, Scalar(int64_t(1)), Scalar(int64_t(0)));
  }
  Shape rs = bso;
  rs.insert(rs.end(), msz.begin(), msz.end());
  rs.insert(rs.end(), nsz.begin(), nsz.end());
  out_labels = batch;
  out_labels.insert(out_labels.end(), ml.begin(), ml.end());
  out_labels.insert(out_labels.end(), nl.begin(), nl.end());
  return view(C, rs);
}

}  // namespace

Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands) {
  EMBER_CHECK(!operands.empty(), ValueError, "[einsum] expected at least one operand, got none");
  std::string eq;
  for (char ch : equation)
    if (!std::isspace(static_cast<unsigned char>(ch))) eq += ch;
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> terms(1);
  for (char ch : lhs) {
    if (ch == ',') terms.emplace_back();
    else terms.back() += ch;
  }
  const size_t nops = operands.size();
  EMBER_CHECK(terms.size() == nops, ValueError, "[einsum] the equation has ", terms.size(), " operand term",
              terms.size() == 1 ? "" : "s", " but ", nops, " tensor", nops == 1 ? " was" : "s were", " given");
  const Tensor& first = operands[0];
  for (size_t i = 1; i < nops; ++i) {
    EMBER_CHECK(operands[i].dtype() == first.dtype(), TypeError,
                "[einsum] expected all operands to have the same dtype, got ", first.dtype(), " and ",
                operands[i].dtype());
    EMBER_CHECK(operands[i].device() == first.device(), ValueError,
                "[einsum] expected all operands on the same device, got ", first.device(), " and ",
                operands[i].device());
  }
  check_sum_dtype("einsum", first.dtype());

  // labels per operand, ellipsis dims right-aligned across operands
  std::vector<std::vector<int>> raw(nops);
  std::vector<int> ell(nops);
  int64_t ell_max = 0;
  for (size_t i = 0; i < nops; ++i) {
    int ep;
    parse_term(terms[i], raw[i], ep);
    const int64_t nl = int64_t(raw[i].size()), nd = operands[i].dim();
    if (ep < 0) {
      EMBER_CHECK(nl == nd, ValueError, "[einsum] operand ", i, " has ", nd, " dimension", nd == 1 ? "" : "s",
                  " but its term '", terms[i], "' gives ", nl, " subscript", nl == 1 ? "" : "s");
    } else {
      EMBER_CHECK(nl <= nd, ValueError, "[einsum] operand ", i, " has ", nd, " dimension", nd == 1 ? "" : "s",
                  " but its term '", terms[i], "' gives ", nl, " subscripts besides the ellipsis");
      ell_max = std::max(ell_max, nd - nl);
    }
    ell[i] = ep;
  }
  std::vector<std::vector<int>> labels(nops);
  for (size_t i = 0; i < nops; ++i) {
    if (ell[i] < 0) {
      labels[i] = raw[i];
      continue;
    }
    const int64_t e = operands[i].dim() - int64_t(raw[i].size());
    labels[i].assign(raw[i].begin(), raw[i].begin() + ell[i]);
    for (int64_t j = 0; j < e; ++j) labels[i].push_back(int(kEll + ell_max - e + j));
    labels[i].insert(labels[i].end(), raw[i].begin() + ell[i], raw[i].end());
  }

  // output labels
  std::vector<int> count(kEll + ell_max, 0);
  for (auto& l : labels)
    for (int x : l) ++count[x];
  std::vector<int> out;
  if (arrow != std::string::npos) {
    std::vector<int> ol;
    int ep;
    parse_term(eq.substr(arrow + 2), ol, ep);
    for (size_t j = 0; j < ol.size(); ++j) {
      if (int(j) == ep)
        for (int64_t e = 0; e < ell_max; ++e) out.push_back(int(kEll + e));
      EMBER_CHECK(count[ol[j]] > 0, ValueError, "[einsum] output subscript '", label_name(ol[j]),
                  "' does not appear in any input term");
      EMBER_CHECK(!has(out, ol[j]), ValueError, "[einsum] output subscript '", label_name(ol[j]),
                  "' appears more than once in the output");
      out.push_back(ol[j]);
    }
    if (ep == int(ol.size()))
      for (int64_t e = 0; e < ell_max; ++e) out.push_back(int(kEll + e));
  } else {
    for (int64_t e = 0; e < ell_max; ++e) out.push_back(int(kEll + e));
    for (int l = 0; l < kEll; ++l)
      if (count[l] == 1) out.push_back(l);
  }

  // sizes agree (or are 1) across operands
  std::vector<int64_t> size_of(kEll + ell_max, -1);
  std::vector<Tensor> ts(nops);
  for (size_t i = 0; i < nops; ++i) {
    const Tensor& t = operands[i];
    // repeated subscripts in one operand: a diagonal view
    std::vector<int> uniq;
    Shape sz, st;
    for (size_t d = 0; d < labels[i].size(); ++d) {
      int l = labels[i][d];
      auto it = std::find(uniq.begin(), uniq.end(), l);
      if (it == uniq.end()) {
        uniq.push_back(l);
        sz.push_back(t.sizes()[d]);
        st.push_back(t.strides()[d]);
      } else {
        size_t u = size_t(it - uniq.begin());
        EMBER_CHECK(sz[u] == t.sizes()[d], ValueError, "[einsum] subscript '", label_name(l),
                    "' is repeated for operand ", i, " but the sizes don't match: ", sz[u], " and ", t.sizes()[d]);
        st[u] += t.strides()[d];
      }
    }
    ts[i] = uniq.size() == labels[i].size() ? t : as_strided(t, sz, st, t.offset());
    labels[i] = uniq;
    for (size_t d = 0; d < uniq.size(); ++d) {
      int64_t& s = size_of[uniq[d]];
      int64_t n = sz[d];
      EMBER_CHECK(s < 0 || s == n || s == 1 || n == 1, ValueError, "[einsum] operands do not broadcast for subscript '",
                  label_name(uniq[d]), "': sizes ", s, " and ", n);
      if (s < 0 || s == 1) s = n;
    }
  }

  // labels used by one operand only and not in the output: sum them right away
  for (size_t i = 0; i < nops; ++i) {
    std::vector<bool> drop(labels[i].size());
    for (size_t d = 0; d < labels[i].size(); ++d) {
      int l = labels[i][d];
      bool elsewhere = has(out, l);
      for (size_t j = 0; j < nops && !elsewhere; ++j) elsewhere = j != i && has(labels[j], l);
      drop[d] = !elsewhere;
    }
    ts[i] = sum_labels(ts[i], labels[i], drop);
  }

  // contract left to right
  Tensor r = ts[0];
  std::vector<int> lr = labels[0];
  for (size_t i = 1; i < nops; ++i) {
    std::vector<int> keep = out;
    for (size_t j = i + 1; j < nops; ++j) keep.insert(keep.end(), labels[j].begin(), labels[j].end());
    std::vector<int> nl;
    r = contract(r, lr, ts[i], labels[i], keep, nl);
    lr = nl;
  }
  // output order (a label of size 1 here but larger in the output cannot occur: it would
  // have been broadcast in a contraction)
  Shape perm;
  for (int l : out) perm.push_back(int64_t(std::find(lr.begin(), lr.end(), l) - lr.begin()));
  return permute(r, perm);
}

// ---- tensordot, kron -------------------------------------------------------------------

Tensor tensordot(const Tensor& a, const Tensor& b, Shape dims_a, Shape dims_b, const Tensor* out) {
  const char* op = "tensordot";
  EMBER_CHECK(dims_a.size() == dims_b.size(), ValueError, "[tensordot] both dimension lists should have the same "
              "length, got ", dims_a.size(), " and ", dims_b.size());
  EMBER_CHECK(a.dtype() == b.dtype(), TypeError, "[tensordot] expected both inputs to have the same dtype, got ",
              a.dtype(), " and ", b.dtype());
  EMBER_CHECK(a.device() == b.device(), ValueError, "[tensordot] expected both inputs on the same device, got ",
              a.device(), " and ", b.device());
  check_sum_dtype(op, a.dtype());
  std::vector<bool> ua(a.dim(), false), ub(b.dim(), false);
  int64_t K = 1;
  for (size_t i = 0; i < dims_a.size(); ++i) {
    dims_a[i] = wrap_dim(dims_a[i], a.dim(), op);
    dims_b[i] = wrap_dim(dims_b[i], b.dim(), op);
    EMBER_CHECK(!ua[dims_a[i]] && !ub[dims_b[i]], ValueError, "[tensordot] repeated dimension in the lists ", dims_a,
                " and ", dims_b);
    ua[dims_a[i]] = ub[dims_b[i]] = true;
    int64_t sa = a.sizes()[dims_a[i]], sb = b.sizes()[dims_b[i]];
    EMBER_CHECK(sa == sb, ValueError, "[tensordot] contracted dimensions need to match, but the first has size ", sa,
                " in dim ", dims_a[i], " and the second has size ", sb, " in dim ", dims_b[i]);
    K *= sa;
  }
  Shape pa, pb, shape;
  int64_t M = 1, N = 1;
  for (int64_t d = 0; d < a.dim(); ++d)
    if (!ua[d]) {
      pa.push_back(d);
      shape.push_back(a.sizes()[d]);
      M *= a.sizes()[d];
    }
  pa.insert(pa.end(), dims_a.begin(), dims_a.end());
  pb = dims_b;
  for (int64_t d = 0; d < b.dim(); ++d)
    if (!ub[d]) {
      pb.push_back(d);
      shape.push_back(b.sizes()[d]);
      N *= b.sizes()[d];
    }
  Tensor A = reshape(permute(a, pa), {M, K});
  Tensor B = reshape(permute(b, pb), {K, N});
  Tensor r;
  if (recording({A, B})) {
    EMBER_CHECK(!out, Error, "[tensordot] out= does not support automatic differentiation; call it under "
                "ember.no_grad() or without out=");
    return reshape(mm(A, B), shape);
  }
  r = empty(shape, a.dtype(), a.device());
  gemm_out(op, make_view(r, {M, N}, {N, 1}, 0), A, B, Scalar(int64_t(1)), Scalar(int64_t(0)));
  if (!out) return r;
  EMBER_CHECK(out->sizes() == shape, ValueError, "[tensordot] output has the wrong shape: expected ", shape,
              ", got ", out->sizes());
  EMBER_CHECK(out->dtype() == r.dtype(), TypeError, "[tensordot] expected out to have dtype ", r.dtype(), ", got ",
              out->dtype());
  copy_(*out, r);
  return *out;
}

Tensor tensordot(const Tensor& a, const Tensor& b, int64_t dims, const Tensor* out) {
  EMBER_CHECK(dims >= 0, ValueError, "[tensordot] expected a non-negative number of dims, got ", dims);
  EMBER_CHECK(dims <= a.dim() && dims <= b.dim(), ValueError, "[tensordot] cannot contract ", dims,
              " dims of tensors with ", a.dim(), " and ", b.dim(), " dims");
  Shape da, db;
  for (int64_t i = 0; i < dims; ++i) {
    da.push_back(a.dim() - dims + i);
    db.push_back(i);
  }
  return tensordot(a, b, da, db, out);
}

Tensor kron(const Tensor& a, const Tensor& b, const Tensor* out) {
  const int64_t nd = std::max(a.dim(), b.dim());
  Shape sa(nd - a.dim(), 1), sb(nd - b.dim(), 1);
  sa.insert(sa.end(), a.sizes().begin(), a.sizes().end());
  sb.insert(sb.end(), b.sizes().begin(), b.sizes().end());
  Shape ia, ib, shape;
  for (int64_t i = 0; i < nd; ++i) {
    ia.insert(ia.end(), {sa[i], 1});
    ib.insert(ib.end(), {1, sb[i]});
    shape.push_back(sa[i] * sb[i]);
  }
  Tensor p = binary(BinaryOp::mul, reshape(a, ia), reshape(b, ib));
  Tensor r = reshape(p, shape);
  if (!out) return r;
  EMBER_CHECK(out->sizes() == shape, ValueError, "[kron] output has the wrong shape: expected ", shape, ", got ",
              out->sizes());
  EMBER_CHECK(can_cast(r.dtype(), out->dtype()), TypeError, "[kron] result type ", r.dtype(),
              " can't be cast to the desired output type ", out->dtype());
  copy_(*out, r);
  return *out;
}

}  // namespace ember
