// Recording an op in the graph, from its front end:
//
//   Recorder rec("exp", {x});                // decides whether to record; while it lives the
//   Tensor r = ...compute...;                // front end's own sub-ops do not record
//   if (rec) {
//     rec.set_outputs({r});
//     size_t ir = rec.node().save_output(r);
//     rec.node().fn = [ir](FnNode& n, variable_list& g) { return variable_list{mul(g[0], n.get(ir))}; };
//   }
//
// `out=` tensors: recording with one is an error (as in PyTorch). In-place ops pass the
// modified tensor as both inputs[0] and out; set_outputs then rewrites its history (and its
// base's, for a view).
#pragma once
#include <functional>
#include <optional>

#include "node.h"

namespace ember {
namespace autograd {

void rebase_history(const Tensor& self, const std::shared_ptr<Node>& node);

using TensorRefs = TensorRefList;  // tensor/tensor.h

// Whether an op on these inputs records: grad mode is on and one of them requires grad.
template <typename Range>
inline bool any_requires_grad(const Range& inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && requires_grad(t)) return true;
  return false;
}
inline bool any_requires_grad(TensorRefs inputs) { return any_requires_grad<TensorRefs>(inputs); }

class Recorder {
 public:
  Recorder(const char* op, TensorRefs inputs, const Tensor* out = nullptr) { init(op, inputs, out); }
  Recorder(const char* op, const std::vector<Tensor>& inputs, const Tensor* out = nullptr) { init(op, inputs, out); }
  explicit operator bool() const { return bool(node_); }
  FnNode& node() { return *node_; }
  const std::shared_ptr<FnNode>& node_ptr() const { return node_; }
  bool inplace() const { return inplace_; }

  // Gives the outputs their history (the node); integer/bool outputs get none. For an
  // in-place op, outputs is {self}.
  void set_outputs(TensorRefs outputs, bool is_view = false);
  void set_outputs(const std::vector<Tensor>& outputs, bool is_view = false);

 private:
  template <typename Range>
  void init(const char* op, const Range& inputs, const Tensor* out) {
    if (out) {
      const Tensor* first = inputs.size() > 0 ? &static_cast<const Tensor&>(*inputs.begin()) : nullptr;
      inplace_ = first && first->defined() && out->is_same(*first);
      check_out(op, *out, !inplace_ && any_requires_grad(inputs));
    }
    if (!any_requires_grad(inputs)) return;
    node_ = std::make_shared<FnNode>(op);
    node_->next_edges.reserve(inputs.size());
    node_->input_meta.reserve(inputs.size());
    for (const Tensor& t : inputs) node_->add_input(t);
    if (AnomalyMode::is_enabled() && anomaly_stack_fn) node_->anomaly_trace = anomaly_stack_fn();
    guard_.emplace(false);
  }
  // Rules for an `out=` tensor (in-place when it is input 0): inference tensors, leaves.
  void check_out(const char* op, const Tensor& out, bool inputs_require_grad);
  std::shared_ptr<FnNode> node_;
  std::optional<GradModeGuard> guard_;
  bool inplace_ = false;
};

// For ops without a derivative: raises if an input would need one.
void check_no_grad(const char* op, TensorRefs inputs);

}  // namespace autograd
}  // namespace ember
