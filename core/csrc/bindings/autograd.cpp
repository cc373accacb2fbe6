// Autograd in Python: Tensor.requires_grad/grad/grad_fn/backward hooks, graph nodes,
// grad modes, the engine entry point and the node of a Python autograd.Function.
#include "../autograd/node.h"
#include "../autograd/record.h"
#include "../ops/creation.h"
#include "common.h"

namespace ember {

using namespace autograd;

namespace {

// A Python callable held from C++: dropped with the GIL held (nodes die in the engine,
// which runs without it).
struct PyRef {
  py::object obj;
  explicit PyRef(py::object o) : obj(std::move(o)) {}
  ~PyRef() {
    if (!Py_IsInitialized()) {
      obj.release();
      return;
    }
    py::gil_scoped_acquire g;
    obj = py::object();
  }
};
using PyRefPtr = std::shared_ptr<PyRef>;

py::object tensor_or_none(const Tensor& t) { return t.defined() ? py::cast(t) : py::none(); }

py::tuple to_py(const variable_list& v) {
  py::tuple t(v.size());
  for (size_t i = 0; i < v.size(); ++i) t[i] = tensor_or_none(v[i]);
  return t;
}

variable_list from_py(py::handle seq, const char* what) {
  variable_list r;
  if (py::isinstance<Tensor>(seq)) {
    r.push_back(seq.cast<Tensor>());
    return r;
  }
  for (py::handle h : seq) {
    if (h.is_none()) r.emplace_back();
    else if (py::isinstance<Tensor>(h)) r.push_back(h.cast<Tensor>());
    else
      throw TypeError(str("[", what, "] expected a Tensor or None, got ",
                          std::string(py::str(py::type::handle_of(h).attr("__name__")))));
  }
  return r;
}

TensorHook tensor_hook(py::function fn) {
  auto ref = std::make_shared<PyRef>(std::move(fn));
  return [ref](const Tensor& g) -> Tensor {
    py::gil_scoped_acquire gil;
    py::object r = ref->obj(g);
    if (r.is_none()) return Tensor();
    EMBER_CHECK(py::isinstance<Tensor>(r), TypeError, "[hook] a tensor hook must return a Tensor or None, got ",
                std::string(py::str(py::type::handle_of(r).attr("__name__"))));
    Tensor t = r.cast<Tensor>();
    EMBER_CHECK(t.sizes() == g.sizes(), ValueError, "[hook] the hook returned a gradient of shape ", t.sizes(),
                ", expected ", g.sizes());
    return t;
  };
}

// A handle whose remove() unregisters a hook.
struct RemovableHandle {
  std::function<void()> remover;
  void remove() {
    if (remover) remover();
    remover = nullptr;
  }
};

std::string python_stack() {
  py::gil_scoped_acquire g;
  py::object tb = py::module_::import("traceback");
  py::list frames = tb.attr("format_stack")();
  std::string s;
  for (py::handle f : frames) s += f.cast<std::string>();
  return s;
}

// ---- Python autograd.Function --------------------------------------------------------------

struct PyNode : Node {
  PyRefPtr ctx, backward;  // the ctx object and cls.backward
  std::string cls_name;
  std::vector<SavedVariable> saved;
  std::vector<InputMeta> output_meta;
  std::vector<bool> is_tensor_arg;  // per forward argument
  bool materialize = true;
  std::string name() const override { return cls_name + "Backward"; }
  void release_variables() override {
    for (auto& s : saved) s.reset();
    released = true;
  }
  variable_list apply(variable_list&& grads) override {
    if (released && has_saved) throw_freed_graph(cls_name);
    py::gil_scoped_acquire gil;
    py::tuple args(grads.size() + 1);
    args[0] = ctx->obj;
    for (size_t i = 0; i < grads.size(); ++i) {
      if (!grads[i].defined() && materialize && i < output_meta.size()) {
        GradModeGuard ng(false);
        grads[i] = zeros(output_meta[i].shape, output_meta[i].dtype);
      }
      args[i + 1] = tensor_or_none(grads[i]);
    }
    py::object r = backward->obj(*args);
    py::tuple rt = py::isinstance<py::tuple>(r) ? py::reinterpret_borrow<py::tuple>(r) : py::make_tuple(r);
    size_t nargs = is_tensor_arg.size();
    size_t n = rt.size();
    while (n > nargs && rt[n - 1].is_none()) --n;  // trailing Nones are allowed
    EMBER_CHECK(n == nargs, Error, "[", cls_name, ".backward] returned an incorrect number of gradients: expected ",
                nargs, " (one per forward argument), got ", rt.size());
    variable_list out(nargs);
    for (size_t i = 0; i < nargs; ++i) {
      py::handle h = rt[i];
      if (h.is_none()) continue;
      EMBER_CHECK(py::isinstance<Tensor>(h), TypeError, "[", cls_name, ".backward] gradient ", i,
                  " must be a Tensor or None, got ", std::string(py::str(py::type::handle_of(h).attr("__name__"))));
      EMBER_CHECK(is_tensor_arg[i], Error, "[", cls_name, ".backward] returned a gradient for argument ", i,
                  ", which is not a Tensor; return None there");
      out[i] = h.cast<Tensor>();
    }
    return out;
  }
  ~PyNode() override {
    py::gil_scoped_acquire g;
    ctx.reset();
    backward.reset();
  }
};

// ctx.saved_tensors reads through this (a weak link: no reference cycle ctx <-> node).
struct SavedHandle {
  std::weak_ptr<PyNode> node;
  py::tuple unpack() {
    auto n = node.lock();
    EMBER_CHECK(n, Error, "[saved_tensors] the graph was freed");
    variable_list v;
    for (auto& s : n->saved) v.push_back(s.unpack(n->cls_name.c_str(), n));
    return to_py(v);
  }
};

py::object function_record(py::object cls, py::object ctx, py::tuple args, py::object outputs, py::tuple to_save,
                           py::tuple dirty, py::tuple non_diff, bool materialize) {
  bool single = py::isinstance<Tensor>(outputs);
  py::tuple outs = single ? py::make_tuple(outputs) : py::tuple(outputs);
  bool any = false;
  if (GradMode::is_enabled())
    for (py::handle a : args)
      if (py::isinstance<Tensor>(a) && requires_grad(a.cast<Tensor>())) any = true;
  auto is_in = [](py::handle t, const py::tuple& set) {
    for (py::handle s : set)
      if (s.is(t)) return true;
    return false;
  };
  if (!any) {
    ctx.attr("_saved_plain") = to_save;
    return outputs;
  }
  auto node = std::make_shared<PyNode>();
  node->ctx = std::make_shared<PyRef>(ctx);
  node->backward = std::make_shared<PyRef>(cls.attr("backward"));
  node->cls_name = py::str(cls.attr("__name__"));
  node->materialize = materialize;
  for (py::handle a : args) {
    bool t = py::isinstance<Tensor>(a);
    node->is_tensor_arg.push_back(t);
    if (t) node->add_input(a.cast<Tensor>());
    else {
      node->next_edges.emplace_back();
      node->input_meta.emplace_back();
    }
  }
  if (AnomalyMode::is_enabled()) node->anomaly_trace = python_stack();
  node->num_outputs = uint32_t(outs.size());
  py::list result;
  for (size_t i = 0; i < outs.size(); ++i) {
    py::object o = outs[i];
    if (!py::isinstance<Tensor>(o)) {
      node->output_meta.emplace_back();
      result.append(o);
      continue;
    }
    Tensor t = o.cast<Tensor>();
    node->output_meta.push_back({t.sizes(), t.dtype()});
    if (is_in(o, non_diff) || !differentiable_dtype(t.dtype())) {
      result.append(o);
      continue;
    }
    if (is_in(o, dirty)) {
      EMBER_CHECK(!(meta(t) && meta(t)->requires_grad && !meta(t)->grad_fn), Error, "[", node->cls_name,
                  "] a leaf tensor that requires grad was modified in-place (mark_dirty) by the forward");
      rebase_history(t, node);
      result.append(o);
      continue;
    }
    if (is_in(o, args) || requires_grad(t)) t = make_view(t, t.sizes(), t.strides(), t.offset());  // keep the input's own history
    set_history(t, node, uint32_t(i));
    result.append(py::cast(t));
  }
  // saved tensors: outputs are saved without their history (no cycle)
  for (py::handle s : to_save) {
    if (s.is_none()) {
      node->saved.emplace_back();
      continue;
    }
    Tensor t = s.cast<Tensor>();
    bool is_out = false;
    for (size_t i = 0; i < outs.size(); ++i)
      if (py::handle(outs[i]).ptr() == s.ptr()) {
        is_out = true;
        t = result[i].cast<Tensor>();
      }
    node->saved.emplace_back(t, is_out);
  }
  node->has_saved = !node->saved.empty();
  ctx.attr("_saved_handle") = SavedHandle{node};
  // The node owns ctx: ctx must not hold the outputs (their grad_fn is the node), or the cycle
  // node -> ctx -> output -> node, which passes through C++, is never collected.
  for (const char* a : {"_to_save", "_dirty", "_non_diff"})
    if (py::hasattr(ctx, a)) py::delattr(ctx, a);
  if (single) return result[0];
  return py::tuple(result);
}

}  // namespace

void init_autograd(py::module_& m) {
  anomaly_stack_fn = &python_stack;

  py::class_<RemovableHandle>(m, "RemovableHandle", "Removes the hook it was returned for.")
      .def("remove", &RemovableHandle::remove)
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](RemovableHandle& h, py::args) { h.remove(); });

  py::class_<SavedHandle>(m, "_SavedHandle").def("unpack", &SavedHandle::unpack);

  py::class_<Node, std::shared_ptr<Node>>(m, "Node", py::dynamic_attr(),
                                          "A node of the autograd graph: the backward of one recorded op.")
      .def("name", &Node::name)
      .def("__repr__", [](const Node& n) { return "<" + n.name() + ">"; })
      .def_property_readonly("next_functions", [](const Node& n) {
        py::tuple t(n.next_edges.size());
        for (size_t i = 0; i < n.next_edges.size(); ++i) {
          const Edge& e = n.next_edges[i];
          t[i] = py::make_tuple(e.fn ? py::cast(e.fn) : py::none(), e.input_nr);
        }
        return t;
      })
      .def_property_readonly("variable", [](const Node& n) -> py::object {
        if (auto* a = dynamic_cast<const AccumulateGrad*>(&n)) return py::cast(Tensor(a->variable));
        throw py::attribute_error("only AccumulateGrad nodes have .variable");
      })
      .def_property_readonly("_sequence_nr", [](const Node& n) { return n.sequence_nr; })
      .def_property_readonly("metadata", [](py::object self) {
        if (!py::hasattr(self, "_metadata")) self.attr("_metadata") = py::dict();
        return self.attr("_metadata");
      })
      .def("register_hook", [](std::shared_ptr<Node> n, py::function fn) {
        auto ref = std::make_shared<PyRef>(std::move(fn));
        int64_t id = n->post_hooks.add([ref](const variable_list& gi, const variable_list& go)
                                           -> std::optional<variable_list> {
          py::gil_scoped_acquire gil;
          py::object r = ref->obj(to_py(gi), to_py(go));
          if (r.is_none()) return std::nullopt;
          return from_py(r, "hook");
        });
        std::weak_ptr<Node> w = n;
        return RemovableHandle{[w, id] {
          if (auto n = w.lock()) n->post_hooks.remove(id);
        }};
      }, py::arg("fn"), "fn(grad_inputs, grad_outputs) -> new grad_inputs or None; runs after the node.")
      .def("register_prehook", [](std::shared_ptr<Node> n, py::function fn) {
        auto ref = std::make_shared<PyRef>(std::move(fn));
        int64_t id = n->pre_hooks.add([ref](const variable_list& go) -> std::optional<variable_list> {
          py::gil_scoped_acquire gil;
          py::object r = ref->obj(to_py(go));
          if (r.is_none()) return std::nullopt;
          return from_py(r, "prehook");
        });
        std::weak_ptr<Node> w = n;
        return RemovableHandle{[w, id] {
          if (auto n = w.lock()) n->pre_hooks.remove(id);
        }};
      }, py::arg("fn"), "fn(grad_outputs) -> new grad_outputs or None; runs before the node.");

  auto cls = tensor_class(m);
  cls.def_property("requires_grad", [](const Tensor& t) { return requires_grad(t); },
                   [](const Tensor& t, bool v) { set_requires_grad(t, v, "requires_grad"); })
      .def("requires_grad_", inplace([](const Tensor& t, bool v) { set_requires_grad(t, v); }),
           py::arg("requires_grad") = true)
      .def_property_readonly("is_leaf", [](const Tensor& t) { return is_leaf(t); })
      .def_property_readonly("grad_fn", [](const Tensor& t) -> py::object {
        auto fn = grad_fn(t);
        return fn ? py::cast(fn) : py::none();
      })
      .def_property_readonly("output_nr", [](const Tensor& t) { return meta(t) ? meta(t)->output_nr : 0; })
      .def_property_readonly("retains_grad", [](const Tensor& t) { return meta(t) && meta(t)->retains_grad; })
      .def_property_readonly("_base", [](const Tensor& t) -> py::object {
        auto* m = meta(t);
        if (t.impl()->view_base && m && m->is_view_tracked) return py::cast(Tensor(t.impl()->view_base));
        return py::none();
      })
      .def_property_readonly("_is_view", [](const Tensor& t) { return bool(t.impl()->view_base); })
      .def("is_inference", [](const Tensor& t) { return t.impl()->is_inference; })
      .def_property("grad", [](const Tensor& t) -> py::object {
        auto* m = meta(t);
        return m && m->grad.defined() ? py::cast(m->grad) : py::none();
      }, [](const Tensor& t, py::object g) {
        if (g.is_none()) {
          if (auto* m = meta(t)) m->grad = Tensor();
          return;
        }
        Tensor gt = g.cast<Tensor>();
        EMBER_CHECK(gt.sizes() == t.sizes(), ValueError, "[grad] assigned grad has shape ", gt.sizes(),
                    ", expected the tensor's shape ", t.sizes());
        EMBER_CHECK(gt.dtype() == t.dtype(), TypeError, "[grad] assigned grad has dtype ", gt.dtype(),
                    ", expected the tensor's dtype ", t.dtype());
        EMBER_CHECK(gt.device() == t.device(), ValueError, "[grad] assigned grad is on ", gt.device(),
                    ", expected ", t.device());
        ensure_meta(t).grad = gt;
      })
      .def("_set_data", [](const Tensor& t, const Tensor& v) {
        // PyTorch's `x.data = v`: x takes v's memory, shape and dtype, keeping its own identity,
        // autograd state and version counter (what Module.to(dtype) relies on).
        EMBER_CHECK(v.device() == t.device(), ValueError, "[data] cannot assign a tensor on ", v.device(),
                    " to the data of a tensor on ", t.device());
        EMBER_CHECK(!t.impl()->view_base, Error, "[data] cannot assign .data of a view");
        TensorImpl& d = *t.impl();
        const TensorImpl& s = *v.impl();
        d.storage = s.storage;
        d.offset = s.offset;
        d.sizes = s.sizes;
        d.strides = s.strides;
        d.dtype = s.dtype;
        d.refresh();
      }, py::arg("value"))
      .def("detach", [](const Tensor& t) { return alias_detached(t); },
           "A tensor sharing this one's memory, outside the graph (requires_grad False).")
      .def("detach_", inplace([](const Tensor& t) {
        auto* m = meta(t);
        EMBER_CHECK(!(t.impl()->view_base && m && m->is_view_tracked), Error,
                    "[detach_] cannot detach a view in-place: use detach() instead");
        if (m) {
          m->grad_fn.reset();
          m->requires_grad = false;
          m->output_nr = 0;
        }
      }))
      .def("retain_grad", [](const Tensor& t) {
        EMBER_CHECK(requires_grad(t), Error, "[retain_grad] can't retain_grad on a tensor that does not require grad");
        auto& m = ensure_meta(t);
        if (!m.grad_fn || m.retains_grad) return;
        m.retains_grad = true;
        std::weak_ptr<TensorImpl> w = t.impl_ptr();
        m.grad_fn->retain_grad_hooks.add({m.output_nr, [w](const Tensor& g) -> Tensor {
          auto impl = w.lock();
          if (!impl) return Tensor();
          Tensor self(impl);
          accumulate_into(ensure_meta(self).grad, g);
          return Tensor();
        }});
      })
      .def("register_hook", [](const Tensor& t, py::function fn) {
        EMBER_CHECK(requires_grad(t), Error, "[register_hook] cannot register a hook on a tensor that does not "
                    "require gradient");
        TensorHook h = tensor_hook(std::move(fn));
        if (auto g = grad_fn(t)) {
          uint32_t nr = meta(t)->output_nr;
          int64_t id = g->tensor_pre_hooks.add({nr, std::move(h)});
          std::weak_ptr<Node> w = g;
          return RemovableHandle{[w, id] {
            if (auto n = w.lock()) n->tensor_pre_hooks.remove(id);
          }};
        }
        auto& m = ensure_meta(t);
        int64_t id = m.hooks.add(std::move(h));
        std::weak_ptr<TensorImpl> w = t.impl_ptr();
        return RemovableHandle{[w, id] {
          if (auto i = w.lock())
            if (i->autograd) i->autograd->hooks.remove(id);
        }};
      }, py::arg("hook"), "hook(grad) -> new grad or None, called when this tensor's gradient is computed.")
      .def("register_post_accumulate_grad_hook", [](const Tensor& t, py::function fn) {
        EMBER_CHECK(requires_grad(t) && is_leaf(t), Error, "[register_post_accumulate_grad_hook] post accumulate "
                    "grad hooks can only be registered on leaf tensors that require grad");
        auto ref = std::make_shared<PyRef>(std::move(fn));
        auto& m = ensure_meta(t);
        int64_t id = m.post_acc_hooks.add([ref](const Tensor& v) {
          py::gil_scoped_acquire gil;
          ref->obj(v);
        });
        std::weak_ptr<TensorImpl> w = t.impl_ptr();
        return RemovableHandle{[w, id] {
          if (auto i = w.lock())
            if (i->autograd) i->autograd->post_acc_hooks.remove(id);
        }};
      }, py::arg("hook"));

  m.def("_run_backward", [](py::object tensors, py::object grads, bool keep_graph, bool create_graph,
                            py::object inputs, bool allow_unused, bool accumulate_grad) {
    variable_list outs = from_py(tensors, "backward");
    variable_list gs = grads.is_none() ? variable_list(outs.size()) : from_py(grads, "backward");
    EMBER_CHECK(gs.size() == outs.size(), ValueError, "[backward] got ", gs.size(), " gradients for ", outs.size(),
                " tensors");
    variable_list ins = inputs.is_none() ? variable_list() : from_py(inputs, "backward");
    variable_list r;
    {
      py::gil_scoped_release nogil;
      r = run_backward(outs, gs, keep_graph, create_graph, ins, allow_unused, accumulate_grad);
    }
    return to_py(r);
  });
  m.def("is_grad_enabled", &GradMode::is_enabled, "Whether ops record gradients on this thread.");
  m.def("_set_grad_enabled", &GradMode::set_enabled, py::arg("mode"));
  m.def("_set_autocast", [](bool e, ScalarType t) { AutocastMode::set(e, t, DeviceType::CPU); }, py::arg("enabled"),
        py::arg("dtype"));
  m.def("_get_autocast", [] { return py::make_tuple(AutocastMode::is_enabled(), AutocastMode::dtype()); });
  m.def("_set_autocast_cuda", [](bool e, ScalarType t) { AutocastMode::set(e, t, DeviceType::CUDA); },
        py::arg("enabled"), py::arg("dtype"));
  m.def("_get_autocast_cuda", [] {
    return py::make_tuple(AutocastMode::is_enabled(DeviceType::CUDA), AutocastMode::dtype(DeviceType::CUDA));
  });
  m.def("is_inference_mode_enabled", &InferenceMode::is_enabled);
  m.def("_set_inference_mode", &InferenceMode::set_enabled, py::arg("mode"));
  m.def("is_anomaly_enabled", &AnomalyMode::is_enabled);
  m.def("is_anomaly_check_nan_enabled", &AnomalyMode::check_nan);
  m.def("_set_anomaly_enabled", &AnomalyMode::set_enabled, py::arg("mode"), py::arg("check_nan") = true);
  m.def("_function_record", &function_record);
}

}  // namespace ember
