// Elementwise ops as ember.<op>(...), Tensor.<op>(...), Tensor.<op>_(...) and operators.
#include "../ops/creation.h"
#include "common.h"

namespace ember {

Tensor masked_fill_(const Tensor& x, const Tensor& mask, const Tensor& v);  // ops/elementwise_grad.cpp

namespace {

using OptT = std::optional<Tensor>;

Tensor run_unary(UnaryOp op, const Tensor& x, const Params& p, const Tensor* out) {
  return nogil([&] { return unary(op, x, p, out); });
}
Tensor run_binary(BinaryOp op, const Tensor& a, const Tensor& b, const Params& p, const Tensor* out) {
  // Tiny operands (the result has at most a.numel() * b.numel() elements, a few thousand here):
  // releasing and taking back the GIL would cost more than the op (the per-op overhead rows).
  if (!out && a.numel() <= 4096 && b.numel() <= 4096 && a.numel() * b.numel() <= 4096 && a.device().is_cpu() &&
      b.device().is_cpu())
    return binary(op, a, b, p, out);
  return nogil([&] { return binary(op, a, b, p, out); });
}

// x ** e: a Python number exponent on a float tensor takes the scalar-exponent kernel.
Tensor pow_impl(const Tensor& a, const Tensor& b, const Tensor* out) {
  if (b.is_wrapped_number() && !a.is_wrapped_number()) {
    ScalarType common = result_type({a, b});
    if (is_floating(common) && b.dtype() != ScalarType::Complex64) {
      Tensor ain = a.dtype() == common ? a : nogil([&] { return to_dtype(a, common); });
      return run_unary(UnaryOp::pow_scalar, ain, {item(b).to_double()}, out);
    }
  }
  return run_binary(BinaryOp::pow, a, b, {}, out);
}

Tensor div_impl(const Tensor& a, const Tensor& b, const std::optional<std::string>& mode, const Tensor* out) {
  if (!mode) return run_binary(BinaryOp::div, a, b, {}, out);
  if (*mode == "floor") return run_binary(BinaryOp::div_floor, a, b, {}, out);
  if (*mode == "trunc") return run_binary(BinaryOp::div_trunc, a, b, {}, out);
  throw ValueError(str("[div] expected rounding_mode to be one of None, 'trunc' or 'floor', got '", *mode, "'"));
}

// add/sub's alpha: a number; a float alpha with integer (or bool) inputs is an error, as in PyTorch.
Params alpha_param(const char* op, py::handle alpha, const Tensor& a, const Tensor& b) {
  auto s = py_scalar(alpha);
  EMBER_CHECK(s, TypeError, "[", op, "] expected a number for alpha, got ",
              std::string(py::str(py::type::handle_of(alpha).attr("__name__"))));
  ScalarType rt = result_type({a, b});
  EMBER_CHECK(!(is_integral(rt, true) && (s->kind == Scalar::Float || s->kind == Scalar::Complex)), TypeError, "[",
              op, "] alpha must be an integer for integral inputs: expected an int, got ", *s);
  EMBER_CHECK(is_complex(rt) || s->kind != Scalar::Complex, TypeError, "[", op,
              "] a complex alpha needs complex inputs: got ", *s, " for ", rt);
  return {s->to_double()};
}

py::object binop_or_notimpl(BinaryOp op, const Tensor& a, py::handle other, bool reflected, const Params& p = {1.0}) {
  auto b = py_operand(other);
  if (!b) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  return py::cast(reflected ? run_binary(op, *b, a, p, nullptr) : run_binary(op, a, *b, p, nullptr));
}

}  // namespace

void init_elementwise(py::module_& m) {
  auto cls = tensor_class(m);

  // ---- unary ops with no parameters ----
  for (int i = 0; i < int(UnaryOp::Count); ++i) {
    UnaryOp op = UnaryOp(i);
    const OpSpec& spec = unary_specs[i];
    std::string name = spec.name;
    if (name == "clamp" || name == "pow_scalar" || name == "logit" || name == "gelu" || name == "softplus" ||
        name == "round" || name == "nan_to_num" || name == "trigamma")
      continue;
    m.def(name.c_str(), [op](const Tensor& x, OptT out) { return run_unary(op, x, {}, out_ptr(out)); },
          py::arg("input"), py::kw_only(), py::arg("out") = py::none());
    cls.def(name.c_str(), [op](const Tensor& x) { return run_unary(op, x, {}, nullptr); });
    if (spec.rule != DtypeRule::Bool)
      cls.def((name + "_").c_str(), inplace([op](const Tensor& x) { return run_unary(op, x, {}, &x); }));
  }
  cls.def("__neg__", [](const Tensor& x) { return run_unary(UnaryOp::neg, x, {}, nullptr); });
  cls.def("__pos__", [](const Tensor& x) { return x; });
  cls.def("__abs__", [](const Tensor& x) { return run_unary(UnaryOp::abs, x, {}, nullptr); });
  cls.def("__invert__", [](const Tensor& x) { return run_unary(UnaryOp::bitwise_not, x, {}, nullptr); });
  m.attr("negative") = m.attr("neg");
  m.attr("absolute") = m.attr("abs");
  m.attr("arctan") = m.attr("atan");
  m.attr("arcsin") = m.attr("asin");
  m.attr("arccos") = m.attr("acos");
  m.attr("fix") = m.attr("trunc");
  m.attr("special_expit") = m.attr("sigmoid");
  m.def("polygamma", [](int64_t n, const Tensor& x, OptT out) {
          EMBER_CHECK(n == 0 || n == 1, NotImplementedError, "[polygamma] only n = 0 (digamma) and n = 1 (trigamma) "
                      "are implemented, got n = ", n);
          return run_unary(n == 0 ? UnaryOp::digamma : UnaryOp::trigamma, x, {}, out_ptr(out));
        }, py::arg("n"), py::arg("input"), py::kw_only(), py::arg("out") = py::none());
  cls.def("polygamma", [](const Tensor& x, int64_t n) {
            EMBER_CHECK(n == 0 || n == 1, NotImplementedError, "[polygamma] only n = 0 and n = 1 are implemented, "
                        "got n = ", n);
            return run_unary(n == 0 ? UnaryOp::digamma : UnaryOp::trigamma, x, {}, nullptr);
          }, py::arg("n"));

  // ---- parameterised unary ops ----
  auto def_param = [&](const char* name, auto fn, auto... args) {
    m.def(name, fn, py::arg("input"), args..., py::arg("out") = py::none());
  };
  (void)def_param;
  m.def("logit", [](const Tensor& x, std::optional<double> eps, OptT out) {
          return run_unary(UnaryOp::logit, x, {eps ? *eps : -1.0}, out_ptr(out));
        }, py::arg("input"), py::arg("eps") = py::none(), py::kw_only(), py::arg("out") = py::none());
  cls.def("logit", [](const Tensor& x, std::optional<double> eps) {
           return run_unary(UnaryOp::logit, x, {eps ? *eps : -1.0}, nullptr);
         }, py::arg("eps") = py::none());
  auto gelu_p = [](const std::string& approximate) -> Params {
    EMBER_CHECK(approximate == "none" || approximate == "tanh", ValueError,
                "[gelu] approximate must be 'none' or 'tanh', got '", approximate, "'");
    return {approximate == "tanh" ? 1.0 : 0.0};
  };
  m.def("gelu", [gelu_p](const Tensor& x, const std::string& approximate, OptT out) {
          return run_unary(UnaryOp::gelu, x, gelu_p(approximate), out_ptr(out));
        }, py::arg("input"), py::kw_only(), py::arg("approximate") = "none", py::arg("out") = py::none());
  m.def("softplus", [](const Tensor& x, double beta, double threshold, OptT out) {
          EMBER_CHECK(beta != 0, ValueError, "[softplus] beta must be nonzero, got 0");
          return run_unary(UnaryOp::softplus, x, {beta, threshold}, out_ptr(out));
        }, py::arg("input"), py::arg("beta") = 1.0, py::arg("threshold") = 20.0, py::kw_only(), py::arg("out") = py::none());
  m.def("round", [](const Tensor& x, int64_t decimals, OptT out) {
          return run_unary(UnaryOp::round, x, {double(decimals)}, out_ptr(out));
        }, py::arg("input"), py::kw_only(), py::arg("decimals") = 0, py::arg("out") = py::none());
  cls.def("round", [](const Tensor& x, int64_t decimals) { return run_unary(UnaryOp::round, x, {double(decimals)}, nullptr); },
          py::kw_only(), py::arg("decimals") = 0);
  cls.def("round_", inplace([](const Tensor& x, int64_t decimals) { return run_unary(UnaryOp::round, x, {double(decimals)}, &x); }),
          py::kw_only(), py::arg("decimals") = 0);
  auto nan_p = [](std::optional<double> nan, std::optional<double> posinf, std::optional<double> neginf) -> Params {
    return {nan ? *nan : 0.0, posinf ? *posinf : NAN, neginf ? *neginf : NAN};
  };
  m.def("nan_to_num", [nan_p](const Tensor& x, std::optional<double> nan, std::optional<double> posinf,
                              std::optional<double> neginf, OptT out) {
          return run_unary(UnaryOp::nan_to_num, x, nan_p(nan, posinf, neginf), out_ptr(out));
        }, py::arg("input"), py::arg("nan") = 0.0, py::arg("posinf") = py::none(), py::arg("neginf") = py::none(),
        py::kw_only(), py::arg("out") = py::none());
  cls.def("nan_to_num", [nan_p](const Tensor& x, std::optional<double> nan, std::optional<double> posinf,
                                std::optional<double> neginf) {
            return run_unary(UnaryOp::nan_to_num, x, nan_p(nan, posinf, neginf), nullptr);
          }, py::arg("nan") = 0.0, py::arg("posinf") = py::none(), py::arg("neginf") = py::none());
  cls.def("nan_to_num_", inplace([nan_p](const Tensor& x, std::optional<double> nan, std::optional<double> posinf,
                                 std::optional<double> neginf) {
            return run_unary(UnaryOp::nan_to_num, x, nan_p(nan, posinf, neginf), &x);
          }), py::arg("nan") = 0.0, py::arg("posinf") = py::none(), py::arg("neginf") = py::none());

  // clamp / clip with number or tensor bounds
  auto bound = [](py::handle h) -> OptT {
    if (h.is_none()) return std::nullopt;
    return operand(h, "clamp", "min/max");
  };
  auto clamp_fn = [bound](const Tensor& x, py::handle lo, py::handle hi, const Tensor* out) {
    OptT l = bound(lo), h = bound(hi);
    return nogil([&] { return clamp(x, l, h, out); });
  };
  for (const char* name : {"clamp", "clip"}) {
    m.def(name, [clamp_fn](const Tensor& x, py::handle lo, py::handle hi, OptT out) { return clamp_fn(x, lo, hi, out_ptr(out)); },
          py::arg("input"), py::arg("min") = py::none(), py::arg("max") = py::none(), py::kw_only(),
          py::arg("out") = py::none());
    cls.def(name, [clamp_fn](const Tensor& x, py::handle lo, py::handle hi) { return clamp_fn(x, lo, hi, nullptr); },
            py::arg("min") = py::none(), py::arg("max") = py::none());
    cls.def((std::string(name) + "_").c_str(),
            inplace([clamp_fn](const Tensor& x, py::handle lo, py::handle hi) { return clamp_fn(x, lo, hi, &x); }),
            py::arg("min") = py::none(), py::arg("max") = py::none());
  }

  // ---- binary ops ----
  for (int i = 0; i < int(BinaryOp::Count); ++i) {
    BinaryOp op = BinaryOp(i);
    std::string name = binary_specs[i].name;
    if (name == "add" || name == "sub" || name == "div" || name == "div_floor" || name == "div_trunc" || name == "pow" ||
        name == "threshold_backward" || name == "sigmoid_backward" || name == "tanh_backward")
      continue;
    m.def(name.c_str(), [op, name](py::handle a, py::handle b, OptT out) {
            return run_binary(op, operand(a, name.c_str(), "input"), operand(b, name.c_str()), {}, out_ptr(out));
          }, py::arg("input"), py::arg("other"), py::kw_only(), py::arg("out") = py::none());
    cls.def(name.c_str(), [op, name](const Tensor& a, py::handle b) {
              return run_binary(op, a, operand(b, name.c_str()), {}, nullptr);
            }, py::arg("other"));
    cls.def((name + "_").c_str(), inplace([op, name](const Tensor& a, py::handle b) {
              return run_binary(op, a, operand(b, name.c_str()), {}, &a);
            }), py::arg("other"));
  }
  for (auto [name, op] : {std::pair<const char*, BinaryOp>{"add", BinaryOp::add}, {"sub", BinaryOp::sub},
                          {"subtract", BinaryOp::sub}}) {
    BinaryOp o = op;
    std::string n = name;
    m.def(name, [o, n](py::handle a, py::handle b, py::handle alpha, OptT out) {
            Tensor ta = operand(a, n.c_str(), "input"), tb = operand(b, n.c_str());
            return run_binary(o, ta, tb, alpha_param(n.c_str(), alpha, ta, tb), out_ptr(out));
          }, py::arg("input"), py::arg("other"), py::kw_only(), py::arg("alpha") = 1, py::arg("out") = py::none());
    cls.def(name, [o, n](const Tensor& a, py::handle b, py::handle alpha) {
              Tensor tb = operand(b, n.c_str());
              return run_binary(o, a, tb, alpha_param(n.c_str(), alpha, a, tb), nullptr);
            }, py::arg("other"), py::kw_only(), py::arg("alpha") = 1);
    cls.def((n + "_").c_str(), inplace([o, n](const Tensor& a, py::handle b, py::handle alpha) {
              Tensor tb = operand(b, n.c_str());
              return run_binary(o, a, tb, alpha_param(n.c_str(), alpha, a, tb), &a);
            }), py::arg("other"), py::kw_only(), py::arg("alpha") = 1);
  }
  for (const char* name : {"div", "divide", "true_divide"}) {
    m.def(name, [](py::handle a, py::handle b, std::optional<std::string> mode, OptT out) {
            return div_impl(operand(a, "div", "input"), operand(b, "div"), mode, out_ptr(out));
          }, py::arg("input"), py::arg("other"), py::kw_only(), py::arg("rounding_mode") = py::none(),
          py::arg("out") = py::none());
    cls.def(name, [](const Tensor& a, py::handle b, std::optional<std::string> mode) {
              return div_impl(a, operand(b, "div"), mode, nullptr);
            }, py::arg("other"), py::kw_only(), py::arg("rounding_mode") = py::none());
    cls.def((std::string(name) + "_").c_str(), inplace([](const Tensor& a, py::handle b, std::optional<std::string> mode) {
              return div_impl(a, operand(b, "div"), mode, &a);
            }), py::arg("other"), py::kw_only(), py::arg("rounding_mode") = py::none());
  }
  m.def("floor_divide", [](py::handle a, py::handle b, OptT out) {
          return run_binary(BinaryOp::div_floor, operand(a, "floor_divide", "input"), operand(b, "floor_divide"), {}, out_ptr(out));
        }, py::arg("input"), py::arg("other"), py::kw_only(), py::arg("out") = py::none());
  cls.def("floor_divide", [](const Tensor& a, py::handle b) {
            return run_binary(BinaryOp::div_floor, a, operand(b, "floor_divide"), {}, nullptr);
          });
  cls.def("floor_divide_", inplace([](const Tensor& a, py::handle b) {
            return run_binary(BinaryOp::div_floor, a, operand(b, "floor_divide"), {}, &a);
          }));
  m.def("pow", [](py::handle a, py::handle b, OptT out) {
          return pow_impl(operand(a, "pow", "input"), operand(b, "pow", "exponent"), out_ptr(out));
        }, py::arg("input"), py::arg("exponent"), py::kw_only(), py::arg("out") = py::none());
  cls.def("pow", [](const Tensor& a, py::handle b) { return pow_impl(a, operand(b, "pow", "exponent"), nullptr); });
  cls.def("pow_", inplace([](const Tensor& a, py::handle b) { return pow_impl(a, operand(b, "pow", "exponent"), &a); }));
  m.attr("multiply") = m.attr("mul");
  m.attr("greater") = m.attr("gt");
  m.attr("greater_equal") = m.attr("ge");
  m.attr("less") = m.attr("lt");
  m.attr("less_equal") = m.attr("le");
  m.attr("not_equal") = m.attr("ne");
  m.attr("arctan2") = m.attr("atan2");
  cls.attr("multiply") = cls.attr("mul");
  // PyTorch's names for the shifts
  m.attr("bitwise_left_shift") = m.attr("left_shift");
  m.attr("bitwise_right_shift") = m.attr("right_shift");
  cls.attr("bitwise_left_shift") = cls.attr("left_shift");
  cls.attr("bitwise_right_shift") = cls.attr("right_shift");
  cls.attr("bitwise_left_shift_") = cls.attr("left_shift_");
  cls.attr("bitwise_right_shift_") = cls.attr("right_shift_");

  // ---- operators ----
  struct OpDef { const char* name; BinaryOp op; bool reflected; };
  static const OpDef ops[] = {
      {"__add__", BinaryOp::add, false}, {"__radd__", BinaryOp::add, true},
      {"__sub__", BinaryOp::sub, false}, {"__rsub__", BinaryOp::sub, true},
      {"__mul__", BinaryOp::mul, false}, {"__rmul__", BinaryOp::mul, true},
      {"__truediv__", BinaryOp::div, false}, {"__rtruediv__", BinaryOp::div, true},
      {"__floordiv__", BinaryOp::div_floor, false}, {"__rfloordiv__", BinaryOp::div_floor, true},
      {"__mod__", BinaryOp::remainder, false}, {"__rmod__", BinaryOp::remainder, true},
      {"__and__", BinaryOp::bitwise_and, false}, {"__rand__", BinaryOp::bitwise_and, true},
      {"__or__", BinaryOp::bitwise_or, false}, {"__ror__", BinaryOp::bitwise_or, true},
      {"__xor__", BinaryOp::bitwise_xor, false}, {"__rxor__", BinaryOp::bitwise_xor, true},
      {"__lshift__", BinaryOp::left_shift, false}, {"__rlshift__", BinaryOp::left_shift, true},
      {"__rshift__", BinaryOp::right_shift, false}, {"__rrshift__", BinaryOp::right_shift, true},
      {"__eq__", BinaryOp::eq, false}, {"__ne__", BinaryOp::ne, false},
      {"__lt__", BinaryOp::lt, false}, {"__le__", BinaryOp::le, false},
      {"__gt__", BinaryOp::gt, false}, {"__ge__", BinaryOp::ge, false},
  };
  for (const OpDef& d : ops) {
    BinaryOp op = d.op;
    bool refl = d.reflected;
    cls.def(d.name, [op, refl](const Tensor& a, py::handle b) { return binop_or_notimpl(op, a, b, refl); },
            py::is_operator());
  }
  static const OpDef iops[] = {
      {"__iadd__", BinaryOp::add, false}, {"__isub__", BinaryOp::sub, false}, {"__imul__", BinaryOp::mul, false},
      {"__itruediv__", BinaryOp::div, false}, {"__ifloordiv__", BinaryOp::div_floor, false},
      {"__imod__", BinaryOp::remainder, false}, {"__iand__", BinaryOp::bitwise_and, false},
      {"__ior__", BinaryOp::bitwise_or, false}, {"__ixor__", BinaryOp::bitwise_xor, false},
      {"__ilshift__", BinaryOp::left_shift, false}, {"__irshift__", BinaryOp::right_shift, false},
  };
  for (const OpDef& d : iops) {
    BinaryOp op = d.op;
    cls.def(d.name, inplace([op](const Tensor& a, py::handle b) -> py::object {
              auto t = py_operand(b);
              if (!t) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
              run_binary(op, a, *t, {1.0}, &a);
              return py::none();
            }), py::is_operator());
  }
  cls.def("__pow__", [](const Tensor& a, py::handle b) -> py::object {
            auto t = py_operand(b);
            if (!t) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
            return py::cast(pow_impl(a, *t, nullptr));
          }, py::is_operator());
  cls.def("__rpow__", [](const Tensor& a, py::handle b) -> py::object {
            auto t = py_operand(b);
            if (!t) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
            return py::cast(run_binary(BinaryOp::pow, *t, a, {}, nullptr));
          }, py::is_operator());
  cls.def("__ipow__", inplace([](const Tensor& a, py::handle b) -> py::object {
            auto t = py_operand(b);
            if (!t) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
            pow_impl(a, *t, &a);
            return py::none();
          }), py::is_operator());

  // ---- ternary ----
  m.def("where", [](const Tensor& c, py::handle a, py::handle b, OptT out) {
          Tensor ta = operand(a, "where", "input"), tb = operand(b, "where", "other");
          return nogil([&] { return where(c, ta, tb, out_ptr(out)); });
        }, py::arg("condition"), py::arg("input"), py::arg("other"), py::kw_only(), py::arg("out") = py::none());
  cls.def("where", [](const Tensor& a, const Tensor& c, py::handle b) {
            Tensor tb = operand(b, "where", "other");
            return nogil([&] { return where(c, a, tb); });
          }, py::arg("condition"), py::arg("other"));
  auto masked_fill = [](const Tensor& x, const Tensor& mask, py::handle value, const Tensor* out) {
    Tensor v = operand(value, "masked_fill", "value");
    EMBER_CHECK(mask.dtype() == ScalarType::Bool, TypeError, "[masked_fill] expected a bool mask, got ", mask.dtype());
    EMBER_CHECK(v.dim() == 0, ValueError, "[masked_fill] expected a number or a 0-d tensor as value, got shape ",
                v.sizes());
    return nogil([&] {
      Tensor vv = to_dtype(v, x.dtype());
      vv.impl()->wrapped_number = false;
      Shape shape = broadcast_shapes(out ? "masked_fill_" : "masked_fill", x.sizes(), mask.sizes());
      EMBER_CHECK(!out || shape == x.sizes(), ValueError, "[masked_fill_] mask of shape ", mask.sizes(),
                  " cannot be broadcast to the tensor's shape ", x.sizes());
      return out ? masked_fill_(x, mask, vv) : where(mask, vv, x, out);
    });
  };
  m.def("masked_fill", [masked_fill](const Tensor& x, const Tensor& mask, py::handle v) { return masked_fill(x, mask, v, nullptr); },
        py::arg("input"), py::arg("mask"), py::arg("value"));
  cls.def("masked_fill", [masked_fill](const Tensor& x, const Tensor& mask, py::handle v) { return masked_fill(x, mask, v, nullptr); },
          py::arg("mask"), py::arg("value"));
  cls.def("masked_fill_", inplace([masked_fill](const Tensor& x, const Tensor& mask, py::handle v) { return masked_fill(x, mask, v, &x); }),
          py::arg("mask"), py::arg("value"));
  auto lerp_fn = [](const Tensor& a, py::handle end, py::handle w, const Tensor* out) {
    Tensor e = operand(end, "lerp", "end"), tw = operand(w, "lerp", "weight");
    return nogil([&] { return lerp(a, e, tw, out); });
  };
  m.def("lerp", [lerp_fn](const Tensor& a, py::handle e, py::handle w, OptT out) { return lerp_fn(a, e, w, out_ptr(out)); },
        py::arg("input"), py::arg("end"), py::arg("weight"), py::kw_only(), py::arg("out") = py::none());
  cls.def("lerp", [lerp_fn](const Tensor& a, py::handle e, py::handle w) { return lerp_fn(a, e, w, nullptr); },
          py::arg("end"), py::arg("weight"));
  cls.def("lerp_", inplace([lerp_fn](const Tensor& a, py::handle e, py::handle w) { return lerp_fn(a, e, w, &a); }),
          py::arg("end"), py::arg("weight"));

  // ---- type conversion and copies ----
  m.def("result_type", [](py::handle a, py::handle b) {
    Tensor ta = operand(a, "result_type", "tensor1"), tb = operand(b, "result_type", "tensor2");
    return result_type({ta, tb});
  }, py::arg("tensor1"), py::arg("tensor2"));
  cls.def("_to_dtype", [](const Tensor& x, ScalarType dt, bool copy) { return nogil([&] { return to_dtype(x, dt, copy); }); },
          py::arg("dtype"), py::arg("copy") = false);
  cls.def("clone", [](const Tensor& x) { return nogil([&] { return clone(x); }); });
  m.def("clone", [](const Tensor& x) { return nogil([&] { return clone(x); }); }, py::arg("input"));
  cls.def("contiguous", [](const Tensor& x) { return nogil([&] { return contiguous(x); }); });
  cls.def("copy_", inplace([](const Tensor& x, py::handle src, bool non_blocking) {
            Tensor s = operand(src, "copy_", "src");
            nogil([&] { copy_(x, s, non_blocking); return 0; });
            return x;
          }), py::arg("src"), py::arg("non_blocking") = false);
  cls.def("_to_device", [](const Tensor& x, Device d, ScalarType dt, bool non_blocking, bool copy) {
            return nogil([&] { return to_device(x, d, dt, non_blocking, copy); });
          }, py::arg("device"), py::arg("dtype"), py::arg("non_blocking") = false, py::arg("copy") = false);
}

}  // namespace ember
