// The MLP of the performance issue, shared by bench/mlp_bench and bench/ddp_mlp_bench so that the
// scaling table measures the same model as the single-GPU one: Linear(1024, 4096)-ReLU-
// Linear(4096, 4096)-ReLU-Linear(4096, 1024). bench/torch_reference.py and
// bench/torch_ddp_reference.py build the same layers.
#pragma once

#include <array>
#include <cstdint>

#include <ember/ember.h>

namespace ember::bench {

inline constexpr std::array<std::array<std::int64_t, 2>, 3> kMlpLayers{{{1024, 4096}, {4096, 4096}, {4096, 1024}}};
inline constexpr std::int64_t kMlpIn = kMlpLayers.front()[0];
inline constexpr std::int64_t kMlpOut = kMlpLayers.back()[1];

// The layers, drawn from the global generator (seed it first), on the CPU. Each ReLU is fused into
// the Linear before it (the relu in the GEMM's epilogue), as the benchmark has always measured it.
inline nn::Sequential make_mlp() {
  nn::Sequential model;
  for (std::size_t i = 0; i < kMlpLayers.size(); ++i) {
    const bool last = i + 1 == kMlpLayers.size();
    const Activation activation = last ? Activation::None : Activation::Relu;
    model->push_back(nn::Linear(kMlpLayers[i][0], kMlpLayers[i][1], {.activation = activation}).ptr());
  }
  return model;
}

}  // namespace ember::bench
