// Dropout and Flatten modules, as torch.nn.Dropout and torch.nn.Flatten.
#pragma once

#include <cstdint>

#include "ember/nn/module.h"

namespace ember::nn {

// Zeroes each element with probability p while training (train()), scaling the rest by
// 1 / (1 - p); the identity in eval().
class DropoutImpl : public UnaryModule {
 public:
  explicit DropoutImpl(double p = 0.5);
  Tensor forward(const Tensor& input) override;
  double p() const { return p_; }

 private:
  double p_;
};

// Flattens dims start_dim to end_dim (inclusive; negative counts from the end) into one. The
// default keeps the batch dim: [N, C, H, W] -> [N, C * H * W].
struct FlattenOptions {
  std::int64_t start_dim = 1;
  std::int64_t end_dim = -1;
};
class FlattenImpl : public UnaryModule {
 public:
  explicit FlattenImpl(FlattenOptions options = {});
  Tensor forward(const Tensor& input) override;

 private:
  FlattenOptions options_;
};

using Dropout = ModuleHolder<DropoutImpl>;
using Flatten = ModuleHolder<FlattenImpl>;

}  // namespace ember::nn
