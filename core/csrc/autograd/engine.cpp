// The backward engine: per-tensor autograd state, saved variables, leaf accumulation,
// in-place rewrites of view histories (CopySlices) and the dependency-counting executor.
#include <algorithm>
#include <cmath>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "../ops/creation.h"
#include "../ops/elementwise.h"
#include "../ops/index.h"
#include "../ops/reduce.h"
#include "../ops/view.h"
#include "node.h"
#include "record.h"

namespace ember {
namespace autograd {

std::string (*anomaly_stack_fn)() = nullptr;

uint64_t next_sequence_nr() {
  thread_local uint64_t n = 0;
  return n++;
}

bool differentiable_dtype(ScalarType t) { return is_floating(t); }

// ---- per-tensor state -------------------------------------------------------------------

AutogradMeta* meta(const Tensor& t) { return t.impl()->autograd.get(); }

AutogradMeta& ensure_meta(const Tensor& t) {
  auto& m = t.impl()->autograd;
  if (!m) m = std::make_shared<AutogradMeta>();
  return *m;
}

bool is_leaf(const Tensor& t) {
  auto* m = meta(t);
  return !m || !m->grad_fn;
}

Tensor alias_detached(const Tensor& t) {
  auto impl = std::make_shared<TensorImpl>();
  const TensorImpl& s = *t.impl();
  impl->storage = s.storage;
  impl->offset = s.offset;
  impl->sizes = s.sizes;
  impl->strides = s.strides;
  impl->dtype = s.dtype;
  impl->version = s.version;
  impl->is_inference = s.is_inference;
  impl->view_base = s.view_base;
  impl->refresh();
  return Tensor(std::move(impl));
}

void set_requires_grad(const Tensor& t, bool rg, const char* op) {
  auto* m = meta(t);
  if (m && m->grad_fn) {
    EMBER_CHECK(rg, Error, "[", op, "] you can only change requires_grad of leaf tensors; this tensor is the "
                "result of ", m->grad_fn->name(), ". Use .detach() to get a leaf that does not require grad");
    return;
  }
  if (rg) {
    EMBER_CHECK(differentiable_dtype(t.dtype()), Error, "[", op,
                "] only floating point tensors can require gradients: expected float16, bfloat16, float32 or "
                "float64, got ", t.dtype());
    EMBER_CHECK(!t.impl()->is_inference || InferenceMode::is_enabled(), Error, "[", op,
                "] setting requires_grad=True on an inference tensor outside inference_mode is not allowed; "
                "clone it first");
  }
  if (!rg && !m) return;
  ensure_meta(t).requires_grad = rg;
}

void set_history(const Tensor& t, const std::shared_ptr<Node>& node, uint32_t output_nr) {
  auto& m = ensure_meta(t);
  m.grad_fn = node;
  m.output_nr = output_nr;
  m.requires_grad = false;
  m.attr_version = t.version();
}

namespace {
// The geometry of a view within its storage, for as_strided.
struct Geometry {
  Shape sizes, strides;
  int64_t offset;
};
Geometry geometry(const Tensor& t) { return {t.sizes(), t.strides(), t.offset()}; }

// [first, last] element offsets of a geometry (strides are non-negative); empty: {off, off - 1}.
std::pair<int64_t, int64_t> extent(const Shape& sizes, const Shape& strides, int64_t offset) {
  int64_t hi = offset;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == 0) return {offset, offset - 1};
    hi += (sizes[i] - 1) * strides[i];
  }
  return {offset, hi};
}

bool overlaps_itself(const Shape& sizes, const Shape& strides) {
  std::vector<std::pair<int64_t, int64_t>> dims;  // (stride, size)
  for (size_t i = 0; i < sizes.size(); ++i)
    if (sizes[i] > 1) dims.emplace_back(strides[i], sizes[i]);
  std::sort(dims.begin(), dims.end());
  int64_t need = 1;
  for (auto& [st, sz] : dims) {
    if (st < need) return true;
    need = st * sz;
  }
  return false;
}
}  // namespace

Tensor as_strided_backward(const Tensor& g, const Shape& xs, const Shape& xst, int64_t xoff, const Shape& vs,
                           const Shape& vst, int64_t voff) {
  auto [xlo, xhi] = extent(xs, xst, xoff);
  auto [vlo, vhi] = extent(vs, vst, voff);
  int64_t lo = std::min(xlo, vlo), hi = std::max(xhi, vhi);
  Tensor buf = zeros({std::max<int64_t>(hi - lo + 1, 0)}, g.dtype(), g.device());
  if (!overlaps_itself(vs, vst)) {
    copy_(as_strided(buf, vs, vst, voff - lo), g);
  } else {
    Tensor idx = arange(Scalar(int64_t(0)), Scalar(hi - lo + 1), Scalar(int64_t(1)), ScalarType::Int64, g.device());
    Tensor vi = reshape(as_strided(idx, vs, vst, voff - lo), {-1});
    index_put_(buf, {vi}, reshape(g, {-1}), true);
  }
  return as_strided(buf, xs, xst, xoff - lo);
}

