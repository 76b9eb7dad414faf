#include "ember/autograd/factories.h"

#include <cmath>

#include "ember/core/ops.h"

namespace ember {

using kernels::RandomKind;

namespace {
Tensor random(const Shape& shape, RandomKind kind, double a, double b, TensorOptions options) {
  Tensor out = ops::empty(shape, options);
  ops::fill_random(out, kind, a, b, kind == RandomKind::Normal ? "randn" : "rand/uniform");
  return out;
}

template <typename T>
Tensor from_values(const std::vector<T>& values, const Shape& shape, TensorOptions options) {
  const Shape target = shape.empty() && values.size() != 1
                           ? Shape{static_cast<std::int64_t>(values.size())}
                           : shape;
  EMBER_CHECK(target.numel() == static_cast<std::int64_t>(values.size()), "from_vector: ",
              values.size(), " values do not fill shape ", target, " (", target.numel(),
              " elements)");
  // Build on the host in the given element type, then convert and move as asked.
  Tensor host = ops::empty(target, TensorOptions(dtype_of_v<T>));
  std::copy(values.begin(), values.end(), host.data_ptr<T>());
  Tensor out = ops::to_device(ops::to_dtype(host, options.dtype()), options.device());
  out.impl().requires_grad = options.requires_grad();
  return out;
}
}  // namespace

Tensor full(const Shape& shape, double value, TensorOptions options) {
  Tensor out = ops::empty(shape, options);
  ops::fill(out, value);
  return out;
}
Tensor zeros(const Shape& shape, TensorOptions options) { return full(shape, 0.0, options); }
Tensor ones(const Shape& shape, TensorOptions options) { return full(shape, 1.0, options); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.options()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.options()); }
Tensor empty(const Shape& shape, TensorOptions options) { return ops::empty(shape, options); }
Tensor empty_like(const Tensor& t) { return ops::empty(t.shape(), t.options()); }

Tensor rand(const Shape& shape, TensorOptions options) {
  return random(shape, RandomKind::Uniform, 0.0, 1.0, options);
}
Tensor randn(const Shape& shape, TensorOptions options) {
  return random(shape, RandomKind::Normal, 0.0, 1.0, options);
}
Tensor uniform(const Shape& shape, double low, double high, TensorOptions options) {
  EMBER_CHECK(low <= high, "uniform: low (", low, ") must not exceed high (", high, ")");
  return random(shape, RandomKind::Uniform, low, high, options);
}

Tensor arange(double end, TensorOptions options) { return arange(0.0, end, 1.0, options); }

Tensor arange(double start, double end, double step, TensorOptions options) {
  EMBER_CHECK(step != 0.0 && std::isfinite(start) && std::isfinite(end) && std::isfinite(step),
              "arange: invalid range start=", start, " end=", end, " step=", step);
  EMBER_CHECK((end - start) / step >= 0, "arange: step ", step, " goes away from end (start=",
              start, ", end=", end, ")");
  const auto n = static_cast<std::int64_t>(std::ceil((end - start) / step));
  std::vector<double> values(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) values[static_cast<std::size_t>(i)] = start + static_cast<double>(i) * step;
  return from_values(values, Shape{n}, options);
}

Tensor from_vector(const std::vector<double>& values, const Shape& shape, TensorOptions options) {
  return from_values(values, shape, options);
}
Tensor from_vector(const std::vector<float>& values, const Shape& shape, TensorOptions options) {
  return from_values(values, shape, options);
}
Tensor tensor(std::initializer_list<double> values, const Shape& shape, TensorOptions options) {
  return from_values(std::vector<double>(values), shape, options);
}
Tensor scalar_tensor(double value, TensorOptions options) {
  return from_values(std::vector<double>{value}, Shape{}, options);
}

}  // namespace ember
