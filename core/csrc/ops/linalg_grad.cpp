// Matrix products with autograd. Derivatives are products again (so double backward works);
// the engine sums broadcast batch dims away.
#include "../autograd/autocast.h"
#include "../autograd/record.h"
#include "../autograd/sugar.h"
#include "linalg.h"
#include "view.h"

namespace ember {

Tensor matmul_impl(const Tensor& a, const Tensor& b, const Tensor* out);
Tensor mm_impl(const Tensor& a, const Tensor& b, const Tensor* out);
Tensor bmm_impl(const Tensor& a, const Tensor& b, const Tensor* out);
Tensor mv_impl(const Tensor& a, const Tensor& v, const Tensor* out);
Tensor dot_nograd(const Tensor& a, const Tensor& b, const Tensor* out);
Tensor vdot_impl(const Tensor& a, const Tensor& b, const Tensor* out);
Tensor addmm_impl(const Tensor& input, const Tensor& m1, const Tensor& m2, const Scalar& beta, const Scalar& alpha,
                  const Tensor* out);
Tensor baddbmm_impl(const Tensor& input, const Tensor& b1, const Tensor& b2, const Scalar& beta, const Scalar& alpha,
                    const Tensor* out);
Tensor addmv_impl(const Tensor& input, const Tensor& mat, const Tensor& vec, const Scalar& beta, const Scalar& alpha,
                  const Tensor* out);
Tensor addr_impl(const Tensor& input, const Tensor& v1, const Tensor& v2, const Scalar& beta, const Scalar& alpha,
                 const Tensor* out);

using namespace autograd;

namespace {
// Records a two-factor product op: `back(n, g, a, b)` returns {ga, gb}.
template <typename Impl, typename Back>
Tensor record2(const char* op, const Tensor& a, const Tensor& b, const Tensor* out, Impl impl, Back back) {
  Recorder rec(op, {a, b}, out);
  Tensor r = impl();
  if (!rec) return r;
  rec.set_outputs({r});
  FnNode& n = rec.node();
  n.save(a);
  n.save(b);
  n.fn = [back](FnNode& n, variable_list& g) {
    Tensor a = n.needs_input_grad(1) ? n.get(0) : Tensor();
    Tensor b = n.needs_input_grad(0) ? n.get(1) : Tensor();
    return back(n, g[0], a, b);
  };
  return r;
}

// beta * input + alpha * product(f1, f2).
template <typename Impl, typename Back>
Tensor record_add(const char* op, const Tensor& input, const Tensor& f1, const Tensor& f2, const Scalar& beta,
                  const Scalar& alpha, const Tensor* out, Impl impl, Back back) {
  Recorder rec(op, {input, f1, f2}, out);
  Tensor r = impl();
  if (!rec) return r;
  rec.set_outputs({r});
  FnNode& n = rec.node();
  n.save(f1);
  n.save(f2);
  double be = beta.to_double(), al = alpha.to_double();
  n.fn = [back, be, al](FnNode& n, variable_list& g) {
    Tensor f1 = n.needs_input_grad(2) ? n.get(0) : Tensor();
    Tensor f2 = n.needs_input_grad(1) ? n.get(1) : Tensor();
    variable_list p = back(n, g[0], f1, f2);  // {g1, g2} of the product
    return variable_list{n.needs_input_grad(0) ? (be == 1.0 ? g[0] : g[0] * be) : Tensor(),
                         p[0].defined() && al != 1.0 ? p[0] * al : p[0], p[1].defined() && al != 1.0 ? p[1] * al : p[1]};
  };
  return r;
}
}  // namespace

Tensor mm(const Tensor& a, const Tensor& b, const Tensor* out) {
  if (autocast_needed(out, a, b)) return mm(autocast(a), autocast(b), out);
  return record2("mm", a, b, out, [&] { return mm_impl(a, b, out); },
                 [](FnNode& n, const Tensor& g, const Tensor& a, const Tensor& b) {
                   return variable_list{n.needs_input_grad(0) ? mm(g, mT(b)) : Tensor(),
                                        n.needs_input_grad(1) ? mm(mT(a), g) : Tensor()};
                 });
}

Tensor bmm(const Tensor& a, const Tensor& b, const Tensor* out) {
  if (autocast_needed(out, a, b)) return bmm(autocast(a), autocast(b), out);
  return record2("bmm", a, b, out, [&] { return bmm_impl(a, b, out); },
                 [](FnNode& n, const Tensor& g, const Tensor& a, const Tensor& b) {
                   return variable_list{n.needs_input_grad(0) ? bmm(g, mT(b)) : Tensor(),
                                        n.needs_input_grad(1) ? bmm(mT(a), g) : Tensor()};
                 });
}

Tensor matmul(const Tensor& a, const Tensor& b, const Tensor* out) {
  if (autocast_needed(out, a, b)) return matmul(autocast(a), autocast(b), out);
  Shape as = a.sizes(), bs = b.sizes();
  return record2("matmul", a, b, out, [&] { return matmul_impl(a, b, out); },
                 [as, bs](FnNode& n, const Tensor& g, const Tensor& a, const Tensor& b) {
                   Tensor G = g;
                   if (as.size() == 1) G = unsqueeze(G, G.dim() - (bs.size() == 1 ? 0 : 1));
                   if (bs.size() == 1) G = unsqueeze(G, G.dim());
                   Tensor ga, gb;
                   if (n.needs_input_grad(0)) {
                     Tensor B = bs.size() == 1 ? unsqueeze(b, 1) : b;
                     Shape As = as;
                     if (as.size() == 1) As.insert(As.begin(), 1);
                     ga = reshape(sum_to(matmul(G, mT(B)), As), as);
                   }
                   if (n.needs_input_grad(1)) {
                     Tensor A = as.size() == 1 ? unsqueeze(a, 0) : a;
                     Shape Bs = bs;
                     if (bs.size() == 1) Bs.push_back(1);
                     gb = reshape(sum_to(matmul(mT(A), G), Bs), bs);
                   }
                   return variable_list{ga, gb};
                 });
}

Tensor mv(const Tensor& a, const Tensor& v, const Tensor* out) {
  return record2("mv", a, v, out, [&] { return mv_impl(a, v, out); },
                 [](FnNode& n, const Tensor& g, const Tensor& a, const Tensor& v) {
                   return variable_list{n.needs_input_grad(0) ? unsqueeze(g, 1) * unsqueeze(v, 0) : Tensor(),
                                        n.needs_input_grad(1) ? mv(mT(a), g) : Tensor()};
                 });
}

Tensor dot(const Tensor& a, const Tensor& b, const Tensor* out) {
  return record2("dot", a, b, out, [&] { return dot_nograd(a, b, out); },
                 [](FnNode& n, const Tensor& g, const Tensor& a, const Tensor& b) {
                   return variable_list{n.needs_input_grad(0) ? g * b : Tensor(), n.needs_input_grad(1) ? g * a : Tensor()};
                 });
}

Tensor vdot(const Tensor& a, const Tensor& b, const Tensor* out) {  // real inputs: the dot product
  return record2("vdot", a, b, out, [&] { return vdot_impl(a, b, out); },
                 [](FnNode& n, const Tensor& g, const Tensor& a, const Tensor& b) {
                   return variable_list{n.needs_input_grad(0) ? g * b : Tensor(), n.needs_input_grad(1) ? g * a : Tensor()};
                 });
}

Tensor addmm(const Tensor& input, const Tensor& m1, const Tensor& m2, const Scalar& beta, const Scalar& alpha,
             const Tensor* out) {
  if (autocast_needed(out, input, m1, m2))
    return addmm(autocast(input), autocast(m1), autocast(m2), beta, alpha, out);
  return record_add("addmm", input, m1, m2, beta, alpha, out, [&] { return addmm_impl(input, m1, m2, beta, alpha, out); },
                    [](FnNode& n, const Tensor& g, const Tensor& m1, const Tensor& m2) {
                      return variable_list{n.needs_input_grad(1) ? mm(g, mT(m2)) : Tensor(),
                                           n.needs_input_grad(2) ? mm(mT(m1), g) : Tensor()};
                    });
}

Tensor baddbmm(const Tensor& input, const Tensor& b1, const Tensor& b2, const Scalar& beta, const Scalar& alpha,
               const Tensor* out) {
  if (autocast_needed(out, input, b1, b2))
    return baddbmm(autocast(input), autocast(b1), autocast(b2), beta, alpha, out);
  return record_add("baddbmm", input, b1, b2, beta, alpha, out,
                    [&] { return baddbmm_impl(input, b1, b2, beta, alpha, out); },
                    [](FnNode& n, const Tensor& g, const Tensor& b1, const Tensor& b2) {
                      return variable_list{n.needs_input_grad(1) ? bmm(g, mT(b2)) : Tensor(),
                                           n.needs_input_grad(2) ? bmm(mT(b1), g) : Tensor()};
                    });
}

Tensor addmv(const Tensor& input, const Tensor& mat, const Tensor& vec, const Scalar& beta, const Scalar& alpha,
             const Tensor* out) {
  return record_add("addmv", input, mat, vec, beta, alpha, out,
                    [&] { return addmv_impl(input, mat, vec, beta, alpha, out); },
                    [](FnNode& n, const Tensor& g, const Tensor& mat, const Tensor& vec) {
                      return variable_list{n.needs_input_grad(1) ? unsqueeze(g, 1) * unsqueeze(vec, 0) : Tensor(),
                                           n.needs_input_grad(2) ? mv(mT(mat), g) : Tensor()};
                    });
}

Tensor addr(const Tensor& input, const Tensor& v1, const Tensor& v2, const Scalar& beta, const Scalar& alpha,
            const Tensor* out) {
  return record_add("addr", input, v1, v2, beta, alpha, out, [&] { return addr_impl(input, v1, v2, beta, alpha, out); },
                    [](FnNode& n, const Tensor& g, const Tensor& v1, const Tensor& v2) {
                      return variable_list{n.needs_input_grad(1) ? mv(g, v2) : Tensor(),
                                           n.needs_input_grad(2) ? mv(mT(g), v1) : Tensor()};
                    });
}

}  // namespace ember
