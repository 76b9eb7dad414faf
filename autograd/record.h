// record(): attaches a backward to an op's output when any input needs a gradient. Every
// differentiable op is its forward (a core op) followed by one record() call with its backward:
//
//   Tensor out = ops::binary(BinaryOp::Mul, a, b, "mul");
//   record("MulBackward", out, {a, b}, [a = SavedTensor(a), ...](const Tensor& g, Grads& grads) {...});
#pragma once

#include <initializer_list>

#include "ember/autograd/anomaly.h"
#include "ember/autograd/node.h"
#include "ember/core/grad_mode.h"
#include "ember/core/host_pool.h"

namespace ember::autograd {

// True when grad mode is on and any input requires grad: the test ops make before saving anything.
inline bool any_requires_grad(std::initializer_list<const TensorBase*> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const TensorBase* t : inputs) {
    if (t->defined() && t->requires_grad()) return true;
  }
  return false;
}

template <typename Backward>
void record(const char* name, TensorBase& output, std::initializer_list<const TensorBase*> inputs,
            Backward&& backward) {
  auto node = host_pool::make_pooled<FunctionNode<std::decay_t<Backward>>>(name, std::forward<Backward>(backward));
  int i = 0;
  for (const TensorBase* input : inputs) {
    if (input->defined()) {
      const TensorImpl& impl = input->impl();
      if (impl.grad_fn) node->edges[static_cast<std::size_t>(i)].node = impl.grad_fn;
      else if (impl.requires_grad) node->edges[static_cast<std::size_t>(i)].leaf = input->impl_ptr();
    }
    ++i;
  }
  node->num_inputs = i;
  node->output_shape = output.shape();
  output.impl().grad_fn = std::move(node);
  // Under DetectAnomalyGuard, a NaN or Inf output fails here, naming this op.
  if (AnomalyMode::is_enabled()) [[unlikely]] detail::check_forward_output(name, output, inputs);
}

}  // namespace ember::autograd
