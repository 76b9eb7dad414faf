// Reductions and their backward: the output gradient is broadcast back over the reduced dims.
#include "ember/autograd/public_ops.h"
#include "ember/autograd/record.h"
#include "ember/core/ops.h"

namespace ember {

using autograd::Grads;
using autograd::record;
using autograd::SavedTensor;
using kernels::BinaryOp;
using kernels::ReduceKind;

namespace {

unsigned all_dims(int ndim) { return ndim >= 32 ? ~0u : (1u << ndim) - 1u; }

// The gradient of a reduction's output, shaped with size 1 on the reduced dims (keepdim layout).
Tensor with_kept_dims(const Tensor& g, const Shape& input_shape, unsigned mask) {
  Shape kept = input_shape;
  for (int d = 0; d < kept.size(); ++d) {
    if (mask & (1u << d)) kept[d] = 1;
  }
  return ops::reshape(g, kept);
}

Tensor sum_impl(const Tensor& x, unsigned mask, bool keepdim) {
  Tensor out = ops::reduce(ReduceKind::Sum, x, mask, keepdim, "sum");
  if (autograd::any_requires_grad({&x})) {
    record("SumBackward", out, {&x}, [shape = x.shape(), mask](const Tensor& g, Grads& grads) {
      grads[0] = ops::expand(with_kept_dims(g, shape, mask), shape);
    });
  }
  return out;
}

std::int64_t count(const Shape& shape, unsigned mask) {
  std::int64_t n = 1;
  for (int d = 0; d < shape.size(); ++d) {
    if (mask & (1u << d)) n *= shape[d];
  }
  return n;
}

Tensor max_impl(const Tensor& x, unsigned mask, bool keepdim) {
  Tensor kept = ops::reduce(ReduceKind::Max, x, mask, /*keepdim=*/true, "max");
  Tensor out = kept;
  if (!keepdim) {
    Shape squeezed;
    for (int d = 0; d < x.dim(); ++d) {
      if (!(mask & (1u << d))) squeezed.push_back(x.shape()[d]);
    }
    out = ops::reshape(kept, squeezed);
  }
  if (autograd::any_requires_grad({&x})) {
    record("MaxBackward", out, {&x},
           [sx = SavedTensor(x), sk = SavedTensor(kept), mask](const Tensor& g, Grads& grads) {
             const Tensor& input = sx.get("max");
             // Ties share the gradient equally: mask of maxima divided by their count.
             const Tensor is_max = ops::to_dtype(ops::binary(BinaryOp::Eq, input, sk.get("max"), "max"), input.dtype());
             const Tensor ties = ops::reduce(ReduceKind::Sum, is_max, mask, true, "max");
             grads[0] = with_kept_dims(g, input.shape(), mask) * (is_max / ties);
           });
  }
  return out;
}

}  // namespace

Tensor sum(const Tensor& x) { return sum_impl(x, all_dims(x.dim()), false); }
Tensor sum(const Tensor& x, std::int64_t dim, bool keepdim) {
  return sum_impl(x, 1u << wrap_dim(dim, x.dim(), "sum"), keepdim);
}

namespace {
// bfloat16 and float16 take their mean in float32 and round once, as PyTorch does: rounding the
// sum to 16 bits before dividing would round twice.
bool is_16bit_float(DType dtype) { return dtype == kBFloat16 || dtype == kFloat16; }
}  // namespace

Tensor mean(const Tensor& x) {
  EMBER_CHECK(x.numel() > 0, "mean: cannot take the mean of an empty tensor (shape ", x.shape(), ")");
  if (is_16bit_float(x.dtype())) return mean(x.to(kFloat32)).to(x.dtype());
  return sum(x) / static_cast<double>(x.numel());
}
Tensor mean(const Tensor& x, std::int64_t dim, bool keepdim) {
  if (is_16bit_float(x.dtype())) return mean(x.to(kFloat32), dim, keepdim).to(x.dtype());
  const int d = wrap_dim(dim, x.dim(), "mean");
  const std::int64_t n = count(x.shape(), 1u << d);
  EMBER_CHECK(n > 0, "mean: dim ", d, " of shape ", x.shape(), " is empty");
  return sum(x, dim, keepdim) / static_cast<double>(n);
}

Tensor max(const Tensor& x) {
  EMBER_CHECK(x.numel() > 0, "max: cannot take the max of an empty tensor (shape ", x.shape(), ")");
  return max_impl(x, all_dims(x.dim()), false);
}
Tensor max(const Tensor& x, std::int64_t dim, bool keepdim) {
  return max_impl(x, 1u << wrap_dim(dim, x.dim(), "max"), keepdim);
}

}  // namespace ember
