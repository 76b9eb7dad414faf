// Activation modules: ReLU, Tanh, Sigmoid, for use in Sequential.
#pragma once

#include "ember/nn/module.h"

namespace ember::nn {

class ReLUImpl : public UnaryModule {
 public:
  ReLUImpl() : UnaryModule("ReLU") {}
  Tensor forward(const Tensor& input) override;
};
class TanhImpl : public UnaryModule {
 public:
  TanhImpl() : UnaryModule("Tanh") {}
  Tensor forward(const Tensor& input) override;
};
class SigmoidImpl : public UnaryModule {
 public:
  SigmoidImpl() : UnaryModule("Sigmoid") {}
  Tensor forward(const Tensor& input) override;
};

using ReLU = ModuleHolder<ReLUImpl>;
using Tanh = ModuleHolder<TanhImpl>;
using Sigmoid = ModuleHolder<SigmoidImpl>;

}  // namespace ember::nn
