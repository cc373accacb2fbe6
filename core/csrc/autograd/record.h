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

class Recorder {
 public:
  Recorder(const char* op, std::initializer_list<std::reference_wrapper<const Tensor>> inputs,
           const Tensor* out = nullptr) {
    if (out) check_out(op, inputs, *out);
    if (!GradMode::is_enabled()) return;
    bool any = false;
    for (const Tensor& t : inputs) any |= t.defined() && requires_grad(t);
    if (!any) return;
    start(op, inputs, out);
  }
  explicit operator bool() const { return bool(node_); }
  FnNode& node() { return *node_; }
  const std::shared_ptr<FnNode>& node_ptr() const { return node_; }
  bool inplace() const { return inplace_; }

  // Gives the outputs their history (the node); integer/bool outputs get none. For an
  // in-place op, outputs is {self}.
  void set_outputs(std::initializer_list<std::reference_wrapper<const Tensor>> outputs, bool is_view = false);
  void set_outputs(const std::vector<Tensor>& outputs, bool is_view = false);

 private:
  void check_out(const char* op, std::initializer_list<std::reference_wrapper<const Tensor>> inputs,
                 const Tensor& out);
  void start(const char* op, std::initializer_list<std::reference_wrapper<const Tensor>> inputs,
             const Tensor* out);
  std::shared_ptr<FnNode> node_;
  std::optional<GradModeGuard> guard_;
  bool inplace_ = false;
};

// For ops without a derivative: raises if an input would need one.
void check_no_grad(const char* op, std::initializer_list<std::reference_wrapper<const Tensor>> inputs);

}  // namespace autograd
}  // namespace ember
