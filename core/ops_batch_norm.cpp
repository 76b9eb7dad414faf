// Batch normalisation and its gradients: the checks, the [N, C, S] views the kernels take, and the
// all-or-nothing update of the running statistics.
#include <string>

#include "ember/core/ops.h"

namespace ember::ops {

namespace {

// input [N, C, d1, ...] as [N, C, S], S the product of the spatial dims (1 for [N, C]).
Shape ncs_shape(const Shape& input) {
  std::int64_t spatial = 1;
  for (int d = 2; d < input.size(); ++d) spatial *= input[d];
  return {input[0], input[1], spatial};
}

kernels::TensorRef ncs_ref(const TensorBase& contiguous_tensor, const Shape& ncs) {
  return {contiguous_tensor.raw_data(), contiguous_tensor.dtype(), ncs, contiguous_strides(ncs)};
}

kernels::TensorRef optional_ref(const TensorBase& t) { return t.defined() ? ref(t) : kernels::TensorRef{}; }

// A per-channel tensor (weight, bias, a running statistic): undefined, or [C] of input's dtype and
// device.
void check_channel_tensor(const char* name, const TensorBase& t, const TensorBase& input) {
  if (!t.defined()) return;
  const std::string what = std::string("batch_norm (") + name + ")";
  check_same_dtype_device(what.c_str(), input, t);
  const std::int64_t channels = input.shape()[1];
  EMBER_CHECK(t.dim() == 1 && t.shape()[0] == channels, "batch_norm: ", name, " must have shape [", channels,
              "], one value per channel of the input of shape ", input.shape(), " (channels are dim 1), got ",
              t.shape());
}

void check_input(const TensorBase& input) {
  EMBER_CHECK(input.defined(), "batch_norm: input is an undefined tensor");
  check_arithmetic_dtype("batch_norm", input);
  EMBER_CHECK(input.dim() >= 2, "batch_norm: input must be [N, C] or [N, C, ...] (channels in dim 1), got shape ",
              input.shape());
}

// A tensor the kernel writes in place: itself when contiguous, else a contiguous copy that is
// copied back once the kernel has succeeded.
struct InPlace {
  TensorBase target, work;
  explicit InPlace(const TensorBase& t) : target(t), work(t.defined() && !t.is_contiguous() ? clone(t) : t) {}
  void commit() const {
    if (!target.defined()) return;
    if (work.is_same(target)) target.impl().storage->bump_version();
    else copy_into(target, work);  // bumps the version
  }
};

}  // namespace

BatchNormResult batch_norm(const TensorBase& input, const TensorBase& weight, const TensorBase& bias,
                           const TensorBase& running_mean, const TensorBase& running_var,
                           const TensorBase& num_batches_tracked, bool training, std::optional<double> momentum,
                           double eps, bool check_finite) {
  check_input(input);
  check_channel_tensor("weight", weight, input);
  check_channel_tensor("bias", bias, input);
  check_channel_tensor("running_mean", running_mean, input);
  check_channel_tensor("running_var", running_var, input);
  const Shape ncs = ncs_shape(input.shape());
  const std::int64_t channels = ncs[1], count = ncs[0] * ncs[2];
  if (!training) {
    EMBER_CHECK(running_mean.defined() && running_var.defined(), "batch_norm: running_mean and running_var must be "
                "given in evaluation mode (training = false); without them, normalise with the batch's statistics "
                "(training = true)");
  } else {
    EMBER_CHECK(count != 1, "batch_norm: expected more than 1 value per channel when training, got input of shape ",
                input.shape());
    if (num_batches_tracked.defined()) {
      EMBER_CHECK(num_batches_tracked.dtype() == kInt64 && num_batches_tracked.numel() == 1 &&
                      num_batches_tracked.device() == input.device(),
                  "batch_norm: num_batches_tracked must be one int64 on ", input.device(), ", got shape ",
                  num_batches_tracked.shape(), " ", num_batches_tracked.dtype(), " on ", num_batches_tracked.device());
    }
    EMBER_CHECK(momentum.has_value() || num_batches_tracked.defined() ||
                    (!running_mean.defined() && !running_var.defined()),
                "batch_norm: momentum = nullopt (a cumulative average of the batches' statistics) needs "
                "num_batches_tracked to count the batches");
  }

  BatchNormResult result;
  result.output = empty(input.shape(), input.options());
  const DType stats_dtype = kernels::batch_norm_stats_dtype(input.dtype());
  if (training) {
    result.save_mean = empty({channels}, input.options().dtype(stats_dtype));
    result.save_invstd = empty({channels}, input.options().dtype(stats_dtype));
  }
  if (channels == 0 || count == 0) {
    // Nothing to normalise, and no statistics to learn from: the running ones stay as they are.
    if (training) {
      fill(result.save_mean, 0.0);
      fill(result.save_invstd, 0.0);
    }
    return result;
  }
  const TensorBase in = contiguous(input);
  const TensorBase w = weight.defined() ? contiguous(weight) : TensorBase();
  const TensorBase b = bias.defined() ? contiguous(bias) : TensorBase();
  kernels::BatchNormArgs args{
      .output = ncs_ref(result.output, ncs),
      .input = ncs_ref(in, ncs),
      .weight = optional_ref(w),
      .bias = optional_ref(b),
      .momentum = momentum,
      .eps = eps,
      .check_finite = check_finite,
  };
  if (!training) {
    const TensorBase mean = contiguous(running_mean), var = contiguous(running_var);
    args.running_mean = ref(mean);
    args.running_var = ref(var);
    kernels::call<kernels::Kernel::batch_norm_eval>(input.device(), args);
    return result;
  }
  const InPlace mean_update(running_mean), var_update(running_var), batches(num_batches_tracked);
  args.running_mean = optional_ref(mean_update.work);
  args.running_var = optional_ref(var_update.work);
  args.num_batches_tracked = optional_ref(batches.work);
  args.save_mean = ref(result.save_mean);
  args.save_invstd = ref(result.save_invstd);
  kernels::call<kernels::Kernel::batch_norm_train>(input.device(), args);
  mean_update.commit();
  var_update.commit();
  batches.commit();
  return result;
}

BatchNormGrads batch_norm_backward(const TensorBase& grad_out, const TensorBase& input, const TensorBase& weight,
                                   const TensorBase& save_mean, const TensorBase& save_invstd,
                                   const TensorBase& running_mean, const TensorBase& running_var, bool training,
                                   double eps, bool need_input, bool need_weight, bool need_bias) {
  check_input(input);
  check_same_dtype_device("batch_norm backward", grad_out, input);
  EMBER_CHECK(grad_out.shape() == input.shape(), "batch_norm backward: gradient of shape ", grad_out.shape(),
              " for an output of shape ", input.shape());
  check_channel_tensor("weight", weight, input);
  const Shape ncs = ncs_shape(input.shape());
  const std::int64_t channels = ncs[1];
  BatchNormGrads grads;
  if (need_input) grads.input = empty(input.shape(), input.options());
  if (need_weight) grads.weight = empty({channels}, input.options());
  if (need_bias) grads.bias = empty({channels}, input.options());
  if (channels == 0 || (!need_input && !need_weight && !need_bias)) return grads;
  if (ncs[0] * ncs[2] == 0) {  // no values: the parameters' gradients are empty sums
    if (need_weight) fill(grads.weight, 0.0);
    if (need_bias) fill(grads.bias, 0.0);
    return grads;
  }
  const TensorBase g = contiguous(grad_out), x = contiguous(input);
  const TensorBase w = weight.defined() ? contiguous(weight) : TensorBase();
  kernels::BatchNormBackwardArgs args{
      .grad_input = need_input ? ncs_ref(grads.input, ncs) : kernels::TensorRef{},
      .grad_weight = optional_ref(grads.weight),
      .grad_bias = optional_ref(grads.bias),
      .grad_out = ncs_ref(g, ncs),
      .input = ncs_ref(x, ncs),
      .weight = optional_ref(w),
      .eps = eps,
      .training = training,
  };
  TensorBase mean, var;  // evaluation: the running statistics, contiguous
  if (training) {
    EMBER_CHECK(save_mean.defined() && save_invstd.defined(), "batch_norm backward: training mode needs the "
                "forward's save_mean and save_invstd");
    args.save_mean = ref(save_mean);
    args.save_invstd = ref(save_invstd);
  } else {
    EMBER_CHECK(running_mean.defined() && running_var.defined(), "batch_norm backward: evaluation mode needs "
                "running_mean and running_var");
    check_channel_tensor("running_mean", running_mean, input);
    check_channel_tensor("running_var", running_var, input);
    mean = contiguous(running_mean);
    var = contiguous(running_var);
    args.running_mean = ref(mean);
    args.running_var = ref(var);
  }
  kernels::call<kernels::Kernel::batch_norm_backward>(input.device(), args);
  return grads;
}

}  // namespace ember::ops
