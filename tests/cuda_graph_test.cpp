// CUDA-graph capture (core/cuda_graph.h): a captured training step replays the eager step's
// arithmetic, with no allocation and no host synchronisation; what a graph cannot replay is
// refused during capture with an error that names it, and leaves the device usable.
#include "catch.h"
#include <ember/ember.h>

using namespace ember;
using Catch::Matchers::ContainsSubstring;

namespace {

struct Training {
  nn::Linear fc;
  Tensor x, y, loss;
  optim::Adam opt;
  nn::MSELoss mse;

  Training(bool capturable, std::uint64_t seed = 0)
      : fc(make_fc(seed)), opt(fc->parameters(), {.lr = 0.01, .capturable = capturable}) {
    x = randn({100, 10}).to(Device::cuda());
    y = randn({100, 2}).to(Device::cuda());
  }
  static nn::Linear make_fc(std::uint64_t seed) {
    manual_seed(seed);
    nn::Linear fc(10, 2);
    fc->to(Device::cuda());
    return fc;
  }
  void step() {
    opt.zero_grad();
    loss = mse(fc(x), y);
    loss.backward();
    opt.step();
  }
};

}  // namespace

TEST_CASE("a captured SimpleNet step trains like the eager step", "[cuda][graph]") {
  Training eager(false), captured(true);
  eager.step();
  captured.step();  // warm-up: Adam's state and the gradients exist before capture
  cuda::Graph graph = cuda::capture([&] { captured.step(); }, {captured.x, captured.y});
  CHECK(graph.node_count() >= 4);  // forward GEMM, loss, backward, Adam: at least
  for (int i = 1; i < 200; ++i) {
    eager.step();
    graph.replay();
    if (i % 50 == 0) {
      INFO("step " << i + 1);
      CHECK(captured.loss.item<double>() == Approx(eager.loss.item<double>()).epsilon(1e-6));
    }
  }
  CHECK(allclose(captured.fc->weight, eager.fc->weight, 1e-5, 1e-7));
  CHECK(allclose(captured.fc->bias, eager.fc->bias, 1e-5, 1e-7));
  // The step count advanced on the GPU with every replay.
  for (const auto& [name, t] : captured.opt.state_dict()) {
    if (name.ends_with(".step")) CHECK(t.item<double>() == 200.0);
  }

  // Steady state: replays allocate nothing and never wait for the device.
  const auto mallocs = cuda::device_malloc_count(), syncs = cuda::host_sync_count();
  for (int i = 0; i < 100; ++i) graph.replay();
  CHECK(cuda::device_malloc_count() == mallocs);
  CHECK(cuda::host_sync_count() == syncs);
}

