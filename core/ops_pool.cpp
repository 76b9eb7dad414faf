// Max, average and adaptive average pooling over the last two dims, and their input gradients:
// PyTorch's checks and output sizes, then the kernels on contiguous NCHW views (an unbatched
// [C, H, W] input is viewed as [1, C, H, W]).
#include <array>

#include "ember/core/ops.h"

namespace ember::ops {

namespace {

// Floor division (PyTorch's div_rtn): the numerator may be negative.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// x's shape as [N, C, H, W]: unbatched [C, H, W] gets N = 1.
Shape as_batched(const Shape& s) {
  if (s.size() == 4) return s;
  return Shape{1, s[0], s[1], s[2]};
}

// The shape of an output of planes [oh, ow] for an input of shape `s` (3-D or 4-D).
Shape with_plane(const Shape& s, std::int64_t oh, std::int64_t ow) {
  Shape out = s;
  out[s.size() - 2] = oh;
  out[s.size() - 1] = ow;
  return out;
}

kernels::TensorRef ref4(const TensorBase& t, const Shape& batched) {
  return {t.raw_data(), t.dtype(), batched, contiguous_strides(batched)};
}

// The input checks every pooling op shares: defined, floating, [C, H, W] or [N, C, H, W] with only
// N allowed to be 0.
void check_input(const char* name, const TensorBase& x) {
  EMBER_CHECK(x.defined(), name, ": input is an undefined tensor");
  check_arithmetic_dtype(name, x);
  EMBER_CHECK(x.dim() == 3 || x.dim() == 4, name, ": expects a 3-D [C, H, W] or 4-D [N, C, H, W] input, got shape ",
              x.shape(), " (", x.dim(), "-D)");
  for (int d = x.dim() - 3; d < x.dim(); ++d) {
    EMBER_CHECK(x.shape()[d] > 0, name, ": input of shape ", x.shape(), " has an empty dim ", d,
                "; only the batch dim may be 0");
  }
}

// The spec's checks and the output plane [oh, ow] for input plane [h, w], as PyTorch's
// pool2d_shape_check: positive kernel, stride and dilation; padding at most half the kernel; an
// output of at least one element.
std::array<std::int64_t, 2> output_plane(const char* name, const Shape& in, const Pool2dSpec& spec) {
  const Size2 &k = spec.kernel, &s = spec.stride, &p = spec.padding, &d = spec.dilation;
  EMBER_CHECK(k.h > 0 && k.w > 0, name, ": kernel_size must be positive, got ", k);
  EMBER_CHECK(s.h > 0 && s.w > 0, name, ": stride must be positive, got ", s);
  EMBER_CHECK(d.h > 0 && d.w > 0, name, ": dilation must be positive, got ", d);
  EMBER_CHECK(p.h >= 0 && p.w >= 0, name, ": padding must not be negative, got ", p);
  EMBER_CHECK(p.h <= k.h / 2 && p.w <= k.w / 2, name, ": padding ", p, " is more than half of kernel_size ", k,
              "; padding must be at most kernel_size / 2 in each dim");
  const std::int64_t h = in[in.size() - 2], w = in[in.size() - 1];
  const std::int64_t oh = pooling_output_size(h, k.h, p.h, s.h, d.h, spec.ceil_mode);
  const std::int64_t ow = pooling_output_size(w, k.w, p.w, s.w, d.w, spec.ceil_mode);
  EMBER_CHECK(oh >= 1 && ow >= 1, name, ": input of shape ", in, " is too small for kernel_size ", k, " (dilation ", d,
              ", padding ", p, ", stride ", s, "): the output would be ", oh, " x ", ow,
              "; use a smaller kernel or dilation, or more padding");
  return {oh, ow};
}

kernels::PoolArgs pool_args(kernels::PoolKind kind, const Pool2dSpec& spec) {
  return {.kind = kind,
          .input = {},
          .output = {},
          .indices = {},
          .kernel = spec.kernel.array(),
          .stride = spec.stride.array(),
          .padding = spec.padding.array(),
          .dilation = spec.dilation.array(),
          .count_include_pad = spec.count_include_pad,
          .divisor = spec.divisor_override.value_or(0)};
}

// Checks a backward's output gradient: defined, the forward's output shape, a floating dtype.
void check_grad_out(const char* name, const TensorBase& grad_out, const Shape& expected) {
  EMBER_CHECK(grad_out.defined(), name, " backward: the output gradient is an undefined tensor");
  check_arithmetic_dtype(name, grad_out);
  EMBER_CHECK(grad_out.shape() == expected, name, " backward: output gradient of shape ", grad_out.shape(),
              " for an output of shape ", expected);
}

}  // namespace

std::int64_t pooling_output_size(std::int64_t size, std::int64_t kernel, std::int64_t padding, std::int64_t stride,
                                 std::int64_t dilation, bool ceil_mode) {
  std::int64_t out =
      floor_div(size + 2 * padding - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0), stride) + 1;
  // In ceil_mode the last window must start inside the input or its left padding.
  if (ceil_mode && (out - 1) * stride >= size + padding) --out;
  return out;
}

