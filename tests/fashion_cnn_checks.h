// examples/fashion_mnist's CNN against PyTorch: 20 Adam steps from the same init on the same data
// (tests/data/fashion_cnn.txt, made by tests/reference/make_reference.py's fashion_cnn(), which
// computes the init and the data with the formulas below). Included by fashion_cnn_test.cpp (CPU)
// and cuda_fashion_cnn_test.cpp (CUDA).
#pragma once

#include <cmath>
#include <vector>

#include "catch.h"
#include "fashion_mnist/model.h"
#include "reference_data.h"

namespace fashion_cnn_checks {

using namespace ember;

// Parameter k (in registration order), element i: sin(0.7 i + 1.3 k) / sqrt(fan_in), computed in
// double and rounded to float, as the reference does.
inline void formula_init(nn::Module& model) {
  int k = 0;
  for (auto& [name, p] : model.named_parameters()) {
    const std::int64_t fan_in = p.dim() > 1 ? p.numel() / p.shape()[0] : p.numel();
    std::vector<double> values(static_cast<std::size_t>(p.numel()));
    for (std::size_t i = 0; i < values.size(); ++i) {
      values[i] = std::sin(0.7 * static_cast<double>(i) + 1.3 * k) / std::sqrt(static_cast<double>(fan_in));
    }
    NoGradGuard no_grad;
    p.copy_(from_vector(values, p.shape()).to(kFloat32));
    ++k;
  }
}

// Step s's batch: image n, pixel p = sin(0.01 (p + 1)(n + 1) + 0.1 s); label 7 n mod 10.
inline std::pair<Tensor, Tensor> batch(int step, std::int64_t size) {
  std::vector<double> pixels(static_cast<std::size_t>(size * 28 * 28));
  std::vector<double> labels(static_cast<std::size_t>(size));
  for (std::int64_t n = 0; n < size; ++n) {
    for (std::int64_t p = 0; p < 28 * 28; ++p) {
      pixels[static_cast<std::size_t>(n * 28 * 28 + p)] =
          std::sin(0.01 * static_cast<double>(p + 1) * static_cast<double>(n + 1) + 0.1 * step);
    }
    labels[static_cast<std::size_t>(n)] = static_cast<double>((7 * n) % 10);
  }
  return {from_vector(pixels, {size, 1, 28, 28}).to(kFloat32), from_vector(labels, {size}).to(kInt64)};
}

// Relative difference, for a loss or a statistic of size about 1.
inline double relative(double a, double b) { return std::abs(a - b) / std::max(1.0, std::abs(b)); }

inline void twenty_steps_match_pytorch(Device device) {
  const auto ref = test::load_reference("fashion_cnn.txt", kFloat64);
  fashion::FashionCnn model({.dropout = 0.0});
  formula_init(model);
  model.to(device);
  optim::Adam opt(model.parameters(), {.lr = 1e-3});
  const std::vector<double> expected = ref.at("losses").to_vector<double>();
  REQUIRE(expected.size() == 20);
  for (int step = 0; step < 20; ++step) {
    auto [x, y] = batch(step, 32);
    opt.zero_grad();
    Tensor loss = cross_entropy(model.forward(x.to(device)), y.to(device));
    loss.backward();
    opt.step();
    INFO("step " << step << ": ember " << loss.item<float>() << ", torch " << expected[static_cast<std::size_t>(step)]);
    CHECK(relative(loss.item<float>(), expected[static_cast<std::size_t>(step)]) < 1e-4);
  }
  // Statistics and parameters after the 20 steps.
  auto close = [](const Tensor& got, const Tensor& want) {
    const std::vector<double> g = got.to(Device::cpu()).to(kFloat64).to_vector<double>();
    const std::vector<double> w = want.to_vector<double>();
    REQUIRE(g.size() == w.size());
    double worst = 0.0;
    for (std::size_t i = 0; i < g.size(); ++i) worst = std::max(worst, relative(g[i], w[i]));
    return worst;
  };
  // Not the running means: the conv biases before batch norm get gradients of rounding noise only,
  // which Adam's normalisation turns into +-lr steps that differ between any two implementations.
  CHECK(close(model.bn1->running_var, ref.at("bn1.running_var")) < 1e-4);
  CHECK(close(model.bn2->running_var, ref.at("bn2.running_var")) < 1e-4);
  CHECK(close(model.fc2->bias, ref.at("fc2.bias")) < 1e-4);
}

}  // namespace fashion_cnn_checks
