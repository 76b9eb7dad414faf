// Loss modules.
#pragma once

#include <utility>

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

// Cross entropy of logits, as torch.nn.CrossEntropyLoss (see ember::cross_entropy).
class CrossEntropyLoss {
 public:
  explicit CrossEntropyLoss(CrossEntropyOptions options = {}) : options_(std::move(options)) {}
  Tensor operator()(const Tensor& input, const Tensor& target) const { return cross_entropy(input, target, options_); }
  Tensor forward(const Tensor& input, const Tensor& target) const { return (*this)(input, target); }

 private:
  CrossEntropyOptions options_;
};

// Negative log-likelihood of log-probabilities, as torch.nn.NLLLoss (see ember::nll_loss).
class NLLLoss {
 public:
  explicit NLLLoss(NLLLossOptions options = {}) : options_(std::move(options)) {}
  Tensor operator()(const Tensor& input, const Tensor& target) const { return nll_loss(input, target, options_); }
  Tensor forward(const Tensor& input, const Tensor& target) const { return (*this)(input, target); }

 private:
  NLLLossOptions options_;
};

}  // namespace ember::nn
