// Convolution layers, as torch.nn.Conv2d and torch.nn.Conv1d:
//
//   nn::Conv2d conv(1, 32, 3, {.padding = 1});                       // 3 x 3, same-size output
//   nn::Conv2d down(32, 64, {3, 3}, {.stride = 2, .padding = 1});
//   nn::Conv1d depthwise(16, 16, 5, {.padding = kSame, .groups = 16});
//
// Initialised as PyTorch does: weight and bias uniform in +-1/sqrt(fan_in), fan_in being
// in_channels / groups times the kernel's size (kaiming_uniform_ with a = sqrt(5)). Parameters
// `weight` [out, in / groups, *kernel] and `bias` [out].
#pragma once

#include <cstdint>

#include "ember/autograd/conv_options.h"
#include "ember/nn/module.h"

namespace ember::nn {

// How the input is padded: with zeros only for now (PyTorch's padding_mode="zeros").
enum class PaddingMode : std::uint8_t { Zeros };

struct Conv2dOptions {
  Size2 stride = 1;
  ConvPadding padding = 0;  // sizes, kSame or kValid
  Size2 dilation = 1;
  std::int64_t groups = 1;
  bool bias = true;
  PaddingMode padding_mode = PaddingMode::Zeros;
  DType dtype = kFloat32;
};

struct Conv1dOptions {
  std::int64_t stride = 1;
  ConvPadding padding = 0;
  std::int64_t dilation = 1;
  std::int64_t groups = 1;
  bool bias = true;
  PaddingMode padding_mode = PaddingMode::Zeros;
  DType dtype = kFloat32;
};

class Conv2dImpl : public UnaryModule {
 public:
  Conv2dImpl(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size,
             Conv2dOptions options = {});
  Tensor forward(const Tensor& input) override;
  // Draws new weights and bias from the default initialisation.
  void reset_parameters();

  std::int64_t in_channels, out_channels;
  Size2 kernel_size;
  Conv2dOptions options;
  Tensor weight;  // [out_channels, in_channels / groups, kH, kW]
  Tensor bias;    // [out_channels], undefined without bias
};

class Conv1dImpl : public UnaryModule {
 public:
  Conv1dImpl(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size,
             Conv1dOptions options = {});
  Tensor forward(const Tensor& input) override;
  void reset_parameters();

  std::int64_t in_channels, out_channels, kernel_size;
  Conv1dOptions options;
  Tensor weight;  // [out_channels, in_channels / groups, kL]
  Tensor bias;    // [out_channels], undefined without bias
};

// The holders, with the options spelled out so that they can be braced lists (see nn::Linear).
class Conv2d : public ModuleHolder<Conv2dImpl> {
 public:
  using ModuleHolder::ModuleHolder;
  explicit Conv2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size,
                  Conv2dOptions options = {})
      : ModuleHolder(in_channels, out_channels, kernel_size, options) {}
};

class Conv1d : public ModuleHolder<Conv1dImpl> {
 public:
  using ModuleHolder::ModuleHolder;
  explicit Conv1d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size,
                  Conv1dOptions options = {})
      : ModuleHolder(in_channels, out_channels, kernel_size, options) {}
};

}  // namespace ember::nn
