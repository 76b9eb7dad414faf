// Saving and loading a module's weights (parameters and buffers) in Ember's tensor archive format
// (io/archive.h). Loading checks the whole file against the module before changing anything.
#pragma once

#include <string>

#include "ember/io/archive.h"
#include "ember/nn/module.h"

namespace ember::nn {

// The module's parameters and buffers by dotted name, as PyTorch's state_dict().
NamedTensors state_dict(const Module& module);
// Copies `state` into the module's tensors (converting dtype and device as needed). Every name of
// the module must be present with the same shape, and no other name may be; otherwise throws
// ember::Error naming the problem and leaves the module unchanged.
void load_state_dict(Module& module, const NamedTensors& state);

void save(const Module& module, const std::string& path);
void load(Module& module, const std::string& path);

}  // namespace ember::nn
