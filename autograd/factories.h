// Factories: new tensors filled with constants, ranges, given values or random numbers. They make
// the user-facing Tensor; options.requires_grad() makes them leaves that autograd tracks (as
// libtorch's torch:: factories of torch/csrc/autograd/variable_factories.h).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "ember/autograd/tensor.h"
#include "ember/core/generator.h"  // manual_seed and the generator state

namespace ember {

Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, double value, TensorOptions options = {});
// Uninitialised memory, as torch.empty.
Tensor empty(const Shape& shape, TensorOptions options = {});
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

}  // namespace ember
