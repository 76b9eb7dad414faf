// Every op on CUDA against the CPU, forward and backward, on fresh random inputs: float64 to 1e-10,
// float32 to 1e-5 relative, TF32 matrix products to 1e-3. Plus gradcheck on CUDA in float64.
#include <exception>
#include <functional>
#include <thread>

#include "catch.h"
#include <ember/ember.h>

using namespace ember;
using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

namespace {

struct Case {
  const char* name;
  std::vector<Shape> shapes;
  Fn fn;
  double low = -1.0, high = 1.0;
};

// Relative error max|a - b| / max(max|b|, 1e-30) over all elements.
double rel_error(const Tensor& a, const Tensor& b) {
  const auto va = a.to_vector<double>(), vb = b.to_vector<double>();
  REQUIRE(va.size() == vb.size());
  double diff = 0, scale = 1e-30;
  for (std::size_t i = 0; i < va.size(); ++i) {
    diff = std::max(diff, std::abs(va[i] - vb[i]));
    scale = std::max(scale, std::abs(vb[i]));
  }
  return diff / scale;
}

// Runs fn on CPU and CUDA from the same inputs; compares outputs and every input's gradient.
void compare(const Case& c, DType dtype, double tol) {
  INFO(c.name << " in " << dtype);
  std::vector<Tensor> cpu, gpu;
  for (const Shape& s : c.shapes) {
    const Tensor x = uniform(s, c.low, c.high, dtype);
    cpu.push_back(x.clone().requires_grad_());
    gpu.push_back(x.to(Device::cuda()).requires_grad_());
  }
  const Tensor out_cpu = c.fn(cpu), out_gpu = c.fn(gpu);
  REQUIRE(out_gpu.device() == Device::cuda());
  CHECK(rel_error(out_gpu, out_cpu) <= tol);
  const Tensor seed = randn(out_cpu.shape(), dtype);
  out_cpu.backward(seed);
  out_gpu.backward(seed.to(Device::cuda()));
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    INFO("gradient of input " << i);
    REQUIRE(gpu[i].grad().defined());
    CHECK(gpu[i].grad().device() == Device::cuda());
    CHECK(rel_error(gpu[i].grad(), cpu[i].grad()) <= tol);
  }
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all{
      {"add broadcast", {{64, 33}, {33}}, [](auto& x) { return x[0] + x[1]; }},
      {"sub broadcast", {{64, 1}, {7, 64, 5}}, [](auto& x) { return x[0] - x[1]; }},
      {"mul", {{1000}, {1000}}, [](auto& x) { return x[0] * x[1]; }},
      {"div", {{17, 9}, {9}}, [](auto& x) { return x[0] / x[1]; }, 0.5, 2.0},
      {"pow tensor", {{50}, {50}}, [](auto& x) { return pow(x[0], x[1]); }, 0.5, 2.0},
      {"pow scalar", {{50}}, [](auto& x) { return pow(x[0], 2.5); }, 0.5, 2.0},
      {"maximum", {{40, 3}, {3}}, [](auto& x) { return maximum(x[0], x[1]); }},
      {"minimum", {{40, 3}, {40, 1}}, [](auto& x) { return minimum(x[0], x[1]); }},
      {"scalar ops", {{300}}, [](auto& x) { return (2.0 - x[0]) * 3.0 / 4.0 + 1.0 - 5.0 / (x[0] + 3.0); }},
      {"neg exp", {{1025}}, [](auto& x) { return exp(-x[0]); }},
      {"log sqrt", {{1025}}, [](auto& x) { return log(x[0]) + sqrt(x[0]); }, 0.1, 3.0},
      {"abs", {{999}}, [](auto& x) { return abs(x[0]); }},
      {"relu", {{4097}}, [](auto& x) { return relu(x[0]); }},
      {"tanh", {{4097}}, [](auto& x) { return tanh(x[0]); }},
      {"sigmoid", {{4097}}, [](auto& x) { return sigmoid(x[0]); }},
      {"sum all", {{300, 301}}, [](auto& x) { return x[0].sum(); }},
      {"sum dim 0", {{300, 301}}, [](auto& x) { return x[0].sum(0); }},
      {"sum dim 1 keepdim", {{30, 31, 5}}, [](auto& x) { return x[0].sum(1, true); }},
      {"mean", {{7, 100}}, [](auto& x) { return x[0].mean(-1) + x[0].mean(); }},
      {"max", {{64, 65}}, [](auto& x) { return x[0].max(1) + x[0].max(); }},
      {"matmul", {{65, 33}, {33, 17}}, [](auto& x) { return matmul(x[0], x[1]); }},
      {"matmul transposed", {{33, 65}, {17, 33}}, [](auto& x) { return matmul(x[0].t(), x[1].t()); }},
      {"matmul batched broadcast", {{3, 1, 20, 8}, {4, 8, 6}}, [](auto& x) { return matmul(x[0], x[1]); }},
      {"matmul vector", {{40}, {40, 3}}, [](auto& x) { return matmul(x[0], x[1]); }},
      {"linear", {{100, 10}, {2, 10}, {2}}, [](auto& x) { return linear(x[0], x[1], x[2]); }},
      // Bias in the GEMM epilogue (cuBLASLt) and the bias gradient from the weight-gradient GEMM,
      // over odd sizes and leading dimensions; without a bias, the plain GEMM.
      {"linear 3-D input", {{3, 50, 33}, {17, 33}, {17}}, [](auto& x) { return linear(x[0], x[1], x[2]); }},
      {"linear wide", {{256, 512}, {384, 512}, {384}}, [](auto& x) { return linear(x[0], x[1], x[2]); }},
      {"linear odd", {{7, 5}, {3, 5}, {3}}, [](auto& x) { return linear(x[0], x[1], x[2]).relu(); }},
      {"linear no bias", {{20, 8}, {4, 8}}, [](auto& x) { return linear(x[0], x[1], Tensor()); }},
      {"linear relu", {{100, 10}, {8, 10}, {8}}, [](auto& x) { return linear(x[0], x[1], x[2], Activation::Relu); }},
      // The same layouts above kernels/cuda/small_gemm.cu's limit, through cuBLAS / cuBLASLt.
      {"matmul large", {{300, 200}, {200, 150}}, [](auto& x) { return matmul(x[0], x[1]); }},
      {"matmul large transposed", {{200, 300}, {150, 200}}, [](auto& x) { return matmul(x[0].t(), x[1].t()); }},
      {"matmul large batched broadcast", {{3, 1, 64, 96}, {4, 96, 80}}, [](auto& x) { return matmul(x[0], x[1]); }},
      {"linear large 3-D input", {{3, 100, 300}, {70, 300}, {70}}, [](auto& x) { return linear(x[0], x[1], x[2]); }},
      {"linear large no bias", {{256, 300}, {200, 300}}, [](auto& x) { return linear(x[0], x[1], Tensor()); }},
      {"linear relu large", {{256, 300}, {200, 300}, {200}}, [](auto& x) { return linear(x[0], x[1], x[2], Activation::Relu); }},
      {"linear relu large no bias", {{256, 300}, {200, 300}}, [](auto& x) { return linear(x[0], x[1], Tensor(), Activation::Relu); }},
      {"mse_loss", {{100, 2}, {100, 2}}, [](auto& x) { return mse_loss(x[0], x[1]); }},
      {"mse_loss sum", {{100, 2}, {100, 2}}, [](auto& x) { return mse_loss(x[0], x[1], Reduction::Sum); }},
      // A million elements: several blocks whose partial sums the last block combines.
      {"mse_loss large", {{1000, 1000}, {1000, 1000}}, [](auto& x) { return mse_loss(x[0], x[1]); }},
      {"mse_loss strided", {{30, 40}, {40, 30}}, [](auto& x) { return mse_loss(x[0].t(), x[1], Reduction::Sum); }},
      {"views", {{4, 6, 8}}, [](auto& x) {
         return x[0].transpose(0, 2).slice(1, 1, 5, 2).select(0, 3).reshape({-1}) * 2.0 + x[0].permute({2, 1, 0})[1].flatten()[5];
       }},
      {"contiguous of strided", {{16, 9}}, [](auto& x) { return x[0].t().contiguous().unsqueeze(0).expand({3, 9, 16}); }},
      {"dtype round trip", {{10}}, [](auto& x) { return x[0].to(kFloat64).to(kFloat32).to(x[0].dtype()) * 1.0; }},
  };
  return all;
}

}  // namespace

