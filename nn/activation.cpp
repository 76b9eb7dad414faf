#include "ember/nn/activation.h"

#include "ember/autograd/public_ops.h"

namespace ember::nn {

Tensor ReLUImpl::forward(const Tensor& input) { return relu(input); }
Tensor TanhImpl::forward(const Tensor& input) { return tanh(input); }
Tensor SigmoidImpl::forward(const Tensor& input) { return sigmoid(input); }

}  // namespace ember::nn
