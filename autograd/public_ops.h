// The public op API: the differentiable ops users call (ember::matmul, ember::relu, ...). Each
// computes with a core op (core/ops.h, which records nothing) and, when an input requires grad,
// records its backward (see autograd/record.h). Broadcasting follows NumPy.
#pragma once

#include <optional>
#include <utility>

#include "ember/autograd/activation.h"
#include "ember/autograd/conv_options.h"
#include "ember/autograd/tensor.h"
#include "ember/core/size2.h"
#include "ember/kernels/op_list.h"

namespace ember {

// Element-wise arithmetic, with broadcasting.
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& base, const Tensor& exponent);
Tensor pow(const Tensor& base, double exponent);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, double s);
Tensor operator-(const Tensor& a, double s);
Tensor operator*(const Tensor& a, double s);
Tensor operator/(const Tensor& a, double s);
Tensor operator+(double s, const Tensor& a);
Tensor operator-(double s, const Tensor& a);
Tensor operator*(double s, const Tensor& a);
Tensor operator/(double s, const Tensor& a);
Tensor operator-(const Tensor& a);

// Comparisons, element-wise with broadcasting, on tensors of any one dtype: a kBool tensor, true
// where a == b (eq), a != b (ne), a > b (gt), a >= b (ge), a < b (lt), a <= b (le). Not
// differentiable.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);

// Element-wise functions, one per entry of EMBER_UNARY_OPS (kernels/op_list.h): neg, exp, log,
// sqrt, abs, sign, square, reciprocal, relu, tanh, sigmoid, gelu (exact: x * Phi(x)), gelu_tanh
// (GELU's tanh approximation, torch's approximate="tanh") and silu. Each is differentiable, with
// the derivative written beside its value in kernels/elementwise_math.h.
#define EMBER_DECLARE_UNARY(Name, function) Tensor function(const Tensor& x);
EMBER_UNARY_OPS(EMBER_DECLARE_UNARY)
#undef EMBER_DECLARE_UNARY

// Reductions. Over all elements (a 0-d result) or over one dim.
Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, std::int64_t dim, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, std::int64_t dim, bool keepdim = false);
// Max; where several elements tie for the max, the gradient is shared equally among them (as
// torch.amax does).
Tensor max(const Tensor& x);
Tensor max(const Tensor& x, std::int64_t dim, bool keepdim = false);

// Linear algebra.
Tensor matmul(const Tensor& a, const Tensor& b);
// x @ weight^T + bias (bias may be undefined), as torch.nn.functional.linear.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());
// activation(linear(x, weight, bias)) as one op, for bias defined or not (Tensor()). With
// Activation::Relu: the relu in the GEMM's epilogue on CUDA (cuBLASLt), no separate pass over the
// output, and only the output kept for backward; the same values and gradients as
// relu(linear(x, weight, bias)). Activation::None is the plain linear.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, Activation activation);

// Losses.
enum class Reduction { None, Mean, Sum };
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);

// Classification, as torch.nn.functional: softmax and log_softmax over a dim; argmax (int64, the
// first maximum; NaN counts as the maximum) over every element or a dim, not differentiable.
Tensor softmax(const Tensor& x, std::int64_t dim);
Tensor log_softmax(const Tensor& x, std::int64_t dim);
Tensor argmax(const Tensor& x);
Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim = false);

struct NLLLossOptions {
  Tensor weight = {};               // [C] class weights; undefined: all 1
  std::int64_t ignore_index = -100;  // targets equal to it contribute nothing
  Reduction reduction = Reduction::Mean;  // Mean divides by the sum of the targets' weights
};
// Negative log-likelihood of log-probabilities `input` ([C], [N, C] or [N, C, d1, ...]) at the
// int64 class indices `target` ([], [N] or [N, d1, ...]), as torch.nn.functional.nll_loss. A
// target outside [0, C) that is not ignore_index: an ember::Error on the CPU, NaN on CUDA.
Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& options = {});

struct CrossEntropyOptions {
  Tensor weight = {};
  std::int64_t ignore_index = -100;
  Reduction reduction = Reduction::Mean;
  double label_smoothing = 0.0;  // in [0, 1]: the target mixed with the uniform distribution
};
// log_softmax over the class dim (dim 1, or 0 for [C] input), then nll_loss, as
// torch.nn.functional.cross_entropy. `target` is either int64 class indices (as nll_loss's) or
// class probabilities of the input's shape (floating; ignore_index does not apply then).
Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyOptions& options = {});

// Convolution (a cross-correlation), as torch.nn.functional.conv2d and conv1d: input [N, C, H, W]
// (or unbatched [C, H, W]) by weight [O, C / groups, kH, kW]; conv1d: input [N, C, L] (or [C, L]) by
// weight [O, C / groups, kL]; plus bias [O] when defined. Stride, padding (sizes, kSame or kValid),
// dilation and groups in autograd/conv_options.h. The output is channels-last in memory when the
// input or the weight is (PyTorch's rule), contiguous otherwise. Differentiable in input, weight and
// bias (once: no double backward).
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = {}, const Conv2dOptions& options = {});
Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias = {}, const Conv1dOptions& options = {});

// Dropout, as torch.nn.functional.dropout: in training, each element is zeroed with probability p
// and the others scaled by 1 / (1 - p); otherwise x itself. The mask comes from the global
// generator (manual_seed), the same on the CPU and on CUDA for one seed.
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true);

