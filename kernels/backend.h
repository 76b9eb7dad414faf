// The primitive operations every backend implements, as a table of function pointers indexed by
// device type. Core picks the table from a tensor's device; adding a device means filling one table.
//
// Contracts shared by all entries:
//  - `device` is the device index (0 for the CPU).
//  - Element-wise entries get `out` and inputs with the same number of dims; inputs are already
//    broadcast to `out`'s sizes (stride 0 on broadcast dims). `out` does not overlap any input
//    unless it is exactly the same view (in-place).
//  - All refs of one call share a dtype, except `copy`, which converts.
//  - Work may be asynchronous (CUDA): entries return once the work is queued in stream order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "ember/core/device.h"
#include "ember/kernels/op_list.h"
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

// What every backend's gemm checks of the epilogue arguments (defined in backend.cpp).
void check_epilogue_args(const GemmArgs& args, const char* who);
// The epilogues as a backend's own copy and reduce see them, where it does them outside the GEMM:
// the bias as C's shape with every row repeating it (stride 0), to copy into C before C += A @ B
// (the relu, done outside, is the backend's unary Relu on C in place);
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

// What every backend's mse_loss checks (defined in backend.cpp).
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

struct Backend {
  // Number of devices of this type on this machine (1 for the CPU, 0 when no GPU is present).
  int (*device_count)();
  // Memory. allocate never returns null: it throws ember::Error when memory is exhausted.
  void* (*allocate)(std::size_t bytes, int device);
  void (*deallocate)(void* ptr, std::size_t bytes, int device);  // bytes as given to allocate
  // Plain byte copies between this backend's memory and host memory.
  void (*copy_to_host)(void* host_dst, const void* src, std::size_t bytes, int device);
  void (*copy_from_host)(void* dst, const void* host_src, std::size_t bytes, int device);
  // Waits until all work queued on the device is done (a no-op on the CPU).
  void (*synchronize)(int device);

  // Strided copy with dtype conversion; dst and src have the same sizes (src may broadcast).
  void (*copy)(int device, const TensorRef& dst, const TensorRef& src);
  void (*fill)(int device, const TensorRef& out, double value);
  // Counter-based random numbers (Philox 4x32-10): element i of a contiguous `out` gets the
  // value for counter offset + i under key seed, so CPU and CUDA draw identical numbers.
  // Uniform: a + (b - a) * U[0, 1); Normal: a + b * N(0, 1).
  void (*random)(int device, const TensorRef& out, RandomKind kind, std::uint64_t seed,
                 std::uint64_t offset, double a, double b);

  // The element-wise ops of kernels/op_list.h, computed by the functors of elementwise_math.h.
  void (*unary)(int device, UnaryOp op, const TensorRef& out, const TensorRef& in);
  // A unary op's input gradient: grad_in = op.backward(grad_out, saved), where saved is the op's
  // input or output (math::saves(op)), or grad_out itself when the backward reads neither.
  void (*unary_backward)(int device, UnaryOp op, const TensorRef& grad_in, const TensorRef& grad_out,
                         const TensorRef& saved);
  void (*binary)(int device, BinaryOp op, const TensorRef& out, const TensorRef& a,
                 const TensorRef& b);
  // out = a op scalar, or scalar op a when scalar_first.
  void (*binary_scalar)(int device, BinaryOp op, const TensorRef& out, const TensorRef& a,
                        double scalar, bool scalar_first);
  // out has in's number of dims, with size 1 on the reduced dims (keepdim layout).
  void (*reduce)(int device, ReduceKind op, const TensorRef& out, const TensorRef& in);
  void (*gemm)(int device, const GemmArgs& args);

  void (*mse_loss)(int device, const MseArgs& args);

  void (*adam)(int device, const AdamArgs& args);
  void (*sgd)(int device, const SgdArgs& args);
};

// The table for a device type. Throws ember::Error when that backend is not in this build or has
// no device on this machine.
const Backend& backend(Device device);

}  // namespace ember::kernels
