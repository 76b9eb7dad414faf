// Element-wise throughput on the CPU, one thread: each op over 1M contiguous float32 elements (and
// its backward where it has one), in µs per call, median of R runs of N calls. It uses the public
// API only, so the same source builds against an older Ember to compare two commits (the CPU loops
// and the functors they inline are what it measures).
//
//   cpu_elementwise_bench [--n ELEMENTS] [--calls N] [--runs R]
#include <ember/ember.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

template <typename Op> double median_us(int runs, int calls, const Op& op) {
  for (int i = 0; i < 3; ++i) op();  // warm the allocator and the caches
  std::vector<double> per_call;
  for (int r = 0; r < runs; ++r) {
    const auto start = Clock::now();
    for (int i = 0; i < calls; ++i) op();
    per_call.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count() / calls);
  }
  std::sort(per_call.begin(), per_call.end());
  return per_call[per_call.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t n = 1 << 20;
  int calls = 50, runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--n") n = std::stoll(argv[i + 1]);
    else if (arg == "--calls") calls = std::stoi(argv[i + 1]);
    else if (arg == "--runs") runs = std::stoi(argv[i + 1]);
  }
  ember::manual_seed(0);
  const ember::Tensor x = ember::randn({n}), y = ember::randn({n});
  ember::Tensor out;
  std::printf("CPU element-wise, float32, %lld contiguous elements, one thread: us per call (median of %d runs of %d)\n",
              static_cast<long long>(n), runs, calls);
  auto row = [&](const char* name, auto op) { std::printf("  %-16s %10.1f\n", name, median_us(runs, calls, op)); };
  row("add", [&] { out = x + y; });
  row("mul", [&] { out = x * y; });
  row("relu", [&] { out = ember::relu(x); });
  row("tanh", [&] { out = ember::tanh(x); });
  row("sigmoid", [&] { out = ember::sigmoid(x); });
  row("exp", [&] { out = ember::exp(x); });
  // Backward: the gradient of sum(f(x)) flows through f's backward formula.
  auto backward_row = [&](const char* name, ember::Tensor (*f)(const ember::Tensor&)) {
    ember::Tensor leaf = x.detach().requires_grad_();
    const ember::Tensor g = ember::ones({n});
    row(name, [&] {
      leaf.set_grad(ember::Tensor());
      f(leaf).backward(g);
    });
  };
  backward_row("relu fwd+bwd", [](const ember::Tensor& t) { return ember::relu(t); });
  backward_row("tanh fwd+bwd", [](const ember::Tensor& t) { return ember::tanh(t); });
  return 0;
}
