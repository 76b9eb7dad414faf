#include "ember/nn/conv.h"

#include <cmath>

#include "ember/autograd/factories.h"
#include "ember/autograd/public_ops.h"
#include "ember/core/grad_mode.h"

namespace ember::nn {

namespace {

// What both layers check at construction, as PyTorch's _ConvNd does.
void check_layer(const char* name, std::int64_t in, std::int64_t out, std::int64_t groups,
                 bool kernel_positive, bool stride_one, const ConvPadding& padding) {
  EMBER_CHECK(in >= 0 && out >= 0, name, ": in_channels (", in, ") and out_channels (", out,
              ") must be non-negative");
  EMBER_CHECK(groups >= 1, name, ": groups must be at least 1, got ", groups);
  EMBER_CHECK(in % groups == 0, name, ": in_channels (", in, ") must be divisible by groups (",
              groups, ")");
  EMBER_CHECK(out % groups == 0, name, ": out_channels (", out, ") must be divisible by groups (",
              groups, ")");
  EMBER_CHECK(kernel_positive, name, ": kernel_size must be at least 1");
  EMBER_CHECK(stride_one || padding.mode != ConvPadding::Mode::Same, name,
              ": padding=same needs stride 1 (PyTorch's rule)");
}

// PyTorch's reset_parameters: kaiming_uniform_(a = sqrt(5)) on the weight, which is
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for the bias (0 when fan_in is 0).
void init_uniform(Tensor& weight, Tensor& bias, std::int64_t fan_in) {
  NoGradGuard no_grad;
  const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
  weight.copy_(uniform(weight.shape(), -bound, bound, weight.options()));
  if (bias.defined()) bias.copy_(uniform(bias.shape(), -bound, bound, bias.options()));
}

}  // namespace

Conv2dImpl::Conv2dImpl(std::int64_t in, std::int64_t out, Size2 kernel, Conv2dOptions opts)
    : UnaryModule("Conv2d"),
      in_channels(in),
      out_channels(out),
      kernel_size(kernel),
      options(opts) {
  check_layer("nn::Conv2d", in, out, opts.groups, kernel.h >= 1 && kernel.w >= 1,
              opts.stride.h == 1 && opts.stride.w == 1, opts.padding);
  weight =
      register_parameter("weight", empty({out, in / opts.groups, kernel.h, kernel.w}, opts.dtype));
  if (opts.bias) bias = register_parameter("bias", empty({out}, opts.dtype));
  reset_parameters();
}

void Conv2dImpl::reset_parameters() {
  init_uniform(weight, bias, in_channels / options.groups * kernel_size.h * kernel_size.w);
}

Tensor Conv2dImpl::forward(const Tensor& input) {
  return conv2d(input, weight, bias,
                {.stride = options.stride,
                 .padding = options.padding,
                 .dilation = options.dilation,
                 .groups = options.groups});
}

Conv1dImpl::Conv1dImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, Conv1dOptions opts)
    : UnaryModule("Conv1d"),
      in_channels(in),
      out_channels(out),
      kernel_size(kernel),
      options(opts) {
  check_layer("nn::Conv1d", in, out, opts.groups, kernel >= 1, opts.stride == 1, opts.padding);
  weight = register_parameter("weight", empty({out, in / opts.groups, kernel}, opts.dtype));
  if (opts.bias) bias = register_parameter("bias", empty({out}, opts.dtype));
  reset_parameters();
}

void Conv1dImpl::reset_parameters() {
  init_uniform(weight, bias, in_channels / options.groups * kernel_size);
}

Tensor Conv1dImpl::forward(const Tensor& input) {
  return conv1d(input, weight, bias,
                {.stride = options.stride,
                 .padding = options.padding,
                 .dilation = options.dilation,
                 .groups = options.groups});
}

}  // namespace ember::nn
