// conv2d and conv1d with their backward. conv1d is conv2d over [N, C, 1, L] views; unbatched
// inputs are a batch of one. Both resolve their options into ops::ConvParams here.
#include "ember/autograd/public_ops.h"
#include "ember/autograd/record.h"
#include "ember/core/ops.h"

namespace ember {

using autograd::Grads;
using autograd::record;
using autograd::SavedTensor;

namespace {

// ConvParams from the options' stride, padding and dilation along H and W (a 1-D convolution gives
// only W's: H keeps stride 1, no padding, dilation 1), for a weight of shape `weight`.
ops::ConvParams resolve(const char* op, std::array<std::int64_t, 2> stride,
                        const ConvPadding& padding, std::array<std::int64_t, 2> dilation,
                        std::int64_t groups, const Shape& weight, int spatial) {
  ops::ConvParams p{.stride = stride, .dilation = dilation, .groups = groups};
  switch (padding.mode) {
    case ConvPadding::Mode::Sizes:
      EMBER_CHECK(spatial == 2 || !padding.per_dim, op,
                  ": padding is one size for a 1-D convolution, got {", padding.sizes[0], ", ",
                  padding.sizes[1], "}");
      if (spatial == 2)
        p.pad_begin = p.pad_end = padding.sizes;
      else
        p.pad_begin = p.pad_end = {0, padding.sizes[0]};
      break;
    case ConvPadding::Mode::Valid:
      break;
    case ConvPadding::Mode::Same:
      EMBER_CHECK(stride[0] == 1 && stride[1] == 1, op,
                  ": padding=same needs stride 1 (PyTorch's rule), got stride ",
                  spatial == 2 ? Size2(stride[0], stride[1]) : Size2(stride[1]));
      // As PyTorch: the dilated kernel's extent - 1, split with the odd one at the end. A weight of
      // the wrong rank is reported by the shape checks that follow.
      if (weight.size() == spatial + 2) {
        for (int s = 0; s < spatial; ++s) {
          const auto d = static_cast<std::size_t>(2 - spatial + s);
          const std::int64_t total = dilation[d] * (weight[2 + s] - 1);
          p.pad_begin[d] = total / 2;
          p.pad_end[d] = total - total / 2;
        }
      }
      break;
  }
  return p;
}

// conv2d of a batched input with resolved parameters, recording its backward.
Tensor conv2d_batched(const Tensor& input, const Tensor& weight, const Tensor& bias,
                      const ops::ConvParams& p) {
  Tensor out = ops::conv2d(input, weight, bias, p);
  if (autograd::any_requires_grad({&input, &weight, &bias})) {
    // Each gradient is computed only when its input needs one, and takes that input's layout. The
    // input gradient needs the weight, the weight gradient the input: each is saved only then.
    record(
        "ConvolutionBackward", out, {&input, &weight, &bias},
        [si = SavedTensor(weight.requires_grad() ? input : Tensor()),
         sw = SavedTensor(input.requires_grad() ? weight : Tensor()), input_shape = input.shape(),
         weight_shape = weight.shape(), p, input_cl = ops::is_channels_last(input),
         weight_cl = ops::is_channels_last(weight)](const Tensor& g, Grads& grads) {
          if (grads.needs(0))
            grads[0] = ops::conv2d_backward_input(g, sw.get("conv2d"), input_shape, p, input_cl);
          if (grads.needs(1))
            grads[1] = ops::conv2d_backward_weight(g, si.get("conv2d"), weight_shape, p, weight_cl);
          if (grads.needs(2)) grads[2] = ops::conv2d_backward_bias(g);
        });
  }
  return out;
}

void check_defined(const char* op, const Tensor& input, const Tensor& weight) {
  EMBER_CHECK(input.defined() && weight.defined(), op,
              ": input and weight must be defined tensors");
}

}  // namespace

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias,
              const Conv2dOptions& options) {
  check_defined("conv2d", input, weight);
  const ops::ConvParams p = resolve("conv2d", options.stride.array(), options.padding,
                                    options.dilation.array(), options.groups, weight.shape(), 2);
  // Checked here, on the shapes as given (unbatched or not), so that messages name them.
  ops::conv_output_shape("conv2d", input.shape(), weight.shape(), p, 2);
  if (input.dim() == 3) return squeeze(conv2d_batched(unsqueeze(input, 0), weight, bias, p), 0);
  return conv2d_batched(input, weight, bias, p);
}

Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias,
              const Conv1dOptions& options) {
  check_defined("conv1d", input, weight);
  const ops::ConvParams p = resolve("conv1d", {1, options.stride}, options.padding,
                                    {1, options.dilation}, options.groups, weight.shape(), 1);
  ops::conv_output_shape("conv1d", input.shape(), weight.shape(), p, 1);
  const bool unbatched = input.dim() == 2;
  const Tensor batched = unbatched ? unsqueeze(input, 0) : input;
  // [N, C, L] as [N, C, 1, L] and [O, Cg, kL] as [O, Cg, 1, kL]: views, through which the
  // gradients flow back.
  Tensor out = squeeze(conv2d_batched(unsqueeze(batched, 2), unsqueeze(weight, 2), bias, p), 2);
  return unbatched ? squeeze(out, 0) : out;
}

}  // namespace ember
