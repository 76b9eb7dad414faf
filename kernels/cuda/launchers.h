// The CUDA backend's compute entries (host launchers), one group per source file. Each makes the
// device current, queues its kernels on the device's stream and returns without waiting.
// Contracts are those of kernels/registry.h and kernel_args.h.
#pragma once

#include <cstdint>

#include "ember/kernels/cuda/elementwise.h"
#include "ember/kernels/kernel_args.h"
#include "ember/kernels/op_list.h"
#include "ember/kernels/tensor_ref.h"

namespace ember::kernels::cuda_impl {

// elementwise.cu: copy, fill, unary, unary_backward, binary, binary_scalar (elementwise.h)

// reduce.cu
void reduce(int device, ReduceKind op, const TensorRef& out, const TensorRef& in);

// mse.cu
void mse_loss(int device, const MseArgs& args);

// softmax.cu
void softmax(int device, const TensorRef& out, const TensorRef& in, bool log);
void softmax_backward(int device, const TensorRef& grad_in, const TensorRef& grad_out, const TensorRef& out,
                      bool log);
void argmax(int device, const TensorRef& out, const TensorRef& in);

// nll.cu
void nll_loss(int device, const NllArgs& args);
void nll_loss_backward(int device, const NllBackwardArgs& args);

// batch_norm.cu
void batch_norm_train(int device, const BatchNormArgs& args);
void batch_norm_eval(int device, const BatchNormArgs& args);
void batch_norm_backward(int device, const BatchNormBackwardArgs& args);
// pool.cu
void pool2d(int device, const PoolArgs& args);
void pool2d_backward(int device, const PoolArgs& args);
void adaptive_avg_pool2d(int device, const TensorRef& out, const TensorRef& in);
void adaptive_avg_pool2d_backward(int device, const TensorRef& grad_in, const TensorRef& grad_out);

// random.cu
void random(int device, const TensorRef& out, RandomKind kind, std::uint64_t seed,
            std::uint64_t offset, double a, double b);

// gemm.cpp
void gemm(int device, const GemmArgs& args);
// small_gemm.cu: the whole gemm, epilogues included, in one kernel when the product is small
// enough for that to beat cuBLAS; false (nothing queued) otherwise.
bool small_gemm(int device, const GemmArgs& args);

// transpose.cu: dst (m x k, contiguous) = src (m x k, column-major), float32, and when row_sums.data
// is not null, row_sums (m) = the sums of src's rows. For gemm.cpp's TF32 weight gradients.
void transpose_to_rows(int device, const TensorRef& dst, const TensorRef& src, const TensorRef& row_sums);

// conv.cpp: convolutions on cuDNN's graph API, a plan cached per problem (conv_plan.h).
void conv2d(int device, const ConvArgs& args);
void conv2d_backward_input(int device, const ConvArgs& args);
void conv2d_backward_weight(int device, const ConvArgs& args);
// For tests: how many convolution plans have been chosen (built and cached) since the process
// started, all devices together. A call whose problem has a cached plan adds nothing.
std::uint64_t cudnn_conv_plans_built() noexcept;

// adam.cu, sgd.cu
void adam(int device, const AdamArgs& args);
void sgd(int device, const SgdArgs& args);

}  // namespace ember::kernels::cuda_impl