// Batch normalisation, as torch.nn.functional.batch_norm: input [N, C] or [N, C, ...] normalised per
// channel (dim 1) over every other dim, then scaled by weight and shifted by bias ([C] each, or
// undefined: 1 and 0):  y = (x - mean) / sqrt(var + eps) * weight + bias.
//  - training: mean and var are the batch's (var biased); running_mean and running_var, where
//    given, are updated in place, r = (1 - momentum) * r + momentum * batch statistic (the variance
//    unbiased, as PyTorch). More than one value per channel is needed.
//  - evaluation (training = false): mean and var are running_mean and running_var (both needed).
// momentum = std::nullopt makes the running statistics a cumulative average (PyTorch's
// BatchNorm momentum=None): factor 1 / num_batches_tracked, counting this batch. The counter
// (an int64 with one element, as nn::BatchNorm's buffer) is incremented in training when given.
// Every tensor shares input's dtype and device; the output is contiguous (a channels-last input is
// made contiguous first). Differentiable in input, weight and bias.
//
// NaN: in training, a NaN or Inf in the input would poison the running statistics. On the CPU it
// is an ember::Error naming the channel, and nothing changes. On CUDA, finding it means waiting for
// the device, so it is an error only under autograd::DetectAnomalyGuard (anomaly mode: the mode
// that pays a synchronisation to find bad values); otherwise CUDA leaves the running statistics and
// the counter unchanged and the output carries the NaN, which the loss then shows.
struct BatchNormFuncOptions {
  bool training = false;
  std::optional<double> momentum = 0.1;
  double eps = 1e-5;
  Tensor num_batches_tracked = {};
};
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = {}, const Tensor& bias = {}, const BatchNormFuncOptions& options = {});
// Pooling, as torch.nn.functional, over the last two dims of [N, C, H, W] or unbatched [C, H, W]
// input (only N may be 0). Kernel sizes, strides, paddings and dilations are one int or {h, w}
// (Size2); the stride defaults to the kernel size; padding is at most half the kernel. ceil_mode
// rounds the output size up, as long as the last window starts inside the input or its left
// padding (PyTorch's rule). Strided and channels-last inputs are pooled as contiguous NCHW copies.
struct MaxPool2dOptions {
  OptionalSize2 stride = std::nullopt;  // unset: kernel_size
  Size2 padding = 0;                    // padded positions never win (as -inf)
  Size2 dilation = 1;
  bool ceil_mode = false;
};
// The max of each window. NaN propagates: a window holding NaN gives NaN. Backward sends each
// output's gradient to its window's max: the first of equal maxima (row-major), the last of
// several NaNs (PyTorch's rule on both its devices).
Tensor max_pool2d(const Tensor& input, Size2 kernel_size, const MaxPool2dOptions& options = {});
// The same output and the int64 indices of the maxima, flat h * W + w in each [H, W] plane, as
// torch.nn.functional.max_pool2d(..., return_indices=True).
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, Size2 kernel_size,
                                                  const MaxPool2dOptions& options = {});

struct AvgPool2dOptions {
  OptionalSize2 stride = std::nullopt;  // unset: kernel_size
  Size2 padding = 0;                    // zeros
  bool ceil_mode = false;
  bool count_include_pad = true;  // divide by the window's size with its padding, else without
  std::optional<std::int64_t> divisor_override = std::nullopt;  // divide by this instead (not 0)
};
// The mean of each window (a window past the padding, in ceil_mode, counts only what it covers).
Tensor avg_pool2d(const Tensor& input, Size2 kernel_size, const AvgPool2dOptions& options = {});

// The mean over output_size.h x output_size.w windows of varying size: output (i, j) averages
// input rows [floor(i * H / oh), ceil((i + 1) * H / oh)) and the columns alike. output_size may
// exceed the input's (windows then repeat elements) and may be 0.
Tensor adaptive_avg_pool2d(const Tensor& input, Size2 output_size);

// 1-D pooling over the last dim of [N, C, L] or unbatched [C, L]: the 2-D ops over [..., 1, L].
struct MaxPool1dOptions {
  std::optional<std::int64_t> stride = std::nullopt;  // default: kernel_size
  std::int64_t padding = 0;
  std::int64_t dilation = 1;
  bool ceil_mode = false;
};
Tensor max_pool1d(const Tensor& input, std::int64_t kernel_size, const MaxPool1dOptions& options = {});
struct AvgPool1dOptions {
  std::optional<std::int64_t> stride = std::nullopt;  // default: kernel_size
  std::int64_t padding = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;
};
Tensor avg_pool1d(const Tensor& input, std::int64_t kernel_size, const AvgPool1dOptions& options = {});

// Shape and layout (views where possible, with gradients flowing back through them).
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor view(const Tensor& x, const Shape& shape);
Tensor flatten(const Tensor& x, std::int64_t start_dim = 0, std::int64_t end_dim = -1);
Tensor transpose(const Tensor& x, std::int64_t dim0, std::int64_t dim1);
Tensor permute(const Tensor& x, const Shape& dims);
Tensor unsqueeze(const Tensor& x, std::int64_t dim);
Tensor squeeze(const Tensor& x, std::int64_t dim);
Tensor expand(const Tensor& x, const Shape& shape);
Tensor contiguous(const Tensor& x);
Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step = 1);
Tensor select(const Tensor& x, std::int64_t dim, std::int64_t index);
Tensor clone(const Tensor& x);
Tensor to(const Tensor& x, DType dtype);
Tensor to(const Tensor& x, Device device);

}  // namespace ember
