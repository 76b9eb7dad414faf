// dropout: a mask drawn from the global generator, so that one seed gives the same mask on the CPU
// and on CUDA (the Philox draws are the same on both, core/generator.h).
#include "ember/autograd/factories.h"
#include "ember/autograd/public_ops.h"
#include "ember/core/ops.h"

namespace ember {

Tensor dropout(const Tensor& x, double p, bool training) {
  EMBER_CHECK(p >= 0.0 && p <= 1.0, "dropout: probability p must be in [0, 1], got ", p);
  ops::check_arithmetic_dtype("dropout", x);
  if (!training || p == 0.0) return x;
  if (p == 1.0) return x * 0.0;  // every element dropped; the gradient is zero too
  // Element i is kept when its uniform draw u_i >= p (probability 1 - p), and scaled by 1 / (1 - p)
  // so that the expectation is x. Drawn in float32 at least, so that p keeps its resolution for
  // 16-bit inputs; the mask is a constant of the graph: x's gradient is the mask, scaled.
  const DType draw_dtype = x.dtype() == kFloat64 ? kFloat64 : kFloat32;
  const Tensor u = rand(x.shape(), TensorOptions(draw_dtype).device(x.device()));
  const Tensor keep = ops::binary_scalar(kernels::BinaryOp::Ge, u, p, false, "dropout");
  const Tensor mask = ops::binary_scalar(kernels::BinaryOp::Mul, ops::to_dtype(keep, x.dtype()), 1.0 / (1.0 - p),
                                         false, "dropout");
  return x * mask;
}

}  // namespace ember
