#include "ember/nn/dropout.h"

#include "ember/autograd/public_ops.h"

namespace ember::nn {

DropoutImpl::DropoutImpl(double p) : UnaryModule("Dropout"), p_(p) {
  EMBER_CHECK(p >= 0.0 && p <= 1.0, "nn::Dropout: probability p must be in [0, 1], got ", p);
}

Tensor DropoutImpl::forward(const Tensor& input) { return dropout(input, p_, is_training()); }

FlattenImpl::FlattenImpl(FlattenOptions options) : UnaryModule("Flatten"), options_(options) {}

Tensor FlattenImpl::forward(const Tensor& input) {
  return flatten(input, options_.start_dim, options_.end_dim);
}

}  // namespace ember::nn
