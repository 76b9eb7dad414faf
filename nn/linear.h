// Linear: y = x @ weight^T + bias, initialised as torch.nn.Linear (uniform in +-1/sqrt(in)).
#pragma once

#include "ember/nn/module.h"

namespace ember::nn {

struct LinearOptions {
  bool bias = true;
  DType dtype = kFloat32;
};

class LinearImpl : public UnaryModule {
 public:
  LinearImpl(std::int64_t in_features, std::int64_t out_features, LinearOptions options = {});
  Tensor forward(const Tensor& input) override;
  // Draws new weights and bias from the default initialisation.
  void reset_parameters();

  std::int64_t in_features, out_features;
  Tensor weight;  // [out_features, in_features]
  Tensor bias;    // [out_features], undefined without bias
};

using Linear = ModuleHolder<LinearImpl>;

}  // namespace ember::nn