TEST_CASE("every op on CUDA matches the CPU, forward and backward", "[cuda][ops]") {
  manual_seed(123);
  for (const Case& c : cases()) {
    compare(c, kFloat64, 1e-10);
    compare(c, kFloat32, 1e-5);
  }
}

TEST_CASE("linear with Activation::Relu keeps NaN as relu does, in every GEMM path", "[cuda][ops]") {
  // A NaN in row 3 of x makes row 3 of the product NaN; relu (torch.relu) keeps NaN, and so must the
  // fused epilogue, in our small kernel and in cuBLASLt's.
  manual_seed(8);
  for (const std::int64_t in : {10, 300}) {
    INFO("in_features " << in);
    Tensor x = randn({64, in});
    x.select(0, 3).fill_(std::nan(""));
    const Tensor w = randn({200, in}), b = randn({200});
    const Tensor out = linear(x.to(Device::cuda()), w.to(Device::cuda()), b.to(Device::cuda()), Activation::Relu);
    const Tensor expected = relu(linear(x, w, b));
    const auto got = out.to_vector<float>(), want = expected.to_vector<float>();
    for (std::size_t i = 0; i < got.size(); ++i) {
      if (std::isnan(want[i])) CHECK(std::isnan(got[i]));
      else CHECK(got[i] == Approx(want[i]).margin(1e-4));  // sums of up to 300 products of order 1
    }
  }
}

