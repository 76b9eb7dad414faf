// The backward pass: order the graph's nodes so each runs after every node that feeds it a
// gradient, then run them, summing gradients where a tensor was used more than once, and
// accumulate into the leaves' .grad.
#include <functional>
#include <mutex>
#include <vector>

#include "ember/autograd/anomaly.h"
#include "ember/core/grad_mode.h"
#include "ember/autograd/hooks.h"
#include "ember/autograd/node.h"
#include "ember/core/cuda.h"
#include "ember/autograd/factories.h"
#include "ember/core/ops.h"
#include "ember/core/log.h"

namespace ember {

namespace autograd {

const Tensor& SavedTensor::get(const char* op) const {
  EMBER_CHECK(!tensor_.defined() || tensor_.impl().storage->version() == version_, op,
              ": a tensor saved for backward (shape ", tensor_.shape(),
              ") was modified in place after it was used; the gradient would be wrong. Clone it "
              "before modifying it, or modify it before using it");
  return tensor_;
}

namespace {

// Adds `g` to the leaf's gradient. A fresh gradient is stored as is when nothing else refers to
// it, otherwise copied, so that later in-place accumulation cannot change another tensor.
void accumulate_into_leaf(TensorImpl& leaf, Tensor g) {
  if (g.shape() != leaf.shape) g = ops::sum_to(g, leaf.shape);
  if (!leaf.grad) {
    const bool owned = g.impl_ptr().use_count() == 1 && g.impl().storage.use_count() == 1 &&
                       g.is_contiguous() && g.storage_offset() == 0;
    leaf.grad = owned ? g.impl_ptr() : ops::clone(g).impl_ptr();
    return;
  }
  const Tensor grad(leaf.grad);
  kernels::call<kernels::Kernel::binary>(grad.device(), kernels::BinaryOp::Add, ops::ref(grad), ops::ref(grad), ops::ref(g));
}

// Callbacks queued by hooks of the running backward pass; null when no pass is running.
thread_local std::vector<std::function<void()>>* pass_callbacks = nullptr;
thread_local std::uint64_t pass_id = 0;       // of the running pass, 0 when none
thread_local std::uint64_t passes_started = 0;

void run_leaf_hooks(const Tensor& leaf) {
  for (const PostAccumulateGradHook& hook : leaf.impl().hooks->post_accumulate) hook(leaf);
}

// A hooked leaf's hooks run when the last edge of this pass that points at it has been handled.
void leaf_edge_done(const std::shared_ptr<TensorImpl>& leaf) {
  LeafHooks& hooks = *leaf->hooks;
  if (--hooks.pending == 0 && leaf->grad) run_leaf_hooks(Tensor(leaf));
}

// The implicit gradient of a one-element root: a cached 1 per device and dtype, viewed in the
// root's shape, so that backward() does not launch a fill kernel every step. Backward functions
// never write their gradient input, and a leaf keeps a copy (accumulate_into_leaf), so sharing it
// is safe. The cache is process-wide and lives until exit, because a captured CUDA graph keeps
// reading it on every replay, from any thread. A 1 is only cached outside capture: one filled
// during capture would hold its value only once the graph is replayed.
Tensor implicit_seed(const Tensor& root) {
  static std::mutex mutex;
  static std::vector<Tensor> cache;  // one per (device, dtype) seen
  Tensor one;
  {
    const std::lock_guard lock(mutex);
    for (const Tensor& t : cache) {
      if (t.device() == root.device() && t.dtype() == root.dtype()) one = t;
    }
    if (!one.defined()) {
      if (cuda::is_capturing()) return ones_like(root);
      one = cache.emplace_back(ones({}, root.options()));
    }
  }
  return ops::expand(one, root.shape());
}

// The storage of the running pass's implicit seed, for is_implicit_one(); null when none.
thread_local const Storage* t_implicit_seed = nullptr;

void add_to_pending(Node& node, Tensor g) {
  node.pending_grad = node.pending_grad.defined()
                          ? ops::binary(kernels::BinaryOp::Add, node.pending_grad, g, "backward")
                          : std::move(g);
}

// Counts, for every node reachable from root, the edges that point at it (and for hooked leaves,
// the edges that will deliver a gradient to them); returns how many nodes.
std::size_t count_dependencies(Node* root) {
  static thread_local std::uint64_t epoch = 0;  // marks nodes seen in this pass without a set
  ++epoch;
  std::vector<Node*> stack{root};
  root->dependencies = 0;
  root->visit_epoch = epoch;
  std::size_t count = 0;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    ++count;
    for (int i = 0; i < n->num_inputs; ++i) {
      const Edge& edge = n->edges[static_cast<std::size_t>(i)];
      if (edge.leaf && edge.leaf->hooks) [[unlikely]] {
        LeafHooks& hooks = *edge.leaf->hooks;
        if (hooks.pass != epoch) hooks = {std::move(hooks.post_accumulate), 0, epoch};
        ++hooks.pending;
      }
      Node* next = edge.node.get();
      if (!next) continue;
      if (next->visit_epoch != epoch) {
        next->visit_epoch = epoch;
        next->dependencies = 0;
        stack.push_back(next);
      }
      ++next->dependencies;
    }
  }
  return count;
}

void run_graph(const std::shared_ptr<Node>& root_node, const Tensor& seed, bool retain_graph,
               bool check_anomalies);

}  // namespace

bool is_implicit_one(const Tensor& g) {
  return t_implicit_seed != nullptr && g.defined() && g.impl().storage.get() == t_implicit_seed;
}

void run_backward(const Tensor& root, const Tensor& gradient, bool retain_graph) {
  const std::shared_ptr<Node> root_node = root.grad_fn();
  Tensor seed = gradient.defined() ? gradient : (root.numel() == 1 ? implicit_seed(root) : ones_like(root));
  EMBER_CHECK(seed.shape() == root.shape() && seed.dtype() == root.dtype() && seed.device() == root.device(),
              "backward: gradient of shape ", seed.shape(), ", ", seed.dtype(), " on ", seed.device(),
              " does not match the tensor's shape ", root.shape(), ", ", root.dtype(), " on ", root.device());
  NoGradGuard no_grad;  // backward functions compute with ordinary ops, recording nothing
  const bool check_anomalies = AnomalyMode::is_enabled();
  if (check_anomalies) [[unlikely]] detail::check_seed_gradient(seed);
  std::vector<std::function<void()>> callbacks;
  struct PassScope {  // a backward run from a callback has its own list; restore the outer one
    std::vector<std::function<void()>>* outer = pass_callbacks;
    std::uint64_t outer_id = pass_id;
    const Storage* outer_seed = t_implicit_seed;
    ~PassScope() {
      pass_callbacks = outer;
      pass_id = outer_id;
      t_implicit_seed = outer_seed;
    }
  } pass_scope;
  pass_callbacks = &callbacks;
  pass_id = ++passes_started;
  t_implicit_seed = gradient.defined() ? nullptr : seed.impl().storage.get();
  if (!root_node) {  // a leaf: its gradient is the seed
    accumulate_into_leaf(root.impl(), seed);
    if (root.impl().hooks) run_leaf_hooks(root);
  } else {
    run_graph(root_node, seed, retain_graph, check_anomalies);
  }
  // Callbacks may queue further callbacks; run until none is left.
  for (std::size_t i = 0; i < callbacks.size(); ++i) {
    auto callback = std::move(callbacks[i]);
    callback();
  }
}

namespace {

// Runs the graph's nodes in dependency order, from root_node given the seed gradient.
void run_graph(const std::shared_ptr<Node>& root_node, const Tensor& seed, bool retain_graph,
               bool check_anomalies) {
  const std::size_t nodes = count_dependencies(root_node.get());
  logging::debug("backward: {} nodes from {}", nodes, root_node->name());
  std::vector<Node*> ready{root_node.get()};
  root_node->pending_grad = seed;
  while (!ready.empty()) {
    Node* node = ready.back();
    ready.pop_back();
    EMBER_CHECK(!node->released, "backward: trying to backward through the graph a second time (",
                node->name(), "'s saved tensors were freed by the first backward); pass "
                "retain_graph=true to the first backward() if you need to call it twice");
    Tensor grad_output = std::move(node->pending_grad);
    node->pending_grad = Tensor();
    unsigned needs = 0;
    for (int i = 0; i < node->num_inputs; ++i) {
      if (node->edges[static_cast<std::size_t>(i)].active()) needs |= 1u << i;
    }
    Grads grads(needs);
    node->apply(grad_output, grads);
    if (check_anomalies) [[unlikely]] detail::check_gradients(*node, grad_output, grads);
    if (!retain_graph) {
      node->release();
      node->released = true;
    }
    for (int i = 0; i < node->num_inputs; ++i) {
      const Edge& edge = node->edges[static_cast<std::size_t>(i)];
      if (!edge.active()) continue;
      // Moved on, so that a gradient nothing else holds can become the leaf's .grad uncopied.
      Tensor& g = grads[i];
      if (edge.node) {
        if (g.defined()) add_to_pending(*edge.node, std::move(g));
        // A node whose every consumer has run is ready; with no gradient at all (every consumer
        // skipped it), its subgraph contributes nothing and is not visited.
        if (--edge.node->dependencies == 0 && edge.node->pending_grad.defined()) {
          ready.push_back(edge.node.get());
        }
      } else {
        if (g.defined()) accumulate_into_leaf(*edge.leaf, std::move(g));
        if (edge.leaf->hooks) [[unlikely]] leaf_edge_done(edge.leaf);
      }
    }
  }
}

}  // namespace

void register_post_accumulate_grad_hook(const Tensor& leaf, PostAccumulateGradHook hook) {
  EMBER_CHECK(leaf.is_leaf() && leaf.requires_grad(), "register_post_accumulate_grad_hook: the "
              "tensor (shape ", leaf.shape(), ") must be a leaf that requires grad");
  EMBER_CHECK(hook != nullptr, "register_post_accumulate_grad_hook: empty hook");
  TensorImpl& impl = leaf.impl();
  if (!impl.hooks) impl.hooks = std::make_shared<LeafHooks>();
  impl.hooks->post_accumulate.push_back(std::move(hook));
}

void clear_hooks(const Tensor& leaf) { leaf.impl().hooks.reset(); }

std::uint64_t current_pass_id() { return pass_id; }

void queue_callback(std::function<void()> callback) {
  EMBER_CHECK(pass_callbacks != nullptr, "queue_callback: no backward pass is running; call it "
              "from a hook during backward()");
  pass_callbacks->push_back(std::move(callback));
}

}  // namespace autograd

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  EMBER_CHECK(requires_grad(), "backward: the tensor (shape ", shape(),
              ") does not require grad and has no grad_fn; did you forget requires_grad_() on "
              "an input, or compute it under NoGradGuard?");
  EMBER_CHECK(gradient.defined() || numel() == 1, "backward: grad can be implicitly created only for "
              "scalar outputs; this tensor has shape ", shape(), ", so pass a gradient of that shape");
  autograd::run_backward(*this, gradient, retain_graph);
}

}  // namespace ember