MaxPoolResult max_pool2d(const TensorBase& x, const Pool2dSpec& spec, bool with_indices, const char* name) {
  check_input(name, x);
  const auto [oh, ow] = output_plane(name, x.shape(), spec);
  const TensorBase in = contiguous(x);
  MaxPoolResult result;
  const Shape out_shape = with_plane(x.shape(), oh, ow);
  result.output = empty(out_shape, x.options());
  if (with_indices) result.indices = empty(out_shape, x.options().dtype(kInt64));
  if (result.output.numel() == 0) return result;
  const Shape out4 = as_batched(out_shape);
  kernels::PoolArgs args = pool_args(kernels::PoolKind::Max, spec);
  args.input = ref4(in, as_batched(x.shape()));
  args.output = ref4(result.output, out4);
  if (with_indices) args.indices = ref4(result.indices, out4);
  kernels::call<kernels::Kernel::pool2d>(x.device(), args);
  return result;
}

TensorBase max_pool2d_backward(const TensorBase& grad_out, const TensorBase& indices, const Shape& input_shape,
                               const Pool2dSpec& spec, const char* name) {
  const auto [oh, ow] = output_plane(name, input_shape, spec);
  const Shape out_shape = with_plane(input_shape, oh, ow);
  check_grad_out(name, grad_out, out_shape);
  EMBER_CHECK(indices.defined() && indices.dtype() == kInt64 && indices.shape() == out_shape, name,
              " backward: indices must be an int64 tensor of the output's shape ", out_shape);
  EMBER_CHECK(indices.device() == grad_out.device(), name, " backward: the output gradient is on ", grad_out.device(),
              " and the indices on ", indices.device());
  TensorBase grad_in = empty(input_shape, grad_out.options());
  if (grad_in.numel() == 0) return grad_in;
  const TensorBase g = contiguous(grad_out), i = contiguous(indices);
  const Shape out4 = as_batched(out_shape);
  kernels::PoolArgs args = pool_args(kernels::PoolKind::Max, spec);
  args.input = ref4(grad_in, as_batched(input_shape));
  args.output = ref4(g, out4);
  args.indices = ref4(i, out4);
  kernels::call<kernels::Kernel::pool2d_backward>(grad_out.device(), args);
  return grad_in;
}

TensorBase avg_pool2d(const TensorBase& x, const Pool2dSpec& spec, const char* name) {
  check_input(name, x);
  EMBER_CHECK(spec.dilation == Size2(1), name, ": has no dilation, got ", spec.dilation);
  EMBER_CHECK(!spec.divisor_override || *spec.divisor_override != 0, name, ": divisor_override must not be 0");
  const auto [oh, ow] = output_plane(name, x.shape(), spec);
  const TensorBase in = contiguous(x);
  const Shape out_shape = with_plane(x.shape(), oh, ow);
  TensorBase out = empty(out_shape, x.options());
  if (out.numel() == 0) return out;
  kernels::PoolArgs args = pool_args(kernels::PoolKind::Avg, spec);
  args.input = ref4(in, as_batched(x.shape()));
  args.output = ref4(out, as_batched(out_shape));
  kernels::call<kernels::Kernel::pool2d>(x.device(), args);
  return out;
}

TensorBase avg_pool2d_backward(const TensorBase& grad_out, const Shape& input_shape, const Pool2dSpec& spec,
                               const char* name) {
  const auto [oh, ow] = output_plane(name, input_shape, spec);
  const Shape out_shape = with_plane(input_shape, oh, ow);
  check_grad_out(name, grad_out, out_shape);
  TensorBase grad_in = empty(input_shape, grad_out.options());
  if (grad_in.numel() == 0) return grad_in;
  const TensorBase g = contiguous(grad_out);
  kernels::PoolArgs args = pool_args(kernels::PoolKind::Avg, spec);
  args.input = ref4(grad_in, as_batched(input_shape));
  args.output = ref4(g, as_batched(out_shape));
  kernels::call<kernels::Kernel::pool2d_backward>(grad_out.device(), args);
  return grad_in;
}

TensorBase adaptive_avg_pool2d(const TensorBase& x, Size2 output_size) {
  const char* name = "adaptive_avg_pool2d";
  check_input(name, x);
  EMBER_CHECK(output_size.h >= 0 && output_size.w >= 0, name, ": output_size must not be negative, got ", output_size);
  const TensorBase in = contiguous(x);
  const Shape out_shape = with_plane(x.shape(), output_size.h, output_size.w);
  TensorBase out = empty(out_shape, x.options());
  if (out.numel() == 0) return out;
  kernels::call<kernels::Kernel::adaptive_avg_pool2d>(x.device(), ref4(out, as_batched(out_shape)),
                                                      ref4(in, as_batched(x.shape())));
  return out;
}

TensorBase adaptive_avg_pool2d_backward(const TensorBase& grad_out, const Shape& input_shape) {
  const char* name = "adaptive_avg_pool2d";
  EMBER_CHECK(input_shape.size() == 3 || input_shape.size() == 4, name, " backward: input shape ", input_shape,
              " is not 3-D or 4-D");
  EMBER_CHECK(grad_out.defined() && grad_out.dim() == input_shape.size(), name,
              " backward: the output gradient must have the input's ", input_shape.size(), " dims");
  const Shape out_shape = with_plane(input_shape, grad_out.shape()[grad_out.dim() - 2], grad_out.shape()[grad_out.dim() - 1]);
  check_grad_out(name, grad_out, out_shape);
  TensorBase grad_in = empty(input_shape, grad_out.options());
  if (grad_in.numel() == 0) return grad_in;
  const TensorBase g = contiguous(grad_out);
  kernels::call<kernels::Kernel::adaptive_avg_pool2d_backward>(grad_out.device(), ref4(grad_in, as_batched(input_shape)),
                                                               ref4(g, as_batched(out_shape)));
  return grad_in;
}

}  // namespace ember::ops
