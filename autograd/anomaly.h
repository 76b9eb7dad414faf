// Anomaly detection, as torch.autograd.detect_anomaly: while a DetectAnomalyGuard is alive on a
// thread, every op recorded for autograd on that thread has its forward output checked for NaN and
// Inf right after it runs, and backward() checks every gradient each node computes. The first bad
// value throws ember::Error naming the node (e.g. "LogBackward"), whether the forward output or a
// gradient was bad, and its shape:
//
//   {
//     ember::autograd::DetectAnomalyGuard anomaly;
//     auto loss = model.forward(x).log().sum();  // throws here if log made a NaN
//     loss.backward();                           // or here, naming the backward node
//   }
//
// Checking reads every value (on CUDA that copies to the host and synchronizes), so it is for
// debugging, not for training runs. With no guard alive the cost is one thread-local flag read per
// recorded op and per backward node.
#pragma once

#include <initializer_list>

#include "ember/autograd/tensor.h"

namespace ember::autograd {

class Grads;
class Node;

// The thread-local switch behind DetectAnomalyGuard (off by default).
class AnomalyMode {
 public:
  // Out of line, like GradMode: a thread_local read from inline code trips GCC's UBSan.
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

// Turns anomaly detection on (or off, with `enabled = false`) on this thread for its lifetime and
// restores the previous setting when destroyed.
class DetectAnomalyGuard {
 public:
  explicit DetectAnomalyGuard(bool enabled = true) : previous_(AnomalyMode::is_enabled()) {
    AnomalyMode::set_enabled(enabled);
  }
  ~DetectAnomalyGuard() { AnomalyMode::set_enabled(previous_); }
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool previous_;
};

namespace detail {
// Throws if `output` of the op recorded as `node_name` holds NaN or Inf (record() calls this).
void check_forward_output(const char* node_name, const TensorBase& output,
                          std::initializer_list<const TensorBase*> inputs);
// Throws if a gradient `node` computed in backward holds NaN or Inf (the engine calls this).
void check_gradients(const Node& node, const Tensor& grad_output, Grads& grads);
// Throws if the gradient backward() starts from holds NaN or Inf.
void check_seed_gradient(const Tensor& seed);
}  // namespace detail

}  // namespace ember::autograd
