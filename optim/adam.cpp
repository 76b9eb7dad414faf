#include "ember/optim/adam.h"

#include <algorithm>
#include <string>

#include "ember/core/grad_mode.h"
#include "ember/core/cuda.h"
#include "ember/autograd/factories.h"
#include "ember/core/log.h"
#include "ember/core/ops.h"
#include "ember/optim/fused_update.h"

namespace ember::optim {

Adam::Adam(std::vector<Tensor> params, AdamOptions options) : Adam(std::move(params), options, false) {}

Adam::Adam(std::vector<Tensor> params, AdamOptions options, bool decoupled)
    : Optimizer(std::move(params)), options_(options), decoupled_(decoupled), state_(params_.size()) {
  EMBER_CHECK(options.lr >= 0 && options.eps >= 0 && options.weight_decay >= 0 &&
                  options.betas.first >= 0 && options.betas.first < 1 &&
                  options.betas.second >= 0 && options.betas.second < 1,
              "Adam: invalid options (lr=", options.lr, ", betas=(", options.betas.first, ", ",
              options.betas.second, "), eps=", options.eps, ", weight_decay=", options.weight_decay, ")");
}

namespace {
AdamOptions as_adam(const AdamWOptions& o) {
  return {o.lr, o.betas, o.eps, o.weight_decay, o.amsgrad, o.maximize, o.capturable};
}
}  // namespace

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions options)
    : Adam(std::move(params), as_adam(options), true) {}

void Adam::step() {
  NoGradGuard no_grad;
  const bool capturing = cuda::is_capturing();
  std::vector<std::size_t>& active = scratch_.active();
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Tensor grad = params_[i].grad();
    if (!grad.defined()) continue;
    State& s = state_[i];
    const bool device_step = options_.capturable && params_[i].is_cuda();
    EMBER_CHECK(!capturing || device_step, "Adam: inside ember::cuda::capture, construct Adam with "
                "capturable = true: the step count changes every step, and a graph would replay the "
                "count it captured");
    EMBER_CHECK(!capturing || (s.exp_avg.defined() && s.device_step.defined()), "Adam: parameter ", i,
                " has no optimizer state yet; run the step once before ember::cuda::capture, so that "
                "the state exists outside the graph");
    if (!s.exp_avg.defined()) {  // state is created on first use, on the parameter's device
      logging::debug("Adam: new state for parameter {} ({} on {})", i, params_[i].shape().str(),
                 params_[i].device().str());
      s.exp_avg = zeros_like(params_[i]);
      s.exp_avg_sq = zeros_like(params_[i]);
      if (options_.amsgrad) s.max_exp_avg_sq = zeros_like(params_[i]);
    }
    if (device_step && !s.device_step.defined()) {
      s.device_step = full({}, static_cast<double>(s.step), TensorOptions(kFloat64).device(params_[i].device()));
    }
    ++s.step;
    active.push_back(i);
  }
  scratch_.for_each_group(
      [&](std::size_t i) {
        // Parameters whose count lives on the GPU go in one launch whatever their counts.
        const bool on_gpu = state_[i].device_step.defined();
        return detail::GroupKey{params_[i].device(), params_[i].dtype(), on_gpu ? -1 : state_[i].step};
      },
      [&](const detail::GroupKey& key, const std::vector<std::size_t>& members, auto& lists, auto& keep) {
        auto& [p, g, m, v, vmax, steps] = lists;
        for (std::size_t i : members) {
          EMBER_CHECK(params_[i].is_contiguous(), "Adam: parameter ", i, " is not contiguous");
          const Tensor grad = ops::contiguous(params_[i].grad());
          keep.push_back(grad);
          p.push_back(ops::ref(params_[i]));
          g.push_back(ops::ref(grad));
          m.push_back(ops::ref(state_[i].exp_avg));
          v.push_back(ops::ref(state_[i].exp_avg_sq));
          if (options_.amsgrad) vmax.push_back(ops::ref(state_[i].max_exp_avg_sq));
          if (state_[i].device_step.defined()) steps.push_back(ops::ref(state_[i].device_step));
          params_[i].impl().storage->bump_version();
        }
        kernels::AdamArgs args{options_.lr, options_.betas.first, options_.betas.second, options_.eps,
                               options_.weight_decay, options_.amsgrad, decoupled_, options_.maximize,
                               std::max<std::int64_t>(key.key, 1), p, g, m, v, vmax, steps};
        logging::trace("Adam: step {} of {} parameters on {} in one launch", key.key, members.size(),
                   key.device.str());
        kernels::call<kernels::Kernel::adam>(key.device, args);
      });
}

NamedTensors Adam::state_dict() const {
  NamedTensors out;
  for (std::size_t i = 0; i < state_.size(); ++i) {
    const State& s = state_[i];
    if (!s.exp_avg.defined()) continue;
    const std::string prefix = "state." + std::to_string(i) + ".";
    // A count on the GPU is the true one (a replayed graph advances it without the host).
    const double step = s.device_step.defined() ? s.device_step.item<double>() : static_cast<double>(s.step);
    out.emplace_back(prefix + "step", scalar_tensor(step, kFloat64));
    out.emplace_back(prefix + "exp_avg", s.exp_avg);
    out.emplace_back(prefix + "exp_avg_sq", s.exp_avg_sq);
    if (s.max_exp_avg_sq.defined()) out.emplace_back(prefix + "max_exp_avg_sq", s.max_exp_avg_sq);
  }
  return out;
}

void Adam::load_state_dict(const NamedTensors& state) {
  auto find = [&state](const std::string& name) -> const Tensor* {
    for (const auto& [n, t] : state) {
      if (n == name) return &t;
    }
    return nullptr;
  };
  // Build the new state completely before replacing the old one, so a bad state changes nothing.
  std::vector<State> loaded(params_.size());
  std::size_t used = 0;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const std::string prefix = "state." + std::to_string(i) + ".";
    const Tensor* step = find(prefix + "step");
    if (!step) continue;
    const Tensor& p = params_[i];
    auto take = [&](const char* field, bool required) -> Tensor {
      const Tensor* t = find(prefix + field);
      EMBER_CHECK(t || !required, "Adam::load_state_dict: '", prefix, field, "' is missing");
      if (!t) return Tensor();
      EMBER_CHECK(t->shape() == p.shape(), "Adam::load_state_dict: '", prefix, field, "' has shape ",
                  t->shape(), " but parameter ", i, " has shape ", p.shape());
      ++used;
      return ops::to_device(ops::clone(ops::to_dtype(*t, p.dtype())), p.device());
    };
    loaded[i].step = static_cast<std::int64_t>(step->item<double>());
    ++used;
    loaded[i].exp_avg = take("exp_avg", true);
    loaded[i].exp_avg_sq = take("exp_avg_sq", true);
    loaded[i].max_exp_avg_sq = take("max_exp_avg_sq", options_.amsgrad);
  }
  EMBER_CHECK(used == state.size(), "Adam::load_state_dict: the state holds ", state.size(),
              " tensors of which ", used, " match this optimizer's ", params_.size(), " parameters");
  state_ = std::move(loaded);
}

}  // namespace ember::optim
