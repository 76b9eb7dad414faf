// max_pool2d, avg_pool2d and adaptive_avg_pool2d with their backward; max_pool1d and avg_pool1d as
// the 2-D ops over [..., 1, L].
#include "ember/autograd/public_ops.h"
#include "ember/autograd/record.h"
#include "ember/core/ops.h"

namespace ember {

using autograd::Grads;
using autograd::record;
using autograd::SavedTensor;

namespace {

ops::Pool2dSpec max_spec(Size2 kernel_size, const MaxPool2dOptions& o) {
  return {.kernel = kernel_size,
          .stride = o.stride.value_or(kernel_size),
          .padding = o.padding,
          .dilation = o.dilation,
          .ceil_mode = o.ceil_mode,
          .count_include_pad = true,
          .divisor_override = std::nullopt};
}

ops::Pool2dSpec avg_spec(Size2 kernel_size, const AvgPool2dOptions& o) {
  return {.kernel = kernel_size,
          .stride = o.stride.value_or(kernel_size),
          .padding = o.padding,
          .dilation = 1,
          .ceil_mode = o.ceil_mode,
          .count_include_pad = o.count_include_pad,
          .divisor_override = o.divisor_override};
}

// The output and, when asked for or needed by the backward, the indices of the maxima.
std::pair<Tensor, Tensor> max_pool_impl(const Tensor& input, const ops::Pool2dSpec& spec, bool return_indices,
                                        const char* name) {
  const bool grad = autograd::any_requires_grad({&input});
  ops::MaxPoolResult r = ops::max_pool2d(input, spec, grad || return_indices, name);
  Tensor out(r.output);
  Tensor indices(r.indices);
  if (grad) {
    // The backward needs the indices and the input's shape, not its values.
    record("MaxPool2DWithIndicesBackward", out, {&input},
           [i = SavedTensor(indices), shape = input.shape(), spec, name](const Tensor& g, Grads& grads) {
             grads[0] = ops::max_pool2d_backward(g, i.get(name), shape, spec, name);
           });
  }
  return {out, return_indices ? indices : Tensor()};
}

Tensor avg_pool_impl(const Tensor& input, const ops::Pool2dSpec& spec, const char* name) {
  Tensor out = ops::avg_pool2d(input, spec, name);
  if (autograd::any_requires_grad({&input})) {
    record("AvgPool2DBackward", out, {&input}, [shape = input.shape(), spec, name](const Tensor& g, Grads& grads) {
      grads[0] = ops::avg_pool2d_backward(g, shape, spec, name);
    });
  }
  return out;
}

// A 1-D op's input, [N, C, L] or [C, L], as [N, C, 1, L] or [C, 1, L].
Tensor as_plane(const Tensor& input, const char* name) {
  EMBER_CHECK(input.defined(), name, ": input is an undefined tensor");
  EMBER_CHECK(input.dim() == 2 || input.dim() == 3, name, ": expects a 2-D [C, L] or 3-D [N, C, L] input, got shape ",
              input.shape(), " (", input.dim(), "-D)");
  return input.unsqueeze(-2);
}

}  // namespace

Tensor max_pool2d(const Tensor& input, Size2 kernel_size, const MaxPool2dOptions& options) {
  return max_pool_impl(input, max_spec(kernel_size, options), false, "max_pool2d").first;
}

std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, Size2 kernel_size,
                                                  const MaxPool2dOptions& options) {
  return max_pool_impl(input, max_spec(kernel_size, options), true, "max_pool2d");
}

Tensor avg_pool2d(const Tensor& input, Size2 kernel_size, const AvgPool2dOptions& options) {
  return avg_pool_impl(input, avg_spec(kernel_size, options), "avg_pool2d");
}

Tensor adaptive_avg_pool2d(const Tensor& input, Size2 output_size) {
  Tensor out = ops::adaptive_avg_pool2d(input, output_size);
  if (autograd::any_requires_grad({&input})) {
    record("AdaptiveAvgPool2DBackward", out, {&input}, [shape = input.shape()](const Tensor& g, Grads& grads) {
      grads[0] = ops::adaptive_avg_pool2d_backward(g, shape);
    });
  }
  return out;
}

Tensor max_pool1d(const Tensor& input, std::int64_t kernel_size, const MaxPool1dOptions& options) {
  const ops::Pool2dSpec spec{.kernel = {1, kernel_size},
                             .stride = {1, options.stride.value_or(kernel_size)},
                             .padding = {0, options.padding},
                             .dilation = {1, options.dilation},
                             .ceil_mode = options.ceil_mode,
                             .count_include_pad = true,
                             .divisor_override = std::nullopt};
  return max_pool_impl(as_plane(input, "max_pool1d"), spec, false, "max_pool1d").first.squeeze(-2);
}

Tensor avg_pool1d(const Tensor& input, std::int64_t kernel_size, const AvgPool1dOptions& options) {
  const ops::Pool2dSpec spec{.kernel = {1, kernel_size},
                             .stride = {1, options.stride.value_or(kernel_size)},
                             .padding = {0, options.padding},
                             .dilation = 1,
                             .ceil_mode = options.ceil_mode,
                             .count_include_pad = options.count_include_pad,
                             .divisor_override = std::nullopt};
  return avg_pool_impl(as_plane(input, "avg_pool1d"), spec, "avg_pool1d").squeeze(-2);
}

}  // namespace ember