namespace {
// The node of a view regenerated as base.as_strided(...) after an in-place write.
std::shared_ptr<Node> make_view_node(const Tensor& base, const Geometry& view) {
  auto n = std::make_shared<FnNode>("as_strided");
  n->add_input(base);
  Geometry bg = geometry(base);
  n->fn = [bg, view](FnNode&, variable_list& g) {
    return variable_list{as_strided_backward(g[0], bg.sizes, bg.strides, bg.offset, view.sizes, view.strides,
                                             view.offset)};
  };
  return n;
}

// The base's node after an in-place op `fn` wrote through one of its views.
struct CopySlices : Node {
  Geometry base, view;
  std::shared_ptr<Node> fn;
  std::string name() const override { return "CopySlices"; }
  variable_list apply(variable_list&& grads) override {
    const Tensor& g = grads[0];
    variable_list out(next_edges.size());
    Tensor result = empty_strided(base.sizes, base.strides, g.dtype(), g.device());
    // result has the base's strides in a fresh storage starting at the base's offset 0
    Geometry rv{view.sizes, view.strides, view.offset - base.offset};
    copy_(result, g);
    Tensor slice = as_strided(result, rv.sizes, rv.strides, rv.offset);
    variable_list r = fn->apply({clone(slice)});
    if (r.size() > 0 && r[0].defined() && fn->needs_input_grad(0)) {
      copy_(slice, fn->input_meta[0].shape == r[0].sizes() ? r[0] : sum_to(r[0], fn->input_meta[0].shape));
    } else {
      fill_(slice, Scalar(int64_t(0)));
    }
    out[0] = result;
    for (size_t i = 1; i < out.size() && i < r.size(); ++i) out[i] = r[i];
    return out;
  }
  void release_variables() override { fn->release_variables(); }
};
}  // namespace

std::shared_ptr<Node> grad_fn(const Tensor& t) {
  auto* m = meta(t);
  if (!m) return nullptr;
  if (m->is_view_tracked && m->attr_version != t.version() && t.impl()->view_base) {
    Tensor base(t.impl()->view_base);
    if (requires_grad(base)) {
      m->grad_fn = make_view_node(base, geometry(t));
      m->output_nr = 0;
    }
    m->attr_version = t.version();
  }
  return m->grad_fn;
}

std::shared_ptr<Node> grad_accumulator(const Tensor& t) {
  auto& m = ensure_meta(t);
  if (auto acc = m.grad_accumulator.lock()) return acc;
  auto acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
  m.grad_accumulator = acc;
  return acc;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined()) return {};
  auto* m = meta(t);
  if (!m) return {};
  if (auto fn = grad_fn(t)) return {fn, m->output_nr};
  if (m->requires_grad) return {grad_accumulator(t), 0};
  return {};
}

void Node::add_input(const Tensor& t) {
  next_edges.push_back(t.defined() ? gradient_edge(t) : Edge{});
  // the shape is only read for inputs that get a gradient
  input_meta.push_back(next_edges.back().valid() ? InputMeta{t.sizes(), t.dtype()} : InputMeta{});
}

// Called by Recorder for an in-place op on `self` with node `node` (edge 0 = self's old history).
void rebase_history(const Tensor& self, const std::shared_ptr<Node>& node) {
  auto* m = meta(self);
  bool own_history = m && m->grad_fn && !m->is_view_tracked;
  if (self.impl()->view_base && !own_history) {
    Tensor base(self.impl()->view_base);
    auto cs = std::make_shared<CopySlices>();
    cs->base = geometry(base);
    cs->view = geometry(self);
    cs->fn = node;
    cs->add_input(base);
    for (size_t i = 1; i < node->next_edges.size(); ++i) {
      cs->next_edges.push_back(node->next_edges[i]);
      cs->input_meta.push_back(node->input_meta[i]);
    }
    cs->has_saved = node->has_saved;
    set_history(base, cs, 0);
    set_history(self, make_view_node(base, geometry(self)), 0);
    ensure_meta(self).is_view_tracked = true;
    return;
  }
  set_history(self, node, 0);
}

// ---- saved variables ----------------------------------------------------------------------

