// Optimizer: the base of Adam, AdamW and SGD. It holds handles to the parameters (so it sees
// moves made by Module::to) and per-parameter state that can be saved and restored.
#pragma once

#include <string>
#include <vector>

#include "ember/io/archive.h"
#include "ember/autograd/tensor.h"

namespace ember::optim {

class Optimizer {
 public:
  explicit Optimizer(std::vector<Tensor> params);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient.
  virtual void step() = 0;
  // Clears gradients: set to undefined (the default, as PyTorch), or filled with zeros.
  void zero_grad(bool set_to_none = true);

  const std::vector<Tensor>& parameters() const { return params_; }

  // The optimizer's state (moments, momentum buffers, step counts) by name, e.g.
  // "state.0.exp_avg"; load_state_dict checks names and shapes before changing anything.
  virtual NamedTensors state_dict() const = 0;
  virtual void load_state_dict(const NamedTensors& state) = 0;
  void save(const std::string& path) const { save_tensors(state_dict(), path); }
  void load(const std::string& path) { load_state_dict(load_tensors(path)); }

 protected:
  std::vector<Tensor> params_;
};

}  // namespace ember::optim
