// Shared by the checkpoint tests of the CPU and GPU test binaries: a small model trained on fresh
// random data each step (so results depend on the generator), temporary folders, bit-for-bit
// comparison, and new processes. A test binary that includes this defines the hidden test case
// kChildTest, calling run_checkpoint_child(): the binary starts itself again (posix_spawn of
// /proc/self/exe) running only that case, whose job the environment gives: EMBER_CHECKPOINT_CHILD
// (the mode), EMBER_CHECKPOINT_PATH and EMBER_CHECKPOINT_OUT (files), EMBER_CHECKPOINT_DEVICE.
#pragma once

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <thread>

#include "catch.h"
#include "temp_dir.h"
#include <ember/ember.h>

namespace ember::test {


inline constexpr const char* kChildTest = "checkpoint child process";

struct Net : nn::Module {
  nn::Linear fc1, fc2;
  Net(std::int64_t in = 4, std::int64_t hidden = 8, std::int64_t out = 3)
      : fc1(register_module("fc1", nn::Linear(in, hidden))),
        fc2(register_module("fc2", nn::Linear(hidden, out))) {}
  Tensor forward(const Tensor& x) { return fc2(relu(fc1(x))); }
};

// Steps of regression on fresh random data each step, so the result depends on the generator.
// Trains on the device the model is on.
inline void train(Net& model, optim::Optimizer& optimizer, int steps) {
  const Device device = model.fc1->weight.device();
  const Tensor true_w = tensor({0.5, -1, 2, 0.25, 1, 0, -0.5, 1.5, 0.75, -2, 0.1, 0.3}, {4, 3}).to(device);
  for (int i = 0; i < steps; ++i) {
    const Tensor x = randn({16, 4}, device);
    const Tensor y = x.matmul(true_w) + randn({16, 3}, device) * 0.1;
    optimizer.zero_grad();
    mse_loss(model.forward(x), y).backward();
    optimizer.step();
  }
}

inline optim::AdamOptions adam_options() { return {.lr = 0.01, .amsgrad = true}; }
inline optim::SGDOptions sgd_options() { return {.lr = 0.02, .momentum = 0.9, .nesterov = true}; }

// The bytes of a tensor, for bit-for-bit comparison.
inline std::string bytes_of(const Tensor& t) {
  const Tensor host = t.contiguous().to(Device::cpu());
  return std::string(static_cast<const char*>(host.raw_data()),
                     static_cast<std::size_t>(host.numel()) * element_size(host.dtype()));
}

// Checks two sets of entries are the same names, dtypes, shapes and bytes.
inline void check_identical(const NamedTensors& actual, const NamedTensors& expected) {
  REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    INFO(expected[i].first);
    CHECK(actual[i].first == expected[i].first);
    CHECK(actual[i].second.dtype() == expected[i].second.dtype());
    REQUIRE(actual[i].second.shape() == expected[i].second.shape());
    CHECK(bytes_of(actual[i].second) == bytes_of(expected[i].second));
  }
}

// A child process, killed and reaped if a failed check leaves it running.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  pid_t pid() const { return pid_; }
  bool running() {
    int status = 0;
    return ::waitpid(pid_, &status, WNOHANG) == 0;
  }
  // Waits for it to end: its exit code, or minus the signal that ended it.
  int wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0) REQUIRE(errno == EINTR);
    pid_ = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

 private:
  pid_t pid_;
};

// Starts this test binary again running only kChildTest, with the job in its environment.
inline std::unique_ptr<Child> spawn_child(const std::string& mode, const std::string& path,
                                          const std::string& out = "", Device device = Device::cpu()) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "EMBER_CHECKPOINT_", 17) != 0) env.emplace_back(*e);
  }
  env.push_back("EMBER_CHECKPOINT_CHILD=" + mode);
  env.push_back("EMBER_CHECKPOINT_PATH=" + path);
  env.push_back("EMBER_CHECKPOINT_OUT=" + out);
  env.push_back("EMBER_CHECKPOINT_DEVICE=" + device.str());
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string exe = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string test = kChildTest;
  std::array<char*, 3> argv{exe.data(), test.data(), nullptr};
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv.data(), envp.data());
  REQUIRE(rc == 0);
  return std::make_unique<Child>(pid);
}

// The same job in this process and in a new one, for both optimizers.
template <typename Opt, typename Options>
void resume_in_new_process(const std::string& mode, Options options, Device device = Device::cpu()) {
  TempDir dir(mode + "_" + device.str());
  const std::string ckpt = dir / "run.ckpt", out = dir / "resumed.ckpt";

  manual_seed(1234);
  Net full;
  full.to(device);
  Opt full_opt(full.parameters(), options);
  train(full, full_opt, 1000);
  const NamedTensors expected = nn::checkpoint_state(full, full_opt);  // includes the generator

  manual_seed(1234);
  Net first;
  first.to(device);
  Opt first_opt(first.parameters(), options);
  train(first, first_opt, 500);
  nn::save_checkpoint(ckpt, first, first_opt);

  // The child starts from another seed (other initial weights, other draws) and loads the file.
  REQUIRE(spawn_child(mode, ckpt, out, device)->wait() == 0);
  check_identical(load_tensors(out), expected);

  // The control: the same resume with the generator state not restored diverges.
  Net control;
  control.to(device);
  Opt control_opt(control.parameters(), options);
  nn::load_checkpoint(ckpt, control, control_opt);
  manual_seed(99);
  train(control, control_opt, 500);
  CHECK(bytes_of(control.fc1->weight) != bytes_of(full.fc1->weight));
}


// The job of a child process started by spawn_child; does nothing in a process started otherwise.
inline void run_checkpoint_child() {
  const char* mode_env = std::getenv("EMBER_CHECKPOINT_CHILD");
  if (!mode_env) return;  // run only through spawn_child
  auto env = [](const char* name) {
    const char* value = std::getenv(name);
    return std::string(value ? value : "");
  };
  const std::string mode = mode_env;
  const std::string path = env("EMBER_CHECKPOINT_PATH"), out = env("EMBER_CHECKPOINT_OUT");
  const std::string device_name = env("EMBER_CHECKPOINT_DEVICE");
  const Device device = device_name.empty() ? Device::cpu() : Device::parse(device_name);
  manual_seed(999);  // nothing of the first half's state survives except what the file holds
  if (mode == "resume-adam" || mode == "resume-sgd") {
    Net model;
    model.to(device);
    std::unique_ptr<optim::Optimizer> opt;
    if (mode == "resume-adam") {
      opt = std::make_unique<optim::Adam>(model.parameters(), adam_options());
    } else {
      opt = std::make_unique<optim::SGD>(model.parameters(), sgd_options());
    }
    nn::load_checkpoint(path, model, *opt);
    train(model, *opt, 500);
    nn::save_checkpoint(out, model, *opt);
  } else if (mode == "save-loop") {
    // Saves states k = 1, 2, ... (every parameter filled with k, generator at {k, k}) until killed.
    Net model(512, 1024, 1);
    optim::Adam opt(model.parameters(), adam_options());
    nn::load_checkpoint(path, model, opt);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (std::uint64_t k = 1; std::chrono::steady_clock::now() < deadline; ++k) {
      {
        NoGradGuard no_grad;
        for (Tensor& p : model.parameters()) p.fill_(static_cast<double>(k));
      }
      set_rng_state({k, k});
      nn::save_checkpoint(path, model, opt);
    }
  } else {
    FAIL("unknown EMBER_CHECKPOINT_CHILD mode '" << mode << "'");
  }
}

}  // namespace ember::test