TEST_CASE("TF32 matrix products are within 1e-3 and off by default", "[cuda][ops]") {
  REQUIRE_FALSE(cuda::allow_tf32());
  manual_seed(5);
  const Tensor a = randn({512, 256}), b = randn({256, 384});
  const Tensor exact = matmul(a, b);
  cuda::set_allow_tf32(true);
  const Tensor fast = matmul(a.to(Device::cuda()), b.to(Device::cuda()));
  cuda::set_allow_tf32(false);
  const auto va = fast.to_vector<double>(), vb = exact.to_vector<double>();
  double num = 0, den = 0;
  for (std::size_t i = 0; i < va.size(); ++i) {
    num += (va[i] - vb[i]) * (va[i] - vb[i]);
    den += vb[i] * vb[i];
  }
  CHECK(std::sqrt(num / den) < 1e-3);
}

TEST_CASE("TF32 weight gradients of wide layers match float64, the bias gradient exactly", "[cuda][ops]") {
  // Wide enough (in_features >= 2048) for gemm.cpp to copy g^T row-major first, summing the bias
  // gradient on the way (transpose.cu). Odd sizes leave partial tiles and chunks; the upstream
  // gradient is a column slice, so g^T's leading dimension (160) is not its row count (130).
  manual_seed(11);
  const std::int64_t batch = 333, in = 2050, out = 130;
  const Tensor x = randn({batch, in}, kFloat64), w = randn({out, in}, kFloat64), b = randn({out}, kFloat64);
  const Tensor seed = randn({batch, 160}, kFloat64).slice(1, 0, out);
  const Tensor w64 = w.clone().requires_grad_(), b64 = b.clone().requires_grad_();
  linear(x, w64, b64).backward(seed);

  const Tensor w32 = w.to(kFloat32).to(Device::cuda()).requires_grad_();
  const Tensor b32 = b.to(kFloat32).to(Device::cuda()).requires_grad_();
  const Tensor seed32_full = randn({batch, 160}, kFloat32).to(Device::cuda());
  seed32_full.slice(1, 0, out).copy_(seed.to(kFloat32).to(Device::cuda()));
  const Tensor seed32 = seed32_full.slice(1, 0, out);
  cuda::set_allow_tf32(true);
  linear(x.to(kFloat32).to(Device::cuda()), w32, b32).backward(seed32);
  cuda::set_allow_tf32(false);

  const auto got_w = w32.grad().to_vector<double>(), want_w = w64.grad().to_vector<double>();
  double num = 0, den = 0;
  for (std::size_t i = 0; i < got_w.size(); ++i) {
    num += (got_w[i] - want_w[i]) * (got_w[i] - want_w[i]);
    den += want_w[i] * want_w[i];
  }
  CHECK(std::sqrt(num / den) < 1e-3);  // TF32: 10-bit mantissas in the products
  const auto got_b = b32.grad().to_vector<double>(), want_b = b64.grad().to_vector<double>();
  REQUIRE(got_b.size() == static_cast<std::size_t>(out));
  for (std::size_t i = 0; i < got_b.size(); ++i) {
    INFO("bias gradient " << i);
    CHECK(got_b[i] == Approx(want_b[i]).epsilon(1e-6).margin(1e-5));  // float32 inputs, summed in double
  }
}

