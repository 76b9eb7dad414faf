#include "ember/nn/dropout.h"

#include "ember/autograd/public_ops.h"

namespace ember::nn {

DropoutImpl::DropoutImpl(double p) : UnaryModule("Dropout"), p_(p) {
  EMBER_CHECK(p >= 0.0 && p <= 1.0, "nn::Dropout: probability p must be in [0, 1], got ", p);
}

Tensor DropoutImpl::forward(const Tensor& input) { return dropout(input, p_, is_training()); }

FlattenImpl::FlattenImpl(FlattenOptions options) : UnaryModule("Flatten"), options_(options) {}

Tensor FlattenImpl::forward(const Tensor& input) {
  if (input.dim() == 0) return input.reshape({1});
  const int start = wrap_dim(options_.start_dim, input.dim(), "nn::Flatten");
  const int end = wrap_dim(options_.end_dim, input.dim(), "nn::Flatten");
  EMBER_CHECK(start <= end, "nn::Flatten: start_dim ", options_.start_dim, " comes after end_dim ", options_.end_dim,
              " for an input of shape ", input.shape());
  Shape shape;
  std::int64_t merged = 1;
  for (int d = 0; d < input.dim(); ++d) {
    if (d < start || d > end) {
      shape.push_back(input.shape()[d]);
    } else {
      merged *= input.shape()[d];
      if (d == end) shape.push_back(merged);
    }
  }
  return input.reshape(shape);
}

}  // namespace ember::nn
