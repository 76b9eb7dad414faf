#include "ember/optim/sgd.h"

#include <string>

#include "ember/core/grad_mode.h"
#include "ember/core/cuda.h"
#include "ember/autograd/factories.h"
#include "ember/core/ops.h"
#include "ember/optim/fused_update.h"

namespace ember::optim {

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : Optimizer(std::move(params)), options_(options), momentum_buffers_(params_.size()) {
  EMBER_CHECK(options.lr >= 0 && options.momentum >= 0 && options.weight_decay >= 0,
              "SGD: invalid options (lr=", options.lr, ", momentum=", options.momentum,
              ", weight_decay=", options.weight_decay, ")");
  EMBER_CHECK(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
              "SGD: Nesterov momentum requires a momentum and zero dampening");
}

void SGD::step() {
  NoGradGuard no_grad;
  const bool use_momentum = options_.momentum != 0.0;
  std::vector<std::size_t>& active = scratch_.active();
  const bool capturing = cuda::is_capturing();
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (!params_[i].grad().defined()) continue;
    active.push_back(i);
    // The first momentum step differs from the others: a graph must capture a later one.
    EMBER_CHECK(!capturing || !use_momentum || momentum_buffers_[i].defined(), "SGD: parameter ", i,
                " has no momentum buffer yet; run the step once before ember::cuda::capture");
  }
  // A parameter's first momentum step sets its buffer to the gradient: group those apart.
  scratch_.for_each_group(
      [&](std::size_t i) {
        const bool first = use_momentum && !momentum_buffers_[i].defined();
        return detail::GroupKey{params_[i].device(), params_[i].dtype(), first ? 1 : 0};
      },
      [&](const detail::GroupKey& key, const std::vector<std::size_t>& members, auto& lists, auto& keep) {
        auto& [p, g, buf] = lists;
        for (std::size_t i : members) {
          EMBER_CHECK(params_[i].is_contiguous(), "SGD: parameter ", i, " is not contiguous");
          const Tensor grad = ops::contiguous(params_[i].grad());
          keep.push_back(grad);
          p.push_back(ops::ref(params_[i]));
          g.push_back(ops::ref(grad));
          if (use_momentum) {
            if (!momentum_buffers_[i].defined()) momentum_buffers_[i] = empty_like(params_[i]);
            buf.push_back(ops::ref(momentum_buffers_[i]));
          }
          params_[i].impl().storage->bump_version();
        }
        kernels::SgdArgs args{options_.lr, options_.momentum, options_.dampening, options_.weight_decay,
                              options_.nesterov, options_.maximize, key.key == 1, p, g, buf};
        kernels::call<kernels::Kernel::sgd>(key.device, args);
      });
}

NamedTensors SGD::state_dict() const {
  NamedTensors out;
  for (std::size_t i = 0; i < momentum_buffers_.size(); ++i) {
    if (momentum_buffers_[i].defined()) {
      out.emplace_back("state." + std::to_string(i) + ".momentum_buffer", momentum_buffers_[i]);
    }
  }
  return out;
}

void SGD::load_state_dict(const NamedTensors& state) {
  std::vector<Tensor> loaded(params_.size());
  for (const auto& [name, t] : state) {
    std::size_t i = 0;
    const std::string suffix = ".momentum_buffer";
    const bool well_formed = name.rfind("state.", 0) == 0 && name.size() > 6 + suffix.size() &&
                             name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    EMBER_CHECK(well_formed, "SGD::load_state_dict: unexpected entry '", name, "'");
    i = std::stoul(name.substr(6, name.size() - 6 - suffix.size()));
    EMBER_CHECK(i < params_.size() && t.shape() == params_[i].shape(), "SGD::load_state_dict: '",
                name, "' (shape ", t.shape(), ") does not match a parameter of this optimizer");
    loaded[i] = ops::to_device(ops::clone(ops::to_dtype(t, params_[i].dtype())), params_[i].device());
  }
  momentum_buffers_ = std::move(loaded);
}

}  // namespace ember::optim
