// fastest_device: times the caller's own training step on each available device.
#include "ember/core/fastest_device.h"

#include <chrono>
#include <limits>
#include <utility>
#include <vector>

#include "ember/core/cuda.h"
#include "ember/core/error.h"
#include "ember/core/generator.h"
#include "ember/core/log.h"

namespace ember {

namespace {

using Clock = std::chrono::steady_clock;

// Puts the global random generator back as it was, on every path out of a measurement.
class RngStateGuard {
 public:
  RngStateGuard() : saved_(get_rng_state()) {}
  ~RngStateGuard() { set_rng_state(saved_); }
  RngStateGuard(const RngStateGuard&) = delete;
  RngStateGuard& operator=(const RngStateGuard&) = delete;

 private:
  GeneratorState saved_;
};

// Builds the step on `device`, warms it up and times up to `steps` calls. A CPU run stops early
// once its elapsed time exceeds `give_up_ms` (another device's total): it cannot win from there.
// CUDA runs are never cut short, since checking the clock there would mean a wait per step.
DeviceTiming measure(const StepFactory& make_step, Device device, int steps,
                     double give_up_ms) {
  const RngStateGuard rng;
  const Step step = make_step(device);
  EMBER_CHECK(static_cast<bool>(step),
              "ember::fastest_device: the factory returned an empty step for ", device.str());
  step();  // warm-up
  if (device.is_cuda()) cuda::synchronize();
  DeviceTiming timing{device, 0.0, 0};
  const auto start = Clock::now();
  double elapsed_ms = 0.0;
  for (int i = 0; i < steps; ++i) {
    step();
    ++timing.steps;
    if (device.is_cpu()) {
      elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      if (elapsed_ms > give_up_ms) break;
    }
  }
  if (device.is_cuda()) {
    cuda::synchronize();
    elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  }
  timing.ms_per_step = elapsed_ms / timing.steps;
  return timing;
}

}  // namespace

Device fastest_device(const StepFactory& make_step, int steps, std::vector<DeviceTiming>* timings) {
  EMBER_CHECK(steps >= 1, "ember::fastest_device: steps must be at least 1, got ", steps);
  EMBER_CHECK(static_cast<bool>(make_step),
              "ember::fastest_device: the step factory is empty");
  std::vector<Device> candidates;
  if (cuda::is_available()) candidates.push_back(Device::cuda());
  candidates.push_back(Device::cpu());

  std::vector<DeviceTiming> measured;
  std::size_t best = 0;
  double best_total_ms =
      std::numeric_limits<double>::infinity();  // the fastest one's `steps` steps
  for (const Device device : candidates) {
    const DeviceTiming t = measure(make_step, device, steps, best_total_ms);
    logging::info("fastest_device: {} {:.4f} ms/step ({} of {} steps timed)", device.str(),
              t.ms_per_step, t.steps, steps);
    if (measured.empty() || t.ms_per_step < measured[best].ms_per_step) {
      best = measured.size();
      best_total_ms = t.ms_per_step * steps;
    }
    measured.push_back(t);
  }
  const Device chosen = measured[best].device;
  logging::info("fastest_device: chose {}", chosen.str());
  if (timings != nullptr) *timings = std::move(measured);
  return chosen;
}

}  // namespace ember
