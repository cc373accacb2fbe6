// The autograd graph: nodes (one per recorded op), edges to the nodes of the op's inputs,
// saved tensors with version checks, and the per-tensor autograd state.
//
// An op front end that records (see record.h) makes a FnNode whose `fn` computes the
// input gradients from the output gradients with ordinary (differentiable) ember ops, so
// that create_graph=True gives higher-order gradients for free. The engine (engine.cpp)
// runs the nodes in dependency order with the GIL released.
#pragma once
#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../tensor/error.h"
#include "../tensor/tensor.h"
#include "grad_mode.h"

namespace ember {
namespace autograd {

using variable_list = std::vector<Tensor>;
struct Node;

struct Edge {
  std::shared_ptr<Node> fn;  // null: the input needs no gradient
  uint32_t input_nr = 0;     // which gradient slot of fn receives it
  bool valid() const { return bool(fn); }
};

// What the gradient for one input must look like (the engine sums broadcast dims away and
// casts to the input's dtype).
struct InputMeta {
  Shape shape;
  ScalarType dtype = ScalarType::Float32;
};

// Hooks. A tensor hook may return a replacement gradient (undefined: keep).
using TensorHook = std::function<Tensor(const Tensor&)>;
using NodePreHook = std::function<std::optional<variable_list>(const variable_list& grad_outputs)>;
using NodePostHook =
    std::function<std::optional<variable_list>(const variable_list& grad_inputs, const variable_list& grad_outputs)>;
using PostAccumulateHook = std::function<void(const Tensor&)>;

template <typename H>
struct HookList {
  std::vector<std::pair<int64_t, H>> items;
  int64_t add(H h) {
    static std::atomic<int64_t> next{1};
    int64_t id = next++;
    items.emplace_back(id, std::move(h));
    return id;
  }
  void remove(int64_t id) {
    for (auto it = items.begin(); it != items.end(); ++it)
      if (it->first == id) {
        items.erase(it);
        return;
      }
  }
  bool empty() const { return items.empty(); }
};

uint64_t next_sequence_nr();

struct Node : std::enable_shared_from_this<Node> {
  std::vector<Edge> next_edges;      // one per differentiable input of the forward op
  std::vector<InputMeta> input_meta;  // parallel to next_edges
  uint32_t num_outputs = 1;           // outputs of the forward op = gradients this node takes
  uint64_t sequence_nr = next_sequence_nr();
  bool has_saved = false;  // saved tensors were released: a second run must fail
  bool released = false;
  std::string anomaly_trace;  // forward Python stack, recorded under detect_anomaly

  HookList<std::pair<uint32_t, TensorHook>> tensor_pre_hooks;  // (output_nr, hook)
  HookList<std::pair<uint32_t, TensorHook>> retain_grad_hooks;  // run after the tensor hooks
  HookList<NodePreHook> pre_hooks;
  HookList<NodePostHook> post_hooks;

  virtual ~Node() = default;
  virtual std::string name() const = 0;
  virtual variable_list apply(variable_list&& grads) = 0;
  virtual void release_variables() {}
  // Whether input i of the forward op needs a gradient.
  bool needs_input_grad(size_t i) const { return i < next_edges.size() && next_edges[i].valid(); }
  void add_input(const Tensor& t);
};

// A saved tensor. Inputs are kept as they are; an op's own output is kept without its
// autograd state (it would point back at this node) and given it back on unpack.
class SavedVariable {
 public:
  SavedVariable() = default;
  SavedVariable(const Tensor& t, bool is_output);
  Tensor unpack(const char* op, const std::shared_ptr<Node>& owner = nullptr) const;
  bool defined() const { return data_.defined(); }
  void reset() { data_ = Tensor(); }

