// matmul, linear and mse_loss with their backward.
#include <tuple>

#include "ember/autograd/public_ops.h"
#include "ember/autograd/record.h"
#include "ember/core/ops.h"

namespace ember {

using autograd::Grads;
using autograd::record;
using autograd::SavedTensor;

Tensor matmul(const Tensor& a, const Tensor& b) {
  ops::check_same_dtype_device("matmul", a, b);
  EMBER_CHECK(a.dim() >= 1 && b.dim() >= 1, "matmul: both operands need at least 1 dim, got shapes ",
              a.shape(), " and ", b.shape());
  // 1-D operands become matrices and the added dim is removed from the result, as in
  // torch.matmul; differentiable unsqueeze/squeeze carry the gradients through.
  if (a.dim() == 1 || b.dim() == 1) {
    const std::int64_t k_a = a.shape().back(), k_b = b.shape()[b.dim() == 1 ? 0 : b.dim() - 2];
    EMBER_CHECK(k_a == k_b, "matmul: shapes ", a.shape(), " and ", b.shape(),
                " cannot be multiplied (inner dims ", k_a, " and ", k_b, " differ)");
    const Tensor a2 = a.dim() == 1 ? unsqueeze(a, 0) : a;
    const Tensor b2 = b.dim() == 1 ? unsqueeze(b, 1) : b;
    Tensor out = matmul(a2, b2);
    if (b.dim() == 1) out = squeeze(out, -1);
    if (a.dim() == 1) out = squeeze(out, out.dim() == 1 ? 0 : -2);
    return out;
  }
  Tensor out = ops::matmul_matrices(a, b);
  if (autograd::any_requires_grad({&a, &b})) {
    record("MatmulBackward", out, {&a, &b},
           [sa = SavedTensor(b.requires_grad() ? a : Tensor()), sb = SavedTensor(a.requires_grad() ? b : Tensor()),
            shape_a = a.shape(), shape_b = b.shape()](const Tensor& g, Grads& grads) {
             // dA = g @ B^T, dB = A^T @ g, summed over broadcast batch dims.
             if (grads.needs(0)) grads[0] = ops::sum_to(ops::matmul_matrices(g, ops::transpose(sb.get("matmul"), -1, -2)), shape_a);
             if (grads.needs(1)) grads[1] = ops::sum_to(ops::matmul_matrices(ops::transpose(sa.get("matmul"), -1, -2), g), shape_b);
           });
  }
  return out;
}

namespace {

// Linear's backward from g, the gradient of its output (before any relu):
// dx = g @ W, dW = g^T @ x and db = the column sums of g, over g's rows as a matrix.
void linear_backward(const Tensor& g, const SavedTensor& sx, const SavedTensor& sw, const Shape& x_shape,
                     Grads& grads) {
  if (grads.needs(0)) {
    grads[0] = ops::reshape(ops::matmul_matrices(ops::reshape(g, {-1, g.shape().back()}), sw.get("linear")), x_shape);
  }
  if (grads.needs(1)) {  // and the bias gradient from the same GEMM: the row sums of g^T
    std::tie(grads[1], grads[2]) = ops::linear_weight_grads(g, sx.get("linear"), grads.needs(2));
  } else if (grads.needs(2)) {
    grads[2] = ops::reduce(kernels::ReduceKind::Sum, ops::reshape(g, {-1, g.shape().back()}), 1u, false, "linear");
  }
}

Tensor linear_op(const Tensor& x, const Tensor& weight, const Tensor& bias, bool relu) {
  Tensor out = ops::linear(x, weight, bias, relu);
  if (!autograd::any_requires_grad({&x, &weight, &bias})) return out;
  // With the relu fused, the product never exists as a tensor; in the graph it is a view of the
  // output that only carries LinearBackward (its values are never read). The graph is then the
  // unfused pair's, relu half first, so each half frees what it saved as soon as it has run.
  Tensor product = relu ? make_view(out, out.shape(), out.strides(), out.storage_offset()) : out;
  record("LinearBackward", product, {&x, &weight, &bias},
         [sx = SavedTensor(weight.requires_grad() ? x : Tensor()), sw = SavedTensor(x.requires_grad() ? weight : Tensor()),
          x_shape = x.shape()](const Tensor& g, Grads& grads) { linear_backward(g, sx, sw, x_shape, grads); });
  if (relu) {
    // The output is positive exactly where the product is, so relu's backward reads the output.
    record("LinearReluBackward", out, {&product}, [so = SavedTensor(out.detach())](const Tensor& g, Grads& grads) {
      grads[0] = ops::unary_backward(kernels::UnaryOp::Relu, g, so.get("linear"));
    });
  }
  return out;
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) { return linear_op(x, weight, bias, false); }

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, Activation activation) {
  switch (activation) {
    case Activation::None: return linear_op(x, weight, bias, false);
    case Activation::Relu: return linear_op(x, weight, bias, true);
  }
  EMBER_FAIL("linear: unknown activation ", static_cast<int>(activation), " (x ", x.shape(), ", weight ",
             weight.shape(), ")");
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  ops::check_same_dtype_device("mse_loss", input, target);
  if (reduction == Reduction::None) {
    EMBER_CHECK(input.shape() == target.shape(),
                "mse_loss: input shape ", input.shape(), " and target shape ", target.shape(),
                " differ; they must be equal");
    const Tensor diff = input - target;
    return diff * diff;
  }
  // The gradient comes out of the forward kernel: d/dinput sum((a - b)^2) = 2 (a - b), and the
  // mean divides by n. It is saved instead of input and target, so backward only scales it by the
  // upstream gradient, and not even that when the loss is the root of backward().
  const double n = static_cast<double>(input.numel());
  const bool mean = reduction == Reduction::Mean;
  const bool needs_grad = autograd::any_requires_grad({&input, &target});
  auto [out, grad_at_one] = ops::mse_loss(input, target, mean ? n : 1.0,
                                          needs_grad ? std::optional(mean ? 2.0 / n : 2.0) : std::nullopt);
  if (needs_grad) {
    record("MseLossBackward", out, {&input, &target},
           [grad_at_one = std::move(grad_at_one)](const Tensor& g, Grads& grads) {
             // (2/n (a - b)) * g: PyTorch's order of rounding in mse_loss_backward.
             const Tensor grad_input = autograd::is_implicit_one(g)
                                           ? grad_at_one
                                           : ops::binary(kernels::BinaryOp::Mul, grad_at_one, g, "mse_loss");
             if (grads.needs(0)) grads[0] = grad_input;
             if (grads.needs(1)) grads[1] = ops::unary(kernels::UnaryOp::Neg, grad_input);
           });
  }
  return out;
}

}  // namespace ember