SavedVariable::SavedVariable(const Tensor& t, bool is_output) {
  if (!t.defined()) return;
  version_ = t.version();
  is_output_ = is_output;
  requires_grad_ = requires_grad(t);
  if (is_output) {
    data_ = alias_detached(t);  // keeping t itself would keep its grad_fn (this node) alive
    if (auto* m = meta(t)) output_nr_ = m->output_nr;
  } else {
    data_ = t;
  }
}

Tensor SavedVariable::unpack(const char* op, const std::shared_ptr<Node>& owner) const {
  if (!data_.defined()) throw_freed_graph(op);
  EMBER_CHECK(data_.version() == version_, Error, "[", op,
              "] a tensor needed for gradient computation was modified by an in-place operation (version ",
              data_.version(), ", expected ", version_, "); clone it before modifying it, or modify a copy");
  if (!is_output_ || !requires_grad_ || !GradMode::is_enabled()) return data_;
  Tensor t = alias_detached(data_);
  if (owner) set_history(t, owner, output_nr_);
  return t;
}

void throw_freed_graph(const std::string& op) {
  throw Error(str("[", op, "] trying to backward through the graph a second time (or to read saved tensors after "
                  "they were freed): the saved values are freed when backward() or autograd.grad() runs; pass "
                  "retain_graph=True to the first call if you need to backward twice"));
}

void accumulate_into(Tensor& slot, const Tensor& g) {
  if (!slot.defined()) slot = GradMode::is_enabled() ? g : alias_detached(clone(g));
  else slot = binary(BinaryOp::add, slot, g, {1.0});
}

// ---- FnNode, AccumulateGrad ----------------------------------------------------------------

std::string FnNode::name() const {
  std::string s;
  bool up = true;
  for (const char* p = op; *p; ++p) {
    if (*p == '_') {
      up = true;
      continue;
    }
    s += up ? char(std::toupper(*p)) : *p;
    up = false;
  }
  return s + "Backward0";
}

variable_list FnNode::apply(variable_list&& grads) {
  if (released && has_saved) throw_freed_graph(op);
  EMBER_CHECK(bool(fn), NotImplementedError, "[", op, "] the derivative is not implemented");
  return fn(*this, grads);
}

void FnNode::release_variables() {
  for (auto& s : saved) s.reset();
  released = true;
}

AccumulateGrad::AccumulateGrad(std::shared_ptr<TensorImpl> v) : variable(std::move(v)) {
  Tensor t(variable);
  input_meta.push_back({t.sizes(), t.dtype()});
  sequence_nr = UINT64_MAX;  // leaves run as soon as they are ready
}

variable_list AccumulateGrad::apply(variable_list&& grads) {
  Tensor var(variable);
  Tensor g = std::move(grads[0]);
  if (!g.defined()) return {};
  auto& m = ensure_meta(var);
  if (!m.grad.defined()) {
    if (GradMode::is_enabled()) {
      m.grad = g.impl_ptr().use_count() == 1 ? g : clone(g);
    } else if (g.impl_ptr().use_count() == 1 && g.storage().use_count() == 1 && g.is_contiguous() &&
               !requires_grad(g)) {
      m.grad = g;  // nobody else holds it: steal
    } else {
      GradModeGuard ng(false);
      m.grad = alias_detached(clone(g));
    }
  } else if (!GradMode::is_enabled() && !requires_grad(m.grad)) {
    binary(BinaryOp::add, m.grad, g, {1.0}, &m.grad);
  } else {
    m.grad = binary(BinaryOp::add, m.grad, g, {1.0});
  }
  for (auto& [id, h] : m.post_acc_hooks.items) h(var);
  return {};
}

// ---- shapes ----------------------------------------------------------------------------------

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.sizes() == shape) return g;
  int64_t lead = g.dim() - int64_t(shape.size());
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < g.dim(); ++i) {
    if (i < lead) dims.push_back(i);
    else if (shape[i - lead] == 1 && g.sizes()[i] != 1) dims.push_back(i);
  }
  Tensor r = dims.empty() ? g : sum(g, dims, true, std::nullopt);
  return r.sizes() == shape ? r : reshape(r, shape);
}

