#include "ember/nn/linear.h"

#include <cmath>

#include "ember/core/grad_mode.h"
#include "ember/autograd/public_ops.h"
#include "ember/autograd/factories.h"

namespace ember::nn {

LinearImpl::LinearImpl(std::int64_t in, std::int64_t out, LinearOptions options)
    : UnaryModule("Linear"), in_features(in), out_features(out), activation(options.activation) {
  EMBER_CHECK(in >= 0 && out >= 0, "Linear: in_features (", in, ") and out_features (", out,
              ") must be non-negative");
  weight = register_parameter("weight", empty({out, in}, options.dtype));
  if (options.bias) bias = register_parameter("bias", empty({out}, options.dtype));
  reset_parameters();
}

void LinearImpl::reset_parameters() {
  // PyTorch: kaiming_uniform_(a=sqrt(5)) for the weight, which is U(-1/sqrt(in), 1/sqrt(in)), and
  // the same bound for the bias.
  NoGradGuard no_grad;
  const double bound = in_features > 0 ? 1.0 / std::sqrt(static_cast<double>(in_features)) : 0.0;
  weight.copy_(uniform(weight.shape(), -bound, bound, weight.options()));
  if (bias.defined()) bias.copy_(uniform(bias.shape(), -bound, bound, bias.options()));
}

Tensor LinearImpl::forward(const Tensor& input) { return linear(input, weight, bias, activation); }

}  // namespace ember::nn
