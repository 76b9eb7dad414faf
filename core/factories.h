// Factories: new tensors filled with constants, ranges, given values or random numbers.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "ember/core/tensor.h"

namespace ember {

Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, double value, TensorOptions options = {});
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor empty_like(const Tensor& t);

// Uniform in [0, 1) and standard normal, from the global generator (see manual_seed).
Tensor rand(const Shape& shape, TensorOptions options = {});
Tensor randn(const Shape& shape, TensorOptions options = {});
// Uniform in [low, high).
Tensor uniform(const Shape& shape, double low, double high, TensorOptions options = {});

// [start, end) in steps of `step`, as torch.arange.
Tensor arange(double end, TensorOptions options = {});
Tensor arange(double start, double end, double step = 1.0, TensorOptions options = {});

// A tensor holding `values` (row-major) with `shape` (1-D of values.size() when shape is empty).
Tensor from_vector(const std::vector<double>& values, const Shape& shape = {}, TensorOptions options = {});
Tensor from_vector(const std::vector<float>& values, const Shape& shape = {}, TensorOptions options = {});
// tensor({1, 2, 3, 4}, {2, 2}): the short form of from_vector.
Tensor tensor(std::initializer_list<double> values, const Shape& shape = {}, TensorOptions options = {});
// A 0-d tensor.
Tensor scalar_tensor(double value, TensorOptions options = {});

// The global random generator: a Philox key and a counter. Every draw of n numbers takes the
// counter range [offset, offset + n), so results depend only on the seed and the order of draws,
// and are the same on CPU and CUDA.
void manual_seed(std::uint64_t seed);
struct GeneratorState {
  std::uint64_t seed = 0;
  std::uint64_t offset = 0;
};
GeneratorState get_rng_state();
void set_rng_state(const GeneratorState& state);

}  // namespace ember
