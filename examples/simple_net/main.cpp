// SimpleNet: Linear(10, 2) trained with MSELoss and Adam (lr 0.01) on one batch of 100 random
// samples, the loop of ../shared/API.md. Prints the loss every 100 steps and the training time.
//
//   simple_net [--device cpu|cuda|auto|all|fastest] [--steps N] [--seed S]
//
// --device all trains on the CPU and, when a GPU is present, on CUDA, and prints both times.
// --device fastest times 20 steps on each available device with ember::fastest_device,
// prints both times and its choice, then trains on the faster one.
#include <ember/ember.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

struct SimpleNet : ember::nn::Module {
  ember::nn::Linear fc;
  SimpleNet() : fc(register_module("fc", ember::nn::Linear(10, 2))) {}
  ember::Tensor forward(const ember::Tensor& x) { return fc(x); }
};

struct Options {
  std::string device = "auto";
  int steps = 1000;
  std::uint64_t seed = 0;
};

// Model, data, optimizer and loss on one device. The weights are drawn before the data, as in the
// loop of ../shared/API.md; the optimizer sees the parameters that model.to moves.
struct Training {
  SimpleNet model;
  ember::Tensor input = ember::randn({100, 10});
  ember::Tensor target = ember::randn({100, 2});
  ember::optim::Adam opt{model.parameters(), {.lr = 0.01}};
  ember::nn::MSELoss criterion;

  explicit Training(ember::Device device) {
    model.to(device);
    input = input.to(device);
    target = target.to(device);
  }

  ember::Tensor step() {
    opt.zero_grad();
    ember::Tensor loss = criterion(model.forward(input), target);
    loss.backward();
    opt.step();
    return loss;
  }
};

// The same model and data on any device for the same seed.
std::shared_ptr<Training> make_training(ember::Device device, std::uint64_t seed) {
  ember::manual_seed(seed);
  return std::make_shared<Training>(device);
}

bool stdout_is_terminal() {
  static const bool terminal = isatty(fileno(stdout)) != 0;
  return terminal;
}

// Step, loss, speed and time left: on one updating line on a terminal, one line each otherwise
// (logs and pipes keep every report).
void report_progress(int step, int total, float loss, double elapsed_ms) {
  const double steps_per_s = elapsed_ms > 0 ? 1000.0 * step / elapsed_ms : 0.0;
  const double left_s = steps_per_s > 0 ? (total - step) / steps_per_s : 0.0;
  std::printf("%s  step %5d/%d  loss %.6f  %9.0f steps/s  %6.2f s left%s", stdout_is_terminal() ? "\r" : "",
              step, total, static_cast<double>(loss), steps_per_s, left_s, stdout_is_terminal() ? "" : "\n");
  std::fflush(stdout);
}

// Trains from the same seed on `device`; returns the training loop's wall time in milliseconds.
double train(ember::Device device, const Options& options) {
  const auto training = make_training(device, options.seed);
  std::printf("training SimpleNet on %s for %d steps\n", device.str().c_str(), options.steps);
  ember::Tensor loss;
  double elapsed_ms = 0.0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < options.steps; ++i) {
    loss = training->step();
    if ((i + 1) % 100 == 0 || i + 1 == options.steps) {
      // Reading the loss waits for the device; keep that wait out of the timing. (Only on CUDA:
      // on a CPU run the first call would start the CUDA driver and count it as training time.)
      if (device.is_cuda()) ember::cuda::synchronize();
      elapsed_ms +=
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      report_progress(i + 1, options.steps, loss.item<float>(), elapsed_ms);
      start = std::chrono::steady_clock::now();
    }
  }
  if (stdout_is_terminal()) std::printf("\n");
  std::printf("  %s: %.2f ms for %d steps (%.2f us/step)\n", device.str().c_str(), elapsed_ms,
              options.steps, 1000.0 * elapsed_ms / options.steps);
  return elapsed_ms;
}

// Times 20 steps of this model on each available device with ember::fastest_device, prints
// both times and returns the faster device.
ember::Device choose_fastest(const Options& options) {
  std::vector<ember::DeviceTiming> timings;
  const ember::Device device = ember::fastest_device(
      [&](ember::Device d) -> ember::Step {
        auto training = make_training(d, options.seed);
        return [training] { training->step(); };
      },
      20, &timings);
  std::printf("fastest_device (20 steps after a warm-up step on each device):\n");
  for (const ember::DeviceTiming& t : timings) {
    std::printf("  %-8s %10.2f us/step (%d steps timed)\n", t.device.str().c_str(),
                1000.0 * t.ms_per_step, t.steps);
  }
  if (timings.size() == 1)
    std::printf("  (no CUDA device on this machine: the CPU is the only choice)\n");
  std::printf("  fastest: %s\n\n", device.str().c_str());
  return device;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "simple_net: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--device")
      o.device = value();
    else if (arg == "--steps")
      o.steps = std::stoi(value());
    else if (arg == "--seed")
      o.seed = std::stoull(value());
    else {
      std::fprintf(
          stderr,
          "usage: simple_net [--device cpu|cuda|auto|all|fastest] [--steps N] [--seed S]\n");
      std::exit(2);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse(argc, argv);
    if (options.device == "all") {
      const double cpu_ms = train(ember::Device::cpu(), options);
      if (!ember::cuda::is_available()) {
        std::printf("\nCPU: %.2f ms (no CUDA device on this machine: GPU run skipped)\n", cpu_ms);
        return 0;
      }
      const double cuda_ms = train(ember::Device::cuda(), options);
      std::printf("\n%-8s %12s %12s\n%-8s %12.2f %12.2f\n%-8s %12.2f %12.2f\n", "device",
                  "total ms", "us/step", "cpu", cpu_ms, 1000.0 * cpu_ms / options.steps, "cuda",
                  cuda_ms, 1000.0 * cuda_ms / options.steps);
      return 0;
    }
    const ember::Device device =
        options.device == "fastest" ? choose_fastest(options)
        : options.device == "auto"
            ? (ember::cuda::is_available() ? ember::Device::cuda() : ember::Device::cpu())
            : ember::Device::parse(options.device);
    train(device, options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "simple_net: %s\n", e.what());
    return 1;
  }
  return 0;
}
