// What the training-step benchmarks of classifiers (fashion_cnn_bench, resnet_bench) share: the
// fixed labels of their random batch, and the median time of a step.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include <ember/ember.h>

namespace bench {

// Labels (7 i) mod 10 for a batch of `batch` examples: every class, the same on every run and in
// the PyTorch twins (bench/torch_fashion_cnn.py, bench/torch_resnet.py).
inline ember::Tensor class_labels(std::int64_t batch, ember::Device device) {
  std::vector<double> labels(static_cast<std::size_t>(batch));
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<double>((i * 7) % 10);
  return ember::from_vector(labels, {batch}).to(ember::kInt64).to(device);
}

// Runs `warmup` steps, then `after_warmup` (if any), then `runs` runs of `steps` steps, each timed
// up to the device's last queued work; returns the median milliseconds per step.
inline double median_step_ms(const std::function<void()>& step, ember::Device device, int warmup, int steps, int runs,
                             const std::function<void()>& after_warmup = {}) {
  auto sync = [&] {
    if (device.is_cuda()) ember::cuda::synchronize();
  };
  for (int i = 0; i < warmup; ++i) step();
  sync();
  if (after_warmup) after_warmup();
  std::vector<double> ms;
  for (int r = 0; r < runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < steps; ++i) step();
    sync();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / steps);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace bench
