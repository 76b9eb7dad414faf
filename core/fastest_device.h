// fastest_device: times the caller's own training step on each available device and returns the
// one that runs it fastest. A utility over Device, kept out of the value type itself.
#pragma once

#include <functional>
#include <vector>

#include "ember/core/device.h"

namespace ember {

// One training step (forward, backward, optimizer update) on the device it was built for.
using Step = std::function<void()>;
// Builds everything a step needs on the given device (model, data, optimizer) and returns the
// step. What the step uses must outlive the factory call: own it in the closure, e.g. through a
// std::shared_ptr to a struct that holds the model, the data and the optimizer.
using StepFactory = std::function<Step(Device)>;

// What fastest_device measured on one device.
struct DeviceTiming {
  Device device;
  double ms_per_step = 0.0;  // mean wall time of the timed steps
  int steps = 0;             // steps timed: fewer than asked when the device had already lost
};

// The device on which `make_step`'s training step runs fastest: the CPU or, when a GPU is
// present, Device::cuda() (cuda:0). For each device it calls make_step(device) once, runs the
// step once as a warm-up (lazy state, caches, allocator), then times `steps` calls (wall clock;
// on CUDA the device is synchronised before and after, so the time includes the GPU's work) and
// releases the step before trying the next device. Each device's factory call starts from the
// same random-generator state, which is restored afterwards: both devices train the same model
// and the caller's own draws are unchanged.
//
// CUDA is timed first; the CPU stops being timed once its elapsed time passes the GPU's total
// for `steps` steps (it has lost by then), so a slow CPU costs little more than its warm-up step.
// Both times are logged (EMBER_LOG_LEVEL=info) and, when `timings` is given, stored there in the
// order measured. Throws ember::Error if steps < 1, make_step is empty or returns an empty step;
// whatever make_step or the step throws (e.g. out of GPU memory) propagates.
//
//   std::vector<ember::DeviceTiming> timings;
//   const ember::Device device = ember::fastest_device(
//       [](ember::Device d) -> ember::Step {
//         auto t = std::make_shared<Trainer>(d);  // builds model, data and optimizer on d
//         return [t] { t->step(); };
//       },
//       20, &timings);
Device fastest_device(const StepFactory& make_step, int steps = 20,
                      std::vector<DeviceTiming>* timings = nullptr);

}  // namespace ember
