// The CPU's kernels, one per entry of EMBER_KERNELS (kernels/registry.h), and its device runtime;
// backend_cpu.cpp registers them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ember/kernels/kernel_args.h"
#include "ember/kernels/op_list.h"

namespace ember::kernels::cpu {

// memory.cpp
int device_count();
void* allocate(std::size_t bytes, int device);
void deallocate(void* ptr, std::size_t bytes, int device);
void copy_to_host(void* host_dst, const void* src, std::size_t bytes, int device);
void copy_from_host(void* dst, const void* host_src, std::size_t bytes, int device);
void synchronize(int device);

// elementwise.cpp
void copy(int device, const TensorRef& dst, const TensorRef& src);
void fill(int device, const TensorRef& out, double value);
void unary(int device, UnaryOp op, const TensorRef& out, const TensorRef& in);
void unary_backward(int device, UnaryOp op, const TensorRef& grad_in, const TensorRef& grad_out,
                    const TensorRef& saved);
void binary(int device, BinaryOp op, const TensorRef& out, const TensorRef& a, const TensorRef& b);
void binary_scalar(int device, BinaryOp op, const TensorRef& out, const TensorRef& a, double scalar,
                   bool scalar_first);

// random.cpp
void random(int device, const TensorRef& out, RandomKind kind, std::uint64_t seed,
            std::uint64_t offset, double a, double b);

// reduce.cpp
void reduce(int device, ReduceKind op, const TensorRef& out, const TensorRef& in);

// mse.cpp
void mse_loss(int device, const MseArgs& args);

// softmax.cpp
void softmax(int device, const TensorRef& out, const TensorRef& in, bool log);
void softmax_backward(int device, const TensorRef& grad_in, const TensorRef& grad_out, const TensorRef& out,
                      bool log);
void argmax(int device, const TensorRef& out, const TensorRef& in);

// nll.cpp
void nll_loss(int device, const NllArgs& args);
void nll_loss_backward(int device, const NllBackwardArgs& args);

// batch_norm.cpp
void batch_norm_train(int device, const BatchNormArgs& args);
void batch_norm_eval(int device, const BatchNormArgs& args);
void batch_norm_backward(int device, const BatchNormBackwardArgs& args);
// pool.cpp
void pool2d(int device, const PoolArgs& args);
void pool2d_backward(int device, const PoolArgs& args);
void adaptive_avg_pool2d(int device, const TensorRef& out, const TensorRef& in);
void adaptive_avg_pool2d_backward(int device, const TensorRef& grad_in, const TensorRef& grad_out);

// gemm.cpp
void gemm(int device, const GemmArgs& args);

// conv.cpp
void conv2d(int device, const ConvArgs& args);
void conv2d_backward_input(int device, const ConvArgs& args);
void conv2d_backward_weight(int device, const ConvArgs& args);

// optim.cpp
void adam(int device, const AdamArgs& args);
void sgd(int device, const SgdArgs& args);

}  // namespace ember::kernels::cpu
