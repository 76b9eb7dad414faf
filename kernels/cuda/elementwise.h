// The CUDA element-wise launchers (elementwise.cu), declared apart from launchers.h so that
// elementwise.cu, the backend's slowest file to compile, depends on the op list and TensorRef only,
// not on every other kernel's arguments.
#pragma once

#include "ember/kernels/op_list.h"
#include "ember/kernels/tensor_ref.h"

namespace ember::kernels::cuda_impl {

void copy(int device, const TensorRef& dst, const TensorRef& src);
void fill(int device, const TensorRef& out, double value);
void unary(int device, UnaryOp op, const TensorRef& out, const TensorRef& in);
void unary_backward(int device, UnaryOp op, const TensorRef& grad_in, const TensorRef& grad_out,
                    const TensorRef& saved);
void binary(int device, BinaryOp op, const TensorRef& out, const TensorRef& a, const TensorRef& b);
void binary_scalar(int device, BinaryOp op, const TensorRef& out, const TensorRef& a, double scalar,
                   bool scalar_first);

}  // namespace ember::kernels::cuda_impl
