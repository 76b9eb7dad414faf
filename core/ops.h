// Internal ops that compute without recording anything for autograd: the layer autograd/ builds
// on, not the user API (that is autograd/public_ops.h).
// Each op checks its inputs (throwing ember::Error naming the op, shapes, dtypes and devices),
// allocates its result, and calls the kernel registered for the inputs' device (kernels/registry.h).
#pragma once

#include <array>
#include <optional>
#include <utility>

#include "ember/core/size2.h"
#include "ember/core/tensor.h"
#include "ember/kernels/device_runtime.h"
#include "ember/kernels/registry.h"

namespace ember::ops {

using kernels::BinaryOp;
using kernels::RandomKind;
using kernels::ReduceKind;
using kernels::UnaryOp;

// The kernel's view of a tensor.
kernels::TensorRef ref(const TensorBase& t);

// Throws unless every tensor is defined and all share one dtype and one device.
void check_same_dtype_device(const char* op, const TensorBase& a, const TensorBase& b);
// Throws an ember::Error naming `op` and the dtype unless `t` is of a dtype the arithmetic kernels
// compute in (float32, float64); the other dtypes are storage only for now.
void check_arithmetic_dtype(const char* op, const TensorBase& t);

TensorBase unary(UnaryOp op, const TensorBase& x);
// The input gradient of unary op `op` for output gradient g: op's backward formula applied to g and
// `saved`, the op's input or output (kernels::math::saves(op); undefined when it reads neither).
TensorBase unary_backward(UnaryOp op, const TensorBase& g, const TensorBase& saved);
// Element-wise with NumPy broadcasting; `name` is used in error messages.
TensorBase binary(BinaryOp op, const TensorBase& a, const TensorBase& b, const char* name);
// a op scalar (or scalar op a when scalar_first). pow(a, s) for s in {2, 3, 0.5, -1} computes
// x * x, x * x * x, sqrt(x) and 1 / x, as PyTorch does: exact where pow may be an ulp off.
TensorBase binary_scalar(BinaryOp op, const TensorBase& a, double scalar, bool scalar_first, const char* name);

// Reduces over the dims whose bit is set in `dim_mask` (all dims when it covers every dim).
TensorBase reduce(ReduceKind op, const TensorBase& x, unsigned dim_mask, bool keepdim, const char* name);
// Sums `g` down to `shape` (the reverse of broadcasting `shape` up to g's shape).
TensorBase sum_to(const TensorBase& g, const Shape& shape);

// Matrix product of matrices: both operands 2-D or batched (>2-D, batch dims broadcast), with
// torch.matmul's rules for those. No 1-D operands: ember::matmul, the differentiable product
// users call, promotes vectors to matrices and then calls this.
TensorBase matmul_matrices(const TensorBase& a, const TensorBase& b);
// x @ w^T + bias for x [..., in], w [out, in], bias [out] (bias may be undefined); with relu,
// relu of that, in the same GEMM epilogue where the backend can.
TensorBase linear(const TensorBase& x, const TensorBase& w, const TensorBase& bias, bool relu = false);
// For linear's backward, from the output gradient g [..., out] and the input x [..., in] (their
// leading dims are the rows): {g^T @ x, the sums of g over its rows}, the weight gradient and, when
// `bias`, the bias gradient (undefined otherwise), in one GEMM where the backend can.
std::pair<TensorBase, TensorBase> linear_weight_grads(const TensorBase& g, const TensorBase& x, bool bias);

// Mean-squared error of two same-shaped tensors in one backend call: loss (0-d) is the sum of
// squared differences divided by `divisor`; when grad_scale is given, grad_input is
// grad_scale * (input - target), the input's gradient for an upstream gradient of 1.
struct MseResult {
  TensorBase loss, grad_input;
};
MseResult mse_loss(const TensorBase& input, const TensorBase& target, double divisor, std::optional<double> grad_scale);

// Softmax (log-softmax when `log`) over dim, and its input gradient from the output.
TensorBase softmax(const TensorBase& x, std::int64_t dim, bool log);
TensorBase softmax_backward(const TensorBase& grad_out, const TensorBase& out, std::int64_t dim, bool log);
// The int64 index of the first maximum over dim (over every element when dim is empty), as
// torch.argmax; NaN counts as the maximum.
TensorBase argmax(const TensorBase& x, std::optional<std::int64_t> dim, bool keepdim);
// Negative log-likelihood of log-probabilities `input` ([C], [N, C] or [N, C, d1, ...]) at the
// int64 classes `target` ([], [N] or [N, d1, ...]), with optional class weights [C]
// (kernels::NllArgs has the formula). The loss and the total weight its mean divides by.
struct NllResult {
  TensorBase loss, total_weight;
};
NllResult nll_loss(const TensorBase& input, const TensorBase& target, const TensorBase& weight,
                   std::int64_t ignore_index, kernels::LossReduction reduction);
// Its input gradient, for an input of `input_shape` (grad_out's dtype and device).
TensorBase nll_loss_backward(const TensorBase& grad_out, const Shape& input_shape, const TensorBase& target,
                             const TensorBase& weight, const TensorBase& total_weight, std::int64_t ignore_index,
                             kernels::LossReduction reduction);

// Batch normalisation of input [N, C, ...] over every dim but the channels' (dim 1), as
// torch.nn.functional.batch_norm; kernels::BatchNormArgs has the formulas. weight, bias, the
// running statistics ([C], input's dtype and device) and num_batches_tracked (int64, one element)
// may be undefined. Training normalises with the batch's statistics and updates the running ones in
// place (all or nothing); evaluation uses the running ones. The input is made contiguous (a
// channels-last input is copied to NCHW first) and the output is contiguous. A non-finite batch
// statistic in training is an ember::Error that changes nothing, on the CPU always, on CUDA when
// `check_finite` (it costs a synchronisation; without it CUDA leaves the running statistics and
// the counter unchanged and the output carries the NaN).
struct BatchNormResult {
  TensorBase output;
  TensorBase save_mean, save_invstd;  // training only: [C], float32 (float64 for float64 input)
};
BatchNormResult batch_norm(const TensorBase& input, const TensorBase& weight, const TensorBase& bias,
                           const TensorBase& running_mean, const TensorBase& running_var,
                           const TensorBase& num_batches_tracked, bool training, std::optional<double> momentum,
                           double eps, bool check_finite);
// Its gradients for the output gradient grad_out (input's shape), each computed only when asked
// for (undefined otherwise). Training mode reads save_mean and save_invstd of the forward;
// evaluation mode the running statistics and eps.
struct BatchNormGrads {
  TensorBase input, weight, bias;
};
BatchNormGrads batch_norm_backward(const TensorBase& grad_out, const TensorBase& input, const TensorBase& weight,
                                   const TensorBase& save_mean, const TensorBase& save_invstd,
                                   const TensorBase& running_mean, const TensorBase& running_var, bool training,
                                   double eps, bool need_input, bool need_weight, bool need_bias);
// 2-D pooling (core/ops_pool.cpp), as torch.nn.functional's, over the last two dims of [N, C, H, W]
// or unbatched [C, H, W] input; the output has the input's number of dims. A strided or
// channels-last input is made contiguous (NCHW) first, and the output is contiguous NCHW.
// kernels::PoolArgs has the math. `name` is the op's name in messages.
struct Pool2dSpec {
  Size2 kernel = 1, stride = 1, padding = 0, dilation = 1;
  bool ceil_mode = false;
  bool count_include_pad = true;                                // avg only
  std::optional<std::int64_t> divisor_override = std::nullopt;  // avg only
};
// The size of one pooled dim, as PyTorch's pooling_output_shape: floor (or, with ceil_mode, ceil) of
// (size + 2 * padding - dilation * (kernel - 1) - 1) / stride, plus 1; in ceil_mode the last window
// must start inside the input or its left padding.
std::int64_t pooling_output_size(std::int64_t size, std::int64_t kernel, std::int64_t padding, std::int64_t stride,
                                 std::int64_t dilation, bool ceil_mode);
// The output and, when `with_indices`, the int64 indices of the maxima (flat h * W + w in each
// plane, as return_indices=True).
struct MaxPoolResult {
  TensorBase output, indices;
};
MaxPoolResult max_pool2d(const TensorBase& x, const Pool2dSpec& spec, bool with_indices, const char* name = "max_pool2d");
// The input gradient, for an input of `input_shape`, from the output gradient and the indices.
TensorBase max_pool2d_backward(const TensorBase& grad_out, const TensorBase& indices, const Shape& input_shape,
                               const Pool2dSpec& spec, const char* name = "max_pool2d");
TensorBase avg_pool2d(const TensorBase& x, const Pool2dSpec& spec, const char* name = "avg_pool2d");
TensorBase avg_pool2d_backward(const TensorBase& grad_out, const Shape& input_shape, const Pool2dSpec& spec,
                               const char* name = "avg_pool2d");
// Adaptive average pooling to output_size (each >= 0), with PyTorch's windows.
TensorBase adaptive_avg_pool2d(const TensorBase& x, Size2 output_size);
TensorBase adaptive_avg_pool2d_backward(const TensorBase& grad_out, const Shape& input_shape);
// Convolution (kernels::ConvArgs has the formula). Entry [0] of each pair is along H, [1] along W;
// a 1-D convolution uses the W entries (H's: stride 1, no padding, dilation 1).
struct ConvParams {
  std::array<std::int64_t, 2> stride{1, 1};
  std::array<std::int64_t, 2> pad_begin{0, 0};
  std::array<std::int64_t, 2> pad_end{0, 0};
  std::array<std::int64_t, 2> dilation{1, 1};
  std::int64_t groups = 1;
};
// Checks a convolution of input [N, C, *spatial] (or unbatched [C, *spatial]) by weight
// [O, C / groups, *kernel] with `spatial` (1 or 2) spatial dims, naming `op` and both shapes in
// every message (dims, channels, groups, the kernel against the padded input), and returns the
// output's shape ([N, O, *out] or [O, *out]).
Shape conv_output_shape(const char* op, const Shape& input, const Shape& weight, const ConvParams& p, int spatial);
// 4-D and dense in the channels-last layout (NHWC in memory), and not also contiguous (a tensor
// that is both, as [N, 1, H, W], counts as contiguous): PyTorch's suggest_memory_format.
bool is_channels_last(const TensorBase& t);
// input [N, C, H, W] by weight [O, C / groups, kH, kW], plus bias [O] when defined. The output is
// channels-last when input or weight is, contiguous otherwise.
TensorBase conv2d(const TensorBase& input, const TensorBase& weight, const TensorBase& bias, const ConvParams& p);
// The gradients of conv2d's input (of `input_shape`) and weight (of `weight_shape`) from the
// output's gradient, each channels-last in memory when asked; the bias's: grad_out summed over N, H, W.
TensorBase conv2d_backward_input(const TensorBase& grad_out, const TensorBase& weight, const Shape& input_shape,
                                 const ConvParams& p, bool channels_last);
TensorBase conv2d_backward_weight(const TensorBase& grad_out, const TensorBase& input, const Shape& weight_shape,
                                  const ConvParams& p, bool channels_last);
TensorBase conv2d_backward_bias(const TensorBase& grad_out);

// Copies and conversions.
TensorBase contiguous(const TensorBase& x);       // x itself when already contiguous
TensorBase clone(const TensorBase& x);            // always a fresh contiguous copy
TensorBase to_dtype(const TensorBase& x, DType dtype);
TensorBase to_device(const TensorBase& x, Device device);
// dst[...] = src, src broadcast to dst's shape, converting dtype; both on one device.
void copy_into(const TensorBase& dst, const TensorBase& src);
void fill(const TensorBase& dst, double value);
// Fills dst (contiguous, floating) with draws of the global generator (core/generator.h): uniform
// on [a, b) or normal with mean a and standard deviation b. `name` is used in error messages.
void fill_random(const TensorBase& dst, kernels::RandomKind kind, double a, double b, const char* name);

// Views: share x's storage.
TensorBase view(const TensorBase& x, const Shape& shape, const char* name = "view");  // throws if impossible
TensorBase reshape(const TensorBase& x, const Shape& shape);  // a view when possible, else a copy
TensorBase transpose(const TensorBase& x, std::int64_t dim0, std::int64_t dim1);
TensorBase permute(const TensorBase& x, const Shape& dims);
TensorBase expand(const TensorBase& x, const Shape& shape);
TensorBase unsqueeze(const TensorBase& x, std::int64_t dim);
TensorBase squeeze(const TensorBase& x, std::int64_t dim);
TensorBase slice(const TensorBase& x, std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step);
TensorBase select(const TensorBase& x, std::int64_t dim, std::int64_t index);
// Resolves a shape with at most one -1 against numel; throws naming `name` on mismatch.
Shape infer_shape(const Shape& shape, std::int64_t numel, const Shape& from, const char* name);

}  // namespace ember::ops
