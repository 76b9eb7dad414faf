// Loss modules.
#pragma once

#include "ember/autograd/public_ops.h"

namespace ember::nn {

struct MSELossOptions {
  Reduction reduction = Reduction::Mean;
};

// Mean squared error, as torch.nn.MSELoss: input and target must have the same shape.
class MSELoss {
 public:
  explicit MSELoss(MSELossOptions options = {}) : options_(options) {}
  Tensor operator()(const Tensor& input, const Tensor& target) const {
    return mse_loss(input, target, options_.reduction);
  }
  Tensor forward(const Tensor& input, const Tensor& target) const { return (*this)(input, target); }

 private:
  MSELossOptions options_;
};

}  // namespace ember::nn
