// Convolution: the checks, the output's shape and layout, the bias, and the three kernels of
// kernels::ConvArgs (forward, input gradient, weight gradient).
#include <array>
#include <sstream>
#include <string>

#include "ember/core/cuda.h"
#include "ember/core/ops.h"

namespace ember::ops {

namespace {

// "3 x 3" for two spatial dims, "3" for one: sizes as messages print them.
std::string dims_str(const std::array<std::int64_t, 2>& v, int spatial) {
  std::ostringstream s;
  for (int d = 2 - spatial; d < 2; ++d)
    s << (d > 2 - spatial ? " x " : "") << v[static_cast<std::size_t>(d)];
  return s.str();
}

// Dense [N, C, H, W] with channels-last strides [H*W*C, 1, W*C, C] (a size-1 dim's stride is never
// used, so it may be anything).
bool has_channels_last_strides(const TensorBase& t) {
  if (t.dim() != 4) return false;
  const Shape& s = t.shape();
  const Strides& st = t.strides();
  const std::array<int, 4> order = {1, 3, 2, 0};  // innermost first
  std::int64_t expected = 1;
  for (int d : order) {
    if (s[d] != 1 && st[d] != expected) return false;
    expected *= s[d];
  }
  return true;
}

Strides channels_last_strides(const Shape& s) { return {s[2] * s[3] * s[1], 1, s[3] * s[1], s[1]}; }

// The kernel's view of a dense tensor, with the canonical strides of its layout (a size-1 dim may
// carry any stride in the tensor; cuDNN's descriptors want the canonical one).
kernels::TensorRef conv_ref(const TensorBase& t) {
  const bool last = !t.is_contiguous();  // the callers make every tensor dense in one layout
  return {t.raw_data(), t.dtype(), t.shape(),
          last ? channels_last_strides(t.shape()) : contiguous_strides(t.shape())};
}

// t itself when it is dense in either layout, else a contiguous copy.
TensorBase dense(const TensorBase& t) {
  return t.is_contiguous() || has_channels_last_strides(t) ? t : contiguous(t);
}

// A new [N, C, H, W] tensor, channels-last in memory when asked.
TensorBase empty_conv(const Shape& shape, TensorOptions options, bool channels_last) {
  if (!channels_last) return empty(shape, options);
  const TensorBase nhwc = empty({shape[0], shape[2], shape[3], shape[1]}, options);
  return make_view(nhwc, shape, channels_last_strides(shape), 0);
}

kernels::ConvArgs conv_args(const TensorBase& input, const TensorBase& weight,
                            const TensorBase& output, const ConvParams& p) {
  return {
      .input = conv_ref(input),
      .weight = conv_ref(weight),
      .output = conv_ref(output),
      .stride = p.stride,
      .pad_begin = p.pad_begin,
      .pad_end = p.pad_end,
      .dilation = p.dilation,
      .groups = p.groups,
      .allow_tf32 = cuda::cudnn_allow_tf32(),
      .benchmark = cuda::cudnn_benchmark(),
      .deterministic = cuda::cudnn_deterministic(),
  };
}

void check_backward_operands(const char* op, const TensorBase& grad_out, const TensorBase& other) {
  check_same_dtype_device(op, grad_out, other);
  check_arithmetic_dtype(op, grad_out);
}

}  // namespace

bool is_channels_last(const TensorBase& t) {
  return t.dim() == 4 && !t.is_contiguous() && has_channels_last_strides(t);
}

Shape conv_output_shape(const char* op, const Shape& input, const Shape& weight,
                        const ConvParams& p, int spatial) {
  const int dims = spatial + 2;
  const char* kernel_dims = spatial == 2 ? "kH, kW" : "kL";
  const bool unbatched = input.size() == dims - 1;
  EMBER_CHECK(input.size() == dims || unbatched, op, ": expected a ", dims - 1,
              "-D (unbatched) or ", dims, "-D (batched) input [N, C, ", spatial == 2 ? "H, W" : "L",
              "], got shape ", input);
  EMBER_CHECK(weight.size() == dims, op, ": weight must be ", dims,
              "-D [out_channels, in_channels / groups, ", kernel_dims, "], got shape ", weight);
  EMBER_CHECK(p.groups >= 1, op, ": groups must be at least 1, got ", p.groups);
  for (int d = 2 - spatial; d < 2; ++d) {
    const auto i = static_cast<std::size_t>(d);
    EMBER_CHECK(p.stride[i] >= 1 && p.dilation[i] >= 1, op, ": stride (",
                dims_str(p.stride, spatial), ") and dilation (", dims_str(p.dilation, spatial),
                ") must be at least 1");
    EMBER_CHECK(p.pad_begin[i] >= 0 && p.pad_end[i] >= 0, op,
                ": padding must not be negative, got ", dims_str(p.pad_begin, spatial),
                " at the start and ", dims_str(p.pad_end, spatial), " at the end");
  }
  const int first = unbatched ? 0 : 1;  // the channel dim; spatial dims follow it
  const std::int64_t channels = input[first], out_channels = weight[0];
  EMBER_CHECK(channels % p.groups == 0, op, ": the input's ", channels,
              " channels (input of shape ", input, ") are not divisible by groups=", p.groups);
  EMBER_CHECK(out_channels % p.groups == 0, op, ": the weight's ", out_channels,
              " output channels (weight of shape ", weight,
              ") are not divisible by groups=", p.groups);
  EMBER_CHECK(weight[1] * p.groups == channels, op, ": weight of shape ", weight,
              " with groups=", p.groups, " expected input with ", weight[1] * p.groups,
              " channels (dim ", first, "), got input of shape ", input, " with ", channels,
              " channels");
  Shape out;
  if (!unbatched) out.push_back(input[0]);
  out.push_back(out_channels);
  for (int s = 0; s < spatial; ++s) {
    const auto i = static_cast<std::size_t>(2 - spatial + s);
    const std::int64_t padded = input[first + 1 + s] + p.pad_begin[i] + p.pad_end[i];
    const std::int64_t extent = p.dilation[i] * (weight[2 + s] - 1) + 1;
    EMBER_CHECK(weight[2 + s] >= 1 && padded >= extent, op, ": the kernel of weight ", weight,
                " (dilation ", dims_str(p.dilation, spatial),
                ") is larger than the padded input: input of shape ", input, " with padding ",
                dims_str(p.pad_begin, spatial), " at the start and ", dims_str(p.pad_end, spatial),
                " at the end is ", padded, " wide along spatial dim ", s, ", the kernel ", extent);
    out.push_back((padded - extent) / p.stride[i] + 1);
  }
  return out;
}

TensorBase conv2d(const TensorBase& input, const TensorBase& weight, const TensorBase& bias,
                  const ConvParams& p) {
  EMBER_CHECK(input.defined() && weight.defined(),
              "conv2d: input and weight must be defined tensors");
  check_arithmetic_dtype("conv2d", input);
  check_same_dtype_device("conv2d (input and weight)", input, weight);
  const Shape out_shape = conv_output_shape("conv2d", input.shape(), weight.shape(), p, 2);
  if (bias.defined()) {
    check_same_dtype_device("conv2d (input and bias)", input, bias);
    EMBER_CHECK(bias.dim() == 1 && bias.shape()[0] == weight.shape()[0],
                "conv2d: bias must have shape [", weight.shape()[0],
                "] (one per output channel of weight ", weight.shape(), "), got ", bias.shape());
  }
  // The output is channels-last when either operand is, as PyTorch's suggest_memory_format rule.
  const bool channels_last = is_channels_last(input) || is_channels_last(weight);
  TensorBase out = empty_conv(out_shape, input.options(), channels_last);
  if (out.numel() == 0) return out;
  if (input.numel() == 0 || weight.numel() == 0) {
    fill(out,
         0.0);  // an empty sum: every position reads padding only, or there are no input channels
  } else {
    kernels::call<kernels::Kernel::conv2d>(input.device(),
                                           conv_args(dense(input), dense(weight), out, p));
  }
  if (bias.defined()) {
    // out += bias along dim 1, in place (the element-wise kernels allow out to be an input).
    const kernels::TensorRef o = ref(out);
    const kernels::TensorRef b{bias.raw_data(), bias.dtype(), out.shape(),
                               Strides{0, bias.strides()[0], 0, 0}};
    kernels::call<kernels::Kernel::binary>(input.device(), BinaryOp::Add, o, o, b);
  }
  return out;
}

TensorBase conv2d_backward_input(const TensorBase& grad_out, const TensorBase& weight,
                                 const Shape& input_shape, const ConvParams& p,
                                 bool channels_last) {
  check_backward_operands("conv2d backward (input)", grad_out, weight);
  const Shape out_shape =
      conv_output_shape("conv2d backward (input)", input_shape, weight.shape(), p, 2);
  EMBER_CHECK(grad_out.shape() == out_shape, "conv2d backward (input): gradient of shape ",
              grad_out.shape(), " for an output of shape ", out_shape);
  TensorBase grad_in = empty_conv(input_shape, grad_out.options(), channels_last);
  if (grad_in.numel() == 0) return grad_in;
  if (grad_out.numel() == 0 || weight.numel() == 0) {
    fill(grad_in, 0.0);
    return grad_in;
  }
  kernels::call<kernels::Kernel::conv2d_backward_input>(
      grad_out.device(), conv_args(grad_in, dense(weight), dense(grad_out), p));
  return grad_in;
}

TensorBase conv2d_backward_weight(const TensorBase& grad_out, const TensorBase& input,
                                  const Shape& weight_shape, const ConvParams& p,
                                  bool channels_last) {
  check_backward_operands("conv2d backward (weight)", grad_out, input);
  const Shape out_shape =
      conv_output_shape("conv2d backward (weight)", input.shape(), weight_shape, p, 2);
  EMBER_CHECK(grad_out.shape() == out_shape, "conv2d backward (weight): gradient of shape ",
              grad_out.shape(), " for an output of shape ", out_shape);
  TensorBase grad_w = empty_conv(weight_shape, grad_out.options(), channels_last);
  if (grad_w.numel() == 0) return grad_w;
  if (grad_out.numel() == 0 || input.numel() == 0) {
    fill(grad_w, 0.0);
    return grad_w;
  }
  kernels::call<kernels::Kernel::conv2d_backward_weight>(
      grad_out.device(), conv_args(dense(input), grad_w, dense(grad_out), p));
  return grad_w;
}

TensorBase conv2d_backward_bias(const TensorBase& grad_out) {
  EMBER_CHECK(grad_out.dim() == 4, "conv2d backward (bias): expected a 4-D gradient, got shape ",
              grad_out.shape());
  check_arithmetic_dtype("conv2d backward (bias)", grad_out);
  // The sum over N, H and W, as products with a vector of ones (a GEMV, vectorised) rather than
  // through reduce (which accumulates each element in double, one at a time): for the example
  // CNN's first layer, 0.9 ms instead of 4.3 of the layer's 11 ms forward and backward on one CPU
  // thread. Channels-last data is [N * H * W, C] row-major: ones^T @ it. Contiguous data is
  // [N * C, H * W]: it @ ones, then the N partial sums of each channel added by reduce.
  const TensorBase g = dense(grad_out);
  const std::int64_t n = g.shape()[0], c = g.shape()[1], hw = g.shape()[2] * g.shape()[3];
  if (is_channels_last(g)) {
    TensorBase ones = empty({1, n * hw}, g.options());
    fill(ones, 1.0);
    return reshape(matmul_matrices(ones, make_view(g, {n * hw, c}, {c, 1}, g.storage_offset())),
                   {c});
  }
  TensorBase ones = empty({hw, 1}, g.options());
  fill(ones, 1.0);
  const TensorBase per_sample = reshape(matmul_matrices(reshape(g, {n * c, hw}), ones), {n, c});
  return n == 1 ? reshape(per_sample, {c})
                : reduce(ReduceKind::Sum, per_sample, 1u, false, "conv2d backward (bias)");
}

}  // namespace ember::ops
