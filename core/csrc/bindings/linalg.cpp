// Linear algebra bindings: matmul/@, mm, bmm, mv, dot, vdot, inner, outer/ger, addmm, baddbmm,
// addmv, addr (+ in-place), einsum, tensordot, kron.
#include "../ops/linalg.h"

#include "../ops/view.h"
#include "common.h"

namespace ember {

namespace {
using OptT = std::optional<Tensor>;

Scalar coef(py::handle h, const char* op, const char* name) {
  if (auto s = py_scalar(h)) return *s;
  if (py::isinstance<Tensor>(h)) {
    Tensor t = h.cast<Tensor>();
    EMBER_CHECK(t.numel() == 1, ValueError, "[", op, "] expected a number for ", name, ", got a tensor of shape ",
                t.sizes());
    return item(t);
  }
  throw TypeError(str("[", op, "] expected a number for ", name, ", got ",
                      std::string(py::str(py::type::handle_of(h).attr("__name__")))));
}

Shape int_list(py::handle h, const char* op) {
  if (PyLong_Check(h.ptr())) return {h.cast<int64_t>()};
  return py_shape(h, op);
}

// dims: an int, or a pair of int lists (or of ints).
Tensor tensordot_py(const Tensor& a, const Tensor& b, py::handle dims, const Tensor* out) {
  if (PyLong_Check(dims.ptr())) {
    int64_t d = dims.cast<int64_t>();
    return nogil([&] { return tensordot(a, b, d, out); });
  }
  if (py::isinstance<Tensor>(dims)) {
    Tensor t = dims.cast<Tensor>();
    if (t.dim() == 0) {
      int64_t d = item(t).to_int();
      return nogil([&] { return tensordot(a, b, d, out); });
    }
    py::object l = py::cast(t).attr("tolist")();
    return tensordot_py(a, b, l, out);
  }
  EMBER_CHECK(py::isinstance<py::sequence>(dims) && py::len(dims) == 2, TypeError,
              "[tensordot] expected dims to be an int or a pair of lists of dims, got ",
              std::string(py::str(dims)));
  auto seq = py::reinterpret_borrow<py::sequence>(dims);
  Shape da = int_list(seq[0], "tensordot"), db = int_list(seq[1], "tensordot");
  return nogil([&] { return tensordot(a, b, da, db, out); });
}

// einsum("ij,jk->ik", a, b), einsum("ij,jk", [a, b]) and the sublist form einsum(a, [0, 1], b, [1, 2], [0, 2]).
Tensor einsum_py(py::args args) {
  EMBER_CHECK(args.size() >= 1, TypeError, "[einsum] expected an equation and operands");
  std::string eq;
  std::vector<Tensor> ops;
  if (py::isinstance<py::str>(args[0])) {
    eq = args[0].cast<std::string>();
    if (args.size() == 2 && !py::isinstance<Tensor>(args[1]) && py::isinstance<py::sequence>(args[1])) {
      for (py::object h : py::reinterpret_borrow<py::sequence>(args[1])) ops.push_back(h.cast<Tensor>());
    } else {
      for (size_t i = 1; i < args.size(); ++i) {
        EMBER_CHECK(py::isinstance<Tensor>(args[i]), TypeError, "[einsum] expected Tensor operands, got ",
                    std::string(py::str(py::type::handle_of(args[i]).attr("__name__"))));
        ops.push_back(args[i].cast<Tensor>());
      }
    }
  } else {
    auto sub = [](py::handle h) {
      std::string s;
      EMBER_CHECK(py::isinstance<py::sequence>(h), TypeError, "[einsum] expected a list of subscripts, got ",
                  std::string(py::str(py::type::handle_of(h).attr("__name__"))));
      for (py::object e : py::reinterpret_borrow<py::sequence>(h)) {
        if (e.is(py::ellipsis())) {
          s += "...";
          continue;
        }
        EMBER_CHECK(PyLong_Check(e.ptr()) && !PyBool_Check(e.ptr()), TypeError,
                    "[einsum] expected ints (or ...) in the sublist format, got ",
                    std::string(py::str(py::type::handle_of(e).attr("__name__"))));
        int64_t v = e.cast<int64_t>();
        EMBER_CHECK(v >= 0 && v < 52, ValueError, "[einsum] subscript in the sublist format must be in [0, 52), got ", v);
        s += v < 26 ? char('A' + v) : char('a' + v - 26);
      }
      return s;
    };
    size_t i = 0;
    for (; i + 1 < args.size(); i += 2) {
      EMBER_CHECK(py::isinstance<Tensor>(args[i]), TypeError, "[einsum] expected a Tensor in the sublist format, got ",
                  std::string(py::str(py::type::handle_of(args[i]).attr("__name__"))));
      ops.push_back(args[i].cast<Tensor>());
      eq += (i ? "," : "") + sub(args[i + 1]);
    }
    if (i < args.size()) eq += "->" + sub(args[i]);
  }
  return nogil([&] { return einsum(eq, ops); });
}

}  // namespace

void init_linalg(py::module_& m) {
  auto cls = tensor_class(m);
  const auto one = py::int_(1);

  m.def("matmul", [](const Tensor& a, const Tensor& b, OptT out) { return nogil([&] { return matmul(a, b, out_ptr(out)); }); },
        py::arg("input"), py::arg("other"), py::kw_only(), py::arg("out") = py::none(),
        R"doc(Matrix product with PyTorch's rules.

1-D @ 1-D is a dot product (0-d result); 2-D @ 1-D a matrix-vector product; a 1-D first
argument is treated as a row and a 1-D second one as a column (the unit dim is removed
from the result); batch dims (all but the last two) broadcast.

Args:
    input (Tensor): (..., n, k) or (k,).
    other (Tensor): (..., k, m) or (k,), same dtype as input.
    out (Tensor, optional): receives the result.

Returns:
    Tensor: (broadcast batch..., n, m) with the 1-D cases' dims removed.

Example:
    >>> ember.matmul(ember.ones(2, 3, 4), ember.ones(4)).shape
    (2, 3)
)doc");
  cls.def("matmul", [](const Tensor& a, const Tensor& b) { return nogil([&] { return matmul(a, b); }); },
          py::arg("other"));
  cls.def("__matmul__", [](const Tensor& a, py::handle b) -> py::object {
    if (!py::isinstance<Tensor>(b)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
    Tensor bt = b.cast<Tensor>();
    return py::cast(nogil([&] { return matmul(a, bt); }));
  });
  cls.def("__rmatmul__", [](const Tensor& a, py::handle b) -> py::object {
    if (!py::isinstance<Tensor>(b)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
    Tensor bt = b.cast<Tensor>();
    return py::cast(nogil([&] { return matmul(bt, a); }));
  });

  auto def2 = [&](const char* name, Tensor (*fn)(const Tensor&, const Tensor&, const Tensor*), const char* arg2,
                  const char* doc) {
    m.def(name, [fn](const Tensor& a, const Tensor& b, OptT out) { return nogil([&] { return fn(a, b, out_ptr(out)); }); },
          py::arg("input"), py::arg(arg2), py::kw_only(), py::arg("out") = py::none(), doc);
    cls.def(name, [fn](const Tensor& a, const Tensor& b) { return nogil([&] { return fn(a, b, nullptr); }); },
            py::arg(arg2));
  };
  def2("mm", &mm, "mat2", "Product of two 2-D matrices: (n, k) @ (k, m) -> (n, m).");
  def2("bmm", &bmm, "mat2", "Batched product of 3-D tensors: (b, n, k) @ (b, k, m) -> (b, n, m).");
  def2("mv", &mv, "vec", "Matrix-vector product: (n, k) @ (k,) -> (n,).");
  def2("dot", &dot, "tensor", "Dot product of two 1-D tensors of the same dtype.");
  def2("vdot", &vdot, "other", "Dot product conjugating the first argument (complex).");
  def2("outer", &outer, "vec2", "Outer product of two vectors: (n,) x (m,) -> (n, m).");
  def2("ger", &outer, "vec2", "Alias of outer.");
  def2("kron", &kron, "other", "Kronecker product.");

  auto inner = [](const Tensor& a, const Tensor& b, const Tensor* out) {
    if (a.dim() == 0 || b.dim() == 0) return binary(BinaryOp::mul, a, b, {}, out);
    return tensordot(a, b, Shape{-1}, Shape{-1}, out);
  };
  m.def("inner", [inner](const Tensor& a, const Tensor& b, OptT out) { return nogil([&] { return inner(a, b, out_ptr(out)); }); },
        py::arg("input"), py::arg("other"), py::kw_only(), py::arg("out") = py::none(),
        "Sum of products over the last dims of both inputs.");
  cls.def("inner", [inner](const Tensor& a, const Tensor& b) { return nogil([&] { return inner(a, b, nullptr); }); },
          py::arg("other"));

  using AddFn = Tensor (*)(const Tensor&, const Tensor&, const Tensor&, const Scalar&, const Scalar&, const Tensor*);
  auto def_add = [&](const char* name, AddFn fn, const char* a1, const char* a2, const char* doc) {
    std::string n = name;
    m.def(name, [fn, n](const Tensor& in, const Tensor& x, const Tensor& y, py::handle beta, py::handle alpha, OptT out) {
            Scalar be = coef(beta, n.c_str(), "beta"), al = coef(alpha, n.c_str(), "alpha");
            return nogil([&] { return fn(in, x, y, be, al, out_ptr(out)); });
          }, py::arg("input"), py::arg(a1), py::arg(a2), py::kw_only(), py::arg("beta") = one, py::arg("alpha") = one,
          py::arg("out") = py::none(), doc);
    cls.def(name, [fn, n](const Tensor& in, const Tensor& x, const Tensor& y, py::handle beta, py::handle alpha) {
              Scalar be = coef(beta, n.c_str(), "beta"), al = coef(alpha, n.c_str(), "alpha");
              return nogil([&] { return fn(in, x, y, be, al, nullptr); });
            }, py::arg(a1), py::arg(a2), py::kw_only(), py::arg("beta") = one, py::arg("alpha") = one);
    cls.def((n + "_").c_str(), inplace([fn, n](const Tensor& in, const Tensor& x, const Tensor& y, py::handle beta, py::handle alpha) {
              Scalar be = coef(beta, n.c_str(), "beta"), al = coef(alpha, n.c_str(), "alpha");
              return nogil([&] { return fn(in, x, y, be, al, &in); });
            }), py::arg(a1), py::arg(a2), py::kw_only(), py::arg("beta") = one, py::arg("alpha") = one);
  };
  def_add("addmm", &addmm, "mat1", "mat2", "beta * input + alpha * (mat1 @ mat2); beta=0 ignores input (nan included).");
  def_add("baddbmm", &baddbmm, "batch1", "batch2", "beta * input + alpha * bmm(batch1, batch2).");
  def_add("addmv", &addmv, "mat", "vec", "beta * input + alpha * (mat @ vec).");
  def_add("addr", &addr, "vec1", "vec2", "beta * input + alpha * outer(vec1, vec2).");

  m.def("tensordot", [](const Tensor& a, const Tensor& b, py::handle dims, OptT out) {
          return tensordot_py(a, b, dims, out_ptr(out));
        }, py::arg("a"), py::arg("b"), py::arg("dims") = 2, py::kw_only(), py::arg("out") = py::none(),
        R"doc(Sum of products over dims of a and b.

Args:
    a, b (Tensor): same dtype.
    dims (int or pair of lists): n contracts the last n dims of a with the first n of b;
        ([dims of a], [dims of b]) contracts those pairs. Default 2.

Returns:
    Tensor: a's free dims followed by b's free dims.

Example:
    >>> ember.tensordot(ember.ones(3, 4, 5), ember.ones(4, 5, 2)).shape
    (3, 2)
)doc");
  m.def("einsum", &einsum_py,
        R"doc(Einstein summation over the operands' labelled dims.

Supports '...' (broadcast dims), the implicit output (ellipsis dims, then the labels used
once, in alphabetical order), repeated labels in one operand (diagonals), sums over labels
absent from the output, size-1 broadcasting like PyTorch's, a list of operands, and the
sublist format einsum(a, [0, 1], b, [1, 2], [0, 2]). Contractions run as batched GEMMs,
left to right.

Args:
    equation (str): like 'bij,bjk->bik'.
    *operands (Tensor): one per term, all of one dtype.

Returns:
    Tensor: the result (a view of the input when nothing is summed or multiplied).

Example:
    >>> ember.einsum('ii', ember.eye(3)).item()
    3.0
)doc");
}

}  // namespace ember
