// Pooling modules, as torch.nn.MaxPool2d, AvgPool2d and AdaptiveAvgPool2d: the functional ops of
// autograd/public_ops.h (max_pool2d, avg_pool2d, adaptive_avg_pool2d) with their options kept.
//
//   nn::MaxPool2d pool(2);                                 // 2 x 2, stride 2
//   nn::AvgPool2d smooth(3, {.stride = 1, .padding = 1});  // same size out
//   nn::AdaptiveAvgPool2d head(1);                         // global average: [N, C, 1, 1]
#pragma once

#include "ember/autograd/public_ops.h"
#include "ember/core/size2.h"
#include "ember/nn/module.h"

namespace ember::nn {

class MaxPool2dImpl : public UnaryModule {
 public:
  explicit MaxPool2dImpl(Size2 kernel_size, MaxPool2dOptions options = {});
  Tensor forward(const Tensor& input) override;
  // The output and the indices of the maxima, as return_indices=True.
  std::pair<Tensor, Tensor> forward_with_indices(const Tensor& input);

  Size2 kernel_size;
  MaxPool2dOptions options;
};

class AvgPool2dImpl : public UnaryModule {
 public:
  explicit AvgPool2dImpl(Size2 kernel_size, AvgPool2dOptions options = {});
  Tensor forward(const Tensor& input) override;

  Size2 kernel_size;
  AvgPool2dOptions options;
};

class AdaptiveAvgPool2dImpl : public UnaryModule {
 public:
  explicit AdaptiveAvgPool2dImpl(Size2 output_size);
  Tensor forward(const Tensor& input) override;

  Size2 output_size;
};

// The holders, with the arguments spelled out so that they can be braced lists,
// MaxPool2d({3, 2}, {.stride = 1}), which ModuleHolder's forwarding constructor cannot deduce.
class MaxPool2d : public ModuleHolder<MaxPool2dImpl> {
 public:
  using ModuleHolder::ModuleHolder;
  explicit MaxPool2d(Size2 kernel_size, MaxPool2dOptions options = {}) : ModuleHolder(kernel_size, options) {}
};
class AvgPool2d : public ModuleHolder<AvgPool2dImpl> {
 public:
  using ModuleHolder::ModuleHolder;
  explicit AvgPool2d(Size2 kernel_size, AvgPool2dOptions options = {}) : ModuleHolder(kernel_size, options) {}
};
class AdaptiveAvgPool2d : public ModuleHolder<AdaptiveAvgPool2dImpl> {
 public:
  using ModuleHolder::ModuleHolder;
  explicit AdaptiveAvgPool2d(Size2 output_size) : ModuleHolder(output_size) {}
};

}  // namespace ember::nn