namespace {

bool expandable_to(const Shape& from, const Shape& to) {
  if (from.size() < to.size()) return false;
  size_t lead = from.size() - to.size();
  for (size_t i = 0; i < to.size(); ++i)
    if (to[i] != from[lead + i] && to[i] != 1) return false;
  return true;
}

// Makes the gradient node `fn` returned for input i fit that input (shape, dtype).
void validate(Node& fn, variable_list& grads) {
  EMBER_CHECK(grads.size() == fn.next_edges.size(), Error, "[backward] ", fn.name(), " returned ", grads.size(),
              " gradients, expected ", fn.next_edges.size());
  for (size_t i = 0; i < grads.size(); ++i) {
    Tensor& g = grads[i];
    if (!g.defined() || !fn.next_edges[i].valid()) continue;
    const InputMeta& im = fn.input_meta[i];
    if (g.sizes() != im.shape) {
      EMBER_CHECK(expandable_to(g.sizes(), im.shape), Error, "[backward] ", fn.name(),
                  " returned an invalid gradient at index ", i, ": got shape ", g.sizes(),
                  ", expected a shape broadcastable to ", im.shape);
      g = sum_to(g, im.shape);
    }
    if (g.dtype() != im.dtype) g = to_dtype(g, im.dtype);
  }
}

void accumulate(Tensor& buf, Tensor g) {
  if (!g.defined()) return;
  if (!buf.defined()) buf = std::move(g);
  else buf = binary(BinaryOp::add, buf, g, {1.0});
}

bool has_nan(const Tensor& g) {
  if (!g.defined() || !is_floating(g.dtype())) return false;
  GradModeGuard ng(false);
  return item(any(unary(UnaryOp::isnan, g), std::nullopt, false)).to<bool>();
}

// Under detect_anomaly: the Python stack of the forward call that made node n.
std::string forward_stack(const Node& n) {
  if (n.anomaly_trace.empty()) return {};
  return "\n\nThe forward call that created " + n.name() + " (detect_anomaly traceback):\n" + n.anomaly_trace;
}

struct Order {
  bool operator()(const Node* a, const Node* b) const { return a->sequence_nr < b->sequence_nr; }
};

}  // namespace

