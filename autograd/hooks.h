// Hooks into the backward pass, for code that must act while gradients are being computed rather
// than after (DistributedDataParallel starts all-reducing a bucket of gradients as soon as they
// are all final, overlapping communication with the rest of backward).
//
//   register_post_accumulate_grad_hook(w, fn)  fn(w) runs once per backward pass, after the last
//                                              contribution to w.grad of that pass was added;
//   queue_callback(fn)                         called from a hook: fn runs when the current
//                                              backward pass ends, after every gradient is written.
//
// These are PyTorch's Tensor.register_post_accumulate_grad_hook and queue_callback. A leaf that
// this pass's graph reaches but that gets no gradient (every consumer skipped it) runs no hook.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "ember/autograd/tensor.h"

namespace ember::autograd {

using PostAccumulateGradHook = std::function<void(const Tensor& leaf)>;

// Per-leaf state, created by the first registration.
struct LeafHooks {
  std::vector<PostAccumulateGradHook> post_accumulate;
  // Engine bookkeeping: edges of this backward pass that still have to deliver a gradient.
  int pending = 0;
  std::uint64_t pass = 0;
};

// `leaf` must be a leaf tensor that requires grad.
void register_post_accumulate_grad_hook(const Tensor& leaf, PostAccumulateGradHook hook);
// Removes every hook of `leaf`.
void clear_hooks(const Tensor& leaf);
// Only valid while a backward pass is running (from a hook); throws otherwise.
void queue_callback(std::function<void()> callback);
// Identifies the running backward pass of this thread (a new value for each pass); 0 when none.
std::uint64_t current_pass_id();

}  // namespace ember::autograd
