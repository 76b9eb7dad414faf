#include "ember/nn/batch_norm.h"

#include <utility>

#include "ember/autograd/factories.h"
#include "ember/autograd/public_ops.h"
#include "ember/core/grad_mode.h"

namespace ember::nn {

BatchNormImplBase::BatchNormImplBase(std::string name, std::int64_t features, BatchNormOptions opts)
    : UnaryModule(std::move(name)), num_features(features), options(opts) {
  EMBER_CHECK(features >= 0, this->name(), ": num_features must be non-negative, got ", features);
  EMBER_CHECK(is_floating(opts.dtype), this->name(), ": dtype must be floating, got ", opts.dtype);
  if (options.affine) {
    weight = register_parameter("weight", empty({features}, opts.dtype));
    bias = register_parameter("bias", empty({features}, opts.dtype));
  }
  if (options.track_running_stats) {
    running_mean = register_buffer("running_mean", empty({features}, opts.dtype));
    running_var = register_buffer("running_var", empty({features}, opts.dtype));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, kInt64));
  }
  reset_parameters();
}

void BatchNormImplBase::reset_running_stats() {
  if (!options.track_running_stats) return;
  running_mean.zero_();
  running_var.fill_(1.0);
  num_batches_tracked.zero_();
}

void BatchNormImplBase::reset_parameters() {
  reset_running_stats();
  if (!options.affine) return;
  NoGradGuard no_grad;  // in-place writes to parameters
  weight.fill_(1.0);
  bias.zero_();
}

Tensor BatchNormImplBase::forward(const Tensor& input) {
  check_input_dim(input);
  EMBER_CHECK(input.shape()[1] == num_features, name(), "(", num_features, "): expected ", num_features,
              " channels in dim 1, got an input of shape ", input.shape());
  // As torch.nn.BatchNorm: training updates the running statistics when they are tracked; without
  // them, the batch's statistics are used in evaluation too.
  const bool update = is_training() && options.track_running_stats;
  const bool batch_stats = is_training() || !options.track_running_stats;
  return batch_norm(input, running_mean, running_var, weight, bias,
                    {.training = batch_stats,
                     .momentum = options.momentum,
                     .eps = options.eps,
                     .num_batches_tracked = update ? num_batches_tracked : Tensor()});
}

BatchNorm1dImpl::BatchNorm1dImpl(std::int64_t features, BatchNormOptions opts)
    : BatchNormImplBase("BatchNorm1d", features, opts) {}

void BatchNorm1dImpl::check_input_dim(const Tensor& input) const {
  EMBER_CHECK(input.dim() == 2 || input.dim() == 3, "BatchNorm1d(", num_features,
              "): expected a 2-D [N, C] or 3-D [N, C, L] input, got a ", input.dim(), "-D input of shape ",
              input.shape());
}

BatchNorm2dImpl::BatchNorm2dImpl(std::int64_t features, BatchNormOptions opts)
    : BatchNormImplBase("BatchNorm2d", features, opts) {}

void BatchNorm2dImpl::check_input_dim(const Tensor& input) const {
  EMBER_CHECK(input.dim() == 4, "BatchNorm2d(", num_features, "): expected a 4-D [N, C, H, W] input, got a ",
              input.dim(), "-D input of shape ", input.shape());
}

}  // namespace ember::nn
