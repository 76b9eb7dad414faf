// The CUDA backend's compute entries (host launchers), one group per source file. Each makes the
// device current, queues its kernels on the device's stream and returns without waiting.
// Contracts are those of kernels/registry.h and kernel_args.h.
#pragma once

#include <cstdint>

#include "ember/kernels/kernel_args.h"
#include "ember/kernels/op_list.h"
#include "ember/kernels/tensor_ref.h"

namespace ember::kernels::cuda_impl {

// elementwise.cu
void copy(int device, const TensorRef& dst, const TensorRef& src);
void fill(int device, const TensorRef& out, double value);
void unary(int device, UnaryOp op, const TensorRef& out, const TensorRef& in);
void unary_backward(int device, UnaryOp op, const TensorRef& grad_in, const TensorRef& grad_out,
                    const TensorRef& saved);
void binary(int device, BinaryOp op, const TensorRef& out, const TensorRef& a, const TensorRef& b);
void binary_scalar(int device, BinaryOp op, const TensorRef& out, const TensorRef& a, double scalar,
                   bool scalar_first);

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

// adam.cu, sgd.cu
void adam(int device, const AdamArgs& args);
void sgd(int device, const SgdArgs& args);

}  // namespace ember::kernels::cuda_impl