TEST_CASE("gradcheck passes on CUDA in float64", "[cuda][autograd]") {
  manual_seed(77);
  for (const Case& c : cases()) {
    std::int64_t elements = 0;
    for (const Shape& s : c.shapes) elements += s.numel();
    if (elements > 2500) continue;  // finite differences cost two forwards per element
    // A float32 round trip is not differentiable to finite-difference accuracy; its backward is
    // compared with the CPU's above.
    if (std::string(c.name) == "dtype round trip") continue;
    INFO(c.name);
    std::vector<Tensor> inputs;
    for (const Shape& s : c.shapes) {
      inputs.push_back(uniform(s, c.low, c.high, TensorOptions(kFloat64).device(Device::cuda())).requires_grad_());
    }
    const auto r = autograd::gradcheck(c.fn, inputs);
    INFO(r.message);
    CHECK(r.ok);
  }
  const auto r = autograd::gradcheck([](auto& x) { return mse_loss(linear(x[0], x[1], x[2]).relu(), x[3]); },
                                     {randn({6, 4}, kFloat64).to(Device::cuda()).requires_grad_(),
                                      randn({3, 4}, kFloat64).to(Device::cuda()).requires_grad_(),
                                      randn({3}, kFloat64).to(Device::cuda()).requires_grad_(),
                                      randn({6, 3}, kFloat64).to(Device::cuda())});
  INFO(r.message);
  CHECK(r.ok);
}

TEST_CASE("random numbers are the same on CPU and CUDA", "[cuda]") {
  manual_seed(9);
  const Tensor cpu = randn({1000}, kFloat64);
  manual_seed(9);
  const Tensor gpu = randn({1000}, TensorOptions(kFloat64).device(Device::cuda()));
  CHECK(rel_error(gpu, cpu) < 1e-12);
}

// A training step's kernels launch through the driver, in the calling thread's current context;
// a thread that has made no CUDA call yet has none, and the launch falls back to the runtime.
// The step on a fresh thread must give the values of the same step on this one.
TEST_CASE("a training step on a fresh thread matches the same step on this thread", "[cuda]") {
  const auto step = [](const Tensor& x, const Tensor& y, const Tensor& w, const Tensor& b) {
    const Tensor out = mse_loss(linear(x, w, b), y);
    out.backward();
    return out.item<double>();
  };
  manual_seed(9);
  const Tensor x = randn({100, 10}).to(Device::cuda()), y = randn({100, 2}).to(Device::cuda());
  const Tensor w0 = randn({2, 10}), b0 = randn({2});
  const Tensor w1 = w0.to(Device::cuda()).requires_grad_(), b1 = b0.to(Device::cuda()).requires_grad_();
  const Tensor w2 = w0.to(Device::cuda()).requires_grad_(), b2 = b0.to(Device::cuda()).requires_grad_();
  const double here = step(x, y, w1, b1);
  double there = 0.0;
  std::exception_ptr failure;
  std::thread thread([&] {
    try {
      there = step(x, y, w2, b2);
    } catch (...) {
      failure = std::current_exception();
    }
  });
  thread.join();
  if (failure) std::rethrow_exception(failure);
  CHECK(there == here);
  CHECK(w2.grad().to_vector<float>() == w1.grad().to_vector<float>());
  CHECK(b2.grad().to_vector<float>() == b1.grad().to_vector<float>());
}

