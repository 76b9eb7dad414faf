// Sequential: applies its modules in order, each one's output the next one's input, and nothing
// else: it fuses no modules. For a Linear and its ReLU in one op, give the Linear the activation
// (nn::Linear(in, out, {.activation = Activation::Relu}), nn/linear.h).
#pragma once

#include <initializer_list>
#include <memory>
#include <vector>

#include "ember/nn/module.h"

namespace ember::nn {

class SequentialImpl : public UnaryModule {
 public:
  SequentialImpl() : UnaryModule("Sequential") {}
  // Sequential({Linear(4, 8), ReLU(), Linear(8, 1)}): each element is any holder of a UnaryModule.
  template <typename... Holders> explicit SequentialImpl(Holders... modules) : SequentialImpl() {
    (push_back(modules.ptr()), ...);
  }
  void push_back(std::shared_ptr<UnaryModule> module);
  Tensor forward(const Tensor& input) override;
  std::size_t size() const { return modules_.size(); }
  const std::shared_ptr<UnaryModule>& operator[](std::size_t i) const { return modules_.at(i); }

 private:
  std::vector<std::shared_ptr<UnaryModule>> modules_;
};

using Sequential = ModuleHolder<SequentialImpl>;

}  // namespace ember::nn