variable_list run_backward(const variable_list& outputs, variable_list grad_outputs, bool keep_graph,
                           bool create_graph, const variable_list& inputs, bool allow_unused,
                           bool accumulate_grad) {
  GradModeGuard mode(create_graph);
  AutocastOff no_autocast;
  // Roots.
  std::unordered_map<Node*, variable_list> buffers;
  std::vector<std::shared_ptr<Node>> roots;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& o = outputs[i];
    Edge e = gradient_edge(o);
    EMBER_CHECK(e.valid(), Error, "[backward] element ", i, " of tensors does not require grad and does not have "
                "a grad_fn: call .requires_grad_() on the inputs, and do not compute under no_grad()");
    Tensor g = i < grad_outputs.size() ? grad_outputs[i] : Tensor();
    if (!g.defined()) {
      EMBER_CHECK(o.numel() == 1, Error, "[backward] grad can be implicitly created only for scalar outputs: "
                  "got an output of shape ", o.sizes(), "; pass gradient= with that shape");
      GradModeGuard ng(false);
      g = ones(o.sizes(), o.dtype(), o.device());
    } else {
      EMBER_CHECK(g.sizes() == o.sizes(), ValueError, "[backward] mismatch in shape: grad_output[", i,
                  "] has shape ", g.sizes(), " and output[", i, "] has shape ", o.sizes());
    }
    auto& buf = buffers[e.fn.get()];
    buf.resize(e.fn->num_outputs);
    accumulate(buf[e.input_nr], g);
    roots.push_back(e.fn);
  }

  // Captures (autograd.grad / backward(inputs=...)).
  struct Capture {
    Node* fn;
    uint32_t nr;
    Tensor grad;
    bool leaf;
  };
  std::vector<Capture> captures;
  std::unordered_set<Node*> targets;
  std::vector<std::shared_ptr<Node>> keep_alive(roots);  // nodes compared by address must stay alive
  for (const Tensor& in : inputs) {
    Edge e = gradient_edge(in);
    EMBER_CHECK(e.valid(), Error, "[grad] one of the differentiated tensors does not require grad");
    captures.push_back({e.fn.get(), e.input_nr, Tensor(), is_leaf(in)});
    targets.insert(e.fn.get());
    keep_alive.push_back(e.fn);  // an unused leaf's accumulator exists only here
  }

  // Dependencies among the nodes that must run (all reachable ones, or those leading to a
  // capture target).
  std::unordered_map<Node*, int> deps;
  std::unordered_map<Node*, bool> needed;
  {
    // iterative post-order DFS
    std::unordered_set<Node*> seen;
    std::vector<std::pair<Node*, size_t>> stack;
    for (auto& root : roots) {
     if (!seen.insert(root.get()).second) continue;
     stack.push_back({root.get(), 0});
     while (!stack.empty()) {
      auto& [n, i] = stack.back();
      if (i < n->next_edges.size()) {
        Node* c = n->next_edges[i++].fn.get();
        if (c && seen.insert(c).second) stack.push_back({c, 0});
        continue;
      }
      bool need = inputs.empty() || targets.count(n);
      for (auto& e : n->next_edges)
        if (e.fn && needed[e.fn.get()]) need = true;
      needed[n] = need;
      stack.pop_back();
     }
    }
    for (Node* n : seen) {
      if (!needed[n]) continue;
      for (auto& e : n->next_edges)
        if (e.fn && needed[e.fn.get()]) deps[e.fn.get()]++;
    }
  }

  std::priority_queue<Node*, std::vector<Node*>, Order> ready;
  for (auto& r : roots)
    if (needed[r.get()] && deps[r.get()] == 0) {
      ready.push(r.get());
      deps[r.get()] = -1;  // queued once
    }

  while (!ready.empty()) {
    Node* n = ready.top();
    ready.pop();
    variable_list grads = std::move(buffers[n]);
    buffers.erase(n);
    grads.resize(n->num_outputs);
    // Tensor hooks, then node pre-hooks.
    for (auto* list : {&n->tensor_pre_hooks, &n->retain_grad_hooks})
      for (auto& [id, h] : list->items) {
        auto& [nr, hook] = h;
        if (nr < grads.size() && grads[nr].defined()) {
          Tensor r = hook(grads[nr]);
          if (r.defined()) grads[nr] = r;
        }
      }
    if (auto* acc = dynamic_cast<AccumulateGrad*>(n)) {
      if (auto& m = acc->variable->autograd)
        for (auto& [id, hook] : m->hooks.items)
          if (grads[0].defined()) {
            Tensor r = hook(grads[0]);
            if (r.defined()) grads[0] = r;
          }
    }
    for (auto& [id, hook] : n->pre_hooks.items)
      if (auto r = hook(grads)) grads = std::move(*r);
    bool run = true;
    if (!inputs.empty() && targets.count(n)) {
      for (auto& c : captures)
        if (c.fn == n && c.nr < grads.size()) c.grad = grads[c.nr];
      // a leaf target: autograd.grad returns it instead of accumulating; a non-leaf target
      // runs only if it leads to other targets
      bool leads = false;
      for (auto& e : n->next_edges)
        if (e.fn && needed[e.fn.get()]) leads = true;
      if (dynamic_cast<AccumulateGrad*>(n)) run = accumulate_grad;
      else run = leads;
    }
    if (!run) continue;
    bool any = false;
    for (auto& g : grads) any |= g.defined();
    variable_list out;
    if (any || dynamic_cast<AccumulateGrad*>(n)) {
      variable_list in = n->post_hooks.empty() ? std::move(grads) : grads;  // post hooks see the inputs
      try {
        out = n->apply(std::move(in));
      } catch (Error& e) {
        if (AnomalyMode::is_enabled() && !n->anomaly_trace.empty()) throw Error(e.what() + forward_stack(*n));
        throw;
      }
      validate(*n, out);
      if (AnomalyMode::is_enabled() && AnomalyMode::check_nan()) {
        for (size_t i = 0; i < out.size(); ++i)
          EMBER_CHECK(!has_nan(out[i]), Error, "[backward] function '", n->name(), "' returned nan values in its ",
                      i, "th output.", forward_stack(*n));
      }
      for (auto& [id, hook] : n->post_hooks.items)
        if (auto r = hook(out, grads)) out = std::move(*r);
    } else {
      out.resize(n->next_edges.size());
    }
    if (!keep_graph) n->release_variables();
    for (size_t i = 0; i < n->next_edges.size(); ++i) {
      const Edge& e = n->next_edges[i];
      if (!e.fn || !needed[e.fn.get()]) continue;
      auto& buf = buffers[e.fn.get()];
      buf.resize(e.fn->num_outputs);
      if (i < out.size()) accumulate(buf[e.input_nr], out[i]);
      if (--deps[e.fn.get()] == 0) {
        keep_alive.push_back(e.fn);
        ready.push(e.fn.get());
      }
    }
  }

  variable_list result;
  for (size_t i = 0; i < captures.size(); ++i) {
    auto& c = captures[i];
    if (accumulate_grad) {
      if (!c.leaf && c.grad.defined()) accumulate_into(ensure_meta(inputs[i]).grad, c.grad);  // backward(inputs=[non-leaf])
      continue;
    }
    EMBER_CHECK(c.grad.defined() || allow_unused, Error, "[grad] one of the differentiated tensors (input ", i,
                ") appears to not have been used in the graph; pass allow_unused=True if this is intended");
    result.push_back(c.grad);
  }
  return result;
}

}  // namespace autograd
}  // namespace ember
