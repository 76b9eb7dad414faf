// The arguments of the kernels that take more than tensors: reductions, GEMM with its epilogues,
// the fused MSE loss, the optimizers' updates and random draws. Each struct's comment is the
// contract every device's kernel implements (kernels/registry.h lists the kernels).
//
// Contracts shared by all kernels:
//  - `device` is the device index (0 for the CPU).
//  - Element-wise kernels get `out` and inputs with the same number of dims; inputs are already
//    broadcast to `out`'s sizes (stride 0 on broadcast dims). `out` does not overlap any input
//    unless it is exactly the same view (in-place).
//  - All refs of one call share a dtype, except `copy`, which converts.
//  - Work may be asynchronous (CUDA): kernels return once the work is queued in stream order.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "ember/kernels/tensor_ref.h"

namespace ember::kernels {

// What a reduction computes over the reduced dims (distributed::ReduceOp is the collectives' own).
enum class ReduceKind : std::uint8_t { Sum, Max };

// C[i] = alpha * A[i] @ B[i] + beta * C[i] for i in [0, batch). Each ref is 3-D [batch, rows, cols];
// a batch stride may be 0 (operand shared by every batch). Within a matrix one of the two strides
// of A and of B is 1 (core guarantees it), so a transposed view is a BLAS operation flag, not a
// copy. C is contiguous per matrix. When beta is 0, C's old contents are ignored (may be NaN).
//
// Epilogues for linear layers (batch 1 only), done in the GEMM where the backend can (cuBLASLt):
//   bias (length n, contiguous): C = alpha * A @ B + bias, the bias added to every row; beta is 0;
//   row_sums (length m, contiguous): also written with the sums of A's rows over k. For the weight
//     gradient dW = g^T @ x of linear, that is the bias gradient, from the same read of g;
//   relu: C = max(C, 0) after the bias, NaN kept as torch.relu keeps it; beta is 0, no row_sums.
struct GemmArgs {
  TensorRef a, b, c;
  double alpha = 1.0;
  double beta = 0.0;
  bool allow_tf32 = false;
  TensorRef bias = {};      // data == nullptr: none
  TensorRef row_sums = {};  // data == nullptr: none
  bool relu = false;
};

// What every device's gemm checks of the epilogue arguments (defined in kernel_args.cpp).
void check_epilogue_args(const GemmArgs& args, const char* who);
// The epilogues as a device's own copy and reduce kernels see them, where it does them outside the
// GEMM:
// the bias as C's shape with every row repeating it (stride 0), to copy into C before C += A @ B
// (the relu, done outside, is the unary Relu kernel on C in place);
// row_sums as the [1, m, 1] output of a Sum over the last dim of A ([1, m, k]).
TensorRef bias_as_rows(const GemmArgs& args);
TensorRef row_sums_as_reduce_output(const GemmArgs& args);

// Mean-squared error, the loss and its gradient from one pass over input and target (equal sizes,
// any strides):
//   loss (0-d)  = T(sum of (input - target)^2) / T(divisor), the sum accumulated in double;
//   grad_input  = T(grad_scale) * (input - target), when grad_input.data is not null: the input's
//                 gradient for an upstream gradient of exactly 1, rounded as PyTorch's
//                 mse_loss_backward rounds it. Contiguous, input's sizes.
// Each difference and its square are rounded to T, as when PyTorch forms (input - target)^2.
struct MseArgs {
  TensorRef loss, input, target;
  TensorRef grad_input = {};
  double divisor = 1.0;
  double grad_scale = 2.0;
};

// What every device's mse_loss checks (defined in kernel_args.cpp).
void check_mse_args(const MseArgs& args, const char* who);

// One Adam/AdamW update over every parameter, as torch.optim.Adam does it (the single-tensor,
// foreach=False formulas, op by op in the parameter's dtype). All refs are contiguous; lists have
// equal length; max_exp_avg_sq is empty unless amsgrad.
struct AdamArgs {
  double lr, beta1, beta2, eps, weight_decay;
  bool amsgrad, decoupled_weight_decay, maximize;
  std::int64_t step;  // the step number after this update (1 on the first update)
  std::span<const TensorRef> params, grads, exp_avg, exp_avg_sq, max_exp_avg_sq;
  // Capturable Adam (CUDA only): one float64 counter per parameter, on the device; the update adds
  // 1 to each and takes its step number from it instead of `step`. Empty otherwise.
  std::span<const TensorRef> steps = {};
};

// One SGD update as torch.optim.SGD does it. momentum_buffers is empty when momentum is 0; on the
// first step (first_step) each buffer is set to the gradient, as PyTorch does.
struct SgdArgs {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, maximize, first_step;
  std::span<const TensorRef> params, grads, momentum_buffers;
};

enum class RandomKind : std::uint8_t { Uniform, Normal };

// How a loss reduces over its elements, as torch's reduction= "none", "mean" and "sum".
enum class LossReduction : std::uint8_t { None, Mean, Sum };

// Negative log-likelihood, as torch.nn.functional.nll_loss. input [N, C, D] holds log-probabilities
// (D: the product of the spatial dims, 1 for an [N, C] input), target [N, D] int64 class indices,
// weight [C] the class weights (data null: all 1). Element (n, d) with t = target[n, d] contributes
// -weight[t] * input[n, t, d], and nothing when t == ignore_index. Every ref is contiguous.
//   out           [N, D] for None; 0-d otherwise: the sum (Sum), or the sum / total_weight (Mean);
//   total_weight  0-d: the sum of weight[t] over the elements not ignored.
// Sums accumulate in double. A target outside [0, C) that is not ignore_index is an ember::Error
// where the device can raise one at once (the CPU); a GPU cannot without waiting for the device,
// so CUDA writes NaN for that element instead, which every reduction carries into the loss.
struct NllArgs {
  TensorRef out, total_weight, input, target, weight;
  std::int64_t ignore_index = -100;
  LossReduction reduction = LossReduction::Mean;
};

// nll_loss's input gradient: grad_input [N, C, D] (contiguous) is zero except at (n, target[n, d],
// d), not ignored, where it is -weight[t] * g: g = grad_out / total_weight (both 0-d) for Mean,
// grad_out for Sum, grad_out[n, d] for None.
struct NllBackwardArgs {
  TensorRef grad_input, grad_out, target, weight, total_weight;
  std::int64_t ignore_index = -100;
  LossReduction reduction = LossReduction::Mean;
};

// What every device's nll_loss checks (defined in kernel_args.cpp): shapes, dtypes, contiguity.
void check_nll_args(const NllArgs& args, const char* who);

// 2-D convolution as torch.nn.functional.conv2d computes it (a cross-correlation). With Cg = C_in /
// groups input channels and Og = C_out / groups output channels per group, g = o / Og:
//   output[n, o, y, x] = sum over c < Cg, i < kH, j < kW of
//       input[n, g * Cg + c, y * stride[0] - pad_begin[0] + i * dilation[0],
//                            x * stride[1] - pad_begin[1] + j * dilation[1]] * weight[o, c, i, j],
// positions outside the input counting as 0 (H_out = (H + pad_begin[0] + pad_end[0] -
// dilation[0] * (kH - 1) - 1) / stride[0] + 1, the same for W). Padding may differ at the two ends
// (padding="same" with an even kernel); core checks every size, so kernels need not, and calls them
// only when every ref has elements (an empty sum it fills with zeros itself). The bias is not part
// of the kernels: core adds it (and sums its gradient).
//
// Refs are 4-D with dims in NCHW order: input [N, C_in, H, W], weight [C_out, Cg, kH, kW], output
// [N, C_out, H_out, W_out]. Each is dense, either contiguous (NCHW) or channels-last (NHWC in memory:
// strides [H*W*C, 1, W*C, C]); one call may mix the two. Accumulation is in float32 for 16-bit and
// float32 tensors (TF32 tensor cores for float32 when allow_tf32), float64 for float64.
//   conv2d                 writes output from input and weight;
//   conv2d_backward_input  writes input (the input's gradient) from output (the output's gradient)
//                          and weight;
//   conv2d_backward_weight writes weight (the weight's gradient) from input and output (the
//                          output's gradient).
// The written ref is overwritten, not accumulated into.
// benchmark and deterministic are torch.backends.cudnn's settings: try every algorithm once per
// shape and keep the fastest; use only algorithms that give the same bits every run. A device with
// one algorithm ignores them.
struct ConvArgs {
  TensorRef input, weight, output;
  std::array<std::int64_t, 2> stride{1, 1};
  std::array<std::int64_t, 2> pad_begin{0, 0};
  std::array<std::int64_t, 2> pad_end{0, 0};
  std::array<std::int64_t, 2> dilation{1, 1};
  std::int64_t groups = 1;
  bool allow_tf32 = true;
  bool benchmark = false;
  bool deterministic = false;
};

// Batch normalisation, as torch.nn.functional.batch_norm. input and output are [N, C, S] views (S:
// the product of the spatial dims, 1 for an [N, C] input), contiguous; a channel's M = N * S values
// are N runs of S. The [C] refs are contiguous; weight, bias and the running statistics have
// input's dtype T, and any of them may be null (weight 1, bias 0, statistics not kept).
// save_mean and save_invstd have the compute dtype of T (float32 for bfloat16, float16 and float32;
// float64 for float64), as PyTorch's save_mean and save_invstd. The arithmetic is
// kernels/batch_norm_math.h, the same on every device:
//   batch_norm_train: per channel, from sums in double over its M values (M > 1: core checks),
//       mean = sum x / M, var = sum (x - mean)^2 / M (biased), invstd = 1 / sqrt(var + eps);
//     writes save_mean and save_invstd (rounded to the compute type) and
//       output = ((x - mean) * invstd) * weight + bias   in the compute type;
//     and, where given, updates in place, with f = momentum, or 1 / (num_batches_tracked + 1) when
//     momentum is empty (a cumulative average, PyTorch's momentum=None):
//       running_mean = f * mean + (1 - f) * running_mean,
//       running_var  = f * var * M / (M - 1) + (1 - f) * running_var   (unbiased),
//       num_batches_tracked += 1   (0-d int64).
//     A channel whose mean or variance is not finite (NaN or Inf in the input) leaves the running
//     statistics and num_batches_tracked unchanged, on every channel. The CPU then throws an
//     ember::Error naming the channel before writing anything; CUDA cannot raise without waiting
//     for the device, so it writes the output (NaN where the input's NaN reaches) and raises only
//     when check_finite (one synchronisation, before the output is written).
//   batch_norm_eval: output as above with mean = running_mean and invstd = 1 / sqrt(running_var +
//     eps) (both given); reads nothing else and writes nothing but output.
struct BatchNormArgs {
  TensorRef output, input;
  TensorRef weight = {}, bias = {};
  TensorRef running_mean = {}, running_var = {};
  TensorRef num_batches_tracked = {};
  TensorRef save_mean = {}, save_invstd = {};
  std::optional<double> momentum = 0.1;
  double eps = 1e-5;
  bool check_finite = false;
};

// batch_norm's gradients for the output gradient grad_out ([N, C, S] like input, contiguous). In
// training mode mean and invstd are save_mean and save_invstd of the forward; in evaluation mode
// they are the running statistics' (running_mean, 1 / sqrt(running_var + eps)), rounded to the
// compute type. With sums in double over each channel's M values,
//   sum_g = sum g,  dotp = sum g * (x - mean),
//   grad_bias   = sum_g,  grad_weight = dotp * invstd,
//   grad_input  = ((g - sum_g / M) - (x - mean) * dotp * invstd^2 / M) * invstd * weight  (training),
//                 g * invstd * weight                                                  (evaluation).
// Each of grad_input, grad_weight and grad_bias is written only when its ref is not null.
struct BatchNormBackwardArgs {
  TensorRef grad_input = {}, grad_weight = {}, grad_bias = {};
  TensorRef grad_out, input;
  TensorRef weight = {};
  TensorRef save_mean = {}, save_invstd = {};      // training
  TensorRef running_mean = {}, running_var = {};  // evaluation
  double eps = 1e-5;
  bool training = true;
};

// The dtype of save_mean and save_invstd for an input of `input` dtype: its compute dtype.
constexpr DType batch_norm_stats_dtype(DType input) { return input == DType::Float64 ? DType::Float64 : DType::Float32; }

// What every device's batch-norm kernels check (defined in kernel_args.cpp): ranks, sizes, dtypes,
// contiguity.
void check_batch_norm_args(const BatchNormArgs& args, bool training, const char* who);
void check_batch_norm_backward_args(const BatchNormBackwardArgs& args, const char* who);
// 2-D pooling over the planes of NCHW refs, as torch.nn.functional.max_pool2d and avg_pool2d
// compute it. input [N, C, H, W] and output [N, C, OH, OW] are contiguous (core makes a
// channels-last or strided tensor contiguous first); core has checked every size (output sizes as
// PyTorch's pooling_output_shape, ceil_mode included), so kernels need not. Per plane, output
// (oh, ow) pools the window of rows oh * stride[0] - padding[0] + i * dilation[0] (i < kernel[0])
// and the columns alike; positions outside the input are skipped (max) or count as 0 (avg).
//   Max: the largest element, compared in the compute type; between equal elements the first in
//        row-major order wins; a NaN wins over any number, and of several NaNs the last (PyTorch's
//        rule, on both of its devices). indices (int64, output's sizes, contiguous) gets the winner's
//        flat index h * W + w in its plane, as return_indices=True gives it; the forward writes it
//        when indices.data is not null. A window with no element in the input (a dilated window can
//        step over a small input) is -inf, its index PyTorch's (the first dilated row and column at
//        or past 0, which is not in the window); no gradient reaches the input from it.
//   Avg: the window's sum (in the compute type, row-major order) divided by the divisor: `divisor`
//        when it is not 0 (divisor_override), else the window's size clipped to the padded input
//        [-padding, H + padding) when count_include_pad, else clipped to the input itself. A window
//        with no element inside the input is 0. dilation is 1.
// pool2d            writes output from input.
// pool2d_backward   writes input (the input's gradient) from output (the output's gradient) and,
//                   for Max, indices: each input element gets the sum of the output gradients of the
//                   windows whose index names it (Max) or of g / divisor over the windows holding it
//                   (Avg), summed in the windows' row-major order in the compute type and rounded
//                   once, so that the result does not depend on the device or the thread schedule.
// The written ref is overwritten, not accumulated into.
enum class PoolKind : std::uint8_t { Max, Avg };
struct PoolArgs {
  PoolKind kind = PoolKind::Max;
  TensorRef input, output;
  TensorRef indices = {};  // Max only: data == nullptr in a forward that needs no indices
  std::array<std::int64_t, 2> kernel{1, 1};
  std::array<std::int64_t, 2> stride{1, 1};
  std::array<std::int64_t, 2> padding{0, 0};
  std::array<std::int64_t, 2> dilation{1, 1};
  bool count_include_pad = true;
  std::int64_t divisor = 0;  // Avg: 0 for the window's size, else this (divisor_override)
};

// What every device's pooling kernels check (defined in kernel_args.cpp): 4-D contiguous refs of
// one dtype, int64 indices of the output's sizes for a Max backward, a positive window and stride.
void check_pool_args(const PoolArgs& args, bool backward, const char* who);

}  // namespace ember::kernels
