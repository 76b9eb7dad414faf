// Adam and AdamW with torch.optim's exact update (see kernels/kernel_args.h, AdamArgs): the same
// initial weights and gradients give PyTorch's trajectory to float32 rounding.
#pragma once

#include <utility>

#include "ember/optim/fused_update.h"
#include "ember/optim/optimizer.h"

namespace ember::optim {

struct AdamOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool amsgrad = false;
  bool maximize = false;
  // Keep each CUDA parameter's step count on the GPU, advanced by the update kernel itself, so
  // that the step can be captured in a CUDA graph (ember::cuda::capture) and replayed, as
  // PyTorch's capturable=True. Still one kernel per step.
  bool capturable = false;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options = {});
  void step() override;
  NamedTensors state_dict() const override;
  void load_state_dict(const NamedTensors& state) override;
  AdamOptions& options() { return options_; }

 protected:
  Adam(std::vector<Tensor> params, AdamOptions options, bool decoupled_weight_decay);

 private:
  struct State {
    std::int64_t step = 0;  // with a device_step, the count when the host last knew it
    Tensor exp_avg, exp_avg_sq, max_exp_avg_sq;
    Tensor device_step;  // capturable CUDA parameters: the step count, a float64 on the GPU
  };
  AdamOptions options_;
  bool decoupled_;
  std::vector<State> state_;
  detail::StepScratch<6> scratch_;  // params, grads, exp_avg, exp_avg_sq, max_exp_avg_sq, steps
};

// AdamW: Adam with decoupled weight decay (param *= 1 - lr * weight_decay), default decay 1e-2.
struct AdamWOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
  bool maximize = false;
  // Keep each CUDA parameter's step count on the GPU, advanced by the update kernel itself, so
  // that the step can be captured in a CUDA graph (ember::cuda::capture) and replayed, as
  // PyTorch's capturable=True. Still one kernel per step.
  bool capturable = false;
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, AdamWOptions options = {});
};

}  // namespace ember::optim
