#include "ember/nn/module.h"

#include "ember/core/grad_mode.h"
#include "ember/autograd/public_ops.h"
#include "ember/core/log.h"

namespace ember::nn {

namespace {
using Named = std::vector<std::pair<std::string, Tensor>>;

void collect(const Module& m, const std::string& prefix, bool recurse, bool buffers, Named& out,
             const Named& own) {
  for (const auto& [name, t] : own) out.emplace_back(prefix + name, t);
  if (!recurse) return;
  for (const auto& [name, child] : m.named_children()) {
    const Named child_own = buffers ? child->named_buffers(false) : child->named_parameters(false);
    collect(*child, prefix + name + ".", true, buffers, out, child_own);
  }
}
}  // namespace

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters(recurse)) out.push_back(t);
  return out;
}

Named Module::named_parameters(bool recurse) const {
  Named out;
  collect(*this, "", recurse, false, out, parameters_);
  return out;
}

Named Module::named_buffers(bool recurse) const {
  Named out;
  collect(*this, "", recurse, true, out, buffers_);
  return out;
}

void Module::apply_to_tensors(const std::function<Tensor(const Tensor&)>& fn) {
  NoGradGuard no_grad;
  for (auto& [name, t] : named_parameters()) {
    Tensor grad = t.grad();
    t.set_data(fn(t));
    if (grad.defined()) {
      grad.set_data(fn(grad));
      t.set_grad(grad);
    }
  }
  for (auto& [name, t] : named_buffers()) t.set_data(fn(t));
}

void Module::to(Device device) {
  logging::debug("{}: moving {} parameters and {} buffers to {}", name_, named_parameters().size(),
             named_buffers().size(), device.str());
  apply_to_tensors([device](const Tensor& t) { return t.to(device); });
}

void Module::to(DType dtype) {
  // As torch.nn.Module.to(dtype): floating tensors only, so that integer buffers (BatchNorm's
  // num_batches_tracked) keep their dtype.
  EMBER_CHECK(is_floating(dtype), name_, ".to(", dtype, "): modules convert to floating dtypes only");
  apply_to_tensors([dtype](const Tensor& t) { return is_floating(t.dtype()) ? t.to(dtype) : t; });
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (Tensor& t : parameters()) t.set_grad(Tensor());
}

void Module::check_new_name(const std::string& name) const {
  EMBER_CHECK(!name.empty() && name.find('.') == std::string::npos, name_,
              ": invalid name '", name, "' (must be non-empty and contain no '.')");
  auto taken = [&name](const auto& list) {
    for (const auto& entry : list) {
      if (entry.first == name) return true;
    }
    return false;
  };
  EMBER_CHECK(!taken(parameters_) && !taken(buffers_) && !taken(children_), name_,
              ": the name '", name, "' is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor tensor, bool requires_grad) {
  check_new_name(name);
  EMBER_CHECK(tensor.defined(), name_, ": parameter '", name, "' is an undefined tensor");
  tensor = tensor.detach();  // parameters are leaves
  tensor.requires_grad_(requires_grad);
  parameters_.emplace_back(name, tensor);
  return tensor;
}

Tensor Module::register_buffer(const std::string& name, Tensor tensor) {
  check_new_name(name);
  buffers_.emplace_back(name, tensor);
  return tensor;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> child) {
  check_new_name(name);
  EMBER_CHECK(child != nullptr, name_, ": submodule '", name, "' is null");
  children_.emplace_back(name, std::move(child));
}

}  // namespace ember::nn
