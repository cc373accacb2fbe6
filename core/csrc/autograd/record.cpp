#include "record.h"

namespace ember {
namespace autograd {

void Recorder::check_out(const char* op, const Tensor& out, bool inputs_require_grad) {
  if (out.impl()->is_inference && !InferenceMode::is_enabled())
    throw Error(str("[", op, "] in-place update of an inference tensor outside inference_mode is not allowed: "
                    "tensors made under ember.inference_mode() are read-only outside it; clone it first"));
  if (!GradMode::is_enabled()) return;
  if (!inplace_) {
    EMBER_CHECK(!(inputs_require_grad || requires_grad(out)), Error, "[", op, "] functions with out=... arguments "
                "do not support automatic differentiation, but one of the arguments requires grad; call it "
                "without out=, or under ember.no_grad()");
    return;
  }
  auto* m = meta(out);
  if (m && m->requires_grad && !m->grad_fn)
    throw Error(str("[", op, "] a leaf tensor that requires grad is being used in an in-place operation; "
                    "do it under ember.no_grad() (as optimizers do), or on a clone"));
  if (auto& base = out.impl()->view_base) {
    Tensor b(base);
    auto* bm = meta(b);
    if (bm && bm->requires_grad && !bm->grad_fn && (!m || !m->grad_fn || m->is_view_tracked))
      throw Error(str("[", op, "] a view of a leaf tensor that requires grad is being used in an in-place "
                      "operation; do it under ember.no_grad(), or on a clone"));
  }
}

namespace {
template <typename List>
void give_history(const std::shared_ptr<FnNode>& node, bool inplace, const List& outputs, bool is_view) {
  node->num_outputs = uint32_t(outputs.size());
  if (inplace) {
    rebase_history(*outputs.begin(), node);
    return;
  }
  uint32_t i = 0;
  for (const Tensor& o : outputs) {
    uint32_t nr = i++;
    if (!o.defined() || !differentiable_dtype(o.dtype())) continue;
    set_history(o, node, nr);
    if (is_view) ensure_meta(o).is_view_tracked = true;
  }
}
}  // namespace

void Recorder::set_outputs(TensorRefs outputs, bool is_view) {
  give_history(node_, inplace_, outputs, is_view);
}

void Recorder::set_outputs(const std::vector<Tensor>& outputs, bool is_view) {
  give_history(node_, inplace_, outputs, is_view);
}

void check_no_grad(const char* op, TensorRefs inputs) {
  EMBER_CHECK(!any_requires_grad(inputs), NotImplementedError, "[", op,
              "] the derivative is not implemented: call it under ember.no_grad() or on detached inputs");
}

}  // namespace autograd
}  // namespace ember
