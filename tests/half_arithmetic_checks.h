// bfloat16 and float16 arithmetic, the same checks on each device. A 16-bit op computes in float32
// and rounds once (as PyTorch's do), so its result must equal, bit for bit, the float32 op on the
// widened operands rounded to 16 bits on the same device. Included by half_arithmetic_test.cpp
// (CPU) and cuda_half_arithmetic_test.cpp (CUDA).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "catch.h"
#include <ember/ember.h>

namespace half_checks {

using namespace ember;

inline constexpr DType kHalfDTypes[] = {kBFloat16, kFloat16};

// The raw bits of a tensor, read on the host.
inline std::vector<unsigned char> bits_of(const Tensor& t) {
  const Tensor host = t.to(Device::cpu()).contiguous();
  std::vector<unsigned char> out(static_cast<std::size_t>(host.numel()) * element_size(host.dtype()));
  if (!out.empty()) std::memcpy(out.data(), host.raw_data(), out.size());
  return out;
}

// True when a and b hold the same values bit for bit, except that any two NaNs match: the sign of
// a NaN made by arithmetic (inf * 0) differs between a vectorised and a scalar loop, and no op
// promises it. Widening a 16-bit value to float64 is exact, so equal doubles are equal bits.
inline bool same_values(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  const std::vector<double> va = a.to(Device::cpu()).to_vector<double>(), vb = b.to(Device::cpu()).to_vector<double>();
  for (std::size_t i = 0; i < va.size(); ++i) {
    if (std::isnan(va[i]) && std::isnan(vb[i])) continue;
    if (va[i] != vb[i] || std::signbit(va[i]) != std::signbit(vb[i])) {
      UNSCOPED_INFO("element " << i << ": " << va[i] << " against " << vb[i]);
      return false;
    }
  }
  return true;
}

// Values over the whole range, extremes included: tiny, subnormal, large, infinities, NaN.
inline std::vector<double> sweep_values() {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> v = {0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, 3.0, 1e-3, -1e-3, 60000.0, -60000.0,
                           1e-6, 1e-30, 3e38, -3e38, inf, -inf, std::nan("")};
  for (int i = -40; i <= 40; ++i) v.push_back(0.37 * i);
  return v;
}

inline Tensor sweep(Device device, DType dtype, bool reversed = false) {
  std::vector<double> v = sweep_values();
  if (reversed) std::reverse(v.begin(), v.end());
  return from_vector(v, {}, TensorOptions(kFloat64).device(device)).to(dtype);
}

inline void unary_ops_round_once(Device device) {
  for (DType dtype : kHalfDTypes) {
    const Tensor x = sweep(device, dtype);
    const Tensor wide = x.to(kFloat32);
#define EMBER_CHECK_UNARY(Name, function)                                  \
    {                                                                      \
      INFO(dtype_name(dtype) << " " #function " on " << device);           \
      const Tensor y = x.function();                                       \
      CHECK(y.dtype() == dtype);                                           \
      CHECK(same_values(y, wide.function().to(dtype)));             \
    }
    EMBER_UNARY_OPS(EMBER_CHECK_UNARY)
#undef EMBER_CHECK_UNARY
  }
}

inline void binary_ops_round_once(Device device) {
  for (DType dtype : kHalfDTypes) {
    const Tensor a = sweep(device, dtype), b = sweep(device, dtype, true);
    const Tensor wa = a.to(kFloat32), wb = b.to(kFloat32);
#define EMBER_CHECK_BINARY(Name, function)                                                     \
    {                                                                                          \
      INFO(dtype_name(dtype) << " " #function " on " << device);                               \
      const Tensor y = a.function(b), expected = wa.function(wb);                              \
      CHECK(y.dtype() == (expected.dtype() == kBool ? kBool : dtype));                         \
      CHECK(same_values(y, expected.dtype() == kBool ? expected : expected.to(dtype))); \
    }
    EMBER_BINARY_OPS(EMBER_CHECK_BINARY)
#undef EMBER_CHECK_BINARY
    // Broadcasting, and a scalar kept in float32 (0.1 is not rounded to 16 bits first).
    const Tensor row = a.slice(0, 0, 7);
    CHECK(bits_of(a.reshape({-1, 1}) * row) == bits_of((wa.reshape({-1, 1}) * row.to(kFloat32)).to(dtype)));
    CHECK(bits_of(a * 0.1) == bits_of((wa * 0.1).to(dtype)));
    CHECK(bits_of(0.1 - a) == bits_of((0.1 - wa).to(dtype)));
    CHECK(bits_of(a.pow(1.7)) == bits_of(wa.pow(1.7).to(dtype)));
  }
}

inline void reductions_round_once(Device device) {
  for (DType dtype : kHalfDTypes) {
    INFO(dtype_name(dtype) << " on " << device);
    // 3000 values whose sum is far from any 16-bit sum of 16-bit partial sums.
    const Tensor x = (arange(3000.0, TensorOptions(kFloat64).device(device)) * 0.01 + 0.003).to(dtype);
    const Tensor wide = x.to(kFloat64);
    CHECK(bits_of(x.sum()) == bits_of(wide.sum().to(dtype)));
    CHECK(bits_of(x.mean()) == bits_of(x.to(kFloat32).mean().to(dtype)));
    const Tensor m = x.reshape({30, 100});
    CHECK(bits_of(m.sum(1)) == bits_of(m.to(kFloat64).sum(1).to(dtype)));
    CHECK(bits_of(m.sum(0)) == bits_of(m.to(kFloat64).sum(0).to(dtype)));
    CHECK(bits_of(m.max(1)) == bits_of(m.to(kFloat32).max(1).to(dtype)));
    CHECK(bits_of(m.mean(0)) == bits_of(m.to(kFloat32).mean(0).to(dtype)));
  }
}

// Backward runs in the 16-bit dtype too: the gradient of sum(f(x)) is f'(x), each rounded once.
inline void backward_rounds_once(Device device) {
  for (DType dtype : kHalfDTypes) {
    INFO(dtype_name(dtype) << " on " << device);
    const Tensor x = (arange(-2.0, 2.0, 0.25, TensorOptions(kFloat32).device(device))).to(dtype).detach().requires_grad_();
    (x.tanh() * x).sum().backward();
    REQUIRE(x.grad().defined());
    CHECK(x.grad().dtype() == dtype);
    // d/dx (x tanh x) = tanh x + x (1 - tanh^2 x): each op of the backward in 16-bit storage,
    // so compare with float32 within the 16-bit rounding of a few ops.
    const Tensor w = x.detach().to(kFloat32), t = w.tanh();
    const Tensor expected = t + w * (1.0 - t * t);
    CHECK(allclose(x.grad().to(kFloat32), expected, 2e-2, 2e-2));
  }
}

inline void matmul_in_float32(Device device, double rtol) {
  for (DType dtype : kHalfDTypes) {
    INFO(dtype_name(dtype) << " on " << device);
    manual_seed(7);
    const auto opts = TensorOptions(kFloat32).device(device);
    const Tensor a = randn({33, 65}, opts).to(dtype), b = randn({65, 17}, opts).to(dtype);
    const Tensor bias = randn({17}, opts).to(dtype);
    const Tensor y = matmul(a, b);
    CHECK(y.dtype() == dtype);
    // The float32 product of the same 16-bit values, rounded once. (The CPU computes exactly this;
    // cuBLAS accumulates in float32 in its own order, hence rtol.)
    const Tensor expected = matmul(a.to(kFloat32), b.to(kFloat32)).to(dtype);
    CHECK(allclose(y.to(kFloat32), expected.to(kFloat32), rtol, 1e-2));
    const Tensor lin = linear(a, b.t(), bias, Activation::Relu);
    const Tensor lin_expected = linear(a.to(kFloat32), b.t().to(kFloat32), bias.to(kFloat32), Activation::Relu).to(dtype);
    CHECK(allclose(lin.to(kFloat32), lin_expected.to(kFloat32), rtol, 1e-2));
  }
}

inline void random_and_loss(Device device) {
  for (DType dtype : kHalfDTypes) {
    INFO(dtype_name(dtype) << " on " << device);
    const auto opts = TensorOptions(kFloat32).device(device);
    manual_seed(3);
    const Tensor n16 = randn({1000}, opts.dtype(dtype));
    manual_seed(3);
    const Tensor n32 = randn({1000}, opts);
    CHECK(bits_of(n16) == bits_of(n32.to(dtype)));  // the same draws, rounded
    const Tensor u = rand({4000}, opts.dtype(dtype)).to(kFloat32);
    CHECK(u.max().item<float>() < 1.0f);
    CHECK(-u.max().item<float>() <= 0.0f);
    const Tensor in = n16, target = n16 * 0.5;
    const Tensor loss = mse_loss(in, target);
    CHECK(loss.dtype() == dtype);
    CHECK_THAT(loss.to(kFloat64).item<double>(),
               Catch::Matchers::WithinRel(mse_loss(in.to(kFloat64), target.to(kFloat64)).item<double>(), 1e-2));
  }
}

}  // namespace half_checks
