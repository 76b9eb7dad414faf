// batch_norm with its backward.
#include "ember/autograd/public_ops.h"
#include "ember/autograd/record.h"
#include "ember/core/ops.h"

namespace ember {

using autograd::Grads;
using autograd::record;
using autograd::SavedTensor;

Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, const BatchNormFuncOptions& options) {
  // CUDA checks its batch statistics for NaN only when asked, since that waits for the device:
  // anomaly mode is the mode that pays for such checks (see public_ops.h). The CPU always checks.
  const bool check_finite = autograd::AnomalyMode::is_enabled();
  const ops::BatchNormResult result =
      ops::batch_norm(input, weight, bias, running_mean, running_var, options.num_batches_tracked, options.training,
                      options.momentum, options.eps, check_finite);
  Tensor out = result.output;
  if (autograd::any_requires_grad({&input, &weight, &bias})) {
    // Training: the batch's statistics, as the forward saved them. Evaluation: the running ones,
    // which are constants here (their version is checked: an update before backward is an error).
    const bool training = options.training;
    record("NativeBatchNormBackward", out, {&input, &weight, &bias},
           [x = SavedTensor(input), w = SavedTensor(weight), save_mean = Tensor(result.save_mean),
            save_invstd = Tensor(result.save_invstd),
            running_mean = training ? SavedTensor() : SavedTensor(running_mean),
            running_var = training ? SavedTensor() : SavedTensor(running_var), training,
            eps = options.eps](const Tensor& g, Grads& grads) {
             ops::BatchNormGrads r = ops::batch_norm_backward(
                 g, x.get("batch_norm"), w.get("batch_norm"), save_mean, save_invstd, running_mean.get("batch_norm"),
                 running_var.get("batch_norm"), training, eps, grads.needs(0), grads.needs(1), grads.needs(2));
             if (grads.needs(0)) grads[0] = Tensor(r.input);
             if (grads.needs(1)) grads[1] = Tensor(r.weight);
             if (grads.needs(2)) grads[2] = Tensor(r.bias);
           });
  }
  return out;
}

}  // namespace ember
