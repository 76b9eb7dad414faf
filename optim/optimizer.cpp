#include "ember/optim/optimizer.h"

#include "ember/core/grad_mode.h"

namespace ember::optim {

Optimizer::Optimizer(std::vector<Tensor> params) : params_(std::move(params)) {
  for (std::size_t i = 0; i < params_.size(); ++i) {
    EMBER_CHECK(params_[i].defined() && params_[i].is_leaf(), "optimizer: parameter ", i,
                " is undefined or not a leaf tensor; pass module.parameters()");
  }
}

void Optimizer::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (Tensor& p : params_) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (set_to_none) p.set_grad(Tensor());
    else g.zero_();
  }
}

}  // namespace ember::optim
