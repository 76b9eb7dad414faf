// fastest_device: builds the caller's step on each available device, times it and returns the
// faster device with the times it measured.
#include <ember/ember.h>

#include <memory>
#include <stdexcept>
#include <vector>

#include "catch.h"

using namespace ember;

namespace {

// A small training step (Linear(8, 4), Adam, MSELoss) that counts its factory and step calls.
struct Counts {
  std::vector<Device> built_on;
  int steps = 0;
};

nn::Linear moved(nn::Linear model, Device d) {
  model->to(d);
  return model;
}

struct Trainer {
  nn::Linear model;
  Tensor x, y;
  optim::Adam opt;
  nn::MSELoss criterion;
  explicit Trainer(Device d)
      : model(moved(nn::Linear(8, 4), d)),
        x(randn({16, 8}).to(d)),
        y(randn({16, 4}).to(d)),
        opt(model->parameters(), {.lr = 0.01}) {}
  void step() {
    opt.zero_grad();
    criterion(model(x), y).backward();
    opt.step();
  }
};

StepFactory counting_factory(Counts& counts) {
  return [&counts](Device d) -> Step {
    counts.built_on.push_back(d);
    auto t = std::make_shared<Trainer>(d);
    return [t, &counts] {
      t->step();
      ++counts.steps;
    };
  };
}

}  // namespace

TEST_CASE("fastest_device times the step on every available device and returns the faster",
          "[device]") {
  Counts counts;
  std::vector<DeviceTiming> timings;
  const Device chosen = fastest_device(counting_factory(counts), 5, &timings);
  if (!cuda::is_available()) {
    CHECK(chosen == Device::cpu());
    REQUIRE(timings.size() == 1);
    CHECK(timings[0].device == Device::cpu());
    CHECK(timings[0].steps == 5);
    CHECK(timings[0].ms_per_step > 0.0);
    CHECK(counts.built_on == std::vector<Device>{Device::cpu()});
    CHECK(counts.steps == 1 + 5);  // one warm-up call, then the timed ones
  } else {
    REQUIRE(timings.size() == 2);
    CHECK(timings[0].device == Device::cuda());
    CHECK(timings[1].device == Device::cpu());
    CHECK(counts.built_on == std::vector<Device>{Device::cuda(), Device::cpu()});
    for (const DeviceTiming& t : timings) {
      CHECK(t.ms_per_step > 0.0);
      CHECK(t.steps >= 1);
      CHECK(t.steps <= 5);
    }
    CHECK(timings[0].steps == 5);  // CUDA is timed first and in full
    const DeviceTiming& faster =
        timings[0].ms_per_step <= timings[1].ms_per_step ? timings[0] : timings[1];
    CHECK(chosen == faster.device);
  }
}

TEST_CASE("fastest_device gives each device the same random draws and restores the generator",
          "[device]") {
  manual_seed(42);
  const GeneratorState before = get_rng_state();
  std::vector<std::vector<float>> weights;
  fastest_device(
      [&](Device d) -> Step {
        nn::Linear model(3, 2);  // drawn from the global generator
        weights.push_back(model->weight.to_vector<float>());
        model->to(d);
        return [model, x = randn({4, 3}).to(d)] { (void)model(x); };
      },
      2);
  const GeneratorState after = get_rng_state();
  CHECK(after.seed == before.seed);
  CHECK(after.offset == before.offset);
  REQUIRE(!weights.empty());
  for (const auto& w : weights) CHECK(w == weights.front());
}

TEST_CASE("fastest_device rejects bad arguments and passes the step's errors on", "[device]") {
  const StepFactory noop = [](Device) -> Step { return [] {}; };
  CHECK_THROWS_AS(fastest_device(noop, 0), Error);
  CHECK_THROWS_AS(fastest_device(StepFactory{}), Error);
  CHECK_THROWS_AS(fastest_device([](Device) { return Step{}; }), Error);
  CHECK_THROWS_WITH(fastest_device([](Device) -> Step {
                      return [] { throw std::runtime_error("boom"); };
                    }),
                    "boom");
}
