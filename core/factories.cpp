#include "ember/core/factories.h"

#include <cmath>
#include <mutex>

#include "ember/core/ops.h"

namespace ember {

namespace {
// The default seed matches PyTorch's default_generator seed value's role: fixed, so programs that
// never seed are still reproducible run to run.
constexpr std::uint64_t kDefaultSeed = 67280421310721ull;

struct GlobalGenerator {
  std::mutex mutex;
  GeneratorState state{kDefaultSeed, 0};
};
GlobalGenerator& generator() {
  static GlobalGenerator g;
  return g;
}
// Reserves n counters and returns (seed, first counter).
GeneratorState reserve(std::uint64_t n) {
  GlobalGenerator& g = generator();
  std::lock_guard lock(g.mutex);
  GeneratorState taken = g.state;
  g.state.offset += n;
  return taken;
}

Tensor random(const Shape& shape, kernels::RandomKind kind, double a, double b, TensorOptions options) {
  Tensor out = empty(shape, options);
  ops::check_arithmetic_dtype(kind == kernels::RandomKind::Normal ? "randn" : "rand/uniform", out);
  const std::int64_t n = out.numel();
  if (n == 0) return out;
  const GeneratorState at = reserve(static_cast<std::uint64_t>(n));
  kernels::call<kernels::Kernel::random>(out.device(), ops::ref(out), kind, at.seed, at.offset, a, b);
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
  Tensor host = empty(target, TensorOptions(dtype_of_v<T>));
  std::copy(values.begin(), values.end(), host.data_ptr<T>());
  Tensor out = ops::to_device(ops::to_dtype(host, options.dtype()), options.device());
  out.impl().requires_grad = options.requires_grad();
  return out;
}
}  // namespace

Tensor full(const Shape& shape, double value, TensorOptions options) {
  Tensor out = empty(shape, options);
  ops::fill(out, value);
  return out;
}
Tensor zeros(const Shape& shape, TensorOptions options) { return full(shape, 0.0, options); }
Tensor ones(const Shape& shape, TensorOptions options) { return full(shape, 1.0, options); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.options()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.options()); }
Tensor empty_like(const Tensor& t) { return empty(t.shape(), t.options()); }

Tensor rand(const Shape& shape, TensorOptions options) {
  return random(shape, kernels::RandomKind::Uniform, 0.0, 1.0, options);
}
Tensor randn(const Shape& shape, TensorOptions options) {
  return random(shape, kernels::RandomKind::Normal, 0.0, 1.0, options);
}
Tensor uniform(const Shape& shape, double low, double high, TensorOptions options) {
  EMBER_CHECK(low <= high, "uniform: low (", low, ") must not exceed high (", high, ")");
  return random(shape, kernels::RandomKind::Uniform, low, high, options);
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

void manual_seed(std::uint64_t seed) { set_rng_state({seed, 0}); }

GeneratorState get_rng_state() {
  std::lock_guard lock(generator().mutex);
  return generator().state;
}

void set_rng_state(const GeneratorState& state) {
  std::lock_guard lock(generator().mutex);
  generator().state = state;
}

}  // namespace ember
