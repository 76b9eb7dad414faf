#include "ember/nn/checkpoint.h"

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

#include "ember/autograd/factories.h"
#include "ember/nn/serialize.h"

namespace ember::nn {

namespace {

constexpr std::string_view kModel = "model.", kOptim = "optim.";
constexpr const char* kRngSeed = "rng.seed";
constexpr const char* kRngOffset = "rng.offset";

// A 64-bit value as float64 {high 32 bits, low 32 bits}: both halves are exact in a double.
Tensor encode_u64(std::uint64_t value) {
  return from_vector(std::vector<double>{static_cast<double>(value >> 32),
                                         static_cast<double>(value & 0xffffffffu)},
                     {2}, kFloat64);
}

std::uint64_t decode_u64(const Tensor& t, const char* name) {
  EMBER_CHECK(t.dtype() == kFloat64 && t.shape() == Shape{2}, "load_checkpoint: '", name,
              "' must be a float64 tensor of shape [2] (high and low 32 bits), it is ", t.dtype(),
              " of shape ", t.shape());
  const std::vector<double> halves = t.to_vector<double>();
  for (double h : halves) {
    EMBER_CHECK(h >= 0 && h < 4294967296.0 && std::floor(h) == h, "load_checkpoint: '", name,
                "' holds ", h, ", not a 32-bit unsigned integer");
  }
  return (static_cast<std::uint64_t>(halves[0]) << 32) | static_cast<std::uint64_t>(halves[1]);
}

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

// The model's entries converted to the dtype and device of the module's tensors, after checking
// names and shapes as nn::load_state_dict does: copying them in can then no longer fail.
NamedTensors prepare_model_state(const Module& model, const NamedTensors& state) {
  std::unordered_map<std::string, const Tensor*> given;
  for (const auto& [name, t] : state) {
    EMBER_CHECK(given.emplace(name, &t).second, "load_checkpoint: the checkpoint holds 'model.",
                name, "' twice");
  }
  const NamedTensors own = state_dict(model);
  NamedTensors prepared;
  for (const auto& [name, t] : own) {
    const auto it = given.find(name);
    EMBER_CHECK(it != given.end(), "load_checkpoint: '", name, "' of ", model.name(),
                " is missing from the checkpoint (no 'model.", name,
                "'); is it from another model?");
    EMBER_CHECK(it->second->shape() == t.shape(), "load_checkpoint: 'model.", name, "' has shape ",
                it->second->shape(), " in the checkpoint but ", t.shape(), " in ", model.name());
    prepared.emplace_back(name, it->second->to(t.dtype()).to(t.device()));
  }
  if (given.size() != own.size()) {
    for (const auto& [name, t] : state) {
      bool known = false;
      for (const auto& entry : own) known = known || entry.first == name;
      EMBER_CHECK(known, "load_checkpoint: the checkpoint holds 'model.", name, "', which ",
                  model.name(), " does not have; is it from another model?");
    }
  }
  return prepared;
}

}  // namespace

NamedTensors checkpoint_state(const Module& model, const optim::Optimizer& optimizer) {
  NamedTensors out;
  for (auto& [name, t] : state_dict(model)) out.emplace_back(std::string(kModel) + name, t);
  for (auto& [name, t] : optimizer.state_dict()) out.emplace_back(std::string(kOptim) + name, t);
  const GeneratorState rng = get_rng_state();
  out.emplace_back(kRngSeed, encode_u64(rng.seed));
  out.emplace_back(kRngOffset, encode_u64(rng.offset));
  return out;
}

void load_checkpoint_state(const NamedTensors& state, Module& model, optim::Optimizer& optimizer) {
  // 1. Sort the entries by section, refusing anything else.
  NamedTensors model_state, optim_state;
  const Tensor* seed = nullptr;
  const Tensor* offset = nullptr;
  for (const auto& [name, t] : state) {
    if (name == kRngSeed) seed = &t;
    if (name == kRngOffset) offset = &t;
  }
  EMBER_CHECK(seed && offset, "load_checkpoint: no '", kRngSeed, "'/'", kRngOffset,
              "' entries: this is not a training checkpoint (a file written by nn::save loads with "
              "nn::load)");
  for (const auto& [name, t] : state) {
    if (starts_with(name, kModel)) {
      model_state.emplace_back(name.substr(kModel.size()), t);
    } else if (starts_with(name, kOptim)) {
      optim_state.emplace_back(name.substr(kOptim.size()), t);
    } else {
      EMBER_CHECK((name == kRngSeed && seed == &t) || (name == kRngOffset && offset == &t),
                  "load_checkpoint: unexpected entry '", name,
                  "' (a checkpoint holds model.*, optim.*, ", kRngSeed, " and ", kRngOffset,
                  " once each)");
    }
  }

  // 2. Check everything that can be checked without changing anything.
  const GeneratorState rng{decode_u64(*seed, kRngSeed), decode_u64(*offset, kRngOffset)};
  const NamedTensors prepared = prepare_model_state(model, model_state);

  // 3. The optimizer checks its state and swaps it in whole, or throws having changed nothing.
  try {
    optimizer.load_state_dict(optim_state);
  } catch (const Error& e) {
    throw Error(
        std::string("load_checkpoint: the optimizer section does not fit this optimizer: ") +
        e.what());
  } catch (const std::logic_error& e) {  // e.g. std::stoul on a malformed entry name
    throw Error(std::string("load_checkpoint: the optimizer section is malformed (") + e.what() +
                ")");
  }

  // 4. Nothing left can fail on the file's content: the model's entries are checked and already
  //    on the right device and dtype.
  load_state_dict(model, prepared);
  set_rng_state(rng);
}

void save_checkpoint(const std::string& path, const Module& model,
                     const optim::Optimizer& optimizer) {
  save_tensors(checkpoint_state(model, optimizer), path);
}

void load_checkpoint(const std::string& path, Module& model, optim::Optimizer& optimizer) {
  const NamedTensors state = load_tensors(path);  // its errors name the file
  try {
    load_checkpoint_state(state, model, optimizer);
  } catch (const Error& e) {
    throw Error(std::string(e.what()) + " (file '" + path + "')");
  }
}

}  // namespace ember::nn