TEST_CASE("replay(inputs) copies new values into the static inputs and refuses other shapes", "[cuda][graph]") {
  Tensor x = zeros({4, 3}, Device::cuda());
  Tensor out;
  cuda::Graph graph = cuda::capture([&] { out = x * 2.0 + 1.0; }, {x});
  const Tensor batch = tensor({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {4, 3});  // on the CPU
  graph.replay({batch});
  CHECK(out.to_vector<float>() == (batch * 2.0 + 1.0).to_vector<float>());
  graph.replay({batch.to(Device::cuda()) * -1.0});
  CHECK(out.to_vector<float>() == (batch * -2.0 + 1.0).to_vector<float>());
  CHECK_THROWS_WITH(graph.replay({zeros({5, 3})}), ContainsSubstring("captured with shape [4, 3]"));
  CHECK_THROWS_WITH(graph.replay({zeros({4, 3}, kFloat64)}), ContainsSubstring("float32"));
  CHECK_THROWS_WITH(graph.replay({}), ContainsSubstring("1 static inputs"));
}

TEST_CASE("what a graph cannot replay is refused during capture", "[cuda][graph]") {
  Tensor x = ones({8}, Device::cuda());
  CHECK_THROWS_WITH(cuda::capture([&] { (void)(x * 3.0).sum().item<double>(); }),
                    ContainsSubstring("reading a CUDA tensor on the host"));
  CHECK_THROWS_WITH(cuda::capture([&] { (void)randn({8}, Device::cuda()); }), ContainsSubstring("random numbers"));
  CHECK_THROWS_WITH(cuda::capture([&] { (void)tensor({1, 2}).to(Device::cuda()); }),
                    ContainsSubstring("copying host data"));
  CHECK_THROWS_WITH(cuda::capture([&] { cuda::synchronize(); }), ContainsSubstring("synchronize"));
  CHECK_THROWS_WITH(cuda::capture([&] { (void)cuda::capture([] {}); }), ContainsSubstring("do not nest"));

  Training plain(false);
  plain.step();
  CHECK_THROWS_WITH(cuda::capture([&] { plain.step(); }), ContainsSubstring("capturable = true"));
  Training cold(true);
  CHECK_THROWS_WITH(cuda::capture([&] { cold.step(); }), ContainsSubstring("run the step once"));

  // Each failed capture was abandoned cleanly: eager work and a new capture still run.
  CHECK(cuda::is_capturing() == false);
  CHECK((x * 3.0).sum().item<double>() == 24.0);
  cold.step();
  cuda::Graph ok = cuda::capture([&] { cold.step(); });
  ok.replay();
  CHECK(std::isfinite(cold.loss.item<double>()));
}

TEST_CASE("memory of a live graph is never handed to eager code", "[cuda][graph]") {
  Tensor x = ones({1000}, Device::cuda());
  Tensor made_inside;
  cuda::Graph graph = cuda::capture([&] { made_inside = x * 2.0; }, {x});
  const void* graph_memory = made_inside.raw_data();
  made_inside = Tensor();  // freed by the host, still written by every replay
  std::vector<Tensor> eager;
  for (int i = 0; i < 64; ++i) {
    eager.push_back(empty({1000}, Device::cuda()));
    CHECK(eager.back().raw_data() != graph_memory);
  }
  graph.replay();
  cuda::synchronize();
}

TEST_CASE("capturable Adam steps exactly as Adam over many parameters, empty ones included", "[cuda][graph]") {
  // 150 parameters take two launches (a launch holds 128); some are empty. When every parameter
  // fits in one block (8192 elements), each block advances its own step count; when some span
  // several blocks, each launch's last block advances them all.
  const std::int64_t spacing = GENERATE(1000, 3000);
  INFO("parameters of up to " << 6 * spacing + 17 << " elements");
  manual_seed(3);
  std::vector<Tensor> plain, device_counted;
  for (int i = 0; i < 150; ++i) {
    const std::int64_t n = i % 10 == 0 ? 0 : (i % 7) * spacing + 17;
    const Tensor init = randn({n}).to(Device::cuda());
    plain.push_back(init.clone().requires_grad_());
    device_counted.push_back(init.clone().requires_grad_());
  }
  optim::Adam a(plain, {.lr = 0.01}), b(device_counted, {.lr = 0.01, .capturable = true});
  for (int step = 0; step < 3; ++step) {
    for (auto* params : {&plain, &device_counted}) {
      Tensor loss = zeros({}, Device::cuda());
      for (const Tensor& p : *params) loss = loss + (p * p * 0.5 + p).sum();
      loss.backward();
    }
    // The last round steps twice in a row: the second update's kernel then follows the first's
    // directly and must see the count that one advanced.
    for (int repeat = 0; repeat < (step == 2 ? 2 : 1); ++repeat) a.step();
    for (int repeat = 0; repeat < (step == 2 ? 2 : 1); ++repeat) b.step();
    a.zero_grad();
    b.zero_grad();
  }
  for (std::size_t i = 0; i < plain.size(); ++i) {
    INFO("parameter " << i);
    // Same formulas; the bias corrections come from pow on the GPU instead of the host, which
    // may differ in the last bit. A miscounted step would be off by far more (e.g. 43% at step 3).
    CHECK(allclose(device_counted[i], plain[i], 1e-6, 1e-7));
  }
  int counts = 0;
  for (const auto& [name, t] : b.state_dict()) {
    if (!name.ends_with(".step")) continue;
    ++counts;
    CHECK(t.item<double>() == 4.0);
  }
  CHECK(counts == 150);
}