 private:
  Tensor data_;
  uint64_t version_ = 0;
  bool is_output_ = false;
  bool requires_grad_ = false;
  uint32_t output_nr_ = 0;
};

// A node whose backward is a lambda over saved tensors (the common case).
struct FnNode : Node {
  const char* op;  // forward op name; the node is named e.g. "MulBackward0"
  std::vector<SavedVariable> saved;
  // Small per-node arguments, so that hot formulas are captureless lambdas (a capturing
  // std::function allocates): the op's parameters and a code/slot numbers of its choosing.
  std::array<double, 4> params{};
  int32_t code = 0, flags = 0;
  uint16_t slot[4] = {0, 0, 0, 0};
  std::function<variable_list(FnNode& self, variable_list& grads)> fn;
  explicit FnNode(const char* op_name) : op(op_name) {}
  std::string name() const override;
  variable_list apply(variable_list&& grads) override;
  void release_variables() override;
  // Saved tensor i, version-checked.
  Tensor get(size_t i) { return saved.at(i).unpack(op, shared_from_this()); }
  size_t save(const Tensor& t) {
    check_not_inference(t);
    saved.emplace_back(t, false);
    has_saved = true;
    return saved.size() - 1;
  }
  void check_not_inference(const Tensor& t) const {
    EMBER_CHECK(!(t.defined() && t.impl()->is_inference), Error, "[", op, "] inference tensors cannot be saved "
                "for backward: this input was made under ember.inference_mode(); make it outside "
                "inference_mode, or clone() it to get a normal tensor");
  }
  size_t save_output(const Tensor& t) {
    saved.emplace_back(t, true);
    has_saved = true;
    return saved.size() - 1;
  }
};

// Adds a leaf's gradient into its .grad.
struct AccumulateGrad : Node {
  std::shared_ptr<TensorImpl> variable;
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> v);
  std::string name() const override { return "AccumulateGrad"; }
  variable_list apply(variable_list&& grads) override;
};

// A Python-defined autograd.Function's node lives in the bindings; this is its interface.
struct AutogradMeta {
  bool requires_grad = false;  // leaves only; non-leaves require grad through grad_fn
  bool retains_grad = false;
  bool is_view_tracked = false;  // a view recorded while its base required grad
  uint32_t output_nr = 0;
  uint64_t attr_version = 0;     // version when grad_fn was set (views regenerate after in-place)
  Tensor grad;
  std::shared_ptr<Node> grad_fn;
  std::weak_ptr<Node> grad_accumulator;
  HookList<TensorHook> hooks;  // leaf hooks (non-leaf hooks live on grad_fn)
  HookList<PostAccumulateHook> post_acc_hooks;
  int64_t retain_hook_id = 0;
};

// ---- per-tensor state -----------------------------------------------------------------
AutogradMeta* meta(const Tensor& t);              // null if none
AutogradMeta& ensure_meta(const Tensor& t);
inline bool requires_grad(const Tensor& t) {
  const auto& m = t.impl()->autograd;
  return m && (m->requires_grad || m->grad_fn);
}
bool is_leaf(const Tensor& t);
std::shared_ptr<Node> grad_fn(const Tensor& t);   // regenerates a stale view's node
Edge gradient_edge(const Tensor& t);              // grad_fn/output_nr, or the leaf's accumulator
std::shared_ptr<Node> grad_accumulator(const Tensor& t);
void set_requires_grad(const Tensor& t, bool requires_grad, const char* op = "requires_grad_");
void set_history(const Tensor& t, const std::shared_ptr<Node>& node, uint32_t output_nr);
// A tensor sharing t's memory and version counter with no autograd state.
Tensor alias_detached(const Tensor& t);
bool differentiable_dtype(ScalarType t);

// ---- engine ---------------------------------------------------------------------------
// Runs backward from `outputs` (with grad_outputs; undefined entries mean ones for scalar
// outputs). If `inputs` is empty, gradients accumulate into the leaves; otherwise only
// into (accumulate_grad) or returned for (!accumulate_grad) the given inputs.
variable_list run_backward(const variable_list& outputs, variable_list grad_outputs, bool keep_graph,
                           bool create_graph, const variable_list& inputs, bool allow_unused,
                           bool accumulate_grad);

// Called under detect_anomaly when a node is made; returns the Python stack (set by bindings).
extern std::string (*anomaly_stack_fn)();

// Wraps a possibly negative dim without raising (the op's own checks report bad dims;
// derivatives only see dims that passed them).
inline int64_t wrap_quiet(int64_t d, int64_t ndim) {
  int64_t n = ndim == 0 ? 1 : ndim;
  return d < 0 ? d + n : d;
}

// The error of a node run again after its saved tensors were freed.
[[noreturn]] void throw_freed_graph(const std::string& op);

// Adds g into a gradient slot (.grad): the first gradient is kept as is under create_graph
// and copied otherwise (it may alias another tensor); later ones are added out of place.
void accumulate_into(Tensor& slot, const Tensor& g);

// Gradient of v = x.as_strided(vsizes, vstrides, voffset) (offsets absolute in the storage):
// g scattered into zeros covering both extents (summed where v overlaps itself), read back
// with x's geometry. Backs every view op that selects (slice, select, diagonal, as_strided)
// and views regenerated after an in-place write.
Tensor as_strided_backward(const Tensor& g, const Shape& xsizes, const Shape& xstrides, int64_t xoffset,
                           const Shape& vsizes, const Shape& vstrides, int64_t voffset);

// Sums g over the dims it was broadcast along so that it has `shape`.
Tensor sum_to(const Tensor& g, const Shape& shape);

}  // namespace autograd
}  // namespace ember
