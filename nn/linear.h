// Linear: y = activation(x @ weight^T + bias), initialised as torch.nn.Linear (uniform in
// +-1/sqrt(in)). The activation is fused into the product (see ember::linear):
//
//   nn::Linear hidden(784, 256, {.activation = Activation::Relu});  // relu(linear(x)) in one op
//
// which gives the same values and gradients as Sequential(Linear(784, 256), ReLU()), with one pass
// over the activations fewer. A module of one's own gets the same with
// ember::linear(x, weight, bias, Activation::Relu).
#pragma once

#include "ember/autograd/activation.h"
#include "ember/nn/module.h"

namespace ember::nn {

struct LinearOptions {
  bool bias = true;
  Activation activation = Activation::None;  // applied to the output, in the same op
  DType dtype = kFloat32;
};

class LinearImpl : public UnaryModule {
 public:
  LinearImpl(std::int64_t in_features, std::int64_t out_features, LinearOptions options = {});
  Tensor forward(const Tensor& input) override;
  // Draws new weights and bias from the default initialisation.
  void reset_parameters();

  std::int64_t in_features, out_features;
  Activation activation;
  Tensor weight;  // [out_features, in_features]
  Tensor bias;    // [out_features], undefined without bias
};

// The holder, with the options spelled out so that they can be a braced list,
// Linear(4, 8, {.bias = false}), which ModuleHolder's forwarding constructor cannot deduce.
class Linear : public ModuleHolder<LinearImpl> {
 public:
  using ModuleHolder::ModuleHolder;
  explicit Linear(std::int64_t in_features, std::int64_t out_features, LinearOptions options = {})
      : ModuleHolder(in_features, out_features, options) {}
};

}  // namespace ember::nn
