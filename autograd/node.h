// The autograd graph: a Node per recorded op, holding what its backward needs and an edge to each
// input's producer (another Node) or, for leaves, to the leaf tensor whose .grad it accumulates.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <utility>

#include "ember/autograd/tensor.h"

namespace ember::autograd {

// Ops take at most this many differentiable inputs.
inline constexpr int kMaxInputs = 3;

struct Edge {
  std::shared_ptr<Node> node;        // the input was produced by a recorded op
  std::shared_ptr<TensorImpl> leaf;  // or it is a leaf that requires grad
  bool active() const { return node || leaf; }
};

// The gradients a backward function writes, one per input; it may skip inputs that need none.
class Grads {
 public:
  explicit Grads(unsigned needs_mask) : needs_mask_(needs_mask) {}
  bool needs(int input) const { return needs_mask_ & (1u << input); }
  Tensor& operator[](int input) { return grads_[static_cast<std::size_t>(input)]; }

 private:
  std::array<Tensor, kMaxInputs> grads_;
  unsigned needs_mask_;
};

// True when g is the gradient that backward() supplied for a one-element root in the running pass,
// an exact 1 (no gradient was passed): a backward function may skip multiplying by it.
bool is_implicit_one(const Tensor& g);

// A tensor saved for backward, with the storage version it had then: using it after an in-place
// write would give a wrong gradient, so unpacking checks the version, as PyTorch does.
class SavedTensor {
 public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& t)
      : tensor_(t), version_(t.defined() ? t.impl().storage->version() : 0) {}
  const Tensor& get(const char* op) const;

 private:
  Tensor tensor_;
  std::uint64_t version_ = 0;
};

class Node {
 public:
  virtual ~Node() = default;
  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // The op's name for messages, e.g. "MulBackward".
  virtual const char* name() const = 0;
  // Computes the gradients of the inputs from the gradient of the output.
  virtual void apply(const Tensor& grad_output, Grads& grads) = 0;
  // Frees what backward saved (after a backward without retain_graph).
  virtual void release() = 0;

  std::array<Edge, kMaxInputs> edges;
  int num_inputs = 0;
  bool released = false;
  Shape output_shape;  // for checking the gradient handed to backward()

  // Engine bookkeeping for one backward pass.
  Tensor pending_grad;
  int dependencies = 0;
  std::uint64_t visit_epoch = 0;
};

// A Node whose backward is a callable stored inline (no std::function, no extra allocation).
template <typename Backward> class FunctionNode final : public Node {
 public:
  FunctionNode(const char* name, Backward backward) : name_(name), backward_(std::move(backward)) {}
  const char* name() const override { return name_; }
  void apply(const Tensor& grad_output, Grads& grads) override { (*backward_)(grad_output, grads); }
  void release() override { backward_.reset(); }

 private:
  const char* name_;
  std::optional<Backward> backward_;
};

}  // namespace ember::autograd
