#include "ember/nn/serialize.h"

#include <unordered_map>

#include "ember/core/grad_mode.h"

namespace ember::nn {

NamedTensors state_dict(const Module& module) {
  NamedTensors out = module.named_parameters();
  for (auto& entry : module.named_buffers()) out.push_back(entry);
  return out;
}

void load_state_dict(Module& module, const NamedTensors& state) {
  std::unordered_map<std::string, const Tensor*> given;
  for (const auto& [name, t] : state) {
    EMBER_CHECK(given.emplace(name, &t).second, "load_state_dict: the saved state holds '", name, "' twice");
  }
  const NamedTensors own = state_dict(module);
  // Validate everything first, so a bad file changes nothing.
  for (const auto& [name, t] : own) {
    const auto it = given.find(name);
    EMBER_CHECK(it != given.end(), "load_state_dict: '", name, "' of ", module.name(),
                " is missing from the saved state");
    EMBER_CHECK(it->second->shape() == t.shape(), "load_state_dict: '", name, "' has shape ",
                it->second->shape(), " in the saved state but ", t.shape(), " in ", module.name());
  }
  EMBER_CHECK(given.size() == own.size(), "load_state_dict: the saved state has ", given.size(),
              " tensors but ", module.name(), " has ", own.size(),
              " (unexpected names in the saved state)");
  NoGradGuard no_grad;
  for (auto& [name, t] : own) {
    Tensor target = t;
    target.copy_(given.at(name)->to(t.dtype()));
  }
}

void save(const Module& module, const std::string& path) { save_tensors(state_dict(module), path); }

void load(Module& module, const std::string& path) {
  const NamedTensors state = load_tensors(path);
  try {
    load_state_dict(module, state);
  } catch (const Error& e) {
    throw Error(std::string(e.what()) + " (file '" + path + "')");
  }
}

}  // namespace ember::nn
