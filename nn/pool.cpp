#include "ember/nn/pool.h"

namespace ember::nn {

MaxPool2dImpl::MaxPool2dImpl(Size2 kernel, MaxPool2dOptions opts)
    : UnaryModule("MaxPool2d"), kernel_size(kernel), options(opts) {}

Tensor MaxPool2dImpl::forward(const Tensor& input) { return max_pool2d(input, kernel_size, options); }

std::pair<Tensor, Tensor> MaxPool2dImpl::forward_with_indices(const Tensor& input) {
  return max_pool2d_with_indices(input, kernel_size, options);
}

AvgPool2dImpl::AvgPool2dImpl(Size2 kernel, AvgPool2dOptions opts)
    : UnaryModule("AvgPool2d"), kernel_size(kernel), options(opts) {}

Tensor AvgPool2dImpl::forward(const Tensor& input) { return avg_pool2d(input, kernel_size, options); }

AdaptiveAvgPool2dImpl::AdaptiveAvgPool2dImpl(Size2 size) : UnaryModule("AdaptiveAvgPool2d"), output_size(size) {}

Tensor AdaptiveAvgPool2dImpl::forward(const Tensor& input) { return adaptive_avg_pool2d(input, output_size); }

}  // namespace ember::nn
