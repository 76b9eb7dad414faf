#include "ember/nn/sequential.h"

#include <string>
#include <typeinfo>

#include "ember/autograd/public_ops.h"
#include "ember/nn/activation.h"
#include "ember/nn/linear.h"

namespace ember::nn {

void SequentialImpl::push_back(std::shared_ptr<UnaryModule> module) {
  // Children are named by position, as in PyTorch ("0.weight", "2.bias", ...).
  register_module(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
}

Tensor SequentialImpl::forward(const Tensor& input) {
  Tensor x = input;
  for (std::size_t i = 0; i < modules_.size(); ++i) {
    const UnaryModule& module = *modules_[i];
    const UnaryModule* next = i + 1 < modules_.size() ? modules_[i + 1].get() : nullptr;
    // A Linear followed by a ReLU (those classes exactly, not subclasses that may override
    // forward) runs as one linear_relu: the same values, with the relu in the GEMM's epilogue.
    if (next != nullptr && typeid(module) == typeid(LinearImpl) && typeid(*next) == typeid(ReLUImpl)) {
      const auto& fc = static_cast<const LinearImpl&>(module);
      x = linear_relu(x, fc.weight, fc.bias);
      ++i;
      continue;
    }
    x = modules_[i]->forward(x);
  }
  return x;
}

}  // namespace ember::nn
