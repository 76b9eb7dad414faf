// CUDA-graph capture of a whole training step: record the kernels of one step once, then replay
// them with a single launch, so that a step of many small kernels costs one launch on the host.
//
//   optim::Adam opt(model.parameters(), {.lr = 0.01, .capturable = true});
//   Tensor x = zeros({100, 10}, dev), y = zeros({100, 2}, dev);   // static inputs
//   Tensor loss;
//   auto body = [&] { opt.zero_grad(); loss = mse(model.forward(x), y); loss.backward(); opt.step(); };
//   body();                                          // warm up: optimizer state and gradients exist
//   auto step = ember::cuda::capture(body, {x, y});  // records, does not run
//   for (...) { step.replay({batch_x, batch_y}); }   // copies the batch into x, y, then runs
//   loss.item();                                     // the last replay's loss
//
// Rules, as with torch.cuda.CUDAGraph: run the step once before capturing; keep the inputs' shapes
// (replay(inputs) checks them); the captured step may not read tensors on the host, copy host data
// to the GPU, draw random numbers or synchronize: each throws ember::Error during capture, naming
// what it was, and the capture is abandoned. Tensors made inside the step (the loss, gradients)
// live in memory of the graph's own, rewritten by every replay. Adam needs capturable = true (its
// step count then lives on the GPU).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::cuda {

class Graph {
 public:
  Graph(Graph&&) noexcept;
  Graph& operator=(Graph&&) noexcept;
  ~Graph();  // waits for its replays, then returns its memory to the cache

  // Runs the captured work again, on the device's stream (the host does not wait).
  void replay();
  // Copies inputs[i] into static_inputs()[i] (same shape and dtype; any device), then replays.
  void replay(const std::vector<TensorBase>& inputs);
  const std::vector<TensorBase>& static_inputs() const;
  Device device() const;
  std::size_t node_count() const;  // kernels, copies and memsets in the graph

  struct State;
  explicit Graph(std::unique_ptr<State> state);

 private:
  std::unique_ptr<State> state_;
};

// Records the GPU work `step` queues on `device` into a CUDA graph, without running it.
Graph capture(const std::function<void()>& step, std::vector<TensorBase> static_inputs = {},
              Device device = Device::cuda());

}  // namespace ember::cuda
