#include "ember/nn/sequential.h"

#include <string>

namespace ember::nn {

void SequentialImpl::push_back(std::shared_ptr<UnaryModule> module) {
  // Children are named by position, as in PyTorch ("0.weight", "2.bias", ...).
  register_module(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
}

Tensor SequentialImpl::forward(const Tensor& input) {
  Tensor x = input;
  for (const auto& module : modules_) x = module->forward(x);
  return x;
}

}  // namespace ember::nn