TEST_CASE("queued launches and the stream's other work stay in program order", "[cuda]") {
  // Ember's kernels go to the launch thread (launch_queue.h); a memset, a device copy, a cuBLAS
  // product and a host read are put on the stream by this thread. Any of them overtaking the
  // launches queued before it changes the exact values below.
  Tensor x = zeros({256, 256}, Device::cuda());
  for (int i = 0; i < 50; ++i) x = x + 1.0;
  x.fill_(0.0);  // a memset: after the 50 additions, so x is 0
  for (int i = 0; i < 3; ++i) x = x + 1.0;
  const Tensor y = x.clone();  // a device-to-device copy of 3s
  for (int i = 0; i < 5; ++i) x = x + 1.0;
  const Tensor p = matmul(y, x);  // cuBLAS: 256 products of 3 * 8
  for (const float v : p.to_vector<float>()) REQUIRE(v == 6144.0f);
  CHECK(x.sum().item<double>() == 8.0 * 256 * 256);
  CHECK(y.sum().item<double>() == 3.0 * 256 * 256);
}

TEST_CASE("threads launching on one device each get their own results", "[cuda]") {
  constexpr int kThreads = 4, kSteps = 300;
  std::vector<double> sums(kThreads, 0.0);
  std::vector<std::exception_ptr> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        Tensor a = full({1000}, static_cast<double>(t), Device::cuda());
        for (int i = 0; i < kSteps; ++i) a = a + 1.0;
        sums[static_cast<std::size_t>(t)] = a.sum().item<double>();
      } catch (...) {
        failures[static_cast<std::size_t>(t)] = std::current_exception();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    INFO("thread " << t);
    if (failures[static_cast<std::size_t>(t)]) std::rethrow_exception(failures[static_cast<std::size_t>(t)]);
    CHECK(sums[static_cast<std::size_t>(t)] == 1000.0 * (t + kSteps));
  }
}

TEST_CASE("operands on different devices are refused with both devices named", "[cuda][errors]") {
  const Tensor a = ones({2}), b = ones({2}).to(Device::cuda());
  CHECK_THROWS_WITH(a + b, Catch::Matchers::ContainsSubstring("cpu") && Catch::Matchers::ContainsSubstring("cuda:0"));
  // Every op with two tensor operands, each way round.
  const Tensor m = ones({2, 2}), g = ones({2, 2}).to(Device::cuda());
  const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&, const Tensor&)>>> ops{
      {"sub", [](auto& x, auto& y) { return x - y; }},
      {"mul", [](auto& x, auto& y) { return x * y; }},
      {"div", [](auto& x, auto& y) { return x / y; }},
      {"pow", [](auto& x, auto& y) { return pow(x, y); }},
      {"maximum", [](auto& x, auto& y) { return maximum(x, y); }},
      {"minimum", [](auto& x, auto& y) { return minimum(x, y); }},
      {"matmul", [](auto& x, auto& y) { return matmul(x, y); }},
      {"linear", [](auto& x, auto& y) { return linear(x, y); }},
      {"mse_loss", [](auto& x, auto& y) { return mse_loss(x, y); }},
  };
  for (const auto& [name, op] : ops) {
    INFO(name);
    CHECK_THROWS_WITH(op(m, g), Catch::Matchers::ContainsSubstring(name) &&
                                    Catch::Matchers::ContainsSubstring("cpu") &&
                                    Catch::Matchers::ContainsSubstring("cuda:0"));
    CHECK_THROWS_WITH(op(g, m), Catch::Matchers::ContainsSubstring(name) &&
                                    Catch::Matchers::ContainsSubstring("cpu") &&
                                    Catch::Matchers::ContainsSubstring("cuda:0"));
  }
  CHECK_THROWS_WITH(linear(g, g, ones({2})), Catch::Matchers::ContainsSubstring("linear") &&
                                                 Catch::Matchers::ContainsSubstring("cpu"));
  CHECK_THROWS_WITH(ones({2}).to(Device::cuda(cuda::device_count())), Catch::Matchers::ContainsSubstring("does not exist"));
}
